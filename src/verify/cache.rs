//! Verification answers as the answer cache (`crate::cache`) keeps them: without the time of
//! the answer, which is added on the way out, and with the records they were built from.

use std::sync::Arc;

use crate::cache::entity;
use crate::error::{ApiError, ApiResult};

use super::Verification;

/// The answer as kept: JSON without `checked_at`.
pub(super) fn cached_form(v: &Verification) -> ApiResult<Arc<str>> {
    let mut value = serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(o) = value.as_object_mut() {
        o.remove("checked_at");
    }
    Ok(value.to_string().into())
}

/// What the answer says depends on: the record, its holder and its product, and its number
/// (another record given the same number makes it ambiguous).
pub(super) fn depends_on(v: &Verification) -> Vec<String> {
    let mut deps = vec![
        entity("number", &v.number),
        entity(v.record_type.as_str(), &v.record_id),
        entity("enterprise", &v.holder.enterprise_id),
    ];
    if let Some(p) = &v.product {
        deps.push(entity("product", &p.id));
    }
    deps
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
                status: crate::domain::EnterpriseStatus::Active,
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
    fn a_kept_answer_names_its_records_and_gets_its_time_on_the_way_out() {
        let v = sample();
        let kept = cached_form(&v).unwrap();
        assert!(!kept.contains("checked_at"));
        assert_eq!(
            depends_on(&v),
            vec!["number:N", "certification:r", "enterprise:e"]
        );
        let body = with_checked_at(&kept);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["number"], "N");
        assert!(v["checked_at"].is_string());
    }
}
