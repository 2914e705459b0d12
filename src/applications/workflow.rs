//! The review workflow: validation per kind, transitions guarded in the database, and what an
//! approval or a grant creates.

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use serde_json::Value;

use super::kinds::{self, KindRow};
use super::repo::{self, ApplicationRow, DocumentRef, EventRow, ObjectionRow};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Actor, Target};
use crate::certifications::repo::{self as certs, CertRow};
use crate::db::DbConn;
use crate::designations::repo::{self as designations, DesignationRow};
use crate::error::{ApiError, ApiResult, Errors};
use crate::gis::repo as gis;
use crate::products::repo as products;

/// What a caller brings to the workflow.
pub struct Ctx<'a> {
    pub actor: Option<&'a Actor>,
    pub audit: &'a AuditCtx,
    /// `REGISTRY_PUBLIC_NOTICE_DAYS`: overrides every kind's notice length when set.
    pub notice_days_override: Option<u32>,
}

/// The details a certification application carries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertDetails {
    pub certificate_number: String,
    pub certification_body_id: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub scope: String,
}

/// The details a designation application carries (free-form supporting facts).
#[derive(Debug, Deserialize)]
pub struct DesignationDetails {
    /// A short statement of why the product merits the designation.
    pub summary: Option<String>,
}

pub struct NewApplication {
    pub kind: String,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub details: Value,
    pub documents: Vec<DocumentRef>,
}

fn parse_details<T: serde::de::DeserializeOwned>(
    errors: &mut Errors,
    details: &Value,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(details.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            let path = e.path().to_string();
            let msg = e.into_inner().to_string();
            let field = match msg.strip_prefix("missing field `") {
                Some(rest) => format!("details.{}", rest.split('`').next().unwrap_or("")),
                None if path == "." => "details".to_owned(),
                None => format!("details.{path}"),
            };
            errors.push(field, "invalid_value", msg);
            None
        }
    }
}

pub fn check_documents(errors: &mut Errors, docs: &mut [DocumentRef]) {
    if docs.len() > 50 {
        errors.push("documents", "too_many", "at most 50 documents");
    }
    for (i, d) in docs.iter_mut().enumerate() {
        if d.name.trim().is_empty() || d.name.chars().count() > 200 {
            errors.push(
                format!("documents[{i}].name"),
                "invalid_value",
                "1-200 characters",
            );
        }
        d.sha256 = d.sha256.trim().to_ascii_lowercase();
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(
                format!("documents[{i}].sha256"),
                "invalid_sha256",
                "64 hexadecimal characters",
            );
        }
        if d.size_bytes <= 0 {
            errors.push(
                format!("documents[{i}].size_bytes"),
                "out_of_range",
                "a positive number of bytes",
            );
        }
    }
}

