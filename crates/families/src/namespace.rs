//! Families of the `namespaces` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::namespace::Namespace;
use kubestate_objects::Meta;

use crate::common;
use crate::conditions;
use crate::kind::{Api, Family, Kind};

impl Kind for Namespace {
    const RESOURCE: &'static str = "namespaces";
    const KIND: &'static str = "Namespace";
    const API: Api = Api::CORE_CLUSTER;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.name);
    }
}

/// The phases `kube_namespace_status_phase` always reports, whatever the current one.
const PHASES: [&str; 2] = ["Active", "Terminating"];

const FAMILIES: &[Family<Namespace>] = &[
    Family::gauge(
        "kube_namespace_created",
        Stable,
        "When the namespace was created, in Unix seconds.",
        common::created::<Namespace>,
    ),
    Family::gauge(
        "kube_namespace_annotations",
        Alpha,
        "Namespace annotations named by the annotations allowlist, as labels.",
        common::annotations::<Namespace>,
    ),
    Family::gauge(
        "kube_namespace_labels",
        Stable,
        "Namespace labels named by the labels allowlist, as labels.",
        common::labels::<Namespace>,
    ),
    Family::gauge(
        "kube_namespace_status_phase",
        Stable,
        "Namespace phase: one series per phase, 1 on the current one.",
        |n, out| {
            for p in PHASES {
                let v = if *n.status.phase == *p { 1.0 } else { 0.0 };
                out.sample(&[("phase", p)], v);
            }
        },
    ),
    Family::gauge(
        "kube_namespace_status_condition",
        Alpha,
        "Namespace conditions: one series per condition and possible status, 1 on the current one.",
        |n, out| {
            for c in &n.status.conditions {
                conditions::triple(out, &[("condition", &c.type_)], "status", &c.status);
            }
        },
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    const DOOMED: &str = r#"{"metadata":{"name":"doomed","uid":"u","creationTimestamp":"2026-11-21T05:27:08Z",
        "deletionTimestamp":"2026-11-21T05:27:09Z","labels":{"team":"a"}},
        "status":{"phase":"Terminating","conditions":[
          {"type":"NamespaceContentRemaining","status":"True","lastTransitionTime":"2026-11-21T05:27:09Z"},
          {"type":"NamespaceFinalizersRemaining","status":"Unknown"}]}}"#;

    #[test]
    fn phase_always_two_samples() {
        assert_eq!(
            render_family("namespaces", DOOMED, "kube_namespace_status_phase"),
            "kube_namespace_status_phase{namespace=\"doomed\",phase=\"Active\"} 0\n\
             kube_namespace_status_phase{namespace=\"doomed\",phase=\"Terminating\"} 1\n"
        );
        assert_eq!(
            render_family(
                "namespaces",
                r#"{"metadata":{"name":"x"}}"#,
                "kube_namespace_status_phase"
            ),
            "kube_namespace_status_phase{namespace=\"x\",phase=\"Active\"} 0\n\
             kube_namespace_status_phase{namespace=\"x\",phase=\"Terminating\"} 0\n"
        );
    }

    #[test]
    fn conditions() {
        assert_eq!(
            render_family("namespaces", DOOMED, "kube_namespace_status_condition"),
            "kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"true\"} 1\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"false\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"unknown\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"true\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"false\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"unknown\"} 1\n"
        );
    }

    #[test]
    fn all_families_without_allowlists() {
        assert_eq!(
            render("namespaces", DOOMED, "", ""),
            "kube_namespace_created{namespace=\"doomed\"} 1.795238828e+09\n\
             kube_namespace_status_phase{namespace=\"doomed\",phase=\"Active\"} 0\n\
             kube_namespace_status_phase{namespace=\"doomed\",phase=\"Terminating\"} 1\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"true\"} 1\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"false\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceContentRemaining\",status=\"unknown\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"true\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"false\"} 0\n\
             kube_namespace_status_condition{namespace=\"doomed\",condition=\"NamespaceFinalizersRemaining\",status=\"unknown\"} 1\n"
        );
        assert_eq!(
            render_family("namespaces", DOOMED, "kube_namespace_labels"),
            "kube_namespace_labels{namespace=\"doomed\",label_team=\"a\"} 1\n"
        );
    }
}
