//! `registry bench certificate-...`: the set-ups and loops behind the certificate figures
//! of docs/BENCHMARKS.md (tests/load/bench_certificates.sh runs them).

use std::time::Instant;

use chrono::{TimeDelta, Utc};
use clap::Subcommand;
use registry_core::app::App;
use registry_core::clock::rfc3339;
use registry_core::domain::certificate::{self, Certificate, Format, Issuer, Month, Totals, Trip};
use registry_core::domain::identity::identity_key;
use registry_core::domain::journey::example_document;
use registry_core::domain::journey_v2;
use registry_core::domain::operator::OperatorId;
use registry_core::records::journey::JourneyRecord;
use registry_core::records::keys;
use registry_core::store::{Item, WriteOp, MAX_TRANSACTION_WRITES};
use serde_json::json;

#[derive(Subcommand)]
pub enum CertificateBench {
    /// Gives the example passenger (06 12 34 56 78) JOURNEYS `ok` journeys with OPERATOR,
    /// spread evenly over YEARS up to a week ago: the trip-index entries processing writes.
    CertificateSeed {
        #[arg(long)]
        operator: u64,
        #[arg(long, default_value_t = 2000)]
        journeys: u32,
        #[arg(long, default_value_t = 3)]
        years: u32,
    },
    /// Renders a 36-month certificate RUNS times in FORMAT; prints the time of each part.
    CertificateRender {
        #[arg(long, default_value_t = 100)]
        runs: u32,
        #[arg(long, default_value = "pdf")]
        format: String,
    },
}

pub async fn run(app: &App, command: CertificateBench) -> Result<(), String> {
    match command {
        CertificateBench::CertificateSeed {
            operator,
            journeys,
            years,
        } => seed(app, OperatorId(operator), journeys, years).await,
        CertificateBench::CertificateRender { runs, format } => {
            let format =
                Format::parse(&format).ok_or_else(|| format!("--format {format}: pdf or png"))?;
            render(app, runs, format)
        }
    }
}

async fn seed(app: &App, operator: OperatorId, journeys: u32, years: u32) -> Result<(), String> {
    let end = Utc::now() - TimeDelta::days(7);
    let span = TimeDelta::days(365 * i64::from(years.max(1)));
    let step = span / i32::try_from(journeys.max(1)).map_err(|_| "too many journeys")?;
    let mut ops = Vec::new();
    for i in 0..journeys {
        let at = end - step * i32::try_from(i).map_err(|_| "too many journeys")?;
        let doc = example_document(&format!("bench-{i}"), at);
        let journey = journey_v2::parse(doc.to_string().as_bytes())
            .map_err(|e| format!("example document invalid: {:?}", e.details))?;
        // What acceptance stores, from which processing names the entries.
        let person = &journey.passenger.person;
        let mut record =
            JourneyRecord::from_item(&Item::new(keys::journey(operator, &journey.journey_id)));
        record.journey_id = Some(journey.journey_id.clone());
        record.passenger.key = Some(identity_key(
            &app.config.hash_secret,
            operator,
            &person.identity,
        ));
        record.passenger.start = Some(rfc3339(person.start.datetime));
        for (role, key) in registry_core::records::certificate::index_keys(operator, &record) {
            ops.push(WriteOp::Put {
                item: Trip::of(&journey, role).to_item(key),
                condition: None,
            });
        }
        if ops.len() == MAX_TRANSACTION_WRITES || i + 1 == journeys {
            app.store
                .transact(std::mem::take(&mut ops))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    println!(
        "{}",
        json!({"operator": operator, "journeys": journeys, "from": rfc3339(end - span), "to": rfc3339(end)})
    );
    Ok(())
}

fn render(app: &App, runs: u32, format: Format) -> Result<(), String> {
    let totals = Totals {
        trips: 55,
        distance: 1_182_500,
        driver_trips: 30,
        driver_earned: 7_500,
        passenger_trips: 25,
        passenger_paid: 7_500,
    };
    let months: Vec<Month> = (0..36)
        .map(|i| Month {
            month: format!("{}-{:02}", 2023 + i / 12, i % 12 + 1),
            totals: totals.clone(),
        })
        .collect();
    let mut total = Totals::default();
    months.iter().for_each(|m| total.add(&m.totals));
    let cert = Certificate {
        uuid: uuid::Uuid::new_v4(),
        created_at: rfc3339(Utc::now()),
        operator: Issuer {
            id: OperatorId(1),
            name: "Bench".into(),
        },
        meta: certificate::Meta {
            tz: "Europe/Paris".into(),
            start_at: Some("2023-01-01T00:00:00.000Z".into()),
            end_at: "2025-12-31T23:00:00.000Z".into(),
            positions: Vec::new(),
            months,
            total,
        },
    };
    let url = cert.check_url(&app.config.public_url);
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let bytes =
            registry_core::certificate::render(&cert, &url, format).map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        size = bytes.len();
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}",
        json!({"runs": times.len(), "bytes": size, "first_ms": first, "p50_ms": at(0.5),
               "p90_ms": at(0.9), "max_ms": at(1.0)})
    );
    Ok(())
}
