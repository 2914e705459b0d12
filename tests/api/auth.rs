//! Sign-in, tokens, sessions, self-registration.

use crate::common::{backends, each_backend, uscc, TestApp, PASSWORD};
use serde_json::json;

#[actix_web::test]
async fn login_gives_a_short_lived_bearer_token_and_me_answers() {
    each_backend(|app: TestApp| async move {
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "market", "password": PASSWORD}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["token_type"], "Bearer");
        let expires = r.body["expires_in"].as_i64().unwrap();
        assert!(expires > 0 && expires <= 900, "{expires}");
        assert!(r.body["refresh_token"].as_str().unwrap().len() >= 40);
        let token = r.body["access_token"].as_str().unwrap();
        let me = app.get("/api/v1/auth/me", Some(token)).await;
        me.assert(200);
        assert_eq!(me.body["username"], "market");
        assert_eq!(me.body["role"], "regulator");
        assert_eq!(me.body["agency_code"], "market_regulation");
        assert!(me.body.get("password_hash").is_none());
    })
    .await;
}

#[actix_web::test]
async fn failed_logins_do_not_reveal_whether_the_user_exists() {
    each_backend(|app: TestApp| async move {
        let wrong_pw = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "market", "password": "not the password"}),
            )
            .await;
        let no_user = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "nobody_here", "password": "not the password"}),
            )
            .await;
        wrong_pw.assert(401);
        no_user.assert(401);
        assert_eq!(wrong_pw.body, no_user.body);
        assert_eq!(
            wrong_pw.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    })
    .await;
}

#[actix_web::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    each_backend(|app: TestApp| async move {
        for _ in 0..5 {
            app.post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "agri", "password": "wrong password"}),
            )
            .await
            .assert(401);
        }
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "agri", "password": PASSWORD}),
            )
            .await;
        r.assert(429);
        assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
        // Other accounts are unaffected.
        app.token("market").await;
    })
    .await;
}

#[actix_web::test]
async fn thirty_parallel_wrong_passwords_check_at_most_five() {
    each_backend(|app: TestApp| async move {
        let body = json!({"username": "agri", "password": "wrong password"});
        let answers = futures_util::future::join_all(
            (0..30).map(|_| app.post("/api/v1/auth/login", None, &body)),
        )
        .await;
        let status = |code: u16| answers.iter().filter(|r| r.status.as_u16() == code).count();
        // Only the attempts the throttle let through had their password checked (401); the
        // others were refused before any hashing.
        assert!(status(401) <= 5, "{} checked", status(401));
        assert_eq!(status(401) + status(429), 30);
        for r in answers.iter().filter(|r| r.status.as_u16() == 429) {
            assert_eq!(r.code(), "too_many_requests");
            assert!(r.header("retry-after").is_some());
        }
    })
    .await;
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    each_backend(|app: TestApp| async move {
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": PASSWORD}),
            )
            .await;
        let first = login.body["refresh_token"].as_str().unwrap().to_owned();
        let r1 = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": first}),
            )
            .await;
        r1.assert(200);
        let second = r1.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(first, second);
        app.get("/api/v1/auth/me", r1.body["access_token"].as_str())
            .await
            .assert(200);
        // The spent token comes back: refused, and the whole family with it.
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first}),
        )
        .await
        .assert(401);
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": second}),
        )
        .await
        .assert(401);
        // Garbage is refused too.
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": "garbage"}),
        )
        .await
        .assert(401);
    })
    .await;
}

#[actix_web::test]
async fn a_refresh_token_is_not_an_access_token() {
    each_backend(|app: TestApp| async move {
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": PASSWORD}),
            )
            .await;
        let refresh = login.body["refresh_token"].as_str().unwrap();
        let r = app.get("/api/v1/auth/me", Some(refresh)).await;
        r.assert(401);
        assert_eq!(r.code(), "invalid_token");
        // A bad token on a public endpoint is an error, not a silent public view.
        app.get("/api/v1/products", Some("not.a.jwt"))
            .await
            .assert(401);
    })
    .await;
}

#[actix_web::test]
async fn a_disabled_users_tokens_stop_working() {
    each_backend(|app: TestApp| async move {
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_b", "password": PASSWORD}),
            )
            .await;
        let access = login.body["access_token"].as_str().unwrap().to_owned();
        let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
        app.get("/api/v1/auth/me", Some(&access)).await.assert(200);
        let admin = app.token("admin").await;
        let me = app.get("/api/v1/auth/me", Some(&access)).await;
        let id = me.body["id"].as_str().unwrap();
        app.patch(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"disabled": true}),
        )
        .await
        .assert(200);
        app.get("/api/v1/auth/me", Some(&access)).await.assert(401);
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await
        .assert(401);
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ent_b", "password": PASSWORD}),
        )
        .await
        .assert(401);
    })
    .await;
}

