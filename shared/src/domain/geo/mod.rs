//! Geography: GeoJSON areas and point in polygon ([`area`]: France's outline, campaign
//! polygons) and French communes with their EPCI, département and région, from coordinates
//! or INSEE codes ([`index`]).

pub mod area;
pub mod index;

pub use area::{parse_geojson, Area, Point, MAX_VERTICES};
pub use index::{Commune, Index, Unit};

use super::journey_v2::Place;

/// The current commune of a journey's position: its INSEE code as sent (the operator's
/// word, checked to exist at acceptance), else its coordinates resolved.
pub fn commune_of(place: &Place) -> Option<Commune> {
    match (place.insee(), place.coordinates()) {
        (Some(code), _) => index::commune(code.as_str()),
        (None, Some(c)) => Index::get().resolve(c.lat(), c.lon()),
        (None, None) => None,
    }
}
