//! Closed sets of codes, stored as checked text on both backends.

use crate::error::HasCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {allowed}")]
pub struct UnknownValue {
    pub allowed: String,
}

impl HasCode for UnknownValue {
    fn code(&self) -> &'static str {
        "invalid_value"
    }
}

/// A closed set stored as checked text: one Rust enum from the database column (diesel
/// `ToSql`/`FromSql` on every backend) to the JSON and the OpenAPI `enum` schema.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<Self, UnknownValue> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { allowed: [$($text),+].join(", ") }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                Self::parse(s)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                // A value outside the set means the CHECK constraint and this enum disagree.
                let s = String::from_sql(bytes)?;
                Ok(Self::parse(&s)?)
            }
        }
    };
}

text_enum!(
    /// A user's role.
    Role { Admin = "admin", Regulator = "regulator", Enterprise = "enterprise", Developer = "developer" }
);

text_enum!(
    /// The plan's four consumer-goods sectors.
    Sector { Food = "food", Biomedicine = "biomedicine", LightTextile = "light_textile", EthnicSpecialty = "ethnic_specialty" }
);

text_enum!(
    /// Enterprise size class.
    Scale { Large = "large", Medium = "medium", Small = "small", Micro = "micro" }
);

text_enum!(
    /// `pending` until the market-regulation agency verifies it.
    EnterpriseStatus { Pending = "pending", Active = "active", Suspended = "suspended", Deregistered = "deregistered", Rejected = "rejected", Expired = "expired" }
);

text_enum!(
    ProductStatus { Active = "active", Discontinued = "discontinued" }
);

text_enum!(
    StandardStatus { Current = "current", Superseded = "superseded", Withdrawn = "withdrawn" }
);

text_enum!(
    /// Level of a standard; derived from its code's prefix when not given.
    StandardLevel {
        NationalMandatory = "national_mandatory",
        NationalRecommended = "national_recommended",
        NationalGuidance = "national_guidance",
        Industry = "industry",
        Local = "local",
        Group = "group",
        Enterprise = "enterprise",
        International = "international",
        Foreign = "foreign",
        Other = "other",
    }
);

text_enum!(
    /// Where an application is in its review (the transitions are `applications::machine`).
    ApplicationState {
        Draft = "draft",
        Submitted = "submitted",
        UnderReview = "under_review",
        ChangesRequested = "changes_requested",
        Approved = "approved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        InPublicNotice = "in_public_notice",
        Granted = "granted",
    }
);

text_enum!(
    /// The kinds of application the province takes (the `application_kinds` table holds their rules).
    ApplicationKind {
        GreenFood = "green_food",
        Organic = "organic",
        Halal = "halal",
        ProvincialFamousBrand = "provincial_famous_brand",
        GiProduct = "gi_product",
        NationalFamousBrand = "national_famous_brand",
        ProvincialFamousTrademark = "provincial_famous_trademark",
        /// A change of what a product's live records certify.
        RecordChange = "record_change",
    }
);

text_enum!(
    /// What an approved application creates: a certificate, a designation, or a change of
    /// what live records certify.
    KindCategory { Certification = "certification", Designation = "designation", Change = "change" }
);

text_enum!(
    /// A regulator's decision on an application under review.
    ReviewDecision { Approve = "approve", Reject = "reject", RequestChanges = "request_changes" }
);

text_enum!(
    /// A record's status. Stored: `valid` (certificates) or `active` (designations) while in
    /// force, `suspended`, `revoked`. Derived from dates, never stored: `expired`, `not_yet_valid`.
    RecordStatus {
        Valid = "valid",
        Active = "active",
        Suspended = "suspended",
        Revoked = "revoked",
        Expired = "expired",
        NotYetValid = "not_yet_valid",
    }
);

text_enum!(
    /// Which kind of record a status history entry belongs to.
    RecordType { Certification = "certification", Designation = "designation" }
);

text_enum!(
    /// An objection raised during a public notice.
    ObjectionStatus { Open = "open", Upheld = "upheld", Dismissed = "dismissed" }
);

text_enum!(
    /// A requested change of an enterprise's identity, decided by market regulation.
    IdentityChangeState { Pending = "pending", Approved = "approved", Rejected = "rejected" }
);

text_enum!(
    /// Level of an administrative division (GB/T 2260).
    RegionLevel { Province = "province", Prefecture = "prefecture", County = "county" }
);

text_enum!(
    /// How a plan target is counted.
    TargetUnit { Count = "count", Percent = "percent" }
);

text_enum!(
    /// The agencies that review and decide (reference data names them; the codes are fixed).
    Agency {
        MarketRegulation = "market_regulation",
        Agriculture = "agriculture",
        EthnicReligiousAffairs = "ethnic_religious_affairs",
        IndustryIt = "industry_it",
        Commerce = "commerce",
    }
);

text_enum!(
    /// What a bulk import loads (`POST /api/v1/imports?kind=…`).
    ImportKind {
        Products = "products",
        Designations = "designations",
        Certifications = "certifications",
    }
);

text_enum!(
    /// Where an import job is: `failed` when a row was invalid (nothing written) or the work stopped.
    ImportStatus {
        Queued = "queued",
        Validating = "validating",
        Importing = "importing",
        Done = "done",
        Failed = "failed",
    }
);

text_enum!(
    /// Where a spot-check campaign is: open (committed, not drawn), drawn, closed (published).
    SpotCheckState { Open = "open", Drawn = "drawn", Closed = "closed" }
);

text_enum!(
    /// What a spot-check campaign draws: enterprises or products.
    TargetType { Enterprise = "enterprise", Product = "product" }
);

text_enum!(
    /// The outcome of inspecting one drawn target.
    CheckResult { Passed = "passed", Failed = "failed", NotFound = "not_found" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_unknown() {
        for s in Sector::ALL {
            assert_eq!(Sector::parse(s.as_str()), Ok(*s));
        }
        let e = Sector::parse("toys").unwrap_err();
        assert_eq!(
            e.allowed,
            "food, biomedicine, light_textile, ethnic_specialty"
        );
        assert_eq!(
            serde_json::to_string(&Role::Regulator).unwrap(),
            "\"regulator\""
        );
    }
}
