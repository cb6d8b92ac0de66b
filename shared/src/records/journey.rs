//! The journey item (`JOURNEY#<operator>#<journey_id>` / `JOURNEY`) and its pending-index
//! entry: [`JourneyRecord`] is its one typed form, and the attribute names below appear
//! nowhere else. What processing and cancellation write on it is in
//! [`super::processing`].

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::item::{Attr, Condition, Item, Key, Update, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK};
use super::keys;
use crate::clock::rfc3339;
use crate::domain::facts::Facts;
use crate::domain::identity::identity_key;
use crate::domain::journey::{pack_document, JourneyStatus, Receipt};
use crate::domain::journey_v2::{self, Journey};
use crate::domain::operator::OperatorId;
use crate::records::task::Task;

/// Attribute of a journey item holding the document as received, byte for byte, compressed
/// (raw deflate, standard base64): JSON compresses to less than half, which keeps a typical
/// journey item within one DynamoDB write unit (1 KB) and the stored history small.
pub const STORED_DOCUMENT: &str = "doc_deflate";
/// Attribute of the journey item counting the draft transactions written for it (see
/// `campaigns::drafts`).
pub const INCENTIVE_REV: &str = "incentive_rev";

pub(super) const OPERATOR_ID: &str = "operator_id";
pub(super) const JOURNEY_ID: &str = "journey_id";
const OPERATOR_JOURNEY_ID: &str = "operator_journey_id";
pub(super) const STATUS: &str = "status";
const RECEIPT_STATUS: &str = "receipt_status";
const CREATED_AT: &str = "created_at";
pub(super) const UPDATED_AT: &str = "updated_at";
const DOC_HASH: &str = "doc_hash";
const DOC_HASH_B64: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub(super) const START_COUNTRY: &str = "start_country";
pub(super) const END_COUNTRY: &str = "end_country";
pub(super) const ANOMALY_LABELS: &str = "anomaly_labels";
pub(super) const FRAUD_LABELS: &str = "fraud_labels";
pub(super) const PROCESSINGS: &str = "processings";
pub(super) const SWEEPS: &str = "sweeps";
pub(super) const CANCELED_AT: &str = "canceled_at";
pub(super) const CANCEL_CODE: &str = "cancel_code";
pub(super) const CANCEL_MESSAGE: &str = "cancel_message";
/// The normalised facts written at acceptance ([`super::journey_facts`]).
const FACTS: &str = "facts";

/// The document as received, from a journey item; `None` if absent or not a packed
/// document (never expected: only [`crate::domain::journey::pack_document`] writes it).
pub fn stored_document(item: &Item) -> Option<Vec<u8>> {
    crate::domain::journey::unpack_document(item.s(STORED_DOCUMENT)?)
}

/// The `facts` attribute of a journey item (for tools that write journey items directly,
/// such as the benchmarks' seeding): name and stored form.
pub fn facts_attribute(facts: &Facts) -> (&'static str, String) {
    (FACTS, super::journey_facts::encode(facts))
}

/// The two persons of a journey, as their attributes are prefixed (`passenger_key`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Passenger,
    Driver,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Passenger, Side::Driver];

    /// `passenger` or `driver`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Passenger => "passenger",
            Side::Driver => "driver",
        }
    }

    /// `<side>_<what>`, e.g. `passenger_key`.
    pub(super) fn attr(self, what: &str) -> String {
        format!("{}_{what}", self.name())
    }
}

/// One person of a journey as acceptance stores it: the identity key (a keyed hash, never
/// a phone number) and the start instant of their part of the trip (RFC 3339, UTC; the
/// end is in the facts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Party {
    pub key: Option<String>,
    pub start: Option<String>,
    /// Only on items accepted before the facts held it (read and written back as is).
    pub end: Option<String>,
    /// The fraud labels found for this person in this journey (JSON list).
    pub fraud_labels: Option<String>,
}

impl Party {
    /// The start instant, parsed.
    pub fn start_at(&self) -> Option<DateTime<Utc>> {
        self.start.as_deref()?.parse().ok()
    }
}

/// The entry of a pending journey in the pending index (gsi1 of its item): the sweeper's
/// work list. Only [`JourneyRecord::accepted`] makes one, for a `pending` journey, and
/// processing and cancellation remove it ([`PendingEntry::leave`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingEntry {
    pub partition: String,
    /// `<created_at>#<operator>#<16 hex of the document hash>`: sorted by reception time.
    pub sort: String,
}

