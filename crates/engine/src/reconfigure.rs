//! Changing a running engine's configuration without starting over: each store does only
//! what the change needs.
//!
//! * A store whose resource is no longer enabled (or whose namespace is gone) stops; a new
//!   one starts.
//! * A store that only loses families (a metric denylist grows, an allowlist shrinks) keeps
//!   its objects: the store factory trims them in place ([`StoreFactory::project`]), so
//!   nothing is listed again.
//! * A store whose families grow, or whose label or annotation allowlist changes, needs its
//!   objects again (stores keep rendered lines, not objects): it is relisted into a new store.
//! * A store whose list/watch requests change (field selector from `--namespaces-denylist`
//!   or `--node`, the shard, list options) restarts its list/watch; the relist replaces its
//!   contents in one swap.
//!
//! Everything else keeps running untouched.

use kubestate_store::{StoreFactory, StoreInfo};
use tracing::info;

use crate::config::{Config, ConfigError, StorePlan};
use crate::feed::Route;
use crate::{plan_key, store_info, Engine, Running, Slot, StoreKey};

/// What [`Engine::reconfigure`] did, store by store (`pods`, or `pods/NAMESPACE` for the
/// stores of `--namespaces`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconfigured {
    /// Stores started (a resource or namespace was added).
    pub started: Vec<String>,
    /// Stores stopped (a resource or namespace was removed).
    pub stopped: Vec<String>,
    /// Stores that dropped families without a relist: their objects were trimmed in place.
    pub trimmed: Vec<String>,
    /// Stores relisted into a new store: families were added, or the label or annotation
    /// allowlist changed.
    pub regenerated: Vec<String>,
    /// Stores whose list/watch restarted with the same families: the field selector, the
    /// shard or the list options changed.
    pub restarted: Vec<String>,
}

impl Reconfigured {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.started.is_empty()
            && self.stopped.is_empty()
            && self.trimmed.is_empty()
            && self.regenerated.is_empty()
            && self.restarted.is_empty()
    }
}

/// An engine and its running watches as one value, for whoever changes them while they run
/// (automatic sharding, configuration reloads): share it behind a mutex.
pub struct Live {
    /// The engine.
    pub engine: Engine,
    /// Its watches, once started.
    pub running: Option<Running>,
}

impl Live {
    /// [`Engine::reconfigure`] on the running watches.
    ///
    /// # Errors
    /// An invalid configuration; nothing was changed.
    pub fn reconfigure(
        &mut self,
        config: &Config,
        factory: &dyn StoreFactory,
    ) -> Result<Reconfigured, ConfigError> {
        self.engine
            .reconfigure(config, factory, self.running.as_mut())
    }
}

fn name(key: &StoreKey) -> String {
    match &key.1 {
        Some(ns) => format!("{}/{ns}", key.0),
        None => key.0.to_string(),
    }
}

/// `keep` such that `to[i] == from[keep[i]]` with `keep` increasing, if `to` is `from`
/// with some names left out.
fn subsequence(from: &[&str], to: &[&str]) -> Option<Vec<usize>> {
    let mut keep = Vec::with_capacity(to.len());
    let mut at = 0;
    for name in to {
        let i = at + from[at..].iter().position(|f| f == name)?;
        keep.push(i);
        at = i + 1;
    }
    Some(keep)
}

/// Whether list/watch requests differ between the two configurations for every store.
fn requests_differ(a: &Config, b: &Config) -> bool {
    a.sharding != b.sharding
        || a.use_apiserver_cache != b.use_apiserver_cache
        || a.object_limit != b.object_limit
        || a.watch_list != b.watch_list
        || a.page_size != b.page_size
        || a.protobuf != b.protobuf
}

