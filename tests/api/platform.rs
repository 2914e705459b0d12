//! Cross-cutting behaviour: health, docs, the committed OpenAPI spec, error shapes, request ids,
//! the audit chain, idempotent seeds, the demo set, concurrent writers.

use crate::common::{each_backend, Backend, TestApp, TestDb};
use diesel::prelude::*;
use serde_json::json;

#[actix_web::test]
async fn health_readiness_and_offline_docs() {
    each_backend(|app: TestApp| async move {
        app.get("/healthz", None).await.assert(200);
        let ready = app.get("/readyz", None).await;
        ready.assert(200);
        let expected = if app.backend == Backend::Postgres {
            "postgres"
        } else {
            "sqlite"
        };
        assert_eq!(ready.body["database"], expected);
        let docs = app.get("/docs/", None).await;
        docs.assert(200);
        assert!(docs.body.as_str().unwrap().contains("swagger-ui"));
        app.get("/docs/swagger-ui-bundle.js", None)
            .await
            .assert(200);
        // Swagger UI reads the document the service serves.
        let init = app.get("/docs/swagger-initializer.js", None).await;
        init.assert(200);
        assert!(init
            .body
            .as_str()
            .unwrap()
            .contains("/api-docs/openapi.json"));
        let spec = app.get("/api-docs/openapi.json", None).await;
        spec.assert(200);
        assert!(spec.body["paths"]["/api/v1/products"].is_object());
    })
    .await;
}

/// `openapi/openapi.json` is what the code serves. Regenerate with
/// `cargo run -q -- openapi > openapi/openapi.json`.
#[test]
fn committed_openapi_spec_is_fresh() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let current = registry::openapi::spec_json();
    assert!(
        committed == current,
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(&registry::openapi::spec_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            let is_write = method != "get";
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| s.iter().any(|x| x.get("bearer").is_some()));
            let public_too = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| {
                    s.iter()
                        .any(|x| x.as_object().is_some_and(|o| o.is_empty()))
                });
            if secured && !public_too {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} needs a 401 response"
                );
            }
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
            let api = path.starts_with("/api/v1");
            let mut expected: Vec<&str> = Vec::new();
            if api {
                // A bad token or key, a rate limit, a database that is down: any operation.
                expected.extend(["401", "429", "503"]);
                if method == "get" {
                    expected.push("304");
                }
            }
            if op.get("requestBody").is_some() {
                expected.extend(["400", "422"]);
            }
            let has_query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if has_query {
                expected.push("422");
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path"
                    && (p["name"] == "id" || p["name"].as_str().unwrap().ends_with("_id"))
                {
                    assert_eq!(
                        p["schema"]["format"], "uuid",
                        "{method} {path} {}",
                        p["name"]
                    );
                }
            }
            if api {
                let security = op["security"].as_array().expect("security");
                let public = security.iter().any(|r| r.as_object().unwrap().is_empty());
                // An app's own resources (its webhooks) need its key; nothing else does.
                let key_required = security.len() == 1 && security[0].get("api_key").is_some();
                assert_eq!(
                    key_required,
                    path.starts_with("/api/v1/webhooks"),
                    "{method} {path}"
                );
                assert_eq!(
                    public || key_required,
                    security.iter().any(|r| r.get("api_key").is_some()),
                    "{method} {path}: a public operation takes an optional X-API-Key"
                );
            }
            if is_write
                && path.starts_with("/api/v1")
                && !path.ends_with("/logout")
                && !path.ends_with("/verify")
                && !path.contains("/standards/{standard_id}")
            {
                assert!(
                    responses.contains_key("422") || responses.contains_key("401"),
                    "{method} {path} documents no client error"
                );
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(
        spec["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
    let limited = &spec["paths"]["/api/v1/products"]["get"]["responses"]["200"]["headers"];
    assert!(limited["X-RateLimit-Remaining"].is_object(), "{limited}");
    assert!(spec["components"]["schemas"]["Problem"].is_object());
}

#[actix_web::test]
async fn errors_are_problem_json_with_request_ids() {
    each_backend(|app: TestApp| async move {
        let r = app.get("/api/v1/does-not-exist", None).await;
        r.assert(404);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(r.body["type"], "/problems/not_found");
        assert_eq!(r.body["status"], 404);
        assert!(r.header("x-request-id").is_some());
        let r = app
            .send(
                "GET",
                "/healthz",
                None,
                &[("X-Request-Id", "trace-abc-123")],
                None,
            )
            .await;
        assert_eq!(r.header("x-request-id").as_deref(), Some("trace-abc-123"));
        // Wrong content type, bad JSON, bad query values: never a 500.
        let r = app
            .send(
                "POST",
                "/api/v1/auth/login",
                None,
                &[("content-type", "text/plain")],
                None,
            )
            .await;
        r.assert(400);
        let r = app.get("/api/v1/products?limit=abc", None).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["limit"]);
        app.get("/api/v1/enterprises/%00%01", None)
            .await
            .assert(422);
        app.get("/api/v1/products?q=a%00b", None).await.assert(422);
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "a\u{0}b", "password": "x"}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["body"]);
    })
    .await;
}

