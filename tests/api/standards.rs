//! The standards catalogue: seeded codes, canonical forms, levels, withdrawal and succession.

use crate::common::{each_backend, TestApp};
use serde_json::json;

#[actix_web::test]
async fn seeded_catalogue_answers_any_spelling_of_a_code() {
    each_backend(|app: TestApp| async move {
        for spelling in [
            "GB/T%2019630-2019",
            "GB/T%2019630%E2%80%942019",
            "gb/t19630-2019",
        ] {
            let r = app
                .get(&format!("/api/v1/standards?code={spelling}"), None)
                .await;
            r.assert(200);
            let items = r.body["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{spelling}");
            assert_eq!(items[0]["code"], "GB/T 19630-2019");
            assert_eq!(items[0]["level"], "national_recommended");
            assert_eq!(items[0]["effective_on"], "2020-01-01");
        }
        let r = app.get("/api/v1/standards?code=GB%202760-2014", None).await;
        assert_eq!(r.body["items"][0]["status"], "superseded");
        assert_eq!(r.body["items"][0]["replaced_by"]["code"], "GB 2760-2024");
        // GB 7718-2025 is published but not yet in force.
        let r = app.get("/api/v1/standards?code=GB%207718-2025", None).await;
        assert_eq!(r.body["items"][0]["in_force"], false);
        let local = app
            .get("/api/v1/standards?level=local&limit=100", None)
            .await;
        assert!(local.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["code"].as_str().unwrap().starts_with("DB63")));
        let q = app
            .get("/api/v1/standards?q=%E6%9E%B8%E6%9D%9E", None)
            .await; // 枸杞
        assert!(!q.body["items"].as_array().unwrap().is_empty());
        let bad = app
            .get("/api/v1/standards?code=19630&level=none&status=gone", None)
            .await;
        bad.assert(422);
        assert_eq!(bad.fields().len(), 3);
    })
    .await;
}

#[actix_web::test]
async fn admins_add_standards_with_derived_levels_and_no_duplicates() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let cases = [
            ("T/QHXH 001—2024", "group"),
            ("Q/QHHG 0001S-2020", "enterprise"),
            ("NY/T 9999-2022", "industry"),
            ("ISO 12345:2020", "international"),
            ("DB63/T 8888-2021", "local"),
            ("GB 99999-2024", "national_mandatory"),
        ];
        for (code, level) in cases {
            let r = app
                .post(
                    "/api/v1/standards",
                    Some(&admin),
                    &json!({"code": code, "title": "测试"}),
                )
                .await;
            r.assert(201);
            assert_eq!(r.body["level"], level, "{code}");
            assert_eq!(r.body["status"], "current");
        }
        let dup = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "T/QHXH 001-2024", "title": "重复"}),
            )
            .await;
        dup.assert(409);
        assert_eq!(dup.code(), "duplicate_standard");
        let r = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "GB/T", "title": ""}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["code", "title"]);
        for who in ["market", "ent_a"] {
            app.post(
                "/api/v1/standards",
                Some(&app.token(who).await),
                &json!({"code": "GB 1-2020", "title": "x"}),
            )
            .await
            .assert(403);
        }
        app.post(
            "/api/v1/standards",
            None,
            &json!({"code": "GB 1-2020", "title": "x"}),
        )
        .await
        .assert(401);
    })
    .await;
}

#[actix_web::test]
async fn withdrawal_and_succession_are_audited_and_guarded() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let old = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "DB63/T 7000-2015", "title": "旧版"}),
            )
            .await;
        let new = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "DB63/T 7000-2023", "title": "新版"}),
            )
            .await;
        let old_id = old.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/standards/{old_id}");
        let r = app
            .patch(&path, Some(&admin), &json!({"status": "superseded"}))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["replaced_by"]);
        let r = app
            .patch(
                &path,
                Some(&admin),
                &json!({"status": "superseded", "replaced_by": "DB63/T 7000-2015"}),
            )
            .await;
        r.assert(422);
        let r = app
            .send(
                "PATCH",
                &path,
                Some(&admin),
                &[("If-Match", "\"1\"")],
                Some(&json!({"status": "superseded", "replaced_by": "DB63/T 7000—2023"})),
            )
            .await;
        r.assert(200);
        assert_eq!(r.body["replaced_by"]["id"], new.body["id"]);
        assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
        app.send(
            "PATCH",
            &path,
            Some(&admin),
            &[("If-Match", "\"1\"")],
            Some(&json!({"status": "withdrawn"})),
        )
        .await
        .assert(412);
        let r = app
            .patch(&path, Some(&admin), &json!({"status": "withdrawn"}))
            .await;
        r.assert(200);
        assert!(r.body["replaced_by"].is_null());
        let actions: Vec<String> = app
            .audit_for("standard", &old_id)
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            vec!["standard.create", "standard.supersede", "standard.withdraw"]
        );
        app.patch(
            &path,
            Some(&app.token("market").await),
            &json!({"status": "current"}),
        )
        .await
        .assert(403);
        app.get("/api/v1/standards/nope", None).await.assert(404);
    })
    .await;
}

