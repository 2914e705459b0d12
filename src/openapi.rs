//! The OpenAPI document: every feature's paths, and the schemas they use.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    applications, audit, enterprises, gis, health, products, records, reference, sessions,
    standards, users, verify,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Qinghai consumer-goods product registry",
        description = "The authoritative register of consumer-goods enterprises, their products, the standards those \
products execute, their certifications and the designations the province grants, serving Qinghai's \
\"more varieties, better quality, stronger brands\" plan (增品种、提品质、创品牌).\n\n\
Conventions: JSON in snake_case; ids are UUIDs; times RFC 3339 UTC; dates YYYY-MM-DD. Errors are RFC 9457 \
`application/problem+json` with a stable `code`; invalid fields give 422 with `errors: [{field, code, message}]`. \
Lists take `limit` (1-100, default 20) and an opaque `cursor`, and answer `{items, next_cursor}`. Versioned \
resources carry `version` and an `ETag`; send `If-Match` on writes to get 412 instead of overwriting a newer \
version. Sign in at `/api/v1/auth/login` and send `Authorization: Bearer <access_token>`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(
        health::healthz,
        health::readyz,
        crate::observe::metrics,
        sessions::routes::login,
        sessions::routes::refresh,
        sessions::routes::logout,
        sessions::routes::me,
        sessions::routes::change_password,
        enterprises::registration::register,
        crate::api_clients::developers::register_developer,
        users::routes::create_user,
        users::routes::list_users,
        users::routes::get_user,
        users::routes::update_user,
        reference::routes::list_regions,
        reference::routes::list_agencies,
        reference::routes::list_sectors,
        standards::routes::list_standards,
        standards::routes::get_standard,
        standards::routes::publish_own_standard,
        standards::routes::create_standard,
        standards::routes::update_standard,
        enterprises::routes::list_enterprises,
        enterprises::routes::get_enterprise,
        enterprises::routes::register_by_regulator,
        enterprises::routes::verify_enterprise,
        crate::supervision::routes::suspend_enterprise,
        crate::supervision::routes::reinstate_enterprise,
        crate::supervision::routes::deregister_enterprise,
        enterprises::routes::reject_registration,
        enterprises::routes::update_enterprise,
        enterprises::identity_routes::list_identity_changes,
        enterprises::identity_routes::approve_identity_change,
        enterprises::identity_routes::reject_identity_change,
        crate::supervision::routes::create_listing,
        crate::supervision::routes::list_listings,
        crate::supervision::routes::get_listing,
        crate::supervision::routes::remove_listing,
        crate::spot_checks::routes::create_campaign,
        crate::spot_checks::routes::list_campaigns,
        crate::spot_checks::routes::get_campaign,
        crate::spot_checks::routes::list_candidates,
        crate::spot_checks::routes::draw_campaign,
        crate::spot_checks::routes::record_result,
        crate::spot_checks::routes::close_campaign,
        crate::spot_checks::routes::declare_conflict,
        products::routes::list_products,
        products::routes::get_product,
        products::routes::get_product_by_gtin,
        products::routes::create_product,
        products::routes::update_product,
        products::standards_routes::list_declared,
        products::standards_routes::declare,
        products::standards_routes::undeclare,
        reference::kinds::list_kinds,
        reference::review::review,
        applications::routes::create_application,
        applications::routes::list_applications,
        applications::routes::get_application,
        applications::routes::amend_application,
        applications::routes::submit_application,
        applications::routes::withdraw_application,
        applications::routes::start_review,
        applications::routes::decide_application,
        applications::routes::grant_application,
        applications::routes::file_objection,
        applications::routes::resolve_objection,
        records::routes::list_bodies,
        records::routes::list_certifications,
        records::routes::get_certification,
        records::routes::suspend_certification,
        records::routes::reinstate_certification,
        records::routes::revoke_certification,
        records::routes::list_designations,
        records::routes::get_designation,
        records::routes::suspend_designation,
        records::routes::reinstate_designation,
        records::routes::revoke_designation,
        gis::routes::list_gis,
        gis::routes::get_gi,
        verify::routes::verify,
        verify::routes::verify_batch,
        crate::changes::routes::changes,
        crate::exports::routes::export_products,
        crate::exports::routes::export_enterprises,
        crate::exports::routes::export_certifications,
        crate::exports::routes::export_designations,
        crate::exports::routes::export_standards,
        crate::imports::routes::create_import,
        crate::imports::routes::get_import,
        crate::stats::routes::get_plan_progress,
        crate::stats::routes::get_summary,
        crate::api_clients::routes::create_client,
        crate::api_clients::routes::list_clients,
        crate::api_clients::routes::get_client,
        crate::api_clients::routes::update_client,
        crate::api_clients::routes::revoke_client,
        crate::webhooks::routes::create_webhook,
        crate::webhooks::routes::list_webhooks,
        crate::webhooks::routes::get_webhook,
        crate::webhooks::routes::delete_webhook,
        crate::webhooks::routes::rotate_secret,
        crate::webhooks::routes::replay_webhook,
        crate::webhooks::routes::resume_webhook,
        crate::webhooks::routes::list_deliveries,
        audit::routes::list_audit,
        audit::routes::verify_audit,
        audit::routes::list_checkpoints,
        audit::routes::jwks,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::webhooks::deliver::WebhookEvent)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, tokens, self-registration"),
        (name = "enterprises", description = "Registered enterprises"),
        (name = "products", description = "Products and the standards they execute"),
        (name = "standards", description = "The standards catalogue"),
        (name = "reference", description = "Regions, agencies, sectors"),
        (name = "applications", description = "Applications for certifications and designations, and their review"),
        (name = "certifications", description = "Certificates registered through approved applications"),
        (name = "designations", description = "Designations granted by the province or state"),
        (name = "geographical indications", description = "Geographical indications and who may use their mark"),
        (name = "credit", description = "The dishonesty list (失信名单): who may not apply, since when, and why"),
        (name = "spot checks", description = "双随机、一公开: spot-check campaigns whose draw anyone can recompute, and their published results"),
        (name = "verification", description = "Public verification of certificate and designation numbers"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "changes", description = "The public change feed, to stay in sync"),
        (name = "exports", description = "Public lists as downloads (CSV, XLSX, JSON Lines), streamed"),
        (name = "imports", description = "Bulk imports of products and historical designations from CSV or XLSX, run as jobs"),
        (name = "statistics", description = "The plan's progress and register-wide counts"),
        (name = "api clients", description = "API keys for third-party apps: any signed-in user registers its own; admins set quotas"),
        (name = "webhooks", description = "Signed POSTs of public changes to an app, called with its X-API-Key"),
        (name = "users", description = "Accounts (admin)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as served and as committed in `openapi/openapi.json`: the handlers'
/// annotations, completed with what every operation of a kind can answer (see [`complete`]).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    complete(&mut doc);
    doc
}

