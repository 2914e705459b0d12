//! Rate limits (governor): per client address for the public, per key for registered apps, and
//! a stricter one on sign-in. Every limited answer says its quota in `X-RateLimit-*` headers;
//! past it, 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};

use super::repo::KeyHolder;
use crate::error::ApiError;
use crate::state::AppState;

type Keyed<K> = RateLimiter<
    K,
    governor::state::keyed::DefaultKeyedStateStore<K>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// How long a looked-up API key is trusted before it is checked against the database again
/// (a revocation through this instance takes effect at once).
const KEY_CACHE_TTL: Duration = Duration::from_secs(10);

pub struct Limits {
    public: Keyed<IpAddr>,
    public_per_min: u32,
    /// One limiter per quota in use: the default for keys, and each quota an admin set.
    keys: Mutex<HashMap<u32, Arc<Keyed<String>>>>,
    key_per_min: u32,
    login: Keyed<IpAddr>,
    login_per_min: u32,
    /// Sign-ups and objections: writes anyone may make, each costly (a password hash, a
    /// regulator's attention), so an address gets few of them.
    filings: Keyed<IpAddr>,
    filings_per_min: u32,
    /// key hash → (its holder, or None for an unknown key; when looked up).
    key_cache: Mutex<HashMap<String, (Option<KeyHolder>, Instant)>>,
}

fn quota(per_min: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_min.max(1)).expect("at least 1"))
}

impl Limits {
    pub fn new(
        public_per_min: u32,
        key_per_min: u32,
        login_per_min: u32,
        filings_per_min: u32,
    ) -> Self {
        Self {
            public: RateLimiter::keyed(quota(public_per_min))
                .with_middleware::<StateInformationMiddleware>(),
            public_per_min,
            keys: Mutex::new(HashMap::new()),
            key_per_min,
            login: RateLimiter::keyed(quota(login_per_min))
                .with_middleware::<StateInformationMiddleware>(),
            login_per_min,
            filings: RateLimiter::keyed(quota(filings_per_min))
                .with_middleware::<StateInformationMiddleware>(),
            filings_per_min,
            key_cache: Mutex::new(Default::default()),
        }
    }

    pub fn forget_key(&self, hash: &str) {
        self.key_cache.lock().expect("key cache").remove(hash);
    }

    /// The limiter of keys with this quota (requests per minute).
    fn for_quota(&self, per_min: u32) -> Arc<Keyed<String>> {
        let mut keys = self.keys.lock().expect("key limiters");
        keys.entry(per_min)
            .or_insert_with(|| {
                Arc::new(
                    RateLimiter::keyed(quota(per_min))
                        .with_middleware::<StateInformationMiddleware>(),
                )
            })
            .clone()
    }

    fn cached(&self, hash: &str) -> Option<Option<KeyHolder>> {
        let map = self.key_cache.lock().expect("key cache");
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(c, _)| c.clone())
    }

    fn remember(&self, hash: String, client: Option<KeyHolder>) {
        let mut map = self.key_cache.lock().expect("key cache");
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
        }
        map.insert(hash, (client, Instant::now()));
    }
}

/// Outcome of one check: the limit, what remains, or how long to wait.
struct Verdict {
    name: &'static str,
    limit: u32,
    remaining: u32,
    retry_after: Option<u64>,
}

fn check<K: std::hash::Hash + Eq + Clone>(
    name: &'static str,
    limiter: &Keyed<K>,
    key: &K,
    limit: u32,
) -> Verdict {
    match limiter.check_key(key) {
        Ok(snapshot) => Verdict {
            name,
            limit,
            remaining: snapshot.remaining_burst_capacity(),
            retry_after: None,
        },
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Verdict {
                name,
                limit,
                remaining: 0,
                retry_after: Some(wait.as_secs().max(1)),
            }
        }
    }
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, v: &Verdict) {
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(v.limit),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(v.remaining),
    );
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (Some(state), Some(limits)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<Limits>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let ip = crate::auth::extract::client_addr(req.request());
    let api_key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut verdicts = Vec::new();
    let mut key_refused = false;
    if let Some(key) = api_key {
        let hash = super::hash_key(key.trim());
        let client = match limits.cached(&hash) {
            Some(c) => c,
            None => {
                let k = key.trim().to_owned();
                let c = state
                    .db(move |conn| Ok(super::find_active_by_key(conn, &k)?))
                    .await
                    .map_err(actix_web::Error::from)?;
                limits.remember(hash, c.clone());
                c
            }
        };
        match client {
            Some(holder) => {
                // Handlers that act for the app itself (its webhooks) read who it is from here.
                req.extensions_mut().insert(holder.clone());
                let per_min = holder
                    .quota_per_min
                    .and_then(|q| u32::try_from(q).ok())
                    .unwrap_or(limits.key_per_min);
                let limiter = limits.for_quota(per_min);
                verdicts.push(check("api_key", &limiter, &holder.client_id, per_min))
            }
            // Guessing keys must not be a way around the public quota: a wrong key is
            // counted against the caller's address like an anonymous request, then refused.
            None => {
                key_refused = true;
                verdicts.push(check("public", &limits.public, &ip, limits.public_per_min));
            }
        }
    } else {
        verdicts.push(check("public", &limits.public, &ip, limits.public_per_min));
    }
    if !key_refused && req.method() == actix_web::http::Method::POST {
        let path = req.path();
        // The console's forms are held to the same limits as the API calls they stand for.
        if path == "/api/v1/auth/login" || path == "/console/login" {
            verdicts.push(check("login", &limits.login, &ip, limits.login_per_min));
        }
        if path == "/api/v1/auth/register"
            || path == "/api/v1/auth/register-developer"
            || path == "/console/signup"
            || (path.starts_with("/api/v1/applications/") && path.ends_with("/objections"))
        {
            verdicts.push(check(
                "filings",
                &limits.filings,
                &ip,
                limits.filings_per_min,
            ));
        }
    }
    // The tightest verdict is the one the client sees.
    let verdict = verdicts
        .into_iter()
        .min_by_key(|v| (v.retry_after.is_none(), v.remaining))
        .expect("one verdict");
    let refusal = match verdict.retry_after {
        Some(secs) => {
            state.metrics.rate_limited(verdict.name);
            Some(ApiError::TooManyRequests {
                retry_after_secs: secs,
            })
        }
        None => key_refused.then_some(ApiError::InvalidApiKey),
    };
    if let Some(refusal) = refusal {
        let mut resp = refusal.error_response();
        set_headers(resp.headers_mut(), &verdict);
        return Ok(req.into_response(resp).map_into_boxed_body());
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    set_headers(res.headers_mut(), &verdict);
    Ok(res)
}
