//! Read replicas (`DATABASE_READ_URL`): PostgreSQL streaming replicas that serve public reads.
//!
//! A request is a public read when it changes nothing and carries no credentials (the
//! `route_reads` middleware marks it, [`as_public_read`]); only such requests go to a replica,
//! so a signed-in client always reads what it just wrote. Each instance also remembers how far
//! its own writes reached in the primary's WAL and sends public reads only to a replica that
//! has replayed that far, so an anonymous read on the instance that made a change never shows
//! the state before it. When the primary is down, public reads go to the freshest replica
//! that answers, and writes answer 503.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{build_pool_waiting, DbConn, DbPool, DbSetupError};

tokio::task_local! {
    static PUBLIC_READ: bool;
}

/// Runs a request's handling marked as a public read (or not).
pub async fn as_public_read<F: Future>(public: bool, f: F) -> F::Output {
    PUBLIC_READ.scope(public, f).await
}

/// Whether the request being handled is a public read.
pub fn is_public_read() -> bool {
    PUBLIC_READ.try_with(|p| *p).unwrap_or(false)
}

struct Replica {
    pool: DbPool,
    /// How far it has replayed the primary's WAL (bytes), as last asked.
    replayed: AtomicI64,
    /// The newest publication sequence it held, as last asked.
    published: AtomicI64,
    answering: AtomicBool,
}

/// The replicas of one instance, and how far its own writes reached.
#[derive(Default)]
pub struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
    /// The primary's WAL position after this instance's last write.
    written: AtomicI64,
    /// The primary failed to give a connection lately.
    primary_down: AtomicBool,
}

/// A replica chosen for a read: its pool, and the publication sequence it held at least.
pub struct ReadFrom {
    pub pool: DbPool,
    pub published: i64,
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = BigInt)]
    lsn: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = BigInt)]
    lsn: i64,
}

impl Replicas {
    pub fn build(urls: &[String], size: u32) -> Result<Self, DbSetupError> {
        let list = urls
            .iter()
            .map(|url| {
                Ok(Replica {
                    // A replica that does not answer soon is passed over for the primary.
                    pool: build_pool_waiting(url, size, std::time::Duration::from_secs(2))?.0,
                    replayed: AtomicI64::new(-1),
                    published: AtomicI64::new(0),
                    answering: AtomicBool::new(false),
                })
            })
            .collect::<Result<_, DbSetupError>>()?;
        Ok(Self {
            list,
            ..Self::default()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A replica for a public read: the next (round robin) that has replayed this instance's
    /// writes; when the primary is down, the freshest that answers. None: read the primary.
    pub fn pick(&self) -> Option<ReadFrom> {
        let chosen = if self.primary_down.load(Ordering::Acquire) {
            self.most_replayed()
        } else {
            let written = self.written.load(Ordering::Acquire);
            let fresh: Vec<&Replica> = self
                .answering()
                .filter(|r| r.replayed.load(Ordering::Acquire) >= written)
                .collect();
            (!fresh.is_empty())
                .then(|| fresh[self.next.fetch_add(1, Ordering::Relaxed) % fresh.len()])
        }?;
        Some(ReadFrom {
            pool: chosen.pool.clone(),
            published: chosen.published.load(Ordering::Acquire),
        })
    }

    /// The replica that has replayed the most, to follow the publication log from.
    pub fn freshest(&self) -> Option<DbPool> {
        self.most_replayed().map(|r| r.pool.clone())
    }

    fn answering(&self) -> impl Iterator<Item = &Replica> {
        self.list
            .iter()
            .filter(|r| r.answering.load(Ordering::Acquire))
    }

    fn most_replayed(&self) -> Option<&Replica> {
        self.answering()
            .max_by_key(|r| r.replayed.load(Ordering::Acquire))
    }

    /// Whether the primary gave a connection: a failure sends public reads to any replica
    /// until it gives one again.
    pub fn primary_answered(&self, answered: bool) {
        if !self.is_empty() {
            self.primary_down.store(!answered, Ordering::Release);
        }
    }

    /// Remembers where the primary's WAL stands after a write of this instance (call on the
    /// primary, after the write committed).
    pub fn wrote(&self, conn: &mut DbConn) -> QueryResult<()> {
        let DbConn::Pg(c) = conn else { return Ok(()) };
        if self.is_empty() {
            return Ok(());
        }
        let at: Lsn =
            diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn")
                .get_result(c)?;
        self.written.fetch_max(at.lsn, Ordering::AcqRel);
        Ok(())
    }

    /// Asks each replica how far it has replayed (blocking; every few hundred milliseconds).
    pub fn poll(&self) {
        for r in &self.list {
            let asked = r
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    let DbConn::Pg(c) = &mut *conn else {
                        return Err("not PostgreSQL".to_owned());
                    };
                    // A URL that names a primary (no recovery) counts as fully caught up.
                    diesel::sql_query(
                        "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                     ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS lsn, \
                     (SELECT coalesce(max(seq), 0) FROM publications) AS seq",
                    )
                    .get_result::<Position>(c)
                    .map_err(|e| e.to_string())
                });
            match asked {
                Ok(p) => {
                    r.replayed.store(p.lsn, Ordering::Release);
                    r.published.store(p.seq, Ordering::Release);
                    r.answering.store(true, Ordering::Release);
                }
                Err(e) => {
                    if r.answering.swap(false, Ordering::AcqRel) {
                        tracing::warn!(error = %e, "a read replica stopped answering");
                    }
                }
            }
        }
    }
}
