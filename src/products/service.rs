//! Product rules shared by the API and the demo seed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::{self, ProductRow};
use crate::audit::{self, AuditCtx, Change};
use crate::db::DbConn;
use crate::domain::{self, Gtin, ProductStatus, Sector, StandardCode};
use crate::enterprises::repo as enterprises;
use crate::error::{ApiError, ApiResult, Errors};
use crate::reference::repo as reference;
use crate::standards::repo as standards;

/// One declared ingredient or raw material, with its content where the label gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ingredient {
    #[schema(example = "枸杞")]
    pub name: String,
    /// Percent of the product, 0-100.
    #[schema(example = 100.0)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_percent: Option<f64>,
}

pub fn parse_ingredients(errors: &mut Errors, raw: &[Ingredient]) -> Option<Vec<Ingredient>> {
    if raw.is_empty() {
        errors.push(
            "ingredients",
            "required",
            "label disclosure needs at least one ingredient or raw material",
        );
        return None;
    }
    if raw.len() > 100 {
        errors.push("ingredients", "too_many", "at most 100 ingredients");
        return None;
    }
    let before = errors.len();
    let mut out = Vec::new();
    let mut total = 0.0;
    for (i, ing) in raw.iter().enumerate() {
        let name = domain::text(errors, &format!("ingredients[{i}].name"), &ing.name, 200);
        if let Some(p) = ing.content_percent {
            if !(p > 0.0 && p <= 100.0) {
                errors.push(
                    format!("ingredients[{i}].content_percent"),
                    "out_of_range",
                    "a percentage above 0 and at most 100",
                );
            }
            total += p;
        }
        if let Some(name) = name {
            out.push(Ingredient {
                name,
                content_percent: ing.content_percent,
            });
        }
    }
    if total > 100.0 + 1e-9 {
        errors.push(
            "ingredients",
            "content_over_100",
            format!("the declared contents add up to {total}%"),
        );
    }
    (errors.len() == before).then_some(out)
}

/// A product as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f", "name": "柴达木枸杞原浆", "brand": "红果源",
    "gtin": "6936983800013", "sector": "food", "category": "goji", "origin_region_code": "632800",
    "ingredients": [{"name": "枸杞鲜果", "content_percent": 100}], "suitable_for": "一般成人",
    "unsuitable_for": "婴幼儿", "is_new_product": true, "launched_on": "2020-05-01"
}))]
pub struct CreateProductRequest {
    pub enterprise_id: String,
    pub name: String,
    /// Brand or registered trademark on the label.
    pub brand: String,
    /// GTIN-13 (check digit verified); unique when present.
    pub gtin: Option<String>,
    /// One of the enterprise's sectors.
    pub sector: String,
    /// A category of that sector (see `GET /api/v1/sectors`).
    pub category: String,
    /// GB/T 2260 code of where it is made.
    pub origin_region_code: String,
    pub ingredients: Vec<Ingredient>,
    /// Groups it suits (label disclosure).
    pub suitable_for: Option<String>,
    /// Groups it does not suit.
    pub unsuitable_for: Option<String>,
    /// Registered as a new product under the plan (增品种); needs `launched_on`.
    #[serde(default)]
    pub is_new_product: bool,
    #[serde(default, deserialize_with = "crate::domain::dates::optional")]
    pub launched_on: Option<NaiveDate>,
}

/// Valid in form; references are checked by `create`.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub enterprise_id: String,
    pub name: String,
    pub brand: String,
    pub gtin: Option<Gtin>,
    pub sector: Sector,
    pub category: String,
    pub origin_region_code: String,
    pub ingredients: Vec<Ingredient>,
    pub suitable_for: Option<String>,
    pub unsuitable_for: Option<String>,
    pub is_new_product: bool,
    pub launched_on: Option<NaiveDate>,
}

