//! Products: who may create and edit them, GTINs, visibility, declared standards.

use crate::common::{each_backend, gtin, ids, TestApp};
use serde_json::json;

#[actix_web::test]
async fn an_enterprise_registers_its_own_products_only() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let g = gtin("693900000001");
        let r = app
            .post(
                "/api/v1/products",
                Some(&a),
                &app.product_body("柴达木枸杞原浆", Some(&g)),
            )
            .await;
        r.assert(201);
        assert_eq!(r.body["gtin"], g.as_str());
        assert_eq!(
            r.body["ingredients"],
            json!([{"name": "枸杞", "content_percent": 100.0}])
        );
        assert!(r
            .header("location")
            .unwrap()
            .ends_with(r.body["id"].as_str().unwrap()));
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(app.audit_for("product", &id)[0].action, "product.create");
        // For another enterprise: 404 for its users; 403 for roles that never manage products.
        let mut other = app.product_body("别家的产品", None);
        other["enterprise_id"] = json!(app.fx.ent_b);
        other["sector"] = json!("light_textile");
        other["category"] = json!("carpet");
        app.post("/api/v1/products", Some(&a), &other)
            .await
            .assert(404);
        app.post("/api/v1/products", Some(&app.token("market").await), &other)
            .await
            .assert(403);
        app.post("/api/v1/products", Some(&app.token("admin").await), &other)
            .await
            .assert(403);
        app.post("/api/v1/products", None, &other).await.assert(401);
        // Editing: own yes, other enterprise's 404.
        let path = format!("/api/v1/products/{id}");
        let r = app
            .patch(&path, Some(&a), &json!({"status": "discontinued"}))
            .await;
        r.assert(200);
        assert_eq!(r.body["status"], "discontinued");
        app.patch(
            &path,
            Some(&app.token("ent_b").await),
            &json!({"name": "篡改"}),
        )
        .await
        .assert(404);
        app.patch(
            &path,
            Some(&app.token("market").await),
            &json!({"name": "篡改"}),
        )
        .await
        .assert(403);
    })
    .await;
}

#[actix_web::test]
async fn gtin_check_digits_and_uniqueness() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let r = app
            .post(
                "/api/v1/products",
                Some(&a),
                &app.product_body("坏码", Some("6936983800014")),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["gtin"]);
        assert_eq!(r.body["errors"][0]["code"], "invalid_check_digit");
        app.post(
            "/api/v1/products",
            Some(&a),
            &app.product_body("好码", Some("6936983800013")),
        )
        .await
        .assert(201);
        let dup = app
            .post(
                "/api/v1/products",
                Some(&a),
                &app.product_body("重码", Some("6936983800013")),
            )
            .await;
        dup.assert(409);
        assert_eq!(dup.code(), "duplicate_gtin");
        let found = app
            .get("/api/v1/products/by-gtin/6936983800013", None)
            .await;
        found.assert(200);
        assert_eq!(found.body["name"], "好码");
        app.get("/api/v1/products/by-gtin/6936983800020", None)
            .await
            .assert(404);
        app.get("/api/v1/products/by-gtin/123", None)
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn label_disclosure_and_references_are_validated() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let mut body = app.product_body("", None);
        body["ingredients"] =
            json!([{"name": "枸杞", "content_percent": 80}, {"name": "", "content_percent": 30}]);
        body["is_new_product"] = json!(true);
        body["sector"] = json!("toys");
        let r = app.post("/api/v1/products", Some(&a), &body).await;
        r.assert(422);
        let fields = r.fields();
        for f in [
            "name",
            "sector",
            "ingredients[1].name",
            "ingredients",
            "launched_on",
        ] {
            assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
        }
        // Category of another sector; a sector the enterprise is not in; an unknown region.
        let mut body = app.product_body("错类", None);
        body["category"] = json!("carpet");
        app.post("/api/v1/products", Some(&a), &body)
            .await
            .assert(422);
        let mut body = app.product_body("错行", None);
        body["sector"] = json!("light_textile");
        body["category"] = json!("carpet");
        let r = app.post("/api/v1/products", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "sector_not_declared");
        let mut body = app.product_body("错地", None);
        body["origin_region_code"] = json!("110000");
        let r = app.post("/api/v1/products", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["origin_region_code"]);
    })
    .await;
}

