//! The feed's query over the audit trail.

use diesel::prelude::*;

use super::{ChangeEntry, ChangeFeed};
use crate::db::schema::{audit_log, enterprises, products};
use crate::db::DbConn;
use crate::domain::EnterpriseStatus;

/// Actions that change public data, and the entity types they touch.
pub const PUBLIC_ACTIONS: &[&str] = &[
    "certification.register",
    "certification.suspend",
    "certification.reinstate",
    "certification.revoke",
    "designation.register",
    "designation.suspend",
    "designation.reinstate",
    "designation.revoke",
    "enterprise.verify",
    "enterprise.create",
    "enterprise.create_with_uscc_override",
    "enterprise.update",
    "product.create",
    "product.update",
    "product.declare_standard",
    "product.undeclare_standard",
    "standard.create",
    "standard.update",
    "standard.withdraw",
    "standard.supersede",
];

fn href(entity_type: &str, id: &str) -> String {
    let collection = match entity_type {
        "certification" => "certifications",
        "designation" => "designations",
        "enterprise" => "enterprises",
        "product" => "products",
        "standard" => "standards",
        other => other,
    };
    format!("/api/v1/{collection}/{id}")
}

/// Public changes after `since`, in order. An entity of an enterprise that is not active (now)
/// is left out: its data is not public.
pub fn feed(conn: &mut DbConn, since: i64, limit: i64) -> QueryResult<ChangeFeed> {
    // Scan a bounded window of the log: private entries between public ones must not make a
    // page arbitrarily expensive.
    let scan = limit * 4;
    let rows: Vec<(i64, String, String, String, chrono::NaiveDateTime)> = audit_log::table
        .filter(audit_log::seq.gt(since))
        .order(audit_log::seq.asc())
        .limit(scan)
        .select((
            audit_log::seq,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::action,
            audit_log::created_at,
        ))
        .load(conn)?;
    let scanned_full = rows.len() as i64 == scan;
    let candidates: Vec<_> = rows
        .iter()
        .filter(|r| PUBLIC_ACTIONS.contains(&r.3.as_str()))
        .collect();
    // Which of the touched enterprises and products are public now.
    let ent_ids: Vec<&String> = candidates
        .iter()
        .filter(|r| r.1 == "enterprise")
        .map(|r| &r.2)
        .collect();
    let prod_ids: Vec<&String> = candidates
        .iter()
        .filter(|r| r.1 == "product")
        .map(|r| &r.2)
        .collect();
    let active_ents: Vec<String> = enterprises::table
        .filter(enterprises::id.eq_any(&ent_ids))
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .select(enterprises::id)
        .load(conn)?;
    let public_products: Vec<String> = products::table
        .inner_join(enterprises::table)
        .filter(products::id.eq_any(&prod_ids))
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .select(products::id)
        .load(conn)?;
    let mut items = Vec::new();
    let mut next = since;
    let mut page_full = false;
    for (seq, entity_type, entity_id, action, at) in &rows {
        next = *seq;
        let public = PUBLIC_ACTIONS.contains(&action.as_str())
            && match entity_type.as_str() {
                "enterprise" => active_ents.contains(entity_id),
                "product" => public_products.contains(entity_id),
                _ => true,
            };
        if public {
            items.push(ChangeEntry {
                seq: *seq,
                href: href(entity_type, entity_id),
                entity_type: entity_type.clone(),
                entity_id: entity_id.clone(),
                change: action.clone(),
                at: crate::clock::to_utc(*at),
            });
            if items.len() as i64 == limit {
                page_full = true;
                break;
            }
        }
    }
    Ok(ChangeFeed {
        items,
        next_cursor: next.to_string(),
        up_to_date: !page_full && !scanned_full,
    })
}
