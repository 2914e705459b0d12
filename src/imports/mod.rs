//! Bulk imports: an enterprise's products, or a regulator's historical designations and
//! certificates, loaded from
//! a CSV or XLSX file. Every row is validated first with the rules of the single-record path
//! (`products::service::NewProduct::parse` and `check_references`, the domain parsers), and
//! nothing is written unless every row is valid. Rows already registered under their natural key
//! (product: enterprise + GTIN, or enterprise + name + brand without one; designation: kind +
//! number; certificate: body + number) are counted unchanged, so importing a file again changes nothing. The work runs as a
//! job whose progress and report are kept in `import_jobs`.

pub mod certifications;
pub mod designations;
pub mod historical;
pub mod products;
pub mod repo;
pub mod routes;
pub mod run;
pub mod table;

use serde::Serialize;
use utoipa::ToSchema;

/// One bad cell (or row) of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct RowError {
    /// As a spreadsheet shows it: the header is row 1.
    #[schema(example = 3)]
    pub row: u32,
    /// The column (header name) at fault.
    #[schema(example = "gtin")]
    pub column: String,
    #[schema(example = "invalid_check_digit")]
    pub code: String,
    #[schema(example = "the check digit should be 3")]
    pub message: String,
}

impl RowError {
    pub fn new(row: u32, column: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            row,
            column: column.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// From a field error of the single-record path: `ingredients[1].name` is column
    /// `ingredients`.
    pub fn of_field(row: u32, e: &crate::error::FieldError) -> Self {
        let column = e.field.split(['[', '.']).next().unwrap_or(&e.field);
        Self::new(row, column, &e.code, e.message.clone())
    }
}

/// The cell of `column` in `row`, trimmed ("" when the column or cell is absent).
pub(crate) fn cell<'a>(t: &table::Table, row: &'a table::Row, column: &str) -> &'a str {
    t.index(column)
        .and_then(|i| row.cells.get(i))
        .map_or("", |c| c.trim())
}

/// What writing a validated file did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub created: i32,
    pub unchanged: i32,
}
