//! Importing an enterprise's products: each row is a `POST /api/v1/products` body, parsed and
//! checked by the same functions, then written in batches with one audit entry per product.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::table::{Row, Table};
use super::{cell, Counts, RowError};
use crate::audit::{self, AuditCtx, Change};
use crate::db::{write_tx, DbConn};
use crate::domain::{ProductStatus, Sector};
use crate::error::{ApiError, ApiResult, Errors};
use crate::products::repo::{self, ProductRow};
use crate::products::service::{self, CreateProductRequest, Ingredient, NewProduct, ProductView};

pub const COLUMNS: &[&str] = &[
    "name",
    "brand",
    "gtin",
    "sector",
    "category",
    "origin_region_code",
    "ingredients",
    "suitable_for",
    "unsuitable_for",
    "is_new_product",
    "launched_on",
];
pub const REQUIRED: &[&str] = &[
    "name",
    "brand",
    "sector",
    "category",
    "origin_region_code",
    "ingredients",
];

/// Rows written per transaction: large enough that COPY and the batched audit pay off, small
/// enough that other writers wait only a moment for the audit head.
const BATCH: usize = 2000;

/// `枸杞:99.5; 水` — items split on `;` (or `；`), a name and an optional percentage after `:`
/// (or `：`), with or without `%`.
fn ingredients(errors: &mut Errors, raw: &str) -> Vec<Ingredient> {
    let mut out = Vec::new();
    for item in raw
        .split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (name, percent) = match item.split_once([':', '：']) {
            Some((n, p)) => (n.trim(), Some(p.trim().trim_end_matches('%').trim())),
            None => (item, None),
        };
        let content_percent = match percent.filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => match p.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    errors.push(
                        "ingredients",
                        "invalid_value",
                        format!(
                            "{item:?}: the content after ':' is a percentage, such as 枸杞:100"
                        ),
                    );
                    None
                }
            },
        };
        out.push(Ingredient {
            name: name.to_owned(),
            content_percent,
        });
    }
    out
}

fn flag(errors: &mut Errors, raw: &str) -> bool {
    match raw.to_lowercase().as_str() {
        "" | "false" | "no" | "0" | "否" => false,
        "true" | "yes" | "1" | "是" => true,
        _ => {
            errors.push("is_new_product", "invalid_value", "true or false (是/否)");
            false
        }
    }
}

fn date(errors: &mut Errors, field: &str, raw: &str) -> Option<NaiveDate> {
    crate::http::parse_date(errors, field, Some(raw).filter(|s| !s.is_empty()))
}

/// One row as the create body it stands for, parsed by `NewProduct::parse`.
fn parse_row(t: &Table, row: &Row, enterprise_id: &str, errors: &mut Errors) -> Option<NewProduct> {
    let c = |name| cell(t, row, name);
    let opt = |name| Some(c(name).to_owned()).filter(|s| !s.is_empty());
    let request = CreateProductRequest {
        enterprise_id: enterprise_id.to_owned(),
        name: c("name").to_owned(),
        brand: c("brand").to_owned(),
        gtin: opt("gtin"),
        sector: c("sector").to_owned(),
        category: c("category").to_owned(),
        origin_region_code: c("origin_region_code").to_owned(),
        ingredients: ingredients(errors, c("ingredients")),
        suitable_for: opt("suitable_for"),
        unsuitable_for: opt("unsuitable_for"),
        is_new_product: flag(errors, c("is_new_product")),
        launched_on: date(errors, "launched_on", c("launched_on")),
    };
    NewProduct::parse(errors, &request)
}

/// The natural key of a product within its enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Gtin(String),
    NameBrand(String, String),
}

fn key_of(gtin: Option<&str>, name: &str, brand: &str) -> Key {
    match gtin {
        Some(g) => Key::Gtin(g.to_owned()),
        None => Key::NameBrand(name.to_owned(), brand.to_owned()),
    }
}

