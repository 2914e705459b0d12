//! The delivery worker. Every `REGISTRY_WEBHOOK_POLL_MS` it takes the subscriptions that are
//! due and have events after their cursor (a lease, so several instances share the work without
//! delivering twice), and sends each its next events in order. A failure stops that
//! subscription until its retry time; the cursor moves only past an event that was taken.

use std::time::{Duration, Instant};

use actix_web::web;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::guard::{self, GuardedResolver};
use super::repo::{self, Concerns, DeliveryRow, Event, Next, WebhookRow};
use crate::state::AppState;

/// A receiver has this long to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one send can take (connecting, then answering, each within `TIMEOUT`), and a
/// second to spare: how long a replay waits for a turn that may be sending.
pub const IN_FLIGHT: chrono::Duration = chrono::Duration::seconds(11);
/// Consecutive failures after which a subscription pauses.
pub const PAUSE_AFTER_FAILURES: i32 = 50;
/// How long an event is retried before the subscription pauses.
pub const RETRY_FOR_HOURS: i64 = 24;
/// Events sent to one subscription per turn, before others get theirs.
const PER_TURN: usize = 20;
/// A turn's lease: longer than `PER_TURN` answers at `TIMEOUT`.
const LEASE: Duration = Duration::from_secs(150);
/// Subscriptions taken per poll.
const TAKE: i64 = 50;

/// The body of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    /// The same for every attempt of this event to this subscription (also in
    /// `X-Registry-Event-Id`): a receiver that saw it already can ignore it.
    #[schema(example = "0193a5b2-7c1e-7d2a-9f00-1b2c3d4e5f60:1842")]
    pub id: String,
    /// The publication-log sequence number (the change feed's cursor).
    #[schema(example = 1842)]
    pub seq: i64,
    #[schema(example = "record.revoked")]
    pub r#type: String,
    /// The change as the feed names it.
    #[schema(example = "certification.revoke")]
    pub action: String,
    #[schema(example = "certification")]
    pub entity_type: String,
    pub entity_id: String,
    /// Where the entity is read now.
    #[schema(example = "/api/v1/certifications/0193a5b2-7c1e-7d2a-9f00-1b2c3d4e5f60")]
    pub href: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    /// The record's kind (certifications and designations).
    #[schema(example = "organic")]
    pub kind: Option<String>,
    pub subscription_id: String,
}

fn event_body(w: &WebhookRow, e: &Event) -> WebhookEvent {
    let p = &e.publication;
    let Concerns {
        enterprise_id,
        product_id,
        kind,
    } = e.concerns.clone();
    WebhookEvent {
        id: format!("{}:{}", w.id, p.seq),
        seq: p.seq,
        r#type: e.event_type.to_owned(),
        action: p.action.clone(),
        entity_type: p.entity_type.clone(),
        entity_id: p.entity_id.clone(),
        href: crate::changes::href(&p.entity_type, &p.entity_id),
        at: crate::clock::to_utc(p.at),
        enterprise_id,
        product_id,
        kind,
        subscription_id: w.id.clone(),
    }
}

/// What follows a failed attempt: the attempt's number, when the failures began, when to try
/// again, and why to pause instead (after 50 in a row, or a day of failing).
#[derive(Debug, PartialEq, Eq)]
pub struct AfterFailure {
    pub attempt: i32,
    pub failing_since: NaiveDateTime,
    pub retry_at: NaiveDateTime,
    pub pause: Option<String>,
}

pub fn after_failure(
    w: &WebhookRow,
    now: NaiveDateTime,
    base: Duration,
    error: &str,
) -> AfterFailure {
    let attempt = w.failures + 1;
    let failing_since = w.failing_since.unwrap_or(now);
    // 1, 2, 4 … 1,024 times the base, then 1,800 times (30 min at the default): 50 attempts
    // span about 20 hours.
    let factor = 2u32.pow((attempt - 1).clamp(0, 10) as u32).min(1800);
    let factor = if attempt > 11 { 1800 } else { factor };
    let delay = chrono::Duration::from_std(base * factor).unwrap_or(chrono::Duration::MAX);
    let pause = if attempt >= PAUSE_AFTER_FAILURES {
        Some(format!(
            "{attempt} consecutive deliveries failed; the last: {error}"
        ))
    } else if now - failing_since >= chrono::Duration::hours(RETRY_FOR_HOURS) {
        Some(format!(
            "deliveries failed for {RETRY_FOR_HOURS} hours ({attempt} attempts); the last: {error}"
        ))
    } else {
        None
    };
    AfterFailure {
        attempt,
        failing_since,
        retry_at: now + delay,
        pause,
    }
}

