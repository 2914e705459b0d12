//! The public pages, as a reader sees them: search, the verification page and its QR code, a
//! product page with its JSON-LD, a geographical indication; in Chinese and in English.

use serde_json::{json, Value};

use crate::common::{each_backend, Resp, TestApp};
use crate::public_api::certify;

const NUMBER: &str = "LB-18-2611019999";

fn html(r: &Resp) -> &str {
    r.body.as_str().expect("an HTML body")
}

async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    app.send("GET", path, None, headers, None).await
}

#[actix_web::test]
async fn the_home_page_searches_like_the_api_and_speaks_both_languages() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "页面测试枸杞原浆").await;
        certify(&app, &a, &product, "green_food", NUMBER).await;

        let home = page(&app, "/", &[]).await;
        home.assert(200);
        let body = html(&home);
        assert!(
            body.contains(r#"<html lang="zh-CN">"#),
            "Chinese by default"
        );
        assert!(body.contains("核验证书或称号编号"));
        assert!(
            body.contains(r#"<label for="q">"#),
            "every field has a label"
        );
        assert!(!body.contains("<script"), "no script is needed");

        // The same `q` as the API: the product is found, with its holder and record kinds.
        let found = page(
            &app,
            "/?q=%E9%A1%B5%E9%9D%A2%E6%B5%8B%E8%AF%95&sector=",
            &[],
        )
        .await;
        found.assert(200);
        let body = html(&found);
        assert!(body.contains(&format!(r#"href="/p/{product}""#)), "{body}");
        assert!(body.contains("页面测试枸杞原浆"));
        assert!(body.contains("绿色食品"), "the live certification's kind");
        let kept = page(&app, "/?sector=food&certification_kind=green_food", &[]).await;
        assert!(html(&kept).contains(r#"<option value="food" selected>"#));
        assert!(html(&kept).contains(r#"<option value="green_food" selected>"#));
        assert!(html(&kept).contains(&format!(r#"href="/p/{product}""#)));
        let none = page(&app, "/?q=%E7%86%8A%E7%8C%AB", &[]).await;
        assert!(html(&none).contains("没有符合条件的产品"));

        // Bad input is shown at its field, not as JSON.
        let bad = page(&app, "/?region_code=12", &[]).await;
        bad.assert(422);
        assert!(html(&bad).contains(r#"aria-invalid="true""#));
        assert!(bad.header("content-type").unwrap().starts_with("text/html"));

        // English: asked for, remembered in a cookie, or from the browser.
        let en = page(&app, "/?lang=en", &[]).await;
        assert!(html(&en).contains(r#"<html lang="en">"#));
        assert!(html(&en).contains("Verify a certificate or designation number"));
        let cookie = en.header("set-cookie").expect("the choice is remembered");
        assert!(cookie.starts_with("lang=en"), "{cookie}");
        let again = page(&app, "/", &[("Cookie", "lang=en")]).await;
        assert!(html(&again).contains(r#"<html lang="en">"#));
        let browser = page(&app, "/", &[("Accept-Language", "en-GB,en;q=0.8")]).await;
        assert!(html(&browser).contains(r#"<html lang="en">"#));
        assert!(browser.header("set-cookie").is_none());
    })
    .await;
}

#[actix_web::test]
async fn the_verification_page_says_the_status_in_words_with_its_history_and_qr_code() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "核验页面枸杞").await;
        let cert = certify(&app, &a, &product, "green_food", NUMBER).await;

        // The box on the home page leads to the page (303, followed), however the number was
        // typed.
        let v = page(&app, "/v?number=%20lb-18-2611019999%20", &[]).await;
        v.assert(200);
        let body = html(&v);
        assert!(body.contains("status-valid"), "{body}");
        assert!(body.contains(r#"<strong class="status-word">有效</strong>"#));
        assert!(body.contains("✓"), "a sign as well as a colour");
        assert!(body.contains(NUMBER));
        assert!(body.contains("核验页面枸杞"));
        assert!(body.contains(&format!(r#"href="/p/{product}""#)));
        assert!(body.contains("答复时间"));
        assert_eq!(v.header("cache-control").as_deref(), Some("no-store"));

        app.post(
            &format!("/api/v1/certifications/{cert}/suspend"),
            Some(&app.token("agri").await),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        let v = page(&app, &format!("/v/{NUMBER}?lang=en"), &[]).await;
        v.assert(200);
        let body = html(&v);
        assert!(body.contains("status-suspended"));
        assert!(body.contains(r#"<strong class="status-word">Suspended</strong>"#));
        assert!(body.contains("Valid → Suspended"), "the history: {body}");
        assert!(body.contains("抽检不合格"), "with its reason");

        let missing = page(&app, "/v/NO-SUCH-1", &[]).await;
        missing.assert(404);
        assert!(html(&missing).contains("未找到"));
        assert!(html(&missing).contains("status-not_found"));

        // The QR code encodes the page's absolute address.
        let qr = page(&app, &format!("/v/{NUMBER}/qr.svg"), &[]).await;
        qr.assert(200);
        assert_eq!(qr.header("content-type").as_deref(), Some("image/svg+xml"));
        let svg = html(&qr);
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
        let expected = qrcode::QrCode::with_error_correction_level(
            format!("https://registry.example.test/v/{NUMBER}").as_bytes(),
            qrcode::EcLevel::M,
        )
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
        assert_eq!(svg, expected, "REGISTRY_PUBLIC_URL is the QR's base");
    })
    .await;
}

#[actix_web::test]
async fn the_product_page_shows_the_label_and_records_with_json_ld() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "产品页面枸杞").await;
        certify(&app, &a, &product, "green_food", NUMBER).await;
        let p = page(&app, &format!("/p/{product}"), &[]).await;
        p.assert(200);
        let body = html(&p);
        assert!(body.contains("<h1>产品页面枸杞</h1>"));
        assert!(body.contains("枸杞 100%"), "the ingredients from the label");
        assert!(
            body.contains(r#"都兰县 <span lang="en">(Dulan County)</span>"#),
            "the origin by name, in Chinese with its English name"
        );
        assert!(body.contains(&format!(r#"href="/v/{NUMBER}""#)));
        let ld = body
            .split(r#"<script type="application/ld+json">"#)
            .nth(1)
            .and_then(|s| s.split("</script>").next())
            .expect("JSON-LD in the head");
        let ld: Value = serde_json::from_str(ld).unwrap();
        assert_eq!(ld["@type"], "Product");
        assert_eq!(ld["name"], "产品页面枸杞");
        assert_eq!(ld["hasCertification"][0]["@type"], "Certification");
        assert_eq!(
            ld["hasCertification"][0]["certificationIdentification"],
            NUMBER
        );
        assert_eq!(
            ld["hasCertification"][0]["url"],
            format!("https://registry.example.test/v/{NUMBER}")
        );

        // What the API does not show the public, the page does not either.
        page(&app, "/p/no-such-product", &[]).await.assert(404);
    })
    .await;
}

#[actix_web::test]
async fn a_geographical_indication_has_a_page() {
    each_backend(|app: TestApp| async move {
        let gi = app.gi("qaidam_goji_protected_product");
        let p = page(&app, &format!("/gi/{gi}"), &[]).await;
        p.assert(200);
        let body = html(&p);
        assert!(body.contains("柴达木枸杞"), "{body}");
        assert!(body.contains("632800"), "its protected area");
        let en = page(&app, &format!("/gi/{gi}?lang=en"), &[]).await;
        assert!(html(&en).contains("Enterprises authorised to use the mark"));
        page(&app, "/gi/nope", &[]).await.assert(404);
    })
    .await;
}
