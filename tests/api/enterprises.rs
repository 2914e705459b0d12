//! Enterprises: visibility, verification, editing, direct registration with a USCC override.

use crate::common::{each_backend, ids, uscc, TestApp};
use serde_json::json;

#[actix_web::test]
async fn the_public_sees_active_enterprises_without_private_fields() {
    each_backend(|app: TestApp| async move {
        let r = app.get("/api/v1/enterprises", None).await;
        r.assert(200);
        let listed = ids(&r.body);
        assert!(listed.contains(&app.fx.ent_a) && listed.contains(&app.fx.ent_b));
        assert!(
            !listed.contains(&app.fx.ent_c),
            "pending enterprise listed publicly"
        );
        for item in r.body["items"].as_array().unwrap() {
            assert!(
                item.get("contact_phone").is_none() && item.get("contact_email").is_none(),
                "{item}"
            );
        }
        app.get(&format!("/api/v1/enterprises/{}", app.fx.ent_c), None)
            .await
            .assert(404);
        let a = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_a), None)
            .await;
        a.assert(200);
        assert!(a.body.get("contact_phone").is_none());
        // Version first, then a hash of the content; caches must revalidate.
        assert!(
            a.header("etag").unwrap().starts_with("\"1-"),
            "{:?}",
            a.header("etag")
        );
        assert_eq!(
            a.header("cache-control").as_deref(),
            Some("public, no-cache")
        );
    })
    .await;
}

#[actix_web::test]
async fn own_users_and_regulators_see_pending_and_private_data_others_get_404() {
    each_backend(|app: TestApp| async move {
        let path = format!("/api/v1/enterprises/{}", app.fx.ent_c);
        let own = app.get(&path, Some(&app.token("ent_c").await)).await;
        own.assert(200);
        assert_eq!(own.body["contact_phone"], "0971-1234567");
        let reg = app.get(&path, Some(&app.token("agri").await)).await;
        reg.assert(200);
        assert_eq!(reg.body["status"], "pending");
        app.get(&path, Some(&app.token("ent_a").await))
            .await
            .assert(404);
        // Another enterprise's public profile is visible, its contacts are not.
        let other = app
            .get(
                &format!("/api/v1/enterprises/{}", app.fx.ent_b),
                Some(&app.token("ent_a").await),
            )
            .await;
        other.assert(200);
        assert!(other.body.get("contact_email").is_none());
        // Lists: the pending one appears for its own user and for regulators only.
        let own_list = app
            .get(
                "/api/v1/enterprises?limit=100",
                Some(&app.token("ent_c").await),
            )
            .await;
        assert!(ids(&own_list.body).contains(&app.fx.ent_c));
        let other_list = app
            .get(
                "/api/v1/enterprises?limit=100",
                Some(&app.token("ent_a").await),
            )
            .await;
        assert!(!ids(&other_list.body).contains(&app.fx.ent_c));
        let reg_list = app
            .get(
                "/api/v1/enterprises?status=pending",
                Some(&app.token("market").await),
            )
            .await;
        assert_eq!(ids(&reg_list.body), vec![app.fx.ent_c.clone()]);
    })
    .await;
}

#[actix_web::test]
async fn only_market_regulation_verifies_and_it_is_audited() {
    each_backend(|app: TestApp| async move {
        let path = format!("/api/v1/enterprises/{}/verify", app.fx.ent_c);
        app.post(&path, None, &json!({})).await.assert(401);
        app.post(&path, Some(&app.token("agri").await), &json!({}))
            .await
            .assert(403);
        app.post(&path, Some(&app.token("ent_c").await), &json!({}))
            .await
            .assert(403);
        app.post(&path, Some(&app.token("ent_a").await), &json!({}))
            .await
            .assert(404);
        app.post(&path, Some(&app.token("admin").await), &json!({}))
            .await
            .assert(403);
        let market = app.token("market").await;
        let r = app.post(&path, Some(&market), &json!({})).await;
        r.assert(200);
        assert_eq!(r.body["status"], "active");
        assert!(r.body["verified_at"].is_string());
        assert_eq!(r.body["version"], 2);
        // Now public.
        app.get(&format!("/api/v1/enterprises/{}", app.fx.ent_c), None)
            .await
            .assert(200);
        // Verifying again conflicts and says the current state.
        let again = app.post(&path, Some(&market), &json!({})).await;
        again.assert(409);
        assert_eq!(again.body["current_state"], "active");
        let audit = app.audit_for("enterprise", &app.fx.ent_c);
        let entry = audit
            .iter()
            .find(|e| e.action == "enterprise.verify")
            .expect("verify audited");
        assert_eq!(entry.actor_label, "regulator:market");
        assert!(entry.request_id.is_some());
        assert!(entry.before.as_deref().unwrap().contains("\"pending\""));
        assert!(entry.after.as_deref().unwrap().contains("\"active\""));
    })
    .await;
}

