//! Verification answers people and machines can rely on: numbers found however they are typed,
//! and answers signed so they can be checked offline and kept as proof.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::common::{each_backend, TestApp};
use crate::public_api::certify;

const NUMBER: &str = "LB-18-2611017777";

async fn certified(app: &TestApp) {
    let a = app.token("ent_a").await;
    let product = app.goji_product(&a, "验证签名枸杞").await;
    certify(app, &a, &product, "green_food", NUMBER).await;
}

/// Checks a compact JWS with the registry's published keys, as any JOSE library would offline.
async fn check_jws(app: &TestApp, jws: &str) -> Value {
    let header = decode_header(jws).expect("a JWS header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("a kid");
    let jwks: JwkSet =
        serde_json::from_value(app.get("/.well-known/jwks.json", None).await.body).expect("a JWKS");
    let jwk = jwks.find(&kid).expect("the signing key is published");
    let key = DecodingKey::from_jwk(jwk).expect("an Ed25519 JWK");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    decode::<Value>(jws, &key, &validation)
        .expect("the signature verifies")
        .claims
}

#[actix_web::test]
async fn a_number_is_found_however_it_is_typed_and_answered_canonically() {
    each_backend(|app: TestApp| async move {
        certified(&app).await;
        for typed in [
            "lb-18-2611017777",
            "%20LB-18-2611017777%20",
            // Full width, as an IME types it: ＬＢ－１８－２６１１０１７７７７
            "%EF%BC%AC%EF%BC%A2%EF%BC%8D%EF%BC%91%EF%BC%98%EF%BC%8D%EF%BC%92%EF%BC%96%EF%BC%91%EF%BC%91%EF%BC%90%EF%BC%91%EF%BC%97%EF%BC%97%EF%BC%97%EF%BC%97",
        ] {
            let r = app.get(&format!("/api/v1/verify/{typed}"), None).await;
            r.assert(200);
            assert_eq!(r.body["number"], NUMBER, "{typed}");
        }
        let r = app
            .post("/api/v1/verify/batch", None, &json!({"numbers": [" lb-18-2611017777 "]}))
            .await;
        r.assert(200);
        assert_eq!(r.body["results"][0]["number"], "lb-18-2611017777");
        assert_eq!(r.body["results"][0]["verification"]["number"], NUMBER);
        app.get("/api/v1/verify/%E7%BB%BF%E8%89%B2", None)
            .await
            .assert(422);
    })
    .await;
}

#[actix_web::test]
async fn signed_answers_verify_offline_with_the_published_keys() {
    each_backend(|app: TestApp| async move {
        certified(&app).await;
        let plain = app.get(&format!("/api/v1/verify/{NUMBER}"), None).await;
        plain.assert(200);
        let signed = app
            .send(
                "GET",
                &format!("/api/v1/verify/{NUMBER}"),
                None,
                &[("Accept", "application/jose")],
                None,
            )
            .await;
        signed.assert(200);
        assert_eq!(
            signed.header("content-type").as_deref(),
            Some("application/jose")
        );
        let jws = signed
            .body
            .as_str()
            .expect("a compact JWS")
            .trim()
            .to_owned();
        let claims = check_jws(&app, &jws).await;
        for field in [
            "number",
            "status",
            "valid",
            "valid_until",
            "holder",
            "product",
        ] {
            assert_eq!(claims[field], plain.body[field], "{field}");
        }
        // A changed byte breaks it.
        let mut tampered = jws.clone().into_bytes();
        let i = jws.find('.').unwrap() + 5;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let jwks: JwkSet =
            serde_json::from_value(app.get("/.well-known/jwks.json", None).await.body).unwrap();
        let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        assert!(
            decode::<Value>(std::str::from_utf8(&tampered).unwrap(), &key, &validation).is_err()
        );

        // The batch answer is signed whole.
        let batch = app
            .send(
                "POST",
                "/api/v1/verify/batch",
                None,
                &[("Accept", "application/jose")],
                Some(&json!({"numbers": [NUMBER, "NO-SUCH-NUMBER"]})),
            )
            .await;
        batch.assert(200);
        let claims = check_jws(&app, batch.body.as_str().expect("a compact JWS").trim()).await;
        assert_eq!(claims["results"][0]["verification"]["number"], NUMBER);
        assert_eq!(claims["results"][1]["status"], 404);
    })
    .await;
}

#[actix_web::test]
async fn an_answer_about_a_past_date_never_contradicts_its_own_dates() {
    each_backend(|app: TestApp| async move {
        // Issued 30 days ago, registered today.
        certified(&app).await;
        let today = registry::clock::today();
        let at = |d: chrono::NaiveDate| format!("/api/v1/verify/{NUMBER}?at={d}");
        let before_registration = app.get(&at(today - chrono::Duration::days(10)), None).await;
        before_registration.assert(200);
        assert_eq!(before_registration.body["status"], "valid");
        assert_eq!(before_registration.body["valid"], true);
        let before_issue = app.get(&at(today - chrono::Duration::days(31)), None).await;
        assert_eq!(before_issue.body["status"], "not_yet_valid");
        let after_expiry = app
            .get(&at(today + chrono::Duration::days(400)), None)
            .await;
        assert_eq!(after_expiry.body["status"], "expired");
    })
    .await;
}

#[actix_web::test]
async fn a_record_vouches_for_what_was_certified_and_says_what_differs_now() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "认证时的名称").await;
        let cert = certify(&app, &a, &product, "green_food", NUMBER).await;
        let v = app.get(&format!("/api/v1/verify/{NUMBER}"), None).await;
        assert_eq!(v.body["current_differs"], json!([]));
        assert_eq!(v.body["certified"]["product_name"], "认证时的名称");
        assert_eq!(
            v.body["product"]["href"],
            json!(format!("/api/v1/products/{product}"))
        );
        // The certified fields of a product with a live record are locked …
        let path = format!("/api/v1/products/{product}");
        for change in [
            json!({"name": "改过的名称"}),
            json!({"brand": "新品牌"}),
            json!({"gtin": crate::common::gtin("693900007777")}),
            json!({"sector": "biomedicine", "category": "health_food"}),
            json!({"category": "salt"}),
            json!({"origin_region_code": "630100"}),
        ] {
            let r = app.patch(&path, Some(&a), &change).await;
            r.assert(409);
            assert_eq!(r.code(), "certified_fields_locked", "{change}");
            assert_eq!(r.body["conflicts_with"], json!([cert]));
        }
        // … the rest are not.
        app.patch(&path, Some(&a), &json!({"suitable_for": "孕妇慎用"}))
            .await
            .assert(200);
        // The holder renamed (by a regulator here): the answer keeps the certified name and
        // says it now differs.
        let market = app.token("market").await;
        app.patch(
            &format!("/api/v1/enterprises/{}", app.fx.ent_a),
            Some(&market),
            &json!({"name": "改名后的企业有限公司"}),
        )
        .await
        .assert(200);
        let v = app.get(&format!("/api/v1/verify/{NUMBER}"), None).await;
        assert_eq!(v.body["holder"]["name"], v.body["certified"]["holder_name"]);
        assert_ne!(v.body["holder"]["name"], "改名后的企业有限公司");
        assert_eq!(v.body["current_differs"], json!(["holder_name"]));
        let record = app
            .get(&format!("/api/v1/certifications/{cert}"), None)
            .await;
        assert_eq!(record.body["current_differs"], json!(["holder_name"]));
        // Once no record is live, the product is the enterprise's to edit again.
        let agri = app.token("agri").await;
        app.post(
            &format!("/api/v1/certifications/{cert}/revoke"),
            Some(&agri),
            &json!({"reason": "测试撤销"}),
        )
        .await
        .assert(200);
        app.patch(&path, Some(&a), &json!({"name": "改过的名称"}))
            .await
            .assert(200);
    })
    .await;
}

