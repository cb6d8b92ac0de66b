//! `registry jobs ...`: the scheduled jobs, by hand.

use std::io::IsTerminal;

use clap::Subcommand;
use registry_core::app::App;
use registry_core::campaigns::monthly::{self, Month};

fn parse_month(s: &str) -> Result<Month, String> {
    Month::parse(s).ok_or_else(|| format!("{s:?} is not a month YYYY-MM"))
}

#[derive(Subcommand)]
pub enum JobCommand {
    /// Re-enqueues journeys still pending after a delay.
    Sweep {
        #[arg(long, default_value_t = registry_core::jobs::sweep::DEFAULT_DELAY_MINUTES)]
        older_than_minutes: i64,
    },
    /// The fraud pass over the last days (REGISTRY_FRAUD_WINDOW_DAYS, default 7), every
    /// operator, per person; prints the counts by label. `--last`: the last run's record.
    FraudPass {
        /// First day (Europe/Paris) to judge, instead of the window's.
        #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "last")]
        since: Option<chrono::NaiveDate>,
        /// Prints the record of the most recent run instead of running one.
        #[arg(long)]
        last: bool,
        /// Units run at once (default: the number of cores).
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// The monthly policy run (normally on the 6th, 04:00 Europe/Paris): makes a month's
    /// incentives final for every campaign overlapping it, as a recorded run of units (a
    /// campaign, or a shard of a big one) run in this process; prints a summary per
    /// campaign. `--last` / `--run ID`: a run's progress; `--resume ID`: finishes a run.
    PolicyMonthly {
        /// Month to finalize (campaign time zones); default: the previous month in Paris.
        #[arg(long, value_name = "YYYY-MM", value_parser = parse_month, conflicts_with_all = ["last", "run", "resume"])]
        month: Option<Month>,
        /// Reruns a month already final: writes a new version, keeps the earlier ones, and
        /// recomputes the campaign's later final months (they carried its counters).
        #[arg(long, conflicts_with_all = ["last", "run", "resume"])]
        force: bool,
        /// Prints the record of the most recent run instead of running one.
        #[arg(long, conflicts_with_all = ["run", "resume"])]
        last: bool,
        /// Prints the record of this run instead of running one.
        #[arg(long, value_name = "RUN_ID", conflicts_with = "resume")]
        run: Option<String>,
        /// Runs the units of this run not done yet (after a crash or dead letters).
        #[arg(long, value_name = "RUN_ID")]
        resume: Option<String>,
        /// Units run at once (default: the number of cores).
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// After a rotation of the hash secret (docs/OPERATIONS.md): recomputes the identity
    /// keys of the stored journeys with REGISTRY_HASH_SECRET, moving their fraud evidence,
    /// certificate trip-index entries, draft incentives and draft counters along. Needs
    /// REGISTRY_HASH_SECRET_PREVIOUS; rerunnable (a journey already re-keyed is skipped).
    Rekey {
        /// Scan segments of the table.
        #[arg(long, default_value_t = 16)]
        segments: u32,
        /// Segments run at once (default: the number of cores).
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// Gives the journeys accepted before `GET /v2/journeys` existed their entry in the
    /// operators' listing (`gsi2pk`); rerunnable (a journey with its entry is skipped).
    BackfillListing {
        /// Scan segments of the table.
        #[arg(long, default_value_t = 16)]
        segments: u32,
        /// Segments run at once (default: the number of cores).
        #[arg(long)]
        parallel: Option<usize>,
    },
    /// Lists messages that failed too often (read only: nothing is consumed).
    DeadLetters {
        #[arg(long, default_value_t = 100)]
        max: usize,
    },
}

pub async fn run(app: &App, command: JobCommand, json: bool) -> Result<(), String> {
    match command {
        JobCommand::Sweep { older_than_minutes } => sweep(app, older_than_minutes, json).await,
        JobCommand::FraudPass {
            since,
            last,
            parallel,
        } => fraud_pass(app, since, last, parallel, json).await,
        JobCommand::PolicyMonthly {
            month,
            force,
            last,
            run,
            resume,
            parallel,
        } => {
            let what = match (last, run, resume) {
                (true, _, _) => Monthly::Last,
                (_, Some(id), _) => Monthly::Show(id),
                (_, _, Some(id)) => Monthly::Resume(id),
                _ => Monthly::Run {
                    month: month.unwrap_or_else(|| Month::previous(app.clock.now())),
                    force,
                },
            };
            let parallel = parallel
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
            policy_monthly(app, what, parallel, json).await
        }
        JobCommand::Rekey { segments, parallel } => rekey(app, segments, parallel, json).await,
        JobCommand::BackfillListing { segments, parallel } => {
            backfill_listing(app, segments, parallel, json).await
        }
        JobCommand::DeadLetters { max } => dead_letters(app, max, json).await,
    }
}

async fn sweep(app: &App, older_than_minutes: i64, json: bool) -> Result<(), String> {
    let delay = chrono::Duration::try_minutes(older_than_minutes.max(0))
        .filter(|d| *d <= chrono::Duration::days(3650))
        .ok_or("--older-than-minutes: at most 10 years")?;
    let report = registry_core::jobs::sweep::sweep(app, delay)
        .await
        .map_err(|e| format!("sweep failed: {e}"))?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        println!("sweep: {} pending journeys re-enqueued", report.requeued);
    }
    Ok(())
}

/// `--segments` checked, `--parallel` defaulted to the number of cores.
fn scan_plan(segments: u32, parallel: Option<usize>) -> Result<usize, String> {
    if !(1..=1000).contains(&segments) {
        return Err("--segments: 1 to 1000".into());
    }
    Ok(parallel.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())))
}

