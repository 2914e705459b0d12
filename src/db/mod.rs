//! One connection type over both backends, the pool, migrations, and the write-transaction rule.

pub mod bulk;
pub mod replicas;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to either backend. Queries written against `DbConn` run on both; a query
/// that needs backend-specific SQL matches on the variant explicitly.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    // SQLite accepts any string as a path, so it must come last for `establish` to try it last.
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot create the directory for the SQLite database: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("cannot build the connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// A parsed `DATABASE_URL`: which backend, and what to hand to the driver.
#[derive(Debug, Clone)]
pub struct DbTarget {
    pub kind: BackendKind,
    pub driver_url: String,
}

impl DbTarget {
    pub fn parse(url: &str) -> Result<Self, DbSetupError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                kind: BackendKind::Postgres,
                driver_url: url.to_owned(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| DbSetupError::UnsupportedUrl(url.to_owned()))?;
        if path.is_empty() {
            return Err(DbSetupError::UnsupportedUrl(url.to_owned()));
        }
        Ok(Self {
            kind: BackendKind::Sqlite,
            driver_url: path.to_owned(),
        })
    }
}

/// Establishes the variant the URL names: `DbConn::establish` would try PostgreSQL on a
/// SQLite path first.
#[derive(Debug, Clone)]
pub struct Manager {
    target: DbTarget,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        connect(&self.target).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub fn connect(target: &DbTarget) -> Result<DbConn, diesel::ConnectionError> {
    Ok(match target.kind {
        BackendKind::Postgres => {
            let mut conn = diesel::PgConnection::establish(&target.driver_url)?;
            // The service runs many short queries at once: parallel workers for one of them
            // only take cores from the others (measured: a common two-character search took
            // 3 ms of CPU with a Gather Merge, under 1 ms without).
            conn.batch_execute("SET max_parallel_workers_per_gather = 0")
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            DbConn::Pg(conn)
        }
        BackendKind::Sqlite => {
            let mut conn = diesel::SqliteConnection::establish(&target.driver_url)?;
            // The busy timeout makes a second writer wait instead of failing; FULL syncs each
            // commit, so an acknowledged write survives a power loss; SQLite leaves foreign keys
            // off unless asked. (WAL is set once per file, in `build_pool`.)
            conn.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            DbConn::Sqlite(conn)
        }
    })
}

/// Builds the pool. SQLite files are created (with their directory) when missing.
pub fn build_pool(url: &str, max_size: u32) -> Result<(DbPool, BackendKind), DbSetupError> {
    build_pool_waiting(url, max_size, Duration::from_secs(10))
}

/// A pool whose callers wait at most `wait` for a connection.
pub fn build_pool_waiting(
    url: &str,
    max_size: u32,
    wait: Duration,
) -> Result<(DbPool, BackendKind), DbSetupError> {
    let target = DbTarget::parse(url)?;
    if target.kind == BackendKind::Sqlite && target.driver_url != ":memory:" {
        if let Some(dir) = std::path::Path::new(&target.driver_url).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
    }
    if target.kind == BackendKind::Sqlite {
        // WAL lets readers run beside the one writer. It is a property of the file, so it is
        // set once, before the pool opens its connections: a new connection does not yet know
        // the file is in WAL mode, and asking for it while another connection writes fails
        // with "database is locked" without waiting for the busy timeout.
        connect(&target)?.batch_execute("PRAGMA journal_mode = WAL")?;
    }
    let kind = target.kind;
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(wait)
        .build(Manager { target })?;
    Ok((pool, kind))
}

/// Runs the pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, DbSetupError> {
    let done = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    done.map_err(|e| DbSetupError::Migration(e.to_string()))
}

/// Every mutation runs here. The first statement writes the audit head row, which (a) takes
/// SQLite's write lock before anything is read, so a later write cannot fail on a stale WAL
/// snapshot, and (b) on PostgreSQL row-locks the head, so audit entries get one total order.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use schema::audit_head::dsl as h;
    conn.transaction(|conn| {
        diesel::update(h::audit_head.filter(h::id.eq(1)))
            .set(h::locked_at.eq(crate::clock::now()))
            .execute(conn)?;
        f(conn)
    })
}

