//! The single-table key design (docs/DATA_MODEL.md explains each access pattern).

use super::campaign::CampaignId;
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

/// Partition holding the current version of every campaign (sk = campaign id): read whole,
/// strongly consistent, when the campaigns change (see [`campaigns_generation`]).
pub const CAMPAIGNS: &str = "CAMPAIGNS";

pub fn campaign(id: &CampaignId) -> Key {
    Key::new(CAMPAIGNS, id.as_str())
}

/// Every version a campaign had (history), in order.
pub fn campaign_versions(id: &CampaignId) -> String {
    format!("CAMPAIGN#{id}")
}

pub fn campaign_version(id: &CampaignId, version: i64) -> Key {
    Key::new(campaign_versions(id), format!("V#{version:010}"))
}

/// Incremented by every campaign change: processing re-reads the campaigns only when it
/// moved (one small strongly consistent read per journey otherwise).
pub fn campaigns_generation() -> Key {
    Key::new("COUNTER", "campaigns")
}

/// A draft counter of a campaign (see `campaign::counters::CounterKey::storage`): one
/// partition per person (or `*` for campaign-wide counters).
pub fn draft_counter(id: &CampaignId, holder: &str, rest: &str) -> Key {
    Key::new(format!("CTR#{id}#{holder}"), format!("draft#{rest}"))
}

/// A journey's draft incentive from one campaign for one paid role: in the journey's
/// partition, so the status route and the cancellation find them with the journey.
pub fn draft_incentive(operator: OperatorId, journey_id: &str, id: &CampaignId, role: &str) -> Key {
    Key::new(
        journey(operator, journey_id).pk,
        format!("{DRAFT_PREFIX}{id}#{role}"),
    )
}

pub const DRAFT_PREFIX: &str = "INCENTIVE#";

/// Index partition of a campaign's incentives of one month (YYYY-MM, campaign time zone).
pub fn incentives_index(id: &CampaignId, month: &str) -> String {
    format!("INCENTIVES#{id}#{month}")
}

/// Counts and cents of a campaign's incentives of one month, per status.
pub fn incentive_totals(id: &CampaignId, month: &str) -> Key {
    Key::new(campaign_versions(id), format!("TOTAL#{month}"))
}
