use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, StandardChanges, StandardFilter, StandardView};
use super::service::{self, NewStandard};
use crate::audit::{self, AuditCtx, Change};
use crate::auth::{check, Action, Caller, Target};
use crate::db::write_tx;
use crate::domain::{StandardCode, StandardLevel, StandardStatus};
use crate::error::{ApiError, ApiResult, Errors, Problem};
use crate::http::{check_if_match, created_versioned, if_match, ok_versioned, parse_param, Json};
use crate::pagination::PageRequest;
use crate::state::AppState;

crate::page_type!(StandardPage, StandardView);

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListStandardsQuery {
    /// Exact code in any spelling (`GB/T 19630—2019` finds `GB/T 19630-2019`).
    pub code: Option<String>,
    /// `national_mandatory`, `national_recommended`, `national_guidance`, `industry`, `local`, `group`,
    /// `enterprise`, `international`, `foreign` or `other`.
    pub level: Option<String>,
    /// `current`, `superseded` or `withdrawn`.
    pub status: Option<String>,
    /// Text in the code or title.
    pub q: Option<String>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListStandardsQuery {
    /// The filter and page asked for, each bad value named in `errors` (shared with the export).
    pub fn parse(&self, errors: &mut Errors) -> (StandardFilter, PageRequest) {
        let page = PageRequest::parse(errors, self.limit.as_deref(), self.cursor.as_deref());
        let filter = StandardFilter {
            code: self
                .code
                .as_deref()
                .and_then(|c| errors.take("code", StandardCode::parse(c)))
                .map(|c| c.to_string()),
            level: parse_param::<StandardLevel>(errors, "level", self.level.as_deref()),
            status: parse_param::<StandardStatus>(errors, "status", self.status.as_deref()),
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
        };
        (filter, page)
    }
}

/// Search the standards catalogue
#[utoipa::path(
    get, path = "/api/v1/standards", tag = "standards",
    params(ListStandardsQuery),
    responses((status = 200, body = StandardPage), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[get("/standards")]
pub async fn list_standards(
    state: web::Data<AppState>,
    q: web::Query<ListStandardsQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::new();
    let (filter, page) = q.parse(&mut errors);
    errors.finish()?;
    let p = page.clone();
    let (rows, next_cursor) = state
        .db(move |conn| {
            let rows = repo::list(conn, &filter, &p)?;
            let (rows, next) = p.finish(rows, |r| &r.id);
            Ok((repo::views(conn, &rows)?, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(StandardPage {
        items: rows,
        next_cursor,
    }))
}

/// Get a standard
#[utoipa::path(
    get, path = "/api/v1/standards/{id}", tag = "standards",
    params(("id" = String, Path, description = "Standard id")),
    responses(
        (status = 200, body = StandardView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/standards/{id}")]
pub async fn get_standard(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            Ok(repo::views(conn, &[row])?.remove(0))
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "DB63/T 1759—2019", "title": "柴达木枸杞", "effective_on": "2019-12-01"}))]
pub struct CreateStandardRequest {
    /// Any accepted spelling; stored canonically.
    pub code: String,
    /// Title (Chinese).
    pub title: String,
    pub title_en: Option<String>,
    /// Derived from the code's prefix when omitted.
    pub level: Option<String>,
    /// `current` (default), `superseded` or `withdrawn`.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::dates::optional")]
    pub effective_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "Q/QHHG 0001S-2026", "title": "红果源枸杞原浆", "text_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "published_on": "2026-11-01", "enterprise_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f"}))]
pub struct OwnStandardRequest {
    /// `Q/…` (an enterprise standard) or `T/…` (a group standard), any accepted spelling.
    pub code: String,
    pub title: String,
    pub title_en: Option<String>,
    /// Lower-case hex SHA-256 of the published text.
    pub text_sha256: String,
    /// YYYY-MM-DD.
    pub published_on: String,
    /// `Q/`: the enterprise publishing it (its own users only).
    pub enterprise_id: Option<String>,
    /// `T/`: the association that issued it.
    pub issuer: Option<String>,
}

/// Register an enterprise (Q/) or group (T/) standard
#[utoipa::path(
    post, path = "/api/v1/standards/own", tag = "standards",
    description = "An enterprise registers its own standard (Q/…): only its products may declare it. A group standard (T/…) may be registered by the user of any active enterprise, or an admin, naming its issuer. The register keeps the text's SHA-256, not the text.",
    request_body = OwnStandardRequest,
    responses(
        (status = 201, body = StandardView, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a user of that enterprise (Q/); a regulator (T/)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Another enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is already in the catalogue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field invalid; not a Q/ or T/ code (`not_own_standard`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/standards/own")]
pub async fn publish_own_standard(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<OwnStandardRequest>,
) -> ApiResult<HttpResponse> {
    let actor = caller.actor()?.clone();
    let b = body.0;
    let mut errors = Errors::new();
    let code = errors.take("code", StandardCode::parse(&b.code));
    let title = crate::domain::text(&mut errors, "title", &b.title, 300);
    let title_en =
        crate::domain::opt_text(&mut errors, "title_en", b.title_en.as_deref(), 300).flatten();
    let sha = b.text_sha256.trim().to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|c| c.is_ascii_hexdigit()) {
        errors.push("text_sha256", "invalid_value", "64 hexadecimal characters");
    }
    let published_on = crate::http::parse_date(&mut errors, "published_on", Some(&b.published_on));
    let issuer = crate::domain::opt_text(&mut errors, "issuer", b.issuer.as_deref(), 200).flatten();
    errors.finish()?;
    let (Some(code), Some(title_zh), Some(published_on)) = (code, title, published_on) else {
        return Err(ApiError::Internal("validated standard missing".into()));
    };
    let new = service::OwnStandard {
        code,
        title_zh,
        title_en,
        text_sha256: sha,
        published_on,
        enterprise_id: b.enterprise_id,
        issuer,
    };
    let ctx = AuditCtx::of(&caller);
    let row = state
        .db(move |conn| write_tx(conn, |conn| service::publish_own(conn, &actor, &ctx, new)))
        .await?;
    Ok(created_versioned(
        &StandardView::build(&row, None),
        row.version,
        format!("/api/v1/standards/{}", row.id),
    ))
}

/// Add a standard (admins)
#[utoipa::path(
    post, path = "/api/v1/standards", tag = "standards",
    request_body = CreateStandardRequest,
    responses(
        (status = 201, body = StandardView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is already in the catalogue", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/standards")]
pub async fn create_standard(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateStandardRequest>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageReference,
        Target::default(),
    )?;
    let b = body.0;
    let mut errors = Errors::new();
    let code = errors.take("code", StandardCode::parse(&b.code));
    let title = crate::domain::text(&mut errors, "title", &b.title, 500);
    let title_en = crate::domain::opt_text(&mut errors, "title_en", b.title_en.as_deref(), 500);
    let level = match b.level.as_deref() {
        Some(l) => errors.take("level", StandardLevel::parse(l)).map(Some),
        None => Some(None),
    };
    let status = match b.status.as_deref() {
        Some(s) => errors.take("status", StandardStatus::parse(s)),
        None => Some(StandardStatus::Current),
    };
    if status == Some(StandardStatus::Superseded) {
        errors.push(
            "status",
            "use_patch",
            "create the standard, then PATCH it with the standard that replaces it",
        );
    }
    errors.finish()?;
    let (Some(code), Some(title), Some(title_en), Some(level), Some(status)) =
        (code, title, title_en, level, status)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let ctx = AuditCtx::of(&caller);
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let new = NewStandard {
                    code,
                    title_zh: title,
                    title_en,
                    level,
                    status,
                    effective_on: b.effective_on,
                    notes: None,
                    confidence: None,
                };
                let row = service::create(conn, new)?;
                let view = StandardView::build(&row, None);
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action: "standard.create",
                        entity_type: "standard",
                        entity_id: &row.id,
                        before: None,
                        after: serde_json::to_value(&view).ok(),
                        reason: None,
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    let location = format!("/api/v1/standards/{}", view.id);
    Ok(created_versioned(&view, view.version, location))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "superseded", "replaced_by": "GB/T 19630-2019"}))]
pub struct UpdateStandardRequest {
    /// `withdrawn`, `superseded` (needs `replaced_by`) or `current`.
    pub status: Option<String>,
    /// Code of the standard that replaces this one.
    pub replaced_by: Option<String>,
    pub title: Option<String>,
    pub title_en: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::dates::optional")]
    pub effective_on: Option<NaiveDate>,
}

/// Change a standard's status or succession (admins)
#[utoipa::path(
    patch, path = "/api/v1/standards/{id}", tag = "standards",
    params(("id" = String, Path, description = "Standard id"), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateStandardRequest,
    responses(
        (status = 200, body = StandardView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/standards/{id}")]
pub async fn update_standard(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateStandardRequest>,
) -> ApiResult<HttpResponse> {
    check(
        caller.actor.as_ref(),
        Action::ManageReference,
        Target::default(),
    )?;
    let expected = if_match(&req)?;
    let b = body.0;
    let mut errors = Errors::new();
    let status = match b.status.as_deref() {
        Some(s) => errors.take("status", StandardStatus::parse(s)),
        None => None,
    };
    let replaced_by = b
        .replaced_by
        .as_deref()
        .and_then(|c| errors.take("replaced_by", StandardCode::parse(c)));
    if status == Some(StandardStatus::Superseded) && b.replaced_by.is_none() {
        errors.push(
            "replaced_by",
            "required",
            "name the standard that supersedes this one",
        );
    }
    if b.replaced_by.is_some() && status.is_some_and(|s| s != StandardStatus::Superseded) {
        errors.push(
            "replaced_by",
            "not_allowed",
            "only a superseded standard has a successor",
        );
    }
    let title = match b.title.as_deref() {
        Some(t) => crate::domain::text(&mut errors, "title", t, 500),
        None => None,
    };
    let title_en = crate::domain::opt_text(&mut errors, "title_en", b.title_en.as_deref(), 500);
    errors.finish()?;
    let ctx = AuditCtx::of(&caller);
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let before = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                check_if_match(expected, before.version)?;
                let successor = match &replaced_by {
                    Some(code) => {
                        let s = repo::find_by_code(conn, code.as_str())?.ok_or_else(|| {
                            ApiError::field(
                                "replaced_by",
                                "unknown_standard",
                                format!("{code} is not in the catalogue"),
                            )
                        })?;
                        if s.id == before.id {
                            return Err(ApiError::field(
                                "replaced_by",
                                "self_reference",
                                "a standard cannot replace itself",
                            ));
                        }
                        Some(s.id)
                    }
                    None => None,
                };
                let new_status = status.unwrap_or(before.status);
                let changes = StandardChanges {
                    title_zh: title.clone().unwrap_or_else(|| before.title_zh.clone()),
                    title_en: match &b.title_en {
                        Some(_) => title_en.clone().flatten(),
                        None => before.title_en.clone(),
                    },
                    replaced_by_id: if new_status == StandardStatus::Superseded {
                        successor.or(before.replaced_by_id.clone())
                    } else {
                        None
                    },
                    status: new_status,
                    effective_on: b.effective_on.or(before.effective_on),
                    updated_at: crate::clock::now(),
                    version: before.version + 1,
                };
                if repo::update_guarded(conn, &id, before.version, &changes)? == 0 {
                    return Err(ApiError::conflict(
                        "concurrent_update",
                        "the standard changed meanwhile; reload and retry",
                    ));
                }
                let after = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                let mut views = repo::views(conn, &[before, after])?;
                let after_view = views.pop().expect("two views");
                let before_view = views.pop().expect("two views");
                let action = match after_view.status {
                    StandardStatus::Withdrawn
                        if before_view.status != StandardStatus::Withdrawn =>
                    {
                        "standard.withdraw"
                    }
                    StandardStatus::Superseded
                        if before_view.status != StandardStatus::Superseded =>
                    {
                        "standard.supersede"
                    }
                    _ => "standard.update",
                };
                audit::record(
                    conn,
                    &ctx,
                    Change {
                        action,
                        entity_type: "standard",
                        entity_id: &id,
                        before: serde_json::to_value(&before_view).ok(),
                        after: serde_json::to_value(&after_view).ok(),
                        reason: None,
                    },
                )?;
                Ok(after_view)
            })
        })
        .await?;
    Ok(ok_versioned(&view, view.version))
}
