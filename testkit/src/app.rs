//! A registry app on each store, operators with their tokens, processed journeys.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use registry_core::admin;
use registry_core::app::App;
use registry_core::campaigns::monthly::{self, Final, Month, Report};
use registry_core::clock::FixedClock;
use registry_core::config::{Config, StoreKind};
use registry_core::domain::campaign::Campaign;
use registry_core::domain::cee::signature::Signer;
use registry_core::domain::operator::OperatorId;
use registry_core::queue::sqs::{create_queues, SqsQueue};
use registry_core::queue::{memory::MemoryQueue, Queue};
use registry_core::records::journey::JourneyRecord;
use registry_core::records::keys;
use registry_core::store::dynamodb::DynamoStore;
use registry_core::store::memory::MemoryStore;
use registry_core::store::sqlite::SqliteStore;
use registry_core::store::{
    Condition, Item, Key, Page, Query, Scan, Store, StoreError, StoreResult, Update, WriteOp,
};
use serde_json::Value;
use tempfile::TempDir;

use crate::{api, moto};

/// The store an app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Memory,
    /// A file `registry.db` in a new temporary directory.
    Sqlite,
    /// A fresh table of this test binary's moto server.
    DynamoDb,
}

/// An SQLite store on `registry.db` in a new temporary directory (drop the directory last).
pub fn sqlite_store() -> (SqliteStore, TempDir) {
    let dir = TempDir::new().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("registry.db")).expect("SQLite store");
    (store, dir)
}

/// A DynamoDB store on a new table `prefix-<uuid>` of the moto server.
pub async fn dynamodb_store(prefix: &str) -> DynamoStore {
    dynamodb_store_at(moto::moto(), prefix).await
}

/// [`dynamodb_store`] on the given moto server.
pub async fn dynamodb_store_at(server: &moto::MotoServer, prefix: &str) -> DynamoStore {
    let store = DynamoStore::new(moto::dynamodb_client_at(server), moto::unique_name(prefix));
    store.create_table().await.expect("create table");
    store
}

/// A fresh store of `backend`, with the temporary directory an SQLite file lives in.
pub async fn store(backend: Backend) -> (Arc<dyn Store>, Option<TempDir>) {
    match backend {
        Backend::Memory => (Arc::new(MemoryStore::new()), None),
        Backend::Sqlite => {
            let (store, dir) = sqlite_store();
            (Arc::new(store), Some(dir))
        }
        Backend::DynamoDb => (Arc::new(dynamodb_store("test").await), None),
    }
}

/// The configuration tests start from: the defaults with a hash secret.
pub fn config() -> Config {
    Config {
        hash_secret: "test-secret".into(),
        ..Config::default()
    }
}

/// [`config`] for DynamoDB.
pub fn dynamodb_config() -> Config {
    Config {
        store: StoreKind::DynamoDb,
        ..config()
    }
}

/// An app as `registry serve` builds it from its configuration ([`App::from_config`]), on
/// `registry.db` in `dir`.
pub async fn sqlite_app(dir: &TempDir, config: Config) -> App {
    let config = Config {
        store: StoreKind::Sqlite,
        db_path: dir.path().join("registry.db"),
        ..config
    };
    App::from_config(config).await.expect("app")
}

/// A registry app on a fresh store with its queue in memory (tests run processing by
/// hand: [`run_queued`]); it keeps the store's temporary directory.
pub struct TestApp {
    pub app: App,
    pub dir: Option<TempDir>,
}

impl TestApp {
    /// An app on a fresh store of `backend` with `config`.
    pub async fn new(backend: Backend, config: Config) -> TestApp {
        let (store, dir) = store(backend).await;
        TestApp {
            app: App::new(store, Arc::new(MemoryQueue::default()), config),
            dir,
        }
    }
}

impl TestApp {
    /// An app on a fresh store of `backend` with the tests' configuration ([`config`], or
    /// [`dynamodb_config`] on DynamoDB).
    pub async fn on(backend: Backend) -> TestApp {
        let config = match backend {
            Backend::DynamoDb => dynamodb_config(),
            _ => config(),
        };
        TestApp::new(backend, config).await
    }

    /// The same app with its clock stopped at `now`.
    pub fn at(mut self, now: DateTime<Utc>) -> TestApp {
        self.app = self.app.with_clock(Arc::new(FixedClock::new(now)));
        self
    }
}

