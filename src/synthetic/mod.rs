//! `registry seed --synthetic SCALE`: a deterministic register for benchmarks (scale 1 is
//! 100k enterprises, 1M products, 300k certificates, 50k designations), with status histories
//! and a chained audit entry per row. Loaded in batches, one transaction each, with a progress
//! line per batch.

mod records;

use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::audit::{self, AuditCtx};
use crate::db::schema::{
    certification_bodies, enterprise_sectors, enterprises, geographical_indications, products,
};
use crate::db::{write_tx, DbConn};
use crate::domain::{
    uscc, ApplicationKind, EnterpriseStatus, Gtin, ProductStatus, Scale, Sector, Uscc,
};
use crate::enterprises::repo::EnterpriseRow;
use crate::error::{ApiError, ApiResult};
use crate::products::repo::ProductRow;
use crate::reference::kinds;

/// A valid USCC for the n-th synthetic enterprise (organisation code `QY` + base-31 counter;
/// issuer `93`, so synthetic rows are recognisable).
pub fn synthetic_uscc(region: &str, n: u64) -> String {
    let mut org = [b'0'; 7];
    let mut x = n;
    for slot in org.iter_mut().rev() {
        *slot = uscc::ALPHABET[(x % 31) as usize];
        x /= 31;
    }
    let body = format!("93{region}QY{}", std::str::from_utf8(&org).expect("ascii"));
    Uscc::with_check(&body)
        .expect("a synthetic body is well formed")
        .as_str()
        .to_owned()
}

/// A valid GTIN-13 for the n-th synthetic product (prefix 699).
pub fn synthetic_gtin(n: u64) -> String {
    Gtin::with_check(&format!("699{:09}", n % 1_000_000_000))
        .expect("twelve digits")
        .as_str()
        .to_owned()
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
const OTHER_WORDS: &[(&str, Sector, &str)] = &[
    ("藏药浴粉", Sector::Biomedicine, "tibetan_medicine"),
    ("虫草口服液", Sector::Biomedicine, "cordyceps"),
    ("手工藏毯", Sector::LightTextile, "carpet"),
    ("牦牛绒围巾", Sector::LightTextile, "cashmere"),
    ("唐卡", Sector::EthnicSpecialty, "thangka"),
    ("藏银手镯", Sector::EthnicSpecialty, "silverware"),
];

/// What every stage shares: the random source (seeded: the same scale gives the same data),
/// the audit context, the clock, the running report and the progress line.
pub(crate) struct Gen<'a> {
    rng: StdRng,
    ctx: AuditCtx,
    now: NaiveDateTime,
    started: Instant,
    report: Report,
    progress: &'a dyn Fn(&str),
}

impl Gen<'_> {
    fn tick(&self, what: &str, done: u64, of: u64) {
        let secs = self.started.elapsed().as_secs_f64();
        (self.progress)(&format!(
            "{what:<15} {done:>9}/{of:<9} {:>10} rows  {:>8.0} rows/s",
            self.report.rows,
            self.report.rows as f64 / secs.max(1e-9)
        ));
    }
}

/// The enterprises made so far, by index: id, whether active, region.
struct Enterprises {
    ids: Vec<String>,
    active: Vec<bool>,
    region: Vec<&'static str>,
}

/// Food products of active enterprises (product id, enterprise index), and those from Haixi.
pub(crate) struct FoodProducts {
    all: Vec<(String, usize)>,
    haixi: Vec<(String, usize)>,
}

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
    use ApplicationKind::*;
    for k in [GreenFood, Organic, Halal, ProvincialFamousBrand, GiProduct] {
        if kinds::find(conn, k)?.is_none() {
            return Err(ApiError::Internal(format!(
                "reference data missing kind {k}: run `registry seed` first"
            )));
        }
    }
    let mut g = Gen {
        rng: StdRng::seed_from_u64(20_200_101),
        ctx: AuditCtx::system("synthetic"),
        now: crate::clock::now(),
        started: Instant::now(),
        report: Report::default(),
        progress,
    };
    let counts = Counts {
        enterprises: n_ent,
        products: n_prod,
        certifications: n_cert,
        designations: n_des,
    };
    match conn {
        // One transaction: indexes and foreign keys are rebuilt once at the end (`db::bulk`),
        // and a failed or interrupted load leaves the database as it was.
        DbConn::Pg(_) => write_tx(conn, |conn| -> ApiResult<()> {
            let deferred = crate::db::bulk::defer(conn, LOADED_TABLES)?;
            progress(&format!(
                "bulk load: {} indexes and foreign keys are rebuilt at the end",
                deferred.len()
            ));
            fill(conn, &mut g, &counts)?;
            crate::records::expiry::mark_past_announced(conn, crate::clock::today())?;
            deferred.restore(conn, progress)?;
            Ok(())
        })?,
        DbConn::Sqlite(_) => {
            fill(conn, &mut g, &counts)?;
            crate::records::expiry::mark_past_announced(conn, crate::clock::today())?;
        }
    }
    // Bulk loads leave the planner's statistics stale; refresh them once at the end.
    progress("analyze: refreshing planner statistics");
    diesel::connection::SimpleConnection::batch_execute(conn, "ANALYZE")?;
    g.report.seconds = g.started.elapsed().as_secs_f64();
    Ok(g.report)
}

