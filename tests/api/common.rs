//! Test harness: a fresh database per test (SQLite always; PostgreSQL too when
//! `TEST_DATABASE_URL` is set), the real server on port 0, and users for every role.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use registry::audit::AuditCtx;
use registry::config::Settings;
use registry::db::{self, BackendKind, DbConn, DbPool};
use registry::domain::{EnterpriseStatus, Sector};
use registry::enterprises::service::{EnterpriseInput, NewEnterprise};
use registry::error::Errors;
use registry::startup::Application;
use registry::state::AppState;
use registry::users::service::NewUser;
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";
/// The SHA-256 the test applications give their document.
pub const DOCUMENT_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when TEST_DATABASE_URL is set.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(Backend::Postgres);
    }
    v
}

/// Runs the test body once per backend, each on a fresh database and server.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        eprintln!("--- backend: {backend:?}");
        let app = TestApp::spawn(backend).await;
        body(app).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Databases

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| registry::auth::password::hash(PASSWORD))
        .clone()
}

fn prepare(conn: &mut DbConn) {
    db::run_migrations(conn).expect("migrations");
    registry::seeds::load_reference(conn).expect("reference seeds");
}

/// A migrated, seeded SQLite file, built once per test process and copied for each test.
fn sqlite_template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let path = dir.join("template.db");
        {
            let (pool, _) =
                db::build_pool(&format!("sqlite://{}", path.display()), 1).expect("pool");
            let mut conn = pool.get().expect("conn");
            prepare(&mut conn);
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
                .expect("checkpoint");
        }
        path
    })
}

fn pg_url_with_db(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let without_db = match head.rfind('/') {
        Some(i) if i > head.find("//").map(|j| j + 1).unwrap_or(0) => &head[..i],
        _ => head,
    };
    match query {
        Some(q) => format!("{without_db}/{db}?{q}"),
        None => format!("{without_db}/{db}"),
    }
}