/// Checks an application against its kind's rules. All problems are reported together (422).
pub fn validate(conn: &mut DbConn, kind: &KindRow, app: &ApplicationRow) -> ApiResult<()> {
    let mut errors = Errors::new();
    let details: Value = match serde_json::from_str(&app.details) {
        Ok(Value::Null) | Err(_) => Value::Object(Default::default()),
        Ok(v) => v,
    };
    let product = match &app.product_id {
        Some(p) => match products::find(conn, p)? {
            Some(row) if row.enterprise_id == app.enterprise_id => Some(row),
            _ => {
                errors.push(
                    "product_id",
                    "unknown_product",
                    "no such product of this enterprise",
                );
                None
            }
        },
        None => {
            if kind.code != "provincial_famous_trademark" {
                errors.push(
                    "product_id",
                    "required",
                    format!("a {} application names the product", kind.code),
                );
            }
            None
        }
    };
    if kind.food_only {
        if let Some(p) = &product {
            if p.sector_code != "food" {
                errors.push(
                    "product_id",
                    "not_food",
                    format!(
                        "{} applies to food products only; this product is {}",
                        kind.code, p.sector_code
                    ),
                );
            }
        }
    }
    if kind.is_certification() {
        if let Some(d) = parse_details::<CertDetails>(&mut errors, &details) {
            if d.certificate_number.trim().len() < 4
                || d.certificate_number.len() > 64
                || !d
                    .certificate_number
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'))
            {
                errors.push(
                    "details.certificate_number",
                    "invalid_value",
                    "4-64 letters, digits, - / .",
                );
            }
            match certs::find_body(conn, &d.certification_body_id)? {
                None => errors.push(
                    "details.certification_body_id",
                    "unknown_body",
                    "see GET /api/v1/certification-bodies",
                ),
                Some(b) if !b.kinds.split(';').any(|k| k.trim() == kind.code) => errors.push(
                    "details.certification_body_id",
                    "body_not_for_kind",
                    format!("{} does not issue {}", b.name_en, kind.code),
                ),
                Some(_) => {}
            }
            if d.expires_on <= d.issued_on {
                errors.push(
                    "details.expires_on",
                    "before_issue",
                    "must be after issued_on",
                );
            } else if let Some(months) = kind.validity_months {
                let limit = d
                    .issued_on
                    .checked_add_months(Months::new(months as u32))
                    .unwrap_or(d.issued_on);
                if d.expires_on > limit {
                    errors.push(
                        "details.expires_on",
                        "beyond_validity",
                        format!(
                            "a {} certificate is valid for at most {months} months (until {limit})",
                            kind.code
                        ),
                    );
                }
            }
            if d.scope.trim().is_empty() {
                errors.push("details.scope", "required", "what the certificate covers");
            }
        }
    } else {
        parse_details::<DesignationDetails>(&mut errors, &details);
    }
    if kind.code == "gi_product" {
        match &app.geographical_indication_id {
            None => errors.push(
                "geographical_indication_id",
                "required",
                "name the geographical indication",
            ),
            Some(g) if gis::find(conn, g)?.is_none() => errors.push(
                "geographical_indication_id",
                "unknown_gi",
                "no such geographical indication",
            ),
            Some(g) => {
                if let Some(p) = &product {
                    if !gis::covers(conn, g, &p.origin_region_code)? {
                        errors.push(
                            "product_id",
                            "origin_outside_protected_area",
                            format!(
                                "the product's origin {} is outside the GI's protected area",
                                p.origin_region_code
                            ),
                        );
                    }
                }
            }
        }
    } else if app.geographical_indication_id.is_some() {
        errors.push(
            "geographical_indication_id",
            "not_allowed",
            "only gi_product applications name a GI",
        );
    }
    errors.finish()
}

fn target<'a>(app: &'a ApplicationRow) -> Target<'a> {
    Target {
        enterprise_id: Some(&app.enterprise_id),
        published: app.state == "in_public_notice",
        agency: Some(&app.agency_code),
    }
}

fn event(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    app: &str,
    from: Option<&str>,
    to: &str,
    reason: Option<&str>,
) -> ApiResult<()> {
    repo::insert_event(
        conn,
        &EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: app.to_owned(),
            from_state: from.map(str::to_owned),
            to_state: to.to_owned(),
            actor_id: ctx.audit.actor_id.clone(),
            actor_label: ctx.audit.actor_label.clone(),
            reason: reason.map(str::to_owned),
            at: crate::clock::now(),
        },
    )?;
    Ok(())
}

fn audit_change(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    action: &str,
    before: &ApplicationRow,
    after: &ApplicationRow,
    reason: Option<&str>,
) -> ApiResult<()> {
    audit::record(
        conn,
        ctx.audit,
        Change {
            action,
            entity_type: "application",
            entity_id: &after.id,
            before: Some(serde_json::json!({"state": before.state, "version": before.version})),
            after: Some(
                serde_json::json!({"state": after.state, "version": after.version, "record_id": after.record_id}),
            ),
            reason,
        },
    )?;
    Ok(())
}

