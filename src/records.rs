//! What certificates and designations share: the status history, the effective status on a
//! date (expiry is derived from dates, never stored), and the regulator actions on them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::record_status_changes;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = record_status_changes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StatusChangeRow {
    pub id: String,
    pub record_type: String,
    pub record_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub at: NaiveDateTime,
}

/// One entry of a record's status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusChange {
    #[schema(example = "valid")]
    pub from_status: Option<String>,
    #[schema(example = "suspended")]
    pub to_status: String,
    #[schema(example = "failed the 2026 spot check")]
    pub reason: Option<String>,
    /// `role:username` of who changed it, or `system:…`.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<&StatusChangeRow> for StatusChange {
    fn from(r: &StatusChangeRow) -> Self {
        Self {
            from_status: r.from_status.clone(),
            to_status: r.to_status.clone(),
            reason: r.reason.clone(),
            actor: r.actor_label.clone(),
            at: crate::clock::to_utc(r.at),
        }
    }
}

/// Appends to the history (and the audit trail). Call inside `write_tx`.
#[allow(clippy::too_many_arguments)]
pub fn log_status(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    record_type: &str,
    record_id: &str,
    from: Option<&str>,
    to: &str,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(record_status_changes::table)
        .values(StatusChangeRow {
            id: uuid::Uuid::now_v7().to_string(),
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            from_status: from.map(str::to_owned),
            to_status: to.to_owned(),
            reason: reason.map(str::to_owned),
            actor_id: ctx.actor_id.clone(),
            actor_label: ctx.actor_label.clone(),
            at,
        })
        .execute(conn)?;
    let action = match (from, to) {
        (None, _) => format!("{record_type}.register"),
        (_, "suspended") => format!("{record_type}.suspend"),
        (_, "revoked") => format!("{record_type}.revoke"),
        (Some("suspended"), _) => format!("{record_type}.reinstate"),
        _ => format!("{record_type}.status_change"),
    };
    audit::record(
        conn,
        ctx,
        Change {
            action: &action,
            entity_type: record_type,
            entity_id: record_id,
            before: from.map(|f| serde_json::json!({ "status": f })),
            after: Some(serde_json::json!({ "status": to })),
            reason,
        },
    )?;
    Ok(())
}

pub fn history(
    conn: &mut DbConn,
    record_type: &str,
    record_id: &str,
) -> QueryResult<Vec<StatusChangeRow>> {
    record_status_changes::table
        .filter(record_status_changes::record_type.eq(record_type))
        .filter(record_status_changes::record_id.eq(record_id))
        .order((
            record_status_changes::at.asc(),
            record_status_changes::id.asc(),
        ))
        .select(StatusChangeRow::as_select())
        .load(conn)
}

/// The status a record presents today: a stored `valid`/`active` past its end date is `expired`.
pub fn effective_status(stored: &str, valid_until: Option<NaiveDate>, today: NaiveDate) -> String {
    match (stored, valid_until) {
        ("valid" | "active", Some(end)) if end < today => "expired".to_owned(),
        _ => stored.to_owned(),
    }
}

/// The status a record had at the end of `date`, from its history and validity window:
/// `not_yet_valid` before it started (or before it was registered), `expired` after it ended.
pub fn status_on(
    history: &[StatusChangeRow],
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    date: NaiveDate,
) -> String {
    if date < valid_from {
        return "not_yet_valid".to_owned();
    }
    let end_of_day = date.and_hms_opt(23, 59, 59).expect("valid time");
    let Some(last) = history.iter().rev().find(|h| h.at <= end_of_day) else {
        return "not_yet_valid".to_owned();
    };
    effective_status(&last.to_status, valid_until, date)
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
    /// The new stored status, or 409 naming the current one. `live` is the status while in
    /// force (`valid` for certificates, `active` for designations).
    pub fn next(self, stored: &str, effective: &str, live: &str) -> ApiResult<&'static str> {
        let invalid = || ApiError::InvalidState {
            resource: "record",
            state: effective.to_owned(),
        };
        let live_static: &'static str = if live == "valid" { "valid" } else { "active" };
        match self {
            RecordAction::Suspend if stored == live && effective == live => Ok("suspended"),
            RecordAction::Reinstate if stored == "suspended" => Ok(live_static),
            RecordAction::Revoke if stored == live || stored == "suspended" => Ok("revoked"),
            _ => Err(invalid()),
        }
    }
}

