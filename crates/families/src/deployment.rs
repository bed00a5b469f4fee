//! Families of the `deployments` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::deployment::{Deployment, RollingUpdate};
use kubestate_objects::intstr::IntOrString;
use kubestate_objects::Meta;

use crate::common;
use crate::conditions;
use crate::kind::{Api, Family, Kind, Out};

impl Kind for Deployment {
    const RESOURCE: &'static str = "deployments";
    const KIND: &'static str = "Deployment";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("deployment", &self.metadata.name);
    }
}

/// Condition reasons the deployment controller sets; any other reason is reported as
/// `unknown` to bound the label's cardinality (an empty reason stays empty).
const CONTROLLER_REASONS: [&str; 10] = [
    "ReplicaSetUpdated",
    "ReplicaSetCreateError",
    "NewReplicaSetCreated",
    "FoundNewReplicaSet",
    "NewReplicaSetAvailable",
    "ProgressDeadlineExceeded",
    "DeploymentPaused",
    "DeploymentResumed",
    "MinimumReplicasAvailable",
    "MinimumReplicasUnavailable",
];

fn reason_label(reason: &str) -> &str {
    if reason.is_empty() || CONTROLLER_REASONS.contains(&reason) {
        reason
    } else {
        "unknown"
    }
}

/// One label-less sample with an integer value.
fn count(v: i64, out: &mut Out<'_>) {
    out.sample(&[], v as f64);
}

/// A rolling-update bound resolved against `spec.replicas`; nothing if the deployment has no
/// rolling update, no replicas or a value that does not resolve.
fn rolling_bound(
    d: &Deployment,
    pick: fn(&RollingUpdate) -> Option<&IntOrString>,
    round_up: bool,
    out: &mut Out<'_>,
) {
    let bound = d.spec.strategy.rolling_update.as_ref().and_then(pick);
    if let (Some(v), Some(replicas)) = (bound, d.spec.replicas) {
        if let Some(n) = v.scaled(replicas, round_up) {
            count(n, out);
        }
    }
}

