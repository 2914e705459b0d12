//! The links between a renewal, the record it renews and its successor (`renewals`). The rules
//! of renewal are `applications::renewal`.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::renewals;
use crate::db::DbConn;
use crate::domain::RecordType;

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