#[actix_web::test]
async fn enterprise_users_edit_only_their_own_enterprise() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let own = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        let r = app
            .patch(
                &own,
                Some(&a),
                &json!({"address": "德令哈市新址 9 号", "sectors": ["food"]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["address"], "德令哈市新址 9 号");
        assert_eq!(r.body["sectors"], json!(["food"]));
        assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
        let other = format!("/api/v1/enterprises/{}", app.fx.ent_b);
        app.patch(&other, Some(&a), &json!({"address": "x"}))
            .await
            .assert(404);
        app.patch(
            &other,
            Some(&app.token("admin").await),
            &json!({"address": "x"}),
        )
        .await
        .assert(403);
        app.patch(&other, None, &json!({"address": "x"}))
            .await
            .assert(401);
        // Regulators may correct a profile.
        app.patch(
            &other,
            Some(&app.token("market").await),
            &json!({"address": "西宁市更正路 1 号"}),
        )
        .await
        .assert(200);
        // Bad values: 422 per field.
        let bad = app
            .patch(
                &own,
                Some(&a),
                &json!({"contact_email": "nope", "scale": "huge", "region_code": "999999"}),
            )
            .await;
        bad.assert(422);
        assert_eq!(bad.fields(), vec!["scale", "contact_email"]);
        let bad = app
            .patch(&own, Some(&a), &json!({"region_code": "632400"}))
            .await;
        bad.assert(422);
        assert_eq!(bad.body["errors"][0]["code"], "unknown_region");
    })
    .await;
}

#[actix_web::test]
async fn a_stale_if_match_gets_412_and_nothing_changes() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let path = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        let r = app
            .send(
                "PATCH",
                &path,
                Some(&a),
                &[("If-Match", "\"1\"")],
                Some(&json!({"address": "first"})),
            )
            .await;
        r.assert(200);
        let r = app
            .send(
                "PATCH",
                &path,
                Some(&a),
                &[("If-Match", "\"1\"")],
                Some(&json!({"address": "second"})),
            )
            .await;
        r.assert(412);
        assert_eq!(app.get(&path, Some(&a)).await.body["address"], "first");
    })
    .await;
}

fn direct(uscc: &str, reason: Option<&str>) -> serde_json::Value {
    json!({
        "enterprise": {"uscc": uscc, "name": "直接登记测试公司", "legal_representative": "李四", "region_code": "630100",
            "address": "西宁市测试街 3 号", "sectors": ["ethnic_specialty"], "scale": "medium",
            "contact_phone": "0971-7654321", "contact_email": "direct@example.com"},
        "uscc_override_reason": reason
    })
}

