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
    /// incentives final for every campaign overlapping it; prints a summary per campaign.
    PolicyMonthly {
        /// Month to finalize (campaign time zones); default: the previous month in Paris.
        #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
        month: Option<Month>,
        /// Reruns a month already final: writes a new version, keeps the earlier ones.
        #[arg(long)]
        force: bool,
    },
    /// Lists messages that failed too often (read only: nothing is consumed).
    DeadLetters {
        #[arg(long, default_value_t = 100)]
        max: usize,
    },
}

pub async fn run(app: &App, command: JobCommand, json: bool) -> Result<(), String> {
    match command {
        JobCommand::Sweep { older_than_minutes } => {
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
        JobCommand::FraudPass {
            since,
            last,
            parallel,
        } => fraud_pass(app, since, last, parallel, json).await,
        JobCommand::PolicyMonthly { month, force } => {
            let month = month.unwrap_or_else(|| Month::previous(app.clock.now()));
            policy_monthly(app, month, force, json).await
        }
        JobCommand::DeadLetters { max } => {
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
    }
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
        let units = u64::from(registry_core::domain::keys::FRAUD_SHARDS);
        // A progress bar only for a person watching: not in pipes, logs or --json.
        let bar = (std::io::stdout().is_terminal() && !json).then(|| {
            let bar = indicatif::ProgressBar::new(units);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "fraud pass {bar:30} {pos}/{len} shards, {msg} [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
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
        return Ok(());
    }
    let t = &record.totals;
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
    Ok(())
}

async fn policy_monthly(app: &App, month: Month, force: bool, json: bool) -> Result<(), String> {
    let campaigns = app
        .campaigns
        .campaigns(app)
        .await
        .map_err(|e| format!("cannot read the campaigns: {e}"))?;
    let count = monthly::overlapping(&campaigns, month).len() as u64;
    let bar = (std::io::stdout().is_terminal() && !json).then(|| {
        let bar = indicatif::ProgressBar::new(count);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "policy-monthly {bar:30} {pos}/{len} campaigns [{elapsed}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let tick = |_: &Result<monthly::Report, monthly::RunError>| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let results = monthly::run_all(app, month, force, &tick)
        .await
        .map_err(|e| format!("policy-monthly failed: {e}"))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    if json {
        let list: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match r {
                Ok(report) => serde_json::to_value(report).unwrap_or_default(),
                Err(e) => serde_json::json!({"error": e.to_string()}),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"month": month.to_string(), "campaigns": list})
        );
    } else {
        println!("policy-monthly {month}: {} campaigns", results.len());
        for r in &results {
            match r {
                Ok(r) => {
                    let t = &r.totals;
                    let count = |s: &str| {
                        monthly::compute::LineStatus::parse(s)
                            .and_then(|s| t.by_status.get(&s))
                            .map_or(0, |c| c.count)
                    };
                    println!(
                        "  {} v{}: {} journeys, {} paid lines = {:.2} EUR ({} validated, {} capped, {} canceled, {} not eligible){}",
                        r.campaign_id,
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
                Err(e) => println!("  refused: {e}"),
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} campaigns not finalized"));
    }
    Ok(())
}
