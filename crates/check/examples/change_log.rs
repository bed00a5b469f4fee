//! A custom store (an engine `ObjectStore`) that writes every change the engine makes as a JSON line to a file, next to
//! the structured store, against a simulated cluster (no real cluster needed).
//!
//! `cargo run -p kubestate-check --example change_log -- /tmp/changes.jsonl`

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::{
    Config, Engine, ObjectMetrics, ObjectStore, StoreFactory, StoreInfo, StructuredStoreFactory,
    TeeFactory,
};
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use parking_lot::Mutex;

/// Appends `{"resource":…,"uid":…,"op":"apply","series":N}` per event.
struct ChangeLog {
    resource: String,
    out: Arc<Mutex<std::io::BufWriter<std::fs::File>>>,
}

impl ChangeLog {
    fn line(&self, uid: &str, op: &str, series: usize) {
        let line =
            serde_json::json!({"resource": self.resource, "uid": uid, "op": op, "series": series});
        // A write error is reported, not fatal: this is an example store.
        if let Err(e) = writeln!(self.out.lock(), "{line}") {
            eprintln!("change log: {e}");
        }
    }
}

impl ObjectStore for ChangeLog {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        self.line(uid, "apply", obj.sample_count());
    }
    fn delete(&self, uid: &str) {
        self.line(uid, "delete", 0);
    }
}

struct ChangeLogFactory(Arc<Mutex<std::io::BufWriter<std::fs::File>>>);

impl StoreFactory for ChangeLogFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        Arc::new(ChangeLog {
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
    let (objects, series) = run(std::path::Path::new(&path), 200).await?;
    println!("wrote {path}; the store holds {objects} objects and {series} series");
    Ok(())
}

/// Logs the changes of a world of `pods` pods (and its nodes) to `path` for a while; returns
/// the structured store's object and series counts at the end.
async fn run(path: &std::path::Path, pods: usize) -> anyhow::Result<(usize, usize)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::for_pods(pods)),
        churn_per_sec: 20.0,
        ..SimConfig::default()
    })
    .await?;
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse()?))?;

    let file = Arc::new(Mutex::new(std::io::BufWriter::new(std::fs::File::create(
        path,
    )?)));
    let structured = StructuredStoreFactory::new();
    // Both stores see every event: the file gets a log, the structured store the state.
    let factory = TeeFactory(
        Arc::new(ChangeLogFactory(file.clone())),
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
    running.shutdown();
    sim.shutdown().await;
    Ok((snap.object_count(), snap.series_count()))
}

#[cfg(test)]
mod tests {
    /// The example runs (`[[example]] test = true`): every object's first apply is logged,
    /// and the structured store fed through the same tee holds them.
    #[tokio::test]
    async fn logs_every_change() {
        let path =
            std::env::temp_dir().join(format!("kubestate-change-log-{}.jsonl", std::process::id()));
        let (objects, series) = super::run(&path, 40).await.unwrap();
        let log = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let applies = log
            .lines()
            .filter(|l| l.contains(r#""op":"apply""#))
            .count();
        assert!(objects >= 40, "{objects} objects");
        assert!(series > objects, "{series} series");
        assert!(
            applies >= objects,
            "{applies} applies logged for {objects} objects"
        );
        assert!(log
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    }
}
