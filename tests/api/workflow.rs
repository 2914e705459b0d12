//! Applications, their review, and the records they create.

use crate::common::{backends, each_backend, TestApp};
use serde_json::{json, Value};

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

async fn cert_application(
    app: &TestApp,
    token: &str,
    kind: &str,
    product: &str,
    number: &str,
    issued: &str,
    expires: &str,
) -> Value {
    let body = json!({
        "kind": kind, "enterprise_id": app.fx.ent_a, "product_id": product,
        "details": {"certificate_number": number, "certification_body_id": app.body_for(kind).await,
                    "issued_on": issued, "expires_on": expires, "scope": "枸杞原浆 500 吨/年"},
        "documents": [{"name": "证书.pdf", "sha256": SHA, "size_bytes": 1024}]
    });
    let r = app.post("/api/v1/applications", Some(token), &body).await;
    r.assert(201);
    r.body
}

fn path(app: &Value, step: &str) -> String {
    format!(
        "/api/v1/applications/{}/{step}",
        app["id"].as_str().unwrap()
    )
}

#[actix_web::test]
async fn a_certification_is_applied_for_reviewed_by_its_agency_and_verifiable() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "柴达木枸杞原浆").await;
        let draft = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "LB-18-2601011234",
            "2026-01-10",
            "2029-01-09",
        )
        .await;
        assert_eq!(draft["state"], "draft");
        assert_eq!(draft["agency_code"], "agriculture");
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        // Only the responsible agency reviews; other enterprises and the public never see it.
        app.post(
            &path(&draft, "start-review"),
            Some(&app.token("market").await),
            &json!({}),
        )
        .await
        .assert(403);
        app.post(
            &path(&draft, "start-review"),
            Some(&app.token("admin").await),
            &json!({}),
        )
        .await
        .assert(403);
        let b = app.token("ent_b").await;
        let app_path = format!("/api/v1/applications/{}", draft["id"].as_str().unwrap());
        app.get(&app_path, Some(&b)).await.assert(404);
        app.get(&app_path, None).await.assert(404);
        app.post(&path(&draft, "start-review"), Some(&b), &json!({}))
            .await
            .assert(404);
        assert!(
            app.get("/api/v1/applications", Some(&b)).await.body["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let agri = app.token("agri").await;
        let r = app
            .post(&path(&draft, "start-review"), Some(&agri), &json!({}))
            .await;
        r.assert(200);
        assert_eq!(r.body["state"], "under_review");
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&agri),
                &json!({"decision": "approve"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["state"], "approved");
        let states: Vec<&str> = r.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to_state"].as_str().unwrap())
            .collect();
        assert_eq!(
            states,
            vec!["draft", "submitted", "under_review", "approved"]
        );
        let cert_id = r.body["record_id"].as_str().unwrap();
        let cert = app
            .get(&format!("/api/v1/certifications/{cert_id}"), None)
            .await;
        cert.assert(200);
        assert_eq!(cert.body["status"], "valid");
        assert_eq!(cert.body["history"][0]["to_status"], "valid");
        let v = app.get("/api/v1/verify/LB-18-2601011234", None).await;
        v.assert(200);
        assert_eq!(v.body["kind"], "green_food");
        assert_eq!(v.body["valid"], true);
        assert_eq!(v.body["holder"]["name"], "测试甲枸杞有限公司");
        assert_eq!(v.body["product"]["name"], "柴达木枸杞原浆");
        assert!(v.body["checked_at"].is_string());
        app.get("/api/v1/verify/NO-SUCH-NUMBER", None)
            .await
            .assert(404);
        // The applicant sees its application in its list; the approval is audited.
        assert_eq!(
            app.get("/api/v1/applications", Some(&a)).await.body["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let actions: Vec<String> = app
            .audit_for("application", draft["id"].as_str().unwrap())
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            vec![
                "application.create",
                "application.submit",
                "application.start_review",
                "application.approve"
            ]
        );
    })
    .await;
}

#[actix_web::test]
async fn two_regulators_deciding_at_once_exactly_one_wins() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "并发审核产品").await;
        let draft = cert_application(
            &app,
            &a,
            "organic",
            &product,
            "ORG-2026-000001",
            "2026-03-01",
            "2027-02-28",
        )
        .await;
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        let (t1, t2) = (app.token("agri").await, app.token("agri2").await);
        app.post(&path(&draft, "start-review"), Some(&t1), &json!({}))
            .await
            .assert(200);
        let p = path(&draft, "decide");
        let (approve, reject) = (
            json!({"decision": "approve"}),
            json!({"decision": "reject", "reason": "scope too broad"}),
        );
        let (r1, r2) = futures_util::future::join(
            app.post(&p, Some(&t1), &approve),
            app.post(&p, Some(&t2), &reject),
        )
        .await;
        let mut codes = vec![r1.status.as_u16(), r2.status.as_u16()];
        codes.sort();
        assert_eq!(codes, vec![200, 409], "{} / {}", r1.body, r2.body);
        let loser = if r1.status.as_u16() == 409 { &r1 } else { &r2 };
        assert!(["approved", "rejected"].contains(&loser.body["current_state"].as_str().unwrap()));
    })
    .await;
}