impl Engine {
    /// Makes the engine (and `running`, its watches, when started) follow `config`, doing for
    /// each store only what the change needs (see the module docs): stores of removed
    /// resources or namespaces stop, new ones start, stores that only lose families are
    /// trimmed without a relist, stores whose families grow or whose label/annotation
    /// allowlist changes are relisted into a new store, and stores whose requests change
    /// restart their list/watch. Custom resources are not handled here (see
    /// [`crate::CustomResources`]). `factory` must be the one the stores came from.
    ///
    /// # Errors
    /// An invalid configuration; nothing was changed.
    pub fn reconfigure(
        &mut self,
        config: &Config,
        factory: &dyn StoreFactory,
        mut running: Option<&mut Running>,
    ) -> Result<Reconfigured, ConfigError> {
        let plan = config.plan()?;
        let old = std::mem::replace(&mut self.config, config.clone());
        let restart_all = requests_differ(&old, config);
        if old.sharding != config.sharding {
            self.telemetry.set_sharding(config.sharding);
        }
        let mut out = Reconfigured::default();
        let mut previous: Vec<Option<Slot>> = std::mem::take(&mut self.stores)
            .into_iter()
            .map(Some)
            .collect();
        let mut to_start: Vec<StoreKey> = Vec::new();
        let mut slots = Vec::with_capacity(plan.len());
        for p in plan {
            let key = plan_key(&p);
            let found = previous
                .iter_mut()
                .find(|s| s.as_ref().is_some_and(|s| s.key() == key))
                .and_then(Option::take);
            let Some(mut slot) = found else {
                let slot = self.create_slot(p, factory);
                // A store added while running does not make a ready exporter unready.
                slot.stats.set_gates_readiness(false);
                out.started.push(name(&key));
                to_start.push(key);
                slots.push(slot);
                continue;
            };
            let resource = p.resource.name();
            let same_keys = [
                (
                    "--metric-labels-allowlist",
                    &old.labels_allowlist,
                    &config.labels_allowlist,
                ),
                (
                    "--metric-annotations-allowlist",
                    &old.annotations_allowlist,
                    &config.annotations_allowlist,
                ),
            ]
            .into_iter()
            .all(|(flag, a, b)| {
                // Both were validated by their plans.
                a.for_resource(flag, resource).ok() == b.for_resource(flag, resource).ok()
            });
            let info = store_info(&p);
            let from: Vec<&str> = slot.info.families.iter().map(|f| &*f.name).collect();
            let to: Vec<&str> = info.families.iter().map(|f| &*f.name).collect();
            let relist = restart_all || slot.plan.field_selector != p.field_selector;
            if same_keys && from == to {
                // The same selection: the running generator stays.
                let generator = slot.plan.generator.clone();
                slot.plan = StorePlan { generator, ..p };
            } else if same_keys && trim(&slot, &p, &info, &from, &to, factory) {
                out.trimmed.push(name(&key));
                slot.plan = p;
                slot.info = info;
            } else {
                // Families to generate again: a new store, filled by a relist.
                if let Some(r) = running.as_deref_mut() {
                    r.stop(&key);
                }
                factory.remove(&slot.info);
                let sink = factory.create(&info);
                slot.route = Route::new(p.generator.clone(), sink);
                slot.plan = p;
                slot.info = info;
                out.regenerated.push(name(&key));
                to_start.push(key);
                slots.push(slot);
                continue;
            }
            if relist {
                out.restarted.push(name(&key));
                to_start.push(key);
            }
            slots.push(slot);
        }
        for slot in previous.into_iter().flatten() {
            if let Some(r) = running.as_deref_mut() {
                r.stop(&slot.key());
            }
            factory.remove(&slot.info);
            self.telemetry.remove(&slot.stats);
            out.stopped.push(name(&slot.key()));
        }
        self.stores = slots;
        if let Some(r) = running {
            for key in &to_start {
                if let Some(slot) = self.stores.iter().find(|s| s.key() == *key) {
                    r.start(self, slot);
                }
            }
        }
        if !out.is_empty() {
            info!(
                started = ?out.started,
                stopped = ?out.stopped,
                trimmed = ?out.trimmed,
                regenerated = ?out.regenerated,
                restarted = ?out.restarted,
                "configuration applied to the running stores"
            );
        }
        Ok(out)
    }
}

