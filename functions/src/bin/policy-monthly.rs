//! Lambda `policy-monthly` (EventBridge Scheduler, the 6th at 04:00 Europe/Paris): makes
//! the previous month's incentives final for every campaign.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_policy_monthly().await
}
