//! `POST /v2/journeys` up to the store write, on arbitrary bytes: the same calls in the
//! same order as `api::journeys::create` (JSON, schema, checks against the reception time,
//! lateness, canonical hash input, identity keys, the packed document). Beyond "never
//! panics", it checks what the handler relies on:
//! * an error always names at least one path;
//! * an accepted document is stored byte for byte and parses again to the same journey
//!   (the queue consumer and the CEE routes re-read the stored bytes);
//! * its canonical form (what the idempotent-retry hash covers) parses to the same journey.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use registry_core::domain::identity::identity_key;
use registry_core::domain::journey::{pack_document, stored_document, STORED_DOCUMENT};
use registry_core::domain::journey_v2;
use registry_core::domain::operator::OperatorId;
use registry_core::store::{Item, Key};

fuzz_target!(|body: &[u8]| {
    // A fixed reception time keeps runs reproducible.
    let received_at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let doc = match journey_v2::json_value(body) {
        Ok(doc) => doc,
        Err(invalid) => {
            assert!(!invalid.details.is_empty());
            return;
        }
    };
    let journey = match journey_v2::parse_value(&doc) {
        Ok(journey) => journey,
        Err(invalid) => {
            assert!(!invalid.details.is_empty());
            return;
        }
    };
    if let Err(invalid) = journey_v2::check(&journey, received_at) {
        assert!(!invalid.details.is_empty());
    }
    let _ = journey_v2::late(&journey, received_at);
    let canonical = doc.to_string();
    let again = journey_v2::parse(canonical.as_bytes()).expect("canonical form parses");
    assert_eq!(again, journey, "canonical form parses to the same journey");
    for person in [&journey.passenger.person, &journey.driver.person] {
        let key = identity_key("fuzz-secret", OperatorId(1), &person.identity);
        assert_eq!(key.len(), 64);
    }
    // The handler never sees a larger body (413 before parsing).
    if body.len() > registry_core::api::MAX_BODY_BYTES {
        return;
    }
    let item = Item::new(Key::new("p", "s")).with(STORED_DOCUMENT, pack_document(body));
    let stored = stored_document(&item).expect("stored document reads back");
    assert_eq!(stored, body, "stored byte for byte");
    let reread = journey_v2::parse(&stored).expect("stored document parses");
    assert_eq!(
        reread, journey,
        "stored document parses to the same journey"
    );
});
