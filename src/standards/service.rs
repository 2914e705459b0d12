//! Creating and changing standards: the rules shared by the admin API and the seed loader.

use chrono::NaiveDate;

use super::repo::{self, StandardRow};
use crate::db::DbConn;
use crate::domain::{StandardCode, StandardLevel, StandardStatus};
use crate::error::{ApiError, ApiResult};
use crate::reference::repo as reference;

pub struct NewStandard {
    pub code: StandardCode,
    pub title_zh: String,
    pub title_en: Option<String>,
    pub level: Option<StandardLevel>,
    pub status: StandardStatus,
    pub effective_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub confidence: Option<String>,
}

/// Builds the row (deriving the level from the prefix when not given) and inserts it.
pub fn create(conn: &mut DbConn, new: NewStandard) -> ApiResult<StandardRow> {
    if repo::find_by_code(conn, new.code.as_str())?.is_some() {
        return Err(ApiError::conflict(
            "duplicate_standard",
            format!("{} is already in the catalogue", new.code),
        ));
    }
    let level = match new.level {
        Some(l) => l,
        None => {
            let prefixes = reference::all_prefix_levels(conn)?;
            new.code
                .derived_level(|p| prefixes.iter().find(|(k, _)| k == p).map(|(_, l)| *l))
        }
    };
    let now = crate::clock::now();
    let row = StandardRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: new.code.as_str().to_owned(),
        prefix: new.code.prefix(),
        number: new.code.number.clone(),
        year: new.code.year,
        title_zh: new.title_zh,
        title_en: new.title_en,
        level,
        status: new.status,
        replaced_by_id: None,
        effective_on: new.effective_on,
        notes: new.notes,
        confidence: new.confidence,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    repo::insert(conn, &row)?;
    Ok(row)
}
