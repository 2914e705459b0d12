//! Spot-check campaigns (双随机、一公开: random targets, random inspectors, results published).
//! A regulator creates a campaign for its agency; the service draws a secret seed and publishes
//! only its commitment. The draw freezes the candidates matching the scope, reveals the seed and
//! picks targets and inspectors by the rule in [`draw`], which anyone can recompute
//! (`registry spot-check verify-draw ID`). The drawn inspectors record results; closing the
//! campaign publishes them.

pub mod draw;
pub mod repo;
pub mod routes;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Actor, Target};
use crate::db::DbConn;
use crate::domain::{Agency, CheckResult, Role, SpotCheckState, TargetType};
use crate::error::{ApiError, ApiResult, Errors};
use draw::Recusal;
use repo::{CampaignRow, Scope, TargetRow};

/// What a regulator of `agency` may do: run the agency's campaigns.
fn agency_target(agency: Agency) -> Target<'static> {
    Target {
        enterprise_id: None,
        published: true,
        agency: Some(agency),
    }
}

/// How far back a review makes an inspector recuse themselves.
const RECENT_REVIEW_DAYS: i64 = 365;

/// A campaign as it is published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    #[schema(example = "market_regulation")]
    pub agency_code: Agency,
    #[schema(example = "2026 年枸杞制品质量双随机抽查")]
    pub title: String,
    #[schema(example = "《市场监督管理行政执法双随机抽查工作细则》")]
    pub legal_basis: String,
    pub target_type: TargetType,
    pub scope: Scope,
    pub sample_size: i32,
    /// The regulators who may be drawn (user ids).
    pub inspector_pool: Vec<String>,
    /// `sha256(seed)` in hex, published at creation.
    #[schema(example = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")]
    pub seed_commitment: String,
    /// The 32-byte seed in hex, revealed by the draw.
    pub seed: Option<String>,
    pub state: SpotCheckState,
    /// How many candidates the scope matched at the draw (listed at `candidates_href`).
    pub candidate_count: Option<i32>,
    pub candidates_href: Option<String>,
    /// Smallest score first; empty until the draw.
    pub targets: Vec<TargetView>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub drawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    /// The enterprise or product drawn.
    pub target_id: String,
    pub enterprise_id: String,
    /// `sha256(seed || target_id)` in hex.
    pub score: String,
    pub inspectors: Vec<String>,
    /// Pool members skipped for this target, in draw order, and why.
    pub recusals: Vec<Recusal>,
    /// Published when the campaign closes (the agency sees it as it is recorded).
    pub result: Option<ResultView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultView {
    pub result: CheckResult,
    pub findings: Option<String>,
    pub checked_on: NaiveDate,
}

/// Whether `actor` sees results before the campaign closes: the campaign's agency, admins.
fn sees_results(actor: Option<&Actor>, c: &CampaignRow) -> bool {
    c.state == SpotCheckState::Closed || campaign_staff(actor, c)
}

/// The campaign's agency and admins: they see results as recorded and why an inspector recused
/// themselves (to others a recusal says only `recused`: a reason can reveal who reviewed an
/// enterprise's private application).
fn campaign_staff(actor: Option<&Actor>, c: &CampaignRow) -> bool {
    actor.is_some_and(|a| {
        a.role == Role::Admin || (a.role == Role::Regulator && a.agency == Some(c.agency_code))
    })
}

