//! The stored draft of one incentive of a trip.

use super::{n, DRAFT};
use crate::clock::rfc3339;
use crate::domain::campaign::counters::PersonKey;
use crate::domain::campaign::engine::{self, Outcome, Trip};
use crate::domain::campaign::Campaign;
use crate::domain::operator::OperatorId;
use crate::records::draft::{Counted, Draft};
use crate::records::keys;

/// The draft of one incentive of a trip (`i`, from evaluating `campaign`): what the
/// status route, the listings and the monthly run read.
#[allow(clippy::too_many_arguments)]
pub fn draft(
    campaign: &Campaign,
    operator: OperatorId,
    journey_id: &str,
    operator_journey_id: Option<&str>,
    trip: &Trip<'_>,
    local_date: chrono::NaiveDate,
    i: &engine::Incentive,
    now: &str,
) -> Draft {
    let counted: Vec<Counted> = i
        .counted
        .iter()
        .map(|(k, d)| {
            let (holder, rest) = k.storage();
            let store_key = keys::draft_counter(&campaign.id, &holder, &rest);
            (store_key.pk, store_key.sk, n(d.trips), n(d.amount))
        })
        .collect();
    let (capped_by, cap_index) = match i.outcome {
        Outcome::Capped { cap, label } => (Some(label.to_owned()), Some(n(cap as u64))),
        _ => (None, None),
    };
    Draft {
        key: keys::draft_incentive(operator, journey_id, &campaign.id, i.role.as_str()),
        campaign: campaign.id.clone(),
        journey_id: journey_id.to_owned(),
        operator,
        operator_journey_id: operator_journey_id.map(str::to_owned),
        role: i.role.as_str().to_owned(),
        person_key: trip_person(trip, i.role)
            .map(PersonKey::to_hex)
            .unwrap_or_default(),
        amount: n(i.amount),
        computed: n(i.computed),
        status: DRAFT.to_owned(),
        start: rfc3339(trip.start),
        local_date: local_date.format("%Y-%m-%d").to_string(),
        month: local_date.format("%Y-%m").to_string(),
        counted: Some(counted),
        created_at: now.to_owned(),
        capped_by,
        cap_index,
        canceled_at: None,
    }
}

fn trip_person(trip: &Trip, role: crate::domain::campaign::PaidRole) -> Option<PersonKey> {
    match role {
        crate::domain::campaign::PaidRole::Driver => trip.driver,
        crate::domain::campaign::PaidRole::Passenger => trip.passenger,
    }
}
