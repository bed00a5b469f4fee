//! Families of the `clusterroles` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::clusterrole::ClusterRole;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ClusterRole {
    const RESOURCE: &'static str = "clusterroles";
    const KIND: &'static str = "ClusterRole";
    const API: Api = Api::cluster("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("clusterrole", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ClusterRole>] = &[];
