//! Point in polygon for GeoJSON areas: France's outline (`country`) and campaign territories
//! (`campaign`). Even-odd ray casting over every ring of a polygon (a point in a hole crosses
//! the outer ring and the hole), behind the polygon's bounding box and a horizontal slab
//! index: only the edges that span the point's latitude band are tested, so a 2 000-vertex
//! city costs a few dozen edge tests instead of 2 000.

use serde_json::Value;

/// Longitude, latitude (GeoJSON order).
pub type Point = [f64; 2];

/// Positions in the index bands: one band per this many edges (bounded below).
const EDGES_PER_BAND: usize = 4;
const MAX_BANDS: usize = 4096;

/// One polygon: an outer ring and its holes, with the edges indexed by latitude band.
#[derive(Clone, Debug)]
struct Polygon {
    /// min lon, min lat, max lon, max lat of every ring.
    bbox: [f64; 4],
    /// Band `b` covers latitudes `bbox[1] + b / scale ..`; its edges are
    /// `edges[starts[b]..starts[b + 1]]` (an edge is copied into every band it spans).
    scale: f64,
    starts: Vec<u32>,
    edges: Vec<[f64; 4]>,
}

/// A set of polygons (a GeoJSON Polygon or MultiPolygon, or a union of them).
#[derive(Clone, Debug, Default)]
pub struct Area {
    polygons: Vec<Polygon>,
    vertices: usize,
}

impl Area {
    /// Polygons as GeoJSON coordinates: each a list of rings, each ring a closed list of
    /// positions. Rings must be valid (see [`parse_geojson`]); this only indexes them.
    pub fn new(polygons: Vec<Vec<Vec<Point>>>) -> Area {
        let vertices = polygons.iter().flatten().map(Vec::len).sum();
        Area {
            polygons: polygons.iter().map(|rings| Polygon::new(rings)).collect(),
            vertices,
        }
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygons.iter().any(|p| p.contains(lon, lat))
    }

    /// Positions in all rings (closing positions included).
    pub fn vertices(&self) -> usize {
        self.vertices
    }
}

impl Polygon {
    fn new(rings: &[Vec<Point>]) -> Polygon {
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for &[lon, lat] in rings.iter().flatten() {
            bbox = [
                bbox[0].min(lon),
                bbox[1].min(lat),
                bbox[2].max(lon),
                bbox[3].max(lat),
            ];
        }
        let all: Vec<[f64; 4]> = rings
            .iter()
            .flat_map(|ring| {
                // Each position with the one before it, the first with the last (the
                // closing position repeats the first, which only adds an empty edge).
                let n = ring.len();
                (0..n).map(move |i| {
                    let [xi, yi] = ring[i];
                    let [xj, yj] = ring[(i + n - 1) % n];
                    [xi, yi, xj, yj]
                })
            })
            .collect();
        let bands = (all.len() / EDGES_PER_BAND).clamp(1, MAX_BANDS);
        let height = bbox[3] - bbox[1];
        let scale = if height > 0.0 {
            bands as f64 / height
        } else {
            0.0
        };
        let band = |lat: f64| -> usize {
            // Monotonic in `lat`: an edge spanning `lat` spans its band.
            (((lat - bbox[1]) * scale) as usize).min(bands - 1)
        };
        let mut per_band: Vec<Vec<[f64; 4]>> = vec![Vec::new(); bands];
        for edge in &all {
            let (lo, hi) = (edge[1].min(edge[3]), edge[1].max(edge[3]));
            for b in per_band.iter_mut().take(band(hi) + 1).skip(band(lo)) {
                b.push(*edge);
            }
        }
        let mut starts = Vec::with_capacity(bands + 1);
        let mut edges = Vec::new();
        for b in per_band {
            starts.push(edges.len() as u32);
            edges.extend(b);
        }
        starts.push(edges.len() as u32);
        Polygon {
            bbox,
            scale,
            starts,
            edges,
        }
    }