/// What a regulator's action needs to know about a certificate or designation.
pub struct ActionTarget<'a> {
    /// `certification` or `designation`.
    pub record_type: &'a str,
    /// The stored status while in force: `valid` or `active`.
    pub live: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
    pub enterprise_id: &'a str,
    pub status: &'a str,
    pub valid_until: Option<NaiveDate>,
}

/// Suspends, reinstates or revokes a record: only a regulator of the agency responsible for its
/// kind may; the transition must fit the current status; `set_status` writes the new status
/// guarded by the version read (0 rows: someone else won). Call inside `write_tx`.
pub fn apply_action(
    conn: &mut DbConn,
    actor: &crate::auth::Actor,
    ctx: &AuditCtx,
    t: ActionTarget<'_>,
    action: RecordAction,
    reason: &str,
    set_status: impl FnOnce(&mut DbConn, &'static str) -> QueryResult<usize>,
) -> ApiResult<()> {
    use crate::auth::{check, Action, Target};
    let agency = crate::applications::kinds::deciding_agency(conn, t.kind)?;
    let ent_status = crate::products::repo::enterprise_status(conn, t.enterprise_id)?;
    let target = Target {
        enterprise_id: Some(t.enterprise_id),
        published: ent_status.as_deref() == Some("active"),
        agency: agency.as_deref(),
    };
    check(Some(actor), Action::Read, target)?;
    check(Some(actor), Action::Decide, target)?;
    let effective = effective_status(t.status, t.valid_until, crate::clock::today());
    let next = action.next(t.status, &effective, t.live)?;
    if set_status(conn, next)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            format!("the {} changed meanwhile; reload and retry", t.record_type),
        ));
    }
    log_status(
        conn,
        ctx,
        t.record_type,
        t.id,
        Some(t.status),
        next,
        Some(reason),
        crate::clock::now(),
    )?;
    Ok(())
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

    fn at(d: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    fn change(to: &str, when: &str) -> StatusChangeRow {
        StatusChangeRow {
            id: when.into(),
            record_type: "certification".into(),
            record_id: "c".into(),
            from_status: None,
            to_status: to.into(),
            reason: None,
            actor_id: None,
            actor_label: "t".into(),
            at: at(when),
        }
    }

    #[test]
    fn status_on_a_date_follows_history_and_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let h = vec![
            change("valid", "2024-01-01"),
            change("suspended", "2024-06-01"),
            change("valid", "2024-07-01"),
        ];
        let until = Some(d("2026-12-31"));
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2023-12-31")),
            "not_yet_valid"
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2024-03-01")),
            "valid"
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2024-06-15")),
            "suspended"
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2025-01-01")),
            "valid"
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2027-01-01")),
            "expired"
        );
    }

    #[test]
    fn actions_respect_the_current_status() {
        assert_eq!(
            RecordAction::Suspend
                .next("valid", "valid", "valid")
                .unwrap(),
            "suspended"
        );
        assert!(RecordAction::Suspend
            .next("valid", "expired", "valid")
            .is_err());
        assert_eq!(
            RecordAction::Reinstate
                .next("suspended", "suspended", "active")
                .unwrap(),
            "active"
        );
        assert_eq!(
            RecordAction::Revoke
                .next("suspended", "suspended", "valid")
                .unwrap(),
            "revoked"
        );
        assert!(RecordAction::Revoke
            .next("revoked", "revoked", "valid")
            .is_err());
        assert!(RecordAction::Reinstate
            .next("revoked", "revoked", "valid")
            .is_err());
    }
}