#[actix_web::test]
async fn every_mutation_is_audited_and_tampering_is_detected() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let r = app
            .send(
                "POST",
                "/api/v1/products",
                Some(&a),
                &[("X-Request-Id", "req-audit-1")],
                Some(&app.product_body("审计测试", None)),
            )
            .await;
        r.assert(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let entries = app.audit_for("product", &id);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.actor_label, "enterprise:ent_a");
        assert!(e.actor_id.is_some());
        assert_eq!(e.request_id.as_deref(), Some("req-audit-1"));
        assert!(e.after.as_deref().unwrap().contains("审计测试"));
        let report = registry::audit::verify_chain(&mut app.conn()).unwrap();
        assert!(report.intact, "{report:?}");
        assert!(report.entries > 5);
        // The database refuses to edit an entry; someone who drops its triggers can.
        use registry::db::schema::audit_log::dsl as a_;
        let forge = || {
            diesel::update(a_::audit_log.filter(a_::seq.eq(e.seq)))
                .set(a_::after.eq(Some("{\"name\":\"forged\"}".to_owned())))
                .execute(&mut app.conn())
        };
        let refused = forge().expect_err("audit entries are append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
        app.drop_audit_triggers();
        forge().unwrap();
        let report = registry::audit::verify_chain(&mut app.conn()).unwrap();
        assert!(!report.intact);
        assert_eq!(report.first_broken_seq, Some(e.seq));
    })
    .await;
}

#[actix_web::test]
async fn a_failed_mutation_leaves_no_trace() {
    each_backend(|app: TestApp| async move {
        let before = registry::audit::verify_chain(&mut app.conn())
            .unwrap()
            .entries;
        let a = app.token("ent_a").await; // login writes one entry
        let mut body = app.product_body("不存在的类别", None);
        body["category"] = json!("no_such_category");
        app.post("/api/v1/products", Some(&a), &body)
            .await
            .assert(422);
        let after = registry::audit::verify_chain(&mut app.conn()).unwrap();
        assert_eq!(after.entries, before + 1, "only the login was recorded");
        assert!(after.intact);
    })
    .await;
}

#[actix_web::test]
async fn concurrent_writers_with_the_same_version_one_wins() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let path = format!("/api/v1/enterprises/{}", app.fx.ent_a);
        let reqs = (0..6).map(|i| {
            let body = json!({"address": format!("并发地址 {i}")});
            let (app, a, path) = (&app, &a, &path);
            async move {
                app.send(
                    "PATCH",
                    path,
                    Some(a),
                    &[("If-Match", "\"1\"")],
                    Some(&body),
                )
                .await
                .status
                .as_u16()
            }
        });
        let statuses = futures_util::future::join_all(reqs).await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| matches!(s, 200 | 409 | 412)),
            "{statuses:?}"
        );
        assert_eq!(app.get(&path, Some(&a)).await.body["version"], 2);
        assert!(
            registry::audit::verify_chain(&mut app.conn())
                .unwrap()
                .intact
        );
    })
    .await;
}

