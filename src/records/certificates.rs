//! Certificates (green food, organic, halal …): issued by an external body, registered here when
//! the responsible agency approves the application that carries them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::certified::{Certified, Current};
use super::{Record, StatusChange};
use crate::audit::AuditCtx;
use crate::auth::policy::Visibility;
use crate::db::schema::{certifications, enterprises, products};
use crate::db::{region_prefix_pattern, DbConn};
use crate::domain::{ApplicationKind, EnterpriseStatus, RecordStatus, RecordType};
use crate::error::{ApiError, ApiResult};
use crate::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certifications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
pub struct CertRow {
    pub id: String,
    pub application_id: Option<String>,
    pub kind: ApplicationKind,
    pub enterprise_id: String,
    pub product_id: String,
    pub certificate_number: String,
    pub certification_body_id: Option<String>,
    pub scope: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: RecordStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    /// What it certifies, fixed when registered (JSON of `records::Certified`).
    pub certified: String,
}

#[derive(Debug, Default, Clone)]
pub struct CertFilter {
    pub kind: Option<ApplicationKind>,
    /// valid / suspended / revoked / expired (expired and valid are derived from the date).
    pub status: Option<RecordStatus>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub region_code: Option<String>,
    pub valid_on: Option<NaiveDate>,
    /// Valid today and ending on or before this day (`expiring_within=DAYS` from today).
    pub expiring_by: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &CertFilter,
    page: &PageRequest,
) -> QueryResult<Vec<CertRow>> {
    let today = crate::clock::today();
    let mut q = certifications::table
        .select(CertRow::as_select())
        .order(certifications::id.asc())
        .limit(page.fetch())
        .into_boxed();
    // A correlated EXISTS (not IN): both planners can then walk the id order and stop at the
    // page size, instead of collecting every row of every active enterprise first.
    let active = || {
        diesel::dsl::exists(
            enterprises::table
                .filter(enterprises::id.eq(certifications::enterprise_id))
                .filter(enterprises::status.eq(EnterpriseStatus::Active)),
        )
    };
    match vis {
        Visibility::All => {}
        Visibility::Public => q = q.filter(active()),
        Visibility::PublicOr(own) => {
            q = q.filter(active().or(certifications::enterprise_id.eq(own.clone())))
        }
    }
    if let Some(k) = f.kind {
        q = q.filter(certifications::kind.eq(k));
    }
    match f.status {
        Some(RecordStatus::Valid) => {
            q = q
                .filter(certifications::status.eq(RecordStatus::Valid))
                .filter(certifications::expires_on.ge(today))
        }
        Some(RecordStatus::Expired) => {
            q = q
                .filter(certifications::status.eq(RecordStatus::Valid))
                .filter(certifications::expires_on.lt(today))
        }
        Some(s) => q = q.filter(certifications::status.eq(s)),
        None => {}
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(certifications::enterprise_id.eq(e.clone()));
    }
    if let Some(p) = &f.product_id {
        q = q.filter(certifications::product_id.eq(p.clone()));
    }
    if let Some(r) = &f.region_code {
        let in_region = products::table
            .filter(products::origin_region_code.like(region_prefix_pattern(r)))
            .select(products::id);
        q = q.filter(certifications::product_id.eq_any(in_region));
    }
    if let Some(by) = f.expiring_by {
        q = q
            .filter(certifications::status.eq(RecordStatus::Valid))
            .filter(certifications::expires_on.ge(today))
            .filter(certifications::expires_on.le(by));
    }
    if let Some(d) = f.valid_on {
        q = q
            .filter(certifications::issued_on.le(d))
            .filter(certifications::expires_on.ge(d))
            .filter(certifications::status.ne(RecordStatus::Revoked));
    }
    if let Some(after) = &page.after {
        q = q.filter(certifications::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CertRow>> {
    certifications::table
        .find(id)
        .select(CertRow::as_select())
        .first(conn)
        .optional()
}

/// A product's certificates in force on `today`, in id order.
pub fn live_for_product(
    conn: &mut DbConn,
    product_id: &str,
    today: NaiveDate,
) -> QueryResult<Vec<CertRow>> {
    certifications::table
        .filter(certifications::product_id.eq(product_id))
        .filter(certifications::status.eq(RecordStatus::Valid))
        .filter(certifications::expires_on.ge(today))
        .order(certifications::id.asc())
        .select(CertRow::as_select())
        .load(conn)
}

/// This product's certificates (of `kind`, or all) still in force or suspended on `today`.
pub fn live_of_kind(
    conn: &mut DbConn,
    product_id: &str,
    kind: Option<ApplicationKind>,
    today: NaiveDate,
) -> QueryResult<Vec<String>> {
    let mut q = certifications::table
        .filter(certifications::product_id.eq(product_id))
        .filter(certifications::status.eq_any([RecordStatus::Valid, RecordStatus::Suspended]))
        .filter(certifications::expires_on.ge(today))
        .select(certifications::id)
        .into_boxed();
    if let Some(k) = kind {
        q = q.filter(certifications::kind.eq(k));
    }
    q.load(conn)
}

/// The certificate a body issued under this (canonical) number, if registered.
pub fn find_by_body_number(
    conn: &mut DbConn,
    body_id: &str,
    number: &str,
) -> QueryResult<Option<CertRow>> {
    certifications::table
        .filter(certifications::certification_body_id.eq(body_id))
        .filter(certifications::certificate_number.eq(number))
        .select(CertRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Vec<CertRow>> {
    certifications::table
        .filter(certifications::certificate_number.eq(number))
        .select(CertRow::as_select())
        .load(conn)
}

/// Marks a certificate's end as announced (an imported, historical one: no news).
pub fn mark_expiry_published(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(certifications::table.find(id))
        .set(certifications::expiry_published.eq(true))
        .execute(conn)
        .map(|_| ())
}

pub fn insert(conn: &mut DbConn, row: &CertRow) -> QueryResult<()> {
    diesel::insert_into(certifications::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn set_status_guarded(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    status: RecordStatus,
) -> QueryResult<usize> {
    diesel::update(
        certifications::table
            .filter(certifications::id.eq(id))
            .filter(certifications::version.eq(version)),
    )
    .set((
        certifications::status.eq(status),
        certifications::updated_at.eq(crate::clock::now()),
        certifications::version.eq(version + 1),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertView {
    pub id: String,
    #[schema(example = "green_food")]
    pub kind: ApplicationKind,
    #[schema(example = "GF632801260012")]
    pub certificate_number: String,
    pub enterprise_id: String,
    /// The holder's name as certified.
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub enterprise_name: String,
    pub product_id: String,
    /// The product's name as certified.
    #[schema(example = "柴达木枸杞原浆")]
    pub product_name: String,
    /// What the record certifies, as registered.
    pub certified: Certified,
    /// The certified fields in which the holder or product now differs (empty when none):
    /// the record vouches for the certified values, not for the changes.
    #[schema(example = json!(["product_name"]))]
    pub current_differs: Vec<String>,
    /// The product as it is now.
    #[schema(example = "/api/v1/products/01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e60")]
    pub current_product: Option<String>,
    pub certification_body_id: Option<String>,
    pub scope: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// `valid`, `suspended`, `revoked`, or `expired` (derived from `expires_on`, never stale).
    #[schema(example = "valid")]
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
pub struct CertDetail {
    #[serde(flatten)]
    pub certification: CertView,
    pub history: Vec<StatusChange>,
}

pub fn views(conn: &mut DbConn, rows: &[CertRow]) -> QueryResult<Vec<CertView>> {
    let e: Vec<String> = rows.iter().map(|r| r.enterprise_id.clone()).collect();
    let p: Vec<String> = rows.iter().map(|r| r.product_id.clone()).collect();
    let current = Current::load(conn, &e, &p)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let (renews, renewed_by) = super::renewals::links_of(conn, &ids)?;
    let today = crate::clock::today();
    Ok(rows
        .iter()
        .map(|r| {
            let certified = Certified::parse(&r.certified);
            let now = current.facts(&r.enterprise_id, Some(&r.product_id));
            CertView {
                id: r.id.clone(),
                kind: r.kind,
                certificate_number: r.certificate_number.clone(),
                enterprise_id: r.enterprise_id.clone(),
                enterprise_name: certified.holder_name.clone(),
                product_id: r.product_id.clone(),
                product_name: certified.product_name.clone().unwrap_or_default(),
                current_differs: certified.differences(&now),
                current_product: Some(format!("/api/v1/products/{}", r.product_id)),
                certified,
                certification_body_id: r.certification_body_id.clone(),
                scope: r.scope.clone(),
                issued_on: r.issued_on,
                expires_on: r.expires_on,
                status: super::effective_status(r.status, Some(r.expires_on), today),
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

impl Record for CertRow {
    const TYPE: RecordType = RecordType::Certification;
    const LIVE: RecordStatus = RecordStatus::Valid;
    type Filter = CertFilter;
    type View = CertView;
    type Detail = CertDetail;

    fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        find(conn, id)
    }
    fn list(
        conn: &mut DbConn,
        vis: &Visibility,
        filter: &CertFilter,
        page: &PageRequest,
    ) -> QueryResult<Vec<Self>> {
        list(conn, vis, filter, page)
    }
    fn views(conn: &mut DbConn, rows: &[Self]) -> QueryResult<Vec<CertView>> {
        views(conn, rows)
    }
    fn detail(certification: CertView, history: Vec<StatusChange>) -> CertDetail {
        CertDetail {
            certification,
            history,
        }
    }
    fn detail_version(d: &CertDetail) -> i32 {
        d.certification.version
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
        &self.certificate_number
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
        Some(self.expires_on)
    }
    fn version(&self) -> i32 {
        self.version
    }
}

/// The details a certification application carries: the certificate as the body issued it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertDetails {
    pub certificate_number: String,
    pub certification_body_id: String,
    #[serde(deserialize_with = "crate::domain::dates::required")]
    pub issued_on: NaiveDate,
    #[serde(deserialize_with = "crate::domain::dates::required")]
    pub expires_on: NaiveDate,
    pub scope: String,
}

/// 409 `duplicate_certificate` when the body's number is registered already.
pub fn ensure_unregistered(conn: &mut DbConn, body_id: &str, number: &str) -> ApiResult<()> {
    match find_by_body_number(conn, body_id, number)? {
        Some(existing) => Err(ApiError::conflict_with(
            "duplicate_certificate",
            format!("certificate {number} of this certification body is registered already"),
            vec![existing.id],
        )),
        None => Ok(()),
    }
}

/// What approving a certification application registers.
pub struct NewCertificate<'a> {
    pub application_id: &'a str,
    pub kind: ApplicationKind,
    pub enterprise_id: &'a str,
    pub product_id: &'a str,
    pub details: CertDetails,
}

/// Registers a certificate, valid from now, with the first entry of its history. A number the
/// same body already registered for this kind is 409. Call inside `write_tx`.
pub fn register(conn: &mut DbConn, ctx: &AuditCtx, new: NewCertificate<'_>) -> ApiResult<String> {
    let number = crate::domain::RecordNumber::parse(&new.details.certificate_number)
        .map_err(|e| ApiError::field("details.certificate_number", "invalid_value", e.to_string()))?
        .to_string();
    ensure_unregistered(conn, &new.details.certification_body_id, &number)?;
    let now = crate::clock::now();
    let mut certified = super::certified::snapshot(conn, new.enterprise_id, Some(new.product_id))?;
    certified.scope = Some(new.details.scope.trim().to_owned());
    let row = CertRow {
        certified: certified.to_json(),
        id: uuid::Uuid::now_v7().to_string(),
        application_id: Some(new.application_id.to_owned()),
        kind: new.kind,
        enterprise_id: new.enterprise_id.to_owned(),
        product_id: new.product_id.to_owned(),
        certificate_number: number,
        certification_body_id: Some(new.details.certification_body_id),
        scope: new.details.scope.trim().to_owned(),
        issued_on: new.details.issued_on,
        expires_on: new.details.expires_on,
        status: RecordStatus::Valid,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    insert(conn, &row)?;
    super::log_status(
        conn,
        ctx,
        RecordType::Certification,
        &row.id,
        None,
        RecordStatus::Valid,
        Some("application approved"),
        now,
    )?;
    Ok(row.id)
}
