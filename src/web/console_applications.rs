//! The console's applications: an enterprise applies for a certification (a form per kind) and
//! follows it; a regulator of the deciding agency reviews and decides with a reason. Every step
//! is the workflow's own (`applications::workflow`), offered only when the table and the policy
//! allow it (`workflow::offered`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::console::{field_error, form_token, posted, private, refusal, see_other, signed_in};
use super::i18n::Tr;
use super::Reader;
use crate::applications::machine::Step;
use crate::applications::views::{self, ApplicationDetail};
use crate::applications::workflow::{self, Ctx, NewApplication};
use crate::audit::AuditCtx;
use crate::auth::{Actor, Caller};
use crate::db::write_tx;
use crate::domain::{ApplicationKind, ApplicationState, KindCategory, Role};
use crate::enterprises::repo::EnterpriseRow;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::pagination::PageRequest;
use crate::products::repo::ProductRow;
use crate::products::standards_routes::{declared, DeclaredStandard};
use crate::state::AppState;

/// The kinds an enterprise applies for through this form: every certification and designation
/// kind still accepting applications (a `record_change` is asked for from the product).
pub(super) fn offered_kinds(conn: &mut crate::db::DbConn) -> ApiResult<Vec<ApplicationKind>> {
    Ok(crate::reference::kinds::list(conn)?
        .into_iter()
        .filter(|k| k.accepting_applications && k.category != KindCategory::Change)
        .map(|k| k.code)
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct ApplyForm {
    csrf: Option<String>,
    kind: Option<String>,
    product_id: Option<String>,
    certificate_number: Option<String>,
    certification_body_id: Option<String>,
    issued_on: Option<String>,
    expires_on: Option<String>,
    scope: Option<String>,
    /// Designations: why the product merits it.
    summary: Option<String>,
    /// `gi_product`: the geographical indication whose mark it asks to use.
    geographical_indication_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/console/apply.html")]
struct ApplyPage {
    t: Tr,
    csrf: String,
    kind: ApplicationKind,
    /// A certification (number, body, dates, scope) rather than a designation (a summary).
    certification: bool,
    form: ApplyForm,
    products: Choices,
    bodies: Choices,
    gis: Choices,
    errors: Vec<FieldError>,
}

impl ApplyPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// Errors not shown at a field of this form.
    fn other_errors(&self) -> Vec<&FieldError> {
        const SHOWN: [&str; 8] = [
            "product_id",
            "certificate_number",
            "certification_body_id",
            "issued_on",
            "expires_on",
            "scope",
            "summary",
            "geographical_indication_id",
        ];
        self.errors
            .iter()
            .filter(|e| {
                !SHOWN
                    .iter()
                    .any(|f| field_error(std::slice::from_ref(*e), f).is_some())
            })
            .collect()
    }
}

#[derive(Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
}

/// The kind asked for, if the form offers it, and whether it is a certification.
fn form_kind(
    conn: &mut crate::db::DbConn,
    raw: Option<&str>,
) -> ApiResult<(ApplicationKind, bool)> {
    let offered = offered_kinds(conn)?;
    let kind = raw
        .and_then(|k| ApplicationKind::parse(k).ok())
        .filter(|k| offered.contains(k))
        .ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|k| k.as_str()).collect();
            ApiError::field("kind", "invalid_value", names.join(", "))
        })?;
    let certification = crate::reference::kinds::find(conn, kind)?
        .is_some_and(|k| k.category == KindCategory::Certification);
    Ok((kind, certification))
}

/// What the form shows for a kind: the lists to choose from.
struct FormLists {
    kind: ApplicationKind,
    certification: bool,
    products: Choices,
    bodies: Choices,
    gis: Choices,
}