/// The tables the generator loads (and, on PostgreSQL, whose secondary indexes and foreign keys
/// it rebuilds once at the end).
const LOADED_TABLES: &[&str] = &[
    "enterprises",
    "enterprise_sectors",
    "products",
    "search_docs",
    "certifications",
    "designations",
    "record_status_changes",
    "audit_log",
];

struct Counts {
    enterprises: u64,
    products: u64,
    certifications: u64,
    designations: u64,
}

fn fill(conn: &mut DbConn, g: &mut Gen<'_>, n: &Counts) -> ApiResult<()> {
    let ents = enterprises_stage(conn, g, n.enterprises)?;
    let food = products_stage(conn, g, &ents, n.products)?;
    if food.all.is_empty() {
        return Ok(());
    }
    let bodies: Vec<(String, String)> = certification_bodies::table
        .select((certification_bodies::id, certification_bodies::kinds))
        .load(conn)?;
    records::certifications(conn, g, &ents.ids, &food, &bodies, n.certifications)?;
    let gi_id: Option<String> = geographical_indications::table
        .filter(geographical_indications::key.eq("qaidam_goji_protected_product"))
        .select(geographical_indications::id)
        .first(conn)
        .optional()?;
    records::designations(conn, g, &ents.ids, &food, gi_id, n.designations)?;
    (g.progress)("certified facts: recording what each record certifies");
    write_tx(conn, |conn| -> ApiResult<()> {
        Ok(crate::records::certified::backfill(conn)?)
    })?;
    Ok(())
}

/// Enterprises: 95 % active, 3 % pending, 2 % suspended; each in one or two sectors.
fn enterprises_stage(conn: &mut DbConn, g: &mut Gen<'_>, n_ent: u64) -> ApiResult<Enterprises> {
    let mut ents = Enterprises {
        ids: Vec::with_capacity(n_ent as usize),
        active: Vec::with_capacity(n_ent as usize),
        region: Vec::with_capacity(n_ent as usize),
    };
    const OTHER_SECTORS: [Sector; 3] = [
        Sector::Biomedicine,
        Sector::LightTextile,
        Sector::EthnicSpecialty,
    ];
    const SCALES: [Scale; 4] = [Scale::Large, Scale::Medium, Scale::Small, Scale::Micro];
    let mut i = 0;
    while i < n_ent {
        let end = (i + 1000).min(n_ent);
        let mut rows = Vec::new();
        let mut sectors = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let region = REGIONS[g.rng.random_range(0..REGIONS.len())];
            let roll: u32 = g.rng.random_range(0..100);
            let status = match roll {
                0..95 => EnterpriseStatus::Active,
                95..98 => EnterpriseStatus::Pending,
                _ => EnterpriseStatus::Suspended,
            };
            let id = uuid::Uuid::now_v7().to_string();
            rows.push(EnterpriseRow {
                id: id.clone(),
                uscc: synthetic_uscc(region, n),
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
                scale: SCALES[g.rng.random_range(0..4)],
                above_designated_size: g.rng.random_bool(0.2),
                contact_phone: "0971-0000000".into(),
                contact_email: format!("e{n}@example.com"),
                status,
                verified_at: (status != EnterpriseStatus::Pending).then_some(g.now),
                created_at: g.now,
                updated_at: g.now,
                version: 1,
            });
            sectors.push((id.clone(), Sector::Food));
            if n % 3 == 0 {
                sectors.push((id.clone(), OTHER_SECTORS[(n % 9 / 3) as usize]));
            }
            changes.push(("enterprise.create", "enterprise", id.clone()));
            ents.ids.push(id);
            ents.active.push(status == EnterpriseStatus::Active);
            ents.region.push(region);
        }
        let now = g.now;
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::bulk_insert!(conn, enterprises::table, &rows)?;
            crate::enterprises::repo::index(conn, &rows)?;
            let sector_rows: Vec<_> = sectors
                .iter()
                .map(|(e, s)| {
                    (
                        enterprise_sectors::enterprise_id.eq(e),
                        enterprise_sectors::sector_code.eq(*s),
                    )
                })
                .collect();
            crate::bulk_insert!(conn, enterprise_sectors::table, &sector_rows)?;
            audit::record_many(conn, &g.ctx, &changes, now)?;
            Ok(())
        })?;
        g.report.enterprises += rows.len() as u64;
        g.report.audit_entries += changes.len() as u64;
        g.report.rows += (rows.len() + sectors.len() + changes.len()) as u64;
        i = end;
        g.tick("enterprises", i, n_ent);
    }
    Ok(ents)
}

