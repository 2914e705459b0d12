//! Snapshots of the public answers third parties build on: a product profile, a verification,
//! problem+json errors and a list page. The same named snapshot is asserted on every backend,
//! so SQLite and PostgreSQL must answer alike.
//!
//! Everything that differs between runs is redacted: ids (UUIDv7), timestamps, dates computed
//! from today, cursors. Each redaction checks the shape of what it hides (a UUID, an RFC 3339
//! time, the expected date, a cursor that works), and `assert_nothing_varies` fails when an
//! unredacted value looks like an id, a timestamp or today's date, so a new field cannot slip
//! a varying value into a snapshot. Values the test chose (names, numbers, kinds, statuses,
//! codes) stay in the snapshot.
//!
//! Update after an intended change: `INSTA_UPDATE=always cargo test --test api snapshots`
//! (without `TEST_DATABASE_URL`: in that mode insta rewrites the file on every assertion, so the
//! last backend would win), read the diff of `tests/api/snapshots/*.snap`, then run again with
//! `TEST_DATABASE_URL` and without `INSTA_UPDATE` to see PostgreSQL give the same answers.
//! With `CI=true` insta writes nothing, so every `.snap` file must be committed.

use chrono::{Days, NaiveDate};
use insta::internals::{Content, ContentPath, Redaction};
use insta::{dynamic_redaction, Settings};
use serde_json::{json, Value};

use crate::common::{each_backend, gtin, Resp, TestApp};

/// Keys whose values are ids (UUIDv7 strings, or null).
const ID_KEYS: &[&str] = &[
    "id",
    "enterprise_id",
    "product_id",
    "record_id",
    "application_id",
    "certification_body_id",
    "geographical_indication_id",
];
/// Keys whose values are times of writes or of the answer.
const TIME_KEYS: &[&str] = &["created_at", "updated_at", "verified_at", "checked_at"];

/// Redacts a UUID, keeping `null` visible (an id that is absent is part of the contract).
fn uuid_redaction() -> Redaction {
    dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        if value.is_nil() {
            return value;
        }
        let s = value.as_str().unwrap_or_default();
        assert!(
            uuid::Uuid::parse_str(s).is_ok(),
            "{path}: expected a UUID, got {value:?}"
        );
        Content::from("[id]")
    })
}

/// Redacts the id at the end of a link (`/api/v1/products/{id}`), keeping the rest visible.
fn link_redaction() -> Redaction {
    dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        if value.is_nil() {
            return value;
        }
        let s = value.as_str().unwrap_or_default();
        let (base, id) = s.rsplit_once('/').unwrap_or(("", s));
        assert!(
            base.starts_with("/api/v1/") && uuid::Uuid::parse_str(id).is_ok(),
            "{path}: expected a link ending in a UUID, got {value:?}"
        );
        Content::from(format!("{base}/[id]"))
    })
}

/// Links to resources, whose last segment is an id.
const LINK_KEYS: &[&str] = &["href", "current_product"];

/// Redacts an RFC 3339 time, keeping `null` visible.
fn time_redaction() -> Redaction {
    dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        if value.is_nil() {
            return value;
        }
        let s = value.as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            "{path}: expected an RFC 3339 time, got {value:?}"
        );
        Content::from("[timestamp]")
    })
}

/// Redacts a date the test computed from today, after checking it is that date.
fn date_redaction(expected: NaiveDate, label: &'static str) -> Redaction {
    let expected = expected.to_string();
    dynamic_redaction(move |value: Content, path: ContentPath<'_>| {
        assert_eq!(value.as_str(), Some(expected.as_str()), "{path}");
        Content::from(label)
    })
}

/// Redacts an opaque cursor, keeping `null` (the last page) visible.
fn cursor_redaction() -> Redaction {
    dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        if value.is_nil() {
            return value;
        }
        assert!(
            value.as_str().is_some_and(|s| !s.is_empty()),
            "{path}: expected a cursor, got {value:?}"
        );
        Content::from("[cursor]")
    })
}

