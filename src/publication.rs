//! The publication log: what became public, or what public data changed, in commit order. The
//! change feed reads it. Entries are written in the transaction of the change itself (from
//! `audit::record`, which every mutation calls), so a follower holding any cursor sees each
//! public entity once it is public, after its cursor, and never misses one: when an enterprise is
//! verified, its products are published at that moment, with new sequence numbers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{enterprises, products, publications};
use crate::db::DbConn;
use crate::domain::EnterpriseStatus;

/// Audited actions that change public data.
pub const PUBLIC_ACTIONS: &[&str] = &[
    "certification.register",
    "certification.suspend",
    "certification.reinstate",
    "certification.revoke",
    "designation.register",
    "designation.suspend",
    "designation.reinstate",
    "designation.revoke",
    "certification.amend",
    "designation.amend",
    // Announced once by a sweep when a record passes its end date (`records::expiry`).
    "certification.expire",
    "designation.expire",
    "enterprise.verify",
    "enterprise.create",
    "enterprise.create_with_uscc_override",
    "enterprise.update",
    "enterprise.suspend",
    "enterprise.reinstate",
    "enterprise.deregister",
    "enterprise.list_dishonest",
    "enterprise.delist_dishonest",
    "product.create",
    "product.update",
    "product.declare_standard",
    "product.undeclare_standard",
    "standard.create",
    "standard.update",
    "standard.withdraw",
    "standard.supersede",
];

/// The entity types the log names.
pub const ENTITY_TYPES: &[&str] = &[
    "certification",
    "designation",
    "enterprise",
    "product",
    "standard",
];

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = publications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`, imports): `COPY` needs every column given.
#[diesel(treat_none_as_default_value = false)]
pub struct Publication {
    pub seq: i64,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub at: NaiveDateTime,
}

/// The newest sequence number (0 when nothing was published yet).
pub fn head(conn: &mut DbConn) -> QueryResult<i64> {
    publications::table
        .select(diesel::dsl::max(publications::seq))
        .first::<Option<i64>>(conn)
        .map(|m| m.unwrap_or(0))
}

fn append(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    // Callers are inside `db::write_tx`, which holds the write lock: max + 1 is race-free.
    let seq = head(conn)? + 1;
    diesel::insert_into(publications::table)
        .values(Publication {
            seq,
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            action: action.to_owned(),
            at,
        })
        .execute(conn)
        .map(|_| ())
}

/// Whether an enterprise's data, or a product's, is public now (its enterprise is active).
fn is_public(conn: &mut DbConn, entity_type: &str, entity_id: &str) -> QueryResult<bool> {
    let status: Option<EnterpriseStatus> = match entity_type {
        "enterprise" => enterprises::table
            .find(entity_id)
            .select(enterprises::status)
            .first(conn)
            .optional()?,
        "product" => products::table
            .inner_join(enterprises::table)
            .filter(products::id.eq(entity_id))
            .select(enterprises::status)
            .first(conn)
            .optional()?,
        // Records belong to active enterprises; the catalogue is public.
        _ => return Ok(true),
    };
    Ok(status == Some(EnterpriseStatus::Active))
}

/// [`on_change`] for many changes at once, in their order (bulk imports): one query finds which
/// of the products and enterprises named are public, and the entries go in with one insert.
/// Changes that publish or withdraw an enterprise's products take the one-by-one path.
pub fn on_changes(
    conn: &mut DbConn,
    changes: &[(&str, &str, &str)],
    at: NaiveDateTime,
) -> QueryResult<()> {
    let cascades = |a: &str| {
        matches!(
            a,
            "enterprise.verify"
                | "enterprise.reinstate"
                | "enterprise.suspend"
                | "enterprise.deregister"
        )
    };
    if changes.iter().any(|(a, _, _)| cascades(a)) {
        for (action, entity_type, entity_id) in changes {
            on_change(conn, action, entity_type, entity_id, at)?;
        }
        return Ok(());
    }
    let public: Vec<&(&str, &str, &str)> = changes
        .iter()
        .filter(|(a, _, _)| PUBLIC_ACTIONS.contains(a))
        .collect();
    let ids_of = |t: &str| -> Vec<String> {
        public
            .iter()
            .filter(|(_, et, _)| *et == t)
            .map(|(_, _, id)| (*id).to_owned())
            .collect()
    };
    let mut shown = std::collections::HashSet::new();
    for chunk in ids_of("product").chunks(1000) {
        let ids: Vec<String> = products::table
            .inner_join(enterprises::table)
            .filter(products::id.eq_any(chunk))
            .filter(enterprises::status.eq(EnterpriseStatus::Active))
            .select(products::id)
            .load(conn)?;
        shown.extend(ids);
    }
    for chunk in ids_of("enterprise").chunks(1000) {
        let ids: Vec<String> = enterprises::table
            .filter(enterprises::id.eq_any(chunk))
            .filter(enterprises::status.eq(EnterpriseStatus::Active))
            .select(enterprises::id)
            .load(conn)?;
        shown.extend(ids);
    }
    let mut seq = head(conn)?;
    let rows: Vec<Publication> = public
        .into_iter()
        .filter(|(_, t, id)| !matches!(*t, "product" | "enterprise") || shown.contains(*id))
        .map(|(action, entity_type, entity_id)| {
            seq += 1;
            Publication {
                seq,
                entity_type: (*entity_type).to_owned(),
                entity_id: (*entity_id).to_owned(),
                action: (*action).to_owned(),
                at,
            }
        })
        .collect();
    crate::bulk_insert!(conn, publications::table, &rows)?;
    Ok(())
}

/// Called for every audited change, in its transaction: publishes it if it is public. Verifying
/// or reinstating an enterprise publishes its products too (`product.publish`); suspending or
/// deregistering it says they left public view (`product.withdraw`).
pub fn on_change(
    conn: &mut DbConn,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    if !PUBLIC_ACTIONS.contains(&action) {
        return Ok(());
    }
    // An enterprise leaving public view was public until now: followers (and caches) must hear
    // that it and its products went.
    let leaving = matches!(action, "enterprise.suspend" | "enterprise.deregister");
    if !leaving && !is_public(conn, entity_type, entity_id)? {
        return Ok(());
    }
    append(conn, entity_type, entity_id, action, at)?;
    let products_now = match action {
        "enterprise.verify" | "enterprise.reinstate" => Some("product.publish"),
        "enterprise.suspend" | "enterprise.deregister" => Some("product.withdraw"),
        _ => None,
    };
    if let Some(products_now) = products_now {
        let own: Vec<String> = products::table
            .filter(products::enterprise_id.eq(entity_id))
            .order(products::id.asc())
            .select(products::id)
            .load(conn)?;
        for product in own {
            append(conn, "product", &product, products_now, at)?;
        }
    }
    Ok(())
}

/// Entries after `since`, oldest first, of the given entity types (all when empty).
pub fn read(
    conn: &mut DbConn,
    since: i64,
    limit: i64,
    types: &[String],
) -> QueryResult<Vec<Publication>> {
    let mut q = publications::table
        .filter(publications::seq.gt(since))
        .order(publications::seq.asc())
        .limit(limit)
        .select(Publication::as_select())
        .into_boxed();
    if !types.is_empty() {
        q = q.filter(publications::entity_type.eq_any(types));
    }
    q.load(conn)
}
