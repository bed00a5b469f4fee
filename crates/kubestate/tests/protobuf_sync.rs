//! Initial sync time of a synthesized cluster with the API server answering in JSON vs
//! protobuf. Ignored by default; run in release:
//!
//! ```sh
//! SYNC_PRESET=medium cargo test --release -p kubestate --test protobuf_sync -- --ignored --nocapture
//! ```
//!
//! The sim runs in the same process (its bytes are pre-serialized, so it only copies), and
//! each content type is measured `SYNC_ROUNDS` times (default 3), alternating.

use std::time::{Duration, Instant};

use kubestate::options::ExporterOptions;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

async fn sync_once(base_url: &str, content_type: &str) -> Duration {
    let mut opts = ExporterOptions::parse_args(Vec::<String>::new().iter()).expect("default flags");
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    opts.api_content_type = content_type.into();
    let url = base_url.parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    let t = Instant::now();
    let exporter = kubestate::exporter::start(&opts, client)
        .await
        .expect("exporter starts");
    tokio::time::timeout(Duration::from_secs(600), exporter.wait_synced())
        .await
        .expect("initial sync within 600 s");
    let took = t.elapsed();
    exporter.stop().await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run in release with --ignored --nocapture"]
async fn initial_sync_json_vs_protobuf() {
    let preset = std::env::var("SYNC_PRESET").unwrap_or_else(|_| "medium".into());
    let rounds: usize = std::env::var("SYNC_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let built = Instant::now();
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::preset(&preset).expect("preset")),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let objects = sim.stats().objects;
    println!(
        "preset {preset}: {objects} objects, world built in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let mut times: Vec<(&str, Vec<f64>)> = vec![("json", Vec::new()), ("protobuf", Vec::new())];
    for _ in 0..rounds {
        for (ct, v) in &mut times {
            let d = sync_once(&sim.base_url(), ct).await;
            v.push(d.as_secs_f64());
        }
    }
    println!("| content type | initial sync (s), each round | median (s) |\n|---|---|---:|");
    for (ct, mut v) in times {
        let each: Vec<String> = v.iter().map(|t| format!("{t:.2}")).collect();
        v.sort_by(f64::total_cmp);
        println!("| {ct} | {} | {:.2} |", each.join(", "), v[v.len() / 2]);
    }
    let st = sim.stats();
    println!(
        "sim answered {} protobuf and {} JSON resource requests",
        st.protobuf_responses, st.json_responses
    );
    sim.shutdown().await;
}
