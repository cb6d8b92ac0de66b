//! The journeys service: the cancellation of a journey by its operator. What it takes back
//! (evidence, trip-index entries) is [`JourneyRecord::take_back`], the same writes a
//! processing that lost the race with it takes back.

use crate::app::App;
use crate::campaigns::drafts as incentives;
use crate::domain::journey::CancelReason;
use crate::domain::operator::OperatorId;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::{StoreError, WriteOp, MAX_TRANSACTION_WRITES};

#[derive(Debug, thiserror::Error)]
pub enum JourneyError {
    #[error("journey not found")]
    NotFound,
    /// The journey kept changing during the call.
    #[error("journey busy")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels a journey, its draft incentives and its fraud evidence (a canceled journey is
/// no evidence against others): in one transaction when they fit (the usual case), else
/// the journey with what fits and the remaining drafts right after. Processing between the
/// read and the write (status, drafts: `incentive_rev`) makes the write fail and the whole
/// is read again. Repeating the call finishes an interrupted one. Returns when it was
/// first canceled.
pub async fn cancel(
    app: &App,
    operator: OperatorId,
    journey_id: &str,
    reason: &CancelReason,
    now: &str,
) -> Result<String, JourneyError> {
    let key = keys::journey(operator, journey_id);
    for _ in 0..5 {
        let (journey, drafts) = incentives::journey_with_drafts(app, &key)
            .await?
            .ok_or(JourneyError::NotFound)?;
        let journey = JourneyRecord::from_item(&journey);
        let groups = incentives::cancel_groups(&drafts, now);
        if let Some(canceled_at) = journey.canceled_at {
            finish(app, groups).await?;
            return Ok(canceled_at);
        }
        let mut ops = vec![
            journey.cancel(reason, now),
            // Counted once per journey: only the first cancellation passes the condition.
            WriteOp::Update {
                key: keys::operator_stats(operator),
                update: crate::records::operator::OperatorStats::canceled(),
                condition: None,
            },
        ];
        // Its evidence, and out of the certificates issued from now on (those issued before
        // stay as they are).
        ops.extend(journey.take_back(operator));
        let mut rest = Vec::new();
        for group in groups {
            if rest.is_empty() && ops.len() + group.len() <= MAX_TRANSACTION_WRITES {
                ops.extend(group);
            } else {
                rest.push(group);
            }
        }
        match app.store.transact(ops).await {
            Ok(()) => {
                finish(app, rest).await?;
                return Ok(now.to_owned());
            }
            // Canceled, processed or given drafts meanwhile: read again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(JourneyError::Busy)
}

/// Cancels the remaining drafts of a canceled journey, one campaign at a time.
async fn finish(app: &App, groups: Vec<Vec<WriteOp>>) -> Result<(), StoreError> {
    for ops in groups {
        match app.store.transact(ops).await {
            // Done by a concurrent call.
            Ok(()) | Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
