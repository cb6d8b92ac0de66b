//! One conformance suite for the `Store` port, run against every adapter: memory, SQLite
//! (a file in a temporary directory) and DynamoDB (a local moto server, a fresh table per
//! test). A check is an async function over the store; `conformance!` turns each check into
//! one `#[tokio::test]` per adapter (`memory::conditional_put`, `sqlite::...`,
//! `dynamodb::...`).

use std::collections::BTreeSet;
use std::sync::Arc;

use registry_core::store::memory::MemoryStore;
use registry_core::store::sqlite::SqliteStore;
use registry_core::store::{
    Attr, Condition, Cursor, Item, Key, Page, Query, Scan, SkRange, Store, StoreError, Update,
    WriteOp, GSI1_PK, GSI1_SK,
};
use registry_testkit::app;
use tempfile::TempDir;
use tokio::task::JoinSet;

type Shared = Arc<dyn Store>;

/// A store under test and whatever must outlive it.
struct Fixture {
    store: Shared,
    _dir: Option<TempDir>,
}

async fn memory_store() -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new()),
        _dir: None,
    }
}

async fn sqlite_store() -> Fixture {
    let (store, dir) = app::sqlite_store();
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

async fn dynamodb_store() -> Fixture {
    Fixture {
        store: Arc::new(app::dynamodb_store("t").await),
        _dir: None,
    }
}

macro_rules! all_checks {
    ($fixture:path) => {
        registry_testkit::conformance!($fixture, store =>
            get_put_delete,
            get_many_answers_in_key_order,
            attribute_types_round_trip,
            conditional_put,
            conditional_update,
            conditional_delete,
            sequential_counter,
            transaction_all_or_nothing,
            transaction_applies_every_write,
            transaction_shape_is_checked,
            query_sort_key_ranges,
            query_pagination,
            index_is_sparse_and_ordered,
            index_pagination,
            segmented_scan_partitions_the_table,
            refuses_what_dynamodb_refuses,
        );
    };
}

mod memory {
    all_checks!(super::memory_store);
    registry_testkit::conformance!(super::memory_store, store => concurrent_counter);
}

mod sqlite {
    all_checks!(super::sqlite_store);
    registry_testkit::conformance!(super::sqlite_store, store => concurrent_counter);
}

mod dynamodb {
    all_checks!(super::dynamodb_store);
}

// ---------------------------------------------------------------------------------------
// Helpers

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sk.clone()).collect()
}

/// Follows `next` until it is `None`, checking every page's size.
async fn all_pages(store: &dyn Store, query: Query) -> (Vec<Item>, Vec<usize>) {
    let limit = query.limit;
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.query(query.clone().after(cursor)).await.unwrap();
        assert!(page.items.len() <= limit, "page larger than its limit");
        sizes.push(page.items.len());
        items.extend(page.items);
        match page.next {
            None => return (items, sizes),
            Some(next) => cursor = Some(next),
        }
        assert!(sizes.len() <= 100, "pagination does not end");
    }
}