#[actix_web::test]
async fn illegal_transitions_are_409_with_the_current_state() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let product = app.goji_product(&a, "状态机产品").await;
        let draft = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "LB-18-2601019999",
            "2026-01-10",
            "2029-01-09",
        )
        .await;
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&agri),
                &json!({"decision": "approve"}),
            )
            .await;
        r.assert(409);
        assert_eq!(r.body["current_state"], "draft");
        app.post(&path(&draft, "grant"), Some(&agri), &json!({}))
            .await
            .assert(409);
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        let again = app
            .post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await;
        again.assert(409);
        assert_eq!(again.body["current_state"], "submitted");
        // Sent back for changes, amended, resubmitted.
        app.post(&path(&draft, "start-review"), Some(&agri), &json!({}))
            .await
            .assert(200);
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&agri),
                &json!({"decision": "request_changes"}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["reason"]);
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&agri),
                &json!({"decision": "request_changes", "reason": "scan illegible"}),
            )
            .await;
        assert_eq!(r.body["state"], "changes_requested");
        let id = draft["id"].as_str().unwrap();
        let amended = app
            .patch(
                &format!("/api/v1/applications/{id}"),
                Some(&a),
                &json!({"documents": [{"name": "清晰版.pdf", "sha256": SHA, "size_bytes": 2048}]}),
            )
            .await;
        amended.assert(200);
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        // Withdrawn before a decision; nothing after.
        app.post(
            &path(&draft, "withdraw"),
            Some(&app.token("ent_b").await),
            &json!({}),
        )
        .await
        .assert(404);
        let w = app
            .post(&path(&draft, "withdraw"), Some(&a), &json!({}))
            .await;
        assert_eq!(w.body["state"], "withdrawn");
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(409);
        app.post(
            &path(&draft, "decide"),
            Some(&agri),
            &json!({"decision": "maybe"}),
        )
        .await
        .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn kind_rules_halal_food_only_validity_and_historical_kinds() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "规则产品").await;
        // Certificates within the kind's validity, after their issue date.
        let mut body = json!({
            "kind": "organic", "enterprise_id": app.fx.ent_a, "product_id": product,
            "details": {"certificate_number": "ORG-1", "certification_body_id": app.body_for("organic").await,
                        "issued_on": "2026-01-01", "expires_on": "2027-06-01", "scope": "x"}
        });
        let r = app.post("/api/v1/applications", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "beyond_validity");
        body["details"]["expires_on"] = json!("2025-12-01");
        let r = app.post("/api/v1/applications", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["field"], "details.expires_on");
        body["details"]["expires_on"] = json!("not a date");
        app.post("/api/v1/applications", Some(&a), &body).await.assert(422);
        // A body that does not issue the kind.
        body["details"]["expires_on"] = json!("2026-12-31");
        body["details"]["certification_body_id"] = json!(app.body_for("green_food").await);
        let r = app.post("/api/v1/applications", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "body_not_for_kind");
        // Halal is refused outside food.
        let b = app.token("ent_b").await;
        let mut carpet = app.product_body("手工藏毯", None);
        carpet["enterprise_id"] = json!(app.fx.ent_b);
        carpet["sector"] = json!("light_textile");
        carpet["category"] = json!("carpet");
        carpet["origin_region_code"] = json!("630100");
        let carpet = app.post("/api/v1/products", Some(&b), &carpet).await.body["id"].as_str().unwrap().to_owned();
        let halal = json!({
            "kind": "halal", "enterprise_id": app.fx.ent_b, "product_id": carpet,
            "details": {"certificate_number": "QZ-2026-1", "certification_body_id": app.body_for("halal").await,
                        "issued_on": "2026-01-01", "expires_on": "2027-01-01", "scope": "x"}
        });
        let r = app.post("/api/v1/applications", Some(&b), &halal).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "not_food");
        // Historical kinds accept nothing; unknown kinds are named.
        let r = app.post("/api/v1/applications", Some(&a), &json!({"kind": "national_famous_brand", "enterprise_id": app.fx.ent_a, "product_id": product})).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "not_accepting_applications");
        app.post("/api/v1/applications", Some(&a), &json!({"kind": "nope", "enterprise_id": app.fx.ent_a})).await.assert(422);
        // Only the enterprise's own users apply.
        app.post("/api/v1/applications", Some(&b), &json!({"kind": "provincial_famous_brand", "enterprise_id": app.fx.ent_a, "product_id": product})).await.assert(404);
        app.post("/api/v1/applications", Some(&app.token("agri").await), &json!({"kind": "provincial_famous_brand", "enterprise_id": app.fx.ent_a, "product_id": product})).await.assert(403);
        let kinds = app.get("/api/v1/application-kinds", None).await;
        let halal_kind = kinds.body["items"].as_array().unwrap().iter().find(|k| k["code"] == "halal").unwrap().clone();
        assert_eq!(halal_kind["deciding_agency"], "ethnic_religious_affairs");
        assert_eq!(halal_kind["food_only"], true);
    })
    .await;
}

#[actix_web::test]
async fn an_enterprise_that_is_not_active_cannot_submit() {
    each_backend(|app: TestApp| async move {
        let c = app.token("ent_c").await;
        let mut body = app.product_body("待审企业产品", None);
        body["enterprise_id"] = json!(app.fx.ent_c);
        body["origin_region_code"] = json!("630200");
        let product = app.post("/api/v1/products", Some(&c), &body).await.body["id"].as_str().unwrap().to_owned();
        let draft = app
            .post("/api/v1/applications", Some(&c), &json!({"kind": "provincial_famous_brand", "enterprise_id": app.fx.ent_c, "product_id": product, "details": {"summary": "x"}}))
            .await;
        draft.assert(201);
        let r = app.post(&path(&draft.body, "submit"), Some(&c), &json!({})).await;
        r.assert(409);
        assert_eq!(r.code(), "enterprise_not_active");
    })
    .await;
}

async fn gi_application(app: &TestApp, token: &str, product: &str) -> Value {
    let body = json!({"kind": "gi_product", "enterprise_id": app.fx.ent_a, "product_id": product,
                      "geographical_indication_id": app.gi("qaidam_goji_protected_product"), "details": {"summary": "柴达木产区"}});
    let r = app.post("/api/v1/applications", Some(token), &body).await;
    r.assert(201);
    r.body
}

#[actix_web::test]
async fn a_gi_designation_needs_the_origin_inside_the_protected_area() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let mut outside = app.product_body("西宁产枸杞", None);
        outside["origin_region_code"] = json!("630100");
        let outside = app.post("/api/v1/products", Some(&a), &outside).await.body["id"].as_str().unwrap().to_owned();
        let body = json!({"kind": "gi_product", "enterprise_id": app.fx.ent_a, "product_id": outside,
                          "geographical_indication_id": app.gi("qaidam_goji_protected_product")});
        let r = app.post("/api/v1/applications", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "origin_outside_protected_area");
        let mut no_gi = body.clone();
        no_gi.as_object_mut().unwrap().remove("geographical_indication_id");
        let r = app.post("/api/v1/applications", Some(&a), &no_gi).await;
        assert_eq!(r.fields(), vec!["geographical_indication_id"]);
        // A county of Haixi is inside.
        let inside = app.goji_product(&a, "德令哈枸杞").await;
        gi_application(&app, &a, &inside).await;
    })
    .await;
}

