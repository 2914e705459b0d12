//! Enterprise input parsing, views and creation: shared by registration, direct registration by
//! a regulator, and the demo seed.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::{self, EnterpriseRow};
use crate::audit::{self, AuditCtx, Change};
use crate::db::DbConn;
use crate::domain::{self, EnterpriseStatus, Scale, Sector, Uscc};
use crate::error::{ApiError, ApiResult, Errors};
use crate::reference::repo as reference;

/// An enterprise's profile as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "uscc": "914403001922038216", "name": "柴达木示例枸杞有限公司", "legal_representative": "王示例",
    "region_code": "632800", "address": "德令哈市示例路 1 号", "sectors": ["food"], "scale": "small",
    "contact_phone": "0977-8200000", "contact_email": "contact@example.com"
}))]
pub struct EnterpriseInput {
    /// Unified Social Credit Code (18 characters, check character verified).
    pub uscc: String,
    pub name: String,
    pub legal_representative: String,
    /// GB/T 2260 code (632100, Haidong's legacy code, is accepted and stored as 630200).
    pub region_code: String,
    pub address: String,
    /// One or more of `food`, `biomedicine`, `light_textile`, `ethnic_specialty`.
    pub sectors: Vec<String>,
    /// `large`, `medium`, `small` or `micro`.
    pub scale: String,
    /// 规模以上 (above designated size).
    #[serde(default)]
    pub above_designated_size: bool,
    pub contact_phone: String,
    pub contact_email: String,
}

/// Parsed and valid in form; `region_code` still has to exist.
#[derive(Debug, Clone)]
pub struct NewEnterprise {
    pub uscc: Uscc,
    pub uscc_override_reason: Option<String>,
    pub name: String,
    pub legal_representative: String,
    pub region_code: String,
    pub address: String,
    pub sectors: Vec<Sector>,
    pub scale: Scale,
    pub above_designated_size: bool,
    pub contact_phone: String,
    pub contact_email: String,
}

pub fn parse_sectors(errors: &mut Errors, field: &str, raw: &[String]) -> Option<Vec<Sector>> {
    if raw.is_empty() {
        errors.push(field, "required", "at least one sector");
        return None;
    }
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let parsed = errors.take(&format!("{field}[{i}]"), Sector::parse(s))?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Some(out)
}

impl NewEnterprise {
    /// `prefix` is where the input sits in the request (`enterprise.` in registration).
    /// `override_reason`: only a market regulator's direct registration may pass one, and
    /// only then is a USCC failing its check character accepted.
    pub fn parse(
        errors: &mut Errors,
        prefix: &str,
        i: &EnterpriseInput,
        override_reason: Option<&str>,
    ) -> Option<Self> {
        let f = |name: &str| format!("{prefix}{name}");
        let override_reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
        let uscc = match override_reason {
            None => errors.take(&f("uscc"), Uscc::parse(&i.uscc)),
            Some(_) => errors.take(&f("uscc"), Uscc::parse_shape(&i.uscc)),
        };
        // A reason for a code that passes its check would be an audit entry for nothing.
        let uscc_override_reason = match (&uscc, override_reason) {
            (Some(u), Some(r)) if !u.has_valid_check() => Some(r.to_owned()),
            _ => None,
        };
        let name = domain::text(errors, &f("name"), &i.name, 200);
        let legal_representative = domain::text(
            errors,
            &f("legal_representative"),
            &i.legal_representative,
            100,
        );
        let region_code = domain::region_code_shape(errors, &f("region_code"), &i.region_code);
        let address = domain::text(errors, &f("address"), &i.address, 300);
        let sectors = parse_sectors(errors, &f("sectors"), &i.sectors);
        let scale = errors.take(&f("scale"), Scale::parse(&i.scale));
        let contact_phone = domain::phone(errors, &f("contact_phone"), &i.contact_phone);
        let contact_email = domain::email(errors, &f("contact_email"), &i.contact_email);
        Some(Self {
            uscc: uscc?,
            uscc_override_reason,
            name: name?,
            legal_representative: legal_representative?,
            region_code: region_code?,
            address: address?,
            sectors: sectors?,
            scale: scale?,
            above_designated_size: i.above_designated_size,
            contact_phone: contact_phone?,
            contact_email: contact_email?,
        })
    }
}

/// Checks the region exists and returns the code in use (legacy codes resolve to current ones).
pub fn resolve_region(conn: &mut DbConn, field: &str, code: &str) -> ApiResult<String> {
    reference::resolve_region(conn, code)?.ok_or_else(|| {
        ApiError::field(
            field,
            "unknown_region",
            format!("{code} is not a Qinghai division code (GB/T 2260)"),
        )
    })
}

/// Who claims a USCC: that decides whether a pending registration holding it gives way.
#[derive(Debug, Clone, Copy)]
pub enum Claim {
    /// An enterprise's own sign-up: only a registration left unverified since before
    /// `stale_before` gives way (it has expired). Any other holder is a 409: nobody can tell
    /// the real company from a squatter without market regulation.
    SelfRegistration { stale_before: NaiveDateTime },
    /// Market regulation registering the company itself: a pending registration with the same
    /// USCC is superseded.
    Direct,
}

