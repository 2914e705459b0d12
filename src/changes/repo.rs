//! The feed's query over the publication log.

use super::{ChangeEntry, ChangeFeed};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::publication;

/// Where the entity a change names is read.
pub fn href(entity_type: &str, id: &str) -> String {
    let collection = match entity_type {
        "certification" => "certifications",
        "designation" => "designations",
        "enterprise" => "enterprises",
        "product" => "products",
        "standard" => "standards",
        other => other,
    };
    format!("/api/v1/{collection}/{id}")
}

/// Public changes after `since`, in commit order, of `types` (all when empty). A cursor beyond
/// the newest change is refused: it was not handed out by this register.
pub fn feed(conn: &mut DbConn, since: i64, limit: i64, types: &[String]) -> ApiResult<ChangeFeed> {
    let head = publication::head(conn)?;
    if since > head {
        return Err(ApiError::CursorAhead { since, head });
    }
    let rows = publication::read(conn, since, limit, types)?;
    let full = rows.len() as i64 == limit;
    // Past the last item read, or (nothing of these types left) the head itself.
    let next = match rows.last() {
        Some(last) if full => last.seq,
        Some(last) => last.seq.max(head),
        None => head,
    };
    let items = rows
        .into_iter()
        .map(|p| ChangeEntry {
            seq: p.seq,
            href: href(&p.entity_type, &p.entity_id),
            entity_type: p.entity_type,
            entity_id: p.entity_id,
            change: p.action,
            at: crate::clock::to_utc(p.at),
        })
        .collect();
    Ok(ChangeFeed {
        items,
        next_cursor: next.to_string(),
        up_to_date: !full,
    })
}
