//! `migrations/sqlite` and `migrations/postgres` describe the same schema.
//!
//! Each folder is applied to a fresh, empty database through `registry::db::run_migrations`,
//! then the database is introspected (SQLite: `sqlite_master` and the `pragma_*` functions;
//! PostgreSQL: the `pg_catalog`) into one list of facts per backend: tables, columns (type
//! family, nullability, default), primary keys, foreign keys, unique constraints, indexes and
//! CHECK constraints. The two lists must be equal; on a mismatch the test prints each fact
//! that only one backend has. Both are also compared with `src/db/schema.rs`, which the code
//! compiles against.
//!
//! Without `TEST_DATABASE_URL` only the SQLite side can be built: the test then checks it
//! against `src/db/schema.rs` and says that the comparison needs PostgreSQL.
//!
//! Normalisations (everything else is compared as the database reports it):
//! - Column types are compared by family, because the dialects spell them differently:
//!   integer/int/int2/int4/int8/smallint/bigint → `integer` (SQLite stores every integer in up
//!   to 8 bytes, and `INTEGER PRIMARY KEY` must be spelled exactly so to alias the rowid: that
//!   is why `audit_log.seq` is INTEGER there and BIGINT on PostgreSQL);
//!   text/varchar/character varying/char → `text` (length limits dropped);
//!   timestamp/timestamp without time zone/timestamptz/datetime → `timestamp`;
//!   boolean/bool → `boolean`; date → `date`;
//!   double/double precision/real/float/float4/float8 → `float`.
//!   Any other type is kept as spelled, so it shows in a diff. (Against `schema.rs`, PostgreSQL
//!   integer widths are checked exactly: there an `Integer` read from a BIGINT column fails.)
//! - A PRIMARY KEY column counts as NOT NULL. PostgreSQL enforces it; SQLite, for a
//!   non-INTEGER primary key, only when the column also says NOT NULL (a documented SQLite
//!   quirk). Both folders declare the same thing, so this is a dialect difference, not drift.
//! - Defaults: casts (`''::text`) and parentheses dropped; on boolean columns SQLite's 0/1
//!   read as false/true.
//! - Unique constraints are compared by their columns (the names are generated and differ:
//!   `sqlite_autoindex_products_2` vs `products_gtin_key`); indexes made with CREATE INDEX by
//!   name, columns, uniqueness and partiality. Indexes behind a primary key are the primary key.
//! - Foreign keys: columns → table.columns with ON DELETE / ON UPDATE actions.
//! - CHECK constraints (SQLite: parsed from `sqlite_master.sql`; PostgreSQL:
//!   `pg_get_constraintdef`): casts (`'a'::text`, `::text[]`) and all parentheses dropped,
//!   keywords lower-cased, `x = ANY (ARRAY[…])` read as `x IN (…)` and `x <> ALL (ARRAY[…])`
//!   as `x NOT IN (…)`. A check that is a single `column IN (…)` becomes that column's set of
//!   allowed values (order ignored); any other check is compared as its normalised text.
//!   Dropping parentheses is needed because PostgreSQL re-parenthesises every expression; it
//!   would equate `(a OR b) AND c` with `a OR (b AND c)`, which these migrations do not write.
//! - Excluded: diesel's `__diesel_schema_migrations` and SQLite's internal `sqlite_*` objects.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Integer, Nullable, Text};
use registry::db::{self, DbConn};

const DIESEL_TABLE: &str = "__diesel_schema_migrations";

// ---------------------------------------------------------------------------------------------
// The schema, as facts

#[derive(Debug, Clone, PartialEq)]
struct Column {
    /// Normalised family (see the module comment).
    family: String,
    /// The type as the database spells it, lower-cased.
    spelled: String,
    nullable: bool,
    default: Option<String>,
}

#[derive(Debug, Default)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    foreign_keys: BTreeSet<String>,
    uniques: BTreeSet<String>,
    indexes: BTreeSet<String>,
    checks: BTreeSet<String>,
}

#[derive(Debug)]
struct Schema {
    backend: &'static str,
    tables: BTreeMap<String, Table>,
}

impl Schema {
    /// One line per fact, each starting with its table so a sorted diff groups by table.
    fn facts(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (t, table) in &self.tables {
            out.insert(format!("{t}: table"));
            for (c, col) in &table.columns {
                let null = if col.nullable { "NULL" } else { "NOT NULL" };
                let default = col
                    .default
                    .as_ref()
                    .map(|d| format!(" DEFAULT {d}"))
                    .unwrap_or_default();
                out.insert(format!("{t}.{c}: {} {null}{default}", col.family));
            }
            out.insert(format!(
                "{t}: primary key ({})",
                table.primary_key.join(", ")
            ));
            for set in [
                &table.foreign_keys,
                &table.uniques,
                &table.indexes,
                &table.checks,
            ] {
                out.extend(set.iter().map(|f| format!("{t}: {f}")));
            }
        }
        out
    }

