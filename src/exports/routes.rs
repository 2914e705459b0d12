//! `GET /api/v1/exports/{collection}`: a public list as one download, streamed.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::encode::{self, Format, Sheet};
use super::sources::Source;
use crate::enterprises::routes::ListEnterprisesQuery;
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::products::routes::ListProductsQuery;
use crate::records::routes::{ListCertsQuery, ListDesignationsQuery};
use crate::standards::routes::ListStandardsQuery;
use crate::state::AppState;

/// Exports are not cached anywhere: a copy kept even a minute could still show a record as
/// valid after its revocation, and the validators middleware would otherwise buffer the
/// whole body to hash it for an ETag.
const CACHE_CONTROL: &str = "no-store";

/// Reads the pages of `source` and sends each as it is encoded: memory stays flat in the size
/// of the register. The first page is read before answering, so a failure there is an error
/// answer rather than a cut-off download.
async fn export(
    state: web::Data<AppState>,
    source: Source,
    format: Format,
) -> ApiResult<HttpResponse> {
    let source = Arc::new(source);
    // The body is read after the handler returns, outside the request's replica marking.
    let public = crate::db::replicas::is_public_read();
    let filename = format!(
        "{}-{}.{}",
        source.name(),
        crate::clock::today().format("%Y%m%d"),
        format.extension()
    );
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if format == Format::Xlsx {
        let file = xlsx(&state, source, public).await?;
        return Ok(answer.streaming(file_chunks(file)));
    }
    let (items, next) = page(&state, &source, None, public).await?;
    let mut first = match format {
        Format::Csv => encode::csv_header(source.columns())?,
        _ => Vec::new(),
    };
    first.extend(encode_page(&source, format, &items)?);
    let body = futures_util::stream::unfold(
        (Some(first), next, state, source),
        move |(pending, next, state, source)| async move {
            if let Some(bytes) = pending {
                return Some((Ok(Bytes::from(bytes)), (None, next, state, source)));
            }
            let after = next?;
            let read = page(&state, &source, Some(after), public).await;
            let encoded =
                read.and_then(|(items, next)| Ok((encode_page(&source, format, &items)?, next)));
            match encoded {
                Ok((bytes, next)) => Some((Ok(Bytes::from(bytes)), (None, next, state, source))),
                Err(e) => {
                    // Too late for an error answer: the download is cut off (no final chunk).
                    tracing::warn!(error = %e, export = source.name(), "export stopped");
                    Some((Err(e), (None, None, state, source)))
                }
            }
        },
    );
    Ok(answer.streaming(body))
}

async fn page(
    state: &AppState,
    source: &Arc<Source>,
    after: Option<String>,
    public: bool,
) -> ApiResult<super::sources::Page> {
    let source = source.clone();
    // Large enough that round trips do not dominate, small enough that a page stays a few MB.
    let size = state.settings.export_page_size;
    crate::db::replicas::as_public_read(
        public,
        state.db(move |conn| source.page(conn, after, size)),
    )
    .await
}

fn encode_page(source: &Source, format: Format, items: &[serde_json::Value]) -> ApiResult<Vec<u8>> {
    match format {
        Format::Jsonl => encode::json_lines(items),
        _ => encode::csv_rows(source.columns(), items),
    }
}

/// A spreadsheet needs its whole sheet before its zip directory can be written: the rows go
/// to temporary files as they are read, and the finished file is streamed afterwards.
async fn xlsx(state: &AppState, source: Arc<Source>, public: bool) -> ApiResult<std::fs::File> {
    let size = state.settings.export_page_size;
    crate::db::replicas::as_public_read(
        public,
        state.db(move |conn| {
            let mut sheet = Sheet::new(source.name(), source.columns())?;
            let mut after = None;
            loop {
                let (items, next) = source.page(conn, after, size)?;
                sheet.append(&items)?;
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            sheet.finish()
        }),
    )
    .await
}

fn file_chunks(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> + 'static {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 256 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(ApiError::Internal(e.to_string())), None)),
            Err(e) => Some((Err(ApiError::Internal(e.to_string())), None)),
        }
    })
}

/// A spreadsheet file, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Spreadsheet(#[allow(dead_code)] Vec<u8>);

fn accept(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
}