pub fn view(conn: &mut DbConn, actor: Option<&Actor>, c: &CampaignRow) -> ApiResult<CampaignView> {
    let drawn = c.state != SpotCheckState::Open;
    let results = sees_results(actor, c);
    let reasons = campaign_staff(actor, c);
    let targets = if drawn {
        repo::targets_of(conn, &c.id)?
            .into_iter()
            .map(|t| target_view(t, results, reasons))
            .collect()
    } else {
        Vec::new()
    };
    Ok(CampaignView {
        id: c.id.clone(),
        agency_code: c.agency_code,
        title: c.title.clone(),
        legal_basis: c.legal_basis.clone(),
        target_type: c.target_type,
        scope: serde_json::from_str(&c.scope).unwrap_or_default(),
        sample_size: c.sample_size,
        inspector_pool: serde_json::from_str(&c.inspector_pool).unwrap_or_default(),
        seed_commitment: c.seed_commitment.clone(),
        seed: drawn.then(|| c.seed.clone()),
        state: c.state,
        candidate_count: c.candidate_count,
        candidates_href: drawn.then(|| format!("/api/v1/spot-checks/{}/candidates", c.id)),
        targets,
        created_at: crate::clock::to_utc(c.created_at),
        drawn_at: c.drawn_at.map(crate::clock::to_utc),
        closed_at: c.closed_at.map(crate::clock::to_utc),
        version: c.version,
    })
}

fn target_view(t: TargetRow, results: bool, reasons: bool) -> TargetView {
    let result = match (results, t.result, t.checked_on) {
        (true, Some(result), Some(checked_on)) => Some(ResultView {
            result,
            findings: t.findings.clone(),
            checked_on,
        }),
        _ => None,
    };
    TargetView {
        target_id: t.target_id,
        enterprise_id: t.enterprise_id,
        score: t.score,
        inspectors: serde_json::from_str(&t.inspectors).unwrap_or_default(),
        recusals: serde_json::from_str::<Vec<Recusal>>(&t.recusals)
            .unwrap_or_default()
            .into_iter()
            .map(|r| Recusal {
                reason: if reasons { r.reason } else { "recused".into() },
                ..r
            })
            .collect(),
        result,
    }
}

fn audited(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    action: &'static str,
    c: &CampaignRow,
    after: serde_json::Value,
    reason: Option<&str>,
) -> ApiResult<()> {
    audit::record(
        conn,
        ctx,
        Change {
            action,
            entity_type: "spot_check",
            entity_id: &c.id,
            before: None,
            after: Some(after),
            reason,
        },
    )?;
    Ok(())
}

/// A campaign as asked for.
pub struct NewCampaign {
    pub title: String,
    pub legal_basis: String,
    pub target_type: TargetType,
    pub scope: Scope,
    pub sample_size: i32,
    pub inspector_pool: Vec<String>,
}

/// Creates a campaign for the actor's agency, with a fresh secret seed of which only the
/// commitment is shown. The pool must hold at least two enabled regulators of that agency.
/// Call inside `write_tx`.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    new: NewCampaign,
) -> ApiResult<CampaignRow> {
    let agency = actor.agency.ok_or(ApiError::Forbidden)?;
    check(Some(actor), Action::Decide, agency_target(agency))?;
    let mut errors = Errors::new();
    let mut pool: Vec<String> = Vec::new();
    for (i, id) in new.inspector_pool.iter().enumerate() {
        let ok = crate::users::repo::find(conn, id)?.is_some_and(|u| {
            !u.disabled && u.role == Role::Regulator && u.agency_code == Some(agency)
        });
        if !ok {
            errors.push(
                format!("inspector_pool[{i}]"),
                "not_an_inspector",
                "not an active regulator of your agency",
            );
        } else if !pool.contains(id) {
            pool.push(id.clone());
        }
    }
    if pool.len() < draw::INSPECTORS_PER_TARGET && errors.is_empty() {
        errors.push(
            "inspector_pool",
            "too_small",
            "at least two inspectors: each target gets two",
        );
    }
    errors.finish()?;
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let row = CampaignRow {
        id: uuid::Uuid::now_v7().to_string(),
        agency_code: agency,
        title: new.title,
        legal_basis: new.legal_basis,
        target_type: new.target_type,
        scope: serde_json::to_string(&new.scope).expect("plain data serialises"),
        sample_size: new.sample_size,
        inspector_pool: serde_json::to_string(&pool).expect("plain data serialises"),
        seed_commitment: draw::commitment(&seed),
        seed: hex::encode(seed),
        state: SpotCheckState::Open,
        candidate_count: None,
        created_by: actor.user_id.clone(),
        created_at: crate::clock::now(),
        drawn_at: None,
        closed_at: None,
        version: 1,
    };
    repo::insert(conn, &row)?;
    let shown = view(conn, Some(actor), &row)?;
    audited(
        conn,
        ctx,
        "spot_check.create",
        &row,
        serde_json::to_value(&shown).unwrap_or_default(),
        None,
    )?;
    Ok(row)
}

