//! The registry's signing keys (Ed25519): they sign audit checkpoints and verification answers,
//! and live in files outside the database, so someone who can rewrite the database cannot
//! forge a signature. Public halves are published as a JWKS, each key named by its RFC 7638
//! thumbprint.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an Ed25519 key in PEM (PKCS#8 private or SPKI public)")]
    Format { path: String },
    #[error("cannot write the key file {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Where a development key is generated when `REGISTRY_SIGNING_KEY` is not set.
pub const DEVELOPMENT_KEY_PATH: &str = "./data/signing-key.pem";

/// A public key the registry signs or signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    pub kid: String,
}

/// A key that signs.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

/// One key of a JWKS (RFC 7517, RFC 8037).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Its RFC 7638 thumbprint, as the `kid` of what it signed.
    pub kid: String,
    #[schema(example = "sig")]
    #[serde(rename = "use")]
    pub use_: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
}

impl PublicKey {
    fn new(key: ed25519_dalek::VerifyingKey) -> Self {
        let x = B64.encode(key.as_bytes());
        // RFC 7638: the members in lexicographic order, no blanks.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = B64.encode(Sha256::digest(canonical.as_bytes()));
        Self { key, kid }
    }

    /// From `x` as published in a JWK.
    pub fn from_x(x: &str) -> Option<Self> {
        let bytes: [u8; 32] = B64.decode(x).ok()?.try_into().ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .ok()
            .map(Self::new)
    }

    /// From a PEM file: a private key (its public half is taken) or a public key.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = read(path)?;
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(&pem) {
            return Ok(Self::new(k));
        }
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
            .map(|k| Self::new(k.verifying_key()))
            .map_err(|_| KeyError::Format {
                path: path.display().to_string(),
            })
    }

    pub fn x(&self) -> String {
        B64.encode(self.key.as_bytes())
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: self.x(),
            kid: self.kid.clone(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
        }
    }

    /// Whether `signature` (base64url) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Some(bytes) = B64
            .decode(signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.key
            .verify(message, &ed25519_dalek::Signature::from_bytes(&bytes))
            .is_ok()
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl SigningKey {
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        Self::from_key(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    fn from_key(key: ed25519_dalek::SigningKey) -> Self {
        let public = PublicKey::new(key.verifying_key());
        Self { key, public }
    }

    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = read(path)?;
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
            .map(Self::from_key)
            .map_err(|_| KeyError::Format {
                path: path.display().to_string(),
            })
    }

    /// Writes the key as PKCS#8 PEM, readable by its owner only, refusing to replace a file.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let err = |reason: String| KeyError::Write {
            path: path.display().to_string(),
            reason,
        };
        let pem = self
            .key
            .to_pkcs8_pem(Default::default())
            .map_err(|e| err(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| err(e.to_string()))?;
        std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(|e| err(e.to_string()))
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The signature of `message`, base64url.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }

    /// A compact JWS (RFC 7515) of `payload` (JSON), `alg` EdDSA, `kid` this key.
    pub fn jws(&self, payload: &[u8]) -> String {
        let header = format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, self.kid());
        let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{signature}")
    }
}

/// The keys the registry signs with now and trusts from before: what checks a signature.
pub struct Keyring {
    pub current: SigningKey,
    pub previous: Vec<PublicKey>,
}

impl Keyring {
    /// The trusted public key named `kid`, if any.
    pub fn trusted(&self, kid: &str) -> Option<&PublicKey> {
        std::iter::once(self.current.public())
            .chain(self.previous.iter())
            .find(|k| k.kid == kid)
    }

    /// Loads the configured key, or in development generates one at `default_path` (with a
    /// warning) when none is configured.
    pub fn from_settings(
        settings: &crate::config::Settings,
        default_path: &Path,
    ) -> Result<Self, KeyError> {
        let current = match &settings.signing_key {
            Some(path) => SigningKey::load(path)?,
            None if default_path.exists() => SigningKey::load(default_path)?,
            None => {
                let key = SigningKey::generate();
                key.write(default_path)?;
                tracing::warn!(
                    path = %default_path.display(),
                    "REGISTRY_SIGNING_KEY is not set: generated a development signing key; \
                     production refuses to start without one"
                );
                key
            }
        };
        let previous = settings
            .previous_signing_keys
            .iter()
            .map(|p| PublicKey::load(p))
            .collect::<Result<_, _>>()?;
        Ok(Self { current, previous })
    }
}

/// What signs a checkpoint of the audit chain every `every` entries, handed to each request's
/// audit context.
pub struct Checkpointer {
    pub keyring: std::sync::Arc<Keyring>,
    pub every: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_loads_back_and_its_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = SigningKey::generate();
        key.write(&path).unwrap();
        assert!(key.write(&path).is_err(), "never replaces a key file");
        let loaded = SigningKey::load(&path).unwrap();
        assert_eq!(loaded.kid(), key.kid());
        let sig = loaded.sign(b"checkpoint");
        assert!(key.public().verifies(b"checkpoint", &sig));
        assert!(!key.public().verifies(b"checkpoinT", &sig));
        assert!(!SigningKey::generate()
            .public()
            .verifies(b"checkpoint", &sig));
        assert_eq!(PublicKey::load(&path).unwrap(), *key.public());
        assert_eq!(PublicKey::from_x(&key.public().x()).unwrap(), *key.public());
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037, appendix A.3: the thumbprint of its example public key.
        let k = PublicKey::from_x("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        assert_eq!(k.kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn a_jws_has_an_eddsa_header_and_a_valid_signature() {
        let key = SigningKey::generate();
        let jws = key.jws(br#"{"number":"N"}"#);
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.kid());
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(key.public().verifies(input.as_bytes(), parts[2]));
    }
}
