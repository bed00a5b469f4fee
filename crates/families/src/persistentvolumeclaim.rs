//! Families of the `persistentvolumeclaims` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::persistentvolumeclaim::PersistentVolumeClaim;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind, Out};
use crate::{common, conditions, phases};

type O = PersistentVolumeClaim;

impl Kind for PersistentVolumeClaim {
    const RESOURCE: &'static str = "persistentvolumeclaims";
    const KIND: &'static str = "PersistentVolumeClaim";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("persistentvolumeclaim", &self.metadata.name);
    }
}

/// The legacy annotation that, when present, names the claim's class instead of the spec.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

fn info(o: &O, out: &mut Out<'_>) {
    let class = o
        .metadata
        .annotations
        .get(BETA_STORAGE_CLASS)
        .or(o.spec.storage_class_name.as_deref())
        .unwrap_or("");
    out.sample(
        &[
            ("storageclass", class),
            ("volumename", &o.spec.volume_name),
            ("volumemode", o.spec.volume_mode.as_deref().unwrap_or("")),
        ],
        1.0,
    );
}

fn status_phase(o: &O, out: &mut Out<'_>) {
    phases::one_hot(out, "phase", &o.status.phase, &["Lost", "Bound", "Pending"]);
}

fn requests_storage(o: &O, out: &mut Out<'_>) {
    if let Some(q) = o.spec.resources.requests.get("storage") {
        out.sample(&[], q.value() as f64);
    }
}

fn access_mode(o: &O, out: &mut Out<'_>) {
    for m in &o.spec.access_modes {
        out.sample(&[("access_mode", m)], 1.0);
    }
}

fn status_condition(o: &O, out: &mut Out<'_>) {
    for c in &o.status.conditions {
        conditions::triple(out, &[("condition", &c.type_)], "status", &c.status);
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_persistentvolumeclaim_labels",
        Stable,
        "PersistentVolumeClaim labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_annotations",
        Alpha,
        "PersistentVolumeClaim annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_info",
        Stable,
        "Storage class, bound volume and volume mode of the claim.",
        info,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_status_phase",
        Stable,
        "Claim phase: 1 on the current phase among Lost, Bound and Pending.",
        status_phase,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_resource_requests_storage_bytes",
        Stable,
        "Storage requested by the claim, in bytes.",
        requests_storage,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_access_mode",
        Stable,
        "One series per access mode the claim asks for.",
        access_mode,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_status_condition",
        Alpha,
        "Claim conditions: 1 on the current status (true, false, unknown) of each.",
        status_condition,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_created",
        Alpha,
        "When the claim was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_persistentvolumeclaim_deletion_timestamp",
        Alpha,
        "When deletion of the claim was requested, in Unix seconds.",
        common::deletion_timestamp::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    const BOUND: &str = r#"{"metadata":{"name":"data","namespace":"db","uid":"u1",
        "creationTimestamp":"2026-11-21T05:23:40Z","deletionTimestamp":"2026-11-21T05:24:00Z",
        "labels":{"app":"pg"},"annotations":{"volume.beta.kubernetes.io/storage-class":"legacy"}},
        "spec":{"accessModes":["ReadWriteOnce","ReadOnlyMany"],"resources":{"requests":{"storage":"1536Mi"}},
                "volumeName":"pv-1","storageClassName":"gp3","volumeMode":"Block"},
        "status":{"phase":"Bound","conditions":[{"type":"Resizing","status":"True"},{"type":"ModifyingVolume","status":"Unknown"}]}}"#;

    #[test]
    fn all_families() {
        assert_eq!(
            render("persistentvolumeclaims", BOUND, "persistentvolumeclaims=[*]", ""),
            "kube_persistentvolumeclaim_labels{namespace=\"db\",persistentvolumeclaim=\"data\",label_app=\"pg\"} 1\n\
             kube_persistentvolumeclaim_info{namespace=\"db\",persistentvolumeclaim=\"data\",storageclass=\"legacy\",volumename=\"pv-1\",volumemode=\"Block\"} 1\n\
             kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"data\",phase=\"Lost\"} 0\n\
             kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"data\",phase=\"Bound\"} 1\n\
             kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"data\",phase=\"Pending\"} 0\n\
             kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace=\"db\",persistentvolumeclaim=\"data\"} 1.610612736e+09\n\
             kube_persistentvolumeclaim_access_mode{namespace=\"db\",persistentvolumeclaim=\"data\",access_mode=\"ReadWriteOnce\"} 1\n\
             kube_persistentvolumeclaim_access_mode{namespace=\"db\",persistentvolumeclaim=\"data\",access_mode=\"ReadOnlyMany\"} 1\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"Resizing\",status=\"true\"} 1\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"Resizing\",status=\"false\"} 0\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"Resizing\",status=\"unknown\"} 0\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"ModifyingVolume\",status=\"true\"} 0\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"ModifyingVolume\",status=\"false\"} 0\n\
             kube_persistentvolumeclaim_status_condition{namespace=\"db\",persistentvolumeclaim=\"data\",condition=\"ModifyingVolume\",status=\"unknown\"} 1\n\
             kube_persistentvolumeclaim_created{namespace=\"db\",persistentvolumeclaim=\"data\"} 1.79523862e+09\n\
             kube_persistentvolumeclaim_deletion_timestamp{namespace=\"db\",persistentvolumeclaim=\"data\"} 1.79523864e+09\n"
        );
    }

    const BARE: &str = r#"{"metadata":{"name":"bare","namespace":"db","uid":"u2"},"spec":{}}"#;

    #[test]
    fn unset_fields() {
        // No class anywhere, no mode: empty labels; no phase: no samples; no request: none.
        assert_eq!(
            render("persistentvolumeclaims", BARE, "", ""),
            "kube_persistentvolumeclaim_info{namespace=\"db\",persistentvolumeclaim=\"bare\",storageclass=\"\",volumename=\"\",volumemode=\"\"} 1\n"
        );
    }

    #[test]
    fn spec_class_without_annotation_and_unknown_phase() {
        let json = r#"{"metadata":{"name":"c","namespace":"db","uid":"u3"},
            "spec":{"storageClassName":""},"status":{"phase":"Weird"}}"#;
        assert_eq!(
            render_family("persistentvolumeclaims", json, "kube_persistentvolumeclaim_info"),
            "kube_persistentvolumeclaim_info{namespace=\"db\",persistentvolumeclaim=\"c\",storageclass=\"\",volumename=\"\",volumemode=\"\"} 1\n"
        );
        assert_eq!(
            render_family("persistentvolumeclaims", json, "kube_persistentvolumeclaim_status_phase"),
            "kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"c\",phase=\"Lost\"} 0\n\
             kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"c\",phase=\"Bound\"} 0\n\
             kube_persistentvolumeclaim_status_phase{namespace=\"db\",persistentvolumeclaim=\"c\",phase=\"Pending\"} 0\n"
        );
    }
}
