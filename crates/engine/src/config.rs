//! The engine's validated configuration and the plan of stores it implies.

use std::path::PathBuf;
use std::sync::Arc;

use kubestate_customstate::CustomConfig;
use kubestate_families::{
    resources, Allowlist, FamilyFilter, FilterError, Generator, Resource, Selection,
};

use crate::shard::Sharding;

/// Why a configuration was rejected. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--resources` names something kubestate does not know.
    #[error("unknown resource {name:?} in --resources; available: {available}")]
    UnknownResource {
        /// The name given.
        name: String,
        /// The known names.
        available: String,
    },
    /// An allowlist names an unknown resource.
    #[error("{flag} names unknown resource {name:?}; available: {available}")]
    UnknownAllowlistResource {
        /// The flag.
        flag: &'static str,
        /// The name given.
        name: String,
        /// The known names.
        available: String,
    },
    /// A filter flag is invalid.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// `--shard` is out of range.
    #[error("--shard={shard} must be lower than --total-shards={total}")]
    ShardOutOfRange {
        /// The shard.
        shard: u32,
        /// The total.
        total: u32,
    },
    /// `--total-shards` is zero.
    #[error("--total-shards must be at least 1")]
    NoShards,
    /// `--node` with resources other than pods.
    #[error("--node only works with --resources=pods (got {0})")]
    NodeNeedsPods(String),
}

/// Everything that decides what the engine watches and generates. Field names follow KSM's
/// flags; [`Config::plan`] validates without I/O.
#[derive(Clone, Debug)]
pub struct Config {
    /// Resources to expose (`--resources`); empty means KSM's default set.
    pub resources: Vec<String>,
    /// Namespaces to watch (`--namespaces`); empty means all.
    pub namespaces: Vec<String>,
    /// Namespaces to leave out (`--namespaces-denylist`).
    pub namespaces_denylist: Vec<String>,
    /// Only pods on this node (`--node`).
    pub node: Option<String>,
    /// Only pods without a node (`--track-unscheduled-pods`).
    pub track_unscheduled_pods: bool,
    /// `--metric-allowlist` patterns.
    pub metric_allowlist: Vec<String>,
    /// `--metric-denylist` patterns.
    pub metric_denylist: Vec<String>,
    /// `--metric-opt-in-list` patterns.
    pub metric_opt_in_list: Vec<String>,
    /// `--metric-labels-allowlist`.
    pub labels_allowlist: Allowlist,
    /// `--metric-annotations-allowlist`.
    pub annotations_allowlist: Allowlist,
    /// `--shard` / `--total-shards`.
    pub sharding: Sharding,
    /// `--use-apiserver-cache`.
    pub use_apiserver_cache: bool,
    /// `--object-limit` (0 = none).
    pub object_limit: u64,
    /// Use watch-list for the initial sync when the server supports it.
    pub watch_list: bool,
    /// Objects per list page.
    pub page_size: u32,
    /// Custom Resource State configuration to start with (`--custom-resource-state-config`
    /// or the file's contents); see [`crate::CustomResources`].
    pub custom_resources: Option<Arc<CustomConfig>>,
    /// The custom-resource-state file (`--custom-resource-state-config-file`): watched while
    /// running, each valid change replaces the custom resource stores; it may appear later.
    pub custom_resources_file: Option<PathBuf>,
    /// `--custom-resource-state-only`: expose no built-in resource.
    pub custom_resources_only: bool,
    /// Ask the API server for protobuf for built-in kinds (`--api-content-type=protobuf`, the
    /// default, as KSM does), falling back to whatever it answers; custom resources are
    /// always JSON.
    pub protobuf: bool,
    /// Ask API discovery which resources the server serves, at startup and then this often:
    /// stores of unserved kinds make no requests and do not hold readiness back until their
    /// API appears. `None` skips discovery (every store lists at once).
    pub discovery_interval: Option<std::time::Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            resources: Vec::new(),
            namespaces: Vec::new(),
            namespaces_denylist: Vec::new(),
            node: None,
            track_unscheduled_pods: false,
            metric_allowlist: Vec::new(),
            metric_denylist: Vec::new(),
            metric_opt_in_list: Vec::new(),
            labels_allowlist: Allowlist::default(),
            annotations_allowlist: Allowlist::default(),
            sharding: Sharding::default(),
            use_apiserver_cache: false,
            object_limit: 0,
            watch_list: true,
            page_size: 500,
            custom_resources: None,
            custom_resources_file: None,
            custom_resources_only: false,
            protobuf: true,
            discovery_interval: Some(std::time::Duration::from_secs(300)),
        }
    }
}

/// One store the engine will fill: a resource, or a resource in one namespace.
#[derive(Clone)]
pub struct StorePlan {
    /// The resource.
    pub resource: &'static dyn Resource,
    /// Its compiled generator.
    pub generator: Arc<dyn Generator>,
    /// The namespace, for per-namespace stores.
    pub namespace: Option<String>,
    /// Position among the resource's stores.
    pub index: usize,
    /// Server-side field selector.
    pub field_selector: Option<String>,
}

