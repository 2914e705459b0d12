//! Keyset pagination: `?limit=` (default 20, max 100) and an opaque `cursor`.
//!
//! Every list is ordered by id (UUIDv7, so creation order); the cursor encodes the last id
//! served, so rows inserted meanwhile never shift or repeat a page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::Errors;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    /// Serve rows with id greater than this.
    pub after: Option<String>,
}

impl PageRequest {
    pub fn parse(errors: &mut Errors, limit: Option<&str>, cursor: Option<&str>) -> Self {
        let limit = match limit.map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(
                        "limit",
                        "out_of_range",
                        format!("a whole number from 1 to {MAX_LIMIT}"),
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        let after = match cursor.map(str::trim) {
            None | Some("") => None,
            Some(c) => match decode_cursor(c) {
                Some(id) => Some(id),
                None => {
                    errors.push(
                        "cursor",
                        "invalid_cursor",
                        "use the next_cursor of a previous page",
                    );
                    None
                }
            },
        };
        Self { limit, after }
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the extra row and returns the page with the cursor for the next one.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> &str,
    ) -> (Vec<T>, Option<String>) {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        (rows, next)
    }
}

pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

fn decode_cursor(c: &str) -> Option<String> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let id = s.strip_prefix("v1:")?;
    (!id.is_empty() && id.len() <= 64).then(|| id.to_owned())
}

/// Declares `{ items, next_cursor }` for one item type, documented for OpenAPI.
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            #[schema(example = json!(null))]
            pub next_cursor: Option<String>,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        let mut e = Errors::new();
        let p = PageRequest::parse(&mut e, None, None);
        assert_eq!((p.limit, p.after.as_deref()), (20, None));
        let p = PageRequest::parse(&mut e, Some("100"), Some(&encode_cursor("abc")));
        assert_eq!((p.limit, p.after.as_deref()), (100, Some("abc")));
        assert!(e.is_empty());
        PageRequest::parse(&mut e, Some("101"), Some("garbage!"));
        assert!(e.finish().is_err());
    }

    #[test]
    fn finish_cuts_and_points_at_the_last_row() {
        let p = PageRequest {
            limit: 2,
            after: None,
        };
        let (rows, next) = p.finish(vec!["a", "b", "c"], |s| s);
        assert_eq!(rows, vec!["a", "b"]);
        assert_eq!(decode_cursor(&next.unwrap()).as_deref(), Some("b"));
        let (_, next) = p.finish(vec!["a", "b"], |s| s);
        assert!(next.is_none());
    }
}
