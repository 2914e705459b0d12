//! Supervision and credit: the dishonesty list and what it forbids, and the enterprise
//! lifecycle (suspend, reinstate, deregister) and what each does to visibility, records and
//! applications.

use serde_json::{json, Value};

use crate::common::{each_backend, TestApp};

async fn draft(app: &TestApp, product_name: &str, number: &str) -> (String, String) {
    app.green_food_draft(product_name, number, 700).await
}

async fn submit(app: &TestApp, id: &str) -> crate::common::Resp {
    app.submit_application(id).await
}

async fn certified(app: &TestApp, product_name: &str, number: &str) -> String {
    certified_ending(app, product_name, number, 700).await
}

/// Submitted, reviewed and approved by agriculture, ending `days` from today: the record's id.
async fn certified_ending(app: &TestApp, product_name: &str, number: &str, days: u64) -> String {
    let (id, _) = app.green_food_draft(product_name, number, days).await;
    app.submit_application(&id).await.assert(200);
    let approved = app
        .agriculture_decides(&id, json!({"decision": "approve"}))
        .await;
    approved["record_id"].as_str().unwrap().to_owned()
}

fn error_codes(r: &crate::common::Resp) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_listed_enterprise_cannot_apply_until_its_listing_is_removed() {
    each_backend(|app: TestApp| async move {
        let market = app.token("market").await;
        let today = registry::clock::today();
        let listing = |enterprise: &str, starts: chrono::NaiveDate| {
            json!({"enterprise_id": enterprise, "reason": "销售不合格枸杞产品，拒不整改",
                   "legal_basis": "《市场监督管理严重违法失信名单管理办法》第九条",
                   "starts_on": starts.to_string(),
                   "ends_on": (starts + chrono::Days::new(3 * 365)).to_string()})
        };
        let body = listing(&app.fx.ent_a, today);

        // Only market regulation keeps the list; every field is checked.
        for who in ["agri", "ent_a", "admin"] {
            app.post(
                "/api/v1/credit/dishonesty",
                Some(&app.token(who).await),
                &body,
            )
            .await
            .assert(403);
        }
        app.post("/api/v1/credit/dishonesty", None, &body)
            .await
            .assert(401);
        let mut bad = body.clone();
        bad["reason"] = json!(" ");
        bad["ends_on"] = json!((today - chrono::Days::new(1)).to_string());
        let r = app
            .post("/api/v1/credit/dishonesty", Some(&market), &bad)
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["reason", "ends_on"]);
        let r = app
            .post(
                "/api/v1/credit/dishonesty",
                Some(&market),
                &listing(&app.fx.ent_c, today),
            )
            .await;
        r.assert(422);
        assert_eq!(
            error_codes(&r),
            ["unknown_enterprise"],
            "a pending enterprise is not on the register"
        );

        // A listing that starts tomorrow is public but not in force.
        let later = app
            .post(
                "/api/v1/credit/dishonesty",
                Some(&market),
                &listing(&app.fx.ent_b, today + chrono::Days::new(1)),
            )
            .await;
        later.assert(201);
        assert_eq!(later.body["in_force"], false);
        let b = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_b), None)
            .await;
        assert_eq!(b.body["on_dishonesty_list"], false);

        let (application, _) = draft(&app, "失信测试枸杞", "LB-18-2611019991").await;
        let listed = app
            .post("/api/v1/credit/dishonesty", Some(&market), &body)
            .await;
        listed.assert(201);
        assert_eq!(listed.body["in_force"], true);
        assert_eq!(listed.body["enterprise_name"], "测试甲枸杞有限公司");
        let listing_id = listed.body["id"].as_str().unwrap().to_owned();

        // Public: the list, the listing, and the flag on the enterprise's profile.
        let list = app
            .get("/api/v1/credit/dishonesty?in_force=true", None)
            .await;
        list.assert(200);
        let ids: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [listing_id.as_str()]);
        app.get("/api/v1/credit/dishonesty?in_force=maybe", None)
            .await
            .assert(422);
        app.get(&format!("/api/v1/credit/dishonesty/{listing_id}"), None)
            .await
            .assert(200);
        let a = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_a), None)
            .await;
        assert_eq!(a.body["on_dishonesty_list"], true);

        let progress = app.get("/api/v1/stats/plan-progress", None).await;
        assert_eq!(
            progress.body["listed_enterprises"], 1,
            "the listing starting tomorrow is not counted"
        );

        // It cannot submit; the deciding agency sees the listing on the application.
        let r = submit(&app, &application).await;
        r.assert(422);
        assert_eq!(r.code(), "enterprise_on_dishonesty_list");
        assert_eq!(r.fields(), ["enterprise_id"]);
        let seen = app
            .get(
                &format!("/api/v1/applications/{application}"),
                Some(&app.token("agri").await),
            )
            .await;
        assert_eq!(seen.body["dishonesty_listing"]["id"], listing_id.as_str());

        // Credit repair: with a reason, once; then it may apply again.
        let remove = format!("/api/v1/credit/dishonesty/{listing_id}/remove");
        app.post(&remove, Some(&market), &json!({"reason": ""}))
            .await
            .assert(422);
        app.post(
            &remove,
            Some(&app.token("agri").await),
            &json!({"reason": "x"}),
        )
        .await
        .assert(403);
        let removed = app
            .post(
                &remove,
                Some(&market),
                &json!({"reason": "已履行行政处罚，完成信用修复"}),
            )
            .await;
        removed.assert(200);
        assert_eq!(removed.body["in_force"], false);
        assert_eq!(
            removed.body["removal_reason"],
            "已履行行政处罚，完成信用修复"
        );
        app.post(&remove, Some(&market), &json!({"reason": "again"}))
            .await
            .assert(409);
        let a = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_a), None)
            .await;
        assert_eq!(a.body["on_dishonesty_list"], false);
        submit(&app, &application).await.assert(200);

        let actions: Vec<String> = app
            .audit_for("enterprise", &app.fx.ent_a)
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a.contains("dishonest"))
            .collect();
        assert_eq!(
            actions,
            ["enterprise.list_dishonest", "enterprise.delist_dishonest"]
        );
    })
    .await;
}

