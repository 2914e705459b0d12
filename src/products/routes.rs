use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, ProductFilter, ProductRow};
use super::service::{self, CreateProductRequest, Ingredient, NewProduct, ProductView};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{authorize, Action, Actor, Caller, Target};
use crate::cache::{entity, Answers, Kept, Loaded};
use crate::db::{write_tx, DbConn};
use crate::domain::{self, ApplicationKind, Gtin, ProductStatus, Sector};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{
    check_if_match, created_versioned, if_match, ok_kept, ok_versioned, parse_param, Json,
};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(ProductPage, ProductListItem);

/// A product as a list shows it: enough for a row of results without another call.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ProductListItem {
    #[serde(flatten)]
    pub product: ProductView,
    /// The holder's registered name.
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub enterprise_name: String,
    /// Kinds of its valid, unexpired certifications (each once, in code order).
    #[schema(example = json!(["green_food"]))]
    pub certifications: Vec<ApplicationKind>,
    /// Kinds of its active, unexpired designations (each once, in code order).
    #[schema(example = json!(["gi_product"]))]
    pub designations: Vec<ApplicationKind>,
}

impl ProductListItem {
    pub(crate) fn page(rows: &[ProductRow], extras: &repo::ListExtras) -> Vec<Self> {
        let kinds = |pairs: &[(String, ApplicationKind)], id: &str| {
            let mut k: Vec<ApplicationKind> = pairs
                .iter()
                .filter(|(p, _)| p == id)
                .map(|(_, k)| *k)
                .collect();
            k.sort_by_key(|k| k.as_str());
            k.dedup();
            k
        };
        rows.iter()
            .map(|r| Self {
                product: ProductView::from(r),
                enterprise_name: extras
                    .enterprise_names
                    .get(&r.enterprise_id)
                    .cloned()
                    .unwrap_or_default(),
                certifications: kinds(&extras.certifications, &r.id),
                designations: kinds(&extras.designations, &r.id),
            })
            .collect()
    }
}

/// Loads a product and applies the policy for `action` (404 when the caller may not see it).
pub fn load_checked(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    id: &str,
    action: Action,
) -> ApiResult<ProductRow> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let status = crate::enterprises::repo::status(conn, &row.enterprise_id)?;
    authorize(actor, action, Target::owned_by(&row.enterprise_id, status))?;
    Ok(row)
}

