//! Spot-check campaigns: a commitment first, a draw anyone can recompute, recusals recorded,
//! results by the drawn inspectors only, published when the campaign closes.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{each_backend, TestApp, PASSWORD};

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Creates an agriculture regulator (by the admin) and returns its user id.
async fn regulator(app: &TestApp, username: &str) -> String {
    let r = app
        .post(
            "/api/v1/users",
            Some(&app.token("admin").await),
            &json!({"username": username, "password": PASSWORD, "role": "regulator",
                    "agency_code": "agriculture"}),
        )
        .await;
    r.assert(201);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn user_id(app: &TestApp, username: &str) -> String {
    let me = app
        .get("/api/v1/auth/me", Some(&app.token(username).await))
        .await;
    me.body["id"].as_str().unwrap().to_owned()
}

/// Every page of a list endpoint's `items`.
async fn all_items(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=100&cursor={c}"),
            None => format!("{path}{sep}limit=100"),
        };
        let r = app.get(&url, None).await;
        r.assert(200);
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// `registry spot-check verify-draw ID` against the test's database: exit code and output.
fn verify_draw_command(app: &TestApp, id: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
        .args(["spot-check", "verify-draw", id])
        .env("DATABASE_URL", &app.db.url)
        .env("REGISTRY_ENV", "development")
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef-cli-secret")
        .output()
        .expect("the registry binary runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), said)
}

#[actix_web::test]
async fn a_campaign_is_committed_drawn_reproducibly_and_published_when_closed() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        for i in 0..5 {
            app.goji_product(&a, &format!("抽检候选枸杞{i}")).await;
        }
        let agri = user_id(&app, "agri").await;
        let agri2 = user_id(&app, "agri2").await;
        let agri3 = regulator(&app, "agri3").await;
        let agri4 = regulator(&app, "agri4").await;
        let market = user_id(&app, "market").await;
        let pool = [agri.clone(), agri2.clone(), agri3.clone(), agri4.clone()];
        let body = |pool: &[String], size: i32| {
            json!({"title": "2026 年枸杞制品双随机抽查", "legal_basis": "双随机抽查工作细则",
                   "target_type": "product",
                   "scope": {"sector": "food", "region_code": "632800"},
                   "sample_size": size, "inspector_pool": pool})
        };
        let t = app.token("agri").await;

        // Who may create, and what a campaign needs.
        app.post("/api/v1/spot-checks", Some(&a), &body(&pool, 2))
            .await
            .assert(403);
        app.post("/api/v1/spot-checks", None, &body(&pool, 2))
            .await
            .assert(401);
        let r = app
            .post(
                "/api/v1/spot-checks",
                Some(&t),
                &body(&[agri.clone(), market.clone()], 2),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["inspector_pool[1]"], "another agency's regulator");
        let r = app
            .post("/api/v1/spot-checks", Some(&t), &body(std::slice::from_ref(&agri), 2))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["inspector_pool"]);
        let r = app
            .post("/api/v1/spot-checks", Some(&t), &body(&pool, 0))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["sample_size"]);

        let created = app
            .post("/api/v1/spot-checks", Some(&t), &body(&pool, 2))
            .await;
        created.assert(201);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let commitment = created.body["seed_commitment"].as_str().unwrap().to_owned();
        assert_eq!(commitment.len(), 64);
        assert!(created.body["seed"].is_null(), "the seed stays secret");
        let path = format!("/api/v1/spot-checks/{id}");
        let public = app.get(&path, None).await;
        assert_eq!(public.body["seed_commitment"], commitment.as_str());
        assert!(public.body["seed"].is_null());
        app.get(&format!("{path}/candidates"), None)
            .await
            .assert(409);

        // Recusals: agri2 declares a conflict with the enterprise; agri reviews one of its
        // applications. Neither may be drawn for its products.
        app.post(
            "/api/v1/inspector-conflicts",
            Some(&app.token("agri2").await),
            &json!({"enterprise_id": app.fx.ent_a, "reason": "亲属在该企业任职"}),
        )
        .await
        .assert(204);
        app.post(
            "/api/v1/inspector-conflicts",
            Some(&a),
            &json!({"enterprise_id": app.fx.ent_a, "reason": "x"}),
        )
        .await
        .assert(403);
        let (application, _) = app.green_food_draft("审过的枸杞", "LB-18-2611016001", 700).await;
        app.submit_application(&application).await.assert(200);
        app.post(
            &format!("/api/v1/applications/{application}/start-review"),
            Some(&t),
            &json!({}),
        )
        .await
        .assert(200);

        // Only the agency draws, once.
        app.post(
            &format!("{path}/draw"),
            Some(&app.token("market").await),
            &json!({}),
        )
        .await
        .assert(403);
        let drawn = app.post(&format!("{path}/draw"), Some(&t), &json!({})).await;
        drawn.assert(200);
        app.post(&format!("{path}/draw"), Some(&t), &json!({}))
            .await
            .assert(409);
        let d = drawn.body.clone();
        assert_eq!(d["state"], "drawn");
        let seed = hex::decode(d["seed"].as_str().unwrap()).unwrap();
        assert_eq!(seed.len(), 32);
        assert_eq!(sha256_hex(&[&seed]), commitment, "the seed matches its commitment");

        // Recomputed independently: the candidates are the public food products from Haixi,
        // the targets the two smallest sha256(seed || id), the inspectors the first two of the
        // pool by sha256(seed || target || ":" || inspector) who need not recuse themselves.
        let candidates: Vec<String> = all_items(&app, &format!("{path}/candidates"))
            .await
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let mut expected_candidates: Vec<String> =
            all_items(&app, "/api/v1/products?sector=food&region_code=632800")
                .await
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect();
        expected_candidates.sort();
        assert_eq!(candidates, expected_candidates);
        assert_eq!(d["candidate_count"], candidates.len());
        let mut scored: Vec<(String, String)> = candidates
            .iter()
            .map(|c| (sha256_hex(&[&seed, c.as_bytes()]), c.clone()))
            .collect();
        scored.sort();
        let targets = d["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 2);
        for (t, (score, id)) in targets.iter().zip(&scored) {
            assert_eq!(t["target_id"], id.as_str());
            assert_eq!(t["score"], score.as_str());
            let mut order = pool.to_vec();
            order.sort_by_key(|i| {
                sha256_hex(&[&seed, id.as_bytes(), b":", i.as_bytes()])
            });
            let eligible: Vec<&String> = order
                .iter()
                .filter(|i| **i != agri && **i != agri2)
                .collect();
            assert_eq!(t["inspectors"], json!(eligible));
            // Those skipped before the two were found, with their reasons.
            let skipped: Vec<Value> = order
                .iter()
                .take_while(|i| **i != *eligible[1])
                .filter(|i| **i == agri || **i == agri2)
                .map(|i| {
                    let reason = if *i == agri { "reviewed_recently" } else { "declared_conflict" };
                    json!({"inspector_id": i, "reason": reason})
                })
                .collect();
            assert_eq!(t["recusals"], json!(skipped));
        }
        let check = registry::spot_checks::verify_draw(&mut app.conn(), &id).unwrap();
        assert!(check.ok, "{:?}", check.problems);
        let (code, said) = verify_draw_command(&app, &id);
        assert_eq!(code, Some(0), "{said}");
        assert!(said.contains("verified"), "{said}");

        // Results: only a target's drawn inspectors, once; a failure names its findings.
        let target = targets[0]["target_id"].as_str().unwrap().to_owned();
        let second = targets[1]["target_id"].as_str().unwrap().to_owned();
        let today = registry::clock::today().to_string();
        let result = |r: &str, findings: Option<&str>| {
            json!({"result": r, "findings": findings, "checked_on": today})
        };
        let record = |target: &str| format!("{path}/targets/{target}/result");
        for outsider in ["agri", "agri2", "market"] {
            app.post(
                &record(&target),
                Some(&app.token(outsider).await),
                &result("passed", None),
            )
            .await
            .assert(403);
        }
        let inspector = app.token("agri3").await;
        let tomorrow = (registry::clock::today() + chrono::Days::new(1)).to_string();
        let r = app
            .post(
                &record(&target),
                Some(&inspector),
                &json!({"result": "passed", "checked_on": tomorrow}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["checked_on"]);
        app.post(&record(&target), Some(&inspector), &result("failed", None))
            .await
            .assert(422);
        app.post(
            &record(&target),
            Some(&inspector),
            &result("failed", Some("枸杞多糖含量低于标示值")),
        )
        .await
        .assert(200);
        app.post(&record(&target), Some(&inspector), &result("passed", None))
            .await
            .assert(409);
        // To the public a recusal says only that it happened.
        let public = app.get(&path, None).await;
        for t in public.body["targets"].as_array().unwrap() {
            for r in t["recusals"].as_array().unwrap() {
                assert_eq!(r["reason"], "recused");
            }
        }
        // Not public until the campaign closes; the agency sees it at once.
        assert!(app.get(&path, None).await.body["targets"][0]["result"].is_null());
        assert_eq!(
            app.get(&path, Some(&t)).await.body["targets"][0]["result"]["result"],
            "failed"
        );
        let r = app.post(&format!("{path}/close"), Some(&t), &json!({})).await;
        r.assert(422);
        assert_eq!(r.fields(), ["targets"]);
        app.post(
            &record(&second),
            Some(&app.token("agri4").await),
            &result("passed", None),
        )
        .await
        .assert(200);
        app.post(&format!("{path}/close"), Some(&t), &json!({}))
            .await
            .assert(200);
        let published = app.get(&path, None).await;
        assert_eq!(published.body["state"], "closed");
        assert_eq!(published.body["targets"][0]["result"]["result"], "failed");
        assert_eq!(
            published.body["targets"][0]["result"]["findings"],
            "枸杞多糖含量低于标示值"
        );
        app.post(&record(&second), Some(&app.token("agri4").await), &result("passed", None))
            .await
            .assert(409);
        // The plan's progress counts the published results by sector.
        use chrono::Datelike;
        let year = registry::clock::today().year();
        let progress = app
            .get(&format!("/api/v1/stats/plan-progress?year={year}"), None)
            .await;
        let food = progress.body["spot_checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sector"] == "food")
            .unwrap()
            .clone();
        assert_eq!(food["checked"], 2);
        assert_eq!(food["passed"], 1);
        assert_eq!(food["failed"], 1);
        assert_eq!(food["pass_rate"], 0.5);
        assert_eq!(food["coverage"], 1.0, "the one active food enterprise was inspected");
        let earlier = app
            .get(&format!("/api/v1/stats/plan-progress?year={}", year - 1), None)
            .await;
        assert!(earlier.body["spot_checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["checked"] == 0));
        let listed = app.get("/api/v1/spot-checks?agency=agriculture", None).await;
        assert_eq!(listed.body["items"][0]["id"], id.as_str());

        let actions: Vec<String> = app
            .audit_for("spot_check", &id)
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "spot_check.create",
                "spot_check.draw",
                "spot_check.result",
                "spot_check.result",
                "spot_check.close"
            ]
        );

        // A draw that does not follow the rule is caught.
        use diesel::prelude::*;
        use registry::db::schema::spot_check_targets as st;
        diesel::update(st::table.filter(st::target_id.eq(&target)))
            .set(st::score.eq("0000"))
            .execute(&mut app.conn())
            .unwrap();
        let check = registry::spot_checks::verify_draw(&mut app.conn(), &id).unwrap();
        assert!(!check.ok);
        let (code, said) = verify_draw_command(&app, &id);
        assert_eq!(code, Some(2), "{said}");
        assert!(said.contains("does NOT follow the rule"), "{said}");
    })
    .await;
}
