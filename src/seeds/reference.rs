//! The reference data: regions, agencies, sectors and categories, standard prefixes and
//! standards, plan targets, application kinds, certification bodies, geographical indications.

use std::collections::HashSet;

use diesel::prelude::*;

use super::csv_rows::{
    AgencyCsv, BodyCsv, CategoryCsv, GiCsv, KindCsv, PrefixCsv, RegionCsv, SectorCsv, StandardCsv,
    TargetCsv,
};
use super::{list, rows, SeedError};
use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::{
    agencies, agency_responsibilities, categories, plan_targets, regions, sectors,
    standard_prefixes, standards,
};
use crate::db::{write_tx, DbConn};
use crate::domain::{ApplicationKind, StandardCode};
use crate::error::ApiResult;

const REGIONS: &str = include_str!("../../seeds/regions.csv");
const AGENCIES: &str = include_str!("../../seeds/agencies.csv");
const SECTORS: &str = include_str!("../../seeds/sectors.csv");
const CATEGORIES: &str = include_str!("../../seeds/categories.csv");
const PREFIXES: &str = include_str!("../../seeds/standard_prefixes.csv");
const STANDARDS: &str = include_str!("../../seeds/standards.csv");
const TARGETS: &str = include_str!("../../seeds/plan_targets.csv");
const KINDS: &str = include_str!("../../seeds/application_kinds.csv");
const BODIES: &str = include_str!("../../seeds/certification_bodies.csv");
const GIS: &str = include_str!("../../seeds/geographical_indications.csv");

