//! The audit trail anchored outside the database: append-only in the database, signed
//! checkpoints published with their keys, and verification that names what was tampered with.

use diesel::prelude::*;
use registry::audit::checkpoints::{self, Checkpoint, Finding};
use registry::audit::{entry_hash, AuditRow};
use registry::db::schema::{audit_checkpoints, audit_head, audit_log};
use registry::signing::{Keyring, PublicKey, SigningKey};
use serde_json::json;

use crate::common::{each_backend, keyring, settings, TestApp};

/// Makes `n` audited writes through the API (products of enterprise A).
async fn writes(app: &TestApp, n: usize) {
    let a = app.token("ent_a").await;
    for i in 0..n {
        app.goji_product(&a, &format!("审计锚定{i}")).await;
    }
}

fn head(app: &TestApp) -> (i64, String) {
    audit_head::table
        .select((audit_head::seq, audit_head::hash))
        .first(&mut app.conn())
        .unwrap()
}

fn keys(app: &TestApp) -> Keyring {
    keyring(&settings(&app.db.url, &[]))
}

/// Rewrites entry `seq` and recomputes every later hash and the head, as someone with full
/// rights on the database could: the chain alone then looks intact.
fn rewrite_and_recompute(app: &TestApp, seq: i64) {
    let mut conn = app.conn();
    let mut rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::seq.ge(seq))
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .load(&mut conn)
        .unwrap();
    let mut prev: String = audit_log::table
        .filter(audit_log::seq.eq(seq - 1))
        .select(audit_log::hash)
        .first(&mut conn)
        .unwrap();
    rows[0].after = Some(r#"{"name":"forged"}"#.into());
    for row in &mut rows {
        row.prev_hash = prev.clone();
        row.hash = entry_hash(row);
        diesel::update(audit_log::table.find(row.seq))
            .set((
                audit_log::after.eq(&row.after),
                audit_log::prev_hash.eq(&row.prev_hash),
                audit_log::hash.eq(&row.hash),
            ))
            .execute(&mut conn)
            .unwrap();
        prev = row.hash.clone();
    }
    diesel::update(audit_head::table)
        .set(audit_head::hash.eq(&prev))
        .execute(&mut conn)
        .unwrap();
}

/// Cuts the chain after entry `keep`, fixing the head so the chain alone looks intact.
fn truncate_after(app: &TestApp, keep: i64) {
    let mut conn = app.conn();
    diesel::delete(audit_log::table.filter(audit_log::seq.gt(keep)))
        .execute(&mut conn)
        .unwrap();
    let hash: String = audit_log::table
        .find(keep)
        .select(audit_log::hash)
        .first(&mut conn)
        .unwrap();
    diesel::update(audit_head::table)
        .set((audit_head::seq.eq(keep), audit_head::hash.eq(hash)))
        .execute(&mut conn)
        .unwrap();
}