#[actix_web::test]
async fn designations_go_through_a_public_notice_and_are_granted_with_a_number() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        let product = app.goji_product(&a, "柴达木枸杞干果").await;
        let draft = gi_application(&app, &a, &product).await;
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(
            &path(&draft, "start-review"),
            Some(&app.token("agri").await),
            &json!({}),
        )
        .await
        .assert(403);
        app.post(&path(&draft, "start-review"), Some(&market), &json!({}))
            .await
            .assert(200);
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&market),
                &json!({"decision": "approve", "reason": "材料齐全"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["state"], "in_public_notice");
        let states: Vec<&str> = r.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to_state"].as_str().unwrap())
            .collect();
        assert_eq!(
            &states[states.len() - 2..],
            &["approved", "in_public_notice"]
        );
        // In public notice the public sees it, without the private details.
        let public = app
            .get(
                &format!("/api/v1/applications/{}", draft["id"].as_str().unwrap()),
                None,
            )
            .await;
        public.assert(200);
        assert!(public.body.get("details").is_none());
        let g = app
            .post(&path(&draft, "grant"), Some(&market), &json!({}))
            .await;
        g.assert(200);
        assert_eq!(g.body["state"], "granted");
        let designation_id = g.body["record_id"].as_str().unwrap().to_owned();
        let d = app
            .get(&format!("/api/v1/designations/{designation_id}"), None)
            .await;
        d.assert(200);
        let number = d.body["number"].as_str().unwrap().to_owned();
        assert!(
            number.starts_with("QHGI-") && number.ends_with("-0001"),
            "{number}"
        );
        assert_eq!(d.body["status"], "active");
        assert!(d.body["valid_until"].is_null());
        // The GI lists its authorised user; verification finds the number.
        let gi = app
            .get(
                &format!(
                    "/api/v1/geographical-indications/{}",
                    app.gi("qaidam_goji_protected_product")
                ),
                None,
            )
            .await;
        let users = gi.body["authorised_users"].as_array().unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0]["designation_number"], number.as_str());
        assert_eq!(gi.body["protected_area"], json!(["632800"]));
        let v = app.get(&format!("/api/v1/verify/{number}"), None).await;
        assert_eq!(v.body["status"], "active");
        assert_eq!(v.body["holder"]["uscc"].as_str().unwrap().len(), 18);
        // Listing with filters.
        let list = app
            .get(
                &format!(
                    "/api/v1/designations?kind=gi_product&geographical_indication_id={}",
                    app.gi("qaidam_goji_protected_product")
                ),
                None,
            )
            .await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
        // Revocation: only the responsible agency, with a reason, audited, visible at once.
        let revoke = format!("/api/v1/designations/{designation_id}/revoke");
        app.post(
            &revoke,
            Some(&app.token("agri").await),
            &json!({"reason": "x"}),
        )
        .await
        .assert(403);
        app.post(&revoke, Some(&market), &json!({"reason": ""}))
            .await
            .assert(422);
        let r = app
            .post(&revoke, Some(&market), &json!({"reason": "产地核查不符"}))
            .await;
        r.assert(200);
        assert_eq!(r.body["status"], "revoked");
        let entry = app
            .audit_for("designation", &designation_id)
            .into_iter()
            .find(|e| e.action == "designation.revoke")
            .expect("revocation audited");
        assert_eq!(entry.reason.as_deref(), Some("产地核查不符"));
        assert_eq!(entry.actor_label, "regulator:market");
        assert_eq!(
            app.get(&format!("/api/v1/verify/{number}"), None)
                .await
                .body["status"],
            "revoked"
        );
        // A certificate may carry the same number: verification then finds both (one look-up
        // across certificates and designations) and asks which kind is meant.
        let goji = app.goji_product(&a, "同号的枸杞").await;
        crate::public_api::certify(&app, &a, &goji, "green_food", &number).await;
        let both = app.get(&format!("/api/v1/verify/{number}"), None).await;
        both.assert(409);
        assert_eq!(both.code(), "ambiguous_number");
        assert!(
            both.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("green_food, gi_product")),
            "{}",
            both.body
        );
        let gi_answer = app
            .get(&format!("/api/v1/verify/{number}?kind=gi_product"), None)
            .await;
        assert_eq!(gi_answer.body["record_type"], "designation");
        assert_eq!(gi_answer.body["status"], "revoked");
        let cert_answer = app
            .get(&format!("/api/v1/verify/{number}?kind=green_food"), None)
            .await;
        assert_eq!(cert_answer.body["record_type"], "certification");
        assert_eq!(cert_answer.body["valid"], true);
        assert_eq!(cert_answer.body["product"]["id"], goji.as_str());
        assert!(app
            .get(
                &format!(
                    "/api/v1/geographical-indications/{}",
                    app.gi("qaidam_goji_protected_product")
                ),
                None
            )
            .await
            .body["authorised_users"]
            .as_array()
            .unwrap()
            .is_empty());
        app.post(&revoke, Some(&market), &json!({"reason": "again"}))
            .await
            .assert(409);
    }
}

