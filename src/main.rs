//! `registry`: serve the API, migrate, seed, manage users, print the OpenAPI spec, verify the audit chain,
//! export signed snapshots.

use std::io::IsTerminal;
use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use registry::audit::checkpoints::{self, Checkpoint};
use registry::audit::AuditCtx;
use registry::config::{Environment, Settings};
use registry::db::{write_tx, DbConn};
use registry::error::Errors;
use registry::signing::{Keyring, SigningKey};
use registry::startup::{prepare_database, Application};
use registry::state::AppState;
use registry::{auth, seeds, users};

#[derive(Parser)]
#[command(
    name = "registry",
    version,
    about = "Qinghai consumer-goods product registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Migrates and loads reference data first.
    Serve {
        /// Also load the fictional demo data and print the demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load reference data (idempotent); with --demo, the demo set too; with --synthetic SCALE,
    /// a generated register for benchmarks (SCALE 1: 100k enterprises, 1M products, 300k
    /// certifications, 50k designations).
    Seed {
        #[arg(long)]
        demo: bool,
        #[arg(long, value_name = "SCALE")]
        synthetic: Option<f64>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Ask the running server's /readyz (at REGISTRY_BIND) and exit 0 when it is ready: a
    /// container health check that needs no curl in the image.
    Healthcheck,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy a SQLite database, consistently, while the server runs (VACUUM INTO). PostgreSQL
    /// has its own tools: pg_dump or pg_basebackup (see the README).
    Backup {
        /// The copy to write; an existing file is never replaced.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Signing keys (Ed25519) for audit checkpoints and verification answers.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Spot-check campaigns.
    SpotCheck {
        #[command(subcommand)]
        command: SpotCheckCommand,
    },
    /// Import products (of one enterprise), or historical designations or certificates, from a
    /// CSV or XLSX file,
    /// as `POST /api/v1/imports` does: every row validated first, nothing written unless all
    /// are valid, rows already registered left unchanged. Columns: see the README.
    Import {
        file: std::path::PathBuf,
        /// products, designations or certifications.
        #[arg(long)]
        kind: String,
        /// Import as this user (its rights apply); without it, as the operator.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: Option<String>,
        /// Products: the enterprise id (an enterprise user's own by default).
        #[arg(long, value_name = "ID")]
        enterprise: Option<String>,
    },
    /// Write a signed snapshot of the public register: one JSON Lines file per entity,
    /// manifest.json (counts, SHA-256, the change-feed sequence it is consistent with) and
    /// manifest.jws (signed with the registry's key); or check one (`export verify DIR`).
    #[command(args_conflicts_with_subcommands = true)]
    Export {
        /// The directory to write (created; must be empty if it exists).
        #[arg(long, value_name = "DIR")]
        to: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: Option<ExportCommand>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Recompute the files' hashes and counts and check the manifest's signature against the
    /// registry's keys (or those of a JWKS file). Exit status 2, naming what differs, on a
    /// mismatch.
    Verify {
        dir: std::path::PathBuf,
        /// A JWKS (as served at /.well-known/jwks.json) instead of the configured keys.
        #[arg(long, value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum SpotCheckCommand {
    /// Recompute a campaign's draw from its revealed seed: the seed against its commitment, the
    /// targets from the frozen candidates, each target's inspectors from the pool and the
    /// recorded recusals. Exit status 2, naming what differs, when the draw does not follow the
    /// rule.
    VerifyDraw {
        /// The campaign id.
        id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new key (PKCS#8 PEM, readable by its owner only) and print its key id; point
    /// REGISTRY_SIGNING_KEY at it. An existing file is never replaced.
    Generate {
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password comes from REGISTRY_PASSWORD, else a prompt.
    Add {
        #[arg(long)]
        username: String,
        /// admin, regulator or enterprise.
        #[arg(long)]
        role: String,
        /// Regulators: the agency code (e.g. market_regulation).
        #[arg(long)]
        agency: Option<String>,
        /// Enterprise users: the enterprise id.
        #[arg(long)]
        enterprise_id: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and check it against every signed checkpoint (and, with --checkpoint,
    /// one kept outside, as published by GET /api/v1/audit/checkpoints). Exit status 2, naming
    /// the entry, on a broken link, a rewritten entry, a truncated tail or a bad signature.
    Verify {
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Sign a checkpoint of the newest entry now.
    Checkpoint,
}

/// glibc raises its mmap threshold to the largest block freed so far, so after the first
/// password hash (19 MiB) such blocks come from, and stay in, the heap arenas: 64 parallel
/// sign-ups left 370 MB resident. A fixed 1 MiB threshold hands large blocks back to the
/// system when freed (measured: 98 MB peak, 60 MB after).
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    fix_mmap_threshold();
    if let Err(e) =
        registry::observe::init_logging(std::env::var("REGISTRY_LOG_FORMAT").ok().as_deref())
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve { demo: false })) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn run(command: Command) -> AnyResult<ExitCode> {
    if let Command::Openapi = command {
        print!("{}", registry::openapi::spec_json());
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Keys {
        command: KeysCommand::Generate { out },
    } = &command
    {
        let key = SigningKey::generate();
        key.write(out)?;
        println!("wrote {} (key id {})", out.display(), key.kid());
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Healthcheck = command {
        return Ok(healthcheck());
    }
    if let Command::Export {
        command:
            Some(ExportCommand::Verify {
                dir,
                jwks: Some(jwks),
            }),
        ..
    } = &command
    {
        return verify_export(dir, &keys_of_jwks(jwks)?);
    }
    let settings = Settings::from_env()?;
    registry::clock::set_timezone(settings.timezone);
    match command {
        Command::Openapi | Command::Keys { .. } | Command::Healthcheck => unreachable!(),
        Command::Export {
            command: Some(ExportCommand::Verify { jwks: Some(_), .. }),
            ..
        } => unreachable!(),
        Command::Backup { to } => {
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let bytes = registry::db::backup(&mut *pool.get()?, &to)?;
            println!("backed up to {} ({bytes} bytes)", to.display());
        }
        Command::Migrate => {
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let n = registry::db::run_migrations(&mut *pool.get()?)?;
            println!("{n} migration(s) applied");
        }
        Command::Seed { demo, synthetic } => {
            if demo && settings.environment == Environment::Production {
                // The demo logins are public; they never go into a production database.
                return Err("refusing to load demo data with REGISTRY_ENV=production".into());
            }
            let (pool, _) = prepare_database(&settings)?;
            println!("reference data loaded");
            if demo {
                load_demo(&mut *pool.get()?)?;
            }
            if let Some(scale) = synthetic {
                let report = registry::synthetic::generate(&mut *pool.get()?, scale, &|line| {
                    eprintln!("{line}")
                })
                .map_err(|e| format!("{e}: {:?}", e.to_problem().errors))?;
                println!(
                    "synthetic data: {} enterprises, {} products, {} certifications, {} designations, {} status changes, {} audit entries; {} rows in {:.1} s = {:.0} rows/s",
                    report.enterprises,
                    report.products,
                    report.certifications,
                    report.designations,
                    report.status_changes,
                    report.audit_entries,
                    report.rows,
                    report.seconds,
                    report.rows as f64 / report.seconds.max(1e-9)
                );
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    agency,
                    enterprise_id,
                },
        } => {
            let (pool, _) = prepare_database(&settings)?;
            let password = match std::env::var("REGISTRY_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ if std::io::stdin().is_terminal() => rpassword::prompt_password("password: ")?,
                _ => return Err("set REGISTRY_PASSWORD or run in a terminal to be prompted".into()),
            };
            let mut errors = Errors::new();
            auth::password::check_new(&mut errors, "password", &password);
            let new = users::service::NewUser::parse(
                &mut errors,
                &username,
                &role,
                agency.as_deref(),
                enterprise_id.as_deref(),
            );
            errors
                .finish()
                .map_err(|e| format!("{e}: {:?}", e.to_problem().errors))?;
            let new = new.ok_or("invalid user")?;
            let hash = auth::password::hash(&password);
            let mut conn = pool.get()?;
            let row = write_tx(&mut conn, |conn| {
                users::service::create(conn, &AuditCtx::system("cli"), new, hash)
            })
            .map_err(|e| format!("{e}: {:?}", e.to_problem().errors))?;
            println!("created {} ({}) {}", row.username, row.role, row.id);
        }
        Command::Audit {
            command: AuditCommand::Verify { checkpoint },
        } => {
            let keyring = keyring(&settings)?;
            let external: Vec<Checkpoint> = match checkpoint {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    vec![serde_json::from_str(&text)
                        .map_err(|e| format!("{}: not a checkpoint: {e}", path.display()))?]
                }
                None => Vec::new(),
            };
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let report = checkpoints::verify(&mut *pool.get()?, &keyring, &external)?;
            if report.intact() {
                println!(
                    "audit chain intact: {} entries, {} signed checkpoint(s) match",
                    report.entries, report.checkpoints
                );
            } else {
                println!(
                    "audit chain NOT INTACT ({} entries, {} checkpoint(s)):",
                    report.entries, report.checkpoints
                );
                for f in &report.findings {
                    println!("  {f}");
                }
                return Ok(ExitCode::from(2));
            }
        }
        Command::SpotCheck {
            command: SpotCheckCommand::VerifyDraw { id },
        } => {
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let check = registry::spot_checks::verify_draw(&mut *pool.get()?, &id)?;
            if check.ok {
                println!("draw of {id} verified: the seed matches its commitment; targets and inspectors follow the rule");
            } else {
                println!("draw of {id} does NOT follow the rule:");
                for p in &check.problems {
                    println!("  {p}");
                }
                return Ok(ExitCode::from(2));
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => {
            let keyring = keyring(&settings)?;
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let mut conn = pool.get()?;
            let cp = write_tx(&mut conn, |conn| {
                checkpoints::publish_keys(conn, &keyring)?;
                checkpoints::sign_head(conn, &keyring.current)
            })?;
            match cp {
                Some(cp) => println!("{}", serde_json::to_string_pretty(&cp)?),
                None => println!("the audit trail is empty: nothing to sign"),
            }
        }
        Command::Export {
            command: Some(ExportCommand::Verify { dir, .. }),
            ..
        } => {
            let keyring = keyring(&settings)?;
            let mut keys = vec![keyring.current.public().clone()];
            keys.extend(keyring.previous.iter().cloned());
            return verify_export(&dir, &keys);
        }
        Command::Export { to, command: None } => {
            let to = to.ok_or("give --to DIR (or `export verify DIR`)")?;
            let keyring = keyring(&settings)?;
            let (pool, _) = registry::db::build_pool(&settings.database_url, 1)?;
            let manifest = registry::exports::snapshot::write(
                &mut *pool.get()?,
                &keyring.current,
                &to,
                settings.export_page_size,
                &|line| eprintln!("{line}"),
            )?;
            println!(
                "snapshot at sequence {} written to {}",
                manifest.sequence,
                to.display()
            );
        }
        Command::Import {
            file,
            kind,
            as_user,
            enterprise,
        } => {
            let kind = registry::domain::ImportKind::parse(&kind).map_err(|e| e.to_string())?;
            let checkpointer = std::sync::Arc::new(registry::signing::Checkpointer {
                keyring: std::sync::Arc::new(keyring(&settings)?),
                every: settings.checkpoint_every,
            });
            let (pool, _) = prepare_database(&settings)?;
            let started = std::time::Instant::now();
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>10} [{bar:40}] {pos}/{len} rows, {per_sec}, {eta} left",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            let tenth = std::cell::Cell::new((registry::domain::ImportStatus::Queued, 0usize));
            let (job, counts) = registry::imports::run::import_file(
                &mut *pool.get()?,
                &file,
                kind,
                as_user.as_deref(),
                enterprise,
                Some(checkpointer),
                &|line| bar.suspend(|| eprintln!("{line}")),
                &|status, done, total| {
                    if bar.is_hidden() {
                        // No terminal (a log file, CI): a line at each tenth instead of a bar.
                        let step = (done * 10).checked_div(total).unwrap_or(10);
                        if tenth.get() != (status, step) {
                            tenth.set((status, step));
                            eprintln!("{status}: {done}/{total} rows ({}%)", step * 10);
                        }
                    } else {
                        bar.set_length(total as u64);
                        bar.set_message(status.to_string());
                        bar.set_position(done as u64);
                    }
                },
            )?;
            bar.finish_and_clear();
            println!(
                "import {}: {} rows, {} created, {} unchanged in {:.1} s",
                job.id,
                job.total_rows,
                counts.created,
                counts.unchanged,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Serve { demo } => serve(settings, demo)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn keys_of_jwks(path: &std::path::Path) -> AnyResult<Vec<registry::signing::PublicKey>> {
    #[derive(serde::Deserialize)]
    struct Jwks {
        keys: Vec<registry::signing::Jwk>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let jwks: Jwks =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a JWKS: {e}", path.display()))?;
    Ok(jwks
        .keys
        .iter()
        .filter_map(|k| registry::signing::PublicKey::from_x(&k.x))
        .collect())
}

fn verify_export(
    dir: &std::path::Path,
    keys: &[registry::signing::PublicKey],
) -> AnyResult<ExitCode> {
    let (manifest, problems) = registry::exports::snapshot::verify(dir, keys)?;
    if problems.is_empty() {
        println!(
            "snapshot intact: sequence {}, {} file(s), signed by {}",
            manifest.sequence,
            manifest.files.len(),
            manifest.kid
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("snapshot NOT INTACT:");
        for p in &problems {
            println!("  {p}");
        }
        Ok(ExitCode::from(2))
    }
}

fn keyring(settings: &Settings) -> AnyResult<Keyring> {
    Ok(Keyring::from_settings(
        settings,
        std::path::Path::new(registry::signing::DEVELOPMENT_KEY_PATH),
    )?)
}

fn load_demo(conn: &mut DbConn) -> AnyResult<()> {
    let demo = seeds::demo_users();
    eprintln!("hashing {} demo passwords…", demo.len());
    let hashes: Vec<(String, String)> = demo
        .iter()
        .map(|u| (u.username.clone(), auth::password::hash(&u.password)))
        .collect();
    let n =
        seeds::load_demo(conn, &hashes).map_err(|e| format!("{e}: {:?}", e.to_problem().errors))?;
    println!("demo data: {n} record(s) added");
    println!("demo logins (fictional data; never use these in production):");
    for u in demo {
        let scope = if !u.agency.is_empty() {
            format!(" [{}]", u.agency)
        } else {
            String::new()
        };
        println!(
            "  {:<20} {:<30} {}{}",
            u.username, u.password, u.role, scope
        );
    }
    Ok(())
}

fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    let bind = std::env::var("REGISTRY_BIND")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| registry::config::DEFAULT_BIND.to_owned());
    // A server listening on every interface is reached through loopback.
    let target = bind.replacen("0.0.0.0:", "127.0.0.1:", 1);
    let ask = || -> std::io::Result<String> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&target)?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let timeout = std::time::Duration::from_secs(3);
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        write!(
            stream,
            "GET /readyz HTTP/1.0\r\nHost: {target}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    match ask() {
        Ok(answer) if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        Ok(answer) => {
            eprintln!(
                "not ready: {}",
                answer.lines().next().unwrap_or("empty answer")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("not ready: {target}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings, demo: bool) -> AnyResult<()> {
    if settings.generated_jwt_secret {
        tracing::warn!("JWT_SECRET is not set: generated one for this process; tokens will not survive a restart");
    }
    if settings.environment == Environment::Production && demo {
        return Err("refusing to load demo data with REGISTRY_ENV=production".into());
    }
    // Bind before migrating or seeding: a taken port is reported at once, naming the address,
    // rather than after minutes of work and as a bare "Address already in use".
    let listener = TcpListener::bind(&settings.bind)
        .map_err(|e| format!("cannot listen on {} (REGISTRY_BIND): {e}", settings.bind))?;
    let addr = listener.local_addr()?;
    let (pool, backend) = prepare_database(&settings)?;
    if demo {
        load_demo(&mut *pool.get()?)?;
    }
    let keyring = keyring(&settings)?;
    let replicas = registry::db::replicas::Replicas::build(
        &settings.database_read_urls,
        settings.db_pool_size,
    )?;
    if !replicas.is_empty() {
        println!(
            "public reads from {} read replica(s) (DATABASE_READ_URL)",
            settings.database_read_urls.len()
        );
    }
    let state = AppState::new(pool, backend, settings, keyring).with_replicas(replicas);
    println!("serving on http://{addr}  (API docs: http://{addr}/docs/)");
    actix_web::rt::System::new().block_on(async move {
        let app = Application::start(state, listener)?;
        app.server.await
    })?;
    Ok(())
}
