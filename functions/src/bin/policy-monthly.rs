//! Lambda `policy-monthly` (EventBridge Scheduler, the 6th at 04:00 Europe/Paris): plans
//! the previous month's policy run and sends one unit per campaign (and per shard of a big
//! campaign) to `policy-monthly-worker`.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_policy_monthly().await
}
