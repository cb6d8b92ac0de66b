//! Whether a position is in France (SPEC §3, "Normalisation"): from its coordinates, tested
//! against the outline shipped in `shared/data/france.geojson` (OpenStreetMap, territorial
//! waters included, simplified to about 100 m: see `shared/data/README.md`), or, for a position known only by its INSEE code, from the code:
//! `99xxx` codes are foreign countries, every other code is a French commune.

use std::sync::OnceLock;

use serde::Deserialize;

use super::geo::{Area, Point};
use super::journey_v2::{Coordinates, Place};

/// Where a position is, as far as the registry needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Country {
    France,
    Abroad,
}

impl Country {
    /// Stored form: ISO 3166 `FR`, or `XX` for anywhere else.
    pub fn as_str(self) -> &'static str {
        match self {
            Country::France => "FR",
            Country::Abroad => "XX",
        }
    }

    /// Coordinates decide when the operator sent both: they are what the device measured.
    pub fn of(place: &Place) -> Country {
        if let Some(c) = place.coordinates() {
            return Country::at(c);
        }
        match place.insee() {
            Some(code) if code.as_str().starts_with("99") => Country::Abroad,
            _ => Country::France,
        }
    }

    pub fn at(c: Coordinates) -> Country {
        if outline().contains(c.lon(), c.lat()) {
            Country::France
        } else {
            Country::Abroad
        }
    }
}

#[derive(Deserialize)]
struct Feature {
    geometry: MultiPolygon,
}

#[derive(Deserialize)]
struct MultiPolygon {
    coordinates: Vec<Vec<Vec<Point>>>,
}

fn outline() -> &'static Area {
    static OUTLINE: OnceLock<Area> = OnceLock::new();
    OUTLINE.get_or_init(|| {
        let feature: Feature = serde_json::from_str(include_str!("../../data/france.geojson"))
            .expect("shared/data/france.geojson is a GeoJSON MultiPolygon feature (tested)");
        Area::new(feature.geometry.coordinates)
    })
}

/// Loads the outline now rather than on the first journey processed.
pub fn warm() {
    outline();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Country {
        Country::at(Coordinates::new(lat, lon).expect("valid test coordinates"))
    }

    #[test]
    fn cities_inside_france() {
        for (name, lat, lon) in [
            ("Paris", 48.8566, 2.3522),
            ("Lille", 50.6292, 3.0573),
            ("Strasbourg", 48.5734, 7.7521),
            ("Annemasse", 46.1934, 6.2342),
            ("Marseille", 43.2965, 5.3698),
            ("Brest", 48.3904, -4.4861),
            ("Ajaccio", 41.9192, 8.7386),
            ("Bastia", 42.6977, 9.4508),
            ("Nice", 43.7102, 7.2620),
            ("La Rochelle", 46.1603, -1.1511),
            ("Saint-Malo", 48.6493, -2.0257),
            ("Dunkerque", 51.0343, 2.3768),
            ("Menton", 43.7764, 7.5048),
            ("Hendaye", 43.3586, -1.7744),
            ("Saint-Louis (Haut-Rhin)", 47.5900, 7.5600),
            ("Pointe-à-Pitre", 16.2411, -61.5331),
            ("Fort-de-France", 14.6161, -61.0588),
            ("Cayenne", 4.9224, -52.3135),
            ("Saint-Denis (Réunion)", -20.8821, 55.4507),
            ("Mamoudzou", -12.7806, 45.2279),
        ] {
            assert_eq!(at(lat, lon), Country::France, "{name}");
        }
    }

    #[test]
    fn places_abroad() {
        for (name, lat, lon) in [
            ("Geneva", 46.2044, 6.1432),
            ("Kehl", 48.5727, 7.8150),
            ("Brussels", 50.8503, 4.3517),
            ("Monaco", 43.7384, 7.4246),
            ("Barcelona", 41.3874, 2.1686),
            ("Luxembourg", 49.6116, 6.1319),
            ("Basel", 47.5596, 7.5886),
            ("Irun", 43.3390, -1.7894),
            ("Ventimiglia", 43.7903, 7.6080),
            ("Andorra la Vella", 42.5063, 1.5218),
            ("Bay of Biscay", 45.5, -3.0),
            ("London", 51.5072, -0.1276),
            ("Null Island", 0.0, 0.0),
        ] {
            assert_eq!(at(lat, lon), Country::Abroad, "{name}");
        }
    }
}
