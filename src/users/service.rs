//! Creating accounts: one path for the admin API, self-registration, the CLI and the demo seed.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::repo::{self, UserRow};
use crate::audit::{self, AuditCtx, Change};
use crate::db::schema::{agencies, enterprises};
use crate::db::DbConn;
use crate::domain::{Agency, Role};
use crate::error::{ApiError, ApiResult, Errors};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    #[schema(example = "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f")]
    pub id: String,
    #[schema(example = "qh_market_01")]
    pub username: String,
    pub role: Role,
    /// The regulator's agency.
    #[schema(example = "market_regulation")]
    pub agency_code: Option<Agency>,
    /// The enterprise an enterprise user acts for.
    pub enterprise_id: Option<String>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            role: u.role,
            agency_code: u.agency_code,
            enterprise_id: u.enterprise_id.clone(),
            disabled: u.disabled,
            created_at: crate::clock::to_utc(u.created_at),
            updated_at: crate::clock::to_utc(u.updated_at),
            version: u.version,
        }
    }
}

/// A new account, validated in form (references are checked against the database on insert).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub agency_code: Option<Agency>,
    pub enterprise_id: Option<String>,
}

/// Usernames: 3-64 of a-z 0-9 _ . -, stored lower-case.
pub fn parse_username(errors: &mut Errors, field: &str, raw: &str) -> Option<String> {
    let u = raw.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Some(u)
    } else {
        errors.push(
            field,
            "invalid_username",
            "3-64 characters: letters, digits, _ . -",
        );
        None
    }
}

impl NewUser {
    pub fn parse(
        errors: &mut Errors,
        username: &str,
        role: &str,
        agency_code: Option<&str>,
        enterprise_id: Option<&str>,
    ) -> Option<Self> {
        let username = parse_username(errors, "username", username);
        let role = errors.take("role", Role::parse(role));
        let agency_text = agency_code.map(str::trim).filter(|s| !s.is_empty());
        let agency_code = agency_text.and_then(|a| match Agency::parse(a) {
            Ok(agency) => Some(agency),
            Err(_) => {
                errors.push("agency_code", "unknown_agency", format!("no agency {a}"));
                None
            }
        });
        let enterprise_id = enterprise_id
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        match role {
            Some(Role::Regulator) if agency_text.is_none() => {
                errors.push("agency_code", "required", "regulators belong to an agency")
            }
            Some(Role::Enterprise) if enterprise_id.is_none() => errors.push(
                "enterprise_id",
                "required",
                "enterprise users act for an enterprise",
            ),
            _ => {}
        }
        if role.is_some_and(|r| r != Role::Regulator) && agency_text.is_some() {
            errors.push(
                "agency_code",
                "not_allowed",
                "only regulators belong to an agency",
            );
        }
        if role.is_some_and(|r| r != Role::Enterprise) && enterprise_id.is_some() {
            errors.push(
                "enterprise_id",
                "not_allowed",
                "only enterprise users act for an enterprise",
            );
        }
        Some(Self {
            username: username?,
            role: role?,
            agency_code,
            enterprise_id,
        })
    }
}

/// 409 `username_taken` when an account already has the name.
pub fn ensure_username_free(conn: &mut DbConn, username: &str) -> ApiResult<()> {
    if repo::find_by_username(conn, username)?.is_some() {
        return Err(ApiError::conflict(
            "username_taken",
            format!("the username {username} is taken"),
        ));
    }
    Ok(())
}

/// Inserts the account (password already hashed) and its audit entry. Call inside `write_tx`.
pub fn create(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    new: NewUser,
    password_hash: String,
) -> ApiResult<UserRow> {
    if let Some(a) = new.agency_code {
        let exists: i64 = agencies::table
            .filter(agencies::code.eq(a))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::field(
                "agency_code",
                "unknown_agency",
                format!("no agency {a}"),
            ));
        }
    }
    if let Some(e) = &new.enterprise_id {
        let exists: i64 = enterprises::table
            .filter(enterprises::id.eq(e))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::field(
                "enterprise_id",
                "unknown_enterprise",
                format!("no enterprise {e}"),
            ));
        }
    }
    ensure_username_free(conn, &new.username)?;
    let now = crate::clock::now();
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        username: new.username,
        password_hash,
        role: new.role,
        agency_code: new.agency_code,
        enterprise_id: new.enterprise_id,
        disabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    repo::insert(conn, &row)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "user.create",
            entity_type: "user",
            entity_id: &row.id,
            before: None,
            after: Some(serde_json::to_value(UserView::from(&row)).unwrap_or_default()),
            reason: None,
        },
    )?;
    Ok(row)
}