#[actix_web::test]
async fn a_number_of_two_kinds_needs_its_kind_and_answers_are_never_cached_by_http() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let p1 = app.goji_product(&a, "两证甲").await;
        let p2 = app.goji_product(&a, "两证乙").await;
        certify(&app, &a, &p1, "green_food", "AMB-0001").await;
        certify(&app, &a, &p2, "organic", "AMB-0001").await;
        let r = app.get("/api/v1/verify/AMB-0001", None).await;
        r.assert(409);
        assert_eq!(r.code(), "ambiguous_number");
        let r = app.get("/api/v1/verify/AMB-0001?kind=organic", None).await;
        r.assert(200);
        assert_eq!(r.body["kind"], "organic");
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let batch = app
            .post(
                "/api/v1/verify/batch",
                None,
                &json!({"numbers": ["AMB-0001", "绿色 一"]}),
            )
            .await;
        batch.assert(422);
        assert_eq!(batch.fields(), vec!["numbers[1]"]);
        let batch = app
            .post(
                "/api/v1/verify/batch",
                None,
                &json!({"numbers": ["AMB-0001"]}),
            )
            .await;
        batch.assert(200);
        assert_eq!(batch.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(batch.body["results"][0]["error"], "ambiguous_number");
    })
    .await;
}

/// How many verification answers came from memory, as `/metrics` says.
async fn hits(app: &TestApp) -> u64 {
    hits_of(app, "verify").await
}

