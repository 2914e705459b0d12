//! Read replicas on a real PostgreSQL streaming replica: public reads are served by it, a
//! writer reads its own writes, and reads and verification go on while the primary is stopped
//! (writes answer 503).
//!
//! The test builds its own primary and replica (initdb, pg_basebackup -R) in a temporary
//! directory with the server programs in `TEST_PG_BIN` (`.ci/run` sets it), so stopping the
//! primary touches no other test. Without `TEST_PG_BIN` it has nothing to run on, as the
//! PostgreSQL half of the suite without `TEST_DATABASE_URL`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::common::{Backend, TestApp, TestDb};
use crate::public_api::certify;

/// A PostgreSQL server in a directory of its own, stopped when dropped.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Server {
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let sockets = self.data.parent().unwrap().display().to_string();
        let options = format!(
            "-p {} -k {sockets} -c listen_addresses=127.0.0.1",
            self.port
        );
        let log = self.data.with_extension("log").display().to_string();
        let data = self.data.display().to_string();
        let mut all = vec!["-D", &data, "-l", &log, "-o", &options, "-w"];
        all.extend_from_slice(args);
        try_run(&self.bin.join("pg_ctl"), &all)
    }

    fn start(bin: &Path, data: PathBuf) -> Self {
        let s = Self {
            bin: bin.to_owned(),
            data,
            port: free_port(),
        };
        s.pg_ctl(&["start"]).unwrap();
        s
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already stopped when the test stopped it.
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs a server program, as the `postgres` user when the tests run as root (PostgreSQL
/// refuses to run as root).
fn run(program: &Path, args: &[&str]) {
    try_run(program, args).unwrap();
}

fn try_run(program: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd.args(args).output().expect("run a PostgreSQL program");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// How many public reads ran where, as `/metrics` says.
async fn public_reads(app: &TestApp, source: &str) -> u64 {
    let text = app.get("/metrics", None).await.body;
    let prefix = format!(r#"registry_db_public_reads_total{{source="{source}"}} "#);
    text.as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[actix_web::test]
async fn public_reads_come_from_the_replica_and_go_on_without_the_primary() {
    let Some(bin) = std::env::var_os("TEST_PG_BIN").map(PathBuf::from) else {
        eprintln!("TEST_PG_BIN is not set: no replica to test against");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let primary_data = dir.path().join("primary");
    let replica_data = dir.path().join("replica");
    run(
        &bin.join("initdb"),
        &[
            "-D",
            primary_data.to_str().unwrap(),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
        ],
    );
    let primary = Server::start(&bin, primary_data);
    run(
        &bin.join("pg_basebackup"),
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
            "-D",
            replica_data.to_str().unwrap(),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ],
    );
    let replica = Server::start(&bin, replica_data);

    let db = TestDb::postgres_on(&primary.url());
    let replica_url = format!("postgres://postgres@127.0.0.1:{}/registry", replica.port);
    // Nothing kept in memory: every answer below is read from a database.
    let app = TestApp::spawn_on(
        db,
        Backend::Postgres,
        &[
            ("DATABASE_READ_URL", &replica_url),
            ("REGISTRY_ANSWER_CACHE_MB", "0"),
        ],
    )
    .await;

    // A writer reads its own write, signed in and anonymously, at once.
    let a = app.token("ent_a").await;
    let product = app.goji_product(&a, "副本上的枸杞").await;
    let number = "LB-18-2611015555";
    certify(&app, &a, &product, "green_food", number).await;
    let path = format!("/api/v1/products/{product}");
    app.get(&path, Some(&a)).await.assert(200);
    let r = app.get(&path, None).await;
    r.assert(200);
    assert_eq!(r.body["certifications"][0]["certificate_number"], number);

    // Public reads are served by the replica once it has replayed the writes.
    let before = public_reads(&app, "replica").await;
    for _ in 0..50 {
        if public_reads(&app, "replica").await > before + 1 {
            break;
        }
        app.get("/api/v1/standards", None).await.assert(200);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(public_reads(&app, "replica").await > before + 1);

    // The primary stops: public reads and verification go on from the replica…
    primary.stop();
    let v = app.get(&format!("/api/v1/verify/{number}"), None).await;
    v.assert(200);
    assert_eq!(v.body["status"], "valid");
    let r = app.get(&path, None).await;
    r.assert(200);
    assert_eq!(r.body["name"], "副本上的枸杞");
    app.get("/api/v1/products?q=%E6%9E%B8%E6%9D%9E", None)
        .await
        .assert(200);
    app.post(
        "/api/v1/verify/batch",
        None,
        &json!({"numbers": [number, "NO-SUCH-1"]}),
    )
    .await
    .assert(200);
    // …and writes answer 503.
    let w = app
        .post(
            "/api/v1/products",
            Some(&a),
            &app.product_body("写不进去", None),
        )
        .await;
    w.assert(503);
    drop(replica);
}
