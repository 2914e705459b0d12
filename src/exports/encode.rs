//! The three export formats: how an item becomes a CSV row, a JSON line or a spreadsheet row.

use serde_json::Value;

use crate::error::{ApiError, ApiResult, Errors};

/// Excel reads a CSV file as the local ANSI code page unless it starts with a UTF-8 BOM, which
/// would garble every Chinese name.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Rows in one sheet (Excel's limit), the header included.
pub const XLSX_MAX_ROWS: usize = 1_048_576;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Jsonl,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Jsonl => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
        }
    }

    /// `format=` when given (it wins), else the first of the three types `Accept` names, else
    /// CSV. A bad `format` is named in `errors`.
    pub fn negotiate(errors: &mut Errors, param: Option<&str>, accept: Option<&str>) -> Self {
        match param.map(str::trim) {
            Some("csv") => return Format::Csv,
            Some("xlsx") => return Format::Xlsx,
            Some("jsonl") => return Format::Jsonl,
            Some(_) => {
                errors.push("format", "invalid_value", "csv, xlsx or jsonl");
                return Format::Csv;
            }
            None => {}
        }
        let accept = accept.unwrap_or("");
        accept
            .split(',')
            .filter_map(|t| {
                let t = t.split(';').next().unwrap_or("").trim();
                match t {
                    "text/csv" => Some(Format::Csv),
                    "application/x-ndjson" | "application/jsonl" => Some(Format::Jsonl),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                        Some(Format::Xlsx)
                    }
                    _ => None,
                }
            })
            .next()
            .unwrap_or(Format::Csv)
    }
}

/// A field as one cell: scalars as they are, a list of scalars joined by "; " (sectors, kinds),
/// anything nested (ingredients, what a record certifies) as compact JSON.
pub enum Cell {
    Empty,
    Bool(bool),
    Number(f64, String),
    Text(String),
}

impl Cell {
    pub fn of(v: Option<&Value>) -> Self {
        match v {
            None | Some(Value::Null) => Cell::Empty,
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Number(n)) => Cell::Number(n.as_f64().unwrap_or(0.0), n.to_string()),
            Some(Value::String(s)) => Cell::Text(s.clone()),
            Some(Value::Array(a)) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
                Cell::Text(
                    a.iter()
                        .map(|x| match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
            Some(other) => Cell::Text(other.to_string()),
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Number(_, s) => s.clone(),
            Cell::Text(s) => s.clone(),
        }
    }

    /// The text of a CSV cell. A spreadsheet opening the file would run a text that starts
    /// like a formula (`=`, `+`, `-`, `@`, tab, carriage return) as one, and names and
    /// addresses are what enterprises typed: such a text gets a leading `'`, which spreadsheets
    /// show as text (OWASP's advice on CSV injection). Numbers stay as they are; XLSX cells are
    /// typed strings and need no such mark.
    fn csv_text(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            other => other.text(),
        }
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    // RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break.
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn csv_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("csv: {e}"))
}

/// The start of a CSV export: the BOM and the header row.
pub fn csv_header(columns: &[&str]) -> ApiResult<Vec<u8>> {
    let mut w = csv_writer();
    w.write_record(columns).map_err(csv_error)?;
    let mut out = BOM.to_vec();
    out.extend(w.into_inner().map_err(csv_error)?);
    Ok(out)
}

/// A page of CSV rows.
pub fn csv_rows(columns: &[&str], items: &[Value]) -> ApiResult<Vec<u8>> {
    let mut w = csv_writer();
    for item in items {
        w.write_record(columns.iter().map(|c| Cell::of(item.get(*c)).csv_text()))
            .map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}

/// A page of JSON lines: each item as the list shows it, one per line.
pub fn json_lines(items: &[Value]) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    for item in items {
        serde_json::to_writer(&mut out, item).map_err(|e| ApiError::Internal(e.to_string()))?;
        out.push(b'\n');
    }
    Ok(out)
}

/// A spreadsheet of one sheet, written row by row to temporary files (`constant_memory`), so
/// memory stays flat however many rows it gets.
pub struct Sheet {
    workbook: rust_xlsxwriter::Workbook,
    columns: &'static [&'static str],
    rows: u32,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(format!("xlsx: {e}"))
}