impl std::ops::Deref for TestApp {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// A new operator named `name` and an application token with every permission.
pub async fn operator_with_token(
    app: &App,
    name: &str,
    siret: Option<&str>,
) -> (OperatorId, String) {
    let (op, token) = admin::operator_with_token(app, name, siret.map(str::to_owned))
        .await
        .expect("operator and token");
    (op.id, token.token)
}

/// One operator per name, each with its token ([`operator_with_token`]).
pub async fn operators_with_tokens(
    app: &App,
    names: &[&str],
    siret: Option<&str>,
) -> Vec<(OperatorId, String)> {
    let mut ops = Vec::new();
    for name in names {
        ops.push(operator_with_token(app, name, siret).await);
    }
    ops
}

/// Loads the campaign `doc` as `registry admin campaign create` does; the campaign as the
/// engine reads it.
pub async fn create_campaign(app: &App, doc: &Value) -> Arc<Campaign> {
    let id = doc["id"].as_str().expect("campaign id");
    registry_core::campaigns::create(app, doc.to_string().as_bytes())
        .await
        .expect("campaign created");
    let all = registry_core::campaigns::all(app).await.expect("campaigns");
    all.iter()
        .find(|c| c.id.as_str() == id)
        .cloned()
        .expect("campaign read back")
}

/// Journey `doc` of operator `op` stored as acceptance stores it at `at` (pending: not
/// processed).
pub async fn store_accepted(app: &App, op: OperatorId, doc: &Value, at: DateTime<Utc>) {
    let item = JourneyRecord::accepted_item(&app.config.hash_secret, op, doc, at)
        .expect("a valid journey");
    app.store.put(item, None).await.expect("journey stored");
}

/// [`store_accepted`], then processed as the queue consumer processes it.
pub async fn store_processed(app: &App, op: OperatorId, doc: &Value, at: DateTime<Utc>) {
    store_accepted(app, op, doc, at).await;
    let id = doc["journey_id"].as_str().expect("journey id");
    registry_core::jobs::process::journey(app, op, id)
        .await
        .expect("journey processed");
}

/// The monthly run of `campaign` over `month` (`all`: every campaign, for op3), by hand
/// and not forced; its report and the final record it wrote.
pub async fn run_month(
    app: &App,
    all: &[Arc<Campaign>],
    campaign: &Campaign,
    month: &str,
) -> (Report, Final) {
    let month = Month::parse(month).expect("month");
    let report = monthly::run_campaign(app, all, campaign, month, false)
        .await
        .expect("monthly run");
    let stored = monthly::read_final(app, &campaign.id, month, None)
        .await
        .expect("final record read")
        .expect("final record");
    (report, stored)
}

/// Runs what `queue` holds as the queue consumer does (tasks for `app`), until it is empty.
pub async fn run_queued(app: &App, queue: &dyn Queue) {
    loop {
        let deliveries = queue
            .receive(10, Duration::from_secs(30))
            .await
            .expect("receive");
        if deliveries.is_empty() {
            return;
        }
        for d in deliveries {
            registry_core::jobs::run(app, &d.body).await.expect("task");
            queue.ack(&d.receipt).await.expect("ack");
        }
    }
}

/// A journey sent through `POST /v2/journeys` by operator `op` (token `token`), then marked
/// processed without running the processing: status `ok`, and the start and end countries
/// when given.
pub async fn processed_journey(
    app: &App,
    op: (OperatorId, &str),
    id: &str,
    doc: Value,
    countries: Option<(&str, &str)>,
) {
    let (s, body) = api::call(app, "POST", "/v2/journeys", op.1, Some(doc)).await;
    assert_eq!(s, 201, "{body}");
    let mut update = Update::new().set("status", "ok");
    if let Some((start, end)) = countries {
        update = update.set("start_country", start).set("end_country", end);
    }
    app.store
        .update(&keys::journey(op.0, id), update, Some(Condition::Exists))
        .await
        .expect("journey processed");
}

/// A queue `prefix-<uuid>` of the moto server with its dead-letter queue, after
/// `max_receives` receives.
pub async fn sqs_queue(prefix: &str, max_receives: u32) -> SqsQueue {
    sqs_queue_at(moto::moto(), prefix, max_receives).await
}

/// [`sqs_queue`] on the given moto server.
pub async fn sqs_queue_at(server: &moto::MotoServer, prefix: &str, max_receives: u32) -> SqsQueue {
    let client = moto::sqs_client_at(server);
    let (url, dlq) = create_queues(&client, &moto::unique_name(prefix), max_receives)
        .await
        .expect("create queues");
    SqsQueue::new(client, url, Some(dlq))
}

/// The signer of this test process's key ([`crate::keys::signing_key_pem`]).
pub fn signing_key() -> Arc<Signer> {
    static SIGNER: std::sync::OnceLock<Arc<Signer>> = std::sync::OnceLock::new();
    SIGNER
        .get_or_init(|| {
            Arc::new(Signer::from_pkcs8_pem(crate::keys::signing_key_pem()).expect("test key"))
        })
        .clone()
}

/// A store in front of another that changes only its transactions: each waits a delay
/// first, or fails once a budget of transactions is spent (a crash midway).
pub struct Interposed {
    inner: Arc<dyn Store>,
    delay: Duration,
    budget: Option<AtomicI64>,
}

impl Interposed {
    /// Transactions wait `delay` before they run.
    pub fn slow_transactions(inner: Arc<dyn Store>, delay: Duration) -> Interposed {
        Interposed {
            inner,
            delay,
            budget: None,
        }
    }

    /// Transactions fail (store unavailable, "crashed") once `budget` have passed.
    pub fn crashing_after(inner: Arc<dyn Store>, budget: i64) -> Interposed {
        Interposed {
            inner,
            delay: Duration::ZERO,
            budget: Some(AtomicI64::new(budget)),
        }
    }
}

#[async_trait::async_trait]
impl Store for Interposed {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        if let Some(budget) = &self.budget {
            if budget.fetch_sub(1, Ordering::SeqCst) <= 0 {
                return Err(StoreError::Unavailable("crashed".into()));
            }
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        self.inner.scan(scan).await
    }
}
