//! The territories of a campaign document: `territory` and `exclude_territory`.

use super::*;

fn territory_rule(e: &mut Errors, s: &str, path: &str) -> Option<TerritoryRule> {
    e.one_of(
        s,
        path,
        &[
            ("start", TerritoryRule::Start),
            ("end", TerritoryRule::End),
            ("start_or_end", TerritoryRule::StartOrEnd),
            ("start_and_end", TerritoryRule::StartAndEnd),
        ],
    )
}

const UNIT_KINDS: [(&str, UnitKind); 4] = [
    ("com", UnitKind::Commune),
    ("epci", UnitKind::Epci),
    ("dep", UnitKind::Departement),
    ("reg", UnitKind::Region),
];

/// A list of unit codes, each checked against the shipped COG; communes as their current
/// code (a commune déléguée or a code merged since stands for its commune). Sorted.
fn unit_codes(e: &mut Errors, kind: UnitKind, codes: &[String], path: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let at = format!("{path}/{i}");
        let found = match kind {
            UnitKind::Commune => geo::index::commune(code).map(|c| c.code),
            UnitKind::Epci => geo::index::epci(code).map(|u| u.code),
            UnitKind::Departement => geo::index::departement(code).map(|u| u.code),
            UnitKind::Region => geo::index::region(code).map(|u| u.code),
        };
        match found {
            Some(current) => out.push(current.to_owned()),
            None => e.add(at, unknown_unit(kind, code)),
        }
    }
    out.sort();
    out.dedup();
    out
}

fn unknown_unit(kind: UnitKind, code: &str) -> String {
    let what = match kind {
        UnitKind::Commune if is_insee(code) => "no commune has this INSEE code",
        UnitKind::Commune => "must be an INSEE commune code: digit, digit or A or B, 3 digits",
        UnitKind::Epci => "no EPCI has this SIREN (9 digits)",
        UnitKind::Departement => "no département has this code (such as 17, 2A, 971)",
        UnitKind::Region => "no région has this code (such as 75, 94, 01)",
    };
    format!("{what}: {code:?} (Code officiel géographique)")
}

/// A territory, or with `exclusion` an exclude_territory (which may be empty and may have
/// `same`).
pub(super) fn territory(
    e: &mut Errors,
    raw: &RawTerritory,
    path: &str,
    exclusion: bool,
) -> Option<Territory> {
    let same = raw.same.as_deref().and_then(|s| {
        let at = format!("{path}/same");
        if !exclusion {
            e.add(at, "only an exclude_territory has same");
            return None;
        }
        e.one_of(s, &at, &UNIT_KINDS)
    });
    let rule = match (&raw.rule, raw.same.is_some()) {
        (Some(r), _) => territory_rule(e, r, &format!("{path}/rule")),
        (None, true) => Some(TerritoryRule::StartAndEnd),
        (None, false) => {
            e.add(format!("{path}/rule"), "is required");
            None
        }
    };
    let mut com = unit_codes(e, UnitKind::Commune, &raw.com, &format!("{path}/com"));
    com.extend(unit_codes(
        e,
        UnitKind::Commune,
        &raw.insee,
        &format!("{path}/insee"),
    ));
    com.sort();
    com.dedup();
    let list = |e: &mut Errors, kind: UnitKind, codes: &[String]| {
        unit_codes(e, kind, codes, &format!("{path}/{}", kind.as_str()))
    };
    let epci = list(e, UnitKind::Epci, &raw.epci);
    let dep = list(e, UnitKind::Departement, &raw.dep);
    let reg = list(e, UnitKind::Region, &raw.reg);
    let area = match &raw.geojson {
        None | Some(Value::Null) => None,
        Some(g) => match geo::parse_geojson(g, &format!("{path}/geojson")) {
            Ok(area) => Some(area),
            Err(errors) => {
                for (p, r) in errors {
                    e.add(p, r);
                }
                return None;
            }
        },
    };
    let named = [&raw.com, &raw.insee, &raw.epci, &raw.dep, &raw.reg];
    if !exclusion && named.iter().all(|l| l.is_empty()) && area.is_none() {
        e.add(
            path,
            "needs units (com, epci, dep, reg), a GeoJSON area or both",
        );
    }
    Some(Territory {
        rule: rule?,
        com,
        epci,
        dep,
        reg,
        area,
        same,
    })
}

/// An exclusion with neither units, area nor `same` excludes nothing.
pub(super) fn territory_opt(e: &mut Errors, raw: &RawTerritory, path: &str) -> Option<Territory> {
    territory(e, raw, path, true).filter(|t| !t.is_empty())
}
