//! Families of the `jobs` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::job::Job;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Job {
    const RESOURCE: &'static str = "jobs";
    const KIND: &'static str = "Job";
    const API: Api = Api::ns("batch", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("job_name", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Job>] = &[];
