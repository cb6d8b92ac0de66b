//! The embedded queue consumer of `registry serve`: receives, runs, acknowledges.
//!
//! Pipelined: it receives the next batch as soon as there is room for it, rather than
//! after the whole previous batch is done. Each task waits for a few group commits of
//! the store's writer; waiting for them batch after batch held processing to ~1 300
//! journeys/s while acceptance ran (issue 17).

use std::time::Duration;

use tokio::task::JoinSet;

use crate::app::App;
use crate::queue::Delivery;

const BATCH: usize = 64;
/// Tasks running at once, at most (a multiple of [`BATCH`]).
const IN_FLIGHT: usize = 8 * BATCH;
const IDLE: Duration = Duration::from_millis(50);

async fn receive(app: &App) -> Vec<Delivery> {
    let visibility = Duration::from_secs(app.config.visibility_secs);
    match app.queue.receive(BATCH, visibility).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "queue receive failed");
            Vec::new()
        }
    }
}

async fn handle(app: App, delivery: Delivery) {
    match super::run(&app, &delivery.body).await {
        Ok(()) => {
            if let Err(e) = app.queue.ack(&delivery.receipt).await {
                tracing::warn!(error = %e, "ack failed; the task will run again (idempotent)");
            }
        }
        Err(e) => tracing::warn!(
            error = %e,
            receive_count = delivery.receive_count,
            "task failed; it will be retried, then dead-lettered"
        ),
    }
}

/// Runs one round: receives one batch, runs it to the end; returns how many messages
/// were handled.
pub async fn run_once(app: &App) -> usize {
    let deliveries = receive(app).await;
    let n = deliveries.len();
    let mut tasks = JoinSet::new();
    for delivery in deliveries {
        tasks.spawn(handle(app.clone(), delivery));
    }
    while tasks.join_next().await.is_some() {}
    n
}

/// Consumes until `stop` resolves, then lets the running tasks finish.
pub async fn run(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    while !*stop.borrow() {
        while tasks.try_join_next().is_some() {}
        if tasks.len() + BATCH > IN_FLIGHT {
            tasks.join_next().await;
            continue;
        }
        let deliveries = receive(&app).await;
        if deliveries.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        for delivery in deliveries {
            tasks.spawn(handle(app.clone(), delivery));
        }
    }
    while tasks.join_next().await.is_some() {}
}