#[actix_web::test]
async fn objections_during_the_notice_block_the_grant_and_an_upheld_one_rejects() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        let product = app.goji_product(&a, "异议测试枸杞").await;
        let draft = gi_application(&app, &a, &product).await;
        app.post(
            &path(&draft, "objections"),
            None,
            &json!({"name": "x", "contact": "0971-1234567", "text": "z"}),
        )
        .await
        .assert(404);
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(&path(&draft, "start-review"), Some(&market), &json!({}))
            .await
            .assert(200);
        app.post(
            &path(&draft, "decide"),
            Some(&market),
            &json!({"decision": "approve"}),
        )
        .await
        .assert(200);
        // The default notice is 7 days: no grant before it ends.
        let early = app
            .post(&path(&draft, "grant"), Some(&market), &json!({}))
            .await;
        early.assert(409);
        assert_eq!(early.code(), "public_notice_running");
        let o = app
            .post(
                &path(&draft, "objections"),
                None,
                &json!({"name": "王某", "contact": "0977-1234567", "text": "产地存疑"}),
            )
            .await;
        o.assert(201);
        assert!(o.body.get("contact").is_none());
        app.post(
            &path(&draft, "objections"),
            None,
            &json!({"name": "", "contact": "", "text": ""}),
        )
        .await
        .assert(422);
        let detail = app
            .get(
                &format!("/api/v1/applications/{}", draft["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(detail.body["objections"][0]["status"], "open");
        assert!(detail.body["objections"][0].get("contact").is_none());
        let oid = o.body["id"].as_str().unwrap();
        // Who objected is for the deciding agency only; the applicant sees what was said.
        let app_path = format!("/api/v1/applications/{}", draft["id"].as_str().unwrap());
        let applicant = app.get(&app_path, Some(&a)).await.body;
        assert_eq!(applicant["objections"][0]["text"], "产地存疑");
        assert!(applicant["objections"][0].get("name").is_none());
        assert!(applicant["objections"][0].get("contact").is_none());
        let decider = app.get(&app_path, Some(&market)).await.body;
        assert_eq!(decider["objections"][0]["name"], "王某");
        assert_eq!(decider["objections"][0]["contact"], "0977-1234567");
        // It is in the application's history; a contact must be a phone or an e-mail address.
        assert!(applicant["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == json!(format!("objection {oid} filed"))));
        let bad = app
            .post(
                &path(&draft, "objections"),
                None,
                &json!({"name": "赵某", "contact": "somewhere", "text": "x"}),
            )
            .await;
        bad.assert(422);
        assert_eq!(bad.fields(), vec!["contact"]);
        let resolve = format!("{}/{oid}/resolve", path(&draft, "objections"));
        app.post(
            &resolve,
            Some(&app.token("agri").await),
            &json!({"upheld": true, "reason": "x"}),
        )
        .await
        .assert(403);
        let r = app
            .post(
                &resolve,
                Some(&market),
                &json!({"upheld": true, "reason": "现场核查属实"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["state"], "rejected");
        assert_eq!(r.body["objections"][0]["status"], "upheld");
        app.post(
            &resolve,
            Some(&market),
            &json!({"upheld": false, "reason": "again"}),
        )
        .await
        .assert(409);
        app.post(&path(&draft, "grant"), Some(&market), &json!({}))
            .await
            .assert(409);
    })
    .await;
}

#[actix_web::test]
async fn suspended_revoked_and_expired_certificates_verify_as_such() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let product = app.goji_product(&a, "状态测试枸杞").await;
        // An old certificate, expired by the dates alone.
        let old = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "LB-18-2001010001",
            "2020-01-01",
            "2022-12-31",
        )
        .await;
        for (step, who, body) in [
            ("submit", &a, json!({})),
            ("start-review", &agri, json!({})),
            ("decide", &agri, json!({"decision": "approve"})),
        ] {
            app.post(&path(&old, step), Some(who), &body)
                .await
                .assert(200);
        }
        let v = app.get("/api/v1/verify/LB-18-2001010001", None).await;
        assert_eq!(v.body["status"], "expired");
        assert_eq!(v.body["valid"], false);
        // A current one: suspended, reinstated, revoked, each visible at once.
        let cur = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "LB-18-2601010002",
            "2026-01-01",
            "2028-12-31",
        )
        .await;
        let mut approved = Value::Null;
        for (step, who, body) in [
            ("submit", &a, json!({})),
            ("start-review", &agri, json!({})),
            ("decide", &agri, json!({"decision": "approve"})),
        ] {
            approved = app.post(&path(&cur, step), Some(who), &body).await.body;
        }
        let cert = approved["record_id"].as_str().unwrap().to_owned();
        let act = |action: &'static str| format!("/api/v1/certifications/{cert}/{action}");
        app.post(
            &act("suspend"),
            Some(&app.token("halal").await),
            &json!({"reason": "x"}),
        )
        .await
        .assert(403);
        app.post(&act("suspend"), Some(&a), &json!({"reason": "x"}))
            .await
            .assert(403);
        app.post(&act("reinstate"), Some(&agri), &json!({"reason": "x"}))
            .await
            .assert(409);
        app.post(
            &act("suspend"),
            Some(&agri),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        assert_eq!(
            app.get("/api/v1/verify/LB-18-2601010002", None).await.body["status"],
            "suspended"
        );
        app.post(
            &act("reinstate"),
            Some(&agri),
            &json!({"reason": "整改合格"}),
        )
        .await
        .assert(200);
        assert_eq!(
            app.get("/api/v1/verify/LB-18-2601010002", None).await.body["status"],
            "valid"
        );
        app.post(
            &act("revoke"),
            Some(&agri),
            &json!({"reason": "伪造检测报告"}),
        )
        .await
        .assert(200);
        let v = app.get("/api/v1/verify/LB-18-2601010002", None).await;
        assert_eq!(v.body["status"], "revoked");
        assert_eq!(v.body["valid"], false);
        // On a date before it was issued it was not yet valid; the history has every step.
        let before = app
            .get("/api/v1/verify/LB-18-2601010002?at=2025-06-01", None)
            .await;
        assert_eq!(before.body["status"], "not_yet_valid");
        app.get("/api/v1/verify/LB-18-2601010002?at=yesterday", None)
            .await
            .assert(422);
        let detail = app
            .get(&format!("/api/v1/certifications/{cert}"), None)
            .await;
        let statuses: Vec<&str> = detail.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to_status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, vec!["valid", "suspended", "valid", "revoked"]);
        // Filters derive expiry from the date.
        let expired = app.get("/api/v1/certifications?status=expired", None).await;
        assert_eq!(expired.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(
            expired.body["items"][0]["certificate_number"],
            "LB-18-2001010001"
        );
        assert!(app
            .get("/api/v1/certifications?status=valid", None)
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .is_empty());
        let on = app
            .get(
                "/api/v1/certifications?valid_on=2021-06-01&kind=green_food",
                None,
            )
            .await;
        assert_eq!(on.body["items"].as_array().unwrap().len(), 1);
        app.get("/api/v1/certifications?status=bogus", None)
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn the_audit_log_is_readable_by_staff_and_its_chain_verifiable_by_admins() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let r = app.get("/api/v1/audit-log/verify", Some(&admin)).await;
        r.assert(200);
        assert_eq!(r.body["intact"], true);
        app.get("/api/v1/audit-log/verify", Some(&app.token("market").await))
            .await
            .assert(403);
        app.get("/api/v1/audit-log", Some(&app.token("ent_a").await))
            .await
            .assert(403);
        app.get("/api/v1/audit-log", None).await.assert(401);
        let page = app
            .get(
                &format!(
                    "/api/v1/audit-log?entity_type=enterprise&entity_id={}",
                    app.fx.ent_a
                ),
                Some(&app.token("market").await),
            )
            .await;
        page.assert(200);
        assert_eq!(page.body["items"][0]["action"], "enterprise.create");
        let first = app.get("/api/v1/audit-log?limit=2", Some(&admin)).await;
        let next = first.body["next_cursor"].as_str().unwrap();
        let second = app
            .get(
                &format!("/api/v1/audit-log?limit=2&cursor={next}"),
                Some(&admin),
            )
            .await;
        assert!(
            second.body["items"][0]["seq"].as_i64().unwrap()
                > first.body["items"][1]["seq"].as_i64().unwrap()
        );
        // The database refuses to delete an entry; once its triggers are dropped, deleting one
        // breaks the chain at that point.
        use diesel::prelude::*;
        use registry::db::schema::audit_log::dsl as a_;
        let delete =
            || diesel::delete(a_::audit_log.filter(a_::seq.eq(3))).execute(&mut app.conn());
        assert!(delete().is_err(), "audit entries are append-only");
        app.drop_audit_triggers();
        delete().unwrap();
        let r = app.get("/api/v1/audit-log/verify", Some(&admin)).await;
        assert_eq!(r.body["intact"], false);
        assert_eq!(r.body["first_broken_seq"], 3);
    })
    .await;
}

