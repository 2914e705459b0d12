//! The console's products: an enterprise registers a product and edits it through the API's
//! own parsing and services (errors at their fields, what was typed kept), and declares the
//! standards it is made to from the catalogue.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::console::{field_error, form_token, posted, private, refusal, see_other, signed_in};
use super::i18n::Tr;
use super::path_segment;
use super::Reader;
use crate::applications::machine::Step;
use crate::applications::workflow::{self, Ctx, NewApplication};
use crate::audit::AuditCtx;
use crate::auth::{Action, Actor, Caller};
use crate::db::write_tx;
use crate::domain::{ApplicationKind, Role, Sector, StandardCode, StandardStatus};
use crate::error::{ApiError, FieldError};
use crate::pagination::PageRequest;
use crate::products::repo::ProductRow;
use crate::products::routes::{load_checked, update_as, UpdateProductRequest};
use crate::products::service::{CreateProductRequest, Ingredient, NewProduct};
use crate::products::standards_routes::{declare_as, declared, undeclare_as, DeclaredStandard};
use crate::standards::repo::StandardFilter;
use crate::state::AppState;

/// Where the new-product form posts.
const NEW: &str = "/console/products/new";

/// The product form's fields as typed, shown back with each field's error.
#[derive(Debug, Default, Deserialize)]
pub struct ProductForm {
    csrf: Option<String>,
    name: Option<String>,
    brand: Option<String>,
    gtin: Option<String>,
    sector: Option<String>,
    category: Option<String>,
    origin_region_code: Option<String>,
    /// One ingredient per line, `name` or `name 40%`.
    ingredients: Option<String>,
    suitable_for: Option<String>,
    unsuitable_for: Option<String>,
    is_new_product: Option<String>,
    launched_on: Option<String>,
    /// The version the edit form was filled from: a change made meanwhile is not overwritten.
    version: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/console/product_form.html")]
struct ProductFormPage {
    t: Tr,
    csrf: String,
    /// Where the form posts: the new product, or the product being edited.
    action: String,
    heading_key: &'static str,
    form: ProductForm,
    sectors: Vec<(&'static str, &'static str)>,
    errors: Vec<FieldError>,
    /// What went wrong that is not one field's (certified fields locked, changed meanwhile).
    notice: Option<String>,
    /// Live records certify what was changed: the form offers to ask for the change instead.
    locked: bool,
}

impl ProductFormPage {
    fn new(reader: &Reader, session: &str, action: String, form: ProductForm) -> Self {
        let editing = action != NEW;
        ProductFormPage {
            t: reader.t,
            csrf: form_token(session),
            action,
            heading_key: if editing {
                "console.edit_product"
            } else {
                "console.add_product"
            },
            form,
            sectors: sectors(reader.t),
            errors: Vec::new(),
            notice: None,
            locked: false,
        }
    }

    /// Where the form that asks for a change of certified facts posts.
    fn change_action(&self) -> String {
        self.action.replace("/edit", "/record-change")
    }

    /// The message for `field`, if it has one.
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// The form's one-line fields: name, label, input type, hint, whether it is the GTIN.
    fn text_fields(&self) -> Vec<TextField> {
        vec![
            ("name", "console.name_label", "text", None, false),
            ("brand", "product.brand", "text", None, false),
            (
                "gtin",
                "product.gtin",
                "text",
                Some("console.gtin_hint"),
                true,
            ),
            (
                "category",
                "product.category",
                "text",
                Some("console.category_hint"),
                false,
            ),
            (
                "origin_region_code",
                "product.origin",
                "text",
                Some("console.region_hint"),
                false,
            ),
            ("suitable_for", "product.suitable_for", "text", None, false),
            (
                "unsuitable_for",
                "product.unsuitable_for",
                "text",
                None,
                false,
            ),
            ("launched_on", "product.launched_on", "date", None, false),
        ]
    }

    fn field_value(&self, name: &str) -> &str {
        let f = &self.form;
        let v = match name {
            "name" => &f.name,
            "brand" => &f.brand,
            "gtin" => &f.gtin,
            "category" => &f.category,
            "origin_region_code" => &f.origin_region_code,
            "suitable_for" => &f.suitable_for,
            "unsuitable_for" => &f.unsuitable_for,
            "launched_on" => &f.launched_on,
            _ => return "",
        };
        self.value(v)
    }
}

type TextField = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
);

fn sectors(t: Tr) -> Vec<(&'static str, &'static str)> {
    Sector::ALL
        .iter()
        .map(|s| (s.as_str(), t.sector(s)))
        .collect()
}

