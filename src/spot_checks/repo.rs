//! Queries on spot-check campaigns, their candidates and targets, and inspectors' conflicts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    applications, certifications, designations, enterprise_sectors, enterprises,
    inspector_conflicts, products, spot_check_candidates, spot_check_targets, spot_checks,
};
use crate::db::{region_prefix_pattern, DbConn};
use crate::domain::{
    Agency, ApplicationKind, CheckResult, EnterpriseStatus, RecordStatus, Sector, SpotCheckState,
    TargetType,
};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = spot_checks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct CampaignRow {
    pub id: String,
    pub agency_code: Agency,
    pub title: String,
    pub legal_basis: String,
    pub target_type: TargetType,
    /// JSON of `Scope`.
    pub scope: String,
    pub sample_size: i32,
    /// JSON array of user ids.
    pub inspector_pool: String,
    pub seed_commitment: String,
    /// Hex; secret until the draw.
    pub seed: String,
    pub state: SpotCheckState,
    pub candidate_count: Option<i32>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub drawn_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = spot_check_targets)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub struct TargetRow {
    pub spot_check_id: String,
    pub target_id: String,
    pub enterprise_id: String,
    pub score: String,
    /// JSON array of user ids.
    pub inspectors: String,
    /// JSON array of `draw::Recusal`.
    pub recusals: String,
    pub result: Option<CheckResult>,
    pub findings: Option<String>,
    pub checked_on: Option<NaiveDate>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &CampaignRow) -> QueryResult<()> {
    diesel::insert_into(spot_checks::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CampaignRow>> {
    spot_checks::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    agency: Option<Agency>,
    page: &PageRequest,
) -> QueryResult<Vec<CampaignRow>> {
    let mut q = spot_checks::table
        .select(CampaignRow::as_select())
        .order(spot_checks::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(spot_checks::agency_code.eq(a));
    }
    if let Some(after) = &page.after {
        q = q.filter(spot_checks::id.gt(after.clone()));
    }
    q.load(conn)
}

/// Saves the campaign if it is still at `version`; 0 rows when someone else changed it.
pub fn update_guarded(conn: &mut DbConn, row: &CampaignRow, version: i32) -> QueryResult<usize> {
    diesel::update(
        spot_checks::table
            .find(&row.id)
            .filter(spot_checks::version.eq(version)),
    )
    .set(row)
    .execute(conn)
}

/// What a campaign may draw from.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Only this sector (an enterprise's sectors, a product's own).
    pub sector: Option<Sector>,
    /// Only this region (a prefecture matches its counties): the enterprise's seat, the
    /// product's origin.
    #[schema(example = "632800")]
    pub region_code: Option<String>,
    /// Only holders of a record of this kind in force today.
    #[schema(example = "green_food")]
    pub holds_kind: Option<ApplicationKind>,
}

/// The public ids matching the scope now, in id order: active enterprises, or products of
/// active enterprises.
pub fn candidates(
    conn: &mut DbConn,
    target_type: TargetType,
    scope: &Scope,
) -> QueryResult<Vec<(String, String)>> {
    let today = crate::clock::today();
    match target_type {
        TargetType::Product => {
            let mut q = products::table
                .inner_join(enterprises::table)
                .filter(enterprises::status.eq(EnterpriseStatus::Active))
                .select((products::id, products::enterprise_id))
                .order(products::id.asc())
                .into_boxed();
            if let Some(s) = scope.sector {
                q = q.filter(products::sector_code.eq(s));
            }
            if let Some(r) = &scope.region_code {
                q = q.filter(products::origin_region_code.like(region_prefix_pattern(r)));
            }
            if let Some(k) = scope.holds_kind {
                let cert = certifications::table
                    .filter(certifications::kind.eq(k))
                    .filter(certifications::status.eq(RecordStatus::Valid))
                    .filter(certifications::expires_on.ge(today))
                    .select(certifications::product_id);
                let des = designations::table
                    .filter(designations::kind.eq(k))
                    .filter(designations::status.eq(RecordStatus::Active))
                    .filter(
                        designations::valid_until
                            .is_null()
                            .or(designations::valid_until.ge(today)),
                    )
                    .filter(designations::product_id.is_not_null())
                    .select(designations::product_id.assume_not_null());
                q = q.filter(products::id.eq_any(cert).or(products::id.eq_any(des)));
            }
            q.load(conn)
        }
        TargetType::Enterprise => {
            let mut q = enterprises::table
                .filter(enterprises::status.eq(EnterpriseStatus::Active))
                .select((enterprises::id, enterprises::id))
                .order(enterprises::id.asc())
                .into_boxed();
            if let Some(s) = scope.sector {
                let of_sector = enterprise_sectors::table
                    .filter(enterprise_sectors::sector_code.eq(s))
                    .select(enterprise_sectors::enterprise_id);
                q = q.filter(enterprises::id.eq_any(of_sector));
            }
            if let Some(r) = &scope.region_code {
                q = q.filter(enterprises::region_code.like(region_prefix_pattern(r)));
            }
            if let Some(k) = scope.holds_kind {
                let cert = certifications::table
                    .filter(certifications::kind.eq(k))
                    .filter(certifications::status.eq(RecordStatus::Valid))
                    .filter(certifications::expires_on.ge(today))
                    .select(certifications::enterprise_id);
                let des = designations::table
                    .filter(designations::kind.eq(k))
                    .filter(designations::status.eq(RecordStatus::Active))
                    .filter(
                        designations::valid_until
                            .is_null()
                            .or(designations::valid_until.ge(today)),
                    )
                    .select(designations::enterprise_id);
                q = q.filter(enterprises::id.eq_any(cert).or(enterprises::id.eq_any(des)));
            }
            q.load(conn)
        }
    }
}

pub fn insert_candidates(conn: &mut DbConn, campaign: &str, ids: &[String]) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = spot_check_candidates)]
    #[diesel(treat_none_as_default_value = false)]
    struct Candidate<'a> {
        spot_check_id: &'a str,
        candidate_id: &'a str,
    }
    let rows: Vec<Candidate> = ids
        .iter()
        .map(|c| Candidate {
            spot_check_id: campaign,
            candidate_id: c,
        })
        .collect();
    crate::bulk_insert!(conn, spot_check_candidates::table, &rows).map(|_| ())
}

