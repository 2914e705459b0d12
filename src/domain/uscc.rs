//! Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

use std::fmt;

use crate::error::HasCode;

/// The 31 characters a USCC is written in (no I, O, S, V, Z).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A USCC whose shape is right and whose check character matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a USCC has 18 characters, this has {0}")]
    Length(usize),
    #[error("character {position} ({ch:?}) is not in the USCC alphabet 0-9 A-H J-N P-R T U W-Y")]
    Character { position: usize, ch: char },
    #[error("characters 3-8 must be a 6-digit division code")]
    Division,
    #[error("the check character should be {expected}, not {found}")]
    CheckCharacter { expected: char, found: char },
}

impl HasCode for UsccError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length(_) => "invalid_length",
            Self::Character { .. } => "invalid_character",
            Self::Division => "invalid_division_code",
            Self::CheckCharacter { .. } => "invalid_check_character",
        }
    }
}

impl Uscc {
    /// Parses a code, upper-casing it and trimming blanks; the check character must match.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code = Self::parse_shape(input)?;
        let expected = check_character(&code.0);
        let found = code.0.as_bytes()[17] as char;
        if expected != found {
            return Err(UsccError::CheckCharacter { expected, found });
        }
        Ok(code)
    }

    /// Parses the shape only. For codes actually issued that fail their own check, which a
    /// regulator may register with an audited override reason.
    pub fn parse_shape(input: &str) -> Result<Self, UsccError> {
        let s = input.trim().to_ascii_uppercase();
        let len = s.chars().count();
        if len != 18 {
            return Err(UsccError::Length(len));
        }
        for (i, ch) in s.chars().enumerate() {
            if !ALPHABET.contains(&(ch as u8)) || !ch.is_ascii() {
                return Err(UsccError::Character {
                    position: i + 1,
                    ch,
                });
            }
        }
        if !s[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err(UsccError::Division);
        }
        Ok(Self(s))
    }

    /// Completes a 17-character body with its check character (for generated and test codes).
    pub fn with_check(body: &str) -> Result<Self, UsccError> {
        let body = body.trim().to_ascii_uppercase();
        if body.chars().count() != 17 {
            return Err(UsccError::Length(body.chars().count() + 1));
        }
        let code = format!("{body}{}", check_character(&body));
        Self::parse_shape(&code)
    }

    pub fn has_valid_check(&self) -> bool {
        check_character(&self.0) == self.0.as_bytes()[17] as char
    }

    /// GB/T 2260 code of the registering authority (characters 3-8).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_character(code: &str) -> char {
    let sum: u32 = code
        .bytes()
        .take(17)
        .zip(WEIGHTS)
        .map(|(b, w)| ALPHABET.iter().position(|&a| a == b).unwrap_or(0) as u32 * w)
        .sum();
    let c = (31 - sum % 31) % 31;
    ALPHABET[c as usize] as char
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_published_example() {
        assert_eq!(
            Uscc::parse("914403001922038216").unwrap().as_str(),
            "914403001922038216"
        );
        assert_eq!(
            Uscc::parse(" 914403001922038216 ").unwrap().division_code(),
            "440300"
        );
    }

    #[test]
    fn rejects_a_wrong_check_character() {
        assert_eq!(
            Uscc::parse("914403001922038217"),
            Err(UsccError::CheckCharacter {
                expected: '6',
                found: '7'
            })
        );
    }

    #[test]
    fn an_issued_code_failing_its_check_parses_only_as_shape() {
        assert!(Uscc::parse("91350211M0000XUF46").is_err());
        let c = Uscc::parse_shape("91350211M0000XUF46").unwrap();
        assert!(!c.has_valid_check());
    }

    #[test]
    fn rejects_letters_outside_the_alphabet_and_bad_lengths() {
        assert!(matches!(
            Uscc::parse("91440300192203821"),
            Err(UsccError::Length(17))
        ));
        assert!(matches!(
            Uscc::parse("9144030019220382I6"),
            Err(UsccError::Character { position: 17, .. })
        ));
        assert!(matches!(
            Uscc::parse("91A403001922038216"),
            Err(UsccError::Division)
        ));
    }

    #[test]
    fn with_check_completes_a_body_that_then_parses() {
        let u = Uscc::with_check("91440300192203821").unwrap();
        assert_eq!(u.as_str(), "914403001922038216");
        assert_eq!(Uscc::parse(u.as_str()).unwrap(), u);
        assert!(Uscc::with_check("9144030019220382").is_err());
    }

    #[test]
    fn lower_case_is_normalised() {
        assert!(Uscc::parse_shape("91350211m0000xuf46").is_ok());
    }
}
