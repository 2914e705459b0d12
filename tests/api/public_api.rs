//! The public API for third-party apps: search, profiles, validators, batch verification, the
//! change feed, statistics, rate limits and API keys.

use crate::common::{backends, each_backend, gtin, ids, TestApp};
use serde_json::{json, Value};

/// Takes an application of enterprise A through to its record; returns the record id.
/// Issued a month ago for eleven months (within every kind's validity), so it is valid on
/// whatever day the suite runs.
pub(crate) async fn certify(
    app: &TestApp,
    a: &str,
    product: &str,
    kind: &str,
    number: &str,
) -> String {
    let today = registry::clock::today();
    let issued = today - chrono::Duration::days(30);
    let expires = issued + chrono::Months::new(11);
    let body = json!({"kind": kind, "enterprise_id": app.fx.ent_a, "product_id": product,
        "details": {"certificate_number": number, "certification_body_id": app.body_for(kind).await,
                    "issued_on": issued, "expires_on": expires, "scope": "全部产品"}});
    let draft = app.post("/api/v1/applications", Some(a), &body).await;
    draft.assert(201);
    let id = draft.body["id"].as_str().unwrap();
    let agri = app.token("agri").await;
    app.post(
        &format!("/api/v1/applications/{id}/submit"),
        Some(a),
        &json!({}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/applications/{id}/start-review"),
        Some(&agri),
        &json!({}),
    )
    .await
    .assert(200);
    let r = app
        .post(
            &format!("/api/v1/applications/{id}/decide"),
            Some(&agri),
            &json!({"decision": "approve"}),
        )
        .await;
    r.assert(200);
    r.body["record_id"].as_str().unwrap().to_owned()
}

async fn gi_designation(app: &TestApp, a: &str, product: &str) -> String {
    let market = app.token("market").await;
    let body = json!({"kind": "gi_product", "enterprise_id": app.fx.ent_a, "product_id": product,
        "geographical_indication_id": app.gi("qaidam_goji_protected_product")});
    let id = app.post("/api/v1/applications", Some(a), &body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/applications/{id}/submit"),
        Some(a),
        &json!({}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/applications/{id}/start-review"),
        Some(&market),
        &json!({}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/applications/{id}/decide"),
        Some(&market),
        &json!({"decision": "approve"}),
    )
    .await
    .assert(200);
    let g = app
        .post(
            &format!("/api/v1/applications/{id}/grant"),
            Some(&market),
            &json!({}),
        )
        .await;
    g.assert(200);
    g.body["record_id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn products_are_found_by_what_they_carry_and_the_profile_says_it_all() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let certified = app.goji_product(&a, "柴达木枸杞原浆").await;
        let plain = app.goji_product(&a, "普通枸杞").await;
        let mut new = app.product_body("新品牦牛肉", None);
        new["category"] = json!("yak_tibetan_sheep_meat");
        new["is_new_product"] = json!(true);
        new["launched_on"] = json!("2020-07-01");
        let new = app.post("/api/v1/products", Some(&a), &new).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        certify(&app, &a, &certified, "green_food", "LB-18-2601017777").await;
        let designation = gi_designation(&app, &a, &certified).await;
        app.post(
            &format!("/api/v1/products/{certified}/standards"),
            Some(&a),
            &json!({"standard_code": "GB/T 18672-2014"}),
        )
        .await
        .assert(201);

        let get = |q: String| {
            let app = &app;
            async move {
                let r = app.get(&format!("/api/v1/products?{q}"), None).await;
                r.assert(200);
                ids(&r.body)
            }
        };
        assert_eq!(
            get("certification_kind=green_food".into()).await,
            vec![certified.clone()]
        );
        assert!(get("certification_kind=organic".into()).await.is_empty());
        assert_eq!(
            get("designation_kind=gi_product".into()).await,
            vec![certified.clone()]
        );
        assert_eq!(
            get(format!(
                "geographical_indication_id={}",
                app.gi("qaidam_goji_protected_product")
            ))
            .await,
            vec![certified.clone()]
        );
        assert_eq!(
            get("standard_code=GB/T%2018672%E2%80%942014".into()).await,
            vec![certified.clone()]
        );
        assert_eq!(
            get("launched_from=2020-01-01&launched_to=2020-12-31".into()).await,
            vec![new.clone()]
        );
        assert_eq!(
            get("q=%E6%9E%B8%E6%9D%9E".into()).await,
            vec![certified.clone(), plain.clone()]
        ); // 枸杞
        app.get(
            "/api/v1/products?launched_from=2020-13-01&standard_code=xyz",
            None,
        )
        .await
        .assert(422);

        let p = app
            .get(&format!("/api/v1/products/{certified}"), None)
            .await;
        p.assert(200);
        assert_eq!(p.body["name"], "柴达木枸杞原浆");
        assert_eq!(p.body["enterprise"]["name"], "测试甲枸杞有限公司");
        assert_eq!(p.body["standards"][0]["code"], "GB/T 18672-2014");
        assert_eq!(
            p.body["certifications"][0]["certificate_number"],
            "LB-18-2601017777"
        );
        assert_eq!(p.body["designations"][0]["id"], designation.as_str());
        assert_eq!(
            p.body["geographical_indications"][0]["name_zh"],
            "柴达木枸杞"
        );
        // Revoked designations drop out of the profile and the filters at once.
        app.post(
            &format!("/api/v1/designations/{designation}/revoke"),
            Some(&app.token("market").await),
            &json!({"reason": "核查不符"}),
        )
        .await
        .assert(200);
        let p = app
            .get(&format!("/api/v1/products/{certified}"), None)
            .await;
        assert!(p.body["designations"].as_array().unwrap().is_empty());
        assert!(p.body["geographical_indications"]
            .as_array()
            .unwrap()
            .is_empty());
        assert!(get("designation_kind=gi_product".into()).await.is_empty());
    }
}

#[actix_web::test]
async fn validators_give_304_until_the_record_changes() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "缓存测试枸杞").await;
        let cert = certify(&app, &a, &product, "green_food", "LB-18-2601018888").await;
        for path in [
            format!("/api/v1/products/{product}"),
            format!("/api/v1/certifications/{cert}"),
            "/api/v1/products?limit=5".to_owned(),
        ] {
            let first = app.get(&path, None).await;
            first.assert(200);
            let tag = first.header("etag").expect("an ETag");
            assert_eq!(
                first.header("cache-control").as_deref(),
                Some("public, no-cache")
            );
            let again = app
                .send("GET", &path, None, &[("If-None-Match", tag.as_str())], None)
                .await;
            again.assert(304);
            assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
            // Authenticated answers may hold private fields: nothing keeps them.
            let mine = app.get(&path, Some(&a)).await;
            assert_eq!(mine.header("cache-control").as_deref(), Some("no-store"));
            assert_eq!(
                mine.header("referrer-policy").as_deref(),
                Some("no-referrer")
            );
        }
        let path = format!("/api/v1/products/{product}");
        let tag = app.get(&path, None).await.header("etag").unwrap();
        app.post(
            &format!("/api/v1/certifications/{cert}/suspend"),
            Some(&app.token("agri").await),
            &json!({"reason": "抽检"}),
        )
        .await
        .assert(200);
        let after = app
            .send("GET", &path, None, &[("If-None-Match", tag.as_str())], None)
            .await;
        after.assert(200);
        assert_ne!(
            after.header("etag").unwrap(),
            tag,
            "a suspension changes the product's validator"
        );
        assert!(after.body["certifications"].as_array().unwrap().is_empty());
        // A validator from a GET still works as If-Match for a write.
        let etag = app.get(&path, Some(&a)).await.header("etag").unwrap();
        app.send(
            "PATCH",
            &path,
            Some(&a),
            &[("If-Match", etag.as_str())],
            Some(&json!({"suitable_for": "一般人群（新）"})),
        )
        .await
        .assert(200);
        app.send(
            "PATCH",
            &path,
            Some(&a),
            &[("If-Match", etag.as_str())],
            Some(&json!({"suitable_for": "又一个"})),
        )
        .await
        .assert(412);
    })
    .await;
}

