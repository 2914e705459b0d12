//! Public answers kept in memory, each dropped when a record it depends on changes.
//!
//! An answer (a verification, say) is stored with the entities it was built from
//! (`certification:ID`, `product:ID`, `enterprise:ID`). Every change to public data is in the
//! publication log (`crate::publication`), written in the change's own transaction; each
//! instance follows that log ([`Answers::catch_up`]: every 250 ms, and before answering any
//! write it served itself) and drops the answers that depend on what changed. So a hit costs
//! no database round trip, a write elsewhere empties nothing unrelated, the instance that made
//! a change never serves the old answer, and other instances drop it within the follow
//! interval.
//!
//! A reader that loaded an answer before a change and stores it after the change was followed
//! would keep a stale entry: [`Answers::insert`] therefore refuses an answer loaded before any
//! followed change to one of its entities.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::db::DbConn;

/// How often each instance reads the publication log.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// How many followed changes are remembered to judge answers loaded before them.
const RECENT: usize = 50_000;

#[derive(Debug)]
struct Entry {
    answer: Kept,
    depends_on: Vec<String>,
}

/// An answer as kept: its JSON, and the version its `ETag` names (when it has one).
#[derive(Debug, Clone)]
pub struct Kept {
    pub json: Arc<str>,
    pub version: Option<i32>,
}

/// An answer just loaded, with what it was built from.
#[derive(Debug)]
pub struct Loaded {
    pub answer: Kept,
    pub depends_on: Vec<String>,
}

#[derive(Debug, Default)]
struct Follower {
    /// The last publication sequence followed.
    position: i64,
    /// (sequence, entity) of the changes followed lately, oldest first.
    recent: VecDeque<(i64, String)>,
    started: bool,
}

/// One cache of answers with the log follower that keeps it true.
pub struct Answers {
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    follower: Mutex<Follower>,
}

/// What an entry costs in memory, so that the configured size bounds what the process holds:
/// its bytes, an allocator header per allocation, and what moka spends on each entry (its
/// shared key, entry info, two deque nodes and the hash table's slot). With the bytes alone,
/// a 32 MB cache held about 42 MB (measured with `bench/run.sh`).
fn weight(key: &str, e: &Entry) -> usize {
    const ALLOCATION: usize = 16;
    const STRING: usize = 24 + ALLOCATION;
    const PER_ENTRY: usize = 320;
    let deps: usize = e.depends_on.iter().map(|d| d.len() + STRING).sum();
    key.len() + STRING + e.answer.json.len() + 2 * ALLOCATION + deps + PER_ENTRY
}

