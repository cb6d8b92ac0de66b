//! What the campaign benchmarks' seeds share (`policy-monthly`, `campaign-simulate`): a
//! grid of cities with their people, the trips drawn in it, a trip's journey item as
//! acceptance and processing store it, and the seed kept in (and reused from) the `--data`
//! file, so that only the run is timed.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use registry_core::app::App;
use registry_core::clock::rfc3339;
use registry_core::config::Config;
use registry_core::domain::facts::Facts;
use registry_core::domain::journey::{pack_document, JourneyStatus};
use registry_core::domain::operator::OperatorId;
use registry_core::records::journey::{facts_attribute, JourneyRecord};
use registry_core::records::keys;
use registry_core::store::sqlite::SqliteStore;
use registry_core::store::{Item, Key};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::bench::{person_key, Rng};

/// Drivers and passengers of each city (people `city × 100 000 + n`, passengers from
/// 50 000).
const DRIVERS_PER_CITY: u64 = 8_000;
const PASSENGERS_PER_CITY: u64 = 16_000;

/// Cities five a row; city `k`'s rectangle (0.5° of latitude × 0.6° of longitude) has its
/// south-west corner at [`Grid::corner`].
pub(crate) struct Grid {
    pub south: f64,
    pub west: f64,
    /// Degrees between rows (latitude) and columns (longitude).
    pub row_step: f64,
    pub column_step: f64,
}

impl Grid {
    pub fn corner(&self, k: u64) -> (f64, f64) {
        (
            self.south + (k / 5) as f64 * self.row_step,
            self.west + (k % 5) as f64 * self.column_step,
        )
    }

    /// The GeoJSON rectangle around cities `from..=to` of one row, `margin` degrees wider
    /// on every side.
    pub fn rect(&self, from: u64, to: u64, margin: f64) -> Value {
        let (lat0, lon0) = self.corner(from);
        let (_, lon1) = self.corner(to);
        let (lat0, lon0, lat1, lon1) = (
            lat0 - margin,
            lon0 - margin,
            lat0 + (0.5 + margin),
            lon1 + (0.6 + margin),
        );
        json!({"type": "Polygon", "coordinates": [[
            [lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]})
    }

    /// A trip in `city` starting at `start`, drawn from `rng` in this order: its driver,
    /// its passenger, its length (2 km plus up to `spread_km`, mostly short), its origin in
    /// the city and its direction. One seat, class C, unnamed: the caller sets the rest.
    pub fn trip(
        &self,
        rng: &mut Rng,
        city: u64,
        operator: OperatorId,
        spread_km: f64,
        start: DateTime<Utc>,
    ) -> TripSpec {
        let driver = city * 100_000 + rng.below(DRIVERS_PER_CITY);
        let passenger = city * 100_000 + 50_000 + rng.below(PASSENGERS_PER_CITY);
        let km = 2.0 + spread_km * rng.unit().powi(2);
        let (lat0, lon0) = self.corner(city);
        let from = (lat0 + 0.5 * rng.unit(), lon0 + 0.6 * rng.unit());
        let angle = std::f64::consts::TAU * rng.unit();
        TripSpec {
            journey_id: String::new(),
            operator_journey_id: String::new(),
            class: "C",
            operator,
            passenger,
            driver,
            seats: 1,
            start,
            from,
            km,
            angle,
        }
    }
}

/// A seeded journey's status: 2 % canceled, 2 % fraud, the rest ok.
pub(crate) fn status(rng: &mut Rng) -> &'static str {
    match rng.below(100) {
        0 | 1 => "canceled",
        2 | 3 => "fraud_error",
        _ => "ok",
    }
}

/// A seeded trip: who, when, from where, how far and in which direction;
/// [`TripSpec::document`] is its journey v2 document, [`TripSpec::record`] its item.
pub(crate) struct TripSpec {
    pub journey_id: String,
    pub operator_journey_id: String,
    pub class: &'static str,
    pub operator: OperatorId,
    pub passenger: u64,
    pub driver: u64,
    pub seats: u64,
    pub start: DateTime<Utc>,
    pub from: (f64, f64),
    pub km: f64,
    /// Radians, from north.
    pub angle: f64,
}

impl TripSpec {
    /// The trip's end instant (1.5 min per km, plus 5).
    pub fn end(&self) -> DateTime<Utc> {
        self.start + TimeDelta::minutes(self.minutes())
    }

    fn minutes(&self) -> i64 {
        (self.km * 1.5).round() as i64 + 5
    }

    /// When it was accepted (10 minutes after its end) and processed (11).
    pub fn created_processed(&self) -> (String, String) {
        let end = self.end();
        (
            rfc3339(end + TimeDelta::minutes(10)),
            rfc3339(end + TimeDelta::minutes(11)),
        )
    }