/// The HTTP client of deliveries: no redirects, a 5 s timeout, and a resolver that refuses
/// private addresses unless `allow_private`.
pub fn client(allow_private: bool) -> awc::Client {
    let mut tls = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())
        .expect("an OpenSSL context");
    // The OpenSSL built here looks for certificates under its own build prefix; point it at the
    // system's bundle unless the operator named one (SSL_CERT_FILE).
    let _ = tls.set_default_verify_paths();
    if std::env::var_os("SSL_CERT_FILE").is_none() {
        if let Some(bundle) = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        {
            let _ = tls.set_ca_file(bundle);
        }
    }
    let resolver = actix_tls::connect::Resolver::custom(GuardedResolver { allow_private });
    let connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .openssl(tls.build())
        .timeout(TIMEOUT);
    awc::Client::builder()
        .connector(connector)
        .timeout(TIMEOUT)
        .disable_redirects()
        .add_default_header(("User-Agent", "product-registry-webhooks/1"))
        .finish()
}

/// Sends one event: the answer's status, or why there was none.
async fn send(
    client: &awc::Client,
    allow_private: bool,
    w: &WebhookRow,
    event: &WebhookEvent,
) -> Result<u16, String> {
    let uri: awc::http::Uri = w.url.parse().map_err(|e| format!("bad URL: {e}"))?;
    guard::check_literal(uri.host().unwrap_or(""), allow_private).map_err(|e| e.to_string())?;
    let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let signed = super::signature(&w.secret, chrono::Utc::now().timestamp(), &body);
    let answer = client
        .post(uri)
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("X-Registry-Signature", signed))
        .insert_header(("X-Registry-Event-Id", event.id.as_str()))
        .insert_header(("X-Registry-Event-Type", event.r#type.as_str()))
        .send_body(body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer.status().as_u16())
}

/// Starts the worker on this thread's runtime (the client is not `Send`).
pub fn spawn(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let client = client(state.settings.webhook_allow_private);
        let mut every = actix_web::rt::time::interval(state.settings.webhook_poll);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_sweep: Option<Instant> = None;
        loop {
            every.tick().await;
            if last_sweep.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                last_sweep = Some(Instant::now());
                announce_expiries(&state).await;
            }
            let now = crate::clock::now();
            let lease_until = now + chrono::Duration::from_std(LEASE).expect("a short lease");
            let taken = state
                .db(move |conn| Ok(repo::claim_due(conn, now, lease_until, TAKE)?))
                .await;
            match taken {
                Ok(taken) => {
                    for w in taken {
                        actix_web::rt::spawn(turn(state.clone(), client.clone(), w));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "taking due webhooks failed"),
            }
        }
    });
}

/// Records that passed their end date enter the log (and so reach subscribers).
async fn announce_expiries(state: &AppState) {
    let today = crate::clock::today();
    let done = state
        .db(move |conn| {
            Ok(crate::db::write_tx(conn, |conn| {
                crate::records::expiry::announce_due(conn, today, 1000)
            })?)
        })
        .await;
    match done {
        Ok(0) => {}
        Ok(n) => tracing::info!(records = n, "expired records announced"),
        Err(e) => tracing::warn!(error = %e, "announcing expired records failed"),
    }
}

