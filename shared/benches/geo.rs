//! The commune index (docs/BENCHMARKS.md): decoding it (`Index::load`, once per process)
//! and resolving one point, over 4 096 points spread on metropolitan France (most inside a
//! commune, some at sea or abroad) and 4 096 around La Rochelle's borders.
//!
//! `taskset -c 0 cargo bench -p registry-core --bench geo`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use registry_core::domain::geo::{index, Index};

/// Deterministic pseudo-random numbers (no dependency, same points every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn points(n: usize, lat: (f64, f64), lon: (f64, f64)) -> Vec<(f64, f64)> {
    let mut rng = Lcg(7);
    (0..n)
        .map(|_| {
            (
                lat.0 + rng.next() * (lat.1 - lat.0),
                lon.0 + rng.next() * (lon.1 - lon.0),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("geo");
    g.sample_size(20);
    g.bench_function("load", |b| b.iter(|| black_box(Index::load())));
    g.finish();

    let index = Index::get();
    let france = points(4096, (42.5, 51.0), (-4.5, 8.0));
    let rochelle = points(4096, (46.10, 46.22), (-1.25, -1.05));
    let found = france
        .iter()
        .filter(|&&(la, lo)| index.resolve(la, lo).is_some());
    eprintln!(
        "metropolitan points in a commune: {} of 4096",
        found.count()
    );
    let mut g = c.benchmark_group("geo");
    for (name, pts) in [
        ("resolve_france", &france),
        ("resolve_la_rochelle", &rochelle),
    ] {
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for &(lat, lon) in pts.iter() {
                    black_box(index.resolve(black_box(lat), black_box(lon)));
                }
            })
        });
    }
    let codes = ["17300", "75056", "13201", "2A004", "18123", "97411"];
    g.throughput(Throughput::Elements(codes.len() as u64));
    g.bench_function("commune_by_code", |b| {
        b.iter(|| {
            for code in codes {
                black_box(index::commune(black_box(code)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