#[actix_web::test]
async fn succession_is_set_by_patch_and_names_a_catalogued_successor() {
    each_backend(|app: TestApp| async move {
        let admin = app.token("admin").await;
        let new = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "T/QHXH 777-2024", "title": "被替代", "status": "superseded"}),
            )
            .await;
        new.assert(422);
        assert_eq!(new.body["errors"][0]["code"], "use_patch");
        let long = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": format!("T/QHXH {}-2024", "9".repeat(100)), "title": "过长"}),
            )
            .await;
        long.assert(422);
        let created = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "T/QHXH 778-2024", "title": "将被替代"}),
            )
            .await;
        created.assert(201);
        let path = format!("/api/v1/standards/{}", created.body["id"].as_str().unwrap());
        let r = app
            .patch(
                &path,
                Some(&admin),
                &json!({"status": "current", "replaced_by": "GB 2760-2024"}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "not_allowed");
        let r = app
            .patch(
                &path,
                Some(&admin),
                &json!({"status": "superseded", "replaced_by": "T/QHXH 999-2099"}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.body["errors"][0]["code"], "unknown_standard");
    })
    .await;
}

/// Public answers carry the facts; where a fact comes from and whether it is confirmed is for
/// admins, who get the uncertain rows to check.
#[actix_web::test]
async fn reference_provenance_is_for_admins_and_public_answers_carry_facts_only() {
    crate::common::each_backend(|app: TestApp| async move {
        // Anything that reads like research notes must never reach a public answer.
        let leaks = |body: &serde_json::Value| {
            // A body's own web site is a fact; any other address is a citation.
            let mut body = body.clone();
            for item in body["items"].as_array_mut().into_iter().flatten() {
                item.as_object_mut().unwrap().remove("website");
            }
            let text = body.to_string();
            [
                "\"source\"",
                "\"confidence\"",
                "\"notes\"",
                "http",
                "file ids",
                "placeholder",
                "uncertain",
            ]
            .into_iter()
            .filter(|w| text.contains(w))
            .collect::<Vec<_>>()
        };
        for path in [
            "/api/v1/standards?limit=100",
            "/api/v1/geographical-indications?limit=100",
            "/api/v1/certification-bodies?limit=100",
            "/api/v1/application-kinds",
        ] {
            let r = app.get(path, None).await;
            r.assert(200);
            assert!(!r.body["items"].as_array().unwrap().is_empty(), "{path}");
            assert_eq!(leaks(&r.body), Vec::<&str>::new(), "{path}: {}", r.body);
        }
        let gi = app.gi("qaidam_goji_protected_product");
        let r = app
            .get(&format!("/api/v1/geographical-indications/{gi}"), None)
            .await;
        assert_eq!(leaks(&r.body), Vec::<&str>::new(), "{}", r.body);

        // Admins get the rows to confirm, with their notes; nobody else does.
        let path = "/api/v1/reference/review";
        app.get(path, None).await.assert(401);
        for who in ["market", "ent_a"] {
            app.get(path, Some(&app.token(who).await)).await.assert(403);
        }
        let admin = app.token("admin").await;
        let r = app.get(path, Some(&admin)).await;
        r.assert(200);
        let items = r.body["items"].as_array().unwrap().clone();
        assert!(items.iter().all(|i| i["confidence"] == "uncertain"));
        let halal = items
            .iter()
            .find(|i| i["table"] == "application_kind" && i["key"] == "halal")
            .expect("the halal validity is to be confirmed");
        assert!(
            halal["notes"].as_str().unwrap().contains("24 months"),
            "{halal}"
        );
        // Neutral provenance: no web addresses, no look-up references.
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let r = app
                .get(
                    &format!("{path}?confidence=all&limit=100&cursor={cursor}"),
                    Some(&admin),
                )
                .await;
            r.assert(200);
            all.extend(r.body["items"].as_array().unwrap().iter().cloned());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => break,
            }
        }
        assert!(all.len() > 100, "{}", all.len());
        let text = serde_json::Value::from(all.clone()).to_string();
        for w in ["http", "file ids", "find_string", "GitHub"] {
            assert!(!text.contains(w), "{w} in {text}");
        }
        // Paged in a stable order.
        let first = app
            .get(&format!("{path}?confidence=all&limit=2"), Some(&admin))
            .await;
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        let second = app
            .get(
                &format!("{path}?confidence=all&limit=2&cursor={cursor}"),
                Some(&admin),
            )
            .await;
        assert_eq!(second.body["items"][0], all[2], "{}", second.body);
        let r = app
            .get(&format!("{path}?confidence=maybe"), Some(&admin))
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["confidence"]);
    })
    .await;
}
