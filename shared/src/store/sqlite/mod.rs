//! Embedded adapter: one SQLite file (WAL), safe to share between processes.
//!
//! Writes go through one writer thread per process that groups the writes waiting at the
//! same moment into one transaction (group commit): each write runs in its own savepoint,
//! so a failed condition rolls back only that write, and every caller gets its answer after
//! the shared COMMIT, which is durable (`synchronous=FULL`). Between processes, SQLite's
//! write lock (`BEGIN IMMEDIATE` + busy timeout) serialises the writers. Reads use a small
//! pool of connections and see every committed write.
//!
//! The embedded queue lives in the same file (`queue` table), so a store write and the
//! message that must follow it commit together ([`Store::commit`]).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::oneshot;

use super::eval;
use super::memory::cursor;
use super::{
    check_scan, check_transaction, Condition, Index, Item, Key, Outbox, Page, Query, Scan, SkRange,
    Store, StoreError, StoreResult, Update, WriteOp, GSI1_PK, GSI1_SK,
};
mod attrs;
mod queue;

pub use self::queue::EmbeddedQueue;
use self::queue::{self as queue_sql, QueueJob, QueueReply};
use crate::queue::Message;

/// Writes grouped into one transaction at most.
const MAX_GROUP: usize = 512;
const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    attrs TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    h INTEGER NOT NULL,
    PRIMARY KEY (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (json_extract(attrs, '$.gsi2pk.S'), json_extract(attrs, '$.passenger_start.S'), pk, sk) WHERE json_extract(attrs, '$.gsi2pk.S') IS NOT NULL;
";

/// `gsi2` (`gsi2pk`, `passenger_start`: `records::item::GSI2_SK`) is an index on
/// expressions of the stored attributes (no column of its own: a
/// store created before it needs no migration). Queries name exactly these expressions,
/// so SQLite uses the index.
const GSI2_PK_SQL: &str = "json_extract(attrs, '$.gsi2pk.S')";
const GSI2_SK_SQL: &str = "json_extract(attrs, '$.passenger_start.S')";

/// What the writer thread does for one caller.
pub(crate) enum Work {
    Write(WriteOp),
    /// Independent writes ([`Store::write_each`]) as one job: one hand-off, one savepoint.
    Each(Vec<WriteOp>),
    Commit(Vec<WriteOp>, Vec<Message>),
    Queue(QueueJob),
    /// Raw SQL on the writer connection, for fault-injection tests.
    #[cfg(test)]
    Exec(String),
}

/// What it answers.
pub(crate) enum Done {
    Item(Option<Item>),
    Committed,
    Queue(QueueReply),
}

pub(crate) struct Job {
    work: Work,
    reply: oneshot::Sender<StoreResult<Done>>,
}

impl Work {
    fn run(self, conn: &Connection) -> StoreResult<Done> {
        match self {
            Work::Write(op) => write_one(conn, &op).map(Done::Item),
            Work::Each(ops) => ops
                .iter()
                .try_for_each(|op| write_one(conn, op).map(drop))
                .map(|()| Done::Committed),
            Work::Commit(ops, messages) => {
                if !ops.is_empty() {
                    transact(conn, &ops)?;
                }
                queue_sql::insert(conn, &messages).map(|_| Done::Committed)
            }
            Work::Queue(job) => queue_sql::run(conn, job).map(Done::Queue),
            #[cfg(test)]
            Work::Exec(sql) => conn
                .execute_batch(&sql)
                .map(|_| Done::Committed)
                .map_err(unavailable),
        }
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    /// Dropped with the store: ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(unavailable)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(unavailable)?;
    // Reads map the file instead of copying every page through read(2): batch jobs (the
    // fraud pass) read millions of rows. SQLite caps it at 2 GiB; it is address space only.
    conn.pragma_update(None, "mmap_size", 2_147_418_112_i64)
        .map_err(unavailable)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (and creates if needed) the store file, its parent directory and its schema.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {dir:?}: {e}")))?;
        }
        let writer = open_connection(path)?;
        writer
            .execute_batch(SCHEMA)
            .and_then(|_| writer.execute_batch(queue_sql::SCHEMA))
            .map_err(unavailable)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<StoreResult<Vec<_>>>()?;
        // Checkpoints run beside the writer (PASSIVE: they never block it) instead of inside
        // the COMMIT that crosses the WAL threshold, which stalled every waiting caller.
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(unavailable)?;
        let checkpointer = open_connection(path)?;
        let (stop_checkpoints, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, stopped))
            .map_err(|e| StoreError::Unavailable(format!("cannot start checkpointer: {e}")))?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| StoreError::Unavailable(format!("cannot start writer: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: tx,
                _stop_checkpoints: stop_checkpoints,
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Writes many items, replacing any with the same key, without conditions, 100 000 per
    /// transaction, on a connection of its own (blocking). For generators of benchmark and
    /// fixture data only: the registry's own writes go through [`Store`].
    pub fn bulk_put(&self, items: impl IntoIterator<Item = Item>) -> StoreResult<usize> {
        let mut conn = open_connection(&self.inner.path)?;
        let mut items = items.into_iter().peekable();
        let mut written = 0;
        while items.peek().is_some() {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            for item in items.by_ref().take(100_000) {
                write_state(&tx, &item.key, Some(&item))?;
                written += 1;
            }
            tx.commit().map_err(unavailable)?;
        }
        Ok(written)
    }

    /// The queue stored in this file.
    pub fn queue(&self, max_receives: u32) -> EmbeddedQueue {
        EmbeddedQueue::new(self.clone(), max_receives)
    }

    pub(crate) async fn submit(&self, work: Work) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Job { work, reply })
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?
    }

    /// Runs a read on a pooled connection off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            // Take a free connection if there is one, else wait for ours.
            for i in 0..inner.readers.len() {
                if let Ok(conn) = inner.readers[(start + i) % inner.readers.len()].try_lock() {
                    return f(&conn);
                }
            }
            let conn = inner.readers[start % inner.readers.len()]
                .lock()
                .map_err(|_| StoreError::Unavailable("reader poisoned".into()))?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("reader task failed: {e}")))?
    }
}