#[test]
fn reference_seeds_are_idempotent_and_demo_data_loads_on_every_backend() {
    for backend in crate::common::backends() {
        let db = TestDb::new(backend);
        let (pool, _) = registry::db::build_pool(&db.url, 2).unwrap();
        let mut conn = pool.get().unwrap();
        let again = registry::seeds::load_reference(&mut conn).unwrap();
        assert_eq!(
            again.total(),
            0,
            "{backend:?}: second load changed {again:?}"
        );
        let hashes: Vec<(String, String)> = registry::seeds::demo_users()
            .into_iter()
            .map(|u| {
                (
                    u.username,
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
                )
            })
            .collect();
        let added = registry::seeds::load_demo(&mut conn, &hashes).unwrap();
        assert!(added > 30, "{backend:?}: {added}");
        assert_eq!(
            registry::seeds::load_demo(&mut conn, &hashes).unwrap(),
            0,
            "demo load is idempotent"
        );
        use registry::db::schema::{enterprises, products, users};
        let sectors: Vec<String> = products::table
            .select(products::sector_code)
            .distinct()
            .load(&mut conn)
            .unwrap();
        assert_eq!(sectors.len(), 4, "demo products cover the four sectors");
        let roles: Vec<String> = users::table
            .select(users::role)
            .distinct()
            .load(&mut conn)
            .unwrap();
        assert_eq!(
            roles.len(),
            registry::domain::Role::ALL.len(),
            "one user per role at least"
        );
        let regions: Vec<String> = enterprises::table
            .select(enterprises::region_code)
            .distinct()
            .load(&mut conn)
            .unwrap();
        assert!(regions.len() >= 4);
        // Applications in every state, and the records they produced.
        use registry::db::schema::{applications, certifications, designations};
        let mut states: Vec<registry::domain::ApplicationState> = applications::table
            .select(applications::state)
            .distinct()
            .load(&mut conn)
            .unwrap();
        states.sort();
        assert_eq!(
            states,
            registry::domain::ApplicationState::ALL,
            "{backend:?}"
        );
        let certs: Vec<(String, chrono::NaiveDate)> = certifications::table
            .select((certifications::status, certifications::expires_on))
            .load(&mut conn)
            .unwrap();
        let today = registry::clock::today();
        assert!(
            certs.iter().any(|(s, e)| s == "valid" && *e >= today),
            "an active certificate"
        );
        assert!(
            certs.iter().any(|(s, e)| s == "valid" && *e < today),
            "an expired certificate"
        );
        assert!(
            certs.iter().any(|(s, _)| s == "suspended"),
            "a suspended certificate"
        );
        let des: Vec<String> = designations::table
            .select(designations::status)
            .load(&mut conn)
            .unwrap();
        assert!(
            des.contains(&"active".to_string()) && des.contains(&"revoked".to_string()),
            "{des:?}"
        );
        // Supervision: a certificate ending within 30 days, a listed enterprise, a closed
        // campaign whose results are published and whose draw verifies.
        assert!(
            certs
                .iter()
                .any(|(s, e)| s == "valid" && *e >= today && *e <= today + chrono::Days::new(30)),
            "a certificate ending soon"
        );
        use registry::db::schema::{credit_listings, spot_check_targets, spot_checks};
        let listed: i64 = credit_listings::table
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(listed, 1);
        let campaigns: Vec<(String, String)> = spot_checks::table
            .select((spot_checks::id, spot_checks::state))
            .load(&mut conn)
            .unwrap();
        assert_eq!(campaigns.len(), 1);
        assert_eq!(campaigns[0].1, "closed");
        let results: Vec<Option<String>> = spot_check_targets::table
            .select(spot_check_targets::result)
            .load(&mut conn)
            .unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.contains(&Some("failed".into())) && results.iter().all(Option::is_some));
        assert!(
            registry::spot_checks::verify_draw(&mut conn, &campaigns[0].0)
                .unwrap()
                .ok
        );
        assert!(registry::audit::verify_chain(&mut conn).unwrap().intact);
    }
}

