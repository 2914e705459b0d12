//! Throttles failed logins per (username, client address): after `max_failures` inside the
//! window, further attempts get 429 until the window passes. A success clears the count.

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

    /// `Err(seconds)` when the caller must wait before trying again.
    pub fn check(&self, username: &str, client: &str) -> Result<(), u64> {
        let mut map = self.entries.lock().expect("throttle lock");
        let key = Self::key(username, client);
        match map.get(&key) {
            Some((n, since)) if since.elapsed() < self.window => {
                if *n >= self.max_failures {
                    Err((self.window - since.elapsed()).as_secs().max(1))
                } else {
                    Ok(())
                }
            }
            Some(_) => {
                map.remove(&key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, client: &str) {
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
        e.0 += 1;
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
            assert!(t.check("Alice", "1.2.3.4").is_ok());
            t.failed("alice", "1.2.3.4");
        }
        assert!(t.check("alice", "1.2.3.4").is_err());
        assert!(
            t.check("alice", "5.6.7.8").is_ok(),
            "another client is not blocked"
        );
        t.succeeded("alice", "1.2.3.4");
        assert!(t.check("alice", "1.2.3.4").is_ok());
    }

    #[test]
    fn the_window_expires() {
        let t = LoginThrottle::new(1, Duration::from_millis(1));
        t.failed("bob", "c");
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.check("bob", "c").is_ok());
    }
}
