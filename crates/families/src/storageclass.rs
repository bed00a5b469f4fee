//! Families of the `storageclasses` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::storageclass::StorageClass;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = StorageClass;

impl Kind for StorageClass {
    const RESOURCE: &'static str = "storageclasses";
    const KIND: &'static str = "StorageClass";
    const API: Api = Api::cluster("storage.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("storageclass", &self.metadata.name);
    }
}

fn info(o: &O, out: &mut Out<'_>) {
    out.sample(
        &[
            ("provisioner", &o.provisioner),
            (
                "reclaim_policy",
                o.reclaim_policy.as_deref().unwrap_or("Delete"),
            ),
            (
                "volume_binding_mode",
                o.volume_binding_mode.as_deref().unwrap_or("Immediate"),
            ),
        ],
        1.0,
    );
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_storageclass_info",
        Stable,
        "Provisioner, reclaim policy and volume binding mode of the StorageClass.",
        info,
    ),
    Family::gauge(
        "kube_storageclass_created",
        Stable,
        "When the StorageClass was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_storageclass_annotations",
        Alpha,
        "StorageClass annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_storageclass_labels",
        Stable,
        "StorageClass labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn storageclass_families() {
        let json = r#"{"metadata":{"name":"gp3","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
            "provisioner":"ebs.csi.aws.com","reclaimPolicy":"Retain","volumeBindingMode":"WaitForFirstConsumer"}"#;
        assert_eq!(
            render("storageclasses", json, "storageclasses=[*]", "storageclasses=[*]"),
            "kube_storageclass_info{storageclass=\"gp3\",provisioner=\"ebs.csi.aws.com\",reclaim_policy=\"Retain\",volume_binding_mode=\"WaitForFirstConsumer\"} 1\n\
             kube_storageclass_created{storageclass=\"gp3\"} 1.79523862e+09\n\
             kube_storageclass_annotations{storageclass=\"gp3\",annotation_storageclass_kubernetes_io_is_default_class=\"true\"} 1\n\
             kube_storageclass_labels{storageclass=\"gp3\"} 1\n"
        );
    }

    #[test]
    fn defaults_when_unset() {
        let json = r#"{"metadata":{"name":"plain","uid":"u"},"provisioner":"p"}"#;
        assert_eq!(
            render("storageclasses", json, "", ""),
            "kube_storageclass_info{storageclass=\"plain\",provisioner=\"p\",reclaim_policy=\"Delete\",volume_binding_mode=\"Immediate\"} 1\n"
        );
    }
}
