//! `q`: substring search over names and brands, Chinese included, served by an n-gram index on
//! both backends rather than by reading every row.
//!
//! A text is indexed as the unigrams and bigrams of its runs of letters and digits, lower-cased
//! (`柴达木枸杞` → 柴 达 木 枸 杞 柴达 达木 木枸 枸杞). A query asks for the bigrams of each of its
//! runs, or the letter itself for a one-letter run: every substring match has them all, so the
//! index narrows the rows to candidates and the `LIKE` beside it keeps the exact matches. A
//! query with no letter or digit matches nothing. One- and two-character queries, which
//! trigram indexes cannot serve, are single index look-ups here.
//!
//! The index is `search_docs` (one row per product or enterprise): on PostgreSQL its `grams`
//! are a `TEXT[]` under a GIN index; on SQLite they are hex-encoded tokens in a text column
//! behind an FTS5 index (`search_index`, external content, kept in step by triggers).

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};

use crate::db::{DbConn, MultiBackend};

/// What a search document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Product,
    Enterprise,
}

impl Entity {
    fn as_str(self) -> &'static str {
        match self {
            Entity::Product => "product",
            Entity::Enterprise => "enterprise",
        }
    }
}

/// Lower-cased runs of letters and digits.
fn runs(text: &str) -> Vec<Vec<char>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            run.push(c);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// The grams a document is indexed under: every letter and every pair of neighbours.
pub fn document_grams(texts: &[&str]) -> Vec<String> {
    let mut grams = BTreeSet::new();
    for run in texts.iter().flat_map(|t| runs(t)) {
        grams.extend(run.iter().map(char::to_string));
        grams.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
    }
    grams.into_iter().collect()
}

/// The grams every match of `q` has; empty when `q` has no letter or digit.
pub fn query_grams(q: &str) -> Vec<String> {
    let mut grams = BTreeSet::new();
    for run in runs(q) {
        if run.len() == 1 {
            grams.insert(run[0].to_string());
        } else {
            grams.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    grams.into_iter().collect()
}

/// Whether the index alone decides a match of `q`: `q` is one run of one or two letters or
/// digits, so a document has its gram exactly when its name or brand contains `q` (folded to
/// lower case). Longer terms, and terms with spaces or punctuation, also need the `LIKE` that
/// checks the exact substring. Leaving that `LIKE` out when it adds nothing also keeps the
/// planner from taking it for a rare filter and reading every row for it.
pub fn grams_decide(q: &str) -> bool {
    let q = q.trim();
    let n = q.chars().count();
    (1..=2).contains(&n) && q.chars().all(char::is_alphanumeric)
}

/// SQLite's FTS5 tokens: a gram as lower-case hex, so no tokenizer rule can split or fold it.
fn token(gram: &str) -> String {
    hex::encode(gram.as_bytes())
}

/// At most this many candidates are fetched from the index for a rare term.
const RARE: i64 = 2000;
/// A gram in more than this share of documents, by PostgreSQL's statistics, is common.
const COMMON_SHARE: f64 = 0.002;

/// The filter on `id_column` (the listed table's qualified id, `products.id`) keeping the rows
/// whose document has every gram.
///
/// How it is written decides the plan, so it depends on how common the term is. A rare term
/// (on PostgreSQL, one with a gram outside the planner's most common elements or below
/// `COMMON_SHARE`) is looked up in the index first, and the list then fetches its at most
/// `RARE` candidates by primary key: a term nobody has costs one index probe. A common term is
/// a semi-join the planner walks in id order, stopping at the page size. SQLite's planner
/// needs no help: its filter is always the semi-join.
pub fn matching<T: 'static>(
    conn: &mut DbConn,
    entity: Entity,
    id_column: &'static str,
    grams: &[String],
) -> QueryResult<Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>> {
    if grams.is_empty() {
        return Ok(Box::new(sql::<Bool>("1 = 0")));
    }
    let head = format!(
        "{id_column} IN (SELECT entity_id FROM search_docs WHERE entity = '{}' AND ",
        entity.as_str()
    );
    let joined = grams.join(" ");
    match conn {
        DbConn::Pg(c) => {
            if !common_by_statistics(c, grams)? {
                let ids = candidates(c, entity, &joined)?;
                if ids.len() as i64 <= RARE {
                    return Ok(Box::new(
                        sql::<Bool>(&format!("{id_column} = ANY(string_to_array("))
                            .bind::<Text, _>(ids.join(","))
                            .sql(", ','))"),
                    ));
                }
            }
            Ok(Box::new(
                sql::<Bool>(&format!("{head}grams @> string_to_array("))
                    .bind::<Text, _>(joined)
                    .sql(", ' '))"),
            ))
        }
        DbConn::Sqlite(_) => Ok(Box::new(
            sql::<Bool>(&format!(
                "{head}doc IN (SELECT rowid FROM search_index WHERE search_index MATCH "
            ))
            .bind::<Text, _>(
                grams
                    .iter()
                    .map(|g| token(g))
                    .collect::<Vec<_>>()
                    .join(" AND "),
            )
            .sql("))"),
        )),
    }
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    yes: bool,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    entity_id: String,
}

/// Whether every gram is among the index's most common elements above `COMMON_SHARE`, by the
/// statistics `ANALYZE` keeps (`pg_stats.most_common_elems`).
fn common_by_statistics(conn: &mut diesel::PgConnection, grams: &[String]) -> QueryResult<bool> {
    let flag: Option<Flag> = diesel::sql_query(
        "SELECT count(DISTINCT e.gram) = cardinality($1::text[]) AS yes \
         FROM pg_stats s, \
              unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(gram, freq) \
         WHERE s.tablename = 'search_docs' AND s.attname = 'grams' \
           AND e.gram = ANY($1::text[]) AND e.freq >= $2",
    )
    .bind::<Array<Text>, _>(grams)
    .bind::<diesel::sql_types::Double, _>(COMMON_SHARE)
    .get_result(conn)
    .optional()?;
    Ok(flag.is_some_and(|f| f.yes))
}

/// Up to `RARE + 1` documents having every gram (from the GIN index).
fn candidates(
    conn: &mut diesel::PgConnection,
    entity: Entity,
    grams: &str,
) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(
        "SELECT entity_id FROM search_docs \
         WHERE entity = $1 AND grams @> string_to_array($2, ' ') LIMIT $3",
    )
    .bind::<Text, _>(entity.as_str())
    .bind::<Text, _>(grams)
    .bind::<diesel::sql_types::BigInt, _>(RARE + 1)
    .load::<Id>(conn)?
    .into_iter()
    .map(|i| i.entity_id)
    .collect())
}

