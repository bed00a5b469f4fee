//! Plain `/metrics` scrapes of a synthesized world, in process: time and CPU per scrape and
//! per object, body size, and the bytes the store holds.
//!
//! ```sh
//! cargo bench -p kubestate-store --bench scrape -- medium large   # presets, default medium
//! SCRAPES=20 cargo bench -p kubestate-store --bench scrape -- large
//! ```
//!
//! Each preset's world (`kubestate sim`'s synthesizer, seed 1) is generated with every
//! default family into one text store per resource, as the exporter does without
//! `--namespaces`; then the body is written as the HTTP server writes it (`Scrape::next_chunk`
//! of 256 KiB) `SCRAPES` times (default 10) after one warm-up scrape. Printed per scrape:
//! median and fastest wall time and the process's CPU time over all of them (from
//! `/proc/self/stat`, 10 ms ticks), each also per object.
//!
//! Instructions of the scrapes only: run the bench binary under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*timed_scrapes*'`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_families::Selection;
use kubestate_metric::{Format, ObjectMetrics};
use kubestate_store::{Exposition, ObjectStore, ResourceFilter, StoreInfo, TextStore};

/// An exposition holding `world` in one text store per default resource, and its stores.
fn exposition(world: &[(String, Vec<u8>)]) -> (Exposition, Vec<Arc<TextStore>>) {
    let ex = Exposition::new();
    let mut stores = Vec::new();
    for r in kubestate_families::resources() {
        if !r.default_enabled() {
            continue;
        }
        let g = r.generator(Selection::default());
        let s = Arc::new(TextStore::new(StoreInfo {
            resource: r.name().to_string(),
            namespace: None,
            index: 0,
            families: g.families().to_vec().into(),
        }));
        ex.register(s.clone());
        let mut m = ObjectMetrics::new();
        s.relist_started();
        for (_, json) in world.iter().filter(|(res, _)| res == r.name()) {
            if let Ok(key) = g.generate(json, &mut m) {
                s.apply(&key.uid, &m);
            }
        }
        s.relist_done();
        stores.push(s);
    }
    (ex, stores)
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file (utime, stime); `after` starts at field 3.
    (tick(11) + tick(12)) / 100.0
}

/// One body as the HTTP server writes it; returns its length.
fn scrape(ex: &Exposition) -> usize {
    let mut s = ex.scrape(Format::Text, &ResourceFilter::default());
    let mut len = 0;
    while let Some(chunk) = s.next_chunk(256 * 1024) {
        len += black_box(chunk).len();
    }
    len
}

/// `n` scrapes: the wall time of each.
#[inline(never)]
fn timed_scrapes(ex: &Exposition, n: usize) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(scrape(ex));
            t.elapsed()
        })
        .collect()
}

fn main() {
    let presets: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let presets = if presets.is_empty() {
        vec!["medium".to_string()]
    } else {
        presets
    };
    let n: usize = std::env::var("SCRAPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .max(1);
    for preset in &presets {
        let world = kubestate_testkit::sim::synthesized_world(preset);
        let (ex, stores) = exposition(&world);
        drop(world);
        let objects: usize = stores.iter().map(|s| s.len()).sum();
        let rendered: usize = stores.iter().map(|s| s.rendered_bytes()).sum();
        let t = Instant::now();
        let body = scrape(&ex);
        let first = t.elapsed();
        let index: usize = stores.iter().map(|s| s.index_bytes()).sum();
        let c0 = cpu_seconds();
        let mut times = timed_scrapes(&ex, n);
        let cpu = (cpu_seconds() - c0) / n as f64;
        times.sort();
        let median = times[n / 2].as_secs_f64();
        let fastest = times[0].as_secs_f64();
        let per = |s: f64| s * 1e6 / objects as f64;
        println!(
            "{preset}: {objects} objects, body {:.1} MiB, rendered entries {:.1} MiB, scrape index {:.2} MiB ({:.1} bytes/object)",
            body as f64 / 1048576.0,
            rendered as f64 / 1048576.0,
            index as f64 / 1048576.0,
            index as f64 / objects as f64,
        );
        println!(
            "  first scrape {:.1} ms; {n} scrapes: median {:.1} ms ({:.3} µs/object), fastest {:.1} ms ({:.3} µs/object), CPU {:.1} ms ({:.3} µs/object)",
            first.as_secs_f64() * 1e3,
            median * 1e3,
            per(median),
            fastest * 1e3,
            per(fastest),
            cpu * 1e3,
            per(cpu),
        );
    }
}
