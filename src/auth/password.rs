//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1).

use std::sync::LazyLock;

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

/// Hashes a password to a PHC string. CPU-heavy: call it off the async threads.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid params")
        .to_string()
}

/// Verifies against a stored PHC string (its own parameters are honoured).
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
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
