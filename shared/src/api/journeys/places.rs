//! Where a journey's trip starts and ends, as the status route shows it: country, commune,
//! EPCI, département and région of the passenger's start and end (the carpool campaigns
//! pay), from the INSEE code sent or the coordinates resolved at acceptance (the facts).

use serde::Serialize;

use crate::domain::facts::{End, Facts};
use crate::domain::geo::{index, Unit};

/// One end of the trip. Units are absent where the position is in none (abroad, at sea,
/// an overseas collectivity without outlines, a commune in no EPCI).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndView {
    /// `FR`, or `XX` for anywhere else.
    pub country: &'static str,
    pub commune: Option<UnitView>,
    pub epci: Option<UnitView>,
    pub departement: Option<UnitView>,
    pub region: Option<UnitView>,
}

/// A commune (current INSEE code), an EPCI (SIREN), a département or a région.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitView {
    pub code: &'static str,
    pub name: &'static str,
}

impl From<Unit> for UnitView {
    fn from(u: Unit) -> UnitView {
        UnitView {
            code: u.code,
            name: u.name,
        }
    }
}

/// The passenger's start and end, as normalised at acceptance.
pub fn trip_ends(facts: &Facts) -> (EndView, EndView) {
    let p = &facts.passenger;
    (end(&p.start), end(&p.end))
}

fn end(end: &End) -> EndView {
    let commune = end.commune;
    let unit = |u: Option<Unit>| u.map(UnitView::from);
    EndView {
        country: end.country.as_str(),
        commune: commune.map(|c| UnitView {
            code: c.code,
            name: c.name,
        }),
        epci: unit(commune.and_then(|c| c.epci).and_then(index::epci)),
        departement: unit(commune.and_then(|c| index::departement(c.departement))),
        region: unit(commune.and_then(|c| index::region(c.region))),
    }
}