#[actix_web::test]
async fn a_market_regulator_may_register_a_code_failing_its_check_only_with_an_audited_reason() {
    each_backend(|app: TestApp| async move {
        let market = app.token("market").await;
        let issued = "91350211M0000XUF46";
        let r = app
            .post("/api/v1/enterprises", Some(&market), &direct(issued, None))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["enterprise.uscc"]);
        app.post(
            "/api/v1/enterprises",
            Some(&app.token("agri").await),
            &direct(issued, Some("x")),
        )
        .await
        .assert(403);
        app.post(
            "/api/v1/enterprises",
            Some(&app.token("ent_a").await),
            &direct(issued, Some("x")),
        )
        .await
        .assert(403);
        let reason = "issued this way in 2016; checked against the business licence";
        let r = app
            .post(
                "/api/v1/enterprises",
                Some(&market),
                &direct(issued, Some(reason)),
            )
            .await;
        r.assert(201);
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["uscc_override_reason"], reason);
        let id = r.body["id"].as_str().unwrap();
        let audit = app.audit_for("enterprise", id);
        assert_eq!(audit[0].action, "enterprise.create_with_uscc_override");
        assert_eq!(audit[0].reason.as_deref(), Some(reason));
        // The public never sees the reason.
        let public = app.get(&format!("/api/v1/enterprises/{id}"), None).await;
        assert!(public.body.get("uscc_override_reason").is_none());
        // A valid code needs no reason, and a reason does not make a malformed code acceptable.
        app.post(
            "/api/v1/enterprises",
            Some(&market),
            &direct(&uscc("630100", "MA3333333"), None),
        )
        .await
        .assert(201);
        app.post(
            "/api/v1/enterprises",
            Some(&market),
            &direct("91350211M0000XUF4", Some(reason)),
        )
        .await
        .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn filters_and_keyset_pagination() {
    each_backend(|app: TestApp| async move {
        let f = |q: &str| format!("/api/v1/enterprises?{q}");
        assert_eq!(
            ids(&app.get(&f("region_code=632800"), None).await.body),
            vec![app.fx.ent_a.clone()]
        );
        // A province code matches everything under it.
        assert_eq!(
            ids(&app.get(&f("region_code=630000"), None).await.body).len(),
            2
        );
        assert_eq!(
            ids(&app.get(&f("sector=light_textile"), None).await.body),
            vec![app.fx.ent_b.clone()]
        );
        assert_eq!(
            ids(&app.get(&f("q=%E8%97%8F%E6%AF%AF"), None).await.body),
            vec![app.fx.ent_b.clone()]
        ); // 藏毯
        let bad = app
            .get(&f("sector=toys&limit=500&cursor=%21%21"), None)
            .await;
        bad.assert(422);
        let mut fields = bad.fields();
        fields.sort();
        assert_eq!(fields, vec!["cursor", "limit", "sector"]);
        // Pages of one, following next_cursor, stable while rows are added.
        let market = app.token("market").await;
        let first = app.get(&f("limit=1"), None).await;
        assert_eq!(ids(&first.body).len(), 1);
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        app.post(
            "/api/v1/enterprises",
            Some(&market),
            &direct(&uscc("630100", "MA4444444"), None),
        )
        .await
        .assert(201);
        let mut seen = ids(&first.body);
        let mut next = Some(cursor);
        while let Some(c) = next {
            let page = app.get(&f(&format!("limit=1&cursor={c}")), None).await;
            page.assert(200);
            seen.extend(ids(&page.body));
            next = page.body["next_cursor"].as_str().map(str::to_owned);
        }
        let mut dedup = seen.clone();
        dedup.dedup();
        assert_eq!(seen, dedup, "no row twice");
        assert_eq!(
            seen.len(),
            3,
            "both fixtures and the one added meanwhile: {seen:?}"
        );
    })
    .await;
}

#[actix_web::test]
async fn an_enterprises_identity_changes_only_when_market_regulation_approves() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let market = app.token("market").await;
        let agri = app.token("agri").await;
        let own = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        let before = app.get(&own, Some(&a)).await.body;
        // The enterprise asks: the name waits, the address applies at once.
        let r = app
            .patch(
                &own,
                Some(&a),
                &json!({"name": "更名后的枸杞有限公司", "address": "新址 2 号"}),
            )
            .await;
        r.assert(202);
        assert_eq!(r.body["enterprise"]["name"], before["name"]);
        assert_eq!(r.body["enterprise"]["address"], "新址 2 号");
        assert_eq!(r.body["identity_change"]["state"], "pending");
        let change = r.body["identity_change"]["id"].as_str().unwrap().to_owned();
        let again = app
            .patch(&own, Some(&a), &json!({"name": "又一个名字"}))
            .await;
        again.assert(409);
        assert_eq!(again.code(), "identity_change_pending");
        assert_eq!(again.body["conflicts_with"], json!([change]));
        // Other agencies neither edit enterprises nor decide.
        app.patch(&own, Some(&agri), &json!({"address": "x"}))
            .await
            .assert(403);
        let decide = |verb: &str| format!("{own}/identity-changes/{change}/{verb}");
        app.post(&decide("approve"), Some(&agri), &json!({}))
            .await
            .assert(403);
        app.post(&decide("approve"), Some(&a), &json!({}))
            .await
            .assert(403);
        // Another enterprise does not learn it exists.
        let b = app.token("ent_b").await;
        app.get(&format!("{own}/identity-changes"), Some(&b))
            .await
            .assert(404);
        // A rejection says why; the name stays.
        app.post(&decide("reject"), Some(&market), &json!({}))
            .await
            .assert(422);
        let rejected = app
            .post(
                &decide("reject"),
                Some(&market),
                &json!({"reason": "营业执照仍为原名"}),
            )
            .await;
        rejected.assert(200);
        assert_eq!(rejected.body["state"], "rejected");
        assert_eq!(rejected.body["reason"], "营业执照仍为原名");
        app.post(&decide("approve"), Some(&market), &json!({}))
            .await
            .assert(409);
        assert_eq!(app.get(&own, None).await.body["name"], before["name"]);
        // Asked again and approved: now it changes, audited.
        let r = app
            .patch(&own, Some(&a), &json!({"name": "更名后的枸杞有限公司"}))
            .await;
        r.assert(202);
        let change = r.body["identity_change"]["id"].as_str().unwrap().to_owned();
        app.post(
            &format!("{own}/identity-changes/{change}/approve"),
            Some(&market),
            &json!({}),
        )
        .await
        .assert(200);
        assert_eq!(
            app.get(&own, None).await.body["name"],
            "更名后的枸杞有限公司"
        );
        let list = app.get(&format!("{own}/identity-changes"), Some(&a)).await;
        let states: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["rejected", "approved"]);
        let audit = app.audit_for("enterprise", &app.fx.ent_a);
        assert!(audit
            .iter()
            .any(|e| e.action == "enterprise.identity_change_approved"));
        // A new USCC must pass its check and be free, when asked for.
        let bad = app
            .patch(&own, Some(&a), &json!({"uscc": "91632800MA0000001X"}))
            .await;
        bad.assert(422);
        assert_eq!(bad.fields(), vec!["uscc"]);
        let ent_b_uscc = app
            .get(&format!("/api/v1/enterprises/{}", app.fx.ent_b), None)
            .await
            .body["uscc"]
            .clone();
        let taken = app
            .patch(&own, Some(&a), &json!({"uscc": ent_b_uscc}))
            .await;
        taken.assert(409);
        assert_eq!(taken.code(), "uscc_taken");
        assert_eq!(taken.body["conflicts_with"], json!([app.fx.ent_b]));
        // Market regulation may correct an identity directly.
        app.patch(
            &own,
            Some(&market),
            &json!({"legal_representative": "新代表"}),
        )
        .await
        .assert(200);
    })
    .await;
}

