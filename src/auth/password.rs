//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1).

use std::sync::{Condvar, LazyLock, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Errors;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many argon2 computations run at once. Each holds 19 MiB; without a bound, a burst of
/// sign-ups or sign-ins (the blocking pool has hundreds of threads) would hold that many
/// times over. One per core also keeps the CPU for everything else.
static SLOTS: LazyLock<Slots> = LazyLock::new(|| {
    Slots::new(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    )
});

/// A counting semaphore for blocking threads (argon2 runs on the blocking pool).
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
    #[cfg(test)]
    peak: std::sync::atomic::AtomicUsize,
    #[cfg(test)]
    size: usize,
}

impl Slots {
    pub fn new(size: usize) -> Self {
        Self {
            free: Mutex::new(size.max(1)),
            freed: Condvar::new(),
            #[cfg(test)]
            peak: Default::default(),
            #[cfg(test)]
            size: size.max(1),
        }
    }

    fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        {
            let mut free = self.free.lock().expect("slots lock");
            while *free == 0 {
                free = self.freed.wait(free).expect("slots lock");
            }
            *free -= 1;
            #[cfg(test)]
            self.peak
                .fetch_max(self.size - *free, std::sync::atomic::Ordering::SeqCst);
        }
        // Give the slot back even if the work panics.
        struct Release<'a>(&'a Slots);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                *self.0.free.lock().expect("slots lock") += 1;
                self.0.freed.notify_one();
            }
        }
        let _release = Release(self);
        work()
    }
}

/// Hashes a password to a PHC string. CPU-heavy: call it off the async threads.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    SLOTS.run(|| {
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing with valid params")
            .to_string()
    })
}

/// Verifies against a stored PHC string (its own parameters are honoured).
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|h| SLOTS.run(|| hasher().verify_password(password.as_bytes(), &h).is_ok()))
}

/// Spends the same time as a real verification, so a login for an unknown user is not faster.
pub fn verify_dummy(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash("dummy password for timing"));
    let _ = verify(&DUMMY, password);
}

/// Length rules for new passwords.
pub fn check_new(errors: &mut Errors, field: &str, password: &str) {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        errors.push(
            field,
            "too_short",
            format!("at least {MIN_LENGTH} characters"),
        );
    } else if n > MAX_LENGTH {
        errors.push(
            field,
            "too_long",
            format!("at most {MAX_LENGTH} characters"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_hashes_run_at_once_than_there_are_slots() {
        let slots = std::sync::Arc::new(Slots::new(2));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let slots = slots.clone();
                std::thread::spawn(move || {
                    slots.run(|| std::thread::sleep(std::time::Duration::from_millis(5)))
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(slots.peak.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(*slots.free.lock().unwrap(), 2);
    }

    #[test]
    fn hashes_with_argon2id_at_owasp_parameters_and_verifies() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "wrong horse battery"));
        assert!(!verify("not a hash", "x"));
    }

    #[test]
    fn new_passwords_need_ten_characters() {
        let mut e = Errors::new();
        check_new(&mut e, "password", "123456789");
        assert!(!e.is_empty());
        let mut e = Errors::new();
        check_new(&mut e, "password", "密码密码密码密码密码");
        assert!(e.is_empty());
    }
}
