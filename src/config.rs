//! Settings, read from the environment once at start-up. Secrets are wrapped so they never print.

use std::time::Duration;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// `DATABASE_READ_URL`: PostgreSQL read replicas (comma-separated), which serve public
    /// reads; empty: everything is read from `DATABASE_URL`.
    pub database_read_urls: Vec<String>,
    /// `REGISTRY_BIND`: address to listen on.
    pub bind: String,
    /// `REGISTRY_ENV`: `development` or `production`.
    pub environment: Environment,
    /// `JWT_SECRET`: HS256 key, at least 32 bytes.
    pub jwt_secret: SecretString,
    /// `REGISTRY_ACCESS_TOKEN_TTL_SECS`: lifetime of access tokens (at most 900).
    pub access_token_ttl: Duration,
    /// `REGISTRY_REFRESH_TOKEN_TTL_DAYS`: lifetime of refresh tokens.
    pub refresh_token_ttl: Duration,
    /// `REGISTRY_DB_POOL_SIZE`: connections in the pool.
    pub db_pool_size: u32,
    /// `REGISTRY_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: usize,
    /// `REGISTRY_LOGIN_MAX_FAILURES`: failed logins per username and client within the window
    /// before further attempts get 429.
    pub login_max_failures: u32,
    /// `REGISTRY_LOGIN_WINDOW_SECS`: the throttling window.
    pub login_window: Duration,
    /// `REGISTRY_PUBLIC_NOTICE_DAYS`: when set, every designation's public notice lasts this many
    /// days (0 allows an immediate grant); otherwise each kind's own length applies.
    pub public_notice_days: Option<u32>,
    /// `REGISTRY_PUBLIC_RATE_PER_MIN`: requests per minute per client address without a key.
    pub public_rate_per_min: u32,
    /// `REGISTRY_API_KEY_RATE_PER_MIN`: requests per minute per API key.
    pub api_key_rate_per_min: u32,
    /// `REGISTRY_LOGIN_RATE_PER_MIN`: sign-in attempts per minute per client address.
    pub login_rate_per_min: u32,
    /// `REGISTRY_FILING_RATE_PER_MIN`: self-registrations and objections per minute per client
    /// address (default 5).
    pub filing_rate_per_min: u32,
    /// `REGISTRY_ANSWER_CACHE_MB`: memory for answers kept (0 turns the cache off), each
    /// dropped when a record it depends on changes (`crate::cache`).
    pub answer_cache_mb: u64,
    /// `REGISTRY_EXPORT_PAGE_SIZE`: rows an export reads per query (1-10000).
    pub export_page_size: i64,
    /// `REGISTRY_SESSION_MAX_DAYS`: a session (a refresh-token family) ends this many days after
    /// sign-in however often it is refreshed.
    pub session_max_age: Duration,
    /// `REGISTRY_PENDING_DAYS`: a self-registration left unverified this long expires and no
    /// longer holds its USCC.
    pub pending_max_age: Duration,
    /// `REGISTRY_TRUSTED_PROXIES`: reverse proxies whose `Forwarded` / `X-Forwarded-For` name
    /// the client (comma-separated CIDRs). Empty: the TCP peer is the client.
    pub trusted_proxies: crate::net::TrustedProxies,
    /// `REGISTRY_CORS_ORIGINS`: web origins allowed to call the API signed in (comma-separated,
    /// `https://console.example.gov.cn`). Any origin may make public reads and verifications.
    pub cors_origins: Vec<String>,
    /// `REGISTRY_PUBLIC_URL`: the address the public reaches the service at
    /// (`https://registry.example.gov.cn`), for QR codes and links in pages. Required in
    /// production; in development the address a request came to is used.
    pub public_url: Option<String>,
    /// `REGISTRY_METRICS_TOKEN`: lets a scraper on another host read `/metrics` (bearer).
    pub metrics_token: Option<SecretString>,
    /// True when no JWT_SECRET was given and one was generated for this process.
    pub generated_jwt_secret: bool,
    /// `JWT_SECRET_PREVIOUS`: the secret before a rotation, accepted for verifying access tokens
    /// (never for signing) so rotating does not sign everyone out. Drop it after one access-token
    /// lifetime.
    pub jwt_secret_previous: Option<SecretString>,
    /// `REGISTRY_SIGNING_KEY`: the Ed25519 key file (PKCS#8 PEM, `registry keys generate`) that
    /// signs audit checkpoints and verification answers. Kept outside the database; required in
    /// production. In development a missing key is generated at `./data/signing-key.pem`.
    pub signing_key: Option<std::path::PathBuf>,
    /// `REGISTRY_SIGNING_KEYS_PREVIOUS`: comma-separated key files (private or public PEM) the
    /// registry signed with before a rotation; their signatures stay trusted.
    pub previous_signing_keys: Vec<std::path::PathBuf>,
    /// `REGISTRY_CHECKPOINT_EVERY`: sign a checkpoint of the audit chain every this many entries.
    pub checkpoint_every: u64,
    /// `REGISTRY_TIMEZONE`: an IANA zone (default `Asia/Shanghai`) deciding the local date.
    pub timezone: chrono_tz::Tz,
    /// `REGISTRY_HSTS`: `true` when the registry is only ever reached over HTTPS (behind a TLS
    /// proxy); answers then carry `Strict-Transport-Security`. Off by default, since a browser
    /// that saw it would refuse a plain-HTTP development server for a year.
    pub hsts: bool,
    /// `REGISTRY_WEBHOOK_ALLOW_PRIVATE`: `true` lets webhooks reach loopback, private and
    /// link-local addresses (tests, a closed network). Off by default: a subscriber must not be
    /// able to make the registry call into its own network.
    pub webhook_allow_private: bool,
    /// `REGISTRY_WEBHOOK_POLL_MS`: how often deliveries look for new events (default 1000).
    pub webhook_poll: Duration,
    /// `REGISTRY_WEBHOOK_RETRY_BASE_MS`: the first retry's delay, doubled at each failure up to
    /// 1,800 times it (default 1000: 1 s, 2 s, … 30 min).
    pub webhook_retry_base: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required when REGISTRY_ENV=production")]
    MissingInProduction(&'static str),
    #[error("{0} must be at least 32 bytes (it has {1})")]
    ShortSecret(&'static str, usize),
    #[error("JWT_SECRET has only {0} distinct characters; production needs at least {MIN_DISTINCT_SECRET_CHARS} (generate one with `openssl rand -hex 32`)")]
    WeakSecret(usize),
    #[error("{name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// A production secret must have this many distinct characters: it refuses `aaaa…` and
/// short words repeated to length, while any hex or base64 output of a real generator passes.
pub const MIN_DISTINCT_SECRET_CHARS: usize = 12;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/registry.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const JWT_ISSUER: &str = "product-registry";
pub const JWT_AUDIENCE: &str = "product-registry-api";

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `get`, so tests can pass a map instead of the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match get("REGISTRY_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "REGISTRY_ENV",
                    value: v.to_owned(),
                    reason: "use development or production",
                })
            }
        };
        let (jwt_secret, generated_jwt_secret) = match secret(&get, "JWT_SECRET")? {
            Some(s) => (s, false),
            None if environment == Environment::Production => {
                return Err(ConfigError::MissingInProduction("JWT_SECRET"))
            }
            None => {
                let mut bytes = [0u8; 48];
                rand::rng().fill_bytes(&mut bytes);
                (SecretString::from(hex::encode(bytes)), true)
            }
        };
        if environment == Environment::Production {
            let distinct = jwt_secret
                .expose_secret()
                .chars()
                .collect::<std::collections::HashSet<_>>()
                .len();
            if distinct < MIN_DISTINCT_SECRET_CHARS {
                return Err(ConfigError::WeakSecret(distinct));
            }
        }
        let jwt_secret_previous = secret(&get, "JWT_SECRET_PREVIOUS")?;
        if environment == Environment::Production && get("DATABASE_URL").is_none() {
            return Err(ConfigError::MissingInProduction("DATABASE_URL"));
        }
        let signing_key = get("REGISTRY_SIGNING_KEY")
            .filter(|s| !s.trim().is_empty())
            .map(std::path::PathBuf::from);
        if environment == Environment::Production && signing_key.is_none() {
            return Err(ConfigError::MissingInProduction("REGISTRY_SIGNING_KEY"));
        }
        let public_url = public_url(&get)?;
        if environment == Environment::Production && public_url.is_none() {
            return Err(ConfigError::MissingInProduction("REGISTRY_PUBLIC_URL"));
        }
        let ttl = number(&get, "REGISTRY_ACCESS_TOKEN_TTL_SECS", 900)?;
        if ttl == 0 || ttl > 900 {
            return Err(ConfigError::Invalid {
                name: "REGISTRY_ACCESS_TOKEN_TTL_SECS",
                value: ttl.to_string(),
                reason: "between 1 and 900 seconds",
            });
        }
        let database_read_urls: Vec<String> = get("DATABASE_READ_URL")
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        let primary_is_pg = get("DATABASE_URL")
            .is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"));
        if let Some(bad) = database_read_urls.iter().find(|u| {
            !primary_is_pg || !(u.starts_with("postgres://") || u.starts_with("postgresql://"))
        }) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_READ_URL",
                // Without a password the URL may hold.
                value: bad.rsplit('@').next().unwrap_or_default().to_owned(),
                reason:
                    "read replicas are PostgreSQL streaming replicas of a PostgreSQL DATABASE_URL",
            });
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Self {
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            database_read_urls,
            bind: get("REGISTRY_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            environment,
            jwt_secret,
            access_token_ttl: Duration::from_secs(ttl),
            refresh_token_ttl: Duration::from_secs(
                number(&get, "REGISTRY_REFRESH_TOKEN_TTL_DAYS", 30)? * 86_400,
            ),
            session_max_age: Duration::from_secs(
                number(&get, "REGISTRY_SESSION_MAX_DAYS", 30)?.max(1) * 86_400,
            ),
            trusted_proxies: crate::net::TrustedProxies::parse(
                &get("REGISTRY_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|_| ConfigError::Invalid {
                name: "REGISTRY_TRUSTED_PROXIES",
                value: get("REGISTRY_TRUSTED_PROXIES").unwrap_or_default(),
                reason: "expected comma-separated addresses or CIDRs such as 10.0.0.0/8",
            })?,
            cors_origins: origins(&get)?,
            public_url,
            metrics_token: get("REGISTRY_METRICS_TOKEN")
                .filter(|t| !t.trim().is_empty())
                .map(SecretString::from),
            pending_max_age: Duration::from_secs(
                number(&get, "REGISTRY_PENDING_DAYS", 30)?.max(1) * 86_400,
            ),
            db_pool_size: number(&get, "REGISTRY_DB_POOL_SIZE", 10)? as u32,
            workers: number(&get, "REGISTRY_WORKERS", cores as u64)? as usize,
            login_max_failures: number(&get, "REGISTRY_LOGIN_MAX_FAILURES", 5)? as u32,
            login_window: Duration::from_secs(number(&get, "REGISTRY_LOGIN_WINDOW_SECS", 900)?),
            public_notice_days: match get("REGISTRY_PUBLIC_NOTICE_DAYS") {
                None => None,
                Some(_) => Some(number(&get, "REGISTRY_PUBLIC_NOTICE_DAYS", 7)? as u32),
            },
            public_rate_per_min: number(&get, "REGISTRY_PUBLIC_RATE_PER_MIN", 600)?
                .clamp(1, u32::MAX as u64) as u32,
            api_key_rate_per_min: number(&get, "REGISTRY_API_KEY_RATE_PER_MIN", 60_000)?
                .clamp(1, u32::MAX as u64) as u32,
            login_rate_per_min: number(&get, "REGISTRY_LOGIN_RATE_PER_MIN", 30)?
                .clamp(1, u32::MAX as u64) as u32,
            filing_rate_per_min: number(&get, "REGISTRY_FILING_RATE_PER_MIN", 5)?
                .clamp(1, u32::MAX as u64) as u32,
            answer_cache_mb: number(&get, "REGISTRY_ANSWER_CACHE_MB", 24)?,
            export_page_size: number(&get, "REGISTRY_EXPORT_PAGE_SIZE", 1000)?.clamp(1, 10_000)
                as i64,
            generated_jwt_secret,
            jwt_secret_previous,
            signing_key,
            previous_signing_keys: get("REGISTRY_SIGNING_KEYS_PREVIOUS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(std::path::PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            checkpoint_every: number(&get, "REGISTRY_CHECKPOINT_EVERY", 1000)?.max(1),
            timezone: match get("REGISTRY_TIMEZONE") {
                None => crate::clock::DEFAULT_TIMEZONE,
                Some(name) => name.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "REGISTRY_TIMEZONE",
                    value: name.clone(),
                    reason: "an IANA time zone, e.g. Asia/Shanghai",
                })?,
            },
            hsts: boolean(&get, "REGISTRY_HSTS")?,
            webhook_allow_private: boolean(&get, "REGISTRY_WEBHOOK_ALLOW_PRIVATE")?,
            webhook_poll: Duration::from_millis(
                number(&get, "REGISTRY_WEBHOOK_POLL_MS", 1000)?.max(10),
            ),
            webhook_retry_base: Duration::from_millis(number(
                &get,
                "REGISTRY_WEBHOOK_RETRY_BASE_MS",
                1000,
            )?),
        })
    }

    /// Pending registrations filed before this moment have expired.
    pub fn pending_stale_before(&self) -> chrono::NaiveDateTime {
        crate::clock::now() - self.pending_max_age
    }

    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// An HS256 key from the environment: at least 32 bytes in every environment.
