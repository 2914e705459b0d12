//! What an operator sees: one log line per request with its id, logs as text or JSON, and
//! Prometheus metrics at `/metrics`.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::auth::extract::RequestId;
use crate::error::{ApiError, ApiResult};
use crate::net::{ClientAddr, TrustedProxies};
use crate::state::AppState;

/// `REGISTRY_LOG_FORMAT`: `text` (default) or `json`, one object per line for a log collector.
/// Colour codes only when stderr is a terminal.
pub fn init_logging(format: Option<&str>) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,actix_server=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        None | Some("text") => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        Some("json") => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        Some(other) => {
            return Err(format!(
                "REGISTRY_LOG_FORMAT is {other:?}: use text or json"
            ))
        }
    }
    Ok(())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

/// The registry's metrics, one set per running app.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool: Family<StateLabels, Gauge>,
    pool_wait: Histogram,
    cache: Family<CacheLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    public_reads: Family<SourceLabels, Counter>,
    audit_head: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("registry");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route pattern and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route pattern",
            latency.clone(),
        );
        let pool = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of the pool, in use or idle",
            pool.clone(),
        );
        let pool_wait = latency_histogram();
        registry.register(
            "db_pool_wait_seconds",
            "Time spent waiting for a database connection",
            pool_wait.clone(),
        );
        let cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "cache_lookups",
            "Cache lookups, by cache and hit or miss",
            cache.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limit_rejections",
            "Requests refused with 429, by limit",
            rate_limited.clone(),
        );
        let public_reads = Family::<SourceLabels, Counter>::default();
        registry.register(
            "db_public_reads",
            "Database work for public reads, by where it ran (primary or replica)",
            public_reads.clone(),
        );
        let audit_head = Gauge::default();
        registry.register(
            "audit_head_sequence",
            "Sequence number of the newest audit entry",
            audit_head.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool,
            pool_wait,
            cache,
            rate_limited,
            public_reads,
            audit_head,
        }
    }
}

impl Metrics {
    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    pub fn public_read(&self, on_replica: bool) {
        let source = if on_replica { "replica" } else { "primary" };
        self.public_reads
            .get_or_create(&SourceLabels { source })
            .inc();
    }

    pub fn pool_wait(&self, waited: Duration) {
        self.pool_wait.observe(waited.as_secs_f64());
    }

    fn answered(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// The text exposition, with the gauges read now.
    fn render(&self, in_use: u32, idle: u32, audit_head: Option<i64>) -> String {
        self.pool
            .get_or_create(&StateLabels { state: "in_use" })
            .set(in_use.into());
        self.pool
            .get_or_create(&StateLabels { state: "idle" })
            .set(idle.into());
        if let Some(seq) = audit_head {
            self.audit_head.set(seq);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// First on every request: its id (the caller's `X-Request-Id` when sane, else a new UUIDv7),
/// its client address, a span that puts both on every log line written while it is served,
/// one log line when answered, and its metrics.
pub async fn request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let client = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client(peer, req.headers()),
        None => peer,
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(ClientAddr(client));
    let span = tracing::info_span!("request", request_id = %id, client = %client);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let recorder = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    // PostgreSQL text cannot hold NUL: refuse it in paths and queries before any handler runs.
    if req.uri().to_string().to_ascii_lowercase().contains("%00") {
        return Err(ApiError::field(
            "url",
            "invalid_character",
            "NUL characters (%00) are not allowed",
        )
        .into());
    }
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(v) = header::HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    let took = started.elapsed();
    // The pattern, not the path: ids would make every route its own series.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(m) = recorder {
        m.answered(&method, &route, status, took);
    }
    tracing::info!(
        parent: &span,
        method,
        path,
        status,
        ms = took.as_secs_f64() * 1000.0,
        "answered"
    );
    Ok(res)
}

/// Prometheus text format. With `REGISTRY_METRICS_TOKEN` set, only for
/// `Authorization: Bearer <token>`; without one, only for the host itself (loopback peer).
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    summary = "Prometheus metrics",
    description = "Requests by route and status, latency, database pool, cache hits, rate-limit refusals and the audit head, in the OpenMetrics text format. With `REGISTRY_METRICS_TOKEN` set, only for that bearer token; without, only on loopback.",
    responses(
        (status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String,
            example = json!("# TYPE registry_http_requests counter\nregistry_http_requests_total{method=\"GET\",route=\"/api/v1/products\",status=\"200\"} 12\n# EOF\n")),
        (status = 403, description = "Neither the token nor a loopback peer", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match (&state.settings.metrics_token, presented) {
        (Some(expected), Some(given)) => {
            use sha2::{Digest, Sha256};
            // Equal-length digests compared whole: no timing hint about the token.
            Sha256::digest(expected.expose_secret().as_bytes()) == Sha256::digest(given.as_bytes())
        }
        (Some(_), None) => false,
        (None, _) => local,
    };
    if !allowed {
        return Err(ApiError::Forbidden);
    }
    let pool = state.pool.state();
    let head = state
        .db(|conn| Ok(crate::audit::head_seq(conn)?))
        .await
        .ok();
    let body = state.metrics.render(
        pool.connections - pool.idle_connections,
        pool.idle_connections,
        head,
    );
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
