//! Cancelling drafts: the writes that take back what they counted.

use std::collections::BTreeMap;

use super::DRAFT;
use crate::domain::campaign::CampaignId;
use crate::records::draft::{Draft, DraftCounter, IncentiveTotals};
use crate::records::keys;
use crate::store::{Item, Key, WriteOp};

/// The writes that cancel the given drafts (still `draft`) and give back what they counted:
/// grouped per campaign and month, each group complete in itself.
pub fn cancel_groups(drafts: &[Item], now: &str) -> Vec<Vec<WriteOp>> {
    let mut groups: BTreeMap<(CampaignId, String), Vec<Draft>> = BTreeMap::new();
    for d in drafts.iter().filter_map(Draft::from_item) {
        if d.status == DRAFT {
            groups
                .entry((d.campaign.clone(), d.month.clone()))
                .or_default()
                .push(d);
        }
    }
    groups
        .into_iter()
        .map(|((id, month), drafts)| {
            let mut ops = Vec::new();
            let mut deltas: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
            let (mut count, mut cents) = (0i64, 0i64);
            for d in drafts {
                let (update, condition) = Draft::cancel(now);
                ops.push(WriteOp::Update {
                    key: d.key.clone(),
                    update,
                    condition: Some(condition),
                });
                count += 1;
                cents += d.amount;
                for (pk, sk, trips, amount) in d.counted.unwrap_or_default() {
                    let t = deltas.entry((pk, sk)).or_default();
                    t.0 += trips;
                    t.1 += amount;
                }
            }
            for ((pk, sk), (trips, amount)) in deltas {
                ops.push(WriteOp::Update {
                    key: Key::new(pk, sk),
                    update: DraftCounter::add(-trips, -amount),
                    condition: None,
                });
            }
            ops.push(WriteOp::Update {
                key: keys::incentive_totals(&id, &month),
                update: IncentiveTotals::cancel(count, cents),
                condition: None,
            });
            ops
        })
        .collect()
}