pub(super) fn none_if_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
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
        let mut pending: Vec<RegionCsv> = rows("regions.csv", REGIONS)?
            .into_iter()
            .map(|r| r.value)
            .collect();
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
                return Err(SeedError::new(
                    "regions.csv",
                    0,
                    "parent_code",
                    format!("unresolvable parents for {codes:?}"),
                )
                .into());
            }
            pending = rest;
        }

        let have: HashSet<String> = agencies::table
            .select(agencies::code)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let resp: HashSet<ApplicationKind> = agency_responsibilities::table
            .select(agency_responsibilities::application_kind)
            .load::<ApplicationKind>(conn)?
            .into_iter()
            .collect();
        for row in rows::<AgencyCsv>("agencies.csv", AGENCIES)? {
            let a = row.value;
            let decides = list(
                "agencies.csv",
                row.line,
                "decides",
                &a.decides,
                ApplicationKind::parse,
            )?;
            if !have.contains(a.code.as_str()) {
                diesel::insert_into(agencies::table)
                    .values((
                        agencies::code.eq(&a.code),
                        agencies::name_zh.eq(&a.name_zh),
                        agencies::name_en.eq(&a.name_en),
                    ))
                    .execute(conn)?;
                r.agencies += 1;
            }
            for kind in decides {
                if !resp.contains(&kind) {
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
            let s = s.value;
            if !have.contains(s.code.as_str()) {
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
            let c = c.value;
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
            let p = p.value;
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
        let mut inserted = Vec::new();
        for row in rows::<StandardCsv>("standards.csv", STANDARDS)? {
            let (line, s) = (row.line, row.value);
            let code = StandardCode::parse(&s.code)
                .map_err(|e| SeedError::new("standards.csv", line, "code", e))?;
            let successor = none_if_empty(s.replaced_by.clone())
                .map(|c| StandardCode::parse(&c))
                .transpose()
                .map_err(|e| SeedError::new("standards.csv", line, "replaced_by", e))?;
            if have.contains(code.as_str()) {
                continue;
            }
            let new = crate::standards::service::NewStandard {
                title_zh: s.title_zh.trim().to_owned(),
                title_en: none_if_empty(s.title_en.clone()),
                level: s.level,
                status: s.status,
                effective_on: s.effective_on,
                notes: none_if_empty(s.notes.clone()),
                confidence: none_if_empty(s.confidence.clone()),
                code: code.clone(),
            };
            crate::standards::service::create(conn, new)?;
            inserted.push((line, code, successor));
            r.standards += 1;
        }
        // Successors, once every code exists.
        for (line, code, successor) in inserted {
            let Some(succ) = successor else { continue };
            let succ_id: String = standards::table
                .filter(standards::code.eq(succ.as_str()))
                .select(standards::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| {
                    SeedError::new(
                        "standards.csv",
                        line,
                        "replaced_by",
                        format!("{succ} is not in the file"),
                    )
                })?;
            diesel::update(standards::table.filter(standards::code.eq(code.as_str())))
                .set(standards::replaced_by_id.eq(Some(succ_id)))
                .execute(conn)?;
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
            let t = t.value;
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
        let have: HashSet<ApplicationKind> = application_kinds::table
            .select(application_kinds::code)
            .load::<ApplicationKind>(conn)?
            .into_iter()
            .collect();
        for k in rows::<KindCsv>("application_kinds.csv", KINDS)? {
            let k = k.value;
            if !have.contains(&k.code) {
                diesel::insert_into(application_kinds::table)
                    .values(crate::reference::kinds::KindRow {
                        code: k.code,
                        category: k.category,
                        name_zh: k.name_zh,
                        name_en: k.name_en,
                        validity_months: k.validity_months,
                        accepting_applications: k.accepting_applications,
                        public_notice: k.public_notice,
                        notice_days: k.notice_days,
                        food_only: k.food_only,
                        number_prefix: none_if_empty(k.number_prefix),
                        note: none_if_empty(k.note),
                        notes: none_if_empty(k.notes),
                        confidence: none_if_empty(k.confidence),
                        renewal_window_days: k.renewal_window_days,
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
        for row in rows::<BodyCsv>("certification_bodies.csv", BODIES)? {
            let b = row.value;
            list(
                "certification_bodies.csv",
                row.line,
                "kinds",
                &b.kinds,
                ApplicationKind::parse,
            )?;
            if !have.contains(&b.key) {
                diesel::insert_into(certification_bodies::table)
                    .values(crate::records::bodies::CertificationBody {
                        id: uuid::Uuid::now_v7().to_string(),
                        key: b.key,
                        name_zh: b.name_zh,
                        name_en: b.name_en,
                        abbreviation: none_if_empty(b.abbreviation),
                        approval_number: none_if_empty(b.approval_number),
                        kinds: b.kinds,
                        website: none_if_empty(b.website),
                        notes: none_if_empty(b.notes),
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
        for row in rows::<GiCsv>("geographical_indications.csv", GIS)? {
            let g = row.value;
            let areas = list(
                "geographical_indications.csv",
                row.line,
                "protected_area_region_codes",
                &g.protected_area_region_codes,
                |c| {
                    let mut errors = crate::error::Errors::new();
                    crate::domain::region_code_shape(&mut errors, "", c)
                        .ok_or("not a six-digit GB/T 2260 division code")
                },
            )?;
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
                    notes: none_if_empty(g.notes),
                    confidence: none_if_empty(g.confidence),
                })
                .execute(conn)?;
            for code in areas {
                diesel::insert_into(gi_protected_areas::table)
                    .values((
                        gi_protected_areas::gi_id.eq(&id),
                        gi_protected_areas::region_code.eq(code),
                    ))
                    .execute(conn)?;
            }
            r.geographical_indications += 1;
        }
        refresh_operator_notes(conn)?;

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

/// Provenance notes and confidence are operator metadata that the seeds keep current: rows
/// seeded by an earlier release get this release's (a no-op when nothing changed). The public
/// description of an application kind is kept current the same way.
fn refresh_operator_notes(conn: &mut DbConn) -> ApiResult<()> {
    use crate::db::schema::{
        application_kinds as k, certification_bodies as b, geographical_indications as g,
        standards as s,
    };
    for row in rows::<StandardCsv>("standards.csv", STANDARDS)? {
        let v = row.value;
        let code = StandardCode::parse(&v.code)
            .map_err(|e| SeedError::new("standards.csv", row.line, "code", e))?;
        diesel::update(s::table.filter(s::code.eq(code.as_str())))
            .set((
                s::notes.eq(none_if_empty(v.notes)),
                s::confidence.eq(none_if_empty(v.confidence)),
            ))
            .execute(conn)?;
    }
    for row in rows::<BodyCsv>("certification_bodies.csv", BODIES)? {
        let v = row.value;
        diesel::update(b::table.filter(b::key.eq(&v.key)))
            .set((
                b::notes.eq(none_if_empty(v.notes)),
                b::confidence.eq(none_if_empty(v.confidence)),
            ))
            .execute(conn)?;
    }
    for row in rows::<GiCsv>("geographical_indications.csv", GIS)? {
        let v = row.value;
        diesel::update(g::table.filter(g::key.eq(&v.key)))
            .set((
                g::notes.eq(none_if_empty(v.notes)),
                g::confidence.eq(none_if_empty(v.confidence)),
            ))
            .execute(conn)?;
    }
    for row in rows::<KindCsv>("application_kinds.csv", KINDS)? {
        let v = row.value;
        diesel::update(k::table.filter(k::code.eq(v.code)))
            .set((
                k::note.eq(none_if_empty(v.note)),
                k::notes.eq(none_if_empty(v.notes)),
                k::confidence.eq(none_if_empty(v.confidence)),
                k::renewal_window_days.eq(v.renewal_window_days),
            ))
            .execute(conn)?;
    }
    Ok(())
}
