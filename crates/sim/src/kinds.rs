//! The table of resource types the simulator serves: the 39 kinds kube-state-metrics watches,
//! `customresourcedefinitions`, and custom resources registered from CRDs found in the world.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// One served resource type (`group/version` + plural).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// API version inside the group (`v1`, `v2`, ...).
    pub version: String,
    /// Plural lower-case resource name (`pods`).
    pub plural: String,
    /// Singular lower-case name (`pod`).
    pub singular: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// List kind (`PodList`).
    pub list_kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: Vec<String>,
    /// Index of the object store that holds the objects of this type. Several served
    /// versions of one CRD share one store.
    pub store: usize,
}

impl ResourceType {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` for the core group, `deployments.apps` otherwise.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// One built-in kind: (group, version, plural, kind, namespaced, short names).
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
);

/// Built-in kinds.
const BUILTINS: &[Builtin] = &[
    ("", "v1", "configmaps", "ConfigMap", true, &["cm"]),
    ("", "v1", "endpoints", "Endpoints", true, &["ep"]),
    ("", "v1", "limitranges", "LimitRange", true, &["limits"]),
    ("", "v1", "namespaces", "Namespace", false, &["ns"]),
    ("", "v1", "nodes", "Node", false, &["no"]),
    (
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
    ),
    (
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        false,
        &["pv"],
    ),
    ("", "v1", "pods", "Pod", true, &["po"]),
    (
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        true,
        &["rc"],
    ),
    (
        "",
        "v1",
        "resourcequotas",
        "ResourceQuota",
        true,
        &["quota"],
    ),
    ("", "v1", "secrets", "Secret", true, &[]),
    ("", "v1", "serviceaccounts", "ServiceAccount", true, &["sa"]),
    ("", "v1", "services", "Service", true, &["svc"]),
    ("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"]),
    ("apps", "v1", "deployments", "Deployment", true, &["deploy"]),
    ("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"]),
    ("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"]),
    ("batch", "v1", "cronjobs", "CronJob", true, &["cj"]),
    ("batch", "v1", "jobs", "Job", true, &[]),
    (
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
    ),
    (
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
        &["pdb"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        true,
        &["ing"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "IngressClass",
        false,
        &[],
    ),
    (
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        true,
        &["netpol"],
    ),
    (
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        false,
        &["sc"],
    ),
    (
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "VolumeAttachment",
        false,
        &[],
    ),
    (
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        false,
        &["csr"],
    ),
    ("coordination.k8s.io", "v1", "leases", "Lease", true, &[]),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "Role",
        true,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicies",
        "MutatingAdmissionPolicy",
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicybindings",
        "MutatingAdmissionPolicyBinding",
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
    ),
];

/// Number of built-in resource types (the 39 KSM kinds plus CRDs).
pub(crate) const BUILTIN_COUNT: usize = 40;

/// Registry of served resource types; grows when CRDs are applied.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    types: Vec<Arc<ResourceType>>,
    by_path: HashMap<(String, String, String), usize>,
    by_kind: HashMap<(String, String), usize>,
    /// Number of stores in use (built-ins first, then one per CRD).
    pub stores: usize,
    /// CRD store per `plural.group`, to keep store numbers stable on CRD updates.
    crd_stores: HashMap<String, usize>,
}

impl Registry {
    /// A registry with the built-in types, one store each.
    pub fn builtin() -> Self {
        let mut r = Registry {
            types: Vec::new(),
            by_path: HashMap::new(),
            by_kind: HashMap::new(),
            stores: 0,
            crd_stores: HashMap::new(),
        };
        for (group, version, plural, kind, namespaced, short) in BUILTINS {
            let store = r.stores;
            r.stores += 1;
            r.insert(ResourceType {
                group: (*group).to_string(),
                version: (*version).to_string(),
                plural: (*plural).to_string(),
                singular: kind.to_ascii_lowercase(),
                kind: (*kind).to_string(),
                list_kind: format!("{kind}List"),
                namespaced: *namespaced,
                short_names: short.iter().map(|s| (*s).to_string()).collect(),
                store,
            });
        }
        debug_assert_eq!(r.types.len(), BUILTIN_COUNT);
        r
    }

    fn insert(&mut self, t: ResourceType) {
        let key = (t.group.clone(), t.version.clone(), t.plural.clone());
        let kind_key = (t.api_version(), t.kind.clone());
        if let Some(&i) = self.by_path.get(&key) {
            self.types[i] = Arc::new(t);
            self.by_kind.insert(kind_key, i);
            return;
        }
        let i = self.types.len();
        self.types.push(Arc::new(t));
        self.by_path.insert(key, i);
        self.by_kind.insert(kind_key, i);
    }

    /// All served types, built-ins first.
    pub fn all(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    /// Look a type up by its REST path parts.
    pub fn by_path(&self, group: &str, version: &str, plural: &str) -> Option<&Arc<ResourceType>> {
        self.by_path
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .map(|&i| &self.types[i])
    }

    /// Look a type up by an object's `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Arc<ResourceType>> {
        self.by_kind
            .get(&(api_version.to_string(), kind.to_string()))
            .map(|&i| &self.types[i])
    }