#[actix_web::test]
async fn production_never_loads_the_demo_logins() {
    let key = crate::common::signing_key_path();
    for args in [["seed", "--demo"], ["serve", "--demo"]] {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
            .args(args)
            .env("REGISTRY_ENV", "production")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("p.db").display()),
            )
            .env(
                "JWT_SECRET",
                "0123456789abcdef0123456789abcdef-production-secret",
            )
            .env("REGISTRY_SIGNING_KEY", key)
            .env("REGISTRY_PUBLIC_URL", "https://registry.example.gov.cn")
            .env("REGISTRY_BIND", "127.0.0.1:0")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} must refuse");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("refusing to load demo data"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.path().join("p.db").exists() || args[0] == "serve");
    }
}

#[actix_web::test]
async fn a_taken_port_is_reported_at_once_with_its_address_and_nothing_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
        .args(["serve"])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("REGISTRY_BIND", &bind)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {bind}")),
        "{stderr}"
    );
    // Logs that go to a file or a pipe carry no terminal colour codes.
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    // The port is checked before any migration or seeding.
    assert!(!db.exists());
}

#[actix_web::test]
async fn the_healthcheck_command_reports_whether_the_server_is_ready() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let check = |bind: String| async move {
        actix_web::rt::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
                .arg("healthcheck")
                .env("REGISTRY_BIND", bind)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert!(check(addr).await.status.success());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = closed.local_addr().unwrap().to_string();
    drop(closed);
    let out = check(bind.clone()).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&bind),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn every_answer_has_a_content_security_policy_and_hsts_only_when_configured() {
    for backend in crate::common::backends() {
        let plain = TestApp::spawn(backend).await;
        for path in ["/docs/", "/api/v1/sectors", "/api/v1/nope"] {
            let r = plain.get(path, None).await;
            let csp = r.header("content-security-policy").unwrap_or_default();
            assert!(
                csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "{path}: {csp}"
            );
            assert_eq!(r.header("strict-transport-security"), None, "{path}");
        }
        let https = TestApp::spawn_with(backend, &[("REGISTRY_HSTS", "true")]).await;
        let r = https.get("/api/v1/sectors", None).await;
        assert_eq!(
            r.header("strict-transport-security").as_deref(),
            Some("max-age=31536000")
        );
    }
}

#[actix_web::test]
async fn dates_outside_the_years_0001_to_9999_are_422_naming_the_field() {
    each_backend(|app: TestApp| async move {
        for (path, field) in [
            ("/api/v1/products?launched_from=-9999-01-01", "launched_from"),
            ("/api/v1/products?launched_to=0000-12-31", "launched_to"),
            ("/api/v1/certifications?valid_on=-0001-06-01", "valid_on"),
            ("/api/v1/verify/LB-18-0000000001?at=-9999-01-01", "at"),
        ] {
            let r = app.get(path, None).await;
            r.assert(422);
            assert_eq!(r.fields(), vec![field], "{path}");
        }
        let a = app.token("ent_a").await;
        let mut body = app.product_body("远古产品", None);
        body["is_new_product"] = json!(true);
        body["launched_on"] = json!("-9999-01-01");
        let r = app.post("/api/v1/products", Some(&a), &body).await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["launched_on"]);
        let admin = app.token("admin").await;
        let r = app
            .post(
                "/api/v1/standards",
                Some(&admin),
                &json!({"code": "T/QHXH 900-2024", "title": "远古", "effective_on": "+10000-01-01"}),
            )
            .await;
        r.assert(422);
        assert_eq!(r.fields(), vec!["effective_on"]);
    })
    .await;
}

