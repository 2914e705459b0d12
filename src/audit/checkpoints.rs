//! Signed checkpoints: the chain's (sequence, entry hash, time) signed with a key that is not in
//! the database. Published so outsiders can keep copies; checked by `registry audit verify`.
//! Someone who can rewrite the database can recompute the chain, but cannot sign: a rewritten
//! entry no longer matches the checkpoint after it, and a truncated tail leaves a checkpoint
//! beyond the head.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{verify_chain, AuditRow};
use crate::db::schema::{audit_checkpoints, audit_head, audit_log, signing_keys};
use crate::db::DbConn;
use crate::pagination::PageRequest;
use crate::signing::{Jwk, Keyring, PublicKey, SigningKey};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CheckpointRow {
    pub seq: i64,
    pub entry_hash: String,
    pub signed_at: NaiveDateTime,
    pub key_id: String,
    pub signature: String,
}

/// A signed checkpoint, as published and as an outsider keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Checkpoint {
    /// The sequence number of the entry it covers.
    #[schema(example = 1000)]
    pub seq: i64,
    /// That entry's hash (hex SHA-256).
    pub entry_hash: String,
    pub signed_at: DateTime<Utc>,
    /// The signing key (see `/.well-known/jwks.json`).
    pub key_id: String,
    /// Ed25519 over the checkpoint's message, base64url.
    pub signature: String,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Self {
        Self {
            seq: r.seq,
            entry_hash: r.entry_hash,
            signed_at: crate::clock::to_utc(r.signed_at),
            key_id: r.key_id,
            signature: r.signature,
        }
    }
}

impl Checkpoint {
    /// What is signed: the three facts, one per line, under a fixed title.
    pub fn message(seq: i64, entry_hash: &str, signed_at: DateTime<Utc>) -> Vec<u8> {
        format!(
            "product-registry audit checkpoint v1\n{seq}\n{entry_hash}\n{}",
            signed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        )
        .into_bytes()
    }

    fn signed_by(&self, key: &PublicKey) -> bool {
        key.verifies(
            &Self::message(self.seq, &self.entry_hash, self.signed_at),
            &self.signature,
        )
    }
}

/// Signs a checkpoint of entry `seq` (with hash `entry_hash`) unless one exists. Call inside
/// `db::write_tx`.
pub fn sign(
    conn: &mut DbConn,
    key: &SigningKey,
    seq: i64,
    entry_hash: &str,
) -> QueryResult<Checkpoint> {
    if let Some(row) = audit_checkpoints::table
        .find(seq)
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(row.into());
    }
    let signed_at = crate::clock::now();
    let row = CheckpointRow {
        seq,
        entry_hash: entry_hash.to_owned(),
        signed_at,
        key_id: key.kid().to_owned(),
        signature: key.sign(&Checkpoint::message(
            seq,
            entry_hash,
            crate::clock::to_utc(signed_at),
        )),
    };
    diesel::insert_into(audit_checkpoints::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into())
}

/// Signs a checkpoint of the newest entry (`registry audit checkpoint`). Call inside
/// `db::write_tx`; `None` while the chain is empty.
pub fn sign_head(conn: &mut DbConn, key: &SigningKey) -> QueryResult<Option<Checkpoint>> {
    let (seq, hash): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    if seq == 0 {
        return Ok(None);
    }
    sign(conn, key, seq, &hash).map(Some)
}

/// Checkpoints in sequence order, a page at a time.
pub fn list(conn: &mut DbConn, page: &PageRequest) -> QueryResult<Vec<Checkpoint>> {
    let mut q = audit_checkpoints::table
        .select(CheckpointRow::as_select())
        .order(audit_checkpoints::seq.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
        q = q.filter(audit_checkpoints::seq.gt(after));
    }
    Ok(q.load(conn)?.into_iter().map(Checkpoint::from).collect())
}