/// Copies the WAL back into the database every half second, until the store is dropped.
fn checkpoint_loop(conn: Connection, stopped: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) =
        stopped.recv_timeout(Duration::from_millis(500))
    {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        run_group(&mut conn, jobs);
    }
}

/// Runs a group of jobs in one transaction and answers each caller after the COMMIT.
fn run_group(conn: &mut Connection, jobs: Vec<Job>) {
    let (works, replies): (Vec<Work>, Vec<_>) = jobs.into_iter().map(|j| (j.work, j.reply)).unzip();
    match run_all(conn, works) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(e.to_string())));
            }
        }
    }
}

/// Every job in its own savepoint of one transaction. `Err` means nothing of the group was
/// written: a storage failure (disk full, I/O error) may have rolled the transaction back
/// or left a job half-applied, so the whole group is given up and every caller gets 503.
fn run_all(conn: &mut Connection, works: Vec<Work>) -> StoreResult<Vec<StoreResult<Done>>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let mut results = Vec::with_capacity(works.len());
    for work in works {
        let result = in_savepoint(&tx, |c| work.run(c));
        if let Err(e @ StoreError::Unavailable(_)) = &result {
            return Err(StoreError::Unavailable(e.to_string()));
        }
        if tx.is_autocommit() {
            return Err(StoreError::Unavailable(
                "sqlite rolled the transaction back".into(),
            ));
        }
        results.push(result);
    }
    tx.commit().map_err(unavailable)?;
    Ok(results)
}

/// Runs `f` in a savepoint: its writes are kept only if it succeeds.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    // Cached statements: this runs for every write of the hot path.
    let run = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(unavailable)
    };
    run("SAVEPOINT job")?;
    let result = f(conn);
    if result.is_err() {
        run("ROLLBACK TO job")?;
    }
    run("RELEASE job")?;
    result
}

