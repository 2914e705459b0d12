//! The counting queries.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::{KindCount, PlanProgress, RegionCount, SectorCount, Summary, TargetProgress};
use crate::db::schema::{
    certifications, designations, enterprise_sectors, enterprises, plan_targets, product_standards,
    products, regions, standards,
};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, EnterpriseStatus, RecordStatus};

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).expect("valid"),
        NaiveDate::from_ymd_opt(year, 12, 31).expect("valid"),
    )
}

/// New products launched in `year` by active enterprises, by sector.
pub fn new_products(conn: &mut DbConn, year: i32) -> QueryResult<BTreeMap<String, i64>> {
    let (from, to) = year_bounds(year);
    let rows: Vec<(String, i64)> = products::table
        .inner_join(enterprises::table)
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .filter(products::is_new_product.eq(true))
        .filter(products::launched_on.ge(from))
        .filter(products::launched_on.le(to))
        .group_by(products::sector_code)
        .select((products::sector_code, count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Designations of `kind` granted in `year` and not revoked; for `gi_product`, distinct GIs.
fn granted(conn: &mut DbConn, kind: ApplicationKind, year: i32) -> QueryResult<i64> {
    let q = designations::table
        .filter(designations::kind.eq(kind))
        .filter(designations::granted_year.eq(year))
        .filter(designations::status.ne(RecordStatus::Revoked));
    if kind == ApplicationKind::GiProduct {
        let gis: Vec<Option<String>> = q
            .select(designations::geographical_indication_id)
            .distinct()
            .load(conn)?;
        Ok(gis.into_iter().flatten().count() as i64)
    } else {
        q.count().get_result(conn)
    }
}

/// Percent of active enterprises with at least one product declaring a national or industry standard.
pub fn standard_adoption_percent(conn: &mut DbConn) -> QueryResult<Option<f64>> {
    let active: i64 = enterprises::table
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .count()
        .get_result(conn)?;
    if active == 0 {
        return Ok(None);
    }
    let adopting: Vec<String> = products::table
        .inner_join(enterprises::table)
        .inner_join(product_standards::table.inner_join(standards::table))
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .filter(standards::level.eq_any([
            "national_mandatory",
            "national_recommended",
            "national_guidance",
            "industry",
        ]))
        .select(products::enterprise_id)
        .distinct()
        .load(conn)?;
    // Basis points, rounded, then back to a percentage with two decimals.
    let bp = (adopting.len() as i64 * 10_000 + active / 2) / active;
    Ok(Some(bp as f64 / 100.0))
}

pub fn plan_progress(conn: &mut DbConn, year: i32) -> QueryResult<PlanProgress> {
    let targets: Vec<(i32, String, String, i64, String, String, String)> = plan_targets::table
        .select((
            plan_targets::year,
            plan_targets::code,
            plan_targets::sector_code,
            plan_targets::target,
            plan_targets::unit,
            plan_targets::description_zh,
            plan_targets::description_en,
        ))
        .order((plan_targets::code.asc(), plan_targets::sector_code.asc()))
        .load(conn)?;
    let targets_year = targets.first().map(|t| t.0).unwrap_or(2020);
    let new = new_products(conn, year)?;
    let famous = granted(conn, ApplicationKind::ProvincialFamousBrand, year)?;
    let gi = granted(conn, ApplicationKind::GiProduct, year)?;
    let adoption = standard_adoption_percent(conn)?;
    let items = targets
        .into_iter()
        .map(|(_, code, sector, target, unit, zh, en)| {
            let (actual, basis) = match (code.as_str(), sector.as_str()) {
                ("new_products", "") => (
                    Some(new.values().sum::<i64>() as f64),
                    format!("products flagged new, launched in {year}, of active enterprises"),
                ),
                ("new_products", s) => (
                    Some(*new.get(s).unwrap_or(&0) as f64),
                    format!("products of the {s} sector flagged new, launched in {year}, of active enterprises"),
                ),
                ("new_provincial_famous_brand", _) => {
                    (Some(famous as f64), format!("provincial famous-brand designations granted in {year}, not revoked"))
                }
                ("new_gi_products", _) => {
                    (Some(gi as f64), format!("geographical indications with a GI-mark designation granted in {year}, not revoked"))
                }
                ("standard_adoption_share", _) => (
                    adoption,
                    "percent of active enterprises with a product declaring a national or industry standard (today)".to_owned(),
                ),
                _ => (None, "not recorded in the register".to_owned()),
            };
            let ratio = actual.filter(|_| target > 0).map(|a| ((a / target as f64) * 1000.0).round() / 1000.0);
            TargetProgress { code, sector: (!sector.is_empty()).then_some(sector), description_zh: zh, description_en: en, unit, target, actual, ratio, basis }
        })
        .collect();
    let spot_checks = spot_check_sectors(conn, year)?;
    let listed_enterprises = listed_enterprises(conn)?;
    Ok(PlanProgress {
        year,
        targets_year,
        items,
        spot_checks,
        listed_enterprises,
    })
}
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
}

/// The results of closed campaigns checked in `year`, by the sector of each target.
fn spot_check_sectors(conn: &mut DbConn, year: i32) -> QueryResult<Vec<super::SpotCheckSector>> {
    use crate::domain::{CheckResult, Sector, TargetType};
    let (from, to) = year_bounds(year);
    let results = crate::spot_checks::repo::published_results(conn, from, to)?;
    let active_by_sector: BTreeMap<String, i64> = enterprise_sectors::table
        .inner_join(enterprises::table)
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .group_by(enterprise_sectors::sector_code)
        .select((enterprise_sectors::sector_code, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    // (checked, passed, failed, not found, enterprises inspected)
    type Tally = (i64, i64, i64, i64, std::collections::BTreeSet<String>);
    let mut by_sector: BTreeMap<Sector, Tally> = BTreeMap::new();
    for (target_type, target, enterprise, result) in results {
        let sectors: Vec<Sector> = match target_type {
            TargetType::Product => products::table
                .find(&target)
                .select(products::sector_code)
                .load(conn)?,
            TargetType::Enterprise => enterprise_sectors::table
                .filter(enterprise_sectors::enterprise_id.eq(&enterprise))
                .select(enterprise_sectors::sector_code)
                .load(conn)?,
        };
        for s in sectors {
            let t = by_sector.entry(s).or_default();
            t.0 += 1;
            match result {
                CheckResult::Passed => t.1 += 1,
                CheckResult::Failed => t.2 += 1,
                CheckResult::NotFound => t.3 += 1,
            }
            t.4.insert(enterprise.clone());
        }
    }
    Ok(Sector::ALL
        .iter()
        .map(|s| {
            let (checked, passed, failed, not_found, inspected) =
                by_sector.remove(s).unwrap_or_default();
            let active = active_by_sector.get(s.as_str()).copied().unwrap_or(0);
            super::SpotCheckSector {
                sector: s.as_str().to_owned(),
                checked,
                passed,
                failed,
                not_found,
                pass_rate: ratio(passed, passed + failed),
                coverage: ratio(inspected.len() as i64, active),
            }
        })
        .collect())
}

/// Distinct enterprises with a dishonesty listing in force today.
fn listed_enterprises(conn: &mut DbConn) -> QueryResult<i64> {
    let page = crate::pagination::PageRequest {
        limit: i64::from(i32::MAX) - 1,
        after: None,
    };
    let filter = crate::enterprises::credit::ListingFilter {
        enterprise_id: None,
        in_force: Some(true),
    };
    let listed: std::collections::BTreeSet<String> =
        crate::enterprises::credit::list(conn, &filter, &page)?
            .into_iter()
            .map(|l| l.enterprise_id)
            .collect();
    Ok(listed.len() as i64)
}

fn prefecture(code: &str) -> String {
    format!("{}00", &code[..code.len().min(4)])
}

pub fn summary(conn: &mut DbConn) -> QueryResult<Summary> {
    let today = crate::clock::today();
    let ent_by_sector: Vec<(String, i64)> = enterprise_sectors::table
        .inner_join(enterprises::table)
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .group_by(enterprise_sectors::sector_code)
        .select((enterprise_sectors::sector_code, count_star()))
        .load(conn)?;
    let prod_by_sector: Vec<(String, i64)> = products::table
        .inner_join(enterprises::table)
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .group_by(products::sector_code)
        .select((products::sector_code, count_star()))
        .load(conn)?;
    let by_sector = crate::domain::Sector::ALL
        .iter()
        .map(|s| SectorCount {
            sector: s.as_str().to_owned(),
            active_enterprises: ent_by_sector
                .iter()
                .find(|(k, _)| k == s.as_str())
                .map(|x| x.1)
                .unwrap_or(0),
            products: prod_by_sector
                .iter()
                .find(|(k, _)| k == s.as_str())
                .map(|x| x.1)
                .unwrap_or(0),
        })
        .collect();
    let ent_by_region: Vec<(String, i64)> = enterprises::table
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .group_by(enterprises::region_code)
        .select((enterprises::region_code, count_star()))
        .load(conn)?;
    let prod_by_region: Vec<(String, i64)> = products::table
        .inner_join(enterprises::table)
        .filter(enterprises::status.eq(EnterpriseStatus::Active))
        .group_by(products::origin_region_code)
        .select((products::origin_region_code, count_star()))
        .load(conn)?;
    let names: Vec<(String, String)> = regions::table
        .filter(regions::level.eq_any(["province", "prefecture"]))
        .filter(regions::alias_of.is_null())
        .select((regions::code, regions::name_zh))
        .load(conn)?;
    let mut folded: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (code, n) in ent_by_region {
        folded.entry(prefecture(&code)).or_default().0 += n;
    }
    for (code, n) in prod_by_region {
        folded.entry(prefecture(&code)).or_default().1 += n;
    }
    let by_region = folded
        .into_iter()
        .map(|(code, (e, p))| RegionCount {
            name_zh: names
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            region_code: code,
            active_enterprises: e,
            products: p,
        })
        .collect();
    let cert_rows: Vec<(String, String, i64)> = certifications::table
        .filter(
            certifications::expires_on
                .ge(today)
                .or(certifications::status.ne(RecordStatus::Valid)),
        )
        .group_by((certifications::kind, certifications::status))
        .select((certifications::kind, certifications::status, count_star()))
        .load(conn)?;
    let cert_expired: Vec<(String, i64)> = certifications::table
        .filter(certifications::expires_on.lt(today))
        .filter(certifications::status.eq(RecordStatus::Valid))
        .group_by(certifications::kind)
        .select((certifications::kind, count_star()))
        .load(conn)?;
    let des_rows: Vec<(String, String, i64)> = designations::table
        .filter(
            designations::valid_until
                .is_null()
                .or(designations::valid_until.ge(today))
                .or(designations::status.ne(RecordStatus::Active)),
        )
        .group_by((designations::kind, designations::status))
        .select((designations::kind, designations::status, count_star()))
        .load(conn)?;
    let des_expired: Vec<(String, i64)> = designations::table
        .filter(designations::valid_until.lt(today))
        .filter(designations::status.eq(RecordStatus::Active))
        .group_by(designations::kind)
        .select((designations::kind, count_star()))
        .load(conn)?;
    let fold = |rows: Vec<(String, String, i64)>, expired: Vec<(String, i64)>| {
        let mut m: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (k, s, n) in rows {
            *m.entry(k).or_default().entry(s).or_default() += n;
        }
        for (k, n) in expired {
            *m.entry(k).or_default().entry("expired".into()).or_default() += n;
        }
        m.into_iter()
            .map(|(kind, by_status)| KindCount { kind, by_status })
            .collect::<Vec<_>>()
    };
    Ok(Summary {
        by_sector,
        by_region,
        certifications: fold(cert_rows, cert_expired),
        designations: fold(des_rows, des_expired),
    })
}
