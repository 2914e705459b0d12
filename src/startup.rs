//! Builds the application once, for `main` and for the tests: database preparation, the actix
//! App (state, middleware, routes), binding, and the running server.

use std::net::TcpListener;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{self, Next};
use actix_web::HttpResponse;
use actix_web::{http::header, web, App, HttpServer};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::Settings;
use crate::db::{self, BackendKind, DbPool};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use crate::{
    api_clients, applications, audit, enterprises, gis, health, products, records, reference,
    seeds, sessions, standards, users, verify,
};

/// Hands the heap's free pages back to the system: building the OpenAPI document and loading
/// the reference data leave megabytes free inside the heap, which glibc keeps resident.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it takes the allocator's lock.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Where the OpenAPI document is served (Swagger UI at `/docs/` reads it there).
const SPEC_PATH: &str = "/api-docs/openapi.json";

/// Opens the pool, migrates, and loads the reference data (idempotent).
pub fn prepare_database(
    settings: &Settings,
) -> Result<(DbPool, BackendKind), Box<dyn std::error::Error>> {
    let (pool, backend) = db::build_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get()?;
    let applied = db::run_migrations(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let indexed = crate::search::backfill(&mut conn)?;
    if indexed > 0 {
        tracing::info!(indexed, "search documents written for rows that had none");
    }
    let report = seeds::load_reference(&mut conn).map_err(|e| e.to_string())?;
    if report.total() > 0 {
        tracing::info!(?report, "reference data loaded");
    }
    Ok((pool, backend))
}

/// The API routes under `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    // The router tries patterns in order: the hot public reads of third-party apps come first.
    cfg.service(verify::routes::verify_batch)
        .service(verify::routes::verify)
        .service(products::routes::get_product_by_gtin)
        .service(products::routes::list_products)
        .service(products::routes::get_product)
        .service(sessions::routes::login)
        .service(sessions::routes::refresh)
        .service(sessions::routes::logout)
        .service(sessions::routes::me)
        .service(sessions::routes::change_password)
        .service(enterprises::registration::register)
        .service(crate::api_clients::developers::register_developer)
        .service(users::routes::create_user)
        .service(users::routes::list_users)
        .service(users::routes::get_user)
        .service(users::routes::update_user)
        .service(reference::routes::list_regions)
        .service(reference::routes::list_agencies)
        .service(reference::routes::list_sectors)
        .service(standards::routes::list_standards)
        .service(standards::routes::get_standard)
        .service(standards::routes::publish_own_standard)
        .service(standards::routes::create_standard)
        .service(standards::routes::update_standard)
        .service(enterprises::routes::list_enterprises)
        .service(enterprises::routes::register_by_regulator)
        .service(enterprises::routes::get_enterprise)
        .service(enterprises::routes::verify_enterprise)
        .service(crate::supervision::routes::suspend_enterprise)
        .service(crate::supervision::routes::reinstate_enterprise)
        .service(crate::supervision::routes::deregister_enterprise)
        .service(enterprises::routes::reject_registration)
        .service(enterprises::routes::update_enterprise)
        .service(enterprises::identity_routes::list_identity_changes)
        .service(enterprises::identity_routes::approve_identity_change)
        .service(enterprises::identity_routes::reject_identity_change)
        .service(crate::supervision::routes::create_listing)
        .service(crate::supervision::routes::list_listings)
        .service(crate::supervision::routes::get_listing)
        .service(crate::supervision::routes::remove_listing)
        .service(crate::spot_checks::routes::create_campaign)
        .service(crate::spot_checks::routes::list_campaigns)
        .service(crate::spot_checks::routes::get_campaign)
        .service(crate::spot_checks::routes::list_candidates)
        .service(crate::spot_checks::routes::draw_campaign)
        .service(crate::spot_checks::routes::record_result)
        .service(crate::spot_checks::routes::close_campaign)
        .service(crate::spot_checks::routes::declare_conflict)
        .service(products::routes::create_product)
        .service(products::routes::update_product)
        .service(products::standards_routes::list_declared)
        .service(products::standards_routes::declare)
        .service(products::standards_routes::undeclare)
        .service(reference::kinds::list_kinds)
        .service(reference::review::review)
        .service(applications::routes::create_application)
        .service(applications::routes::list_applications)
        .service(applications::routes::get_application)
        .service(applications::routes::amend_application)
        .service(applications::routes::submit_application)
        .service(applications::routes::withdraw_application)
        .service(applications::routes::start_review)
        .service(applications::routes::decide_application)
        .service(applications::routes::grant_application)
        .service(applications::routes::file_objection)
        .service(applications::routes::resolve_objection)
        .service(records::routes::list_bodies)
        .service(records::routes::list_certifications)
        .service(records::routes::get_certification)
        .service(records::routes::suspend_certification)
        .service(records::routes::reinstate_certification)
        .service(records::routes::revoke_certification)
        .service(records::routes::list_designations)
        .service(records::routes::get_designation)
        .service(records::routes::suspend_designation)
        .service(records::routes::reinstate_designation)
        .service(records::routes::revoke_designation)
        .service(gis::routes::list_gis)
        .service(gis::routes::get_gi)
        .service(crate::changes::routes::changes)
        .service(crate::exports::routes::export_products)
        .service(crate::exports::routes::export_enterprises)
        .service(crate::exports::routes::export_certifications)
        .service(crate::exports::routes::export_designations)
        .service(crate::exports::routes::export_standards)
        .service(crate::imports::routes::create_import)
        .service(crate::imports::routes::get_import)
        .service(crate::stats::routes::get_plan_progress)
        .service(crate::stats::routes::get_summary)
        .service(crate::api_clients::routes::create_client)
        .service(crate::api_clients::routes::list_clients)
        .service(crate::api_clients::routes::get_client)
        .service(crate::api_clients::routes::update_client)
        .service(crate::api_clients::routes::revoke_client)
        .service(crate::webhooks::routes::create_webhook)
        .service(crate::webhooks::routes::list_webhooks)
        .service(crate::webhooks::routes::get_webhook)
        .service(crate::webhooks::routes::delete_webhook)
        .service(crate::webhooks::routes::rotate_secret)
        .service(crate::webhooks::routes::replay_webhook)
        .service(crate::webhooks::routes::resume_webhook)
        .service(crate::webhooks::routes::list_deliveries)
        .service(audit::routes::verify_audit)
        .service(audit::routes::list_audit)
        .service(audit::routes::list_checkpoints);
}