fn active_enterprise(conn: &mut DbConn, enterprise_id: &str) -> ApiResult<()> {
    match products::enterprise_status(conn, enterprise_id)?.as_deref() {
        Some("active") => Ok(()),
        Some(other) => Err(ApiError::conflict(
            "enterprise_not_active",
            format!("the enterprise is {other}; only active enterprises may apply"),
        )),
        None => Err(ApiError::NotFound),
    }
}

/// Creates a draft owned by the enterprise.
pub fn create(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    mut new: NewApplication,
) -> ApiResult<ApplicationRow> {
    let mut errors = Errors::new();
    check_documents(&mut errors, &mut new.documents);
    let kind = kinds::find(conn, &new.kind)?;
    if kind.is_none() {
        errors.push("kind", "unknown_kind", "see GET /api/v1/application-kinds");
    }
    errors.finish()?;
    let kind = kind.expect("checked above");
    let ent_status = products::enterprise_status(conn, &new.enterprise_id)?;
    let Some(ent_status) = ent_status else {
        return Err(match ctx.actor.map(|a| a.role) {
            Some(crate::domain::Role::Enterprise) => ApiError::NotFound,
            _ => ApiError::Forbidden,
        });
    };
    let agency = kinds::deciding_agency(conn, &kind.code)?.ok_or_else(|| {
        ApiError::field(
            "kind",
            "no_deciding_agency",
            "no agency decides this kind yet",
        )
    })?;
    check(
        ctx.actor,
        Action::ManageApplication,
        Target {
            enterprise_id: Some(&new.enterprise_id),
            published: ent_status == "active",
            agency: Some(&agency),
        },
    )?;
    if !kind.accepting_applications {
        return Err(ApiError::field(
            "kind",
            "not_accepting_applications",
            format!(
                "{} is a historical kind and accepts no applications",
                kind.code
            ),
        ));
    }
    let now = crate::clock::now();
    let row = ApplicationRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: kind.code.clone(),
        enterprise_id: new.enterprise_id,
        product_id: new.product_id,
        geographical_indication_id: new.geographical_indication_id,
        details: if new.details.is_null() {
            "{}".to_owned()
        } else {
            new.details.to_string()
        },
        documents: serde_json::to_string(&new.documents).unwrap_or_else(|_| "[]".into()),
        state: "draft".into(),
        agency_code: agency,
        assigned_regulator_id: None,
        decision_reason: None,
        notice_ends_at: None,
        submitted_at: None,
        decided_at: None,
        record_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(conn, &kind, &row)?;
    repo::insert(conn, &row)?;
    event(conn, ctx, &row.id, None, "draft", None)?;
    audit::record(
        conn,
        ctx.audit,
        Change {
            action: "application.create",
            entity_type: "application",
            entity_id: &row.id,
            before: None,
            after: Some(
                serde_json::json!({"kind": row.kind, "state": row.state, "enterprise_id": row.enterprise_id, "product_id": row.product_id}),
            ),
            reason: None,
        },
    )?;
    Ok(row)
}