    /// The journey v2 document (declared distance: 1.2 × the straight line).
    pub fn document(&self) -> String {
        let (lat, lon) = self.from;
        let to_lat = lat + self.km * self.angle.cos() / 111.0;
        let to_lon = lon + self.km * self.angle.sin() / (111.0 * lat.to_radians().cos());
        let (end, minutes, km) = (self.end(), self.minutes(), self.km);
        let distance = (km * 1200.0).round() as u64;
        let place = |at: DateTime<Utc>, lat: f64, lon: f64| json!({"datetime": rfc3339(at), "lat": (lat * 1e6).round() / 1e6, "lon": (lon * 1e6).round() / 1e6});
        json!({
            "journey_id": self.journey_id,
            "operator_journey_id": self.operator_journey_id,
            "operator_class": self.class,
            "passenger": {
                "identity": {"phone": format!("+336{:08}", self.passenger), "over_18": true},
                "start": place(self.start, lat, lon), "end": place(end, to_lat, to_lon),
                "seats": self.seats, "contribution": 200 + 10 * km as u64,
                "incentives": [], "payments": [], "distance": distance, "duration": minutes * 60
            },
            "driver": {
                "identity": {"phone": format!("+3377{:07}", self.driver)},
                "start": place(self.start, lat, lon), "end": place(end, to_lat, to_lon),
                "revenue": 150 + 8 * km as u64, "incentives": [],
                "distance": distance, "duration": minutes * 60
            }
        })
        .to_string()
    }

    /// Its journey item as acceptance then processing store it (`doc`: its document,
    /// `parsed` that document parsed): status, identity keys, start instants, the document
    /// deflated and its facts (what the monthly run and the simulation read).
    pub fn record(&self, doc: &str, facts: Option<&Facts>, status: &str) -> JourneyRecord {
        let (created, processed) = self.created_processed();
        let start = rfc3339(self.start);
        let key = keys::journey(self.operator, &self.journey_id);
        let mut r = JourneyRecord::from_item(&Item::new(key));
        r.operator = Some(self.operator);
        r.journey_id = Some(self.journey_id.clone());
        r.operator_journey_id = Some(self.operator_journey_id.clone());
        r.status = JourneyStatus::parse(status);
        r.created_at = Some(created);
        r.updated_at = Some(processed);
        r.packed_document = Some(pack_document(doc.as_bytes()));
        r.doc_hash = Some(hex::encode(Sha256::digest(doc.as_bytes())));
        r.passenger.key = Some(person_key(self.passenger));
        r.driver.key = Some(person_key(self.driver));
        r.passenger.start = Some(start.clone());
        r.driver.start = Some(start);
        r.facts = facts.map(|f| facts_attribute(f).1);
        r
    }
}

/// The `--data` store of a benchmark with a seed.
pub(crate) struct SeedStore {
    pub app: App,
    pub store: SqliteStore,
    path: PathBuf,
    /// The file did not exist before: a seed may be written into it.
    fresh: bool,
}

/// What a seed wrote: the counts kept on its marker beside `journeys`, and a summary for
/// the log (`seeded {summary} in … s`).
pub(crate) struct Seeded {
    pub counts: Vec<(&'static str, i64)>,
    pub summary: String,
}

impl SeedStore {
    pub fn open(config: Config) -> Result<SeedStore, String> {
        let path = config.db_path.clone();
        let fresh = !Path::new(&path).exists();
        let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
        let queue = store.queue(config.max_receives);
        let app = App::new(Arc::new(store.clone()), Arc::new(queue), config);
        Ok(SeedStore {
            app,
            store,
            path,
            fresh,
        })
    }

    /// Benchmark `bench`'s seed of `journeys` journeys: written by `seed` when the file is
    /// new, reused when it holds one of that size; the seconds seeding took, when it did.
    pub async fn ensure<F, Fut>(
        &self,
        bench: &str,
        journeys: u64,
        seed: F,
    ) -> Result<Option<f64>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Seeded, String>>,
    {
        let marker_key = Key::new(format!("BENCH#{bench}"), "SEED");
        let marker = self
            .app
            .store
            .get(&marker_key)
            .await
            .map_err(|e| e.to_string())?;
        let path = self.path.display();
        match marker {
            Some(marker) if marker.n("journeys") == Some(journeys as i64) => {
                eprintln!("reusing the seed in {path}");
                Ok(None)
            }
            Some(marker) => Err(format!(
                "{path} holds a seed of {:?} journeys, not {journeys}: pick another --data",
                marker.n("journeys")
            )),
            None if !self.fresh => Err(format!(
                "{path} exists without a complete seed: remove it or pick another --data"
            )),
            None => {
                let started = Instant::now();
                let seeded = seed().await?;
                let mut marker = Item::new(marker_key).with("journeys", journeys as i64);
                for (name, n) in seeded.counts {
                    marker = marker.with(name, n);
                }
                self.app
                    .store
                    .put(marker, None)
                    .await
                    .map_err(|e| e.to_string())?;
                let secs = started.elapsed().as_secs_f64();
                eprintln!("seeded {} in {secs:.1} s", seeded.summary);
                Ok(Some(secs))
            }
        }
    }
}