#[actix_web::test]
async fn logout_ends_the_session() {
    each_backend(|app: TestApp| async move {
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": PASSWORD}),
            )
            .await;
        let access = login.body["access_token"].as_str().unwrap();
        let refresh = login.body["refresh_token"].as_str().unwrap();
        app.post(
            "/api/v1/auth/logout",
            Some(access),
            &json!({"refresh_token": refresh}),
        )
        .await
        .assert(204);
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await
        .assert(401);
        // The session's access token is refused at once, not when it expires.
        let r = app.get("/api/v1/auth/me", Some(access)).await;
        r.assert(401);
        assert_eq!(r.code(), "invalid_token");
        app.post("/api/v1/auth/logout", None, &json!({}))
            .await
            .assert(401);
    })
    .await;
}

fn registration(username: &str, uscc: &str) -> serde_json::Value {
    json!({
        "username": username, "password": "a long passphrase",
        "enterprise": {"uscc": uscc, "name": "注册测试有限公司", "legal_representative": "张三",
            "region_code": "632100", "address": "海东市测试路 5 号", "sectors": ["food", "ethnic_specialty"],
            "scale": "micro", "contact_phone": "0972-1234567", "contact_email": "reg@example.com"}
    })
}

#[actix_web::test]
async fn an_enterprise_registers_and_starts_pending() {
    each_backend(|app: TestApp| async move {
        let code = uscc("632100", "MA1234567");
        let r = app
            .post(
                "/api/v1/auth/register",
                None,
                &registration("new_firm", &code),
            )
            .await;
        r.assert(201);
        assert_eq!(r.body["enterprise"]["status"], "pending");
        assert_eq!(r.body["user"]["role"], "enterprise");
        assert_eq!(r.body["user"]["enterprise_id"], r.body["enterprise"]["id"]);
        // 632100 is Haidong's legacy code: accepted, stored as the current one.
        assert_eq!(r.body["enterprise"]["region_code"], "630200");
        // The new user can sign in and see its own pending enterprise; the public cannot.
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "new_firm", "password": "a long passphrase"}),
            )
            .await;
        login.assert(200);
        let path = format!(
            "/api/v1/enterprises/{}",
            r.body["enterprise"]["id"].as_str().unwrap()
        );
        app.get(&path, login.body["access_token"].as_str())
            .await
            .assert(200);
        app.get(&path, None).await.assert(404);
        // Same USCC or username again: 409.
        let again = app
            .post(
                "/api/v1/auth/register",
                None,
                &registration("other_firm", &code),
            )
            .await;
        again.assert(409);
        assert_eq!(again.code(), "duplicate_uscc");
        let again = app
            .post(
                "/api/v1/auth/register",
                None,
                &registration("new_firm", &uscc("632100", "MA7654321")),
            )
            .await;
        again.assert(409);
        assert_eq!(again.code(), "username_taken");
    })
    .await;
}

#[actix_web::test]
async fn registration_validates_every_field_with_422() {
    each_backend(|app: TestApp| async move {
        let mut body = registration("x", "914403001922038217");
        body["password"] = json!("short");
        body["enterprise"]["sectors"] = json!(["toys"]);
        body["enterprise"]["contact_email"] = json!("not-an-email");
        let r = app.post("/api/v1/auth/register", None, &body).await;
        r.assert(422);
        let fields = r.fields();
        for f in [
            "password",
            "username",
            "enterprise.uscc",
            "enterprise.sectors[0]",
            "enterprise.contact_email",
        ] {
            assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
        }
        let uscc_err = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "enterprise.uscc")
            .unwrap();
        assert_eq!(uscc_err["code"], "invalid_check_character");
        // A region that does not exist.
        let mut body = registration("region_test", &uscc("632400", "MA1111111"));
        body["enterprise"]["region_code"] = json!("632400");
        let r = app.post("/api/v1/auth/register", None, &body).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["enterprise.region_code"]);
        // Malformed JSON is 400; a wrong type is 422 naming the field.
        let r = app
            .send(
                "POST",
                "/api/v1/auth/register",
                None,
                &[("content-type", "application/json")],
                None,
            )
            .await;
        r.assert(400);
        let mut body = registration("typed", &uscc("630100", "MA2222222"));
        body["enterprise"]["sectors"] = json!("food");
        let r = app.post("/api/v1/auth/register", None, &body).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["enterprise.sectors"]);
    })
    .await;
}