async fn act(app: &TestApp, who: &str, action: &str, reason: &str) -> crate::common::Resp {
    app.post(
        &format!("/api/v1/enterprises/{}/{action}", app.fx.ent_a),
        Some(&app.token(who).await),
        &json!({ "reason": reason }),
    )
    .await
}

async fn changes(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/changes?since=0&limit=1000", None)
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn suspending_and_deregistering_an_enterprise_hide_it_keep_its_records_and_close_its_applications(
) {
    each_backend(|app: TestApp| async move {
        let record = certified(&app, "生命周期枸杞", "LB-18-2611019992").await;
        let (open, product) = draft(&app, "生命周期枸杞二号", "LB-18-2611019993").await;
        let verify = "/api/v1/verify/LB-18-2611019992";
        assert_eq!(
            app.get(verify, None).await.body["holder"]["status"],
            "active"
        );

        // Market regulation alone, with a reason.
        act(&app, "agri", "suspend", "x").await.assert(403);
        act(&app, "ent_a", "suspend", "x").await.assert(403);
        act(&app, "market", "suspend", " ").await.assert(422);
        act(&app, "market", "reinstate", "x").await.assert(409);
        let r = act(&app, "market", "suspend", "抽检发现严重质量问题，停业整顿").await;
        r.assert(200);
        assert_eq!(r.body["status"], "suspended");
        act(&app, "market", "suspend", "again").await.assert(409);

        // Suspended: out of public view, cannot apply; its record still verifies, saying so.
        let profile = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        app.get(&profile, None).await.assert(404);
        app.get(&format!("/api/v1/products/{product}"), None)
            .await
            .assert(404);
        let v = app.get(verify, None).await;
        v.assert(200);
        assert_eq!(v.body["status"], "valid");
        assert_eq!(v.body["holder"]["status"], "suspended");
        let r = submit(&app, &open).await;
        r.assert(409);
        assert_eq!(r.code(), "enterprise_not_active");
        // Followers hear that it and its products left.
        let feed = changes(&app).await;
        assert!(feed.iter().any(
            |c| c["change"] == "enterprise.suspend" && c["entity_id"] == app.fx.ent_a.as_str()
        ));
        assert!(feed
            .iter()
            .any(|c| c["change"] == "product.withdraw" && c["entity_id"] == product.as_str()));

        // Reinstated: public again.
        act(&app, "market", "reinstate", "整改完成，复查合格")
            .await
            .assert(200);
        app.get(&profile, None).await.assert(200);
        app.get(&format!("/api/v1/products/{product}"), None)
            .await
            .assert(200);
        assert_eq!(
            app.get(verify, None).await.body["holder"]["status"],
            "active"
        );

        // Deregistered: final; its open application is closed with the reason, its users
        // can no longer sign in; its record keeps its own status.
        let a = app.token("ent_a").await;
        let r = act(&app, "market", "deregister", "企业申请注销登记").await;
        r.assert(200);
        assert_eq!(r.body["status"], "deregistered");
        act(&app, "market", "reinstate", "x").await.assert(409);
        let closed = app
            .get(
                &format!("/api/v1/applications/{open}"),
                Some(&app.token("agri").await),
            )
            .await;
        assert_eq!(closed.body["state"], "withdrawn");
        let last = closed.body["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["reason"], "企业申请注销登记");
        app.get("/api/v1/auth/me", Some(&a)).await.assert(401);
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": crate::common::PASSWORD}),
            )
            .await;
        assert_eq!(login.status.as_u16(), 401);
        let v = app.get(verify, None).await;
        assert_eq!(v.body["status"], "valid");
        assert_eq!(v.body["holder"]["status"], "deregistered");
        let cert = app
            .get(
                &format!("/api/v1/certifications/{record}"),
                Some(&app.token("agri").await),
            )
            .await;
        assert_eq!(cert.body["status"], "valid");

        let actions: Vec<String> = app
            .audit_for("enterprise", &app.fx.ent_a)
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a != "enterprise.create")
            .collect();
        assert_eq!(
            actions,
            [
                "enterprise.suspend",
                "enterprise.reinstate",
                "enterprise.deregister"
            ]
        );
    })
    .await;
}