#[actix_web::test]
async fn a_revocation_reaches_its_own_instance_at_once_and_another_within_a_second() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let product = app.goji_product(&a, "多实例枸杞").await;
        let draft = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "LB-18-2601014444",
            "2026-01-01",
            "2028-12-31",
        )
        .await;
        let mut approved = Value::Null;
        for (step, who, body) in [
            ("submit", &a, json!({})),
            ("start-review", &agri, json!({})),
            ("decide", &agri, json!({"decision": "approve"})),
        ] {
            approved = app.post(&path(&draft, step), Some(who), &body).await.body;
        }
        let other = app.second_instance();
        let ask = |base: String| {
            let client = app.client.clone();
            async move {
                let mut r = client
                    .get(format!("{base}/api/v1/verify/LB-18-2601014444"))
                    .send()
                    .await
                    .unwrap();
                let v: Value = r.json().await.unwrap();
                v["status"].as_str().unwrap().to_owned()
            }
        };
        // The second instance answers (and caches) twice…
        assert_eq!(ask(other.clone()).await, "valid");
        assert_eq!(ask(other.clone()).await, "valid");
        assert_eq!(ask(app.base.clone()).await, "valid");
        // …the first revokes…
        let cert = approved["record_id"].as_str().unwrap();
        app.post(
            &format!("/api/v1/certifications/{cert}/revoke"),
            Some(&agri),
            &json!({"reason": "伪造"}),
        )
        .await
        .assert(200);
        // …answers it at once itself…
        assert_eq!(ask(app.base.clone()).await, "revoked");
        // …and the second drops its entry within a second, following the publication log.
        let started = std::time::Instant::now();
        let mut seen = ask(other.clone()).await;
        while seen != "revoked" && started.elapsed() < std::time::Duration::from_secs(1) {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
            seen = ask(other.clone()).await;
        }
        assert_eq!(seen, "revoked", "still stale after {:?}", started.elapsed());
    })
    .await;
}

#[actix_web::test]
async fn duplicate_applications_and_registered_numbers_are_409_naming_what_exists() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let body = app.body_for("green_food").await;
        let today = registry::clock::today();
        let draft = |product: &str, number: &str| {
            json!({"kind": "green_food", "enterprise_id": app.fx.ent_a, "product_id": product,
                "details": {"certificate_number": number, "certification_body_id": body,
                    "issued_on": today - chrono::Duration::days(1),
                    "expires_on": today + chrono::Duration::days(300), "scope": "全部"}})
        };
        // A second application for the same product and kind while one is in progress.
        let p1 = app.goji_product(&a, "重复申请甲").await;
        let first = app
            .post("/api/v1/applications", Some(&a), &draft(&p1, "DUP-0001"))
            .await;
        first.assert(201);
        let first_id = first.body["id"].as_str().unwrap().to_owned();
        let second = app
            .post("/api/v1/applications", Some(&a), &draft(&p1, "DUP-0002"))
            .await;
        second.assert(409);
        assert_eq!(second.code(), "duplicate_application");
        assert_eq!(second.body["conflicts_with"], json!([first_id]));
        // Withdrawn, it no longer blocks.
        app.post(
            &format!("/api/v1/applications/{first_id}/withdraw"),
            Some(&a),
            &json!({}),
        )
        .await
        .assert(200);
        // A live record of the kind blocks too.
        let cert = crate::public_api::certify(&app, &a, &p1, "green_food", "DUP-0003").await;
        let again = app
            .post("/api/v1/applications", Some(&a), &draft(&p1, "DUP-0004"))
            .await;
        again.assert(409);
        assert_eq!(again.code(), "duplicate_application");
        assert_eq!(again.body["conflicts_with"], json!([cert]));
        // A number the body issued is registered once: refused on create …
        let p2 = app.goji_product(&a, "重复申请乙").await;
        let reuse = app
            .post("/api/v1/applications", Some(&a), &draft(&p2, "dup-0003"))
            .await;
        reuse.assert(409);
        assert_eq!(reuse.code(), "duplicate_certificate");
        assert_eq!(reuse.body["conflicts_with"], json!([cert]));
        // … and on submit, when it was registered after the draft was made.
        let p3 = app.goji_product(&a, "重复申请丙").await;
        let later = app
            .post("/api/v1/applications", Some(&a), &draft(&p3, "DUP-0005"))
            .await;
        later.assert(201);
        let p4 = app.goji_product(&a, "重复申请丁").await;
        let winner = crate::public_api::certify(&app, &a, &p4, "green_food", "DUP-0005").await;
        let submit = app
            .post(
                &format!(
                    "/api/v1/applications/{}/submit",
                    later.body["id"].as_str().unwrap()
                ),
                Some(&a),
                &json!({}),
            )
            .await;
        submit.assert(409);
        assert_eq!(submit.code(), "duplicate_certificate");
        assert_eq!(submit.body["conflicts_with"], json!([winner]));
    })
    .await;
}

