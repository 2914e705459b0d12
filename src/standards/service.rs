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
        owner_enterprise_id: None,
        text_sha256: None,
        issuer: None,
    };
    repo::insert(conn, &row)?;
    Ok(row)
}

/// An enterprise (Q/) or group (T/) standard, as its publisher registers it.
pub struct OwnStandard {
    pub code: StandardCode,
    pub title_zh: String,
    pub title_en: Option<String>,
    pub text_sha256: String,
    pub published_on: NaiveDate,
    /// Q/: the enterprise that publishes it.
    pub enterprise_id: Option<String>,
    /// T/: the association that issued it.
    pub issuer: Option<String>,
}

/// Registers an enterprise or group standard. An enterprise standard is its enterprise's
/// (its own users only; only its products may declare it); a group standard may be registered
/// by the user of any active enterprise, or an admin. 409 when the code is catalogued already.
/// Call inside `write_tx`.
pub fn publish_own(
    conn: &mut DbConn,
    actor: &crate::auth::Actor,
    ctx: &crate::audit::AuditCtx,
    new: OwnStandard,
) -> ApiResult<StandardRow> {
    use crate::auth::{check, Action, Target};
    use crate::domain::Role;
    let level = new.code.derived_level(|_| None);
    let owner = match level {
        StandardLevel::Enterprise => {
            let id = new.enterprise_id.clone().ok_or_else(|| {
                ApiError::field("enterprise_id", "required", "an enterprise standard names its enterprise")
            })?;
            let status = crate::enterprises::repo::status(conn, &id)?;
            check(Some(actor), Action::ManageProducts, Target::owned_by(&id, status))?;
            // The catalogue is public: only an enterprise the public may see publishes into it.
            if status != Some(crate::domain::EnterpriseStatus::Active) {
                return Err(ApiError::conflict(
                    "enterprise_not_active",
                    "only an active enterprise registers its own standards",
                ));
            }
            Some(id)
        }
        StandardLevel::Group => {
            let may = match actor.role {
                Role::Admin => true,
                Role::Enterprise => match actor.enterprise_id.as_deref() {
                    Some(own) => {
                        crate::enterprises::repo::status(conn, own)?
                            == Some(crate::domain::EnterpriseStatus::Active)
                    }
                    None => false,
                },
                Role::Regulator | Role::Developer => false,
            };
            if !may {
                return Err(ApiError::Forbidden);
            }
            if new.issuer.is_none() {
                return Err(ApiError::field(
                    "issuer",
                    "required",
                    "a group standard names the association that issued it",
                ));
            }
            None
        }
        _ => {
            return Err(ApiError::field(
                "code",
                "not_own_standard",
                "only enterprise (Q/) and group (T/) standards are registered here; the others come from the catalogue",
            ))
        }
    };
    let mut row = create(
        conn,
        NewStandard {
            code: new.code,
            title_zh: new.title_zh,
            title_en: new.title_en,
            level: Some(level),
            status: StandardStatus::Current,
            effective_on: Some(new.published_on),
            notes: None,
            confidence: None,
        },
    )?;
    row.owner_enterprise_id = owner;
    row.text_sha256 = Some(new.text_sha256);
    row.issuer = new.issuer.filter(|_| level == StandardLevel::Group);
    repo::set_publisher(conn, &row)?;
    crate::audit::record(
        conn,
        ctx,
        crate::audit::Change {
            action: "standard.create",
            entity_type: "standard",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(super::repo::StandardView::build(&row, None)).ok(),
            reason: None,
        },
    )?;
    Ok(row)
}
