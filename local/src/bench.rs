//! `registry bench fraud-pass`: a generated week of journeys on a new embedded store, then
//! the fraud pass over it, timed (docs/BENCHMARKS.md). The generator writes the evidence
//! items (and minimal journey items: the pass reads a journey only to write its labels)
//! directly in bulk, so setting up a million journeys takes seconds, not an hour of API calls.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Subcommand;
use registry_core::app::App;
use registry_core::clock::rfc3339;
use registry_core::config::Config;
use registry_core::domain::fraud::{Evidence, Labels, Role};
use registry_core::domain::journey_v2::Coordinates;
use registry_core::domain::operator::OperatorId;
use registry_core::jobs::fraud::{self, evidence};
use registry_core::records::keys;
use registry_core::store::sqlite::SqliteStore;
use registry_core::store::{Attr, Item};
use serde_json::json;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Generates journeys over the last 7 days into a NEW store file (--data), then runs
    /// the fraud pass twice (the second run finds nothing to write).
    FraudPass {
        #[arg(long, default_value_t = 1_000_000)]
        journeys: u64,
        #[arg(long, default_value_t = 200_000)]
        people: u64,
        /// Units run at once (default: the number of cores).
        #[arg(long)]
        parallel: Option<usize>,
    },
    #[command(flatten)]
    Certificate(crate::bench_certificates::CertificateBench),
    #[command(flatten)]
    Monthly(crate::bench_monthly::MonthlyBench),
    /// Seeds (once, into --data) three months of journeys, then times the simulation of
    /// a campaign over them (`registry campaigns simulate`).
    CampaignSimulate(crate::bench_simulate::SimulateBench),
}

/// splitmix64: a fixed seed gives the same data on every machine.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An identity key shaped like the real ones (64 hex).
pub(crate) fn person_key(n: u64) -> String {
    use std::fmt::Write;
    let mut rng = Rng(n ^ 0x5eed);
    let mut s = String::with_capacity(64);
    for _ in 0..4 {
        let _ = write!(s, "{:016x}", rng.next());
    }
    s
}

/// Slots of a day (UTC hours) a generated journey starts in; 3 h apart, so that two
/// journeys of one person in consecutive slots are ordinary trips (≥ 45 min apart).
const SLOTS: [i64; 5] = [5, 8, 11, 14, 17];
/// One journey in this many is the same couple again, in the same slot, declared by another
/// operator (the duplicate-declaration fraud): ~2 % flagged journeys, plus the people who
/// happen to travel in all five slots of a day.
const DUPLICATE_EVERY: u64 = 50;

/// Journey `n`: in one of the 35 slots of the week, a couple drawn without replacement from
/// `people` (a person travels at most once per slot), starting within the slot's first hour
/// and lasting 15 to 75 minutes, from near the passenger's home to up to ~30 km away.
/// Journeys are numbered in time order (slot by slot), the order they reach the registry,
/// so the store's rows are laid out as in production.
fn journey(n: u64, per_slot: u64, people: u64, week_start: DateTime<Utc>) -> [Item; 3] {
    let (slot, mut k) = (n / per_slot, n % per_slot);
    if n % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 && k > 0 {
        k -= 1;
    }
    // An affine bijection of 0..people per slot: distinct people for distinct k.
    let mut draw = Rng(slot ^ 0xa5a5);
    let a = loop {
        let a = 1 + draw.below(people - 1);
        if gcd(a, people) == 1 {
            break a;
        }
    };
    let b = draw.below(people);
    let person_at = |i: u64| (a.wrapping_mul(i % people) + b) % people;
    let (passenger, driver) = (person_at(2 * k), person_at(2 * k + 1));
    let mut rng = Rng(n.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 42);
    let start = week_start
        + TimeDelta::days((slot / SLOTS.len() as u64) as i64)
        + TimeDelta::hours(SLOTS[(slot % SLOTS.len() as u64) as usize])
        + TimeDelta::seconds(rng.below(3600) as i64);
    let end = start + TimeDelta::minutes(15 + rng.below(61) as i64);
    let mut home = Rng(passenger ^ 0xbeef);
    let (lat, lon) = (43.0 + 6.0 * home.unit(), -1.0 + 8.0 * home.unit());
    let from = Coordinates::new(lat + 0.01 * rng.unit(), lon + 0.01 * rng.unit());
    let to = Coordinates::new(lat + 0.3 * rng.unit(), lon + 0.3 * rng.unit());
    let operator = OperatorId(1 + rng.below(5));
    let journey_id = format!("bench-{n}");
    let ride = evidence::ride(&format!("trip-{n}"));
    let person = |role: Role, who: u64| Evidence {
        operator,
        journey_id: journey_id.clone(),
        person: person_key(who),
        role,
        start,
        end,
        from,
        to,
        ride: Some(ride.clone()),
        labels: Labels::new(),
    };
    let (p, d) = (
        person(Role::Passenger, passenger),
        person(Role::Driver, driver),
    );
    let stored = Item::new(keys::journey(operator, &journey_id))
        .with("operator_id", operator.0 as i64)
        .with("journey_id", journey_id.clone())
        .with("status", "ok")
        .with("created_at", rfc3339(end))
        .with("updated_at", rfc3339(end))
        .with("passenger_key", p.person.clone())
        .with("driver_key", d.person.clone())
        .with("passenger_start", rfc3339(start))
        .with("driver_start", rfc3339(start))
        .with("passenger_end", rfc3339(end))
        .with("driver_end", rfc3339(end));
    [stored, evidence::encode(&p), evidence::encode(&d)]
}

