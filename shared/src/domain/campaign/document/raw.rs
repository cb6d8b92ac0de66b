//! The campaign document as serde reads it: types and unknown fields checked, nothing
//! else (`super::parse` checks the rules).

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignDocument))]
#[serde(deny_unknown_fields)]
pub struct RawCampaign {
    /// 1 to 64 lowercase letters, digits, `-` or `_`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub(super) id: String,
    pub(super) name: String,
    pub(super) territory_name: String,
    #[serde(default)]
    pub(super) territory_id: Option<String>,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) time_zone: String,
    pub(super) territory: RawTerritory,
    #[serde(default)]
    pub(super) operators: Vec<String>,
    #[serde(default)]
    pub(super) operator_classes: Vec<String>,
    #[serde(default)]
    pub(super) operator_windows: Vec<RawWindow>,
    /// `true`: the same as `"age": "adult"`.
    #[serde(default)]
    pub(super) adult_only: bool,
    /// `any` (default), `adult` (`over_18: true` only) or `adult_or_unknown` (not `false`).
    #[serde(default)]
    pub(super) age: Option<String>,
    #[serde(default)]
    pub(super) distance: Option<RawDistance>,
    #[serde(default)]
    pub(super) days: Option<RawDays>,
    #[serde(default)]
    pub(super) exclude_territory: Option<RawTerritory>,
    pub(super) pays: Vec<String>,
    pub(super) amount: RawAmount,
    #[serde(default)]
    pub(super) caps: Vec<RawCap>,
    #[serde(default)]
    pub(super) priority: i32,
    #[serde(default)]
    pub(super) stacking: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignTerritory))]
#[serde(deny_unknown_fields)]
pub struct RawTerritory {
    /// `start`, `end`, `start_or_end` or `start_and_end`; optional only in an exclusion
    /// with `same` (then `start_and_end`).
    #[serde(default)]
    pub(super) rule: Option<String>,
    /// Current INSEE commune codes (`insee` is a synonym).
    #[serde(default)]
    pub(super) com: Vec<String>,
    #[serde(default)]
    pub(super) insee: Vec<String>,
    /// EPCI SIRENs (9 digits).
    #[serde(default)]
    pub(super) epci: Vec<String>,
    /// Département codes (`17`, `2A`, `971`).
    #[serde(default)]
    pub(super) dep: Vec<String>,
    /// Région codes (`75`, `94`, `01`).
    #[serde(default)]
    pub(super) reg: Vec<String>,
    /// A GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection (WGS 84).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub(super) geojson: Option<Value>,
    /// Exclusions only: `com`, `epci`, `dep` or `reg`: excluded when start and end are in
    /// the same unit of that kind (and in the listed units, when some are listed).
    #[serde(default)]
    pub(super) same: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignOperatorWindow))]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub(super) operator: String,
    #[serde(default)]
    pub(super) from: Option<String>,
    #[serde(default)]
    pub(super) until: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignDistance))]
#[serde(deny_unknown_fields)]
pub struct RawDistance {
    #[serde(default)]
    pub(super) min: u32,
    #[serde(default)]
    pub(super) max: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignDays))]
#[serde(deny_unknown_fields)]
pub struct RawDays {
    #[serde(default)]
    pub(super) weekdays: Option<Vec<u8>>,
    #[serde(default)]
    pub(super) exclude: Vec<String>,
    #[serde(default)]
    pub(super) boost: Vec<RawBoost>,
    #[serde(default)]
    pub(super) hours: Vec<RawHours>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignBoost))]
#[serde(deny_unknown_fields)]
pub struct RawBoost {
    pub(super) date: String,
    /// The day's amount multiplied by this (0 to 10, 2 decimals)…
    #[serde(default)]
    pub(super) factor: Option<f64>,
    /// …or this amount rule instead of the campaign's, that day.
    #[serde(default)]
    pub(super) amount: Option<RawAmount>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignHours))]
#[serde(deny_unknown_fields)]
pub struct RawHours {
    pub(super) from: String,
    pub(super) to: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignAmount))]
#[serde(deny_unknown_fields)]
pub struct RawAmount {
    pub(super) mode: String,
    pub(super) bands: Vec<RawBand>,
    #[serde(default)]
    pub(super) per_seat: bool,
    #[serde(default)]
    pub(super) min_per_trip: Option<u64>,
    #[serde(default)]
    pub(super) max_per_trip: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignBand))]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    pub(super) from: u32,
    #[serde(default)]
    pub(super) to: Option<u32>,
    #[serde(default)]
    pub(super) fixed: Option<u32>,
    #[serde(default)]
    pub(super) per_km: Option<f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignCap))]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    pub(super) kind: String,
    #[serde(default)]
    pub(super) per: Option<String>,
    pub(super) max: u64,
    #[serde(default)]
    pub(super) who: Option<String>,
    #[serde(default)]
    pub(super) scope: Option<String>,
}