fn form_lists(
    conn: &mut crate::db::DbConn,
    actor: &Actor,
    raw_kind: Option<&str>,
) -> ApiResult<FormLists> {
    let (kind, certification) = form_kind(conn, raw_kind)?;
    let (products, bodies) = choices(conn, actor, kind)?;
    let gis = if kind == ApplicationKind::GiProduct {
        crate::gis::repo::list(
            conn,
            None,
            &PageRequest {
                limit: 99,
                after: None,
            },
        )?
        .into_iter()
        .map(|g| (g.id, format!("{} ({})", g.name_zh, g.name_en)))
        .collect()
    } else {
        Vec::new()
    };
    Ok(FormLists {
        kind,
        certification,
        products,
        bodies,
        gis,
    })
}

impl ApplyPage {
    fn build(reader: &Reader, session: &str, lists: FormLists, form: ApplyForm) -> Self {
        ApplyPage {
            t: reader.t,
            csrf: form_token(session),
            kind: lists.kind,
            certification: lists.certification,
            form,
            products: lists.products,
            bodies: lists.bodies,
            gis: lists.gis,
            errors: Vec::new(),
        }
    }
}

/// A list to choose from: (id, name).
type Choices = Vec<(String, String)>;

/// The caller's products and the certification bodies of the kind, for the form's lists.
fn choices(
    conn: &mut crate::db::DbConn,
    actor: &Actor,
    kind: ApplicationKind,
) -> ApiResult<(Choices, Choices)> {
    let page = PageRequest {
        limit: 99,
        after: None,
    };
    let own = actor.enterprise_id.clone().ok_or(ApiError::Forbidden)?;
    let products = crate::products::repo::list(
        conn,
        &crate::auth::policy::visibility(Some(actor)),
        &crate::products::repo::ProductFilter {
            enterprise_id: Some(own),
            ..Default::default()
        },
        &page,
    )?
    .into_iter()
    .map(|p| (p.id, p.name))
    .collect();
    let bodies = crate::records::bodies::list_bodies(conn, Some(kind), &page)?
        .into_iter()
        .map(|b| (b.id, format!("{} ({})", b.name_zh, b.name_en)))
        .collect();
    Ok((products, bodies))
}

#[get("/console/applications/new")]
pub async fn apply_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    q: web::Query<KindQuery>,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    if actor.role != Role::Enterprise {
        return reader.failure(ApiError::Forbidden);
    }
    let kind = q.into_inner().kind;
    match state
        .db(move |conn| form_lists(conn, &actor, kind.as_deref()))
        .await
    {
        Ok(lists) => private(reader.page(
            StatusCode::OK,
            &ApplyPage::build(&reader, &session, lists, ApplyForm::default()),
        )),
        Err(e) => reader.failure(e),
    }
}

/// Drafts and submits the application in one go, through the workflow; the kind's rules answer
/// at their fields.
#[post("/console/applications/new")]
pub async fn apply(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<ApplyForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let raw_kind = form.kind.clone();
    let who = actor.clone();
    let lists = match state
        .db(move |conn| form_lists(conn, &who, raw_kind.as_deref()))
        .await
    {
        Ok(lists) => lists,
        Err(e) => return reader.failure(e),
    };
    let kind = lists.kind;
    let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let details = if lists.certification {
        serde_json::json!({
            "certificate_number": text(&form.certificate_number),
            "certification_body_id": text(&form.certification_body_id),
            "issued_on": text(&form.issued_on),
            "expires_on": text(&form.expires_on),
            "scope": text(&form.scope),
        })
    } else {
        serde_json::json!({ "summary": text(&form.summary) })
    };
    let new = NewApplication {
        kind,
        enterprise_id: actor.enterprise_id.clone().unwrap_or_default(),
        product_id: text(&form.product_id),
        geographical_indication_id: text(&form.geographical_indication_id),
        details,
        documents: Vec::new(),
        renews: None,
    };
    let audit = AuditCtx::of(&caller);
    let notice = state.settings.public_notice_days;
    let who = actor.clone();
    let created = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&who),
                    audit: &audit,
                    notice_days_override: notice,
                };
                let draft = workflow::create(conn, &ctx, new)?;
                workflow::step(conn, &ctx, &draft.id, Step::Submit, None)
            })
        })
        .await;
    let errors = match created {
        Ok(row) => return see_other(&format!("/console/applications/{}", row.id)),
        Err(ApiError::Validation(fields)) => fields,
        Err(ApiError::Conflict { code, detail, .. } | ApiError::Refused { code, detail, .. }) => {
            vec![FieldError::new("application", code, detail)]
        }
        Err(e) => return reader.failure(e),
    };
    let mut page = ApplyPage::build(&reader, &session, lists, form);
    page.errors = errors;
    private(reader.page(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(askama::Template)]
#[template(path = "web/console/application.html")]
struct ApplicationPage {
    t: Tr,
    csrf: String,
    d: ApplicationDetail,
    /// The applicant, the product and the standards it declares: what the reviewer checks.
    enterprise: Option<EnterpriseRow>,
    product: Option<ProductRow>,
    standards: Vec<DeclaredStandard>,
    /// The applicant may answer a request for changes: amend the details and resubmit.
    amendable: bool,
    /// The steps offered: (form value, message key, whether a reason is required).
    steps: Vec<(&'static str, &'static str, bool)>,
    details: Vec<(String, String)>,
    error: Option<String>,
}

impl ApplicationPage {
    /// The label of a field of the application's details, where the console has one.
    fn detail_label(&self, key: &str) -> Option<&'static str> {
        Some(match key {
            "certificate_number" => "console.certificate_number",
            "certification_body_id" => "console.certification_body",
            "issued_on" => "console.issued_on",
            "expires_on" => "verify.valid_until",
            "scope" => "verify.scope",
            "summary" => "console.summary",
            _ => return None,
        })
    }
}

