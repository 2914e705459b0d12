//! The demo's supervision, run through the real services after the demo applications: an
//! enterprise on the dishonesty list, and a closed spot-check campaign of market regulation
//! with its published results (drawn with a fresh seed, so the targets differ between loads).

use diesel::prelude::*;

use super::demo_workflow::actor;
use crate::audit::AuditCtx;
use crate::db::DbConn;
use crate::domain::{CheckResult, Sector, TargetType};
use crate::error::{ApiError, ApiResult};
use crate::spot_checks::repo::Scope;
use crate::spot_checks::{NewCampaign, NewResult};
use crate::supervision::NewListing;

/// The listed enterprise (its USCC).
const LISTED: &str = "91630100MA75E7L5U2";
const INSPECTORS: [&str; 3] = [
    "market_inspector1",
    "market_inspector2",
    "market_inspector3",
];

/// Loads the demo's supervision once; returns how many things it created.
pub fn load(conn: &mut DbConn, audit: &AuditCtx) -> ApiResult<usize> {
    let campaigns: i64 = crate::db::schema::spot_checks::table
        .count()
        .get_result(conn)?;
    if campaigns > 0 {
        return Ok(0);
    }
    let market = actor(conn, "regulator", "")?;
    let today = crate::clock::today();
    let listed = crate::enterprises::repo::find_by_uscc(conn, LISTED)?
        .ok_or_else(|| ApiError::Internal(format!("demo: no enterprise {LISTED}")))?;
    crate::supervision::list_enterprise(
        conn,
        &market,
        audit,
        NewListing {
            enterprise_id: listed.id,
            reason: "以机织毯冒充手工打结藏毯销售，经责令整改拒不改正（虚构的演示数据）".into(),
            legal_basis: "《市场监督管理严重违法失信名单管理办法》第九条".into(),
            starts_on: today - chrono::Days::new(30),
            ends_on: Some(today + chrono::Days::new(3 * 365 - 30)),
        },
    )?;
    let mut pool = Vec::new();
    for name in INSPECTORS {
        pool.push(actor(conn, name, "")?.user_id);
    }
    let campaign = crate::spot_checks::create(
        conn,
        &market,
        audit,
        NewCampaign {
            title: "2026 年食品类消费品质量双随机抽查（演示）".into(),
            legal_basis: "《市场监督管理行政执法双随机抽查工作细则》".into(),
            target_type: TargetType::Product,
            scope: Scope {
                sector: Some(Sector::Food),
                ..Scope::default()
            },
            sample_size: 3,
            inspector_pool: pool,
        },
    )?;
    crate::spot_checks::run_draw(conn, &market, audit, &campaign.id)?;
    let checked_on = today;
    let targets = crate::spot_checks::repo::targets_of(conn, &campaign.id)?;
    for (i, t) in targets.iter().enumerate() {
        let inspectors: Vec<String> = serde_json::from_str(&t.inspectors).unwrap_or_default();
        let first = inspectors
            .first()
            .ok_or_else(|| ApiError::Internal("demo: a target without inspectors".into()))?;
        let who = crate::users::repo::find(conn, first)?
            .ok_or_else(|| ApiError::Internal("demo: unknown inspector".into()))?;
        let inspector = actor(conn, &who.username, "")?;
        let (result, findings) = if i == 0 {
            (
                CheckResult::Failed,
                Some("标签标示的营养成分与实测值不符（虚构的演示数据）".to_owned()),
            )
        } else {
            (CheckResult::Passed, None)
        };
        crate::spot_checks::record_result(
            conn,
            &inspector,
            audit,
            &campaign.id,
            &t.target_id,
            NewResult {
                result,
                findings,
                checked_on,
            },
        )?;
    }
    crate::spot_checks::close(conn, &market, audit, &campaign.id)?;
    Ok(2 + targets.len())
}
