//! Loads `seeds/` (compiled into the binary): reference data on every start, idempotently, and
//! the fictional demo set on request. Rows already present are left as they are, so an
//! operator's edits survive restarts.

use std::collections::HashSet;

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::{
    agencies, agency_responsibilities, categories, plan_targets, regions, sectors,
    standard_prefixes, standards,
};
use crate::db::{write_tx, DbConn};
use crate::domain::{EnterpriseStatus, StandardCode, StandardLevel, StandardStatus};
use crate::error::{ApiError, ApiResult, Errors};

const REGIONS: &str = include_str!("../seeds/regions.csv");
const AGENCIES: &str = include_str!("../seeds/agencies.csv");
const SECTORS: &str = include_str!("../seeds/sectors.csv");
const CATEGORIES: &str = include_str!("../seeds/categories.csv");
const PREFIXES: &str = include_str!("../seeds/standard_prefixes.csv");
const STANDARDS: &str = include_str!("../seeds/standards.csv");
const TARGETS: &str = include_str!("../seeds/plan_targets.csv");
const KINDS: &str = include_str!("../seeds/application_kinds.csv");
const BODIES: &str = include_str!("../seeds/certification_bodies.csv");
const GIS: &str = include_str!("../seeds/geographical_indications.csv");
const DEMO_ENTERPRISES: &str = include_str!("../seeds/demo/enterprises.csv");
const DEMO_PRODUCTS: &str = include_str!("../seeds/demo/products.csv");
const DEMO_USERS: &str = include_str!("../seeds/demo/users.csv");

fn rows<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> ApiResult<Vec<T>> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| ApiError::Internal(format!("seeds/{name}: {e}")))
}

fn none_if_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[derive(Deserialize)]
struct RegionCsv {
    code: String,
    name_zh: String,
    name_en: String,
    level: String,
    parent_code: String,
    alias_of: String,
}

#[derive(Deserialize)]
struct AgencyCsv {
    code: String,
    name_zh: String,
    name_en: String,
    decides: String,
}