/// CPU time (user + system) of this process so far, from /proc (Linux; 0 elsewhere): on a
/// shared machine it says what the pass costs whatever the other load.
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th, in clock ticks (100 per second on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Size of an item as DynamoDB bills it: names + values (strings in UTF-8 bytes, numbers
/// ~1 byte per 2 significant digits + 1), keys included.
fn dynamodb_size(item: &Item) -> usize {
    let value = |a: &Attr| match a {
        Attr::S(s) => s.len(),
        Attr::N(n) => n.unsigned_abs().to_string().len().div_ceil(2) + 1,
        Attr::B(_) => 1,
    };
    2 + item.key.pk.len()
        + 2
        + item.key.sk.len()
        + item
            .attrs
            .iter()
            .map(|(k, v)| k.len() + value(v))
            .sum::<usize>()
}

pub async fn run(config: Config, command: BenchCommand, json_out: bool) -> Result<(), String> {
    match command {
        BenchCommand::FraudPass {
            journeys,
            people,
            parallel,
        } => fraud_pass(config, journeys, people, parallel, json_out).await,
        BenchCommand::Monthly(command) => {
            crate::bench_monthly::run(config, command, json_out).await
        }
        BenchCommand::CampaignSimulate(bench) => {
            crate::bench_simulate::run(config, bench, json_out).await
        }
        BenchCommand::Certificate(command) => {
            let app = App::from_config(config)
                .await
                .map_err(|e| format!("cannot open the store: {e}"))?;
            crate::bench_certificates::run(&app, command).await
        }
    }
}

/// A new store of `journeys` journeys' evidence over the last week; the average size of
/// an evidence item as DynamoDB bills it.
fn fraud_store(config: &Config, journeys: u64, people: u64) -> Result<(SqliteStore, f64), String> {
    if people < 2 || journeys > people / 2 * 35 {
        return Err("--people: at least 2, and 2 per journey of a slot (journeys / 35)".into());
    }
    let path = config.db_path.clone();
    if Path::new(&path).exists() {
        return Err(format!(
            "{} exists: the benchmark writes a new store (pick another --data)",
            path.display()
        ));
    }
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    let now = Utc::now();
    let today = registry_core::domain::fraud::paris_day(now);
    let week_start = (today - TimeDelta::days(7))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or("bad date")?;

    let per_slot = journeys.div_ceil(7 * SLOTS.len() as u64);
    let started = Instant::now();
    let mut evidence_bytes = 0usize;
    let mut evidence_items = 0usize;
    let items = (0..journeys).flat_map(|n| {
        let items = journey(n, per_slot, people, week_start);
        for e in &items[1..] {
            evidence_bytes += dynamodb_size(e);
            evidence_items += 1;
        }
        items
    });
    let written = store.bulk_put(items).map_err(|e| e.to_string())?;
    eprintln!(
        "generated {written} items in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((store, evidence_bytes as f64 / evidence_items.max(1) as f64))
}

/// `registry bench fraud-pass`: the pass run twice over a new store (first run, rerun).
async fn fraud_pass(
    config: Config,
    journeys: u64,
    people: u64,
    parallel: Option<usize>,
    json_out: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let (store, avg) = fraud_store(&config, journeys, people)?;
    let setup = started.elapsed();
    let queue = store.queue(config.max_receives);
    let app = App::new(Arc::new(store), Arc::new(queue), config);
    let parallel =
        parallel.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let record = fraud::run_here(&app, None, parallel, Arc::new(|_: &fraud::UnitReport| {}))
            .await
            .map_err(|e| e.to_string())?;
        runs.push((started.elapsed().as_secs_f64(), cpu_seconds() - cpu, record));
    }
    // Strongly consistent queries: 1 RCU per 4 KB read. On AWS each (day, shard) unit reads
    // its day and both neighbours: every evidence item is read 3 times per run.
    let rcu_per_journey_per_run = 2.0 * avg * 3.0 / 4096.0;
    let result = json!({
        "journeys": journeys,
        "people": people,
        "setup_seconds": setup.as_secs_f64(),
        "first_run_seconds": runs[0].0,
        "first_run_cpu_seconds": runs[0].1,
        "rerun_seconds": runs[1].0,
        "rerun_cpu_seconds": runs[1].1,
        "first_run": runs[0].2.totals,
        "rerun": runs[1].2.totals,
        "evidence_item_bytes": avg,
        "rcu_per_journey_per_run": rcu_per_journey_per_run,
    });
    if json_out {
        println!("{result}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
    }
    Ok(())
}