#[actix_web::test]
async fn enterprise_and_product_fields_have_their_limits() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let own = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        for (body, field, code) in [
            (json!({"address": "址".repeat(301)}), "address", "too_long"),
            (
                json!({"contact_phone": "12ab"}),
                "contact_phone",
                "invalid_phone",
            ),
            (
                json!({"contact_phone": "123-45"}),
                "contact_phone",
                "invalid_phone",
            ),
            (
                json!({"region_code": "63280"}),
                "region_code",
                "invalid_region_code",
            ),
        ] {
            let r = app.patch(&own, Some(&a), &body).await;
            r.assert(422);
            assert_eq!(
                (
                    r.body["errors"][0]["field"].as_str(),
                    r.body["errors"][0]["code"].as_str()
                ),
                (Some(field), Some(code)),
                "{body}"
            );
        }
        let mut product = app.product_body("限制检查", None);
        product["ingredients"] = json!([]);
        let r = app.post("/api/v1/products", Some(&a), &product).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["ingredients"]);
        product["ingredients"] = json!(vec![json!({"name": "枸杞"}); 101]);
        app.post("/api/v1/products", Some(&a), &product)
            .await
            .assert(422);
        product["ingredients"] = json!([{"name": "枸杞", "content_percent": 0}]);
        let r = app.post("/api/v1/products", Some(&a), &product).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["ingredients[0].content_percent"]);
    })
    .await;
}
