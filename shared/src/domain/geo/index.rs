//! French communes from coordinates or codes: the index built by `shared/data/geo/build.py`
//! into `shared/data/geo/communes.bin` (IGN – ADMIN EXPRESS COG 2018; INSEE COG 2018, the
//! current COG from `@etalab/decoupage-administratif` 6.0.0; format and precision in
//! `shared/data/geo/README.md`).
//!
//! Codes are looked up in the shipped tables as they are (binary search, nothing loaded):
//! [`commune`], [`epci`], [`departement`], [`region`]. Coordinates need the rasterised
//! outlines ([`Index::get`]): rows of 0.001° of latitude, each a sorted list of the
//! longitudes where a commune starts, decoded per département on first use.

use std::sync::OnceLock;

static DATA: &[u8] = include_bytes!("../../../data/geo/communes.bin");

const MAGIC: &[u8] = b"RGEO1\n";
const HEADER: usize = MAGIC.len() + 7 * 4;
const REG: usize = 9;
const DEP: usize = 11;
const EPCI: usize = 15;
const COM: usize = 15;
const CODE: usize = 8;
/// Row height and longitude unit, in 1e-5 degree.
const ROW_HEIGHT: f64 = 100.0;
const UNIT: f64 = 1e5;

/// A current commune (COG), with the codes of the units it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commune {
    /// Current INSEE code.
    pub code: &'static str,
    pub name: &'static str,
    /// SIREN of its EPCI; none for the few communes outside any (islands).
    pub epci: Option<&'static str>,
    pub departement: &'static str,
    pub region: &'static str,
}

/// An EPCI, a département or a région.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub code: &'static str,
    pub name: &'static str,
}

/// How the tables lie in [`DATA`] (offsets from the header's counts).
struct Layout {
    strings: usize,
    regions: (usize, usize),
    departements: (usize, usize),
    epcis: (usize, usize),
    communes: (usize, usize),
    codes: (usize, usize),
    grids: (usize, usize),
}

fn u16_at(at: usize) -> u16 {
    u16::from_le_bytes([DATA[at], DATA[at + 1]])
}

fn u32_at(at: usize) -> u32 {
    u32::from_le_bytes([DATA[at], DATA[at + 1], DATA[at + 2], DATA[at + 3]])
}

fn i32_at(at: usize) -> i32 {
    u32_at(at) as i32
}

/// ASCII (codes) or UTF-8 (names) of the shipped file, checked by `the_shipped_index_reads`.
fn str_at(at: usize, len: usize) -> &'static str {
    let bytes = &DATA[at..at + len];
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(len);
    std::str::from_utf8(&bytes[..end]).unwrap_or("")
}

fn layout() -> &'static Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        assert_eq!(&DATA[..MAGIC.len()], MAGIC, "communes.bin: unknown format");
        let count = |i: usize| u32_at(MAGIC.len() + 4 * i) as usize;
        let mut at = HEADER + count(6);
        let mut table = |n: usize, width: usize| {
            let t = (at, n);
            at += n * width;
            t
        };
        Layout {
            strings: HEADER,
            regions: table(count(0), REG),
            departements: table(count(1), DEP),
            epcis: table(count(2), EPCI),
            communes: table(count(3), COM),
            codes: table(count(4), CODE),
            grids: (at, count(5)),
        }
    })
}

/// Binary search of a table sorted by its leading code of `width` bytes.
fn find(table: (usize, usize), record: usize, width: usize, code: &str) -> Option<usize> {
    let (start, n) = table;
    let key = code.as_bytes();
    if key.len() > width {
        return None;
    }
    let at = |i: usize| {
        let bytes = &DATA[start + i * record..start + i * record + width];
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(width);
        &bytes[..end]
    };
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match at(mid).cmp(key) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

fn name(at: usize) -> &'static str {
    str_at(
        layout().strings + u32_at(at) as usize,
        u16_at(at + 4) as usize,
    )
}

fn unit(table: (usize, usize), record: usize, width: usize, i: usize) -> Unit {
    let at = table.0 + i * record;
    Unit {
        code: str_at(at, width),
        name: name(at + width + if record == DEP { 2 } else { 0 }),
    }
}

fn region_at(i: usize) -> Unit {
    unit(layout().regions, REG, 3, i)
}

fn departement_at(i: usize) -> Unit {
    unit(layout().departements, DEP, 3, i)
}

/// The current commune at index `i` of the table.
fn commune_at(i: usize) -> Commune {
    let l = layout();
    let at = l.communes.0 + i * COM;
    let epci = u16_at(at + 11);
    let dep = u16_at(at + 13) as usize;
    let reg = u16_at(l.departements.0 + dep * DEP + 3) as usize;
    Commune {
        code: str_at(at, 5),
        name: name(at + 5),
        epci: (epci != u16::MAX).then(|| str_at(l.epcis.0 + epci as usize * EPCI, 9)),
        departement: str_at(l.departements.0 + dep * DEP, 3),
        region: region_at(reg).code,
    }
}

