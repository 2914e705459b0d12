//! Reading an uploaded file into a header and rows of text: CSV (UTF-8, with or without a BOM)
//! or the first sheet of an XLSX workbook. Each row keeps the number a spreadsheet shows for it
//! (the header is row 1), so a report points at the row a person sees.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx};

use crate::error::{ApiError, Errors};

/// A file's format, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl FileFormat {
    pub fn of_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "text/csv" => Some(Self::Csv),
            XLSX_TYPE => Some(Self::Xlsx),
            _ => None,
        }
    }
}

/// The header (trimmed, lower case) and the non-empty rows, each with its spreadsheet row number.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// As a spreadsheet numbers it: the header is row 1.
    pub number: u32,
    pub cells: Vec<String>,
}

impl Table {
    /// The index of `column`, if the header names it.
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// Checks the header: every required column present, every column known, none twice.
    /// Problems are named on the field `file`, with the column in the message.
    pub fn check_columns(&self, known: &[&str], required: &[&str]) -> Result<(), ApiError> {
        let mut errors = Errors::new();
        for r in required {
            if self.index(r).is_none() {
                errors.push(
                    format!("file.{r}"),
                    "missing_column",
                    format!("the header row has no column {r}"),
                );
            }
        }
        for (i, c) in self.columns.iter().enumerate() {
            if !known.contains(&c.as_str()) {
                errors.push(
                    format!("file.{c}"),
                    "unknown_column",
                    format!("column {c} is not one of: {}", known.join(", ")),
                );
            } else if self.columns[..i].contains(c) {
                errors.push(
                    format!("file.{c}"),
                    "duplicate_column",
                    format!("column {c} appears twice"),
                );
            }
        }
        errors.finish()
    }
}

fn unreadable(message: impl Into<String>) -> ApiError {
    ApiError::field("file", "unreadable_file", message)
}

pub fn read(format: FileFormat, bytes: &[u8]) -> Result<Table, ApiError> {
    let raw = match format {
        FileFormat::Csv => read_csv(bytes)?,
        FileFormat::Xlsx => read_xlsx(bytes)?,
    };
    let mut raw = raw.into_iter();
    let Some((_, header)) = raw.next() else {
        return Err(ApiError::field(
            "file",
            "empty_file",
            "the file has no header row",
        ));
    };
    let columns = header
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect::<Vec<_>>();
    let rows = raw
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(number, cells)| Row { number, cells })
        .collect();
    Ok(Table { columns, rows })
}

/// Records in order, numbered as a spreadsheet opening the file would number them.
fn read_csv(bytes: &[u8]) -> Result<Vec<(u32, Vec<String>)>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    // Spreadsheets number records, not lines (a quoted line break stays in its row). A row
    // saved from a spreadsheet is never a bare blank line (it keeps its commas), so the blank
    // lines the reader skips come only from hand editing and are not counted.
    let mut number = 0u32;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| match e.kind() {
                csv::ErrorKind::Utf8 { .. } => unreadable(format!(
                    "row {}: not UTF-8 text (save the file as CSV UTF-8)",
                    number + 1
                )),
                _ => unreadable(format!("row {}: {e}", number + 1)),
            })?;
        if !more {
            break;
        }
        number += 1;
        out.push((number, record.iter().map(str::to_owned).collect()));
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(u32, Vec<String>)>, ApiError> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not an XLSX workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable("the workbook has no sheet"))?
        .map_err(|e| unreadable(format!("the first sheet cannot be read: {e}")))?;
    let Some((first_row, first_col)) = range.start() else {
        return Ok(Vec::new());
    };
    // Cells left of the used range are empty: keep column positions as the sheet has them.
    let pad = first_col as usize;
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut row = vec![String::new(); pad];
            row.extend(cells.iter().map(cell_text));
            (first_row + i as u32 + 1, row)
        })
        .collect())
}

/// A cell as the text a person reads in it: whole numbers without `.0` (a GTIN typed into a
/// number cell), dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) => match cell.as_date() {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => cell.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_rows_keep_their_spreadsheet_numbers_empty_rows_counted() {
        let t = read(
            FileFormat::Csv,
            "\u{feff}Name,GTIN\na,1\n,\n\"b\nc\",2\nd,3\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(t.columns, ["name", "gtin"]);
        let numbers: Vec<u32> = t.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4, 5]);
        assert_eq!(t.rows[1].cells, ["b\nc", "2"]);
    }

    #[test]
    fn content_types_choose_the_format() {
        assert_eq!(
            FileFormat::of_content_type("text/csv; charset=utf-8"),
            Some(FileFormat::Csv)
        );
        assert_eq!(
            FileFormat::of_content_type(XLSX_TYPE),
            Some(FileFormat::Xlsx)
        );
        assert_eq!(FileFormat::of_content_type("application/json"), None);
    }
}
