//! `registry jobs ...`: the scheduled jobs, by hand.

use clap::Subcommand;
use registry_core::app::App;

#[derive(Subcommand)]
pub enum JobCommand {
    /// Re-enqueues journeys still pending after a delay.
    Sweep {
        #[arg(long, default_value_t = registry_core::jobs::sweep::DEFAULT_DELAY_MINUTES)]
        older_than_minutes: i64,
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
