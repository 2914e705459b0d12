//! Queries on `webhooks` and `webhook_deliveries`, and the next event a subscription is owed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    api_clients, certifications, designations, products, webhook_deliveries, webhooks,
};
use crate::db::DbConn;
use crate::pagination::PageRequest;
use crate::publication::{self, Publication};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct WebhookRow {
    pub id: String,
    pub client_id: String,
    pub url: String,
    pub secret: String,
    /// Comma-separated event types.
    pub event_types: String,
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub kind: Option<String>,
    pub cursor: i64,
    pub status: String,
    pub paused_reason: Option<String>,
    pub failures: i32,
    pub failing_since: Option<NaiveDateTime>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.event_types.split(',').filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub seq: i64,
    pub event_type: String,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub succeeded: bool,
    pub duration_ms: i32,
    pub at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A client's own subscription (another client's does not exist for it).
pub fn find_of(conn: &mut DbConn, client_id: &str, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .filter(webhooks::client_id.eq(client_id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_of(
    conn: &mut DbConn,
    client_id: &str,
    page: &PageRequest,
) -> QueryResult<Vec<WebhookRow>> {
    let mut q = webhooks::table
        .filter(webhooks::client_id.eq(client_id))
        .order(webhooks::id.asc())
        .limit(page.fetch())
        .select(WebhookRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(webhooks::id.gt(after.clone()));
    }
    q.load(conn)
}

pub fn count_of(conn: &mut DbConn, client_id: &str) -> QueryResult<i64> {
    webhooks::table
        .filter(webhooks::client_id.eq(client_id))
        .count()
        .get_result(conn)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhooks::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn set_secret(conn: &mut DbConn, id: &str, secret: &str) -> QueryResult<()> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::secret.eq(secret),
            webhooks::updated_at.eq(crate::clock::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Active again from `cursor` (a replay, or a resume where it stopped), failures forgotten. A
/// turn may be sending to the subscriber right now (active, and its turn not yet due): moving
/// `next_attempt_at` stops that turn at its next write, and the new turn starts only after
/// `in_flight` (the longest a send can take), so the subscriber never gets two at once.
pub fn restart(
    conn: &mut DbConn,
    w: &WebhookRow,
    cursor: i64,
    in_flight: chrono::Duration,
) -> QueryResult<()> {
    let now = crate::clock::now();
    let start = if w.status == "active" && w.next_attempt_at > now {
        now + in_flight
    } else {
        now
    };
    diesel::update(webhooks::table.find(&w.id))
        .set((
            webhooks::cursor.eq(cursor),
            webhooks::status.eq("active"),
            webhooks::paused_reason.eq(None::<String>),
            webhooks::failures.eq(0),
            webhooks::failing_since.eq(None::<NaiveDateTime>),
            webhooks::next_attempt_at.eq(start),
            webhooks::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn deliveries(
    conn: &mut DbConn,
    webhook_id: &str,
    page: &PageRequest,
) -> QueryResult<Vec<DeliveryRow>> {
    // Newest first: ids are UUIDv7, so they sort by time.
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order(webhook_deliveries::id.desc())
        .limit(page.fetch())
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(webhook_deliveries::id.lt(after.clone()));
    }
    q.load(conn)
}

/// The ids of API clients not revoked: only their subscriptions deliver.
fn live_clients() -> diesel::dsl::Select<
    diesel::dsl::Filter<api_clients::table, diesel::dsl::IsNull<api_clients::revoked_at>>,
    api_clients::id,
> {
    api_clients::table
        .filter(api_clients::revoked_at.is_null())
        .select(api_clients::id)
}

/// Takes the subscriptions whose turn it is and that have something after their cursor, each
/// for `lease` (another instance skips it meanwhile): a conditional update per row, so two
/// instances never take the same one, and no transaction (an idle poll only reads). The lease's
/// end time is the turn's token: every later write of the turn is conditional on it, so a
/// replay, a resume or a pause made meanwhile (which move `next_attempt_at`) ends the turn
/// instead of being overwritten by it. Subscriptions of revoked clients are never taken.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    max: i64,
) -> QueryResult<Vec<WebhookRow>> {
    let head = publication::head(conn)?;
    let due: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::status.eq("active"))
        .filter(webhooks::next_attempt_at.le(now))
        .filter(webhooks::cursor.lt(head))
        .filter(webhooks::client_id.eq_any(live_clients()))
        .order(webhooks::next_attempt_at.asc())
        .limit(max)
        .select(WebhookRow::as_select())
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for mut w in due {
        let n = diesel::update(
            webhooks::table
                .find(&w.id)
                .filter(webhooks::next_attempt_at.eq(w.next_attempt_at))
                .filter(webhooks::status.eq("active")),
        )
        .set(webhooks::next_attempt_at.eq(lease_until))
        .execute(conn)?;
        if n == 1 {
            w.next_attempt_at = lease_until;
            claimed.push(w);
        }
    }
    Ok(claimed)
}

/// The subscription as it is now, if the turn holding `lease` still holds it (it is active and
/// nothing moved its turn): each event of a turn reads it afresh, so a new secret, URL or filter
/// applies from the next event on, and a client revoked meanwhile ends the turn.
pub fn leased(
    conn: &mut DbConn,
    id: &str,
    lease: NaiveDateTime,
) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .filter(webhooks::next_attempt_at.eq(lease))
        .filter(webhooks::status.eq("active"))
        .filter(webhooks::client_id.eq_any(live_clients()))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// Who an event concerns, for a subscription's filters and the event's body.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Concerns {
    pub enterprise_id: Option<String>,
    pub product_id: Option<String>,
    pub kind: Option<String>,
}

fn concerns(conn: &mut DbConn, p: &Publication) -> QueryResult<Concerns> {
    Ok(match p.entity_type.as_str() {
        "certification" => certifications::table
            .find(&p.entity_id)
            .select((
                certifications::enterprise_id,
                certifications::product_id,
                certifications::kind,
            ))
            .first::<(String, String, String)>(conn)
            .optional()?
            .map(|(e, pr, k)| Concerns {
                enterprise_id: Some(e),
                product_id: Some(pr),
                kind: Some(k),
            })
            .unwrap_or_default(),
        "designation" => designations::table
            .find(&p.entity_id)
            .select((
                designations::enterprise_id,
                designations::product_id,
                designations::kind,
            ))
            .first::<(String, Option<String>, String)>(conn)
            .optional()?
            .map(|(e, pr, k)| Concerns {
                enterprise_id: Some(e),
                product_id: pr,
                kind: Some(k),
            })
            .unwrap_or_default(),
        "product" => Concerns {
            enterprise_id: products::table
                .find(&p.entity_id)
                .select(products::enterprise_id)
                .first(conn)
                .optional()?,
            product_id: Some(p.entity_id.clone()),
            kind: None,
        },
        "enterprise" => Concerns {
            enterprise_id: Some(p.entity_id.clone()),
            ..Concerns::default()
        },
        _ => Concerns::default(),
    })
}

/// An event a subscription is owed.
#[derive(Debug, Clone)]
pub struct Event {
    pub publication: Publication,
    pub event_type: &'static str,
    pub concerns: Concerns,
}

pub enum Next {
    /// Deliver this one.
    Event(Event),
    /// Nothing of interest up to this sequence number: move the cursor there.
    Skip(i64),
    /// Nothing after the cursor yet.
    Idle,
}

/// The first event after the subscription's cursor that it asked for (types and filters),
/// looking at most at one page of the log.
pub fn next_event(conn: &mut DbConn, w: &WebhookRow) -> QueryResult<Next> {
    let rows = publication::read(conn, w.cursor, 500, &[])?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(Next::Idle);
    };
    let wanted: Vec<&str> = w.types().collect();
    for p in rows {
        let Some(event_type) = super::event_type_of(&p.action) else {
            continue;
        };
        if !wanted.contains(&event_type) {
            continue;
        }
        let concerns = concerns(conn, &p)?;
        let matches = |want: &Option<String>, got: &Option<String>| {
            want.is_none() || want.as_deref() == got.as_deref()
        };
        if matches(&w.enterprise_id, &concerns.enterprise_id)
            && matches(&w.product_id, &concerns.product_id)
            && matches(&w.kind, &concerns.kind)
        {
            return Ok(Next::Event(Event {
                publication: p,
                event_type,
                concerns,
            }));
        }
    }
    Ok(Next::Skip(last))
}

/// Moves the cursor past events the subscription does not want. False when the turn no longer
/// holds the subscription.
pub fn skip_to(conn: &mut DbConn, id: &str, lease: NaiveDateTime, seq: i64) -> QueryResult<bool> {
    diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::next_attempt_at.eq(lease))
            .filter(webhooks::cursor.lt(seq)),
    )
    .set(webhooks::cursor.eq(seq))
    .execute(conn)
    .map(|n| n == 1)
}

/// Hands the turn back: the subscription is due again now (unless something else moved it).
pub fn release(
    conn: &mut DbConn,
    id: &str,
    lease: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::next_attempt_at.eq(lease)),
    )
    .set(webhooks::next_attempt_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// What a failed attempt leaves for the next one.
pub struct Retry {
    pub failing_since: NaiveDateTime,
    pub at: NaiveDateTime,
    pub pause: Option<String>,
}

/// Records an attempt and its consequence: on success the cursor moves past the event (the turn
/// keeps its lease and goes on); on failure the next attempt waits until `retry.at`, or the
/// subscription pauses. The log keeps every attempt; the subscription changes only while the
/// turn still holds it. False when it no longer does.
pub fn record_attempt(
    conn: &mut DbConn,
    delivery: &DeliveryRow,
    lease: NaiveDateTime,
    retry: Option<Retry>,
) -> QueryResult<bool> {
    diesel::insert_into(webhook_deliveries::table)
        .values(delivery)
        .execute(conn)?;
    let target = webhooks::table
        .find(&delivery.webhook_id)
        .filter(webhooks::next_attempt_at.eq(lease));
    let Some(retry) = retry else {
        let n = diesel::update(target.filter(webhooks::cursor.lt(delivery.seq)))
            .set((
                webhooks::cursor.eq(delivery.seq),
                webhooks::failures.eq(0),
                webhooks::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        return Ok(n == 1);
    };
    let n = match retry.pause {
        Some(reason) => diesel::update(target)
            .set((
                webhooks::failures.eq(delivery.attempt),
                webhooks::failing_since.eq(retry.failing_since),
                webhooks::next_attempt_at.eq(retry.at),
                webhooks::status.eq("paused"),
                webhooks::paused_reason.eq(reason),
                webhooks::updated_at.eq(delivery.at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                webhooks::failures.eq(delivery.attempt),
                webhooks::failing_since.eq(retry.failing_since),
                webhooks::next_attempt_at.eq(retry.at),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}
