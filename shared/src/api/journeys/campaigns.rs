//! Which campaigns were active on a journey's date and whether each pays it, as the status
//! route shows it (issue 18, "reasons are visible"). Eligibility is recomputed on read with
//! the engine (a pure function of the campaign and the journey); what the caps did comes
//! from the journey's drafts or final lines.

use serde::Serialize;

use crate::app::App;
use crate::campaigns::drafts::StatusView;
use crate::campaigns::Sirets;
use crate::domain::campaign::engine::{assess, Trip};
use crate::domain::facts::Facts;
use crate::domain::operator::OperatorId;
use crate::store::StoreResult;

/// One campaign active on the journey's date (its time zone).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignCheck {
    pub campaign_id: String,
    /// Whether it pays the journey (some incentive above 0); `null` while the journey is
    /// not processed yet.
    pub pays: Option<bool>,
    /// When it does not pay: `operator_not_eligible`, `operator_class_not_eligible`,
    /// `passenger_not_adult`, `distance_out_of_range`, `outside_territory`,
    /// `excluded_territory`, … (the engine's reasons), `capped` (with `capped_by`), or
    /// `no_incentive` (eligible, and no incentive: another campaign paid it instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped_by: Option<String>,
}

/// The campaigns whose dates contain the journey's, each with its answer.
pub async fn checks(
    app: &App,
    operator: OperatorId,
    facts: &Facts,
    processed: bool,
    incentives: &[StatusView],
) -> StoreResult<Vec<CampaignCheck>> {
    let campaigns = crate::campaigns::all(app).await?;
    let sirets = Sirets::for_campaigns(campaigns.iter().map(|c| c.as_ref()));
    let siret = sirets.of(app, operator).await?;
    let trip = Trip::from_facts(facts, operator, siret.as_deref(), None, None);
    let mut out = Vec::new();
    for c in campaigns.iter() {
        let date = trip.start.with_timezone(&c.time_zone).date_naive();
        if date < c.start || date > c.end {
            continue;
        }
        let id = c.id.to_string();
        let own: Vec<&StatusView> = incentives.iter().filter(|i| i.campaign_id == id).collect();
        let (pays, reason, capped_by) = match assess(c, &trip) {
            Err(reason) => (Some(false), Some(reason.as_str().to_owned()), None),
            Ok(_) if own.iter().any(|i| i.amount > 0) => (Some(true), None, None),
            Ok(_) if !processed => (None, None, None),
            Ok(_) => match own.iter().find_map(|i| i.capped_by.clone()) {
                Some(cap) => (Some(false), Some("capped".to_owned()), Some(cap)),
                None => {
                    let reason = own.iter().find_map(|i| i.reason.clone());
                    (
                        Some(false),
                        Some(reason.unwrap_or("no_incentive".into())),
                        None,
                    )
                }
            },
        };
        out.push(CampaignCheck {
            campaign_id: id,
            pays,
            reason,
            capped_by,
        });
    }
    Ok(out)
}