async fn backfill_listing(
    app: &App,
    segments: u32,
    parallel: Option<usize>,
    json: bool,
) -> Result<(), String> {
    let parallel = scan_plan(segments, parallel)?;
    let r = registry_core::jobs::listing::backfill(app, segments, parallel)
        .await
        .map_err(|e| format!("backfill failed: {e}"))?;
    if json {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
    } else {
        println!(
            "backfill-listing: {} journeys read, {} entries added, {} present already, {} unreadable",
            r.journeys, r.added, r.present, r.unreadable
        );
    }
    Ok(())
}

async fn rekey(
    app: &App,
    segments: u32,
    parallel: Option<usize>,
    json: bool,
) -> Result<(), String> {
    let parallel = scan_plan(segments, parallel)?;
    let report = registry_core::jobs::rekey::run(app, segments, parallel)
        .await
        .map_err(|e| format!("rekey failed: {e}"))?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        let r = &report;
        println!(
            "rekey: {} journeys read, {} re-keyed, {} already current, {} pending, {} busy, {} under an unknown secret, {} unreadable",
            r.journeys, r.rekeyed, r.current, r.pending, r.busy, r.unknown_secret, r.unreadable
        );
        println!(
            "  moved: {} evidence items, {} trip-index entries, {} drafts, {} counter contributions ({} drafts kept their counts)",
            r.evidence_moved, r.trip_entries_moved, r.drafts_rekeyed, r.counters_moved, r.counters_kept
        );
        if r.left() > 0 {
            println!(
                "  {} journeys left under their old keys: run it again once processed",
                r.left()
            );
        }
    }
    Ok(())
}

async fn dead_letters(app: &App, max: usize, json: bool) -> Result<(), String> {
    let dead = app
        .queue
        .dead_letters(max)
        .await
        .map_err(|e| format!("cannot read dead letters: {e}"))?;
    let list: Vec<serde_json::Value> = dead
        .iter()
        .map(|d| serde_json::json!({"body": d.body, "receive_count": d.receive_count}))
        .collect();
    if json {
        println!("{}", serde_json::json!({ "dead_letters": list }));
    } else {
        for d in &dead {
            println!("{}\t{}", d.receive_count, d.body);
        }
        println!("{} dead letters", dead.len());
    }
    Ok(())
}

