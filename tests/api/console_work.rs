//! The console's daily work: a regulator acts on a record and reviews an application with what it
//! rests on; an enterprise edits a product, declares standards and answers a request for changes;
//! an admin manages accounts and API clients; and every page renders for every role.

use serde_json::{json, Value};

use crate::common::{each_backend, TestApp, PASSWORD};
use crate::console::{form, get_with, hidden, html, post_form, sign_in};

const SHA: &str = crate::common::DOCUMENT_SHA;

/// A green-food application of ent_a's for a new product, submitted: (application, product).
async fn submitted(app: &TestApp, product_name: &str, number: &str) -> (String, String) {
    let (id, product) = app.green_food_draft(product_name, number, 700).await;
    app.submit_application(&id).await.assert(200);
    (id, product)
}

async fn decide(app: &TestApp, id: &str, body: Value) -> Value {
    app.agriculture_decides(id, body).await
}

#[actix_web::test]
async fn a_regulator_reviews_with_the_evidence_and_suspends_reinstates_and_revokes_a_record() {
    each_backend(|app: TestApp| async move {
        let (id, product_id) = submitted(&app, "审核页枸杞", "LB-18-2611016666").await;
        let a = app.token("ent_a").await;
        app.post(
            &format!("/api/v1/products/{product_id}/standards"),
            Some(&a),
            &json!({"standard_code": "GB/T 19630-2019"}),
        )
        .await
        .assert(201);

        // The review page shows the applicant, the product, its standards (with the English
        // title the catalogue has) and the documents.
        let agri = sign_in(&app, "agri", PASSWORD).await;
        let page = get_with(&app, &format!("/console/applications/{id}"), &agri).await;
        page.assert(200);
        let body = html(&page);
        for shown in [
            "测试甲枸杞有限公司",
            "审核页枸杞",
            "GB/T 19630-2019",
            r#"<span lang="en">"#,
            "绿色食品证书.pdf",
            SHA,
        ] {
            assert!(body.contains(shown), "{shown} missing from {body}");
        }

        let approved = decide(&app, &id, json!({"decision": "approve"})).await;
        let record = approved["record_id"].as_str().unwrap().to_owned();
        let record_page = format!("/console/records/{record}");
        // The application links its record; a regulator finds it by its number too.
        let page = get_with(&app, &format!("/console/applications/{id}"), &agri).await;
        assert!(html(&page).contains(&record_page));
        let found = awc::Client::builder()
            .disable_redirects()
            .finish()
            .get(app.url("/console/records?number=lb-18-2611016666"))
            .insert_header(("Cookie", agri.as_str()))
            .send()
            .await
            .expect("request");
        assert_eq!(found.status().as_u16(), 303);
        assert_eq!(
            found
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some(record_page.as_str())
        );

        // Agriculture is offered suspend and revoke; another agency and the holder nothing.
        let page = get_with(&app, &record_page, &agri).await;
        page.assert(200);
        let body = html(&page).to_owned();
        assert!(body.contains(r#"value="suspend""#) && body.contains(r#"value="revoke""#));
        assert!(
            !body.contains(r#"value="reinstate""#),
            "nothing to reinstate"
        );
        let halal = sign_in(&app, "halal", PASSWORD).await;
        assert!(!html(&get_with(&app, &record_page, &halal).await).contains(r#"value="suspend""#));
        let holder = sign_in(&app, "ent_a", PASSWORD).await;
        let theirs = get_with(&app, &record_page, &holder).await;
        theirs.assert(200);
        assert!(!html(&theirs).contains(r#"name="action""#));
        let other = sign_in(&app, "ent_b", PASSWORD).await;
        get_with(&app, &record_page, &other).await.assert(200);

        let token = hidden(&body, "csrf");
        let act = format!("{record_page}/act");
        let action = |a: &'static str, reason: &'static str| {
            form(&[("csrf", &token), ("action", a), ("reason", reason)])
        };
        // A reason is required; a forged post and another agency are refused.
        let no_reason = post_form(&app, &act, &agri, &action("suspend", " ")).await;
        no_reason.assert(422);
        assert!(html(&no_reason).contains("请填写理由"));
        post_form(&app, &act, &agri, "csrf=forged&action=suspend&reason=x")
            .await
            .assert(403);
        // The form token of halal's own session: the policy still refuses.
        let halal_token = hidden(html(&get_with(&app, "/console/", &halal).await), "csrf");
        post_form(
            &app,
            &act,
            &halal,
            &form(&[
                ("csrf", &halal_token),
                ("action", "suspend"),
                ("reason", "not ours"),
            ]),
        )
        .await
        .assert(403);

        post_form(&app, &act, &agri, &action("suspend", "2026 年抽检不合格"))
            .await
            .assert(303);
        let v = app.get("/api/v1/verify/LB-18-2611016666", None).await;
        assert_eq!(v.body["status"], "suspended");
        let page = get_with(&app, &record_page, &agri).await;
        assert!(html(&page).contains("2026 年抽检不合格"), "in the history");
        assert!(html(&page).contains(r#"value="reinstate""#));
        post_form(&app, &act, &agri, &action("reinstate", "复检合格"))
            .await
            .assert(303);
        assert_eq!(
            app.get("/api/v1/verify/LB-18-2611016666", None).await.body["status"],
            "valid"
        );
        post_form(&app, &act, &agri, &action("revoke", "企业申请注销证书"))
            .await
            .assert(303);
        assert_eq!(
            app.get("/api/v1/verify/LB-18-2611016666", None).await.body["status"],
            "revoked"
        );
        // Nothing is left to do with a revoked record; a replayed form is 409.
        assert!(!html(&get_with(&app, &record_page, &agri).await).contains(r#"name="action""#));
        post_form(&app, &act, &agri, &action("suspend", "again"))
            .await
            .assert(409);
        let actions: Vec<String> = app
            .audit_for("certification", &record)
            .into_iter()
            .filter(|e| e.actor_label.contains("agri"))
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "certification.register",
                "certification.suspend",
                "certification.reinstate",
                "certification.revoke"
            ]
        );
    })
    .await;
}

#[actix_web::test]
async fn an_enterprise_edits_a_product_declares_standards_and_answers_a_change_request() {
    each_backend(|app: TestApp| async move {
        let (id, product) = submitted(&app, "编辑页枸杞", "LB-18-2611017777").await;
        let ent = sign_in(&app, "ent_a", PASSWORD).await;
        let home = get_with(&app, "/console/", &ent).await;
        let edit = format!("/console/products/{product}/edit");
        assert!(html(&home).contains(&edit), "editing is offered");

        // The edit form is filled from the product; errors come back at their fields.
        let page = get_with(&app, &edit, &ent).await;
        page.assert(200);
        let body = html(&page).to_owned();
        assert!(body.contains(r#"value="编辑页枸杞""#));
        let csrf = hidden(&body, "csrf");
        let version = hidden(&body, "version");
        let fields = |name: &str, gtin: &str, version: &str| {
            form(&[
                ("csrf", &csrf),
                ("version", version),
                ("name", name),
                ("brand", "柴达木"),
                ("gtin", gtin),
                ("sector", "food"),
                ("category", "goji"),
                ("origin_region_code", "632800"),
                ("ingredients", "枸杞 100%"),
                ("suitable_for", "成人"),
            ])
        };
        let bad = post_form(
            &app,
            &edit,
            &ent,
            &fields("编辑页枸杞", "6901234567891", &version),
        )
        .await;
        bad.assert(422);
        assert!(html(&bad).contains(r#"id="gtin-error""#));
        let ok = post_form(&app, &edit, &ent, &fields("编辑页枸杞（新）", "", &version)).await;
        ok.assert(303);
        let p = app
            .get(
                &format!("/api/v1/products/{product}"),
                Some(&app.token("ent_a").await),
            )
            .await;
        assert_eq!(p.body["name"], "编辑页枸杞（新）");
        assert_eq!(p.body["suitable_for"], "成人");
        // The form read before that edit no longer overwrites it.
        let stale = post_form(&app, &edit, &ent, &fields("旧名字", "", &version)).await;
        stale.assert(412);
        // Another enterprise cannot open it; a regulator is not offered it.
        let other = sign_in(&app, "ent_b", PASSWORD).await;
        get_with(&app, &edit, &other).await.assert(404);

        // Standards: chosen from the catalogue, then removed.
        let std_page = format!("/console/products/{product}/standards");
        let page = get_with(&app, &format!("{std_page}?q=19630"), &ent).await;
        page.assert(200);
        assert!(html(&page).contains("GB/T 19630-2019"));
        let csrf = hidden(html(&page), "csrf");
        post_form(
            &app,
            &std_page,
            &ent,
            &form(&[("csrf", &csrf), ("standard_code", "GB/T 19630-2019")]),
        )
        .await
        .assert(303);
        let declared = app
            .get(&format!("/api/v1/products/{product}/standards"), None)
            .await;
        assert_eq!(
            declared.body["items"][0]["standard"]["code"],
            "GB/T 19630-2019"
        );
        let unknown = post_form(
            &app,
            &std_page,
            &ent,
            &form(&[("csrf", &csrf), ("standard_code", "GB/T 99999-2099")]),
        )
        .await;
        unknown.assert(422);
        let sid = declared.body["items"][0]["standard"]["id"]
            .as_str()
            .unwrap();
        post_form(
            &app,
            &format!("{std_page}/{sid}/remove"),
            &ent,
            &form(&[("csrf", &csrf)]),
        )
        .await
        .assert(303);
        let declared = app
            .get(&format!("/api/v1/products/{product}/standards"), None)
            .await;
        assert!(declared.body["items"].as_array().unwrap().is_empty());

        // Agriculture asks for changes; the applicant amends the scope and resubmits.
        decide(
            &app,
            &id,
            json!({"decision": "request_changes", "reason": "范围写得太宽"}),
        )
        .await;
        let at = format!("/console/applications/{id}");
        let page = get_with(&app, &at, &ent).await;
        let body = html(&page).to_owned();
        assert!(body.contains("范围写得太宽"), "the reason is shown");
        assert!(body.contains(r#"name="d.scope""#), "{body}");
        let csrf = hidden(&body, "csrf");
        let today = registry::clock::today();
        let amended = post_form(
            &app,
            &format!("{at}/amend"),
            &ent,
            &form(&[
                ("csrf", &csrf),
                ("d.scope", "枸杞干果 200 吨/年"),
                (
                    "d.expires_on",
                    &(today + chrono::Days::new(700)).to_string(),
                ),
            ]),
        )
        .await;
        amended.assert(303);
        let a = app
            .get(
                &format!("/api/v1/applications/{id}"),
                Some(&app.token("ent_a").await),
            )
            .await;
        assert_eq!(a.body["state"], "submitted");
        assert_eq!(a.body["details"]["scope"], "枸杞干果 200 吨/年");
        // Another enterprise cannot amend it (it does not exist for them).
        let b_csrf = hidden(html(&get_with(&app, "/console/", &other).await), "csrf");
        post_form(
            &app,
            &format!("{at}/amend"),
            &other,
            &form(&[("csrf", &b_csrf), ("d.scope", "x")]),
        )
        .await
        .assert(404);
    })
    .await;
}

#[actix_web::test]
async fn an_admin_manages_accounts_and_api_clients_in_the_console() {
    each_backend(|app: TestApp| async move {
        let admin = sign_in(&app, "admin", PASSWORD).await;
        let page = get_with(&app, "/console/users", &admin).await;
        page.assert(200);
        let csrf = hidden(html(&page), "csrf");
        let create = |username: &'static str, password: &'static str, agency: &'static str| {
            form(&[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("role", "regulator"),
                ("agency_code", agency),
            ])
        };
        // The API's rules answer at their fields.
        let bad = post_form(
            &app,
            "/console/users",
            &admin,
            &create("new_reg", "short", ""),
        )
        .await;
        bad.assert(422);
        assert!(html(&bad).contains(r#"id="password-error""#));
        assert!(html(&bad).contains(r#"value="new_reg""#));
        post_form(
            &app,
            "/console/users",
            &admin,
            &create("new_reg", "a long new passphrase", "agriculture"),
        )
        .await
        .assert(303);
        let taken = post_form(
            &app,
            "/console/users",
            &admin,
            &create("new_reg", "a long new passphrase", "agriculture"),
        )
        .await;
        taken.assert(409);
        let reg = sign_in(&app, "new_reg", "a long new passphrase").await;
        get_with(&app, "/console/", &reg).await.assert(200);

        let users = app
            .get(
                "/api/v1/users?role=regulator&limit=100",
                Some(&app.token("admin").await),
            )
            .await;
        let new_id = users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "new_reg")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let account = format!("/console/users/{new_id}");
        // Reset: the old password stops working, and so does the session.
        post_form(
            &app,
            &account,
            &admin,
            &form(&[
                ("csrf", &csrf),
                ("action", "reset"),
                ("password", "another long passphrase"),
            ]),
        )
        .await
        .assert(200);
        let after = get_with(&app, "/console/", &reg).await;
        assert!(html(&after).contains(r#"name="password""#), "session ended");
        let reg = sign_in(&app, "new_reg", "another long passphrase").await;
        // Disable: no more sign-ins.
        let disabled = post_form(
            &app,
            &account,
            &admin,
            &form(&[("csrf", &csrf), ("action", "disable")]),
        )
        .await;
        disabled.assert(200);
        assert!(html(&disabled).contains("已停用"));
        assert!(html(&get_with(&app, "/console/", &reg).await).contains(r#"name="password""#));
        // An admin cannot disable themselves.
        let me = app
            .get("/api/v1/auth/me", Some(&app.token("admin").await))
            .await;
        let own = format!("/console/users/{}", me.body["id"].as_str().unwrap());
        post_form(
            &app,
            &own,
            &admin,
            &form(&[("csrf", &csrf), ("action", "disable")]),
        )
        .await
        .assert(409);
        // None of it is open to anyone else.
        let agri = sign_in(&app, "agri", PASSWORD).await;
        get_with(&app, "/console/users", &agri).await.assert(403);
        let agri_csrf = hidden(html(&get_with(&app, "/console/", &agri).await), "csrf");
        post_form(
            &app,
            &account,
            &agri,
            &form(&[("csrf", &agri_csrf), ("action", "enable")]),
        )
        .await
        .assert(403);

        // API clients: the key is shown once, works, and stops working when revoked.
        let page = get_with(&app, "/console/api-clients", &admin).await;
        page.assert(200);
        let made = post_form(
            &app,
            "/console/api-clients",
            &admin,
            &form(&[
                ("csrf", &csrf),
                ("name", "扫码查询 App"),
                ("contact", "dev@example.com"),
            ]),
        )
        .await;
        made.assert(201);
        let body = html(&made);
        let key_at =
            body.find(r#"<code class="key">"#).expect("the key") + r#"<code class="key">"#.len();
        let key = body[key_at..].split('<').next().unwrap().to_owned();
        assert!(key.starts_with("rk_"), "{key}");
        let list = get_with(&app, "/console/api-clients", &admin).await;
        assert!(!html(&list).contains(&key), "shown once only");
        app.send(
            "GET",
            "/api/v1/products",
            None,
            &[("X-API-Key", &key)],
            None,
        )
        .await
        .assert(200);
        let clients = app
            .get("/api/v1/api-clients", Some(&app.token("admin").await))
            .await;
        let client = clients.body["items"][0]["id"].as_str().unwrap().to_owned();
        post_form(
            &app,
            &format!("/console/api-clients/{client}/revoke"),
            &admin,
            &form(&[("csrf", &csrf)]),
        )
        .await
        .assert(303);
        app.send(
            "GET",
            "/api/v1/products",
            None,
            &[("X-API-Key", &key)],
            None,
        )
        .await
        .assert(401);
        // Anyone else's page lists its own apps only.
        let theirs = get_with(&app, "/console/api-clients", &agri).await;
        theirs.assert(200);
        assert!(!html(&theirs).contains("扫码查询 App"));
    })
    .await;
}

/// Every console page, for every role: it renders (no 500, a whole page in the reader's
/// language) and answers what the role may do — the page, or 403/404.
#[actix_web::test]
async fn every_console_page_renders_for_every_role() {
    each_backend(|app: TestApp| async move {
        let (id, product) = submitted(&app, "每页枸杞", "LB-18-2611018888").await;
        let approved = decide(&app, &id, json!({"decision": "approve"})).await;
        let record = approved["record_id"].as_str().unwrap().to_owned();
        let pages = [
            "/console/".to_owned(),
            "/console/products/new".to_owned(),
            format!("/console/products/{product}/edit"),
            format!("/console/products/{product}/standards"),
            "/console/applications/new?kind=green_food".to_owned(),
            format!("/console/applications/{id}"),
            format!("/console/records/{record}"),
            "/console/users".to_owned(),
            "/console/api-clients".to_owned(),
        ];
        // What each role gets, page by page (in the order above).
        let expected: [(&str, [u16; 9]); 6] = [
            ("ent_a", [200, 200, 200, 200, 200, 200, 200, 403, 200]),
            ("ent_b", [200, 200, 404, 404, 200, 404, 200, 403, 200]),
            ("agri", [200, 403, 403, 403, 403, 200, 200, 403, 200]),
            ("market", [200, 403, 403, 403, 403, 200, 200, 403, 200]),
            ("admin", [200, 403, 403, 403, 403, 200, 200, 200, 200]),
            ("dev", [200, 403, 403, 403, 403, 404, 200, 403, 200]),
        ];
        for (user, statuses) in expected {
            let session = sign_in(&app, user, PASSWORD).await;
            for (path, want) in pages.iter().zip(statuses) {
                for lang in ["zh", "en"] {
                    let sep = if path.contains('?') { '&' } else { '?' };
                    let r = get_with(&app, &format!("{path}{sep}lang={lang}"), &session).await;
                    assert_eq!(
                        r.status.as_u16(),
                        want,
                        "{user} {path} {lang}: {}",
                        html(&r)
                    );
                    let body = html(&r);
                    let tag = if lang == "zh" { "zh-CN" } else { "en" };
                    assert!(
                        body.starts_with("<!doctype html>")
                            && body.contains(&format!(r#"<html lang="{tag}">"#)),
                        "{user} {path}: {body}"
                    );
                    assert_eq!(
                        r.header("cache-control").as_deref(),
                        Some("no-store"),
                        "{path}"
                    );
                }
            }
        }
    })
    .await;
}

#[actix_web::test]
async fn an_enterprise_applies_for_a_designation_and_asks_to_change_certified_facts() {
    each_backend(|app: TestApp| async move {
        let ent = sign_in(&app, "ent_a", PASSWORD).await;
        let home = html(&get_with(&app, "/console/", &ent).await).to_owned();
        for offered in ["provincial_famous_brand", "gi_product", "green_food"] {
            assert!(home.contains(&format!("/console/applications/new?kind={offered}")));
        }
        for not_offered in ["national_famous_brand", "record_change"] {
            assert!(
                !home.contains(&format!("?kind={not_offered}")),
                "{not_offered}"
            );
        }
        get_with(
            &app,
            "/console/applications/new?kind=national_famous_brand",
            &ent,
        )
        .await
        .assert(422);
        let gi_form = get_with(&app, "/console/applications/new?kind=gi_product", &ent).await;
        gi_form.assert(200);
        assert!(html(&gi_form).contains(r#"name="geographical_indication_id""#));
        assert!(
            html(&gi_form).contains("柴达木枸杞"),
            "the GIs to choose from"
        );

        // A famous-brand application: the product and a summary, no certificate fields.
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "名牌申报枸杞").await;
        let page = get_with(
            &app,
            "/console/applications/new?kind=provincial_famous_brand",
            &ent,
        )
        .await;
        let body = html(&page).to_owned();
        assert!(
            body.contains(r#"name="summary""#) && !body.contains(r#"name="certificate_number""#)
        );
        let csrf = hidden(&body, "csrf");
        let ok = post_form(
            &app,
            "/console/applications/new",
            &ent,
            &form(&[
                ("csrf", &csrf),
                ("kind", "provincial_famous_brand"),
                ("product_id", &product),
                ("summary", "连续三年抽检合格，市场占有率全省第一"),
            ]),
        )
        .await;
        ok.assert(303);
        let id = ok
            .header("location")
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let r = app
            .get(&format!("/api/v1/applications/{id}"), Some(&a))
            .await;
        assert_eq!(r.body["kind"], "provincial_famous_brand");
        assert_eq!(r.body["state"], "submitted");
        assert_eq!(
            r.body["details"]["summary"],
            "连续三年抽检合格，市场占有率全省第一"
        );

        // A certified product's name changes only by a record_change, offered by the edit form.
        let (cert_app, certified) = submitted(&app, "认证名称枸杞", "LB-18-2611017788").await;
        decide(&app, &cert_app, json!({"decision": "approve"})).await;
        let edit = format!("/console/products/{certified}/edit");
        let page = get_with(&app, &edit, &ent).await;
        let body = html(&page).to_owned();
        let csrf = hidden(&body, "csrf");
        let version = hidden(&body, "version");
        let brand = app
            .get(&format!("/api/v1/products/{certified}"), None)
            .await
            .body["brand"]
            .as_str()
            .unwrap()
            .to_owned();
        let fields = form(&[
            ("csrf", &csrf),
            ("version", &version),
            ("name", "认证名称枸杞（更名）"),
            ("brand", &brand),
            ("sector", "food"),
            ("category", "goji"),
            ("origin_region_code", "632822"),
            ("ingredients", "枸杞 100%"),
        ]);
        let locked = post_form(&app, &edit, &ent, &fields).await;
        locked.assert(409);
        let change = format!("/console/products/{certified}/record-change");
        assert!(html(&locked).contains(&change), "{}", html(&locked));
        let asked = post_form(&app, &change, &ent, &fields).await;
        asked.assert(303);
        let id = asked
            .header("location")
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let r = app
            .get(&format!("/api/v1/applications/{id}"), Some(&a))
            .await;
        assert_eq!(r.body["kind"], "record_change");
        assert_eq!(r.body["state"], "submitted");
        let changes = r.body["details"]["changes"].as_object().unwrap();
        let asked: Vec<&String> = changes
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect();
        assert_eq!(asked, ["name"], "only what differs: {changes:?}");
        assert_eq!(changes["name"], "认证名称枸杞（更名）");
        // Until agriculture approves, the product keeps its certified name.
        let p = app
            .get(&format!("/api/v1/products/{certified}"), Some(&a))
            .await;
        assert_eq!(p.body["name"], "认证名称枸杞");
    })
    .await;
}
