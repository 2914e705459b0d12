//! Pending registrations end: rejected by market regulation, expired unverified, or superseded
//! by market regulation registering the real company. Each frees the USCC and disables the
//! registration's accounts.

use crate::common::{uscc, TestApp, PASSWORD};
use diesel::prelude::*;
use serde_json::json;

fn sign_up(username: &str, code: &str) -> serde_json::Value {
    json!({
        "username": username, "password": PASSWORD,
        "enterprise": {"uscc": code, "name": "抢注测试有限公司", "legal_representative": "赵某",
            "region_code": "630100", "address": "西宁市测试路 8 号", "sectors": ["food"],
            "scale": "micro", "contact_phone": "0971-1234567", "contact_email": "s@example.com"}
    })
}

fn direct(code: &str) -> serde_json::Value {
    json!({"enterprise": {"uscc": code, "name": "真实示例有限公司", "legal_representative": "李四",
        "region_code": "630100", "address": "西宁市测试街 3 号", "sectors": ["food"], "scale": "medium",
        "contact_phone": "0971-7654321", "contact_email": "real@example.com"}})
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let market = app.token("market").await;
    let r = app
        .get(&format!("/api/v1/enterprises/{id}"), Some(&market))
        .await;
    r.assert(200);
    r.body["status"].as_str().unwrap().to_owned()
}

async fn signs_in(app: &TestApp, username: &str) -> u16 {
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": PASSWORD}),
    )
    .await
    .status
    .as_u16()
}

/// Files a registration dated `days` ago, as if it had waited that long.
fn backdate(app: &TestApp, id: &str, days: i64) {
    use registry::db::schema::enterprises as e;
    let then = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
    diesel::update(e::table.find(id))
        .set(e::created_at.eq(then))
        .execute(&mut app.conn())
        .expect("backdate");
}

#[actix_web::test]
async fn market_regulation_rejects_a_pending_registration_with_a_reason() {
    crate::common::each_backend(|app: TestApp| async move {
        let code = uscc("630100", "MA7654321");
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("squatter", &code))
            .await;
        r.assert(201);
        let id = r.body["enterprise"]["id"].as_str().unwrap().to_owned();
        let squatter = app.token("squatter").await;
        // The real company cannot sign up while the registration waits.
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("real_firm", &code))
            .await;
        r.assert(409);
        assert_eq!(r.code(), "duplicate_uscc");

        let path = format!("/api/v1/enterprises/{id}/reject");
        let market = app.token("market").await;
        let agri = app.token("agri").await;
        let r = app
            .post(&path, Some(&market), &json!({"reason": " "}))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["reason"]);
        app.post(&path, Some(&agri), &json!({"reason": "not mine to decide"}))
            .await
            .assert(403);
        app.post(&path, Some(&squatter), &json!({"reason": "self"}))
            .await
            .assert(403);
        let r = app
            .post(
                &path,
                Some(&market),
                &json!({"reason": "the licence names another company"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["status"], "rejected");
        // Decided once.
        let r = app
            .post(&path, Some(&market), &json!({"reason": "again"}))
            .await;
        r.assert(409);
        // Its accounts are disabled at once, sessions included.
        app.get("/api/v1/auth/me", Some(&squatter))
            .await
            .assert(401);
        assert_eq!(signs_in(&app, "squatter").await, 401);
        let entry = app.audit_for("enterprise", &id).pop().unwrap();
        assert_eq!(entry.action, "enterprise.reject");
        assert_eq!(
            entry.reason.as_deref(),
            Some("the licence names another company")
        );
        // The USCC is free again: the real company signs up.
        app.post("/api/v1/auth/register", None, &sign_up("real_firm", &code))
            .await
            .assert(201);
        // Only pending registrations can be rejected.
        let r = app
            .post(
                &format!("/api/v1/enterprises/{}/reject", app.fx.ent_a),
                Some(&market),
                &json!({"reason": "no"}),
            )
            .await;
        r.assert(409);
    })
    .await;
}

#[actix_web::test]
async fn an_unverified_registration_expires_and_frees_its_uscc() {
    crate::common::each_backend(|app: TestApp| async move {
        let code = uscc("630100", "MA7654322");
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("early", &code))
            .await;
        r.assert(201);
        let early = r.body["enterprise"]["id"].as_str().unwrap().to_owned();
        // 29 days is within the default 30.
        backdate(&app, &early, 29);
        app.post("/api/v1/auth/register", None, &sign_up("late", &code))
            .await
            .assert(409);
        backdate(&app, &early, 31);
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("late", &code))
            .await;
        r.assert(201);
        assert_eq!(status_of(&app, &early).await, "expired");
        assert_eq!(signs_in(&app, "early").await, 401);
        assert_eq!(
            app.audit_for("enterprise", &early).pop().unwrap().action,
            "enterprise.expire"
        );

        // The hourly sweep expires the rest, whatever their USCC.
        let other = uscc("630100", "MA7654323");
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("idle", &other))
            .await;
        let idle = r.body["enterprise"]["id"].as_str().unwrap().to_owned();
        backdate(&app, &idle, 40);
        let stale_before = chrono::Utc::now().naive_utc() - chrono::Duration::days(30);
        let ctx = registry::audit::AuditCtx::system("test");
        let n = registry::enterprises::service::expire_stale(&mut app.conn(), &ctx, stale_before)
            .expect("sweep");
        assert!(n >= 1, "{n}");
        assert_eq!(status_of(&app, &idle).await, "expired");
        // The fixture's pending enterprise is recent and stays pending.
        assert_eq!(status_of(&app, &app.fx.ent_c).await, "pending");
    })
    .await;
}

#[actix_web::test]
async fn registering_the_real_company_supersedes_a_pending_registration() {
    crate::common::each_backend(|app: TestApp| async move {
        let code = uscc("630100", "MA7654324");
        let r = app
            .post("/api/v1/auth/register", None, &sign_up("squatter", &code))
            .await;
        let squatter_id = r.body["enterprise"]["id"].as_str().unwrap().to_owned();
        let market = app.token("market").await;
        let r = app
            .post("/api/v1/enterprises", Some(&market), &direct(&code))
            .await;
        r.assert(201);
        assert_eq!(r.body["status"], "active");
        let real = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(status_of(&app, &squatter_id).await, "rejected");
        assert_eq!(signs_in(&app, "squatter").await, 401);
        let entry = app.audit_for("enterprise", &squatter_id).pop().unwrap();
        assert_eq!(entry.action, "enterprise.supersede");
        assert!(entry.reason.unwrap().contains(&real));
        // A registered company is never superseded.
        let r = app
            .post("/api/v1/enterprises", Some(&market), &direct(&code))
            .await;
        r.assert(409);
        assert_eq!(r.code(), "duplicate_uscc");
    })
    .await;
}
