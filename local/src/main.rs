//! `registry`: the whole registry on one machine (embedded store and queue), and the
//! operations tool (admin, jobs) that also works against DynamoDB/SQS in production.

mod admin;
mod bench;
mod bench_certificates;
mod bench_monthly;
mod bench_seed;
mod bench_simulate;
mod campaigns;
mod jobs;
mod journeys;
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
    /// Offline tools for integrators (no store needed).
    #[command(subcommand)]
    Journeys(journeys::JourneyCommand),
    /// Campaign tools: simulate a document over stored journeys.
    #[command(subcommand)]
    Campaigns(campaigns::CampaignsCommand),
    /// Runs a scheduled job by hand.
    #[command(subcommand)]
    Jobs(jobs::JobCommand),
    /// Benchmarks on generated data (docs/BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Prints the OpenAPI 3.1 document of every route (what `serve` answers at
    /// `/openapi.json`; kept in docs/openapi.json).
    Openapi,
}

fn config(data: Option<PathBuf>) -> Result<Config, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if let Some(path) = data {
        config.db_path = path;
    }
    Ok(config)
}

async fn open(data: Option<PathBuf>) -> Result<App, String> {
    App::from_config(config(data)?)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))
}

async fn run(cli: Cli) -> Result<(), String> {
    let Cli {
        data,
        json,
        command,
    } = cli;
    match command {
        Command::Journeys(command) => journeys::run(command, json),
        Command::Serve { addr } => {
            let mut config = config(data)?;
            serve::ensure_signing_key(&mut config)?;
            let app = App::from_config(config)
                .await
                .map_err(|e| format!("cannot open the store: {e}"))?;
            serve::run(app, addr, json).await
        }
        Command::Admin(command) => admin::run(&open(data).await?, command, json).await,
        Command::Campaigns(command) => campaigns::run(&open(data).await?, command, json).await,
        Command::Jobs(command) => jobs::run(&open(data).await?, command, json).await,
        Command::Bench(command) => bench::run(config(data)?, command, json).await,
        Command::Openapi => {
            print!("{}", registry_core::api::openapi::json());
            Ok(())
        }
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