fn offered_steps(steps: &[Step]) -> Vec<(&'static str, &'static str, bool)> {
    steps
        .iter()
        .map(|s| {
            let needs_reason = matches!(s, Step::Reject | Step::RequestChanges);
            let key = match s {
                Step::Submit => "console.step_submit",
                Step::Withdraw => "console.step_withdraw",
                Step::StartReview => "console.step_start_review",
                Step::Approve => "console.step_approve",
                Step::Reject => "console.step_reject",
                Step::RequestChanges => "console.step_request_changes",
                _ => "console.step_grant",
            };
            (s.name(), key, needs_reason)
        })
        .collect()
}

/// What a reviewer (or the applicant) sees of an application.
struct Review {
    d: ApplicationDetail,
    steps: Vec<Step>,
    enterprise: Option<EnterpriseRow>,
    product: Option<ProductRow>,
    standards: Vec<DeclaredStandard>,
}

fn review(conn: &mut crate::db::DbConn, actor: &Actor, id: &str) -> ApiResult<Review> {
    let row = views::load_visible(conn, Some(actor), id)?;
    let steps = workflow::offered(conn, actor, &row)?;
    let enterprise = crate::enterprises::repo::find(conn, &row.enterprise_id)?;
    let (product, standards) = match row.product_id.as_deref() {
        Some(p) => match declared(conn, Some(actor), p) {
            Ok(standards) => (crate::products::repo::find(conn, p)?, standards),
            // A product the reader may not see is not shown (the application says its id).
            Err(ApiError::NotFound | ApiError::Forbidden) => (None, Vec::new()),
            Err(e) => return Err(e),
        },
        None => (None, Vec::new()),
    };
    Ok(Review {
        d: views::detail(conn, Some(actor), &row)?,
        steps,
        enterprise,
        product,
        standards,
    })
}

async fn application_page(
    state: &AppState,
    reader: &Reader,
    actor: Actor,
    session: &str,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let loaded = state.db(move |conn| review(conn, &actor, &id)).await;
    match loaded {
        Ok(Review {
            d,
            steps,
            enterprise,
            product,
            standards,
        }) => {
            let details = d
                .application
                .details
                .as_ref()
                .and_then(|v| v.as_object())
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let shown = v.as_str().map(str::to_owned).unwrap_or(v.to_string());
                            (k.clone(), shown)
                        })
                        .collect()
                })
                .unwrap_or_default();
            private(reader.page(
                status,
                &ApplicationPage {
                    t: reader.t,
                    csrf: form_token(session),
                    amendable: d.application.state == ApplicationState::ChangesRequested
                        && steps.contains(&Step::Submit),
                    d,
                    steps: offered_steps(&steps),
                    details,
                    error,
                    enterprise,
                    product,
                    standards,
                },
            ))
        }
        Err(e) => reader.failure(e),
    }
}

