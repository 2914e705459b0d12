//! What every handler shares: the pool, settings, token keys and the login throttle. Features
//! keep their own shared parts (rate limits, caches) as app data of their own, so this core
//! module imports no feature.

use std::sync::Arc;

use actix_web::web;

use crate::auth::throttle::LoginThrottle;
use crate::auth::token::Keys;
use crate::config::Settings;
use crate::db::replicas::{is_public_read, Replicas};
use crate::db::{BackendKind, DbConn, DbPool};
use crate::error::ApiResult;
use crate::signing::Keyring;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub backend: BackendKind,
    pub settings: Arc<Settings>,
    pub keys: Arc<Keys>,
    pub login_throttle: Arc<LoginThrottle>,
    /// The keys that sign checkpoints and verification answers (kept outside the database).
    pub keyring: Arc<Keyring>,
    pub metrics: Arc<crate::observe::Metrics>,
    /// Public answers kept in memory, dropped per record as the publication log says.
    pub answers: Arc<crate::cache::Answers>,
    /// Read replicas for public reads (none unless `DATABASE_READ_URL` is set).
    pub replicas: Arc<Replicas>,
}

impl AppState {
    pub fn new(pool: DbPool, backend: BackendKind, settings: Settings, keyring: Keyring) -> Self {
        crate::clock::set_timezone(settings.timezone);
        Self {
            keyring: Arc::new(keyring),
            metrics: Arc::default(),
            answers: Arc::new(crate::cache::Answers::new(
                settings.answer_cache_mb.saturating_mul(1 << 20),
            )),
            replicas: Arc::default(),
            pool,
            backend,
            keys: Arc::new(Keys::new(&settings)),
            login_throttle: Arc::new(LoginThrottle::new(
                settings.login_max_failures,
                settings.login_window,
            )),
            settings: Arc::new(settings),
        }
    }

    /// Public reads served by these replicas.
    pub fn with_replicas(mut self, replicas: Replicas) -> Self {
        self.replicas = Arc::new(replicas);
        self
    }

    /// Runs blocking database work on actix's blocking pool, with a pooled connection: of a
    /// replica for a public read when one has caught up, of the primary otherwise.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
    {
        Ok(self.db_from(f).await?.0)
    }

    /// As [`db`](Self::db), and when a replica answered, the publication sequence it held at
    /// least (what a cached answer loaded there may be older than).
    pub async fn db_from<T, F>(&self, f: F) -> ApiResult<(T, Option<i64>)>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
    {
        let public = is_public_read();
        let replica = if public { self.replicas.pick() } else { None };
        let primary = self.pool.clone();
        let replicas = self.replicas.clone();
        let metrics = self.metrics.clone();
        // The request's span (its id) follows the work onto the blocking thread.
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let asked = std::time::Instant::now();
            let (conn, published) = match replica {
                Some(r) => match r.pool.get() {
                    Ok(conn) => (Ok(conn), Some(r.published)),
                    Err(_) => (primary.get(), None),
                },
                None => {
                    let conn = primary.get();
                    replicas.primary_answered(conn.is_ok());
                    (conn, None)
                }
            };
            metrics.pool_wait(asked.elapsed());
            if public {
                metrics.public_read(published.is_some());
            }
            let mut conn = conn?;
            Ok((f(&mut conn)?, published))
        })
        .await?
    }

    /// Runs blocking database work with a connection of `pool`.
    pub async fn db_on<T, F>(&self, pool: DbPool, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
    {
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
