//! `registry seed --synthetic SCALE`: a realistic register for benchmarks. At SCALE 1:
//! 100,000 enterprises, 1,000,000 products, 300,000 certifications, 50,000 designations, with
//! their status histories and hash-chained audit entries. Deterministic (fixed seed), so two
//! runs at one scale produce the same register.

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::applications::kinds;
use crate::audit::{self, AuditCtx};
use crate::certifications::repo::CertRow;
use crate::db::schema::{
    certification_bodies, certifications, designations, enterprise_sectors, enterprises,
    geographical_indications, products, record_status_changes,
};
use crate::db::{write_tx, DbConn};
use crate::designations::repo::DesignationRow;
use crate::enterprises::repo::EnterpriseRow;
use crate::error::{ApiError, ApiResult};
use crate::products::repo::ProductRow;
use crate::records::StatusChangeRow;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid USCC for the n-th synthetic enterprise (organisation code `QY` + base-31 counter).
pub fn uscc(region: &str, n: u64) -> String {
    let mut org = [b'0'; 7];
    let mut x = n;
    for slot in org.iter_mut().rev() {
        *slot = ALPHABET[(x % 31) as usize];
        x /= 31;
    }
    let body = format!("93{region}QY{}", std::str::from_utf8(&org).expect("ascii"));
    let sum: usize = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| ALPHABET.iter().position(|&a| a == b).unwrap_or(0) * w)
        .sum();
    format!("{body}{}", ALPHABET[(31 - sum % 31) % 31] as char)
}