#[actix_web::test]
async fn a_pending_enterprises_products_are_visible_only_to_its_users_and_regulators() {
    each_backend(|app: TestApp| async move {
        let c = app.token("ent_c").await;
        let mut body = app.product_body("待审企业的枸杞", Some(&gtin("693900000002")));
        body["enterprise_id"] = json!(app.fx.ent_c);
        body["origin_region_code"] = json!("630200");
        let r = app.post("/api/v1/products", Some(&c), &body).await;
        r.assert(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/products/{id}");
        app.get(&path, None).await.assert(404);
        app.get(&path, Some(&app.token("ent_a").await))
            .await
            .assert(404);
        app.get(
            &format!("/api/v1/products/by-gtin/{}", gtin("693900000002")),
            None,
        )
        .await
        .assert(404);
        app.get(&format!("/api/v1/products/{id}/standards"), None)
            .await
            .assert(404);
        app.get(&path, Some(&c)).await.assert(200);
        app.get(&path, Some(&app.token("agri").await))
            .await
            .assert(200);
        assert!(!ids(&app.get("/api/v1/products?limit=100", None).await.body).contains(&id));
        assert!(ids(&app.get("/api/v1/products?limit=100", Some(&c)).await.body).contains(&id));
        assert!(ids(&app
            .get(
                "/api/v1/products?limit=100",
                Some(&app.token("market").await)
            )
            .await
            .body)
        .contains(&id));
        // Verified: public at once.
        app.post(
            &format!("/api/v1/enterprises/{}/verify", app.fx.ent_c),
            Some(&app.token("market").await),
            &json!({}),
        )
        .await
        .assert(200);
        app.get(&path, None).await.assert(200);
    })
    .await;
}

#[actix_web::test]
async fn list_filters_including_chinese_substrings() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let mut goji = app.product_body("柴达木枸杞原浆", None);
        goji["is_new_product"] = json!(true);
        goji["launched_on"] = json!("2020-06-01");
        let goji = app.post("/api/v1/products", Some(&a), &goji).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut yak = app.product_body("牦牛肉干", None);
        yak["category"] = json!("yak_tibetan_sheep_meat");
        yak["origin_region_code"] = json!("632822");
        let yak = app.post("/api/v1/products", Some(&a), &yak).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let b = app.token("ent_b").await;
        let mut carpet = app.product_body("藏毯", None);
        carpet["enterprise_id"] = json!(app.fx.ent_b);
        carpet["sector"] = json!("light_textile");
        carpet["category"] = json!("carpet");
        carpet["origin_region_code"] = json!("630100");
        carpet["brand"] = json!("雪域枸杞纹");
        let carpet = app.post("/api/v1/products", Some(&b), &carpet).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let get = |q: &'static str| {
            let app = &app;
            async move { ids(&app.get(&format!("/api/v1/products?{q}"), None).await.body) }
        };
        assert_eq!(
            get("q=%E6%9E%B8%E6%9D%9E").await,
            vec![goji.clone(), carpet.clone()]
        ); // 枸杞: name or brand
        assert_eq!(get("q=%E7%89%A6%E7%89%9B").await, vec![yak.clone()]); // 牦牛
        assert_eq!(get("sector=light_textile").await, vec![carpet.clone()]);
        assert_eq!(get("is_new_product=true").await, vec![goji.clone()]);
        assert_eq!(
            get("region_code=632800").await,
            vec![goji.clone(), yak.clone()]
        );
        assert_eq!(get("region_code=632822").await, vec![yak.clone()]);
        let by_ent = format!("enterprise_id={}", app.fx.ent_b);
        assert_eq!(
            ids(&app
                .get(&format!("/api/v1/products?{by_ent}"), None)
                .await
                .body),
            vec![carpet.clone()]
        );
        // Percent and underscore are literal characters, not wildcards.
        assert!(get("q=%25").await.is_empty());
        app.get("/api/v1/products?is_new_product=maybe", None)
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn declared_standards_refuse_withdrawn_and_duplicates_and_match_any_spelling() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let id = app
            .post(
                "/api/v1/products",
                Some(&a),
                &app.product_body("枸杞干果", None),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/products/{id}/standards");
        let r = app
            .post(
                &path,
                Some(&a),
                &json!({"standard_code": "GB/T 18672—2014"}),
            )
            .await;
        r.assert(201);
        assert_eq!(r.body["standard"]["code"], "GB/T 18672-2014");
        let std_id = r.body["standard"]["id"].as_str().unwrap().to_owned();
        let dup = app
            .post(&path, Some(&a), &json!({"standard_code": "gb/t18672-2014"}))
            .await;
        dup.assert(409);
        assert_eq!(dup.code(), "already_declared");
        // An admin withdraws a standard; declaring it is then refused.
        let admin = app.token("admin").await;
        let created = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "DB63/T 9999-2020", "title": "测试地方标准"}),
            )
            .await;
        created.assert(201);
        let sid = created.body["id"].as_str().unwrap();
        app.patch(
            &format!("/api/v1/standards/{sid}"),
            Some(&admin),
            &json!({"status": "withdrawn"}),
        )
        .await
        .assert(200);
        let w = app
            .post(
                &path,
                Some(&a),
                &json!({"standard_code": "DB63/T 9999-2020"}),
            )
            .await;
        w.assert(422);
        assert_eq!(w.body["errors"][0]["code"], "standard_withdrawn");
        let unknown = app
            .post(&path, Some(&a), &json!({"standard_code": "GB/T 1-1900"}))
            .await;
        unknown.assert(422);
        app.post(&path, Some(&a), &json!({"standard_code": "not a code"}))
            .await
            .assert(422);
        app.post(
            &path,
            Some(&app.token("ent_b").await),
            &json!({"standard_code": "GB/T 19630-2019"}),
        )
        .await
        .assert(404);
        // Listing is public for a public product.
        let list = app.get(&path, None).await;
        list.assert(200);
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
        // Removing.
        app.delete(&format!("{path}/{std_id}"), Some(&app.token("ent_b").await))
            .await
            .assert(404);
        app.delete(&format!("{path}/{std_id}"), Some(&a))
            .await
            .assert(204);
        app.delete(&format!("{path}/{std_id}"), Some(&a))
            .await
            .assert(404);
        assert!(app.get(&path, None).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty());
        let actions: Vec<String> = app
            .audit_for("product", &id)
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            vec![
                "product.create",
                "product.declare_standard",
                "product.undeclare_standard"
            ]
        );
    })
    .await;
}