/// How a pending registration ends without being verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    Rejected,
    Expired,
    Superseded,
}

impl Closing {
    fn status(self) -> EnterpriseStatus {
        match self {
            Closing::Expired => EnterpriseStatus::Expired,
            Closing::Rejected | Closing::Superseded => EnterpriseStatus::Rejected,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Closing::Rejected => "enterprise.reject",
            Closing::Expired => "enterprise.expire",
            Closing::Superseded => "enterprise.supersede",
        }
    }
}

/// Checks nobody else holds the USCC (409 `duplicate_uscc`), or returns the pending
/// registration that gives way to `claim` and how it ends.
pub fn ensure_uscc_free(
    conn: &mut DbConn,
    uscc: &Uscc,
    claim: Claim,
) -> ApiResult<Option<(EnterpriseRow, Closing)>> {
    let Some(holder) = repo::find_by_uscc(conn, uscc.as_str())? else {
        return Ok(None);
    };
    match claim {
        _ if holder.status != EnterpriseStatus::Pending => Err(ApiError::conflict(
            "duplicate_uscc",
            format!("an enterprise with USCC {uscc} is registered"),
        )),
        Claim::Direct => Ok(Some((holder, Closing::Superseded))),
        Claim::SelfRegistration { stale_before } if holder.created_at < stale_before => {
            Ok(Some((holder, Closing::Expired)))
        }
        Claim::SelfRegistration { .. } => Err(ApiError::conflict(
            "duplicate_uscc",
            format!(
                "a registration with USCC {uscc} is waiting for market regulation; if it is not \
                 yours, market regulation can reject it"
            ),
        )),
    }
}

/// Ends a pending registration: it no longer holds its USCC, its accounts are disabled and
/// their sessions ended. Audited with the reason. Call inside `write_tx`.
pub fn close_pending(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    before: &EnterpriseRow,
    closing: Closing,
    reason: &str,
) -> ApiResult<EnterpriseRow> {
    if before.status != EnterpriseStatus::Pending {
        return Err(ApiError::InvalidState {
            resource: "enterprise",
            state: before.status.to_string(),
        });
    }
    let mut after = before.clone();
    after.status = closing.status();
    after.updated_at = crate::clock::now();
    after.version += 1;
    save_guarded(conn, &after, before.version)?;
    let disabled = crate::users::repo::disable_enterprise_users(conn, &after.id)?;
    for user in &disabled {
        crate::auth::refresh::revoke_all_for_user(conn, user)?;
    }
    let mut views = views(conn, &[before.clone(), after.clone()], |_| true)?;
    let mut after_json = serde_json::to_value(views.pop()).unwrap_or_default();
    after_json["disabled_users"] = serde_json::json!(disabled);
    audit::record(
        conn,
        ctx,
        Change {
            action: closing.action(),
            entity_type: "enterprise",
            entity_id: &after.id,
            before: serde_json::to_value(views.pop()).ok(),
            after: Some(after_json),
            reason: Some(reason),
        },
    )?;
    Ok(after)
}

/// Saves `after` if the enterprise is still at `version`; 409 `concurrent_update` otherwise.
pub fn save_guarded(conn: &mut DbConn, after: &EnterpriseRow, version: i32) -> ApiResult<()> {
    if repo::update_guarded(conn, after, version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the enterprise changed meanwhile; reload and retry",
        ));
    }
    Ok(())
}

/// Expires every registration left unverified since before `stale_before`; returns how many.
pub fn expire_stale(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    stale_before: NaiveDateTime,
) -> ApiResult<usize> {
    let stale = repo::pending_before(conn, stale_before)?;
    for row in &stale {
        crate::db::write_tx(conn, |conn| {
            close_pending(conn, ctx, row, Closing::Expired, "not verified in time")
        })?;
    }
    Ok(stale.len())
}

