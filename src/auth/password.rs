//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1).

use std::sync::{mpsc, Arc, LazyLock, Mutex};

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

/// Argon2 runs on a few dedicated threads, one per core. Each computation holds 19 MiB, and
/// the allocator keeps freed memory in the arena of the thread that used it: run on the
/// blocking pool (hundreds of threads), a burst of sign-ups left that much resident per
/// thread (876 MB after 64 parallel sign-ups). Here it is at most one block per core.
static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    Hashers::new(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    )
});

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs in turn; callers block until theirs is done.
struct Hashers {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Hashers {
    fn new(threads: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().expect("hasher queue").recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("spawn a hashing thread");
        }
        Self {
            jobs: Mutex::new(tx),
        }
    }

    fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .lock()
            .expect("hasher queue")
            .send(job)
            .expect("hashing threads run for the life of the process");
        result.recv().expect("a hashing job always answers")
    }
}

/// Hashes a password to a PHC string. CPU-heavy: call it off the async threads.
pub fn hash(password: &str) -> String {
    let password = password.to_owned();
    HASHERS.run(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing with valid params")
            .to_string()
    })
}

/// Verifies against a stored PHC string (its own parameters are honoured).
pub fn verify(phc: &str, password: &str) -> bool {
    let (phc, password) = (phc.to_owned(), password.to_owned());
    HASHERS.run(move || {
        PasswordHash::new(&phc)
            .is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
    })
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
    fn hashing_runs_on_a_fixed_set_of_threads() {
        let hashers = Arc::new(Hashers::new(2));
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let hashers = hashers.clone();
                std::thread::spawn(move || hashers.run(|| std::thread::current().id()))
            })
            .collect();
        let threads: std::collections::HashSet<_> =
            callers.into_iter().map(|c| c.join().unwrap()).collect();
        assert!(threads.len() <= 2, "{threads:?}");
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