#[actix_web::test]
async fn checkpoints_are_signed_every_n_entries_and_published_with_their_keys() {
    each_backend(|app: TestApp| async move {
        let app = TestApp::spawn_with(app.backend, &[("REGISTRY_CHECKPOINT_EVERY", "3")]).await;
        writes(&app, 4).await;
        let r = app.get("/api/v1/audit/checkpoints?limit=100", None).await;
        r.assert(200);
        let cps: Vec<Checkpoint> = serde_json::from_value(r.body["items"].clone()).unwrap();
        let (head_seq, _) = head(&app);
        assert!(!cps.is_empty(), "{}", r.body);
        assert!(cps.iter().all(|c| c.seq % 3 == 0 && c.seq <= head_seq));
        // Every checkpoint verifies offline under a key the JWKS publishes.
        let jwks = app.get("/.well-known/jwks.json", None).await;
        jwks.assert(200);
        let published: Vec<PublicKey> = jwks.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                assert_eq!(
                    (k["kty"].as_str(), k["crv"].as_str()),
                    (Some("OKP"), Some("Ed25519"))
                );
                PublicKey::from_x(k["x"].as_str().unwrap()).unwrap()
            })
            .collect();
        for cp in &cps {
            let key = published
                .iter()
                .find(|k| k.kid == cp.key_id)
                .expect("published key");
            let msg = Checkpoint::message(cp.seq, &cp.entry_hash, cp.signed_at);
            assert!(key.verifies(&msg, &cp.signature), "checkpoint {}", cp.seq);
        }
        // Pages follow one another.
        let first = app.get("/api/v1/audit/checkpoints?limit=1", None).await;
        let cursor = first.body["next_cursor"].as_str().map(str::to_owned);
        if cps.len() > 1 {
            let next = app
                .get(
                    &format!(
                        "/api/v1/audit/checkpoints?limit=1&cursor={}",
                        cursor.unwrap()
                    ),
                    None,
                )
                .await;
            assert_eq!(next.body["items"][0]["seq"], json!(cps[1].seq));
        }
        let report = checkpoints::verify(&mut app.conn(), &keys(&app), &[]).unwrap();
        assert!(report.intact(), "{report:?}");
    })
    .await;
}

#[actix_web::test]
async fn the_database_refuses_to_change_or_remove_audit_entries() {
    each_backend(|app: TestApp| async move {
        writes(&app, 1).await;
        let mut conn = app.conn();
        let edit = diesel::update(audit_log::table.filter(audit_log::seq.eq(1)))
            .set(audit_log::action.eq("forged"))
            .execute(&mut conn);
        assert!(edit.is_err(), "UPDATE of an audit entry must fail");
        let delete = diesel::delete(audit_log::table).execute(&mut conn);
        assert!(delete.is_err(), "DELETE of audit entries must fail");
        let (seq, hash) = head(&app);
        let cp = diesel::connection::Connection::transaction(&mut *conn, |c| {
            checkpoints::sign(c, &keys(&app).current, seq, &hash)
        })
        .unwrap();
        assert!(diesel::delete(audit_checkpoints::table.find(cp.seq))
            .execute(&mut conn)
            .is_err());
        assert!(diesel::update(audit_checkpoints::table.find(cp.seq))
            .set(audit_checkpoints::entry_hash.eq("0".repeat(64)))
            .execute(&mut conn)
            .is_err());
    })
    .await;
}

#[actix_web::test]
async fn a_rewritten_chain_a_cut_tail_and_a_forged_signature_are_each_named() {
    each_backend(|app: TestApp| async move {
        let app = TestApp::spawn_with(app.backend, &[("REGISTRY_CHECKPOINT_EVERY", "2")]).await;
        writes(&app, 6).await;
        let keyring = keys(&app);
        let cps = checkpoints::list(&mut app.conn(), &registry::pagination::PageRequest {
            limit: 100,
            after: None,
        })
        .unwrap();
        assert!(cps.len() >= 3, "{cps:?}");
        let (first, last) = (cps[0].clone(), cps[cps.len() - 1].clone());
        app.drop_audit_triggers();

        // Rewritten and recomputed: the chain is consistent, the checkpoints are not.
        rewrite_and_recompute(&app, first.seq);
        assert!(registry::audit::verify_chain(&mut app.conn()).unwrap().intact);
        let report = checkpoints::verify(&mut app.conn(), &keyring, &[]).unwrap();
        assert!(
            report.findings.contains(&Finding::RewrittenEntry { seq: first.seq }),
            "{report:?}"
        );

        // The tail cut off: a signed checkpoint lies beyond the head.
        let keep = last.seq - 1;
        truncate_after(&app, keep);
        let report = checkpoints::verify(&mut app.conn(), &keyring, &[]).unwrap();
        assert!(
            report.findings.contains(&Finding::TruncatedTail {
                checkpoint_seq: last.seq,
                head_seq: keep
            }),
            "{report:?}"
        );

        // The checkpoints deleted too: only a copy kept outside tells.
        diesel::delete(audit_checkpoints::table.filter(audit_checkpoints::seq.gt(keep)))
            .execute(&mut app.conn())
            .unwrap();
        let report = checkpoints::verify(&mut app.conn(), &keyring, &[]).unwrap();
        assert!(!report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::TruncatedTail { .. })));
        let report = checkpoints::verify(&mut app.conn(), &keyring, std::slice::from_ref(&last)).unwrap();
        assert!(report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::TruncatedTail { checkpoint_seq, .. } if *checkpoint_seq == last.seq)));

        // A forged signature, and a checkpoint signed by a key the registry does not trust.
        let mut forged = first.clone();
        forged.entry_hash = "0".repeat(64);
        let report = checkpoints::verify(&mut app.conn(), &keyring, &[forged]).unwrap();
        assert!(report.findings.contains(&Finding::BadSignature { seq: first.seq }));
        let stranger = SigningKey::generate();
        let mut foreign = first.clone();
        foreign.key_id = stranger.kid().to_owned();
        foreign.signature = stranger.sign(&Checkpoint::message(
            foreign.seq,
            &foreign.entry_hash,
            foreign.signed_at,
        ));
        let report = checkpoints::verify(&mut app.conn(), &keyring, &[foreign]).unwrap();
        assert!(report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::UnknownKey { .. })));
    })
    .await;
}