fn step_path(id: &str, step: &str) -> String {
    format!("/api/v1/applications/{id}/{step}")
}

/// Takes a provincial famous-brand application of enterprise A through to its grant (the test
/// app runs with no public notice).
async fn famous_brand(app: &TestApp, a: &str, product: &str) -> String {
    let market = app.token("market").await;
    let r = app
        .post(
            "/api/v1/applications",
            Some(a),
            &json!({"kind": "provincial_famous_brand", "enterprise_id": app.fx.ent_a,
                "product_id": product, "details": {"summary": "名牌"}}),
        )
        .await;
    r.assert(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    for (who, step) in [(a, "submit"), (market.as_str(), "start-review")] {
        app.post(&step_path(&id, step), Some(who), &json!({}))
            .await
            .assert(200);
    }
    app.post(
        &step_path(&id, "decide"),
        Some(&market),
        &json!({"decision": "approve"}),
    )
    .await
    .assert(200);
    let g = app
        .post(&step_path(&id, "grant"), Some(&market), &json!({}))
        .await;
    g.assert(200);
    g.body["record_id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn certified_facts_change_only_when_every_deciding_agency_approves() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let (agri, market) = (app.token("agri").await, app.token("market").await);
        let product = app.goji_product(&a, "变更前的名称").await;
        let cert = crate::public_api::certify(&app, &a, &product, "green_food", "RC-0001").await;
        let title = famous_brand(&app, &a, &product).await;
        let change = |changes: Value| {
            json!({"kind": "record_change", "enterprise_id": app.fx.ent_a, "product_id": product,
                "details": {"changes": changes}})
        };
        // Asked for; decided by both agencies.
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &change(json!({"name": "变更后的名称"})),
            )
            .await;
        r.assert(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        app.post(&step_path(&id, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(&step_path(&id, "start-review"), Some(&agri), &json!({}))
            .await
            .assert(200);
        app.post(
            &step_path(&id, "decide"),
            Some(&app.token("halal").await),
            &json!({"decision": "approve"}),
        )
        .await
        .assert(403);
        let first = app
            .post(
                &step_path(&id, "decide"),
                Some(&agri),
                &json!({"decision": "approve"}),
            )
            .await;
        first.assert(200);
        assert_eq!(
            first.body["state"], "under_review",
            "one agency of two has approved"
        );
        let p = format!("/api/v1/products/{product}");
        assert_eq!(app.get(&p, None).await.body["name"], "变更前的名称");
        let second = app
            .post(
                &step_path(&id, "decide"),
                Some(&market),
                &json!({"decision": "approve"}),
            )
            .await;
        second.assert(200);
        assert_eq!(second.body["state"], "approved");
        // Applied to the product, and each record amended with an entry in its history.
        assert_eq!(app.get(&p, None).await.body["name"], "变更后的名称");
        for (collection, record) in [("certifications", &cert), ("designations", &title)] {
            let r = app
                .get(&format!("/api/v1/{collection}/{record}"), None)
                .await;
            assert_eq!(
                r.body["certified"]["product_name"], "变更后的名称",
                "{collection}"
            );
            assert_eq!(r.body["current_differs"], json!([]));
            let last = r.body["history"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .clone();
            assert!(last["reason"].as_str().unwrap().contains(&id), "{last}");
        }
        // The rules are checked again: a green-food product stays food.
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &change(json!({"sector": "biomedicine", "category": "health_food"})),
            )
            .await;
        r.assert(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        app.post(&step_path(&id, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(&step_path(&id, "start-review"), Some(&market), &json!({}))
            .await
            .assert(200);
        app.post(
            &step_path(&id, "decide"),
            Some(&market),
            &json!({"decision": "approve"}),
        )
        .await
        .assert(200);
        let refused = app
            .post(
                &step_path(&id, "decide"),
                Some(&agri),
                &json!({"decision": "approve"}),
            )
            .await;
        refused.assert(422);
        assert_eq!(refused.body["errors"][0]["code"], "not_food");
        assert_eq!(app.get(&p, None).await.body["sector"], "food");
        // A product no record certifies is edited directly.
        let free = app.goji_product(&a, "无证产品").await;
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &json!({"kind": "record_change", "enterprise_id": app.fx.ent_a, "product_id": free,
                    "details": {"changes": {"name": "x"}}}),
            )
            .await;
        r.assert(422);
        assert!(r.fields().contains(&"product_id".to_owned()));
    }
}

#[actix_web::test]
async fn a_gi_marked_product_cannot_move_out_of_the_protected_area_by_a_record_change() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        // A Haixi goji product granted the Qaidam goji GI mark.
        let product = app.goji_product(&a, "柴达木地标枸杞").await;
        let gi = gi_application(&app, &a, &product).await;
        let id = gi["id"].as_str().unwrap().to_owned();
        for (who, step) in [(a.as_str(), "submit"), (market.as_str(), "start-review")] {
            app.post(&step_path(&id, step), Some(who), &json!({}))
                .await
                .assert(200);
        }
        app.post(
            &step_path(&id, "decide"),
            Some(&market),
            &json!({"decision": "approve"}),
        )
        .await
        .assert(200);
        let granted = app
            .post(&step_path(&id, "grant"), Some(&market), &json!({}))
            .await;
        granted.assert(200);
        // The designation certifies its GI.
        let record = granted.body["record_id"].as_str().unwrap();
        let d = app
            .get(&format!("/api/v1/designations/{record}"), None)
            .await;
        assert_eq!(
            d.body["certified"]["geographical_indication_id"],
            json!(app.gi("qaidam_goji_protected_product"))
        );
        // Asked to move its origin to Xining: refused when decided, the product unchanged.
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &json!({"kind": "record_change", "enterprise_id": app.fx.ent_a, "product_id": product,
                    "details": {"changes": {"origin_region_code": "630100"}}}),
            )
            .await;
        r.assert(201);
        let change = r.body["id"].as_str().unwrap().to_owned();
        for (who, step) in [(a.as_str(), "submit"), (market.as_str(), "start-review")] {
            app.post(&step_path(&change, step), Some(who), &json!({}))
                .await
                .assert(200);
        }
        let refused = app
            .post(
                &step_path(&change, "decide"),
                Some(&market),
                &json!({"decision": "approve"}),
            )
            .await;
        refused.assert(422);
        assert_eq!(
            refused.body["errors"][0]["code"],
            "origin_outside_protected_area"
        );
        let p = app.get(&format!("/api/v1/products/{product}"), None).await;
        assert_eq!(p.body["origin_region_code"], "632822");
    }
}

/// Field rules of an application, each refused with its field and code (422).
#[actix_web::test]
async fn each_application_rule_is_refused_with_its_field_and_code() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "规则检查").await;
        let today = registry::clock::today();
        let body = app.body_for("green_food").await;
        let base = || {
            json!({"kind": "green_food", "enterprise_id": app.fx.ent_a, "product_id": product,
                "details": {"certificate_number": "RULE-0001", "certification_body_id": body,
                    "issued_on": today - chrono::Duration::days(1),
                    "expires_on": today + chrono::Duration::days(300), "scope": "全部"}})
        };
        let refused = |mut b: Value, edit: fn(&mut Value)| {
            edit(&mut b);
            b
        };
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                refused(base(), |b| {
                    b.as_object_mut().unwrap().remove("product_id");
                }),
                "product_id",
                "required",
            ),
            (
                refused(base(), |b| {
                    b["details"]["certification_body_id"] = json!("no-such-body")
                }),
                "details.certification_body_id",
                "unknown_body",
            ),
            (
                refused(base(), |b| b["details"]["scope"] = json!("  ")),
                "details.scope",
                "required",
            ),
            (
                refused(base(), |b| {
                    b["details"]["certificate_number"] = json!("绿色 01")
                }),
                "details.certificate_number",
                "invalid_value",
            ),
            (
                refused(base(), |b| b["details"]["colour"] = json!("green")),
                "details.colour",
                "invalid_value",
            ),
            (
                refused(base(), |b| b["geographical_indication_id"] = json!("any")),
                "geographical_indication_id",
                "not_allowed",
            ),
            (
                refused(base(), |b| {
                    b["documents"] = json!([{"name": "a.pdf", "sha256": "xyz", "size_bytes": 1}])
                }),
                "documents[0].sha256",
                "invalid_sha256",
            ),
            (
                refused(base(), |b| {
                    b["documents"] = json!([{"name": "a.pdf", "sha256": SHA, "size_bytes": 0}])
                }),
                "documents[0].size_bytes",
                "out_of_range",
            ),
            (
                refused(base(), |b| {
                    b["documents"] = json!(vec![
                        json!({"name": "a.pdf", "sha256": SHA, "size_bytes": 1});
                        51
                    ])
                }),
                "documents",
                "too_many",
            ),
        ];
        for (body, field, code) in cases {
            let r = app.post("/api/v1/applications", Some(&a), &body).await;
            r.assert(422);
            let hit = r.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field && e["code"] == code);
            assert!(hit, "{field} {code}: {}", r.body);
        }
        // Another enterprise's product; an unknown GI; green food on a non-food product.
        let b = app.token("ent_b").await;
        let mut theirs = app.product_body("乙的地毯", None);
        theirs["enterprise_id"] = json!(app.fx.ent_b);
        theirs["sector"] = json!("light_textile");
        theirs["category"] = json!("carpet");
        theirs["origin_region_code"] = json!("630100");
        let theirs = app.post("/api/v1/products", Some(&b), &theirs).await.body["id"].clone();
        let r = app
            .post(
                "/api/v1/applications",
                Some(&a),
                &refused(base(), |b| b["product_id"] = json!("x")),
            )
            .await;
        assert_eq!(r.body["errors"][0]["code"], "unknown_product");
        let mut other = base();
        other["product_id"] = theirs;
        let r = app.post("/api/v1/applications", Some(&a), &other).await;
        assert_eq!(r.body["errors"][0]["code"], "unknown_product");
        let gi = json!({"kind": "gi_product", "enterprise_id": app.fx.ent_a, "product_id": product,
            "geographical_indication_id": "no-such-gi", "details": {}});
        let r = app.post("/api/v1/applications", Some(&a), &gi).await;
        r.assert(422);
        assert!(r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "unknown_gi"));
        let mut medicine = app.product_body("藏药浴粉", None);
        medicine["sector"] = json!("biomedicine");
        medicine["category"] = json!("tibetan_medicine");
        let medicine = app.post("/api/v1/products", Some(&a), &medicine).await.body["id"].clone();
        let mut green = base();
        green["product_id"] = medicine;
        let r = app.post("/api/v1/applications", Some(&a), &green).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "not_food");
    })
    .await;
}

