use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::policy::Visibility;
use crate::db::schema::{enterprise_sectors, enterprises};
use crate::db::{contains_pattern, lower, region_prefix_pattern, DbConn};
use crate::domain::{EnterpriseStatus, Scale, Sector};
use crate::pagination::PageRequest;
use crate::search;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = enterprises)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
#[diesel(treat_none_as_null = true)]
pub struct EnterpriseRow {
    pub id: String,
    pub uscc: String,
    pub uscc_override_reason: Option<String>,
    pub name: String,
    pub legal_representative: String,
    pub region_code: String,
    pub address: String,
    pub scale: Scale,
    pub above_designated_size: bool,
    pub contact_phone: String,
    pub contact_email: String,
    pub status: EnterpriseStatus,
    pub verified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

#[derive(Debug, Default, Clone)]
pub struct EnterpriseFilter {
    pub region_code: Option<String>,
    pub sector: Option<Sector>,
    pub status: Option<EnterpriseStatus>,
    pub q: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    vis: &Visibility,
    f: &EnterpriseFilter,
    page: &PageRequest,
) -> QueryResult<Vec<EnterpriseRow>> {
    let mut q = enterprises::table
        .select(EnterpriseRow::as_select())
        .order(enterprises::id.asc())
        .limit(page.fetch())
        .into_boxed();
    match vis {
        Visibility::All => {}
        Visibility::Public => q = q.filter(enterprises::status.eq(EnterpriseStatus::Active)),
        Visibility::PublicOr(own) => {
            q = q.filter(
                enterprises::status
                    .eq(EnterpriseStatus::Active)
                    .or(enterprises::id.eq(own.clone())),
            )
        }
    }
    if let Some(r) = &f.region_code {
        q = q.filter(enterprises::region_code.like(region_prefix_pattern(r)));
    }
    if let Some(s) = &f.sector {
        q = q.filter(
            enterprises::id.eq_any(
                enterprise_sectors::table
                    .filter(enterprise_sectors::sector_code.eq(*s))
                    .select(enterprise_sectors::enterprise_id),
            ),
        );
    }
    if let Some(s) = f.status {
        q = q.filter(enterprises::status.eq(s));
    }
    if let Some(text) = &f.q {
        // The index finds the candidates, LIKE keeps the exact substring matches (when the
        // index alone does not decide them).
        let grams = search::query_grams(text);
        q = q.filter(search::matching(
            conn,
            search::Entity::Enterprise,
            "enterprises.id",
            &grams,
        )?);
        if !search::grams_decide(text) {
            q = q.filter(
                lower(enterprises::name)
                    .like(contains_pattern(text))
                    .escape('\\'),
            );
        }
    }
    if let Some(after) = &page.after {
        q = q.filter(enterprises::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EnterpriseRow>> {
    enterprises::table
        .find(id)
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()
}

/// The names and USCCs of these enterprises, by id (one query for a page of rows that name them).
pub fn names_of(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, (String, String)>> {
    let rows: Vec<(String, String, String)> = enterprises::table
        .filter(enterprises::id.eq_any(ids))
        .select((enterprises::id, enterprises::name, enterprises::uscc))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, uscc)| (id, (name, uscc)))
        .collect())
}

/// An enterprise's status: whether what it owns is public.
pub fn status(conn: &mut DbConn, id: &str) -> QueryResult<Option<EnterpriseStatus>> {
    enterprises::table
        .find(id)
        .select(enterprises::status)
        .first(conn)
        .optional()
}

/// The live holder of a USCC: a rejected or expired registration no longer holds it.
pub fn find_by_uscc(conn: &mut DbConn, uscc: &str) -> QueryResult<Option<EnterpriseRow>> {
    enterprises::table
        .filter(enterprises::uscc.eq(uscc))
        .filter(enterprises::status.ne_all([EnterpriseStatus::Rejected, EnterpriseStatus::Expired]))
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &EnterpriseRow, sectors: &[Sector]) -> QueryResult<()> {
    diesel::insert_into(enterprises::table)
        .values(row)
        .execute(conn)?;
    index(conn, std::slice::from_ref(row))?;
    replace_sectors(conn, &row.id, sectors)
}

/// Writes the enterprises' search documents (their names).
pub fn index(conn: &mut DbConn, rows: &[EnterpriseRow]) -> QueryResult<()> {
    let docs: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| (r.id.clone(), search::document_grams(&[&r.name])))
        .collect();
    search::index(conn, search::Entity::Enterprise, &docs)
}

pub fn replace_sectors(conn: &mut DbConn, id: &str, sectors: &[Sector]) -> QueryResult<()> {
    diesel::delete(enterprise_sectors::table.filter(enterprise_sectors::enterprise_id.eq(id)))
        .execute(conn)?;
    for s in sectors {
        diesel::insert_into(enterprise_sectors::table)
            .values((
                enterprise_sectors::enterprise_id.eq(id),
                enterprise_sectors::sector_code.eq(s),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Sectors of each given enterprise, in one query.
pub fn sectors_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, Sector)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    enterprise_sectors::table
        .filter(enterprise_sectors::enterprise_id.eq_any(ids))
        .select((
            enterprise_sectors::enterprise_id,
            enterprise_sectors::sector_code,
        ))
        .order(enterprise_sectors::sector_code.asc())
        .load(conn)
}

/// Writes the whole row if it is still at `version` (the row carries version + 1).
pub fn update_guarded(conn: &mut DbConn, row: &EnterpriseRow, version: i32) -> QueryResult<usize> {
    let n = diesel::update(
        enterprises::table
            .filter(enterprises::id.eq(&row.id))
            .filter(enterprises::version.eq(version)),
    )
    .set(row)
    .execute(conn)?;
    if n == 1 {
        index(conn, std::slice::from_ref(row))?;
    }
    Ok(n)
}

/// Pending registrations filed before `before`, oldest first.
pub fn pending_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<EnterpriseRow>> {
    enterprises::table
        .filter(enterprises::status.eq(EnterpriseStatus::Pending))
        .filter(enterprises::created_at.lt(before))
        .order(enterprises::created_at.asc())
        .select(EnterpriseRow::as_select())
        .load(conn)
}