/// The redactions every snapshot here uses: ids and times, at any depth.
fn settings() -> Settings {
    let mut s = Settings::clone_current();
    s.set_omit_expression(true);
    for key in ID_KEYS {
        s.add_redaction(&format!(".**.{key}"), uuid_redaction());
    }
    for key in TIME_KEYS {
        s.add_redaction(&format!(".**.{key}"), time_redaction());
    }
    for key in LINK_KEYS {
        s.add_redaction(&format!(".**.{key}"), link_redaction());
    }
    s.add_redaction(".**.next_cursor", cursor_redaction());
    s
}

/// Fails when a value outside the redacted keys varies from run to run: a UUID, an RFC 3339
/// time, or today's date. `also_redacted` names the keys a test redacts on top of `settings`.
fn assert_nothing_varies(value: &Value, also_redacted: &[&str]) {
    fn walk(v: &Value, path: &str, skip: &dyn Fn(&str) -> bool, today: &str) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if !skip(k) {
                        walk(v, &format!("{path}.{k}"), skip, today);
                    }
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), skip, today);
                }
            }
            Value::String(s) => {
                assert!(
                    s.split('/')
                        .all(|part| uuid::Uuid::parse_str(part).is_err()),
                    "{path} holds an unredacted UUID {s:?}"
                );
                assert!(
                    chrono::DateTime::parse_from_rfc3339(s).is_err(),
                    "{path} holds an unredacted time {s:?}"
                );
                assert!(
                    !s.contains(today),
                    "{path} holds today's date, unredacted: {s:?}"
                );
            }
            _ => {}
        }
    }
    let today = registry::clock::today().to_string();
    let skip = |k: &str| {
        ID_KEYS.contains(&k)
            || TIME_KEYS.contains(&k)
            || LINK_KEYS.contains(&k)
            || k == "next_cursor"
            || also_redacted.contains(&k)
    };
    walk(value, "", &skip, &today);
}

/// What a client sees of an answer: status, content type and body.
fn seen(r: &Resp) -> Value {
    json!({
        "status": r.status.as_u16(),
        "content_type": r.header("content-type"),
        "body": r.body,
    })
}

/// A green-food certificate of enterprise A for `product`, issued 30 days ago for a year.
struct Certificate {
    number: &'static str,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
}

const CERT_NUMBER: &str = "LB-18-2611019999";

async fn certify(app: &TestApp, a: &str, product: &str) -> Certificate {
    let today = registry::clock::today();
    let issued_on = today - Days::new(30);
    let expires_on = issued_on + Days::new(365);
    let body = json!({"kind": "green_food", "enterprise_id": app.fx.ent_a, "product_id": product,
        "details": {"certificate_number": CERT_NUMBER,
                    "certification_body_id": app.body_for("green_food").await,
                    "issued_on": issued_on, "expires_on": expires_on, "scope": "枸杞干果"}});
    let draft = app.post("/api/v1/applications", Some(a), &body).await;
    draft.assert(201);
    let id = draft.body["id"].as_str().unwrap().to_owned();
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
    app.post(
        &format!("/api/v1/applications/{id}/decide"),
        Some(&agri),
        &json!({"decision": "approve"}),
    )
    .await
    .assert(200);
    Certificate {
        number: CERT_NUMBER,
        issued_on,
        expires_on,
    }
}

/// A goji product of enterprise A with a GTIN, a green-food certificate and a declared standard.
async fn certified_product(app: &TestApp, a: &str) -> (String, Certificate) {
    let mut body = app.product_body("柴达木枸杞干果", Some(&gtin("693900009990")));
    body["origin_region_code"] = json!("632822");
    body["unsuitable_for"] = json!("婴幼儿");
    let r = app.post("/api/v1/products", Some(a), &body).await;
    r.assert(201);
    let product = r.body["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/products/{product}/standards"),
        Some(a),
        &json!({"standard_code": "GB/T 18672-2014"}),
    )
    .await
    .assert(201);
    let cert = certify(app, a, &product).await;
    (product, cert)
}

