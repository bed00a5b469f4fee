//! The engine's list/watches for any sink, as the exporter runs them: the shard from
//! `--shard/--total-shards` or, with `--pod/--pod-namespace`, from this pod's StatefulSet
//! (re-sharded when it scales), and the custom resources of
//! `--custom-resource-state-config[-file]`. The exporter feeds the text store through it, the
//! check its structured store, and the two together in one process.

use std::sync::Arc;

use kubestate_engine::{CustomResources, Engine, Running, Telemetry};
use kubestate_store::StoreFactory;
use tracing::info;

use crate::options::ExporterOptions;

/// The engine's stores, created but not yet watching.
pub struct Prepared {
    engine: Engine,
    /// The StatefulSet that decides the shard (automatic sharding).
    statefulset: Option<String>,
    sinks: Arc<dyn StoreFactory>,
    namespace: String,
    pod: String,
}

/// How the watches run.
enum Run {
    /// A fixed shard: the watch tasks themselves.
    Fixed(Running),
    /// Automatic sharding: a task that owns the watches and re-shards them.
    Resharding(tokio::task::JoinHandle<()>),
}

/// Running watches; [`Watches::stop`] (or dropping it) stops them.
pub struct Watches {
    telemetry: Arc<Telemetry>,
    run: Option<Run>,
    custom: Option<CustomResources>,
}

/// Works out the shard (asking the API server for `--pod`'s StatefulSet when automatic
/// sharding is configured; it overrides `--shard/--total-shards`, as in KSM) and creates the
/// engine's stores through `sinks`.
///
/// # Errors
/// Invalid options, or a `--pod` that cannot be read or is not in a StatefulSet.
pub async fn prepare(
    opts: &ExporterOptions,
    client: &kube::Client,
    sinks: Arc<dyn StoreFactory>,
) -> anyhow::Result<Prepared> {
    let mut config = opts.engine_config()?;
    let statefulset = if opts.pod.is_empty() || opts.pod_namespace.is_empty() {
        None
    } else {
        let (sharding, statefulset) =
            kubestate_engine::autoshard::discover(client, &opts.pod_namespace, &opts.pod).await?;
        info!(shard = sharding.shard, total = sharding.total, %statefulset, "automatic sharding");
        config.sharding = sharding;
        Some(statefulset)
    };
    let engine = Engine::new(&config, &*sinks)?;
    Ok(Prepared {
        engine,
        statefulset,
        sinks,
        namespace: opts.pod_namespace.clone(),
        pod: opts.pod.clone(),
    })
}

impl Prepared {
    /// The engine's counters and readiness.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        self.engine.telemetry()
    }

    /// Number of built-in stores.
    pub fn store_count(&self) -> usize {
        self.engine.stores().count()
    }

    /// Starts the watches (and custom resource discovery) on the current tokio runtime.
    ///
    /// # Errors
    /// An invalid `--metric-allowlist`/`--metric-denylist` for custom resources.
    pub fn start(self, client: kube::Client) -> anyhow::Result<Watches> {
        let telemetry = self.engine.telemetry().clone();
        // Custom resource stores come and go at run time, through the same factory.
        let custom = CustomResources::start(&self.engine, client.clone(), self.sinks)?;
        let run = match self.statefulset {
            None => Run::Fixed(self.engine.spawn(client)),
            Some(statefulset) => Run::Resharding(kubestate_engine::autoshard::supervise(
                client,
                self.engine,
                self.namespace,
                self.pod,
                statefulset,
            )),
        };
        Ok(Watches {
            telemetry,
            run: Some(run),
            custom,
        })
    }
}

impl Watches {
    /// The engine's counters and readiness.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// Waits until every store finished its initial sync.
    pub async fn wait_synced(&self) {
        self.telemetry.wait_synced().await;
    }

    /// Stops the watches.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.custom = None;
        match self.run.take() {
            Some(Run::Fixed(running)) => running.shutdown(),
            Some(Run::Resharding(task)) => task.abort(),
            None => {}
        }
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        self.halt();
    }
}