#[derive(Deserialize)]
struct SectorCsv {
    code: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct CategoryCsv {
    code: String,
    sector: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct PrefixCsv {
    prefix: String,
    level: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct StandardCsv {
    code: String,
    title_zh: String,
    title_en: String,
    level: String,
    status: String,
    replaced_by: String,
    effective_on: String,
    source: String,
    confidence: String,
}

#[derive(Deserialize)]
struct TargetCsv {
    year: i32,
    code: String,
    sector: String,
    target: i64,
    unit: String,
    description_zh: String,
    description_en: String,
}

#[derive(Deserialize)]
struct KindCsv {
    code: String,
    category: String,
    name_zh: String,
    name_en: String,
    validity_months: String,
    accepting_applications: bool,
    public_notice: bool,
    notice_days: i32,
    food_only: bool,
    number_prefix: String,
    note: String,
}

#[derive(Deserialize)]
struct BodyCsv {
    key: String,
    name_zh: String,
    name_en: String,
    abbreviation: String,
    approval_number: String,
    kinds: String,
    website: String,
    source: String,
    confidence: String,
}

#[derive(Deserialize)]
struct GiCsv {
    key: String,
    name_zh: String,
    name_en: String,
    system: String,
    product_category: String,
    protected_area_region_codes: String,
    announcement: String,
    defining_standard: String,
    source: String,
    confidence: String,
}

/// How many rows of each kind a load inserted.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SeedReport {
    pub regions: usize,
    pub agencies: usize,
    pub sectors: usize,
    pub categories: usize,
    pub standard_prefixes: usize,
    pub standards: usize,
    pub plan_targets: usize,
    pub application_kinds: usize,
    pub certification_bodies: usize,
    pub geographical_indications: usize,
}

impl SeedReport {
    pub fn total(&self) -> usize {
        self.regions
            + self.agencies
            + self.sectors
            + self.categories
            + self.standard_prefixes
            + self.standards
            + self.plan_targets
    }
}

/// Loads the reference data that is missing. A second run inserts nothing.
pub fn load_reference(conn: &mut DbConn) -> ApiResult<SeedReport> {
    write_tx(conn, |conn| {
        let mut r = SeedReport::default();

        // Regions refer to parents and current codes: insert in passes until all fit.
        let mut pending: Vec<RegionCsv> = rows("regions.csv", REGIONS)?;
        let mut have: HashSet<String> = regions::table
            .select(regions::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        pending.retain(|x| !have.contains(&x.code));
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for x in pending {
                let parent = none_if_empty(x.parent_code.clone());
                let alias = none_if_empty(x.alias_of.clone());
                if parent.iter().chain(alias.iter()).all(|c| have.contains(c)) {
                    diesel::insert_into(regions::table)
                        .values((
                            regions::code.eq(&x.code),
                            regions::name_zh.eq(&x.name_zh),
                            regions::name_en.eq(&x.name_en),
                            regions::level.eq(&x.level),
                            regions::parent_code.eq(parent),
                            regions::alias_of.eq(alias),
                        ))
                        .execute(conn)?;
                    have.insert(x.code);
                    r.regions += 1;
                } else {
                    rest.push(x);
                }
            }
            if rest.len() == before {
                let codes: Vec<&str> = rest.iter().map(|x| x.code.as_str()).collect();
                return Err(ApiError::Internal(format!(
                    "seeds/regions.csv: unresolvable parents for {codes:?}"
                )));
            }
            pending = rest;
        }

        let have: HashSet<String> = agencies::table
            .select(agencies::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let resp: HashSet<String> = agency_responsibilities::table
            .select(agency_responsibilities::application_kind)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for a in rows::<AgencyCsv>("agencies.csv", AGENCIES)? {
            if !have.contains(&a.code) {
                diesel::insert_into(agencies::table)
                    .values((
                        agencies::code.eq(&a.code),
                        agencies::name_zh.eq(&a.name_zh),
                        agencies::name_en.eq(&a.name_en),
                    ))
                    .execute(conn)?;
                r.agencies += 1;
            }
            for kind in a
                .decides
                .split(';')
                .map(str::trim)
                .filter(|k| !k.is_empty())
            {
                if !resp.contains(kind) {
                    diesel::insert_into(agency_responsibilities::table)
                        .values((
                            agency_responsibilities::agency_code.eq(&a.code),
                            agency_responsibilities::application_kind.eq(kind),
                        ))
                        .execute(conn)?;
                }
            }
        }

        let have: HashSet<String> = sectors::table
            .select(sectors::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for s in rows::<SectorCsv>("sectors.csv", SECTORS)? {
            if !have.contains(&s.code) {
                diesel::insert_into(sectors::table)
                    .values((
                        sectors::code.eq(&s.code),
                        sectors::name_zh.eq(&s.name_zh),
                        sectors::name_en.eq(&s.name_en),
                    ))
                    .execute(conn)?;
                r.sectors += 1;
            }
        }

        let have: HashSet<String> = categories::table
            .select(categories::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for c in rows::<CategoryCsv>("categories.csv", CATEGORIES)? {
            if !have.contains(&c.code) {
                diesel::insert_into(categories::table)
                    .values((
                        categories::code.eq(&c.code),
                        categories::sector_code.eq(&c.sector),
                        categories::name_zh.eq(&c.name_zh),
                        categories::name_en.eq(&c.name_en),
                    ))
                    .execute(conn)?;
                r.categories += 1;
            }
        }

        let have: HashSet<String> = standard_prefixes::table
            .select(standard_prefixes::prefix)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for p in rows::<PrefixCsv>("standard_prefixes.csv", PREFIXES)? {
            if !have.contains(&p.prefix) {
                diesel::insert_into(standard_prefixes::table)
                    .values((
                        standard_prefixes::prefix.eq(&p.prefix),
                        standard_prefixes::level.eq(&p.level),
                        standard_prefixes::name_zh.eq(&p.name_zh),
                        standard_prefixes::name_en.eq(&p.name_en),
                    ))
                    .execute(conn)?;
                r.standard_prefixes += 1;
            }
        }

        let have: HashSet<String> = standards::table
            .select(standards::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let list = rows::<StandardCsv>("standards.csv", STANDARDS)?;
        let mut inserted = Vec::new();
        for s in &list {
            let code = StandardCode::parse(&s.code)
                .map_err(|e| ApiError::Internal(format!("seeds/standards.csv {}: {e}", s.code)))?;
            if have.contains(code.as_str()) {
                continue;
            }
            let new = crate::standards::service::NewStandard {
                title_zh: s.title_zh.trim().to_owned(),
                title_en: none_if_empty(s.title_en.clone()),
                level: StandardLevel::parse(&s.level).ok(),
                status: StandardStatus::parse(&s.status).unwrap_or(StandardStatus::Current),
                effective_on: none_if_empty(s.effective_on.clone()).and_then(|d| d.parse().ok()),
                source: none_if_empty(s.source.clone()),
                confidence: none_if_empty(s.confidence.clone()),
                code,
            };
            crate::standards::service::create(conn, new)?;
            inserted.push(s);
            r.standards += 1;
        }
        // Successors, once every code exists.
        for s in inserted {
            if let Some(succ) = none_if_empty(s.replaced_by.clone()) {
                let succ = StandardCode::parse(&succ)
                    .map_err(|e| ApiError::Internal(format!("seeds/standards.csv {succ}: {e}")))?;
                let succ_id: Option<String> = standards::table
                    .filter(standards::code.eq(succ.as_str()))
                    .select(standards::id)
                    .first(conn)
                    .optional()?;
                let code =
                    StandardCode::parse(&s.code).map_err(|e| ApiError::Internal(e.to_string()))?;
                diesel::update(standards::table.filter(standards::code.eq(code.as_str())))
                    .set(standards::replaced_by_id.eq(succ_id))
                    .execute(conn)?;
            }
        }

        let have: HashSet<(i32, String, String)> = plan_targets::table
            .select((
                plan_targets::year,
                plan_targets::code,
                plan_targets::sector_code,
            ))
            .load(conn)?
            .into_iter()
            .collect();
        for t in rows::<TargetCsv>("plan_targets.csv", TARGETS)? {
            if !have.contains(&(t.year, t.code.clone(), t.sector.clone())) {
                diesel::insert_into(plan_targets::table)
                    .values((
                        plan_targets::year.eq(t.year),
                        plan_targets::code.eq(&t.code),
                        plan_targets::sector_code.eq(&t.sector),
                        plan_targets::target.eq(t.target),
                        plan_targets::unit.eq(&t.unit),
                        plan_targets::description_zh.eq(&t.description_zh),
                        plan_targets::description_en.eq(&t.description_en),
                    ))
                    .execute(conn)?;
                r.plan_targets += 1;
            }
        }

        use crate::db::schema::{
            application_kinds, certification_bodies, geographical_indications, gi_protected_areas,
        };
        let have: HashSet<String> = application_kinds::table
            .select(application_kinds::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for k in rows::<KindCsv>("application_kinds.csv", KINDS)? {
            if !have.contains(&k.code) {
                diesel::insert_into(application_kinds::table)
                    .values(crate::applications::kinds::KindRow {
                        code: k.code,
                        category: k.category,
                        name_zh: k.name_zh,
                        name_en: k.name_en,
                        validity_months: none_if_empty(k.validity_months)
                            .and_then(|v| v.parse().ok()),
                        accepting_applications: k.accepting_applications,
                        public_notice: k.public_notice,
                        notice_days: k.notice_days,
                        food_only: k.food_only,
                        number_prefix: none_if_empty(k.number_prefix),
                        note: none_if_empty(k.note),
                    })
                    .execute(conn)?;
                r.application_kinds += 1;
            }
        }
        let have: HashSet<String> = certification_bodies::table
            .select(certification_bodies::key)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for b in rows::<BodyCsv>("certification_bodies.csv", BODIES)? {
            if !have.contains(&b.key) {
                diesel::insert_into(certification_bodies::table)
                    .values(crate::certifications::repo::CertificationBody {
                        id: uuid::Uuid::now_v7().to_string(),
                        key: b.key,
                        name_zh: b.name_zh,
                        name_en: b.name_en,
                        abbreviation: none_if_empty(b.abbreviation),
                        approval_number: none_if_empty(b.approval_number),
                        kinds: b.kinds,
                        website: none_if_empty(b.website),
                        source: none_if_empty(b.source),
                        confidence: none_if_empty(b.confidence),
                    })
                    .execute(conn)?;
                r.certification_bodies += 1;
            }
        }
        let have: HashSet<String> = geographical_indications::table
            .select(geographical_indications::key)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for g in rows::<GiCsv>("geographical_indications.csv", GIS)? {
            if have.contains(&g.key) {
                continue;
            }
            let id = uuid::Uuid::now_v7().to_string();
            diesel::insert_into(geographical_indications::table)
                .values(crate::gis::repo::GiRow {
                    id: id.clone(),
                    key: g.key,
                    name_zh: g.name_zh,
                    name_en: g.name_en,
                    system: g.system,
                    product_category: g.product_category,
                    announcement: none_if_empty(g.announcement),
                    defining_standard_code: none_if_empty(g.defining_standard),
                    source: none_if_empty(g.source),
                    confidence: none_if_empty(g.confidence),
                })
                .execute(conn)?;
            for code in g
                .protected_area_region_codes
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
            {
                diesel::insert_into(gi_protected_areas::table)
                    .values((
                        gi_protected_areas::gi_id.eq(&id),
                        gi_protected_areas::region_code.eq(code),
                    ))
                    .execute(conn)?;
            }
            r.geographical_indications += 1;
        }

        if r.total() > 0 {
            audit::record(
                conn,
                &AuditCtx::system("seed"),
                Change {
                    action: "seed.reference",
                    entity_type: "reference_data",
                    entity_id: "seeds",
                    before: None,
                    after: serde_json::to_value(&r).ok(),
                    reason: None,
                },
            )?;
        }
        Ok(r)
    })
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
    status: String,
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
    launched_on: String,
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
    rows("demo/users.csv", DEMO_USERS).unwrap_or_default()
}

/// Loads the fictional demo set (enterprises, products, declared standards, one user per role).
/// Password hashes are computed by the caller, off any transaction, and passed in by username.
pub fn load_demo(conn: &mut DbConn, hashes: &[(String, String)]) -> ApiResult<usize> {
    let ctx = AuditCtx::system("demo-seed");
    write_tx(conn, |conn| {
        let mut inserted = 0;
        for e in rows::<DemoEnterpriseCsv>("demo/enterprises.csv", DEMO_ENTERPRISES)? {
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
            errors.finish()?;
            let new = new.ok_or_else(|| ApiError::Internal("demo enterprise invalid".into()))?;
            let status = EnterpriseStatus::parse(&e.status)
                .map_err(|x| ApiError::Internal(x.to_string()))?;
            let initial = if status == EnterpriseStatus::Pending {
                EnterpriseStatus::Pending
            } else {
                EnterpriseStatus::Active
            };
            let mut row = crate::enterprises::service::create(conn, &ctx, new, initial, "")?;
            if status != initial {
                let version = row.version;
                row.status = status.as_str().to_owned();
                row.version += 1;
                crate::enterprises::repo::update_guarded(conn, &row, version)?;
            }
            inserted += 1;
        }
        for p in rows::<DemoProductCsv>("demo/products.csv", DEMO_PRODUCTS)? {
            let ent = crate::enterprises::repo::find_by_uscc(conn, &p.enterprise_uscc)?
                .ok_or_else(|| {
                    ApiError::Internal(format!("demo product {}: unknown enterprise", p.name))
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
                    .map_err(|e| ApiError::Internal(format!("demo product {}: {e}", p.name)))?,
                suitable_for: none_if_empty(p.suitable_for),
                unsuitable_for: none_if_empty(p.unsuitable_for),
                is_new_product: p.is_new_product,
                launched_on: none_if_empty(p.launched_on).and_then(|d| d.parse().ok()),
            };
            let mut errors = Errors::new();
            let new = crate::products::service::NewProduct::parse(&mut errors, &req);
            errors.finish()?;
            let new = new.ok_or_else(|| ApiError::Internal("demo product invalid".into()))?;
            let row = crate::products::service::create(conn, &ctx, new)?;
            for code in p
                .standard_codes
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
            {
                let code = StandardCode::parse(code)
                    .map_err(|e| ApiError::Internal(format!("demo standard {code}: {e}")))?;
                crate::products::service::declare_standard(conn, &ctx, &row.id, &code)?;
            }
            inserted += 1;
        }
        for u in demo_users() {
            if crate::users::repo::find_by_username(conn, &u.username)?.is_some() {
                continue;
            }
            let enterprise_id = match none_if_empty(u.enterprise_uscc.clone()) {
                Some(uscc) => Some(
                    crate::enterprises::repo::find_by_uscc(conn, &uscc)?
                        .ok_or_else(|| {
                            ApiError::Internal(format!(
                                "demo user {}: unknown enterprise",
                                u.username
                            ))
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
            errors.finish()?;
            let new = new.ok_or_else(|| ApiError::Internal("demo user invalid".into()))?;
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
            inserted += load_demo_workflow(conn, &ctx)?;
        }
        Ok(inserted)
    })
}

/// Applications in every state and the records they produce: valid, expired and suspended
/// certificates, granted designations, one revoked.
fn load_demo_workflow(conn: &mut DbConn, audit: &AuditCtx) -> ApiResult<usize> {
    use crate::applications::workflow::{self, Ctx, NewApplication, Step};
    use crate::auth::Actor;
    use crate::db::schema::{
        certification_bodies as cb, geographical_indications as gi, products as p,
    };
    use crate::domain::Role;

    let enterprise = |conn: &mut DbConn, uscc: &str| -> ApiResult<String> {
        Ok(crate::enterprises::repo::find_by_uscc(conn, uscc)?
            .ok_or(ApiError::NotFound)?
            .id)
    };
    let product = |conn: &mut DbConn, name: &str| -> ApiResult<String> {
        Ok(p::table
            .filter(p::name.eq(name))
            .select(p::id)
            .first(conn)?)
    };
    let body = |conn: &mut DbConn, key: &str| -> ApiResult<String> {
        Ok(cb::table
            .filter(cb::key.eq(key))
            .select(cb::id)
            .first(conn)?)
    };
    let applicant = |enterprise_id: &str| Actor {
        user_id: "demo-seed".into(),
        username: "demo-seed".into(),
        role: Role::Enterprise,
        agency_code: None,
        enterprise_id: Some(enterprise_id.to_owned()),
    };
    // The demo regulators act, so reviews are assigned to real accounts.
    let regulator = |conn: &mut DbConn, username: &str| -> ApiResult<Actor> {
        let u = crate::users::repo::find_by_username(conn, username)?
            .ok_or_else(|| ApiError::Internal(format!("demo user {username} missing")))?;
        Ok(Actor {
            user_id: u.id,
            username: u.username,
            role: Role::Regulator,
            agency_code: u.agency_code,
            enterprise_id: None,
        })
    };
    let (agri, market, halal) = (
        regulator(conn, "agri_regulator")?,
        regulator(conn, "regulator")?,
        regulator(conn, "halal_regulator")?,
    );

    let e1 = enterprise(conn, "91632800MA752K3R1C")?;
    let e2 = enterprise(conn, "91630100MA754DQ9X1")?;
    let e4 = enterprise(conn, "91630200MA75BJ6T4E")?;
    let e6 = enterprise(conn, "91632700MA75D3W8ED")?;
    let cgfdc = body(conn, "cgfdc")?;
    let ofdc = body(conn, "ofdc")?;
    let halal_body = body(conn, "qinghai_ethnic_religious_affairs_commission")?;
    let goji_gi: String = gi::table
        .filter(gi::key.eq("qaidam_goji_protected_product"))
        .select(gi::id)
        .first(conn)?;

    struct Plan<'a> {
        enterprise: &'a str,
        product: &'a str,
        kind: &'a str,
        details: serde_json::Value,
        gi: Option<&'a str>,
        /// The steps after creation, each with who takes it and the reason.
        steps: Vec<(Step, &'a Actor, Option<&'a str>)>,
        notice_days: Option<u32>,
    }
    let cert = |number: &str, body: &str, issued: &str, expires: &str, scope: &str| serde_json::json!({"certificate_number": number, "certification_body_id": body, "issued_on": issued, "expires_on": expires, "scope": scope});
    let a1 = applicant(&e1);
    let a2 = applicant(&e2);
    let a4 = applicant(&e4);
    let a6 = applicant(&e6);
    let plans = vec![
        Plan {
            enterprise: &e1,
            product: "柴达木枸杞原浆",
            kind: "green_food",
            gi: None,
            notice_days: None,
            details: cert(
                "LB-18-2401016301A",
                &cgfdc,
                "2024-01-15",
                "2027-01-14",
                "枸杞原浆 300 吨/年",
            ),
            steps: vec![
                (Step::Submit, &a1, None),
                (Step::StartReview, &agri, None),
                (Step::Approve, &agri, Some("材料齐全，现场检查合格")),
            ],
        },
        Plan {
            enterprise: &e1,
            product: "柴达木红枸杞干果（特优级）",
            kind: "green_food",
            gi: None,
            notice_days: None,
            details: cert(
                "LB-18-2005106302A",
                &cgfdc,
                "2020-05-10",
                "2023-05-09",
                "枸杞干果 800 吨/年",
            ),
            steps: vec![
                (Step::Submit, &a1, None),
                (Step::StartReview, &agri, None),
                (Step::Approve, &agri, None),
            ],
        },
        Plan {
            enterprise: &e1,
            product: "诺木洪枸杞干果",
            kind: "organic",
            gi: None,
            notice_days: None,
            details: cert(
                "22726OP2600123",
                &ofdc,
                "2026-03-01",
                "2027-02-28",
                "有机枸杞干果 120 吨",
            ),
            steps: vec![],
        },
        Plan {
            enterprise: &e2,
            product: "牦牛乳粉",
            kind: "halal",
            gi: None,
            notice_days: None,
            details: cert(
                "QHQZ-2026-0311",
                &halal_body,
                "2026-06-01",
                "2028-05-31",
                "牦牛乳粉生产线",
            ),
            steps: vec![(Step::Submit, &a2, None)],
        },
        Plan {
            enterprise: &e2,
            product: "牦牛酸奶",
            kind: "halal",
            gi: None,
            notice_days: None,
            details: cert(
                "QHQZ-2026-0312",
                &halal_body,
                "2026-06-01",
                "2028-05-31",
                "酸奶生产线",
            ),
            steps: vec![(Step::Submit, &a2, None), (Step::StartReview, &halal, None)],
        },
        Plan {
            enterprise: &e2,
            product: "牦牛奶酪",
            kind: "organic",
            gi: None,
            notice_days: None,
            details: cert(
                "22726OP2600456",
                &ofdc,
                "2026-04-01",
                "2027-03-31",
                "有机牦牛奶酪 20 吨",
            ),
            steps: vec![
                (Step::Submit, &a2, None),
                (Step::StartReview, &agri, None),
                (Step::RequestChanges, &agri, Some("请补充有机转换期证明")),
            ],
        },
        Plan {
            enterprise: &e4,
            product: "麦浪谷青稞酒（52%vol）",
            kind: "green_food",
            gi: None,
            notice_days: None,
            details: cert(
                "LB-18-2602016303A",
                &cgfdc,
                "2026-02-01",
                "2029-01-31",
                "青稞酒 500 千升/年",
            ),
            steps: vec![
                (Step::Submit, &a4, None),
                (Step::StartReview, &agri, None),
                (Step::Reject, &agri, Some("绿色食品不含蒸馏酒类")),
            ],
        },
        Plan {
            enterprise: &e6,
            product: "牦牛肉干（五香味）",
            kind: "halal",
            gi: None,
            notice_days: None,
            details: cert(
                "QHQZ-2026-0520",
                &halal_body,
                "2026-05-20",
                "2028-05-19",
                "牦牛肉干生产线",
            ),
            steps: vec![
                (Step::Submit, &a6, None),
                (Step::Withdraw, &a6, Some("改为明年申请")),
            ],
        },
        Plan {
            enterprise: &e2,
            product: "牦牛乳粉",
            kind: "green_food",
            gi: None,
            notice_days: None,
            details: cert(
                "LB-18-2503016304A",
                &cgfdc,
                "2025-03-01",
                "2028-02-28",
                "牦牛乳粉 200 吨/年",
            ),
            steps: vec![
                (Step::Submit, &a2, None),
                (Step::StartReview, &agri, None),
                (Step::Approve, &agri, None),
            ],
        },
        Plan {
            enterprise: &e1,
            product: "柴达木枸杞原浆",
            kind: "provincial_famous_brand",
            gi: None,
            notice_days: None,
            details: serde_json::json!({"summary": "连续三年省级抽检合格，市场占有率居全省前列"}),
            steps: vec![
                (Step::Submit, &a1, None),
                (Step::StartReview, &market, None),
                (Step::Approve, &market, Some("评审委员会通过")),
            ],
        },
        Plan {
            enterprise: &e1,
            product: "柴达木红枸杞干果（特优级）",
            kind: "gi_product",
            gi: Some(&goji_gi),
            notice_days: Some(0),
            details: serde_json::json!({"summary": "产地位于海西州诺木洪，执行 DB63/T 1759-2019"}),
            steps: vec![
                (Step::Submit, &a1, None),
                (Step::StartReview, &market, None),
                (Step::Approve, &market, None),
                (Step::Grant, &market, None),
            ],
        },
        Plan {
            enterprise: &e6,
            product: "牦牛肉干（五香味）",
            kind: "provincial_famous_brand",
            gi: None,
            notice_days: Some(0),
            details: serde_json::json!({"summary": "玉树牦牛肉制品代表品牌"}),
            steps: vec![
                (Step::Submit, &a6, None),
                (Step::StartReview, &market, None),
                (Step::Approve, &market, None),
                (Step::Grant, &market, None),
            ],
        },
    ];
    let mut created = 0;
    let mut records = Vec::new();
    for plan in plans {
        let product_id = product(conn, plan.product)?;
        let actor = applicant(plan.enterprise);
        let ctx = Ctx {
            actor: Some(&actor),
            audit,
            notice_days_override: plan.notice_days,
        };
        let app = workflow::create(
            conn,
            &ctx,
            NewApplication {
                kind: plan.kind.into(),
                enterprise_id: plan.enterprise.into(),
                product_id: Some(product_id),
                geographical_indication_id: plan.gi.map(str::to_owned),
                details: plan.details,
                documents: Vec::new(),
            },
        )?;
        let mut last = app;
        for (step, who, reason) in plan.steps {
            let ctx = Ctx {
                actor: Some(who),
                audit,
                notice_days_override: plan.notice_days,
            };
            last = workflow::step(conn, &ctx, &last.id, step, reason)?;
        }
        records.push((plan.kind, last.record_id.clone()));
        created += 1;
    }
    // One certificate suspended after a spot check, one designation revoked.
    let now = crate::clock::now();
    // The third approved green-food certificate is the dairy's (plans above, in order).
    let dairy_cert = records
        .iter()
        .filter(|(k, r)| *k == "green_food" && r.is_some())
        .nth(2)
        .and_then(|(_, r)| r.clone());
    if let Some(id) = dairy_cert {
        let row = crate::certifications::repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        crate::certifications::repo::set_status_guarded(conn, &id, row.version, "suspended")?;
        crate::records::log_status(
            conn,
            audit,
            "certification",
            &id,
            Some("valid"),
            "suspended",
            Some("2026 年省级抽检蛋白质含量不达标，责令整改"),
            now,
        )?;
    }
    let revoked = records
        .iter()
        .rev()
        .find(|(k, r)| *k == "provincial_famous_brand" && r.is_some())
        .and_then(|(_, r)| r.clone());
    if let Some(id) = revoked {
        let row = crate::designations::repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        crate::designations::repo::set_status_guarded(conn, &id, row.version, "revoked")?;
        crate::records::log_status(
            conn,
            audit,
            "designation",
            &id,
            Some("active"),
            "revoked",
            Some("发生重大质量事故，撤销称号"),
            now,
        )?;
    }
    Ok(created)
}
