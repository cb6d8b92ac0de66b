//! The amount (bands, boosts) and the caps of a campaign document.

use super::*;

/// An amount rule at `path` (`/amount`, or a boost day's).
pub(super) fn amount(e: &mut Errors, raw: &RawAmount, path: &str) -> Option<Amount> {
    let mode = e.one_of(
        &raw.mode,
        &format!("{path}/mode"),
        &[
            ("first_matching_band", Mode::FirstMatchingBand),
            ("sum_of_bands", Mode::SumOfBands),
        ],
    );
    if raw.bands.is_empty() || raw.bands.len() > MAX_BANDS {
        e.add(
            format!("{path}/bands"),
            format!("must have 1 to {MAX_BANDS} bands"),
        );
    }
    let bands: Vec<Band> = raw
        .bands
        .iter()
        .enumerate()
        .map(|(i, b)| band(e, b, &format!("{path}/bands/{i}")))
        .collect();
    if mode == Some(Mode::FirstMatchingBand) {
        disjoint(e, &bands, path);
    }
    if let (Some(min), Some(max)) = (raw.min_per_trip, raw.max_per_trip) {
        if max < min {
            e.add(
                format!("{path}/max_per_trip"),
                "must be at least min_per_trip",
            );
        }
    }
    Some(Amount {
        mode: mode?,
        bands,
        per_seat: raw.per_seat,
        min_per_trip: raw.min_per_trip,
        max_per_trip: raw.max_per_trip,
    })
}

/// One distance band at `at`.
fn band(e: &mut Errors, b: &RawBand, at: &str) -> Band {
    if b.to.is_some_and(|to| to <= b.from) {
        e.add(
            format!("{at}/to"),
            "must be greater than from ([from, to) metres)",
        );
    }
    if b.fixed.is_none() && b.per_km.is_none() {
        e.add(at, "needs fixed, per_km or both");
    }
    if b.fixed.is_some_and(|f| f > 1_000_000) {
        e.add(format!("{at}/fixed"), "must be at most 1 000 000 cents");
    }
    let mut per_km_millicents = 0;
    if let Some(per_km) = b.per_km {
        let millis = (per_km * 1000.0).round();
        if !(0.0..=100_000.0).contains(&per_km) || (millis / 1000.0 - per_km).abs() > 1e-9 {
            e.add(
                format!("{at}/per_km"),
                "must be 0 to 100 000 cents per km, with at most 3 decimals",
            );
        } else {
            per_km_millicents = millis as u32;
        }
    }
    Band {
        from: b.from,
        to: b.to,
        fixed: b.fixed.unwrap_or(0),
        per_km_millicents,
    }
}

/// `first_matching_band`: one band per distance. Sorted by start, each band must end
/// before the next starts.
fn disjoint(e: &mut Errors, bands: &[Band], path: &str) {
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by_key(|&i| bands[i].from);
    for pair in order.windows(2) {
        let (a, b) = (&bands[pair[0]], &bands[pair[1]]);
        if a.to.is_none_or(|to| to > b.from) {
            e.add(
                format!("{path}/bands/{}", pair[1]),
                format!(
                    "overlaps band {} ([{}, {}) metres); first_matching_band needs disjoint bands",
                    pair[0],
                    a.from,
                    a.to.map_or("∞".to_owned(), |t| t.to_string())
                ),
            );
        }
    }
}

pub(super) fn caps(e: &mut Errors, raw: &[RawCap]) -> Vec<(usize, Cap)> {
    if raw.len() > MAX_CAPS {
        e.add("/caps", format!("at most {MAX_CAPS} caps"));
    }
    let mut out = Vec::new();
    let mut seen_single = BTreeSet::new();
    for (i, c) in raw.iter().enumerate() {
        let at = format!("/caps/{i}");
        if let Some(cap) = cap(e, c, &at) {
            if matches!(cap, Cap::SeatsPerTrip { .. } | Cap::Budget { .. })
                && !seen_single.insert(cap.rank())
            {
                e.add(format!("{at}/kind"), format!("at most one {} cap", c.kind));
            }
            out.push((i, cap));
        }
    }
    out.sort_by_key(|(_, cap)| cap.rank());
    out
}