/// The first column in which a registered product differs from the row, if any.
fn differs(old: &ProductRow, new: &ProductRow) -> Option<&'static str> {
    let ingredients = |r: &ProductRow| serde_json::from_str::<Vec<Ingredient>>(&r.ingredients).ok();
    [
        ("name", old.name == new.name),
        ("brand", old.brand == new.brand),
        ("gtin", old.gtin == new.gtin),
        ("sector", old.sector_code == new.sector_code),
        ("category", old.category_code == new.category_code),
        (
            "origin_region_code",
            old.origin_region_code == new.origin_region_code,
        ),
        ("ingredients", ingredients(old) == ingredients(new)),
        ("suitable_for", old.suitable_for == new.suitable_for),
        ("unsuitable_for", old.unsuitable_for == new.unsuitable_for),
        ("is_new_product", old.is_new_product == new.is_new_product),
        ("launched_on", old.launched_on == new.launched_on),
    ]
    .into_iter()
    .find(|(_, same)| !same)
    .map(|(c, _)| c)
}

/// What validation decided for the file: the products to create (the rest are registered
/// already) and the bad rows.
pub struct Plan {
    pub create: Vec<ProductRow>,
    pub unchanged: i32,
    pub errors: Vec<RowError>,
}

/// Validates every row; `progress` hears how many rows are done.
pub fn validate(
    conn: &mut DbConn,
    enterprise_id: &str,
    t: &Table,
    progress: &mut dyn FnMut(&mut DbConn, usize) -> ApiResult<()>,
) -> ApiResult<Plan> {
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(t.rows.len());
    for (i, row) in t.rows.iter().enumerate() {
        let mut e = Errors::new();
        let new = parse_row(t, row, enterprise_id, &mut e);
        match e.finish() {
            Err(ApiError::Validation(fields)) => {
                errors.extend(fields.iter().map(|f| RowError::of_field(row.number, f)))
            }
            _ => parsed.push((row.number, new)),
        }
        if i % 10_000 == 9_999 {
            progress(conn, i + 1)?;
        }
    }
    // The database's checks, as `POST /products` makes them, once per distinct combination.
    let mut references: HashMap<(Sector, String, String), Result<String, Vec<RowError>>> =
        HashMap::new();
    let existing: HashMap<Key, ProductRow> = repo::of_enterprise(conn, enterprise_id)?
        .into_iter()
        .map(|p| (key_of(p.gtin.as_deref(), &p.name, &p.brand), p))
        .collect();
    let gtins: Vec<String> = parsed
        .iter()
        .filter_map(|(_, n)| n.as_ref()?.gtin.as_ref().map(|g| g.as_str().to_owned()))
        .collect();
    let elsewhere: HashMap<String, String> = repo::gtin_holders(conn, &gtins)?
        .into_iter()
        .filter(|(_, e)| e != enterprise_id)
        .collect();
    let now = crate::clock::now();
    let mut seen: HashMap<Key, u32> = HashMap::new();
    let mut plan = Plan {
        create: Vec::new(),
        unchanged: 0,
        errors: Vec::new(),
    };
    for (number, new) in parsed {
        let Some(new) = new else { continue };
        let triple = (
            new.sector,
            new.category.clone(),
            new.origin_region_code.clone(),
        );
        if !references.contains_key(&triple) {
            let checked = match service::check_references(
                conn,
                enterprise_id,
                new.sector,
                &new.category,
                &new.origin_region_code,
                None,
                None,
            ) {
                Ok(region) => Ok(region),
                Err(ApiError::Validation(fields)) => {
                    Err(fields.iter().map(|f| RowError::of_field(0, f)).collect())
                }
                Err(other) => return Err(other),
            };
            references.insert(triple.clone(), checked);
        }
        let region = match &references[&triple] {
            Ok(region) => region.clone(),
            Err(bad) => {
                errors.extend(bad.iter().map(|e| RowError {
                    row: number,
                    ..e.clone()
                }));
                continue;
            }
        };
        let gtin = new.gtin.as_ref().map(|g| g.as_str().to_owned());
        if let Some(g) = &gtin {
            if elsewhere.contains_key(g) {
                errors.push(RowError::new(
                    number,
                    "gtin",
                    "duplicate_gtin",
                    format!("GTIN {g} is registered to another product"),
                ));
                continue;
            }
        }
        let key = key_of(gtin.as_deref(), &new.name, &new.brand);
        if let Some(first) = seen.insert(key.clone(), number) {
            let column = if gtin.is_some() { "gtin" } else { "name" };
            errors.push(RowError::new(
                number,
                column,
                "duplicate_in_file",
                format!("row {first} is the same product"),
            ));
            continue;
        }
        let row = ProductRow {
            id: uuid::Uuid::now_v7().to_string(),
            enterprise_id: enterprise_id.to_owned(),
            name: new.name,
            brand: new.brand,
            gtin,
            sector_code: new.sector,
            category_code: new.category,
            origin_region_code: region,
            ingredients: serde_json::to_string(&new.ingredients).unwrap_or_else(|_| "[]".into()),
            suitable_for: new.suitable_for,
            unsuitable_for: new.unsuitable_for,
            is_new_product: new.is_new_product,
            launched_on: new.launched_on,
            status: ProductStatus::Active,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        match existing.get(&key) {
            None => plan.create.push(row),
            Some(old) => match differs(old, &row) {
                None => plan.unchanged += 1,
                Some(column) => errors.push(RowError::new(
                    number,
                    column,
                    "differs_from_registered",
                    format!(
                        "the enterprise has this product (id {}) with another {column}: \
                         change it with PATCH /api/v1/products/{}",
                        old.id, old.id
                    ),
                )),
            },
        }
    }
    errors.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    plan.errors = errors;
    Ok(plan)
}

/// Writes the planned products in batches, each in its own write transaction with one audit
/// entry (`product.create`, the product as the API shows it) per product — which publishes
/// each as `POST /products` does, so search, the change feed and caches hear of it. A product
/// registered meanwhile under the same key (another import) is counted unchanged.
pub fn write(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    plan: Plan,
    progress: &mut dyn FnMut(&mut DbConn, usize, Counts) -> ApiResult<()>,
) -> ApiResult<Counts> {
    let mut counts = Counts {
        created: 0,
        unchanged: plan.unchanged,
    };
    let mut done = plan.unchanged as usize;
    let Some(enterprise_id) = plan.create.first().map(|p| p.enterprise_id.clone()) else {
        progress(conn, done, counts)?;
        return Ok(counts);
    };
    for batch in plan.create.chunks(BATCH) {
        let written = write_tx(conn, |conn| {
            let gtins: Vec<String> = batch.iter().filter_map(|p| p.gtin.clone()).collect();
            let names: Vec<String> = batch
                .iter()
                .filter(|p| p.gtin.is_none())
                .map(|p| p.name.clone())
                .collect();
            let now: HashSet<Key> = repo::existing_keys(conn, &enterprise_id, &gtins, &names)?
                .into_iter()
                .map(|(g, n, b)| key_of(g.as_deref(), &n, &b))
                .collect();
            let fresh: Vec<ProductRow> = batch
                .iter()
                .filter(|p| !now.contains(&key_of(p.gtin.as_deref(), &p.name, &p.brand)))
                .cloned()
                .collect();
            repo::insert_many(conn, &fresh)?;
            let views: Vec<(String, serde_json::Value)> = fresh
                .iter()
                .map(|p| {
                    (
                        p.id.clone(),
                        serde_json::to_value(ProductView::from(p)).unwrap_or_default(),
                    )
                })
                .collect();
            let changes = views
                .iter()
                .map(|(id, after)| Change {
                    action: "product.create",
                    entity_type: "product",
                    entity_id: id,
                    before: None,
                    after: Some(after.clone()),
                    reason: None,
                })
                .collect();
            audit::record_batch(conn, ctx, changes)?;
            Ok::<_, ApiError>(fresh.len())
        })?;
        counts.created += written as i32;
        counts.unchanged += (batch.len() - written) as i32;
        done += batch.len();
        progress(conn, done, counts)?;
    }
    Ok(counts)
}