async fn fraud_pass(
    app: &App,
    since: Option<chrono::NaiveDate>,
    last: bool,
    parallel: Option<usize>,
    json: bool,
) -> Result<(), String> {
    use registry_core::jobs::fraud;
    let record = if last {
        fraud::last_run(app)
            .await
            .map_err(|e| format!("cannot read the runs: {e}"))?
            .ok_or("no fraud pass has run yet")?
    } else {
        let parallel =
            parallel.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let units = u64::from(registry_core::records::keys::FRAUD_SHARDS);
        let bar = progress_bar(
            units,
            "fraud pass {bar:30} {pos}/{len} shards, {msg} [{elapsed}]",
            json,
        );
        let progress: std::sync::Arc<dyn Fn(&fraud::UnitReport) + Send + Sync> = match &bar {
            Some(bar) => {
                let bar = bar.clone();
                let flagged = std::sync::atomic::AtomicU64::new(0);
                std::sync::Arc::new(move |r: &fraud::UnitReport| {
                    let total = flagged.fetch_add(r.flagged, std::sync::atomic::Ordering::Relaxed)
                        + r.flagged;
                    bar.set_message(format!("{total} flagged"));
                    bar.inc(1);
                })
            }
            None => std::sync::Arc::new(|_: &fraud::UnitReport| {}),
        };
        let record = fraud::run_here(app, since, parallel, progress)
            .await
            .map_err(|e| format!("fraud pass failed: {e}"))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        record
    };
    if json {
        println!("{}", serde_json::to_string(&record).unwrap_or_default());
    } else {
        print_fraud_run(&record);
    }
    Ok(())
}

enum Monthly {
    Run { month: Month, force: bool },
    Resume(String),
    Show(String),
    Last,
}

async fn policy_monthly(
    app: &App,
    what: Monthly,
    parallel: usize,
    json: bool,
) -> Result<(), String> {
    let (record, units) = monthly_run_of(app, what).await?;
    let record = match units {
        None => record,
        Some(units) => run_monthly_units(app, record, units, parallel, json).await?,
    };
    let failed = record
        .campaigns
        .iter()
        .filter(|c| c.error.is_some())
        .count();
    print_monthly_run(&record, json);
    if failed > 0 {
        return Err(format!("{failed} campaigns not finalized"));
    }
    Ok(())
}

fn monthly_failed(e: monthly::fanout::MonthlyError) -> String {
    format!("policy-monthly failed: {e}")
}

/// The run asked for, and the units to run now (`None`: only show it).
async fn monthly_run_of(
    app: &App,
    what: Monthly,
) -> Result<
    (
        monthly::progress::RunRecord,
        Option<Vec<monthly::fanout::Unit>>,
    ),
    String,
> {
    use monthly::fanout;
    let failed = monthly_failed;
    let (record, units) = match what {
        Monthly::Last => (
            monthly::progress::last_run(app)
                .await
                .map_err(|e| format!("cannot read the runs: {e}"))?
                .ok_or("no monthly run yet")?,
            None,
        ),
        Monthly::Show(id) => (
            monthly::progress::read_run(app, &id)
                .await
                .map_err(|e| format!("cannot read the run: {e}"))?
                .ok_or_else(|| format!("no monthly run {id}"))?,
            None,
        ),
        Monthly::Run { month, force } => {
            let (record, units) = fanout::plan(app, month, force).await.map_err(failed)?;
            (record, Some(units))
        }
        Monthly::Resume(id) => {
            let units = fanout::pending(app, &id).await.map_err(failed)?;
            let record = monthly::progress::read_run(app, &id)
                .await
                .map_err(|e| format!("cannot read the run: {e}"))?
                .ok_or_else(|| format!("no monthly run {id}"))?;
            (record, Some(units))
        }
    };
    Ok((record, units))
}

/// Runs `units` here, with a progress bar for a person watching; the run as it ends.
async fn run_monthly_units(
    app: &App,
    record: monthly::progress::RunRecord,
    units: Vec<monthly::fanout::Unit>,
    parallel: usize,
    json: bool,
) -> Result<monthly::progress::RunRecord, String> {
    use monthly::fanout;
    let bar = progress_bar(
        record.units,
        "policy-monthly {bar:30} {pos}/{len} units [{elapsed}]",
        json,
    );
    if let Some(bar) = &bar {
        bar.set_position(record.units_done);
    }
    let tick: std::sync::Arc<dyn Fn(&fanout::Unit) + Send + Sync> = match &bar {
        Some(bar) => {
            let bar = bar.clone();
            std::sync::Arc::new(move |_: &fanout::Unit| bar.inc(1))
        }
        None => std::sync::Arc::new(|_: &fanout::Unit| {}),
    };
    let done = fanout::run_units(app, &record.run_id, units, parallel, tick)
        .await
        .map_err(|e| {
            format!(
                "{}; finish it with: registry jobs policy-monthly --resume {}",
                monthly_failed(e),
                record.run_id
            )
        })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(done)
}

