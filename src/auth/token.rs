//! Access tokens (JWT, HS256 pinned) and opaque refresh tokens (stored as SHA-256).

use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Settings, JWT_AUDIENCE, JWT_ISSUER};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Always `access`: refresh tokens are opaque and never JWTs, and this claim keeps any
    /// other token we might sign later from passing as an access token.
    pub typ: String,
    pub role: String,
    /// The session (refresh-token family) the token belongs to: ending the session refuses
    /// its access tokens at once, not only when they expire.
    pub sid: String,
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The secret before a rotation: tokens it signed stay valid until they expire.
    previous: Option<DecodingKey>,
    validation: Validation,
    pub access_ttl_secs: i64,
}

impl Keys {
    pub fn new(settings: &Settings) -> Self {
        let secret = settings.jwt_secret_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_audience(&[JWT_AUDIENCE]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            previous: settings
                .jwt_secret_previous
                .as_ref()
                .map(|p| DecodingKey::from_secret(p.expose_secret().as_bytes())),
            validation,
            access_ttl_secs: settings.access_token_ttl.as_secs() as i64,
        }
    }

    pub fn issue_access(&self, user_id: &str, role: &str, session_id: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            iss: JWT_ISSUER.to_owned(),
            aud: JWT_AUDIENCE.to_owned(),
            exp: now + self.access_ttl_secs,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            typ: "access".to_owned(),
            role: role.to_owned(),
            sid: session_id.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail")
    }

    /// Checks signature, algorithm, issuer, audience, expiry and type; returns the claims.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .or_else(|e| match (&self.previous, e.kind()) {
                (Some(previous), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    decode::<Claims>(token, previous, &self.validation)
                }
                _ => Err(e),
            })
            .ok()?;
        (data.claims.typ == "access").then_some(data.claims)
    }
}

/// A new opaque refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let settings =
            Settings::from_lookup(|k| (k == "JWT_SECRET").then(|| "x".repeat(40))).unwrap();
        Keys::new(&settings)
    }

    #[test]
    fn the_previous_secret_verifies_but_never_signs() {
        let old_secret = "o".repeat(40);
        let lookup = |previous: bool| {
            let old_secret = old_secret.clone();
            Settings::from_lookup(move |k| match k {
                "JWT_SECRET" => Some("n".repeat(40)),
                "JWT_SECRET_PREVIOUS" if previous => Some(old_secret.clone()),
                _ => None,
            })
            .unwrap()
        };
        let before = Keys::new(
            &Settings::from_lookup(|k| (k == "JWT_SECRET").then(|| "o".repeat(40))).unwrap(),
        );
        let issued_before = before.issue_access("user-1", "admin", "s-1");
        let rotated = Keys::new(&lookup(true));
        assert_eq!(rotated.verify_access(&issued_before).unwrap().sub, "user-1");
        // New tokens are signed with the new secret only.
        let issued_after = rotated.issue_access("user-2", "admin", "s-2");
        assert!(before.verify_access(&issued_after).is_none());
        // Once JWT_SECRET_PREVIOUS is dropped, the old tokens are refused.
        assert!(Keys::new(&lookup(false))
            .verify_access(&issued_before)
            .is_none());
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_subject() {
        let k = keys();
        let t = k.issue_access("user-1", "admin", "s-1");
        let c = k.verify_access(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.role.as_str()), ("user-1", "admin"));
        assert!(c.exp - c.iat <= 900);
    }

    #[test]
    fn other_algorithms_keys_and_missing_claims_are_refused() {
        let k = keys();
        let now = chrono::Utc::now().timestamp();
        // Signed with the right key but HS512: the algorithm is pinned.
        let claims = serde_json::json!({"sub": "u", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "exp": now + 60, "iat": now, "jti": "j", "typ": "access", "role": "admin", "sid": "s"});
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret("x".repeat(40).as_bytes()),
        )
        .unwrap();
        assert!(k.verify_access(&hs512).is_none());
        // Another key.
        let other = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&[7u8; 40]),
        )
        .unwrap();
        assert!(k.verify_access(&other).is_none());
        // No exp.
        let no_exp = serde_json::json!({"sub": "u", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": now, "jti": "j", "typ": "access", "role": "admin", "sid": "s"});
        let t = encode(
            &Header::new(Algorithm::HS256),
            &no_exp,
            &EncodingKey::from_secret("x".repeat(40).as_bytes()),
        )
        .unwrap();
        assert!(k.verify_access(&t).is_none());
        // Expired.
        let old = serde_json::json!({"sub": "u", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "exp": now - 600, "iat": now - 1500, "jti": "j", "typ": "access", "role": "admin", "sid": "s"});
        let t = encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret("x".repeat(40).as_bytes()),
        )
        .unwrap();
        assert!(k.verify_access(&t).is_none());
        // Wrong type.
        let refresh = serde_json::json!({"sub": "u", "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "exp": now + 60, "iat": now, "jti": "j", "typ": "refresh", "role": "admin"});
        let t = encode(
            &Header::new(Algorithm::HS256),
            &refresh,
            &EncodingKey::from_secret("x".repeat(40).as_bytes()),
        )
        .unwrap();
        assert!(k.verify_access(&t).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
