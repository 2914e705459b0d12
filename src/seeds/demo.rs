//! The fictional demo set: enterprises, products with their declared standards, one login per
//! role, and applications in every state (`demo/workflow.json`).

use diesel::prelude::*;
use serde::Deserialize;

use super::reference::none_if_empty;
use super::{rows, SeedError};
use crate::audit::AuditCtx;
use crate::db::{write_tx, DbConn};
use crate::domain::{EnterpriseStatus, StandardCode};
use crate::error::{ApiError, ApiResult, Errors};

const DEMO_ENTERPRISES: &str = include_str!("../../seeds/demo/enterprises.csv");
const DEMO_PRODUCTS: &str = include_str!("../../seeds/demo/products.csv");
const DEMO_USERS: &str = include_str!("../../seeds/demo/users.csv");

/// A row that parsed but does not validate: the first invalid field, with the file and line.
fn invalid(file: &str, line: u64, errors: Errors) -> ApiError {
    match errors.finish() {
        Err(ApiError::Validation(fields)) if !fields.is_empty() => {
            SeedError::new(file, line, fields[0].field.clone(), &fields[0].message).into()
        }
        _ => SeedError::new(file, line, "row", "invalid").into(),
    }
}

#[derive(Deserialize)]
struct DemoEnterpriseCsv {
    uscc: String,
    name: String,
    legal_representative: String,
    region_code: String,
    address: String,
    sectors: String,
    scale: String,
    contact_phone: String,
    contact_email: String,
    status: EnterpriseStatus,
}

#[derive(Deserialize)]
struct DemoProductCsv {
    enterprise_uscc: String,
    name: String,
    brand: String,
    gtin: String,
    sector: String,
    category: String,
    origin_region_code: String,
    ingredients: String,
    suitable_for: String,
    unsuitable_for: String,
    is_new_product: bool,
    launched_on: Option<chrono::NaiveDate>,
    standard_codes: String,
}

#[derive(Deserialize, Clone)]
pub struct DemoUser {
    pub username: String,
    pub role: String,
    pub agency: String,
    pub enterprise_uscc: String,
    pub password: String,
}

/// The demo logins, as documented in the README.
pub fn demo_users() -> Vec<DemoUser> {
    rows("demo/users.csv", DEMO_USERS)
        .map(|rows| rows.into_iter().map(|r| r.value).collect())
        .unwrap_or_default()
}