/// Changes a draft (or an application sent back for changes).
pub fn amend(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    id: &str,
    expected: Option<i32>,
    details: Option<Value>,
    documents: Option<Vec<DocumentRef>>,
    product_id: Option<String>,
) -> ApiResult<ApplicationRow> {
    let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    check(ctx.actor, Action::Read, target(&before))?;
    check(ctx.actor, Action::ManageApplication, target(&before))?;
    crate::http::check_if_match(expected, before.version)?;
    if !matches!(before.state.as_str(), "draft" | "changes_requested") {
        return Err(ApiError::InvalidState {
            resource: "application",
            state: before.state,
        });
    }
    let mut after = before.clone();
    if let Some(d) = details {
        after.details = d.to_string();
    }
    if let Some(mut docs) = documents {
        let mut errors = Errors::new();
        check_documents(&mut errors, &mut docs);
        errors.finish()?;
        after.documents = serde_json::to_string(&docs).unwrap_or_else(|_| "[]".into());
    }
    if product_id.is_some() {
        after.product_id = product_id;
    }
    let kind = kinds::find(conn, &after.kind)?.ok_or(ApiError::NotFound)?;
    validate(conn, &kind, &after)?;
    after.updated_at = crate::clock::now();
    after.version += 1;
    if repo::update_guarded(conn, &after, &before.state, before.version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the application changed meanwhile; reload and retry",
        ));
    }
    audit_change(conn, ctx, "application.amend", &before, &after, None)?;
    Ok(after)
}

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Withdraw,
    StartReview,
    Approve,
    Reject,
    RequestChanges,
    Grant,
}

impl Step {
    fn allowed_states(self) -> &'static [&'static str] {
        match self {
            Step::Submit => &["draft", "changes_requested"],
            Step::Withdraw => &["draft", "submitted", "under_review", "changes_requested"],
            Step::StartReview => &["submitted"],
            Step::Approve | Step::Reject | Step::RequestChanges => &["under_review"],
            Step::Grant => &["in_public_notice", "approved"],
        }
    }

    fn action(self) -> Action {
        match self {
            Step::Submit | Step::Withdraw => Action::ManageApplication,
            _ => Action::Decide,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Withdraw => "withdraw",
            Step::StartReview => "start_review",
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::RequestChanges => "request_changes",
            Step::Grant => "grant",
        }
    }
}

/// Applies a step. The row must still be in an allowed state at the version read, so of two
/// regulators deciding at once exactly one wins; the other gets 409 with the current state.
pub fn step(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    id: &str,
    step: Step,
    reason: Option<&str>,
) -> ApiResult<ApplicationRow> {
    let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    check(ctx.actor, Action::Read, target(&before))?;
    check(ctx.actor, step.action(), target(&before))?;
    if !step.allowed_states().contains(&before.state.as_str()) {
        return Err(ApiError::InvalidState {
            resource: "application",
            state: before.state,
        });
    }
    let kind = kinds::find(conn, &before.kind)?.ok_or(ApiError::NotFound)?;
    let now = crate::clock::now();
    let mut after = before.clone();
    after.updated_at = now;
    after.version += 1;
    let mut states: Vec<&str> = Vec::new();
    match step {
        Step::Submit => {
            // Credit and status are checked at submission and again at decision.
            active_enterprise(conn, &before.enterprise_id)?;
            if !kind.accepting_applications {
                return Err(ApiError::conflict(
                    "not_accepting_applications",
                    format!("{} accepts no applications", kind.code),
                ));
            }
            validate(conn, &kind, &before)?;
            after.state = "submitted".into();
            after.submitted_at = Some(now);
            after.decision_reason = None;
        }
        Step::Withdraw => after.state = "withdrawn".into(),
        Step::StartReview => {
            after.state = "under_review".into();
            after.assigned_regulator_id = ctx.actor.map(|a| a.user_id.clone());
        }
        Step::Reject | Step::RequestChanges => {
            let reason = reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| ApiError::field("reason", "required", "say why"))?;
            after.state = if step == Step::Reject {
                "rejected".into()
            } else {
                "changes_requested".into()
            };
            after.decision_reason = Some(reason.to_owned());
            after.decided_at = Some(now);
        }
        Step::Approve => {
            active_enterprise(conn, &before.enterprise_id)?;
            validate(conn, &kind, &before)?;
            after.decision_reason = reason.map(str::to_owned);
            after.decided_at = Some(now);
            if kind.is_certification() {
                after.record_id = Some(register_certificate(conn, ctx, &before)?);
                after.state = "approved".into();
            } else if kind.public_notice {
                states.push("approved");
                let days = ctx
                    .notice_days_override
                    .map(i64::from)
                    .unwrap_or(i64::from(kind.notice_days));
                after.notice_ends_at = Some(now + chrono::Duration::days(days));
                after.state = "in_public_notice".into();
            } else {
                after.state = "approved".into();
            }
        }
        Step::Grant => {
            if kind.is_certification() {
                return Err(ApiError::InvalidState {
                    resource: "application",
                    state: before.state,
                });
            }
            if let Some(ends) = before.notice_ends_at {
                if now < ends {
                    return Err(ApiError::conflict(
                        "public_notice_running",
                        format!(
                            "the public notice runs until {}",
                            crate::clock::to_utc(ends).to_rfc3339()
                        ),
                    ));
                }
            }
            let objections = repo::objections_of(conn, &before.id)?;
            if objections.iter().any(|o| o.status == "open") {
                return Err(ApiError::conflict(
                    "objections_open",
                    "resolve every objection before granting",
                ));
            }
            active_enterprise(conn, &before.enterprise_id)?;
            after.record_id = Some(grant_designation(conn, ctx, &kind, &before)?);
            after.state = "granted".into();
        }
    }
    if repo::update_guarded(conn, &after, &before.state, before.version)? == 0 {
        let now_state = repo::find(conn, id)?.map(|r| r.state).unwrap_or_default();
        return Err(ApiError::InvalidState {
            resource: "application",
            state: now_state,
        });
    }
    let mut from = before.state.as_str();
    for s in states
        .iter()
        .copied()
        .chain(std::iter::once(after.state.as_str()))
    {
        event(conn, ctx, id, Some(from), s, reason)?;
        from = s;
    }
    audit_change(
        conn,
        ctx,
        &format!("application.{}", step.name()),
        &before,
        &after,
        reason,
    )?;
    Ok(after)
}