/// Indexes (or re-indexes) documents: `(entity id, grams)`. Call inside the write's transaction.
pub fn index(conn: &mut DbConn, entity: Entity, docs: &[(String, Vec<String>)]) -> QueryResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Pg(c) => {
            let ids: Vec<&str> = docs.iter().map(|(id, _)| id.as_str()).collect();
            let grams: Vec<String> = docs.iter().map(|(_, g)| g.join(" ")).collect();
            diesel::sql_query(
                "INSERT INTO search_docs (entity, entity_id, grams) \
                 SELECT $1, d.id, string_to_array(d.g, ' ') FROM unnest($2::text[], $3::text[]) AS d(id, g) \
                 ON CONFLICT (entity, entity_id) DO UPDATE SET grams = excluded.grams",
            )
            .bind::<Text, _>(entity.as_str())
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<Text>, _>(grams)
            .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for (id, grams) in docs {
                let tokens: Vec<String> = grams.iter().map(|g| token(g)).collect();
                diesel::sql_query(
                    "INSERT INTO search_docs (entity, entity_id, grams) VALUES (?, ?, ?) \
                     ON CONFLICT (entity, entity_id) DO UPDATE SET grams = excluded.grams",
                )
                .bind::<Text, _>(entity.as_str())
                .bind::<Text, _>(id)
                .bind::<Text, _>(tokens.join(" "))
                .execute(c)?;
            }
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Unindexed {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
}

/// Indexes the products and enterprises that have no search document yet (rows written before
/// the index existed); returns how many. Run at start, after the migrations.
pub fn backfill(conn: &mut DbConn) -> QueryResult<usize> {
    let mut total = 0;
    for (entity, select) in [
        (
            Entity::Product,
            "SELECT p.id AS id, p.name AS a, COALESCE(p.brand, '') AS b FROM products p",
        ),
        (
            Entity::Enterprise,
            "SELECT e.id AS id, e.name AS a, '' AS b FROM enterprises e",
        ),
    ] {
        let alias = if entity == Entity::Product { "p" } else { "e" };
        let query = format!(
            "{select} WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.entity = '{}' \
             AND s.entity_id = {alias}.id) ORDER BY {alias}.id LIMIT 2000",
            entity.as_str()
        );
        loop {
            let rows: Vec<Unindexed> = diesel::sql_query(&query).load(conn)?;
            if rows.is_empty() {
                break;
            }
            let docs: Vec<(String, Vec<String>)> = rows
                .into_iter()
                .map(|r| {
                    let grams = document_grams(&[&r.a, &r.b]);
                    (r.id, grams)
                })
                .collect();
            total += docs.len();
            crate::db::write_tx(conn, |conn| index(conn, entity, &docs))?;
        }
    }
    Ok(total)
}

/// Rebuilds SQLite's FTS5 index from `search_docs` (after a restore, say); PostgreSQL's GIN
/// index needs nothing of the kind.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(_) => Ok(()),
        DbConn::Sqlite(c) => {
            c.batch_execute("INSERT INTO search_index(search_index) VALUES ('rebuild')")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_alone_decides_one_and_two_character_terms() {
        assert!(grams_decide("枸"));
        assert!(grams_decide(" 枸杞 "));
        assert!(grams_decide("ab"));
        assert!(
            !grams_decide("枸杞原"),
            "three characters need the exact substring"
        );
        assert!(!grams_decide("5%"), "punctuation is matched literally");
        assert!(!grams_decide("a b"));
        assert!(!grams_decide(""));
    }

    #[test]
    fn documents_are_indexed_by_letters_and_neighbouring_pairs() {
        assert_eq!(
            document_grams(&["枸杞原浆", "QH-1"]),
            ["1", "q", "qh", "h", "原", "原浆", "杞", "杞原", "枸", "枸杞", "浆"]
                .iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_query_needs_what_every_match_has() {
        assert_eq!(query_grams("杞"), vec!["杞"]);
        assert_eq!(query_grams("枸杞原"), vec!["杞原", "枸杞"]);
        // Runs are searched apart: no pair spans the space.
        assert_eq!(query_grams("Goji 枸"), vec!["go", "ji", "oj", "枸"]);
        assert!(query_grams(" %_- ").is_empty());
        // Every query gram of a substring is a document gram of the text.
        let doc: BTreeSet<String> = document_grams(&["柴达木 Red-Goji 枸杞"])
            .into_iter()
            .collect();
        for q in ["达木", "d-go", "木", "goji 枸", "柴达木"] {
            for g in query_grams(q) {
                assert!(doc.contains(&g), "{q}: {g}");
            }
        }
    }

    #[test]
    fn tokens_survive_any_tokenizer() {
        assert_eq!(token("枸杞"), "e69eb8e69d9e");
        assert!(token("a-b").chars().all(|c| c.is_ascii_hexdigit()));
    }
}
