//! The ports and configuration every handler and job runs with.

use std::sync::{Arc, RwLock};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StoreKind};
use crate::domain::campaign::Campaign;
use crate::domain::operator::OperatorId;
use crate::queue::{memory::MemoryQueue, sqs::SqsQueue, Message, Queue};
use crate::store::{
    dynamodb::DynamoStore, memory::MemoryStore, Outbox, Store, StoreError, StoreResult, WriteOp,
};

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Where the monthly run's units go (`policy-monthly-worker`'s queue in AWS; the work
    /// queue otherwise).
    pub monthly_queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Rate-limit leases this process holds, and windows it saw exceeded.
    pub rate_windows: Arc<crate::domain::rate::Windows>,
    /// Operators' SIRETs already read (they sign CEE tokens; a SIRET never changes).
    pub sirets: Arc<Sirets>,
    /// The campaigns as last read, with the generation they were read at.
    pub campaigns: Arc<CampaignCache>,
}

/// Every stored campaign, parsed (closed ones with their early end).
pub type Campaigns = Arc<Vec<Arc<Campaign>>>;

/// The campaigns as last read (`campaigns::all`), with the generation they were read at.
#[derive(Default)]
pub struct CampaignCache(RwLock<Option<(i64, Campaigns)>>);

impl CampaignCache {
    /// The campaigns read at `generation`, if those are the ones held.
    pub fn get(&self, generation: i64) -> Option<Campaigns> {
        let guard = self.0.read().ok()?;
        let (g, campaigns) = guard.as_ref()?;
        (*g == generation).then(|| campaigns.clone())
    }

    /// Holds `campaigns`, read at `generation`, unless a newer generation is held (read by
    /// another task meanwhile).
    pub fn offer(&self, generation: i64, campaigns: Campaigns) {
        if let Ok(mut guard) = self.0.write() {
            if guard.as_ref().is_none_or(|(g, _)| *g <= generation) {
                *guard = Some((generation, campaigns));
            }
        }
    }
}

/// Known SIRETs by operator.
#[derive(Default)]
pub struct Sirets(std::sync::Mutex<std::collections::HashMap<OperatorId, String>>);

impl Sirets {
    pub fn get(&self, operator: OperatorId) -> Option<String> {
        self.0.lock().ok()?.get(&operator).cloned()
    }
    pub fn insert(&self, operator: OperatorId, siret: String) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(operator, siret);
        }
    }
}

impl App {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, config: Config) -> App {
        App {
            store,
            monthly_queue: queue.clone(),
            queue,
            clock: Arc::new(SystemClock),
            config: Arc::new(config),
            rate_windows: Arc::default(),
            sirets: Arc::default(),
            campaigns: Arc::default(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.clock = clock;
        self
    }

    pub fn with_monthly_queue(mut self, queue: Arc<dyn Queue>) -> App {
        self.monthly_queue = queue;
        self
    }

    /// Builds the adapters the configuration names.
    pub async fn from_config(config: Config) -> StoreResult<App> {
        Ok(match config.store {
            #[cfg(feature = "embedded")]
            StoreKind::Sqlite => {
                let store = crate::store::sqlite::SqliteStore::open(&config.db_path)?;
                let queue = store.queue(config.max_receives);
                App::new(Arc::new(store), Arc::new(queue), config)
            }
            #[cfg(not(feature = "embedded"))]
            StoreKind::Sqlite => {
                return Err(StoreError::Invalid(
                    "REGISTRY_STORE=sqlite: this binary was built without the embedded store \
                     (feature `embedded`)"
                        .into(),
                ))
            }
            StoreKind::Memory => App::new(
                Arc::new(MemoryStore::new()),
                Arc::new(MemoryQueue::new(config.max_receives)),
                config,
            ),
            StoreKind::DynamoDb => {
                let store = DynamoStore::from_env(config.table.clone()).await;
                let queue =
                    SqsQueue::from_env(config.queue_url.clone(), config.dlq_url.clone()).await;
                let monthly = match &config.monthly_queue_url {
                    Some(url) => {
                        Some(SqsQueue::from_env(url.clone(), config.dlq_url.clone()).await)
                    }
                    None => None,
                };
                let app = App::new(Arc::new(store), Arc::new(queue), config);
                match monthly {
                    Some(q) => app.with_monthly_queue(Arc::new(q)),
                    None => app,
                }
            }
        })
    }

    /// Writes `ops` and makes sure `messages` will be delivered: in the same transaction on
    /// the embedded store, else sent right after. A failed send after a successful write is
    /// logged and repaired by the sweeper (pending journeys are re-enqueued), so the write
    /// still counts as accepted.
    pub async fn commit(
        &self,
        ops: Vec<WriteOp>,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        if let Outbox::ToSend(messages) = self.store.commit(ops, messages).await? {
            if !messages.is_empty() {
                if let Err(e) = self.queue.send(messages).await {
                    tracing::warn!(error = %e, "enqueue failed after commit; the sweeper will re-enqueue");
                }
            }
        }
        Ok(())
    }
}