fn load_for_agency(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<CampaignRow> {
    let c = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    check(Some(actor), Action::Decide, agency_target(c.agency_code))?;
    Ok(c)
}

fn in_state(c: &CampaignRow, state: SpotCheckState) -> ApiResult<()> {
    if c.state == state {
        Ok(())
    } else {
        Err(ApiError::InvalidState {
            resource: "spot_check",
            state: c.state.to_string(),
        })
    }
}

fn save(conn: &mut DbConn, mut after: CampaignRow, version: i32) -> ApiResult<CampaignRow> {
    after.version = version + 1;
    if repo::update_guarded(conn, &after, version)? == 0 {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the campaign changed meanwhile; reload and retry",
        ));
    }
    Ok(after)
}

fn seed_bytes(c: &CampaignRow) -> ApiResult<Vec<u8>> {
    hex::decode(&c.seed).map_err(|e| ApiError::Internal(format!("stored seed: {e}")))
}

/// The inspectors who must recuse themselves from `enterprise`, and why.
fn recusals_for(
    conn: &mut DbConn,
    pool: &[String],
    enterprise: &str,
) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let since = crate::clock::now() - chrono::Duration::days(RECENT_REVIEW_DAYS);
    for i in repo::reviewed_since(conn, pool, enterprise, since)? {
        out.insert(i, "reviewed_recently".to_owned());
    }
    // A declared conflict is the reason given when both hold.
    for i in repo::conflicted(conn, pool, enterprise)? {
        out.insert(i, "declared_conflict".to_owned());
    }
    Ok(out)
}

/// Draws: freezes the candidates matching the scope now, reveals the seed, and picks the
/// targets and each target's two inspectors (recusals recorded). Call inside `write_tx`.
pub fn run_draw(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
) -> ApiResult<CampaignRow> {
    let before = load_for_agency(conn, actor, id)?;
    in_state(&before, SpotCheckState::Open)?;
    let seed = seed_bytes(&before)?;
    let scope: Scope = serde_json::from_str(&before.scope)
        .map_err(|e| ApiError::Internal(format!("stored scope: {e}")))?;
    let stored: Vec<String> = serde_json::from_str(&before.inspector_pool)
        .map_err(|e| ApiError::Internal(format!("stored pool: {e}")))?;
    // Who may still inspect: an account disabled or moved since the campaign was created is
    // dropped, and the pool published with the draw is the one it used.
    let mut pool = Vec::new();
    for id in stored {
        if crate::users::repo::find(conn, &id)?.is_some_and(|u| {
            !u.disabled && u.role == Role::Regulator && u.agency_code == Some(before.agency_code)
        }) {
            pool.push(id);
        }
    }
    let found = repo::candidates(conn, before.target_type, &scope)?;
    let owner: HashMap<&str, &str> = found
        .iter()
        .map(|(c, e)| (c.as_str(), e.as_str()))
        .collect();
    let ids: Vec<String> = found.iter().map(|(c, _)| c.clone()).collect();
    let size = usize::try_from(before.sample_size).unwrap_or(0);
    let mut targets = Vec::new();
    for (target, score) in draw::targets(&seed, &ids, size) {
        let enterprise = owner
            .get(target.as_str())
            .copied()
            .unwrap_or_default()
            .to_owned();
        let recused = recusals_for(conn, &pool, &enterprise)?;
        let (inspectors, skipped) = draw::inspectors(&seed, &target, &pool, &recused)
            .ok_or_else(|| {
                ApiError::conflict(
                    "not_enough_inspectors",
                    format!(
                        "fewer than two inspectors of the pool may inspect {target} after recusals: widen the pool"
                    ),
                )
            })?;
        targets.push(TargetRow {
            spot_check_id: before.id.clone(),
            target_id: target,
            enterprise_id: enterprise,
            score,
            inspectors: serde_json::to_string(&inspectors).expect("plain data serialises"),
            recusals: serde_json::to_string(&skipped).expect("plain data serialises"),
            result: None,
            findings: None,
            checked_on: None,
            recorded_by: None,
            recorded_at: None,
        });
    }
    repo::insert_candidates(conn, &before.id, &ids)?;
    repo::insert_targets(conn, &targets)?;
    let mut after = before.clone();
    after.inspector_pool = serde_json::to_string(&pool).expect("plain data serialises");
    after.state = SpotCheckState::Drawn;
    after.candidate_count = Some(i32::try_from(ids.len()).unwrap_or(i32::MAX));
    after.drawn_at = Some(crate::clock::now());
    let after = save(conn, after, before.version)?;
    audited(
        conn,
        ctx,
        "spot_check.draw",
        &after,
        serde_json::json!({
            "seed": after.seed,
            "candidate_count": after.candidate_count,
            "targets": targets.iter().map(|t| &t.target_id).collect::<Vec<_>>(),
        }),
        None,
    )?;
    Ok(after)
}

