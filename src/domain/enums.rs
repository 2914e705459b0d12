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

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

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
    };
}

text_enum!(
    /// A user's role.
    Role { Admin = "admin", Regulator = "regulator", Enterprise = "enterprise" }
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
    EnterpriseStatus { Pending = "pending", Active = "active", Suspended = "suspended", Deregistered = "deregistered" }
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

/// The agency that verifies enterprises (RULES.md, Agencies).
pub const MARKET_REGULATION: &str = "market_regulation";

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
