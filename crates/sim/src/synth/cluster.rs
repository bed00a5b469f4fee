//! Cluster-scoped singletons: storage and ingress classes, default cluster roles,
//! admission webhooks and policies, certificate signing requests, control-plane leases.

use serde_json::json;

use super::{Gen, T0};
use crate::object::{rfc3339, uuid_from};
use crate::store::WorldError;

/// Emit every cluster-scoped singleton, in a fixed order.
pub(super) fn cluster_singletons(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    storage_classes(g, cluster_created)?;
    ingress_class(g, cluster_created)?;
    cluster_rbac(g, cluster_created)?;
    admission(g, cluster_created)?;
    csrs(g)?;
    control_plane_leases(g, cluster_created)
}

/// The default `gp3` and the legacy `gp2` storage classes.
fn storage_classes(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    for (name, prov, default) in [
        ("gp3", "ebs.csi.aws.com", true),
        ("gp2", "kubernetes.io/aws-ebs", false),
    ] {
        let mut meta = g.meta(name, None, cluster_created, json!({}));
        if default {
            meta["annotations"] = json!({"storageclass.kubernetes.io/is-default-class": "true"});
        }
        g.emit(
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
            "provisioner": prov, "parameters": {"type": name}, "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true}),
        )?;
    }
    Ok(())
}

/// The default `nginx` ingress class.
fn ingress_class(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    let mut meta = g.meta(
        "nginx",
        None,
        cluster_created,
        json!({"app.kubernetes.io/name": "ingress-nginx"}),
    );
    meta["annotations"] = json!({"ingressclass.kubernetes.io/is-default-class": "true"});
    meta["generation"] = json!(1);
    g.emit(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": meta,
        "spec": {"controller": "k8s.io/ingress-nginx"}}),
    )?;
    Ok(())
}

/// Bootstrap cluster roles, each bound to `system:masters`.
fn cluster_rbac(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    for name in [
        "admin",
        "cluster-admin",
        "edit",
        "view",
        "system:node",
        "system:kube-scheduler",
    ] {
        let mut meta = g.meta(
            name,
            None,
            cluster_created,
            json!({"kubernetes.io/bootstrapping": "rbac-defaults"}),
        );
        meta["annotations"] = json!({"rbac.authorization.kubernetes.io/autoupdate": "true"});
        g.emit(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta,
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": if name == "view" {json!(["get","list","watch"])} else {json!(["*"])}}]}))?;
        let meta = g.meta(
            name,
            None,
            cluster_created,
            json!({"kubernetes.io/bootstrapping": "rbac-defaults"}),
        );
        g.emit(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta,
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}}))?;
    }
    Ok(())
}

/// Two webhook configurations and a validating admission policy with its binding.
fn admission(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    for (kind, name) in [
        ("ValidatingWebhookConfiguration", "policy-webhook"),
        ("MutatingWebhookConfiguration", "sidecar-injector"),
    ] {
        let mut meta = g.meta(name, None, cluster_created, json!({}));
        meta["generation"] = json!(1);
        g.emit(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": meta,
            "webhooks": [{"name": format!("{name}.example.com"),
                "clientConfig": {"service": {"namespace": "kube-system", "name": name, "path": "/hook", "port": 443}},
                "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"}],
                "failurePolicy": "Ignore", "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                "sideEffects": "None", "timeoutSeconds": 10, "admissionReviewVersions": ["v1"]}]}))?;
    }
    let mut meta = g.meta("require-team-label", None, cluster_created, json!({}));
    meta["generation"] = json!(1);
    g.emit(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": meta,
        "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
            "operations": ["CREATE"], "resources": ["deployments"]}]},
            "validations": [{"expression": "has(object.metadata.labels) && 'team' in object.metadata.labels"}]},
        "status": {"observedGeneration": 1, "typeChecking": {}}}))?;
    let mut meta = g.meta(
        "require-team-label-binding",
        None,
        cluster_created,
        json!({}),
    );
    meta["generation"] = json!(1);
    g.emit(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": meta,
        "spec": {"policyName": "require-team-label", "validationActions": ["Warn"]}}))?;
    Ok(())
}

/// Three certificate signing requests, two approved.
fn csrs(g: &mut Gen<'_>) -> Result<(), WorldError> {
    for i in 0..3usize {
        let name = format!("csr-{}", g.suffix(5));
        let meta = g.meta(&name, None, T0 - 3600 * (i as i64 + 1), json!({}));
        let approved = i != 2;
        let mut status = json!({});
        if approved {
            status = json!({"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove",
                "message": "approved", "lastUpdateTime": rfc3339(T0 - 3000), "lastTransitionTime": rfc3339(T0 - 3000)}],
                "certificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="});
        }
        g.emit(json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": meta,
            "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K", "signerName": "kubernetes.io/kube-apiserver-client",
                "expirationSeconds": 86400, "usages": ["digital signature", "client auth"], "username": "admin",
                "groups": ["system:masters", "system:authenticated"]}, "status": status}))?;
    }
    Ok(())
}

/// Leader-election leases of the controller manager and scheduler.
fn control_plane_leases(g: &mut Gen<'_>, cluster_created: i64) -> Result<(), WorldError> {
    for name in ["kube-controller-manager", "kube-scheduler"] {
        let meta = g.meta(name, Some("kube-system"), cluster_created, json!({}));
        g.emit(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": {"holderIdentity": format!("cp-1_{}", uuid_from(1, 2)), "leaseDurationSeconds": 15,
                "acquireTime": format!("{}.000000Z", &rfc3339(cluster_created + 100)[..19]),
                "renewTime": format!("{}.000000Z", &rfc3339(T0 - 2)[..19]), "leaseTransitions": 2}}))?;
    }
    Ok(())
}
