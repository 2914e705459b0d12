//! Designations the province or state grants: famous-brand products, famous trademarks, and the
//! right to use a geographical-indication mark. Granted with a number once an approved
//! application's public notice has closed.

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::certified::{Certified, Current};
use super::{Record, StatusChange};
use crate::audit::AuditCtx;
use crate::auth::policy::Visibility;
use crate::db::schema::{designations, enterprises};
use crate::db::{region_prefix_pattern, DbConn};
use crate::domain::{ApplicationKind, EnterpriseStatus, RecordStatus, RecordType};
use crate::error::ApiResult;
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = designations)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
pub struct DesignationRow {
    pub id: String,
    pub application_id: Option<String>,
    pub kind: ApplicationKind,
    pub enterprise_id: String,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub number: String,
    pub granted_year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub status: RecordStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    /// What it certifies, fixed when registered (JSON of `records::Certified`).
    pub certified: String,
}

#[derive(Debug, Default, Clone)]
pub struct DesignationFilter {
    pub kind: Option<ApplicationKind>,
    /// active / suspended / revoked / expired (expired and active are derived from the date).
    pub status: Option<RecordStatus>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub geographical_indication_id: Option<String>,
    pub region_code: Option<String>,
    pub valid_on: Option<NaiveDate>,
    /// Active today and ending on or before this day (`expiring_within=DAYS` from today).
    pub expiring_by: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &DesignationFilter,
    page: &PageRequest,
) -> QueryResult<Vec<DesignationRow>> {
    let today = crate::clock::today();
    let mut q = designations::table
        .select(DesignationRow::as_select())
        .order(designations::id.asc())
        .limit(page.fetch())
        .into_boxed();
    // A correlated EXISTS (not IN): both planners can then walk the id order and stop at the
    // page size, instead of collecting every row of every active enterprise first.
    let active = || {
        diesel::dsl::exists(
            enterprises::table
                .filter(enterprises::id.eq(designations::enterprise_id))
                .filter(enterprises::status.eq(EnterpriseStatus::Active)),
        )
    };
    match vis {
        Visibility::All => {}
        Visibility::Public => q = q.filter(active()),
        Visibility::PublicOr(own) => {
            q = q.filter(active().or(designations::enterprise_id.eq(own.clone())))
        }
    }
    if let Some(k) = f.kind {
        q = q.filter(designations::kind.eq(k));
    }
    let live = designations::valid_until
        .is_null()
        .or(designations::valid_until.ge(today));
    match f.status {
        Some(RecordStatus::Active) => {
            q = q
                .filter(designations::status.eq(RecordStatus::Active))
                .filter(live)
        }
        Some(RecordStatus::Expired) => {
            q = q
                .filter(designations::status.eq(RecordStatus::Active))
                .filter(designations::valid_until.lt(today))
        }
        Some(s) => q = q.filter(designations::status.eq(s)),
        None => {}
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(designations::enterprise_id.eq(e.clone()));
    }
    if let Some(p) = &f.product_id {
        q = q.filter(designations::product_id.eq(p.clone()));
    }
    if let Some(g) = &f.geographical_indication_id {
        q = q.filter(designations::geographical_indication_id.eq(g.clone()));
    }
    if let Some(r) = &f.region_code {
        let in_region = enterprises::table
            .filter(enterprises::region_code.like(region_prefix_pattern(r)))
            .select(enterprises::id);
        q = q.filter(designations::enterprise_id.eq_any(in_region));
    }
    if let Some(by) = f.expiring_by {
        q = q
            .filter(designations::status.eq(RecordStatus::Active))
            .filter(designations::valid_until.ge(today))
            .filter(designations::valid_until.le(by));
    }
    if let Some(d) = f.valid_on {
        q = q
            .filter(designations::valid_from.le(d))
            .filter(
                designations::valid_until
                    .is_null()
                    .or(designations::valid_until.ge(d)),
            )
            .filter(designations::status.ne(RecordStatus::Revoked));
    }
    if let Some(after) = &page.after {
        q = q.filter(designations::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<DesignationRow>> {
    designations::table
        .find(id)
        .select(DesignationRow::as_select())
        .first(conn)
        .optional()
}

/// A product's designations in force on `today`, in id order.
pub fn live_for_product(
    conn: &mut DbConn,
    product_id: &str,
    today: NaiveDate,
) -> QueryResult<Vec<DesignationRow>> {
    designations::table
        .filter(designations::product_id.eq(product_id))
        .filter(designations::status.eq(RecordStatus::Active))
        .filter(
            designations::valid_until
                .is_null()
                .or(designations::valid_until.ge(today)),
        )
        .order(designations::id.asc())
        .select(DesignationRow::as_select())
        .load(conn)
}

/// This product's designations (of `kind`, or all) still in force or suspended on `today`.
pub fn live_of_kind(
    conn: &mut DbConn,
    product_id: &str,
    kind: Option<ApplicationKind>,
    today: NaiveDate,
) -> QueryResult<Vec<String>> {
    let mut q = designations::table
        .filter(designations::product_id.eq(product_id))
        .filter(designations::status.eq_any([RecordStatus::Active, RecordStatus::Suspended]))
        .filter(
            designations::valid_until
                .is_null()
                .or(designations::valid_until.ge(today)),
        )
        .select(designations::id)
        .into_boxed();
    if let Some(k) = kind {
        q = q.filter(designations::kind.eq(k));
    }
    q.load(conn)
}

pub fn find_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<DesignationRow>> {
    designations::table
        .filter(designations::number.eq(number))
        .select(DesignationRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &DesignationRow) -> QueryResult<()> {
    diesel::insert_into(designations::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// How many designations of a number prefix and year exist (for the next serial).
pub fn count_numbers(conn: &mut DbConn, prefix: &str) -> QueryResult<i64> {
    designations::table
        .filter(designations::number.like(format!("{prefix}%")))
        .count()
        .get_result(conn)
}

pub fn set_status_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    status: RecordStatus,
) -> QueryResult<usize> {
    diesel::update(
        designations::table
            .filter(designations::id.eq(id))
            .filter(designations::version.eq(version)),
    )
    .set((
        designations::status.eq(status),
        designations::updated_at.eq(crate::clock::now()),
        designations::version.eq(version + 1),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DesignationView {
    pub id: String,
    #[schema(example = "provincial_famous_brand")]
    pub kind: ApplicationKind,
    #[schema(example = "QHMP-2026-0001")]
    pub number: String,
    pub enterprise_id: String,
    /// The holder's name as certified.
    pub enterprise_name: String,
    pub product_id: Option<String>,
    /// The product's name as certified.
    pub product_name: Option<String>,
    /// What the record certifies, as granted.
    pub certified: Certified,
    /// The certified fields in which the holder or product now differs (empty when none).
    #[schema(example = json!([]))]
    pub current_differs: Vec<String>,
    /// The product as it is now.
    pub current_product: Option<String>,
    pub geographical_indication_id: Option<String>,
    #[schema(example = 2026)]
    pub granted_year: i32,
    pub valid_from: NaiveDate,
    /// `null`: no fixed expiry (GI mark use).
    pub valid_until: Option<NaiveDate>,
    /// `active`, `suspended`, `revoked`, or `expired` (derived from `valid_until`).
    #[schema(example = "active")]
    pub status: RecordStatus,
    pub application_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
    /// The record this one renews (it was registered by a renewal's approval).
    pub renews: Option<String>,
    /// The record that renewed this one.
    pub renewed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DesignationDetail {
    #[serde(flatten)]
    pub designation: DesignationView,
    pub history: Vec<StatusChange>,
}

pub fn views(conn: &mut DbConn, rows: &[DesignationRow]) -> QueryResult<Vec<DesignationView>> {
    let e: Vec<String> = rows.iter().map(|r| r.enterprise_id.clone()).collect();
    let p: Vec<String> = rows.iter().filter_map(|r| r.product_id.clone()).collect();
    let current = Current::load(conn, &e, &p)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let (renews, renewed_by) = super::renewals::links_of(conn, &ids)?;
    let today = crate::clock::today();
    Ok(rows
        .iter()
        .map(|r| {
            let certified = Certified::parse(&r.certified);
            let now = current.facts(&r.enterprise_id, r.product_id.as_deref());
            DesignationView {
                id: r.id.clone(),
                kind: r.kind,
                number: r.number.clone(),
                enterprise_id: r.enterprise_id.clone(),
                enterprise_name: certified.holder_name.clone(),
                product_id: r.product_id.clone(),
                product_name: certified.product_name.clone(),
                current_differs: certified.differences(&now),
                current_product: r
                    .product_id
                    .as_ref()
                    .map(|p| format!("/api/v1/products/{p}")),
                certified,
                geographical_indication_id: r.geographical_indication_id.clone(),
                granted_year: r.granted_year,
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                status: super::effective_status(r.status, r.valid_until, today),
                application_id: r.application_id.clone(),
                renews: renews.get(&r.id).cloned(),
                renewed_by: renewed_by.get(&r.id).cloned(),
                created_at: crate::clock::to_utc(r.created_at),
                updated_at: crate::clock::to_utc(r.updated_at),
                version: r.version,
            }
        })
        .collect())
}

impl Record for DesignationRow {
    const TYPE: RecordType = RecordType::Designation;
    const LIVE: RecordStatus = RecordStatus::Active;
    type Filter = DesignationFilter;
    type View = DesignationView;
    type Detail = DesignationDetail;

    fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        find(conn, id)
    }
    fn list(
        conn: &mut DbConn,
        vis: &Visibility,
        filter: &DesignationFilter,
        page: &PageRequest,
    ) -> QueryResult<Vec<Self>> {
        list(conn, vis, filter, page)
    }
    fn views(conn: &mut DbConn, rows: &[Self]) -> QueryResult<Vec<DesignationView>> {
        views(conn, rows)
    }
    fn detail(designation: DesignationView, history: Vec<StatusChange>) -> DesignationDetail {
        DesignationDetail {
            designation,
            history,
        }
    }
    fn detail_version(d: &DesignationDetail) -> i32 {
        d.designation.version
    }
    fn set_status_guarded(
        conn: &mut DbConn,
        id: &str,
        version: i32,
        status: RecordStatus,
    ) -> QueryResult<usize> {
        set_status_guarded(conn, id, version, status)
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn number(&self) -> &str {
        &self.number
    }
    fn kind(&self) -> ApplicationKind {
        self.kind
    }
    fn enterprise_id(&self) -> &str {
        &self.enterprise_id
    }
    fn status(&self) -> RecordStatus {
        self.status
    }
    fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }
    fn version(&self) -> i32 {
        self.version
    }
}

/// What granting a designation needs.
pub struct NewDesignation<'a> {
    pub application_id: &'a str,
    pub kind: ApplicationKind,
    /// The kind's number prefix (`QHMP`, `QHGI` …).
    pub number_prefix: Option<&'a str>,
    /// The kind's validity; `None`: no fixed expiry (GI mark use).
    pub validity_months: Option<i32>,
    pub enterprise_id: &'a str,
    pub product_id: Option<&'a str>,
    pub geographical_indication_id: Option<&'a str>,
}

/// Grants a designation, active from today, numbered `PREFIX-YEAR-NNNN` in grant order, with
/// the first entry of its history. Call inside `write_tx` (the audit head lock serialises
/// grants, so two never get the same serial).
pub fn grant(conn: &mut DbConn, ctx: &AuditCtx, new: NewDesignation<'_>) -> ApiResult<String> {
    let today = crate::clock::today();
    let year = chrono::Datelike::year(&today);
    let prefix = format!("{}-{year}-", new.number_prefix.unwrap_or("QH"));
    let serial = count_numbers(conn, &prefix)? + 1;
    let now = crate::clock::now();
    let mut certified = super::certified::snapshot(conn, new.enterprise_id, new.product_id)?;
    certified.geographical_indication_id = new.geographical_indication_id.map(str::to_owned);
    let row = DesignationRow {
        certified: certified.to_json(),
        id: uuid::Uuid::now_v7().to_string(),
        application_id: Some(new.application_id.to_owned()),
        kind: new.kind,
        enterprise_id: new.enterprise_id.to_owned(),
        product_id: new.product_id.map(str::to_owned),
        geographical_indication_id: new.geographical_indication_id.map(str::to_owned),
        number: format!("{prefix}{serial:04}"),
        granted_year: year,
        valid_from: today,
        valid_until: new
            .validity_months
            .and_then(|m| today.checked_add_months(Months::new(m as u32))),
        status: RecordStatus::Active,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    insert(conn, &row)?;
    super::log_status(
        conn,
        ctx,
        RecordType::Designation,
        &row.id,
        None,
        RecordStatus::Active,
        Some("granted"),
        now,
    )?;
    Ok(row.id)
}

/// A record loaded as history has ended before it was registered: its end needs no
/// announcement of its own (its registration was published).
pub fn mark_expiry_published(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(designations::table.find(id))
        .set(designations::expiry_published.eq(true))
        .execute(conn)
        .map(|_| ())
}