fn secret(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    match get(name) {
        Some(s) if s.len() < 32 => Err(ConfigError::ShortSecret(name, s.len())),
        s => Ok(s.map(SecretString::from)),
    }
}

/// `http(s)://host[:port][/path]`, without a trailing slash.
fn public_url(get: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = get("REGISTRY_PUBLIC_URL").filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let url = raw.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.starts_with('/') && !h.contains(['?', '#', ' ']) => {
            Ok(Some(url.to_owned()))
        }
        _ => Err(ConfigError::Invalid {
            name: "REGISTRY_PUBLIC_URL",
            value: raw.clone(),
            reason: "expected an address such as https://registry.example.gov.cn",
        }),
    }
}

/// `scheme://host[:port]`, nothing after: what a browser sends as `Origin`.
fn origins(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let raw = get("REGISTRY_CORS_ORIGINS").unwrap_or_default();
    raw.split(',')
        .map(|s| s.trim().trim_end_matches('/'))
        .filter(|s| !s.is_empty())
        .map(|s| {
            let host = s
                .strip_prefix("https://")
                .or_else(|| s.strip_prefix("http://"));
            match host {
                Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', '*']) => Ok(s.to_owned()),
                _ => Err(ConfigError::Invalid {
                    name: "REGISTRY_CORS_ORIGINS",
                    value: raw.clone(),
                    reason:
                        "expected comma-separated origins such as https://console.example.gov.cn",
                }),
            }
        })
        .collect()
}

