//! A product's whole public profile in one answer, for apps scanning a label.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::repo::{self, ProductRow};
use super::service::ProductView;
use crate::db::schema::enterprises;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::gis::repo::{self as gis, GiView};
use crate::records::certificates::{self as certs, CertView};
use crate::records::designations::{self as designations_repo, DesignationView};
use crate::standards::repo::{views as standard_views, StandardView};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnterpriseSummary {
    pub id: String,
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub uscc: String,
    #[schema(example = "632800")]
    pub region_code: String,
    #[schema(example = "active")]
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductProfile {
    #[serde(flatten)]
    pub product: ProductView,
    pub enterprise: EnterpriseSummary,
    /// The standards it executes.
    pub standards: Vec<StandardView>,
    /// Certificates that are valid today.
    pub certifications: Vec<CertView>,
    /// Designations that are active today.
    pub designations: Vec<DesignationView>,
    /// Geographical indications whose mark it may use.
    pub geographical_indications: Vec<GiView>,
}

impl ProductProfile {
    /// The entities the profile was built from (`crate::cache`). A record granted later is
    /// followed to its product by the cache itself.
    pub fn depends_on(&self) -> Vec<String> {
        use crate::cache::entity;
        let mut deps = vec![
            entity("product", &self.product.id),
            entity("enterprise", &self.enterprise.id),
        ];
        deps.extend(self.standards.iter().map(|s| entity("standard", &s.id)));
        deps.extend(
            self.certifications
                .iter()
                .map(|c| entity("certification", &c.id)),
        );
        deps.extend(
            self.designations
                .iter()
                .map(|d| entity("designation", &d.id)),
        );
        deps
    }
}

pub fn build(conn: &mut DbConn, row: ProductRow) -> ApiResult<ProductProfile> {
    let today = crate::clock::today();
    let (id, name, uscc, region_code, status): (String, String, String, String, String) =
        enterprises::table
            .find(&row.enterprise_id)
            .select((
                enterprises::id,
                enterprises::name,
                enterprises::uscc,
                enterprises::region_code,
                enterprises::status,
            ))
            .first(conn)
            .optional()?
            .ok_or(ApiError::NotFound)?;
    let declared: Vec<_> = repo::declared_standards(conn, &row.id)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let standards = standard_views(conn, &declared)?;
    let cert_rows = certs::live_for_product(conn, &row.id, today)?;
    let des_rows = designations_repo::live_for_product(conn, &row.id, today)?;
    let gi_ids: Vec<String> = des_rows
        .iter()
        .filter_map(|d| d.geographical_indication_id.clone())
        .collect();
    let gi_rows: Vec<gis::GiRow> = crate::db::schema::geographical_indications::table
        .filter(crate::db::schema::geographical_indications::id.eq_any(&gi_ids))
        .select(gis::GiRow::as_select())
        .load(conn)?;
    Ok(ProductProfile {
        product: ProductView::from(&row),
        enterprise: EnterpriseSummary {
            id,
            name,
            uscc,
            region_code,
            status,
        },
        standards,
        certifications: certs::views(conn, &cert_rows)?,
        designations: designations_repo::views(conn, &des_rows)?,
        geographical_indications: gis::views(conn, gi_rows)?,
    })
}
