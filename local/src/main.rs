//! `registry`: the whole registry on one machine (embedded store and queue), and the
//! operations tool (admin, jobs) that also works against DynamoDB/SQS in production.

mod admin;
mod serve;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use registry_core::app::App;
use registry_core::config::Config;

#[derive(Parser)]
#[command(name = "registry", version, about = "Carpool proof registry")]
struct Cli {
    /// Embedded store file (overrides REGISTRY_DB_PATH).
    #[arg(long, global = true, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Machine-readable output: one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every route, the queue worker and the scheduler on one port.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// Operators and tokens.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Runs a scheduled job by hand.
    #[command(subcommand)]
    Jobs(JobCommand),
}

#[derive(Subcommand)]
enum JobCommand {
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

fn config(cli: &Cli) -> Result<Config, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if let Some(path) = &cli.data {
        config.db_path = path.clone();
    }
    Ok(config)
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = config(&cli)?;
    let app = App::from_config(config)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    match cli.command {
        Command::Serve { addr } => serve::run(app, addr, cli.json).await,
        Command::Admin(command) => admin::run(&app, command, cli.json).await,
        Command::Jobs(JobCommand::Sweep { older_than_minutes }) => {
            let delay = chrono::Duration::try_minutes(older_than_minutes.max(0))
                .filter(|d| *d <= chrono::Duration::days(3650))
                .ok_or("--older-than-minutes: at most 10 years")?;
            let report = registry_core::jobs::sweep::sweep(&app, delay)
                .await
                .map_err(|e| format!("sweep failed: {e}"))?;
            if cli.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("sweep: {} pending journeys re-enqueued", report.requeued);
            }
            Ok(())
        }
        Command::Jobs(JobCommand::DeadLetters { max }) => {
            let dead = app
                .queue
                .dead_letters(max)
                .await
                .map_err(|e| format!("cannot read dead letters: {e}"))?;
            let list: Vec<serde_json::Value> = dead
                .iter()
                .map(|d| serde_json::json!({"body": d.body, "receive_count": d.receive_count}))
                .collect();
            if cli.json {
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    registry_core::logging::init_compact(std::io::stderr().is_terminal());
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