impl NewProduct {
    pub fn parse(errors: &mut Errors, r: &CreateProductRequest) -> Option<Self> {
        let enterprise_id = domain::text(errors, "enterprise_id", &r.enterprise_id, 64);
        let name = domain::text(errors, "name", &r.name, 200);
        let brand = domain::text(errors, "brand", &r.brand, 200);
        let gtin = match r.gtin.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) => errors.take("gtin", Gtin::parse(g)).map(Some),
            None => Some(None),
        };
        let sector = errors.take("sector", Sector::parse(&r.sector));
        let category = domain::text(errors, "category", &r.category, 64);
        let origin = domain::region_code_shape(errors, "origin_region_code", &r.origin_region_code);
        let ingredients = parse_ingredients(errors, &r.ingredients);
        let suitable_for = domain::opt_text(errors, "suitable_for", r.suitable_for.as_deref(), 500);
        let unsuitable_for =
            domain::opt_text(errors, "unsuitable_for", r.unsuitable_for.as_deref(), 500);
        if r.is_new_product && r.launched_on.is_none() {
            errors.push(
                "launched_on",
                "required",
                "a new product needs its launch date",
            );
        }
        Some(Self {
            enterprise_id: enterprise_id?,
            name: name?,
            brand: brand?,
            gtin: gtin?,
            sector: sector?,
            category: category?,
            origin_region_code: origin?,
            ingredients: ingredients?,
            suitable_for: suitable_for?,
            unsuitable_for: unsuitable_for?,
            is_new_product: r.is_new_product,
            launched_on: r.launched_on,
        })
    }
}

/// Checks what needs the database: the category is the sector's, the sector is the enterprise's,
/// the region exists, the GTIN is free. Returns the region code in use.
pub fn check_references(
    conn: &mut DbConn,
    enterprise_id: &str,
    sector: Sector,
    category: &str,
    region: &str,
    gtin: Option<&Gtin>,
    product_id: Option<&str>,
) -> ApiResult<String> {
    let mut errors = Errors::new();
    match reference::category_sector(conn, category)? {
        None => errors.push(
            "category",
            "unknown_category",
            format!("no category {category}"),
        ),
        Some(s) if s != sector.as_str() => errors.push(
            "category",
            "category_not_in_sector",
            format!("{category} belongs to the {s} sector"),
        ),
        Some(_) => {}
    }
    let sectors = enterprises::sectors_of(conn, &[enterprise_id.to_owned()])?;
    if !sectors.iter().any(|(_, s)| *s == sector) {
        errors.push(
            "sector",
            "sector_not_declared",
            format!("the enterprise is not registered in the {sector} sector"),
        );
    }
    let region = reference::resolve_region(conn, region)?;
    if region.is_none() {
        errors.push(
            "origin_region_code",
            "unknown_region",
            "not a Qinghai division code (GB/T 2260)",
        );
    }
    errors.finish()?;
    if let Some(g) = gtin {
        if let Some(other) = repo::find_by_gtin(conn, g.as_str())? {
            if Some(other.id.as_str()) != product_id {
                return Err(ApiError::conflict(
                    "duplicate_gtin",
                    format!("GTIN {g} is registered to another product"),
                ));
            }
        }
    }
    Ok(region.unwrap_or_default())
}

/// Inserts a product and its audit entry. Call inside `write_tx` after the policy check.
/// Registers a product for `actor`, if the policy lets them manage the enterprise's products
/// (an unknown enterprise is another enterprise's: 404 to enterprise users). The API and the
/// console both come here.
pub fn create_as(
    conn: &mut DbConn,
    actor: &crate::auth::Actor,
    ctx: &AuditCtx,
    new: NewProduct,
) -> ApiResult<ProductRow> {
    use crate::auth::{check, Action, Target};
    crate::db::write_tx(conn, |conn| {
        let status = crate::enterprises::repo::status(conn, &new.enterprise_id)?;
        let target = Target::owned_by(&new.enterprise_id, status);
        check(Some(actor), Action::ManageProducts, target)?;
        create(conn, ctx, new)
    })
}

