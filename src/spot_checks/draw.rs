//! The draw, as anyone can recompute it from the revealed seed: nothing here touches the
//! database or a clock, so the command-line check and an outside auditor run the same rule.
//!
//! - commitment: `sha256(seed)` in lower-case hex, published when the campaign is created;
//! - a candidate's score: `sha256(seed || candidate_id)` (the id as UTF-8), in hex; the
//!   `sample_size` candidates with the smallest scores are drawn (hex order is byte order);
//! - a target's inspectors: the pool ordered by `sha256(seed || target_id || ":" || inspector_id)`,
//!   walking it in that order and skipping every inspector who must recuse themselves, until two
//!   are found.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// How many inspectors go to each target.
pub const INSPECTORS_PER_TARGET: usize = 2;

pub fn commitment(seed: &[u8]) -> String {
    hex::encode(Sha256::digest(seed))
}

pub fn score(seed: &[u8], candidate_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(candidate_id.as_bytes());
    hex::encode(h.finalize())
}

pub fn inspector_score(seed: &[u8], target_id: &str, inspector_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(target_id.as_bytes());
    h.update(b":");
    h.update(inspector_id.as_bytes());
    hex::encode(h.finalize())
}

/// The `n` candidates with the smallest scores, smallest first: (id, score).
pub fn targets(seed: &[u8], candidates: &[String], n: usize) -> Vec<(String, String)> {
    let mut scored: Vec<(String, String)> = candidates
        .iter()
        .map(|c| (score(seed, c), c.clone()))
        .collect();
    scored.sort();
    scored.truncate(n);
    scored.into_iter().map(|(s, c)| (c, s)).collect()
}

/// An inspector skipped for a target, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recusal {
    pub inspector_id: String,
    /// `declared_conflict` or `reviewed_recently` (reviewed one of the enterprise's applications
    /// in the last 12 months).
    #[schema(example = "declared_conflict")]
    pub reason: String,
}

/// The inspectors drawn for one target, and those skipped on the way. `recused` maps an
/// inspector to why they may not inspect this target's enterprise. `None` when fewer than
/// [`INSPECTORS_PER_TARGET`] remain.
pub fn inspectors(
    seed: &[u8],
    target_id: &str,
    pool: &[String],
    recused: &BTreeMap<String, String>,
) -> Option<(Vec<String>, Vec<Recusal>)> {
    let mut ordered: Vec<(String, &String)> = pool
        .iter()
        .map(|i| (inspector_score(seed, target_id, i), i))
        .collect();
    ordered.sort();
    let (mut chosen, mut skipped) = (Vec::new(), Vec::new());
    for (_, inspector) in ordered {
        if chosen.len() == INSPECTORS_PER_TARGET {
            break;
        }
        match recused.get(inspector) {
            Some(reason) => skipped.push(Recusal {
                inspector_id: inspector.clone(),
                reason: reason.clone(),
            }),
            None => chosen.push(inspector.clone()),
        }
    }
    (chosen.len() == INSPECTORS_PER_TARGET).then_some((chosen, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("candidate-{i:03}")).collect()
    }

    #[test]
    fn the_commitment_and_scores_are_plain_sha256_in_hex() {
        // sha256("") and sha256("abc"), as any tool prints them.
        assert_eq!(
            commitment(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            score(b"a", "bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(inspector_score(b"a", "b", "c"), commitment(b"ab:c"));
    }

    #[test]
    fn the_smallest_scores_are_drawn_whatever_the_candidates_order() {
        let seed = [7u8; 32];
        let mut pool = ids(50);
        let drawn = targets(&seed, &pool, 5);
        assert_eq!(drawn.len(), 5);
        assert!(drawn.windows(2).all(|w| w[0].1 < w[1].1), "smallest first");
        let cutoff = &drawn[4].1;
        for c in &pool {
            let s = score(&seed, c);
            let is_drawn = drawn.iter().any(|(id, _)| id == c);
            assert_eq!(is_drawn, &s <= cutoff, "{c}");
        }
        pool.reverse();
        assert_eq!(
            targets(&seed, &pool, 5),
            drawn,
            "the order of the list does not matter"
        );
        assert_ne!(
            targets(&[8u8; 32], &pool, 5),
            drawn,
            "another seed, another draw"
        );
        assert_eq!(
            targets(&seed, &pool, 500).len(),
            50,
            "a sample larger than the pool"
        );
    }

    #[test]
    fn inspectors_are_walked_in_score_order_skipping_and_recording_recusals() {
        let seed = [1u8; 32];
        let pool: Vec<String> = ["i1", "i2", "i3", "i4"].map(String::from).to_vec();
        let (free, none) = inspectors(&seed, "t", &pool, &BTreeMap::new()).unwrap();
        assert!(none.is_empty());
        let mut order = pool.clone();
        order.sort_by_key(|i| inspector_score(&seed, "t", i));
        assert_eq!(free, order[..2]);

        let recused = BTreeMap::from([(order[0].clone(), "declared_conflict".to_owned())]);
        let (chosen, skipped) = inspectors(&seed, "t", &pool, &recused).unwrap();
        assert_eq!(chosen, order[1..3]);
        assert_eq!(
            skipped,
            [Recusal {
                inspector_id: order[0].clone(),
                reason: "declared_conflict".into()
            }]
        );
        let all_but_one: BTreeMap<String, String> = order[..3]
            .iter()
            .map(|i| (i.clone(), "reviewed_recently".to_owned()))
            .collect();
        assert!(inspectors(&seed, "t", &pool, &all_but_one).is_none());
    }
}
