//! Certificates and designations: the records an approved application creates. They share one
//! path for reading (get, list, status history) and for the regulator's actions (suspend,
//! reinstate, revoke); each kind of record brings its table through [`Record`].

pub mod bodies;
pub mod certificates;
pub mod certified;
pub mod designations;
pub mod expiry;
pub mod history;
pub mod renewals;
pub mod routes;

pub use history::{effective_status, log_status, status_on, StatusChange, StatusChangeRow};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditCtx;
use crate::auth::policy::{self, Action, Actor, Target, Visibility};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::pagination::PageRequest;

/// What the shared path needs of a kind of record.
pub trait Record: Sized + Send + 'static {
    const TYPE: RecordType;
    /// The stored status while in force: `valid` (certificates) or `active` (designations).
    const LIVE: RecordStatus;
    type Filter: Send + 'static;
    /// One record as the API shows it (names resolved, status as of today).
    type View: Serialize + Send + 'static;
    /// A view with its status history.
    type Detail: Serialize + Send + 'static;

    fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>>;
    fn list(
        conn: &mut DbConn,
        vis: &Visibility,
        filter: &Self::Filter,
        page: &PageRequest,
    ) -> QueryResult<Vec<Self>>;
    fn views(conn: &mut DbConn, rows: &[Self]) -> QueryResult<Vec<Self::View>>;
    fn detail(view: Self::View, history: Vec<StatusChange>) -> Self::Detail;
    fn detail_version(detail: &Self::Detail) -> i32;
    /// Writes `status` only if the row is still at `version`: 0 rows means someone else won.
    fn set_status_guarded(
        conn: &mut DbConn,
        id: &str,
        version: i32,
        status: RecordStatus,
    ) -> QueryResult<usize>;

    fn id(&self) -> &str;
    /// The number printed on the record (what `/verify/{number}` looks up).
    fn number(&self) -> &str;
    fn kind(&self) -> ApplicationKind;
    fn enterprise_id(&self) -> &str;
    fn status(&self) -> RecordStatus;
    fn valid_until(&self) -> Option<NaiveDate>;
    fn version(&self) -> i32;
}

/// The policy's view of a record: owned by its enterprise (public while that is active), acted
/// on by the agency that decides its kind.
fn target_facts<R: Record>(
    conn: &mut DbConn,
    row: &R,
) -> QueryResult<(
    Option<crate::domain::EnterpriseStatus>,
    Option<crate::domain::Agency>,
)> {
    Ok((
        crate::enterprises::repo::status(conn, row.enterprise_id())?,
        crate::reference::kinds::deciding_agency(conn, row.kind())?,
    ))
}

fn detail_of<R: Record>(conn: &mut DbConn, row: R) -> ApiResult<R::Detail> {
    let history = history::history(conn, R::TYPE, row.id())?
        .iter()
        .map(StatusChange::from)
        .collect();
    let view = R::views(conn, std::slice::from_ref(&row))?.remove(0);
    Ok(R::detail(view, history))
}

/// The ids of a product's live records (valid, active or suspended, not expired): while there
/// are any, what they certify about the product cannot be edited directly.
pub fn live_for_product(conn: &mut DbConn, product_id: &str) -> QueryResult<Vec<String>> {
    let today = crate::clock::today();
    let mut ids = certificates::live_of_kind(conn, product_id, None, today)?;
    ids.extend(designations::live_of_kind(conn, product_id, None, today)?);
    Ok(ids)
}

/// What else a change to a record changes: its product's profile, and the answer for its
/// number (a new record can make a number ambiguous).
#[derive(Debug)]
pub struct Touched {
    pub record_type: &'static str,
    pub id: String,
    pub product_id: Option<String>,
    pub number: String,
}

