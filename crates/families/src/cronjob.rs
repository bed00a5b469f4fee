//! Families of the `cronjobs` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::cronjob::CronJob;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for CronJob {
    const RESOURCE: &'static str = "cronjobs";
    const KIND: &'static str = "CronJob";
    const API: Api = Api::ns("batch", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("cronjob", &self.metadata.name);
    }
}

const FAMILIES: &[Family<CronJob>] = &[];
