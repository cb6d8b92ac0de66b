//! `registry journeys ...`: offline tools for integrators, with the API's own validator.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Subcommand;
use registry_core::domain::journey::example_document;
use registry_core::domain::journey_v2;
use serde_json::json;

#[derive(Subcommand)]
pub enum JourneyCommand {
    /// Checks a file of journeys, one JSON document per line (NDJSON), as the API would
    /// (schema, then the checks against now). Exit code 0 only when every line is valid.
    Validate { file: PathBuf },
    /// Prints a complete, valid journey v2 document that ended an hour ago.
    Example {
        #[arg(long, default_value = "example-1")]
        id: String,
    },
}

pub fn run(command: JourneyCommand, json_output: bool) -> Result<(), String> {
    match command {
        JourneyCommand::Example { id } => {
            println!("{}", example_document(&id, chrono::Utc::now()));
            Ok(())
        }
        JourneyCommand::Validate { file } => validate(&file, json_output),
    }
}

fn validate(file: &PathBuf, json_output: bool) -> Result<(), String> {
    let reader = std::fs::File::open(file)
        .map(BufReader::new)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let now = chrono::Utc::now();
    // One write per buffer, not per reported line (stdout is line-buffered).
    let mut out = BufWriter::new(std::io::stdout().lock());
    let write_error = |e: std::io::Error| format!("cannot write the report: {e}");
    let (mut valid, mut invalid) = (0u64, 0u64);
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = journey_v2::parse(&line)
            .map_err(|e| (400, e))
            .and_then(|j| journey_v2::check(&j, now).map_err(|e| (422, e)));
        match result {
            Ok(()) => valid += 1,
            Err((status, e)) => {
                invalid += 1;
                let number = index + 1;
                if json_output {
                    writeln!(
                        out,
                        "{}",
                        json!({"line": number, "status": status, "details": e.details})
                    )
                    .map_err(write_error)?;
                } else {
                    for d in &e.details {
                        writeln!(
                            out,
                            "line {number}: {} {}: {}",
                            status,
                            if d.path.is_empty() {
                                "(document)"
                            } else {
                                &d.path
                            },
                            d.reason
                        )
                        .map_err(write_error)?;
                    }
                }
            }
        }
    }
    if json_output {
        writeln!(out, "{}", json!({"valid": valid, "invalid": invalid})).map_err(write_error)?;
    }
    out.flush().map_err(write_error)?;
    if !json_output {
        eprintln!("{valid} valid, {invalid} invalid");
    }
    if invalid == 0 {
        Ok(())
    } else {
        Err(format!("{invalid} invalid journeys"))
    }
}
