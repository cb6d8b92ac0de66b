//! The embedded queue consumer of `registry serve`: receives, runs, acknowledges.

use std::time::Duration;

use tokio::task::JoinSet;

use crate::app::App;

const BATCH: usize = 64;
const IDLE: Duration = Duration::from_millis(50);

/// Runs one round: returns how many messages were handled.
pub async fn run_once(app: &App) -> usize {
    let visibility = Duration::from_secs(app.config.visibility_secs);
    let deliveries = match app.queue.receive(BATCH, visibility).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "queue receive failed");
            return 0;
        }
    };
    let n = deliveries.len();
    let mut tasks = JoinSet::new();
    for delivery in deliveries {
        let app = app.clone();
        tasks.spawn(async move {
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
        });
    }
    while tasks.join_next().await.is_some() {}
    n
}

/// Consumes until `stop` resolves.
pub async fn run(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        if run_once(&app).await == 0 {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
