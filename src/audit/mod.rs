//! The audit trail: append-only, one entry per mutation, written in the mutation's transaction.
//! Entries form a SHA-256 hash chain, so an edited or deleted entry is detectable.

pub mod checkpoints;
pub mod routes;

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::{audit_head, audit_log};
use crate::db::DbConn;

/// Who did it, and under which request.
#[derive(Clone)]
pub struct AuditCtx {
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub request_id: Option<String>,
    /// Signs a checkpoint when an entry's sequence is a multiple of its interval.
    pub checkpointer: Option<std::sync::Arc<crate::signing::Checkpointer>>,
    /// The regulator's agency, for what the public sees (`public_label`).
    pub agency: Option<crate::domain::Agency>,
}

impl std::fmt::Debug for AuditCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditCtx")
            .field("actor_label", &self.actor_label)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl AuditCtx {
    /// Who is calling, as the trail records them (`role:username`, or `anonymous`).
    pub fn of(caller: &crate::auth::Caller) -> Self {
        Self {
            actor_id: caller.actor.as_ref().map(|a| a.user_id.clone()),
            actor_label: match &caller.actor {
                Some(a) => format!("{}:{}", a.role, a.username),
                None => "anonymous".into(),
            },
            request_id: Some(caller.request_id.clone()),
            checkpointer: caller.checkpointer.clone(),
            agency: caller.actor.as_ref().and_then(|a| a.agency),
        }
    }

    /// Who did it, as a public answer may say: the agency for a regulator, never a staff
    /// account (the audit trail keeps the account).
    pub fn public_label(&self) -> String {
        if let Some(agency) = self.agency {
            return format!("agency:{agency}");
        }
        match self.actor_label.split_once(':') {
            // An enterprise's or an admin's account is theirs to know, not the public's.
            Some((role @ ("enterprise" | "admin"), _)) => role.to_owned(),
            _ => self.actor_label.clone(),
        }
    }

    /// The same request, recorded as done by someone the caller's token does not name yet
    /// (signing in, refreshing, signing up).
    pub fn as_actor(self, actor_id: Option<String>, label: String) -> Self {
        Self {
            actor_id,
            actor_label: label,
            ..self
        }
    }

    /// For work not tied to a request: seeding, CLI commands.
    pub fn system(label: &str) -> Self {
        Self {
            actor_id: None,
            actor_label: format!("system:{label}"),
            request_id: None,
            checkpointer: None,
            agency: None,
        }
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// Bulk-loaded (`bulk_insert!`): `COPY` has no DEFAULT, and no nullable column here has one.
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over the previous hash and every field but `hash`, in a fixed
/// order, as JSON (so a field boundary cannot be shifted).
pub fn entry_hash(row: &AuditRow) -> String {
    #[derive(Serialize)]
    struct Hashed<'a>(
        &'a str,
        i64,
        &'a str,
        &'a Option<String>,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a Option<String>,
        &'a Option<String>,
        &'a Option<String>,
        &'a Option<String>,
        String,
    );
    let body = Hashed(
        &row.prev_hash,
        row.seq,
        &row.id,
        &row.actor_id,
        &row.actor_label,
        &row.action,
        &row.entity_type,
        &row.entity_id,
        &row.before,
        &row.after,
        &row.reason,
        &row.request_id,
        row.created_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
    );
    let json = serde_json::to_string(&body).expect("serialising strings cannot fail");
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// Appends an entry. Call inside `db::write_tx`, which has already locked the head row.
pub fn record(conn: &mut DbConn, ctx: &AuditCtx, change: Change<'_>) -> QueryResult<i64> {
    let (seq, prev_hash): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let mut row = AuditRow {
        seq: seq + 1,
        id: uuid::Uuid::now_v7().to_string(),
        actor_id: ctx.actor_id.clone(),
        actor_label: ctx.actor_label.clone(),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id.to_owned(),
        before: change.before.map(|v| v.to_string()),
        after: change.after.map(|v| v.to_string()),
        reason: change.reason.map(str::to_owned),
        request_id: ctx.request_id.clone(),
        created_at: crate::clock::now(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row);
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(row.seq), audit_head::hash.eq(&row.hash)))
        .execute(conn)?;
    crate::publication::on_change(
        conn,
        &row.action,
        &row.entity_type,
        &row.entity_id,
        row.created_at,
    )?;
    if let Some(c) = &ctx.checkpointer {
        if row.seq % (c.every.max(1) as i64) == 0 {
            checkpoints::sign(conn, &c.keyring.current, row.seq, &row.hash)?;
        }
    }
    Ok(row.seq)
}

/// The sequence number of the newest audit entry. Every committed write advances it, on every
/// instance, so it is an exact generation for caches.
pub fn head_seq(conn: &mut DbConn) -> QueryResult<i64> {
    audit_head::table
        .filter(audit_head::id.eq(1))
        .select(audit_head::seq)
        .first(conn)
}

/// Appends many entries at once (bulk loads): one head read, chained in memory, inserted in
/// chunks. Call inside `db::write_tx`.
pub fn record_many(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    changes: &[(&str, &str, String)],
    at: chrono::NaiveDateTime,
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let mut rows = Vec::with_capacity(changes.len());
    for (action, entity_type, entity_id) in changes {
        seq += 1;
        let mut row = AuditRow {
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            actor_id: ctx.actor_id.clone(),
            actor_label: ctx.actor_label.clone(),
            action: (*action).to_owned(),
            entity_type: (*entity_type).to_owned(),
            entity_id: entity_id.clone(),
            before: None,
            after: None,
            reason: None,
            request_id: ctx.request_id.clone(),
            created_at: at,
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        prev = row.hash.clone();
        rows.push(row);
    }
    crate::bulk_insert!(conn, audit_log::table, &rows)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev)))
        .execute(conn)?;
    Ok(())
}