async fn put_all(store: &dyn Store, items: impl IntoIterator<Item = Item>) {
    for item in items {
        store.put(item, None).await.unwrap();
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Checks

async fn get_put_delete(store: Shared) {
    let k = key("journey#1", "meta");
    assert_eq!(store.get(&k).await.unwrap(), None);
    let item = Item::new(k.clone()).with("status", "pending").with("n", 3);
    store.put(item.clone(), None).await.unwrap();
    assert_eq!(store.get(&k).await.unwrap(), Some(item));
    // Same pk, other sk; same sk, other pk: distinct items.
    assert_eq!(store.get(&key("journey#1", "other")).await.unwrap(), None);
    assert_eq!(store.get(&key("journey#2", "meta")).await.unwrap(), None);
    store.delete(&k, None).await.unwrap();
    assert_eq!(store.get(&k).await.unwrap(), None);
    // Deleting an absent item is not an error.
    store.delete(&k, None).await.unwrap();
}

async fn get_many_answers_in_key_order(store: Shared) {
    let items: Vec<Item> = (0..5)
        .map(|n| Item::new(key(&format!("many#{n}"), "x")).with("n", n))
        .collect();
    put_all(store.as_ref(), items.clone()).await;
    let keys = vec![
        key("many#3", "x"),
        key("many#0", "x"),
        key("many#9", "x"),
        key("many#3", "y"),
        key("many#4", "x"),
        key("many#3", "x"),
    ];
    let found = store.get_many(&keys).await.unwrap();
    assert_eq!(
        found,
        vec![
            Some(items[3].clone()),
            Some(items[0].clone()),
            None,
            None,
            Some(items[4].clone()),
            Some(items[3].clone()),
        ]
    );
    assert_eq!(store.get_many(&[]).await.unwrap(), vec![]);
}

async fn attribute_types_round_trip(store: Shared) {
    let k = key("types", "1");
    let item = Item::new(k.clone())
        .with("s", "héllo ✓")
        .with("empty", "")
        .with("zero", 0)
        .with("min", i64::MIN)
        .with("max", i64::MAX)
        .with("neg", -42)
        .with("yes", true)
        .with("no", false)
        .with("json", r#"{"a":[1,2]}"#);
    store.put(item.clone(), None).await.unwrap();
    let got = store.get(&k).await.unwrap().unwrap();
    assert_eq!(got, item);
    assert_eq!(got.n("min"), Some(i64::MIN));
    assert_eq!(got.b("no"), Some(false));
    assert_eq!(got.s("empty"), Some(""));
}

async fn conditional_put(store: Shared) {
    let k = key("operator#1", "meta");
    let first = Item::new(k.clone()).with("name", "first").with("extra", 1);
    store
        .put(first.clone(), Some(Condition::NotExists))
        .await
        .unwrap();
    let second = Item::new(k.clone()).with("name", "second");
    let err = store
        .put(second.clone(), Some(Condition::NotExists))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed {
            key: k.clone(),
            condition: Condition::NotExists.to_string()
        }
    );
    assert_eq!(store.get(&k).await.unwrap(), Some(first));
    // Unconditional put replaces the whole item (attribute `extra` is gone).
    store.put(second.clone(), None).await.unwrap();
    assert_eq!(store.get(&k).await.unwrap(), Some(second.clone()));
    // Exists / Equals conditions on put.
    let third = Item::new(k.clone()).with("name", "third");
    store
        .put(third.clone(), Some(Condition::equals("name", "second")))
        .await
        .unwrap();
    assert!(matches!(
        store
            .put(second.clone(), Some(Condition::equals("name", "second")))
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert_eq!(store.get(&k).await.unwrap(), Some(third));
    let absent = key("operator#2", "meta");
    assert!(matches!(
        store
            .put(Item::new(absent.clone()), Some(Condition::Exists))
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert_eq!(store.get(&absent).await.unwrap(), None);
}

async fn conditional_update(store: Shared) {
    let k = key("journey#7", "meta");
    store
        .put(
            Item::new(k.clone()).with("status", "pending").with("n", 1),
            None,
        )
        .await
        .unwrap();

    // Equals holds: the returned item is the whole item after the update.
    let after = store
        .update(
            &k,
            Update::new().set("status", "done"),
            Some(Condition::equals("status", "pending")),
        )
        .await
        .unwrap();
    let expected = Item::new(k.clone()).with("status", "done").with("n", 1);
    assert_eq!(after, expected);

    // Equals fails: the error names the condition and nothing changes.
    let err = store
        .update(
            &k,
            Update::new().set("status", "canceled").add("n", 5),
            Some(Condition::equals("status", "pending")),
        )
        .await
        .unwrap_err();
    match &err {
        StoreError::ConditionFailed { key, condition } => {
            assert_eq!(key, &k);
            assert!(condition.contains("status"), "{condition}");
        }
        other => panic!("expected ConditionFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("status"));
    assert_eq!(store.get(&k).await.unwrap(), Some(expected.clone()));

    // Equals is typed: the string "1" is not the number 1.
    assert!(matches!(
        store
            .update(
                &k,
                Update::new().set("x", 1),
                Some(Condition::equals("n", "1"))
            )
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));

    // AttrMissing holds, then fails once the attribute is set.
    let locked = store
        .update(
            &k,
            Update::new().set("locked", true),
            Some(Condition::AttrMissing("locked".into())),
        )
        .await
        .unwrap();
    assert_eq!(locked.b("locked"), Some(true));
    assert!(matches!(
        store
            .update(
                &k,
                Update::new().set("locked", false),
                Some(Condition::AttrMissing("locked".into()))
            )
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));

    // All: every part must hold.
    let all = Condition::All(vec![
        Condition::Exists,
        Condition::equals("status", "done"),
        Condition::equals("locked", true),
    ]);
    let removed = store
        .update(&k, Update::new().remove("locked"), Some(all.clone()))
        .await
        .unwrap();
    assert_eq!(removed, expected);
    assert!(matches!(
        store.update(&k, Update::new().set("y", 1), Some(all)).await,
        Err(StoreError::ConditionFailed { .. })
    ));

    // Exists on an absent item fails and creates nothing.
    let absent = key("journey#8", "meta");
    assert!(matches!(
        store
            .update(
                &absent,
                Update::new().set("status", "x"),
                Some(Condition::Exists)
            )
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert_eq!(store.get(&absent).await.unwrap(), None);

    // Without a condition, update creates the absent item.
    let created = store
        .update(
            &absent,
            Update::new().set("status", "new").add("count", 2),
            None,
        )
        .await
        .unwrap();
    let expected_new = Item::new(absent.clone())
        .with("status", "new")
        .with("count", 2);
    assert_eq!(created, expected_new);
    assert_eq!(store.get(&absent).await.unwrap(), Some(expected_new));

    // NotExists on update: create-if-absent.
    let fresh = key("journey#9", "meta");
    store
        .update(
            &fresh,
            Update::new().set("a", "b"),
            Some(Condition::NotExists),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .update(
                &fresh,
                Update::new().set("a", "c"),
                Some(Condition::NotExists)
            )
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert_eq!(store.get(&fresh).await.unwrap().unwrap().s("a"), Some("b"));

    // An empty update creates the item with no attribute, and leaves an existing one as is.
    let bare = key("journey#10", "meta");
    assert_eq!(
        store.update(&bare, Update::new(), None).await.unwrap(),
        Item::new(bare.clone())
    );
    assert_eq!(store.get(&bare).await.unwrap(), Some(Item::new(bare)));
    let unchanged = store.update(&fresh, Update::new(), None).await.unwrap();
    assert_eq!(unchanged.s("a"), Some("b"));

    // The key attributes are reserved.
    assert!(matches!(
        store
            .update(&fresh, Update::new().set("sk", "x"), None)
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn conditional_delete(store: Shared) {
    let k = key("token#1", "meta");
    store
        .put(Item::new(k.clone()).with("revoked", false), None)
        .await
        .unwrap();
    let err = store
        .delete(&k, Some(Condition::equals("revoked", true)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed { .. }));
    assert!(store.get(&k).await.unwrap().is_some());
    store
        .delete(&k, Some(Condition::equals("revoked", false)))
        .await
        .unwrap();
    assert_eq!(store.get(&k).await.unwrap(), None);
    assert!(matches!(
        store.delete(&k, Some(Condition::Exists)).await,
        Err(StoreError::ConditionFailed { .. })
    ));
}

/// 50 adds at once: each caller sees its own new value. Not run on moto: its threaded
/// server applies concurrent UpdateItems to one item without a lock (seen: 34 returned
/// twice), whereas DynamoDB serialises the writes of an item, as the embedded adapters do.
async fn concurrent_counter(store: Shared) {
    counter(store, true).await
}

/// The same 50 adds one after the other (every adapter, moto included).
async fn sequential_counter(store: Shared) {
    counter(store, false).await
}

async fn counter(store: Shared, concurrent: bool) {
    let k = key("counter", "journeys");
    let add = |store: Shared, k: Key| async move {
        store
            .update(&k, Update::new().add("n", 1), None)
            .await
            .unwrap()
            .n("n")
            .unwrap()
    };
    let mut seen: Vec<i64> = Vec::new();
    if concurrent {
        let mut tasks = JoinSet::new();
        for _ in 0..50 {
            tasks.spawn(add(store.clone(), k.clone()));
        }
        seen = tasks.join_all().await;
    } else {
        for _ in 0..50 {
            seen.push(add(store.clone(), k.clone()).await);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=50).collect::<Vec<i64>>());
    assert_eq!(store.get(&k).await.unwrap().unwrap().n("n"), Some(50));

    // Several counters in one update, negative steps, counters beside other attributes.
    let after = store
        .update(
            &k,
            Update::new().add("n", -20).add("m", 7).set("label", "x"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(after.n("n"), Some(30));
    assert_eq!(after.n("m"), Some(7));
    assert_eq!(after.s("label"), Some("x"));
    // Adding to a string is refused and changes nothing.
    assert!(matches!(
        store.update(&k, Update::new().add("label", 1), None).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get(&k).await.unwrap(), Some(after));
}

async fn transaction_all_or_nothing(store: Shared) {
    put_all(
        &*store,
        [
            Item::new(key("tx", "c")).with("v", 1),
            Item::new(key("tx", "d")).with("v", 1),
        ],
    )
    .await;
    let failing = Condition::equals("v", 2);
    let ops = vec![
        WriteOp::Put {
            item: Item::new(key("tx", "a")).with("v", 1),
            condition: Some(Condition::NotExists),
        },
        WriteOp::Update {
            key: key("tx", "b"),
            update: Update::new().add("n", 1),
            condition: None,
        },
        WriteOp::Update {
            key: key("tx", "c"),
            update: Update::new().set("v", 3),
            condition: Some(failing.clone()),
        },
        WriteOp::Delete {
            key: key("tx", "d"),
            condition: None,
        },
    ];
    let err = store.transact(ops).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::TransactionCanceled {
            index: 2,
            key: key("tx", "c"),
            condition: failing.to_string(),
        }
    );
    let shown = err.to_string();
    assert!(shown.contains("#2"), "{shown}");
    assert!(shown.contains(&failing.to_string()), "{shown}");
    // Nothing was applied: not #0, not #1, not #3.
    assert_eq!(store.get(&key("tx", "a")).await.unwrap(), None);
    assert_eq!(store.get(&key("tx", "b")).await.unwrap(), None);
    assert_eq!(
        store.get(&key("tx", "c")).await.unwrap().unwrap().n("v"),
        Some(1)
    );
    assert!(store.get(&key("tx", "d")).await.unwrap().is_some());

    // A failing check at #0 reports index 0.
    let err = store
        .transact(vec![
            WriteOp::Check {
                key: key("tx", "absent"),
                condition: Condition::Exists,
            },
            WriteOp::Put {
                item: Item::new(key("tx", "e")),
                condition: None,
            },
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TransactionCanceled { index: 0, ref key, .. } if key.sk == "absent"),
        "{err:?}"
    );
    assert_eq!(store.get(&key("tx", "e")).await.unwrap(), None);
}

async fn transaction_applies_every_write(store: Shared) {
    put_all(
        &*store,
        [
            Item::new(key("tx", "c")).with("v", 1),
            Item::new(key("tx", "d")).with("v", 1),
            Item::new(key("other", "guard")).with("open", true),
        ],
    )
    .await;
    store
        .transact(vec![
            WriteOp::Put {
                item: Item::new(key("tx", "a")).with("v", 1),
                condition: Some(Condition::NotExists),
            },
            WriteOp::Update {
                key: key("tx", "b"),
                update: Update::new().add("n", 1).set("s", "x"),
                condition: None,
            },
            WriteOp::Update {
                key: key("tx", "c"),
                update: Update::new().set("v", 3).remove("gone"),
                condition: Some(Condition::equals("v", 1)),
            },
            WriteOp::Delete {
                key: key("tx", "d"),
                condition: Some(Condition::Exists),
            },
            WriteOp::Check {
                key: key("other", "guard"),
                condition: Condition::equals("open", true),
            },
            // An update that changes nothing still creates the item.
            WriteOp::Update {
                key: key("tx", "f"),
                update: Update::new(),
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        store.get(&key("tx", "f")).await.unwrap(),
        Some(Item::new(key("tx", "f")))
    );
    assert_eq!(
        store.get(&key("tx", "a")).await.unwrap(),
        Some(Item::new(key("tx", "a")).with("v", 1))
    );
    assert_eq!(
        store.get(&key("tx", "b")).await.unwrap(),
        Some(Item::new(key("tx", "b")).with("n", 1).with("s", "x"))
    );
    assert_eq!(
        store.get(&key("tx", "c")).await.unwrap(),
        Some(Item::new(key("tx", "c")).with("v", 3))
    );
    assert_eq!(store.get(&key("tx", "d")).await.unwrap(), None);
    assert_eq!(
        store.get(&key("other", "guard")).await.unwrap(),
        Some(Item::new(key("other", "guard")).with("open", true))
    );
}

async fn transaction_shape_is_checked(store: Shared) {
    assert!(matches!(
        store.transact(vec![]).await,
        Err(StoreError::Invalid(_))
    ));
    let twice = vec![
        WriteOp::Put {
            item: Item::new(key("tx", "a")),
            condition: None,
        },
        WriteOp::Delete {
            key: key("tx", "a"),
            condition: None,
        },
    ];
    assert!(matches!(
        store.transact(twice).await,
        Err(StoreError::Invalid(_))
    ));
    let too_many: Vec<WriteOp> = (0..=registry_core::store::MAX_TRANSACTION_WRITES)
        .map(|i| WriteOp::Put {
            item: Item::new(key("tx", &format!("{i:03}"))),
            condition: None,
        })
        .collect();
    assert!(matches!(
        store.transact(too_many).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get(&key("tx", "a")).await.unwrap(), None);
    assert_eq!(store.get(&key("tx", "000")).await.unwrap(), None);
}

/// Requests DynamoDB rejects are rejected by every adapter, and change nothing.
async fn refuses_what_dynamodb_refuses(store: Shared) {
    let invalid = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Invalid(_)));
    let k = key("refused", "1");
    // A condition on a key attribute.
    let on_key = Condition::AttrMissing("pk".into());
    assert!(invalid(
        store.put(Item::new(k.clone()), Some(on_key.clone())).await
    ));
    assert!(invalid(store.delete(&k, Some(on_key)).await));
    // Two changes to one attribute in one update.
    let overlap = Update::new().set("a", 1i64).remove("a");
    assert!(invalid(store.update(&k, overlap, None).await.map(|_| ())));
    let overlap = Update::new().set("n", 1i64).add("n", 1);
    assert!(invalid(store.update(&k, overlap, None).await.map(|_| ())));
    // Index keys that are not non-empty strings.
    let numeric = Item::new(k.clone()).with(GSI1_PK, 5i64).with(GSI1_SK, "x");
    assert!(invalid(store.put(numeric, None).await));
    let empty = Item::new(k.clone()).with(GSI1_PK, "").with(GSI1_SK, "x");
    assert!(invalid(store.put(empty, None).await));
    // The same inside a transaction.
    let tx = vec![WriteOp::Update {
        key: k.clone(),
        update: Update::new().set("a", 1i64).remove("a"),
        condition: None,
    }];
    assert!(invalid(store.transact(tx).await));
    // A scan over zero segments, or a segment outside them.
    for (segment, total_segments) in [(0, 0), (2, 2)] {
        let scan = Scan {
            segment,
            total_segments,
            limit: 10,
            cursor: None,
        };
        assert!(invalid(store.scan(scan).await.map(|_| ())));
    }
    assert_eq!(store.get(&k).await.unwrap(), None);
}

async fn query_sort_key_ranges(store: Shared) {
    let p_sks = [
        "a#01", "a#02", "a#03", "a#04", "a#05", "b#01", "b#02", "b#03",
    ];
    put_all(
        &*store,
        p_sks
            .iter()
            .map(|sk| Item::new(key("p", sk)).with("x", *sk)),
    )
    .await;
    // Neighbouring partitions that must never leak in (one has `p` as a prefix).
    put_all(
        &*store,
        ["pp", "o", "p#"]
            .iter()
            .flat_map(|pk| ["a#01", "a#03", "b#01"].map(|sk| Item::new(key(pk, sk)))),
    )
    .await;

    let q = |range: SkRange| Query::partition("p").range(range);
    let run = |query: Query| {
        let store = store.clone();
        async move {
            let (items, _) = all_pages(&*store, query).await;
            assert!(items.iter().all(|i| i.key.pk == "p"));
            sks(&items)
        }
    };

    let (all, _) = all_pages(&*store, q(SkRange::All)).await;
    assert_eq!(sks(&all), strings(&p_sks));
    assert_eq!(all[0].s("x"), Some("a#01"), "items come back whole");
    assert_eq!(run(q(SkRange::Eq("a#03".into()))).await, strings(&["a#03"]));
    assert_eq!(
        run(q(SkRange::Eq("a#0".into()))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        run(q(SkRange::BeginsWith("a#".into()))).await,
        strings(&p_sks[..5])
    );
    assert_eq!(
        run(q(SkRange::BeginsWith("b#0".into()))).await,
        strings(&p_sks[5..])
    );
    assert_eq!(
        run(q(SkRange::BeginsWith("c".into()))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        run(q(SkRange::Between("a#02".into(), "a#04".into()))).await,
        strings(&["a#02", "a#03", "a#04"])
    );
    assert_eq!(
        run(q(SkRange::Between("a#05".into(), "b#01".into()))).await,
        strings(&["a#05", "b#01"])
    );
    assert_eq!(
        run(q(SkRange::Between("a#04".into(), "a#02".into()))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        run(q(SkRange::Gte("b#".into()))).await,
        strings(&p_sks[5..])
    );
    assert_eq!(
        run(q(SkRange::Gte("a#05".into()))).await,
        strings(&p_sks[4..])
    );
    assert_eq!(
        run(q(SkRange::Lte("a#03".into()))).await,
        strings(&p_sks[..3])
    );
    assert_eq!(
        run(q(SkRange::Lte("a#".into()))).await,
        Vec::<String>::new()
    );

    let mut reversed = strings(&p_sks);
    reversed.reverse();
    assert_eq!(run(q(SkRange::All).descending()).await, reversed);
    assert_eq!(
        run(q(SkRange::BeginsWith("a#".into())).descending()).await,
        strings(&["a#05", "a#04", "a#03", "a#02", "a#01"])
    );
    assert_eq!(
        run(q(SkRange::Between("a#02".into(), "b#01".into()))
            .descending()
            .limit(2))
        .await,
        strings(&["b#01", "a#05", "a#04", "a#03", "a#02"])
    );
    assert_eq!(run(Query::partition("nobody")).await, Vec::<String>::new());
}

async fn query_pagination(store: Shared) {
    let expected: Vec<String> = (0..25).map(|i| format!("item#{i:02}")).collect();
    put_all(
        &*store,
        expected
            .iter()
            .map(|sk| Item::new(key("page", sk)).with("i", 1)),
    )
    .await;
    put_all(
        &*store,
        (0..21).map(|i| Item::new(key("page21", &format!("item#{i:02}")))),
    )
    .await;

    let (items, sizes) = all_pages(&*store, Query::partition("page").limit(7)).await;
    assert_eq!(sizes, vec![7, 7, 7, 4]);
    assert_eq!(sks(&items), expected);
    let unique: BTreeSet<&String> = expected.iter().collect();
    assert_eq!(unique.len(), 25);

    let (items, sizes) = all_pages(&*store, Query::partition("page").limit(7).descending()).await;
    assert_eq!(sizes, vec![7, 7, 7, 4]);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(sks(&items), reversed);

    // With a range and a limit that divides the result exactly: no empty last page,
    // `next` is None as soon as nothing follows.
    let (items, sizes) = all_pages(
        &*store,
        Query::partition("page")
            .range(SkRange::Between("item#03".into(), "item#08".into()))
            .limit(3),
    )
    .await;
    assert_eq!(sizes, vec![3, 3]);
    assert_eq!(sks(&items), expected[3..9].to_vec());
    let (items, sizes) = all_pages(&*store, Query::partition("page21").limit(7)).await;
    assert_eq!(sizes, vec![7, 7, 7]);
    assert_eq!(items.len(), 21);
    let one = store
        .query(Query::partition("page").limit(25))
        .await
        .unwrap();
    assert_eq!(one.items.len(), 25);
    assert_eq!(one.next, None);

    let garbage = Query::partition("page").after(Some(Cursor("not a cursor".into())));
    assert!(matches!(
        store.query(garbage).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Items of the secondary index partition `by-date`, and items that must stay out of it.
async fn index_fixture(store: &dyn Store, count: usize) -> Vec<String> {
    let mut expected = Vec::new();
    for i in 0..count {
        // Table keys in another order than the index keys.
        let gsk = format!("2024-06-{:02}#{i:02}", 30 - i);
        store
            .put(
                Item::new(key(&format!("journey#{i:02}"), "meta"))
                    .with(GSI1_PK, "by-date")
                    .with(GSI1_SK, gsk.as_str())
                    .with("i", i as i64),
                None,
            )
            .await
            .unwrap();
        expected.push(gsk);
    }
    expected.sort();
    put_all(
        store,
        [
            // No index keys at all.
            Item::new(key("journey#x1", "meta")),
            // Only one of the two index keys: not in the index.
            Item::new(key("journey#x2", "meta")).with(GSI1_PK, "by-date"),
            Item::new(key("journey#x3", "meta")).with(GSI1_SK, "2024-06-15#xx"),
            // Another index partition.
            Item::new(key("journey#x4", "meta"))
                .with(GSI1_PK, "by-date-2")
                .with(GSI1_SK, "2024-06-15#yy"),
        ],
    )
    .await;
    expected
}

fn index_sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.gsi1().expect("index item has index keys").1.to_owned())
        .collect()
}

async fn index_is_sparse_and_ordered(store: Shared) {
    let expected = index_fixture(&*store, 6).await;
    let (items, _) = all_pages(&*store, Query::index("by-date")).await;
    assert_eq!(index_sks(&items), expected);
    assert!(items
        .iter()
        .all(|i| i.gsi1().map(|g| g.0) == Some("by-date")));
    // Projection ALL: the whole item comes back.
    let first = &items[0];
    let whole = store.get(&first.key).await.unwrap().unwrap();
    assert_eq!(first, &whole);

    let (items, _) = all_pages(
        &*store,
        Query::index("by-date").range(SkRange::BeginsWith("2024-06-2".into())),
    )
    .await;
    assert_eq!(
        index_sks(&items),
        expected
            .iter()
            .filter(|s| s.starts_with("2024-06-2"))
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(items.len(), 5);

    let (items, _) = all_pages(&*store, Query::index("by-date").descending()).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(index_sks(&items), reversed);

    let (items, _) = all_pages(&*store, Query::index("by-date-2")).await;
    assert_eq!(sks(&items), strings(&["meta"]));
    assert_eq!(items[0].key.pk, "journey#x4");

    // The table's partition key is not an index partition.
    let (items, _) = all_pages(&*store, Query::index("journey#00")).await;
    assert!(items.is_empty());

    // An update that completes the index keys adds the item; removing one takes it out.
    store
        .update(
            &key("journey#x2", "meta"),
            Update::new().set(GSI1_SK, "2024-01-01#x2"),
            None,
        )
        .await
        .unwrap();
    let (items, _) = all_pages(&*store, Query::index("by-date")).await;
    assert_eq!(items.len(), 7);
    assert_eq!(items[0].key.pk, "journey#x2");
    store
        .update(
            &key("journey#x2", "meta"),
            Update::new().remove(GSI1_PK),
            None,
        )
        .await
        .unwrap();
    let (items, _) = all_pages(&*store, Query::index("by-date")).await;
    assert_eq!(index_sks(&items), expected);
}

async fn index_pagination(store: Shared) {
    let expected = index_fixture(&*store, 11).await;
    let (items, sizes) = all_pages(
        &*store,
        Query::index("by-date")
            .range(SkRange::BeginsWith("2024-06-".into()))
            .limit(3),
    )
    .await;
    assert_eq!(sizes, vec![3, 3, 3, 2]);
    assert_eq!(index_sks(&items), expected);
    let (items, sizes) = all_pages(&*store, Query::index("by-date").limit(4).descending()).await;
    assert_eq!(sizes, vec![4, 4, 3]);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(index_sks(&items), reversed);
}

async fn segmented_scan_partitions_the_table(store: Shared) {
    let mut expected = BTreeSet::new();
    for p in 0..20 {
        for s in 0..3 {
            let k = key(&format!("scan#{p:02}"), &format!("s{s}"));
            expected.insert(k.clone());
            store
                .put(
                    Item::new(k)
                        .with("p", p)
                        .with(GSI1_PK, "g")
                        .with(GSI1_SK, "x"),
                    None,
                )
                .await
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut per_segment = Vec::new();
    for segment in 0..4 {
        let mut cursor = None;
        let mut count = 0;
        loop {
            let page: Page = store
                .scan(Scan {
                    segment,
                    total_segments: 4,
                    limit: 5,
                    cursor,
                })
                .await
                .unwrap();
            assert!(page.items.len() <= 5);
            count += page.items.len();
            seen.extend(page.items.iter().map(|i| i.key.clone()));
            for item in &page.items {
                assert_eq!(
                    item.n("p").map(|p| format!("scan#{p:02}")),
                    Some(item.key.pk.clone())
                );
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
            assert!(seen.len() <= 1000, "scan does not end");
        }
        per_segment.push(count);
    }
    let unique: BTreeSet<Key> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), unique.len(), "an item came back twice");
    assert_eq!(unique, expected);
    assert_eq!(per_segment.iter().sum::<usize>(), 60);
    assert!(
        per_segment.iter().filter(|c| **c > 0).count() >= 2,
        "segments split the table: {per_segment:?}"
    );
}

// ---------------------------------------------------------------------------------------
// SQLite only: one file shared by several handles (e.g. `registry serve` and `registry admin`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_is_shared_between_handles() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("shared.db");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let b = Arc::new(SqliteStore::open(&path).unwrap());

    let k = key("operator#1", "meta");
    a.put(
        Item::new(k.clone()).with("name", "A"),
        Some(Condition::NotExists),
    )
    .await
    .unwrap();
    assert_eq!(b.get(&k).await.unwrap().unwrap().s("name"), Some("A"));
    assert!(matches!(
        b.put(Item::new(k.clone()), Some(Condition::NotExists))
            .await,
        Err(StoreError::ConditionFailed { .. })
    ));
    b.delete(&k, None).await.unwrap();
    assert_eq!(a.get(&k).await.unwrap(), None);

    let counter = key("counter", "shared");
    let mut tasks = JoinSet::new();
    for i in 0..100 {
        let store: Arc<SqliteStore> = if i % 2 == 0 { a.clone() } else { b.clone() };
        let counter = counter.clone();
        tasks.spawn(async move {
            store
                .update(&counter, Update::new().add("n", 1), None)
                .await
                .unwrap()
                .n("n")
                .unwrap()
        });
    }
    let mut seen = tasks.join_all().await;
    seen.sort_unstable();
    assert_eq!(seen, (1..=100).collect::<Vec<i64>>());
    assert_eq!(a.get(&counter).await.unwrap().unwrap().n("n"), Some(100));
    assert_eq!(b.get(&counter).await.unwrap().unwrap().n("n"), Some(100));

    // A third handle opened later sees everything, and the attribute kinds survive.
    drop(a);
    let c = SqliteStore::open(&path).unwrap();
    assert_eq!(
        c.get(&counter).await.unwrap().unwrap().attrs.get("n"),
        Some(&Attr::N(100))
    );
}