/// A valid GTIN-13 for the n-th synthetic product (prefix 699).
pub fn gtin(n: u64) -> String {
    let body = format!("699{n:09}");
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

pub fn cert_number(kind: &str, n: u64) -> String {
    let tag = match kind {
        "green_food" => "GF",
        "organic" => "OG",
        _ => "HL",
    };
    format!("SYN-{tag}-{n:08}")
}

pub fn designation_number(n: u64) -> String {
    format!("SYN-D-{n:08}")
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    pub enterprises: u64,
    pub products: u64,
    pub certifications: u64,
    pub designations: u64,
    pub status_changes: u64,
    pub audit_entries: u64,
    pub rows: u64,
    pub seconds: f64,
}

const REGIONS: &[&str] = &[
    "630100", "630102", "630121", "630200", "630202", "632200", "632300", "632500", "632600",
    "632700", "632722", "632800", "632801", "632802", "632822",
];
const FOOD_WORDS: &[(&str, &str)] = &[
    ("柴达木枸杞原浆", "goji"),
    ("黑枸杞干果", "goji"),
    ("牦牛肉干", "yak_tibetan_sheep_meat"),
    ("风干牦牛肉", "yak_tibetan_sheep_meat"),
    ("牦牛酸奶", "dairy"),
    ("青稞挂面", "highland_barley"),
    ("菜籽油", "rapeseed_oil"),
    ("青稞酒", "liquor"),
    ("沙棘汁", "seabuckthorn_goji_drinks"),
    ("富硒土豆粉", "selenium_rich_produce"),
];
const BRANDS: &[&str] = &[
    "雪域",
    "高原红",
    "昆仑",
    "三江源",
    "青藏",
    "柴达木",
    "祁连",
    "河湟",
    "玉树",
    "格桑",
];
const OTHER_WORDS: &[(&str, &str, &str)] = &[
    ("藏药浴粉", "biomedicine", "tibetan_medicine"),
    ("虫草口服液", "biomedicine", "cordyceps"),
    ("手工藏毯", "light_textile", "carpet"),
    ("牦牛绒围巾", "light_textile", "cashmere"),
    ("唐卡", "ethnic_specialty", "thangka"),
    ("藏银手镯", "ethnic_specialty", "silverware"),
];

/// Fills the database. `progress` receives one line per batch.
pub fn generate(conn: &mut DbConn, scale: f64, progress: &dyn Fn(&str)) -> ApiResult<Report> {
    if !(scale > 0.0 && scale <= 10.0) {
        return Err(ApiError::field(
            "scale",
            "out_of_range",
            "a scale above 0 and at most 10",
        ));
    }
    let n_ent = ((100_000.0 * scale).round() as u64).max(1);
    let n_prod = ((1_000_000.0 * scale).round() as u64).max(1);
    let n_cert = (300_000.0 * scale).round() as u64;
    let n_des = (50_000.0 * scale).round() as u64;
    let already: i64 = enterprises::table
        .filter(enterprises::uscc.like("93%QY%"))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Err(ApiError::conflict(
            "already_generated",
            "this database already holds synthetic data",
        ));
    }
    let bodies: Vec<(String, String)> = certification_bodies::table
        .select((certification_bodies::id, certification_bodies::kinds))
        .load(conn)?;
    let body_for = |kind: &str| {
        bodies
            .iter()
            .find(|(_, k)| k.contains(kind))
            .map(|(id, _)| id.clone())
    };
    let gi_id: Option<String> = geographical_indications::table
        .filter(geographical_indications::key.eq("qaidam_goji_protected_product"))
        .select(geographical_indications::id)
        .first(conn)
        .optional()?;
    for k in [
        "green_food",
        "organic",
        "halal",
        "provincial_famous_brand",
        "gi_product",
    ] {
        if kinds::find(conn, k)?.is_none() {
            return Err(ApiError::Internal(format!(
                "reference data missing kind {k}: run `registry seed` first"
            )));
        }
    }
    let ctx = AuditCtx::system("synthetic");
    let mut rng = StdRng::seed_from_u64(20_200_101);
    let started = Instant::now();
    let mut r = Report::default();
    let now = crate::clock::now();
    let report = |r: &Report, what: &str, done: u64, of: u64| {
        let secs = started.elapsed().as_secs_f64();
        progress(&format!(
            "{what:<15} {done:>9}/{of:<9} {:>10} rows  {:>8.0} rows/s",
            r.rows,
            r.rows as f64 / secs.max(1e-9)
        ));
    };

    // Enterprises: 95 % active, 3 % pending, 2 % suspended; each in one or two sectors.
    let mut ent_ids = Vec::with_capacity(n_ent as usize);
    let mut ent_active = Vec::with_capacity(n_ent as usize);
    let mut ent_region = Vec::with_capacity(n_ent as usize);
    let mut i = 0;
    while i < n_ent {
        let end = (i + 1000).min(n_ent);
        let mut rows = Vec::new();
        let mut sectors = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let region = REGIONS[rng.random_range(0..REGIONS.len())];
            let roll: u32 = rng.random_range(0..100);
            let status = if roll < 95 {
                "active"
            } else if roll < 98 {
                "pending"
            } else {
                "suspended"
            };
            let id = uuid::Uuid::now_v7().to_string();
            rows.push(EnterpriseRow {
                id: id.clone(),
                uscc: uscc(region, n),
                uscc_override_reason: None,
                name: format!(
                    "{}{}{}有限公司",
                    BRANDS[(n % 10) as usize],
                    ["食品", "生物", "民族用品", "纺织"][(n % 4) as usize],
                    n
                ),
                legal_representative: "合成数据".into(),
                region_code: region.into(),
                address: format!("合成地址 {n} 号"),
                scale: ["large", "medium", "small", "micro"][rng.random_range(0..4)].into(),
                above_designated_size: rng.random_bool(0.2),
                contact_phone: "0971-0000000".into(),
                contact_email: format!("e{n}@example.com"),
                status: status.into(),
                verified_at: (status != "pending").then_some(now),
                created_at: now,
                updated_at: now,
                version: 1,
            });
            sectors.push((id.clone(), "food"));
            if n % 3 == 0 {
                sectors.push((
                    id.clone(),
                    ["biomedicine", "light_textile", "ethnic_specialty"][(n % 9 / 3) as usize],
                ));
            }
            changes.push(("enterprise.create", "enterprise", id.clone()));
            ent_ids.push(id);
            ent_active.push(status == "active");
            ent_region.push(region);
        }
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::insert_batch!(conn, enterprises::table, &rows)?;
            let sector_rows: Vec<_> = sectors
                .iter()
                .map(|(e, s)| {
                    (
                        enterprise_sectors::enterprise_id.eq(e),
                        enterprise_sectors::sector_code.eq(*s),
                    )
                })
                .collect();
            crate::insert_batch!(conn, enterprise_sectors::table, &sector_rows)?;
            audit::record_many(conn, &ctx, &changes, now)?;
            Ok(())
        })?;
        r.enterprises += rows.len() as u64;
        r.audit_entries += changes.len() as u64;
        r.rows += (rows.len() + sectors.len() + changes.len()) as u64;
        i = end;
        report(&r, "enterprises", i, n_ent);
    }

    // Products: spread over the enterprises; 70 % food. Food products of Haixi enterprises
    // come from Haixi (so GI designations can be consistent).
    let mut food_products: Vec<(String, usize)> = Vec::new();
    let mut haixi_food: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < n_prod {
        let end = (i + 1500).min(n_prod);
        let mut rows = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let e = (n % n_ent) as usize;
            let id = uuid::Uuid::now_v7().to_string();
            let food = rng.random_range(0..10) < 7 || !(n % n_ent).is_multiple_of(3);
            let (name, sector, category) = if food {
                let (w, c) = FOOD_WORDS[rng.random_range(0..FOOD_WORDS.len())];
                (w, "food", c)
            } else {
                let (w, s, c) =
                    OTHER_WORDS[((n % n_ent) % 9 / 3) as usize * 2 + rng.random_range(0..2)];
                (w, s, c)
            };
            let launched = NaiveDate::from_ymd_opt(2016, 1, 1).expect("date")
                + Duration::days(rng.random_range(0..3900));
            rows.push(ProductRow {
                id: id.clone(),
                enterprise_id: ent_ids[e].clone(),
                name: format!("{}{}号", name, n % 1000),
                brand: BRANDS[rng.random_range(0..BRANDS.len())].into(),
                gtin: (n % 10 != 0).then(|| gtin(n)),
                sector_code: sector.into(),
                category_code: category.into(),
                origin_region_code: ent_region[e].into(),
                ingredients: r#"[{"name":"合成原料","content_percent":100.0}]"#.into(),
                suitable_for: Some("一般人群".into()),
                unsuitable_for: None,
                is_new_product: rng.random_bool(0.05),
                launched_on: Some(launched),
                status: if rng.random_bool(0.03) {
                    "discontinued".into()
                } else {
                    "active".into()
                },
                created_at: now,
                updated_at: now,
                version: 1,
            });
            if food && ent_active[e] {
                food_products.push((id.clone(), e));
                if ent_region[e].starts_with("6328") {
                    haixi_food.push((id.clone(), e));
                }
            }
            changes.push(("product.create", "product", id));
        }
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::insert_batch!(conn, products::table, &rows)?;
            audit::record_many(conn, &ctx, &changes, now)?;
            Ok(())
        })?;
        r.products += rows.len() as u64;
        r.audit_entries += changes.len() as u64;
        r.rows += (rows.len() + changes.len()) as u64;
        i = end;
        report(&r, "products", i, n_prod);
    }
    if food_products.is_empty() {
        return Ok(finish(r, started));
    }

    // Certifications of food products of active enterprises; issue dates over 2019-2026, so
    // some have expired; 4 % suspended, 2 % revoked (each with its history).
    let mut i = 0;
    while i < n_cert {
        let end = (i + 1500).min(n_cert);
        let mut rows = Vec::new();
        let mut history = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let (product, e) = &food_products[rng.random_range(0..food_products.len())];
            let kind = ["green_food", "organic", "halal"][(n % 3) as usize];
            let months = match kind {
                "green_food" => 36,
                "organic" => 12,
                _ => 24,
            };
            let issued = NaiveDate::from_ymd_opt(2019, 1, 1).expect("date")
                + Duration::days(rng.random_range(0..2850));
            let expires = issued
                .checked_add_months(chrono::Months::new(months))
                .expect("date")
                - Duration::days(1);
            let roll: u32 = rng.random_range(0..100);
            let status = if roll < 4 {
                "suspended"
            } else if roll < 6 {
                "revoked"
            } else {
                "valid"
            };
            let id = uuid::Uuid::now_v7().to_string();
            let registered = issued.and_hms_opt(9, 0, 0).expect("time");
            history.push(status_row(
                "certification",
                &id,
                None,
                "valid",
                None,
                registered,
            ));
            changes.push(("certification.register", "certification", id.clone()));
            if status != "valid" {
                let at = registered + Duration::days(rng.random_range(1..200));
                history.push(status_row(
                    "certification",
                    &id,
                    Some("valid"),
                    status,
                    Some("合成数据：抽检不合格"),
                    at,
                ));
                changes.push((
                    if status == "suspended" {
                        "certification.suspend"
                    } else {
                        "certification.revoke"
                    },
                    "certification",
                    id.clone(),
                ));
            }
            rows.push(CertRow {
                id,
                application_id: None,
                kind: kind.into(),
                enterprise_id: ent_ids[*e].clone(),
                product_id: product.clone(),
                certificate_number: cert_number(kind, n),
                certification_body_id: body_for(kind),
                scope: "合成数据认证范围".into(),
                issued_on: issued,
                expires_on: expires,
                status: status.into(),
                created_at: registered,
                updated_at: registered,
                version: 1,
            });
        }
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::insert_batch!(conn, certifications::table, &rows)?;
            crate::insert_batch!(conn, record_status_changes::table, &history)?;
            audit::record_many(conn, &ctx, &changes, now)?;
            Ok(())
        })?;
        r.certifications += rows.len() as u64;
        r.status_changes += history.len() as u64;
        r.audit_entries += changes.len() as u64;
        r.rows += (rows.len() + history.len() + changes.len()) as u64;
        i = end;
        report(&r, "certifications", i, n_cert);
    }

    // Designations: famous-brand titles (3 years) and, for Haixi food products, GI-mark use.
    let mut i = 0;
    while i < n_des {
        let end = (i + 1500).min(n_des);
        let mut rows = Vec::new();
        let mut history = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let gi = n % 3 == 0 && !haixi_food.is_empty() && gi_id.is_some();
            let (product, e) = if gi {
                &haixi_food[rng.random_range(0..haixi_food.len())]
            } else {
                &food_products[rng.random_range(0..food_products.len())]
            };
            let year = rng.random_range(2017..=2026);
            let from = NaiveDate::from_ymd_opt(year, rng.random_range(1..=12), 1).expect("date");
            let roll: u32 = rng.random_range(0..100);
            let status = if roll < 3 {
                "revoked"
            } else if roll < 5 {
                "suspended"
            } else {
                "active"
            };
            let id = uuid::Uuid::now_v7().to_string();
            let granted = from.and_hms_opt(9, 0, 0).expect("time");
            history.push(status_row(
                "designation",
                &id,
                None,
                "active",
                Some("granted"),
                granted,
            ));
            changes.push(("designation.register", "designation", id.clone()));
            if status != "active" {
                history.push(status_row(
                    "designation",
                    &id,
                    Some("active"),
                    status,
                    Some("合成数据：质量事故"),
                    granted + Duration::days(rng.random_range(1..300)),
                ));
                changes.push((
                    if status == "suspended" {
                        "designation.suspend"
                    } else {
                        "designation.revoke"
                    },
                    "designation",
                    id.clone(),
                ));
            }
            rows.push(DesignationRow {
                id,
                application_id: None,
                kind: if gi {
                    "gi_product".into()
                } else {
                    "provincial_famous_brand".into()
                },
                enterprise_id: ent_ids[*e].clone(),
                product_id: Some(product.clone()),
                geographical_indication_id: if gi { gi_id.clone() } else { None },
                number: designation_number(n),
                granted_year: year,
                valid_from: from,
                valid_until: if gi {
                    None
                } else {
                    from.checked_add_months(chrono::Months::new(36))
                },
                status: status.into(),
                created_at: granted,
                updated_at: granted,
                version: 1,
            });
        }
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::insert_batch!(conn, designations::table, &rows)?;
            crate::insert_batch!(conn, record_status_changes::table, &history)?;
            audit::record_many(conn, &ctx, &changes, now)?;
            Ok(())
        })?;
        r.designations += rows.len() as u64;
        r.status_changes += history.len() as u64;
        r.audit_entries += changes.len() as u64;
        r.rows += (rows.len() + history.len() + changes.len()) as u64;
        i = end;
        report(&r, "designations", i, n_des);
    }
    // Bulk loads leave the planner's statistics stale; refresh them once at the end.
    progress("analyze: refreshing planner statistics");
    diesel::connection::SimpleConnection::batch_execute(conn, "ANALYZE")?;
    Ok(finish(r, started))
}

fn finish(mut r: Report, started: Instant) -> Report {
    r.seconds = started.elapsed().as_secs_f64();
    r
}

fn status_row(
    record_type: &str,
    id: &str,
    from: Option<&str>,
    to: &str,
    reason: Option<&str>,
    at: chrono::NaiveDateTime,
) -> StatusChangeRow {
    StatusChangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        record_type: record_type.into(),
        record_id: id.into(),
        from_status: from.map(str::to_owned),
        to_status: to.into(),
        reason: reason.map(str::to_owned),
        actor_id: None,
        actor_label: "system:synthetic".into(),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Gtin, Uscc};

    #[test]
    fn identifiers_are_valid_and_distinct() {
        for n in [0, 1, 30, 31, 99_999, 27_512_614] {
            Uscc::parse(&uscc("632800", n)).unwrap();
            Gtin::parse(&gtin(n)).unwrap();
        }
        assert_ne!(uscc("632800", 1), uscc("632800", 2));
        assert_ne!(gtin(1), gtin(2));
    }
}
