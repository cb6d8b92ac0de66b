//! A journey's drafts as the status route shows them.

use serde::Serialize;

use crate::app::App;
use crate::records::draft::Draft;
use crate::records::keys;
use crate::store::{Item, Key, Query, StoreError};

/// A journey item and its drafts, in one strongly consistent query of its partition.
pub async fn journey_with_drafts(
    app: &App,
    key: &Key,
) -> Result<Option<(Item, Vec<Item>)>, StoreError> {
    let mut journey = None;
    let mut drafts = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::partition(key.pk.clone()).limit(100).after(cursor))
            .await?;
        for item in page.items {
            if item.key.sk == key.sk {
                journey = Some(item);
            } else if item.key.sk.starts_with(keys::DRAFT_PREFIX) {
                drafts.push(item);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(journey.map(|j| (j, drafts)))
}

/// An incentive of a journey, as the status route shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = JourneyIncentive))]
pub struct StatusView {
    pub campaign_id: String,
    /// `driver` or `passenger`.
    pub role: String,
    /// Cents.
    pub amount: i64,
    /// `draft` or `canceled` until the campaign's month is final; then the final line's
    /// status (`validated`, `capped`, `canceled`, `not_eligible`, `correction`).
    pub status: String,
    /// The cap that reduced the amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped_by: Option<String>,
    /// Final lines only: the month (campaign's time zone) and its final version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_version: Option<i64>,
    /// Final lines only: why it is canceled, capped or not eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Final lines only: the higher-priority campaign that pays the journey instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
    /// Final correction lines only: the month whose line this corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
}

/// What the status route shows of a journey's incentives (unreadable drafts, never
/// expected, are logged and left out).
pub fn status_view(drafts: &[Item]) -> Vec<StatusView> {
    drafts
        .iter()
        .filter_map(|d| {
            let view = Draft::from_item(d).map(|d| StatusView {
                campaign_id: d.campaign.as_str().to_owned(),
                role: d.role,
                amount: d.amount,
                status: d.status,
                capped_by: d.capped_by,
                month: None,
                final_version: None,
                reason: None,
                paid_by: None,
                corrects: None,
            });
            if view.is_none() {
                tracing::error!(sk = %d.key.sk, "unreadable draft incentive left out");
            }
            view
        })
        .collect()
}