#[get("/console/products/new")]
pub async fn product_form(req: HttpRequest, reader: Reader, caller: Caller) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    if actor.role != Role::Enterprise {
        return reader.failure(ApiError::Forbidden);
    }
    let page = ProductFormPage::new(&reader, &session, NEW.to_owned(), ProductForm::default());
    private(reader.page(StatusCode::OK, &page))
}

/// Registers a product from the form through the API's own parsing and service: errors are
/// shown at their fields, the form keeps what was typed.
#[post("/console/products/new")]
pub async fn create_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    form: web::Form<ProductForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let mut errors = crate::error::Errors::new();
    let request = CreateProductRequest {
        enterprise_id: actor.enterprise_id.clone().unwrap_or_default(),
        name: form.name.clone().unwrap_or_default(),
        brand: form.brand.clone().unwrap_or_default(),
        gtin: form.gtin.clone(),
        sector: form.sector.clone().unwrap_or_default(),
        category: form.category.clone().unwrap_or_default(),
        origin_region_code: form.origin_region_code.clone().unwrap_or_default(),
        ingredients: ingredients(&form.ingredients.clone().unwrap_or_default()),
        suitable_for: form.suitable_for.clone().filter(|s| !s.trim().is_empty()),
        unsuitable_for: form.unsuitable_for.clone().filter(|s| !s.trim().is_empty()),
        is_new_product: form.is_new_product.is_some(),
        launched_on: form
            .launched_on
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| crate::http::parse_date(&mut errors, "launched_on", Some(d))),
    };
    let new = NewProduct::parse(&mut errors, &request);
    let result = match (errors.finish(), new) {
        (Ok(()), Some(new)) => {
            let ctx = AuditCtx::of(&caller);
            state
                .db(move |conn| crate::products::service::create_as(conn, &actor, &ctx, new))
                .await
        }
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(ApiError::Internal("validated product missing".into())),
    };
    let fields = match result {
        Ok(row) => return see_other(&format!("/p/{}", row.id)),
        Err(ApiError::Validation(fields)) => fields,
        Err(ApiError::Conflict { code, detail, .. }) if code.contains("gtin") => {
            vec![FieldError::new("gtin", code, detail)]
        }
        Err(e) => return reader.failure(e),
    };
    let mut page = ProductFormPage::new(&reader, &session, NEW.to_owned(), form);
    page.errors = fields;
    private(reader.page(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// `枸杞 60%` → 枸杞 at 60 %; `枸杞` → no content given. Blank lines are skipped.
fn ingredients(text: &str) -> Vec<Ingredient> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let with_percent = line.strip_suffix('%').and_then(|body| {
                let (name, number) = body.trim_end().rsplit_once(char::is_whitespace)?;
                Some((name.trim(), number.parse::<f64>().ok()?))
            });
            let (name, percent) = match with_percent {
                Some((name, p)) => (name, Some(p)),
                None => (line, None),
            };
            Ingredient {
                name: name.to_owned(),
                content_percent: percent,
            }
        })
        .collect()
}

