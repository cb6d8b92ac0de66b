//! Lambda `fraud-pass` (EventBridge, daily): records a fraud pass run and sends one queue
//! message per (day, identity-key shard) of the window; the queue consumer runs them.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_fraud_pass().await
}
