//! What every handler shares: the pool, settings, token keys, throttles.

use std::sync::Arc;

use actix_web::web;

use crate::auth::throttle::LoginThrottle;
use crate::auth::token::Keys;
use crate::config::Settings;
use crate::db::{BackendKind, DbConn, DbPool};
use crate::error::ApiResult;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub backend: BackendKind,
    pub settings: Arc<Settings>,
    pub keys: Arc<Keys>,
    pub login_throttle: Arc<LoginThrottle>,
    pub limits: Arc<crate::limits::Limits>,
    pub verify_cache: Arc<crate::verify::Cache>,
}

impl AppState {
    pub fn new(pool: DbPool, backend: BackendKind, settings: Settings) -> Self {
        Self {
            pool,
            backend,
            keys: Arc::new(Keys::new(&settings)),
            login_throttle: Arc::new(LoginThrottle::new(
                settings.login_max_failures,
                settings.login_window,
            )),
            limits: Arc::new(crate::limits::Limits::new(
                settings.public_rate_per_min,
                settings.api_key_rate_per_min,
                settings.login_rate_per_min,
            )),
            verify_cache: Arc::new(crate::verify::Cache::new(settings.verify_cache_size)),
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
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