#[actix_web::test]
async fn a_logout_without_a_refresh_token_ends_every_session() {
    each_backend(|app: TestApp| async move {
        let credentials = json!({"username": "ent_a", "password": PASSWORD});
        let login = || app.post("/api/v1/auth/login", None, &credentials);
        let (one, two) = (login().await.body, login().await.body);
        app.post(
            "/api/v1/auth/logout",
            Some(one["access_token"].as_str().unwrap()),
            &json!({}),
        )
        .await
        .assert(204);
        for session in [&one, &two] {
            app.post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": session["refresh_token"]}),
            )
            .await
            .assert(401);
            app.get("/api/v1/auth/me", session["access_token"].as_str())
                .await
                .assert(401);
        }
    })
    .await;
}

#[actix_web::test]
async fn tokens_for_another_issuer_or_audience_are_refused() {
    each_backend(|app: TestApp| async move {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let me = app
            .get("/api/v1/auth/me", Some(&app.token("ent_a").await))
            .await;
        let sub = me.body["id"].as_str().unwrap().to_owned();
        let now = chrono::Utc::now().timestamp();
        let key = EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123");
        let token = |iss: &str, aud: &str| {
            let claims = json!({"sub": sub, "iss": iss, "aud": aud, "exp": now + 300, "iat": now,
                "jti": "j", "typ": "access", "role": "enterprise", "sid": "s"});
            encode(&Header::default(), &claims, &key).unwrap()
        };
        // The registry's own issuer and audience, signed with its key: accepted …
        let good = token(registry::config::JWT_ISSUER, registry::config::JWT_AUDIENCE);
        app.get("/api/v1/auth/me", Some(&good)).await.assert(200);
        // … another issuer or audience with the same key: refused.
        for bad in [
            token("someone-else", registry::config::JWT_AUDIENCE),
            token(registry::config::JWT_ISSUER, "another-api"),
        ] {
            let r = app.get("/api/v1/auth/me", Some(&bad)).await;
            r.assert(401);
            assert_eq!(r.code(), "invalid_token");
        }
    })
    .await;
}

#[actix_web::test]
async fn passwords_have_an_upper_limit_and_expired_refresh_tokens_are_refused() {
    each_backend(|app: TestApp| async move {
        let mut body = registration("long_pw", &uscc("632100", "MA3333333"));
        body["password"] = json!("p".repeat(257));
        let r = app.post("/api/v1/auth/register", None, &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "too_long");
        // A refresh token past its lifetime is refused.
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": PASSWORD}),
            )
            .await;
        {
            use diesel::prelude::*;
            use registry::db::schema::refresh_tokens as t;
            diesel::update(t::table)
                .set(t::expires_at.eq(registry::clock::now() - chrono::Duration::seconds(1)))
                .execute(&mut app.conn())
                .unwrap();
        }
        let r = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": login.body["refresh_token"]}),
            )
            .await;
        r.assert(401);
    })
    .await;
}

#[actix_web::test]
async fn sign_in_has_its_own_limit_per_address() {
    for backend in crate::common::backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_LOGIN_RATE_PER_MIN", "2")]).await;
        let attempt = json!({"username": "ent_a", "password": "wrong password"});
        for _ in 0..2 {
            let r = app.post("/api/v1/auth/login", None, &attempt).await;
            assert_eq!(r.status.as_u16(), 401);
        }
        let r = app.post("/api/v1/auth/login", None, &attempt).await;
        r.assert(429);
        assert!(r.header("retry-after").is_some());
        // Other endpoints are not held to it.
        app.get("/api/v1/sectors", None).await.assert(200);
    }
}

#[actix_web::test]
async fn ending_one_session_leaves_the_others_signed_in() {
    each_backend(|app: TestApp| async move {
        let credentials = json!({"username": "ent_a", "password": PASSWORD});
        let login = || app.post("/api/v1/auth/login", None, &credentials);
        let (phone, laptop) = (login().await.body, login().await.body);
        app.post(
            "/api/v1/auth/logout",
            phone["access_token"].as_str(),
            &json!({"refresh_token": phone["refresh_token"]}),
        )
        .await
        .assert(204);
        app.get("/api/v1/auth/me", phone["access_token"].as_str())
            .await
            .assert(401);
        app.get("/api/v1/auth/me", laptop["access_token"].as_str())
            .await
            .assert(200);
    })
    .await;
}

