//! Pages anyone may open: `/` (search and a verification box), `/v/{number}` (the verification
//! page) and its QR code, `/p/{id}` (a product, with schema.org JSON-LD), `/gi/{id}`.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::i18n::Tr;
use super::{path_segment, public_base, shown_time, Reader};
use crate::auth::Action;
use crate::domain::{ApplicationKind, ProductStatus, RecordNumber, RecordStatus, Sector};
use crate::error::{ApiError, Errors};
use crate::gis::repo::GiDetail;
use crate::products::profile::ProductProfile;
use crate::products::routes::{ListProductsQuery, ProductListItem};
use crate::state::AppState;
use crate::verify::Verification;

#[get("/static/registry.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/registry.css"))
}

#[get("/static/console.js")]
pub async fn console_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/console.js"))
}

#[derive(askama::Template)]
#[template(path = "web/home.html")]
struct HomePage {
    t: Tr,
    form: FormValues,
    sectors: Vec<(&'static str, &'static str)>,
    certification_kinds: Vec<(&'static str, &'static str)>,
    searched: bool,
    errors: Vec<String>,
    items: Vec<ProductListItem>,
    next_href: Option<String>,
}

/// What the reader typed, shown back in the form.
#[derive(Default)]
struct FormValues {
    q: String,
    sector: String,
    region_code: String,
    certification_kind: String,
}

/// The search form reads its query as the API does (`ListProductsQuery::parse`); an empty field
/// of the form means "any".
#[get("/")]
pub async fn home(
    state: web::Data<AppState>,
    reader: Reader,
    query: web::Query<ListProductsQuery>,
) -> HttpResponse {
    let mut form = query.into_inner();
    for field in [
        &mut form.q,
        &mut form.sector,
        &mut form.region_code,
        &mut form.certification_kind,
        &mut form.designation_kind,
        &mut form.cursor,
    ] {
        if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *field = None;
        }
    }
    let t = reader.t;
    let searched = form.q.is_some()
        || form.sector.is_some()
        || form.region_code.is_some()
        || form.certification_kind.is_some()
        || form.designation_kind.is_some();
    let mut page = HomePage {
        t,
        form: FormValues::default(),
        sectors: Sector::ALL
            .iter()
            .map(|s| (s.as_str(), t.sector(s)))
            .collect(),
        certification_kinds: [
            ApplicationKind::GreenFood,
            ApplicationKind::Organic,
            ApplicationKind::Halal,
        ]
        .iter()
        .map(|k| (k.as_str(), t.kind(k)))
        .collect(),
        searched,
        errors: Vec::new(),
        items: Vec::new(),
        next_href: None,
    };
    if searched {
        let mut errors = Errors::new();
        let (filter, request) = form.parse(&mut errors);
        match errors.finish() {
            Err(ApiError::Validation(fields)) => {
                page.errors = fields.into_iter().map(|f| f.message).collect();
            }
            Err(other) => return reader.failure(other),
            Ok(()) => {
                let vis = crate::auth::policy::visibility(None);
                let loaded = state
                    .db(move |conn| {
                        let rows = crate::products::repo::list(conn, &vis, &filter, &request)?;
                        let (rows, next) = request.finish(rows, |r| &r.id);
                        let extras = crate::products::repo::list_extras(conn, &rows)?;
                        Ok((ProductListItem::page(&rows, &extras), next))
                    })
                    .await;
                match loaded {
                    Ok((items, next)) => {
                        page.items = items;
                        page.next_href = next.map(|cursor| {
                            let next_form = ListProductsQuery {
                                cursor: Some(cursor),
                                ..form.clone()
                            };
                            format!("/?{}", query_string(&next_form))
                        });
                    }
                    Err(e) => return reader.failure(e),
                }
            }
        }
    }
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    page.form = FormValues {
        q: value(&form.q),
        sector: value(&form.sector),
        region_code: value(&form.region_code),
        certification_kind: value(&form.certification_kind),
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    reader.page(status, &page)
}

/// The search fields of a query, for the next page's link.
fn query_string(q: &ListProductsQuery) -> String {
    let pairs = [
        ("q", &q.q),
        ("sector", &q.sector),
        ("region_code", &q.region_code),
        ("certification_kind", &q.certification_kind),
        ("designation_kind", &q.designation_kind),
        ("cursor", &q.cursor),
    ];
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref().map(|v| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize)]
pub struct VerifyForm {
    number: Option<String>,
}

