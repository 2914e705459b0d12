//! Runs `seeds/demo/workflow.json` through the real workflow: applications in every state and
//! the records they produce (valid, expired and suspended certificates, granted designations,
//! one revoked). Each step is taken by the demo account the plan names, so every rule of the
//! workflow applies to the demo exactly as to anyone.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::SeedError;
use crate::applications::machine::Step;
use crate::applications::workflow::{self, Ctx, NewApplication};
use crate::audit::AuditCtx;
use crate::auth::Actor;
use crate::db::schema::{certification_bodies, geographical_indications, products};
use crate::db::DbConn;
use crate::domain::{ApplicationKind, Role};
use crate::error::{ApiError, ApiResult};
use crate::records::certificates::CertRow;
use crate::records::designations::DesignationRow;
use crate::records::{self, RecordAction};

const FILE: &str = "demo/workflow.json";
const PLAN: &str = include_str!("../../seeds/demo/workflow.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[allow(dead_code)]
    about: String,
    applications: Vec<Plan>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plan {
    enterprise_uscc: String,
    product: String,
    kind: ApplicationKind,
    /// Certification kinds: the certificate as its body issued it.
    certificate: Option<CertificatePlan>,
    /// Designation kinds: why the product merits it.
    summary: Option<String>,
    /// The GI's key (`gi_product`).
    geographical_indication: Option<String>,
    /// Overrides the kind's notice length (0: grant at once).
    notice_days: Option<u32>,
    steps: Vec<StepPlan>,
    /// A regulator's action on the record the application produced.
    record_action: Option<ActionPlan>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificatePlan {
    number: String,
    /// The certification body's key.
    body: String,
    issued_on: DemoDate,
    expires_on: DemoDate,
    scope: String,
}

/// A date in the plan: `YYYY-MM-DD`, or `today+N` / `today-N` (days) for what must stay
/// current, like a certificate that ends soon.
#[derive(Debug, Clone, Copy)]
pub struct DemoDate(pub NaiveDate);

impl<'de> Deserialize<'de> for DemoDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        relative_date(&raw, crate::clock::today())
            .map(DemoDate)
            .ok_or_else(|| serde::de::Error::custom(format!("{raw}: not YYYY-MM-DD nor today±N")))
    }
}