/// Tags every request with an id (the caller's `X-Request-Id` if sane), echoed in the response.
/// Browsers on other origins: any origin may read the public API and verify without
/// credentials; the origins in `REGISTRY_CORS_ORIGINS` may also call it signed in. There are no
/// cookies to protect (tokens travel in `Authorization`), so credentials mode stays off.
fn cors(signed_in_origins: std::sync::Arc<Vec<String>>) -> actix_cors::Cors {
    use actix_web::http::Method;
    actix_cors::Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let configured = origin
                .to_str()
                .is_ok_and(|o| signed_in_origins.iter().any(|allowed| allowed == o));
            configured || is_public_request(head)
        })
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("x-api-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
        ])
        .max_age(3600)
}

/// A read, or a verification, without a signed-in caller: a preflight is judged by what it
/// announces (`Access-Control-Request-Method` and `-Headers`).
fn is_public_request(head: &actix_web::dev::RequestHead) -> bool {
    use actix_web::http::Method;
    let preflight = head.method == Method::OPTIONS;
    let (method, signed_in) = if preflight {
        let method = head
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| Method::from_bytes(v.as_bytes()).ok());
        let signed_in = head
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|h| h.trim().eq_ignore_ascii_case("authorization"))
            });
        (method, signed_in)
    } else {
        (
            Some(head.method.clone()),
            head.headers().contains_key(header::AUTHORIZATION),
        )
    };
    let Some(method) = method else { return false };
    let verification = head.uri.path().starts_with("/api/v1/verify");
    !signed_in
        && (method == Method::GET
            || method == Method::HEAD
            || (method == Method::POST && verification))
}

