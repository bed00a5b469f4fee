//! The engine's list/watches for any sink, as the exporter runs them: the shard from
//! `--shard/--total-shards` or, with `--pod/--pod-namespace`, from this pod's StatefulSet
//! (re-sharded when it scales), and the custom resources of
//! `--custom-resource-state-config[-file]`. The exporter feeds the text store through it, the
//! check its structured store, and the two together in one process. [`Control`] changes them
//! while they run (a `--config` reload).

use std::sync::Arc;

use kubestate_engine::{Config, CustomResources, Engine, Live, Reconfigured, Telemetry};
use kubestate_store::StoreFactory;
use parking_lot::Mutex;
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

/// Running watches; [`Watches::stop`] (or dropping it) stops them.
pub struct Watches {
    telemetry: Arc<Telemetry>,
    control: Arc<Control>,
}

/// Changes the running watches while they run (configuration reloads); shared by
/// [`Watches`] and the task that reloads `--config`.
pub struct Control {
    live: Arc<Mutex<Live>>,
    sinks: Arc<dyn StoreFactory>,
    client: kube::Client,
    /// The shard comes from `--pod`'s StatefulSet, not from the configuration.
    autoshard: bool,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Automatic sharding: the task that re-shards the watches.
    supervisor: Option<tokio::task::JoinHandle<()>>,
    custom: Option<CustomResources>,
    stopped: bool,
}

/// What happened to the custom resources on a reconfiguration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomChange {
    /// Nothing to do.
    Kept,
    /// Started (a configuration appeared).
    Started,
    /// The new configuration replaced the old one's stores.
    Reloaded,
    /// Restarted with the new settings (file, namespaces, filters or list options changed).
    Restarted,
    /// Stopped (no configuration any more).
    Stopped,
}

/// What [`Control::reconfigure`] did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The built-in stores.
    pub built_in: Reconfigured,
    /// The custom resources.
    pub custom: CustomChange,
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
        let custom = CustomResources::start(&self.engine, client.clone(), self.sinks.clone())?;
        let live = Arc::new(Mutex::new(Live {
            engine: self.engine,
            running: None,
        }));
        let supervisor = match self.statefulset {
            None => {
                let mut l = live.lock();
                l.running = Some(l.engine.spawn(client.clone()));
                None
            }
            Some(statefulset) => Some(kubestate_engine::autoshard::supervise(
                client.clone(),
                live.clone(),
                self.namespace,
                self.pod,
                statefulset,
            )),
        };
        Ok(Watches {
            telemetry,
            control: Arc::new(Control {
                autoshard: supervisor.is_some(),
                live,
                sinks: self.sinks,
                client,
                inner: Mutex::new(Inner {
                    supervisor,
                    custom,
                    stopped: false,
                }),
            }),
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

    /// What changes the watches while they run.
    pub fn control(&self) -> Arc<Control> {
        self.control.clone()
    }

    /// Stops the watches.
    pub fn stop(self) {
        self.control.halt();
    }
}

impl Control {
    /// Makes the running watches follow `config` (see [`Engine::reconfigure`] for the
    /// built-in stores). With automatic sharding the shard stays the StatefulSet's.
    /// `custom_source_changed` says whether the inline custom-resource-state configuration
    /// changed (a file is followed by the custom resources themselves).
    ///
    /// # Errors
    /// An invalid configuration (nothing changed), or watches already stopped.
    pub fn reconfigure(
        &self,
        mut config: Config,
        custom_source_changed: bool,
    ) -> anyhow::Result<Applied> {
        let mut inner = self.inner.lock();
        if inner.stopped {
            anyhow::bail!("the watches are stopped");
        }
        let mut live = self.live.lock();
        let old = live.engine.config().clone();
        if self.autoshard {
            config.sharding = old.sharding;
        }
        let built_in = live.reconfigure(&config, &*self.sinks)?;
        let wants = config.custom_resources.is_some() || config.custom_resources_file.is_some();
        let custom = match (&inner.custom, wants) {
            (None, false) => CustomChange::Kept,
            (Some(_), false) => CustomChange::Stopped,
            (None, true) => CustomChange::Started,
            (Some(_), true) if custom_inputs_differ(&old, &config) => CustomChange::Restarted,
            (Some(_), true) if custom_source_changed && config.custom_resources_file.is_none() => {
                CustomChange::Reloaded
            }
            (Some(_), true) => CustomChange::Kept,
        };
        match custom {
            CustomChange::Kept => {}
            CustomChange::Stopped => {
                if let Some(c) = inner.custom.take() {
                    c.remove();
                }
            }
            CustomChange::Reloaded => {
                if let (Some(c), Some(cfg)) = (&inner.custom, &config.custom_resources) {
                    c.reload(cfg.clone());
                }
            }
            CustomChange::Started | CustomChange::Restarted => {
                // Stop before starting, so no custom resource has two stores at once.
                if let Some(c) = inner.custom.take() {
                    c.remove();
                }
                inner.custom =
                    CustomResources::start(&live.engine, self.client.clone(), self.sinks.clone())?;
            }
        }
        if custom != CustomChange::Kept {
            info!(change = ?custom, "custom resources follow the new configuration");
        }
        Ok(Applied { built_in, custom })
    }

    fn halt(&self) {
        let mut inner = self.inner.lock();
        inner.stopped = true;
        inner.custom = None;
        if let Some(task) = inner.supervisor.take() {
            task.abort();
        }
        self.live.lock().running = None;
    }
}

/// Whether the custom resources must start over: what they were started with (the file,
/// namespaces, field selector, family filters, list options) differs.
fn custom_inputs_differ(a: &Config, b: &Config) -> bool {
    a.custom_resources_file != b.custom_resources_file
        || a.namespaces != b.namespaces
        || a.field_selector() != b.field_selector()
        || a.metric_allowlist != b.metric_allowlist
        || a.metric_denylist != b.metric_denylist
        || a.use_apiserver_cache != b.use_apiserver_cache
        || a.object_limit != b.object_limit
        || a.watch_list != b.watch_list
        || a.page_size != b.page_size
}

impl Drop for Watches {
    fn drop(&mut self) {
        self.control.halt();
    }
}