#[actix_web::test]
async fn registry_audit_verify_exits_2_naming_the_entry() {
    each_backend(|app: TestApp| async move {
        writes(&app, 2).await;
        let cli = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
                .args(args)
                .env("DATABASE_URL", &app.db.url)
                .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
                .env("REGISTRY_SIGNING_KEY", crate::common::signing_key_path())
                .output()
                .expect("run registry")
        };
        let out = cli(&["audit", "checkpoint"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cp: Checkpoint = serde_json::from_slice(&out.stdout).expect("the checkpoint as JSON");
        let kept = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(kept.path(), serde_json::to_vec(&cp).unwrap()).unwrap();
        let out = cli(&[
            "audit",
            "verify",
            "--checkpoint",
            kept.path().to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        app.drop_audit_triggers();
        rewrite_and_recompute(&app, cp.seq);
        let out = cli(&["audit", "verify"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains(&format!("entry {}", cp.seq)), "{said}");
    })
    .await;
}

#[actix_web::test]
async fn old_keys_stay_published_and_trusted_after_a_rotation() {
    each_backend(|app: TestApp| async move {
        let app = TestApp::spawn_with(app.backend, &[("REGISTRY_CHECKPOINT_EVERY", "1")]).await;
        writes(&app, 1).await;
        let old = keys(&app);
        let dir = tempfile::tempdir().unwrap();
        let new_path = dir.path().join("new.pem");
        SigningKey::generate().write(&new_path).unwrap();
        let old_path = crate::common::signing_key_path().display().to_string();
        let rotated = [
            ("REGISTRY_SIGNING_KEY", new_path.to_str().unwrap()),
            ("REGISTRY_SIGNING_KEYS_PREVIOUS", old_path.as_str()),
        ];
        let second = app.second_instance_with(&rotated);
        let jwks = app
            .client
            .get(format!("{second}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        let new_keys = keyring(&settings(&app.db.url, &rotated));
        assert!(kids.contains(&old.current.kid()) && kids.contains(&new_keys.current.kid()));
        // Checkpoints signed before the rotation still verify, and only with the old key trusted.
        let report = checkpoints::verify(&mut app.conn(), &new_keys, &[]).unwrap();
        assert!(report.intact(), "{report:?}");
        let forgetful = keyring(&settings(
            &app.db.url,
            &[("REGISTRY_SIGNING_KEY", new_path.to_str().unwrap())],
        ));
        let report = checkpoints::verify(&mut app.conn(), &forgetful, &[]).unwrap();
        assert!(report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::UnknownKey { .. })));
    })
    .await;
}