#[actix_web::test]
async fn records_ending_soon_are_listed_for_the_holder_and_the_deciding_agency() {
    each_backend(|app: TestApp| async move {
        let soon = certified_ending(&app, "将到期枸杞", "LB-18-2611019994", 20).await;
        let later = certified_ending(&app, "远期枸杞", "LB-18-2611019995", 700).await;
        let a = app.token("ent_a").await;
        let ids = |r: &crate::common::Resp| -> Vec<String> {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let within = |days: &str| {
            format!(
                "/api/v1/certifications?enterprise_id={}&expiring_within={days}",
                app.fx.ent_a
            )
        };
        let r = app.get(&within("30"), Some(&a)).await;
        r.assert(200);
        assert_eq!(ids(&r), vec![soon.clone()]);
        assert!(ids(&app.get(&within("7"), Some(&a)).await).is_empty());
        assert_eq!(ids(&app.get(&within("3650"), Some(&a)).await).len(), 2);
        assert!(ids(&app.get(&within("3650"), Some(&a)).await).contains(&later));
        for bad in ["0", "3651", "soon"] {
            let r = app.get(&within(bad), Some(&a)).await;
            r.assert(422);
            assert_eq!(r.fields(), ["expiring_within"]);
        }
        app.get("/api/v1/designations?expiring_within=30", None)
            .await
            .assert(200);

        // The console marks it for the holder and lists it for the deciding agency only.
        use crate::console::{get_with, html, sign_in};
        let holder = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let home = html(&get_with(&app, "/console/", &holder).await).to_owned();
        assert!(home.contains("30 日内到期"), "{home}");
        let agri = sign_in(&app, "agri", crate::common::PASSWORD).await;
        let home = html(&get_with(&app, "/console/", &agri).await).to_owned();
        assert!(home.contains(&format!("/console/records/{soon}")), "{home}");
        assert!(!home.contains(&format!("/console/records/{later}")));
        let halal = sign_in(&app, "halal", crate::common::PASSWORD).await;
        let home = html(&get_with(&app, "/console/", &halal).await).to_owned();
        assert!(!home.contains(&format!("/console/records/{soon}")));
    })
    .await;
}

#[actix_web::test]
async fn enterprises_publish_their_own_standards_and_declaring_a_superseded_one_warns() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let b = app.token("ent_b").await;
        const SHA: &str = crate::common::DOCUMENT_SHA;
        let own = |code: &str, enterprise: Option<&str>, issuer: Option<&str>| {
            json!({"code": code, "title": "红果源枸杞原浆企业标准", "text_sha256": SHA,
                   "published_on": "2026-11-01", "enterprise_id": enterprise, "issuer": issuer})
        };
        let q = own("Q/QHHG 0001S—2026", Some(&app.fx.ent_a), None);
        // An enterprise standard is its own enterprise's.
        app.post("/api/v1/standards/own", Some(&b), &q)
            .await
            .assert(404);
        app.post("/api/v1/standards/own", Some(&app.token("agri").await), &q)
            .await
            .assert(403);
        app.post("/api/v1/standards/own", None, &q)
            .await
            .assert(401);
        let mut bad = q.clone();
        bad["text_sha256"] = json!("not a hash");
        let r = app.post("/api/v1/standards/own", Some(&a), &bad).await;
        r.assert(422);
        assert_eq!(r.fields(), ["text_sha256"]);
        let r = app
            .post(
                "/api/v1/standards/own",
                Some(&a),
                &own("GB 2760-2024", Some(&app.fx.ent_a), None),
            )
            .await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["not_own_standard"]);
        let made = app.post("/api/v1/standards/own", Some(&a), &q).await;
        made.assert(201);
        assert_eq!(made.body["code"], "Q/QHHG 0001S-2026");
        assert_eq!(made.body["level"], "enterprise");
        assert_eq!(made.body["owner_enterprise_id"], app.fx.ent_a.as_str());
        assert_eq!(made.body["text_sha256"], SHA);
        app.post("/api/v1/standards/own", Some(&a), &q)
            .await
            .assert(409);

        // A pending enterprise publishes nothing into the public catalogue.
        let pending = app
            .post(
                "/api/v1/standards/own",
                Some(&app.token("ent_c").await),
                &own("Q/PEND 0001S-2026", Some(&app.fx.ent_c), None),
            )
            .await;
        pending.assert(409);
        assert_eq!(pending.code(), "enterprise_not_active");

        // A group standard names its issuer; any active enterprise's user may register one.
        let t = own("T/QHGQ 003-2025", None, Some("青海省枸杞产业协会"));
        let r = app
            .post(
                "/api/v1/standards/own",
                Some(&b),
                &own("T/QHGQ 003-2025", None, None),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), ["issuer"]);
        app.post("/api/v1/standards/own", Some(&app.token("agri").await), &t)
            .await
            .assert(403);
        let group = app.post("/api/v1/standards/own", Some(&b), &t).await;
        group.assert(201);
        assert_eq!(group.body["level"], "group");
        assert_eq!(group.body["issuer"], "青海省枸杞产业协会");

        // Only the owner's products declare its enterprise standard; anyone's a group one.
        let goji = app.goji_product(&a, "企标枸杞").await;
        let declare = |product: &str| format!("/api/v1/products/{product}/standards");
        app.post(
            &declare(&goji),
            Some(&a),
            &json!({"standard_code": "Q/QHHG 0001S-2026"}),
        )
        .await
        .assert(201);
        let mut carpet = app.product_body("企标藏毯", None);
        carpet["enterprise_id"] = json!(app.fx.ent_b);
        carpet["sector"] = json!("light_textile");
        carpet["category"] = json!("carpet");
        carpet["origin_region_code"] = json!("630100");
        let carpet = app.post("/api/v1/products", Some(&b), &carpet).await;
        carpet.assert(201);
        let carpet = carpet.body["id"].as_str().unwrap().to_owned();
        let r = app
            .post(
                &declare(&carpet),
                Some(&b),
                &json!({"standard_code": "Q/QHHG 0001S-2026"}),
            )
            .await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["not_your_standard"]);
        app.post(
            &declare(&carpet),
            Some(&b),
            &json!({"standard_code": "T/QHGQ 003-2025"}),
        )
        .await
        .assert(201);

        // A superseded standard is declared, with a warning naming its successor.
        let r = app
            .post(
                &declare(&goji),
                Some(&a),
                &json!({"standard_code": "GB 2760-2014"}),
            )
            .await;
        r.assert(201);
        assert_eq!(
            r.body["warning"],
            "GB 2760-2014 is superseded by GB 2760-2024"
        );
        let current = app
            .post(
                &declare(&goji),
                Some(&a),
                &json!({"standard_code": "GB 2760-2024"}),
            )
            .await;
        current.assert(201);
        assert!(current.body.get("warning").is_none());
    })
    .await;
}