/// The form filled from a stored product.
fn form_of(p: &ProductRow) -> ProductForm {
    let ingredients: Vec<Ingredient> = serde_json::from_str(&p.ingredients).unwrap_or_default();
    ProductForm {
        csrf: None,
        name: Some(p.name.clone()),
        brand: Some(p.brand.clone()),
        gtin: p.gtin.clone(),
        sector: Some(p.sector_code.as_str().to_owned()),
        category: Some(p.category_code.clone()),
        origin_region_code: Some(p.origin_region_code.clone()),
        ingredients: Some(
            ingredients
                .iter()
                .map(|i| match i.content_percent {
                    Some(c) => format!("{} {c}%", i.name),
                    None => i.name.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        suitable_for: p.suitable_for.clone(),
        unsuitable_for: p.unsuitable_for.clone(),
        is_new_product: p.is_new_product.then(|| "true".to_owned()),
        launched_on: p.launched_on.map(|d| d.to_string()),
        version: Some(p.version.to_string()),
    }
}

fn edit_path(id: &str) -> String {
    format!("/console/products/{}/edit", path_segment(id))
}

#[get("/console/products/{id}/edit")]
pub async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    let id = id.into_inner();
    let key = id.clone();
    let loaded = state
        .db(move |conn| load_checked(conn, Some(&actor), &key, Action::ManageProducts))
        .await;
    match loaded {
        Ok(p) => private(reader.page(
            StatusCode::OK,
            &ProductFormPage::new(&reader, &session, edit_path(&id), form_of(&p)),
        )),
        Err(e) => reader.failure(e),
    }
}

/// Edits the product through the API's own `update_as`: what live records certify stays
/// unless a change is approved, and a change made meanwhile is not overwritten.
#[post("/console/products/{id}/edit")]
pub async fn edit_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<ProductForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let id = id.into_inner();
    let mut errors = crate::error::Errors::new();
    let text = |v: &Option<String>| Some(v.clone().unwrap_or_default());
    let request = UpdateProductRequest {
        name: text(&form.name),
        brand: text(&form.brand),
        gtin: form.gtin.clone().filter(|g| !g.trim().is_empty()),
        sector: text(&form.sector),
        category: text(&form.category),
        origin_region_code: text(&form.origin_region_code),
        ingredients: Some(ingredients(&form.ingredients.clone().unwrap_or_default())),
        suitable_for: text(&form.suitable_for),
        unsuitable_for: text(&form.unsuitable_for),
        is_new_product: Some(form.is_new_product.is_some()),
        launched_on: form
            .launched_on
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| crate::http::parse_date(&mut errors, "launched_on", Some(d))),
        status: None,
    };
    let expected = form.version.as_deref().and_then(|v| v.parse().ok());
    let ctx = AuditCtx::of(&caller);
    let key = id.clone();
    let result = match errors.finish() {
        Ok(()) => {
            state
                .db(move |conn| update_as(conn, &actor, &ctx, &key, expected, &request))
                .await
        }
        Err(e) => Err(e),
    };
    let mut page = ProductFormPage::new(&reader, &session, edit_path(&id), form);
    let status = match result {
        Ok(row) => return see_other(&format!("/p/{}", path_segment(&row.id))),
        Err(ApiError::Validation(fields)) => {
            page.errors = fields;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(ApiError::Conflict { code, detail, .. }) if code.contains("gtin") => {
            page.errors = vec![FieldError::new("gtin", code, detail)];
            StatusCode::CONFLICT
        }
        Err(ApiError::Conflict { code, detail, .. }) => {
            page.locked = code == "certified_fields_locked";
            page.notice = Some(detail);
            StatusCode::CONFLICT
        }
        Err(ApiError::PreconditionFailed) => {
            page.notice = Some(reader.t.get("console.changed_meanwhile").to_owned());
            StatusCode::PRECONDITION_FAILED
        }
        Err(e) => return reader.failure(e),
    };
    private(reader.page(status, &page))
}

/// A field as typed, trimmed ("" when absent).
fn typed(v: &Option<String>) -> &str {
    v.as_deref().map(str::trim).unwrap_or("")
}

/// Asks for a change of what live records certify: a `record_change` application with the
/// fields that differ from the product as it is, submitted through the workflow, which every
/// agency deciding one of its records must approve.
#[post("/console/products/{id}/record-change")]
pub async fn request_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<ProductForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, _) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let id = id.into_inner();
    let audit = AuditCtx::of(&caller);
    let notice = state.settings.public_notice_days;
    let created = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let p = load_checked(conn, Some(&actor), &id, Action::ManageProducts)?;
                let mut changes = serde_json::Map::new();
                for (field, now, asked) in [
                    ("name", p.name.as_str(), typed(&form.name)),
                    ("brand", p.brand.as_str(), typed(&form.brand)),
                    ("gtin", p.gtin.as_deref().unwrap_or(""), typed(&form.gtin)),
                    ("sector", p.sector_code.as_str(), typed(&form.sector)),
                    ("category", p.category_code.as_str(), typed(&form.category)),
                    (
                        "origin_region_code",
                        p.origin_region_code.as_str(),
                        typed(&form.origin_region_code),
                    ),
                ] {
                    if !asked.is_empty() && asked != now {
                        changes.insert(field.into(), asked.into());
                    }
                }
                let ctx = Ctx {
                    actor: Some(&actor),
                    audit: &audit,
                    notice_days_override: notice,
                };
                let draft = workflow::create(
                    conn,
                    &ctx,
                    NewApplication {
                        kind: ApplicationKind::RecordChange,
                        enterprise_id: p.enterprise_id.clone(),
                        product_id: Some(p.id.clone()),
                        geographical_indication_id: None,
                        details: serde_json::json!({ "changes": changes }),
                        documents: Vec::new(),
                        renews: None,
                    },
                )?;
                workflow::step(conn, &ctx, &draft.id, Step::Submit, None)
            })
        })
        .await;
    match created {
        Ok(row) => see_other(&format!("/console/applications/{}", path_segment(&row.id))),
        Err(e) => reader.failure(e),
    }
}