pub fn create(conn: &mut DbConn, ctx: &AuditCtx, new: NewProduct) -> ApiResult<ProductRow> {
    let region = check_references(
        conn,
        &new.enterprise_id,
        new.sector,
        &new.category,
        &new.origin_region_code,
        new.gtin.as_ref(),
        None,
    )?;
    let now = crate::clock::now();
    let row = ProductRow {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise_id: new.enterprise_id,
        name: new.name,
        brand: new.brand,
        gtin: new.gtin.map(|g| g.as_str().to_owned()),
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
    repo::insert(conn, &row)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "product.create",
            entity_type: "product",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(ProductView::from(&row)).ok(),
            reason: None,
        },
    )?;
    Ok(row)
}

/// Declares that a product executes a standard. Withdrawn standards are refused (422), a second
/// declaration of the same standard conflicts (409).
pub fn declare_standard(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    product_id: &str,
    code: &StandardCode,
) -> ApiResult<standards::StandardRow> {
    let std = standards::find_by_code(conn, code.as_str())?.ok_or_else(|| {
        ApiError::field(
            "standard_code",
            "unknown_standard",
            format!("{code} is not in the standards catalogue"),
        )
    })?;
    if let Some(owner) = &std.owner_enterprise_id {
        let product_owner = repo::find(conn, product_id)?.map(|p| p.enterprise_id);
        if product_owner.as_ref() != Some(owner) {
            return Err(ApiError::field(
                "standard_code",
                "not_your_standard",
                format!("{code} is another enterprise's own standard"),
            ));
        }
    }
    if std.status == crate::domain::StandardStatus::Withdrawn {
        return Err(ApiError::field(
            "standard_code",
            "standard_withdrawn",
            format!("{code} has been withdrawn and cannot be declared"),
        ));
    }
    if repo::is_declared(conn, product_id, &std.id)? {
        return Err(ApiError::conflict(
            "already_declared",
            format!("the product already declares {code}"),
        ));
    }
    repo::declare(conn, product_id, &std.id, crate::clock::today())?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "product.declare_standard",
            entity_type: "product",
            entity_id: product_id,
            before: None,
            after: Some(serde_json::json!({"standard_id": std.id, "standard_code": std.code})),
            reason: None,
        },
    )?;
    Ok(std)
}

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    pub enterprise_id: String,
    #[schema(example = "柴达木枸杞原浆")]
    pub name: String,
    #[schema(example = "红果源")]
    pub brand: String,
    #[schema(example = "6936983800013")]
    pub gtin: Option<String>,
    pub sector: Sector,
    #[schema(example = "goji")]
    pub category: String,
    #[schema(example = "632800")]
    pub origin_region_code: String,
    pub ingredients: Vec<Ingredient>,
    pub suitable_for: Option<String>,
    pub unsuitable_for: Option<String>,
    pub is_new_product: bool,
    pub launched_on: Option<NaiveDate>,
    pub status: ProductStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

impl From<&ProductRow> for ProductView {
    fn from(r: &ProductRow) -> Self {
        Self {
            id: r.id.clone(),
            enterprise_id: r.enterprise_id.clone(),
            name: r.name.clone(),
            brand: r.brand.clone(),
            gtin: r.gtin.clone(),
            sector: r.sector_code,
            category: r.category_code.clone(),
            origin_region_code: r.origin_region_code.clone(),
            ingredients: serde_json::from_str(&r.ingredients).unwrap_or_default(),
            suitable_for: r.suitable_for.clone(),
            unsuitable_for: r.unsuitable_for.clone(),
            is_new_product: r.is_new_product,
            launched_on: r.launched_on,
            status: r.status,
            created_at: crate::clock::to_utc(r.created_at),
            updated_at: crate::clock::to_utc(r.updated_at),
            version: r.version,
        }
    }
}