fn read_item(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    conn.prepare_cached("SELECT attrs FROM items WHERE pk = ?1 AND sk = ?2")
        .map_err(unavailable)?
        .query_row(params![key.pk, key.sk], |row| row.get::<_, String>(0))
        .optional()
        .map_err(unavailable)?
        .map(|attrs| attrs::decode(key.clone(), &attrs))
        .transpose()
}

fn write_state(conn: &Connection, key: &Key, state: Option<&Item>) -> StoreResult<()> {
    match state {
        None => conn
            .prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
            .and_then(|mut s| s.execute(params![key.pk, key.sk]))
            .map(|_| ())
            .map_err(unavailable),
        Some(item) => {
            let attrs = attrs::encode(item)?;
            let (gpk, gsk) = match item.gsi1() {
                Some((p, s)) => (Some(p), Some(s)),
                None => (None, None),
            };
            conn.prepare_cached(
                "INSERT OR REPLACE INTO items (pk, sk, attrs, gsi1pk, gsi1sk, h) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    item.key.pk,
                    item.key.sk,
                    attrs,
                    gpk,
                    gsk,
                    i64::from(crate::domain::shard::fnv1a(&item.key.pk))
                ])
            })
            .map(|_| ())
            .map_err(unavailable)
        }
    }
}

fn write_one(conn: &Connection, op: &WriteOp) -> StoreResult<Option<Item>> {
    let (key, state) = eval::plan_one(op, |k| read_item(conn, k))?;
    write_state(conn, &key, state.as_ref())?;
    Ok(state)
}

fn transact(conn: &Connection, ops: &[WriteOp]) -> StoreResult<()> {
    check_transaction(ops)?;
    for (key, state) in eval::plan(ops, |k| read_item(conn, k))? {
        write_state(conn, &key, state.as_ref())?;
    }
    Ok(())
}

/// SQL for a sort-key range on `column`, with its parameters after `first_param`.
fn range_sql(range: &SkRange, column: &str, first_param: usize) -> (String, Vec<String>) {
    let p = first_param;
    match range {
        SkRange::All => (String::new(), vec![]),
        SkRange::Eq(v) => (format!(" AND {column} = ?{p}"), vec![v.clone()]),
        // Every string starting with `v` sorts between `v` and `v` + the highest code point;
        // the exact check is repeated in Rust.
        SkRange::BeginsWith(v) => (
            format!(" AND {column} >= ?{p} AND {column} < ?{}", p + 1),
            vec![v.clone(), format!("{v}\u{10FFFF}")],
        ),
        SkRange::Between(a, b) => (
            format!(" AND {column} >= ?{p} AND {column} <= ?{}", p + 1),
            vec![a.clone(), b.clone()],
        ),
        SkRange::Gte(v) => (format!(" AND {column} >= ?{p}"), vec![v.clone()]),
        SkRange::Lte(v) => (format!(" AND {column} <= ?{p}"), vec![v.clone()]),
    }
}