/// The spec as served and as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut s = serde_json::to_string_pretty(&document()).expect("JSON serialises");
    s.push('\n');
    s
}

/// Answers that do not depend on the handler, added where a handler's annotation leaves them
/// out, so the document lists every status an operation can give:
/// - every `/api/v1` operation: 401 (a bad bearer token or an unknown `X-API-Key` is refused
///   before any handler runs), 429 (rate limits) and 503 (the database is unavailable), and the
///   rate-limit headers on every answer;
/// - with a request body: 400 (not JSON, not `application/json`, or too large) and 422;
/// - with query parameters: 422;
/// - `GET` under `/api/v1`: 304 (the `If-None-Match` validators).
///
/// Public operations accept an optional `X-API-Key` (a higher quota); ids are `format: uuid`.
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{json, Map, Value};
    let problem = |description: &str, headers: Value| {
        json!({
            "description": description,
            "headers": headers,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let retry_after = json!({"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}});
    let components = doc["components"].as_object_mut().expect("components");
    components.insert(
        "responses".into(),
        json!({
            "MalformedRequest": problem("Malformed request: the body is not JSON, not sent as `application/json`, or larger than 256 KiB (`malformed_request`)", json!({})),
            "Unauthenticated": problem("Not signed in where that is needed (`unauthenticated`), a bearer token that is invalid, expired or from an ended session (`invalid_token`), or an unknown `X-API-Key` (`invalid_api_key`)", json!({})),
            "ValidationFailed": problem("Invalid input: `errors` names each field (`validation_failed`)", json!({})),
            "TooManyRequests": problem("A rate limit was reached (`too_many_requests`)", retry_after.clone()),
            "Unavailable": problem("The database is unavailable (`unavailable`)", retry_after),
            "NotModified": {"description": "Not modified: `If-None-Match` holds the current `ETag`"},
        }),
    );
    components["securitySchemes"]["api_key"] = json!({
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "A registered app's key: optional on public operations, where it raises the rate limit (see `/api/v1/api-clients`)"
    });
    let rate_headers = json!({
        "X-RateLimit-Limit": {"description": "Requests allowed per minute for this caller", "schema": {"type": "integer"}},
        "X-RateLimit-Remaining": {"description": "Requests left in the current minute", "schema": {"type": "integer"}},
        "X-Request-Id": {"description": "This request's id, as in the logs", "schema": {"type": "string"}},
    });
    let ref_to = |name: &str| json!({"$ref": format!("#/components/responses/{name}")});
    let is_uuid_name = |name: &str| {
        (name == "id" || name.ends_with("_id"))
            && !matches!(name, "request_id" | "entity_id" | "key_id")
    };
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        let api = path.starts_with("/api/v1");
        for (method, op) in item.as_object_mut().expect("path item").iter_mut() {
            let has_body = op.get("requestBody").is_some();
            // `get_mut`, not indexing: indexing a missing key would insert a null.
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let parameters = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in parameters.into_iter().flatten() {
                if p["name"].as_str().is_some_and(is_uuid_name) && p["schema"]["type"] == "string" {
                    p["schema"]["format"] = json!("uuid");
                }
            }
            let responses: &mut Map<String, Value> =
                op["responses"].as_object_mut().expect("responses");
            let mut add = |status: &str, name: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| ref_to(name));
            };
            if has_body {
                add("400", "MalformedRequest");
                add("422", "ValidationFailed");
            }
            if has_query {
                add("422", "ValidationFailed");
            }
            if api {
                add("401", "Unauthenticated");
                add("429", "TooManyRequests");
                add("503", "Unavailable");
                if method == "get" {
                    add("304", "NotModified");
                }
                for response in responses.values_mut() {
                    if response.get("$ref").is_none() {
                        let headers = response
                            .as_object_mut()
                            .expect("response")
                            .entry("headers")
                            .or_insert_with(|| json!({}));
                        for (k, v) in rate_headers.as_object().expect("headers") {
                            headers
                                .as_object_mut()
                                .expect("headers")
                                .entry(k.clone())
                                .or_insert(v.clone());
                        }
                    }
                }
                let security = op
                    .as_object_mut()
                    .expect("operation")
                    .entry("security")
                    .or_insert_with(|| json!([{}]));
                let list = security.as_array_mut().expect("security list");
                if list
                    .iter()
                    .any(|r| r.as_object().is_some_and(Map::is_empty))
                {
                    list.push(json!({"api_key": []}));
                }
            }
        }
    }
    for schema in components_schemas(doc) {
        let properties = schema.get_mut("properties").and_then(|p| p.as_object_mut());
        for (name, prop) in properties.into_iter().flatten() {
            let is_string = prop["type"] == "string"
                || prop["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("string")));
            if is_uuid_name(name) && is_string && prop.get("format").is_none() {
                prop["format"] = json!("uuid");
            }
        }
    }
}

fn components_schemas(doc: &mut serde_json::Value) -> impl Iterator<Item = &mut serde_json::Value> {
    doc.get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(|s| s.as_object_mut())
        .into_iter()
        .flat_map(|m| m.values_mut())
}
