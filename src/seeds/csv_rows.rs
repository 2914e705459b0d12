//! The shape of each reference file's rows. Closed sets are their enums, dates are dates and
//! optional numbers are numbers, so `rows()` refuses a wrong value with its line and column.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{
    Agency, ApplicationKind, KindCategory, RegionLevel, Sector, StandardLevel, StandardStatus,
    TargetUnit,
};

#[derive(Deserialize)]
pub(super) struct RegionCsv {
    pub(super) code: String,
    pub(super) name_zh: String,
    pub(super) name_en: String,
    pub(super) level: RegionLevel,
    pub(super) parent_code: String,
    pub(super) alias_of: String,
}

#[derive(Deserialize)]
pub(super) struct AgencyCsv {
    pub(super) code: Agency,
    pub(super) name_zh: String,
    pub(super) name_en: String,
    pub(super) decides: String,
}

#[derive(Deserialize)]
pub(super) struct SectorCsv {
    pub(super) code: Sector,
    pub(super) name_zh: String,
    pub(super) name_en: String,
}

#[derive(Deserialize)]
pub(super) struct CategoryCsv {
    pub(super) code: String,
    pub(super) sector: Sector,
    pub(super) name_zh: String,
    pub(super) name_en: String,
}

#[derive(Deserialize)]
pub(super) struct PrefixCsv {
    pub(super) prefix: String,
    pub(super) level: StandardLevel,
    pub(super) name_zh: String,
    pub(super) name_en: String,
}

#[derive(Deserialize)]
pub(super) struct StandardCsv {
    pub(super) code: String,
    pub(super) title_zh: String,
    pub(super) title_en: String,
    /// Empty: derived from the code's prefix.
    pub(super) level: Option<StandardLevel>,
    pub(super) status: StandardStatus,
    pub(super) replaced_by: String,
    pub(super) effective_on: Option<NaiveDate>,
    pub(super) notes: String,
    pub(super) confidence: String,
}

#[derive(Deserialize)]
pub(super) struct TargetCsv {
    pub(super) year: i32,
    pub(super) code: String,
    pub(super) sector: String,
    pub(super) target: i64,
    pub(super) unit: TargetUnit,
    pub(super) description_zh: String,
    pub(super) description_en: String,
}

#[derive(Deserialize)]
pub(super) struct KindCsv {
    pub(super) code: ApplicationKind,
    pub(super) category: KindCategory,
    pub(super) name_zh: String,
    pub(super) name_en: String,
    pub(super) validity_months: Option<i32>,
    pub(super) accepting_applications: bool,
    pub(super) public_notice: bool,
    pub(super) notice_days: i32,
    pub(super) food_only: bool,
    pub(super) number_prefix: String,
    pub(super) note: String,
    pub(super) notes: String,
    pub(super) confidence: String,
    /// Days before a record's end from which its renewal may be filed; empty: not renewed.
    pub(super) renewal_window_days: Option<i32>,
}

#[derive(Deserialize)]
pub(super) struct BodyCsv {
    pub(super) key: String,
    pub(super) name_zh: String,
    pub(super) name_en: String,
    pub(super) abbreviation: String,
    pub(super) approval_number: String,
    pub(super) kinds: String,
    pub(super) website: String,
    pub(super) notes: String,
    pub(super) confidence: String,
}

#[derive(Deserialize)]
pub(super) struct GiCsv {
    pub(super) key: String,
    pub(super) name_zh: String,
    pub(super) name_en: String,
    pub(super) system: String,
    pub(super) product_category: String,
    pub(super) protected_area_region_codes: String,
    pub(super) announcement: String,
    pub(super) defining_standard: String,
    pub(super) notes: String,
    pub(super) confidence: String,
}
