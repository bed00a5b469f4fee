//! Families of the `rolebindings` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::rolebinding::RoleBinding;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for RoleBinding {
    const RESOURCE: &'static str = "rolebindings";
    const KIND: &'static str = "RoleBinding";
    const API: Api = Api::ns("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("rolebinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<RoleBinding>] = &[];
