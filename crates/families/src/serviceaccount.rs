//! Families of the `serviceaccounts` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::serviceaccount::ServiceAccount;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ServiceAccount {
    const RESOURCE: &'static str = "serviceaccounts";
    const KIND: &'static str = "ServiceAccount";
    const API: Api = Api::CORE_NS;
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("serviceaccount", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }
}

const FAMILIES: &[Family<ServiceAccount>] = &[];
