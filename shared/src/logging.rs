//! Log set-up shared by the Lambda functions (JSON) and `registry` (compact). `RUST_LOG`
//! takes `level` or `target=level,...` (no regex filters: it keeps the Lambda binaries small).

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

/// One JSON object per line on stdout (CloudWatch), with the request span's fields
/// (`span`: request_id, route, operator_id) beside the event's (`fields`: status,
/// latency_ms, ...).
pub fn init_json() {
    init_json_to(std::io::stdout);
}

/// [`init_json`] to another writer (tests read what Lambda would log).
pub fn init_json_to<W>(writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Human-readable lines on stderr.
pub fn init_compact(ansi: bool) {
    let layer = tracing_subscriber::fmt::layer()
        .compact()
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