fn register_certificate(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    app: &ApplicationRow,
) -> ApiResult<String> {
    let details: CertDetails = serde_json::from_str(&app.details)
        .map_err(|e| ApiError::field("details", "invalid_value", e.to_string()))?;
    let number = details.certificate_number.trim().to_owned();
    if certs::find_by_number(conn, &number)?
        .iter()
        .any(|c| c.kind == app.kind)
    {
        return Err(ApiError::conflict(
            "duplicate_certificate",
            format!("a {} certificate numbered {number} is registered", app.kind),
        ));
    }
    let now = crate::clock::now();
    let row = CertRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: Some(app.id.clone()),
        kind: app.kind.clone(),
        enterprise_id: app.enterprise_id.clone(),
        product_id: app.product_id.clone().ok_or_else(|| {
            ApiError::field("product_id", "required", "a certificate is for a product")
        })?,
        certificate_number: number,
        certification_body_id: Some(details.certification_body_id),
        scope: details.scope.trim().to_owned(),
        issued_on: details.issued_on,
        expires_on: details.expires_on,
        status: "valid".into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    certs::insert(conn, &row)?;
    crate::records::log_status(
        conn,
        ctx.audit,
        "certification",
        &row.id,
        None,
        "valid",
        Some("application approved"),
        now,
    )?;
    Ok(row.id)
}

fn grant_designation(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    kind: &KindRow,
    app: &ApplicationRow,
) -> ApiResult<String> {
    let today = crate::clock::today();
    let year = chrono::Datelike::year(&today);
    let prefix = format!("{}-{year}-", kind.number_prefix.as_deref().unwrap_or("QH"));
    let serial = designations::count_numbers(conn, &prefix)? + 1;
    let now = crate::clock::now();
    let row = DesignationRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: Some(app.id.clone()),
        kind: kind.code.clone(),
        enterprise_id: app.enterprise_id.clone(),
        product_id: app.product_id.clone(),
        geographical_indication_id: app.geographical_indication_id.clone(),
        number: format!("{prefix}{serial:04}"),
        granted_year: year,
        valid_from: today,
        valid_until: kind
            .validity_months
            .and_then(|m| today.checked_add_months(Months::new(m as u32))),
        status: "active".into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    designations::insert(conn, &row)?;
    crate::records::log_status(
        conn,
        ctx.audit,
        "designation",
        &row.id,
        None,
        "active",
        Some("granted"),
        now,
    )?;
    Ok(row.id)
}