/// Appends one entry per change, as [`record`] would one by one (the same fields, the same
/// publication and checkpoints), but chained in memory and written with one bulk insert: a bulk
/// import audits every row without a round trip per row. Call inside `db::write_tx`.
pub fn record_batch(
    conn: &mut DbConn,
    ctx: &AuditCtx,
    changes: Vec<Change<'_>>,
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let at = crate::clock::now();
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        seq += 1;
        let mut row = AuditRow {
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            actor_id: ctx.actor_id.clone(),
            actor_label: ctx.actor_label.clone(),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_id: change.entity_id.to_owned(),
            before: change.before.map(|v| v.to_string()),
            after: change.after.map(|v| v.to_string()),
            reason: change.reason.map(str::to_owned),
            request_id: ctx.request_id.clone(),
            created_at: at,
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        prev = row.hash.clone();
        rows.push(row);
    }
    crate::bulk_insert!(conn, audit_log::table, &rows)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev)))
        .execute(conn)?;
    let published: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.entity_type.as_str(),
                r.entity_id.as_str(),
            )
        })
        .collect();
    crate::publication::on_changes(conn, &published, at)?;
    if let Some(c) = &ctx.checkpointer {
        let every = c.every.max(1) as i64;
        for row in rows.iter().filter(|r| r.seq % every == 0) {
            checkpoints::sign(conn, &c.keyring.current, row.seq, &row.hash)?;
        }
    }
    Ok(())
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub entries: i64,
    /// Sequence number of the first entry whose hash or link does not match, if any.
    pub first_broken_seq: Option<i64>,
    pub intact: bool,
}

/// Walks the whole chain in order and names the first broken entry.
pub fn verify_chain(conn: &mut DbConn) -> QueryResult<ChainReport> {
    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    let mut count = 0i64;
    loop {
        let batch: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(1000)
            .select(AuditRow::as_select())
            .load(conn)?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            count += 1;
            if row.seq != expected_seq
                || row.prev_hash != expected_prev
                || entry_hash(row) != row.hash
            {
                return Ok(ChainReport {
                    entries: count,
                    first_broken_seq: Some(row.seq.min(expected_seq)),
                    intact: false,
                });
            }
            expected_prev = row.hash.clone();
            expected_seq += 1;
            after = row.seq;
        }
    }
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        // Entries were removed from the end.
        return Ok(ChainReport {
            entries: count,
            first_broken_seq: Some(expected_seq),
            intact: false,
        });
    }
    Ok(ChainReport {
        entries: count,
        first_broken_seq: None,
        intact: true,
    })
}

/// Entries about one entity, oldest first.
pub fn for_entity(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq(entity_id))
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .load(conn)
}
