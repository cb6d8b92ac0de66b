//! The single-table key design (docs/DATA_MODEL.md explains each access pattern).

use super::operator::OperatorId;
use crate::store::Key;

/// Partitions of the pending-journey index: spreads writes over 16 index partitions.
pub const PENDING_SHARDS: u32 = 16;

pub fn operator(id: OperatorId) -> Key {
    Key::new(format!("OP#{id}"), "OPERATOR")
}

/// Index partition listing all operators (gsi1sk = zero-padded id).
pub const OPERATORS_INDEX: &str = "OPERATORS";

pub fn operator_index_sk(id: OperatorId) -> String {
    format!("{:010}", id.0)
}

/// Atomic counter that allocates operator ids.
pub fn operator_counter() -> Key {
    Key::new("COUNTER", "operator")
}

pub fn token(token_id: &str) -> Key {
    Key::new(format!("TOKEN#{token_id}"), "TOKEN")
}

/// Index partition listing the tokens of one operator (or of the registry admins).
pub fn tokens_index(operator: Option<OperatorId>) -> String {
    match operator {
        Some(id) => format!("OP#{id}#TOKENS"),
        None => "ADMIN#TOKENS".into(),
    }
}

/// Marker written once, with the first registry admin token.
pub fn bootstrap() -> Key {
    Key::new("META", "BOOTSTRAP")
}

pub fn journey(operator: OperatorId, journey_id: &str) -> Key {
    Key::new(format!("JOURNEY#{operator}#{journey_id}"), "JOURNEY")
}

/// Index partition of journeys still `pending` (sparse: removed once processed).
pub fn pending_index(shard: u32) -> String {
    format!("PENDING#{shard:02}")
}

pub fn pending_shard(operator: OperatorId, journey_id: &str) -> u32 {
    crate::store::fnv1a(&format!("{operator}#{journey_id}")) % PENDING_SHARDS
}

/// Shared per-operator request counter for one route class and one minute.
pub fn rate_counter(operator: OperatorId, class: &str, minute: i64) -> Key {
    Key::new(format!("RATE#{operator}#{class}"), minute.to_string())
}

/// Per-operator counters (e.g. `canceled`: journeys invalidated by the operator).
pub fn operator_stats(operator: OperatorId) -> Key {
    Key::new(format!("OP#{operator}"), "STATS")
}

/// Partition of one person's trips with one operator (the certificate index): one entry
/// per role per `ok` journey, written at processing, deleted on cancellation.
pub fn person_trips(operator: OperatorId, identity_key: &str) -> String {
    format!("PERSON#{operator}#{identity_key}")
}

/// An entry of [`person_trips`]: sorted by the person's start instant (periods are sk ranges).
pub fn person_trip(
    operator: OperatorId,
    identity_key: &str,
    start: &str,
    role: &str,
    journey_id: &str,
) -> Key {
    Key::new(
        person_trips(operator, identity_key),
        format!("{start}#{role}#{journey_id}"),
    )
}

/// An issued certificate (a record: written once, never changed).
pub fn certificate(uuid: &uuid::Uuid) -> Key {
    Key::new(format!("CERTIFICATE#{uuid}"), "CERTIFICATE")
}