/// Validators for reads: every successful `GET` under `/api/v1` gets an `ETag` that changes with
/// its content (a versioned resource keeps its version in front: `"3-<hash>"`) and
/// `Cache-Control: no-cache`, so caches may keep a copy but must revalidate it — a revoked
/// certificate is never served from a stale copy. `If-None-Match` with the current tag gets 304.
async fn validators(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use sha2::{Digest, Sha256};
    let cacheable = matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) && req.path().starts_with("/api/v1/");
    let personal = req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.call(req).await?;
    if !cacheable
        || res.status() != StatusCode::OK
        || res.headers().contains_key(header::CACHE_CONTROL)
    {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body();
        ((status, headers), body)
    };
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| ApiError::Internal("response body".into()))?;
    let hash = hex::encode(&Sha256::digest(&bytes)[..8]);
    let etag = match head.1.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        Some(v) => format!("\"{}-{hash}\"", v.trim_matches('"')),
        None => format!("\"{hash}\""),
    };
    // A signed-in answer may hold private fields: no cache keeps it.
    let cache_control = if personal {
        "no-store"
    } else {
        "public, no-cache"
    };
    let matches = if_none_match.is_some_and(|inm| {
        inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        })
    });
    let mut builder = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::build(head.0)
    };
    for (k, v) in head.1.iter() {
        if k != header::ETAG && k != header::CONTENT_LENGTH {
            builder.insert_header((k.clone(), v.clone()));
        }
    }
    head.1.clear();
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control));
    let response = if matches {
        builder.finish()
    } else {
        builder.body(bytes)
    };
    Ok(ServiceResponse::new(req, response).map_into_boxed_body())
}

fn query_error(
    err: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::Validation(vec![FieldError::new(
        "query",
        "invalid_query",
        err.to_string(),
    )])
    .into()
}

fn path_error(err: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Validation(vec![FieldError::new(
        "path",
        "invalid_path",
        err.to_string(),
    )])
    .into()
}

/// Only this origin's scripts, styles and images (the vendored Swagger UI included), and no
/// framing. Swagger UI sets inline style attributes and uses `data:` icons.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn security_headers(hsts: bool) -> middleware::DefaultHeaders {
    let headers = middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY));
    if hsts {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        headers
    }
}

/// Work that follows the clock rather than a request: unverified registrations expire at start
/// and hourly (a USCC they hold is also freed at once when its company signs up).
fn spawn_housekeeping(state: web::Data<AppState>) {
    // The answer cache follows the publication log: other instances' changes drop what they
    // touch within this interval.
    // Replicas are asked how far they have replayed at the same pace, and the log is followed
    // from the freshest of them, so this goes on while the primary is down.
    let follower = state.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(crate::cache::FOLLOW_EVERY);
        loop {
            every.tick().await;
            let replicas = follower.replicas.clone();
            let from = if replicas.is_empty() {
                None
            } else {
                let polled = web::block(move || {
                    replicas.poll();
                    replicas.freshest()
                });
                polled.await.ok().flatten()
            };
            if !follower.answers.enabled() && follower.replicas.is_empty() {
                return;
            }
            let answers = follower.answers.clone();
            let follow = move |conn: &mut crate::db::DbConn| Ok(answers.catch_up(conn)?);
            let followed = match from {
                Some(pool) => follower.db_on(pool, follow).await,
                None => follower.db(follow).await,
            };
            if let Err(e) = followed {
                tracing::debug!(error = %e, "following the publication log failed");
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let stale_before = state.settings.pending_stale_before();
            let ctx = audit::AuditCtx::system("housekeeping");
            match state
                .db(move |conn| enterprises::service::expire_stale(conn, &ctx, stale_before))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "unverified registrations expired"),
                Err(e) => tracing::warn!(error = %e, "expiring unverified registrations failed"),
            }
        }
    });
}