/// Loads the fictional demo set (enterprises, products, declared standards, one user per role).
/// Password hashes are computed by the caller, off any transaction, and passed in by username.
pub fn load_demo(conn: &mut DbConn, hashes: &[(String, String)]) -> ApiResult<usize> {
    let ctx = AuditCtx::system("demo-seed");
    write_tx(conn, |conn| {
        let mut inserted = 0;
        for row in rows::<DemoEnterpriseCsv>("demo/enterprises.csv", DEMO_ENTERPRISES)? {
            let (line, e) = (row.line, row.value);
            if crate::enterprises::repo::find_by_uscc(conn, &e.uscc)?.is_some() {
                continue;
            }
            let input = crate::enterprises::service::EnterpriseInput {
                uscc: e.uscc.clone(),
                name: e.name,
                legal_representative: e.legal_representative,
                region_code: e.region_code,
                address: e.address,
                sectors: e.sectors.split(';').map(|s| s.trim().to_owned()).collect(),
                scale: e.scale,
                above_designated_size: false,
                contact_phone: e.contact_phone,
                contact_email: e.contact_email,
            };
            let mut errors = Errors::new();
            let new =
                crate::enterprises::service::NewEnterprise::parse(&mut errors, "", &input, None);
            let Some(new) = new.filter(|_| errors.is_empty()) else {
                return Err(invalid("demo/enterprises.csv", line, errors));
            };
            let status = e.status;
            let initial = if status == EnterpriseStatus::Pending {
                EnterpriseStatus::Pending
            } else {
                EnterpriseStatus::Active
            };
            let mut row = crate::enterprises::service::create(
                conn,
                &ctx,
                new,
                initial,
                "",
                crate::enterprises::service::Claim::Direct,
            )?;
            if status != initial {
                let version = row.version;
                row.status = status;
                row.version += 1;
                crate::enterprises::repo::update_guarded(conn, &row, version)?;
            }
            inserted += 1;
        }
        for row in rows::<DemoProductCsv>("demo/products.csv", DEMO_PRODUCTS)? {
            let (line, p) = (row.line, row.value);
            let file = "demo/products.csv";
            let ent = crate::enterprises::repo::find_by_uscc(conn, &p.enterprise_uscc)?
                .ok_or_else(|| {
                    SeedError::new(file, line, "enterprise_uscc", "unknown enterprise")
                })?;
            let exists: i64 = crate::db::schema::products::table
                .filter(crate::db::schema::products::enterprise_id.eq(&ent.id))
                .filter(crate::db::schema::products::name.eq(&p.name))
                .count()
                .get_result(conn)?;
            if exists > 0 {
                continue;
            }
            let req = crate::products::service::CreateProductRequest {
                enterprise_id: ent.id.clone(),
                name: p.name.clone(),
                brand: p.brand,
                gtin: none_if_empty(p.gtin),
                sector: p.sector,
                category: p.category,
                origin_region_code: p.origin_region_code,
                ingredients: serde_json::from_str(&p.ingredients)
                    .map_err(|e| SeedError::new(file, line, "ingredients", e))?,
                suitable_for: none_if_empty(p.suitable_for),
                unsuitable_for: none_if_empty(p.unsuitable_for),
                is_new_product: p.is_new_product,
                launched_on: p.launched_on,
            };
            let mut errors = Errors::new();
            let new = crate::products::service::NewProduct::parse(&mut errors, &req);
            let Some(new) = new.filter(|_| errors.is_empty()) else {
                return Err(invalid(file, line, errors));
            };
            let row = crate::products::service::create(conn, &ctx, new)?;
            let codes = super::list(
                file,
                line,
                "standard_codes",
                &p.standard_codes,
                StandardCode::parse,
            )?;
            for code in codes {
                crate::products::service::declare_standard(conn, &ctx, &row.id, &code)?;
            }
            inserted += 1;
        }
        for row in rows::<DemoUser>("demo/users.csv", DEMO_USERS)? {
            let (line, u) = (row.line, row.value);
            if crate::users::repo::find_by_username(conn, &u.username)?.is_some() {
                continue;
            }
            let enterprise_id = match none_if_empty(u.enterprise_uscc.clone()) {
                Some(uscc) => Some(
                    crate::enterprises::repo::find_by_uscc(conn, &uscc)?
                        .ok_or_else(|| {
                            SeedError::new(
                                "demo/users.csv",
                                line,
                                "enterprise_uscc",
                                "unknown enterprise",
                            )
                        })?
                        .id,
                ),
                None => None,
            };
            let mut errors = Errors::new();
            let agency = none_if_empty(u.agency.clone());
            let new = crate::users::service::NewUser::parse(
                &mut errors,
                &u.username,
                &u.role,
                agency.as_deref(),
                enterprise_id.as_deref(),
            );
            let Some(new) = new.filter(|_| errors.is_empty()) else {
                return Err(invalid("demo/users.csv", line, errors));
            };
            let hash = hashes
                .iter()
                .find(|(n, _)| *n == u.username)
                .map(|(_, h)| h.clone())
                .ok_or_else(|| {
                    ApiError::Internal(format!("no hash for demo user {}", u.username))
                })?;
            crate::users::service::create(conn, &ctx, new, hash)?;
            inserted += 1;
        }
        let applications: i64 = crate::db::schema::applications::table
            .count()
            .get_result(conn)?;
        if applications == 0 {
            inserted += super::demo_workflow::load(conn, &ctx)?;
        }
        inserted += super::demo_supervision::load(conn, &ctx)?;
        Ok(inserted)
    })
}
