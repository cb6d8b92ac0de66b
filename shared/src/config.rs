//! Configuration from the environment (same names locally and in template.yaml).

use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::cee::rules::Campaign;
use crate::domain::cee::signature::{PublishedKey, Signer};

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
    /// SQS queue of the monthly run's units (`REGISTRY_MONTHLY_QUEUE_URL`), consumed by
    /// `policy-monthly-worker`; the work queue when unset.
    pub monthly_queue_url: Option<String>,
    /// Drafts per shard of a campaign's month in the monthly run
    /// (`REGISTRY_MONTHLY_SHARD_DRAFTS`, 100 000): a bigger month is split in shards.
    pub monthly_shard_drafts: u64,
    /// Key of the keyed hashes of personal data (`REGISTRY_HASH_SECRET`).
    pub hash_secret: String,
    /// The key before the last rotation (`REGISTRY_HASH_SECRET_PREVIOUS`, unset by
    /// default): CEE history searches also look under it, so people registered before the
    /// rotation are still found. Never used to write. See docs/OPERATIONS.md.
    pub hash_secret_previous: Option<String>,
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
    /// Thresholds of the fraud pass; only the window comes from the environment
    /// (`REGISTRY_FRAUD_WINDOW_DAYS`, 1 to 30).
    pub fraud: crate::domain::fraud::FraudRules,
    /// CEE campaign window (`REGISTRY_CEE_START`, `REGISTRY_CEE_END`, RFC 3339 with offset)
    /// and the delay before an operation can be registered (`REGISTRY_CEE_DELAY_DAYS`, 7).
    pub cee: Campaign,
    /// Requests per minute and operator across the CEE routes
    /// (`REGISTRY_CEE_RATE_LIMIT_PER_MIN`, 20 000).
    pub cee_rate_limit_per_min: u64,
    /// The registry's CEE signing key (`REGISTRY_SIGNING_KEY`: RSA 4096 PKCS#8 PEM).
    /// `registry serve` generates one beside its data file when none is configured.
    pub signing_key: Option<Arc<Signer>>,
    /// Keys signed with before the current one, still published for verification during a
    /// rotation (`REGISTRY_SIGNING_KEY_PREVIOUS`: one or more PEM blocks, public or private).
    pub previous_signing_keys: Vec<PublishedKey>,
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
            monthly_queue_url: None,
            monthly_shard_drafts: 100_000,
            hash_secret: LOCAL_HASH_SECRET.into(),
            hash_secret_previous: None,
            rate_limit_per_min: 20_000,
            other_rate_limit_per_min: 600,
            max_receives: crate::queue::DEFAULT_MAX_RECEIVES,
            visibility_secs: 30,
            fraud: crate::domain::fraud::FraudRules::default(),
            cee: Campaign::default(),
            cee_rate_limit_per_min: 20_000,
            signing_key: None,
            previous_signing_keys: Vec::new(),
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
        c.read_storage(&var)?;
        c.read_limits(&var)?;
        c.read_cee(&var)?;
        c.read_signing_keys(&var)?;
        if c.store == StoreKind::DynamoDb && c.queue_url.is_empty() {
            return Err(ConfigError(
                "REGISTRY_QUEUE_URL is required with dynamodb".into(),
            ));
        }
        Ok(c)
    }

    /// Where things are kept: store, queues, public URL and the identity hashing secret.
    fn read_storage(&mut self, var: &Lookup) -> Result<(), ConfigError> {
        let c = self;
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
        c.monthly_queue_url = var("REGISTRY_MONTHLY_QUEUE_URL");
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
        // The same key twice is no rotation: nothing more to search.
        c.hash_secret_previous =
            var("REGISTRY_HASH_SECRET_PREVIOUS").filter(|p| *p != c.hash_secret);
        Ok(())
    }

    /// Rate limits, queue and monthly-run tuning, the fraud window.
    fn read_limits(&mut self, var: &Lookup) -> Result<(), ConfigError> {
        let c = self;
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
        c.monthly_shard_drafts = number("REGISTRY_MONTHLY_SHARD_DRAFTS", c.monthly_shard_drafts)?;
        c.max_receives = u32::try_from(number("REGISTRY_MAX_RECEIVES", u64::from(c.max_receives))?)
            .map_err(|_| ConfigError("REGISTRY_MAX_RECEIVES is too large".into()))?;
        c.fraud.window_days = u32::try_from(number(
            "REGISTRY_FRAUD_WINDOW_DAYS",
            u64::from(c.fraud.window_days),
        )?)
        .ok()
        .filter(|d| *d <= 30)
        .ok_or_else(|| ConfigError("REGISTRY_FRAUD_WINDOW_DAYS: at most 30".into()))?;
        c.cee_rate_limit_per_min =
            number("REGISTRY_CEE_RATE_LIMIT_PER_MIN", c.cee_rate_limit_per_min)?;
        Ok(())
    }

    /// The CEE campaign window and the delay before a short journey counts.
    fn read_cee(&mut self, var: &Lookup) -> Result<(), ConfigError> {
        let c = self;
        let instant = |name: &str, default| -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => crate::domain::cee::fields::parse_datetime(v.trim())
                    .map_err(|reason| ConfigError(format!("{name}={v:?}: {reason}"))),
            }
        };
        c.cee.start = instant("REGISTRY_CEE_START", c.cee.start)?;
        c.cee.end = instant("REGISTRY_CEE_END", c.cee.end)?;
        if c.cee.start >= c.cee.end {
            return Err(ConfigError(
                "REGISTRY_CEE_START must be before REGISTRY_CEE_END".into(),
            ));
        }
        if let Some(v) = var("REGISTRY_CEE_DELAY_DAYS") {
            let days = v.trim().parse::<u16>().map_err(|_| {
                ConfigError(format!(
                    "REGISTRY_CEE_DELAY_DAYS={v:?}: expected a number of days (0 or more)"
                ))
            })?;
            c.cee.delay = chrono::Duration::days(i64::from(days));
        }
        Ok(())
    }

    /// The CEE signing key and the previous ones still published.
    fn read_signing_keys(&mut self, var: &Lookup) -> Result<(), ConfigError> {
        let c = self;
        if let Some(pem) = var("REGISTRY_SIGNING_KEY") {
            let signer = Signer::from_pkcs8_pem(&pem)
                .map_err(|e| ConfigError(format!("REGISTRY_SIGNING_KEY: {e}")))?;
            c.signing_key = Some(Arc::new(signer));
        }
        if let Some(pem) = var("REGISTRY_SIGNING_KEY_PREVIOUS") {
            c.previous_signing_keys = PublishedKey::parse_all(&pem)
                .map_err(|e| ConfigError(format!("REGISTRY_SIGNING_KEY_PREVIOUS: {e}")))?;
        }
        Ok(())
    }
}