/// While a record is live, what it certifies about the product (name, brand, GTIN, sector,
/// category, origin) changes only through a `record_change` application: 409 naming the records.
fn ensure_certified_fields_kept(
    conn: &mut DbConn,
    before: &ProductRow,
    after: &ProductRow,
) -> ApiResult<()> {
    let changed = before.name != after.name
        || before.brand != after.brand
        || before.gtin != after.gtin
        || before.sector_code != after.sector_code
        || before.category_code != after.category_code
        || before.origin_region_code != after.origin_region_code;
    if !changed {
        return Ok(());
    }
    let live = crate::records::live_for_product(conn, &before.id)?;
    if live.is_empty() {
        return Ok(());
    }
    Err(ApiError::conflict_with(
        "certified_fields_locked",
        "the product's name, brand, GTIN, sector, category and origin are certified by live \
         records: ask for the change with a record_change application",
        live,
    ))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProductsQuery {
    pub enterprise_id: Option<String>,
    /// `food`, `biomedicine`, `light_textile` or `ethnic_specialty`.
    pub sector: Option<String>,
    /// Origin, GB/T 2260; a prefecture matches its counties too.
    pub region_code: Option<String>,
    /// Text in the name or brand (Chinese substrings work: `枸杞`).
    pub q: Option<String>,
    /// `true` or `false`.
    pub is_new_product: Option<String>,
    /// Holding a current certificate of this kind (`green_food`, `organic`, `halal`).
    pub certification_kind: Option<String>,
    /// Holding an active designation of this kind (`provincial_famous_brand`, `gi_product` …).
    pub designation_kind: Option<String>,
    /// Declaring this standard (any spelling of its code).
    pub standard_code: Option<String>,
    /// Authorised to use this geographical indication's mark.
    pub geographical_indication_id: Option<String>,
    /// Launched on or after (YYYY-MM-DD).
    pub launched_from: Option<String>,
    /// Launched on or before (YYYY-MM-DD).
    pub launched_to: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListProductsQuery {
    /// The filter and page asked for, each bad value named in `errors`. Shared by the API and
    /// the public search page, so both read a query the same way.
    pub fn parse(&self, errors: &mut Errors) -> (ProductFilter, PageRequest) {
        let page = PageRequest::parse(errors, self.limit.as_deref(), self.cursor.as_deref());
        let is_new_product = match self.is_new_product.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                errors.push("is_new_product", "invalid_value", "true or false");
                None
            }
        };
        let filter = ProductFilter {
            enterprise_id: self.enterprise_id.clone(),
            sector: parse_param::<Sector>(errors, "sector", self.sector.as_deref()),
            region_code: self
                .region_code
                .as_deref()
                .and_then(|r| domain::region_code_shape(errors, "region_code", r)),
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
            is_new_product,
            certification_kind: parse_param::<ApplicationKind>(
                errors,
                "certification_kind",
                self.certification_kind.as_deref(),
            ),
            designation_kind: parse_param::<ApplicationKind>(
                errors,
                "designation_kind",
                self.designation_kind.as_deref(),
            ),
            standard_code: self
                .standard_code
                .as_deref()
                .and_then(|c| errors.take("standard_code", crate::domain::StandardCode::parse(c)))
                .map(|c| c.to_string()),
            geographical_indication_id: self.geographical_indication_id.clone(),
            launched_from: crate::http::parse_date(
                errors,
                "launched_from",
                self.launched_from.as_deref(),
            ),
            launched_to: crate::http::parse_date(
                errors,
                "launched_to",
                self.launched_to.as_deref(),
            ),
        };
        (filter, page)
    }
}

/// Search products
#[utoipa::path(
    get, path = "/api/v1/products", tag = "products",
    params(ListProductsQuery),
    responses(
        (status = 200, description = "Products of active enterprises (plus, for its users, the caller's own; everything for regulators)", body = ProductPage),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListProductsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let (filter, page) = q.parse(&mut errors);
    errors.finish()?;
    let vis = crate::auth::policy::visibility(caller.actor.as_ref());
    let p = page.clone();
    let (items, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, &vis, &filter, &p)?;
            let (rows, next_cursor) = p.finish(rows, |r| &r.id);
            let extras = repo::list_extras(conn, &rows)?;
            Ok((ProductListItem::page(&rows, &extras), next_cursor))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProductPage { items, next_cursor }))
}

/// Get a product's profile
#[utoipa::path(
    get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product's whole public profile: enterprise, standards executed, current certifications and designations, geographical indications", body = super::profile::ProductProfile, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "Unknown, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/products/{id}")]
pub async fn get_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = caller.actor.clone();
    // Today is in the key: the profile lists the records in force today.
    let key = format!("profile\u{0}{id}\u{0}{}", crate::clock::today());
    let load = move |conn: &mut DbConn| -> ApiResult<Loaded> {
        let row = load_checked(conn, actor.as_ref(), &id, Action::Read)?;
        let profile = super::profile::build(conn, row)?;
        Ok(Loaded {
            answer: kept(&profile, profile.product.version)?,
            depends_on: profile.depends_on(),
        })
    };
    Ok(ok_kept(
        &public_answer(&state, &caller, "profile", key, load).await?,
    ))
}

