//! `registry serve`: every route of the routing table on one port, the embedded queue
//! worker, and the first-start bootstrap of a registry admin.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use registry_core::admin;
use registry_core::api::{self, error::ApiError, MAX_BODY_BYTES};
use registry_core::app::App;
use registry_core::jobs::{sweep, worker};
use serde_json::json;

async fn route(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // One byte over the limit is enough to refuse it; never buffer more.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(body) => body,
        Err(e) => {
            let too_large = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let error = if too_large {
                ApiError::payload_too_large(MAX_BODY_BYTES)
            } else {
                ApiError::invalid_field("", "the request body could not be read")
            };
            return error.into_response().map(axum::body::Body::from);
        }
    };
    let response = api::handle(&app, http::Request::from_parts(parts, body), None, None).await;
    response.map(axum::body::Body::from).into_response()
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
        .map_err(|e| format!("bootstrap failed: {}", e.message))?;
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

/// The schedules of template.yaml, in process: the sweeper every 5 minutes.
async fn scheduler(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5 * 60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let delay = chrono::Duration::minutes(sweep::DEFAULT_DELAY_MINUTES);
                if let Err(e) = sweep::sweep(&app, delay).await {
                    tracing::warn!(error = %e, "scheduled sweep failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}