/// The verification box on `/` sends `?number=`: the page for it is `/v/{number}`.
#[get("/v")]
pub async fn verify_form(form: web::Query<VerifyForm>) -> HttpResponse {
    let to = match form.number.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!("/v/{}", path_segment(n)),
        _ => "/".to_owned(),
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// What the verification page shows of a found record.
pub(super) struct Found {
    pub(super) status: &'static str,
    pub(super) status_key: String,
    pub(super) explain_key: String,
    /// A sign that says the status without colour.
    pub(super) mark: &'static str,
    pub(super) kind: ApplicationKind,
    pub(super) holder_name: String,
    pub(super) uscc: String,
    pub(super) product: Option<(String, String)>,
    pub(super) scope: Option<String>,
    pub(super) valid_from: String,
    pub(super) valid_until: Option<String>,
    pub(super) differs: Vec<String>,
    pub(super) history: Vec<HistoryLine>,
}

pub(super) struct HistoryLine {
    pub(super) at: String,
    pub(super) at_iso: String,
    pub(super) from_key: Option<String>,
    pub(super) to_key: String,
    pub(super) reason: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/verify.html")]
struct VerifyPage {
    t: Tr,
    number: String,
    number_path: String,
    found: Option<Found>,
    /// When the number is used by several kinds: a link per kind.
    ambiguous: Vec<(String, &'static str)>,
    checked_at: String,
    checked_at_iso: String,
}

#[derive(Deserialize)]
pub struct VerifyPageQuery {
    kind: Option<String>,
}

/// The verification page: the same answer as `GET /api/v1/verify/{number}`, in words.
#[get("/v/{number}")]
pub async fn verify_page(
    state: web::Data<AppState>,
    reader: Reader,
    number: web::Path<String>,
    q: web::Query<VerifyPageQuery>,
) -> HttpResponse {
    let t = reader.t;
    let typed = number.into_inner();
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| ApplicationKind::parse(k).ok());
    let canonical = RecordNumber::parse(&typed).map(|n| n.to_string());
    let shown = canonical.clone().unwrap_or_else(|_| typed.clone());
    let mut page = VerifyPage {
        t,
        number_path: path_segment(&shown),
        number: shown,
        found: None,
        ambiguous: Vec::new(),
        checked_at: String::new(),
        checked_at_iso: String::new(),
    };
    (page.checked_at, page.checked_at_iso) = shown_time(chrono::Utc::now());
    let Ok(number) = canonical else {
        return reader.page(StatusCode::NOT_FOUND, &page);
    };
    let answer = state
        .db(move |conn| {
            match crate::verify::verify_number(conn, &number, kind, None) {
                Ok(v) => {
                    let history =
                        crate::records::history::history(conn, v.record_type, &v.record_id)?;
                    Ok(Ok((v, history)))
                }
                // Used by several kinds: offer each kind that answers.
                Err(ApiError::Conflict { .. }) => {
                    let mut kinds = Vec::new();
                    for k in ApplicationKind::ALL {
                        if crate::verify::verify_number(conn, &number, Some(*k), None).is_ok() {
                            kinds.push(*k);
                        }
                    }
                    Ok(Err(kinds))
                }
                Err(e) => Err(e),
            }
        })
        .await;
    let status = match answer {
        Ok(Ok((v, history))) => {
            (page.checked_at, page.checked_at_iso) = shown_time(v.checked_at);
            page.found = Some(found(v, history));
            StatusCode::OK
        }
        Ok(Err(kinds)) => {
            page.ambiguous = kinds
                .into_iter()
                .map(|k| {
                    (
                        format!("/v/{}?kind={}", page.number_path, k.as_str()),
                        t.kind(&k),
                    )
                })
                .collect();
            StatusCode::CONFLICT
        }
        Err(ApiError::NotFound) => StatusCode::NOT_FOUND,
        Err(e) => return reader.failure(e),
    };
    let mut res = reader.page(status, &page);
    // The page says when it was answered: no cache may keep it.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

pub(super) fn found(v: Verification, history: Vec<crate::records::StatusChangeRow>) -> Found {
    let mark = match v.status {
        RecordStatus::Valid | RecordStatus::Active => "✓",
        RecordStatus::Suspended => "!",
        RecordStatus::Revoked => "✗",
        RecordStatus::Expired => "—",
        RecordStatus::NotYetValid => "…",
    };
    Found {
        status: v.status.as_str(),
        status_key: format!("status.{}", v.status),
        explain_key: format!("status_explain.{}", v.status),
        mark,
        kind: v.kind,
        holder_name: v.holder.name,
        uscc: v.holder.uscc,
        product: v
            .product
            .map(|p| (format!("/p/{}", path_segment(&p.id)), p.name)),
        scope: v.certified.scope.clone(),
        valid_from: v.valid_from.to_string(),
        valid_until: v.valid_until.map(|d| d.to_string()),
        differs: v.current_differs,
        history: history
            .into_iter()
            .map(|h| HistoryLine {
                at: h.at.format("%Y-%m-%d %H:%M").to_string(),
                at_iso: crate::clock::to_utc(h.at)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                from_key: h.from_status.map(|s| format!("status.{s}")),
                to_key: format!("status.{}", h.to_status),
                reason: h.reason,
            })
            .collect(),
    }
}

/// A QR code of the verification page's absolute address, for labels and certificates.
#[get("/v/{number}/qr.svg")]
pub async fn verify_qr(
    req: HttpRequest,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> HttpResponse {
    let Ok(number) = RecordNumber::parse(&number) else {
        return HttpResponse::NotFound().finish();
    };
    let url = format!(
        "{}/v/{}",
        public_base(&req, state.settings.public_url.as_deref()),
        path_segment(&number.to_string())
    );
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(
                code.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(200, 200)
                    .quiet_zone(true)
                    .build(),
            ),
        Err(e) => {
            tracing::warn!(error = %e, "no QR code for this address");
            HttpResponse::UnprocessableEntity().finish()
        }
    }
}

#[derive(askama::Template)]
#[template(path = "web/product.html")]
struct ProductPage {
    t: Tr,
    p: ProductProfile,
    status_key: &'static str,
    json_ld: String,
    /// The origin region's names, Chinese and English.
    origin: Option<(String, String)>,
}

/// A product's page: what its label says, the standards it executes, and its live records with
/// links to their verification pages; schema.org JSON-LD for search engines and shopping apps.
#[get("/p/{id}")]
pub async fn product_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: Reader,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    let profile = state
        .db(move |conn| {
            let row = crate::products::routes::load_checked(conn, None, &id, Action::Read)?;
            let origin = crate::reference::repo::find_region(conn, &row.origin_region_code)?;
            Ok((crate::products::profile::build(conn, row)?, origin))
        })
        .await;
    let (p, origin) = match profile {
        Ok(found) => found,
        Err(e) => return reader.failure(e),
    };
    let base = public_base(&req, state.settings.public_url.as_deref());
    let page = ProductPage {
        t: reader.t,
        status_key: match p.product.status {
            ProductStatus::Active => "product.status_active",
            ProductStatus::Discontinued => "product.status_discontinued",
        },
        json_ld: json_ld(&p, &base, reader.t),
        origin: origin.map(|r| (r.name_zh, r.name_en)),
        p,
    };
    reader.page(StatusCode::OK, &page)
}

/// schema.org `Product` with `hasCertification`, safe inside `<script>` (no `<` survives).
fn json_ld(p: &ProductProfile, base: &str, t: Tr) -> String {
    let mut certs: Vec<serde_json::Value> = p
        .certifications
        .iter()
        .map(|c| {
            serde_json::json!({
                "@type": "Certification",
                "name": t.kind(&c.kind),
                "certificationIdentification": c.certificate_number,
                "certificationStatus": "CertificationActive",
                "validFrom": c.issued_on,
                "expires": c.expires_on,
                "url": format!("{base}/v/{}", path_segment(&c.certificate_number)),
            })
        })
        .collect();
    certs.extend(p.designations.iter().map(|d| {
        serde_json::json!({
            "@type": "Certification",
            "name": t.kind(&d.kind),
            "certificationIdentification": d.number,
            "certificationStatus": "CertificationActive",
            "validFrom": d.valid_from,
            "expires": d.valid_until,
            "url": format!("{base}/v/{}", path_segment(&d.number)),
        })
    }));
    let doc = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": format!("{base}/p/{}", p.product.id),
        "url": format!("{base}/p/{}", p.product.id),
        "name": p.product.name,
        "brand": {"@type": "Brand", "name": p.product.brand},
        "gtin13": p.product.gtin,
        "category": p.product.category,
        "manufacturer": {
            "@type": "Organization",
            "name": p.enterprise.name,
            "identifier": p.enterprise.uscc,
        },
        "hasCertification": certs,
    });
    doc.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[derive(askama::Template)]
#[template(path = "web/gi.html")]
struct GiPage {
    t: Tr,
    gi: GiDetail,
    system_key: String,
}

/// A geographical indication: its protected area, defining standard and authorised users.
#[get("/gi/{id}")]
pub async fn gi_page(
    state: web::Data<AppState>,
    reader: Reader,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    match state
        .db(move |conn| crate::gis::repo::detail(conn, &id))
        .await
    {
        Ok(gi) => {
            let page = GiPage {
                t: reader.t,
                system_key: format!("gi.system_{}", gi.gi.system),
                gi,
            };
            reader.page(StatusCode::OK, &page)
        }
        Err(e) => reader.failure(e),
    }
}
