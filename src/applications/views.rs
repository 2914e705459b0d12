//! How applications appear in answers: private parts only for the applicant and regulators.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::repo::{self, ApplicationRow, DocumentRef, EventRow, ObjectionRow};
use crate::auth::{policy, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::{Agency, ApplicationKind, ApplicationState, ObjectionStatus};
use crate::error::{ApiError, ApiResult};

/// An application as the API shows it. `details` and `documents` are private to the applicant
/// and regulators; the public sees applications in public notice without them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    #[schema(example = "green_food")]
    pub kind: ApplicationKind,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    #[schema(example = "under_review")]
    pub state: ApplicationState,
    /// The agency whose regulators decide it.
    #[schema(example = "agriculture")]
    pub agency_code: Agency,
    pub assigned_regulator_id: Option<String>,
    pub decision_reason: Option<String>,
    /// End of the public notice (designations).
    pub notice_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The certificate registered or the designation granted.
    pub record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<DocumentRef>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub from_state: Option<ApplicationState>,
    pub to_state: ApplicationState,
    pub actor: String,
    pub reason: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: String,
    /// Who objected: shown only to the deciding agency (the applicant sees the text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone or e-mail: the deciding agency only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    pub text: String,
    pub status: ObjectionStatus,
    pub resolution_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub history: Vec<EventView>,
    pub objections: Vec<ObjectionView>,
    /// The applicant's dishonesty listing in force today, if any: such an application can be
    /// neither submitted nor approved.
    pub dishonesty_listing: Option<crate::enterprises::credit::ListingView>,
    /// A renewal: the record it renews.
    pub renews: Option<String>,
}

crate::page_type!(ApplicationPage, ApplicationView);

/// Whether the caller sees the applicant's private parts (details, documents, contacts).
pub fn private(actor: Option<&Actor>, row: &ApplicationRow) -> bool {
    policy::allows(
        actor,
        Action::ReadPrivate,
        Target::owned_by(&row.enterprise_id, None),
    )
}

pub fn view(row: &ApplicationRow, private: bool) -> ApplicationView {
    ApplicationView {
        id: row.id.clone(),
        kind: row.kind,
        enterprise_id: row.enterprise_id.clone(),
        product_id: row.product_id.clone(),
        geographical_indication_id: row.geographical_indication_id.clone(),
        state: row.state,
        agency_code: row.agency_code,
        assigned_regulator_id: if private {
            row.assigned_regulator_id.clone()
        } else {
            None
        },
        decision_reason: row.decision_reason.clone(),
        notice_ends_at: row.notice_ends_at.map(crate::clock::to_utc),
        submitted_at: row.submitted_at.map(crate::clock::to_utc),
        decided_at: row.decided_at.map(crate::clock::to_utc),
        record_id: row.record_id.clone(),
        details: private.then(|| serde_json::from_str(&row.details).unwrap_or(Value::Null)),
        documents: private.then(|| serde_json::from_str(&row.documents).unwrap_or_default()),
        created_at: crate::clock::to_utc(row.created_at),
        updated_at: crate::clock::to_utc(row.updated_at),
        version: row.version,
    }
}

pub fn detail(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    row: &ApplicationRow,
) -> ApiResult<ApplicationDetail> {
    let private = private(actor, row);
    // Objectors are protected: only the agency that decides sees who they are.
    let decider = policy::allows(actor, Action::Decide, super::workflow::target(row));
    let history = repo::events(conn, &row.id)?
        .iter()
        .map(|e: &EventRow| EventView {
            from_state: e.from_state,
            to_state: e.to_state,
            actor: e.actor_label.clone(),
            reason: e.reason.clone(),
            at: crate::clock::to_utc(e.at),
        })
        .collect();
    let objections = repo::objections_of(conn, &row.id)?
        .iter()
        .map(|o: &ObjectionRow| ObjectionView {
            id: o.id.clone(),
            name: decider.then(|| o.name.clone()),
            contact: decider.then(|| o.contact.clone()),
            text: o.text.clone(),
            status: o.status,
            resolution_reason: o.resolution_reason.clone(),
            created_at: crate::clock::to_utc(o.created_at),
        })
        .collect();
    let listing = crate::enterprises::credit::in_force_for(conn, &row.enterprise_id)?;
    let dishonesty_listing = match listing {
        Some(l) => crate::enterprises::credit::views(conn, &[l])?.pop(),
        None => None,
    };
    Ok(ApplicationDetail {
        application: view(row, private),
        history,
        objections,
        dishonesty_listing,
        renews: super::renewal::renews_of(conn, &row.id)?,
    })
}

/// An application the caller may see (404 otherwise).
pub fn load_visible(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    id: &str,
) -> ApiResult<ApplicationRow> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::auth::check(actor, Action::Read, super::workflow::target(&row))?;
    Ok(row)
}
