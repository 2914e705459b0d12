//! GTIN-13 (EAN-13) article numbers.

use std::fmt;

use crate::error::HasCode;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gtin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("a GTIN-13 has exactly 13 digits")]
    Shape,
    #[error("the check digit should be {expected}, not {found}")]
    CheckDigit { expected: u32, found: u32 },
}

impl HasCode for GtinError {
    fn code(&self) -> &'static str {
        match self {
            Self::Shape => "invalid_format",
            Self::CheckDigit { .. } => "invalid_check_digit",
        }
    }
}

impl Gtin {
    pub fn parse(input: &str) -> Result<Self, GtinError> {
        let s = input.trim();
        if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::Shape);
        }
        let digits: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits[..12]
            .iter()
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
            .sum();
        let expected = (10 - sum % 10) % 10;
        if expected != digits[12] {
            return Err(GtinError::CheckDigit {
                expected,
                found: digits[12],
            });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit() {
        assert!(Gtin::parse("6936983800013").is_ok());
        assert_eq!(
            Gtin::parse("6936983800014"),
            Err(GtinError::CheckDigit {
                expected: 3,
                found: 4
            })
        );
        assert_eq!(
            Gtin::parse("4006381333931").unwrap().as_str(),
            "4006381333931"
        );
    }

    #[test]
    fn shape() {
        assert_eq!(Gtin::parse("693698380001"), Err(GtinError::Shape));
        assert_eq!(Gtin::parse("69369838000a3"), Err(GtinError::Shape));
    }
}
