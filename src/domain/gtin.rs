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
        let expected = check_digit(&s[..12]);
        let found = u32::from(s.as_bytes()[12] - b'0');
        if expected != found {
            return Err(GtinError::CheckDigit { expected, found });
        }
        Ok(Self(s.to_owned()))
    }

    /// Completes a 12-digit body with its check digit (for generated and test numbers).
    pub fn with_check(body: &str) -> Result<Self, GtinError> {
        let b = body.trim();
        if b.len() != 12 || !b.bytes().all(|c| c.is_ascii_digit()) {
            return Err(GtinError::Shape);
        }
        Ok(Self(format!("{b}{}", check_digit(b))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 check digit of 12 digits: weights 1 and 3 alternating from the left.
fn check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10
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
    fn with_check_completes_a_body() {
        let g = Gtin::with_check("690123456789").unwrap();
        assert_eq!(Gtin::parse(g.as_str()).unwrap(), g);
        assert!(Gtin::with_check("69012345678").is_err());
    }

    #[test]
    fn shape() {
        assert_eq!(Gtin::parse("693698380001"), Err(GtinError::Shape));
        assert_eq!(Gtin::parse("69369838000a3"), Err(GtinError::Shape));
    }
}