/// An application with its timeline, and the steps the reader may take now.
#[get("/console/applications/{id}")]
pub async fn application(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    application_page(
        &state,
        &reader,
        actor,
        &session,
        id.into_inner(),
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: Option<String>,
    step: Option<String>,
    reason: Option<String>,
}

/// Takes one step through the workflow (which checks the table and the policy again).
#[post("/console/applications/{id}/step")]
pub async fn take_step(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<StepForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let id = id.into_inner();
    let step = Step::BY_HAND
        .into_iter()
        .find(|s| Some(s.name()) == form.step.as_deref());
    let Some(step) = step else {
        return reader.failure(ApiError::field(
            "step",
            "invalid_value",
            "not a step of the workflow",
        ));
    };
    let reason = form.reason.filter(|r| !r.trim().is_empty());
    let audit = AuditCtx::of(&caller);
    let notice = state.settings.public_notice_days;
    let (who, app) = (actor.clone(), id.clone());
    let taken = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = Ctx {
                    actor: Some(&who),
                    audit: &audit,
                    notice_days_override: notice,
                };
                workflow::step(conn, &ctx, &app, step, reason.as_deref())
            })
        })
        .await;
    answer(&state, &reader, actor, &session, id, taken).await
}

/// After a step or an amendment: back to the application, or the page again with what went wrong.
async fn answer(
    state: &AppState,
    reader: &Reader,
    actor: Actor,
    session: &str,
    id: String,
    done: ApiResult<crate::applications::repo::ApplicationRow>,
) -> HttpResponse {
    match done {
        Ok(_) => see_other(&format!("/console/applications/{id}")),
        Err(e) => match refusal(e) {
            Ok((message, status)) => {
                application_page(state, reader, actor, session, id, status, Some(message)).await
            }
            Err(e) => reader.failure(e),
        },
    }
}

/// The details as stored, with each field the applicant retyped (`d.<field>`): text stays text,
/// anything else is read back as JSON, and an emptied field is cleared.
fn amended_details(stored: &str, form: &HashMap<String, String>) -> serde_json::Value {
    use serde_json::Value;
    let mut details = match serde_json::from_str::<Value>(stored) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for (key, value) in details.iter_mut() {
        let Some(typed) = form.get(&format!("d.{key}")).map(|v| v.trim()) else {
            continue;
        };
        *value = if typed.is_empty() {
            Value::Null
        } else if value.is_string() || value.is_null() {
            Value::String(typed.to_owned())
        } else {
            serde_json::from_str(typed).unwrap_or_else(|_| Value::String(typed.to_owned()))
        };
    }
    Value::Object(details)
}

/// Answers a request for changes: the details as amended, and the application submitted again,
/// in one transaction through the workflow.
#[post("/console/applications/{id}/amend")]
pub async fn amend(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(
        &req,
        &caller,
        &reader,
        form.get("csrf").map(String::as_str)
    ));
    let id = id.into_inner();
    let audit = AuditCtx::of(&caller);
    let notice = state.settings.public_notice_days;
    let (who, app) = (actor.clone(), id.clone());
    let done = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = views::load_visible(conn, Some(&who), &app)?;
                let ctx = Ctx {
                    actor: Some(&who),
                    audit: &audit,
                    notice_days_override: notice,
                };
                let details = amended_details(&row.details, &form);
                workflow::amend(
                    conn,
                    &ctx,
                    &app,
                    Some(row.version),
                    Some(details),
                    None,
                    None,
                )?;
                workflow::step(conn, &ctx, &app, Step::Submit, None)
            })
        })
        .await;
    answer(&state, &reader, actor, &session, id, done).await
}