    /// How many facts of each kind were found: introspection that silently finds nothing
    /// would make two schemas trivially equal.
    fn assert_introspected(&self) {
        let count = |f: fn(&Table) -> usize| self.tables.values().map(f).sum::<usize>();
        let found = [
            ("tables", self.tables.len()),
            ("columns", count(|t| t.columns.len())),
            (
                "primary keys",
                count(|t| usize::from(!t.primary_key.is_empty())),
            ),
            ("foreign keys", count(|t| t.foreign_keys.len())),
            ("unique constraints", count(|t| t.uniques.len())),
            ("indexes", count(|t| t.indexes.len())),
            ("checks", count(|t| t.checks.len())),
        ];
        eprintln!("{}: {found:?}", self.backend);
        for (what, n) in found {
            assert!(
                n > 0,
                "{}: no {what} found: introspection broken",
                self.backend
            );
        }
        let facts = self.facts();
        for known in [
            "regions: check level in ('county', 'prefecture', 'province')",
            "regions: check length code = 6",
            "users: check role = 'regulator' = agency_code is not null",
            "certifications: check expires_on > issued_on",
            "certifications: unique (kind, certificate_number)",
            "regions: foreign key (parent_code) -> regions (code) on delete no action on update no action",
            "enterprise_sectors: foreign key (enterprise_id) -> enterprises (id) on delete cascade on update no action",
            "agency_responsibilities: index agency_responsibilities_kind (application_kind) unique",
            "agency_responsibilities: primary key (agency_code, application_kind)",
            "users.disabled: boolean NOT NULL DEFAULT false",
            "plan_targets.sector_code: text NOT NULL DEFAULT ''",
        ] {
            assert!(
                facts.contains(known),
                "{}: introspection did not find {known:?}; it found:\n{}",
                self.backend,
                facts.iter().cloned().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// The one place the backends differ on purpose: the search index (`src/search.rs`). Its
/// grams are a `TEXT[]` under a GIN index on PostgreSQL, and hex tokens in a text column under
/// an FTS5 virtual table on SQLite (`search_index` and the shadow tables FTS5 keeps). Any other
/// difference is drift.
fn backend_specific(fact: &str) -> bool {
    fact.starts_with("search_index")
        || fact.starts_with("search_docs.grams:")
        || fact == "search_docs: index search_docs_grams (grams)"
}

/// The facts only one side has, one line each, grouped by table.
fn diff(a: &Schema, b: &Schema) -> Vec<String> {
    let keep = |facts: BTreeSet<String>| -> BTreeSet<String> {
        facts.into_iter().filter(|f| !backend_specific(f)).collect()
    };
    let (fa, fb) = (keep(a.facts()), keep(b.facts()));
    let mut lines: Vec<(String, String)> = fa
        .difference(&fb)
        .map(|f| (f.clone(), format!("only in {:<8}  {f}", a.backend)))
        .chain(
            fb.difference(&fa)
                .map(|f| (f.clone(), format!("only in {:<8}  {f}", b.backend))),
        )
        .collect();
    lines.sort();
    lines.into_iter().map(|(_, l)| l).collect()
}

/// Type family (see the module comment).
fn family(spelled: &str) -> String {
    let t = spelled.to_ascii_lowercase();
    let t = match t.find('(') {
        Some(i) => t[..i].trim().to_owned(),
        None => t.trim().to_owned(),
    };
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.as_str() {
        "integer" | "int" | "int2" | "int4" | "int8" | "smallint" | "bigint" | "tinyint"
        | "mediumint" => "integer",
        "text" | "varchar" | "character varying" | "char" | "character" | "clob" => "text",
        "timestamp"
        | "timestamp without time zone"
        | "timestamptz"
        | "timestamp with time zone"
        | "datetime" => "timestamp",
        "boolean" | "bool" => "boolean",
        "date" => "date",
        "double" | "double precision" | "real" | "float" | "float4" | "float8" => "float",
        other => other,
    }
    .to_owned()
}

// ---------------------------------------------------------------------------------------------
// SQL expressions: just enough of a tokenizer to compare CHECKs and defaults across dialects

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Identifier or keyword, lower-cased (quotes removed).
    Word(String),
    /// String literal, unescaped.
    Str(String),
    Num(String),
    /// Brackets, commas and operators.
    Punct(String),
}

fn tokenize(sql: &str) -> Vec<Tok> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if ch == '\'' || ch == '"' {
            let mut s = String::new();
            i += 1;
            while i < c.len() {
                if c[i] == ch {
                    if c.get(i + 1) == Some(&ch) {
                        s.push(ch);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                s.push(c[i]);
                i += 1;
            }
            out.push(if ch == '\'' {
                Tok::Str(s)
            } else {
                Tok::Word(s.to_lowercase())
            });
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(
                c[start..i].iter().collect::<String>().to_lowercase(),
            ));
        } else if ch.is_ascii_digit() {
            let start = i;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(c[start..i].iter().collect()));
        } else if "()[],;".contains(ch) {
            out.push(Tok::Punct(ch.to_string()));
            i += 1;
        } else {
            let start = i;
            while i < c.len() && "<>=!:+-*/|%&~^.".contains(c[i]) {
                i += 1;
            }
            if i == start {
                i += 1;
            }
            out.push(Tok::Punct(c[start..i].iter().collect()));
        }
    }
    out
}

fn is_punct(t: Option<&Tok>, p: &str) -> bool {
    matches!(t, Some(Tok::Punct(x)) if x == p)
}

fn is_word(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x == w)
}

