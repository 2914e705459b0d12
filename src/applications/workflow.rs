//! The review workflow: creating and amending drafts, and taking steps through the state
//! machine, each guarded in the database. An approval registers a certificate and a grant
//! creates a designation, through their records.

use serde_json::Value;

use super::machine::{self, Step};
use super::record_change;
use super::renewal;
use super::repo::{self, ApplicationRow, DocumentRef, EventRow};
use super::rules::{check_documents, ensure_no_duplicate, validate};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{authorize, check, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::{
    ApplicationKind, ApplicationState, EnterpriseStatus, KindCategory, ObjectionStatus,
};
use crate::error::{ApiError, ApiResult, Errors};
use crate::records::{certificates, designations};
use crate::reference::kinds::{self, KindRow};

/// What a caller brings to the workflow.
pub struct Ctx<'a> {
    pub actor: Option<&'a Actor>,
    pub audit: &'a AuditCtx,
    /// `REGISTRY_PUBLIC_NOTICE_DAYS`: overrides every kind's notice length when set.
    pub notice_days_override: Option<u32>,
}

pub struct NewApplication {
    pub kind: ApplicationKind,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub details: Value,
    pub documents: Vec<DocumentRef>,
    /// A renewal: the record it renews (`renewal`).
    pub renews: Option<String>,
}

/// The policy's view of an application: its enterprise's, public while in notice, decided by
/// the agency responsible for its kind.
pub(super) fn target(app: &ApplicationRow) -> Target<'_> {
    Target {
        enterprise_id: Some(&app.enterprise_id),
        published: app.state == ApplicationState::InPublicNotice,
        agency: Some(app.agency_code),
    }
}

pub(super) fn event(
    conn: &mut DbConn,
    audit: &AuditCtx,
    app: &str,
    from: Option<ApplicationState>,
    to: ApplicationState,
    reason: Option<&str>,
) -> ApiResult<()> {
    repo::insert_event(
        conn,
        &EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: app.to_owned(),
            from_state: from,
            to_state: to,
            actor_id: audit.actor_id.clone(),
            // Applications in public notice show their history: agencies, not staff accounts.
            actor_label: audit.public_label(),
            reason: reason.map(str::to_owned),
            at: crate::clock::now(),
        },
    )?;
    Ok(())
}