impl Sheet {
    pub fn new(name: &str, columns: &'static [&'static str]) -> ApiResult<Self> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        sheet.set_name(name).map_err(xlsx_error)?;
        for (c, name) in columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *name, &bold)
                .map_err(xlsx_error)?;
        }
        Ok(Self {
            workbook,
            columns,
            rows: 1,
        })
    }

    /// Appends a page; refuses (422 on `format`) past what one sheet holds.
    pub fn append(&mut self, items: &[Value]) -> ApiResult<()> {
        if self.rows as usize + items.len() > XLSX_MAX_ROWS {
            return Err(ApiError::Refused {
                code: "export_too_large",
                field: "format",
                detail: format!(
                    "more than {} rows do not fit one spreadsheet: narrow the filters, or ask \
                     for format=csv or jsonl",
                    XLSX_MAX_ROWS - 1
                ),
            });
        }
        let sheet = self.workbook.worksheet_from_index(0).map_err(xlsx_error)?;
        for item in items {
            for (c, name) in self.columns.iter().enumerate() {
                let (r, c) = (self.rows, c as u16);
                match Cell::of(item.get(*name)) {
                    Cell::Empty => {}
                    Cell::Bool(b) => {
                        sheet.write_boolean(r, c, b).map_err(xlsx_error)?;
                    }
                    // Ids and codes are strings; what is a number in the list (version, year) stays one.
                    Cell::Number(n, _) => {
                        sheet.write_number(r, c, n).map_err(xlsx_error)?;
                    }
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).map_err(xlsx_error)?;
                    }
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// The finished file, unnamed (it disappears when closed), at its start.
    pub fn finish(mut self) -> ApiResult<std::fs::File> {
        use std::io::Seek;
        let io = |e: std::io::Error| ApiError::Internal(format!("xlsx temporary file: {e}"));
        let mut file = tempfile::tempfile().map_err(io)?;
        self.workbook
            .save_to_writer(&mut file)
            .map_err(xlsx_error)?;
        file.rewind().map_err(io)?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_parameter_wins_over_accept() {
        let mut e = Errors::new();
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        assert_eq!(Format::negotiate(&mut e, None, None), Format::Csv);
        assert_eq!(Format::negotiate(&mut e, None, Some(xlsx)), Format::Xlsx);
        assert_eq!(
            Format::negotiate(&mut e, None, Some("text/html, application/x-ndjson;q=0.9")),
            Format::Jsonl
        );
        assert_eq!(
            Format::negotiate(&mut e, Some("csv"), Some(xlsx)),
            Format::Csv
        );
        assert!(e.is_empty());
        Format::negotiate(&mut e, Some("pdf"), None);
        assert!(e.finish().is_err());
    }

    #[test]
    fn csv_quotes_as_rfc_4180_and_flattens_lists() {
        let cols = ["id", "name", "sectors", "certified", "version", "gtin"];
        let item = json!({"id": "a", "name": "枸杞, \"红\"", "sectors": ["food", "biomedicine"],
                          "certified": {"name": "x"}, "version": 3, "gtin": null});
        let head = csv_header(&cols).unwrap();
        assert!(head.starts_with(BOM));
        assert_eq!(&head[3..], b"id,name,sectors,certified,version,gtin\r\n");
        let row = String::from_utf8(csv_rows(&cols, &[item]).unwrap()).unwrap();
        assert_eq!(
            row,
            "a,\"枸杞, \"\"红\"\"\",food; biomedicine,\"{\"\"name\"\":\"\"x\"\"}\",3,\r\n"
        );
    }

    #[test]
    fn csv_texts_that_start_like_formulas_stay_text() {
        let cols = ["a", "b", "c", "d", "e"];
        let item = json!({"a": "=HYPERLINK(\"http://x\")", "b": "+86 971", "c": "@SUM(A1)",
                          "d": -3, "e": "枸杞=红"});
        let row = String::from_utf8(csv_rows(&cols, &[item]).unwrap()).unwrap();
        assert_eq!(
            row,
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+86 971,'@SUM(A1),-3,枸杞=红\r\n"
        );
    }
}