/// The frozen candidates, in id order, a page at a time.
pub fn candidates_of(
    conn: &mut DbConn,
    campaign: &str,
    page: &PageRequest,
) -> QueryResult<Vec<String>> {
    let mut q = spot_check_candidates::table
        .filter(spot_check_candidates::spot_check_id.eq(campaign))
        .select(spot_check_candidates::candidate_id)
        .order(spot_check_candidates::candidate_id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(spot_check_candidates::candidate_id.gt(after.clone()));
    }
    q.load(conn)
}

/// Every frozen candidate (for recomputing a draw).
pub fn all_candidates(conn: &mut DbConn, campaign: &str) -> QueryResult<Vec<String>> {
    spot_check_candidates::table
        .filter(spot_check_candidates::spot_check_id.eq(campaign))
        .select(spot_check_candidates::candidate_id)
        .order(spot_check_candidates::candidate_id.asc())
        .load(conn)
}

pub fn insert_targets(conn: &mut DbConn, rows: &[TargetRow]) -> QueryResult<()> {
    crate::bulk_insert!(conn, spot_check_targets::table, rows).map(|_| ())
}

/// The drawn targets, smallest score first.
pub fn targets_of(conn: &mut DbConn, campaign: &str) -> QueryResult<Vec<TargetRow>> {
    spot_check_targets::table
        .filter(spot_check_targets::spot_check_id.eq(campaign))
        .select(TargetRow::as_select())
        .order(spot_check_targets::score.asc())
        .load(conn)
}

/// Records a target's result once; 0 rows when it was recorded already.
pub fn record_result(
    conn: &mut DbConn,
    campaign: &str,
    target: &str,
    result: CheckResult,
    findings: Option<&str>,
    checked_on: NaiveDate,
    by: &str,
) -> QueryResult<usize> {
    diesel::update(
        spot_check_targets::table
            .filter(spot_check_targets::spot_check_id.eq(campaign))
            .filter(spot_check_targets::target_id.eq(target))
            .filter(spot_check_targets::result.is_null()),
    )
    .set((
        spot_check_targets::result.eq(Some(result)),
        spot_check_targets::findings.eq(findings),
        spot_check_targets::checked_on.eq(Some(checked_on)),
        spot_check_targets::recorded_by.eq(Some(by)),
        spot_check_targets::recorded_at.eq(Some(crate::clock::now())),
    ))
    .execute(conn)
}

/// Declares (or re-declares) an inspector's conflict with an enterprise.
pub fn declare_conflict(
    conn: &mut DbConn,
    inspector: &str,
    enterprise: &str,
    reason: &str,
) -> QueryResult<()> {
    diesel::delete(
        inspector_conflicts::table
            .filter(inspector_conflicts::inspector_id.eq(inspector))
            .filter(inspector_conflicts::enterprise_id.eq(enterprise)),
    )
    .execute(conn)?;
    diesel::insert_into(inspector_conflicts::table)
        .values((
            inspector_conflicts::inspector_id.eq(inspector),
            inspector_conflicts::enterprise_id.eq(enterprise),
            inspector_conflicts::reason.eq(reason),
            inspector_conflicts::declared_at.eq(crate::clock::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Of `inspectors`, those who declared a conflict with `enterprise`.
pub fn conflicted(
    conn: &mut DbConn,
    inspectors: &[String],
    enterprise: &str,
) -> QueryResult<Vec<String>> {
    inspector_conflicts::table
        .filter(inspector_conflicts::enterprise_id.eq(enterprise))
        .filter(inspector_conflicts::inspector_id.eq_any(inspectors))
        .select(inspector_conflicts::inspector_id)
        .load(conn)
}

/// Of `inspectors`, those who reviewed an application of `enterprise` since `since`.
pub fn reviewed_since(
    conn: &mut DbConn,
    inspectors: &[String],
    enterprise: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    applications::table
        .filter(applications::enterprise_id.eq(enterprise))
        .filter(applications::assigned_regulator_id.eq_any(inspectors))
        .filter(applications::updated_at.ge(since))
        .select(applications::assigned_regulator_id.assume_not_null())
        .distinct()
        .load(conn)
}

/// The results of closed campaigns checked between `from` and `to`: (target type, target,
/// its enterprise, result).
pub fn published_results(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(TargetType, String, String, CheckResult)>> {
    spot_check_targets::table
        .inner_join(spot_checks::table)
        .filter(spot_checks::state.eq(SpotCheckState::Closed))
        .filter(spot_check_targets::checked_on.ge(from))
        .filter(spot_check_targets::checked_on.le(to))
        .filter(spot_check_targets::result.is_not_null())
        .select((
            spot_checks::target_type,
            spot_check_targets::target_id,
            spot_check_targets::enterprise_id,
            spot_check_targets::result.assume_not_null(),
        ))
        .load(conn)
}