/// Hash of the migrations and seeds, so a changed schema never reuses a stale template.
fn schema_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["migrations/postgres", "seeds"] {
        collect_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap_or_default());
    }
    hex::encode(&h.finalize()[..6])
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_files(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// A migrated, seeded PostgreSQL template database, built once (an advisory lock keeps
/// concurrent test processes from building it twice).
fn pg_template(base: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("registry_tpl_{}", schema_fingerprint());
        let mut admin = PgConnection::establish(base).expect("connect to TEST_DATABASE_URL");
        admin
            .batch_execute("SELECT pg_advisory_lock(727274)")
            .expect("lock");
        let exists: i64 = diesel::sql_query(format!(
            "SELECT 1 AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .load::<One>(&mut admin)
        .expect("query")
        .len() as i64;
        if exists == 0 {
            let building = format!("{name}_building");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .expect("drop");
            admin
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .expect("create template");
            {
                let mut conn =
                    db::connect(&db::DbTarget::parse(&pg_url_with_db(base, &building)).unwrap())
                        .expect("connect");
                prepare(&mut conn);
            }
            admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .expect("rename");
        }
        admin
            .batch_execute("SELECT pg_advisory_unlock(727274)")
            .expect("unlock");
        name
    })
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    n: i32,
}

/// A database owned by one test; dropped with it.
pub struct TestDb {
    pub url: String,
    pg_cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("test.db");
                std::fs::copy(sqlite_template(), &path).expect("copy template");
                Self {
                    url: format!("sqlite://{}", path.display()),
                    pg_cleanup: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let template = pg_template(&base);
                let name = format!("registry_t_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&base).expect("connect");
                let mut tries = 0;
                // Two CREATE DATABASE … TEMPLATE at once can collide; retry briefly.
                while let Err(e) =
                    admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                {
                    tries += 1;
                    assert!(tries < 50, "cannot create test database: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Self {
                    url: pg_url_with_db(&base, &name),
                    pg_cleanup: Some((base, name)),
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
    /// A new database `registry`, migrated and seeded, on the PostgreSQL server at `base`
    /// (a server of the test's own; it is not dropped).
    pub fn postgres_on(base: &str) -> Self {
        let mut admin = PgConnection::establish(base).expect("connect");
        admin
            .batch_execute("CREATE DATABASE registry")
            .expect("create database");
        let url = pg_url_with_db(base, "registry");
        prepare(&mut db::connect(&db::DbTarget::parse(&url).unwrap()).expect("connect"));
        Self {
            url,
            pg_cleanup: None,
            _dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg_cleanup {
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The application

/// Users and enterprises every test starts with.
pub struct Fixtures {
    /// Active enterprise (food, biomedicine; Haixi 632800) with user `ent_a`.
    pub ent_a: String,
    /// Active enterprise (light_textile; Xining 630100) with user `ent_b`.
    pub ent_b: String,
    /// Pending enterprise (food; Haidong 630200) with user `ent_c`.
    pub ent_c: String,
}

pub struct TestApp {
    pub base: String,
    pub backend: Backend,
    pub pool: DbPool,
    pub fx: Fixtures,
    pub client: awc::Client,
    pub db: TestDb,
}

/// The signing key every test app of this process uses, in a file as in production.
pub fn signing_key_path() -> &'static PathBuf {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let path = dir.join("signing-key.pem");
        registry::signing::SigningKey::generate()
            .write(&path)
            .expect("write the test signing key");
        path
    })
}

/// The keyring `settings` name (no development key is ever written by a test).
pub fn keyring(settings: &Settings) -> registry::signing::Keyring {
    registry::signing::Keyring::from_settings(settings, std::path::Path::new("/nonexistent"))
        .expect("test keyring")
}

pub fn settings(url: &str, extra: &[(&str, &str)]) -> Settings {
    let url = url.to_owned();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(move |k| match k {
        k if extra.iter().any(|(e, _)| e == k) => {
            extra.iter().find(|(e, _)| e == k).map(|(_, v)| v.clone())
        }
        "DATABASE_URL" => Some(url.clone()),
        "JWT_SECRET" => Some("test-secret-test-secret-test-secret-0123".into()),
        "REGISTRY_SIGNING_KEY" => Some(signing_key_path().display().to_string()),
        "REGISTRY_PUBLIC_URL" => Some("https://registry.example.test".into()),
        "REGISTRY_DB_POOL_SIZE" => Some("4".into()),
        "REGISTRY_WORKERS" => Some("1".into()),
        "REGISTRY_LOGIN_MAX_FAILURES" => Some("5".into()),
        // Rate limits have their own test; elsewhere they must not interfere.
        "REGISTRY_PUBLIC_RATE_PER_MIN"
        | "REGISTRY_LOGIN_RATE_PER_MIN"
        | "REGISTRY_FILING_RATE_PER_MIN"
        | "REGISTRY_API_KEY_RATE_PER_MIN" => Some("1000000".into()),
        // Webhook receivers in tests listen on loopback, and retries must not take seconds.
        "REGISTRY_WEBHOOK_ALLOW_PRIVATE" => Some("true".into()),
        "REGISTRY_WEBHOOK_POLL_MS" => Some("100".into()),
        "REGISTRY_WEBHOOK_RETRY_BASE_MS" => Some("0".into()),
        _ => None,
    })
    .expect("test settings")
}

fn enterprise(
    conn: &mut DbConn,
    uscc: &str,
    name: &str,
    region: &str,
    sectors: &[Sector],
    status: EnterpriseStatus,
) -> String {
    let input = EnterpriseInput {
        uscc: uscc.into(),
        name: name.into(),
        legal_representative: "测试代表".into(),
        region_code: region.into(),
        address: "测试路 1 号".into(),
        sectors: sectors.iter().map(|s| s.as_str().to_owned()).collect(),
        scale: "small".into(),
        above_designated_size: false,
        contact_phone: "0971-1234567".into(),
        contact_email: "fixture@example.com".into(),
    };
    let mut errors = Errors::new();
    let new = NewEnterprise::parse(&mut errors, "", &input, None).expect("fixture enterprise");
    errors.finish().expect("fixture enterprise valid");
    db::write_tx(conn, |conn| {
        use registry::enterprises::service::{create, Claim};
        create(
            conn,
            &AuditCtx::system("test"),
            new,
            status,
            "",
            Claim::Direct,
        )
    })
    .expect("insert enterprise")
    .id
}

pub fn add_user(
    conn: &mut DbConn,
    username: &str,
    role: &str,
    agency: Option<&str>,
    enterprise: Option<&str>,
) -> String {
    let mut errors = Errors::new();
    let new =
        NewUser::parse(&mut errors, username, role, agency, enterprise).expect("fixture user");
    errors.finish().expect("fixture user valid");
    db::write_tx(conn, |conn| {
        registry::users::service::create(conn, &AuditCtx::system("test"), new, password_hash())
    })
    .expect("insert user")
    .id
}

/// A valid USCC for fixtures: issuer `91`, the region, a 9-character organisation code.
pub fn uscc(region: &str, org: &str) -> String {
    registry::domain::Uscc::with_check(&format!("91{region}{org}"))
        .expect("a 17-character body")
        .to_string()
}

/// A valid GTIN-13 from a 12-digit body.
pub fn gtin(body12: &str) -> String {
    registry::domain::Gtin::with_check(body12)
        .expect("12 digits")
        .to_string()
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// With settings overridden, e.g. `[("REGISTRY_PUBLIC_NOTICE_DAYS", "0")]`.
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        Self::spawn_on(TestDb::new(backend), backend, extra).await
    }

    /// On a database of the test's own choosing.
    pub async fn spawn_on(db: TestDb, backend: Backend, extra: &[(&str, &str)]) -> Self {
        let settings = settings(&db.url, extra);
        let (pool, kind) =
            db::build_pool(&settings.database_url, settings.db_pool_size).expect("pool");
        assert_eq!(kind == BackendKind::Postgres, backend == Backend::Postgres);
        let fx = {
            let mut conn = pool.get().expect("conn");
            let ent_a = enterprise(
                &mut conn,
                &uscc("632800", "MA0000001"),
                "测试甲枸杞有限公司",
                "632800",
                &[Sector::Food, Sector::Biomedicine],
                EnterpriseStatus::Active,
            );
            let ent_b = enterprise(
                &mut conn,
                &uscc("630100", "MA0000002"),
                "测试乙藏毯有限公司",
                "630100",
                &[Sector::LightTextile],
                EnterpriseStatus::Active,
            );
            let ent_c = enterprise(
                &mut conn,
                &uscc("630200", "MA0000003"),
                "测试丙待审企业",
                "630200",
                &[Sector::Food],
                EnterpriseStatus::Pending,
            );
            add_user(&mut conn, "admin", "admin", None, None);
            add_user(
                &mut conn,
                "market",
                "regulator",
                Some("market_regulation"),
                None,
            );
            add_user(&mut conn, "agri", "regulator", Some("agriculture"), None);
            add_user(&mut conn, "agri2", "regulator", Some("agriculture"), None);
            add_user(
                &mut conn,
                "halal",
                "regulator",
                Some("ethnic_religious_affairs"),
                None,
            );
            add_user(&mut conn, "ent_a", "enterprise", None, Some(&ent_a));
            add_user(&mut conn, "ent_b", "enterprise", None, Some(&ent_b));
            add_user(&mut conn, "ent_c", "enterprise", None, Some(&ent_c));
            add_user(&mut conn, "dev", "developer", None, None);
            Fixtures {
                ent_a,
                ent_b,
                ent_c,
            }
        };
        let keys = keyring(&settings);
        let replicas = registry::db::replicas::Replicas::build(&settings.database_read_urls, 2)
            .expect("replicas");
        let state = AppState::new(pool.clone(), kind, settings, keys).with_replicas(replicas);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = Application::start(state, listener).expect("start");
        actix_web::rt::spawn(app.server);
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        Self {
            base: format!("http://127.0.0.1:{}", app.port),
            backend,
            pool,
            fx,
            client,
            db,
        }
    }

    /// Another instance of the service on the same database (as behind a load balancer);
    /// returns its base URL.
    pub fn second_instance(&self) -> String {
        self.second_instance_with(&[])
    }

    /// Another instance with settings overridden (e.g. a rotated signing key).
    pub fn second_instance_with(&self, extra: &[(&str, &str)]) -> String {
        let settings = settings(&self.db.url, extra);
        let (pool, kind) =
            db::build_pool(&settings.database_url, settings.db_pool_size).expect("pool");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let keys = keyring(&settings);
        let app =
            Application::start(AppState::new(pool, kind, settings, keys), listener).expect("start");
        actix_web::rt::spawn(app.server);
        format!("http://127.0.0.1:{}", app.port)
    }

    pub fn conn(&self) -> db::PooledConn {
        self.pool.get().expect("conn")
    }

    /// Drops the triggers that keep the audit trail append-only, as someone with full rights
    /// on the database could, so a test can then tamper with it.
    pub fn drop_audit_triggers(&self) {
        let sql = match self.backend {
            Backend::Sqlite => {
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
                 DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;"
            }
            Backend::Postgres => {
                "DROP TRIGGER audit_log_append_only ON audit_log; \
                 DROP TRIGGER audit_log_no_truncate ON audit_log; \
                 DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints; \
                 DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints;"
            }
        };
        self.conn()
            .batch_execute(sql)
            .expect("drop the audit triggers");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in a fixture user and returns the access token.
    pub async fn token(&self, username: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.body);
        r.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("GET", path, token, &[], None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send("POST", path, token, &[], Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send("PATCH", path, token, &[], Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("DELETE", path, token, &[], None).await
    }

    /// A valid product body for enterprise A.
    pub fn product_body(&self, name: &str, gtin: Option<&str>) -> Value {
        serde_json::json!({
            "enterprise_id": self.fx.ent_a, "name": name, "brand": "测试牌", "gtin": gtin,
            "sector": "food", "category": "goji", "origin_region_code": "632800",
            "ingredients": [{"name": "枸杞", "content_percent": 100}],
            "suitable_for": "一般人群", "is_new_product": false
        })
    }

    /// Creates a product of enterprise A (food, goji, Haixi county 632822) and returns its id.
    pub async fn goji_product(&self, token: &str, name: &str) -> String {
        let mut body = self.product_body(name, None);
        body["origin_region_code"] = serde_json::json!("632822");
        let r = self.post("/api/v1/products", Some(token), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// The id of a seeded certification body issuing `kind`.
    pub async fn body_for(&self, kind: &str) -> String {
        let r = self
            .get(&format!("/api/v1/certification-bodies?kind={kind}"), None)
            .await;
        r.body["items"][0]["id"]
            .as_str()
            .expect("a body for the kind")
            .to_owned()
    }

    /// A green-food application of ent_a's for a new goji product, a draft, for a certificate
    /// issued ten days ago that ends `days` from today, with one document: (application, product).
    pub async fn green_food_draft(
        &self,
        product_name: &str,
        number: &str,
        days: u64,
    ) -> (String, String) {
        let a = self.token("ent_a").await;
        let product = self.goji_product(&a, product_name).await;
        let today = registry::clock::today();
        let body = serde_json::json!({
            "kind": "green_food", "enterprise_id": self.fx.ent_a, "product_id": product,
            "details": {"certificate_number": number,
                        "certification_body_id": self.body_for("green_food").await,
                        "issued_on": (today - chrono::Days::new(10)).to_string(),
                        "expires_on": (today + chrono::Days::new(days)).to_string(),
                        "scope": "枸杞干果"},
            "documents": [{"name": "绿色食品证书.pdf", "sha256": DOCUMENT_SHA, "size_bytes": 482113}]
        });
        let r = self.post("/api/v1/applications", Some(&a), &body).await;
        r.assert(201);
        (r.body["id"].as_str().unwrap().to_owned(), product)
    }

    /// ent_a submits its application.
    pub async fn submit_application(&self, id: &str) -> Resp {
        let a = self.token("ent_a").await;
        self.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&a),
            &serde_json::json!({}),
        )
        .await
    }

    /// Agriculture starts the review of a submitted application and decides it with `body`
    /// (`{"decision": "approve"}` …): the application after the decision.
    pub async fn agriculture_decides(&self, id: &str, body: Value) -> Value {
        let agri = self.token("agri").await;
        self.post(
            &format!("/api/v1/applications/{id}/start-review"),
            Some(&agri),
            &serde_json::json!({}),
        )
        .await
        .assert(200);
        let r = self
            .post(
                &format!("/api/v1/applications/{id}/decide"),
                Some(&agri),
                &body,
            )
            .await;
        r.assert(200);
        r.body
    }

    /// The id of a seeded GI by key.
    pub fn gi(&self, key: &str) -> String {
        use registry::db::schema::geographical_indications as g;
        g::table
            .filter(g::key.eq(key))
            .select(g::id)
            .first(&mut self.conn())
            .expect("seeded GI")
    }

    /// Audit entries for an entity, oldest first.
    pub fn audit_for(&self, entity_type: &str, entity_id: &str) -> Vec<registry::audit::AuditRow> {
        registry::audit::for_entity(&mut self.conn(), entity_type, entity_id).expect("audit")
    }
}

/// The ids of a list page's items, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `field`s of a 422 problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn assert(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }
}