/// Records the public halves of the keys in use, so they stay published after a rotation.
pub fn publish_keys(conn: &mut DbConn, keyring: &Keyring) -> QueryResult<()> {
    let keys = std::iter::once(keyring.current.public()).chain(keyring.previous.iter());
    for key in keys {
        let known: i64 = signing_keys::table
            .find(&key.kid)
            .count()
            .get_result(conn)?;
        if known == 0 {
            diesel::insert_into(signing_keys::table)
                .values((
                    signing_keys::key_id.eq(&key.kid),
                    signing_keys::public_key.eq(key.x()),
                    signing_keys::first_used.eq(crate::clock::now()),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Every key the registry has published, oldest first.
pub fn published_keys(conn: &mut DbConn) -> QueryResult<Vec<Jwk>> {
    let rows: Vec<(String, String)> = signing_keys::table
        .order((signing_keys::first_used.asc(), signing_keys::key_id.asc()))
        .select((signing_keys::key_id, signing_keys::public_key))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(_, x)| PublicKey::from_x(&x).map(|k| k.jwk()))
        .collect())
}

/// What `registry audit verify` can find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Finding {
    /// An entry whose link or own hash does not match: edited or removed without recomputing.
    BrokenLink { seq: i64 },
    /// The chain is consistent but differs from what was signed: entries up to `seq` were
    /// rewritten and the chain recomputed.
    RewrittenEntry { seq: i64 },
    /// A checkpoint covers an entry the database no longer has: the tail was cut off.
    TruncatedTail { checkpoint_seq: i64, head_seq: i64 },
    /// A checkpoint whose signature does not verify under its key.
    BadSignature { seq: i64 },
    /// A checkpoint signed with a key this registry does not trust.
    UnknownKey { seq: i64, key_id: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BrokenLink { seq } => write!(f, "entry {seq}: broken link (edited or removed)"),
            Self::RewrittenEntry { seq } => write!(
                f,
                "entry {seq}: does not match its signed checkpoint (the chain was rewritten up to here)"
            ),
            Self::TruncatedTail { checkpoint_seq, head_seq } => write!(
                f,
                "entry {checkpoint_seq}: signed, but the chain ends at {head_seq} (the tail was removed)"
            ),
            Self::BadSignature { seq } => write!(f, "checkpoint {seq}: bad signature"),
            Self::UnknownKey { seq, key_id } => {
                write!(f, "checkpoint {seq}: signed with an untrusted key {key_id}")
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub entries: i64,
    pub checkpoints: usize,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks the chain, then every stored checkpoint and every one kept outside (`external`):
/// each must be signed by a trusted key and match the entry it covers.
pub fn verify(
    conn: &mut DbConn,
    keyring: &Keyring,
    external: &[Checkpoint],
) -> QueryResult<AuditReport> {
    let chain = verify_chain(conn)?;
    let mut findings = Vec::new();
    if let Some(seq) = chain.first_broken_seq {
        findings.push(Finding::BrokenLink { seq });
    }
    let head_seq: i64 = audit_head::table
        .filter(audit_head::id.eq(1))
        .select(audit_head::seq)
        .first(conn)?;
    let mut checkpoints: Vec<Checkpoint> = audit_checkpoints::table
        .select(CheckpointRow::as_select())
        .order(audit_checkpoints::seq.asc())
        .load(conn)?
        .into_iter()
        .map(Checkpoint::from)
        .collect();
    checkpoints.extend(external.iter().cloned());
    checkpoints.sort_by_key(|c| c.seq);
    checkpoints.dedup();
    for cp in &checkpoints {
        match keyring.trusted(&cp.key_id) {
            None => {
                findings.push(Finding::UnknownKey {
                    seq: cp.seq,
                    key_id: cp.key_id.clone(),
                });
                continue;
            }
            Some(key) if !cp.signed_by(key) => {
                findings.push(Finding::BadSignature { seq: cp.seq });
                continue;
            }
            Some(_) => {}
        }
        let entry: Option<AuditRow> = audit_log::table
            .find(cp.seq)
            .select(AuditRow::as_select())
            .first(conn)
            .optional()?;
        match entry {
            None => findings.push(Finding::TruncatedTail {
                checkpoint_seq: cp.seq,
                head_seq,
            }),
            Some(e) if e.hash != cp.entry_hash => {
                findings.push(Finding::RewrittenEntry { seq: cp.seq })
            }
            Some(_) => {}
        }
    }
    findings.dedup();
    Ok(AuditReport {
        entries: chain.entries,
        checkpoints: checkpoints.len(),
        findings,
    })
}
