//! Standard numbers: `PREFIX[/T|/Z] NUMBER[.PART]-YEAR` in their many written forms.

use std::fmt;

use crate::error::HasCode;

/// A parsed standard number. Two spellings of one standard (`GB/T 19630—2019`,
/// `gb/t19630-2019`) parse to the same canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardCode {
    /// Issuing body: `GB`, `NY`, `DB63`, `DB6301`, `T` (group), `Q` (enterprise), `ISO` …
    pub body: String,
    /// What follows the slash: `T`/`Z` for national, industry and local codes; the association
    /// code for group standards; the enterprise code for enterprise standards.
    pub qualifier: Option<String>,
    pub number: String,
    pub year: Option<i32>,
    canonical: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StandardCodeError {
    #[error("a standard code starts with its body's letters, e.g. GB/T 19630-2019")]
    Prefix,
    #[error("the standard number is missing or malformed")]
    Number,
    #[error("the year must be four digits after the hyphen, e.g. -2019")]
    Year,
    #[error("the code is too long")]
    TooLong,
}

impl HasCode for StandardCodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Prefix => "invalid_prefix",
            Self::Number => "invalid_number",
            Self::Year => "invalid_year",
            Self::TooLong => "too_long",
        }
    }
}

/// Levels of standards, as the API names them.
pub const LEVELS: &[&str] = &[
    "national_mandatory",
    "national_recommended",
    "national_guidance",
    "industry",
    "local",
    "group",
    "enterprise",
    "international",
    "foreign",
    "other",
];

impl StandardCode {
    pub fn parse(input: &str) -> Result<Self, StandardCodeError> {
        if input.len() > 100 {
            return Err(StandardCodeError::TooLong);
        }
        // Official texts use an em dash before the year and sometimes full-width slashes.
        let s: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '—' | '–' | '－' | '‐' | '‑' => '-',
                '／' => '/',
                '：' => ':',
                c if c.is_whitespace() => ' ',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && bytes[i].is_ascii_uppercase() {
            i += 1;
        }
        if i == 0 {
            return Err(StandardCodeError::Prefix);
        }
        let mut body = s[..i].to_owned();
        // Local standards carry the division code in the prefix: DB63, DB6301.
        if body == "DB" {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if !matches!(i - start, 2 | 4 | 6) {
                return Err(StandardCodeError::Prefix);
            }
            body = s[..i].to_owned();
        }
        let mut qualifier = None;
        if i < bytes.len() && bytes[i] == b'/' {
            let start = i + 1;
            i = start;
            if matches!(body.as_str(), "T" | "Q") {
                // Association or enterprise code, up to the space before the number.
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
                    i += 1;
                }
            } else if is_chinese_official(&body) {
                // `/T`, `/Z`, or a bare slash (mandatory local standards: `DB63/ 670-2007`).
                if i < bytes.len() && matches!(bytes[i], b'T' | b'Z') {
                    i += 1;
                }
            } else {
                // Multi-part bodies: CAC/GL, ISO/IEC, OIC/SMIIC, NY/T.
                while i < bytes.len() && bytes[i].is_ascii_uppercase() {
                    i += 1;
                }
            }
            if i == start && !is_chinese_official(&body) {
                return Err(StandardCodeError::Prefix);
            }
            qualifier = Some(s[start..i].to_owned());
        }
        let rest = s[i..].trim_start();
        let lenient = !is_chinese_official(&body);
        let (number, year, sep) = split_year(rest);
        let number = number.trim().to_owned();
        let valid_number = if lenient {
            !number.is_empty()
                && number.len() <= 40
                && number
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'/'))
                && number.as_bytes()[0].is_ascii_alphanumeric()
        } else {
            let mut parts = number.splitn(2, '.');
            let main = parts.next().unwrap_or("");
            let part = parts.next();
            !main.is_empty()
                && main.len() <= 8
                && main.bytes().all(|b| b.is_ascii_digit())
                && part.is_none_or(|p| {
                    !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit())
                })
        };
        if !valid_number {
            return Err(StandardCodeError::Number);
        }
        if year.is_none() && !lenient {
            return Err(StandardCodeError::Year);
        }
        if let Some(y) = year {
            if !(1900..=2100).contains(&y) {
                return Err(StandardCodeError::Year);
            }
        }
        let prefix = match &qualifier {
            Some(q) => format!("{body}/{q}"),
            None => body.clone(),
        };
        // A bare slash is written without a space: `DB63/670-2007`.
        let space = if prefix.ends_with('/') { "" } else { " " };
        let canonical = match year {
            Some(y) => format!("{prefix}{space}{number}{sep}{y}"),
            None => format!("{prefix}{space}{number}"),
        };
        Ok(Self {
            body,
            qualifier,
            number,
            year,
            canonical,
        })
    }

    /// `GB/T`, `DB63/T`, `T/QOAPA`, `NY` …: everything before the number.
    pub fn prefix(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}/{}", self.body, q),
            None => self.body.clone(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The level a code implies. `industry_level` looks a bare body (`NY`, `ISO`) up in the
    /// reference list of prefixes and returns its level, if known.
    pub fn derived_level(
        &self,
        lookup: impl Fn(&str) -> Option<super::StandardLevel>,
    ) -> super::StandardLevel {
        use super::StandardLevel as L;
        let q = self.qualifier.as_deref();
        match (self.body.as_str(), q) {
            ("GB", None) => L::NationalMandatory,
            ("GB", Some("T")) => L::NationalRecommended,
            ("GB", Some("Z")) => L::NationalGuidance,
            (b, _) if b.starts_with("DB") => L::Local,
            ("T", Some(_)) => L::Group,
            ("Q", Some(_)) => L::Enterprise,
            (b, _) => lookup(&self.prefix())
                .or_else(|| lookup(b))
                .unwrap_or(L::Other),
        }
    }
}

