//! Admin management of accounts.

use crate::common::{each_backend, TestApp};
use serde_json::json;

#[actix_web::test]
async fn admins_create_list_and_disable_users() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let r = app.post("/api/v1/users", Some(&admin), &json!({"username": "Halal_Reviewer", "password": "a long passphrase", "role": "regulator", "agency_code": "ethnic_religious_affairs"})).await;
        r.assert(201);
        assert_eq!(r.body["username"], "halal_reviewer");
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(app.audit_for("user", &id)[0].action, "user.create");
        // Rules: regulators need an agency, enterprise users an existing enterprise, passwords ≥ 10.
        let bad = app.post("/api/v1/users", Some(&admin), &json!({"username": "x_reg", "password": "short", "role": "regulator"})).await;
        bad.assert(422);
        assert_eq!(bad.fields(), vec!["password", "agency_code"]);
        let bad = app.post("/api/v1/users", Some(&admin), &json!({"username": "x_ent", "password": "a long passphrase", "role": "enterprise", "enterprise_id": "nope"})).await;
        bad.assert(422);
        assert_eq!(bad.body["errors"][0]["code"], "unknown_enterprise");
        let bad = app.post("/api/v1/users", Some(&admin), &json!({"username": "x_unk", "password": "a long passphrase", "role": "regulator", "agency_code": "nope"})).await;
        bad.assert(422);
        let dup = app.post("/api/v1/users", Some(&admin), &json!({"username": "HALAL_REVIEWER", "password": "a long passphrase", "role": "admin"})).await;
        dup.assert(409);
        // Pages.
        let page = app.get("/api/v1/users?limit=3", Some(&admin)).await;
        page.assert(200);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
        let next = page.body["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/api/v1/users?limit=100&cursor={next}"), Some(&admin)).await;
        assert_eq!(rest.body["items"].as_array().unwrap().len(), 7, "10 users in all: 9 fixtures and the new one");
        let regs = app.get("/api/v1/users?role=regulator", Some(&admin)).await;
        assert_eq!(regs.body["items"].as_array().unwrap().len(), 5);
        // New user signs in; disabled, cannot.
        let login = app.post("/api/v1/auth/login", None, &json!({"username": "halal_reviewer", "password": "a long passphrase"})).await;
        login.assert(200);
        let r = app.patch(&format!("/api/v1/users/{id}"), Some(&admin), &json!({"disabled": true})).await;
        r.assert(200);
        assert_eq!(r.body["disabled"], true);
        assert_eq!(app.audit_for("user", &id).last().unwrap().action, "user.disable");
        app.get("/api/v1/auth/me", login.body["access_token"].as_str()).await.assert(401);
    })
    .await;
}

#[actix_web::test]
async fn only_admins_manage_users() {
    each_backend(|app: TestApp| async move {
        for who in ["market", "ent_a"] {
            let t = app.token(who).await;
            app.get("/api/v1/users", Some(&t)).await.assert(403);
            app.post(
                "/api/v1/users",
                Some(&t),
                &json!({"username": "sneaky", "password": "a long passphrase", "role": "admin"}),
            )
            .await
            .assert(403);
        }
        app.get("/api/v1/users", None).await.assert(401);
    })
    .await;
}

#[actix_web::test]
async fn reference_lists_are_public() {
    each_backend(|app: TestApp| async move {
        let regions = app.get("/api/v1/regions?limit=100", None).await;
        regions.assert(200);
        let codes: Vec<&str> = regions.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"632800") && codes.contains(&"630000"));
        assert!(!codes.contains(&"632400"));
        let legacy = regions.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "632100")
            .unwrap();
        assert_eq!(legacy["alias_of"], "630200");
        let haixi = app
            .get("/api/v1/regions?parent_code=632800&limit=100", None)
            .await;
        assert!(haixi.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["parent_code"] == "632800"));
        let agencies = app.get("/api/v1/agencies", None).await;
        let agri = agencies.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "agriculture")
            .unwrap();
        assert_eq!(agri["decides"], json!(["green_food", "organic"]));
        let sectors = app.get("/api/v1/sectors", None).await;
        let codes: Vec<&str> = sectors.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec!["food", "biomedicine", "light_textile", "ethnic_specialty"]
        );
        assert!(
            sectors.body["items"][0]["categories"]
                .as_array()
                .unwrap()
                .len()
                > 5
        );
    })
    .await;
}

#[actix_web::test]
async fn an_admin_cannot_disable_themselves_and_a_reset_ends_the_users_sessions() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let me = app.get("/api/v1/auth/me", Some(&admin)).await.body;
        let r = app
            .patch(
                &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
                Some(&admin),
                &json!({"disabled": true}),
            )
            .await;
        r.assert(409);
        assert_eq!(r.code(), "cannot_disable_self");
        // A password reset by an admin ends the user's sessions.
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": crate::common::PASSWORD}),
            )
            .await;
        let ent_a = app
            .get(
                "/api/v1/auth/me",
                Some(login.body["access_token"].as_str().unwrap()),
            )
            .await
            .body;
        app.patch(
            &format!("/api/v1/users/{}", ent_a["id"].as_str().unwrap()),
            Some(&admin),
            &json!({"password": "a brand new passphrase"}),
        )
        .await
        .assert(200);
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": login.body["refresh_token"]}),
        )
        .await
        .assert(401);
    })
    .await;
}
