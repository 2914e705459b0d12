//! Application kinds (reference data): what each kind is, who decides it, its validity rule,
//! whether it is accepting applications and whether it needs a public notice.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{agency_responsibilities, application_kinds};
use crate::db::DbConn;
use crate::domain::{Agency, ApplicationKind, KindCategory};
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_kinds)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct KindRow {
    pub code: ApplicationKind,
    pub category: KindCategory,
    pub name_zh: String,
    pub name_en: String,
    pub validity_months: Option<i32>,
    pub accepting_applications: bool,
    pub public_notice: bool,
    pub notice_days: i32,
    pub food_only: bool,
    pub number_prefix: Option<String>,
    pub note: Option<String>,
    /// Operator metadata, never in a public answer.
    pub notes: Option<String>,
    pub confidence: Option<String>,
    /// How many days before a record's end its renewal may be filed; `None`: not renewed.
    pub renewal_window_days: Option<i32>,
}

impl KindRow {
    pub fn is_certification(&self) -> bool {
        self.category == KindCategory::Certification
    }
}

/// A kind with the agency that decides it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationKindInfo {
    #[schema(example = "green_food")]
    pub code: ApplicationKind,
    /// `certification` (registers a certificate issued by an external body) or `designation`
    /// (granted by the province, with a number).
    #[schema(example = "certification")]
    pub category: KindCategory,
    #[schema(example = "绿色食品")]
    pub name_zh: String,
    #[schema(example = "Green food")]
    pub name_en: String,
    /// The agency whose regulators decide this kind.
    #[schema(example = "agriculture")]
    pub deciding_agency: Option<Agency>,
    /// Longest validity of a certificate or designation of this kind; `null` = no fixed expiry.
    #[schema(example = 36)]
    pub validity_months: Option<i32>,
    /// Historical kinds accept no new applications.
    pub accepting_applications: bool,
    /// Designations granted only after a public notice (公示).
    pub public_notice: bool,
    /// Length of the public notice (the `REGISTRY_PUBLIC_NOTICE_DAYS` setting overrides it).
    #[schema(example = 7)]
    pub notice_days: i32,
    /// Only products of the food sector may hold it (halal, green food).
    pub food_only: bool,
    pub note: Option<String>,
    /// How many days before a record's end its renewal may be filed; absent: not renewed.
    #[schema(example = 180)]
    pub renewal_window_days: Option<i32>,
}

pub fn find(conn: &mut DbConn, code: ApplicationKind) -> QueryResult<Option<KindRow>> {
    application_kinds::table
        .find(code)
        .select(KindRow::as_select())
        .first(conn)
        .optional()
}

/// The agency that decides `kind`, if any.
pub fn deciding_agency(conn: &mut DbConn, kind: ApplicationKind) -> QueryResult<Option<Agency>> {
    agency_responsibilities::table
        .filter(agency_responsibilities::application_kind.eq(kind))
        .select(agency_responsibilities::agency_code)
        .first(conn)
        .optional()
}

/// The kinds `agency` decides.
pub fn decided_by(conn: &mut DbConn, agency: Agency) -> QueryResult<Vec<ApplicationKind>> {
    agency_responsibilities::table
        .filter(agency_responsibilities::agency_code.eq(agency))
        .select(agency_responsibilities::application_kind)
        .order(agency_responsibilities::application_kind.asc())
        .load(conn)
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ApplicationKindInfo>> {
    let kinds: Vec<KindRow> = application_kinds::table
        .select(KindRow::as_select())
        .order(application_kinds::code.asc())
        .load(conn)?;
    let resp: Vec<(ApplicationKind, Agency)> = agency_responsibilities::table
        .select((
            agency_responsibilities::application_kind,
            agency_responsibilities::agency_code,
        ))
        .load(conn)?;
    Ok(kinds
        .into_iter()
        .map(|k| ApplicationKindInfo {
            deciding_agency: resp
                .iter()
                .find(|(kind, _)| *kind == k.code)
                .map(|(_, a)| *a),
            code: k.code,
            category: k.category,
            name_zh: k.name_zh,
            name_en: k.name_en,
            validity_months: k.validity_months,
            accepting_applications: k.accepting_applications,
            public_notice: k.public_notice,
            notice_days: k.notice_days,
            food_only: k.food_only,
            note: k.note,
            renewal_window_days: k.renewal_window_days,
        })
        .collect())
}

crate::page_type!(ApplicationKindPage, ApplicationKindInfo);

/// List application kinds and their rules
#[utoipa::path(
    get, path = "/api/v1/application-kinds", tag = "reference",
    responses((status = 200, description = "Every kind with its rules (one page)", body = ApplicationKindPage))
)]
#[get("/application-kinds")]
pub async fn list_kinds(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let items = state.db(|conn| Ok(list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(ApplicationKindPage {
        items,
        next_cursor: None,
    }))
}