/// The current commune of an INSEE code: a current commune, a commune déléguée or associée
/// (its chef-lieu), a municipal arrondissement (Paris, Lyon, Marseille) or a former code
/// merged since 2018. `None` for a code that names none of these (nor `99xxx`, a country).
pub fn commune(code: &str) -> Option<Commune> {
    let l = layout();
    let i = find(l.codes, CODE, 5, code)?;
    Some(commune_at(u16_at(l.codes.0 + i * CODE + 5) as usize))
}

/// Whether `code` is a commune code the COG knows (current or former, see [`commune`]).
pub fn is_commune_code(code: &str) -> bool {
    find(layout().codes, CODE, 5, code).is_some()
}

/// A current commune code only (not a déléguée, arrondissement or former code).
pub fn is_current_commune(code: &str) -> bool {
    find(layout().communes, COM, 5, code).is_some()
}

/// An EPCI by its SIREN.
pub fn epci(siren: &str) -> Option<Unit> {
    let l = layout();
    find(l.epcis, EPCI, 9, siren).map(|i| unit(l.epcis, EPCI, 9, i))
}

pub fn departement(code: &str) -> Option<Unit> {
    find(layout().departements, DEP, 3, code).map(departement_at)
}

pub fn region(code: &str) -> Option<Unit> {
    find(layout().regions, REG, 3, code).map(region_at)
}

/// One département's outlines: rows `row0..row0 + starts.len() - 1` of latitude, each the
/// sorted longitudes (1e-5 degree) where a run starts, and its commune (+ 1; 0 is none).
struct Grid {
    row0: i64,
    starts: Vec<u32>,
    xs: Vec<i32>,
    ids: Vec<u16>,
}

/// Where a grid lies, read from its header; its runs are decoded on first use.
struct Slot {
    /// Rows `[row0, row1)`, longitudes `[x0, x1)`.
    row0: i64,
    row1: i64,
    x0: i64,
    x1: i64,
    at: usize,
    grid: OnceLock<Grid>,
}

/// The outlines (see the module's documentation): each département's grid is decoded the
/// first time a point falls in its bounding box (≈ 0.3 ms for a département).
pub struct Index {
    slots: Vec<Slot>,
}

impl Index {
    /// The process's index.
    pub fn get() -> &'static Index {
        static INDEX: OnceLock<Index> = OnceLock::new();
        INDEX.get_or_init(Index::load)
    }

    /// Reads the grids' headers (the benchmark's figure; use [`Index::get`]).
    pub fn load() -> Index {
        let (mut at, n) = layout().grids;
        let mut slots = Vec::with_capacity(n);
        for _ in 0..n {
            let row0 = i64::from(i32_at(at + 2));
            let palette_len = u16_at(at + 18) as usize;
            let data_at = at + 20 + 2 * palette_len;
            slots.push(Slot {
                row0,
                row1: row0 + i64::from(u32_at(at + 6)),
                x0: i64::from(i32_at(at + 10)),
                x1: i64::from(i32_at(at + 14)),
                at,
                grid: OnceLock::new(),
            });
            at = data_at + 4 + u32_at(data_at) as usize;
        }
        Index { slots }
    }

    /// Decodes every grid now (what a long-running process may do at start; the
    /// benchmark's figure for the whole index).
    pub fn decode_all(&self) {
        for s in &self.slots {
            s.grid();
        }
    }

    /// The current commune at WGS 84 coordinates; `None` outside every commune outline
    /// (abroad, at sea, or in a gap wider than ~400 m between two outlines).
    pub fn resolve(&self, lat: f64, lon: f64) -> Option<Commune> {
        let row = (lat * UNIT / ROW_HEIGHT).floor() as i64;
        let x = (lon * UNIT).round() as i64;
        self.slots
            .iter()
            .filter(|s| (s.row0..s.row1).contains(&row) && (s.x0..s.x1).contains(&x))
            .find_map(|s| s.grid().at(row, x))
            .map(|i| commune_at(i as usize))
    }

    /// [`commune`], for symmetry with [`Index::resolve`].
    pub fn commune(&self, code: &str) -> Option<Commune> {
        commune(code)
    }
}

impl Slot {
    fn grid(&self) -> &Grid {
        self.grid.get_or_init(|| Grid::decode(self.at))
    }
}

