//! Namespaces, with the `kube-root-ca.crt` config map and `default` service account each.

use serde_json::json;

use super::{Gen, SynthSpec};
use crate::store::WorldError;

/// Emit the system and workload namespaces; returns the workload namespace names.
pub(super) fn namespaces(
    g: &mut Gen<'_>,
    spec: &SynthSpec,
    cluster_created: i64,
) -> Result<Vec<String>, WorldError> {
    let mut namespaces: Vec<String> = Vec::new();
    for i in 0..spec.namespaces.max(1) {
        namespaces.push(format!(
            "{}-{i:04}",
            ["team", "prod", "staging", "svc"][i % 4]
        ));
    }
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"]
        .iter()
        .map(|s| s.to_string())
        .chain(namespaces.iter().cloned())
    {
        let created = if ns.starts_with("kube-") || ns == "default" {
            cluster_created
        } else {
            g.created(60 * 86_400)
        };
        let mut labels = json!({"kubernetes.io/metadata.name": ns});
        if !ns.starts_with("kube-") && ns != "default" {
            labels["team"] = json!(ns.split('-').next().unwrap_or("team"));
        }
        let meta = g.meta(&ns, None, created, labels);
        g.emit(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        )?;
    }
    let mut system_ns = vec!["default".to_string(), "kube-system".to_string()];
    system_ns.extend(namespaces.iter().cloned());
    for ns in &system_ns {
        let created = cluster_created;
        let meta = g.meta("kube-root-ca.crt", Some(ns), created, json!({}));
        g.emit(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIkubestatesim\n-----END CERTIFICATE-----\n"}}))?;
        let meta = g.meta("default", Some(ns), created, json!({}));
        g.emit(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}))?;
    }
    Ok(namespaces)
}
