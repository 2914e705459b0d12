//! A record that passes its end date changes state without anyone acting; the publication log
//! (and so the change feed, caches and webhooks) hears of it once, from this sweep.

use diesel::prelude::*;

use crate::db::schema::{certifications, designations};
use crate::db::DbConn;
use crate::domain::RecordStatus;

/// Marks every record that ended before `today` as announced, without announcing it: records
/// loaded with their history (the synthetic register) ended before they were loaded, and their
/// end is no news to followers.
pub fn mark_past_announced(conn: &mut DbConn, today: chrono::NaiveDate) -> QueryResult<usize> {
    let certs = diesel::update(
        certifications::table
            .filter(certifications::expires_on.lt(today))
            .filter(certifications::expiry_published.eq(false)),
    )
    .set(certifications::expiry_published.eq(true))
    .execute(conn)?;
    let designs = diesel::update(
        designations::table
            .filter(designations::valid_until.lt(today))
            .filter(designations::expiry_published.eq(false)),
    )
    .set(designations::expiry_published.eq(true))
    .execute(conn)?;
    Ok(certs + designs)
}

/// Announces up to `max` records that ended before `today` and were not announced yet
/// (`certification.expire`, `designation.expire`); how many it announced. Call inside a write
/// transaction.
pub fn announce_due(conn: &mut DbConn, today: chrono::NaiveDate, max: i64) -> QueryResult<usize> {
    let now = crate::clock::now();
    let certs: Vec<String> = certifications::table
        .filter(certifications::status.eq(RecordStatus::Valid))
        .filter(certifications::expires_on.lt(today))
        .filter(certifications::expiry_published.eq(false))
        .order(certifications::id.asc())
        .limit(max)
        .select(certifications::id)
        .load(conn)?;
    for id in &certs {
        crate::publication::on_change(conn, "certification.expire", "certification", id, now)?;
    }
    diesel::update(certifications::table.filter(certifications::id.eq_any(&certs)))
        .set(certifications::expiry_published.eq(true))
        .execute(conn)?;
    let designs: Vec<String> = designations::table
        .filter(designations::status.eq(RecordStatus::Active))
        .filter(designations::valid_until.lt(today))
        .filter(designations::expiry_published.eq(false))
        .order(designations::id.asc())
        .limit(max)
        .select(designations::id)
        .load(conn)?;
    for id in &designs {
        crate::publication::on_change(conn, "designation.expire", "designation", id, now)?;
    }
    diesel::update(designations::table.filter(designations::id.eq_any(&designs)))
        .set(designations::expiry_published.eq(true))
        .execute(conn)?;
    Ok(certs.len() + designs.len())
}
