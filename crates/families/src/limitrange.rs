//! Families of the `limitranges` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Stable;
use kubestate_objects::limitrange::LimitRange;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};
use crate::quantity::milli_float;

type O = LimitRange;

impl Kind for LimitRange {
    const RESOURCE: &'static str = "limitranges";
    const KIND: &'static str = "LimitRange";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("limitrange", &self.metadata.name);
    }
}

/// One sample per (limit item × constraint × resource), constraints named as in the API.
fn limits(o: &O, out: &mut Out<'_>) {
    for item in &o.spec.limits {
        let constraints = [
            ("min", &item.min),
            ("max", &item.max),
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
            ("maxLimitRequestRatio", &item.max_limit_request_ratio),
        ];
        for (constraint, list) in constraints {
            for (resource, q) in list.iter() {
                out.sample(
                    &[
                        ("resource", resource),
                        ("type", &item.type_),
                        ("constraint", constraint),
                    ],
                    milli_float(q),
                );
            }
        }
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_limitrange",
        Stable,
        "Each min, max, default, defaultRequest and maxLimitRequestRatio of the LimitRange.",
        limits,
    ),
    Family::gauge(
        "kube_limitrange_created",
        Stable,
        "When the LimitRange was created, in Unix seconds.",
        common::created::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn limitrange_families() {
        let json = r#"{"metadata":{"name":"d","namespace":"q","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"limits":[
              {"type":"Container","min":{"cpu":"10m"},"max":{"memory":"4Gi"},"default":{"cpu":"500m"},
               "defaultRequest":{"cpu":"100m"},"maxLimitRequestRatio":{"cpu":"10"}},
              {"type":"PersistentVolumeClaim","max":{"storage":"1.5Ti"}}]}}"#;
        assert_eq!(
            render("limitranges", json, "", ""),
            "kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"cpu\",type=\"Container\",constraint=\"min\"} 0.01\n\
             kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"memory\",type=\"Container\",constraint=\"max\"} 4.294967296e+09\n\
             kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"cpu\",type=\"Container\",constraint=\"default\"} 0.5\n\
             kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"cpu\",type=\"Container\",constraint=\"defaultRequest\"} 0.1\n\
             kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"cpu\",type=\"Container\",constraint=\"maxLimitRequestRatio\"} 10\n\
             kube_limitrange{namespace=\"q\",limitrange=\"d\",resource=\"storage\",type=\"PersistentVolumeClaim\",constraint=\"max\"} 1.649267441664e+12\n\
             kube_limitrange_created{namespace=\"q\",limitrange=\"d\"} 1.79523862e+09\n"
        );
    }

    #[test]
    fn null_limits() {
        let json = r#"{"metadata":{"name":"d","namespace":"q","uid":"u"},"spec":{"limits":null}}"#;
        assert_eq!(render("limitranges", json, "", ""), "");
    }
}
