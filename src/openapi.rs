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
        users::routes::create_user,
        users::routes::list_users,
        users::routes::get_user,
        users::routes::update_user,
        reference::routes::list_regions,
        reference::routes::list_agencies,
        reference::routes::list_sectors,
        standards::routes::list_standards,
        standards::routes::get_standard,
        standards::routes::create_standard,
        standards::routes::update_standard,
        enterprises::routes::list_enterprises,
        enterprises::routes::get_enterprise,
        enterprises::routes::register_by_regulator,
        enterprises::routes::verify_enterprise,
        enterprises::routes::reject_registration,
        enterprises::routes::update_enterprise,
        enterprises::identity_routes::list_identity_changes,
        enterprises::identity_routes::approve_identity_change,
        enterprises::identity_routes::reject_identity_change,
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
        crate::stats::routes::get_plan_progress,
        crate::stats::routes::get_summary,
        crate::api_clients::routes::create_client,
        crate::api_clients::routes::list_clients,
        crate::api_clients::routes::revoke_client,
        audit::routes::list_audit,
        audit::routes::verify_audit,
        audit::routes::list_checkpoints,
        audit::routes::jwks,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
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
        (name = "verification", description = "Public verification of certificate and designation numbers"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "changes", description = "The public change feed, to stay in sync"),
        (name = "statistics", description = "The plan's progress and register-wide counts"),
        (name = "api clients", description = "API keys for registered third-party apps (admin)"),
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

/// The spec as served and as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
