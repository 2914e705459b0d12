//! The number of a certificate or designation, as a person types it and as the register keeps it.

use std::fmt;

use crate::error::HasCode;

/// A record number in canonical form: upper case, ASCII, no surrounding blanks. Certification
/// bodies print numbers in upper case; people type them in lower case, in full-width characters
/// (an IME's `ＬＢ－１８`) or with spaces around, and all of those find the same record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordNumberError {
    #[error("a number has 4 to 64 characters")]
    Length,
    #[error("only letters, digits and - / . may appear in a number, not {0:?}")]
    Character(char),
}

impl HasCode for RecordNumberError {
    fn code(&self) -> &'static str {
        "invalid_value"
    }
}

/// Full-width forms (U+FF01–U+FF5E) and the ideographic space, as their ASCII counterparts.
fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        // Dashes a word processor or an IME puts in a typed number.
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        _ => c,
    }
}

impl RecordNumber {
    pub fn parse(input: &str) -> Result<Self, RecordNumberError> {
        let s: String = input
            .chars()
            .map(fold_width)
            .collect::<String>()
            .trim()
            .to_ascii_uppercase();
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '.')))
        {
            return Err(RecordNumberError::Character(c));
        }
        if !(4..=64).contains(&s.len()) {
            return Err(RecordNumberError::Length);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_spellings_find_the_canonical_number() {
        for typed in [
            "LB-18-2401016301A",
            "lb-18-2401016301a",
            "  LB-18-2401016301A\t",
            "ＬＢ－１８－２４０１０１６３０１Ａ",
            "\u{3000}lb‐18‐2401016301a\u{3000}",
        ] {
            assert_eq!(
                RecordNumber::parse(typed).unwrap().as_str(),
                "LB-18-2401016301A",
                "{typed:?}"
            );
        }
    }

    #[test]
    fn refuses_what_no_number_contains() {
        assert_eq!(
            RecordNumber::parse("LB 18"),
            Err(RecordNumberError::Character(' '))
        );
        assert_eq!(RecordNumber::parse("abc"), Err(RecordNumberError::Length));
        assert!(RecordNumber::parse(&"9".repeat(65)).is_err());
        assert!(RecordNumber::parse("绿色-001").is_err());
    }
}