#[actix_web::test]
async fn browsers_on_any_origin_read_and_verify_and_configured_origins_sign_in() {
    let extra = [("REGISTRY_CORS_ORIGINS", "https://console.example.gov.cn")];
    for backend in crate::common::backends() {
        let app = TestApp::spawn_with(backend, &extra).await;
        let preflight = |origin: &'static str, method: &'static str, headers: &'static str| {
            let app = &app;
            async move {
                let mut h = vec![
                    ("Origin", origin),
                    ("Access-Control-Request-Method", method),
                ];
                if !headers.is_empty() {
                    h.push(("Access-Control-Request-Headers", headers));
                }
                app.send("OPTIONS", "/api/v1/products", None, &h, None)
                    .await
            }
        };
        let allowed = |r: &crate::common::Resp, origin: &str| {
            r.header("access-control-allow-origin").as_deref() == Some(origin)
        };
        // Any origin: public reads, with an API key if it likes.
        let r = preflight("https://shop.example", "GET", "x-api-key").await;
        r.assert(200);
        assert!(allowed(&r, "https://shop.example"), "{:?}", r.headers);
        // ... and verification, which is a POST for a batch.
        let r = app
            .send(
                "OPTIONS",
                "/api/v1/verify",
                None,
                &[
                    ("Origin", "https://shop.example"),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type"),
                ],
                None,
            )
            .await;
        assert!(allowed(&r, "https://shop.example"), "{:?}", r.headers);
        // Not signed in from an origin nobody configured, nor writes.
        let r = preflight("https://shop.example", "GET", "authorization").await;
        assert!(!allowed(&r, "https://shop.example"), "{:?}", r.headers);
        let r = preflight("https://shop.example", "POST", "content-type").await;
        assert!(!allowed(&r, "https://shop.example"), "{:?}", r.headers);
        // The configured console may.
        let r = preflight(
            "https://console.example.gov.cn",
            "POST",
            "authorization, content-type",
        )
        .await;
        r.assert(200);
        assert!(
            allowed(&r, "https://console.example.gov.cn"),
            "{:?}",
            r.headers
        );
        // An actual read carries the header and exposes the validators.
        let r = app
            .send(
                "GET",
                "/api/v1/products",
                None,
                &[("Origin", "https://shop.example")],
                None,
            )
            .await;
        r.assert(200);
        assert!(allowed(&r, "https://shop.example"));
        let exposed = r
            .header("access-control-expose-headers")
            .unwrap_or_default();
        assert!(exposed.to_ascii_lowercase().contains("etag"), "{exposed}");
        assert!(r.header("access-control-allow-credentials").is_none());
    }
}

async fn get(app: &TestApp, client: &str) -> u16 {
    let headers = [("X-Forwarded-For", client)];
    let r = app
        .send("GET", "/api/v1/products", None, &headers, None)
        .await;
    r.status.as_u16()
}

