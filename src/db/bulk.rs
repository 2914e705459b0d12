//! Loading many rows into PostgreSQL the way its manual advises ("Populating a Database"): the
//! rows go in with `COPY` (`bulk_insert!`), and for a load into tables the caller holds for
//! itself, their secondary indexes and foreign keys are dropped first and rebuilt after —
//! building an index once costs far less than growing it row by row, and one join checks a
//! foreign key for every row at once.
//!
//! Call [`defer`] and [`Deferred::restore`] inside one transaction: PostgreSQL's DDL is
//! transactional, so a load that fails or is killed leaves every index and constraint as it
//! was. The transaction holds the tables locked until it ends.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;

#[derive(QueryableByName)]
struct Ddl {
    #[diesel(sql_type = Text)]
    drop: String,
    #[diesel(sql_type = Text)]
    create: String,
}

/// What [`defer`] dropped, to be rebuilt.
#[must_use = "restore the indexes and foreign keys before the transaction commits"]
pub struct Deferred {
    create: Vec<String>,
}

/// Drops the foreign keys of `tables` and their indexes that back no constraint (primary and
/// unique keys stay: they are the load's own checks).
pub fn defer(conn: &mut DbConn, tables: &[&str]) -> QueryResult<Deferred> {
    let DbConn::Pg(conn) = conn else {
        // SQLite cannot drop a foreign key, and its batched inserts need no help.
        return Ok(Deferred { create: Vec::new() });
    };
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let foreign_keys: Vec<Ddl> = diesel::sql_query(
        "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop, \
                format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, \
                       pg_get_constraintdef(oid)) AS create \
         FROM pg_constraint \
         WHERE contype = 'f' AND conrelid::regclass::text = ANY($1) \
         ORDER BY conrelid::regclass::text, conname",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&tables)
    .load(conn)?;
    let indexes: Vec<Ddl> = diesel::sql_query(
        "SELECT format('DROP INDEX %s', indexrelid::regclass) AS drop, \
                pg_get_indexdef(indexrelid) AS create \
         FROM pg_index \
         WHERE indrelid::regclass::text = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid) \
         ORDER BY indexrelid::regclass::text",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&tables)
    .load(conn)?;
    let mut create = Vec::new();
    for ddl in foreign_keys.iter().chain(&indexes) {
        diesel::sql_query(&ddl.drop).execute(conn)?;
    }
    // Indexes first: a foreign key's check may use them.
    create.extend(indexes.into_iter().map(|d| d.create));
    create.extend(foreign_keys.into_iter().map(|d| d.create));
    Ok(Deferred { create })
}

impl Deferred {
    pub fn len(&self) -> usize {
        self.create.len()
    }

    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
    }

    /// Rebuilds every index and foreign key [`defer`] dropped; a row that breaks a foreign key
    /// fails the whole load.
    pub fn restore(self, conn: &mut DbConn, progress: &dyn Fn(&str)) -> QueryResult<()> {
        diesel::sql_query("SET LOCAL maintenance_work_mem = '256MB'").execute(conn)?;
        for ddl in &self.create {
            progress(&format!("rebuilding: {ddl}"));
            diesel::sql_query(ddl).execute(conn)?;
        }
        Ok(())
    }
}