/// Drops casts (`::text`, `::character varying(64)`, `::text[]`, `::timestamp without time
/// zone`) and every parenthesis; rewrites `= ANY (ARRAY[…])` to `IN …` and `<> ALL (ARRAY[…])`
/// to `NOT IN …`.
fn canonical_tokens(tokens: &[Tok]) -> Vec<Tok> {
    let mut no_casts = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_punct(tokens.get(i), "::") {
            i += 1;
            let first = match tokens.get(i) {
                Some(Tok::Word(w)) => w.clone(),
                _ => continue,
            };
            i += 1;
            match first.as_str() {
                "character" if is_word(tokens.get(i), "varying") => i += 1,
                "double" if is_word(tokens.get(i), "precision") => i += 1,
                "timestamp" | "time"
                    if is_word(tokens.get(i), "with") || is_word(tokens.get(i), "without") =>
                {
                    i += 3
                }
                _ => {}
            }
            if is_punct(tokens.get(i), "(") {
                while i < tokens.len() && !is_punct(tokens.get(i), ")") {
                    i += 1;
                }
                i += 1;
            }
            while is_punct(tokens.get(i), "[") && is_punct(tokens.get(i + 1), "]") {
                i += 2;
            }
            continue;
        }
        no_casts.push(tokens[i].clone());
        i += 1;
    }
    let flat: Vec<Tok> = no_casts
        .into_iter()
        .filter(|t| !is_punct(Some(t), "(") && !is_punct(Some(t), ")"))
        .collect();
    let mut out = Vec::new();
    let mut drop_closing_bracket = 0;
    let mut i = 0;
    while i < flat.len() {
        let array_follows = is_word(flat.get(i + 2), "array") && is_punct(flat.get(i + 3), "[");
        if is_punct(flat.get(i), "=") && is_word(flat.get(i + 1), "any") && array_follows {
            out.push(Tok::Word("in".into()));
            drop_closing_bracket += 1;
            i += 4;
        } else if is_punct(flat.get(i), "<>") && is_word(flat.get(i + 1), "all") && array_follows {
            out.push(Tok::Word("not".into()));
            out.push(Tok::Word("in".into()));
            drop_closing_bracket += 1;
            i += 4;
        } else if drop_closing_bracket > 0 && is_punct(flat.get(i), "]") {
            drop_closing_bracket -= 1;
            i += 1;
        } else {
            out.push(flat[i].clone());
            i += 1;
        }
    }
    out
}

