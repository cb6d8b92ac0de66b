//! Lambda `queue-consumer`: runs the tasks of the SQS work queue, reporting partial failures.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_queue_consumer().await
}
