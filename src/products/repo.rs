use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Visibility;
use crate::db::schema::{
    certifications, designations, enterprises, product_standards, products, standards,
};
use crate::db::{contains_pattern, lower, region_prefix_pattern, DbConn};
use crate::domain::{ApplicationKind, EnterpriseStatus, ProductStatus, RecordStatus, Sector};
use crate::pagination::PageRequest;
use crate::search;
use crate::standards::repo::StandardRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = products)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
#[diesel(treat_none_as_null = true)]
pub struct ProductRow {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub brand: String,
    pub gtin: Option<String>,
    pub sector_code: Sector,
    pub category_code: String,
    pub origin_region_code: String,
    pub ingredients: String,
    pub suitable_for: Option<String>,
    pub unsuitable_for: Option<String>,
    pub is_new_product: bool,
    pub launched_on: Option<NaiveDate>,
    pub status: ProductStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub enterprise_id: Option<String>,
    pub sector: Option<Sector>,
    pub region_code: Option<String>,
    pub q: Option<String>,
    pub is_new_product: Option<bool>,
    /// Products holding a current (valid, unexpired) certificate of this kind.
    pub certification_kind: Option<ApplicationKind>,
    /// Products holding an active, unexpired designation of this kind.
    pub designation_kind: Option<ApplicationKind>,
    /// Canonical code of a declared standard.
    pub standard_code: Option<String>,
    /// Products authorised to use this GI's mark.
    pub geographical_indication_id: Option<String>,
    pub launched_from: Option<NaiveDate>,
    pub launched_to: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &ProductFilter,
    page: &PageRequest,
) -> QueryResult<Vec<ProductRow>> {
    let mut q = products::table
        .select(ProductRow::as_select())
        .order(products::id.asc())
        .limit(page.fetch())
        .into_boxed();
    // A correlated EXISTS (not IN): both planners can then walk the id order and stop at the
    // page size, instead of collecting every row of every active enterprise first.
    let active = || {
        diesel::dsl::exists(
            enterprises::table
                .filter(enterprises::id.eq(products::enterprise_id))
                .filter(enterprises::status.eq(EnterpriseStatus::Active)),
        )
    };
    match vis {
        Visibility::All => {}
        Visibility::Public => q = q.filter(active()),
        Visibility::PublicOr(own) => {
            q = q.filter(active().or(products::enterprise_id.eq(own.clone())))
        }
    }
    if let Some(e) = &f.enterprise_id {
        q = q.filter(products::enterprise_id.eq(e.clone()));
    }
    if let Some(s) = f.sector {
        q = q.filter(products::sector_code.eq(s));
    }
    if let Some(r) = &f.region_code {
        q = q.filter(products::origin_region_code.like(region_prefix_pattern(r)));
    }
    if let Some(n) = f.is_new_product {
        q = q.filter(products::is_new_product.eq(n));
    }
    if let Some(text) = &f.q {
        // The index finds the candidates, LIKE keeps the exact substring matches.
        let grams = search::query_grams(text);
        q = q.filter(search::matching(
            conn,
            search::Entity::Product,
            "products.id",
            &grams,
        )?);
        if !search::grams_decide(text) {
            let p = contains_pattern(text);
            q = q.filter(
                lower(products::name)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(products::brand).like(p).escape('\\')),
            );
        }
    }
    let today = crate::clock::today();
    if let Some(k) = f.certification_kind {
        let holders = certifications::table
            .filter(certifications::kind.eq(k))
            .filter(certifications::status.eq(RecordStatus::Valid))
            .filter(certifications::expires_on.ge(today))
            .select(certifications::product_id);
        q = q.filter(products::id.eq_any(holders));
    }
    if let Some(k) = f.designation_kind {
        let holders = designations::table
            .filter(designations::kind.eq(k))
            .filter(designations::status.eq(RecordStatus::Active))
            .filter(
                designations::valid_until
                    .is_null()
                    .or(designations::valid_until.ge(today)),
            )
            .filter(designations::product_id.is_not_null())
            .select(designations::product_id.assume_not_null());
        q = q.filter(products::id.eq_any(holders));
    }
    if let Some(g) = &f.geographical_indication_id {
        let holders = designations::table
            .filter(designations::geographical_indication_id.eq(g.clone()))
            .filter(designations::kind.eq(ApplicationKind::GiProduct))
            .filter(designations::status.eq(RecordStatus::Active))
            .filter(
                designations::valid_until
                    .is_null()
                    .or(designations::valid_until.ge(today)),
            )
            .filter(designations::product_id.is_not_null())
            .select(designations::product_id.assume_not_null());
        q = q.filter(products::id.eq_any(holders));
    }
    if let Some(code) = &f.standard_code {
        let declaring = product_standards::table
            .inner_join(standards::table)
            .filter(standards::code.eq(code.clone()))
            .select(product_standards::product_id);
        q = q.filter(products::id.eq_any(declaring));
    }
    if let Some(d) = f.launched_from {
        q = q.filter(products::launched_on.ge(d));
    }
    if let Some(d) = f.launched_to {
        q = q.filter(products::launched_on.le(d));
    }
    if let Some(after) = &page.after {
        q = q.filter(products::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ProductRow>> {
    products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_gtin(conn: &mut DbConn, gtin: &str) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::gtin.eq(gtin))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &ProductRow) -> QueryResult<()> {
    diesel::insert_into(products::table)
        .values(row)
        .execute(conn)?;
    index(conn, std::slice::from_ref(row))
}

/// Writes the products' search documents (name and brand).
pub fn index(conn: &mut DbConn, rows: &[ProductRow]) -> QueryResult<()> {
    let docs: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| (r.id.clone(), search::document_grams(&[&r.name, &r.brand])))
        .collect();
    search::index(conn, search::Entity::Product, &docs)
}

