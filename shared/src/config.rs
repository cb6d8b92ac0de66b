//! Configuration from the environment (same names locally and in template.yaml).

use std::path::PathBuf;

/// Which adapters the registry runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    DynamoDb,
    Memory,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub store: StoreKind,
    /// Embedded store file (`REGISTRY_DB_PATH`, default `./data/registry.db`).
    pub db_path: PathBuf,
    /// DynamoDB table (`REGISTRY_TABLE`).
    pub table: String,
    /// SQS work queue (`REGISTRY_QUEUE_URL`) and its dead-letter queue (`REGISTRY_DLQ_URL`).
    pub queue_url: String,
    pub dlq_url: Option<String>,
    /// Key of the keyed hashes of personal data (`REGISTRY_HASH_SECRET`).
    pub hash_secret: String,
    /// Requests per minute and operator on `POST /v2/journeys` (`REGISTRY_RATE_LIMIT_PER_MIN`).
    pub rate_limit_per_min: u64,
    /// Requests per minute and operator on the other routes
    /// (`REGISTRY_OTHER_RATE_LIMIT_PER_MIN`).
    pub other_rate_limit_per_min: u64,
    /// Deliveries before a message is dead-lettered (embedded queue; SQS uses its redrive policy).
    pub max_receives: u32,
    /// How long the embedded worker hides a message it is running (`REGISTRY_VISIBILITY_SECS`):
    /// after a crash, the message is delivered again once this has passed.
    pub visibility_secs: u64,
    /// Public base URL of the API (`REGISTRY_PUBLIC_URL`): the QR code of a certificate
    /// points to `<it>/v2/certificates/<uuid>`. `registry serve` defaults it to its address.
    pub public_url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

pub const DEFAULT_DB_PATH: &str = "./data/registry.db";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// Only for local runs: production sets `REGISTRY_HASH_SECRET` (template.yaml requires it).
const LOCAL_HASH_SECRET: &str = "local-development-secret-change-me";

impl Default for Config {
    fn default() -> Self {
        Config {
            store: StoreKind::Sqlite,
            db_path: PathBuf::from(DEFAULT_DB_PATH),
            table: "registry".into(),
            queue_url: String::new(),
            dlq_url: None,
            hash_secret: LOCAL_HASH_SECRET.into(),
            rate_limit_per_min: 20_000,
            other_rate_limit_per_min: 600,
            max_receives: crate::queue::DEFAULT_MAX_RECEIVES,
            visibility_secs: 30,
            public_url: DEFAULT_PUBLIC_URL.into(),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(kind) = var("REGISTRY_STORE") {
            c.store = match kind.as_str() {
                "sqlite" => StoreKind::Sqlite,
                "dynamodb" => StoreKind::DynamoDb,
                "memory" => StoreKind::Memory,
                other => {
                    return Err(ConfigError(format!(
                        "REGISTRY_STORE={other:?}: expected sqlite, dynamodb or memory"
                    )))
                }
            };
        }
        if let Some(p) = var("REGISTRY_DB_PATH") {
            c.db_path = PathBuf::from(p);
        }
        if let Some(t) = var("REGISTRY_TABLE") {
            c.table = t;
        }
        if let Some(q) = var("REGISTRY_QUEUE_URL") {
            c.queue_url = q;
        }
        c.dlq_url = var("REGISTRY_DLQ_URL");
        if let Some(url) = var("REGISTRY_PUBLIC_URL") {
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError(format!(
                    "REGISTRY_PUBLIC_URL={url:?}: expected an http(s) URL"
                )));
            }
            c.public_url = url;
        }
        if let Some(s) = var("REGISTRY_HASH_SECRET") {
            c.hash_secret = s;
        } else if c.store == StoreKind::DynamoDb {
            return Err(ConfigError(
                "REGISTRY_HASH_SECRET is required with dynamodb".into(),
            ));
        }
        let number = |name: &str, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ConfigError(format!("{name}={v:?}: expected a positive integer"))
                    }),
            }
        };
        c.rate_limit_per_min = number("REGISTRY_RATE_LIMIT_PER_MIN", c.rate_limit_per_min)?;
        c.other_rate_limit_per_min = number(
            "REGISTRY_OTHER_RATE_LIMIT_PER_MIN",
            c.other_rate_limit_per_min,
        )?;
        c.visibility_secs = number("REGISTRY_VISIBILITY_SECS", c.visibility_secs)?;
        c.max_receives = u32::try_from(number("REGISTRY_MAX_RECEIVES", u64::from(c.max_receives))?)
            .map_err(|_| ConfigError("REGISTRY_MAX_RECEIVES is too large".into()))?;
        if c.store == StoreKind::DynamoDb && c.queue_url.is_empty() {
            return Err(ConfigError(
                "REGISTRY_QUEUE_URL is required with dynamodb".into(),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_are_local() {
        let c = with(&[]).unwrap();
        assert_eq!(c.store, StoreKind::Sqlite);
        assert_eq!(c.rate_limit_per_min, 20_000);
        assert_eq!(c.db_path, PathBuf::from(DEFAULT_DB_PATH));
    }

    #[test]
    fn dynamodb_needs_secret_and_queue() {
        assert!(with(&[("REGISTRY_STORE", "dynamodb"), ("REGISTRY_QUEUE_URL", "q")]).is_err());
        assert!(with(&[
            ("REGISTRY_STORE", "dynamodb"),
            ("REGISTRY_HASH_SECRET", "s")
        ])
        .is_err());
        let c = with(&[
            ("REGISTRY_STORE", "dynamodb"),
            ("REGISTRY_HASH_SECRET", "s"),
            ("REGISTRY_QUEUE_URL", "q"),
        ])
        .unwrap();
        assert_eq!(c.store, StoreKind::DynamoDb);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(with(&[("REGISTRY_STORE", "postgres")]).is_err());
        assert!(with(&[("REGISTRY_PUBLIC_URL", "registry.example")]).is_err());
        assert_eq!(
            with(&[("REGISTRY_PUBLIC_URL", "https://registry.example/")])
                .unwrap()
                .public_url,
            "https://registry.example"
        );
        assert!(with(&[("REGISTRY_RATE_LIMIT_PER_MIN", "0")]).is_err());
        assert!(with(&[("REGISTRY_RATE_LIMIT_PER_MIN", "lots")]).is_err());
        assert_eq!(
            with(&[("REGISTRY_RATE_LIMIT_PER_MIN", "5")])
                .unwrap()
                .rate_limit_per_min,
            5
        );
    }
}
