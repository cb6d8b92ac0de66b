//! A campaign's draft incentives of one month, page by page, with the month's totals.

use serde::Serialize;

use super::{n, CANCELED, DRAFT};
use crate::app::App;
use crate::campaigns::CampaignError;
use crate::domain::campaign::CampaignId;
use crate::domain::error::Detail;
use crate::records::draft::{Draft, IncentiveTotals};
use crate::records::keys;
use crate::store::{Query, SkRange, StoreError};

/// One line of a campaign's incentive listing (draft).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DraftIncentive))]
pub struct Line {
    pub journey_id: String,
    pub operator_id: i64,
    pub operator_journey_id: Option<String>,
    pub role: String,
    pub status: String,
    pub amount: i64,
    pub computed: i64,
    pub capped_by: Option<String>,
    pub start: String,
    pub local_date: String,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = IncentiveTotals))]
pub struct Totals {
    pub count: i64,
    pub amount: i64,
}

/// A page of a campaign's incentives of one month (index order: journey start), with the
/// month's totals for the asked status (all statuses when none).
pub async fn list(
    app: &App,
    id: &CampaignId,
    month: &str,
    status: Option<&str>,
    limit: usize,
    cursor: Option<crate::store::Cursor>,
) -> Result<(Vec<Line>, Totals, Option<crate::store::Cursor>), CampaignError> {
    let from_client = cursor.is_some();
    let page = match app
        .store
        .query(
            Query::index(keys::incentives_index(id, month))
                .range(SkRange::All)
                .limit(limit)
                .after(cursor),
        )
        .await
    {
        Ok(page) => page,
        // The cursor came from the client: one the store cannot read (garbage, or another
        // listing's) is the client's error, not the registry's.
        Err(StoreError::Invalid(_)) if from_client => {
            return Err(CampaignError::Invalid(Detail::new(
                "cursor",
                "is not a cursor of this listing",
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let lines = page
        .items
        .iter()
        .filter_map(Draft::from_item)
        .filter(|d| status.is_none_or(|s| d.status == s))
        .map(|d| Line {
            journey_id: d.journey_id,
            operator_id: n(d.operator.0),
            operator_journey_id: d.operator_journey_id,
            role: d.role,
            status: d.status,
            amount: d.amount,
            computed: d.computed,
            capped_by: d.capped_by,
            start: d.start,
            local_date: d.local_date,
        })
        .collect();
    let t = app
        .store
        .get(&keys::incentive_totals(id, month))
        .await?
        .as_ref()
        .map(IncentiveTotals::from_item)
        .unwrap_or_default();
    let totals = match status {
        Some(DRAFT) => Totals {
            count: t.draft_count,
            amount: t.draft_amount,
        },
        Some(CANCELED) => Totals {
            count: t.canceled_count,
            amount: t.canceled_amount,
        },
        _ => Totals {
            count: t.draft_count + t.canceled_count,
            amount: t.draft_amount + t.canceled_amount,
        },
    };
    Ok((lines, totals, page.next))
}