/// One inspection's outcome, as recorded.
pub struct NewResult {
    pub result: CheckResult,
    pub findings: Option<String>,
    pub checked_on: NaiveDate,
}

/// Records a target's result: only one of its two drawn inspectors, once, while the campaign
/// is drawn; a failure names its findings. Call inside `write_tx`.
pub fn record_result(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    id: &str,
    target: &str,
    r: NewResult,
) -> ApiResult<CampaignRow> {
    let c = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let t = repo::targets_of(conn, id)?
        .into_iter()
        .find(|t| t.target_id == target)
        .ok_or(ApiError::NotFound)?;
    let inspectors: Vec<String> = serde_json::from_str(&t.inspectors).unwrap_or_default();
    if actor.role != Role::Regulator || !inspectors.contains(&actor.user_id) {
        return Err(ApiError::Forbidden);
    }
    in_state(&c, SpotCheckState::Drawn)?;
    let drawn_on = c.drawn_at.map(|d| crate::clock::to_utc(d).date_naive());
    if drawn_on.is_some_and(|d| r.checked_on < d) || r.checked_on > crate::clock::today() {
        return Err(ApiError::field(
            "checked_on",
            "out_of_range",
            "between the draw and today",
        ));
    }
    if r.result == CheckResult::Failed && r.findings.is_none() {
        return Err(ApiError::field(
            "findings",
            "required",
            "a failed inspection states its findings",
        ));
    }
    let n = repo::record_result(
        conn,
        id,
        target,
        r.result,
        r.findings.as_deref(),
        r.checked_on,
        &actor.user_id,
    )?;
    if n == 0 {
        return Err(ApiError::conflict(
            "result_recorded",
            "this target's result is recorded already",
        ));
    }
    audited(
        conn,
        ctx,
        "spot_check.result",
        &c,
        // The outcome stays out of the audit trail (which every regulator reads) until the
        // campaign closes; the closing entry records every result.
        serde_json::json!({"target_id": target, "checked_on": r.checked_on}),
        None,
    )?;
    Ok(c)
}

