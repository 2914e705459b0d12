//! The console's records: a regulator finds a certificate or designation by its number, sees
//! what the public sees of it, and suspends, reinstates or revokes it with a reason — the
//! actions the policy and the record's status allow (`records::offered`), taken through
//! `records::act` like the API's.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::console::{form_token, posted, private, refusal, see_other, signed_in};
use super::i18n::Tr;
use super::public::{found, Found};
use super::{path_segment, shown_time, Reader};
use crate::audit::AuditCtx;
use crate::auth::Actor;
use crate::auth::Caller;
use crate::db::{write_tx, DbConn};
use crate::domain::{ApplicationKind, RecordNumber};
use crate::error::{ApiError, ApiResult};
use crate::records::certificates::CertRow;
use crate::records::designations::DesignationRow;
use crate::records::{self, Record, RecordAction};
use crate::state::AppState;

#[derive(askama::Template)]
#[template(path = "web/console/record.html")]
struct RecordPage {
    t: Tr,
    csrf: String,
    id: String,
    number: String,
    number_path: String,
    v: Found,
    checked_at: String,
    checked_at_iso: String,
    actions: Vec<RecordAction>,
    error: Option<String>,
}

impl RecordPage {
    fn action_key(&self, a: &RecordAction) -> &'static str {
        match a {
            RecordAction::Suspend => "console.record_suspend",
            RecordAction::Reinstate => "console.record_reinstate",
            RecordAction::Revoke => "console.record_revoke",
        }
    }
}

/// What the page shows of one record for `actor` (404 when they may not see it).
fn load<R: Record>(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> ApiResult<Option<(Found, String, Vec<RecordAction>)>> {
    let Some(row) = R::find(conn, id)? else {
        return Ok(None);
    };
    // The policy's read check, as the API's `GET /certifications/{id}` makes it.
    records::get::<R>(conn, Some(actor), id)?;
    let v = crate::verify::verify_number(conn, row.number(), Some(row.kind()), None)?;
    let history = records::history::history(conn, R::TYPE, row.id())?;
    let actions = records::offered(conn, actor, &row)?;
    Ok(Some((found(v, history), row.number().to_owned(), actions)))
}

/// A record by id, whichever kind of record it is.
fn load_any(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> ApiResult<(Found, String, Vec<RecordAction>)> {
    if let Some(found) = load::<CertRow>(conn, actor, id)? {
        return Ok(found);
    }
    load::<DesignationRow>(conn, actor, id)?.ok_or(ApiError::NotFound)
}

async fn record_page(
    state: &AppState,
    reader: &Reader,
    actor: Actor,
    session: &str,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let key = id.clone();
    match state.db(move |conn| load_any(conn, &actor, &key)).await {
        Ok((v, number, actions)) => {
            let (checked_at, checked_at_iso) = shown_time(chrono::Utc::now());
            private(reader.page(
                status,
                &RecordPage {
                    t: reader.t,
                    csrf: form_token(session),
                    id,
                    number_path: path_segment(&number),
                    number,
                    v,
                    checked_at,
                    checked_at_iso,
                    actions,
                    error,
                },
            ))
        }
        Err(e) => reader.failure(e),
    }
}

#[derive(Deserialize)]
pub struct FindQuery {
    number: Option<String>,
    kind: Option<String>,
}

/// Finds a record by its number and opens its page.
#[get("/console/records")]
pub async fn find_record(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    q: web::Query<FindQuery>,
) -> HttpResponse {
    if let Err(res) = signed_in(&req, &caller) {
        return *res;
    }
    let number = match RecordNumber::parse(q.number.as_deref().unwrap_or("")) {
        Ok(n) => n.to_string(),
        Err(_) => {
            return reader.failure(ApiError::field(
                "number",
                "invalid_value",
                "not a record number",
            ))
        }
    };
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| ApplicationKind::parse(k).ok());
    match state
        .db(move |conn| crate::verify::verify_number(conn, &number, kind, None))
        .await
    {
        Ok(v) => see_other(&format!("/console/records/{}", path_segment(&v.record_id))),
        Err(e) => reader.failure(e),
    }
}

/// A record as the public sees it, with the actions the reader may take on it.
#[get("/console/records/{id}")]
pub async fn record(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    record_page(
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
pub struct ActForm {
    csrf: Option<String>,
    action: Option<String>,
    reason: Option<String>,
}

fn act_any(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    action: RecordAction,
    reason: &str,
) -> ApiResult<()> {
    write_tx(conn, |conn| {
        if CertRow::find(conn, id)?.is_some() {
            records::act::<CertRow>(conn, actor, ctx, id, action, reason).map(drop)
        } else {
            records::act::<DesignationRow>(conn, actor, ctx, id, action, reason).map(drop)
        }
    })
}

/// Suspends, reinstates or revokes the record with a reason.
#[post("/console/records/{id}/act")]
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<ActForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let id = id.into_inner();
    let Some(action) = RecordAction::ALL
        .into_iter()
        .find(|a| Some(a.as_str()) == form.action.as_deref())
    else {
        return reader.failure(ApiError::field(
            "action",
            "invalid_value",
            "suspend, reinstate or revoke",
        ));
    };
    let mut errors = crate::error::Errors::new();
    let reason = crate::domain::text(
        &mut errors,
        "reason",
        form.reason.as_deref().unwrap_or(""),
        1000,
    );
    let ctx = AuditCtx::of(&caller);
    let (who, key) = (actor.clone(), id.clone());
    let done = match errors.finish() {
        Ok(()) => {
            let reason = reason.unwrap_or_default();
            state
                .db(move |conn| act_any(conn, &who, &ctx, &key, action, &reason))
                .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => see_other(&format!("/console/records/{}", path_segment(&id))),
        Err(e) => {
            // The one field of this form is the reason.
            let reason_missing = matches!(e, ApiError::Validation(_));
            match refusal(e) {
                Ok((said, status)) => {
                    let message = if reason_missing {
                        reader.t.get("console.reason_required").to_owned()
                    } else {
                        said
                    };
                    record_page(&state, &reader, actor, &session, id, status, Some(message)).await
                }
                Err(e) => reader.failure(e),
            }
        }
    }
}