    /// Look a type up by `plural` or `plural.group` (first served version wins).
    pub fn by_resource(&self, resource: &str) -> Option<&Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.plural == resource || t.qualified_plural() == resource)
    }

    /// Groups in order of first appearance, with their versions (core group excluded).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            if t.group.is_empty() {
                continue;
            }
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    /// Types served under one group/version.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.types
            .iter()
            .filter(|t| t.group == group && t.version == version)
            .cloned()
            .collect()
    }

    /// Register the served versions of a CRD object. Returns an error message when the CRD
    /// is not usable.
    pub fn register_crd(&mut self, crd: &Value) -> Result<(), String> {
        let spec = crd.get("spec").ok_or("CRD has no spec")?;
        let group = spec
            .get("group")
            .and_then(Value::as_str)
            .ok_or("CRD spec.group missing")?;
        let names = spec.get("names").ok_or("CRD spec.names missing")?;
        let plural = names
            .get("plural")
            .and_then(Value::as_str)
            .ok_or("CRD spec.names.plural missing")?;
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("CRD spec.names.kind missing")?;
        let singular = names
            .get("singular")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_ascii_lowercase());
        let list_kind = names
            .get("listKind")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind}List"));
        let short_names: Vec<String> = names
            .get("shortNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("CRD spec.versions missing")?;
        let key = format!("{plural}.{group}");
        let store = match self.crd_stores.get(&key) {
            Some(&s) => s,
            None => {
                let s = self.stores;
                self.stores += 1;
                self.crd_stores.insert(key, s);
                s
            }
        };
        let mut served_any = false;
        for v in versions {
            let served = v.get("served").and_then(Value::as_bool).unwrap_or(true);
            let Some(name) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            if !served {
                continue;
            }
            served_any = true;
            self.insert(ResourceType {
                group: group.to_string(),
                version: name.to_string(),
                plural: plural.to_string(),
                singular: singular.clone(),
                kind: kind.to_string(),
                list_kind: list_kind.clone(),
                namespaced,
                short_names: short_names.clone(),
                store,
            });
        }
        if served_any {
            Ok(())
        } else {
            Err(format!("CRD {plural}.{group} serves no version"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_cover_the_39_ksm_kinds_plus_crds() {
        let r = Registry::builtin();
        assert_eq!(r.all().len(), 40);
        assert!(r.by_path("", "v1", "pods").is_some());
        assert!(r
            .by_path("autoscaling", "v2", "horizontalpodautoscalers")
            .is_some());
        assert!(r.by_kind("apps/v1", "Deployment").is_some());
        assert_eq!(
            r.by_resource("deployments.apps").map(|t| t.kind.as_str()),
            Some("Deployment")
        );
        let stores: std::collections::HashSet<usize> = r.all().iter().map(|t| t.store).collect();
        assert_eq!(stores.len(), 40);
    }

    #[test]
    fn crd_registers_served_versions_sharing_a_store() {
        let mut r = Registry::builtin();
        let crd = serde_json::json!({"spec":{"group":"example.com","scope":"Namespaced",
            "names":{"plural":"widgets","kind":"Widget"},
            "versions":[{"name":"v1","served":true},{"name":"v2","served":true},{"name":"v0","served":false}]}});
        r.register_crd(&crd).unwrap();
        let a = r.by_path("example.com", "v1", "widgets").unwrap().store;
        let b = r.by_path("example.com", "v2", "widgets").unwrap().store;
        assert_eq!(a, b);
        assert!(r.by_path("example.com", "v0", "widgets").is_none());
        assert_eq!(
            r.by_kind("example.com/v2", "Widget").unwrap().singular,
            "widget"
        );
    }
}
