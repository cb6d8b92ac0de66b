//! Lambda `sweeper` (EventBridge schedule): re-enqueues journeys still pending after 15 min.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_sweeper().await
}
