//! Standalone timing of `shared/src/domain/geo/index.rs` (the same file, built with rustc -O,
//! no Cargo: seconds to build, where the criterion bench `shared/benches/geo.rs` needs the
//! release profile of the whole crate). CPU time of the thread, not wall time.
//!
//!     rustc --edition 2021 -C opt-level=3 -o /tmp/geobench shared/data/geo/bench.rs && /tmp/geobench
#![allow(dead_code)]
#[path = "../../src/domain/geo/index.rs"]
mod index;
use std::hint::black_box;
/// CPU time of this thread (ns), from /proc/thread-self/schedstat: the machine is shared,
/// wall time counts other processes' turns.
struct Instant(u64);
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat").unwrap().split_whitespace().next().unwrap().parse().unwrap()
}
impl Instant {
    fn now() -> Instant { Instant(cpu_ns()) }
    fn elapsed(&self) -> std::time::Duration { std::time::Duration::from_nanos(cpu_ns() - self.0) }
}

fn main() {
    // Index::load reads the grids' headers only (below the counter's resolution); decoding
    // every grid is the whole cost, paid per département on first use.
    let t = Instant::now();
    black_box(index::Index::load());
    println!("headers only: {:?}", t.elapsed());
    let mut loads = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let ix = index::Index::load();
        ix.decode_all();
        black_box(ix);
        loads.push(t.elapsed().as_secs_f64() * 1e3);
    }
    loads.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("load and decode every grid, ms: min {:.1} median {:.1} max {:.1}", loads[0], loads[10], loads[19]);
    let ix = index::Index::get();
    ix.decode_all();
    let mut s: u64 = 7;
    let mut rnd = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
    for (name, lat, lon) in [("metropolitan", (42.5, 51.0), (-4.5, 8.0)), ("la_rochelle", (46.10, 46.22), (-1.25, -1.05))] {
        let pts: Vec<(f64, f64)> = (0..100_000).map(|_| (lat.0 + rnd() * (lat.1 - lat.0), lon.0 + rnd() * (lon.1 - lon.0))).collect();
        let mut best = f64::MAX;
        let mut found = 0;
        for _ in 0..10 {
            let t = Instant::now();
            found = 0;
            for &(a, b) in &pts { if black_box(ix.resolve(black_box(a), black_box(b))).is_some() { found += 1; } }
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / pts.len() as f64);
        }
        println!("resolve {name}: {best:.0} ns per point (best of 10 × 100 000), {found} in a commune");
    }
    let codes = ["17300", "75056", "13201", "2A004", "18123", "97411"];
    let t = Instant::now();
    for _ in 0..100_000 { for c in codes { black_box(index::commune(black_box(c))); } }
    println!("commune by code: {:.0} ns", t.elapsed().as_secs_f64() * 1e9 / 600_000.0);
}