fn render(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Word(w) | Tok::Num(w) | Tok::Punct(w) => w.clone(),
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A CHECK's expression (without the CHECK keyword) as a fact.
fn check_fact(expression: &[Tok]) -> String {
    let t = canonical_tokens(expression);
    // `column [NOT] IN 'a' , 'b' …` (parentheses already dropped): a set of allowed values.
    let (negated, list_at) = if is_word(t.get(1), "not") && is_word(t.get(2), "in") {
        (true, 3)
    } else {
        (false, 2)
    };
    if let (Some(Tok::Word(column)), true) = (t.first(), is_word(t.get(list_at - 1), "in")) {
        let rest = &t[list_at..];
        let values: Option<BTreeSet<String>> = rest
            .iter()
            .enumerate()
            .map(|(i, tok)| match (i % 2, tok) {
                (0, Tok::Str(_) | Tok::Num(_)) => Some(Some(render(std::slice::from_ref(tok)))),
                (1, Tok::Punct(p)) if p == "," => Some(None),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect());
        if let Some(values) = values.filter(|v| !v.is_empty() && rest.len() % 2 == 1) {
            let not = if negated { "not " } else { "" };
            let values: Vec<String> = values.into_iter().collect();
            return format!("check {column} {not}in ({})", values.join(", "));
        }
    }
    format!("check {}", render(&t))
}

/// A column default as a fact.
fn default_fact(expression: &str, family: &str) -> String {
    let t = canonical_tokens(&tokenize(expression));
    let t: Vec<Tok> = if family == "boolean" {
        t.into_iter()
            .map(|tok| match tok {
                Tok::Num(n) if n == "0" => Tok::Word("false".into()),
                Tok::Num(n) if n == "1" => Tok::Word("true".into()),
                other => other,
            })
            .collect()
    } else {
        t
    };
    render(&t)
}

/// The CHECK clauses of a CREATE TABLE statement, each without the CHECK keyword and its
/// enclosing parentheses.
fn checks_in_create_table(sql: &str) -> Vec<Vec<Tok>> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_word(tokens.get(i), "check") && is_punct(tokens.get(i + 1), "(") {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < tokens.len() && depth > 0 {
                if is_punct(tokens.get(j), "(") {
                    depth += 1;
                } else if is_punct(tokens.get(j), ")") {
                    depth -= 1;
                }
                j += 1;
            }
            out.push(tokens[start..j - 1].to_vec());
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn fk_fact(
    columns: &[String],
    ref_table: &str,
    ref_columns: &[String],
    on_delete: &str,
    on_update: &str,
) -> String {
    format!(
        "foreign key ({}) -> {ref_table} ({}) on delete {} on update {}",
        columns.join(", "),
        ref_columns.join(", "),
        on_delete.to_lowercase(),
        on_update.to_lowercase()
    )
}

fn index_fact(name: &str, columns: &[String], unique: bool, partial: bool) -> String {
    format!(
        "index {name} ({}){}{}",
        columns.join(", "),
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

// ---------------------------------------------------------------------------------------------
// SQLite

#[derive(QueryableByName)]
struct SqliteTable {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    decl_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    from_col: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_col: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    partial: i32,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

fn sqlite_pk(c: &mut SqliteConnection, table: &str) -> Vec<String> {
    let mut cols: Vec<SqliteColumn> = sqlite_columns(c, table);
    cols.retain(|col| col.pk > 0);
    cols.sort_by_key(|col| col.pk);
    cols.into_iter().map(|col| col.name).collect()
}

fn sqlite_columns(c: &mut SqliteConnection, table: &str) -> Vec<SqliteColumn> {
    diesel::sql_query(
        "SELECT name, type AS decl_type, \"notnull\" AS not_null, dflt_value AS default_value, pk \
         FROM pragma_table_info(?)",
    )
    .bind::<Text, _>(table)
    .load(c)
    .expect("pragma_table_info")
}

fn introspect_sqlite(c: &mut SqliteConnection) -> Schema {
    let tables: Vec<SqliteTable> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name",
    )
    .bind::<Text, _>(DIESEL_TABLE)
    .load(c)
    .expect("sqlite_master");
    let mut schema = Schema {
        backend: "sqlite",
        tables: BTreeMap::new(),
    };
    for t in tables {
        let mut table = Table::default();
        let cols = sqlite_columns(c, &t.name);
        for col in &cols {
            let family = family(&col.decl_type);
            table.columns.insert(
                col.name.clone(),
                Column {
                    default: col
                        .default_value
                        .as_deref()
                        .map(|d| default_fact(d, &family)),
                    family,
                    spelled: col.decl_type.to_lowercase(),
                    nullable: col.not_null == 0 && col.pk == 0,
                },
            );
        }
        table.primary_key = sqlite_pk(c, &t.name);

        let fks: Vec<SqliteForeignKey> = diesel::sql_query(
            "SELECT id, \"table\" AS ref_table, \"from\" AS from_col, \"to\" AS to_col, \
             on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind::<Text, _>(&t.name)
        .load(c)
        .expect("pragma_foreign_key_list");
        let mut by_id: BTreeMap<i32, Vec<SqliteForeignKey>> = BTreeMap::new();
        for fk in fks {
            by_id.entry(fk.id).or_default().push(fk);
        }
        for parts in by_id.values() {
            let from: Vec<String> = parts.iter().map(|p| p.from_col.clone()).collect();
            // `REFERENCES t` without columns means t's primary key.
            let to: Vec<String> = if parts.iter().all(|p| p.to_col.is_some()) {
                parts.iter().map(|p| p.to_col.clone().unwrap()).collect()
            } else {
                sqlite_pk(c, &parts[0].ref_table)
            };
            table.foreign_keys.insert(fk_fact(
                &from,
                &parts[0].ref_table,
                &to,
                &parts[0].on_delete,
                &parts[0].on_update,
            ));
        }

        let indexes: Vec<SqliteIndex> = diesel::sql_query(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list(?)",
        )
        .bind::<Text, _>(&t.name)
        .load(c)
        .expect("pragma_index_list");
        for ix in indexes {
            let columns: Vec<String> =
                diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind::<Text, _>(&ix.name)
                    .load::<SqliteIndexColumn>(c)
                    .expect("pragma_index_info")
                    .into_iter()
                    .map(|col| col.name.unwrap_or_else(|| "<expression>".into()))
                    .collect();
            match ix.origin.as_str() {
                "pk" => {}
                "u" => {
                    table
                        .uniques
                        .insert(format!("unique ({})", columns.join(", ")));
                }
                _ => {
                    table.indexes.insert(index_fact(
                        &ix.name,
                        &columns,
                        ix.is_unique != 0,
                        ix.partial != 0,
                    ));
                }
            }
        }

        for check in checks_in_create_table(&t.sql) {
            table.checks.insert(check_fact(&check));
        }
        schema.tables.insert(t.name, table);
    }
    schema
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

#[derive(QueryableByName)]
struct PgTable {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
}

#[derive(QueryableByName)]
struct PgConstraint {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ref_table: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    ref_columns: Vec<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    partial: bool,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
}

fn pg_action(code: &str) -> &'static str {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "?",
    }
}

fn introspect_pg(c: &mut PgConnection) -> Schema {
    const IN_PUBLIC: &str =
        "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'";
    let names: Vec<PgTable> = diesel::sql_query(format!(
        "SELECT t.relname::text AS name FROM pg_class t {IN_PUBLIC} \
         WHERE t.relkind IN ('r', 'p') AND t.relname <> '{DIESEL_TABLE}'"
    ))
    .load(c)
    .expect("pg_class");
    let mut schema = Schema {
        backend: "postgres",
        tables: names
            .into_iter()
            .map(|t| (t.name, Table::default()))
            .collect(),
    };

    let columns: Vec<PgColumn> = diesel::sql_query(format!(
        "SELECT t.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, NULL) AS data_type, a.attnotnull AS not_null, \
                pg_get_expr(d.adbin, d.adrelid) AS default_value \
         FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid {IN_PUBLIC} \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE t.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
    ))
    .load(c)
    .expect("pg_attribute");
    for col in columns {
        let Some(table) = schema.tables.get_mut(&col.table_name) else {
            continue;
        };
        let family = family(&col.data_type);
        table.columns.insert(
            col.column_name,
            Column {
                default: col
                    .default_value
                    .as_deref()
                    .map(|d| default_fact(d, &family)),
                family,
                spelled: col.data_type.to_lowercase(),
                nullable: !col.not_null,
            },
        );
    }

    let ordered_names = |key: &str, rel: &str| {
        format!(
            "ARRAY(SELECT a.attname::text FROM unnest(k.{key}) WITH ORDINALITY u(num, ord) \
             JOIN pg_attribute a ON a.attrelid = k.{rel} AND a.attnum = u.num ORDER BY u.ord)"
        )
    };
    let constraints: Vec<PgConstraint> = diesel::sql_query(format!(
        "SELECT t.relname::text AS table_name, k.contype::text AS kind, \
                {} AS columns, f.relname::text AS ref_table, {} AS ref_columns, \
                k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update, \
                pg_get_constraintdef(k.oid) AS definition \
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid {IN_PUBLIC} \
         LEFT JOIN pg_class f ON f.oid = k.confrelid",
        ordered_names("conkey", "conrelid"),
        ordered_names("confkey", "confrelid"),
    ))
    .load(c)
    .expect("pg_constraint");
    for k in constraints {
        let Some(table) = schema.tables.get_mut(&k.table_name) else {
            continue;
        };
        match k.kind.as_str() {
            "p" => table.primary_key = k.columns,
            "u" => {
                table
                    .uniques
                    .insert(format!("unique ({})", k.columns.join(", ")));
            }
            "f" => {
                table.foreign_keys.insert(fk_fact(
                    &k.columns,
                    k.ref_table.as_deref().unwrap_or("?"),
                    &k.ref_columns,
                    pg_action(&k.on_delete),
                    pg_action(&k.on_update),
                ));
            }
            "c" => {
                let tokens = tokenize(&k.definition);
                assert!(is_word(tokens.first(), "check"), "{}", k.definition);
                table.checks.insert(check_fact(&tokens[1..]));
            }
            // NOT NULL (catalogued from PostgreSQL 18 on) is the columns' nullability.
            "n" => {}
            // Exclusion constraints and anything newer: visible in a diff.
            other => {
                table
                    .checks
                    .insert(format!("constraint of kind {other}: {}", k.definition));
            }
        }
    }

    // Indexes other than those behind a primary key or unique constraint.
    let indexes: Vec<PgIndex> = diesel::sql_query(format!(
        "SELECT t.relname::text AS table_name, ic.relname::text AS name, \
                i.indisunique AS is_unique, (i.indpred IS NOT NULL) AS partial, \
                ARRAY(SELECT COALESCE(a.attname::text, '<expression>') \
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(num, ord) \
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.num \
                      ORDER BY u.ord) AS columns \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid {IN_PUBLIC} \
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                           AND k.contype IN ('p', 'u', 'x'))"
    ))
    .load(c)
    .expect("pg_index");
    for ix in indexes {
        if let Some(table) = schema.tables.get_mut(&ix.table_name) {
            table
                .indexes
                .insert(index_fact(&ix.name, &ix.columns, ix.is_unique, ix.partial));
        }
    }
    schema
}

/// A fresh, empty PostgreSQL database next to TEST_DATABASE_URL's, dropped on drop.
struct ScratchPg {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchPg {
    fn create(admin_url: &str) -> Self {
        let name = format!("registry_schema_{}", uuid::Uuid::now_v7().simple());
        PgConnection::establish(admin_url)
            .expect("connect to TEST_DATABASE_URL")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create scratch database");
        // postgres://user@host:port/db?query → the same with our database.
        let (head, query) = match admin_url.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (admin_url, None),
        };
        let authority_end = head.find("//").map_or(0, |i| i + 2);
        let base = match head[authority_end..].find('/') {
            Some(i) => &head[..authority_end + i],
            None => head,
        };
        let url = match query {
            Some(q) => format!("{base}/{name}?{q}"),
            None => format!("{base}/{name}"),
        };
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for ScratchPg {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// src/db/schema.rs

struct DieselTable {
    primary_key: Vec<String>,
    /// Column → (diesel type without `Nullable`, nullable).
    columns: BTreeMap<String, (String, bool)>,
}

/// The `diesel::table!` blocks of `src/db/schema.rs`.
fn diesel_schema() -> BTreeMap<String, DieselTable> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs");
    let text = std::fs::read_to_string(path).expect("src/db/schema.rs");
    let mut tables = BTreeMap::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "diesel::table! {" {
            continue;
        }
        let header = lines
            .by_ref()
            .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
            .expect("a table! header");
        let name_end = header.find([' ', '(', '{']).unwrap_or(header.len());
        let name = header[..name_end].trim().to_owned();
        let primary_key = match (header.find('('), header.find(')')) {
            (Some(a), Some(b)) => header[a + 1..b]
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect(),
            _ => vec!["id".to_owned()],
        };
        let mut columns = BTreeMap::new();
        let mut sql_name: Option<String> = None;
        for l in lines.by_ref() {
            if l == "}" {
                break;
            }
            if let Some(rest) = l.strip_prefix("#[sql_name = \"") {
                sql_name = rest.split('"').next().map(str::to_owned);
                continue;
            }
            let Some((col, ty)) = l.split_once("->") else {
                continue;
            };
            let ty = ty.trim().trim_end_matches(',').trim();
            let (ty, nullable) = match ty
                .strip_prefix("Nullable<")
                .and_then(|t| t.strip_suffix('>'))
            {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            let col = sql_name
                .take()
                .unwrap_or_else(|| col.trim().trim_start_matches("r#").to_owned());
            columns.insert(col, (ty.to_owned(), nullable));
        }
        tables.insert(
            name,
            DieselTable {
                primary_key,
                columns,
            },
        );
    }
    tables
}

/// What `schema.rs` declares that the migrated database does not match. On PostgreSQL the
/// spelled type must be the one diesel reads (integer widths matter there); on SQLite the
/// family must match.
fn schema_rs_mismatches(schema: &Schema, diesel: &BTreeMap<String, DieselTable>) -> Vec<String> {
    let mut out = Vec::new();
    let b = schema.backend;
    for (name, dt) in diesel {
        let Some(table) = schema.tables.get(name) else {
            out.push(format!("{b}: table {name} of schema.rs is missing"));
            continue;
        };
        if table.primary_key != dt.primary_key {
            out.push(format!(
                "{b}: {name} primary key is ({}), schema.rs says ({})",
                table.primary_key.join(", "),
                dt.primary_key.join(", ")
            ));
        }
        for (col, (ty, nullable)) in &dt.columns {
            let Some(c) = table.columns.get(col) else {
                out.push(format!("{b}: column {name}.{col} of schema.rs is missing"));
                continue;
            };
            let (pg, fam) = match ty.as_str() {
                "Integer" => ("integer", "integer"),
                "BigInt" => ("bigint", "integer"),
                "SmallInt" => ("smallint", "integer"),
                "Text" | "VarChar" => ("text", "text"),
                "Bool" => ("boolean", "boolean"),
                "Date" => ("date", "date"),
                "Timestamp" => ("timestamp without time zone", "timestamp"),
                "Timestamptz" => ("timestamp with time zone", "timestamp"),
                "Double" => ("double precision", "float"),
                "Float" => ("real", "float"),
                other => (other, other),
            };
            let matches = if b == "postgres" {
                c.spelled == pg || (ty == "Text" && c.spelled == "character varying")
            } else {
                c.family == fam
            };
            if !matches {
                out.push(format!(
                    "{b}: {name}.{col} is {}, schema.rs says {ty}",
                    c.spelled
                ));
            }
            if c.nullable != *nullable {
                out.push(format!(
                    "{b}: {name}.{col} is {}, schema.rs says {}",
                    if c.nullable { "nullable" } else { "NOT NULL" },
                    if *nullable {
                        "Nullable"
                    } else {
                        "not Nullable"
                    }
                ));
            }
        }
        for col in table.columns.keys() {
            if !dt.columns.contains_key(col) {
                out.push(format!("{b}: column {name}.{col} is not in schema.rs"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

fn migration_versions(folder: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sqlite_and_postgres_migrations_describe_the_same_schema() {
    let started = std::time::Instant::now();
    let versions = migration_versions("migrations/sqlite");
    assert_eq!(
        versions,
        migration_versions("migrations/postgres"),
        "the two folders must hold the same migrations"
    );
    let diesel = diesel_schema();
    assert!(
        diesel.len() > 10,
        "parsed only {} tables from schema.rs",
        diesel.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let (pool, _) = db::build_pool(
        &format!("sqlite://{}", dir.path().join("schema.db").display()),
        1,
    )
    .expect("sqlite pool");
    let mut conn = pool.get().expect("sqlite conn");
    let applied = db::run_migrations(&mut conn).expect("sqlite migrations");
    assert_eq!(applied, versions.len(), "sqlite: migrations applied");
    let sqlite = match &mut *conn {
        DbConn::Sqlite(c) => introspect_sqlite(c),
        DbConn::Pg(_) => unreachable!("a sqlite:// URL"),
    };
    sqlite.assert_introspected();

    let mut problems = schema_rs_mismatches(&sqlite, &diesel);

    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let scratch = ScratchPg::create(&url);
            let mut conn =
                db::connect(&db::DbTarget::parse(&scratch.url).expect("url")).expect("pg conn");
            let applied = db::run_migrations(&mut conn).expect("postgres migrations");
            assert_eq!(applied, versions.len(), "postgres: migrations applied");
            let pg = match &mut conn {
                DbConn::Pg(c) => introspect_pg(c),
                DbConn::Sqlite(_) => unreachable!("a postgres:// URL"),
            };
            pg.assert_introspected();
            problems.extend(schema_rs_mismatches(&pg, &diesel));
            let differences = diff(&sqlite, &pg);
            if !differences.is_empty() {
                problems.push(format!(
                    "migrations/sqlite and migrations/postgres differ in {} facts:\n  {}",
                    differences.len(),
                    differences.join("\n  ")
                ));
            }
            eprintln!(
                "compared {} facts over {} tables on both backends",
                sqlite.facts().len(),
                sqlite.tables.len()
            );
        }
        _ => eprintln!(
            "checked migrations/sqlite ({} tables) against src/db/schema.rs only: comparing it \
             with migrations/postgres needs TEST_DATABASE_URL",
            sqlite.tables.len()
        ),
    }
    eprintln!("schema comparison took {:?}", started.elapsed());
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Every closed set's Rust enum names exactly the values its column's CHECK allows, so a value
/// the code writes is one the database takes, and a value the database holds is one the code
/// reads. (Record statuses: each table stores the statuses a record of its type can have.)
#[test]
fn closed_sets_match_the_check_lists() {
    use registry::domain::*;
    fn names<T: std::fmt::Display>(all: &[T]) -> BTreeSet<String> {
        all.iter().map(|v| format!("'{v}'")).collect()
    }
    let record =
        |live: RecordStatus| names(&[live, RecordStatus::Suspended, RecordStatus::Revoked]);
    let expected: Vec<(&str, &str, BTreeSet<String>)> = vec![
        ("applications", "state", names(ApplicationState::ALL)),
        ("application_kinds", "category", names(KindCategory::ALL)),
        ("certifications", "status", record(RecordStatus::Valid)),
        ("designations", "status", record(RecordStatus::Active)),
        (
            "record_status_changes",
            "record_type",
            names(RecordType::ALL),
        ),
        ("enterprises", "status", names(EnterpriseStatus::ALL)),
        ("enterprises", "scale", names(Scale::ALL)),
        ("products", "status", names(ProductStatus::ALL)),
        ("objections", "status", names(ObjectionStatus::ALL)),
        ("users", "role", names(Role::ALL)),
        ("standards", "level", names(StandardLevel::ALL)),
        ("standards", "status", names(StandardStatus::ALL)),
        ("regions", "level", names(RegionLevel::ALL)),
        ("plan_targets", "unit", names(TargetUnit::ALL)),
        (
            "enterprise_identity_changes",
            "state",
            names(IdentityChangeState::ALL),
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let (pool, _) = db::build_pool(
        &format!("sqlite://{}", dir.path().join("sets.db").display()),
        1,
    )
    .expect("sqlite pool");
    let mut conn = pool.get().expect("sqlite conn");
    db::run_migrations(&mut conn).expect("sqlite migrations");
    let schema = match &mut *conn {
        DbConn::Sqlite(c) => introspect_sqlite(c),
        DbConn::Pg(_) => unreachable!("a sqlite:// URL"),
    };
    let mut problems = Vec::new();
    for (table, column, want) in expected {
        let prefix = format!("check {column} in (");
        let found: Option<BTreeSet<String>> = schema.tables.get(table).and_then(|t| {
            t.checks.iter().find_map(|c| {
                c.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(')'))
                    .map(|list| list.split(", ").map(str::to_owned).collect())
            })
        });
        match found {
            Some(got) if got == want => {}
            Some(got) => problems.push(format!(
                "{table}.{column}: CHECK allows {got:?}, the enum {want:?}"
            )),
            None => problems.push(format!("{table}.{column}: no CHECK (… IN …) found")),
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The SQLite migrations that rebuild a table (to change a CHECK or a UNIQUE) keep every row
/// that refers to it: taken back and applied again on a database in use, nothing is lost and
/// no foreign key dangles.
#[actix_web::test]
async fn table_rebuilds_keep_the_rows_that_refer_to_them() {
    use diesel_migrations::MigrationHarness;
    use registry::db::{PG_MIGRATIONS, SQLITE_MIGRATIONS};
    crate::common::each_backend(|app: crate::common::TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "迁移测试枸杞").await;
        let body = serde_json::json!({
            "kind": "green_food", "enterprise_id": app.fx.ent_a, "product_id": product,
            "details": {"certificate_number": "LB-18-2601011234", "certification_body_id": app.body_for("green_food").await,
                        "issued_on": "2026-01-10", "expires_on": "2029-01-09", "scope": "枸杞"},
            "documents": []
        });
        app.post("/api/v1/applications", Some(&a), &body).await.assert(201);
        let counts = |conn: &mut DbConn| -> Vec<i64> {
            use registry::db::schema::{applications, enterprises, products, users};
            vec![
                enterprises::table.count().get_result(conn).unwrap(),
                // Developer accounts excepted: the schema before them has no role for them.
                users::table
                    .filter(users::role.ne(registry::domain::Role::Developer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                products::table.count().get_result(conn).unwrap(),
                applications::table.count().get_result(conn).unwrap(),
            ]
        };
        let mut conn = app.conn();
        let before = counts(&mut conn);
        // Back past the rebuilds (application kinds in 9, enterprises in 11, users in 20), then
        // forward.
        let back = migration_versions("migrations/sqlite")
            .iter()
            .filter(|v| v.as_str() >= "2026-11-27-000009")
            .count();
        for _ in 0..back {
            match &mut *conn {
                DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(drop),
                DbConn::Pg(c) => c.revert_last_migration(PG_MIGRATIONS).map(drop),
            }
            .expect("revert");
        }
        registry::db::run_migrations(&mut conn).expect("migrate again");
        assert_eq!(counts(&mut conn), before);
        if let DbConn::Sqlite(c) = &mut *conn {
            #[derive(QueryableByName, Debug)]
            struct Dangling {
                #[diesel(sql_type = diesel::sql_types::Text)]
                table: String,
                #[diesel(sql_type = diesel::sql_types::Text)]
                parent: String,
            }
            let dangling: Vec<Dangling> = diesel::sql_query("PRAGMA foreign_key_check")
                .load(c)
                .expect("fk check");
            let found: Vec<_> = dangling.iter().map(|d| (&d.table, &d.parent)).collect();
            assert!(found.is_empty(), "{found:?}");
        }
        drop(conn);
        app.get("/api/v1/applications", Some(&a)).await.assert(200);
    })
    .await;
}
