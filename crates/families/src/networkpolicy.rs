//! Families of the `networkpolicies` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::networkpolicy::NetworkPolicy;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = NetworkPolicy;

impl Kind for NetworkPolicy {
    const RESOURCE: &'static str = "networkpolicies";
    const KIND: &'static str = "NetworkPolicy";
    const API: Api = Api::ns("networking.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("networkpolicy", &self.metadata.name);
    }
}

/// Go's `time.Time{}.Unix()`: what KSM prints for a policy without a creation timestamp.
const GO_ZERO_TIME_UNIX: f64 = -62_135_596_800.0;

/// Unlike every other `*_created`, always one sample (Go's zero time when unset).
fn created(o: &O, out: &mut Out<'_>) {
    let t = o.metadata.creation_timestamp;
    out.sample(&[], t.map_or(GO_ZERO_TIME_UNIX, |t| t.unix()));
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_networkpolicy_created",
        Alpha,
        "When the NetworkPolicy was created, in Unix seconds (always present).",
        created,
    ),
    Family::gauge(
        "kube_networkpolicy_annotations",
        Alpha,
        "NetworkPolicy annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_networkpolicy_labels",
        Alpha,
        "NetworkPolicy labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
    Family::gauge(
        "kube_networkpolicy_spec_ingress_rules",
        Alpha,
        "Number of ingress rules of the NetworkPolicy.",
        |o, out| out.sample(&[], o.spec.ingress.len() as f64),
    ),
    Family::gauge(
        "kube_networkpolicy_spec_egress_rules",
        Alpha,
        "Number of egress rules of the NetworkPolicy.",
        |o, out| out.sample(&[], o.spec.egress.len() as f64),
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn networkpolicy_families() {
        let json = r#"{"metadata":{"name":"fe","namespace":"web","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"podSelector":{},"ingress":[{"from":[{"podSelector":{}}]},{},{"ports":[{"port":80}]}],"egress":[{}]}}"#;
        assert_eq!(
            render("networkpolicies", json, "", ""),
            "kube_networkpolicy_created{namespace=\"web\",networkpolicy=\"fe\"} 1.79523862e+09\n\
             kube_networkpolicy_spec_ingress_rules{namespace=\"web\",networkpolicy=\"fe\"} 3\n\
             kube_networkpolicy_spec_egress_rules{namespace=\"web\",networkpolicy=\"fe\"} 1\n"
        );
    }

    #[test]
    fn created_is_never_omitted() {
        let json = r#"{"metadata":{"name":"x","namespace":"web","uid":"u"},"spec":{}}"#;
        assert_eq!(
            render("networkpolicies", json, "", ""),
            "kube_networkpolicy_created{namespace=\"web\",networkpolicy=\"x\"} -6.21355968e+10\n\
             kube_networkpolicy_spec_ingress_rules{namespace=\"web\",networkpolicy=\"x\"} 0\n\
             kube_networkpolicy_spec_egress_rules{namespace=\"web\",networkpolicy=\"x\"} 0\n"
        );
    }
}
