//! Exports: the public lists as CSV, XLSX and JSON Lines downloads, and signed snapshots that a
//! mirror loads and then keeps current from the change feed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::common::{each_backend, keyring, settings, TestApp};
use registry::exports::snapshot;
use registry::signing::PublicKey;

/// A download as bytes: status, headers, body.
async fn download(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let mut res = req.send().await.expect("request");
    let body = res.body().limit(64 * 1024 * 1024).await.expect("body");
    (res.status().as_u16(), res.headers().clone(), body.to_vec())
}

fn header(h: &actix_web::http::header::HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Every id of a list with these filters, through its pages.
async fn list_ids(app: &TestApp, collection: &str, filters: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/{collection}?limit=2&{filters}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&path, None).await;
        r.assert(200);
        ids.extend(crate::common::ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// Submitted, reviewed and approved by agriculture: the certificate's id.
async fn certified(app: &TestApp, product_name: &str, number: &str) -> String {
    let (id, _) = app.green_food_draft(product_name, number, 700).await;
    app.submit_application(&id).await.assert(200);
    let approved = app
        .agriculture_decides(&id, json!({"decision": "approve"}))
        .await;
    approved["record_id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn csv_jsonl_and_xlsx_exports_hold_the_rows_of_the_list() {
    // Pages of two rows: every export is read and sent in several pages.
    for backend in crate::common::backends() {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_EXPORT_PAGE_SIZE", "2")]).await;
        let a = app.token("ent_a").await;
        for name in ["导出枸杞一号", "导出枸杞, \"二号\"", "导出枸杞三号"] {
            app.goji_product(&a, name).await;
        }
        // A pending enterprise's product is not public: no export shows it.
        let c = app.token("ent_c").await;
        let mut hidden = app.product_body("待审企业产品", None);
        hidden["enterprise_id"] = json!(app.fx.ent_c);
        let hidden = app.post("/api/v1/products", Some(&c), &hidden).await;
        let hidden_id = hidden.body["id"].as_str().map(str::to_owned);
        certified(&app, "导出认证枸杞", "LB-18-2611016101").await;

        // q=导出
        let expected = list_ids(&app, "products", "sector=food&q=%E5%AF%BC%E5%87%BA").await;
        assert_eq!(expected.len(), 4, "three products and the certified one");

        // CSV: BOM, header, RFC 4180, the list's rows in its order.
        let (status, h, body) = download(
            &app,
            "/api/v1/exports/products?sector=food&q=%E5%AF%BC%E5%87%BA",
            &[],
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(header(&h, "content-type"), "text/csv; charset=utf-8");
        assert_eq!(header(&h, "cache-control"), "no-store");
        let today = registry::clock::today().format("%Y%m%d");
        assert_eq!(
            header(&h, "content-disposition"),
            format!("attachment; filename=\"products-{today}.csv\"")
        );
        assert!(body.starts_with(b"\xEF\xBB\xBF"), "a BOM first");
        let mut reader = csv::Reader::from_reader(&body[3..]);
        let columns: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            &columns[..4],
            ["id", "enterprise_id", "enterprise_name", "name"]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let csv_ids: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
        assert_eq!(csv_ids, expected);
        assert!(
            rows.iter().any(|r| &r[3] == "导出枸杞, \"二号\""),
            "quoted and read back"
        );
        let certs = columns.iter().position(|c| c == "certifications").unwrap();
        assert!(rows.iter().any(|r| &r[certs] == "green_food"));
        if let Some(hidden_id) = &hidden_id {
            assert!(!csv_ids.contains(hidden_id));
        }

        // JSON Lines, asked for by Accept: each line a list item with the same fields.
        let (status, h, body) = download(
            &app,
            "/api/v1/exports/products?sector=food&q=%E5%AF%BC%E5%87%BA",
            &[("Accept", "application/x-ndjson")],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "content-type"), "application/x-ndjson");
        let items: Vec<Value> = String::from_utf8(body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let jsonl_ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(jsonl_ids, expected);
        let listed = app
            .get(
                "/api/v1/products?sector=food&q=%E5%AF%BC%E5%87%BA&limit=1",
                None,
            )
            .await;
        assert_eq!(
            items[0], listed.body["items"][0],
            "the list's item, field for field"
        );

        // XLSX (the parameter wins over Accept): a zip that opens, with the same rows.
        let (status, h, body) = download(
            &app,
            "/api/v1/exports/products?sector=food&q=%E5%AF%BC%E5%87%BA&format=xlsx",
            &[("Accept", "text/csv")],
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(
            header(&h, "content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(header(&h, "content-disposition").ends_with(".xlsx\""));
        assert!(body.starts_with(b"PK"));
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(body)).expect("opens");
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let sheet: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(sheet[0], columns);
        let xlsx_ids: Vec<&str> = sheet[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(xlsx_ids, expected);

        // Every collection: no field of its items is missing from its columns.
        for collection in [
            "products",
            "enterprises",
            "certifications",
            "designations",
            "standards",
        ] {
            let (status, _, csv_body) =
                download(&app, &format!("/api/v1/exports/{collection}"), &[]).await;
            assert_eq!(status, 200, "{collection}");
            let mut reader = csv::Reader::from_reader(&csv_body[3..]);
            let columns: BTreeSet<String> = reader
                .headers()
                .unwrap()
                .iter()
                .map(str::to_owned)
                .collect();
            let csv_ids: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
            let (_, _, body) = download(
                &app,
                &format!("/api/v1/exports/{collection}?format=jsonl"),
                &[],
            )
            .await;
            let text = String::from_utf8(body).unwrap();
            let mut ids = Vec::new();
            for line in text.lines() {
                let item: Value = serde_json::from_str(line).unwrap();
                for key in item.as_object().unwrap().keys() {
                    assert!(columns.contains(key), "{collection}: no column for {key}");
                }
                ids.push(item["id"].as_str().unwrap().to_owned());
            }
            assert_eq!(ids, csv_ids, "{collection}");
            assert_eq!(ids, list_ids(&app, collection, "").await, "{collection}");
        }
        assert!(
            !list_ids(&app, "enterprises", "")
                .await
                .contains(&app.fx.ent_c),
            "the pending enterprise stays out"
        );

        // Bad filters and formats: 422 naming the field, before anything is sent.
        for (path, field) in [
            ("/api/v1/exports/products?sector=bogus", "sector"),
            ("/api/v1/exports/products?format=pdf", "format"),
            (
                "/api/v1/exports/certifications?valid_on=yesterday",
                "valid_on",
            ),
            (
                "/api/v1/exports/designations?expiring_within=0",
                "expiring_within",
            ),
            ("/api/v1/exports/enterprises?region_code=12", "region_code"),
            ("/api/v1/exports/standards?level=planetary", "level"),
        ] {
            let r = app.get(path, None).await;
            r.assert(422);
            assert_eq!(r.fields(), vec![field], "{path}");
        }
    }
}

/// A snapshot's files, loaded into maps by id.
fn load(dir: &Path) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut all = BTreeMap::new();
    for name in [
        "enterprises",
        "products",
        "standards",
        "certifications",
        "designations",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.jsonl"))).unwrap();
        let by_id: BTreeMap<String, Value> = text
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let id = v["id"]
                    .as_str()
                    .or_else(|| v["product"]["id"].as_str())
                    .unwrap()
                    .to_owned();
                (id, v)
            })
            .collect();
        all.insert(name.to_owned(), by_id);
    }
    all
}

fn collection(entity_type: &str) -> String {
    format!("{entity_type}s")
}

#[actix_web::test]
async fn a_mirror_loads_a_signed_snapshot_and_follows_the_feed_without_a_gap() {
    each_backend(|app: TestApp| async move {
        let a = app.token("ent_a").await;
        let cert = certified(&app, "镜像枸杞", "LB-18-2611016102").await;
        app.goji_product(&a, "镜像枸杞二号").await;
        let key = keyring(&settings(&app.db.url, &[])).current;

        // The export, as `registry export --to DIR` makes it.
        let first = tempfile::tempdir().unwrap();
        let dir = first.path().join("snap");
        let manifest = {
            let mut conn = app.conn();
            snapshot::write(&mut conn, &key, &dir, 2, &|l| eprintln!("{l}")).unwrap()
        };
        let head = app.get("/api/v1/changes?limit=1000", None).await;
        assert_eq!(
            head.body["next_cursor"].as_str().unwrap(),
            manifest.sequence.to_string(),
            "consistent with the feed's head"
        );
        let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "enterprises.jsonl",
                "products.jsonl",
                "standards.jsonl",
                "certifications.jsonl",
                "designations.jsonl"
            ]
        );

        // Hashes and signature, checked with the public key the JWKS endpoint serves.
        let jwks = app.get("/.well-known/jwks.json", None).await;
        let published: Vec<PublicKey> = jwks.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| PublicKey::from_x(k["x"].as_str()?))
            .collect();
        let (read, problems) = snapshot::verify(&dir, &published).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(read, manifest);
        let jws = std::fs::read_to_string(dir.join("manifest.jws")).unwrap();
        let [h, _, _] = jws.split('.').collect::<Vec<_>>()[..] else {
            panic!("compact JWS")
        };
        use base64::Engine;
        let h: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(h, json!({"alg": "EdDSA", "kid": key.kid()}));

        let mut mirror = load(&dir);
        for f in &manifest.files {
            let name = f.name.trim_end_matches(".jsonl");
            assert_eq!(mirror[name].len() as u64, f.count, "{name}");
        }
        assert!(!mirror["enterprises"].contains_key(&app.fx.ent_c));
        assert_eq!(mirror["enterprises"].len(), 2);
        assert!(!mirror["standards"].is_empty());
        // Each line is what its href answers.
        let now = app
            .get(&format!("/api/v1/certifications/{cert}"), None)
            .await;
        assert_eq!(mirror["certifications"][&cert], now.body);
        assert_eq!(mirror["certifications"][&cert]["status"], "valid");

        // Changes through the API.
        let agri = app.token("agri").await;
        app.post(
            &format!("/api/v1/certifications/{cert}/revoke"),
            Some(&agri),
            &json!({"reason": "抽检不合格"}),
        )
        .await
        .assert(200);
        let added = app.goji_product(&a, "镜像后新增枸杞").await;

        let feed = app
            .get(
                &format!("/api/v1/changes?since={}", manifest.sequence),
                None,
            )
            .await;
        feed.assert(200);
        let items = feed.body["items"].as_array().unwrap().clone();
        assert_eq!(items[0]["seq"], json!(manifest.sequence + 1), "no gap");
        let changed: BTreeSet<(String, String)> = items
            .iter()
            .map(|i| {
                (
                    i["entity_type"].as_str().unwrap().to_owned(),
                    i["entity_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            changed,
            BTreeSet::from([
                ("certification".to_owned(), cert.clone()),
                ("product".to_owned(), added.clone()),
            ])
        );

        // Applied to the mirror: each changed entity replaced by what its href answers.
        for i in &items {
            let r = app.get(i["href"].as_str().unwrap(), None).await;
            let table = mirror
                .get_mut(&collection(i["entity_type"].as_str().unwrap()))
                .unwrap();
            let id = i["entity_id"].as_str().unwrap().to_owned();
            match r.status.as_u16() {
                200 => {
                    table.insert(id, r.body);
                }
                404 => {
                    table.remove(&id);
                }
                s => panic!("{s} for {}", i["href"]),
            }
        }
        assert_eq!(mirror["certifications"][&cert]["status"], "revoked");

        // A second export agrees with the mirror on every changed entity.
        let second = tempfile::tempdir().unwrap();
        let manifest2 = {
            let mut conn = app.conn();
            snapshot::write(&mut conn, &key, second.path(), 1000, &|_| {}).unwrap()
        };
        assert_eq!(
            manifest2.sequence,
            items.last().unwrap()["seq"].as_i64().unwrap()
        );
        let fresh = load(second.path());
        for (entity_type, id) in &changed {
            let c = collection(entity_type);
            assert_eq!(fresh[&c].get(id), mirror[&c].get(id), "{c} {id}");
        }
        assert!(fresh["products"].contains_key(&added));

        // A snapshot never goes over another, and a changed file fails the check.
        let refused = {
            let mut conn = app.conn();
            snapshot::write(&mut conn, &key, second.path(), 1000, &|_| {})
        };
        assert!(refused.is_err());
        let path = dir.join("certifications.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"valid\"", "\"suspended\"")).unwrap();
        let (_, problems) = snapshot::verify(&dir, &published).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("certifications.jsonl: SHA-256")),
            "{problems:?}"
        );
        let other = registry::signing::SigningKey::generate();
        let (_, problems) = snapshot::verify(second.path(), &[other.public().clone()]).unwrap();
        assert!(
            problems.iter().any(|p| p.contains("unknown key")),
            "{problems:?}"
        );
    })
    .await;
}