fn relative_date(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Some(rest) = raw.strip_prefix("today") {
        if rest.is_empty() {
            return Some(today);
        }
        let (sign, n) = rest.split_at(1);
        let days = chrono::Days::new(n.parse().ok()?);
        return match sign {
            "+" => today.checked_add_days(days),
            "-" => today.checked_sub_days(days),
            _ => None,
        };
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StepName {
    Submit,
    Withdraw,
    StartReview,
    Approve,
    Reject,
    RequestChanges,
    Grant,
}

impl From<StepName> for Step {
    fn from(s: StepName) -> Step {
        match s {
            StepName::Submit => Step::Submit,
            StepName::Withdraw => Step::Withdraw,
            StepName::StartReview => Step::StartReview,
            StepName::Approve => Step::Approve,
            StepName::Reject => Step::Reject,
            StepName::RequestChanges => Step::RequestChanges,
            StepName::Grant => Step::Grant,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepPlan {
    step: StepName,
    /// `applicant`, or the username of a demo regulator.
    by: String,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionPlan {
    action: RecordAction,
    by: String,
    reason: String,
}

/// The plan, or where the file is wrong (line and field).
fn parse(text: &str) -> Result<Vec<Plan>, SeedError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, PlanFile>(de)
        .map(|f| f.applications)
        .map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            SeedError::new(FILE, inner.line() as u64, field, inner)
        })
}

/// Where in the file an application's problem is: its index names it.
fn at(i: usize, field: &str, message: impl std::fmt::Display) -> ApiError {
    SeedError::new(FILE, 0, format!("applications[{i}].{field}"), message).into()
}

pub(super) fn actor(conn: &mut DbConn, by: &str, enterprise_id: &str) -> ApiResult<Actor> {
    if by == "applicant" {
        return Ok(Actor {
            user_id: "demo-seed".into(),
            username: "demo-seed".into(),
            role: Role::Enterprise,
            agency: None,
            enterprise_id: Some(enterprise_id.to_owned()),
        });
    }
    // The demo regulators act, so reviews are assigned to real accounts.
    let u = crate::users::repo::find_by_username(conn, by)?
        .ok_or_else(|| ApiError::Internal(format!("{FILE}: no demo user {by}")))?;
    Ok(Actor {
        user_id: u.id,
        username: u.username,
        role: u.role,
        agency: u.agency_code,
        enterprise_id: u.enterprise_id,
    })
}

/// Runs every planned application; returns how many were created.
pub fn load(conn: &mut DbConn, audit: &AuditCtx) -> ApiResult<usize> {
    let plans = parse(PLAN)?;
    for (i, plan) in plans.iter().enumerate() {
        let enterprise = crate::enterprises::repo::find_by_uscc(conn, &plan.enterprise_uscc)?
            .ok_or_else(|| at(i, "enterprise_uscc", "unknown enterprise"))?
            .id;
        let product_id: String = products::table
            .filter(products::enterprise_id.eq(&enterprise))
            .filter(products::name.eq(&plan.product))
            .select(products::id)
            .first(conn)
            .optional()?
            .ok_or_else(|| at(i, "product", "not a product of that enterprise"))?;
        let details = match (&plan.certificate, &plan.summary) {
            (Some(c), _) => {
                let body: String = certification_bodies::table
                    .filter(certification_bodies::key.eq(&c.body))
                    .select(certification_bodies::id)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| at(i, "certificate.body", "unknown certification body"))?;
                serde_json::json!({"certificate_number": c.number, "certification_body_id": body,
                    "issued_on": c.issued_on.0, "expires_on": c.expires_on.0, "scope": c.scope})
            }
            (None, Some(s)) => serde_json::json!({ "summary": s }),
            (None, None) => serde_json::json!({}),
        };
        let gi = match &plan.geographical_indication {
            Some(key) => Some(
                geographical_indications::table
                    .filter(geographical_indications::key.eq(key))
                    .select(geographical_indications::id)
                    .first::<String>(conn)
                    .optional()?
                    .ok_or_else(|| at(i, "geographical_indication", "unknown GI key"))?,
            ),
            None => None,
        };
        let applicant = actor(conn, "applicant", &enterprise)?;
        let ctx = Ctx {
            actor: Some(&applicant),
            audit,
            notice_days_override: plan.notice_days,
        };
        let mut app = workflow::create(
            conn,
            &ctx,
            NewApplication {
                kind: plan.kind,
                enterprise_id: enterprise.clone(),
                product_id: Some(product_id),
                geographical_indication_id: gi,
                details,
                documents: Vec::new(),
                renews: None,
            },
        )?;
        for (s, step) in plan.steps.iter().enumerate() {
            let who = actor(conn, &step.by, &enterprise)?;
            let ctx = Ctx {
                actor: Some(&who),
                audit,
                notice_days_override: plan.notice_days,
            };
            app = workflow::step(
                conn,
                &ctx,
                &app.id,
                step.step.into(),
                step.reason.as_deref(),
            )
            .map_err(|e| at(i, &format!("steps[{s}]"), e))?;
        }
        if let Some(a) = &plan.record_action {
            let record = app
                .record_id
                .as_deref()
                .ok_or_else(|| at(i, "record_action", "the application produced no record"))?;
            let who = actor(conn, &a.by, &enterprise)?;
            let done = if plan.certificate.is_some() {
                records::act::<CertRow>(conn, &who, audit, record, a.action, &a.reason).map(drop)
            } else {
                records::act::<DesignationRow>(conn, &who, audit, record, a.action, &a.reason)
                    .map(drop)
            };
            done.map_err(|e| at(i, "record_action", e))?;
        }
    }
    Ok(plans.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_dates_may_be_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(
            relative_date("today+20", today),
            NaiveDate::from_ymd_opt(2026, 12, 18)
        );
        assert_eq!(
            relative_date("today-28", today),
            NaiveDate::from_ymd_opt(2026, 10, 31)
        );
        assert_eq!(relative_date("today", today), Some(today));
        assert_eq!(
            relative_date("2024-01-15", today),
            NaiveDate::from_ymd_opt(2024, 1, 15)
        );
        assert_eq!(relative_date("today*2", today), None);
        assert_eq!(relative_date("tomorrow", today), None);
    }

    #[test]
    fn the_shipped_plan_parses() {
        let plans = parse(PLAN).expect("seeds/demo/workflow.json parses");
        assert!(plans.len() >= 10);
        assert!(plans.iter().any(|p| p.record_action.is_some()));
    }

    #[test]
    fn a_bad_plan_names_line_and_field() {
        let text = "{\"about\": \"\", \"applications\": [\n{\"enterprise_uscc\": \"x\", \"product\": \"p\",\n \"kind\": \"green_fod\", \"steps\": []}]}";
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.field, "applications[0].kind");
    }
}
