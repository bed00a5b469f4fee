//! Decoding cost of one realistic pod, JSON vs protobuf: µs and heap allocations per object,
//! for the slim struct alone and for the full generator (decode + every family). Ignored by
//! default; run in release:
//!
//! ```sh
//! cargo test --release -p kubestate-families --test decode_bench -- --ignored --nocapture
//! ```

use std::alloc::System;
use std::time::Instant;

use kubestate_families::{resource, Encoding, Selection};
use kubestate_metric::ObjectMetrics;
use kubestate_objects::pod::Pod;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// (µs per call, allocations per call) of `f` over `n` calls.
fn measure(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..n / 10 {
        f();
    }
    let region = Region::new(GLOBAL);
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let c = region.change();
    let allocs = (c.allocations + c.reallocations) as f64 / f64::from(n);
    (us, allocs)
}

#[test]
#[ignore = "a benchmark: run in release with --ignored --nocapture"]
fn decode_one_realistic_pod() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/cases/realistic-small-cluster/objects.json");
    let text = std::fs::read_to_string(path).expect("conformance corpus");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    // The largest pod of the world.
    let pod = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .max_by_key(|o| o.to_string().len())
        .expect("a pod")
        .clone();
    let json = serde_json::to_vec(&pod).expect("JSON");
    let proto = kubestate_sim::protobuf_message(&pod)
        .expect("encodes")
        .expect("built-in");
    let msg = kubestate_protoschema::kind("v1", "Pod").expect("Pod schema");
    let gen = resource("pods").expect("pods").generator(Selection::default());
    let mut m = ObjectMetrics::new();
    let n = 20_000;
    println!(
        "pod {}/{}: {} bytes JSON, {} bytes protobuf",
        pod["metadata"]["namespace"].as_str().unwrap_or(""),
        pod["metadata"]["name"].as_str().unwrap_or(""),
        json.len(),
        proto.len()
    );
    let rows = [
        (
            "slim struct from JSON",
            measure(n, || {
                let p: Pod = serde_json::from_slice(std::hint::black_box(&json)).expect("pod");
                std::hint::black_box(p);
            }),
        ),
        (
            "slim struct from protobuf",
            measure(n, || {
                let p: Pod = kubestate_objects::proto::from_slice(std::hint::black_box(&proto), msg)
                    .expect("pod");
                std::hint::black_box(p);
            }),
        ),
        (
            "generator (decode + families) from JSON",
            measure(n, || {
                gen.generate_encoded(std::hint::black_box(&json), Encoding::Json, &mut m)
                    .expect("pod");
            }),
        ),
        (
            "generator (decode + families) from protobuf",
            measure(n, || {
                gen.generate_encoded(std::hint::black_box(&proto), Encoding::Protobuf, &mut m)
                    .expect("pod");
            }),
        ),
    ];
    println!("| path | µs/obj | allocs/obj |\n|---|---:|---:|");
    for (name, (us, allocs)) in rows {
        println!("| {name} | {us:.2} | {allocs:.0} |");
    }
}
