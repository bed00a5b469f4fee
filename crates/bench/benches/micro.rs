//! Micro-benchmarks of kubestate's hot paths, with allocations per operation.
//!
//! * `float/write_float`: formatting sample values as KSM does.
//! * `pod/decode`: JSON → the slim `Pod` struct.
//! * `pod/generate`: decode + all 60 pod families into a reused `ObjectMetrics` arena.
//! * `store/apply`: one `TextStore::apply` (render + publish) into a store of 10,000 pods.
//! * `scrape/write_all_1m`: writing a whole body of about 1M sample lines.
//!
//! The pods are a realistic one from the conformance world
//! `../shared/conformance/cases/realistic-small-cluster/objects.json` (the one of median size)
//! and one from the simulator's synthesizer; the 1M-series stores hold the synthesized
//! `medium` world, copied under new uids until it holds a million samples.
//!
//! Run: `cargo bench -p kubestate-bench --bench micro` (criterion's filters work:
//! `-- pod/`). Before criterion starts, a table of allocations per operation is printed,
//! counted by an instrumented global allocator.

use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use kubestate_families::{Generator, Selection};
use kubestate_metric::{FamilyDesc, Format, ObjectMetrics};
use kubestate_store::{Exposition, ObjectStore, ResourceFilter, StoreInfo, TextStore};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A named pod JSON.
struct PodInput {
    name: &'static str,
    json: Vec<u8>,
}

/// The median-size pod of the realistic conformance world, if the shared corpus is present.
fn conformance_pod() -> Option<PodInput> {
    let dir = kubestate_testkit::shared_dir()?;
    let path = dir.join("conformance/cases/realistic-small-cluster/objects.json");
    let text = std::fs::read_to_string(&path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut pods: Vec<Vec<u8>> = v
        .get("items")?
        .as_array()?
        .iter()
        .filter(|o| o.get("kind").and_then(|k| k.as_str()) == Some("Pod"))
        .filter_map(|o| serde_json::to_vec(o).ok())
        .collect();
    pods.sort_by_key(Vec::len);
    let json = pods.get(pods.len() / 2)?.clone();
    Some(PodInput {
        name: "conformance",
        json,
    })
}

/// The median-size pod of a synthesized small world.
fn synthesized_pod(world: &[(String, Vec<u8>)]) -> PodInput {
    let mut pods: Vec<&Vec<u8>> = world
        .iter()
        .filter(|(r, _)| r == "pods")
        .map(|(_, j)| j)
        .collect();
    pods.sort_by_key(|j| j.len());
    PodInput {
        name: "synthesized",
        json: pods[pods.len() / 2].clone(),
    }
}

fn pod_generator() -> Arc<dyn Generator> {
    kubestate_families::resource("pods")
        .expect("the pods resource")
        .generator(Selection::default())
}

fn store_for(g: &dyn Generator, resource: &str) -> TextStore {
    let families: Arc<[FamilyDesc]> = g.families().to_vec().into();
    TextStore::new(StoreInfo {
        resource: resource.to_string(),
        namespace: None,
        index: 0,
        families,
    })
}

/// Fills an exposition with `world`, copied under new uids until it holds `target` samples.
/// Returns it and the sample count.
fn exposition(world: &[(String, Vec<u8>)], target: usize) -> (Exposition, usize) {
    let ex = Exposition::new();
    let mut stores: Vec<(String, Arc<dyn Generator>, Arc<TextStore>)> = Vec::new();
    for r in kubestate_families::resources() {
        if !r.default_enabled() || !world.iter().any(|(res, _)| res == r.name()) {
            continue;
        }
        let g = r.generator(Selection::default());
        let s = Arc::new(store_for(g.as_ref(), r.name()));
        ex.register(s.clone());
        stores.push((r.name().to_string(), g, s));
    }
    for (_, _, s) in &stores {
        s.relist_started();
    }
    let mut m = ObjectMetrics::new();
    let mut samples = 0usize;
    let mut copy = 0usize;
    while samples < target {
        for (res, json) in world {
            let Some((_, g, s)) = stores.iter().find(|(r, _, _)| r == res) else {
                continue;
            };
            let Ok(key) = g.generate(json, &mut m) else {
                continue;
            };
            samples += m.sample_count();
            s.apply(&format!("{}-{copy}", key.uid), &m);
        }
        copy += 1;
    }
    for (_, _, s) in &stores {
        s.relist_done();
    }
    (ex, samples)
}

/// Allocations and allocated bytes per call of `f`, over `n` calls after one warm-up call.
fn allocs<F: FnMut()>(n: usize, mut f: F) -> (f64, f64) {
    f();
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        f();
    }
    let s = region.change();
    (
        (s.allocations + s.reallocations) as f64 / n as f64,
        s.bytes_allocated as f64 / n as f64,
    )
}

const FLOATS: [f64; 8] = [
    0.0,
    1.0,
    3.0,
    1_767_225_600.0,
    0.25,
    1.5e-3,
    134_217_728.0,
    2.5e9,
];

