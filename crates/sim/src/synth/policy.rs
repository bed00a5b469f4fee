//! Per-namespace policy objects: resource quotas, limit ranges, a default-deny network
//! policy and a developer role with its binding.

use serde_json::json;

use super::Gen;
use crate::store::WorldError;

/// Emit the policy objects of every workload namespace.
pub(super) fn namespace_policies(g: &mut Gen<'_>, namespaces: &[String]) -> Result<(), WorldError> {
    for (i, ns) in namespaces.iter().enumerate() {
        if i % 2 == 0 {
            let meta = g.meta_aged(&format!("{ns}-quota"), Some(ns), 50 * 86_400, json!({}));
            let hard = json!({"limits.memory": "64Gi", "pods": "500", "requests.cpu": "32", "requests.memory": "32Gi", "services": "100"});
            g.emit(json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta, "spec": {"hard": hard},
                "status": {"hard": hard, "used": {"limits.memory": "3Gi", "pods": "12", "requests.cpu": "1200m", "requests.memory": "2Gi", "services": "3"}}}))?;
        }
        if i % 4 == 0 {
            let meta = g.meta_aged("limits", Some(ns), 50 * 86_400, json!({}));
            g.emit(json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta,
                "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"}, "max": {"memory": "8Gi"}}]}}))?;
        }
        let mut meta = g.meta_aged("default-deny", Some(ns), 50 * 86_400, json!({}));
        meta["generation"] = json!(1);
        g.emit(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                    "ports": [{"protocol": "UDP", "port": 53}]}]}}))?;
        let meta = g.meta_aged("developer", Some(ns), 50 * 86_400, json!({}));
        g.emit(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
            "rules": [{"apiGroups": ["", "apps"], "resources": ["pods", "deployments"], "verbs": ["get", "list", "watch"]}]}))?;
        let meta = g.meta_aged("developer", Some(ns), 50 * 86_400, json!({}));
        g.emit(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": format!("{ns}-devs")}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "developer"}}))?;
    }
    Ok(())
}