/// [`Touched`] for the records among `entities` (`(entity type, id)` pairs, as the publication
/// log names them).
pub fn touched_by(conn: &mut DbConn, entities: &[(&str, &str)]) -> QueryResult<Vec<Touched>> {
    use crate::db::schema::{certifications as c, designations as d};
    let ids = |kind: &str| -> Vec<String> {
        entities
            .iter()
            .filter(|(t, _)| *t == kind)
            .map(|(_, id)| (*id).to_owned())
            .collect()
    };
    let (certs, designations) = (ids("certification"), ids("designation"));
    let mut out = Vec::new();
    if !certs.is_empty() {
        let rows: Vec<(String, String, String)> = c::table
            .filter(c::id.eq_any(&certs))
            .select((c::id, c::product_id, c::certificate_number))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, product, number)| Touched {
            record_type: "certification",
            id,
            product_id: Some(product),
            number,
        }));
    }
    if !designations.is_empty() {
        let rows: Vec<(String, Option<String>, String)> = d::table
            .filter(d::id.eq_any(&designations))
            .select((d::id, d::product_id, d::number))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, product_id, number)| Touched {
            record_type: "designation",
            id,
            product_id,
            number,
        }));
    }
    Ok(out)
}

/// A product's live record, with what it certifies.
#[derive(Debug, Clone)]
pub struct LiveRecord {
    pub record_type: RecordType,
    pub id: String,
    pub kind: ApplicationKind,
    pub status: RecordStatus,
    pub certified: certified::Certified,
    pub geographical_indication_id: Option<String>,
}

/// A product's live records (valid, active or suspended, not expired), certificates first.
pub fn live_records(conn: &mut DbConn, product_id: &str) -> QueryResult<Vec<LiveRecord>> {
    let today = crate::clock::today();
    let mut out = Vec::new();
    for id in certificates::live_of_kind(conn, product_id, None, today)? {
        if let Some(c) = certificates::find(conn, &id)? {
            out.push(LiveRecord {
                record_type: RecordType::Certification,
                certified: certified::Certified::parse(&c.certified),
                id: c.id,
                kind: c.kind,
                status: c.status,
                geographical_indication_id: None,
            });
        }
    }
    for id in designations::live_of_kind(conn, product_id, None, today)? {
        if let Some(d) = designations::find(conn, &id)? {
            out.push(LiveRecord {
                record_type: RecordType::Designation,
                certified: certified::Certified::parse(&d.certified),
                id: d.id,
                kind: d.kind,
                status: d.status,
                geographical_indication_id: d.geographical_indication_id,
            });
        }
    }
    Ok(out)
}

/// Replaces what a live record certifies (an approved `record_change`), with an entry in its
/// status history and the audit trail. Call inside `write_tx`.
pub fn amend_certified(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    record: &LiveRecord,
    now_certified: &certified::Certified,
    reason: &str,
) -> QueryResult<()> {
    use crate::db::schema::{certifications, designations as designations_table};
    let json = now_certified.to_json();
    match record.record_type {
        RecordType::Certification => diesel::update(certifications::table.find(&record.id))
            .set(certifications::certified.eq(&json))
            .execute(conn)?,
        RecordType::Designation => diesel::update(designations_table::table.find(&record.id))
            .set(designations_table::certified.eq(&json))
            .execute(conn)?,
    };
    log_status(
        conn,
        ctx,
        record.record_type,
        &record.id,
        Some(record.status),
        record.status,
        Some(reason),
        crate::clock::now(),
    )
}

/// One record with its history, if the caller may see it (404 otherwise).
pub fn get<R: Record>(conn: &mut DbConn, actor: Option<&Actor>, id: &str) -> ApiResult<R::Detail> {
    let row = R::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let (status, _) = target_facts(conn, &row)?;
    policy::check(
        actor,
        Action::Read,
        Target::owned_by(row.enterprise_id(), status),
    )?;
    detail_of(conn, row)
}

/// A page of the records the caller may see.
pub fn list<R: Record>(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    filter: &R::Filter,
    page: &PageRequest,
) -> ApiResult<(Vec<R::View>, Option<String>)> {
    let rows = R::list(conn, &policy::visibility(actor), filter, page)?;
    let (rows, next) = page.finish(rows, |r| r.id());
    Ok((R::views(conn, &rows)?, next))
}

/// A regulator's action on a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordAction {
    Suspend,
    Reinstate,
    Revoke,
}