#[actix_web::test]
async fn a_record_is_renewed_within_its_window_by_a_successor_linked_both_ways() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let kinds = app.get("/api/v1/application-kinds", None).await;
        let green = kinds.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["code"] == "green_food")
            .unwrap()
            .clone();
        assert_eq!(green["renewal_window_days"], 180);

        let old = certified_ending(&app, "续展枸杞", "LB-18-2611017001", 20).await;
        let cert = app
            .get(&format!("/api/v1/certifications/{old}"), None)
            .await;
        let product = cert.body["product_id"].as_str().unwrap().to_owned();
        let today = registry::clock::today();
        let body = |number: &str, renews: Option<&str>| {
            json!({"kind": "green_food", "enterprise_id": app.fx.ent_a, "product_id": product,
                   "details": {"certificate_number": number,
                               "certification_body_id": cert.body["certification_body_id"],
                               "issued_on": today.to_string(),
                               "expires_on": (today + chrono::Days::new(1000)).to_string(),
                               "scope": "枸杞干果"},
                   "renews": renews})
        };
        // Without `renews`, the live record makes it a duplicate; with it, a renewal.
        let dup = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &body("LB-18-2611017002", None),
            )
            .await;
        dup.assert(409);
        assert_eq!(dup.code(), "duplicate_application");
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &body("LB-18-2611017002", Some("no-such-record")),
            )
            .await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["unknown_record"]);
        let renewal = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &body("LB-18-2611017002", Some(&old)),
            )
            .await;
        renewal.assert(201);
        let id = renewal.body["id"].as_str().unwrap().to_owned();
        submit(&app, &id).await.assert(200);
        let approved = app
            .agriculture_decides(&id, json!({"decision": "approve"}))
            .await;
        assert_eq!(approved["renews"], old.as_str());
        let new = approved["record_id"].as_str().unwrap().to_owned();
        assert_ne!(new, old);

        // Linked both ways; the old record stays as it was until it ends.
        let new_cert = app
            .get(&format!("/api/v1/certifications/{new}"), None)
            .await;
        assert_eq!(new_cert.body["renews"], old.as_str());
        assert_eq!(new_cert.body["certificate_number"], "LB-18-2611017002");
        let old_cert = app
            .get(&format!("/api/v1/certifications/{old}"), Some(&agri))
            .await;
        assert_eq!(old_cert.body["renewed_by"], new.as_str());
        assert_eq!(old_cert.body["status"], "valid");

        // A record suspended after its renewal was filed is not renewed around that decision.
        let suspended = certified_ending(&app, "暂停续展枸杞", "LB-18-2611017006", 30).await;
        let s_cert = app
            .get(&format!("/api/v1/certifications/{suspended}"), None)
            .await;
        let mut filed = body("LB-18-2611017007", Some(&suspended));
        filed["product_id"] = s_cert.body["product_id"].clone();
        let filed = app.post("/api/v1/applications", Some(&a), &filed).await;
        filed.assert(201);
        let filed = filed.body["id"].as_str().unwrap().to_owned();
        submit(&app, &filed).await.assert(200);
        app.post(
            &format!("/api/v1/certifications/{suspended}/suspend"),
            Some(&agri),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        app.post(
            &format!("/api/v1/applications/{filed}/start-review"),
            Some(&agri),
            &json!({}),
        )
        .await
        .assert(200);
        let r = app
            .post(
                &format!("/api/v1/applications/{filed}/decide"),
                Some(&agri),
                &json!({"decision": "approve"}),
            )
            .await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["not_live"]);

        // Too early: a record ending in 700 days is not renewed yet.
        let far = certified_ending(&app, "远期续展枸杞", "LB-18-2611017003", 700).await;
        let far_cert = app
            .get(&format!("/api/v1/certifications/{far}"), None)
            .await;
        let mut early = body("LB-18-2611017004", Some(&far));
        early["product_id"] = far_cert.body["product_id"].clone();
        let r = app.post("/api/v1/applications", Some(&a), &early).await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["outside_renewal_window"]);
        // Nor does a renewal name another product's record.
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &body("LB-18-2611017005", Some(&far)),
            )
            .await;
        r.assert(422);
        assert_eq!(error_codes(&r), ["not_this_record"]);
    })
    .await;
}