#[actix_web::test]
async fn batch_verification_answers_each_number_like_the_single_endpoint() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "批量验证枸杞").await;
        certify(&app, &a, &product, "green_food", "LB-18-2601015555").await;
        let r = app
            .post(
                "/api/v1/verify/batch",
                None,
                &json!({"numbers": ["LB-18-2601015555", "NOPE-1"]}),
            )
            .await;
        r.assert(200);
        let results = r.body["results"].as_array().unwrap();
        let single = app.get("/api/v1/verify/LB-18-2601015555", None).await;
        assert_eq!(results[0]["status"], 200);
        assert_eq!(results[0]["verification"]["status"], single.body["status"]);
        assert_eq!(results[0]["verification"]["holder"], single.body["holder"]);
        assert_eq!(results[1]["status"], 404);
        assert_eq!(results[1]["error"], "not_found");
        let too_many: Vec<String> = (0..101).map(|i| format!("N-{i}")).collect();
        app.post("/api/v1/verify/batch", None, &json!({"numbers": too_many}))
            .await
            .assert(422);
        app.post("/api/v1/verify/batch", None, &json!({"numbers": []}))
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn the_change_feed_is_complete_ordered_and_public_only_under_concurrent_writes() {
    each_backend(|app: TestApp| async move {
        let start: i64 = app.get("/api/v1/changes?limit=1000", None).await.body["next_cursor"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let a = app.token("ent_a").await;
        let b = app.token("ent_b").await;
        let c = app.token("ent_c").await;
        // Concurrent writers: two enterprises' products, and a pending enterprise's (private).
        let mut reqs = Vec::new();
        for i in 0..8 {
            let (app, a, b, c) = (&app, &a, &b, &c);
            reqs.push(async move {
                let (token, enterprise, sector, category, region) = match i % 3 {
                    0 => (a, &app.fx.ent_a, "food", "goji", "632800"),
                    1 => (b, &app.fx.ent_b, "light_textile", "carpet", "630100"),
                    _ => (c, &app.fx.ent_c, "food", "goji", "630200"),
                };
                let mut body = app.product_body(
                    &format!("并发产品 {i}"),
                    Some(&gtin(&format!("69390000{:04}", 100 + i))),
                );
                body["enterprise_id"] = json!(enterprise);
                body["sector"] = json!(sector);
                body["category"] = json!(category);
                body["origin_region_code"] = json!(region);
                let r = app.post("/api/v1/products", Some(token), &body).await;
                r.assert(201);
                (i % 3, r.body["id"].as_str().unwrap().to_owned())
            });
        }
        let created = futures_util::future::join_all(reqs).await;
        // Page through the feed three at a time.
        let mut since = start;
        let mut seen: Vec<Value> = Vec::new();
        loop {
            let page = app
                .get(&format!("/api/v1/changes?since={since}&limit=3"), None)
                .await;
            page.assert(200);
            seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
            since = page.body["next_cursor"].as_str().unwrap().parse().unwrap();
            if page.body["up_to_date"] == true {
                break;
            }
        }
        let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ordered: {seqs:?}");
        for (group, id) in &created {
            let present = seen
                .iter()
                .any(|e| e["entity_id"] == id.as_str() && e["change"] == "product.create");
            assert_eq!(present, *group != 2, "product {id} of group {group}");
        }
        for e in &seen {
            assert!(
                e.get("before").is_none() && e.get("after").is_none(),
                "no contents in the feed: {e}"
            );
            assert!(e["href"].as_str().unwrap().starts_with("/api/v1/"));
        }
        // Logins and other private actions never appear.
        assert!(seen
            .iter()
            .all(|e| !e["change"].as_str().unwrap().starts_with("auth.")));
        app.get("/api/v1/changes?since=abc", None).await.assert(422);
    })
    .await;
}

#[actix_web::test]
async fn plan_progress_counts_exactly_what_the_register_holds() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]).await;
        let a = app.token("ent_a").await;
        let b = app.token("ent_b").await;
        let c = app.token("ent_c").await;
        let launch = |name: &str, date: &str, app: &TestApp| {
            let mut body = app.product_body(name, None);
            body["is_new_product"] = json!(true);
            body["launched_on"] = json!(date);
            body
        };
        for (i, date) in ["2020-02-01", "2020-08-01", "2020-12-31", "2021-01-01"]
            .iter()
            .enumerate()
        {
            app.post(
                "/api/v1/products",
                Some(&a),
                &launch(&format!("食品新品 {i}"), date, &app),
            )
            .await
            .assert(201);
        }
        let mut medicine = launch("藏药新品", "2020-05-05", &app);
        medicine["sector"] = json!("biomedicine");
        medicine["category"] = json!("tibetan_medicine");
        app.post("/api/v1/products", Some(&a), &medicine)
            .await
            .assert(201);
        let mut carpet = launch("新藏毯", "2020-03-03", &app);
        carpet["enterprise_id"] = json!(app.fx.ent_b);
        carpet["sector"] = json!("light_textile");
        carpet["category"] = json!("carpet");
        carpet["origin_region_code"] = json!("630100");
        app.post("/api/v1/products", Some(&b), &carpet)
            .await
            .assert(201);
        // A pending enterprise's new product is not counted.
        let mut pending = launch("待审新品", "2020-04-04", &app);
        pending["enterprise_id"] = json!(app.fx.ent_c);
        pending["origin_region_code"] = json!("630200");
        app.post("/api/v1/products", Some(&c), &pending)
            .await
            .assert(201);
        // Standards: enterprise A declares a national standard; B declares none.
        let any = app.goji_product(&a, "标准测试").await;
        app.post(
            &format!("/api/v1/products/{any}/standards"),
            Some(&a),
            &json!({"standard_code": "GB/T 18672-2014"}),
        )
        .await
        .assert(201);

        let r = app.get("/api/v1/stats/plan-progress?year=2020", None).await;
        r.assert(200);
        let item = |code: &str, sector: Option<&str>| -> Value {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["code"] == code && i["sector"].as_str() == sector)
                .cloned()
                .unwrap()
        };
        assert_eq!(item("new_products", None)["actual"], 5.0);
        assert_eq!(item("new_products", Some("food"))["actual"], 3.0);
        assert_eq!(item("new_products", Some("food"))["target"], 40);
        assert_eq!(item("new_products", Some("food"))["ratio"], 0.075);
        assert_eq!(item("new_products", Some("biomedicine"))["actual"], 1.0);
        assert_eq!(item("new_products", Some("light_textile"))["actual"], 1.0);
        assert_eq!(
            item("new_products", Some("ethnic_specialty"))["actual"],
            0.0
        );
        // 1 of the 2 active enterprises executes a national standard.
        assert_eq!(item("standard_adoption_share", None)["actual"], 50.0);
        assert_eq!(item("standard_adoption_share", None)["target"], 90);
        assert!(item("brand_demonstration_zones", None)["actual"].is_null());
        let y2021 = app.get("/api/v1/stats/plan-progress?year=2021", None).await;
        let total = y2021.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "new_products" && i["sector"].is_null())
            .unwrap()
            .clone();
        assert_eq!(total["actual"], 1.0);
        // Designations granted this year count for this year.
        gi_designation(&app, &a, &any).await;
        let year = chrono::Datelike::year(&registry::clock::today());
        let now = app
            .get(&format!("/api/v1/stats/plan-progress?year={year}"), None)
            .await;
        let gi = now.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "new_gi_products")
            .unwrap()
            .clone();
        assert_eq!(gi["actual"], 1.0);
        app.get("/api/v1/stats/plan-progress?year=abc", None)
            .await
            .assert(422);

        let s = app.get("/api/v1/stats/summary", None).await;
        s.assert(200);
        let food = s.body["by_sector"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["sector"] == "food")
            .unwrap()
            .clone();
        assert_eq!(food["active_enterprises"], 1);
        assert_eq!(
            food["products"], 5,
            "four launches and one more of A's; the pending enterprise's is not counted"
        );
        let haixi = s.body["by_region"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["region_code"] == "632800")
            .unwrap()
            .clone();
        assert_eq!(haixi["active_enterprises"], 1);
        assert_eq!(s.body["designations"][0]["by_status"]["active"], 1);
    }
}

