//! Webhooks: an API client subscribes to kinds of public change and the registry POSTs each one
//! to it, signed. Deliveries follow the publication log (the change feed's source) from the
//! subscription's cursor, one event at a time, so none is skipped and each arrives in order; an
//! event is retried until it is taken (2xx) or the subscription pauses.

pub mod deliver;
pub mod guard;
pub mod repo;
pub mod routes;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The event types a subscription may ask for, and the publication-log actions behind each.
pub const EVENT_TYPES: &[(&str, &[&str])] = &[
    ("record.registered", &["certification.register"]),
    ("record.granted", &["designation.register"]),
    (
        "record.suspended",
        &["certification.suspend", "designation.suspend"],
    ),
    (
        "record.reinstated",
        &["certification.reinstate", "designation.reinstate"],
    ),
    (
        "record.revoked",
        &["certification.revoke", "designation.revoke"],
    ),
    (
        "record.expired",
        &["certification.expire", "designation.expire"],
    ),
    (
        "record.amended",
        &["certification.amend", "designation.amend"],
    ),
    ("product.published", &["product.create", "product.publish"]),
    (
        "product.changed",
        &[
            "product.update",
            "product.declare_standard",
            "product.undeclare_standard",
            "product.withdraw",
        ],
    ),
    (
        "enterprise.status_changed",
        &[
            "enterprise.verify",
            "enterprise.create",
            "enterprise.create_with_uscc_override",
            "enterprise.suspend",
            "enterprise.reinstate",
            "enterprise.deregister",
        ],
    ),
];

/// The event type of a publication-log action, if it is one subscribers can hear.
pub fn event_type_of(action: &str) -> Option<&'static str> {
    EVENT_TYPES
        .iter()
        .find(|(_, actions)| actions.contains(&action))
        .map(|(name, _)| *name)
}

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.iter().any(|(n, _)| *n == name)
}

/// `X-Registry-Signature`: `t=UNIX_SECONDS,v1=HEX`, HEX the HMAC-SHA256 of
/// `UNIX_SECONDS + "." + body` under the subscription's secret. The time inside the signed text
/// lets a receiver refuse an old delivery replayed at it.
pub fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_maps_to_at_most_one_event_type() {
        for (_, actions) in EVENT_TYPES {
            for a in *actions {
                let owners = EVENT_TYPES
                    .iter()
                    .filter(|(_, acts)| acts.contains(a))
                    .count();
                assert_eq!(owners, 1, "{a}");
                assert!(
                    crate::publication::PUBLIC_ACTIONS.contains(a)
                        || a.ends_with(".publish")
                        || a.ends_with(".withdraw"),
                    "{a} is never published"
                );
            }
        }
        assert_eq!(
            event_type_of("certification.revoke"),
            Some("record.revoked")
        );
        assert_eq!(event_type_of("standard.update"), None);
    }

    #[test]
    fn signature_is_hmac_of_time_dot_body() {
        // The value openssl computes:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let s = signature("whsec_test", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            s,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(s, signature("whsec_other", 1_700_000_000, br#"{"a":1}"#));
        assert_ne!(s, signature("whsec_test", 1_700_000_001, br#"{"a":1}"#));
    }
}
