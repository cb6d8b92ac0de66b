//! Properties of `POST /v2/journeys` and of the stored document, on the journey v2
//! generators of `domain/journey_v2/properties.rs`:
//! * the stored document is the received one, byte for byte;
//! * through the handler: 201 and stored as received, or 400 at the pointer and nothing
//!   written.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::admin;
use crate::app::App;
use crate::clock::FixedClock;
use crate::domain::journey::pack_document;
use crate::domain::journey_v2::parse;
use crate::domain::journey_v2::properties::{
    bytes, change, distinct_people, journey, mutate, scrambled, Change, Generated,
};
use crate::domain::operator::OperatorId;
use crate::queue::memory::MemoryQueue;
use crate::records::journey::{stored_document, STORED_DOCUMENT};
use crate::records::keys;
use crate::store::memory::MemoryStore;
use crate::store::{Item, Key, Scan};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The stored document is the received body, byte for byte, whatever it holds.
    #[test]
    fn stored_documents_round_trip_byte_for_byte(
        body in prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..4096),
            1 => prop::collection::vec(any::<u8>(), 60_000..=crate::api::MAX_BODY_BYTES),
        ],
        g in journey(),
        seed in any::<u64>(),
    ) {
        let item = |bytes: &[u8]| Item::new(Key::new("p", "s"))
            .with(STORED_DOCUMENT, pack_document(bytes));
        prop_assert_eq!(stored_document(&item(&body)), Some(body.clone()));
        let mut text = String::new();
        let mut state = seed;
        scrambled(&g.doc, &mut state, &mut text);
        let stored = stored_document(&item(text.as_bytes()));
        prop_assert_eq!(stored.as_deref(), Some(text.as_bytes()));
        prop_assert_eq!(parse(&stored.unwrap_or_default()), parse(text.as_bytes()));
}
}

async fn everything(app: &App) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .scan(Scan {
                segment: 0,
                total_segments: 1,
                limit: 1000,
                cursor,
            })
            .await
            .unwrap();
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Every request counts against the rate limit, refused or not.
    items.retain(|i| !i.key.pk.starts_with("RATE#"));
    items.sort_by(|a, b| (&a.key.pk, &a.key.sk).cmp(&(&b.key.pk, &b.key.sk)));
    items
}

async fn post(app: &App, token: &str, body: Vec<u8>) -> http::Response<Bytes> {
    let request = http::Request::builder()
        .method("POST")
        .uri("/v2/journeys")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Bytes::from(body))
        .unwrap();
    crate::api::handle(app, request, None, None).await
}

/// Valid: 201, stored as received byte for byte; the same value sent again with other
/// bytes: 200 replay. One field invalid: 400 at its pointer, nothing written.
#[test]
fn post_journeys_stores_valid_documents_as_received_and_refuses_invalid_ones() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let app = App::new(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryQueue::new(5)),
        crate::config::Config::default(),
    )
    .with_clock(Arc::new(FixedClock::new(now)));
    let (operator, token) = rt.block_on(async {
        let (op, token) = admin::operator_with_token(&app, "op", None).await.unwrap();
        (op.id, token.token)
    });
    let mut runner = TestRunner::new(Config::with_cases(48));
    let strategy = (journey(), change(), any::<u64>());
    runner
        .run(&strategy, |(g, change, seed)| {
            rt.block_on(case(&app, operator, &token, g, change, seed))
        })
        .unwrap();
}

async fn case(
    app: &App,
    operator: OperatorId,
    token: &str,
    g: Generated,
    change: Change,
    seed: u64,
) -> Result<(), TestCaseError> {
    let mut doc = g.doc.clone();
    // A journey_id never used before, even when a failing case is shrunk and rerun.
    static CASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id: String = doc["journey_id"]
        .as_str()
        .unwrap()
        .chars()
        .take(240)
        .collect();
    doc["journey_id"] = json!(format!("{n}-{id}"));
    // The token's operator, when the document names one (else 403).
    if doc.get("operator_id").is_some() {
        doc["operator_id"] = json!(operator.0);
    }
    let mut text = String::new();
    let mut state = seed;
    scrambled(&doc, &mut state, &mut text);
    prop_assume!(distinct_people(&g) && text.len() <= crate::api::MAX_BODY_BYTES);

    if let Some(m) = mutate(&doc, &change) {
        let before = everything(app).await;
        let response = post(app, token, bytes(&m.doc)).await;
        prop_assert_eq!(response.status(), 400, "{}", m.what);
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        prop_assert_eq!(&body["error"]["details"][0]["path"], &json!(m.expected));
        prop_assert_eq!(body["error"]["details"].as_array().map(Vec::len), Some(1));
        prop_assert!(
            everything(app).await == before,
            "a refused journey wrote something"
        );
    }

    let response = post(app, token, text.clone().into_bytes()).await;
    prop_assert_eq!(
        response.status(),
        201,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    let journey_id = doc["journey_id"].as_str().unwrap();
    let item = app
        .store
        .get(&keys::journey(operator, journey_id))
        .await
        .unwrap()
        .unwrap();
    prop_assert_eq!(stored_document(&item), Some(text.into_bytes()));
    // The same JSON value in other bytes is a retry.
    let again = post(app, token, bytes(&doc)).await;
    prop_assert_eq!(again.status(), 200);
    prop_assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    Ok(())
}
