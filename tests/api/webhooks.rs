//! Data exchange for apps: self-service API clients and their quotas, webhooks (signed, in
//! order, filtered, retried, paused, replayed, never into private addresses), expiry events.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{each_backend, TestApp};
use crate::public_api::certify;

#[derive(Debug, Clone)]
struct Got {
    signature: String,
    event_id: String,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on loopback that records what it is sent and answers `status`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start() -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (g, s) = (g.clone(), s.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let header = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    g.lock().unwrap().push(Got {
                        signature: header("x-registry-signature"),
                        event_id: header("x-registry-event-id"),
                        body: body.to_vec(),
                    });
                    let code = actix_web::http::StatusCode::from_u16(s.load(Ordering::SeqCst))
                        .expect("status");
                    HttpResponse::build(code).finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            got,
            status,
        }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until at least `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Got> {
        for _ in 0..400 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} deliveries expected, got {}", self.got().len());
    }
}

async fn new_key(app: &TestApp, token: &str, name: &str) -> (String, String) {
    let r = app
        .post(
            "/api/v1/api-clients",
            Some(token),
            &json!({"name": name, "contact": "dev@example.com", "purpose": "测试"}),
        )
        .await;
    r.assert(201);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["key"].as_str().unwrap().to_owned(),
    )
}

async fn with_key(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> crate::common::Resp {
    app.send(method, path, None, &[("X-API-Key", key)], body)
        .await
}

fn verifies(secret: &str, got: &Got) -> bool {
    let (t, v1) = got
        .signature
        .split_once(",v1=")
        .map(|(t, v)| (t.trim_start_matches("t="), v))
        .expect("t=…,v1=…");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&got.body);
    let fresh = (chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap()).abs() < 120;
    fresh && hex::encode(mac.finalize().into_bytes()) == v1
}

async fn wait_until<F: Fn(&Value) -> bool>(app: &TestApp, path: &str, key: &str, done: F) -> Value {
    for _ in 0..400 {
        let r = with_key(app, "GET", path, key, None).await;
        r.assert(200);
        if done(&r.body) {
            return r.body;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state");
}

#[actix_web::test]
async fn any_signed_in_user_registers_its_own_api_clients_and_only_admins_set_quotas() {
    each_backend(|app: TestApp| async move {
        app.post(
            "/api/v1/api-clients",
            None,
            &json!({"name": "x", "contact": "y"}),
        )
        .await
        .assert(401);
        let a = app.token("ent_a").await;
        let b = app.token("ent_b").await;
        let market = app.token("market").await;
        let admin = app.token("admin").await;
        app.post(
            "/api/v1/api-clients",
            Some(&a),
            &json!({"name": "", "contact": ""}),
        )
        .await
        .assert(422);
        // Only an admin sets a quota.
        app.post(
            "/api/v1/api-clients",
            Some(&a),
            &json!({"name": "x", "contact": "y", "quota_per_min": 100000}),
        )
        .await
        .assert(403);
        let (mine, key) = new_key(&app, &a, "甲的小程序").await;
        let (theirs, _) = new_key(&app, &market, "监管大屏").await;
        // Each sees its own; an admin sees all; another user's does not exist for it.
        let listed = app.get("/api/v1/api-clients", Some(&a)).await;
        assert_eq!(crate::common::ids(&listed.body), vec![mine.clone()]);
        assert!(listed.body["items"][0].get("key").is_none());
        assert_eq!(listed.body["items"][0]["key_prefix"], &key[..7]);
        assert_eq!(listed.body["items"][0]["purpose"], "测试");
        let all = crate::common::ids(&app.get("/api/v1/api-clients", Some(&admin)).await.body);
        assert!(all.contains(&mine) && all.contains(&theirs));
        app.get(&format!("/api/v1/api-clients/{mine}"), Some(&b))
            .await
            .assert(404);
        app.delete(&format!("/api/v1/api-clients/{mine}"), Some(&b))
            .await
            .assert(404);
        app.get(&format!("/api/v1/api-clients/{mine}"), Some(&a))
            .await
            .assert(200);
        // The owner may not raise its quota; an admin may, and it applies to the next request.
        let path = format!("/api/v1/api-clients/{mine}");
        app.patch(&path, Some(&a), &json!({"quota_per_min": 5000}))
            .await
            .assert(403);
        app.patch(&path, Some(&admin), &json!({"quota_per_min": 0}))
            .await
            .assert(422);
        let raised = app
            .patch(&path, Some(&admin), &json!({"quota_per_min": 5000}))
            .await;
        raised.assert(200);
        assert_eq!(raised.body["quota_per_min"], 5000);
        let r = with_key(&app, "GET", "/api/v1/sectors", &key, None).await;
        r.assert(200);
        assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("5000"));
        // Keys are kept as hashes only.
        {
            use diesel::prelude::*;
            use registry::db::schema::api_clients::dsl as k;
            let stored: String = k::api_clients
                .find(&mine)
                .select(k::key_hash)
                .first(&mut app.conn())
                .unwrap();
            assert_ne!(stored, key);
            assert_eq!(stored.len(), 64);
        }
        // At most ten live clients a user.
        for i in 1..10 {
            new_key(&app, &a, &format!("app {i}")).await;
        }
        let eleventh = app
            .post(
                "/api/v1/api-clients",
                Some(&a),
                &json!({"name": "one too many", "contact": "y"}),
            )
            .await;
        eleventh.assert(422);
        assert_eq!(eleventh.code(), "too_many_clients");
        // The owner revokes its own; the key stops at once; the trail says who did what.
        app.delete(&path, Some(&a)).await.assert(204);
        with_key(&app, "GET", "/api/v1/sectors", &key, None)
            .await
            .assert(401);
        let actions: Vec<String> = app
            .audit_for("api_client", &mine)
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "api_client.create",
                "api_client.set_quota",
                "api_client.revoke"
            ]
        );
        // An admin revokes anyone's.
        app.delete(&format!("/api/v1/api-clients/{theirs}"), Some(&admin))
            .await
            .assert(204);
    })
    .await;
}

#[actix_web::test]
async fn a_subscriber_hears_what_it_asked_for_signed_and_in_order_and_can_replay_it() {
    each_backend(|app: TestApp| async move {
        let rx = Receiver::start();
        let other_rx = Receiver::start();
        let a = app.token("ent_a").await;
        let agri = app.token("agri").await;
        let p1 = app.goji_product(&a, "订阅甲").await;
        let p2 = app.goji_product(&a, "订阅乙").await;
        let c1 = certify(&app, &a, &p1, "green_food", "WH-0001").await;
        let c2 = certify(&app, &a, &p2, "green_food", "WH-0002").await;
        let (_, key) = new_key(&app, &a, "电商平台").await;
        // Without a key, or with a bad subscription: refused with the field.
        app.post(
            "/api/v1/webhooks",
            None,
            &json!({"url": rx.url, "event_types": ["record.revoked"]}),
        )
        .await
        .assert(401);
        for (body, field) in [
            (
                json!({"url": "ftp://x.example/", "event_types": ["record.revoked"]}),
                "url",
            ),
            (
                json!({"url": rx.url, "event_types": ["record.exploded"]}),
                "event_types",
            ),
            (json!({"url": rx.url, "event_types": []}), "event_types"),
            (
                json!({"url": rx.url, "event_types": ["record.revoked"], "kind": "gold"}),
                "kind",
            ),
            (
                json!({"url": rx.url, "event_types": ["record.revoked"], "since": 99999999}),
                "since",
            ),
        ] {
            let r = with_key(&app, "POST", "/api/v1/webhooks", &key, Some(&body)).await;
            r.assert(422);
            assert_eq!(r.fields(), vec![field.to_owned()], "{body}");
        }
        let created = with_key(
            &app,
            "POST",
            "/api/v1/webhooks",
            &key,
            Some(
                &json!({"url": rx.url, "event_types": ["record.suspended", "record.revoked"],
                         "kind": "green_food"}),
            ),
        )
        .await;
        created.assert(201);
        let hook = created.body["id"].as_str().unwrap().to_owned();
        let secret = created.body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        // Another subscription of the same app, for another enterprise: hears nothing here.
        let other = with_key(
            &app,
            "POST",
            "/api/v1/webhooks",
            &key,
            Some(
                &json!({"url": other_rx.url, "event_types": ["record.suspended", "record.revoked"],
                         "enterprise_id": app.fx.ent_b}),
            ),
        )
        .await;
        other.assert(201);
        let other_id = other.body["id"].as_str().unwrap().to_owned();
        // Changes: one suspension and one revocation asked for, a product edit not asked for.
        app.patch(
            &format!("/api/v1/products/{p1}"),
            Some(&a),
            &json!({"suitable_for": "儿童慎用"}),
        )
        .await
        .assert(200);
        app.post(
            &format!("/api/v1/certifications/{c1}/suspend"),
            Some(&agri),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        app.post(
            &format!("/api/v1/certifications/{c2}/revoke"),
            Some(&agri),
            &json!({"reason": "企业申请注销"}),
        )
        .await
        .assert(200);
        let got = rx.wait_for(2).await;
        let bodies: Vec<Value> = got.iter().map(Got::json).collect();
        assert_eq!(bodies[0]["type"], "record.suspended");
        assert_eq!(bodies[0]["entity_id"], c1.as_str());
        assert_eq!(bodies[0]["href"], format!("/api/v1/certifications/{c1}"));
        assert_eq!(bodies[0]["kind"], "green_food");
        assert_eq!(bodies[0]["enterprise_id"], app.fx.ent_a.as_str());
        assert_eq!(bodies[1]["type"], "record.revoked");
        assert_eq!(bodies[1]["entity_id"], c2.as_str());
        assert!(bodies[0]["seq"].as_i64() < bodies[1]["seq"].as_i64());
        for (g, b) in got.iter().zip(&bodies) {
            assert!(verifies(&secret, g), "signature {}", g.signature);
            assert!(!verifies("whsec_wrong", g));
            assert_eq!(g.event_id, b["id"].as_str().unwrap());
        }
        // The log matches the change feed: these are its entries with these numbers.
        let feed = app
            .get(
                &format!(
                    "/api/v1/changes?since={}&types=certification",
                    bodies[0]["seq"].as_i64().unwrap() - 1
                ),
                None,
            )
            .await;
        assert_eq!(feed.body["items"][0]["seq"], bodies[0]["seq"]);
        // The other subscription moves past them without a delivery.
        let head = bodies[1]["seq"].as_i64().unwrap();
        let path = format!("/api/v1/webhooks/{other_id}");
        wait_until(&app, &path, &key, |w| w["cursor"].as_i64() >= Some(head)).await;
        assert!(other_rx.got().is_empty());
        // The delivery log; another app sees none of it.
        let log = with_key(
            &app,
            "GET",
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            &key,
            None,
        )
        .await;
        log.assert(200);
        let items = log.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert!(items
            .iter()
            .all(|d| d["succeeded"] == true && d["status_code"] == 200));
        assert_eq!(items[0]["seq"], bodies[1]["seq"], "newest first");
        let b = app.token("ent_b").await;
        let (_, stranger) = new_key(&app, &b, "别家").await;
        with_key(
            &app,
            "GET",
            &format!("/api/v1/webhooks/{hook}"),
            &stranger,
            None,
        )
        .await
        .assert(404);
        with_key(
            &app,
            "GET",
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            &stranger,
            None,
        )
        .await
        .assert(404);
        let theirs = with_key(&app, "GET", "/api/v1/webhooks", &stranger, None).await;
        assert_eq!(theirs.body["items"], json!([]));
        // Replay from before the first: both again, in order, with the same event ids.
        let from = bodies[0]["seq"].as_i64().unwrap() - 1;
        with_key(
            &app,
            "POST",
            &format!("/api/v1/webhooks/{hook}/replay"),
            &key,
            Some(&json!({"since": from})),
        )
        .await
        .assert(200);
        let again = rx.wait_for(4).await;
        assert_eq!(again[2].event_id, got[0].event_id);
        assert_eq!(again[3].event_id, got[1].event_id);
        // A rotated secret signs what follows.
        let rotated = with_key(
            &app,
            "POST",
            &format!("/api/v1/webhooks/{hook}/rotate-secret"),
            &key,
            None,
        )
        .await;
        rotated.assert(200);
        let fresh = rotated.body["secret"].as_str().unwrap().to_owned();
        app.post(
            &format!("/api/v1/certifications/{c1}/reinstate"),
            Some(&agri),
            &json!({"reason": "复检合格"}),
        )
        .await
        .assert(200);
        app.post(
            &format!("/api/v1/certifications/{c1}/revoke"),
            Some(&agri),
            &json!({"reason": "撤销"}),
        )
        .await
        .assert(200);
        let last = rx.wait_for(5).await;
        assert_eq!(last[4].json()["type"], "record.revoked");
        assert!(verifies(&fresh, &last[4]) && !verifies(&secret, &last[4]));
        // Deleted: nothing more.
        with_key(
            &app,
            "DELETE",
            &format!("/api/v1/webhooks/{hook}"),
            &key,
            None,
        )
        .await
        .assert(204);
        with_key(&app, "GET", &format!("/api/v1/webhooks/{hook}"), &key, None)
            .await
            .assert(404);
    })
    .await;
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_then_paused_after_fifty_failures_and_resumes() {
    for backend in crate::common::backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_WEBHOOK_POLL_MS", "20")]).await;
        let rx = Receiver::start();
        rx.status.store(503, Ordering::SeqCst);
        let a = app.token("ent_a").await;
        let (_, key) = new_key(&app, &a, "总失败").await;
        let p = app.goji_product(&a, "重试").await;
        let hook = with_key(
            &app,
            "POST",
            "/api/v1/webhooks",
            &key,
            Some(&json!({"url": rx.url, "event_types": ["product.changed"], "product_id": p})),
        )
        .await;
        hook.assert(201);
        let id = hook.body["id"].as_str().unwrap().to_owned();
        app.patch(
            &format!("/api/v1/products/{p}"),
            Some(&a),
            &json!({"suitable_for": "老人"}),
        )
        .await
        .assert(200);
        let path = format!("/api/v1/webhooks/{id}");
        let paused = wait_until(&app, &path, &key, |w| w["status"] == "paused").await;
        assert_eq!(paused["consecutive_failures"], 50);
        let reason = paused["paused_reason"].as_str().unwrap();
        assert!(
            reason.contains("50") && reason.contains("HTTP 503"),
            "{reason}"
        );
        // Fifty attempts of the same event, then nothing more.
        let got = rx.got();
        assert_eq!(got.len(), 50);
        assert!(got.iter().all(|g| g.event_id == got[0].event_id));
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rx.got().len(), 50);
        let log = with_key(
            &app,
            "GET",
            &format!("{path}/deliveries?limit=2"),
            &key,
            None,
        )
        .await;
        assert_eq!(log.body["items"][0]["attempt"], 50);
        assert_eq!(log.body["items"][0]["status_code"], 503);
        assert_eq!(log.body["items"][0]["succeeded"], false);
        assert!(log.body["next_cursor"].is_string());
        // The receiver is fixed; resuming delivers the event that failed.
        rx.status.store(204, Ordering::SeqCst);
        let resumed = with_key(&app, "POST", &format!("{path}/resume"), &key, None).await;
        resumed.assert(200);
        assert_eq!(resumed.body["status"], "active");
        rx.wait_for(51).await;
        let done = wait_until(&app, &path, &key, |w| w["consecutive_failures"] == 0).await;
        assert_eq!(done["status"], "active");
        assert_eq!(rx.got()[50].event_id, got[0].event_id);
    }
}

#[actix_web::test]
async fn webhooks_never_reach_private_addresses_unless_allowed() {
    for backend in crate::common::backends() {
        let app =
            TestApp::spawn_with(backend, &[("REGISTRY_WEBHOOK_ALLOW_PRIVATE", "false")]).await;
        let rx = Receiver::start();
        let a = app.token("ent_a").await;
        let (_, key) = new_key(&app, &a, "内网探测").await;
        for url in [
            "http://127.0.0.1:9/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
            "http://10.0.0.8/",
        ] {
            let r = with_key(
                &app,
                "POST",
                "/api/v1/webhooks",
                &key,
                Some(&json!({"url": url, "event_types": ["product.changed"]})),
            )
            .await;
            r.assert(422);
            assert_eq!(r.code(), "validation_failed", "{url}");
            assert_eq!(r.body["errors"][0]["code"], "address_not_allowed", "{url}");
        }
        // A name is checked after DNS answers: localhost resolves to loopback and is refused.
        let port = rx
            .url
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let p = app.goji_product(&a, "探测").await;
        let hook = with_key(&app, "POST", "/api/v1/webhooks", &key,
            Some(&json!({"url": format!("http://localhost:{port}/hooks"), "event_types": ["product.changed"]}))).await;
        hook.assert(201);
        let id = hook.body["id"].as_str().unwrap().to_owned();
        app.patch(
            &format!("/api/v1/products/{p}"),
            Some(&a),
            &json!({"suitable_for": "老人"}),
        )
        .await
        .assert(200);
        let path = format!("/api/v1/webhooks/{id}/deliveries");
        let log = wait_until(&app, &path, &key, |l| {
            !l["items"].as_array().unwrap().is_empty()
        })
        .await;
        let error = log["items"][0]["error"].as_str().unwrap_or_default();
        assert_eq!(log["items"][0]["succeeded"], false);
        assert!(error.contains("may not reach"), "{error}");
        // What the name resolved to inside the registry's network stays out of the log.
        assert!(
            !error.contains("127.0.0.1") && !error.contains("::1"),
            "{error}"
        );
        assert!(rx.got().is_empty());
    }
}

#[actix_web::test]
async fn a_record_past_its_end_is_announced_once_in_the_change_feed() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let p = app.goji_product(&a, "到期").await;
        let cert = certify(&app, &a, &p, "green_food", "EXP-0001").await;
        {
            use diesel::prelude::*;
            use registry::db::schema::certifications::dsl as c;
            diesel::update(c::certifications.find(&cert))
                .set(c::expires_on.eq(registry::clock::today() - chrono::Days::new(1)))
                .execute(&mut app.conn())
                .unwrap();
        }
        let head = app
            .get("/api/v1/changes?since=0&limit=1000", None)
            .await
            .body["next_cursor"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
        let today = registry::clock::today();
        let announce = |app: &TestApp| {
            let mut conn = app.conn();
            registry::db::write_tx(&mut conn, |conn| {
                registry::records::expiry::announce_due(conn, today, 100)
            })
            .unwrap()
        };
        // The worker may have announced it already; either way it is announced exactly once.
        announce(&app);
        assert_eq!(announce(&app), 0);
        let feed = app
            .get(
                &format!("/api/v1/changes?since={head}&types=certification"),
                None,
            )
            .await;
        let expiries: Vec<&Value> = feed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["change"] == "certification.expire")
            .collect();
        assert_eq!(expiries.len(), 1);
        assert_eq!(expiries[0]["entity_id"], cert.as_str());
    })
    .await;
}

#[actix_web::test]
async fn a_revoked_clients_subscriptions_stop_delivering() {
    each_backend(|app: TestApp| async move {
        let kept_rx = Receiver::start();
        let revoked_rx = Receiver::start();
        let a = app.token("ent_a").await;
        let p = app.goji_product(&a, "吊销").await;
        let (revoked_id, revoked_key) = new_key(&app, &a, "停用的应用").await;
        let (_, kept_key) = new_key(&app, &a, "在用的应用").await;
        for (key, rx) in [(&revoked_key, &revoked_rx), (&kept_key, &kept_rx)] {
            with_key(
                &app,
                "POST",
                "/api/v1/webhooks",
                key,
                Some(&json!({"url": rx.url, "event_types": ["product.changed"]})),
            )
            .await
            .assert(201);
        }
        app.delete(&format!("/api/v1/api-clients/{revoked_id}"), Some(&a))
            .await
            .assert(204);
        app.patch(
            &format!("/api/v1/products/{p}"),
            Some(&a),
            &json!({"suitable_for": "儿童"}),
        )
        .await
        .assert(200);
        // Both subscriptions are looked at in the same polls: once the kept one has heard the
        // change, and a few polls later, the revoked one still has heard nothing.
        kept_rx.wait_for(1).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        assert!(revoked_rx.got().is_empty());
    })
    .await;
}

#[actix_web::test]
async fn an_app_developer_signs_up_for_a_key_and_has_no_other_rights() {
    each_backend(|app: TestApp| async move {
        let rx = Receiver::start();
        let path = "/api/v1/auth/register-developer";
        let body = json!({"username": "scan_app_dev", "password": "a long passphrase",
            "client": {"name": "扫码查询 App", "contact": "dev@example.com", "purpose": "查询证书"}});
        // Bad fields are named; a quota is not the developer's to set.
        let bad = app
            .post(path, None, &json!({"username": "x y", "password": "short",
                "client": {"name": "", "contact": "dev@example.com"}}))
            .await;
        bad.assert(422);
        let mut fields = bad.fields();
        fields.sort();
        assert_eq!(fields, ["client.name", "password", "username"]);
        let mut greedy = body.clone();
        greedy["client"]["quota_per_min"] = json!(100000);
        app.post(path, None, &greedy).await.assert(403);

        let made = app.post(path, None, &body).await;
        made.assert(201);
        assert_eq!(made.body["user"]["role"], "developer");
        let key = made.body["client"]["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("rk_"));
        app.post(path, None, &body).await.assert(409);
        let entry = app.audit_for("api_client", made.body["client"]["id"].as_str().unwrap());
        assert_eq!(entry[0].action, "api_client.create");

        // The key subscribes to webhooks; the account signs in and manages its own apps.
        with_key(&app, "POST", "/api/v1/webhooks", &key,
            Some(&json!({"url": rx.url, "event_types": ["product.changed"]}))).await
        .assert(201);
        let login = app
            .post("/api/v1/auth/login", None,
                &json!({"username": "scan_app_dev", "password": "a long passphrase"}))
            .await;
        login.assert(200);
        let dev = login.body["access_token"].as_str().unwrap().to_owned();
        let mine = app.get("/api/v1/api-clients", Some(&dev)).await;
        assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
        new_key(&app, &dev, "第二个应用").await;

        // Nothing else: no enterprise's private data, no writes, no regulator's lists.
        let p = app.goji_product(&app.token("ent_a").await, "开发者").await;
        let (draft, _) = app
            .green_food_draft("开发者看不到的草稿", "LB-18-2611017777", 400)
            .await;
        let patch = json!({"suitable_for": "x"});
        let product = app.product_body("开发者的产品", None);
        for (method, path, body, want) in [
            ("GET", format!("/api/v1/enterprises/{}", app.fx.ent_c), None, 404),
            ("PATCH", format!("/api/v1/products/{p}"), Some(&patch), 403),
            ("POST", "/api/v1/products".to_owned(), Some(&product), 403),
            ("GET", "/api/v1/users".to_owned(), None, 403),
            ("GET", "/api/v1/audit-log".to_owned(), None, 403),
            ("GET", "/api/v1/applications".to_owned(), None, 200),
        ] {
            let r = app.send(method, &path, Some(&dev), &[], body).await;
            assert_eq!(r.status.as_u16(), want, "{method} {path}: {}", r.body);
            if path == "/api/v1/applications" {
                // Lists show it what they show anyone: no drafts, nothing under review.
                let anonymous = app.get(&path, None).await;
                assert_eq!(r.body["items"], anonymous.body["items"]);
                assert!(!r.body.to_string().contains(&draft), "{}", r.body);
            }
        }
    })
    .await;
}
