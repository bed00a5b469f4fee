//! Families of the `clusterrolebindings` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::clusterrolebinding::ClusterRoleBinding;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ClusterRoleBinding {
    const RESOURCE: &'static str = "clusterrolebindings";
    const KIND: &'static str = "ClusterRoleBinding";
    const API: Api = Api::cluster("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("clusterrolebinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ClusterRoleBinding>] = &[];