#[actix_web::test]
async fn forwarding_headers_name_the_client_only_behind_a_trusted_proxy() {
    let limited = [("REGISTRY_PUBLIC_RATE_PER_MIN", "2")];
    let behind_proxy = [
        ("REGISTRY_PUBLIC_RATE_PER_MIN", "2"),
        ("REGISTRY_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
    ];
    for backend in crate::common::backends() {
        // Behind a trusted proxy (the tests' loopback peer): each client has its own quota.
        let app = TestApp::spawn_with(backend, &behind_proxy).await;
        assert_eq!(get(&app, "203.0.113.1").await, 200);
        assert_eq!(get(&app, "203.0.113.1").await, 200);
        assert_eq!(get(&app, "203.0.113.1").await, 429);
        assert_eq!(get(&app, "203.0.113.2").await, 200);
        // Without one, the header is the client's own claim: changing it buys nothing.
        let app = TestApp::spawn_with(backend, &limited).await;
        assert_eq!(get(&app, "203.0.113.1").await, 200);
        assert_eq!(get(&app, "203.0.113.2").await, 200);
        assert_eq!(get(&app, "203.0.113.3").await, 429);
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_refusals_cache_and_the_audit_head() {
    for backend in crate::common::backends() {
        let app = TestApp::spawn(backend).await;
        let a = app.token("ent_a").await;
        let product = app.goji_product(&a, "指标枸杞").await;
        crate::public_api::certify(&app, &a, &product, "green_food", "LB-18-2611016666").await;
        let missing = format!("/api/v1/products/{}", uuid::Uuid::now_v7());
        app.get(&missing, None).await.assert(404);
        for _ in 0..2 {
            app.get("/api/v1/verify/LB-18-2611016666", None)
                .await
                .assert(200);
        }
        let limited = TestApp::spawn_with(backend, &[("REGISTRY_PUBLIC_RATE_PER_MIN", "1")]).await;
        limited.get("/api/v1/products", None).await.assert(200);
        limited.get("/api/v1/products", None).await.assert(429);
        let r = limited.get("/metrics", None).await;
        let text = r.body.as_str().unwrap_or_default().to_owned();
        let line = r#"registry_rate_limit_rejections_total{limit="public"} 1"#;
        assert!(text.contains(line), "{line} not in\n{text}");
        // The host itself may read them (the tests' client is on loopback).
        let r = app.get("/metrics", None).await;
        r.assert(200);
        let text = r.body.as_str().unwrap_or_default().to_owned();
        for line in [
            // By pattern, never by id: one series per route.
            r#"registry_http_requests_total{method="GET",route="/api/v1/products/{id}",status="404"} 1"#,
            r#"registry_http_requests_total{method="GET",route="/api/v1/verify/{number}",status="200"} 2"#,
            r#"registry_cache_lookups_total{cache="verify",result="miss"} 1"#,
            r#"registry_cache_lookups_total{cache="verify",result="hit"} 1"#,
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        for name in [
            "registry_http_request_duration_seconds_bucket{",
            r#"registry_db_pool_connections{state="idle"}"#,
            "registry_db_pool_wait_seconds_count",
            "registry_audit_head_sequence ",
        ] {
            assert!(text.contains(name), "{name} not in\n{text}");
        }
        assert!(!text.contains(&missing), "an id became a label");
        let head = text
            .lines()
            .find_map(|l| l.strip_prefix("registry_audit_head_sequence "))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap();
        assert!(head > 0, "{head}");

        // With a token configured, the token is needed, from anywhere.
        let app = TestApp::spawn_with(backend, &[("REGISTRY_METRICS_TOKEN", "scrape-me")]).await;
        app.get("/metrics", None).await.assert(403);
        app.get("/metrics", Some("wrong")).await.assert(403);
        app.get("/metrics", Some("scrape-me")).await.assert(200);
    }
}

#[actix_web::test]
async fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
        .args(["serve"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("l.db").display()),
        )
        .env("REGISTRY_BIND", format!("127.0.0.1:{port}"))
        .env("REGISTRY_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Every line up to and including the one that says the request was answered.
    let lines = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("\"answered\"");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let client = awc::Client::default();
    let url = format!("http://127.0.0.1:{port}/api/v1/products?sector=toys");
    let mut answered = None;
    for _ in 0..100 {
        match client
            .get(&url)
            .insert_header(("X-Request-Id", "trace-me-42"))
            .send()
            .await
        {
            Ok(r) => {
                answered = Some(r.status().as_u16());
                break;
            }
            Err(_) => actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_eq!(answered, Some(422));
    // Wait for the line of that request, then stop the server.
    let mut waited = 0;
    while !lines.is_finished() && waited < 100 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let lines = lines.join().unwrap();
    assert!(
        lines.last().is_some_and(|l| l.contains("answered")),
        "{lines:#?}"
    );
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    // Every line written while serving it names the request.
    let request_lines: Vec<_> = lines.iter().filter(|l| l.contains("trace-me-42")).collect();
    assert!(!request_lines.is_empty(), "{lines:#?}");
    for line in request_lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["span"]["request_id"], "trace-me-42", "{line}");
    }
}

#[actix_web::test]
async fn backup_copies_a_sqlite_database_online_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let copy = dir.path().join("copy.db");
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
            .args(args)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let url = format!("sqlite://{}", db.display());
    assert!(run(&["seed", "--demo"], &url).status.success());
    let out = run(&["backup", "--to", copy.to_str().unwrap()], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The copy is a whole register: it opens and holds what the original holds.
    let count = |path: &std::path::Path| -> (i64, i64) {
        use registry::db::schema::{audit_log, enterprises};
        let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        (
            enterprises::table.count().get_result(&mut c).unwrap(),
            audit_log::table.count().get_result(&mut c).unwrap(),
        )
    };
    let copied = count(&copy);
    assert!(copied.0 > 0 && copied.1 > 0, "{copied:?}");
    assert_eq!(copied, count(&db));
    // A second backup to the same file is refused, and the first copy is untouched.
    let before = std::fs::read(&copy).unwrap();
    let out = run(&["backup", "--to", copy.to_str().unwrap()], &url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    // PostgreSQL has its own tools; the command says which.
    if let Ok(pg) = std::env::var("TEST_DATABASE_URL") {
        let out = run(
            &["backup", "--to", dir.path().join("pg.db").to_str().unwrap()],
            &pg,
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    }
}
