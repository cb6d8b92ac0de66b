//! `registry campaigns simulate`: what a campaign document would have paid over the stored
//! journeys of some months, without storing it (docs/CAMPAIGNS.md, "Simulation").

use clap::Subcommand;
use registry_core::app::App;
use registry_core::campaigns::simulate;

use crate::admin::failed;

#[derive(Subcommand)]
pub enum CampaignsCommand {
    /// Evaluates a campaign document over the stored journeys of `--from` to `--to`
    /// (months, YYYY-MM, at most 12) with the monthly run's rules; stores nothing.
    Simulate {
        file: std::path::PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// CSV (one line per month) instead of text.
        #[arg(long)]
        csv: bool,
    },
}

pub async fn run(app: &App, command: CampaignsCommand, json: bool) -> Result<(), String> {
    let CampaignsCommand::Simulate {
        file,
        from,
        to,
        csv,
    } = command;
    let body = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let months = simulate::months(Some(&from), Some(&to)).map_err(failed)?;
    let campaign = simulate::parse(app, &body).await.map_err(failed)?;
    let started = std::time::Instant::now();
    let result = simulate::simulate(app, campaign, &months)
        .await
        .map_err(failed)?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&result).map_err(|e| e.to_string())?
        );
    } else if csv {
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(std::io::stdout());
        out.write_record(simulate::CSV_COLUMNS)
            .map_err(|e| e.to_string())?;
        for row in result.csv_rows() {
            out.write_record(&row).map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
    } else {
        for m in &result.months {
            println!(
                "{}: {} journeys, {} eligible, {} paid ({} incentives, {} people), {} c; capped {:?}; not paid {:?}",
                m.month,
                m.journeys,
                m.eligible,
                m.journeys_paid,
                m.incentives_paid,
                m.people_paid,
                m.amount,
                m.capped,
                m.not_paid
                    .iter()
                    .map(|r| format!("{}={}", r.reason, r.journeys))
                    .collect::<Vec<_>>()
            );
        }
        println!(
            "total: {} c ({:.1} s)",
            result.amount,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