/// A `true` / `false` setting, false when unset.
fn boolean(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(ConfigError::Invalid {
            name,
            value: v.to_owned(),
            reason: "true or false",
        }),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value: v,
            reason: "a whole number",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn production_refuses_to_start_without_a_secret() {
        let err = settings(&[
            ("REGISTRY_ENV", "production"),
            ("DATABASE_URL", "postgres://x/y"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::MissingInProduction("JWT_SECRET")
        ));
    }

    #[test]
    fn production_refuses_to_start_without_a_database_url() {
        let err = settings(&[
            ("REGISTRY_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef-long-enough"),
            ("REGISTRY_SIGNING_KEY", "/etc/registry/key.pem"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::MissingInProduction("DATABASE_URL")
        ));
    }

    #[test]
    fn production_refuses_to_start_without_a_signing_key() {
        let err = settings(&[
            ("REGISTRY_ENV", "production"),
            ("DATABASE_URL", "postgres://x/y"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef-long-enough"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::MissingInProduction("REGISTRY_SIGNING_KEY")
        ));
    }

    #[test]
    fn production_refuses_to_start_without_its_public_address() {
        let prod = |extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("REGISTRY_ENV", "production"),
                ("DATABASE_URL", "postgres://x/y"),
                ("JWT_SECRET", "0123456789abcdef0123456789abcdef-long-enough"),
                ("REGISTRY_SIGNING_KEY", "/etc/registry/key.pem"),
            ];
            pairs.extend_from_slice(extra);
            settings(&pairs)
        };
        assert!(matches!(
            prod(&[]),
            Err(ConfigError::MissingInProduction("REGISTRY_PUBLIC_URL"))
        ));
        assert!(matches!(
            prod(&[("REGISTRY_PUBLIC_URL", "registry.example.gov.cn")]),
            Err(ConfigError::Invalid {
                name: "REGISTRY_PUBLIC_URL",
                ..
            })
        ));
        let ok = prod(&[("REGISTRY_PUBLIC_URL", "https://registry.example.gov.cn/")]).unwrap();
        assert_eq!(
            ok.public_url.as_deref(),
            Some("https://registry.example.gov.cn")
        );
    }

    #[test]
    fn production_refuses_a_low_entropy_secret() {
        let prod = |secret: &str| {
            settings(&[
                ("REGISTRY_ENV", "production"),
                ("DATABASE_URL", "postgres://x/y"),
                ("REGISTRY_SIGNING_KEY", "/etc/registry/key.pem"),
                ("REGISTRY_PUBLIC_URL", "https://registry.example.gov.cn"),
                ("JWT_SECRET", secret),
            ])
        };
        assert!(matches!(
            prod(&"a".repeat(32)),
            Err(ConfigError::WeakSecret(1))
        ));
        assert!(matches!(
            prod(&"changeme".repeat(4)),
            Err(ConfigError::WeakSecret(7))
        ));
        assert!(prod("0123456789abcdef0123456789abcdef-long-enough").is_ok());
        // Development keeps working with whatever a developer typed.
        assert!(settings(&[("JWT_SECRET", &"a".repeat(32))]).is_ok());
    }

    #[test]
    fn hsts_is_true_or_false() {
        assert!(!settings(&[]).unwrap().hsts);
        assert!(settings(&[("REGISTRY_HSTS", "true")]).unwrap().hsts);
        assert!(matches!(
            settings(&[("REGISTRY_HSTS", "yes")]),
            Err(ConfigError::Invalid {
                name: "REGISTRY_HSTS",
                ..
            })
        ));
    }

    #[test]
    fn the_time_zone_is_an_iana_name() {
        assert_eq!(settings(&[]).unwrap().timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(
            settings(&[("REGISTRY_TIMEZONE", "Asia/Urumqi")])
                .unwrap()
                .timezone,
            chrono_tz::Asia::Urumqi
        );
        assert!(settings(&[("REGISTRY_TIMEZONE", "Qinghai")]).is_err());
    }

    #[test]
    fn short_secrets_are_refused_everywhere() {
        assert!(matches!(
            settings(&[("JWT_SECRET", "short")]),
            Err(ConfigError::ShortSecret("JWT_SECRET", 5))
        ));
    }

    #[test]
    fn development_generates_a_secret_and_uses_documented_defaults() {
        let s = settings(&[]).unwrap();
        assert!(s.generated_jwt_secret);
        assert!(s.jwt_secret_bytes().len() >= 32);
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.bind, DEFAULT_BIND);
        assert_eq!(s.access_token_ttl, Duration::from_secs(900));
        assert!(!format!("{s:?}").contains(std::str::from_utf8(s.jwt_secret_bytes()).unwrap()));
    }

    #[test]
    fn access_tokens_cannot_outlive_fifteen_minutes() {
        assert!(settings(&[("REGISTRY_ACCESS_TOKEN_TTL_SECS", "3600")]).is_err());
    }
}