/// The public's answer through the cache; a signed-in caller's (which may hold private data)
/// built for them and never kept.
async fn public_answer<F>(
    state: &AppState,
    caller: &Caller,
    name: &'static str,
    key: String,
    load: F,
) -> ApiResult<Kept>
where
    F: FnOnce(&mut DbConn) -> ApiResult<Loaded> + Send + 'static,
{
    if caller.actor.is_some() || !state.answers.enabled() {
        return Ok(state.db(load).await?.answer);
    }
    Answers::through(state, name, key, load).await
}

/// An answer to keep in the cache.
fn kept<T: serde::Serialize>(body: &T, version: i32) -> ApiResult<Kept> {
    Ok(Kept {
        json: serde_json::to_string(body)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .into(),
        version: Some(version),
    })
}

/// Look a product up by GTIN
#[utoipa::path(
    get, path = "/api/v1/products/by-gtin/{gtin}", tag = "products",
    params(("gtin" = String, Path, description = "GTIN-13", example = "6936983800013")),
    responses(
        (status = 200, body = ProductView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid GTIN-13", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/products/by-gtin/{gtin}")]
pub async fn get_product_by_gtin(
    state: web::Data<AppState>,
    caller: Caller,
    gtin: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let gtin = errors.take("gtin", Gtin::parse(&gtin));
    errors.finish()?;
    let gtin = gtin.ok_or(ApiError::NotFound)?;
    let actor = caller.actor.clone();
    let key = format!("gtin\u{0}{}", gtin.as_str());
    let load = move |conn: &mut DbConn| -> ApiResult<Loaded> {
        let row = repo::find_by_gtin(conn, gtin.as_str())?.ok_or(ApiError::NotFound)?;
        let row = load_checked(conn, actor.as_ref(), &row.id, Action::Read)?;
        Ok(Loaded {
            answer: kept(&ProductView::from(&row), row.version)?,
            depends_on: vec![
                entity("product", &row.id),
                entity("enterprise", &row.enterprise_id),
            ],
        })
    };
    Ok(ok_kept(
        &public_answer(&state, &caller, "gtin", key, load).await?,
    ))
}

/// Register a product
#[utoipa::path(
    post, path = "/api/v1/products", tag = "products",
    request_body = CreateProductRequest,
    responses(
        (status = 201, body = ProductView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Regulators and admins do not manage products", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The enterprise is not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GTIN already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/products")]
pub async fn create_product(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateProductRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let mut errors = Errors::new();
    let new = NewProduct::parse(&mut errors, &body.0);
    errors.finish()?;
    let new = new.ok_or_else(|| ApiError::Internal("validated product missing".into()))?;
    let ctx = AuditCtx::of(&caller);
    let row = state
        .db(move |conn| service::create_as(conn, &actor, &ctx, new))
        .await?;
    Ok(created_versioned(
        &ProductView::from(&row),
        row.version,
        format!("/api/v1/products/{}", row.id),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "discontinued"}))]
pub struct UpdateProductRequest {
    pub name: Option<String>,
    pub brand: Option<String>,
    pub gtin: Option<String>,
    pub sector: Option<String>,
    pub category: Option<String>,
    pub origin_region_code: Option<String>,
    pub ingredients: Option<Vec<Ingredient>>,
    pub suitable_for: Option<String>,
    pub unsuitable_for: Option<String>,
    pub is_new_product: Option<bool>,
    #[serde(default, deserialize_with = "crate::domain::dates::optional")]
    pub launched_on: Option<NaiveDate>,
    /// `active` or `discontinued`.
    pub status: Option<String>,
}

/// Edit a product
#[utoipa::path(
    patch, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id"), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, body = ProductView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateProductRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let expected = if_match(&req)?;
    let b = body.0;
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let row = state
        .db(move |conn| update_as(conn, &actor, &ctx, &id, expected, &b))
        .await?;
    Ok(ok_versioned(&ProductView::from(&row), row.version))
}

