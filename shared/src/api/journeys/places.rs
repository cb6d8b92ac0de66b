//! Where a journey's trip starts and ends, as the status route shows it: country, commune,
//! EPCI, département and région of the passenger's start and end (the carpool campaigns
//! pay), from the INSEE code sent or the coordinates resolved (`domain::geo`).

use serde::Serialize;

use crate::domain::country::Country;
use crate::domain::geo::{self, index, Unit};
use crate::domain::journey_v2::{Journey, Place};
use crate::records::journey::JourneyRecord;

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

/// The passenger's start and end.
pub fn trip_ends(journey: &Journey, item: &JourneyRecord) -> (EndView, EndView) {
    let p = &journey.passenger.person;
    (
        end(&p.start.place, item.start_country.as_deref()),
        end(&p.end.place, item.end_country.as_deref()),
    )
}

/// `stored`: the country processing found, if processed.
fn end(place: &Place, stored: Option<&str>) -> EndView {
    let country = match stored {
        Some("FR") => Country::France,
        Some(_) => Country::Abroad,
        None => Country::of(place),
    };
    let commune = geo::commune_of(place);
    let unit = |u: Option<Unit>| u.map(UnitView::from);
    EndView {
        country: country.as_str(),
        commune: commune.map(|c| UnitView {
            code: c.code,
            name: c.name,
        }),
        epci: unit(commune.and_then(|c| c.epci).and_then(index::epci)),
        departement: unit(commune.and_then(|c| index::departement(c.departement))),
        region: unit(commune.and_then(|c| index::region(c.region))),
    }
}