#[derive(askama::Template)]
#[template(path = "web/console/standards.html")]
struct StandardsPage {
    t: Tr,
    csrf: String,
    product: ProductRow,
    declared: Vec<DeclaredStandard>,
    /// Catalogued standards matching the search, not withdrawn: (code, title, English title).
    catalogue: Vec<(String, String, Option<String>)>,
    q: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CatalogueQuery {
    q: Option<String>,
}

fn standards_path(id: &str) -> String {
    format!("/console/products/{}/standards", path_segment(id))
}

#[allow(clippy::too_many_arguments)]
async fn standards_view(
    state: &AppState,
    reader: &Reader,
    actor: Actor,
    session: &str,
    id: String,
    q: String,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let search = q.clone();
    let loaded = state
        .db(move |conn| {
            let product = load_checked(conn, Some(&actor), &id, Action::ManageProducts)?;
            let declared = declared(conn, Some(&actor), &id)?;
            let filter = StandardFilter {
                q: Some(search).filter(|s| !s.trim().is_empty()),
                ..StandardFilter::default()
            };
            let page = PageRequest {
                limit: 50,
                after: None,
            };
            let catalogue = crate::standards::repo::list(conn, &filter, &page)?
                .into_iter()
                .filter(|s| s.status != StandardStatus::Withdrawn)
                .filter(|s| !declared.iter().any(|d| d.standard.id == s.id))
                .map(|s| (s.code, s.title_zh, s.title_en))
                .collect();
            Ok((product, declared, catalogue))
        })
        .await;
    match loaded {
        Ok((product, declared, catalogue)) => private(reader.page(
            status,
            &StandardsPage {
                t: reader.t,
                csrf: form_token(session),
                product,
                declared,
                catalogue,
                q,
                error,
            },
        )),
        Err(e) => reader.failure(e),
    }
}

/// The standards a product declares, and the catalogue to choose more from.
#[get("/console/products/{id}/standards")]
pub async fn standards_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<CatalogueQuery>,
) -> HttpResponse {
    let (actor, session) = or_answer!(signed_in(&req, &caller));
    let q = q.into_inner().q.unwrap_or_default();
    standards_view(
        &state,
        &reader,
        actor,
        &session,
        id.into_inner(),
        q,
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct DeclareForm {
    csrf: Option<String>,
    standard_code: Option<String>,
}

/// Declares a catalogued standard through the API's `declare_as`.
#[post("/console/products/{id}/standards")]
pub async fn declare_standard(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    id: web::Path<String>,
    form: web::Form<DeclareForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (actor, session) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let id = id.into_inner();
    let ctx = AuditCtx::of(&caller);
    let (who, key) = (actor.clone(), id.clone());
    let done = match StandardCode::parse(form.standard_code.as_deref().unwrap_or("")) {
        Ok(code) => {
            state
                .db(move |conn| write_tx(conn, |conn| declare_as(conn, &who, &ctx, &key, &code)))
                .await
        }
        Err(e) => Err(ApiError::field(
            "standard_code",
            "invalid_value",
            e.to_string(),
        )),
    };
    let (error, status) = match done.map_err(refusal) {
        Ok(_) => return see_other(&standards_path(&id)),
        Err(Ok(said)) => said,
        Err(Err(e)) => return reader.failure(e),
    };
    standards_view(
        &state,
        &reader,
        actor,
        &session,
        id,
        String::new(),
        status,
        Some(error),
    )
    .await
}

/// No longer declares a standard.
#[post("/console/products/{id}/standards/{standard_id}/remove")]
pub async fn undeclare_standard(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    caller: Caller,
    path: web::Path<(String, String)>,
    form: web::Form<super::console::TokenForm>,
) -> HttpResponse {
    let (actor, _) = or_answer!(posted(&req, &caller, &reader, form.csrf.as_deref()));
    let (id, standard_id) = path.into_inner();
    let ctx = AuditCtx::of(&caller);
    let key = id.clone();
    match state
        .db(move |conn| {
            write_tx(conn, |conn| {
                undeclare_as(conn, &actor, &ctx, &key, &standard_id)
            })
        })
        .await
    {
        Ok(()) => see_other(&standards_path(&id)),
        Err(e) => reader.failure(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingredients_are_read_one_per_line_with_an_optional_percentage() {
        let got = ingredients("枸杞 60%\n\n  水 \n白砂糖 5.5 %\n");
        let names: Vec<_> = got.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["枸杞", "水", "白砂糖"]);
        assert_eq!(got[0].content_percent, Some(60.0));
        assert_eq!(got[1].content_percent, None);
        assert_eq!(got[2].content_percent, Some(5.5));
    }
}
