//! Lambda `campaigns-simulate`: one route of the routing table, served by the core handler.

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_http(registry_core::api::router::RouteId::CampaignsSimulate).await
}
