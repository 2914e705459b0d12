//! Renewal: an application linked to the record it renews (`renews`), filed in the kind's
//! window before the record ends (`application_kinds.renewal_window_days`, data). Approving it
//! registers a successor record — a new certificate or designation with its own number and
//! validity — and links the two both ways (`renewals`), so the old record says what renewed it
//! and the new one what it renews. The old record stays as it was until it ends. The links are
//! `records::renewals`.

pub use crate::records::renewals::{link, link_successor, renews_of};

use super::repo::ApplicationRow;
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

/// At approval (or grant): the renewed record has not been suspended or revoked meanwhile —
/// otherwise the renewal would issue a successor around that decision. (It may have ended by
/// date since the renewal was filed in its window.)
pub fn ensure_still_standing(conn: &mut DbConn, kind: &KindRow, renews: &str) -> ApiResult<()> {
    let stored = if kind.is_certification() {
        certificates::find(conn, renews)?.map(|c| (c.status, RecordStatus::Valid))
    } else {
        designations::find(conn, renews)?.map(|d| (d.status, RecordStatus::Active))
    };
    match stored {
        Some((status, live)) if status == live => Ok(()),
        Some((status, _)) => Err(refused(
            "not_live",
            format!("the record it renews is {status}: it is not renewed"),
        )),
        None => Err(refused("unknown_record", "no such record of this kind")),
    }
}