/// A consistent read of many statements: one snapshot for all of them, so no commit can fall
/// between two of them. PostgreSQL: `REPEATABLE READ READ ONLY` (the snapshot is taken at the
/// first query). SQLite: a deferred transaction, whose first read fixes the WAL snapshot that
/// every later read sees, while writers carry on.
pub fn read_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConn::Pg(c) = conn {
            // Must be the transaction's first statement.
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

diesel::define_sql_function! {
    /// SQL `lower()`: both backends have it; used for case-insensitive `q` searches.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern matching `q` anywhere, lower-cased, with `%`, `_` and `\` escaped
/// (use with `.escape('\\')`).
pub fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The `LIKE` prefix matching a region and everything under it: 630000 → `63%`,
/// 632800 → `6328%`, a county code → itself.
pub fn region_prefix_pattern(code: &str) -> String {
    let mut c = code;
    while c.len() > 2 && c.ends_with("00") {
        c = &c[..c.len() - 2];
    }
    format!("{c}%")
}

/// Loads many rows at once: PostgreSQL's `COPY … FROM STDIN` (binary), SQLite's multi-row
/// `INSERT` in chunks under its bound-parameter limit (the caller's transaction keeps it one
/// write). Bulk loads are not part of the common subset `DbConn` offers, so this matches on the
/// backend explicitly. The rows' `Insertable` must say `treat_none_as_default_value = false`:
/// `COPY` has no `DEFAULT`, and without it SQLite would insert row by row.
#[macro_export]
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConn::Pg(c) => diesel::prelude::ExecuteCopyFromDsl::execute(
                diesel::copy_from($table).from_insertable(rows),
                c,
            ),
            $crate::db::DbConn::Sqlite(c) => {
                let mut written = 0;
                let mut result = Ok(0);
                for chunk in rows.chunks(500) {
                    match diesel::RunQueryDsl::execute(diesel::insert_into($table).values(chunk), c)
                    {
                        Ok(n) => written += n,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                result.map(|_: usize| written)
            }
        }
    }};
}

/// A consistent copy of a SQLite database, taken online (`VACUUM INTO`: one read transaction,
/// so writers carry on and the copy is as of one moment); returns its size. Refuses to replace
/// a file, and refuses PostgreSQL, whose own tools do this job.
pub fn backup(conn: &mut DbConn, to: &std::path::Path) -> Result<u64, String> {
    if to.exists() {
        return Err(format!("{} exists; choose a new file", to.display()));
    }
    let DbConn::Sqlite(c) = conn else {
        return Err(
            "this database is PostgreSQL: back it up with pg_dump or pg_basebackup \
                    (see the README)"
                .into(),
        );
    };
    let path = to
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", to.display()))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(path)
        .execute(c)
        .map_err(|e| format!("backup to {path} failed: {e}"))?;
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| format!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool replaces connections while the service writes; opening one must wait for the
    /// writer, not fail.
    #[test]
    fn a_sqlite_connection_opens_while_another_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let (pool, _) = build_pool(&url, 1).unwrap();
        let mut writer = pool.get().unwrap();
        writer
            .batch_execute("CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let mut other = connect(&DbTarget::parse(&url).unwrap()).expect("opens beside a writer");
        let mode: Vec<String> = match &mut other {
            DbConn::Sqlite(c) => {
                #[derive(QueryableByName)]
                struct Mode {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    journal_mode: String,
                }
                diesel::sql_query("PRAGMA journal_mode")
                    .load::<Mode>(c)
                    .unwrap()
                    .into_iter()
                    .map(|m| m.journal_mode)
                    .collect()
            }
            DbConn::Pg(_) => unreachable!(),
        };
        assert_eq!(mode, ["wal"]);
        writer.batch_execute("COMMIT").unwrap();
    }
}
