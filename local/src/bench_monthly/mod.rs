//! `registry bench policy-monthly`: the monthly run of issue 7 over a generated month
//! (March 2025) of journeys and 20 campaigns (15 city campaigns, 5 overlapping: three
//! regional exclusive ones above or below the cities by priority, two stackable ones).
//!
//! The seed writes, in bulk and directly, what acceptance and processing leave behind for
//! the run: operators and campaigns (through the core), journey items (status, identity
//! keys, the v2 document deflated, as acceptance stores it) and their drafts, computed by
//! the real engine with provisional counters in arrival order and built by the function
//! processing uses. It is kept in the `--data` file and reused when present: only the run
//! is timed. `--meter N` instead runs over N journeys on an in-memory store behind
//! `Metered`, which counts the DynamoDB units of every call by AWS's sizing rules.

mod seed;

use seed::{generate, seed, setup, Counts, MONTH};

use std::sync::Arc;
use std::time::Instant;

use clap::Subcommand;
use registry_core::app::App;
use registry_core::campaigns::monthly::{self, Month, Report, RunError};
use registry_core::config::Config;
use registry_core::queue::memory::MemoryQueue;
use registry_core::store::capacity::{Metered, GSI1_PROJECTION};
use registry_core::store::memory::MemoryStore;
use registry_core::store::{Item, Store};
use serde_json::{json, Value};

use crate::bench::cpu_seconds;
use crate::bench_seed::SeedStore;

#[derive(Subcommand)]
pub enum MonthlyBench {
    /// Seeds (once, into --data) a month of journeys with their drafts and 20 campaigns,
    /// then times the monthly run over it (forced: every run writes a new version).
    PolicyMonthly {
        #[arg(long, default_value_t = 3_000_000)]
        journeys: u64,
        /// Count DynamoDB units instead: seed N journeys into memory, run behind `Metered`.
        #[arg(long, value_name = "N")]
        meter: Option<u64>,
    },
}

fn print(result: &Value, json_out: bool) {
    if json_out {
        println!("{result}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(result).unwrap_or_default()
        );
    }
}

/// A memory figure of this process from /proc/self/status, in MiB (Linux; 0 elsewhere):
/// `VmHWM` the peak resident set, `RssAnon` heap and stacks now, `RssFile` mapped file
/// pages now (the SQLite file is mapped: its pages count in the resident set).
fn memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The largest `RssAnon` (heap, stacks: not the mapped store file) seen every 200 ms
/// while the run goes.
struct AnonPeak {
    stop: Arc<std::sync::atomic::AtomicBool>,
    sampler: Option<std::thread::JoinHandle<f64>>,
}

impl AnonPeak {
    fn start() -> AnonPeak {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                let mut peak: f64 = 0.0;
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(memory_mib("RssAnon:"));
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                peak.max(memory_mib("RssAnon:"))
            })
            .ok();
        AnonPeak { stop, sampler }
    }

    fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler.and_then(|s| s.join().ok()).unwrap_or_default()
    }
}

fn summary(reports: &[Result<Report, RunError>]) -> Result<Value, String> {
    let mut entries = 0;
    let mut lines = 0;
    let mut paid = 0;
    let mut per_campaign = Vec::new();
    for r in reports {
        let r = r.as_ref().map_err(|e| e.to_string())?;
        entries += r.totals.journeys;
        lines += r.totals.by_status.values().map(|c| c.count).sum::<u64>();
        paid += r.totals.paid.amount;
        per_campaign.push(json!({
            "campaign": r.campaign_id, "version": r.version, "journeys": r.totals.journeys,
            "paid": r.totals.paid, "by_status": r.totals.by_status,
        }));
    }
    Ok(json!({
        "campaign_journeys": entries, "lines": lines, "paid_cents": paid,
        "campaigns": per_campaign,
    }))
}

pub async fn run(config: Config, command: MonthlyBench, json_out: bool) -> Result<(), String> {
    let MonthlyBench::PolicyMonthly { journeys, meter } = command;
    let month = Month::parse(MONTH).ok_or("bad month")?;
    if let Some(n) = meter {
        return meter_run(config, n, month, json_out).await;
    }
    let seeds = SeedStore::open(config)?;
    let seed_seconds = seeds
        .ensure("policy-monthly", journeys, || seed(&seeds, journeys))
        .await?;
    let app = &seeds.app;

    let peak_anon = AnonPeak::start();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let reports = monthly::run_all(app, month, true, &|r| {
        if let Ok(r) = r {
            eprintln!(
                "{} v{}: {} journeys, {:.1} s",
                r.campaign_id,
                r.version,
                r.totals.journeys,
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let mut result = summary(&reports)?;
    result["journeys"] = json!(journeys);
    result["seed_seconds"] = json!(seed_seconds);
    result["run_seconds"] = json!(wall);
    result["run_cpu_seconds"] = json!(cpu);
    result["peak_rss_mib"] = json!(memory_mib("VmHWM:"));
    result["peak_rss_anon_mib"] = json!(peak_anon.stop());
    result["end_rss_file_mib"] = json!(memory_mib("RssFile:"));
    print(&result, json_out);
    Ok(())
}

/// The run over `journeys` journeys on an in-memory store behind [`Metered`]: the units it
/// would cost on DynamoDB on-demand, per journey of the month.
async fn meter_run(
    config: Config,
    journeys: u64,
    month: Month,
    json_out: bool,
) -> Result<(), String> {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let seed_app = App::new(
        memory.clone(),
        Arc::new(MemoryQueue::default()),
        config.clone(),
    );
    let campaigns = setup(&seed_app).await?;
    let mut seeded = Counts::default();
    let items: Vec<Item> = generate(journeys, campaigns, &mut seeded).collect();
    for item in items {
        memory.put(item, None).await.map_err(|e| e.to_string())?;
    }
    let metered = Arc::new(Metered::new(memory, GSI1_PROJECTION));
    let app = App::new(metered.clone(), Arc::new(MemoryQueue::default()), config);
    let reports = monthly::run_all(&app, month, false, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    let units = metered.take();
    let mut result = summary(&reports)?;
    result["journeys"] = json!(journeys);
    result["drafts"] = json!(seeded.drafts);
    result["read_units"] = json!(units.read);
    result["write_units"] = json!(units.write);
    result["read_units_per_journey"] = json!(units.read / journeys.max(1) as f64);
    result["write_units_per_journey"] = json!(units.write / journeys.max(1) as f64);
    print(&result, json_out);
    Ok(())
}