/// Trims the store of `slot` to the families of `to` (a subsequence of its families
/// `from`) in place, and routes its watch to the new generator and store; `false` when the
/// factory cannot, or a relist is in progress.
fn trim(
    slot: &Slot,
    p: &StorePlan,
    info: &StoreInfo,
    from: &[&str],
    to: &[&str],
    factory: &dyn StoreFactory,
) -> bool {
    let Some(keep) = subsequence(from, to) else {
        return false;
    };
    if !factory.can_project() {
        return false;
    }
    // Held while trimming: the watch applies nothing meanwhile.
    let mut route = slot.route.lock();
    if route.relisting {
        return false;
    }
    let Some(sink) = factory.project(&slot.info, info, &keep) else {
        return false;
    };
    route.generator = p.generator.clone();
    route.sink = sink;
    route.version += 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use kubestate_metric::Format;
    use kubestate_store::{Exposition, ResourceFilter, TextStoreFactory};

    fn body(e: &Exposition) -> String {
        let mut out = Vec::new();
        e.write_all(Format::Text, &ResourceFilter::default(), &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    fn config(resources: &[&str]) -> Config {
        Config {
            resources: resources.iter().map(|r| r.to_string()).collect(),
            ..Config::default()
        }
    }

    /// Each kind of change does what it needs and no more, and what stays is untouched.
    #[test]
    fn changes_touch_only_the_stores_they_concern() {
        let exposition = Arc::new(Exposition::new());
        let factory = TextStoreFactory::new(exposition.clone());
        let mut c = config(&["configmaps", "secrets"]);
        let mut engine = Engine::new(&c, &factory).expect("engine");
        let cm = br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"b","uid":"u1","resourceVersion":"3","labels":{"app":"x"}}}"#;
        let secret = br#"{"kind":"Secret","apiVersion":"v1","type":"Opaque","metadata":{"name":"s","namespace":"b","uid":"u2","resourceVersion":"4"}}"#;
        engine.replace_all([&cm[..], &secret[..]]);
        let before = body(&exposition);
        assert!(before.contains("kube_configmap_info{") && before.contains("kube_secret_info{"));

        // A family denied: trimmed in place, the objects stay.
        c.metric_denylist = vec!["kube_configmap_info".into()];
        let r = engine.reconfigure(&c, &factory, None).expect("valid");
        assert_eq!(r.trimmed, ["configmaps"]);
        assert!(r.started.is_empty() && r.regenerated.is_empty() && r.stopped.is_empty());
        let after = body(&exposition);
        assert!(!after.contains("kube_configmap_info"), "{after}");
        assert!(after.contains("kube_configmap_metadata_resource_version{"));
        let secret_lines = |b: &str| -> Vec<String> {
            b.lines()
                .filter(|l| l.contains("secret"))
                .map(String::from)
                .collect()
        };
        assert_eq!(secret_lines(&before), secret_lines(&after));
        // Nothing changed: nothing done.
        assert!(engine
            .reconfigure(&c, &factory, None)
            .expect("valid")
            .is_empty());

        // The family allowed again: it needs the objects, so the store is new (a running
        // engine relists it).
        c.metric_denylist.clear();
        let r = engine.reconfigure(&c, &factory, None).expect("valid");
        assert_eq!(r.regenerated, ["configmaps"]);
        // A label allowlist for one resource regenerates that resource only.
        c.labels_allowlist =
            kubestate_families::Allowlist::parse("--metric-labels-allowlist", "secrets=[app]")
                .expect("allowlist");
        let r = engine.reconfigure(&c, &factory, None).expect("valid");
        assert_eq!(r.regenerated, ["secrets"]);

        // Resources come and go; a field selector change restarts the namespaced ones.
        let mut c2 = config(&["configmaps", "namespaces"]);
        c2.labels_allowlist = c.labels_allowlist.clone();
        c2.labels_allowlist.0.remove("secrets");
        c2.namespaces_denylist = vec!["kube-system".into()];
        let r = engine.reconfigure(&c2, &factory, None).expect("valid");
        assert_eq!(r.started, ["namespaces"]);
        assert_eq!(r.stopped, ["secrets"]);
        assert_eq!(r.restarted, ["configmaps"]);
        assert!(!body(&exposition).contains("kube_secret"));

        // An invalid configuration changes nothing.
        let bad = config(&["podz"]);
        assert!(engine.reconfigure(&bad, &factory, None).is_err());
        assert_eq!(engine.config().resources, c2.resources);
        let names: Vec<_> = engine.stores().map(|p| p.resource.name()).collect();
        assert_eq!(names, ["configmaps", "namespaces"]);
    }

    #[test]
    fn subsequences() {
        assert_eq!(subsequence(&["a", "b", "c"], &["a", "c"]), Some(vec![0, 2]));
        assert_eq!(subsequence(&["a", "b", "c"], &[]), Some(vec![]));
        assert_eq!(subsequence(&["a", "b"], &["b", "a"]), None);
        assert_eq!(subsequence(&["a"], &["a", "b"]), None);
    }
}
