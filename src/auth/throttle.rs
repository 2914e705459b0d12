//! Throttles failed logins per (username, client address): after `max_failures` inside the
//! window, further attempts get 429 until the window passes. A success clears the count.
//! Keyed by both, so an attacker elsewhere cannot lock a real user out of their own address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(username: &str, client: &str) -> String {
        format!("{}\u{0}{client}", username.trim().to_lowercase())
    }

    /// Reserves one attempt, or `Err(seconds)` when the caller must wait. The attempt counts
    /// as a failure from the start (a success clears it with `succeeded`): checking and
    /// counting under one lock is what holds the limit when many attempts arrive at once,
    /// and a refused attempt costs no password hash.
    pub fn begin(&self, username: &str, client: &str) -> Result<(), u64> {
        let mut map = self.entries.lock().expect("throttle lock");
        // Bound memory under a spray of usernames: drop stale entries now and then.
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = map
            .entry(Self::key(username, client))
            .or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        if e.0 >= self.max_failures {
            return Err((self.window.saturating_sub(e.1.elapsed())).as_secs().max(1));
        }
        e.0 += 1;
        Ok(())
    }

    pub fn succeeded(&self, username: &str, client: &str) {
        self.entries
            .lock()
            .expect("throttle lock")
            .remove(&Self::key(username, client));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures_and_success_resets() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.begin("Alice", "1.2.3.4").is_ok());
        }
        assert!(t.begin("alice", "1.2.3.4").is_err());
        assert!(
            t.begin("alice", "5.6.7.8").is_ok(),
            "another client is not blocked"
        );
        t.succeeded("alice", "1.2.3.4");
        assert!(t.begin("alice", "1.2.3.4").is_ok());
    }

    #[test]
    fn parallel_attempts_cannot_overshoot_the_limit() {
        let t = std::sync::Arc::new(LoginThrottle::new(5, Duration::from_secs(60)));
        let allowed: usize = (0..30)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.begin("carol", "9.9.9.9").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn the_window_expires() {
        let t = LoginThrottle::new(1, Duration::from_millis(1));
        assert!(t.begin("bob", "c").is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.begin("bob", "c").is_ok());
    }
}
