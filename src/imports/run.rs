//! An import as a job: `start` checks who may import what and records the job, `run` validates
//! every row, then writes (or stops with the report), keeping the job's progress up to date.
//! The API runs `run` in the background; the command line runs it in the foreground. One path.

use super::repo::{self, JobRow};
use super::table::Table;
use super::{certifications, designations, historical, products, Counts};
use crate::audit::AuditCtx;
use crate::auth::{check, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::{ImportKind, ImportStatus, Role};
use crate::error::{ApiError, ApiResult};

/// What to import, and for whom.
pub struct Request {
    pub kind: ImportKind,
    /// Products: the enterprise they belong to (an enterprise user's own when not given).
    pub enterprise_id: Option<String>,
    pub file_name: Option<String>,
    pub table: Table,
}

/// Checks the header and the caller's right to import, and records the job (`queued`).
/// `actor` is `None` for the operator at the command line.
pub fn start(conn: &mut DbConn, actor: Option<&Actor>, req: &Request) -> ApiResult<JobRow> {
    let enterprise_id = match req.kind {
        ImportKind::Products => {
            req.table
                .check_columns(products::COLUMNS, products::REQUIRED)?;
            let id = req
                .enterprise_id
                .clone()
                .or_else(|| actor.and_then(|a| a.enterprise_id.clone()))
                .ok_or_else(|| {
                    ApiError::field(
                        "enterprise_id",
                        "required",
                        "name the enterprise whose products these are",
                    )
                })?;
            let status = crate::enterprises::repo::status(conn, &id)?;
            if let Some(a) = actor {
                check(
                    Some(a),
                    Action::ImportProducts,
                    Target::owned_by(&id, status),
                )?;
            }
            if status.is_none() {
                return Err(ApiError::NotFound);
            }
            Some(id)
        }
        ImportKind::Designations | ImportKind::Certifications => {
            let (columns, required) = match req.kind {
                ImportKind::Designations => (designations::COLUMNS, designations::REQUIRED),
                _ => (certifications::COLUMNS, certifications::REQUIRED),
            };
            req.table.check_columns(columns, required)?;
            // Which kinds a regulator may load is decided row by row (its agency's kinds).
            if let Some(a) = actor {
                if a.role != Role::Regulator {
                    return Err(ApiError::Forbidden);
                }
            }
            None
        }
    };
    let now = crate::clock::now();
    let row = JobRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: req.kind,
        status: ImportStatus::Queued,
        created_by: actor.map(|a| a.user_id.clone()),
        agency_code: actor.and_then(|a| a.agency),
        enterprise_id,
        file_name: req.file_name.clone(),
        total_rows: req.table.rows.len() as i32,
        processed_rows: 0,
        created_count: 0,
        unchanged_count: 0,
        error_count: 0,
        report: None,
        failure: None,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    repo::insert(conn, &row)?;
    Ok(row)
}

/// Validates, then writes unless a row is bad; ends the job `done` or `failed`. `progress`
/// hears (status, rows processed, total) as the job row is updated.
pub fn run(
    conn: &mut DbConn,
    job: &JobRow,
    actor: Option<&Actor>,
    ctx: &AuditCtx,
    table: Table,
    progress: &dyn Fn(ImportStatus, usize, usize),
) -> ApiResult<Counts> {
    let outcome = validate_and_write(conn, job, actor, ctx, table, progress);
    match outcome {
        Ok(Ok(counts)) => {
            repo::finish(conn, &job.id, ImportStatus::Done, 0, None, None)?;
            Ok(counts)
        }
        Ok(Err(errors)) => {
            let rows = {
                let mut r: Vec<u32> = errors.iter().map(|e| e.row).collect();
                r.dedup();
                r.len() as i32
            };
            let report = serde_json::to_string(&errors).ok();
            let failure = format!("{rows} row(s) are invalid: nothing was written");
            repo::finish(
                conn,
                &job.id,
                ImportStatus::Failed,
                rows,
                report,
                Some(failure.clone()),
            )?;
            Err(ApiError::field("file", "invalid_rows", failure))
        }
        Err(e) => {
            // Batches written before the failure stay; importing the file again completes it.
            let _ = repo::finish(
                conn,
                &job.id,
                ImportStatus::Failed,
                0,
                None,
                Some(format!("stopped: {e}")),
            );
            Err(e)
        }
    }
}

type Outcome = Result<Counts, Vec<super::RowError>>;

fn validate_and_write(
    conn: &mut DbConn,
    job: &JobRow,
    actor: Option<&Actor>,
    ctx: &AuditCtx,
    table: Table,
    progress: &dyn Fn(ImportStatus, usize, usize),
) -> ApiResult<Outcome> {
    let total = table.rows.len();
    repo::set_status(conn, &job.id, ImportStatus::Validating)?;
    progress(ImportStatus::Validating, 0, total);
    let id = job.id.clone();
    let mut validated = |conn: &mut DbConn, n: usize| -> ApiResult<()> {
        repo::set_progress(conn, &id, n as i32, 0, 0)?;
        progress(ImportStatus::Validating, n, total);
        Ok(())
    };
    enum Plan {
        Products(products::Plan),
        Designations(historical::Plan<crate::records::designations::DesignationRow>),
        Certifications(historical::Plan<crate::records::certificates::CertRow>),
    }
    let plan = match job.kind {
        ImportKind::Products => {
            let enterprise = job.enterprise_id.clone().unwrap_or_default();
            Plan::Products(products::validate(
                conn,
                &enterprise,
                &table,
                &mut validated,
            )?)
        }
        ImportKind::Designations => {
            Plan::Designations(designations::validate(conn, actor, &table, &mut validated)?)
        }
        ImportKind::Certifications => Plan::Certifications(certifications::validate(
            conn,
            actor,
            &table,
            &mut validated,
        )?),
    };
    let errors = match &plan {
        Plan::Products(p) => &p.errors,
        Plan::Designations(p) => &p.errors,
        Plan::Certifications(p) => &p.errors,
    };
    if !errors.is_empty() {
        return Ok(Err(errors.clone()));
    }
    repo::set_status(conn, &job.id, ImportStatus::Importing)?;
    progress(ImportStatus::Importing, 0, total);
    let mut written = |conn: &mut DbConn, done: usize, c: Counts| -> ApiResult<()> {
        repo::set_progress(conn, &id, done as i32, c.created, c.unchanged)?;
        progress(ImportStatus::Importing, done, total);
        Ok(())
    };
    let counts = match plan {
        Plan::Products(p) => products::write(conn, ctx, p, &mut written)?,
        Plan::Designations(p) => historical::write(conn, ctx, p, &mut written)?,
        Plan::Certifications(p) => historical::write(conn, ctx, p, &mut written)?,
    };
    Ok(Ok(counts))
}

/// `registry import FILE --kind … [--as USERNAME] [--enterprise ID]`: the same job as the API's,
/// run in the foreground, with a log line at every tenth of the work. Without `--as` the
/// operator imports (audited as `system:import`) and no access rule applies.
#[allow(clippy::too_many_arguments)]
pub fn import_file(
    conn: &mut DbConn,
    path: &std::path::Path,
    kind: ImportKind,
    as_user: Option<&str>,
    enterprise_id: Option<String>,
    checkpointer: Option<std::sync::Arc<crate::signing::Checkpointer>>,
    log: &dyn Fn(&str),
    progress: &dyn Fn(ImportStatus, usize, usize),
) -> Result<(JobRow, Counts), String> {
    let shown = |e: ApiError| format!("{e}: {:?}", e.to_problem().errors);
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("xlsx") => super::table::FileFormat::Xlsx,
        Some(e) if e.eq_ignore_ascii_case("csv") => super::table::FileFormat::Csv,
        _ => return Err(format!("{}: name a .csv or .xlsx file", path.display())),
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table = super::table::read(format, &bytes).map_err(shown)?;
    let actor = match as_user {
        None => None,
        Some(name) => {
            let u = crate::users::repo::find_by_username(conn, name)
                .map_err(|e| e.to_string())?
                .filter(|u| !u.disabled)
                .ok_or_else(|| format!("no active user {name}"))?;
            Some(Actor {
                user_id: u.id,
                username: u.username,
                role: u.role,
                agency: u.agency_code,
                enterprise_id: u.enterprise_id,
            })
        }
    };
    let mut ctx = match &actor {
        Some(a) => AuditCtx::system("import").as_actor(
            Some(a.user_id.clone()),
            format!("{}:{}", a.role, a.username),
        ),
        None => AuditCtx::system("import"),
    };
    ctx.agency = actor.as_ref().and_then(|a| a.agency);
    ctx.checkpointer = checkpointer;
    let request = Request {
        kind,
        enterprise_id,
        file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        table,
    };
    let job = start(conn, actor.as_ref(), &request).map_err(shown)?;
    log(&format!("import {}: {} rows", job.id, job.total_rows));
    let counts = run(conn, &job, actor.as_ref(), &ctx, request.table, progress);
    let job = repo::find(conn, &job.id)
        .map_err(|e| e.to_string())?
        .ok_or("the job vanished")?;
    match counts {
        Ok(c) => Ok((job, c)),
        Err(e) => {
            let errors: Vec<super::RowError> = job
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default();
            for e in &errors {
                log(&format!(
                    "row {}, {}: {} ({})",
                    e.row, e.column, e.message, e.code
                ));
            }
            Err(job.failure.unwrap_or_else(|| shown(e)))
        }
    }
}
