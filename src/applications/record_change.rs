//! `record_change` applications: how an enterprise changes what its product's live records
//! certify (name, brand, GTIN, sector, category, origin). Each agency that decides one of those
//! records must approve; the last approval re-checks the rules against the new facts, applies
//! them to the product and amends every live record's certified facts, with an entry in its
//! history. Until then the product keeps its certified values.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::repo::ApplicationRow;
use crate::audit::AuditCtx;
use crate::db::DbConn;
use crate::domain::{Agency, Gtin, Sector};
use crate::error::{ApiError, ApiResult, Errors};
use crate::records::{self, LiveRecord};
use crate::reference::kinds;

/// The new values asked for; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub brand: Option<String>,
    pub gtin: Option<String>,
    pub sector: Option<Sector>,
    pub category: Option<String>,
    pub origin_region_code: Option<String>,
}

/// What a `record_change` application carries in `details`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordChangeDetails {
    pub changes: ProductChanges,
    /// The agencies that must approve (set when submitted), and those that have.
    #[serde(default)]
    pub agencies: BTreeSet<Agency>,
    #[serde(default)]
    pub approved_by: BTreeSet<Agency>,
}

impl RecordChangeDetails {
    pub fn parse(app: &ApplicationRow) -> ApiResult<Self> {
        serde_json::from_str(&app.details)
            .map_err(|e| ApiError::field("details", "invalid_value", e.to_string()))
    }
}

/// The agencies deciding the product's live records.
pub fn agencies(conn: &mut DbConn, live: &[LiveRecord]) -> ApiResult<BTreeSet<Agency>> {
    let mut out = BTreeSet::new();
    for r in live {
        if let Some(a) = kinds::deciding_agency(conn, r.kind)? {
            out.insert(a);
        }
    }
    Ok(out)
}

/// Checks the request: the product has live records (otherwise it is edited directly), at least
/// one field changes, and the new values are valid for a product of this enterprise.
pub fn validate(conn: &mut DbConn, app: &ApplicationRow, errors: &mut Errors) -> ApiResult<()> {
    let Some(product_id) = app.product_id.as_deref() else {
        errors.push("product_id", "required", "name the product to change");
        return Ok(());
    };
    let Some(product) = crate::products::repo::find(conn, product_id)?
        .filter(|p| p.enterprise_id == app.enterprise_id)
    else {
        errors.push(
            "product_id",
            "unknown_product",
            "no such product of this enterprise",
        );
        return Ok(());
    };
    let details: RecordChangeDetails = match serde_json::from_str(&app.details) {
        Ok(d) => d,
        Err(e) => {
            errors.push("details", "invalid_value", e.to_string());
            return Ok(());
        }
    };
    let c = &details.changes;
    if c == &ProductChanges::default() {
        errors.push("details.changes", "required", "say what changes");
    }
    if records::live_records(conn, product_id)?.is_empty() {
        errors.push(
            "product_id",
            "no_live_record",
            "no live record certifies this product: edit it directly",
        );
    }
    if let Some(n) = &c.name {
        crate::domain::text(errors, "details.changes.name", n, 200);
    }
    if let Some(b) = &c.brand {
        crate::domain::text(errors, "details.changes.brand", b, 100);
    }
    let gtin = match &c.gtin {
        Some(g) => errors.take("details.changes.gtin", Gtin::parse(g)),
        None => product.gtin.as_deref().and_then(|g| Gtin::parse(g).ok()),
    };
    if errors.is_empty() {
        // The product as it would be: its references must hold (category of the sector, a
        // sector of the enterprise, a region that exists, a GTIN no other product has).
        crate::products::service::check_references(
            conn,
            &product.enterprise_id,
            c.sector.unwrap_or(product.sector_code),
            c.category.as_deref().unwrap_or(&product.category_code),
            c.origin_region_code
                .as_deref()
                .unwrap_or(&product.origin_region_code),
            gtin.as_ref(),
            Some(&product.id),
        )?;
    }
    Ok(())
}