/// Anyone may object while a public notice runs.
pub fn object(
    conn: &mut DbConn,
    audit_ctx: &AuditCtx,
    id: &str,
    name: String,
    contact: String,
    text: String,
) -> ApiResult<ObjectionRow> {
    let app = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let open = app.state == "in_public_notice"
        && app.notice_ends_at.is_some_and(|e| crate::clock::now() < e);
    if !open {
        // Drafts and decisions of other enterprises stay hidden.
        if app.state != "in_public_notice" && !matches!(app.state.as_str(), "granted") {
            return Err(ApiError::NotFound);
        }
        return Err(ApiError::conflict(
            "public_notice_closed",
            "objections are taken only while the public notice runs",
        ));
    }
    let row = ObjectionRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: app.id.clone(),
        name,
        contact,
        text,
        status: "open".into(),
        resolution_reason: None,
        resolved_by: None,
        created_at: crate::clock::now(),
        resolved_at: None,
    };
    repo::insert_objection(conn, &row)?;
    audit::record(
        conn,
        audit_ctx,
        Change {
            action: "application.objection",
            entity_type: "application",
            entity_id: &app.id,
            before: None,
            after: Some(serde_json::json!({"objection_id": row.id})),
            reason: None,
        },
    )?;
    Ok(row)
}

/// A regulator of the deciding agency upholds or dismisses an objection; an upheld one rejects
/// the application.
pub fn resolve(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    id: &str,
    objection_id: &str,
    upheld: bool,
    reason: &str,
) -> ApiResult<ApplicationRow> {
    let app = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    check(ctx.actor, Action::Read, target(&app))?;
    check(ctx.actor, Action::Decide, target(&app))?;
    let objection = repo::objections_of(conn, id)?
        .into_iter()
        .find(|o| o.id == objection_id)
        .ok_or(ApiError::NotFound)?;
    if objection.status != "open" {
        return Err(ApiError::InvalidState {
            resource: "objection",
            state: objection.status,
        });
    }
    let by = ctx.actor.map(|a| a.user_id.clone()).unwrap_or_default();
    repo::resolve_objection(
        conn,
        objection_id,
        if upheld { "upheld" } else { "dismissed" },
        reason,
        &by,
    )?;
    audit::record(
        conn,
        ctx.audit,
        Change {
            action: if upheld {
                "application.objection_upheld"
            } else {
                "application.objection_dismissed"
            },
            entity_type: "application",
            entity_id: id,
            before: Some(serde_json::json!({"objection_id": objection_id, "status": "open"})),
            after: Some(
                serde_json::json!({"objection_id": objection_id, "status": if upheld { "upheld" } else { "dismissed" }}),
            ),
            reason: Some(reason),
        },
    )?;
    if !upheld || app.state != "in_public_notice" {
        return Ok(app);
    }
    let mut after = app.clone();
    after.state = "rejected".into();
    after.decision_reason = Some(format!("objection upheld: {reason}"));
    after.decided_at = Some(crate::clock::now());
    after.updated_at = crate::clock::now();
    after.version += 1;
    if repo::update_guarded(conn, &after, &app.state, app.version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the application changed meanwhile; reload and retry",
        ));
    }
    event(
        conn,
        ctx,
        id,
        Some(&app.state),
        "rejected",
        after.decision_reason.as_deref(),
    )?;
    audit_change(
        conn,
        ctx,
        "application.reject",
        &app,
        &after,
        after.decision_reason.as_deref(),
    )?;
    Ok(after)
}
