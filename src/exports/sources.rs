//! What each export reads: one page at a time, through the features' own list queries, as an
//! anonymous caller sees them.

use serde_json::Value;

use crate::auth::policy::{self, Action, Target, Visibility};
use crate::db::DbConn;
use crate::enterprises::repo::EnterpriseFilter;
use crate::error::{ApiError, ApiResult};
use crate::pagination::PageRequest;
use crate::products::repo::ProductFilter;
use crate::records::certificates::{CertFilter, CertRow};
use crate::records::designations::{DesignationFilter, DesignationRow};
use crate::standards::repo::StandardFilter;

/// One public list, with the filter asked for.
#[derive(Debug, Clone)]
pub enum Source {
    Products(ProductFilter),
    Enterprises(EnterpriseFilter),
    Certifications(CertFilter),
    Designations(DesignationFilter),
    Standards(StandardFilter),
}

/// A page of items (as the list serialises them) and the id to continue after, if more follow.
pub type Page = (Vec<Value>, Option<String>);

impl Source {
    /// The collection's name, as in its path and in file names.
    pub fn name(&self) -> &'static str {
        match self {
            Source::Products(_) => "products",
            Source::Enterprises(_) => "enterprises",
            Source::Certifications(_) => "certifications",
            Source::Designations(_) => "designations",
            Source::Standards(_) => "standards",
        }
    }

    /// The columns of a table export: the list item's fields, in the order a reader expects
    /// (identity first, times last). `tests/api/exports.rs` checks they cover every field.
    pub fn columns(&self) -> &'static [&'static str] {
        match self {
            Source::Products(_) => &[
                "id",
                "enterprise_id",
                "enterprise_name",
                "name",
                "brand",
                "gtin",
                "sector",
                "category",
                "origin_region_code",
                "ingredients",
                "suitable_for",
                "unsuitable_for",
                "is_new_product",
                "launched_on",
                "status",
                "certifications",
                "designations",
                "created_at",
                "updated_at",
                "version",
            ],
            Source::Enterprises(_) => &[
                "id",
                "uscc",
                "name",
                "legal_representative",
                "region_code",
                "address",
                "sectors",
                "scale",
                "above_designated_size",
                "status",
                "on_dishonesty_list",
                "verified_at",
                "created_at",
                "updated_at",
                "version",
            ],
            Source::Certifications(_) => &[
                "id",
                "kind",
                "certificate_number",
                "enterprise_id",
                "enterprise_name",
                "product_id",
                "product_name",
                "certified",
                "current_differs",
                "current_product",
                "certification_body_id",
                "scope",
                "issued_on",
                "expires_on",
                "status",
                "application_id",
                "renews",
                "renewed_by",
                "created_at",
                "updated_at",
                "version",
            ],
            Source::Designations(_) => &[
                "id",
                "kind",
                "number",
                "enterprise_id",
                "enterprise_name",
                "product_id",
                "product_name",
                "certified",
                "current_differs",
                "current_product",
                "geographical_indication_id",
                "granted_year",
                "valid_from",
                "valid_until",
                "status",
                "application_id",
                "renews",
                "renewed_by",
                "created_at",
                "updated_at",
                "version",
            ],
            Source::Standards(_) => &[
                "id",
                "code",
                "prefix",
                "number",
                "year",
                "title",
                "title_en",
                "level",
                "status",
                "replaced_by",
                "effective_on",
                "in_force",
                "owner_enterprise_id",
                "text_sha256",
                "issuer",
                "created_at",
                "updated_at",
                "version",
            ],
        }
    }

    /// The page after `after` (from the start when `None`), as the public list item.
    pub fn page(&self, conn: &mut DbConn, after: Option<String>, size: i64) -> ApiResult<Page> {
        let page = PageRequest { limit: size, after };
        let vis = Visibility::Public;
        let (items, more) = match self {
            Source::Products(f) => {
                let rows = crate::products::repo::list(conn, &vis, f, &page)?;
                let (rows, next) = page.finish(rows, |r| &r.id);
                let extras = crate::products::repo::list_extras(conn, &rows)?;
                let items = crate::products::routes::ProductListItem::page(&rows, &extras);
                (to_values(&items)?, next.is_some())
            }
            Source::Enterprises(f) => {
                let rows = crate::enterprises::repo::list(conn, &vis, f, &page)?;
                let (rows, next) = page.finish(rows, |r| &r.id);
                // As for any anonymous caller: the policy decides, and shows no private field.
                let views = crate::enterprises::service::views(conn, &rows, |r| {
                    policy::allows(
                        None,
                        Action::ReadPrivate,
                        Target::owned_by(&r.id, Some(r.status)),
                    )
                })?;
                (to_values(&views)?, next.is_some())
            }
            Source::Certifications(f) => {
                let (views, next) = crate::records::list::<CertRow>(conn, None, f, &page)?;
                (to_values(&views)?, next.is_some())
            }
            Source::Designations(f) => {
                let (views, next) = crate::records::list::<DesignationRow>(conn, None, f, &page)?;
                (to_values(&views)?, next.is_some())
            }
            Source::Standards(f) => {
                let rows = crate::standards::repo::list(conn, f, &page)?;
                let (rows, next) = page.finish(rows, |r| &r.id);
                let views = crate::standards::repo::views(conn, &rows)?;
                (to_values(&views)?, next.is_some())
            }
        };
        let next = if more { last_id(&items) } else { None };
        Ok((items, next))
    }
}

fn to_values<T: serde::Serialize>(items: &[T]) -> ApiResult<Vec<Value>> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).map_err(|e| ApiError::Internal(e.to_string())))
        .collect()
}

fn last_id(items: &[Value]) -> Option<String> {
    items.last()?.get("id")?.as_str().map(str::to_owned)
}
