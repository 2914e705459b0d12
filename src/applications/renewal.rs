//! Renewal: an application linked to the record it renews (`renews`), filed in the kind's
//! window before the record ends (`application_kinds.renewal_window_days`, data). Approving it
//! registers a successor record — a new certificate or designation with its own number and
//! validity — and links the two both ways (`renewals`), so the old record says what renewed it
//! and the new one what it renews. The old record stays as it was until it ends.

use std::collections::HashMap;

use diesel::prelude::*;

use super::repo::ApplicationRow;
use crate::db::schema::renewals;
use crate::db::DbConn;
use crate::domain::{RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::records::{certificates, designations, effective_status};
use crate::reference::kinds::KindRow;

fn refused(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::field("renews", code, message)
}

/// The renewed record may be renewed by `app` today: of this enterprise, kind and product, in
/// force, and within the kind's window before it ends. Returns its type.
pub fn check(
    conn: &mut DbConn,
    kind: &KindRow,
    app: &ApplicationRow,
    renews: &str,
) -> ApiResult<RecordType> {
    let window = kind.renewal_window_days.ok_or_else(|| {
        refused(
            "not_renewable",
            format!("{} records are not renewed", kind.code),
        )
    })?;
    let found = if kind.is_certification() {
        certificates::find(conn, renews)?.map(|c| {
            (
                RecordType::Certification,
                c.enterprise_id,
                Some(c.product_id),
                c.kind,
                c.status,
                Some(c.expires_on),
                RecordStatus::Valid,
            )
        })
    } else {
        designations::find(conn, renews)?.map(|d| {
            (
                RecordType::Designation,
                d.enterprise_id,
                d.product_id,
                d.kind,
                d.status,
                d.valid_until,
                RecordStatus::Active,
            )
        })
    };
    let Some((record_type, enterprise, product, record_kind, status, until, live)) = found else {
        return Err(refused("unknown_record", "no such record of this kind"));
    };
    if enterprise != app.enterprise_id || record_kind != app.kind || product != app.product_id {
        return Err(refused(
            "not_this_record",
            format!("a renewal renews a {} record of the same product", app.kind),
        ));
    }
    let today = crate::clock::today();
    if effective_status(status, until, today) != live {
        return Err(refused("not_live", "only a record in force is renewed"));
    }
    let Some(until) = until else {
        return Err(refused(
            "not_renewable",
            "an open-ended record is not renewed",
        ));
    };
    let opens = until - chrono::Days::new(u64::try_from(window).unwrap_or(0));
    if today < opens {
        return Err(refused(
            "outside_renewal_window",
            format!("its renewal may be filed from {opens} to {until}"),
        ));
    }
    Ok(record_type)
}

/// Links a new application to the record it renews.
pub fn link(
    conn: &mut DbConn,
    application_id: &str,
    record_type: RecordType,
    renews: &str,
) -> QueryResult<()> {
    diesel::insert_into(renewals::table)
        .values((
            renewals::application_id.eq(application_id),
            renewals::record_type.eq(record_type.as_str()),
            renewals::renews_id.eq(renews),
            renewals::created_at.eq(crate::clock::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The record an application renews, if it is a renewal.
pub fn renews_of(conn: &mut DbConn, application_id: &str) -> QueryResult<Option<String>> {
    renewals::table
        .find(application_id)
        .select(renewals::renews_id)
        .first(conn)
        .optional()
}

/// Records the successor a renewal's approval registered (nothing when it is no renewal).
pub fn link_successor(conn: &mut DbConn, application_id: &str, successor: &str) -> QueryResult<()> {
    diesel::update(renewals::table.find(application_id))
        .set(renewals::successor_id.eq(Some(successor)))
        .execute(conn)
        .map(|_| ())
}

/// For these records: what each renews, and what renewed each.
pub fn links_of(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<(HashMap<String, String>, HashMap<String, String>)> {
    let rows: Vec<(String, Option<String>)> = renewals::table
        .filter(
            renewals::renews_id
                .eq_any(ids)
                .or(renewals::successor_id.eq_any(ids)),
        )
        .filter(renewals::successor_id.is_not_null())
        .select((renewals::renews_id, renewals::successor_id))
        .load(conn)?;
    let (mut renews, mut renewed_by) = (HashMap::new(), HashMap::new());
    for (old, new) in rows {
        let Some(new) = new else { continue };
        renews.insert(new.clone(), old.clone());
        renewed_by.insert(old, new);
    }
    Ok((renews, renewed_by))
}