/// The entity key the publication log and the answers share.
pub fn entity(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

impl Answers {
    /// Answers up to about `bytes` of memory (0: none kept).
    pub fn new(bytes: u64) -> Self {
        let entries = (bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|key: &String, e: &Arc<Entry>| {
                    u32::try_from(weight(key, e)).unwrap_or(u32::MAX)
                })
                .support_invalidation_closures()
                .build()
        });
        Self {
            entries,
            follower: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    pub fn get(&self, key: &str) -> Option<Kept> {
        self.entries.as_ref()?.get(key).map(|e| e.answer.clone())
    }

    /// The answer kept under `key`, or the one `load` builds (kept for the next caller).
    /// `name` labels the hit and miss counters.
    pub async fn through<F>(
        state: &crate::state::AppState,
        name: &'static str,
        key: String,
        load: F,
    ) -> crate::error::ApiResult<Kept>
    where
        F: FnOnce(&mut DbConn) -> crate::error::ApiResult<Loaded> + Send + 'static,
    {
        let answers = state.answers.clone();
        if let Some(kept) = answers.get(&key) {
            state.metrics.cache_lookup(name, true);
            return Ok(kept);
        }
        state.metrics.cache_lookup(name, false);
        let loaded_at = answers.position();
        let (loaded, replica_held) = state.db_from(load).await?;
        // A replica may not yet hold every change followed: the answer is as old as it.
        let loaded_at = replica_held.map_or(loaded_at, |held| held.min(loaded_at));
        let answer = loaded.answer.clone();
        answers.insert(key, loaded, loaded_at);
        Ok(answer)
    }

    /// Where the follower is: take it before loading an answer, and pass it to `insert`.
    pub fn position(&self) -> i64 {
        self.follower.lock().expect("follower").position
    }

    /// Keeps an answer loaded after `loaded_at` (a [`position`](Self::position)), unless a
    /// change to one of the entities it depends on has been followed since.
    pub fn insert(&self, key: String, loaded: Loaded, loaded_at: i64) {
        let Loaded { answer, depends_on } = loaded;
        let Some(entries) = &self.entries else { return };
        let follower = self.follower.lock().expect("follower");
        if !follower.started {
            // Until the follower knows where the log is, nothing could be dropped in time.
            return;
        }
        if follower.position > loaded_at {
            let covered = follower
                .recent
                .front()
                .is_some_and(|(seq, _)| *seq <= loaded_at + 1);
            let changed = follower
                .recent
                .iter()
                .rev()
                .take_while(|(seq, _)| *seq > loaded_at)
                .any(|(_, e)| depends_on.contains(e));
            if !covered || changed {
                return;
            }
        }
        // Inserted under the lock: a change followed from now on finds the entry to drop.
        entries.insert(key, Arc::new(Entry { answer, depends_on }));
    }

    /// Follows the publication log past the last position, dropping the answers that depend
    /// on each change; returns how many changes it read. The first call only takes the
    /// position (the cache starts empty).
    pub fn catch_up(&self, conn: &mut DbConn) -> diesel::QueryResult<usize> {
        let mut read = 0;
        loop {
            let from = {
                let follower = self.follower.lock().expect("follower");
                follower.started.then_some(follower.position)
            };
            let Some(from) = from else {
                let head = crate::publication::head(conn)?;
                let mut follower = self.follower.lock().expect("follower");
                if !follower.started {
                    follower.position = head;
                    follower.started = true;
                }
                return Ok(0);
            };
            let batch = crate::publication::read(conn, from, 1000, &[])?;
            if batch.is_empty() {
                return Ok(read);
            }
            read += batch.len();
            // A new or changed record changes its product's profile too, which cannot name
            // a record it did not have when it was built, and the answer for its number.
            let records: Vec<(&str, &str)> = batch
                .iter()
                .map(|p| (p.entity_type.as_str(), p.entity_id.as_str()))
                .collect();
            let touched = crate::records::touched_by(conn, &records)?;
            let mut follower = self.follower.lock().expect("follower");
            for p in &batch {
                // Another caller may have followed the same entries meanwhile.
                if p.seq <= follower.position {
                    continue;
                }
                let key = entity(&p.entity_type, &p.entity_id);
                let also = touched
                    .iter()
                    .filter(|t| t.record_type == p.entity_type && t.id == p.entity_id)
                    .flat_map(|t| {
                        let product = t.product_id.as_deref().map(|id| entity("product", id));
                        product.into_iter().chain([entity("number", &t.number)])
                    });
                for changed in std::iter::once(key).chain(also) {
                    if let Some(entries) = &self.entries {
                        let dropped = changed.clone();
                        // moka evaluates the predicate against every entry, lazily; an
                        // answer reads a handful of entities, so the test is cheap.
                        let _ = entries
                            .invalidate_entries_if(move |_, e| e.depends_on.contains(&dropped));
                    }
                    follower.recent.push_back((p.seq, changed));
                }
                follower.position = p.seq;
                while follower.recent.len() > RECENT {
                    follower.recent.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers_at(position: i64) -> Answers {
        let a = Answers::new(1 << 20);
        {
            let mut f = a.follower.lock().unwrap();
            f.position = position;
            f.started = true;
        }
        a
    }

    fn loaded(depends_on: &str) -> Loaded {
        Loaded {
            answer: Kept {
                json: "{}".into(),
                version: None,
            },
            depends_on: vec![depends_on.to_owned()],
        }
    }

    fn follow(a: &Answers, seq: i64, key: &str) {
        let mut f = a.follower.lock().unwrap();
        f.position = seq;
        f.recent.push_back((seq, key.to_owned()));
    }

    #[test]
    fn an_answer_loaded_before_a_change_to_its_entities_is_not_kept() {
        let a = answers_at(10);
        let loaded_at = a.position();
        follow(&a, 11, "product:p");
        a.insert("stale".into(), loaded("product:p"), loaded_at);
        assert!(a.get("stale").is_none());
        // A change to something else does not matter.
        a.insert("fine".into(), loaded("product:q"), loaded_at);
        assert!(a.get("fine").is_some());
        // Loaded after the change: kept.
        a.insert("fresh".into(), loaded("product:p"), a.position());
        assert!(a.get("fresh").is_some());
    }

    #[test]
    fn an_answer_older_than_what_is_remembered_is_not_kept() {
        let a = answers_at(10);
        follow(&a, 20, "product:x");
        // Changes 11..19 are not remembered: nobody can tell what they touched.
        a.insert("k".into(), loaded("product:y"), 10);
        assert!(a.get("k").is_none());
        assert!(!Answers::new(0).enabled());
    }
}