/// Steps outside the table, objections outside a notice, and what a grant sets.
#[actix_web::test]
async fn grants_amendments_and_objections_outside_their_states_are_409() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let product = app.goji_product(&a, "状态检查").await;
        let today = registry::clock::today();
        let issued = (today - chrono::Duration::days(1)).to_string();
        let expires = (today + chrono::Duration::days(300)).to_string();
        let cert = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "STATE-0001",
            &issued,
            &expires,
        )
        .await;
        app.post(&path(&cert, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(&path(&cert, "start-review"), Some(&agri), &json!({}))
            .await
            .assert(200);
        // Amending under review, and granting a certification, are not steps there are.
        let amend = app
            .patch(
                &format!("/api/v1/applications/{}", cert["id"].as_str().unwrap()),
                Some(&a),
                &json!({"product_id": product}),
            )
            .await;
        amend.assert(409);
        assert_eq!(amend.body["current_state"], "under_review");
        app.post(
            &path(&cert, "decide"),
            Some(&agri),
            &json!({"decision": "approve"}),
        )
        .await
        .assert(200);
        app.post(&path(&cert, "grant"), Some(&agri), &json!({}))
            .await
            .assert(409);
        // A granted title: 36 months from today; serials increase; no objections after the notice.
        let first = famous_brand(&app, &a, &product).await;
        let other = app.goji_product(&a, "状态检查二").await;
        let second = famous_brand(&app, &a, &other).await;
        let d1 = app
            .get(&format!("/api/v1/designations/{first}"), None)
            .await
            .body;
        let d2 = app
            .get(&format!("/api/v1/designations/{second}"), None)
            .await
            .body;
        let until = today.checked_add_months(chrono::Months::new(36)).unwrap();
        assert_eq!(d1["valid_until"], json!(until));
        let serial = |d: &Value| {
            d["number"]
                .as_str()
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap()
        };
        assert_eq!(serial(&d2), serial(&d1) + 1);
        assert!(d1["number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("QHMP-{}-", chrono::Datelike::year(&today))));
        let granted = d1["application_id"].as_str().unwrap();
        let late = app
            .post(
                &format!("/api/v1/applications/{granted}/objections"),
                None,
                &json!({"name": "张三", "contact": "0971-1234567", "text": "迟到的异议"}),
            )
            .await;
        late.assert(409);
        assert_eq!(late.code(), "public_notice_closed");
    }
}

#[actix_web::test]
async fn a_kind_closed_meanwhile_refuses_the_submission() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "停止受理").await;
        let today = registry::clock::today();
        let (issued, expires) = (
            (today - chrono::Duration::days(1)).to_string(),
            (today + chrono::Duration::days(300)).to_string(),
        );
        let draft = cert_application(
            &app,
            &a,
            "green_food",
            &product,
            "CLOSED-01",
            &issued,
            &expires,
        )
        .await;
        {
            use diesel::prelude::*;
            use registry::db::schema::application_kinds as k;
            diesel::update(k::table.filter(k::code.eq("green_food")))
                .set(k::accepting_applications.eq(false))
                .execute(&mut app.conn())
                .unwrap();
        }
        let r = app
            .post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await;
        r.assert(409);
        assert_eq!(r.code(), "not_accepting_applications");
    })
    .await;
}