/// Closes a drawn campaign once every target has its result: the results are published.
/// Call inside `write_tx`.
pub fn close(conn: &mut DbConn, actor: &Actor, ctx: &AuditCtx, id: &str) -> ApiResult<CampaignRow> {
    let before = load_for_agency(conn, actor, id)?;
    in_state(&before, SpotCheckState::Drawn)?;
    let missing: Vec<String> = repo::targets_of(conn, id)?
        .into_iter()
        .filter(|t| t.result.is_none())
        .map(|t| t.target_id)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::field(
            "targets",
            "results_missing",
            format!("no result yet for {}", missing.join(", ")),
        ));
    }
    let results: Vec<serde_json::Value> = repo::targets_of(conn, id)?
        .iter()
        .map(|t| serde_json::json!({"target_id": t.target_id, "result": t.result, "findings": t.findings, "checked_on": t.checked_on}))
        .collect();
    let mut after = before.clone();
    after.state = SpotCheckState::Closed;
    after.closed_at = Some(crate::clock::now());
    let after = save(conn, after, before.version)?;
    audited(
        conn,
        ctx,
        "spot_check.close",
        &after,
        serde_json::json!({"state": "closed", "results": results}),
        None,
    )?;
    Ok(after)
}

/// An inspector declares a conflict of interest with an enterprise: never drawn to inspect it.
pub fn declare_conflict(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &AuditCtx,
    enterprise_id: &str,
    reason: &str,
) -> ApiResult<()> {
    if actor.role != Role::Regulator {
        return Err(ApiError::Forbidden);
    }
    if crate::enterprises::repo::find(conn, enterprise_id)?.is_none() {
        return Err(ApiError::field(
            "enterprise_id",
            "unknown_enterprise",
            "no enterprise has this id",
        ));
    }
    repo::declare_conflict(conn, &actor.user_id, enterprise_id, reason)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "inspector.declare_conflict",
            entity_type: "user",
            entity_id: &actor.user_id,
            before: None,
            after: Some(serde_json::json!({"enterprise_id": enterprise_id})),
            reason: Some(reason),
        },
    )?;
    Ok(())
}

/// What a recomputation of a draw found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrawCheck {
    pub spot_check_id: String,
    /// True when the seed matches its commitment and the targets and inspectors are exactly
    /// those the rule gives.
    pub ok: bool,
    pub problems: Vec<String>,
}

/// Recomputes a draw from what is published: the seed against its commitment, the targets
/// from the frozen candidates, each target's inspectors from the pool and the recorded
/// recusals.
pub fn verify_draw(conn: &mut DbConn, id: &str) -> ApiResult<DrawCheck> {
    let c = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if c.state == SpotCheckState::Open {
        return Err(ApiError::InvalidState {
            resource: "spot_check",
            state: c.state.to_string(),
        });
    }
    let mut problems = Vec::new();
    let seed = seed_bytes(&c)?;
    if draw::commitment(&seed) != c.seed_commitment {
        problems.push("the seed does not match its commitment".to_owned());
    }
    let candidates = repo::all_candidates(conn, id)?;
    let size = usize::try_from(c.sample_size).unwrap_or(0);
    let expected = draw::targets(&seed, &candidates, size);
    let stored = repo::targets_of(conn, id)?;
    let got: Vec<(String, String)> = stored
        .iter()
        .map(|t| (t.target_id.clone(), t.score.clone()))
        .collect();
    if expected != got {
        problems.push("the targets are not the smallest scores of the candidates".to_owned());
    }
    let pool: Vec<String> = serde_json::from_str(&c.inspector_pool).unwrap_or_default();
    for t in &stored {
        let recusals: Vec<Recusal> = serde_json::from_str(&t.recusals).unwrap_or_default();
        let recused: BTreeMap<String, String> = recusals
            .iter()
            .map(|r| (r.inspector_id.clone(), r.reason.clone()))
            .collect();
        let inspectors: Vec<String> = serde_json::from_str(&t.inspectors).unwrap_or_default();
        match draw::inspectors(&seed, &t.target_id, &pool, &recused) {
            Some((chosen, skipped)) if chosen == inspectors && skipped == recusals => {}
            _ => problems.push(format!(
                "the inspectors of {} do not follow the rule",
                t.target_id
            )),
        }
    }
    Ok(DrawCheck {
        spot_check_id: c.id,
        ok: problems.is_empty(),
        problems,
    })
}
