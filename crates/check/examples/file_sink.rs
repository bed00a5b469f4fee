//! A custom sink that writes every change the engine makes as a JSON line to a file, next to
//! the structured store, against a simulated cluster (no real cluster needed).
//!
//! `cargo run -p kubestate-check --example file_sink -- /tmp/changes.jsonl`

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::{Config, Engine};
use kubestate_metric::ObjectMetrics;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_store::{ObjectSink, SinkFactory, StoreInfo, StructuredStoreFactory, TeeFactory};
use parking_lot::Mutex;

/// Appends `{"resource":…,"uid":…,"op":"apply","series":N}` per event.
struct FileSink {
    resource: String,
    out: Arc<Mutex<std::io::BufWriter<std::fs::File>>>,
}

impl FileSink {
    fn line(&self, uid: &str, op: &str, series: usize) {
        let line =
            serde_json::json!({"resource": self.resource, "uid": uid, "op": op, "series": series});
        // A write error is reported, not fatal: this is an example sink.
        if let Err(e) = writeln!(self.out.lock(), "{line}") {
            eprintln!("file sink: {e}");
        }
    }
}

impl ObjectSink for FileSink {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        self.line(uid, "apply", obj.sample_count());
    }
    fn delete(&self, uid: &str) {
        self.line(uid, "delete", 0);
    }
}

struct FileSinkFactory(Arc<Mutex<std::io::BufWriter<std::fs::File>>>);

impl SinkFactory for FileSinkFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
        Arc::new(FileSink {
            resource: info.resource.clone(),
            out: self.0.clone(),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "kubestate-changes.jsonl".into());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::for_pods(200)),
        churn_per_sec: 20.0,
        ..SimConfig::default()
    })
    .await?;
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse()?))?;

    let file = Arc::new(Mutex::new(std::io::BufWriter::new(std::fs::File::create(
        &path,
    )?)));
    let structured = StructuredStoreFactory::new();
    // Both sinks see every event: the file gets a log, the structured store the state.
    let factory = TeeFactory(
        Arc::new(FileSinkFactory(file.clone())),
        Arc::new(structured.clone()),
    );
    let engine = Engine::new(
        &Config {
            resources: vec!["pods".into(), "nodes".into()],
            ..Config::default()
        },
        &factory,
    )?;
    let running = engine.spawn(client);
    tokio::time::timeout(Duration::from_secs(30), engine.telemetry().wait_synced()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // let some churn through
    file.lock().flush()?;
    let snap = structured.snapshot();
    println!(
        "wrote {path}; the store holds {} objects and {} series",
        snap.object_count(),
        snap.series_count()
    );
    running.shutdown();
    sim.shutdown().await;
    Ok(())
}