/// Inserts the enterprise with its audit entry, first ending a pending registration of the
/// same USCC that gives way to `claim`. Call inside `write_tx`.
pub fn create(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    new: NewEnterprise,
    status: EnterpriseStatus,
    field_prefix: &str,
    claim: Claim,
) -> ApiResult<EnterpriseRow> {
    let region_code = resolve_region(
        conn,
        &format!("{field_prefix}region_code"),
        &new.region_code,
    )?;
    let gives_way = ensure_uscc_free(conn, &new.uscc, claim)?;
    let now = crate::clock::now();
    let id = uuid::Uuid::now_v7().to_string();
    if let Some((holder, closing)) = gives_way {
        let reason = match closing {
            Closing::Superseded => format!("superseded by the registration of enterprise {id}"),
            _ => "not verified in time".to_owned(),
        };
        close_pending(conn, ctx, &holder, closing, &reason)?;
    }
    let row = EnterpriseRow {
        id,
        uscc: new.uscc.as_str().to_owned(),
        uscc_override_reason: new.uscc_override_reason.clone(),
        name: new.name,
        legal_representative: new.legal_representative,
        region_code,
        address: new.address,
        scale: new.scale,
        above_designated_size: new.above_designated_size,
        contact_phone: new.contact_phone,
        contact_email: new.contact_email,
        status,
        verified_at: (status == EnterpriseStatus::Active).then_some(now),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    repo::insert(conn, &row, &new.sectors)?;
    let view = EnterpriseView::build(&row, &new.sectors, false, true);
    audit::record(
        conn,
        ctx,
        Change {
            action: if new.uscc_override_reason.is_some() {
                "enterprise.create_with_uscc_override"
            } else {
                "enterprise.create"
            },
            entity_type: "enterprise",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(&view).ok(),
            reason: new.uscc_override_reason.as_deref(),
        },
    )?;
    Ok(row)
}

/// An enterprise as the API shows it. Contacts and the override reason are private: they are
/// present only for the enterprise's own users, regulators and admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnterpriseView {
    pub id: String,
    #[schema(example = "914403001922038216")]
    pub uscc: String,
    #[schema(example = "柴达木示例枸杞有限公司")]
    pub name: String,
    #[schema(example = "王示例")]
    pub legal_representative: String,
    #[schema(example = "632800")]
    pub region_code: String,
    pub address: String,
    pub sectors: Vec<Sector>,
    pub scale: Scale,
    pub above_designated_size: bool,
    pub status: EnterpriseStatus,
    /// On the dishonesty list today (`GET /credit/dishonesty?enterprise_id=` says why).
    pub on_dishonesty_list: bool,
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Private: why a USCC failing its check character was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc_override_reason: Option<String>,
}

impl EnterpriseView {
    pub fn build(row: &EnterpriseRow, sectors: &[Sector], listed: bool, private: bool) -> Self {
        Self {
            id: row.id.clone(),
            uscc: row.uscc.clone(),
            name: row.name.clone(),
            legal_representative: row.legal_representative.clone(),
            region_code: row.region_code.clone(),
            address: row.address.clone(),
            sectors: sectors.to_vec(),
            scale: row.scale,
            above_designated_size: row.above_designated_size,
            status: row.status,
            on_dishonesty_list: listed,
            verified_at: row.verified_at.map(crate::clock::to_utc),
            created_at: crate::clock::to_utc(row.created_at),
            updated_at: crate::clock::to_utc(row.updated_at),
            version: row.version,
            contact_phone: private.then(|| row.contact_phone.clone()),
            contact_email: private.then(|| row.contact_email.clone()),
            uscc_override_reason: if private {
                row.uscc_override_reason.clone()
            } else {
                None
            },
        }
    }
}

/// Views for a batch of rows, with their sectors in one query; `private(row)` says whether
/// the caller may see the row's private fields.
pub fn views(
    conn: &mut DbConn,
    rows: &[EnterpriseRow],
    private: impl Fn(&EnterpriseRow) -> bool,
) -> ApiResult<Vec<EnterpriseView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let sectors = repo::sectors_of(conn, &ids)?;
    let listed = super::credit::listed_among(conn, &ids)?;
    Ok(rows
        .iter()
        .map(|r| {
            let s: Vec<Sector> = sectors
                .iter()
                .filter(|(id, _)| *id == r.id)
                .map(|(_, s)| *s)
                .collect();
            EnterpriseView::build(r, &s, listed.contains(&r.id), private(r))
        })
        .collect())
}

/// Market regulation activates a pending self-registration (the API and the console).
pub fn verify(
    conn: &mut DbConn,
    actor: &crate::auth::Actor,
    ctx: &AuditCtx,
    id: &str,
) -> ApiResult<EnterpriseView> {
    crate::db::write_tx(conn, |conn| {
        let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        crate::auth::check(
            Some(actor),
            crate::auth::Action::VerifyEnterprise,
            crate::auth::Target::owned_by(&before.id, Some(before.status)),
        )?;
        if before.status != EnterpriseStatus::Pending {
            return Err(ApiError::InvalidState {
                resource: "enterprise",
                state: before.status.to_string(),
            });
        }
        let now = crate::clock::now();
        let mut after = before.clone();
        after.status = EnterpriseStatus::Active;
        after.verified_at = Some(now);
        after.updated_at = now;
        after.version += 1;
        save_guarded(conn, &after, before.version)?;
        let mut shown = views(conn, &[before, after], |_| true)?;
        let after_view = shown.pop().expect("two");
        audit::record(
            conn,
            ctx,
            Change {
                action: "enterprise.verify",
                entity_type: "enterprise",
                entity_id: id,
                before: serde_json::to_value(shown.pop()).ok(),
                after: serde_json::to_value(&after_view).ok(),
                reason: None,
            },
        )?;
        Ok(after_view)
    })
}