pub(super) fn audit_change(
    conn: &mut DbConn,
    audit: &AuditCtx,
    action: &str,
    before: &ApplicationRow,
    after: &ApplicationRow,
    reason: Option<&str>,
) -> ApiResult<()> {
    audit::record(
        conn,
        audit,
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

/// The enterprise may apply: it is active and not on the dishonesty list.
fn active_enterprise(conn: &mut DbConn, enterprise_id: &str) -> ApiResult<()> {
    match crate::enterprises::repo::status(conn, enterprise_id)? {
        Some(EnterpriseStatus::Active) => {
            crate::enterprises::credit::ensure_not_listed(conn, enterprise_id)
        }
        Some(other) => Err(ApiError::conflict(
            "enterprise_not_active",
            format!("the enterprise is {other}; only active enterprises may apply"),
        )),
        None => Err(ApiError::NotFound),
    }
}

fn find_kind(conn: &mut DbConn, kind: ApplicationKind) -> ApiResult<KindRow> {
    kinds::find(conn, kind)?
        .ok_or_else(|| ApiError::field("kind", "unknown_kind", "see GET /api/v1/application-kinds"))
}

/// Creates a draft owned by the enterprise.
pub fn create(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    mut new: NewApplication,
) -> ApiResult<ApplicationRow> {
    let mut errors = Errors::new();
    check_documents(&mut errors, &mut new.documents);
    errors.finish()?;
    let kind = find_kind(conn, new.kind)?;
    let ent_status = crate::enterprises::repo::status(conn, &new.enterprise_id)?;
    let agency = if kind.code == ApplicationKind::RecordChange {
        // Decided by the agencies of the product's live records; listed under the first.
        let live = match new.product_id.as_deref() {
            Some(p) => crate::records::live_records(conn, p)?,
            None => Vec::new(),
        };
        record_change::agencies(conn, &live)?.into_iter().next()
    } else {
        kinds::deciding_agency(conn, kind.code)?
    }
    .ok_or_else(|| match kind.code {
        ApplicationKind::RecordChange => ApiError::field(
            "product_id",
            "no_live_record",
            "no live record certifies this product: edit it directly",
        ),
        _ => ApiError::field(
            "kind",
            "no_deciding_agency",
            "no agency decides this kind yet",
        ),
    })?;
    check(
        ctx.actor,
        Action::ManageApplication,
        Target::owned_by(&new.enterprise_id, ent_status).decided_by(Some(agency)),
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
        kind: kind.code,
        enterprise_id: new.enterprise_id,
        product_id: new.product_id,
        geographical_indication_id: new.geographical_indication_id,
        details: if new.details.is_null() {
            "{}".to_owned()
        } else {
            new.details.to_string()
        },
        documents: serde_json::to_string(&new.documents).unwrap_or_else(|_| "[]".into()),
        state: ApplicationState::Draft,
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
    let renewing = match new.renews.as_deref() {
        Some(r) => Some((renewal::check(conn, &kind, &row, r)?, r)),
        None => None,
    };
    ensure_no_duplicate(conn, &kind, &row, new.renews.as_deref())?;
    repo::insert(conn, &row)?;
    if let Some((record_type, renews)) = renewing {
        renewal::link(conn, &row.id, record_type, renews)?;
    }
    event(
        conn,
        ctx.audit,
        &row.id,
        None,
        ApplicationState::Draft,
        None,
    )?;
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
    authorize(ctx.actor, Action::ManageApplication, target(&before))?;
    crate::http::check_if_match(expected, before.version)?;
    if !machine::amendable(before.state) {
        return Err(ApiError::InvalidState {
            resource: "application",
            state: before.state.to_string(),
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
    let kind = find_kind(conn, after.kind)?;
    validate(conn, &kind, &after)?;
    after.updated_at = crate::clock::now();
    after.version += 1;
    if repo::update_guarded(conn, &after, before.state, before.version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the application changed meanwhile; reload and retry",
        ));
    }
    audit_change(conn, ctx.audit, "application.amend", &before, &after, None)?;
    Ok(after)
}

/// Writes `after` if the row is still as read, then records each transition it made (an
/// approval that opens a notice makes two). Of two regulators deciding at once exactly one
/// wins; the other gets 409 with the current state.
pub(super) fn commit(
    conn: &mut DbConn,
    audit: &AuditCtx,
    step: Step,
    before: &ApplicationRow,
    after: &ApplicationRow,
    path: &[ApplicationState],
    reason: Option<&str>,
) -> ApiResult<()> {
    if repo::update_guarded(conn, after, before.state, before.version)? == 0 {
        let now_state = repo::find(conn, &before.id)?.map(|r| r.state);
        return Err(ApiError::InvalidState {
            resource: "application",
            state: now_state.map(|s| s.to_string()).unwrap_or_default(),
        });
    }
    let mut from = before.state;
    for &to in path {
        event(conn, audit, &before.id, Some(from), to, reason)?;
        from = to;
    }
    audit_change(
        conn,
        audit,
        &format!("application.{}", step.name()),
        before,
        after,
        reason,
    )
}

/// Closes every open application of an enterprise that left the register: each is withdrawn,
/// with the reason in its timeline and audit trail. Returns their ids. Call inside `write_tx`.
pub fn close_for_enterprise(
    conn: &mut DbConn,
    audit: &AuditCtx,
    enterprise_id: &str,
    reason: &str,
) -> ApiResult<Vec<String>> {
    let mut closed = Vec::new();
    for before in repo::open_of_enterprise(conn, enterprise_id)? {
        let mut after = before.clone();
        after.state = ApplicationState::Withdrawn;
        after.decision_reason = Some(reason.to_owned());
        after.updated_at = crate::clock::now();
        after.version += 1;
        commit(
            conn,
            audit,
            Step::Withdraw,
            &before,
            &after,
            &[ApplicationState::Withdrawn],
            Some(reason),
        )?;
        closed.push(before.id);
    }
    Ok(closed)
}

/// Whether a kind takes a step at all: only designations are granted (a certification is
/// registered when it is approved).
fn kind_takes(kind: &KindRow, step: Step) -> bool {
    step != Step::Grant || kind.category == KindCategory::Designation
}

/// The agency the actor decides a record_change for, if it is one of the change's agencies.
fn acting_agency(
    actor: Option<&Actor>,
    change: Option<&record_change::RecordChangeDetails>,
) -> Option<crate::domain::Agency> {
    actor
        .and_then(|a| a.agency)
        .filter(|a| change.is_some_and(|c| c.agencies.contains(a)))
}

/// The policy's view of an application for `actor`: a record_change is decided by every agency
/// of the product's live records.
fn acting_target<'a>(
    actor: Option<&Actor>,
    app: &'a ApplicationRow,
    change: Option<&record_change::RecordChangeDetails>,
) -> Target<'a> {
    match acting_agency(actor, change) {
        Some(a) => target(app).decided_by(Some(a)),
        None => target(app),
    }
}

/// The steps `actor` may take on `app` now: the table allows them from its state and the policy
/// lets the actor take them. The console offers exactly these; `step` checks again.
pub fn offered(conn: &mut DbConn, actor: &Actor, app: &ApplicationRow) -> ApiResult<Vec<Step>> {
    let kind = find_kind(conn, app.kind)?;
    let change = (app.kind == ApplicationKind::RecordChange)
        .then(|| record_change::RecordChangeDetails::parse(app))
        .transpose()?;
    let target = acting_target(Some(actor), app, change.as_ref());
    Ok(Step::BY_HAND
        .into_iter()
        .filter(|s| kind_takes(&kind, *s))
        .filter(|s| {
            machine::transition(app.state, *s)
                .is_some_and(|t| crate::auth::policy::allows(Some(actor), t.who.action(), target))
        })
        .collect())
}

/// Takes a step: the table says whether it is allowed from the current state and who may take
/// it; the kind's rules and the enterprise's status are checked again where they matter.
pub fn step(
    conn: &mut DbConn,
    ctx: &Ctx<'_>,
    id: &str,
    step: Step,
    reason: Option<&str>,
) -> ApiResult<ApplicationRow> {
    let before = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    // Who may take it does not depend on the state: the policy answers first, so a caller who
    // may not see the application learns nothing about its state.
    let who = machine::states_allowing(step)
        .next()
        .and_then(|s| machine::transition(s, step))
        .map(|t| t.who)
        .ok_or_else(|| ApiError::Internal(format!("no transition for {step:?}")))?;
    let mut change = (before.kind == ApplicationKind::RecordChange)
        .then(|| record_change::RecordChangeDetails::parse(&before))
        .transpose()?;
    let acting_agency = acting_agency(ctx.actor, change.as_ref());
    authorize(
        ctx.actor,
        who.action(),
        acting_target(ctx.actor, &before, change.as_ref()),
    )?;
    let invalid = || ApiError::InvalidState {
        resource: "application",
        state: before.state.to_string(),
    };
    let t = machine::transition(before.state, step).ok_or_else(invalid)?;
    let kind = find_kind(conn, before.kind)?;
    let now = crate::clock::now();
    let mut after = before.clone();
    after.updated_at = now;
    after.version += 1;
    after.state = t.to;
    let mut path = vec![t.to];
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
            // A renewal's window is checked again: it may have closed since the draft.
            let renews = renewal::renews_of(conn, &before.id)?;
            if let Some(r) = renews.as_deref() {
                renewal::check(conn, &kind, &before, r)?;
            }
            ensure_no_duplicate(conn, &kind, &before, renews.as_deref())?;
            if let (Some(c), Some(product)) = (change.as_mut(), before.product_id.as_deref()) {
                // Who decides is settled now, and approvals start afresh.
                let live = crate::records::live_records(conn, product)?;
                c.agencies = record_change::agencies(conn, &live)?;
                c.approved_by.clear();
                after.details = serde_json::to_string(&*c).expect("plain data serialises");
            }
            after.submitted_at = Some(now);
            after.decision_reason = None;
        }
        Step::Withdraw => {}
        Step::StartReview => {
            after.assigned_regulator_id = ctx.actor.map(|a| a.user_id.clone());
        }
        Step::Reject | Step::RequestChanges => {
            let reason = reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| ApiError::field("reason", "required", "say why"))?;
            after.decision_reason = Some(reason.to_owned());
            after.decided_at = Some(now);
        }
        Step::Approve => {
            active_enterprise(conn, &before.enterprise_id)?;
            validate(conn, &kind, &before)?;
            after.decision_reason = reason.map(str::to_owned);
            after.decided_at = Some(now);
            if let (Some(c), Some(agency)) = (change.as_mut(), acting_agency) {
                c.approved_by.insert(agency);
                after.details = serde_json::to_string(&*c).expect("plain data serialises");
                if c.approved_by.is_superset(&c.agencies) {
                    record_change::apply(conn, ctx.audit, &after)?;
                } else {
                    // One agency's approval: still under review by the others.
                    after.state = before.state;
                    path = vec![before.state];
                    after.decided_at = None;
                }
            } else if kind.is_certification() {
                if let Some(r) = renewal::renews_of(conn, &before.id)? {
                    renewal::ensure_still_standing(conn, &kind, &r)?;
                }
                after.record_id = Some(register_certificate(conn, ctx.audit, &before)?);
            } else if kind.public_notice {
                let notice = machine::transition(t.to, Step::OpenNotice).ok_or_else(invalid)?;
                let days = ctx
                    .notice_days_override
                    .map(i64::from)
                    .unwrap_or(i64::from(kind.notice_days));
                after.notice_ends_at = Some(crate::clock::notice_end(now, days));
                after.state = notice.to;
                path.push(notice.to);
            }
        }
        Step::Grant => {
            if !kind_takes(&kind, step) {
                return Err(invalid());
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
            if objections.iter().any(|o| o.status == ObjectionStatus::Open) {
                return Err(ApiError::conflict(
                    "objections_open",
                    "resolve every objection before granting",
                ));
            }
            active_enterprise(conn, &before.enterprise_id)?;
            if let Some(r) = renewal::renews_of(conn, &before.id)? {
                renewal::ensure_still_standing(conn, &kind, &r)?;
            }
            after.record_id = Some(designations::grant(
                conn,
                ctx.audit,
                designations::NewDesignation {
                    application_id: &before.id,
                    kind: kind.code,
                    number_prefix: kind.number_prefix.as_deref(),
                    validity_months: kind.validity_months,
                    enterprise_id: &before.enterprise_id,
                    product_id: before.product_id.as_deref(),
                    geographical_indication_id: before.geographical_indication_id.as_deref(),
                },
            )?);
        }
        // Taken only inside Approve and objection resolution, never asked for directly.
        Step::OpenNotice | Step::UpholdObjection => return Err(invalid()),
    }
    commit(conn, ctx.audit, step, &before, &after, &path, reason)?;
    if let (None, Some(record)) = (&before.record_id, &after.record_id) {
        renewal::link_successor(conn, &before.id, record)?;
    }
    Ok(after)
}

fn register_certificate(
    conn: &mut DbConn,
    audit: &AuditCtx,
    app: &ApplicationRow,
) -> ApiResult<String> {
    let details: certificates::CertDetails = serde_json::from_str(&app.details)
        .map_err(|e| ApiError::field("details", "invalid_value", e.to_string()))?;
    let product_id = app.product_id.as_deref().ok_or_else(|| {
        ApiError::field("product_id", "required", "a certificate is for a product")
    })?;
    certificates::register(
        conn,
        audit,
        certificates::NewCertificate {
            application_id: &app.id,
            kind: app.kind,
            enterprise_id: &app.enterprise_id,
            product_id,
            details,
        },
    )
}