impl PendingEntry {
    fn new(operator: OperatorId, journey_id: &str, created_at: &str, doc_hash: &str) -> Self {
        PendingEntry {
            partition: keys::pending_index(keys::pending_shard(operator, journey_id)),
            // Bounded length whatever the id (DynamoDB index sort keys hold 1 024 bytes).
            sort: format!("{created_at}#{operator}#{}", &doc_hash[..16]),
        }
    }

    /// The item leaves the pending index: never processed again, never swept.
    pub fn leave(update: Update) -> Update {
        update.remove(GSI1_PK).remove(GSI1_SK)
    }
}

/// The entry of a journey in its operator's listing (gsi2 of its item, keys only in
/// DynamoDB): what `GET /v2/journeys` queries. Written once at acceptance, never changed:
/// the passenger's start instant does not change, so nothing else writes the index.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingEntry {
    /// [`keys::journey_listing`] of the month the passenger starts in (UTC).
    pub partition: String,
    /// The passenger's start instant (RFC 3339, UTC): sorted by start time.
    pub sort: String,
}

impl ListingEntry {
    pub fn new(operator: OperatorId, start: &str) -> Self {
        ListingEntry {
            partition: keys::journey_listing(operator, start.get(..7).unwrap_or(start)),
            sort: start.to_owned(),
        }
    }

    /// The entry of a journey accepted before the listing existed (it has its passenger's
    /// start but no entry): the update that adds it, only to that journey, only once.
    pub fn backfill(journey: &JourneyRecord) -> Option<(Key, Update, Condition)> {
        if journey.listing.is_some() {
            return None;
        }
        let entry = ListingEntry::new(journey.operator?, journey.passenger.start.as_deref()?);
        let update = Update::new().set(GSI2_PK, entry.partition);
        let condition = Condition::All(vec![
            Condition::Exists,
            Condition::AttrMissing(GSI2_PK.into()),
        ]);
        Some((journey.key.clone(), update, condition))
    }

    /// Only `gsi2pk`: the sort key is the passenger's start attribute itself.
    fn write(&self, item: &mut Item) {
        item.set(GSI2_PK, self.partition.clone());
        item.set(GSI2_SK, self.sort.clone());
    }
}

/// A journey item, typed. Reading is lenient (what is absent is `None`, as the readers
/// have always treated it); [`JourneyRecord::to_item`] writes back exactly what was read.
#[derive(Clone, Debug, PartialEq)]
pub struct JourneyRecord {
    pub key: Key,
    pub operator: Option<OperatorId>,
    pub journey_id: Option<String>,
    pub operator_journey_id: Option<String>,
    pub status: Option<JourneyStatus>,
    /// The status first answered (the receipt of an identical retry); absent for
    /// `pending`, which acceptance does not write (see [`JourneyRecord::receipt`]).
    pub receipt_status: Option<JourneyStatus>,
    pub created_at: Option<String>,
    /// Absent until the first change after acceptance ([`JourneyRecord::updated`]).
    pub updated_at: Option<String>,
    /// The document as received, packed ([`stored_document`]).
    pub packed_document: Option<String>,
    /// Hash of the document's canonical form: a retry of the same value is recognised by it
    /// ([`JourneyRecord::same_document`]; base64url, hex on items accepted before).
    pub doc_hash: Option<String>,
    pub passenger: Party,
    pub driver: Party,
    /// Present while the journey is `pending` (and only then).
    pub pending: Option<PendingEntry>,
    /// Re-enqueues by the sweeper.
    pub sweeps: Option<i64>,
    /// Set by processing: countries of the trip's ends, anomaly labels (JSON list) and the
    /// processings that took effect (1).
    pub start_country: Option<String>,
    pub end_country: Option<String>,
    pub anomaly_labels: Option<String>,
    pub processings: Option<i64>,
    /// The union of both persons' fraud labels (JSON list), set by the fraud pass.
    pub fraud_labels: Option<String>,
    pub canceled_at: Option<String>,
    pub cancel_code: Option<String>,
    pub cancel_message: Option<String>,
    /// See [`INCENTIVE_REV`].
    pub incentive_rev: Option<i64>,
    /// The normalised facts, encoded ([`JourneyRecord::facts`]); absent on items accepted
    /// before they existed.
    pub facts: Option<String>,
    /// The journey's entry in the operator's listing (gsi2), see [`ListingEntry`].
    pub listing: Option<ListingEntry>,
}

