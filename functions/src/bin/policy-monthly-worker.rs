//! Lambda `policy-monthly-worker` (SQS, the monthly queue): runs one unit of a monthly
//! policy run (a shard of a big campaign, or a campaign's final step) and sends the units
//! it makes ready; failures are reported so SQS delivers the unit again.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_policy_monthly_worker().await
}