/// The instance that made a change never serves the answer it replaced: before a write's
/// answer goes out, the answer cache follows the publication log up to that write.
async fn follow_own_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use actix_web::http::Method;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?.map_into_boxed_body();
    // The console answers a successful form post with a redirect.
    let done = res.status().is_success() || res.status().is_redirection();
    if let (true, Some(state)) = (writes && done, state) {
        let answers = state.answers.clone();
        let replicas = state.replicas.clone();
        let followed = state.db(move |conn| {
            answers.catch_up(conn)?;
            Ok(replicas.wrote(conn)?)
        });
        if let Err(e) = followed.await {
            tracing::warn!(error = %e, "following the publication log after a write failed");
        }
    }
    Ok(res)
}

/// Marks the requests a read replica may serve: they change nothing and carry no credentials
/// (`crate::db::replicas`).
async fn route_reads(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use actix_web::http::Method;
    let reads = matches!(*req.method(), Method::GET | Method::HEAD)
        || (req.method() == Method::POST && req.path() == "/api/v1/verify/batch");
    let public = reads
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req.headers().contains_key(header::COOKIE);
    let res = db::replicas::as_public_read(public, next.call(req)).await?;
    Ok(res.map_into_boxed_body())
}

/// A bound, running server and the port it got (tests bind port 0).
pub struct Application {
    pub port: u16,
    pub server: Server,
}

impl Application {
    pub fn start(state: AppState, listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let workers = state.settings.workers.max(1);
        let settings = &state.settings;
        let limits = web::Data::new(api_clients::limits::Limits::new(
            settings.public_rate_per_min,
            settings.api_key_rate_per_min,
            settings.login_rate_per_min,
            settings.filing_rate_per_min,
        ));
        // The caller extractor (core) reads the token keys and the pool without knowing AppState.
        let keys = web::Data::from(state.keys.clone());
        let pool = web::Data::new(state.pool.clone());
        let checkpointer = web::Data::new(crate::signing::Checkpointer {
            keyring: state.keyring.clone(),
            every: settings.checkpoint_every,
        });
        // The public halves of the keys in use stay published (JWKS) after any rotation.
        {
            let mut conn = state.pool.get().map_err(std::io::Error::other)?;
            db::write_tx(&mut conn, |conn| {
                audit::checkpoints::publish_keys(conn, &state.keyring)
            })
            .map_err(std::io::Error::other)?;
        }
        let hsts = settings.hsts;
        let proxies = web::Data::new(settings.trusted_proxies.clone());
        let cors_origins = std::sync::Arc::new(settings.cors_origins.clone());
        let data = web::Data::new(state);
        spawn_housekeeping(data.clone());
        crate::webhooks::deliver::spawn(data.clone());
        // Serialised once and shared: the document as a JSON value is several megabytes, and
        // Swagger UI's own route would keep a copy of it per worker and serialise it per request.
        let spec = web::Bytes::from(
            serde_json::to_vec(&crate::openapi::document()).map_err(std::io::Error::other)?,
        );
        release_freed_memory();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(limits.clone())
                .app_data(keys.clone())
                .app_data(pool.clone())
                .app_data(checkpointer.clone())
                .app_data(proxies.clone())
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .wrap(middleware::from_fn(validators))
                .wrap(middleware::from_fn(follow_own_writes))
                .wrap(middleware::from_fn(route_reads))
                .wrap(cors(cors_origins.clone()))
                .wrap(middleware::from_fn(crate::observe::request))
                .wrap(security_headers(hsts))
                .wrap(middleware::Compress::default())
                .service(health::healthz)
                .service(health::readyz)
                .service(crate::observe::metrics)
                .service(audit::routes::jwks)
                .service(web::redirect("/docs", "/docs/"))
                .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new([SPEC_PATH])))
                .service(web::resource(SPEC_PATH).get({
                    let spec = spec.clone();
                    move || {
                        let spec = spec.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type(header::ContentType::json())
                                .body(spec)
                        }
                    }
                }))
                .service(
                    web::scope("/api/v1")
                        .wrap(middleware::from_fn(api_clients::limits::rate_limit))
                        .configure(api_routes),
                )
                // The pages read the register too: the same limits as the API.
                .service(
                    web::scope("")
                        .wrap(middleware::from_fn(api_clients::limits::rate_limit))
                        .configure(crate::web::configure),
                )
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                }))
        })
        .workers(workers)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }
}
