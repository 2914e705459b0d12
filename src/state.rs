//! What every handler shares: the pool, settings, token keys and the login throttle. Features
//! keep their own shared parts (rate limits, caches) as app data of their own, so this core
//! module imports no feature.

use std::sync::Arc;

use actix_web::web;

use crate::auth::throttle::LoginThrottle;
use crate::auth::token::Keys;
use crate::config::Settings;
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

    /// Runs blocking database work on actix's blocking pool, with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let metrics = self.metrics.clone();
        // The request's span (its id) follows the work onto the blocking thread.
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let asked = std::time::Instant::now();
            let conn = pool.get();
            metrics.pool_wait(asked.elapsed());
            let mut conn = conn?;
            f(&mut conn)
        })
        .await?
    }
}