#[actix_web::test]
async fn the_rate_limiter_returns_429_past_its_quota_and_recovers() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            &[
                ("REGISTRY_PUBLIC_RATE_PER_MIN", "60"),
                ("REGISTRY_API_KEY_RATE_PER_MIN", "1000"),
            ],
        )
        .await;
        // Signing in as admin counts against the same address; do it first.
        let admin = app.token("admin").await;
        let key = app
            .post(
                "/api/v1/api-clients",
                Some(&admin),
                &json!({"name": "扫码 App", "contact": "dev@example.com"}),
            )
            .await;
        key.assert(201);
        let secret = key.body["key"].as_str().unwrap().to_owned();
        let client_id = key.body["id"].as_str().unwrap().to_owned();
        let mut last = None;
        for _ in 0..80 {
            let r = app.get("/api/v1/sectors", None).await;
            if r.status.as_u16() == 429 {
                last = Some(r);
                break;
            }
            assert_eq!(r.status.as_u16(), 200);
            assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("60"));
        }
        let limited = last.expect("429 within 80 requests at 60/min");
        assert_eq!(limited.body["code"], "too_many_requests");
        let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=2).contains(&wait), "{wait}");
        assert_eq!(
            limited.header("x-ratelimit-remaining").as_deref(),
            Some("0")
        );
        // A registered app has its own quota.
        let with_key = app
            .send(
                "GET",
                "/api/v1/sectors",
                None,
                &[("X-API-Key", secret.as_str())],
                None,
            )
            .await;
        with_key.assert(200);
        assert_eq!(
            with_key.header("x-ratelimit-limit").as_deref(),
            Some("1000")
        );
        // Guessing keys is no way around the public quota: a wrong key counts as anonymous.
        app.send(
            "GET",
            "/api/v1/sectors",
            None,
            &[("X-API-Key", "rk_not_a_key")],
            None,
        )
        .await
        .assert(429);
        // One request's worth of quota comes back each second at 60/min.
        let second = std::time::Duration::from_millis(1100 * wait);
        actix_web::rt::time::sleep(second).await;
        app.get("/api/v1/sectors", None).await.assert(200);
        app.get("/api/v1/sectors", None).await.assert(429);
        // Revoked: 401 at once (the admin's request waits for its quota like any other).
        actix_web::rt::time::sleep(second).await;
        app.delete(&format!("/api/v1/api-clients/{client_id}"), Some(&admin))
            .await
            .assert(204);
        // A revoked key is a wrong key: it waits for the address's quota, then gets 401.
        actix_web::rt::time::sleep(second).await;
        let revoked = app
            .send(
                "GET",
                "/api/v1/sectors",
                None,
                &[("X-API-Key", secret.as_str())],
                None,
            )
            .await;
        revoked.assert(401);
        assert_eq!(revoked.body["code"], "invalid_api_key");
    }
}