#[actix_web::test]
async fn an_open_objection_blocks_the_grant_after_the_notice_and_a_dismissed_one_does_not() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        let product = app.goji_product(&a, "异议阻止").await;
        let draft = gi_application(&app, &a, &product).await;
        app.post(&path(&draft, "submit"), Some(&a), &json!({}))
            .await
            .assert(200);
        app.post(&path(&draft, "start-review"), Some(&market), &json!({}))
            .await
            .assert(200);
        let r = app
            .post(
                &path(&draft, "decide"),
                Some(&market),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(r.body["state"], "in_public_notice");
        let objection = app
            .post(
                &path(&draft, "objections"),
                None,
                &json!({"name": "李四", "contact": "0971-7654321", "text": "产地存疑"}),
            )
            .await;
        objection.assert(201);
        // The notice has ended, but the objection is still open.
        {
            use diesel::prelude::*;
            use registry::db::schema::applications as t;
            diesel::update(t::table.find(draft["id"].as_str().unwrap()))
                .set(t::notice_ends_at.eq(registry::clock::now() - chrono::Duration::minutes(1)))
                .execute(&mut app.conn())
                .unwrap();
        }
        let r = app
            .post(&path(&draft, "grant"), Some(&market), &json!({}))
            .await;
        r.assert(409);
        assert_eq!(r.code(), "objections_open");
        let resolve = format!(
            "{}/{}/resolve",
            path(&draft, "objections"),
            objection.body["id"].as_str().unwrap()
        );
        let r = app
            .post(
                &resolve,
                Some(&market),
                &json!({"upheld": false, "reason": "产地已核实"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["state"], "in_public_notice");
        app.post(&path(&draft, "grant"), Some(&market), &json!({}))
            .await
            .assert(200);
    })
    .await;
}

#[actix_web::test]
async fn two_regulators_suspending_at_once_one_wins() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "并发暂停").await;
        let cert = crate::public_api::certify(&app, &a, &product, "green_food", "RACE-0001").await;
        let (t1, t2) = (app.token("agri").await, app.token("agri2").await);
        let p = format!("/api/v1/certifications/{cert}/suspend");
        let body = json!({"reason": "抽检"});
        let (r1, r2) = futures_util::future::join(
            app.post(&p, Some(&t1), &body),
            app.post(&p, Some(&t2), &body),
        )
        .await;
        let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", r1.body, r2.body);
        let history = app
            .get(&format!("/api/v1/certifications/{cert}"), None)
            .await;
        let suspensions = history.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["to_status"] == "suspended")
            .count();
        assert_eq!(suspensions, 1);
    })
    .await;
}

#[actix_web::test]
async fn public_histories_name_the_agency_never_a_staff_account() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "公开历史").await;
        let cert = crate::public_api::certify(&app, &a, &product, "green_food", "PUB-0001").await;
        app.post(
            &format!("/api/v1/certifications/{cert}/suspend"),
            Some(&app.token("agri").await),
            &json!({"reason": "抽检"}),
        )
        .await
        .assert(200);
        let record = app
            .get(&format!("/api/v1/certifications/{cert}"), None)
            .await;
        let actors: Vec<&str> = record.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["actor"].as_str().unwrap())
            .collect();
        assert_eq!(actors, ["agency:agriculture", "agency:agriculture"]);
        let application = record.body["application_id"].as_str().unwrap();
        let app_view = app
            .get(&format!("/api/v1/applications/{application}"), Some(&a))
            .await;
        for event in app_view.body["history"].as_array().unwrap() {
            let actor = event["actor"].as_str().unwrap();
            assert!(
                actor == "enterprise" || actor == "agency:agriculture",
                "{actor}"
            );
        }
    })
    .await;
}
