//! Loads `seeds/` (compiled into the binary): reference data on every start, idempotently, and
//! the fictional demo set on request. Rows already present are left as they are, so an
//! operator's edits survive restarts. A row that does not parse or validate stops the load,
//! naming the file, the line and the field: a seed is never dropped silently.

mod csv_rows;
mod demo;
mod demo_supervision;
mod demo_workflow;
mod reference;

pub use demo::{demo_users, load_demo, DemoUser};
pub use reference::{load_reference, SeedReport};

use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Where a seed file is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seeds/{file} line {line}, field {field}: {message}")]
pub struct SeedError {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl SeedError {
    pub fn new(
        file: &str,
        line: u64,
        field: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<SeedError> for ApiError {
    fn from(e: SeedError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// One row of a seed file, with the line it starts on.
pub struct Row<T> {
    pub line: u64,
    pub value: T,
}

/// Reads a CSV seed file into typed rows: a closed set (level, status, kind …) parses into its
/// enum, so a typo stops the load here with the line and the column that holds it.
pub fn rows<T: DeserializeOwned>(file: &str, text: &str) -> Result<Vec<Row<T>>, SeedError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| SeedError::new(file, 1, "header", e))?
        .clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            SeedError::new(file, line, "row", e)
        })?;
        let line = record.position().map_or(0, |p| p.line());
        // A map of column → text, so the path of a failing field is its column's name.
        let fields = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h, field::Text(v)));
        let de = serde::de::value::MapDeserializer::<_, field::Error>::new(fields);
        let value = serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            let column = e.path().to_string();
            SeedError::new(file, line, column, e.into_inner())
        })?;
        out.push(Row { line, value });
    }
    Ok(out)
}

/// One CSV field as a serde deserializer: text that parses into what the row type asks for
/// (numbers, booleans, dates, enums), empty text as `None`.
mod field {
    use serde::de::{self, IntoDeserializer, Visitor};

    #[derive(Debug)]
    pub struct Error(String);

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Error {}
    impl de::Error for Error {
        fn custom<T: std::fmt::Display>(msg: T) -> Self {
            Error(msg.to_string())
        }
    }

    pub struct Text<'a>(pub &'a str);

    impl<'de> IntoDeserializer<'de, Error> for Text<'de> {
        type Deserializer = Self;
        fn into_deserializer(self) -> Self {
            self
        }
    }

    fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, Error> {
        s.trim()
            .parse()
            .map_err(|_| Error(format!("{s:?} is not {what}")))
    }

    macro_rules! parsed {
        ($($method:ident => $visit:ident: $ty:ty, $what:literal;)*) => {$(
            fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.$visit(parse::<$ty>(self.0, $what)?)
            }
        )*};
    }

    impl<'de> de::Deserializer<'de> for Text<'de> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            v.visit_borrowed_str(self.0)
        }

        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            if self.0.trim().is_empty() {
                v.visit_none()
            } else {
                v.visit_some(self)
            }
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            v.visit_enum(self.0.trim().into_deserializer())
        }

        parsed! {
            deserialize_bool => visit_bool: bool, "true or false";
            deserialize_i32 => visit_i32: i32, "a whole number";
            deserialize_i64 => visit_i64: i64, "a whole number";
            deserialize_u32 => visit_u32: u32, "a whole number";
            deserialize_u64 => visit_u64: u64, "a whole number";
            deserialize_f64 => visit_f64: f64, "a number";
        }

        serde::forward_to_deserialize_any! {
            i8 i16 i128 u8 u16 u128 f32 char str string bytes byte_buf unit unit_struct
            newtype_struct seq tuple tuple_struct map struct identifier ignored_any
        }
    }
}

/// A `;`-separated list field, each item parsed (`decides`, `kinds` …).
pub fn list<T, E: std::fmt::Display>(
    file: &str,
    line: u64,
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, SeedError> {
    raw.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(|e| SeedError::new(file, line, field, format!("{s}: {e}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StandardStatus;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Row2 {
        code: String,
        status: StandardStatus,
        effective_on: Option<chrono::NaiveDate>,
    }

    #[test]
    fn a_bad_row_names_its_file_line_and_field() {
        let text = "code,status,effective_on\nGB 1-2020,current,\nGB 2-2020,curent,2020-01-01\n";
        let err = rows::<Row2>("standards.csv", text).err().expect("refused");
        assert_eq!(
            (err.file.as_str(), err.line, err.field.as_str()),
            ("standards.csv", 3, "status")
        );
        assert!(err
            .to_string()
            .starts_with("seeds/standards.csv line 3, field status:"));

        let text = "code,status,effective_on\nGB 1-2020,current,2020-13-01\n";
        let err = rows::<Row2>("standards.csv", text).err().expect("refused");
        assert_eq!((err.line, err.field.as_str()), (2, "effective_on"));

        let ok = rows::<Row2>(
            "standards.csv",
            "code,status,effective_on\nGB 1-2020,current,\n",
        )
        .expect("valid");
        assert_eq!(
            (ok.len(), ok[0].line, ok[0].value.effective_on),
            (1, 2, None)
        );
    }

    #[test]
    fn a_bad_list_item_names_the_item() {
        let err = list("agencies.csv", 4, "decides", "green_food; organc", |s| {
            crate::domain::ApplicationKind::parse(s)
        })
        .unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (4, "decides"));
        assert!(err.message.starts_with("organc:"), "{}", err.message);
    }
}
