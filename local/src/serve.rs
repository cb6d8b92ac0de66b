//! `registry serve`: every route of the routing table on one port, the embedded queue
//! worker, and the first-start bootstrap of a registry admin.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use registry_core::admin;
use registry_core::api::{self, error::ApiError, MAX_REQUEST_BYTES};
use registry_core::app::App;
use registry_core::campaigns::monthly;
use registry_core::config::Config;
use registry_core::domain::cee::signature::Signer;
use registry_core::jobs::{fraud, sweep, worker};
use serde_json::json;

/// The OpenAPI document, built once.
fn openapi() -> &'static str {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(api::openapi::json)
}

async fn route(State(app): State<App>, request: Request) -> Response {
    // Served here only: the document is not a route of the API (no Lambda serves it).
    if request.uri().path() == "/openapi.json" && request.method() == http::Method::GET {
        return (
            [(http::header::CONTENT_TYPE, "application/json")],
            openapi(),
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    // One byte over the limit is enough to refuse it; never buffer more.
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES + 1).await {
        Ok(body) => body,
        Err(e) => {
            let too_large = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let error = if too_large {
                ApiError::payload_too_large(MAX_REQUEST_BYTES)
            } else {
                ApiError::invalid_field("", "the request body could not be read")
            };
            return error.into_response().map(axum::body::Body::from);
        }
    };
    let response = api::handle(&app, http::Request::from_parts(parts, body), None, None).await;
    response.map(axum::body::Body::from).into_response()
}

/// File of the CEE signing key that `registry serve` keeps beside its data file when
/// `REGISTRY_SIGNING_KEY` is not set.
pub const SIGNING_KEY_FILE: &str = "cee-signing-key.pem";

/// Without `REGISTRY_SIGNING_KEY`, the key kept beside the data file, generated at first
/// start (RSA 4096: a few seconds, once).
pub fn ensure_signing_key(config: &mut Config) -> Result<(), String> {
    if config.signing_key.is_some() {
        return Ok(());
    }
    let dir = config
        .db_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = dir.join(SIGNING_KEY_FILE);
    if !path.exists() {
        eprintln!(
            "generating the CEE signing key (RSA 4096, once) into {}",
            path.display()
        );
    }
    let signer = load_or_generate(&path)?;
    config.signing_key = Some(Arc::new(signer));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub async fn run(app: App, addr: SocketAddr, json_output: bool) -> Result<(), String> {
    let bootstrap = admin::bootstrap(&app)
        .await
        .map_err(|e| format!("bootstrap failed: {}", ApiError::from(e).message))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let mut app = app;
    if std::env::var_os("REGISTRY_PUBLIC_URL").is_none() {
        // Certificates' QR codes point to this server unless told otherwise.
        std::sync::Arc::make_mut(&mut app.config).public_url = format!("http://{local}");
    }
    if json_output {
        let mut line =
            json!({ "listening": format!("http://{local}"), "data": app.config.db_path });
        if let Some(admin) = &bootstrap {
            line["admin_token"] = json!(admin.token);
            line["admin_token_id"] = json!(admin.info.token_id);
        }
        println!("{line}");
    } else {
        if let Some(admin) = &bootstrap {
            println!(
                "Registry admin token (shown once, keep it): {}",
                admin.token
            );
        }
        println!(
            "registry listening on http://{local} (data: {})",
            app.config.db_path.display()
        );
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::run(app.clone(), stop_rx.clone()));
    let scheduler = tokio::spawn(scheduler(app.clone(), stop_rx));
    let router = axum::Router::new().fallback(route).with_state(app);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"));
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = scheduler.await;
    served
}

/// The schedules of template.yaml, in process: the sweeper every 5 minutes, the fraud pass
/// every day at 03:00 Europe/Paris, the monthly policy run on the 6th at 04:00 Europe/Paris.
async fn scheduler(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5 * 60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut fraud_at = fraud::next_daily_run(app.clock.now());
    let mut monthly_at = monthly::next_run(app.clock.now());
    loop {
        let until_fraud = (fraud_at - app.clock.now()).to_std().unwrap_or_default();
        let until_monthly = (monthly_at - app.clock.now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = every.tick() => {
                let delay = chrono::Duration::minutes(sweep::DEFAULT_DELAY_MINUTES);
                if let Err(e) = sweep::sweep(&app, delay).await {
                    tracing::warn!(error = %e, "scheduled sweep failed");
                }
            }
            _ = tokio::time::sleep(until_fraud) => {
                fraud_at = fraud::next_daily_run(app.clock.now());
                let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
                // The run logs its own summary line and keeps its record (`--last`).
                if let Err(e) = fraud::run_here(&app, None, parallel, std::sync::Arc::new(|_: &fraud::UnitReport| {})).await {
                    tracing::warn!(error = %e, "scheduled fraud pass failed; the next run covers the same days");
                }
            }
            _ = tokio::time::sleep(until_monthly) => {
                monthly_at = monthly::next_run(app.clock.now());
                let month = monthly::Month::previous(app.clock.now());
                // Never forced: a month final already (run by hand) stays as it is.
                let log = |r: &Result<monthly::Report, monthly::RunError>| {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "scheduled policy-monthly: campaign not finalized");
                    }
                };
                if let Err(e) = monthly::run_all(&app, month, false, &log).await {
                    tracing::warn!(error = %e, %month, "scheduled policy-monthly failed; run it by hand");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// The key in `path`, or a new one written there (mode 0600) when the file does not
/// exist. Two processes racing: `create_new` lets one write; the other reads it.
fn load_or_generate(path: &Path) -> Result<Signer, String> {
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            return Signer::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {e}", path.display()))
        }
        Err(_) => {}
    }
    let (signer, pem) = Signer::generate()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(pem.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(signer)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_generate(path),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}