/// Edits a product the actor manages, as `PATCH /products/{id}` does: absent fields stay, what
/// live records certify stays unless a `record_change` is approved, and the edit is audited.
pub fn update_as(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    expected: Option<i32>,
    b: &UpdateProductRequest,
) -> ApiResult<ProductRow> {
    let mut errors = Errors::new();
    let name = b
        .name
        .as_deref()
        .map(|v| domain::text(&mut errors, "name", v, 200));
    let brand = b
        .brand
        .as_deref()
        .map(|v| domain::text(&mut errors, "brand", v, 200));
    let gtin = b
        .gtin
        .as_deref()
        .map(|v| errors.take("gtin", Gtin::parse(v)));
    let sector = b
        .sector
        .as_deref()
        .map(|v| errors.take("sector", Sector::parse(v)));
    let category = b
        .category
        .as_deref()
        .map(|v| domain::text(&mut errors, "category", v, 64));
    let region = b
        .origin_region_code
        .as_deref()
        .map(|v| domain::region_code_shape(&mut errors, "origin_region_code", v));
    let ingredients = b
        .ingredients
        .as_deref()
        .map(|v| service::parse_ingredients(&mut errors, v));
    let suitable = domain::opt_text(&mut errors, "suitable_for", b.suitable_for.as_deref(), 500);
    let unsuitable = domain::opt_text(
        &mut errors,
        "unsuitable_for",
        b.unsuitable_for.as_deref(),
        500,
    );
    let status = b
        .status
        .as_deref()
        .map(|v| errors.take("status", ProductStatus::parse(v)));
    errors.finish()?;
    write_tx(conn, |conn| {
        let before = load_checked(conn, Some(actor), id, Action::ManageProducts)?;
        check_if_match(expected, before.version)?;
        let mut after = before.clone();
        if let Some(Some(v)) = name {
            after.name = v;
        }
        if let Some(Some(v)) = brand {
            after.brand = v;
        }
        if let Some(Some(v)) = &gtin {
            after.gtin = Some(v.as_str().to_owned());
        }
        if let Some(Some(v)) = sector {
            after.sector_code = v;
        }
        if let Some(Some(v)) = category {
            after.category_code = v;
        }
        if let Some(Some(v)) = region {
            after.origin_region_code = v;
        }
        if let Some(Some(v)) = ingredients {
            after.ingredients = serde_json::to_string(&v).unwrap_or_default();
        }
        if b.suitable_for.is_some() {
            after.suitable_for = suitable.flatten();
        }
        if b.unsuitable_for.is_some() {
            after.unsuitable_for = unsuitable.flatten();
        }
        if let Some(v) = b.is_new_product {
            after.is_new_product = v;
        }
        if let Some(v) = b.launched_on {
            after.launched_on = Some(v);
        }
        if let Some(Some(v)) = status {
            after.status = v;
        }
        if after.is_new_product && after.launched_on.is_none() {
            return Err(ApiError::field(
                "launched_on",
                "required",
                "a new product needs its launch date",
            ));
        }
        ensure_certified_fields_kept(conn, &before, &after)?;
        let sector = after.sector_code;
        let g = after
            .gtin
            .as_deref()
            .map(Gtin::parse)
            .transpose()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        after.origin_region_code = service::check_references(
            conn,
            &after.enterprise_id,
            sector,
            &after.category_code,
            &after.origin_region_code,
            g.as_ref(),
            Some(id),
        )?;
        after.updated_at = crate::clock::now();
        after.version += 1;
        if repo::update_guarded(conn, &after, before.version)? == 0 {
            return Err(ApiError::conflict(
                "concurrent_update",
                "the product changed meanwhile; reload and retry",
            ));
        }
        audit::record(
            conn,
            ctx,
            Change {
                action: "product.update",
                entity_type: "product",
                entity_id: id,
                before: serde_json::to_value(ProductView::from(&before)).ok(),
                after: serde_json::to_value(ProductView::from(&after)).ok(),
                reason: None,
            },
        )?;
        Ok(after)
    })
}