/// One cap, at `at`.
fn cap(e: &mut Errors, c: &RawCap, at: &str) -> Option<Cap> {
    if c.max == 0 {
        e.add(format!("{at}/max"), "must be at least 1");
    }
    match c.kind.as_str() {
        "seats_per_trip" => {
            fixed_cap(e, c, at);
            if c.max > 8 {
                e.add(format!("{at}/max"), "a journey has at most 8 seats");
            }
            Some(Cap::SeatsPerTrip {
                max: c.max.min(8) as u8,
            })
        }
        "trips" | "amount" => {
            let (per, who, scope) = (per(e, c, at), who(e, c, at), scope(e, c, at));
            match (per, who, scope) {
                (Some(per), Some(who), Some(scope)) if c.kind == "trips" => Some(Cap::Trips {
                    per,
                    max: c.max,
                    who,
                    scope,
                }),
                (Some(per), Some(who), Some(scope)) => Some(Cap::Amount {
                    per,
                    max: c.max,
                    who,
                    scope,
                }),
                _ => None,
            }
        }
        "seats_per_ride" => {
            for (field, present) in [("who", c.who.is_some()), ("scope", c.scope.is_some())] {
                if present {
                    e.add(
                        format!("{at}/{field}"),
                        "does not apply to a seats_per_ride cap",
                    );
                }
            }
            let per = match c.per {
                None => Some(Period::Day),
                Some(_) => per(e, c, at),
            };
            per.map(|per| Cap::SeatsPerRide { per, max: c.max })
        }
        "budget" => {
            fixed_cap(e, c, at);
            Some(Cap::Budget { max: c.max })
        }
        other => {
            e.add(
                format!("{at}/kind"),
                format!(
                    "unknown cap kind {other:?} (expected seats_per_trip, seats_per_ride, trips, amount, budget)"
                ),
            );
            None
        }
    }
}

/// A cap of a kind that has no period, person nor scope: each given is an error.
fn fixed_cap(e: &mut Errors, c: &RawCap, at: &str) {
    for (field, present) in [
        ("per", c.per.is_some()),
        ("who", c.who.is_some()),
        ("scope", c.scope.is_some()),
    ] {
        if present {
            e.add(
                format!("{at}/{field}"),
                format!("does not apply to a {} cap", c.kind),
            );
        }
    }
}

fn per(e: &mut Errors, c: &RawCap, at: &str) -> Option<Period> {
    let periods = [
        ("day", Period::Day),
        ("month", Period::Month),
        ("year", Period::Year),
        ("campaign", Period::Campaign),
    ];
    match c.per.as_deref() {
        Some(p) => e.one_of(p, &format!("{at}/per"), &periods),
        None => {
            e.add(
                format!("{at}/per"),
                "is required: day, month, year or campaign",
            );
            None
        }
    }
}

fn who(e: &mut Errors, c: &RawCap, at: &str) -> Option<Option<PaidRole>> {
    match c.who.as_deref() {
        None => Some(None),
        Some(_) if c.scope.as_deref() == Some("campaign") => {
            e.add(format!("{at}/who"), "does not apply to a campaign-wide cap");
            None
        }
        Some(w) => e
            .one_of(
                w,
                &format!("{at}/who"),
                &[
                    ("driver", PaidRole::Driver),
                    ("passenger", PaidRole::Passenger),
                ],
            )
            .map(Some),
    }
}

fn scope(e: &mut Errors, c: &RawCap, at: &str) -> Option<Scope> {
    let scopes = [
        ("person", Scope::Person),
        ("operator_person", Scope::OperatorPerson),
        ("campaign", Scope::Campaign),
    ];
    match c.scope.as_deref() {
        None => Some(Scope::Person),
        Some(s) => e.one_of(s, &format!("{at}/scope"), &scopes),
    }
}