/// The run's outcome per campaign, as JSON or as text.
fn print_monthly_run(record: &monthly::progress::RunRecord, json: bool) {
    let results = monthly::fanout::results(record);
    if json {
        let list: Vec<serde_json::Value> = record
            .campaigns
            .iter()
            .map(|c| match (&c.report, &c.error) {
                (Some(report), _) => serde_json::to_value(report).unwrap_or_default(),
                (None, error) => serde_json::json!({
                    "campaign_id": c.campaign_id, "month": c.month,
                    "shards": c.shards, "shards_done": c.shards_done, "error": error,
                }),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "run_id": record.run_id, "month": record.month, "force": record.force,
                "started_at": record.started_at, "finished_at": record.finished_at,
                "units": record.units, "units_done": record.units_done,
                "warnings": record.warnings, "campaigns": list,
            })
        );
    } else {
        print_monthly_text(record, &results);
    }
}

fn print_monthly_text(
    record: &monthly::progress::RunRecord,
    results: &[Result<monthly::Report, monthly::RunError>],
) {
    println!(
        "policy-monthly {} (run {}{}): {} campaigns, {}",
        record.month,
        record.run_id,
        if record.force { ", forced" } else { "" },
        record.campaigns.len(),
        match &record.finished_at {
            Some(at) => format!("finished {at}"),
            None => format!("running: {}/{} units done", record.units_done, record.units),
        }
    );
    for (c, r) in record.campaigns.iter().zip(results) {
        match r {
            Ok(r) => {
                let t = &r.totals;
                let count = |s: &str| {
                    monthly::compute::LineStatus::parse(s)
                        .and_then(|s| t.by_status.get(&s))
                        .map_or(0, |c| c.count)
                };
                println!(
                    "  {} {} v{}: {} journeys, {} paid lines = {:.2} EUR ({} validated, {} capped, {} canceled, {} not eligible){}",
                    r.campaign_id,
                    r.month,
                    r.version,
                    t.journeys,
                    t.paid.count,
                    t.paid.amount as f64 / 100.0,
                    count("validated"),
                    count("capped"),
                    count("canceled"),
                    count("not_eligible"),
                    r.carried_from
                        .as_ref()
                        .map(|m| format!(", counters carried from {m}"))
                        .unwrap_or_default()
                );
                if let Some(c) = t.by_status.get(&monthly::compute::LineStatus::Correction) {
                    println!(
                        "    {} corrections of earlier months = {:.2} EUR, net {:.2} EUR",
                        c.count,
                        c.amount as f64 / 100.0,
                        t.net.amount as f64 / 100.0
                    );
                }
            }
            Err(_) if c.error.is_none() => println!(
                "  {} {}: pending ({}/{} shards done)",
                c.campaign_id, c.month, c.shards_done, c.shards
            ),
            Err(e) => println!("  refused: {e}"),
        }
    }
    for w in &record.warnings {
        println!("  warning: {w}");
    }
}

fn print_fraud_run(run: &registry_core::jobs::fraud::RunRecord) {
    let (record, t) = (&run.header, &run.totals);
    println!(
        "fraud pass {} ({} to {}, Europe/Paris days){}",
        record.run_id,
        record.first_day,
        record.last_day,
        match &record.finished_at {
            Some(at) => format!(", finished {at}"),
            None => format!(
                ", running: {}/{} units done",
                record.units_done, record.units
            ),
        }
    );
    println!(
        "  {} person-journeys judged, {} flagged, {} journeys written",
        t.evidence, t.flagged, t.written
    );
    for label in registry_core::domain::fraud::FraudLabel::ALL {
        let n = t.labels.get(label.as_str()).copied().unwrap_or(0);
        println!("  {:<24}{n}", label.as_str());
    }
    if t.without_coordinates > 0 || t.skipped > 0 {
        println!(
            "  {} without coordinates (no distance rule), {} unreadable evidence items skipped",
            t.without_coordinates, t.skipped
        );
    }
}

/// A progress bar only for a person watching: not in pipes, logs or --json.
fn progress_bar(len: u64, template: &str, json: bool) -> Option<indicatif::ProgressBar> {
    (std::io::stdout().is_terminal() && !json).then(|| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}
