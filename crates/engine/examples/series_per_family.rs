//! Counts series per family through a custom store, against a simulated cluster.
//!
//! `cargo run -p kubestate-engine --example series_per_family`
//!
//! The engine calls the store with each object's generated families; this store keeps only a
//! count per family (a real one might write to a database). No HTTP, no text rendering.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::{
    Config, Engine, FamilyDesc, ObjectMetrics, ObjectStore, StoreFactory, StoreInfo,
};
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use parking_lot::Mutex;

/// Series per family of one store: object uid → samples per family, so updates and deletes
/// keep the totals exact.
struct CountingStore {
    families: Arc<[FamilyDesc]>,
    per_object: Mutex<HashMap<String, Vec<usize>>>,
}

impl ObjectStore for CountingStore {
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

impl CountingStore {
    fn totals(&self, into: &mut BTreeMap<String, usize>) {
        for counts in self.per_object.lock().values() {
            for (f, n) in self.families.iter().zip(counts) {
                *into.entry(f.name.clone()).or_default() += n;
            }
        }
    }
}

#[derive(Default)]
struct Factory(Mutex<Vec<Arc<CountingStore>>>);

impl StoreFactory for Factory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        let store = Arc::new(CountingStore {
            families: info.families.clone(),
            per_object: Mutex::default(),
        });
        self.0.lock().push(store.clone());
        store
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let totals = count(300).await?;
    for (family, n) in &totals {
        println!("{n:>7}  {family}");
    }
    println!("{:>7}  series in total", totals.values().sum::<usize>());
    Ok(())
}

/// Series per family of pods, nodes and deployments in a synthesized world of `pods` pods.
async fn count(pods: usize) -> anyhow::Result<BTreeMap<String, usize>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(SynthSpec::for_pods(pods)),
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
    for store in factory.0.lock().iter() {
        store.totals(&mut totals);
    }
    running.shutdown();
    sim.shutdown().await;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    /// The example runs (`[[example]] test = true`): every pod has its info series.
    #[tokio::test]
    async fn counts_series_per_family() {
        let totals = super::count(40).await.unwrap();
        assert_eq!(totals.get("kube_pod_info"), Some(&40));
        assert!(totals.keys().any(|f| f.starts_with("kube_node_")));
        assert!(totals.keys().any(|f| f.starts_with("kube_deployment_")));
    }
}
