//! The shape of a campaign document (keys and types), checked before serde reads it so that
//! every misplaced key and wrong type is reported at once, in the words of the format
//! (../shared/campaigns.md), never in the names of the Rust types. Mirrors `raw.rs`: the
//! test `shapes_match_what_serde_reads` keeps them together.

use serde_json::Value;

use crate::domain::error::Detail;

/// What a value must be.
pub(super) enum S {
    Str,
    Bool,
    /// A whole number in `[min, max]`.
    Int(i64, i64),
    Num,
    /// Anything (checked later: GeoJSON).
    Any,
    Arr(&'static S),
    Obj(&'static [Field]),
}

/// Whether a key may be absent (`Optional`) or also `null` (`Nullable`).
#[derive(PartialEq)]
pub(super) enum Need {
    Required,
    Optional,
    Nullable,
}

pub(super) type Field = (&'static str, Need, S);

use Need::{Nullable, Optional, Required};
use S::*;

const U8: S = Int(0, u8::MAX as i64);
const U32: S = Int(0, u32::MAX as i64);
const U64: S = Int(0, i64::MAX);
const I32: S = Int(i32::MIN as i64, i32::MAX as i64);
const STRINGS: S = Arr(&Str);

const TERRITORY: S = Obj(&[
    ("rule", Nullable, Str),
    ("com", Optional, STRINGS),
    ("insee", Optional, STRINGS),
    ("epci", Optional, STRINGS),
    ("dep", Optional, STRINGS),
    ("reg", Optional, STRINGS),
    ("geojson", Nullable, Any),
    ("same", Nullable, Str),
]);

const AMOUNT: S = Obj(&[
    ("mode", Required, Str),
    (
        "bands",
        Required,
        Arr(&Obj(&[
            ("from", Required, U32),
            ("to", Nullable, U32),
            ("fixed", Nullable, U32),
            ("per_km", Nullable, Num),
        ])),
    ),
    ("per_seat", Optional, Bool),
    ("min_per_trip", Nullable, U64),
    ("max_per_trip", Nullable, U64),
]);

/// The whole document.
pub(super) const DOCUMENT: S = Obj(&[
    ("id", Required, Str),
    ("name", Required, Str),
    ("territory_name", Required, Str),
    ("territory_id", Nullable, Str),
    ("start", Required, Str),
    ("end", Required, Str),
    ("time_zone", Required, Str),
    ("territory", Required, TERRITORY),
    ("operators", Optional, STRINGS),
    ("operator_classes", Optional, STRINGS),
    (
        "operator_windows",
        Optional,
        Arr(&Obj(&[
            ("operator", Required, Str),
            ("from", Nullable, Str),
            ("until", Nullable, Str),
        ])),
    ),
    ("adult_only", Optional, Bool),
    ("age", Nullable, Str),
    (
        "distance",
        Nullable,
        Obj(&[("min", Optional, U32), ("max", Nullable, U32)]),
    ),
    (
        "days",
        Nullable,
        Obj(&[
            ("weekdays", Nullable, Arr(&U8)),
            ("exclude", Optional, STRINGS),
            (
                "boost",
                Optional,
                Arr(&Obj(&[
                    ("date", Required, Str),
                    ("factor", Nullable, Num),
                    ("amount", Nullable, AMOUNT),
                ])),
            ),
            (
                "hours",
                Optional,
                Arr(&Obj(&[("from", Required, Str), ("to", Required, Str)])),
            ),
        ]),
    ),
    ("exclude_territory", Nullable, TERRITORY),
    ("pays", Required, STRINGS),
    ("amount", Required, AMOUNT),
    (
        "caps",
        Optional,
        Arr(&Obj(&[
            ("kind", Required, Str),
            ("per", Nullable, Str),
            ("max", Required, U64),
            ("who", Nullable, Str),
            ("scope", Nullable, Str),
        ])),
    ),
    ("priority", Optional, I32),
    ("stacking", Nullable, Str),
]);

/// Every shape problem of `value`, each at its JSON pointer.
pub(super) fn check(value: &Value, shape: &S, path: &str, out: &mut Vec<Detail>) {
    let wrong = |out: &mut Vec<Detail>, what: String| out.push(Detail::new(path, what));
    match shape {
        Any => {}
        Str if !value.is_string() => wrong(out, "must be a string".into()),
        Bool if !value.is_boolean() => wrong(out, "must be true or false".into()),
        Num if !value.is_number() => wrong(out, "must be a number".into()),
        // Above i64::MAX (`as_i64` is None for it) is above every limit here.
        Int(min, max) if !value.as_i64().is_some_and(|n| (*min..=*max).contains(&n)) => {
            wrong(out, format!("must be a whole number from {min} to {max}"));
        }
        Arr(item) => match value.as_array() {
            Some(list) => {
                for (i, v) in list.iter().enumerate() {
                    check(v, item, &format!("{path}/{i}"), out);
                }
            }
            None => wrong(out, "must be an array".into()),
        },
        Obj(fields) => match value.as_object() {
            Some(object) => object_fields(object, fields, path, out),
            None => wrong(out, "must be an object".into()),
        },
        _ => {}
    }
}

fn object_fields(
    object: &serde_json::Map<String, Value>,
    fields: &[Field],
    path: &str,
    out: &mut Vec<Detail>,
) {
    for (key, v) in object {
        let at = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        match fields.iter().find(|(name, _, _)| name == key) {
            Some((_, Nullable, _)) if v.is_null() => {}
            Some((_, _, shape)) => check(v, shape, &at, out),
            None => {
                let names: Vec<&str> = fields.iter().map(|(n, _, _)| *n).collect();
                out.push(Detail::new(
                    at,
                    format!("unknown key {key:?} (expected one of {})", names.join(", ")),
                ));
            }
        }
    }
    for (name, need, _) in fields {
        if *need == Required && !object.contains_key(*name) {
            out.push(Detail::new(format!("{path}/{name}"), "is required"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every key of the format, once.
    fn full() -> Value {
        let amount = json!({"mode": "sum_of_bands", "bands": [{"from": 0, "to": 1000, "fixed": 1, "per_km": 0.5}],
            "per_seat": true, "min_per_trip": 1, "max_per_trip": 100});
        let territory = json!({"rule": "start", "com": ["17300"], "insee": ["17028"], "epci": ["241700434"],
            "dep": ["17"], "reg": ["75"], "geojson": null, "same": null});
        json!({
            "id": "a", "name": "A", "territory_name": "A", "territory_id": "a",
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": territory, "operators": ["1"], "operator_classes": ["C"],
            "operator_windows": [{"operator": "1", "from": "2025-02-01", "until": null}],
            "adult_only": false, "age": "any", "distance": {"min": 0, "max": 1000},
            "days": {"weekdays": [1], "exclude": [], "hours": [{"from": "06:00", "to": "09:00"}],
                "boost": [{"date": "2025-03-01", "factor": 2}, {"date": "2025-03-02", "amount": amount}]},
            "exclude_territory": {"same": "epci"}, "pays": ["driver"], "amount": amount,
            "caps": [{"kind": "trips", "per": "day", "max": 2, "who": null, "scope": null}],
            "priority": -1, "stacking": "stackable"
        })
    }

    #[test]
    fn shapes_match_what_serde_reads() {
        let doc = full();
        let mut out = Vec::new();
        check(&doc, &DOCUMENT, "", &mut out);
        assert!(out.is_empty(), "{out:?}");
        assert!(serde_json::from_value::<super::super::RawCampaign>(doc.clone()).is_ok());
        // An unknown key at any level: both refuse it.
        for pointer in [
            "",
            "/territory",
            "/days",
            "/days/boost/1/amount/bands/0",
            "/caps/0",
        ] {
            let mut d = doc.clone();
            d.pointer_mut(pointer).unwrap()["extra"] = json!(1);
            let mut out = Vec::new();
            check(&d, &DOCUMENT, "", &mut out);
            assert_eq!(out.len(), 1, "{pointer}");
            assert!(serde_json::from_value::<super::super::RawCampaign>(d).is_err());
        }
    }

    #[test]
    fn every_shape_problem_is_reported_at_once_in_the_format_s_words() {
        let mut doc = full();
        doc["amount"]["bands"][0]["fixed"] = json!("50");
        doc["caps"][0]["max"] = json!(-1);
        doc["days"]["weekdays"] = json!([1, 300]);
        doc["territory"]["radius"] = json!(3);
        doc["amount"]["per_seat"] = json!(null);
        doc["pays"] = json!("driver");
        doc.as_object_mut().unwrap().remove("name");
        let mut out = Vec::new();
        check(&doc, &DOCUMENT, "", &mut out);
        let mut found: Vec<(String, String)> =
            out.into_iter().map(|d| (d.path, d.reason)).collect();
        found.sort();
        let expected = [
            (
                "/amount/bands/0/fixed",
                "must be a whole number from 0 to 4294967295",
            ),
            ("/amount/per_seat", "must be true or false"),
            (
                "/caps/0/max",
                "must be a whole number from 0 to 9223372036854775807",
            ),
            ("/days/weekdays/1", "must be a whole number from 0 to 255"),
            ("/name", "is required"),
            ("/pays", "must be an array"),
        ];
        for (i, (p, r)) in expected.iter().enumerate() {
            assert_eq!((found[i].0.as_str(), found[i].1.as_str()), (*p, *r));
        }
        assert_eq!(found[6].0, "/territory/radius");
        assert!(found[6]
            .1
            .starts_with("unknown key \"radius\" (expected one of rule, com"));
        assert_eq!(found.len(), 7);
    }
}