#[actix_web::test]
async fn users_change_their_own_password_and_every_session_ends() {
    each_backend(|app: TestApp| async move {
        let credentials = json!({"username": "ent_a", "password": PASSWORD});
        let login = || app.post("/api/v1/auth/login", None, &credentials);
        let (one, other) = (login().await.body, login().await.body);
        let access = one["access_token"].as_str().unwrap().to_owned();
        let app = &app;
        let change = |current: &str, new: &str| {
            let body = json!({"current_password": current, "new_password": new});
            let access = access.clone();
            async move {
                app.post("/api/v1/auth/password", Some(&access), &body)
                    .await
            }
        };
        let r = change("not the password", "a brand new passphrase").await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["current_password"]);
        assert_eq!(r.body["errors"][0]["code"], "wrong_password");
        let r = change(PASSWORD, "short").await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["new_password"]);
        app.post(
            "/api/v1/auth/password",
            None,
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await
        .assert(401);
        change(PASSWORD, "a brand new passphrase").await.assert(204);
        // Every session ends: access tokens at once, refresh tokens too.
        for session in [&one, &other] {
            app.get("/api/v1/auth/me", session["access_token"].as_str())
                .await
                .assert(401);
            app.post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": session["refresh_token"]}),
            )
            .await
            .assert(401);
        }
        login().await.assert(401);
        let again = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": "a brand new passphrase"}),
            )
            .await;
        again.assert(200);
        let me = app
            .get("/api/v1/auth/me", again.body["access_token"].as_str())
            .await;
        // The change is audited against the account, without the password.
        let admin = app.token("admin").await;
        let audit = app
            .get(
                &format!(
                    "/api/v1/audit-log?entity_type=user&entity_id={}&limit=100",
                    me.body["id"].as_str().unwrap()
                ),
                Some(&admin),
            )
            .await;
        audit.assert(200);
        let changes = audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "user.password_change")
            .count();
        assert_eq!(changes, 1);
        assert!(!audit.body.to_string().contains("brand new"));
    })
    .await;
}

#[actix_web::test]
async fn a_session_ends_after_its_maximum_age_however_often_it_is_refreshed() {
    each_backend(|app: TestApp| async move {
        use diesel::prelude::*;
        use registry::db::schema::refresh_tokens as t;
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ent_a", "password": PASSWORD}),
            )
            .await;
        // Signed in 29 days ago (the default maximum is 30): refreshing still works, but the
        // new token expires with the session, a day from now, not 30 days from now.
        let backdate = |days: i64| {
            diesel::update(t::table)
                .set(t::created_at.eq(registry::clock::now() - chrono::Duration::days(days)))
                .execute(&mut app.conn())
                .unwrap();
        };
        backdate(29);
        let r = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": login.body["refresh_token"]}),
            )
            .await;
        r.assert(200);
        let newest: chrono::NaiveDateTime = t::table
            .select(t::expires_at)
            .order(t::created_at.desc())
            .first(&mut app.conn())
            .unwrap();
        assert!(
            newest <= registry::clock::now() + chrono::Duration::days(1),
            "{newest}"
        );
        // Signed in 31 days ago: refused, though the token itself has not expired.
        backdate(31);
        diesel::update(t::table)
            .set(t::expires_at.eq(registry::clock::now() + chrono::Duration::days(10)))
            .execute(&mut app.conn())
            .unwrap();
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": r.body["refresh_token"]}),
        )
        .await
        .assert(401);
    })
    .await;
}

#[actix_web::test]
async fn sign_ups_and_objections_have_a_stricter_limit_per_address() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            &[
                ("REGISTRY_FILING_RATE_PER_MIN", "2"),
                ("REGISTRY_PUBLIC_RATE_PER_MIN", "1000"),
            ],
        )
        .await;
        app.post(
            "/api/v1/auth/register",
            None,
            &registration("firm_one", &uscc("632100", "MA1111111")),
        )
        .await
        .assert(201);
        // An objection from the same address draws on the same quota.
        app.post(
            "/api/v1/applications/00000000-0000-0000-0000-000000000000/objections",
            None,
            &json!({"text": "x"}),
        )
        .await
        .assert(422);
        let r = app
            .post(
                "/api/v1/auth/register",
                None,
                &registration("firm_two", &uscc("632100", "MA2222222")),
            )
            .await;
        r.assert(429);
        assert_eq!(r.code(), "too_many_requests");
        assert!(r.header("retry-after").is_some());
        // Reading and signing in are not held to it.
        app.get("/api/v1/sectors", None).await.assert(200);
        app.token("ent_a").await;
    }
}
