//! The console: a session cookie from the sign-in form, forms that refuse a forged post, each
//! role's front page, and a product registered through the form with errors at their fields.

use crate::common::{each_backend, Resp, TestApp};

pub(crate) fn html(r: &Resp) -> &str {
    r.body.as_str().expect("an HTML body")
}

/// The value of `name="…" value="…"` in a page.
pub(crate) fn hidden(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body.find(&marker).expect("the field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// `name=value` of each `Set-Cookie`.
pub(crate) fn cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_owned())
        .collect()
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) async fn post_form(app: &TestApp, path: &str, cookie: &str, body: &str) -> Resp {
    // Redirects are the answer under test: not followed.
    let client = awc::Client::builder().disable_redirects().finish();
    let mut res = client
        .post(app.url(path))
        .insert_header(("Cookie", cookie))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(body.to_owned())
        .await
        .expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.body().limit(4 * 1024 * 1024).await.expect("body");
    Resp {
        status,
        headers,
        body: serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

pub(crate) async fn get_with(app: &TestApp, path: &str, cookie: &str) -> Resp {
    app.send("GET", path, None, &[("Cookie", cookie)], None)
        .await
}

/// Signs in through the form; the session cookie.
pub(crate) async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let page = app.get("/console/login", None).await;
    page.assert(200);
    let csrf = hidden(html(&page), "csrf");
    let login_cookie = cookies(&page).join("; ");
    let r = post_form(
        app,
        "/console/login",
        &login_cookie,
        &form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ]),
    )
    .await;
    r.assert(303);
    assert_eq!(r.header("location").as_deref(), Some("/console/"));
    let set = r
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("registry_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[actix_web::test]
async fn signing_in_opens_a_session_that_signing_out_and_a_password_change_end() {
    each_backend(|app: TestApp| async move {
        // Without a session the console sends you to sign in.
        let r = app.get("/console/", None).await;
        assert!(html(&r).contains(r#"name="password""#), "the sign-in form");

        // A wrong password is said on the form; a post without the form's token is refused.
        let page = app.get("/console/login", None).await;
        let csrf = hidden(html(&page), "csrf");
        let cookie = cookies(&page).join("; ");
        let wrong = post_form(
            &app,
            "/console/login",
            &cookie,
            &form(&[("username", "ent_a"), ("password", "nope"), ("csrf", &csrf)]),
        )
        .await;
        wrong.assert(401);
        assert!(html(&wrong).contains("用户名或密码不正确"));
        let forged = post_form(
            &app,
            "/console/login",
            "",
            &form(&[("username", "ent_a"), ("password", crate::common::PASSWORD)]),
        )
        .await;
        forged.assert(403);

        let session = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let home = get_with(&app, "/console/", &session).await;
        home.assert(200);
        assert_eq!(home.header("cache-control").as_deref(), Some("no-store"));
        let body = html(&home);
        assert!(body.contains("ent_a"), "{body}");
        assert!(body.contains("测试甲枸杞有限公司"), "the user's enterprise");
        assert!(body.contains(r#"href="/console/products/new""#));

        // The cookie drives the console only: the API ignores it.
        app.send(
            "GET",
            "/api/v1/auth/me",
            None,
            &[("Cookie", &session)],
            None,
        )
        .await
        .assert(401);

        // Signing out needs the page's token; then the cookie opens nothing.
        let token = hidden(body, "csrf");
        post_form(&app, "/console/logout", &session, "csrf=forged")
            .await
            .assert(403);
        let out = post_form(
            &app,
            "/console/logout",
            &session,
            &form(&[("csrf", &token)]),
        )
        .await;
        out.assert(303);
        let after = get_with(&app, "/console/", &session).await;
        assert!(html(&after).contains(r#"name="password""#), "signed out");

        // A password change (through the API) ends console sessions too.
        let session = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let t = app.token("ent_a").await;
        app.post(
            "/api/v1/auth/password",
            Some(&t),
            &serde_json::json!({"current_password": crate::common::PASSWORD,
                                "new_password": "a brand new long passphrase"}),
        )
        .await
        .assert(204);
        let after = get_with(&app, "/console/", &session).await;
        assert!(html(&after).contains(r#"name="password""#), "session ended");
    })
    .await;
}

#[actix_web::test]
async fn each_role_sees_its_own_front_page() {
    each_backend(|app: TestApp| async move {
        let enterprise = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let body = html(&get_with(&app, "/console/", &enterprise).await).to_owned();
        assert!(body.contains("本企业产品") && !body.contains("审计链"));

        let regulator = sign_in(&app, "agri", crate::common::PASSWORD).await;
        let r = get_with(&app, "/console/?lang=en", &regulator).await;
        r.assert(200);
        let body = html(&r);
        assert!(body.contains("Work queue (my agency)"), "{body}");
        assert!(
            !body.contains("/console/products/new"),
            "not offered to regulators"
        );
        get_with(&app, "/console/products/new", &regulator)
            .await
            .assert(403);

        let admin = sign_in(&app, "admin", crate::common::PASSWORD).await;
        let body = html(&get_with(&app, "/console/", &admin).await).to_owned();
        assert!(body.contains("审计链") && body.contains("完整"), "{body}");
        assert!(body.contains("ent_a"), "the users");

        // An app developer: its API clients, and no enterprise's or agency's lists.
        let developer = sign_in(&app, "dev", crate::common::PASSWORD).await;
        let body = html(&get_with(&app, "/console/", &developer).await).to_owned();
        assert!(
            body.contains("面向应用开发者") && body.contains(r#"href="/console/api-clients""#),
            "{body}"
        );
        assert!(
            !body.contains("apps-heading") && !body.contains("审计链"),
            "{body}"
        );
    })
    .await;
}

#[actix_web::test]
async fn a_product_is_registered_through_the_form_with_errors_at_their_fields() {
    each_backend(|app: TestApp| async move {
        let session = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let page = get_with(&app, "/console/products/new", &session).await;
        page.assert(200);
        let body = html(&page);
        assert!(body.contains(r#"<label for="gtin">"#));
        let csrf = hidden(body, "csrf");

        let bad = post_form(
            &app,
            "/console/products/new",
            &session,
            &form(&[
                ("csrf", &csrf),
                ("name", "表单枸杞"),
                ("brand", "表单牌"),
                ("gtin", "6901234567891"),
                ("sector", "food"),
                ("category", "goji"),
                ("origin_region_code", "632800"),
                ("ingredients", "枸杞 100%"),
            ]),
        )
        .await;
        bad.assert(422);
        let body = html(&bad);
        assert!(
            body.contains(r#"id="gtin-error""#),
            "the GTIN's error at its field"
        );
        assert!(
            body.contains(r#"value="表单枸杞""#),
            "what was typed is kept"
        );

        let forged = post_form(
            &app,
            "/console/products/new",
            &session,
            &form(&[("csrf", "nope"), ("name", "x")]),
        )
        .await;
        forged.assert(403);

        let good_gtin = crate::common::gtin("690123456789");
        let ok = post_form(
            &app,
            "/console/products/new",
            &session,
            &form(&[
                ("csrf", &csrf),
                ("name", "表单枸杞"),
                ("brand", "表单牌"),
                ("gtin", &good_gtin),
                ("sector", "food"),
                ("category", "goji"),
                ("origin_region_code", "632800"),
                ("ingredients", "枸杞 100%"),
            ]),
        )
        .await;
        ok.assert(303);
        let at = ok.header("location").unwrap();
        assert!(at.starts_with("/p/"), "{at}");
        // The same product the API serves, audited as the user's.
        let id = at.trim_start_matches("/p/");
        let p = app.get(&format!("/api/v1/products/{id}"), None).await;
        p.assert(200);
        assert_eq!(p.body["gtin"], good_gtin.as_str());
        assert_eq!(p.body["ingredients"][0]["content_percent"], 100.0);
        let audit = app.audit_for("product", id);
        assert!(
            audit.iter().any(|e| e.actor_label == "enterprise:ent_a"),
            "{audit:?}"
        );
    })
    .await;
}

/// The hrefs of a page that start with `prefix`.
pub(crate) fn links(body: &str, prefix: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

#[actix_web::test]
async fn an_enterprise_applies_and_the_deciding_agency_approves_in_the_console() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "工作台申请枸杞").await;
        let body_id = app.body_for("green_food").await;
        let enterprise = sign_in(&app, "ent_a", crate::common::PASSWORD).await;
        let home = get_with(&app, "/console/", &enterprise).await;
        assert!(
            html(&home).contains(r#"href="/console/applications/new?kind=green_food""#),
            "applying is offered"
        );
        let page = get_with(
            &app,
            "/console/applications/new?kind=green_food",
            &enterprise,
        )
        .await;
        page.assert(200);
        let csrf = hidden(html(&page), "csrf");
        assert!(
            html(&page).contains("工作台申请枸杞"),
            "the user's products to choose from"
        );
        let today = registry::clock::today();
        let issued = (today - chrono::Days::new(10)).to_string();
        let expires = (today + chrono::Days::new(700)).to_string();
        let fields = |expires: &str| {
            form(&[
                ("csrf", &csrf),
                ("kind", "green_food"),
                ("product_id", &product),
                ("certificate_number", "LB-18-2611015555"),
                ("certification_body_id", &body_id),
                ("issued_on", &issued),
                ("expires_on", expires),
                ("scope", "枸杞干果"),
            ])
        };
        // The kind's rules answer at their field: a green-food certificate lasts three years at
        // most, and it cannot end before it starts.
        let bad = post_form(
            &app,
            "/console/applications/new",
            &enterprise,
            &fields(&issued),
        )
        .await;
        bad.assert(422);
        assert!(
            html(&bad).contains(r#"class="field invalid""#),
            "{}",
            html(&bad)
        );
        let ok = post_form(
            &app,
            "/console/applications/new",
            &enterprise,
            &fields(&expires),
        )
        .await;
        ok.assert(303);
        let at = ok.header("location").unwrap();
        let shown = get_with(&app, &at, &enterprise).await;
        shown.assert(200);
        assert!(html(&shown).contains("已提交"), "submitted at once");
        assert!(
            html(&shown).contains(r#"value="withdraw""#),
            "the applicant may withdraw"
        );
        assert!(
            !html(&shown).contains(r#"value="approve""#),
            "but not approve"
        );

        // Another agency's regulator sees nothing to do with it; agriculture reviews it.
        let halal = sign_in(&app, "halal", crate::common::PASSWORD).await;
        let theirs = get_with(&app, &at, &halal).await;
        assert!(!html(&theirs).contains(r#"value="start_review""#));
        let agri = sign_in(&app, "agri", crate::common::PASSWORD).await;
        let queue = get_with(&app, "/console/", &agri).await;
        assert!(
            links(html(&queue), "/console/applications/").contains(&at),
            "in the queue"
        );
        let page = get_with(&app, &at, &agri).await;
        let token = hidden(html(&page), "csrf");
        let step = |s: &'static str, reason: &'static str| {
            form(&[("csrf", &token), ("step", s), ("reason", reason)])
        };
        let path = format!("{at}/step");
        post_form(&app, &path, &halal, &step("start_review", ""))
            .await
            .assert(403);
        post_form(&app, &path, &agri, &step("start_review", ""))
            .await
            .assert(303);
        // The queue marks it as the reviewer's own, and only for them.
        assert!(html(&get_with(&app, "/console/", &agri).await).contains("由我审核"));
        let agri2 = sign_in(&app, "agri2", crate::common::PASSWORD).await;
        let theirs = get_with(&app, "/console/", &agri2).await;
        assert!(links(html(&theirs), "/console/applications/").contains(&at));
        assert!(!html(&theirs).contains("由我审核"));
        // Rejecting needs a reason: said on the page.
        let no_reason = post_form(&app, &path, &agri, &step("reject", "")).await;
        no_reason.assert(422);
        post_form(&app, &path, &agri, &step("approve", "材料齐全"))
            .await
            .assert(303);
        let done = get_with(&app, &at, &agri).await;
        assert!(html(&done).contains("已批准"), "{}", html(&done));
        assert!(
            !html(&done).contains(r#"name="step""#),
            "nothing is left to do with an approved certification"
        );
        // The public page shows the certificate valid.
        let v = app.get("/v/LB-18-2611015555", None).await;
        v.assert(200);
        assert!(html(&v).contains("status-valid"));
    })
    .await;
}

#[actix_web::test]
async fn market_regulation_verifies_a_pending_enterprise_from_its_queue() {
    each_backend(|app: TestApp| async move {
        let agri = sign_in(&app, "agri", crate::common::PASSWORD).await;
        assert!(
            !html(&get_with(&app, "/console/", &agri).await).contains("测试丙待审企业"),
            "only market regulation verifies"
        );
        let market = sign_in(&app, "market", crate::common::PASSWORD).await;
        let home = get_with(&app, "/console/", &market).await;
        let body = html(&home);
        assert!(body.contains("测试丙待审企业"), "{body}");
        let action = format!("/console/enterprises/{}/verify", app.fx.ent_c);
        assert!(body.contains(&action));
        let token = hidden(body, "csrf");
        post_form(
            &app,
            &action,
            &agri,
            &form(&[(
                "csrf",
                &hidden(html(&get_with(&app, "/console/", &agri).await), "csrf"),
            )]),
        )
        .await
        .assert(403);
        post_form(&app, &action, &market, &form(&[("csrf", &token)]))
            .await
            .assert(303);
        let e = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_c), None)
            .await;
        assert_eq!(e.body["status"], "active");
    })
    .await;
}

#[actix_web::test]
async fn an_enterprise_signs_up_through_the_form_and_is_pending() {
    each_backend(|app: TestApp| async move {
        let page = app.get("/console/signup", None).await;
        page.assert(200);
        let csrf = hidden(html(&page), "csrf");
        let cookie = cookies(&page).join("; ");
        let fields = |uscc: &str| {
            form(&[
                ("csrf", &csrf),
                ("username", "form_signup"),
                ("password", "a long enough passphrase"),
                ("enterprise.uscc", uscc),
                ("enterprise.name", "表单注册枸杞有限公司"),
                ("enterprise.legal_representative", "王表单"),
                ("enterprise.region_code", "632800"),
                ("enterprise.address", "德令哈市表单路 1 号"),
                ("sector", "food"),
                ("sector", "biomedicine"),
                ("enterprise.scale", "small"),
                ("enterprise.contact_phone", "0977-8200000"),
                ("enterprise.contact_email", "form@example.com"),
            ])
        };
        let good = crate::common::uscc("632800", "MA0000009");
        let mut bad = good.clone();
        let last = if bad.ends_with('0') { '1' } else { '0' };
        bad.pop();
        bad.push(last);
        let wrong = post_form(&app, "/console/signup", &cookie, &fields(&bad)).await;
        wrong.assert(422);
        assert!(
            html(&wrong).contains(r#"id="enterprise.uscc-error""#),
            "{}",
            html(&wrong)
        );
        assert!(
            html(&wrong).contains(r#"value="表单注册枸杞有限公司""#),
            "kept as typed"
        );
        post_form(&app, "/console/signup", "", &fields(&good))
            .await
            .assert(403);
        let ok = post_form(&app, "/console/signup", &cookie, &fields(&good)).await;
        ok.assert(201);
        // Pending until market regulation verifies it, with both sectors.
        let market = app.token("market").await;
        let list = app
            .get(
                "/api/v1/enterprises?status=pending&limit=100",
                Some(&market),
            )
            .await;
        let mine = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["uscc"] == good.as_str())
            .expect("the new enterprise")
            .clone();
        assert_eq!(mine["sectors"], serde_json::json!(["biomedicine", "food"]));
    })
    .await;
}