/// One subscription's turn: up to `PER_TURN` events, stopping at the first failure, or as soon
/// as the turn no longer holds the subscription (replayed, resumed or deleted meanwhile).
async fn turn(state: web::Data<AppState>, client: awc::Client, claimed: WebhookRow) {
    let allow_private = state.settings.webhook_allow_private;
    let base = state.settings.webhook_retry_base;
    let id = claimed.id;
    let lease = claimed.next_attempt_at;
    for _ in 0..PER_TURN {
        let hook = id.clone();
        let next = state
            .db(move |conn| {
                let Some(w) = repo::leased(conn, &hook, lease)? else {
                    return Ok(None);
                };
                let next = repo::next_event(conn, &w)?;
                Ok(Some((w, next)))
            })
            .await;
        let (w, event) = match next {
            Ok(None) => return,
            Ok(Some((w, Next::Event(e)))) => (w, e),
            Ok(Some((_, Next::Skip(seq)))) => {
                let hook = id.clone();
                match state
                    .db(move |conn| Ok(repo::skip_to(conn, &hook, lease, seq)?))
                    .await
                {
                    Ok(true) => continue,
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "moving a webhook cursor failed");
                        return;
                    }
                }
            }
            Ok(Some((_, Next::Idle))) => break,
            Err(e) => {
                tracing::warn!(error = %e, webhook = %id, "reading events failed");
                return;
            }
        };
        let body = event_body(&w, &event);
        let started = Instant::now();
        let sent = send(&client, allow_private, &w, &body).await;
        let now = crate::clock::now();
        let (status_code, error) = match &sent {
            Ok(code) => (Some(i32::from(*code)), None),
            Err(e) => (None, Some(e.clone())),
        };
        let succeeded = matches!(sent, Ok(200..=299));
        let failure_text = match &sent {
            Ok(code) => format!("HTTP {code}"),
            Err(e) => e.clone(),
        };
        let next = (!succeeded).then(|| after_failure(&w, now, base, &failure_text));
        let delivery = DeliveryRow {
            id: uuid::Uuid::now_v7().to_string(),
            webhook_id: w.id.clone(),
            seq: body.seq,
            event_type: body.r#type.clone(),
            attempt: next.as_ref().map_or(w.failures + 1, |n| n.attempt),
            status_code,
            error,
            succeeded,
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            at: now,
        };
        let retry = next.as_ref().map(|n| repo::Retry {
            failing_since: n.failing_since,
            at: n.retry_at,
            pause: n.pause.clone(),
        });
        let recorded = state
            .db(move |conn| {
                Ok(crate::db::write_tx(conn, |conn| {
                    repo::record_attempt(conn, &delivery, lease, retry)
                })?)
            })
            .await;
        match recorded {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, webhook = %id, "recording a delivery failed");
                return;
            }
        }
        if let Some(n) = next {
            tracing::info!(webhook = %id, seq = body.seq, attempt = n.attempt, error = %failure_text, "webhook delivery failed");
            return;
        }
    }
    let now = crate::clock::now();
    if let Err(e) = state
        .db(move |conn| Ok(repo::release(conn, &id, lease, now)?))
        .await
    {
        tracing::warn!(error = %e, "releasing a webhook failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(failures: i32, since: Option<NaiveDateTime>) -> WebhookRow {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        WebhookRow {
            id: "w".into(),
            client_id: "c".into(),
            url: "http://example.com/".into(),
            secret: "s".into(),
            event_types: "record.revoked".into(),
            enterprise_id: None,
            product_id: None,
            kind: None,
            cursor: 0,
            status: "active".into(),
            paused_reason: None,
            failures,
            failing_since: since,
            next_attempt_at: t,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn retries_back_off_and_pause_after_fifty_or_a_day() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let base = Duration::from_secs(1);
        let first = after_failure(&hook(0, None), now, base, "HTTP 500");
        assert_eq!(first.attempt, 1);
        assert_eq!(first.failing_since, now);
        assert_eq!(first.retry_at - now, chrono::Duration::seconds(1));
        assert_eq!(first.pause, None);
        let fifth = after_failure(&hook(4, Some(now)), now, base, "HTTP 500");
        assert_eq!(fifth.retry_at - now, chrono::Duration::seconds(16));
        let late = after_failure(&hook(30, Some(now)), now, base, "HTTP 500");
        assert_eq!(late.retry_at - now, chrono::Duration::minutes(30));
        // The whole schedule of 49 retries stays within the day.
        let mut total = chrono::Duration::zero();
        let mut since = None;
        let mut t = now;
        for f in 0..49 {
            let a = after_failure(&hook(f, since), t, base, "x");
            assert_eq!(a.pause, None, "paused early at attempt {}", a.attempt);
            total += a.retry_at - t;
            since = Some(a.failing_since);
            t = a.retry_at;
        }
        assert!(total < chrono::Duration::hours(24), "{total}");
        let fiftieth = after_failure(&hook(49, since), t, base, "HTTP 503");
        assert_eq!(fiftieth.attempt, 50);
        assert!(fiftieth.pause.unwrap().contains("HTTP 503"));
        let day = now - chrono::Duration::hours(24);
        assert!(after_failure(&hook(3, Some(day)), now, base, "timeout")
            .pause
            .unwrap()
            .contains("24 hours"));
    }
}