/// An environment variable's value, `None` when unset or blank.
type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

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
    fn previous_hash_secret_is_optional_and_ignored_when_equal() {
        assert_eq!(with(&[]).unwrap().hash_secret_previous, None);
        let c = with(&[
            ("REGISTRY_HASH_SECRET", "b"),
            ("REGISTRY_HASH_SECRET_PREVIOUS", "a"),
        ])
        .unwrap();
        assert_eq!(c.hash_secret_previous.as_deref(), Some("a"));
        let same = with(&[
            ("REGISTRY_HASH_SECRET", "b"),
            ("REGISTRY_HASH_SECRET_PREVIOUS", "b"),
        ])
        .unwrap();
        assert_eq!(same.hash_secret_previous, None);
    }

    #[test]
    fn cee_settings() {
        let c = with(&[
            ("REGISTRY_CEE_START", "2024-01-01T00:00:00+01:00"),
            ("REGISTRY_CEE_DELAY_DAYS", "0"),
        ])
        .unwrap();
        assert_eq!(
            c.cee.start,
            "2023-12-31T23:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        );
        assert_eq!(c.cee.delay, chrono::Duration::zero());
        assert_eq!(with(&[]).unwrap().cee.delay, chrono::Duration::days(7));
        assert!(with(&[("REGISTRY_CEE_START", "2024-01-01T00:00:00")]).is_err());
        assert!(with(&[("REGISTRY_CEE_END", "2022-01-01T00:00:00Z")]).is_err());
        assert!(with(&[("REGISTRY_CEE_DELAY_DAYS", "-1")]).is_err());
        assert!(with(&[("REGISTRY_SIGNING_KEY", "not a key")]).is_err());
        assert!(with(&[("REGISTRY_SIGNING_KEY_PREVIOUS", "not a key")]).is_err());
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
        assert_eq!(with(&[]).unwrap().fraud.window_days, 7);
        assert_eq!(
            with(&[("REGISTRY_FRAUD_WINDOW_DAYS", "10")])
                .unwrap()
                .fraud
                .window_days,
            10
        );
        assert!(with(&[("REGISTRY_FRAUD_WINDOW_DAYS", "31")]).is_err());
        assert!(with(&[("REGISTRY_FRAUD_WINDOW_DAYS", "0")]).is_err());
    }
}
