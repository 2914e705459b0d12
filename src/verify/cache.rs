//! The verification cache.

use super::Verification;
use crate::error::{ApiError, ApiResult};

/// Verification answers in memory, as JSON without `checked_at`, stamped with the audit chain's
/// head sequence read before the database was asked. Every committed write, by any instance,
/// advances that sequence, so an entry is served only while nothing at all has changed since it
/// was loaded: a revoked certificate is never answered from memory once the revocation committed.
pub struct Cache {
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, std::sync::Arc<str>)>>,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Default::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The answer for `key` as of `generation`, from memory or through `load`.
    pub fn get_or_load(
        &self,
        key: &str,
        generation: i64,
        load: impl FnOnce() -> ApiResult<Verification>,
    ) -> ApiResult<std::sync::Arc<str>> {
        if let Some((g, json)) = self.entries.lock().expect("verify cache").get(key) {
            if *g == generation {
                return Ok(json.clone());
            }
        }
        let mut value =
            serde_json::to_value(load()?).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(o) = value.as_object_mut() {
            o.remove("checked_at");
        }
        let json: std::sync::Arc<str> = value.to_string().into();
        let mut map = self.entries.lock().expect("verify cache");
        if map.len() >= self.capacity {
            // Entries of older generations go first; if all are current, start over (rare).
            map.retain(|_, (g, _)| *g == generation);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key.to_owned(), (generation, json.clone()));
        Ok(json)
    }
}

/// Adds the time of the answer to a cached body (a JSON object without `checked_at`).
pub(super) fn with_checked_at(json: &str) -> String {
    let now = serde_json::to_string(&chrono::Utc::now()).unwrap_or_default();
    match json.strip_suffix('}') {
        Some(body) if body.len() > 1 => format!("{body},\"checked_at\":{now}}}"),
        _ => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    use chrono::NaiveDate;

    use crate::domain::{ApplicationKind, RecordStatus, RecordType};
    use crate::verify::Holder;

    fn sample() -> Verification {
        Verification {
            number: "N".into(),
            record_type: RecordType::Certification,
            kind: ApplicationKind::Organic,
            record_id: "r".into(),
            status: RecordStatus::Valid,
            valid: true,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: None,
            holder: Holder {
                enterprise_id: "e".into(),
                name: "n".into(),
                uscc: "u".into(),
            },
            product: None,
            geographical_indication_id: None,
            certified: Default::default(),
            current_differs: Vec::new(),
            at: None,
            checked_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_cache_serves_only_the_generation_it_loaded() {
        let cache = Cache::new(10);
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok(sample())
        };
        let first = cache.get_or_load("N", 7, load).unwrap();
        cache.get_or_load("N", 7, load).unwrap();
        assert_eq!(loads.get(), 1, "second answer from memory");
        cache.get_or_load("N", 8, load).unwrap();
        assert_eq!(
            loads.get(),
            2,
            "a write anywhere (a new generation) invalidates"
        );
        assert!(!first.contains("checked_at"));
        let body = with_checked_at(&first);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["number"], "N");
        assert!(v["checked_at"].is_string());
        assert!(!Cache::new(0).enabled());
    }
}