/// The facts each live record would certify after the change.
fn amended(
    certified: &records::certified::Certified,
    c: &ProductChanges,
    region: &str,
) -> records::certified::Certified {
    let mut out = certified.clone();
    if let Some(v) = &c.name {
        out.product_name = Some(v.trim().to_owned());
    }
    if let Some(v) = &c.brand {
        out.brand = Some(v.trim().to_owned());
    }
    if let Some(v) = &c.gtin {
        out.gtin = Some(v.trim().to_owned());
    }
    if let Some(v) = c.sector {
        out.sector = Some(v.as_str().to_owned());
    }
    if let Some(v) = &c.category {
        out.category = Some(v.trim().to_owned());
    }
    if c.origin_region_code.is_some() {
        out.origin_region_code = Some(region.to_owned());
    }
    out
}

/// The last approval: re-checks the rules of each live record against the new facts (a GI mark
/// stays inside its protected area; a food-only kind stays on food), applies the change to the
/// product, and amends each record. Call inside `write_tx`.
pub fn apply(conn: &mut DbConn, ctx: &AuditCtx, app: &ApplicationRow) -> ApiResult<()> {
    let details = RecordChangeDetails::parse(app)?;
    let c = &details.changes;
    let product_id = app
        .product_id
        .as_deref()
        .ok_or_else(|| ApiError::field("product_id", "required", "name the product"))?;
    let before = crate::products::repo::find(conn, product_id)?.ok_or(ApiError::NotFound)?;
    let mut after = before.clone();
    if let Some(v) = &c.name {
        after.name = v.trim().to_owned();
    }
    if let Some(v) = &c.brand {
        after.brand = v.trim().to_owned();
    }
    if let Some(v) = &c.gtin {
        after.gtin = Some(v.trim().to_owned());
    }
    if let Some(v) = c.sector {
        after.sector_code = v;
    }
    if let Some(v) = &c.category {
        after.category_code = v.trim().to_owned();
    }
    let gtin = after.gtin.as_deref().and_then(|g| Gtin::parse(g).ok());
    after.origin_region_code = crate::products::service::check_references(
        conn,
        &after.enterprise_id,
        after.sector_code,
        &after.category_code,
        c.origin_region_code
            .as_deref()
            .unwrap_or(&before.origin_region_code),
        gtin.as_ref(),
        Some(&after.id),
    )?;
    let live = records::live_records(conn, product_id)?;
    let mut errors = Errors::new();
    for r in &live {
        let kind = kinds::find(conn, r.kind)?.ok_or(ApiError::NotFound)?;
        if kind.food_only && after.sector_code != Sector::Food {
            errors.push(
                "details.changes.sector",
                "not_food",
                format!("a live {} record applies to food products only", r.kind),
            );
        }
        if let Some(gi) = &r.geographical_indication_id {
            if !crate::gis::repo::covers(conn, gi, &after.origin_region_code)? {
                errors.push(
                    "details.changes.origin_region_code",
                    "origin_outside_protected_area",
                    "a product using a GI mark stays inside the GI's protected area",
                );
            }
        }
    }
    errors.finish()?;
    after.updated_at = crate::clock::now();
    after.version += 1;
    if crate::products::repo::update_guarded(conn, &after, before.version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the product changed meanwhile; reload and retry",
        ));
    }
    crate::audit::record(
        conn,
        ctx,
        crate::audit::Change {
            action: "product.update",
            entity_type: "product",
            entity_id: &after.id,
            before: Some(
                serde_json::json!({"name": before.name, "brand": before.brand, "gtin": before.gtin,
                "sector": before.sector_code, "category": before.category_code, "origin_region_code": before.origin_region_code}),
            ),
            after: Some(
                serde_json::json!({"name": after.name, "brand": after.brand, "gtin": after.gtin,
                "sector": after.sector_code, "category": after.category_code, "origin_region_code": after.origin_region_code}),
            ),
            reason: Some("record_change approved"),
        },
    )?;
    let reason = format!("certified facts amended by application {}", app.id);
    for r in &live {
        let now = amended(&r.certified, c, &after.origin_region_code);
        records::amend_certified(conn, ctx, r, &now, &reason)?;
    }
    Ok(())
}
