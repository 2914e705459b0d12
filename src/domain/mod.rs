//! Validated value types and rules with no I/O. A value of these types is valid by construction.

pub mod dates;
pub mod enums;
pub mod gtin;
pub mod record_number;
pub mod standard_code;
pub mod uscc;

pub use enums::*;
pub use gtin::Gtin;
pub use record_number::RecordNumber;
pub use standard_code::StandardCode;
pub use uscc::Uscc;

/// The reason an action requires (suspend, reject, list …): trimmed, 1 to `max` characters;
/// 422 at `reason` otherwise.
pub fn required_reason(raw: &str, max: usize) -> crate::error::ApiResult<String> {
    let mut errors = crate::error::Errors::new();
    let reason = text(&mut errors, "reason", raw, max);
    errors.finish()?;
    Ok(reason.unwrap_or_default())
}

/// Validates a plain text field: trimmed, not empty, at most `max` characters.
pub fn text(
    errors: &mut crate::error::Errors,
    field: &str,
    value: &str,
    max: usize,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "required", "must not be empty");
        None
    } else if v.chars().count() > max {
        errors.push(field, "too_long", format!("at most {max} characters"));
        None
    } else {
        Some(v.to_owned())
    }
}

/// Optional text: empty becomes `None`.
pub fn opt_text(
    errors: &mut crate::error::Errors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Some(None),
        Some(v) => text(errors, field, v, max).map(Some),
    }
}

pub fn email(errors: &mut crate::error::Errors, field: &str, value: &str) -> Option<String> {
    let v = text(errors, field, value, 254)?;
    let ok = v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !v.contains(char::is_whitespace)
    });
    if ok {
        Some(v)
    } else {
        errors.push(field, "invalid_email", "not an email address");
        None
    }
}

pub fn phone(errors: &mut crate::error::Errors, field: &str, value: &str) -> Option<String> {
    let v = text(errors, field, value, 32)?;
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if digits >= 7
        && v.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')'))
    {
        Some(v)
    } else {
        errors.push(
            field,
            "invalid_phone",
            "a phone number of digits, spaces, + - ( )",
        );
        None
    }
}

/// A six-digit GB/T 2260 code in form (whether it exists is the region table's answer).
pub fn region_code_shape(
    errors: &mut crate::error::Errors,
    field: &str,
    value: &str,
) -> Option<String> {
    let v = value.trim();
    if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        Some(v.to_owned())
    } else {
        errors.push(
            field,
            "invalid_region_code",
            "a six-digit GB/T 2260 division code",
        );
        None
    }
}
