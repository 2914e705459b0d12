//! The plan's progress and register-wide counts, computed from the register itself.

mod repo;
pub mod routes;

pub use repo::{plan_progress, summary};

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetProgress {
    #[schema(example = "new_products")]
    pub code: String,
    /// For per-sector targets.
    #[schema(example = "food")]
    pub sector: Option<String>,
    pub description_zh: String,
    pub description_en: String,
    /// `count` or `percent`.
    pub unit: String,
    #[schema(example = 40)]
    pub target: i64,
    /// What the register shows; `null` when the register does not record it.
    #[schema(example = 12)]
    pub actual: Option<f64>,
    /// actual ÷ target.
    #[schema(example = 0.3)]
    pub ratio: Option<f64>,
    /// How `actual` is computed.
    pub basis: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanProgress {
    /// The year whose register activity is counted.
    #[schema(example = 2020)]
    pub year: i32,
    /// The year the targets were set for.
    #[schema(example = 2020)]
    pub targets_year: i32,
    pub items: Vec<TargetProgress>,
    /// Supervision in the year: spot-check results published by then, by sector.
    pub spot_checks: Vec<SpotCheckSector>,
    /// Enterprises on the dishonesty list today.
    pub listed_enterprises: i64,
}

/// The year's published spot-check results for one sector (a product counts in its sector, an
/// enterprise in each of its sectors).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpotCheckSector {
    #[schema(example = "food")]
    pub sector: String,
    /// Targets inspected, with the result of each.
    pub checked: i64,
    pub passed: i64,
    pub failed: i64,
    pub not_found: i64,
    /// passed ÷ (passed + failed); `null` when none was found to inspect.
    #[schema(example = 0.9)]
    pub pass_rate: Option<f64>,
    /// Distinct enterprises inspected ÷ active enterprises of the sector.
    #[schema(example = 0.05)]
    pub coverage: Option<f64>,
}
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectorCount {
    pub sector: String,
    pub active_enterprises: i64,
    pub products: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionCount {
    /// Prefecture-level code (counties are folded into their prefecture).
    pub region_code: String,
    pub name_zh: String,
    pub active_enterprises: i64,
    /// Products by origin.
    pub products: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KindCount {
    pub kind: String,
    /// Stored status counts; `expired` is derived from the dates.
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub by_sector: Vec<SectorCount>,
    pub by_region: Vec<RegionCount>,
    pub certifications: Vec<KindCount>,
    pub designations: Vec<KindCount>,
}