fn is_chinese_official(body: &str) -> bool {
    // National and local codes have strict numbers and years; the rest (industry, group,
    // enterprise, international, foreign) vary too much and are parsed leniently.
    body == "GB" || body.starts_with("DB")
}

/// Splits `19630-2019` into (`19630`, 2019, '-'); ISO writes `22000:2018`.
fn split_year(rest: &str) -> (&str, Option<i32>, char) {
    if let Some(pos) = rest.rfind(['-', ':']) {
        let (num, year) = (&rest[..pos], rest[pos + 1..].trim());
        if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) {
            return (num, year.parse().ok(), rest.as_bytes()[pos] as char);
        }
        if year.is_empty()
            || year.bytes().all(|b| b.is_ascii_digit()) && !num.is_empty() && year.len() < 4
        {
            // `-19` or `-`: a year written wrong, not part of the number.
            if rest[pos + 1..].bytes().all(|b| b.is_ascii_digit()) {
                return (num, Some(-1), '-');
            }
        }
    }
    (rest, None, '-')
}

impl fmt::Display for StandardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        StandardCode::parse(s).unwrap().to_string()
    }

    #[test]
    fn dash_variants_and_spacing_are_one_standard() {
        for s in [
            "GB/T 19630-2019",
            "GB/T 19630—2019",
            "GB/T 19630–2019",
            "gb/t19630-2019",
            " GB/T  19630 - 2019 ",
        ] {
            assert_eq!(canon(s), "GB/T 19630-2019", "{s}");
        }
    }

    #[test]
    fn parts_prefixes_and_years() {
        let c = StandardCode::parse("GB/T 19630.1-2011").unwrap();
        assert_eq!(
            (
                c.body.as_str(),
                c.qualifier.as_deref(),
                c.number.as_str(),
                c.year
            ),
            ("GB", Some("T"), "19630.1", Some(2011))
        );
        assert_eq!(
            StandardCode::parse("DB63/T 1759-2019").unwrap().prefix(),
            "DB63/T"
        );
        assert_eq!(canon("DB6301/T 12-2020"), "DB6301/T 12-2020");
        assert_eq!(canon("T/QOAPA 004-2021"), "T/QOAPA 004-2021");
        assert_eq!(canon("NY/T 391-2021"), "NY/T 391-2021");
        assert_eq!(canon("ISO 22000:2018"), "ISO 22000:2018");
        assert_eq!(canon("IEC 60335-1:2016"), "IEC 60335-1:2016");
        assert_eq!(canon("DB63/670-2007"), "DB63/670-2007");
        assert_eq!(canon("DB63/ 670—2007"), "DB63/670-2007");
        assert_eq!(canon("CAC/GL 24-1997"), "CAC/GL 24-1997");
        assert_eq!(canon("GB/T19630-2019"), "GB/T 19630-2019");
    }

    #[test]
    fn levels_follow_the_prefix() {
        let lookup = |b: &str| (b == "NY").then_some(crate::domain::StandardLevel::Industry);
        let level = |s: &str| {
            StandardCode::parse(s)
                .unwrap()
                .derived_level(lookup)
                .as_str()
        };
        assert_eq!(level("GB 2760-2024"), "national_mandatory");
        assert_eq!(level("GB/T 18672-2014"), "national_recommended");
        assert_eq!(level("GB/Z 1-2020"), "national_guidance");
        assert_eq!(level("NY/T 391-2021"), "industry");
        assert_eq!(level("DB63/T 1759-2019"), "local");
        assert_eq!(level("T/QOAPA 004-2021"), "group");
        assert_eq!(level("Q/QHHG 0001S-2020"), "enterprise");
        assert_eq!(level("XYZ 1-2020"), "other");
    }

    #[test]
    fn rejects_malformed_codes() {
        assert_eq!(
            StandardCode::parse("19630-2019"),
            Err(StandardCodeError::Prefix)
        );
        assert_eq!(
            StandardCode::parse("GB/T 19630"),
            Err(StandardCodeError::Year)
        );
        assert_eq!(
            StandardCode::parse("GB/T 19630-19"),
            Err(StandardCodeError::Year)
        );
        assert_eq!(
            StandardCode::parse("GB/T ABC-2019"),
            Err(StandardCodeError::Number)
        );
        assert_eq!(
            StandardCode::parse("DB6/T 1-2019"),
            Err(StandardCodeError::Prefix)
        );
        assert_eq!(StandardCode::parse("GB/T"), Err(StandardCodeError::Number));
    }
}