/// Declares a collection's export: its query (the list's filters and `format`, no paging),
/// which becomes the list's own query so both parse it the same way, and its handler.
macro_rules! export_endpoint {
    (
        $fn:ident, $query:ident, $list:ident, $variant:ident, $path:literal,
        $summary:literal, { $($(#[$doc:meta])* $field:ident),+ $(,)? }
    ) => {
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $query {
            /// `csv` (the default), `xlsx` or `jsonl`; wins over `Accept`.
            #[param(example = "csv")]
            pub format: Option<String>,
            $($(#[$doc])* pub $field: Option<String>,)+
        }

        impl $query {
            fn list_query(&self) -> $list {
                $list {
                    $($field: self.$field.clone(),)+
                    ..Default::default()
                }
            }
        }

        #[doc = $summary]
        #[utoipa::path(
            get, path = concat!("/api/v1", $path), tag = "exports",
            params($query),
            responses(
                (status = 200, description = "Every item the public list shows with these filters, in id order, as a download (`Content-Disposition: attachment`). CSV: UTF-8 with a BOM, a header row, RFC 4180 quoting, lists joined by `; `, nested values as JSON. JSON Lines: one list item per line. XLSX: one sheet with a header row. `Cache-Control: no-store`.",
                    content(
                        (String = "text/csv; charset=utf-8"),
                        (String = "application/x-ndjson"),
                        (Spreadsheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                    ),
                    headers(("Content-Disposition" = String), ("Cache-Control" = String))),
                (status = 422, description = "A filter or `format` is invalid (`errors` names the field), or more rows than one spreadsheet holds (`export_too_large`)", body = Problem, content_type = "application/problem+json"),
                (status = 429, description = "Rate limit", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        pub async fn $fn(
            state: web::Data<AppState>,
            req: HttpRequest,
            q: web::Query<$query>,
        ) -> ApiResult<HttpResponse> {
            let mut errors = Errors::new();
            let format = Format::negotiate(&mut errors, q.format.as_deref(), accept(&req));
            let (filter, _) = q.list_query().parse(&mut errors);
            errors.finish()?;
            export(state, Source::$variant(filter), format).await
        }
    };
}

export_endpoint!(
    export_products, ExportProductsQuery, ListProductsQuery, Products, "/exports/products",
    "Export products (CSV, XLSX or JSON Lines)",
    {
        enterprise_id,
        /// `food`, `biomedicine`, `light_textile` or `ethnic_specialty`.
        sector,
        /// Origin, GB/T 2260; a prefecture matches its counties too.
        region_code,
        /// Text in the name or brand.
        q,
        /// `true` or `false`.
        is_new_product,
        /// Holding a current certificate of this kind.
        certification_kind,
        /// Holding an active designation of this kind.
        designation_kind,
        /// Declaring this standard (any spelling of its code).
        standard_code,
        /// Authorised to use this geographical indication's mark.
        geographical_indication_id,
        /// Launched on or after (YYYY-MM-DD).
        launched_from,
        /// Launched on or before (YYYY-MM-DD).
        launched_to,
    }
);

export_endpoint!(
    export_enterprises, ExportEnterprisesQuery, ListEnterprisesQuery, Enterprises, "/exports/enterprises",
    "Export enterprises (CSV, XLSX or JSON Lines)",
    {
        /// GB/T 2260 code; a prefecture matches its counties too.
        region_code,
        /// `food`, `biomedicine`, `light_textile` or `ethnic_specialty`.
        sector,
        /// The public sees active enterprises only.
        status,
        /// Text in the name.
        q,
    }
);

export_endpoint!(
    export_certifications, ExportCertsQuery, ListCertsQuery, Certifications, "/exports/certifications",
    "Export certificates (CSV, XLSX or JSON Lines)",
    {
        /// `green_food`, `organic` or `halal`.
        kind,
        /// `valid`, `suspended`, `revoked` or `expired`.
        status,
        enterprise_id,
        product_id,
        /// Origin of the product (a prefecture matches its counties).
        region_code,
        /// Only certificates whose validity covers this date (YYYY-MM-DD), not revoked.
        valid_on,
        /// Only records in force today that end within this many days (1-3650).
        expiring_within,
    }
);

export_endpoint!(
    export_designations, ExportDesignationsQuery, ListDesignationsQuery, Designations,
    "/exports/designations", "Export designations (CSV, XLSX or JSON Lines)",
    {
        /// `provincial_famous_brand`, `gi_product` …
        kind,
        /// `active`, `suspended`, `revoked` or `expired`.
        status,
        enterprise_id,
        product_id,
        geographical_indication_id,
        /// Region of the holder (a prefecture matches its counties).
        region_code,
        /// Only designations whose validity covers this date (YYYY-MM-DD), not revoked.
        valid_on,
        /// Only records in force today that end within this many days (1-3650).
        expiring_within,
    }
);

export_endpoint!(
    export_standards, ExportStandardsQuery, ListStandardsQuery, Standards, "/exports/standards",
    "Export the standards catalogue (CSV, XLSX or JSON Lines)",
    {
        /// Exact code in any spelling.
        code,
        /// `national_mandatory`, `national_recommended`, … `other`.
        level,
        /// `current`, `superseded` or `withdrawn`.
        status,
        /// Text in the code or title.
        q,
    }
);