fn varint(at: &mut usize) -> u32 {
    let mut n = 0u32;
    let mut shift = 0;
    loop {
        let b = DATA[*at];
        *at += 1;
        n |= u32::from(b & 0x7F) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

impl Grid {
    fn decode(at: usize) -> Grid {
        let row0 = i64::from(i32_at(at + 2));
        let rows = u32_at(at + 6) as usize;
        let x0 = i32_at(at + 10);
        let palette_len = u16_at(at + 18) as usize;
        let palette: Vec<u16> = (0..palette_len).map(|i| u16_at(at + 20 + 2 * i)).collect();
        let data_at = at + 20 + 2 * palette_len;
        let len = u32_at(data_at) as usize;
        let mut p = data_at + 4;
        let mut starts = Vec::with_capacity(rows + 1);
        // A run takes 2 bytes at least.
        let mut xs = Vec::with_capacity(len / 2);
        let mut ids = Vec::with_capacity(len / 2);
        for _ in 0..rows {
            starts.push(xs.len() as u32);
            let mut x = x0;
            for _ in 0..varint(&mut p) {
                x += varint(&mut p) as i32;
                let id = varint(&mut p) as usize;
                xs.push(x);
                ids.push(if id == 0 { 0 } else { palette[id - 1] + 1 });
            }
        }
        starts.push(xs.len() as u32);
        debug_assert_eq!(p, data_at + 4 + len);
        Grid {
            row0,
            starts,
            xs,
            ids,
        }
    }

    /// The commune index at this row and longitude, if any.
    fn at(&self, row: i64, x: i64) -> Option<u16> {
        let r = usize::try_from(row - self.row0).ok()?;
        let (from, to) = (
            *self.starts.get(r)? as usize,
            *self.starts.get(r + 1)? as usize,
        );
        let xs = &self.xs[from..to];
        let i = xs.partition_point(|&b| i64::from(b) <= x).checked_sub(1)?;
        self.ids[from + i].checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_index_reads() {
        let l = layout();
        assert_eq!(l.communes.1, 34_969);
        assert_eq!(l.grids.1, 101);
        // Every grid decodes to exactly its data, rows in order.
        let index = Index::load();
        index.decode_all();
        for s in &index.slots {
            let g = s.grid();
            assert_eq!(g.starts.len() as i64, s.row1 - s.row0 + 1);
            assert!(g.starts.windows(2).all(|w| w[0] <= w[1]));
        }
        for i in 0..l.communes.1 {
            let c = commune_at(i);
            assert_eq!(c.code.len(), 5, "{c:?}");
            assert!(!c.name.is_empty(), "{c:?}");
            assert!(departement(c.departement).is_some(), "{c:?}");
            assert!(region(c.region).is_some(), "{c:?}");
            assert!(c.epci.is_none_or(|e| epci(e).is_some()), "{c:?}");
            assert_eq!(commune(c.code), Some(c));
        }
    }

    #[test]
    fn codes_resolve_to_current_communes() {
        let rochelle = commune("17300").unwrap();
        assert_eq!(rochelle.name, "La Rochelle");
        assert_eq!(rochelle.departement, "17");
        assert_eq!(rochelle.region, "75");
        assert_eq!(epci(rochelle.epci.unwrap()).unwrap().code, "241700434");
        assert_eq!(departement("17").unwrap().name, "Charente-Maritime");
        assert_eq!(region("75").unwrap().name, "Nouvelle-Aquitaine");
        // Marseille's 1st arrondissement, a former code merged since 2018 (18123 → 18023).
        assert_eq!(commune("13201").unwrap().code, "13055");
        assert_eq!(commune("18123").unwrap().code, "18023");
        assert!(is_commune_code("2A004") && !is_current_commune("13201"));
        assert_eq!(commune("2A004").unwrap().region, "94");
        for unknown in ["17999", "99100", "", "1730", "173000", "ABCDE"] {
            assert_eq!(commune(unknown), None, "{unknown}");
        }
        assert_eq!(epci("000000000"), None);
        assert_eq!(departement("20"), None);
    }

    #[test]
    fn coordinates_resolve_to_current_communes() {
        let index = Index::get();
        let at = |lat, lon| index.resolve(lat, lon).map(|c| c.code);
        // City centres, one per kind of place, far from any border.
        assert_eq!(at(46.1591, -1.1520), Some("17300"), "La Rochelle");
        assert_eq!(at(48.8566, 2.3522), Some("75056"), "Paris");
        assert_eq!(at(45.7640, 4.8357), Some("69123"), "Lyon");
        assert_eq!(at(41.9192, 8.7386), Some("2A004"), "Ajaccio");
        assert_eq!(
            at(-20.8789, 55.4481),
            Some("97411"),
            "Saint-Denis (Réunion)"
        );
        assert_eq!(at(4.9372, -52.3260), Some("97302"), "Cayenne");
        assert_eq!(at(47.2184, -1.5536), Some("44109"), "Nantes");
        assert_eq!(
            at(47.0334, 2.7954),
            Some("18023"),
            "Laverdines (18123) merged since"
        );
        // Abroad and at sea.
        assert_eq!(at(50.8503, 4.3517), None, "Brussels");
        assert_eq!(at(46.0, -3.0), None, "Bay of Biscay");
        assert_eq!(at(0.0, 0.0), None);
    }
}