impl Config {
    /// Names of every resource kubestate knows, comma separated (for messages).
    pub fn available_resources() -> String {
        resources()
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The resources this configuration enables, sorted by name.
    ///
    /// # Errors
    /// An unknown resource name.
    pub fn enabled_resources(&self) -> Result<Vec<&'static dyn Resource>, ConfigError> {
        if self.custom_resources_only {
            return Ok(Vec::new());
        }
        let mut out: Vec<&'static dyn Resource> = if self.resources.is_empty() {
            resources()
                .iter()
                .copied()
                .filter(|r| r.default_enabled())
                .collect()
        } else {
            let mut v = Vec::new();
            for name in &self.resources {
                let r = kubestate_families::resource(name).ok_or_else(|| {
                    ConfigError::UnknownResource {
                        name: name.clone(),
                        available: Config::available_resources(),
                    }
                })?;
                if !v.iter().any(|x: &&dyn Resource| x.name() == r.name()) {
                    v.push(r);
                }
            }
            v
        };
        out.sort_by_key(|r| r.name());
        Ok(out)
    }

    /// Validates the configuration and lays out the stores (pure: no I/O).
    ///
    /// # Errors
    /// Any invalid flag value, with what to fix.
    pub fn plan(&self) -> Result<Vec<StorePlan>, ConfigError> {
        if self.sharding.total == 0 {
            return Err(ConfigError::NoShards);
        }
        if self.sharding.shard >= self.sharding.total {
            return Err(ConfigError::ShardOutOfRange {
                shard: self.sharding.shard,
                total: self.sharding.total,
            });
        }
        if self.node.is_some() && !self.resources.is_empty() {
            if let Some(other) = self.resources.iter().find(|r| *r != "pods") {
                return Err(ConfigError::NodeNeedsPods(other.clone()));
            }
        }
        for (flag, list) in [
            ("--metric-labels-allowlist", &self.labels_allowlist),
            (
                "--metric-annotations-allowlist",
                &self.annotations_allowlist,
            ),
        ] {
            if let Some(bad) = list
                .resources()
                .find(|r| kubestate_families::resource(r).is_none())
            {
                return Err(ConfigError::UnknownAllowlistResource {
                    flag,
                    name: bad.to_string(),
                    available: Config::available_resources(),
                });
            }
        }
        let families = FamilyFilter::new(
            &self.metric_allowlist,
            &self.metric_denylist,
            &self.metric_opt_in_list,
        )?;
        let selector = self.field_selector();
        let mut plan = Vec::new();
        for r in self.enabled_resources()? {
            let sel = Selection {
                families: families.clone(),
                labels: self
                    .labels_allowlist
                    .for_resource("--metric-labels-allowlist", r.name())?,
                annotations: self
                    .annotations_allowlist
                    .for_resource("--metric-annotations-allowlist", r.name())?,
            };
            let generator = r.generator(sel);
            let namespaced = r.api().namespaced;
            // Cluster-scoped kinds get one store and ignore the field selector (§1, §6.3).
            let fs = if namespaced { selector.clone() } else { None };
            if namespaced && !self.namespaces.is_empty() {
                for (index, ns) in self.namespaces.iter().enumerate() {
                    plan.push(StorePlan {
                        resource: r,
                        generator: generator.clone(),
                        namespace: Some(ns.clone()),
                        index,
                        field_selector: fs.clone(),
                    });
                }
            } else {
                plan.push(StorePlan {
                    resource: r,
                    generator,
                    namespace: None,
                    index: 0,
                    field_selector: fs,
                });
            }
        }
        Ok(plan)
    }

    /// The global field selector of namespaced list/watches: the namespace denylist and the
    /// node selection.
    pub fn field_selector(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .namespaces_denylist
            .iter()
            .map(|ns| format!("metadata.namespace!={ns}"))
            .collect();
        if self.track_unscheduled_pods {
            parts.push("spec.nodeName=".to_string());
        } else if let Some(n) = &self.node {
            parts.push(format!("spec.nodeName={n}"));
        }
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c = Config::default();
        let names: Vec<_> = c
            .enabled_resources()
            .unwrap()
            .iter()
            .map(|r| r.name())
            .collect();
        assert_eq!(names.len(), 32);
        assert!(!names.contains(&"roles") && names.contains(&"pods"));
        let bad = Config {
            resources: vec!["podz".into()],
            ..Config::default()
        };
        let e = bad.plan().err().unwrap().to_string();
        assert!(e.contains("podz") && e.contains("pods"), "{e}");
        let e = Config {
            sharding: Sharding { shard: 2, total: 2 },
            ..Config::default()
        }
        .plan();
        assert!(e.is_err());
        let both = Config {
            metric_allowlist: vec!["a".into()],
            metric_denylist: vec!["b".into()],
            ..Config::default()
        };
        assert!(both
            .plan()
            .err()
            .unwrap()
            .to_string()
            .contains("mutually exclusive"));
    }

    #[test]
    fn custom_resources_only_enables_no_built_in_resource() {
        let c = Config {
            resources: vec!["pods".into()],
            custom_resources_only: true,
            ..Config::default()
        };
        assert!(c.plan().unwrap().is_empty());
    }

    #[test]
    fn namespaces_make_stores_for_namespaced_kinds_only() {
        let c = Config {
            resources: vec!["pods".into(), "nodes".into()],
            namespaces: vec!["a".into(), "b".into()],
            namespaces_denylist: vec!["c".into()],
            ..Config::default()
        };
        let plan = c.plan().unwrap();
        let desc: Vec<_> = plan
            .iter()
            .map(|p| {
                (
                    p.resource.name(),
                    p.namespace.clone(),
                    p.field_selector.clone(),
                )
            })
            .collect();
        assert_eq!(
            desc,
            vec![
                ("nodes", None, None),
                (
                    "pods",
                    Some("a".into()),
                    Some("metadata.namespace!=c".into())
                ),
                (
                    "pods",
                    Some("b".into()),
                    Some("metadata.namespace!=c".into())
                ),
            ]
        );
    }
}
