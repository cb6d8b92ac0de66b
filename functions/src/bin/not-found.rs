//! Lambda `not-found`: API Gateway's `$default` route, JSON 404/405 for what no route takes.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_not_found().await
}