/// How many answers of one cache came from memory, as `/metrics` says.
async fn hits_of(app: &TestApp, cache: &str) -> u64 {
    let text = app
        .get("/metrics", None)
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&format!(
                r#"registry_cache_lookups_total{{cache="{cache}",result="hit"}} "#
            ))
        })
        .map_or(0, |v| v.trim().parse::<u64>().unwrap())
}

/// Kept answers are dropped per record: a write to something else leaves them.
#[actix_web::test]
async fn an_unrelated_write_leaves_kept_answers_in_place() {
    each_backend(|app: TestApp| async move {
        certified(&app).await;
        let path = format!("/api/v1/verify/{NUMBER}");
        app.get(&path, None).await.assert(200);
        app.get(&path, None).await.assert(200);
        assert_eq!(hits(&app).await, 1);
        // A write elsewhere in the register…
        let a = app.token("ent_a").await;
        app.goji_product(&a, "无关的新产品").await;
        // …and the answer is still kept.
        let r = app.get(&path, None).await;
        r.assert(200);
        assert_eq!(r.body["status"], "valid");
        assert_eq!(hits(&app).await, 2);
    })
    .await;
}

/// Profiles and GTIN look-ups are kept too: a record granted to the product, or a change to the
/// product, reaches the next answer at once.
#[actix_web::test]
async fn kept_profiles_and_gtin_answers_follow_their_product() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let gtin = crate::common::gtin("693698381234");
        let body = app.product_body("缓存的枸杞", Some(&gtin));
        let created = app.post("/api/v1/products", Some(&a), &body).await;
        created.assert(201);
        let product = created.body["id"].as_str().unwrap().to_owned();
        let profile = format!("/api/v1/products/{product}");
        let by_gtin = format!("/api/v1/products/by-gtin/{gtin}");
        for _ in 0..2 {
            let r = app.get(&profile, None).await;
            r.assert(200);
            assert_eq!(r.body["certifications"], json!([]));
            assert_eq!(app.get(&by_gtin, None).await.body["name"], "缓存的枸杞");
        }
        assert_eq!(hits_of(&app, "profile").await, 1);
        assert_eq!(hits_of(&app, "gtin").await, 1);
        // A renamed product: both answers show the new name, and the ETag moves with it.
        let before = app.get(&by_gtin, None).await.header("etag");
        app.patch(&profile, Some(&a), &json!({"name": "改名的枸杞"}))
            .await
            .assert(200);
        let r = app.get(&by_gtin, None).await;
        assert_eq!(r.body["name"], "改名的枸杞");
        assert_ne!(r.header("etag"), before);
        assert_eq!(app.get(&profile, None).await.body["name"], "改名的枸杞");
        // A certificate granted to the product names a record the kept profile never had.
        certify(&app, &a, &product, "green_food", NUMBER).await;
        let r = app.get(&profile, None).await;
        assert_eq!(
            r.body["certifications"][0]["certificate_number"], NUMBER,
            "{}",
            r.body
        );
        // A signed-in owner is answered for themselves, never from what the public is served.
        let own = app.get(&profile, Some(&a)).await;
        own.assert(200);
        assert_eq!(own.header("cache-control").as_deref(), Some("no-store"));
    })
    .await;
}
