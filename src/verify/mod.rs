//! Public verification: "is this certificate or designation real, and valid (on that date)?"
//! `repo` answers from the register, `cache` is the form answers are kept in (see `crate::cache`), `routes`
//! serves single and batch look-ups.

mod cache;
mod repo;
pub mod routes;

pub use repo::verify_number;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ApplicationKind, RecordStatus, RecordType};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Holder {
    pub enterprise_id: String,
    #[schema(example = "柴达木红果枸杞科技有限公司")]
    pub name: String,
    #[schema(example = "91632800MA752K3R1C")]
    pub uscc: String,
    /// The holder's status on the register now: a record of a suspended or deregistered
    /// enterprise still verifies, and says so here.
    #[schema(example = "active")]
    pub status: crate::domain::EnterpriseStatus,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductRef {
    pub id: String,
    /// The name as certified.
    pub name: String,
    /// The product as it is now.
    #[schema(example = "/api/v1/products/01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e60")]
    pub href: String,
}

/// The answer about one number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    #[schema(example = "QHMP-2026-0001")]
    pub number: String,
    /// `certification` or `designation`.
    #[schema(example = "designation")]
    pub record_type: RecordType,
    #[schema(example = "provincial_famous_brand")]
    pub kind: ApplicationKind,
    pub record_id: String,
    /// Now (or on `at`): `valid`/`active`, `suspended`, `revoked`, `expired`, or `not_yet_valid`.
    #[schema(example = "active")]
    pub status: RecordStatus,
    /// True when the status is `valid` or `active`.
    pub valid: bool,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// The holder as certified.
    pub holder: Holder,
    /// The product as certified, with a link to it as it is now.
    pub product: Option<ProductRef>,
    pub geographical_indication_id: Option<String>,
    /// Everything the record certifies, fixed when it was registered or granted.
    pub certified: crate::records::certified::Certified,
    /// The certified fields in which the holder or product now differs from what was certified
    /// (empty when none): the register vouches for the certified values only.
    #[schema(example = json!([]))]
    pub current_differs: Vec<String>,
    /// The date asked about, when `at` was given.
    pub at: Option<NaiveDate>,
    /// When this answer was computed.
    pub checked_at: chrono::DateTime<chrono::Utc>,
}
/// One number's answer in a batch: the same as the single endpoint, or why there is none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchItem {
    pub number: String,
    /// 200, 404 or 409, as the single endpoint would answer.
    #[schema(example = 200)]
    pub status: u16,
    pub verification: Option<Verification>,
    /// The problem code when there is no verification (`not_found`, `ambiguous_number`).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    /// In the order asked.
    pub results: Vec<BatchItem>,
}
