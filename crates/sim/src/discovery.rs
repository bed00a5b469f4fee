//! Discovery documents: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/<group>[/<version>]`.
//! Only the legacy (non-aggregated) format is served: clients asking for aggregated
//! discovery (`as=APIGroupDiscoveryList`) get the legacy JSON with a plain
//! `application/json` content type and fall back to it, as they do with older servers.

use serde_json::{json, Value};

use crate::kinds::{Registry, ResourceType};

/// The Kubernetes version the simulator claims to be (the one the conformance cases were
/// recorded against).
pub const KUBERNETES_VERSION: &str = "v1.36.2";

/// `GET /version`.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "36",
        "emulationMajor": "1",
        "emulationMinor": "36",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "35",
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.26.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `GET /api`.
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_value(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

/// `GET /apis`.
pub(crate) fn api_group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .iter()
        .map(|(g, vs)| group_value(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`.
pub(crate) fn api_group(reg: &Registry, group: &str) -> Option<Value> {
    let (g, vs) = reg.groups().into_iter().find(|(g, _)| g == group)?;
    let mut v = group_value(&g, &vs);
    if let Some(m) = v.as_object_mut() {
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
    }
    Some(v)
}

fn categories(t: &ResourceType) -> Option<Value> {
    let all = matches!(
        (t.group.as_str(), t.plural.as_str()),
        ("", "pods" | "services" | "replicationcontrollers")
            | (
                "apps",
                "deployments" | "replicasets" | "statefulsets" | "daemonsets"
            )
            | ("batch", "jobs" | "cronjobs")
            | ("autoscaling", "horizontalpodautoscalers")
    );
    all.then(|| json!(["all"]))
}

/// `GET /api/v1` or `/apis/<group>/<version>`; `None` when nothing is served there.
pub(crate) fn api_resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = reg.in_group_version(group, version);
    if types.is_empty() {
        return None;
    }
    let resources: Vec<Value> = types
        .iter()
        .map(|t| {
            let mut r = json!({
                "name": t.plural,
                "singularName": t.singular,
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": ["get", "list", "watch"],
            });
            if !t.short_names.is_empty() {
                r["shortNames"] = json!(t.short_names);
            }
            if let Some(c) = categories(t) {
                r["categories"] = c;
            }
            r
        })
        .collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_every_group_and_resource() {
        let reg = Registry::builtin();
        let groups = api_group_list(&reg);
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        for g in [
            "apps",
            "batch",
            "autoscaling",
            "policy",
            "networking.k8s.io",
            "discovery.k8s.io",
            "storage.k8s.io",
            "certificates.k8s.io",
            "coordination.k8s.io",
            "rbac.authorization.k8s.io",
            "admissionregistration.k8s.io",
            "apiextensions.k8s.io",
        ] {
            assert!(names.contains(&g), "{g} missing");
        }
        let core = api_resource_list(&reg, "", "v1").unwrap();
        assert_eq!(core["resources"].as_array().unwrap().len(), 13);
        let apps = api_resource_list(&reg, "apps", "v1").unwrap();
        assert_eq!(apps["groupVersion"], "apps/v1");
        assert!(api_resource_list(&reg, "apps", "v2").is_none());
        assert_eq!(
            api_group(&reg, "autoscaling").unwrap()["preferredVersion"]["version"],
            "v2"
        );
    }
}
