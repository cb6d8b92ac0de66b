//! The single-table key design (docs/DATA_MODEL.md explains each access pattern).

use super::item::Key;
use crate::domain::campaign::CampaignId;
use crate::domain::operator::OperatorId;

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

/// The token id of a [`token`] key.
pub fn token_id(key: &Key) -> Option<&str> {
    key.pk.strip_prefix("TOKEN#")
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

/// Whether `key` is a journey's ([`journey`]): what a scan keeps of the table.
pub fn is_journey(key: &Key) -> bool {
    key.sk == "JOURNEY" && key.pk.starts_with("JOURNEY#")
}

/// Index partition (`gsi2`) of an operator's journeys starting in one month (`YYYY-MM`,
/// UTC): the listing `GET /v2/journeys` queries. Per month, so that one busy operator's
/// writes spread over partitions.
pub fn journey_listing(operator: OperatorId, month: &str) -> String {
    format!("JOURNEYS#{operator}#{month}")
}

/// Index partition of journeys still `pending` (sparse: removed once processed).
pub fn pending_index(shard: u32) -> String {
    format!("PENDING#{shard:02}")
}

pub fn pending_shard(operator: OperatorId, journey_id: &str) -> u32 {
    crate::domain::shard::fnv1a(&format!("{operator}#{journey_id}")) % PENDING_SHARDS
}

/// Shared per-operator request counter for one route class and one minute.
pub fn rate_counter(operator: OperatorId, class: &str, minute: i64) -> Key {
    Key::new(format!("RATE#{operator}#{class}"), minute.to_string())
}

/// Per-operator counters (e.g. `canceled`: journeys invalidated by the operator).
pub fn operator_stats(operator: OperatorId) -> Key {
    Key::new(format!("OP#{operator}"), "STATS")
}

/// Identity-key shards of the fraud evidence: a day's evidence is spread over this many
/// partitions, and the pass works on one (day, shard) at a time. Fixed: changing it moves
/// every evidence item.
pub const FRAUD_SHARDS: u32 = 32;

pub fn fraud_shard(identity_key: &str) -> u32 {
    crate::domain::shard::fnv1a(identity_key) % FRAUD_SHARDS
}

/// Partition of the fraud evidence of one Europe/Paris day and one identity-key shard.
pub fn fraud_partition(day: chrono::NaiveDate, shard: u32) -> String {
    format!("FRAUD#{day}#{shard:02}")
}

/// One person in one journey, in the partition of the (Paris) day it started: sorted by
/// person, then start, so a partition reads as everybody's day in order.
pub fn fraud_evidence(
    identity_key: &str,
    start: chrono::DateTime<chrono::Utc>,
    operator: OperatorId,
    journey_id: &str,
) -> Key {
    let day = crate::domain::fraud::paris_day(start);
    Key::new(
        fraud_partition(day, fraud_shard(identity_key)),
        format!(
            "{identity_key}#{}#{operator}#{journey_id}",
            crate::clock::rfc3339(start)
        ),
    )
}

/// A fraud pass run: its header (sk `RUN`) and one result per unit of work (sk `UNIT#...`).
pub fn fraud_run(run_id: &str) -> Key {
    Key::new(format!("FRAUDRUN#{run_id}"), "RUN")
}

pub fn fraud_run_unit(run_id: &str, unit: &str) -> Key {
    Key::new(format!("FRAUDRUN#{run_id}"), format!("UNIT#{unit}"))
}

/// Index partition listing fraud pass runs (gsi1sk = `<started_at>#<run_id>`).
pub const FRAUD_RUNS_INDEX: &str = "FRAUD_RUNS";
// ---- CEE applications (docs/DATA_MODEL.md, "CEE"). `jt` is `short` or `long`; hashes are
// keyed hashes (REGISTRY_HASH_SECRET) of personal data, never the data itself.

/// A registered (standardized) application, found by its uuid.
pub fn cee_application(uuid: &str) -> Key {
    Key::new(format!("CEE#{uuid}"), "APPLICATION")
}

/// Partition of one person's identity key for one journey type: the `LOCK` item of the
/// standardized applications, and the imported records that carry this identity key.
pub fn cee_identity_partition(jt: &str, identity_hash: &str) -> String {
    format!("CEEID#{jt}#{identity_hash}")
}

/// Partition of one driving licence for one journey type: its `LOCK` item only.
pub fn cee_licence_partition(jt: &str, licence_hash: &str) -> String {
    format!("CEELIC#{jt}#{licence_hash}")
}

/// Sort key of the lock items.
pub const CEE_LOCK: &str = "LOCK";

pub fn cee_lock(partition: String) -> Key {
    Key::new(partition, CEE_LOCK)
}

/// An imported (specific) record: one per operator, journey type, name and phone.
pub fn cee_imported(jt: &str, name_phone_hash: &str, operator: OperatorId) -> Key {
    Key::new(
        format!("CEENP#{jt}#{name_phone_hash}"),
        format!("SPEC#{operator}"),
    )
}

/// The copy of an imported record in the partition of the identity key attached to it.
pub fn cee_imported_identity(
    jt: &str,
    identity_hash: &str,
    operator: OperatorId,
    name_phone_hash: &str,
) -> Key {
    Key::new(
        cee_identity_partition(jt, identity_hash),
        format!("SPEC#{operator}#{name_phone_hash}"),
    )
}

/// Sort-key prefix of imported records in a partition.
pub const CEE_SPECIFIC_PREFIX: &str = "SPEC#";

/// Archive of an operator's deleted applications, in deletion order.
pub fn cee_deleted(operator: OperatorId, deleted_at: &str, uuid: &str) -> Key {
    Key::new(format!("CEEDEL#{operator}"), format!("{deleted_at}#{uuid}"))
}

/// Partition of an operator's refused registrations (error log), in time order.
pub fn cee_errors(operator: OperatorId) -> String {
    format!("CEEERR#{operator}")
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

/// Partition of a campaign's starting counters (`registry admin campaign counters`).
pub fn starting_counters(id: &CampaignId) -> String {
    format!("START#{id}")
}

/// Their header: the generation of the chunks in force, `as_of`, counts.
pub fn starting_header(id: &CampaignId) -> Key {
    Key::new(starting_counters(id), "HEADER")
}

/// One chunk of a generation of starting counters.
pub fn starting_chunk(id: &CampaignId, generation: i64, n: usize) -> Key {
    Key::new(starting_counters(id), format!("C#{generation:06}#{n:05}"))
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

/// Marker of a campaign's finalized month (monthly run), holding its current version: in
/// the campaign's partition, so the latest finalized month before another is one query.
pub fn monthly_final(id: &CampaignId, month: &str) -> Key {
    Key::new(
        campaign_versions(id),
        format!("{MONTHLY_FINAL_PREFIX}{month}"),
    )
}

pub const MONTHLY_FINAL_PREFIX: &str = "FINAL#";

/// Partition of every version of a campaign's monthly results for one month: per version
/// a header (`V#0001`), its lines (`V#0001#L#000000`...) and the counters it carries to
/// the next months (`V#0001#C#000000`...).
pub fn monthly_results(id: &CampaignId, month: &str) -> String {
    format!("MONTHLY#{id}#{month}")
}

pub fn monthly_version(id: &CampaignId, month: &str, version: i64) -> Key {
    Key::new(monthly_results(id, month), format!("V#{version:04}"))
}

/// A chunk (`part` = `L` lines, `C` carried counters) of a version.
pub fn monthly_chunk(id: &CampaignId, month: &str, version: i64, part: char, n: usize) -> Key {
    Key::new(
        monthly_results(id, month),
        format!("{}{n:06}", monthly_chunk_prefix(version, part)),
    )
}

/// Sort-key prefix of a version's chunks of one `part` in [`monthly_results`].
pub fn monthly_chunk_prefix(version: i64, part: char) -> String {
    format!("V#{version:04}#{part}#")
}

// ---- Monthly runs (docs/DATA_MODEL.md, "Monthly runs"): one partition per run with its
// header, one item per campaign and month it covers, one per unit done.

pub fn monthly_run(run_id: &str) -> Key {
    Key::new(format!("MONTHLYRUN#{run_id}"), "RUN")
}

/// A campaign and month of a run: its shards and how many are done, its place in a chain.
pub fn monthly_run_group(run_id: &str, id: &CampaignId, month: &str) -> Key {
    Key::new(
        format!("MONTHLYRUN#{run_id}"),
        format!("GROUP#{id}#{month}"),
    )
}

/// A unit of a run, recorded once done: a shard (`S0003`) or the final step (`F`).
pub fn monthly_run_unit(run_id: &str, id: &CampaignId, month: &str, shard: Option<u32>) -> Key {
    let part = match shard {
        Some(n) => format!("S{n:04}"),
        None => "F".to_owned(),
    };
    Key::new(
        format!("MONTHLYRUN#{run_id}"),
        format!("UNIT#{id}#{month}#{part}"),
    )
}

/// A chunk of the journeys a shard prepared for the final step (its own partition: a big
/// shard's writes do not all land on the run's partition).
pub fn monthly_run_prepared(
    run_id: &str,
    id: &CampaignId,
    month: &str,
    shard: u32,
    n: usize,
) -> Key {
    Key::new(
        format!("MONTHLYPREP#{run_id}#{id}#{month}#{shard:04}"),
        format!("{n:06}"),
    )
}

/// Index partition listing monthly runs (gsi1sk = `<started_at>#<run_id>`).
pub const MONTHLY_RUNS_INDEX: &str = "MONTHLY_RUNS";

/// Partition of one operator's lines in one version-set of a campaign's final month (the
/// operator statement and the status route read it): per version a totals item
/// (`V0001#T`) and the operator's lines in chunks keyed by their first journey id
/// (`V0001#L#<journey id>`), so the chunk holding a journey is the last one whose key is
/// not after it.
pub fn operator_finals(operator: OperatorId, id: &CampaignId, month: &str) -> String {
    format!("OPFINAL#{operator}#{id}#{month}")
}

pub fn operator_final_totals(
    operator: OperatorId,
    id: &CampaignId,
    month: &str,
    version: i64,
) -> Key {
    Key::new(
        operator_finals(operator, id, month),
        format!("V{version:04}#T"),
    )
}

/// Sort-key prefix of the line chunks of one version in [`operator_finals`].
pub fn operator_final_chunk_prefix(version: i64) -> String {
    format!("V{version:04}#L#")
}

pub fn operator_final_chunk(
    operator: OperatorId,
    id: &CampaignId,
    month: &str,
    version: i64,
    first: &str,
) -> Key {
    Key::new(
        operator_finals(operator, id, month),
        format!("{}{first}", operator_final_chunk_prefix(version)),
    )
}