fn rows_to_items(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<Item>> {
    let rows = stmt
        .query_map(params, |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(unavailable)?;
    let mut items = Vec::new();
    for row in rows {
        let (pk, sk, attrs) = row.map_err(unavailable)?;
        items.push(attrs::decode(Key { pk, sk }, &attrs)?);
    }
    Ok(items)
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let key = key.clone();
        self.read(move |conn| read_item(conn, &key)).await
    }

    /// One trip to a reader connection for all of them (a batch job's thousands of reads
    /// would otherwise each pay a thread hand-off), in one read transaction: one snapshot,
    /// and one shared lock and WAL check instead of one per key.
    async fn get_many(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        let keys = keys.to_vec();
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().map_err(unavailable)?;
            let items = keys.iter().map(|k| read_item(&tx, k)).collect();
            tx.finish().map_err(unavailable)?;
            items
        })
        .await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.submit(Work::Write(WriteOp::Put { item, condition }))
            .await
            .map(|_| ())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        let op = WriteOp::Update {
            key: key.clone(),
            update,
            condition,
        };
        match self.submit(Work::Write(op)).await? {
            Done::Item(Some(item)) => Ok(item),
            _ => Err(StoreError::Invalid("update produced no item".into())),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        let op = WriteOp::Delete {
            key: key.clone(),
            condition,
        };
        self.submit(Work::Write(op)).await.map(|_| ())
    }

    async fn write_each(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        self.submit(Work::Each(ops)).await.map(drop)
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        check_transaction(&ops)?;
        self.submit(Work::Commit(ops, Vec::new())).await.map(|_| ())
    }

    async fn commit(&self, ops: Vec<WriteOp>, messages: Vec<Message>) -> StoreResult<Outbox> {
        if !ops.is_empty() {
            check_transaction(&ops)?;
        }
        self.submit(Work::Commit(ops, messages)).await?;
        Ok(Outbox::Enqueued)
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        self.read(move |conn| {
            let (pk_col, sk_col) = match query.index {
                Index::Table => ("pk", "sk"),
                Index::Gsi1 => (GSI1_PK, GSI1_SK),
                Index::Gsi2 => (GSI2_PK_SQL, GSI2_SK_SQL),
            };
            let (range, range_params) = range_sql(&query.sk, sk_col, 2);
            let mut params: Vec<String> = vec![query.pk.clone()];
            params.extend(range_params);
            let (cmp, order) = if query.descending {
                ("<", "DESC")
            } else {
                (">", "ASC")
            };
            let after = match &query.cursor {
                None => String::new(),
                Some(c) => {
                    let (s, p, k) = cursor::decode(c)?;
                    let n = params.len();
                    params.extend([s, p, k]);
                    // The first term lets SQLite seek the index to the cursor; with the
                    // row value alone it scanned the partition from its start on every
                    // page (quadratic over a month of journeys).
                    format!(
                        " AND {sk_col} {cmp}= ?{a} AND ({sk_col}, pk, sk) {cmp} (?{a}, ?{}, ?{})",
                        n + 2,
                        n + 3,
                        a = n + 1,
                    )
                }
            };
            let sql = format!(
                "SELECT pk, sk, attrs FROM items WHERE {pk_col} = ?1{range}{after} \
                 ORDER BY {sk_col} {order}, pk {order}, sk {order} LIMIT {}",
                query.limit.max(1) + 1
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
            let refs: Vec<&dyn rusqlite::ToSql> =
                params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
            let items = rows_to_items(&mut stmt, &refs)?
                .into_iter()
                .filter(|item| match query.index {
                    Index::Table => query.sk.contains(&item.key.sk),
                    Index::Gsi1 | Index::Gsi2 => item
                        .index_key(query.index)
                        .is_some_and(|(_, sk)| query.sk.contains(sk)),
                })
                .map(Cow::Owned);
            cursor::page(items, query.index, query.descending, None, query.limit)
        })
        .await
    }

    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        check_scan(&scan)?;
        self.read(move |conn| {
            // `h` is the pk's FNV hash, so `h % total` is `segment_of(pk, total)`.
            let mut params: Vec<Box<dyn rusqlite::ToSql>> = vec![
                Box::new(i64::from(scan.total_segments)),
                Box::new(i64::from(scan.segment)),
            ];
            let after = match &scan.cursor {
                None => "",
                Some(c) => {
                    let (_, pk, sk) = cursor::decode(c)?;
                    params.push(Box::new(pk));
                    params.push(Box::new(sk));
                    " AND (pk, sk) > (?3, ?4)"
                }
            };
            let sql = format!(
                "SELECT pk, sk, attrs FROM items WHERE h % ?1 = ?2{after} ORDER BY pk, sk LIMIT {}",
                scan.limit.max(1) + 1
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
            let refs: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.as_ref()).collect();
            let items = rows_to_items(&mut stmt, &refs)?;
            cursor::page(
                items.into_iter().map(Cow::Owned),
                Index::Table,
                false,
                None,
                scan.limit,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Queue;
    use crate::store::Key;

    #[tokio::test]
    async fn a_refused_commit_writes_neither_items_nor_messages() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let queue = store.queue(3);
        let taken = Item::new(Key::new("a", "1"));
        store.put(taken.clone(), None).await.unwrap();
        let ops = vec![
            WriteOp::Put {
                item: Item::new(Key::new("b", "1")),
                condition: None,
            },
            WriteOp::Put {
                item: taken,
                condition: Some(Condition::NotExists),
            },
        ];
        let refused = store.commit(ops, vec![Message::new("m")]).await;
        assert!(matches!(
            refused,
            Err(StoreError::TransactionCanceled { index: 1, .. })
        ));
        assert_eq!(store.get(&Key::new("b", "1")).await.unwrap(), None);
        assert!(queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty());

        let ok = vec![WriteOp::Put {
            item: Item::new(Key::new("c", "1")),
            condition: None,
        }];
        assert_eq!(
            store.commit(ok, vec![Message::new("m2")]).await,
            Ok(Outbox::Enqueued)
        );
        let got = queue.receive(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(
            got.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(),
            vec!["m2"]
        );
    }

    #[tokio::test]
    async fn grouped_writes_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        // Many concurrent conditional creates of 20 keys: one winner per key, whatever
        // group each write lands in.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.spawn(async move {
                let item = Item::new(Key::new(format!("k{}", i % 20), "x")).with("by", i);
                store.put(item, Some(Condition::NotExists)).await.is_ok()
            });
        }
        let mut wins = 0;
        while let Some(r) = tasks.join_next().await {
            wins += usize::from(r.unwrap());
        }
        assert_eq!(wins, 20);
    }

    #[tokio::test]
    async fn a_full_disk_fails_whole_groups_and_leaves_nothing_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let queue = store.queue(3);
        // Cap the file: writes start failing with SQLITE_FULL part way through.
        let pages: i64 = store
            .read(|c| {
                c.query_row("PRAGMA page_count", [], |r| r.get(0))
                    .map_err(unavailable)
            })
            .await
            .unwrap();
        store
            .submit(Work::Exec(format!(
                "PRAGMA max_page_count = {}",
                pages + 40
            )))
            .await
            .unwrap();
        let (mut ok, mut refused) = (0, 0);
        let mut accepted = std::collections::BTreeSet::new();
        // Waves of 10 concurrent writes: several groups, some before the cap, some after.
        for wave in 0..30 {
            let mut tasks = tokio::task::JoinSet::new();
            for i in wave * 10..wave * 10 + 10 {
                let store = store.clone();
                tasks.spawn(async move {
                    let item =
                        Item::new(Key::new(format!("k{i}"), "x")).with("pad", "p".repeat(2000));
                    let ops = vec![WriteOp::Put {
                        item,
                        condition: Some(Condition::NotExists),
                    }];
                    (
                        i,
                        store.commit(ops, vec![Message::new(format!("m{i}"))]).await,
                    )
                });
            }
            while let Some(r) = tasks.join_next().await {
                let (i, result) = r.unwrap();
                let stored = store.get(&Key::new(format!("k{i}"), "x")).await.unwrap();
                match result {
                    Ok(_) => {
                        ok += 1;
                        accepted.insert(format!("m{i}"));
                        assert!(stored.is_some(), "k{i} acknowledged but missing");
                    }
                    Err(StoreError::Unavailable(_)) => {
                        refused += 1;
                        assert!(stored.is_none(), "k{i} refused but written");
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        }
        assert!(
            ok > 0 && refused > 0,
            "the cap must bite part way: {ok} ok, {refused} refused"
        );
        // Exactly the acknowledged writes have their message: none orphaned, none missing.
        store
            .submit(Work::Exec("PRAGMA max_page_count = 1000000".into()))
            .await
            .unwrap();
        let messages: std::collections::BTreeSet<String> = queue
            .receive(1000, Duration::from_secs(30))
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.body)
            .collect();
        assert_eq!(messages, accepted);
    }
}
