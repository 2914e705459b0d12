//! A record's status history, and its status on a date: expiry is derived from the dates and
//! never stored.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::record_status_changes;
use crate::db::DbConn;
use crate::domain::{RecordStatus, RecordType};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = record_status_changes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
pub struct StatusChangeRow {
    pub id: String,
    pub record_type: RecordType,
    pub record_id: String,
    pub from_status: Option<RecordStatus>,
    pub to_status: RecordStatus,
    pub reason: Option<String>,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub at: NaiveDateTime,
}

/// One entry of a record's status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusChange {
    #[schema(example = "valid")]
    pub from_status: Option<RecordStatus>,
    #[schema(example = "suspended")]
    pub to_status: RecordStatus,
    #[schema(example = "failed the 2026 spot check")]
    pub reason: Option<String>,
    /// Who changed it: `agency:<code>` for a regulator's action (never a staff account), or
    /// `system:…` for the register's own.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<&StatusChangeRow> for StatusChange {
    fn from(r: &StatusChangeRow) -> Self {
        Self {
            from_status: r.from_status,
            to_status: r.to_status,
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
    record_type: RecordType,
    record_id: &str,
    from: Option<RecordStatus>,
    to: RecordStatus,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(record_status_changes::table)
        .values(StatusChangeRow {
            id: uuid::Uuid::now_v7().to_string(),
            record_type,
            record_id: record_id.to_owned(),
            from_status: from,
            to_status: to,
            reason: reason.map(str::to_owned),
            actor_id: ctx.actor_id.clone(),
            // Histories are public: they name the agency, not the regulator's account.
            actor_label: ctx.public_label(),
            at,
        })
        .execute(conn)?;
    let action = match (from, to) {
        (None, _) => format!("{record_type}.register"),
        (Some(f), t) if f == t => format!("{record_type}.amend"),
        (_, RecordStatus::Suspended) => format!("{record_type}.suspend"),
        (_, RecordStatus::Revoked) => format!("{record_type}.revoke"),
        (Some(RecordStatus::Suspended), _) => format!("{record_type}.reinstate"),
        _ => format!("{record_type}.status_change"),
    };
    audit::record(
        conn,
        ctx,
        Change {
            action: &action,
            entity_type: record_type.as_str(),
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
    record_type: RecordType,
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
pub fn effective_status(
    stored: RecordStatus,
    valid_until: Option<NaiveDate>,
    today: NaiveDate,
) -> RecordStatus {
    match (stored, valid_until) {
        (RecordStatus::Valid | RecordStatus::Active, Some(end)) if end < today => {
            RecordStatus::Expired
        }
        _ => stored,
    }
}

/// The status a record had at the end of local date `date`, from its validity dates and its
/// history together: `not_yet_valid` before `valid_from`, `expired` after `valid_until`, and in
/// between the status its history gives at that time. Before the register recorded it (a
/// certificate issued earlier and registered later) it had the status it was registered with,
/// so an answer never contradicts its own dates.
pub fn status_on(
    history: &[StatusChangeRow],
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    date: NaiveDate,
) -> RecordStatus {
    if date < valid_from {
        return RecordStatus::NotYetValid;
    }
    let end_of_day = crate::clock::end_of_day(date);
    let Some(entry) = history
        .iter()
        .rev()
        .find(|h| h.at <= end_of_day)
        .or_else(|| history.first())
    else {
        return RecordStatus::NotYetValid;
    };
    effective_status(entry.to_status, valid_until, date)
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

    fn change(to: RecordStatus, when: &str) -> StatusChangeRow {
        StatusChangeRow {
            id: when.into(),
            record_type: RecordType::Certification,
            record_id: "c".into(),
            from_status: None,
            to_status: to,
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
            change(RecordStatus::Valid, "2024-01-01"),
            change(RecordStatus::Suspended, "2024-06-01"),
            change(RecordStatus::Valid, "2024-07-01"),
        ];
        let until = Some(d("2026-12-31"));
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2023-12-31")),
            RecordStatus::NotYetValid
        );
        // Valid from its dates before the register recorded it: never `not_yet_valid` inside
        // its own validity.
        let late = vec![change(RecordStatus::Valid, "2026-06-01")];
        assert_eq!(
            status_on(&late, d("2024-01-15"), until, d("2025-01-01")),
            RecordStatus::Valid
        );
        assert_eq!(
            status_on(&late, d("2024-01-15"), until, d("2024-01-14")),
            RecordStatus::NotYetValid
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2024-03-01")),
            RecordStatus::Valid
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2024-06-15")),
            RecordStatus::Suspended
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2025-01-01")),
            RecordStatus::Valid
        );
        assert_eq!(
            status_on(&h, d("2024-01-01"), until, d("2027-01-01")),
            RecordStatus::Expired
        );
    }
}