#[actix_web::test]
async fn product_profile() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let (product, cert) = certified_product(&app, &a).await;
        let r = app.get(&format!("/api/v1/products/{product}"), None).await;
        r.assert(200);
        let seen = seen(&r);
        assert_nothing_varies(&seen, &["issued_on", "expires_on"]);
        let mut s = settings();
        s.add_redaction(
            ".body.certifications[].issued_on",
            date_redaction(cert.issued_on, "[today - 30 days]"),
        );
        s.add_redaction(
            ".body.certifications[].expires_on",
            date_redaction(cert.expires_on, "[today + 335 days]"),
        );
        s.bind(|| insta::assert_json_snapshot!("product_profile", seen));
    })
    .await;
}

#[actix_web::test]
async fn verification() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let (_, cert) = certified_product(&app, &a).await;
        let r = app
            .get(&format!("/api/v1/verify/{}", cert.number), None)
            .await;
        r.assert(200);
        let seen = seen(&r);
        assert_nothing_varies(&seen, &["valid_from", "valid_until"]);
        let mut s = settings();
        s.add_redaction(
            ".body.valid_from",
            date_redaction(cert.issued_on, "[today - 30 days]"),
        );
        s.add_redaction(
            ".body.valid_until",
            date_redaction(cert.expires_on, "[today + 335 days]"),
        );
        s.bind(|| insta::assert_json_snapshot!("verification", seen));
    })
    .await;
}

#[actix_web::test]
async fn problem_not_found() {
    each_backend(|app: TestApp| async move {
        let r = app
            .get(
                "/api/v1/products/01930000-0000-7000-8000-000000000000",
                None,
            )
            .await;
        r.assert(404);
        let seen = seen(&r);
        assert_nothing_varies(&seen, &[]);
        settings().bind(|| insta::assert_json_snapshot!("problem_not_found", seen));
    })
    .await;
}

#[actix_web::test]
async fn problem_validation_failed() {
    each_backend(|app: TestApp| async move {
        // A public query with two bad parameters.
        let query = app
            .get(
                "/api/v1/products?launched_from=2020-13-01&standard_code=xyz&limit=0",
                None,
            )
            .await;
        query.assert(422);
        // A write with bad fields, nested ones included.
        let a = app.token("ent_a").await;
        let mut body = app.product_body("", Some("6939000099991"));
        body["ingredients"] = json!([{"name": "", "content_percent": 120}]);
        body["origin_region_code"] = json!("999999");
        let write = app.post("/api/v1/products", Some(&a), &body).await;
        write.assert(422);
        let seen = json!({"query": seen(&query), "write": seen(&write)});
        assert_nothing_varies(&seen, &[]);
        settings().bind(|| insta::assert_json_snapshot!("problem_validation_failed", seen));
    })
    .await;
}

#[actix_web::test]
async fn product_list_pages() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        for (i, name) in ["列表枸杞一", "列表枸杞二", "列表枸杞三"]
            .iter()
            .enumerate()
        {
            let body = app.product_body(name, Some(&gtin(&format!("69390000980{i}"))));
            app.post("/api/v1/products", Some(&a), &body)
                .await
                .assert(201);
        }
        let first = app.get("/api/v1/products?limit=2", None).await;
        first.assert(200);
        let cursor = first.body["next_cursor"].as_str().expect("a next page");
        let second = app
            .get(&format!("/api/v1/products?limit=2&cursor={cursor}"), None)
            .await;
        second.assert(200);
        let seen = json!({"first": seen(&first), "second": seen(&second)});
        assert_nothing_varies(&seen, &[]);
        settings().bind(|| insta::assert_json_snapshot!("product_list_pages", seen));
    })
    .await;
}
