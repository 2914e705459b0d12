//! Bulk imports: products of an enterprise and historical designations and certificates, from
//! CSV or XLSX, as
//! jobs (IMP-1 … IMP-6 in docs/RULES.md).

use serde_json::Value;

use crate::common::*;

const HEADER: &str = "name,brand,gtin,sector,category,origin_region_code,ingredients,suitable_for,is_new_product,launched_on";

async fn import(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Resp {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/imports?{query}")))
        .insert_header(("Content-Type", content_type));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req.send_body(body).await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

/// Follows a job until it is done or failed.
async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let r = app.get(&format!("/api/v1/imports/{id}"), Some(token)).await;
        r.assert(200);
        if matches!(r.body["status"].as_str(), Some("done" | "failed")) {
            return r.body;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

async fn import_csv(app: &TestApp, token: &str, query: &str, csv: &str) -> Value {
    let r = import(app, Some(token), query, "text/csv", csv.as_bytes().to_vec()).await;
    r.assert(202);
    assert_eq!(r.body["status"], "queued");
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/imports/{id}")
    );
    finished(app, token, &id).await
}

fn product_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use registry::db::schema::products;
    products::table
        .filter(products::enterprise_id.eq(&app.fx.ent_a))
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

fn audit_entries(app: &TestApp) -> i64 {
    registry::audit::head_seq(&mut app.conn()).unwrap()
}

fn goji_csv() -> String {
    format!(
        "\u{feff}{HEADER}\n\
         雪域枸杞原浆,红果源,{},food,goji,632800,枸杞:100,一般人群,true,2024-05-01\n\
         柴达木黑枸杞,红果源,{},food,goji,632822,黑枸杞：99.5%; 水,,否,\n\
         \"枸杞干果, 特级\",高原红,,food,goji,632800,枸杞,,false,\n",
        gtin("693698380101"),
        gtin("693698380102"),
    )
}

#[actix_rt::test]
async fn an_enterprise_imports_products_and_importing_again_changes_nothing() {
    each_backend(|app| async move {
        let t = app.token("ent_a").await;
        let before = product_count(&app);
        let job = import_csv(&app, &t, "kind=products&file_name=goji.csv", &goji_csv()).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(
            (job["total_rows"].as_i64(), job["processed_rows"].as_i64()),
            (Some(3), Some(3))
        );
        assert_eq!(
            (job["created"].as_i64(), job["unchanged"].as_i64()),
            (Some(3), Some(0))
        );
        assert_eq!(job["enterprise_id"], app.fx.ent_a.as_str());
        assert_eq!(product_count(&app), before + 3);
        // As if created through the API: validated fields, search, publication, audit.
        let g = gtin("693698380102");
        let p = app
            .get(&format!("/api/v1/products/by-gtin/{g}"), None)
            .await;
        p.assert(200);
        assert_eq!(
            p.body["ingredients"],
            serde_json::json!([{"name": "黑枸杞", "content_percent": 99.5}, {"name": "水"}])
        );
        assert_eq!(p.body["origin_region_code"], "632822");
        let id = p.body["id"].as_str().unwrap().to_owned();
        let found = app
            .get("/api/v1/products?q=%E9%BB%91%E6%9E%B8%E6%9D%9E", None)
            .await;
        assert!(ids(&found.body).contains(&id), "{}", found.body);
        let feed = app.get("/api/v1/changes?limit=100", None).await;
        assert!(feed.body.to_string().contains(&id), "{}", feed.body);
        let audit = app.audit_for("product", &id);
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "product.create");
        assert!(audit[0].actor_label.ends_with(":ent_a"));
        assert!(
            registry::audit::verify_chain(&mut app.conn())
                .unwrap()
                .intact
        );

        let seq = audit_entries(&app);
        let again = import_csv(&app, &t, "kind=products", &goji_csv()).await;
        assert_eq!(again["status"], "done", "{again}");
        assert_eq!(
            (again["created"].as_i64(), again["unchanged"].as_i64()),
            (Some(0), Some(3))
        );
        assert_eq!(product_count(&app), before + 3);
        assert_eq!(audit_entries(&app), seq, "nothing was written");
    })
    .await;
}

#[actix_rt::test]
async fn bad_rows_are_reported_by_row_column_and_code_and_nothing_is_written() {
    each_backend(|app| async move {
        let t = app.token("ent_a").await;
        let before = (product_count(&app), audit_entries(&app));
        let good = gtin("693698380201");
        let csv = format!(
            "{HEADER}\n\
             好枸杞,红果源,{good},food,goji,632800,枸杞:100,,false,\n\
             坏条码,红果源,6936983802019,food,goji,632800,枸杞:100,,false,\n\
             ,,,,,,,,,\n\
             错类别,红果源,,food,carpet,632800,枸杞:abc,,false,\n\
             新品无日期,红果源,,light_textile,goji,999999,,,true,\n\
             重复,红果源,{good},food,goji,632800,枸杞:100,,false,\n"
        );
        let job = import_csv(&app, &t, "kind=products", &csv).await;
        assert_eq!(job["status"], "failed", "{job}");
        assert_eq!(job["invalid_rows"], 4);
        let errors: Vec<(i64, String, String)> = job["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["row"].as_i64().unwrap(),
                    e["column"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let has = |row: i64, column: &str, code: &str| {
            assert!(
                errors.contains(&(row, column.to_owned(), code.to_owned())),
                "row {row} {column} {code} missing from {errors:?}"
            )
        };
        has(3, "gtin", "invalid_check_digit");
        has(5, "ingredients", "invalid_value");
        has(6, "ingredients", "required");
        has(6, "launched_on", "required");
        has(7, "gtin", "duplicate_in_file");
        // Row 5's category is checked once its ingredients parse; row 6's references likewise.
        assert!(errors.iter().all(|(r, _, _)| [3, 5, 6, 7].contains(r)), "{errors:?}");
        assert_eq!((product_count(&app), audit_entries(&app)), before);

        // The database's checks name the row too.
        let csv = format!("{HEADER}\n错类别,红果源,,food,carpet,632800,枸杞,,false,\n未知地区,红果源,,food,goji,639999,枸杞,,false,\n");
        let job = import_csv(&app, &t, "kind=products", &csv).await;
        assert_eq!(job["status"], "failed");
        assert_eq!(job["errors"][0]["row"], 2);
        assert_eq!(job["errors"][0]["code"], "category_not_in_sector");
        assert_eq!(job["errors"][1]["row"], 3);
        assert_eq!(job["errors"][1]["code"], "unknown_region");

        // A header the importer does not know is refused at once.
        let r = import(&app, Some(&t), "kind=products", "text/csv", b"name,colour\nx,y\n".to_vec()).await;
        r.assert(422);
        let fields = r.fields();
        assert!(fields.contains(&"file.colour".to_owned()) && fields.contains(&"file.brand".to_owned()), "{fields:?}");
        let r = import(&app, Some(&t), "kind=products", "application/json", b"{}".to_vec()).await;
        r.assert(422);
        assert_eq!(r.fields(), ["content_type"]);
    })
    .await;
}

#[actix_rt::test]
async fn another_enterprise_cannot_import_into_it_and_jobs_are_private() {
    each_backend(|app| async move {
        let a = app.token("ent_a").await;
        let b = app.token("ent_b").await;
        let q = format!("kind=products&enterprise_id={}", app.fx.ent_a);
        let r = import(&app, Some(&b), &q, "text/csv", goji_csv().into_bytes()).await;
        r.assert(404);
        let r = import(&app, None, &q, "text/csv", goji_csv().into_bytes()).await;
        r.assert(401);
        let agri = app.token("agri").await;
        import(&app, Some(&agri), &q, "text/csv", goji_csv().into_bytes())
            .await
            .assert(403);
        // Market regulation may import naming the enterprise.
        let market = app.token("market").await;
        let r = import(&app, Some(&market), &q, "text/csv", goji_csv().into_bytes()).await;
        r.assert(202);
        let job = finished(&app, &market, r.body["id"].as_str().unwrap()).await;
        assert_eq!(job["created"], 3, "{job}");

        let r = import(
            &app,
            Some(&a),
            "kind=products",
            "text/csv",
            goji_csv().into_bytes(),
        )
        .await;
        r.assert(202);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let job = finished(&app, &a, &id).await;
        assert_eq!(job["unchanged"], 3);
        let path = format!("/api/v1/imports/{id}");
        app.get(&path, Some(&b)).await.assert(404);
        app.get(&path, Some(&agri)).await.assert(404);
        app.get(&path, Some(&market)).await.assert(404);
        app.get(&path, None).await.assert(401);
        app.get(&path, Some(&app.token("admin").await))
            .await
            .assert(200);
        app.get("/api/v1/imports/nope", Some(&a)).await.assert(404);
    })
    .await;
}

#[actix_rt::test]
async fn an_xlsx_file_imports_like_a_csv() {
    each_backend(|app| async move {
        let t = app.token("ent_a").await;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in [
            "Name",
            "brand",
            "gtin",
            "sector",
            "category",
            "origin_region_code",
            "ingredients",
            "launched_on",
            "is_new_product",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        let g: f64 = gtin("693698380301").parse().unwrap();
        sheet.write_string(1, 0, "表格枸杞").unwrap();
        sheet.write_string(1, 1, "红果源").unwrap();
        // A GTIN typed into a number cell reads as its digits.
        sheet.write_number(1, 2, g).unwrap();
        sheet.write_string(1, 3, "food").unwrap();
        sheet.write_string(1, 4, "goji").unwrap();
        sheet.write_string(1, 5, "632800").unwrap();
        sheet.write_string(1, 6, "枸杞:100").unwrap();
        sheet.write_string(1, 7, "2023-03-01").unwrap();
        sheet.write_boolean(1, 8, true).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let r = import(
            &app,
            Some(&t),
            "kind=products",
            registry::imports::table::XLSX_TYPE,
            bytes,
        )
        .await;
        r.assert(202);
        let job = finished(&app, &t, r.body["id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["created"], 1);
        let p = app
            .get(
                &format!("/api/v1/products/by-gtin/{}", gtin("693698380301")),
                None,
            )
            .await;
        p.assert(200);
        assert_eq!(p.body["launched_on"], "2023-03-01");
        assert_eq!(p.body["is_new_product"], true);
    })
    .await;
}

#[actix_rt::test]
async fn a_market_regulator_imports_historical_titles_which_read_as_expired() {
    each_backend(|app| async move {
        let market = app.token("market").await;
        let holder = uscc("632800", "MA0000001");
        let csv = format!(
            "kind,number,holder_uscc,product_name,granted_year,valid_from,valid_until\n\
             national_famous_brand,zgmp-2005-0001,{holder},,2005,2005-09-01,2008-08-31\n\
             provincial_famous_trademark,QHZS-2010-0007,{holder},,2010,2010-01-01,2013-12-31\n"
        );
        let job = import_csv(&app, &market, "kind=designations", &csv).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["created"], 2);
        let v = app.get("/api/v1/verify/ZGMP-2005-0001", None).await;
        v.assert(200);
        assert_eq!(v.body["status"], "expired", "{}", v.body);
        let live = app
            .get(
                "/api/v1/designations?kind=national_famous_brand&status=active",
                None,
            )
            .await;
        assert!(ids(&live.body).is_empty(), "{}", live.body);
        let all = app
            .get("/api/v1/designations?kind=national_famous_brand", None)
            .await;
        let id = ids(&all.body)[0].clone();
        let d = app.get(&format!("/api/v1/designations/{id}"), None).await;
        assert_eq!(
            d.body["history"][0]["reason"],
            registry::imports::historical::REASON
        );
        assert_eq!(
            app.audit_for("designation", &id)[0].action,
            "designation.register"
        );

        // Again: nothing changes.
        let job = import_csv(&app, &market, "kind=designations", &csv).await;
        assert_eq!(
            (job["created"].as_i64(), job["unchanged"].as_i64()),
            (Some(0), Some(2))
        );

        // A title still in force is not history; another agency's kind is refused per row.
        let agri = app.token("agri").await;
        let csv = format!(
            "kind,number,holder_uscc,granted_year,valid_from,valid_until\n\
             national_famous_brand,ZGMP-2006-0002,{holder},2006,2006-01-01,2009-01-01\n"
        );
        let job = import_csv(&app, &agri, "kind=designations", &csv).await;
        assert_eq!(job["status"], "failed");
        assert_eq!(job["errors"][0]["code"], "not_your_agency");
        let csv = format!(
            "kind,number,holder_uscc,granted_year,valid_from,valid_until\n\
             national_famous_brand,ZGMP-2006-0003,{holder},2006,2006-01-01,2099-01-01\n"
        );
        let job = import_csv(&app, &market, "kind=designations", &csv).await;
        assert_eq!(job["errors"][0]["code"], "still_valid", "{job}");
        let ent = app.token("ent_a").await;
        import(
            &app,
            Some(&ent),
            "kind=designations",
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .assert(403);
    })
    .await;
}

#[actix_rt::test]
async fn an_agency_imports_historical_certificates_checked_like_its_own() {
    each_backend(|app| async move {
        let agri = app.token("agri").await;
        let ent = app.token("ent_a").await;
        app.goji_product(&ent, "历史绿色枸杞").await;
        let holder = uscc("632800", "MA0000001");
        let bodies = app
            .get("/api/v1/certification-bodies?kind=green_food", None)
            .await;
        let key = bodies.body["items"][0]["key"].as_str().unwrap().to_owned();
        let organic_body = app.body_for("organic").await;
        let pending = uscc("630200", "MA0000003");
        let header = "kind,certificate_number,certification_body,holder_uscc,product_name,scope,issued_on,expires_on";
        let csv = format!(
            "{header}\n\
             green_food,LB-18-1501010001A,{key},{holder},历史绿色枸杞,枸杞干果,2015-01-10,2018-01-09\n\
             green_food,LB-18-1801010002A,{key},{holder},历史绿色枸杞,枸杞干果,2018-01-10,2021-01-09\n"
        );
        let job = import_csv(&app, &agri, "kind=certifications", &csv).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["created"], 2);
        let v = app.get("/api/v1/verify/LB-18-1501010001A", None).await;
        v.assert(200);
        assert_eq!(v.body["status"], "expired", "{}", v.body);
        let live = app
            .get("/api/v1/certifications?kind=green_food&status=valid", None)
            .await;
        assert!(ids(&live.body).is_empty(), "{}", live.body);
        let all = app
            .get("/api/v1/certifications?kind=green_food", None)
            .await;
        let id = ids(&all.body)[0].clone();
        let c = app.get(&format!("/api/v1/certifications/{id}"), None).await;
        assert_eq!(
            c.body["history"][0]["reason"],
            registry::imports::historical::REASON
        );
        assert_eq!(
            app.audit_for("certification", &id)[0].action,
            "certification.register"
        );
        // Again: nothing changes.
        let job = import_csv(&app, &agri, "kind=certifications", &csv).await;
        assert_eq!(
            (job["created"].as_i64(), job["unchanged"].as_i64()),
            (Some(0), Some(2))
        );

        // Each bad row is reported with its column and code, and nothing is written.
        let before = audit_entries(&app);
        let csv = format!(
            "{header}\n\
             green_food,LB-18-1901010003A,{organic_body},{holder},历史绿色枸杞,枸杞,2019-01-10,2022-01-09\n\
             green_food,LB-18-1901010004A,{key},{holder},,枸杞,2019-01-10,2022-01-09\n\
             green_food,LB-18-2501010005A,{key},{holder},历史绿色枸杞,枸杞,2025-01-10,2099-01-09\n\
             national_famous_brand,LB-18-1901010006A,{key},{holder},历史绿色枸杞,枸杞,2019-01-10,2022-01-09\n\
             green_food,LB-18-1901010007A,{key},{holder},历史绿色枸杞,,2019-01-10,2022-01-09\n\
             green_food,LB-18-1901010009A,{key},{holder},历史绿色枸杞,枸杞,2019-01-10,2019-01-10\n\
             green_food,LB-18-1901010010A,{key},{pending},,枸杞,2019-01-10,2022-01-09\n"
        );
        let job = import_csv(&app, &agri, "kind=certifications", &csv).await;
        assert_eq!(job["status"], "failed");
        let found: Vec<(i64, String, String)> = job["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["row"].as_i64().unwrap(),
                    e["column"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for want in [
            (2, "certification_body", "body_not_for_kind"),
            (3, "product_gtin", "required"),
            (4, "expires_on", "still_valid"),
            (5, "kind", "not_a_certification"),
            (6, "scope", "required"),
            (7, "expires_on", "ends_before_start"),
            (8, "holder_uscc", "enterprise_not_active"),
        ] {
            assert!(
                found.contains(&(want.0, want.1.to_owned(), want.2.to_owned())),
                "{want:?} in {found:?}"
            );
        }
        assert_eq!(audit_entries(&app), before);

        // Another agency's kind is refused per row; an enterprise may not load certificates.
        let market = app.token("market").await;
        let csv = format!(
            "{header}\n\
             green_food,LB-18-1901010008A,{key},{holder},历史绿色枸杞,枸杞,2019-01-10,2022-01-09\n"
        );
        let job = import_csv(&app, &market, "kind=certifications", &csv).await;
        assert_eq!(job["errors"][0]["code"], "not_your_agency", "{job}");
        import(
            &app,
            Some(&ent),
            "kind=certifications",
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .assert(403);
    })
    .await;
}