    fn contains(&self, lon: f64, lat: f64) -> bool {
        let [x0, y0, x1, y1] = self.bbox;
        if !((x0..=x1).contains(&lon) && (y0..=y1).contains(&lat)) {
            return false;
        }
        let bands = self.starts.len() - 1;
        let b = (((lat - y0) * self.scale) as usize).min(bands - 1);
        let edges = &self.edges[self.starts[b] as usize..self.starts[b + 1] as usize];
        // Ray casting towards +lon: an odd number of crossings is inside.
        let mut inside = false;
        for &[xi, yi, xj, yj] in edges {
            if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                inside = !inside;
            }
        }
        inside
    }
}

/// Most positions accepted in one GeoJSON area (a French region is ~50 000 once simplified).
pub const MAX_VERTICES: usize = 200_000;

/// A GeoJSON `Polygon`, `MultiPolygon`, `Feature` of one of them, or `FeatureCollection` of
/// such features (their union). Each problem is reported with its JSON pointer under `path`.
pub fn parse_geojson(value: &Value, path: &str) -> Result<Area, Vec<(String, String)>> {
    let mut polygons = Vec::new();
    let mut errors = Vec::new();
    collect(value, path, &mut polygons, &mut errors);
    let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
    if errors.is_empty() && polygons.is_empty() {
        errors.push((path.to_owned(), "contains no polygon".to_owned()));
    }
    if vertices > MAX_VERTICES {
        errors.push((
            path.to_owned(),
            format!("has {vertices} positions (at most {MAX_VERTICES})"),
        ));
    }
    if errors.is_empty() {
        Ok(Area::new(polygons))
    } else {
        Err(errors)
    }
}

fn collect(
    value: &Value,
    path: &str,
    polygons: &mut Vec<Vec<Vec<Point>>>,
    errors: &mut Vec<(String, String)>,
) {
    let mut fail = |p: String, r: &str| errors.push((p, r.to_owned()));
    let Some(object) = value.as_object() else {
        return fail(path.to_owned(), "must be a GeoJSON object");
    };
    let kind = object.get("type").and_then(Value::as_str);
    match kind {
        Some("FeatureCollection") => match object.get("features").and_then(Value::as_array) {
            Some(features) => {
                for (i, f) in features.iter().enumerate() {
                    collect(f, &format!("{path}/features/{i}"), polygons, errors);
                }
            }
            None => fail(format!("{path}/features"), "must be an array of features"),
        },
        Some("Feature") => match object.get("geometry") {
            Some(g) => collect(g, &format!("{path}/geometry"), polygons, errors),
            None => fail(format!("{path}/geometry"), "is required"),
        },
        Some("Polygon") => {
            let at = format!("{path}/coordinates");
            if let Some(rings) = rings(object.get("coordinates"), &at, errors) {
                polygons.push(rings);
            }
        }
        Some("MultiPolygon") => {
            let at = format!("{path}/coordinates");
            match object.get("coordinates").and_then(Value::as_array) {
                Some(list) if !list.is_empty() => {
                    for (i, p) in list.iter().enumerate() {
                        if let Some(rings) = rings(Some(p), &format!("{at}/{i}"), errors) {
                            polygons.push(rings);
                        }
                    }
                }
                _ => fail(at, "must be a non-empty array of polygons"),
            }
        }
        _ => fail(
            format!("{path}/type"),
            "must be Polygon, MultiPolygon, Feature or FeatureCollection",
        ),
    }
}

fn rings(
    value: Option<&Value>,
    path: &str,
    errors: &mut Vec<(String, String)>,
) -> Option<Vec<Vec<Point>>> {
    let Some(list) = value.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        errors.push((
            path.to_owned(),
            "must be a non-empty array of linear rings".to_owned(),
        ));
        return None;
    };
    let before = errors.len();
    let mut out = Vec::with_capacity(list.len());
    for (r, ring) in list.iter().enumerate() {
        let at = format!("{path}/{r}");
        let Some(positions) = ring.as_array() else {
            errors.push((at, "must be an array of positions".to_owned()));
            continue;
        };
        let mut points = Vec::with_capacity(positions.len());
        for (i, p) in positions.iter().enumerate() {
            match position(p) {
                Some(point) => points.push(point),
                None => errors.push((
                    format!("{at}/{i}"),
                    "must be [longitude -180..180, latitude -90..90]".to_owned(),
                )),
            }
        }
        if points.len() != positions.len() {
            continue;
        }
        if points.len() < 4 {
            errors.push((at, "a linear ring has at least 4 positions".to_owned()));
        } else if points.first() != points.last() {
            errors.push((at, "a linear ring ends on its first position".to_owned()));
        } else {
            out.push(points);
        }
    }
    (errors.len() == before).then_some(out)
}