/// A journey as acceptance stores it, and what acceptance does with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub item: Item,
    /// `pending`, or `expired` for a late journey.
    pub status: JourneyStatus,
    /// Hash of the document's canonical form: a retry of the same value is recognised by it.
    pub doc_hash: String,
    /// The processing task of a pending journey.
    pub task: Option<Task>,
}

impl JourneyRecord {
    pub fn from_item(item: &Item) -> JourneyRecord {
        JourneyRecord::from_owned(item.clone())
    }

    /// The same as [`JourneyRecord::from_item`], its strings moved, not copied, in one pass
    /// over the attributes (batch jobs read millions).
    pub fn from_owned(item: Item) -> JourneyRecord {
        let mut r = JourneyRecord::empty(item.key);
        let (mut pending_pk, mut pending_sk, mut listing_pk) = (None, None, None);
        for (name, value) in item.attrs {
            match (name.as_str(), value) {
                (OPERATOR_ID, Attr::N(n)) => r.operator = u64::try_from(n).ok().map(OperatorId),
                (JOURNEY_ID, Attr::S(v)) => r.journey_id = Some(v),
                (OPERATOR_JOURNEY_ID, Attr::S(v)) => r.operator_journey_id = Some(v),
                (STATUS, Attr::S(v)) => r.status = JourneyStatus::parse(&v),
                (RECEIPT_STATUS, Attr::S(v)) => r.receipt_status = JourneyStatus::parse(&v),
                (CREATED_AT, Attr::S(v)) => r.created_at = Some(v),
                (UPDATED_AT, Attr::S(v)) => r.updated_at = Some(v),
                (STORED_DOCUMENT, Attr::S(v)) => r.packed_document = Some(v),
                (DOC_HASH, Attr::S(v)) => r.doc_hash = Some(v),
                (GSI1_PK, Attr::S(v)) => pending_pk = Some(v),
                (GSI1_SK, Attr::S(v)) => pending_sk = Some(v),
                (GSI2_PK, Attr::S(v)) => listing_pk = Some(v),
                (SWEEPS, Attr::N(n)) => r.sweeps = Some(n),
                (START_COUNTRY, Attr::S(v)) => r.start_country = Some(v),
                (END_COUNTRY, Attr::S(v)) => r.end_country = Some(v),
                (ANOMALY_LABELS, Attr::S(v)) => r.anomaly_labels = Some(v),
                (PROCESSINGS, Attr::N(n)) => r.processings = Some(n),
                (FRAUD_LABELS, Attr::S(v)) => r.fraud_labels = Some(v),
                (CANCELED_AT, Attr::S(v)) => r.canceled_at = Some(v),
                (CANCEL_CODE, Attr::S(v)) => r.cancel_code = Some(v),
                (CANCEL_MESSAGE, Attr::S(v)) => r.cancel_message = Some(v),
                (INCENTIVE_REV, Attr::N(n)) => r.incentive_rev = Some(n),
                (FACTS, Attr::S(v)) => r.facts = Some(v),
                (other, Attr::S(v)) => {
                    // `<side>_<what>` ([`Side::attr`]).
                    let party = |side: Side| other.strip_prefix(side.name())?.strip_prefix('_');
                    let (party, what) = match (party(Side::Passenger), party(Side::Driver)) {
                        (Some(what), _) => (&mut r.passenger, what),
                        (None, Some(what)) => (&mut r.driver, what),
                        (None, None) => continue,
                    };
                    match what {
                        "key" => party.key = Some(v),
                        "start" => party.start = Some(v),
                        "end" => party.end = Some(v),
                        FRAUD_LABELS => party.fraud_labels = Some(v),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        r.pending = pending_pk
            .zip(pending_sk)
            .map(|(partition, sort)| PendingEntry { partition, sort });
        // The listing's sort key is the passenger's start attribute itself (GSI2_SK).
        r.listing = listing_pk
            .zip(r.passenger.start.clone())
            .map(|(partition, sort)| ListingEntry { partition, sort });
        r
    }

    /// The journey of an entry of its operator's listing (gsi2) when the index gave the
    /// whole item, as the embedded stores do; its key when the index gave keys only
    /// (DynamoDB's projection): then the item is read by key.
    pub fn from_listing(item: Item) -> Result<JourneyRecord, Key> {
        match item.attrs.contains_key(STATUS) {
            true => Ok(JourneyRecord::from_owned(item)),
            false => Err(item.key),
        }
    }

    pub fn to_item(&self) -> Item {
        let mut item = Item::new(self.key.clone());
        let mut put = |name: &str, value: Option<super::item::Attr>| {
            if let Some(value) = value {
                item.attrs.insert(name.to_owned(), value);
            }
        };
        let s = |v: &Option<String>| v.clone().map(Into::into);
        let n = |v: Option<i64>| v.map(Into::into);
        let status = |v: Option<JourneyStatus>| v.map(|st| st.as_str().into());
        put(
            OPERATOR_ID,
            self.operator
                .and_then(|o| i64::try_from(o.0).ok())
                .map(Into::into),
        );
        put(JOURNEY_ID, s(&self.journey_id));
        put(OPERATOR_JOURNEY_ID, s(&self.operator_journey_id));
        put(STATUS, status(self.status));
        put(RECEIPT_STATUS, status(self.receipt_status));
        put(CREATED_AT, s(&self.created_at));
        put(UPDATED_AT, s(&self.updated_at));
        put(STORED_DOCUMENT, s(&self.packed_document));
        put(DOC_HASH, s(&self.doc_hash));
        for (side, party) in [
            (Side::Passenger, &self.passenger),
            (Side::Driver, &self.driver),
        ] {
            put(&side.attr("key"), s(&party.key));
            put(&side.attr("start"), s(&party.start));
            put(&side.attr("end"), s(&party.end));
            put(&side.attr(FRAUD_LABELS), s(&party.fraud_labels));
        }
        put(
            GSI1_PK,
            self.pending.as_ref().map(|p| p.partition.clone().into()),
        );
        put(
            GSI1_SK,
            self.pending.as_ref().map(|p| p.sort.clone().into()),
        );
        put(SWEEPS, n(self.sweeps));
        put(START_COUNTRY, s(&self.start_country));
        put(END_COUNTRY, s(&self.end_country));
        put(ANOMALY_LABELS, s(&self.anomaly_labels));
        put(PROCESSINGS, n(self.processings));
        put(FRAUD_LABELS, s(&self.fraud_labels));
        put(CANCELED_AT, s(&self.canceled_at));
        put(CANCEL_CODE, s(&self.cancel_code));
        put(CANCEL_MESSAGE, s(&self.cancel_message));
        put(INCENTIVE_REV, n(self.incentive_rev));
        put(FACTS, s(&self.facts));
        if let Some(listing) = &self.listing {
            listing.write(&mut item);
        }
        item
    }

    /// The journey item `POST /v2/journeys` writes for `journey` (parsed from `doc`,
    /// received as the bytes `body`) sent by `operator` at `received_at`: the one
    /// constructor of a journey item. `None` for an operator id beyond the store's numbers.
    pub fn accepted(
        secret: &str,
        operator: OperatorId,
        journey: &Journey,
        doc: &serde_json::Value,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Accepted> {
        i64::try_from(operator.0).ok()?;
        // Late journeys are kept (nothing is lost) but never processed nor paid.
        let status = if journey_v2::late(journey, received_at) {
            JourneyStatus::Expired
        } else {
            JourneyStatus::Pending
        };
        let journey_id = &journey.journey_id;
        // serde_json keeps object keys sorted: equal JSON values serialise identically.
        let doc_hash = DOC_HASH_B64.encode(Sha256::digest(doc.to_string().as_bytes()));
        let now = rfc3339(received_at);
        // The normalised form the later jobs read without parsing the document again: who
        // (identity keys, keyed hashes: never a phone number) and when (UTC instants).
        // The end instants are in the facts, as milliseconds from the start.
        let party = |person: &journey_v2::Person| Party {
            key: Some(identity_key(secret, operator, &person.identity)),
            start: Some(rfc3339(person.start.datetime)),
            end: None,
            fraud_labels: None,
        };
        let pending = (status == JourneyStatus::Pending)
            .then(|| PendingEntry::new(operator, journey_id, &now, &doc_hash));
        let listing =
            ListingEntry::new(operator, &rfc3339(journey.passenger.person.start.datetime));
        let task = pending.as_ref().map(|_| Task::ProcessJourney {
            operator_id: operator,
            journey_id: journey_id.clone(),
        });
        let record = JourneyRecord {
            key: keys::journey(operator, journey_id),
            operator: Some(operator),
            journey_id: Some(journey_id.clone()),
            operator_journey_id: journey.operator_journey_id.clone(),
            status: Some(status),
            // What every journey item holds is kept to the least: the item is billed by
            // started KB at each write, its pending-index copy too (docs/DATA_MODEL.md).
            receipt_status: (status != JourneyStatus::Pending).then_some(status),
            created_at: Some(now.clone()),
            updated_at: None,
            packed_document: Some(pack_document(body)),
            doc_hash: Some(doc_hash.clone()),
            passenger: party(&journey.passenger.person),
            driver: party(&journey.driver.person),
            pending,
            facts: Some(super::journey_facts::encode(&Facts::of(journey))),
            listing: Some(listing),
            ..JourneyRecord::empty(keys::journey(operator, journey_id))
        };
        Some(Accepted {
            item: record.to_item(),
            status,
            doc_hash,
            task,
        })
    }

    /// The item acceptance writes for the whole document `doc`, sent as `doc.to_string()`
    /// by `operator` at `received_at`, for tests and tools that seed a store: what they
    /// store cannot drift from what `POST /v2/journeys` writes. `None` when the document
    /// does not parse; the checks against the reception time are not made (a test may
    /// store what the API would refuse).
    pub fn accepted_item(
        secret: &str,
        operator: OperatorId,
        doc: &serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> Option<Item> {
        let journey = journey_v2::parse_value(doc).ok()?;
        let body = doc.to_string();
        let accepted = JourneyRecord::accepted(
            secret,
            operator,
            &journey,
            doc,
            body.as_bytes(),
            received_at,
        )?;
        Some(accepted.item)
    }

    /// A record of nothing but its key.
    fn empty(key: Key) -> JourneyRecord {
        JourneyRecord {
            key,
            operator: None,
            journey_id: None,
            operator_journey_id: None,
            status: None,
            receipt_status: None,
            created_at: None,
            updated_at: None,
            packed_document: None,
            doc_hash: None,
            passenger: Party::default(),
            driver: Party::default(),
            pending: None,
            sweeps: None,
            start_country: None,
            end_country: None,
            anomaly_labels: None,
            processings: None,
            fraud_labels: None,
            canceled_at: None,
            cancel_code: None,
            cancel_message: None,
            incentive_rev: None,
            facts: None,
            listing: None,
        }
    }

    /// The receipt as first answered (its status then, not the journey's status now).
    pub fn receipt(&self) -> Option<Receipt> {
        Some(Receipt {
            journey_id: self.journey_id.clone()?,
            created_at: self.created_at.clone()?,
            status: self.receipt_status.unwrap_or(JourneyStatus::Pending),
        })
    }

    /// When the journey last changed: `updated_at`, else its acceptance.
    pub fn updated(&self) -> Option<&str> {
        self.updated_at.as_deref().or(self.created_at.as_deref())
    }

    /// Whether `hash` ([`Accepted::doc_hash`]) is the hash of the stored document.
    pub fn same_document(&self, hash: &str) -> bool {
        match self.doc_hash.as_deref() {
            Some(hex) if hex.len() == 64 => hex::decode(hex).ok() == DOC_HASH_B64.decode(hash).ok(),
            stored => stored == Some(hash),
        }
    }

    /// The document as received ([`stored_document`]).
    pub fn document(&self) -> Option<Vec<u8>> {
        crate::domain::journey::unpack_document(self.packed_document.as_deref()?)
    }

    /// The stored document, parsed; `None` when absent or no longer parsing. Only what
    /// needs the document itself (rekey: the phones) should call it: the rest reads
    /// [`JourneyRecord::facts`].
    pub fn parsed(&self) -> Option<Journey> {
        journey_v2::parse(&self.document()?).ok()
    }

    /// The normalised facts written at acceptance, with the persons' instants. A journey
    /// accepted before facts were stored gets them from its document (parsed once more).
    pub fn facts(&self) -> Option<Facts> {
        match &self.facts {
            Some(encoded) => super::journey_facts::decode(encoded, self),
            None => self.parsed().map(|journey| Facts::of(&journey)),
        }
    }

    pub fn party(&self, side: Side) -> &Party {
        match side {
            Side::Passenger => &self.passenger,
            Side::Driver => &self.driver,
        }
    }

    /// The status as stored, `""` when absent (what a condition on it compares).
    pub fn status_str(&self) -> &'static str {
        self.status.map(JourneyStatus::as_str).unwrap_or_default()
    }

    pub fn is(&self, status: JourneyStatus) -> bool {
        self.status == Some(status)
    }

    /// A labels attribute as a list (`anomaly_labels`, `fraud_labels`): empty when absent.
    pub fn labels(json: &Option<String>) -> Vec<String> {
        json.as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journey::example_document;

    #[test]
    fn an_accepted_item_reads_back_and_writes_back_the_same() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let doc = example_document("j#1", now);
        let journey = journey_v2::parse_value(&doc).unwrap();
        let body = doc.to_string();
        let accepted =
            JourneyRecord::accepted("s", OperatorId(7), &journey, &doc, body.as_bytes(), now)
                .unwrap();
        let record = JourneyRecord::from_item(&accepted.item);
        assert_eq!(record.to_item(), accepted.item);
        assert!(record.pending.is_some());
        assert_eq!(record.document(), Some(body.into_bytes()));
        assert_eq!(record.receipt().unwrap().status, JourneyStatus::Pending);
        assert_eq!(accepted.item.attrs.len(), 15);
        assert_eq!(record.updated(), record.created_at.as_deref());
        // A retry is recognised by the hash, whether stored in base64url or, before, in hex.
        assert!(record.same_document(&accepted.doc_hash));
        let digest = Sha256::digest(doc.to_string().as_bytes());
        let old = JourneyRecord {
            doc_hash: Some(hex::encode(digest)),
            ..record.clone()
        };
        assert!(old.same_document(&accepted.doc_hash));
        let other = DOC_HASH_B64.encode(Sha256::digest(b"{}"));
        assert!(!old.same_document(&other) && !record.same_document(&other));
        assert_eq!(record.facts(), Some(Facts::of(&journey)));
    }

    #[test]
    fn every_attribute_reads_back_the_same_borrowed_or_moved() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let doc = example_document("j#1", now);
        let mut item = JourneyRecord::accepted_item("s", OperatorId(7), &doc, now).unwrap();
        item.set(RECEIPT_STATUS, "expired");
        for name in [
            UPDATED_AT,
            START_COUNTRY,
            END_COUNTRY,
            ANOMALY_LABELS,
            FRAUD_LABELS,
            CANCELED_AT,
            CANCEL_CODE,
            CANCEL_MESSAGE,
            "passenger_end",
            "driver_end",
            "passenger_fraud_labels",
            "driver_fraud_labels",
        ] {
            item.set(name, "x");
        }
        for name in [SWEEPS, PROCESSINGS, INCENTIVE_REV] {
            item.set(name, 3);
        }
        let record = JourneyRecord::from_item(&item);
        assert!(record.pending.is_some() && record.listing.is_some());
        assert_eq!(record.to_item(), item);
        assert_eq!(JourneyRecord::from_owned(item.clone()), record);
        assert_eq!(JourneyRecord::from_listing(item.clone()), Ok(record));
        let keys_only = Item::new(item.key.clone());
        assert_eq!(JourneyRecord::from_listing(keys_only), Err(item.key));
    }

    #[test]
    fn documents_are_stored_byte_for_byte() {
        let raw = example_document("j-1", chrono::Utc::now()).to_string();
        let packed = pack_document(raw.as_bytes());
        assert!(
            packed.len() < raw.len() * 2 / 3,
            "{} vs {}",
            packed.len(),
            raw.len()
        );
        let item = Item::new(Key::new("p", "s")).with(STORED_DOCUMENT, packed);
        assert_eq!(stored_document(&item), Some(raw.into_bytes()));
        let junk = Item::new(Key::new("p", "s")).with(STORED_DOCUMENT, "not base64 deflate!");
        assert_eq!(stored_document(&junk), None);
    }
}