const FAMILIES: &[Family<Deployment>] = &[
    Family::gauge(
        "kube_deployment_owner",
        Alpha,
        "One series per owner of the deployment (kind and name), or one with empty owner labels.",
        |d, out| {
            let refs = &d.metadata.owner_references;
            if refs.is_empty() {
                out.sample(&[("owner_kind", ""), ("owner_name", "")], 1.0);
            }
            for r in refs {
                out.sample(&[("owner_kind", &r.kind), ("owner_name", &r.name)], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_deployment_created",
        Stable,
        "When the deployment was created, in Unix seconds.",
        common::created::<Deployment>,
    ),
    Family::gauge(
        "kube_deployment_status_replicas",
        Stable,
        "Pods currently targeted by the deployment.",
        |d, out| count(d.status.replicas, out),
    ),
    Family::gauge(
        "kube_deployment_status_replicas_ready",
        Stable,
        "Ready pods of the deployment.",
        |d, out| count(d.status.ready_replicas, out),
    ),
    Family::gauge(
        "kube_deployment_status_replicas_available",
        Stable,
        "Available pods of the deployment (ready for at least minReadySeconds).",
        |d, out| count(d.status.available_replicas, out),
    ),
    Family::gauge(
        "kube_deployment_status_replicas_unavailable",
        Stable,
        "Pods of the deployment that are not available.",
        |d, out| count(d.status.unavailable_replicas, out),
    ),
    Family::gauge(
        "kube_deployment_status_replicas_updated",
        Stable,
        "Pods of the deployment that run the current pod template.",
        |d, out| count(d.status.updated_replicas, out),
    ),
    Family::gauge(
        "kube_deployment_status_terminating_replicas",
        Alpha,
        "Pods of the deployment that are terminating; absent when the API server does not report it.",
        |d, out| {
            if let Some(v) = d.status.terminating_replicas {
                count(v, out);
            }
        },
    ),
    Family::gauge(
        "kube_deployment_status_observed_generation",
        Stable,
        "The generation the deployment controller last acted on.",
        |d, out| count(d.status.observed_generation, out),
    ),
    Family::gauge(
        "kube_deployment_status_condition",
        Stable,
        "Deployment conditions: one series per condition and possible status, 1 on the current one.",
        |d, out| {
            for c in &d.status.conditions {
                let lead = [("reason", reason_label(&c.reason)), ("condition", &*c.type_)];
                conditions::triple(out, &lead, "status", &c.status);
            }
        },
    ),
    Family::gauge(
        "kube_deployment_spec_replicas",
        Stable,
        "Desired pods of the deployment; absent when unset.",
        |d, out| {
            if let Some(v) = d.spec.replicas {
                count(v, out);
            }
        },
    ),
    Family::gauge(
        "kube_deployment_spec_paused",
        Stable,
        "1 if the deployment is paused, else 0.",
        |d, out| out.sample(&[], if d.spec.paused { 1.0 } else { 0.0 }),
    ),
    Family::gauge(
        "kube_deployment_spec_strategy_rollingupdate_max_unavailable",
        Stable,
        "Pods that may be unavailable during a rolling update (percentages rounded down).",
        |d, out| rolling_bound(d, |r| r.max_unavailable.as_ref(), false, out),
    ),
    Family::gauge(
        "kube_deployment_spec_strategy_rollingupdate_max_surge",
        Stable,
        "Pods that may be created above the desired count during a rolling update (percentages rounded up).",
        |d, out| rolling_bound(d, |r| r.max_surge.as_ref(), true, out),
    ),
    Family::gauge(
        "kube_deployment_metadata_generation",
        Stable,
        "The deployment's metadata.generation.",
        |d, out| count(d.metadata.generation, out),
    ),
    Family::gauge(
        "kube_deployment_deletion_timestamp",
        Alpha,
        "When deletion of the deployment was requested, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<Deployment>,
    ),
    Family::gauge(
        "kube_deployment_annotations",
        Alpha,
        "Deployment annotations named by the annotations allowlist, as labels.",
        common::annotations::<Deployment>,
    ),
    Family::gauge(
        "kube_deployment_labels",
        Stable,
        "Deployment labels named by the labels allowlist, as labels.",
        common::labels::<Deployment>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    fn dep(spec: &str, status: &str) -> String {
        format!(
            r#"{{"metadata":{{"name":"d","namespace":"ns","uid":"u","generation":5}},"spec":{spec},"status":{status}}}"#
        )
    }

    #[test]
    fn rolling_update_percentages() {
        let j = dep(
            r#"{"replicas":3,"strategy":{"rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}}"#,
            "{}",
        );
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_spec_strategy_rollingupdate_max_unavailable"),
            "kube_deployment_spec_strategy_rollingupdate_max_unavailable{namespace=\"ns\",deployment=\"d\"} 0\n"
        );
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_spec_strategy_rollingupdate_max_surge"),
            "kube_deployment_spec_strategy_rollingupdate_max_surge{namespace=\"ns\",deployment=\"d\"} 1\n"
        );
        let j = dep(
            r#"{"replicas":10,"strategy":{"rollingUpdate":{"maxUnavailable":3,"maxSurge":"10%"}}}"#,
            "{}",
        );
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_spec_strategy_rollingupdate_max_unavailable"),
            "kube_deployment_spec_strategy_rollingupdate_max_unavailable{namespace=\"ns\",deployment=\"d\"} 3\n"
        );
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_spec_strategy_rollingupdate_max_surge"),
            "kube_deployment_spec_strategy_rollingupdate_max_surge{namespace=\"ns\",deployment=\"d\"} 1\n"
        );
    }

    #[test]
    fn omitted_without_rolling_update_replicas_or_valid_value() {
        for spec in [
            r#"{"replicas":3,"strategy":{"type":"Recreate"}}"#,
            r#"{"strategy":{"rollingUpdate":{"maxUnavailable":1,"maxSurge":1}}}"#,
            r#"{"replicas":3,"strategy":{"rollingUpdate":{"maxUnavailable":"x","maxSurge":"5"}}}"#,
            r#"{"replicas":3,"strategy":{"rollingUpdate":{}}}"#,
        ] {
            let j = dep(spec, "{}");
            let out = render("deployments", &j, "", "");
            assert!(!out.contains("rollingupdate"), "{spec}: {out}");
        }
        let j = dep("{}", "{}");
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_spec_replicas"),
            ""
        );
        assert_eq!(
            render_family(
                "deployments",
                &j,
                "kube_deployment_status_terminating_replicas"
            ),
            ""
        );
    }

    #[test]
    fn condition_reasons_are_bounded() {
        let j = dep(
            "{}",
            r#"{"conditions":[{"type":"Available","status":"True","reason":"SomeCustomReason"},
                {"type":"ReplicaFailure","status":"True","reason":"FailedCreate"},
                {"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","lastUpdateTime":null},
                {"type":"X","status":"Unknown"}]}"#,
        );
        assert_eq!(
            render_family("deployments", &j, "kube_deployment_status_condition"),
            "kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"Available\",status=\"true\"} 1\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"Available\",status=\"false\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"Available\",status=\"unknown\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"ReplicaFailure\",status=\"true\"} 1\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"ReplicaFailure\",status=\"false\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"unknown\",condition=\"ReplicaFailure\",status=\"unknown\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"ProgressDeadlineExceeded\",condition=\"Progressing\",status=\"true\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"ProgressDeadlineExceeded\",condition=\"Progressing\",status=\"false\"} 1\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"ProgressDeadlineExceeded\",condition=\"Progressing\",status=\"unknown\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"\",condition=\"X\",status=\"true\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"\",condition=\"X\",status=\"false\"} 0\n\
             kube_deployment_status_condition{namespace=\"ns\",deployment=\"d\",reason=\"\",condition=\"X\",status=\"unknown\"} 1\n"
        );
    }

    #[test]
    fn owner_has_two_labels() {
        let j = r#"{"metadata":{"name":"d","namespace":"ns","ownerReferences":[{"kind":"Application","name":"legacy","controller":true}]}}"#;
        assert_eq!(
            render_family("deployments", j, "kube_deployment_owner"),
            "kube_deployment_owner{namespace=\"ns\",deployment=\"d\",owner_kind=\"Application\",owner_name=\"legacy\"} 1\n"
        );
        assert_eq!(
            render_family("deployments", &dep("{}", "{}"), "kube_deployment_owner"),
            "kube_deployment_owner{namespace=\"ns\",deployment=\"d\",owner_kind=\"\",owner_name=\"\"} 1\n"
        );
    }

    #[test]
    fn counts_and_flags() {
        let j = dep(
            r#"{"replicas":10,"paused":true}"#,
            r#"{"replicas":13,"readyReplicas":9,"availableReplicas":9,"unavailableReplicas":4,"updatedReplicas":4,
                "terminatingReplicas":2,"observedGeneration":4}"#,
        );
        assert_eq!(
            render("deployments", &j, "", ""),
            "kube_deployment_owner{namespace=\"ns\",deployment=\"d\",owner_kind=\"\",owner_name=\"\"} 1\n\
             kube_deployment_status_replicas{namespace=\"ns\",deployment=\"d\"} 13\n\
             kube_deployment_status_replicas_ready{namespace=\"ns\",deployment=\"d\"} 9\n\
             kube_deployment_status_replicas_available{namespace=\"ns\",deployment=\"d\"} 9\n\
             kube_deployment_status_replicas_unavailable{namespace=\"ns\",deployment=\"d\"} 4\n\
             kube_deployment_status_replicas_updated{namespace=\"ns\",deployment=\"d\"} 4\n\
             kube_deployment_status_terminating_replicas{namespace=\"ns\",deployment=\"d\"} 2\n\
             kube_deployment_status_observed_generation{namespace=\"ns\",deployment=\"d\"} 4\n\
             kube_deployment_spec_replicas{namespace=\"ns\",deployment=\"d\"} 10\n\
             kube_deployment_spec_paused{namespace=\"ns\",deployment=\"d\"} 1\n\
             kube_deployment_metadata_generation{namespace=\"ns\",deployment=\"d\"} 5\n"
        );
    }
}
