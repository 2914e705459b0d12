//! Calendar dates the register accepts: years 0001 to 9999, as both backends store them (a date
//! before 4713 BC is an error in PostgreSQL, which must never become a 500).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer};

pub const OUT_OF_RANGE: &str = "a date between 0001-01-01 and 9999-12-31";

pub fn in_range(d: NaiveDate) -> bool {
    (1..=9999).contains(&d.year())
}

fn checked<E: serde::de::Error>(d: NaiveDate) -> Result<NaiveDate, E> {
    if in_range(d) {
        Ok(d)
    } else {
        Err(E::custom(OUT_OF_RANGE))
    }
}

/// `#[serde(deserialize_with = "crate::domain::dates::required")]`
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    checked(NaiveDate::deserialize(d)?)
}

/// `#[serde(default, deserialize_with = "crate::domain::dates::optional")]`
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<NaiveDate>::deserialize(d)?
        .map(checked)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "optional")]
        on: Option<NaiveDate>,
    }

    #[test]
    fn years_outside_one_to_9999_are_refused() {
        assert!(serde_json::from_str::<Body>(r#"{"on": "2026-11-27"}"#).is_ok());
        assert!(serde_json::from_str::<Body>(r#"{}"#).unwrap().on.is_none());
        for bad in ["-9999-01-01", "+10000-01-01", "0000-12-31"] {
            let err = serde_json::from_str::<Body>(&format!(r#"{{"on": "{bad}"}}"#));
            assert!(err.is_err(), "{bad}");
        }
    }
}