impl RecordAction {
    pub const ALL: [RecordAction; 3] = [
        RecordAction::Suspend,
        RecordAction::Reinstate,
        RecordAction::Revoke,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordAction::Suspend => "suspend",
            RecordAction::Reinstate => "reinstate",
            RecordAction::Revoke => "revoke",
        }
    }

    /// The new stored status, or 409 naming the current one. `live` is the stored status while
    /// in force; an expired record can be revoked but not suspended.
    pub fn next(
        self,
        stored: RecordStatus,
        effective: RecordStatus,
        live: RecordStatus,
    ) -> ApiResult<RecordStatus> {
        use RecordStatus::*;
        match self {
            RecordAction::Suspend if stored == live && effective == live => Ok(Suspended),
            RecordAction::Reinstate if stored == Suspended => Ok(live),
            RecordAction::Revoke if stored == live || stored == Suspended => Ok(Revoked),
            _ => Err(ApiError::InvalidState {
                resource: "record",
                state: effective.to_string(),
            }),
        }
    }
}

/// Suspends, reinstates or revokes a record: only a regulator of the agency responsible for its
/// kind may; the transition must fit the current status; of two regulators acting at once one
/// wins and the other gets 409. Call inside `write_tx`.
pub fn act<R: Record>(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    action: RecordAction,
    reason: &str,
) -> ApiResult<R::Detail> {
    let row = R::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let (status, agency) = target_facts(conn, &row)?;
    let target = Target::owned_by(row.enterprise_id(), status).decided_by(agency);
    policy::check(Some(actor), Action::Read, target)?;
    policy::check(Some(actor), Action::Decide, target)?;
    let effective = effective_status(row.status(), row.valid_until(), crate::clock::today());
    let next = action.next(row.status(), effective, R::LIVE)?;
    if R::set_status_guarded(conn, row.id(), row.version(), next)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            format!("the {} changed meanwhile; reload and retry", R::TYPE),
        ));
    }
    log_status(
        conn,
        ctx,
        R::TYPE,
        row.id(),
        Some(row.status()),
        next,
        Some(reason),
        crate::clock::now(),
    )?;
    let row = R::find(conn, id)?.ok_or(ApiError::NotFound)?;
    detail_of(conn, row)
}

/// The actions `actor` may take on `row` now: the policy lets them decide its kind and its
/// current status allows the action. The console offers exactly these; [`act`] checks again.
pub fn offered<R: Record>(
    conn: &mut DbConn,
    actor: &Actor,
    row: &R,
) -> ApiResult<Vec<RecordAction>> {
    let (status, agency) = target_facts(conn, row)?;
    let target = Target::owned_by(row.enterprise_id(), status).decided_by(agency);
    if !policy::allows(Some(actor), Action::Decide, target) {
        return Ok(Vec::new());
    }
    let effective = effective_status(row.status(), row.valid_until(), crate::clock::today());
    Ok(RecordAction::ALL
        .into_iter()
        .filter(|a| a.next(row.status(), effective, R::LIVE).is_ok())
        .collect())
}

/// The body of suspend / reinstate / revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "failed the 2026 provincial spot check (batch 17)"}))]
pub struct ActionRequest {
    /// Why: kept in the status history and the audit trail.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecordStatus::*;

    #[test]
    fn actions_respect_the_current_status() {
        let cases = [
            (RecordAction::Suspend, Valid, Valid, Valid, Ok(Suspended)),
            (RecordAction::Suspend, Valid, Expired, Valid, Err(())),
            (RecordAction::Suspend, Suspended, Suspended, Active, Err(())),
            (
                RecordAction::Reinstate,
                Suspended,
                Suspended,
                Active,
                Ok(Active),
            ),
            (
                RecordAction::Reinstate,
                Suspended,
                Suspended,
                Valid,
                Ok(Valid),
            ),
            (RecordAction::Reinstate, Revoked, Revoked, Valid, Err(())),
            (RecordAction::Reinstate, Valid, Valid, Valid, Err(())),
            (
                RecordAction::Revoke,
                Suspended,
                Suspended,
                Valid,
                Ok(Revoked),
            ),
            (RecordAction::Revoke, Valid, Expired, Valid, Ok(Revoked)),
            (RecordAction::Revoke, Revoked, Revoked, Valid, Err(())),
        ];
        for (action, stored, effective, live, expected) in cases {
            let got = action.next(stored, effective, live).map_err(|_| ());
            assert_eq!(
                got, expected,
                "{action:?} from {stored} ({effective}), live {live}"
            );
        }
    }
}