pub fn update_guarded(conn: &mut DbConn, row: &ProductRow, version: i32) -> QueryResult<usize> {
    let n = diesel::update(
        products::table
            .filter(products::id.eq(&row.id))
            .filter(products::version.eq(version)),
    )
    .set(row)
    .execute(conn)?;
    if n == 1 {
        index(conn, std::slice::from_ref(row))?;
    }
    Ok(n)
}

pub fn declared_standards(
    conn: &mut DbConn,
    product_id: &str,
) -> QueryResult<Vec<(StandardRow, NaiveDate)>> {
    product_standards::table
        .inner_join(standards::table)
        .filter(product_standards::product_id.eq(product_id))
        .order(standards::code.asc())
        .select((StandardRow::as_select(), product_standards::declared_on))
        .load(conn)
}

pub fn is_declared(conn: &mut DbConn, product_id: &str, standard_id: &str) -> QueryResult<bool> {
    let n: i64 = product_standards::table
        .filter(product_standards::product_id.eq(product_id))
        .filter(product_standards::standard_id.eq(standard_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn declare(
    conn: &mut DbConn,
    product_id: &str,
    standard_id: &str,
    on: NaiveDate,
) -> QueryResult<()> {
    diesel::insert_into(product_standards::table)
        .values((
            product_standards::product_id.eq(product_id),
            product_standards::standard_id.eq(standard_id),
            product_standards::declared_on.eq(on),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn undeclare(conn: &mut DbConn, product_id: &str, standard_id: &str) -> QueryResult<usize> {
    diesel::delete(
        product_standards::table
            .filter(product_standards::product_id.eq(product_id))
            .filter(product_standards::standard_id.eq(standard_id)),
    )
    .execute(conn)
}

/// What a list item says beside the product, for a page of products: the holder's name and
/// the kinds of its live certifications and designations (one query each, not one per row).
pub struct ListExtras {
    pub enterprise_names: std::collections::HashMap<String, String>,
    /// (product id, kind) of valid, unexpired certifications.
    pub certifications: Vec<(String, ApplicationKind)>,
    /// (product id, kind) of active, unexpired designations.
    pub designations: Vec<(String, ApplicationKind)>,
}

pub fn list_extras(conn: &mut DbConn, rows: &[ProductRow]) -> QueryResult<ListExtras> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut enterprise_ids: Vec<&str> = rows.iter().map(|r| r.enterprise_id.as_str()).collect();
    enterprise_ids.sort_unstable();
    enterprise_ids.dedup();
    let today = crate::clock::today();
    let enterprise_names = enterprises::table
        .filter(enterprises::id.eq_any(&enterprise_ids))
        .select((enterprises::id, enterprises::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let certifications = certifications::table
        .filter(certifications::product_id.eq_any(&ids))
        .filter(certifications::status.eq(RecordStatus::Valid))
        .filter(certifications::expires_on.ge(today))
        .select((certifications::product_id, certifications::kind))
        .distinct()
        .load(conn)?;
    let designations = designations::table
        .filter(designations::product_id.eq_any(&ids))
        .filter(designations::status.eq(RecordStatus::Active))
        .filter(
            designations::valid_until
                .is_null()
                .or(designations::valid_until.ge(today)),
        )
        .select((
            designations::product_id.assume_not_null(),
            designations::kind,
        ))
        .distinct()
        .load(conn)?;
    Ok(ListExtras {
        enterprise_names,
        certifications,
        designations,
    })
}

/// Every product of an enterprise (a bulk import matches its rows against them).
pub fn of_enterprise(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<ProductRow>> {
    products::table
        .filter(products::enterprise_id.eq(enterprise_id))
        .order(products::id.asc())
        .select(ProductRow::as_select())
        .load(conn)
}

/// The products holding any of `gtins`: (GTIN, enterprise id), a thousand GTINs per query.
pub fn gtin_holders(conn: &mut DbConn, gtins: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in gtins.chunks(1000) {
        let rows: Vec<(Option<String>, String)> = products::table
            .filter(products::gtin.eq_any(chunk))
            .select((products::gtin, products::enterprise_id))
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(|(g, e)| Some((g?, e))));
    }
    Ok(out)
}

/// An enterprise's product of this name, the oldest first when several share it.
pub fn find_by_name(
    conn: &mut DbConn,
    enterprise_id: &str,
    name: &str,
) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::enterprise_id.eq(enterprise_id))
        .filter(products::name.eq(name))
        .order(products::id.asc())
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts many products with their search documents (COPY on PostgreSQL).
pub fn insert_many(conn: &mut DbConn, rows: &[ProductRow]) -> QueryResult<()> {
    crate::bulk_insert!(conn, products::table, rows)?;
    index(conn, rows)
}

/// The (GTIN, name, brand) of an enterprise's products holding one of `gtins` or named one of
/// `names`: what a batch of imported rows may find registered already.
pub fn existing_keys(
    conn: &mut DbConn,
    enterprise_id: &str,
    gtins: &[String],
    names: &[String],
) -> QueryResult<Vec<(Option<String>, String, String)>> {
    let mut out = Vec::new();
    for chunk in gtins.chunks(1000) {
        out.extend(
            products::table
                .filter(products::enterprise_id.eq(enterprise_id))
                .filter(products::gtin.eq_any(chunk))
                .select((products::gtin, products::name, products::brand))
                .load::<(Option<String>, String, String)>(conn)?,
        );
    }
    for chunk in names.chunks(1000) {
        out.extend(
            products::table
                .filter(products::enterprise_id.eq(enterprise_id))
                .filter(products::gtin.is_null())
                .filter(products::name.eq_any(chunk))
                .select((products::gtin, products::name, products::brand))
                .load::<(Option<String>, String, String)>(conn)?,
        );
    }
    Ok(out)
}
