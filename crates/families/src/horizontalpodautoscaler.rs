//! Families of the `horizontalpodautoscalers` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::horizontalpodautoscaler::HorizontalPodAutoscaler;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for HorizontalPodAutoscaler {
    const RESOURCE: &'static str = "horizontalpodautoscalers";
    const KIND: &'static str = "HorizontalPodAutoscaler";
    const API: Api = Api::ns("autoscaling", "v2");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("horizontalpodautoscaler", &self.metadata.name);
    }
}

const FAMILIES: &[Family<HorizontalPodAutoscaler>] = &[];