#[actix_web::test]
async fn a_patch_checks_the_references_again() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let first = app
            .post(
                "/api/v1/products",
                Some(&a),
                &app.product_body("参照一", Some(&gtin("693900001111"))),
            )
            .await;
        first.assert(201);
        let second = app.goji_product(&a, "参照二").await;
        let path = format!("/api/v1/products/{second}");
        let r = app
            .patch(&path, Some(&a), &json!({"category": "carpet"}))
            .await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "category_not_in_sector");
        let r = app
            .patch(&path, Some(&a), &json!({"origin_region_code": "639999"}))
            .await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "unknown_region");
        let r = app
            .patch(&path, Some(&a), &json!({"gtin": first.body["gtin"]}))
            .await;
        r.assert(409);
        assert_eq!(r.code(), "duplicate_gtin");
    })
    .await;
}

/// `q` is served by the n-gram index: any length from one character, name or brand, kept in
/// step with edits, and rebuilt for rows written before the index existed.
#[actix_web::test]
async fn search_finds_substrings_of_any_length_through_the_index_and_follows_edits() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let mut body = app.product_body("雪域牦牛酸奶", None);
        body["brand"] = json!("Yak-Gold");
        let r = app.post("/api/v1/products", Some(&a), &body).await;
        r.assert(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let find = |q: &str| {
            let app = &app;
            let url = format!("/api/v1/products?q={}", urlencode(q));
            async move {
                let r = app.get(&url, None).await;
                r.assert(200);
                ids(&r.body)
            }
        };
        for q in ["牦", "牦牛", "牛酸", "雪域牦牛酸奶", "yak-g", "GOLD", "k-g"] {
            assert_eq!(find(q).await, vec![id.clone()], "q={q}");
        }
        for q in ["熊猫", "酸牦", "牦  牛", "gold yak", "%", "_"] {
            assert!(find(q).await.is_empty(), "q={q}");
        }
        // An edit moves the product from its old words to its new ones.
        let r = app
            .patch(
                &format!("/api/v1/products/{id}"),
                Some(&a),
                &json!({"name": "高原藏羊肉"}),
            )
            .await;
        r.assert(200);
        assert!(find("牦牛").await.is_empty());
        assert_eq!(find("藏羊").await, vec![id.clone()]);

        // Enterprises by name, the same way.
        let r = app.get("/api/v1/enterprises?limit=100", None).await;
        let name = r.body["items"][0]["name"].as_str().unwrap().to_owned();
        let first: String = name.chars().take(1).collect();
        let r = app
            .get(
                &format!("/api/v1/enterprises?q={}", urlencode(&first)),
                None,
            )
            .await;
        assert!(ids(&r.body).contains(&r.body["items"][0]["id"].as_str().unwrap().to_owned()));
        assert!(r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"].as_str().unwrap().contains(&first)));

        // Rows the index has never seen (written before it existed) are indexed at start.
        use diesel::RunQueryDsl;
        diesel::sql_query("DELETE FROM search_docs")
            .execute(&mut app.conn())
            .unwrap();
        assert!(find("藏羊").await.is_empty());
        let n = registry::search::backfill(&mut app.conn()).unwrap();
        assert!(n >= 2, "{n}");
        assert_eq!(find("藏羊").await, vec![id.clone()]);
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A list row says who holds the product and what it is certified and designated for, so an
/// app needs no second call per row.
#[actix_web::test]
async fn list_items_name_the_holder_and_the_kinds_of_live_records() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let certified = app.goji_product(&a, "列表绿色枸杞").await;
        crate::public_api::certify(&app, &a, &certified, "green_food", "LB-18-2611015555").await;
        let plain = app.goji_product(&a, "列表普通枸杞").await;
        let r = app
            .get(
                &format!("/api/v1/products?enterprise_id={}", app.fx.ent_a),
                None,
            )
            .await;
        r.assert(200);
        let item = |id: &str| {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id)
                .cloned()
                .unwrap()
        };
        let ent = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_a), None)
            .await;
        assert_eq!(item(&certified)["enterprise_name"], ent.body["name"]);
        assert_eq!(item(&certified)["certifications"], json!(["green_food"]));
        assert_eq!(item(&certified)["designations"], json!([]));
        assert_eq!(item(&plain)["certifications"], json!([]));
        // A suspended certificate is not live.
        let agri = app.token("agri").await;
        let cert = app
            .get(
                &format!("/api/v1/certifications?product_id={certified}"),
                Some(&agri),
            )
            .await;
        let cert_id = cert.body["items"][0]["id"].as_str().unwrap().to_owned();
        app.post(
            &format!("/api/v1/certifications/{cert_id}/suspend"),
            Some(&agri),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        let r = app
            .get(
                &format!("/api/v1/products?enterprise_id={}", app.fx.ent_a),
                None,
            )
            .await;
        let row = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == certified.as_str())
            .cloned()
            .unwrap();
        assert_eq!(row["certifications"], json!([]));
    })
    .await;
}
