//! Families of the `resourcequotas` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::resourcequota::ResourceQuota;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};
use crate::quantity::milli_float;

type O = ResourceQuota;

impl Kind for ResourceQuota {
    const RESOURCE: &'static str = "resourcequotas";
    const KIND: &'static str = "ResourceQuota";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("resourcequota", &self.metadata.name);
    }
}

/// One sample per `status.hard` entry then per `status.used` entry; resource names are kept
/// exactly as in the API (`requests.cpu`, `count/pods`).
fn quota(o: &O, out: &mut Out<'_>) {
    for (ty, list) in [("hard", &o.status.hard), ("used", &o.status.used)] {
        for (resource, q) in list.iter() {
            out.sample(&[("resource", resource), ("type", ty)], milli_float(q));
        }
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_resourcequota_created",
        Stable,
        "When the ResourceQuota was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_resourcequota",
        Stable,
        "Hard limit and current usage of each resource under the quota.",
        quota,
    ),
    Family::gauge(
        "kube_resourcequota_annotations",
        Alpha,
        "ResourceQuota annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_resourcequota_labels",
        Stable,
        "ResourceQuota labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn resourcequota_families() {
        let json = r#"{"metadata":{"name":"c","namespace":"q","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"quota":"c"}},
            "spec":{"hard":{"pods":"99"}},
            "status":{"hard":{"requests.cpu":"10","count/pods":"50","requests.nvidia.com/gpu":"4"},
                      "used":{"requests.cpu":"3250m","count/pods":"0"}}}"#;
        assert_eq!(
            render("resourcequotas", json, "resourcequotas=[*]", "resourcequotas=[*]"),
            "kube_resourcequota_created{namespace=\"q\",resourcequota=\"c\"} 1.79523862e+09\n\
             kube_resourcequota{namespace=\"q\",resourcequota=\"c\",resource=\"count/pods\",type=\"hard\"} 50\n\
             kube_resourcequota{namespace=\"q\",resourcequota=\"c\",resource=\"requests.cpu\",type=\"hard\"} 10\n\
             kube_resourcequota{namespace=\"q\",resourcequota=\"c\",resource=\"requests.nvidia.com/gpu\",type=\"hard\"} 4\n\
             kube_resourcequota{namespace=\"q\",resourcequota=\"c\",resource=\"count/pods\",type=\"used\"} 0\n\
             kube_resourcequota{namespace=\"q\",resourcequota=\"c\",resource=\"requests.cpu\",type=\"used\"} 3.25\n\
             kube_resourcequota_annotations{namespace=\"q\",resourcequota=\"c\"} 1\n\
             kube_resourcequota_labels{namespace=\"q\",resourcequota=\"c\",label_quota=\"c\"} 1\n"
        );
    }

    #[test]
    fn without_status() {
        let json =
            r#"{"metadata":{"name":"s","namespace":"q","uid":"u"},"spec":{"hard":{"pods":"1"}}}"#;
        assert_eq!(render("resourcequotas", json, "", ""), "");
    }
}