fn main() {
    let small = kubestate_testkit::sim::synthesized_world("small");
    let mut pods = Vec::new();
    match conformance_pod() {
        Some(p) => pods.push(p),
        None => eprintln!(
            "note: the shared conformance corpus was not found (set KUBESTATE_SHARED); using synthesized pods only"
        ),
    }
    pods.push(synthesized_pod(&small));
    let gen = pod_generator();

    // Allocations per operation.
    println!("allocations per operation (instrumented system allocator):");
    let mut out = Vec::with_capacity(1 << 16);
    let (a, b) = allocs(10_000, || {
        out.clear();
        for v in FLOATS {
            kubestate_metric::write_float(&mut out, black_box(v));
        }
    });
    println!("  float/write_float ×8            {a:8.2} allocs {b:10.0} bytes");
    for p in &pods {
        let (a, b) = allocs(2_000, || {
            let pod: kubestate_objects::pod::Pod =
                serde_json::from_slice(black_box(&p.json)).expect("a valid pod");
            black_box(pod);
        });
        println!(
            "  pod/decode/{:<12} ({:>5} B)  {a:8.2} allocs {b:10.0} bytes",
            p.name,
            p.json.len()
        );
        let mut m = ObjectMetrics::new();
        let (a, b) = allocs(2_000, || {
            gen.generate(black_box(&p.json), &mut m)
                .expect("a valid pod");
        });
        println!(
            "  pod/generate/{:<10} ({:>3} samples) {a:8.2} allocs {b:10.0} bytes",
            p.name,
            m.sample_count()
        );
        let store = store_for(gen.as_ref(), "pods");
        let mut m = ObjectMetrics::new();
        gen.generate(&p.json, &mut m).expect("a valid pod");
        for i in 0..10_000 {
            store.apply(&format!("uid-{i}"), &m);
        }
        let uids: Vec<String> = (0..10_000).map(|i| format!("uid-{i}")).collect();
        let mut i = 0;
        let (a, b) = allocs(2_000, || {
            i = (i + 1) % uids.len();
            store.apply(&uids[i], &m);
        });
        println!(
            "  store/apply/{:<11} (10k pods)  {a:8.2} allocs {b:10.0} bytes",
            p.name
        );
    }

    let medium = kubestate_testkit::sim::synthesized_world("medium");
    let (ex, samples) = exposition(&medium, 1_000_000);
    let mut body = Vec::new();
    ex.write_all(Format::Text, &ResourceFilter::default(), &mut body);
    let body_len = body.len();
    let (a, b) = allocs(3, || {
        body.clear();
        ex.write_all(Format::Text, &ResourceFilter::default(), &mut body);
    });
    println!(
        "  scrape/write_all ({samples} samples, {:.1} MiB) {a:8.0} allocs {b:10.0} bytes",
        body_len as f64 / (1024.0 * 1024.0)
    );
    println!();

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    {
        let mut g = c.benchmark_group("float");
        g.throughput(Throughput::Elements(FLOATS.len() as u64));
        let mut out = Vec::with_capacity(256);
        g.bench_function("write_float", |bch| {
            bch.iter(|| {
                out.clear();
                for v in FLOATS {
                    kubestate_metric::write_float(&mut out, black_box(v));
                }
                black_box(out.len())
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("pod");
        for p in &pods {
            g.throughput(Throughput::Bytes(p.json.len() as u64));
            g.bench_function(format!("decode/{}", p.name), |bch| {
                bch.iter(|| {
                    let pod: kubestate_objects::pod::Pod =
                        serde_json::from_slice(black_box(&p.json)).expect("a valid pod");
                    black_box(pod)
                })
            });
            let mut m = ObjectMetrics::new();
            g.bench_function(format!("generate/{}", p.name), |bch| {
                bch.iter(|| {
                    gen.generate(black_box(&p.json), &mut m)
                        .expect("a valid pod");
                    black_box(m.sample_count())
                })
            });
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("store");
        for p in &pods {
            let store = store_for(gen.as_ref(), "pods");
            let mut m = ObjectMetrics::new();
            gen.generate(&p.json, &mut m).expect("a valid pod");
            let uids: Vec<String> = (0..10_000).map(|i| format!("uid-{i}")).collect();
            for u in &uids {
                store.apply(u, &m);
            }
            let mut i = 0;
            g.bench_function(format!("apply/{}", p.name), |bch| {
                bch.iter(|| {
                    i = (i + 1) % uids.len();
                    store.apply(black_box(&uids[i]), &m);
                })
            });
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("scrape");
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(10));
        g.throughput(Throughput::Bytes(body_len as u64));
        g.bench_function("write_all_1m", |bch| {
            bch.iter(|| {
                body.clear();
                ex.write_all(Format::Text, &ResourceFilter::default(), &mut body);
                black_box(body.len())
            })
        });
        g.finish();
    }
    c.final_summary();
}
