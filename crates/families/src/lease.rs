//! Families of the `leases` resource. Identity is only `lease`; the namespace is a
//! per-sample label written after the family's own labels.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::lease::Lease;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind, Out};

type O = Lease;

impl Kind for Lease {
    const RESOURCE: &'static str = "leases";
    const KIND: &'static str = "Lease";
    const API: Api = Api::ns("coordination.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("lease", &self.metadata.name);
    }
}

/// One sample per ownerReference (one with empty owner labels when there is none), each with
/// the namespace and the holder identity ("" when unheld).
fn owner(o: &O, out: &mut Out<'_>) {
    let ns = &*o.metadata.namespace;
    let holder = o.spec.holder_identity.as_deref().unwrap_or("");
    let owners = &o.metadata.owner_references;
    if owners.is_empty() {
        out.sample(
            &[
                ("owner_kind", ""),
                ("owner_name", ""),
                ("namespace", ns),
                ("lease_holder", holder),
            ],
            1.0,
        );
    }
    for r in owners {
        out.sample(
            &[
                ("owner_kind", &r.kind),
                ("owner_name", &r.name),
                ("namespace", ns),
                ("lease_holder", holder),
            ],
            1.0,
        );
    }
}

fn renew_time(o: &O, out: &mut Out<'_>) {
    if let Some(t) = o.spec.renew_time.filter(|t| !t.is_zero()) {
        out.sample(&[("namespace", &o.metadata.namespace)], t.unix());
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_lease_owner",
        Alpha,
        "Owners and current holder of the Lease.",
        owner,
    ),
    Family::gauge(
        "kube_lease_renew_time",
        Alpha,
        "When the Lease holder last renewed it, in Unix seconds.",
        renew_time,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn owned_and_held() {
        let json = r#"{"metadata":{"name":"worker-7","namespace":"kube-node-lease","uid":"u",
            "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"worker-7","uid":"n"}]},
            "spec":{"holderIdentity":"worker-7","renewTime":"2026-11-21T05:23:40.123456Z"}}"#;
        assert_eq!(
            render("leases", json, "", ""),
            "kube_lease_owner{lease=\"worker-7\",owner_kind=\"Node\",owner_name=\"worker-7\",namespace=\"kube-node-lease\",lease_holder=\"worker-7\"} 1\n\
             kube_lease_renew_time{lease=\"worker-7\",namespace=\"kube-node-lease\"} 1.79523862e+09\n"
        );
    }

    #[test]
    fn unowned_unheld_never_renewed() {
        let json = r#"{"metadata":{"name":"free","namespace":"x","uid":"u"},"spec":{}}"#;
        assert_eq!(
            render("leases", json, "", ""),
            "kube_lease_owner{lease=\"free\",owner_kind=\"\",owner_name=\"\",namespace=\"x\",lease_holder=\"\"} 1\n"
        );
    }
}
