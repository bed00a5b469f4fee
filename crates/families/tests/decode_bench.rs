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

/// (µs per call, allocations per call) of `f` over `n` calls; `DECODE_BENCH_ONLY=protobuf`
/// runs (and times) only the paths whose name contains that word.
fn measure(name: &str, n: u32, mut f: impl FnMut()) -> (f64, f64) {
    if std::env::var("DECODE_BENCH_ONLY").is_ok_and(|w| !name.contains(&w)) {
        return (f64::NAN, f64::NAN);
    }
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

/// A `fieldsV1` set shaped like the API server's: `f:` keys for members, `k:{"name":…}` for
/// list items with a name, `.` for the node itself.
fn fields_v1(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            out.insert(".".into(), json!({}));
            for (k, c) in m {
                out.insert(format!("f:{k}"), fields_v1(c));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out = Map::new();
            for it in items {
                if let Some(name) = it.get("name").and_then(Value::as_str) {
                    out.insert(format!("k:{{\"name\":\"{name}\"}}"), fields_v1(it));
                }
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

/// The pod as a real API server serves it: with the managedFields the conformance corpus
/// strips (three managers: the controller for metadata and spec, kubelet for status, kubectl
/// for annotations).
fn with_managed_fields(pod: &serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let mut p = pod.clone();
    let entry = |manager: &str, sub: Option<&str>, fields: serde_json::Value| {
        let mut e = json!({"manager": manager, "operation": "Update", "apiVersion": "v1",
            "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields});
        if let Some(s) = sub {
            e["subresource"] = json!(s);
        }
        e
    };
    let managed = json!([
        entry(
            "kube-controller-manager",
            None,
            json!({"f:metadata": fields_v1(&pod["metadata"]), "f:spec": fields_v1(&pod["spec"])})
        ),
        entry(
            "kubelet",
            Some("status"),
            json!({"f:status": fields_v1(&pod["status"])})
        ),
        entry(
            "kubectl-client-side-apply",
            None,
            json!({"f:metadata": {"f:annotations": fields_v1(&pod["metadata"]["annotations"])}})
        ),
    ]);
    p["metadata"]["managedFields"] = managed;
    p
}

#[test]
#[ignore = "a benchmark: run in release with --ignored --nocapture"]
fn decode_one_realistic_pod() {
    let stripped = find_pod();
    run(&stripped, "as in the conformance corpus (no managedFields)");
    run(
        &with_managed_fields(&stripped),
        "as served by an API server (3 managedFields entries)",
    );
}

fn find_pod() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/cases/realistic-small-cluster/objects.json");
    let text = std::fs::read_to_string(path).expect("conformance corpus");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    // The largest pod of the world.
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .max_by_key(|o| o.to_string().len())
        .expect("a pod")
        .clone()
}

fn run(pod: &serde_json::Value, what: &str) {
    let json = serde_json::to_vec(pod).expect("JSON");
    let proto = kubestate_sim::protobuf_message(pod)
        .expect("encodes")
        .expect("built-in");
    let msg = kubestate_protoschema::kind("v1", "Pod").expect("Pod schema");
    let gen = resource("pods")
        .expect("pods")
        .generator(Selection::default());
    let mut m = ObjectMetrics::new();
    let n = 20_000;
    let n = std::env::var("DECODE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    println!(
        "\npod {}/{}, {what}: {} bytes JSON, {} bytes protobuf",
        pod["metadata"]["namespace"].as_str().unwrap_or(""),
        pod["metadata"]["name"].as_str().unwrap_or(""),
        json.len(),
        proto.len()
    );
    let rows = [
        (
            "slim struct from JSON",
            measure("slim struct from JSON", n, || {
                let p: Pod = serde_json::from_slice(std::hint::black_box(&json)).expect("pod");
                std::hint::black_box(p);
            }),
        ),
        (
            "slim struct from protobuf, generic decoder",
            measure("slim struct from protobuf, generic decoder", n, || {
                let p: Pod =
                    kubestate_objects::proto::from_slice(std::hint::black_box(&proto), msg)
                        .expect("pod");
                std::hint::black_box(p);
            }),
        ),
        (
            "slim struct from protobuf, hand-written decoder",
            measure("slim struct from protobuf, hand-written decoder", n, || {
                let p = kubestate_objects::proto::decode_pod(std::hint::black_box(&proto))
                    .expect("pod");
                std::hint::black_box(p);
            }),
        ),
        (
            "generator (decode + families) from JSON",
            measure("generator (decode + families) from JSON", n, || {
                gen.generate_encoded(std::hint::black_box(&json), Encoding::Json, &mut m)
                    .expect("pod");
            }),
        ),
        (
            "generator (decode + families) from protobuf",
            measure("generator (decode + families) from protobuf", n, || {
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