/// Products: spread over the enterprises; 70 % food. Food products of Haixi enterprises come
/// from Haixi (so GI designations can be consistent).
fn products_stage(
    conn: &mut DbConn,
    g: &mut Gen<'_>,
    ents: &Enterprises,
    n_prod: u64,
) -> ApiResult<FoodProducts> {
    let n_ent = ents.ids.len() as u64;
    let mut food_products = FoodProducts {
        all: Vec::new(),
        haixi: Vec::new(),
    };
    let mut i = 0;
    while i < n_prod {
        let end = (i + 1500).min(n_prod);
        let mut rows = Vec::new();
        let mut changes = Vec::new();
        for n in i..end {
            let e = (n % n_ent) as usize;
            let id = uuid::Uuid::now_v7().to_string();
            let food = g.rng.random_range(0..10) < 7 || !(n % n_ent).is_multiple_of(3);
            let (name, sector, category) = if food {
                let (w, c) = FOOD_WORDS[g.rng.random_range(0..FOOD_WORDS.len())];
                (w, Sector::Food, c)
            } else {
                let (w, s, c) =
                    OTHER_WORDS[((n % n_ent) % 9 / 3) as usize * 2 + g.rng.random_range(0..2)];
                (w, s, c)
            };
            let launched = NaiveDate::from_ymd_opt(2016, 1, 1).expect("date")
                + Duration::days(g.rng.random_range(0..3900));
            rows.push(ProductRow {
                id: id.clone(),
                enterprise_id: ents.ids[e].clone(),
                name: format!("{}{}号", name, n % 1000),
                brand: BRANDS[g.rng.random_range(0..BRANDS.len())].into(),
                gtin: (n % 10 != 0).then(|| synthetic_gtin(n)),
                sector_code: sector,
                category_code: category.into(),
                origin_region_code: ents.region[e].into(),
                ingredients: r#"[{"name":"合成原料","content_percent":100.0}]"#.into(),
                suitable_for: Some("一般人群".into()),
                unsuitable_for: None,
                is_new_product: g.rng.random_bool(0.05),
                launched_on: Some(launched),
                status: if g.rng.random_bool(0.03) {
                    ProductStatus::Discontinued
                } else {
                    ProductStatus::Active
                },
                created_at: g.now,
                updated_at: g.now,
                version: 1,
            });
            if food && ents.active[e] {
                food_products.all.push((id.clone(), e));
                if ents.region[e].starts_with("6328") {
                    food_products.haixi.push((id.clone(), e));
                }
            }
            changes.push(("product.create", "product", id));
        }
        let now = g.now;
        write_tx(conn, |conn| -> ApiResult<()> {
            crate::bulk_insert!(conn, products::table, &rows)?;
            crate::products::repo::index(conn, &rows)?;
            audit::record_many(conn, &g.ctx, &changes, now)?;
            Ok(())
        })?;
        g.report.products += rows.len() as u64;
        g.report.audit_entries += changes.len() as u64;
        g.report.rows += (rows.len() + changes.len()) as u64;
        i = end;
        g.tick("products", i, n_prod);
    }
    Ok(food_products)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid_and_distinct() {
        for n in [0, 1, 30, 31, 99_999, 27_512_614] {
            Uscc::parse(&synthetic_uscc("632800", n)).unwrap();
            Gtin::parse(&synthetic_gtin(n)).unwrap();
        }
        assert_ne!(synthetic_uscc("632800", 1), synthetic_uscc("632800", 2));
        assert_ne!(synthetic_gtin(1), synthetic_gtin(2));
    }
}
