//! Counts series per family through a custom sink, against a simulated cluster.
//!
//! `cargo run -p kubestate-engine --example series_per_family`
//!
//! The engine calls the sink with each object's generated families; this sink keeps only a
//! count per family (a real one might write to a database). No HTTP, no text rendering.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::{Config, Engine};
use kubestate_metric::ObjectMetrics;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_store::{ObjectSink, SinkFactory, StoreInfo};
use parking_lot::Mutex;

/// Series per family of one store: object uid → samples per family, so updates and deletes
/// keep the totals exact.
struct CountingSink {
    families: Arc<[kubestate_metric::FamilyDesc]>,
    per_object: Mutex<HashMap<String, Vec<usize>>>,
}

impl ObjectSink for CountingSink {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        let counts = obj.families().map(|f| f.len()).collect();
        self.per_object.lock().insert(uid.to_string(), counts);
    }
    fn delete(&self, uid: &str) {
        self.per_object.lock().remove(uid);
    }
    fn relist_started(&self) {
        self.per_object.lock().clear();
    }
}

impl CountingSink {
    fn totals(&self, into: &mut BTreeMap<String, usize>) {
        for counts in self.per_object.lock().values() {
            for (f, n) in self.families.iter().zip(counts) {
                *into.entry(f.name.clone()).or_default() += n;
            }
        }
    }
}

#[derive(Default)]
struct Factory(Mutex<Vec<Arc<CountingSink>>>);

impl SinkFactory for Factory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
        let sink = Arc::new(CountingSink {
            families: info.families.clone(),
            per_object: Mutex::default(),
        });
        self.0.lock().push(sink.clone());
        sink
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(SynthSpec::for_pods(300)),
        ..SimConfig::default()
    })
    .await?;
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse()?))?;

    let factory = Factory::default();
    let config = Config {
        resources: vec!["pods".into(), "nodes".into(), "deployments".into()],
        ..Config::default()
    };
    let engine = Engine::new(&config, &factory)?;
    let running = engine.spawn(client);
    tokio::time::timeout(Duration::from_secs(30), engine.telemetry().wait_synced()).await?;

    let mut totals = BTreeMap::new();
    for sink in factory.0.lock().iter() {
        sink.totals(&mut totals);
    }
    for (family, n) in &totals {
        println!("{n:>7}  {family}");
    }
    println!("{:>7}  series in total", totals.values().sum::<usize>());
    running.shutdown();
    sim.shutdown().await;
    Ok(())
}
