//! `POST /v2/campaigns/simulate?from=YYYY-MM&to=YYYY-MM`: what a campaign document would
//! have paid over the stored journeys of those months, without storing it
//! ([`crate::campaigns::simulate`]); JSON, or CSV (one line per month) with
//! `Accept: text/csv`.

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::api::error::{json_response, ApiError};
use crate::api::listing::{csv_response, query_pairs, value, wants_csv};
use crate::api::Ctx;
use crate::app::App;
use crate::campaigns::simulate;
use crate::domain::token::Role;

pub async fn simulate(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let territory = match &principal.role {
        Role::RegistryAdmin => None,
        Role::Territory(own) => Some(own.clone()),
        _ => {
            return Err(ApiError::forbidden(
                "registry admins and territory tokens only",
            ))
        }
    };
    let pairs = query_pairs(&ctx.query)?;
    let months = simulate::months(value(&pairs, "from"), value(&pairs, "to"))?;
    let campaign = simulate::parse(app, &ctx.body).await?;
    if let Some(own) = territory {
        if campaign.territory_id.as_deref() != Some(own.as_str()) {
            return Err(ApiError::forbidden(
                "a territory token simulates the campaigns of its own territory_id only",
            ));
        }
    }
    let result = simulate::simulate(app, campaign, &months).await?;
    if wants_csv(ctx) {
        return csv_response(&simulate::CSV_COLUMNS, result.csv_rows(), &[]);
    }
    Ok(json_response(StatusCode::OK, &result))
}
