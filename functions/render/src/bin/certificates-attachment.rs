//! Lambda `certificates-attachment`: renders a certificate as PDF or PNG. The only function
//! built with the renderer (see functions/render/Cargo.toml).

#[tokio::main]
async fn main() -> Result<(), registry_core::lambda::Error> {
    registry_core::lambda::run_http(registry_core::api::router::RouteId::CertificatesAttachment)
        .await
}