/// Reads the feed from `since` to its end, `limit` at a time; returns the items and the cursor.
async fn follow(app: &TestApp, since: i64, extra: &str) -> (Vec<Value>, i64) {
    let mut since = since;
    let mut seen = Vec::new();
    loop {
        let page = app
            .get(
                &format!("/api/v1/changes?since={since}&limit=2{extra}"),
                None,
            )
            .await;
        page.assert(200);
        seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
        since = page.body["next_cursor"].as_str().unwrap().parse().unwrap();
        if page.body["up_to_date"] == true {
            return (seen, since);
        }
    }
}

#[actix_web::test]
async fn what_becomes_public_later_is_published_after_every_cursor_handed_out() {
    each_backend(|app: TestApp| async move {
        let (_, cursor) = follow(&app, 0, "").await;
        // A pending enterprise's product is private: not in the feed.
        let c = app.token("ent_c").await;
        let mut body = app.product_body("待核准企业产品", None);
        body["enterprise_id"] = json!(app.fx.ent_c);
        body["origin_region_code"] = json!("630200");
        let late = app.post("/api/v1/products", Some(&c), &body).await;
        late.assert(201);
        let late_id = late.body["id"].as_str().unwrap().to_owned();
        let (seen, cursor) = follow(&app, cursor, "").await;
        assert!(seen.iter().all(|e| e["entity_id"] != late_id.as_str()));
        // Verified while others write: its products are published now, after the cursor the
        // follower holds, exactly once.
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        let verify_path = format!("/api/v1/enterprises/{}/verify", app.fx.ent_c);
        let empty = json!({});
        let verify = app.post(&verify_path, Some(&market), &empty);
        let names: Vec<String> = (0..4).map(|i| format!("并发公开 {i}")).collect();
        let writers = futures_util::future::join_all(names.iter().map(|n| app.goji_product(&a, n)));
        let (v, _) = futures_util::future::join(verify, writers).await;
        v.assert(200);
        let (seen, head) = follow(&app, cursor, "").await;
        let published: Vec<&Value> = seen
            .iter()
            .filter(|e| e["entity_id"] == late_id.as_str())
            .collect();
        assert_eq!(published.len(), 1, "{seen:?}");
        assert_eq!(published[0]["change"], "product.publish");
        assert!(published[0]["seq"].as_i64().unwrap() > cursor);
        assert!(
            seen.iter()
                .any(|e| e["entity_id"] == app.fx.ent_c.as_str()
                    && e["change"] == "enterprise.verify")
        );
        let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        // Only some types; and no cursor beyond the head.
        let (products, _) = follow(&app, cursor, "&types=product").await;
        assert!(!products.is_empty() && products.iter().all(|e| e["entity_type"] == "product"));
        let ahead = app
            .get(&format!("/api/v1/changes?since={}", head + 1), None)
            .await;
        ahead.assert(400);
        assert_eq!(ahead.code(), "cursor_ahead");
        app.get("/api/v1/changes?types=secrets", None)
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn the_client_address_is_the_tcp_peer_not_a_forwarded_header() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_RATE_PER_MIN", "2")]).await;
        let mut last = None;
        for i in 0..3 {
            let forged = format!("203.0.113.{i}");
            let r = app
                .send(
                    "GET",
                    "/api/v1/sectors",
                    None,
                    &[("X-Forwarded-For", forged.as_str())],
                    None,
                )
                .await;
            last = Some(r.status.as_u16());
        }
        assert_eq!(
            last,
            Some(429),
            "a forged X-Forwarded-For must not buy a new quota"
        );
    }
}

#[actix_web::test]
async fn a_stored_value_outside_its_closed_set_fails_to_load() {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    for backend in backends() {
        let db = crate::common::TestDb::new(backend);
        let (pool, _) = registry::db::build_pool(&db.url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let known: registry::domain::Role = diesel::select(sql::<Text>("'regulator'"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(known, registry::domain::Role::Regulator);
        let unknown = diesel::select(sql::<Text>("'superuser'"))
            .get_result::<registry::domain::Role>(&mut conn);
        assert!(unknown.is_err(), "no silent default for an unknown role");
    }
}