fn position(value: &Value) -> Option<Point> {
    let list = value.as_array()?;
    // A third number (altitude) is allowed by GeoJSON and ignored.
    if !(2..=3).contains(&list.len()) {
        return None;
    }
    let lon = list[0].as_f64()?;
    let lat = list[1].as_f64()?;
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some([lon, lat])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square_with_hole() -> Area {
        let outer = vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]];
        let hole = vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0], [1.0, 1.0]];
        Area::new(vec![vec![outer, hole]])
    }

    #[test]
    fn ray_casting_on_a_square_with_a_hole() {
        let square = square_with_hole();
        assert!(square.contains(0.5, 0.5));
        assert!(square.contains(3.5, 2.0));
        assert!(!square.contains(2.0, 2.0), "in the hole");
        assert!(!square.contains(4.5, 2.0));
        assert!(!square.contains(-0.1, 2.0));
        assert!(!square.contains(2.0, 4.1));
    }

    /// The band index gives the answer of the plain ray cast over every edge.
    #[test]
    fn banded_and_plain_ray_casting_agree_on_a_star() {
        let n = 997;
        let ring: Vec<Point> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                let r = if i % 2 == 0 { 1.0 } else { 0.6 };
                [2.3 + r * a.cos(), 46.1 + r * a.sin()]
            })
            .collect();
        let plain = |lon: f64, lat: f64| {
            let mut inside = false;
            for i in 0..ring.len() {
                let [xi, yi] = ring[i];
                let [xj, yj] = ring[(i + ring.len() - 1) % ring.len()];
                if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
            }
            inside
        };
        let area = Area::new(vec![vec![ring.clone()]]);
        let mut inside = 0;
        for i in 0..200 {
            for j in 0..200 {
                let (lon, lat) = (1.2 + i as f64 * 0.011, 45.0 + j as f64 * 0.011);
                assert_eq!(area.contains(lon, lat), plain(lon, lat), "{lon} {lat}");
                inside += usize::from(plain(lon, lat));
            }
        }
        assert!(inside > 1000);
        // Exactly on a vertex's latitude and on the bbox edges.
        for &[lon, lat] in ring.iter().step_by(7) {
            assert_eq!(area.contains(lon - 0.01, lat), plain(lon - 0.01, lat));
        }
    }

    #[test]
    fn geojson_shapes_are_accepted_and_bad_ones_named_by_path() {
        let square = json!([[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]);
        for doc in [
            json!({"type": "Polygon", "coordinates": square}),
            json!({"type": "MultiPolygon", "coordinates": [square]}),
            json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": square}}),
            json!({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square}}]}),
        ] {
            let area = parse_geojson(&doc, "/g").unwrap();
            assert!(area.contains(1.0, 1.0));
            assert_eq!(area.vertices(), 5);
        }
        let bad = |doc: Value| parse_geojson(&doc, "/g").unwrap_err();
        assert_eq!(bad(json!([]))[0].0, "/g");
        assert_eq!(bad(json!({"type": "Point"}))[0].0, "/g/type");
        assert_eq!(
            bad(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}))[0].0,
            "/g/coordinates/0"
        );
        assert_eq!(
            bad(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}))[0].1,
            "a linear ring ends on its first position"
        );
        assert_eq!(
            bad(json!({"type": "MultiPolygon", "coordinates": [square, [[[0, 0], [200, 0], [1, 1], [0, 0]]]]}))[0].0,
            "/g/coordinates/1/0/1"
        );
        assert_eq!(
            bad(json!({"type": "FeatureCollection", "features": []}))[0].1,
            "contains no polygon"
        );
    }
}
