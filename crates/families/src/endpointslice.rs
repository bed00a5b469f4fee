//! Families of the `endpointslices` resource. Note the identity order: `endpointslice`
//! before `namespace`, as KSM writes it.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::endpointslice::EndpointSlice;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

impl Kind for EndpointSlice {
    const RESOURCE: &'static str = "endpointslices";
    const KIND: &'static str = "EndpointSlice";
    const API: Api = Api::ns("discovery.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("endpointslice", &self.metadata.name);
        out.identity_label("namespace", &self.metadata.namespace);
    }
}

/// An optional endpoint condition as a label value: `true`, `false`, or empty when unset.
fn cond(c: Option<bool>) -> &'static str {
    c.map_or("", common::bool_str)
}

fn endpoints(s: &EndpointSlice, out: &mut Out<'_>) {
    for ep in &s.endpoints {
        let (kind, name, namespace) = ep
            .target_ref
            .as_ref()
            .map_or(("", "", ""), |t| (&*t.kind, &*t.name, &*t.namespace));
        for address in &ep.addresses {
            out.sample(
                &[
                    ("ready", cond(ep.conditions.ready)),
                    ("serving", cond(ep.conditions.serving)),
                    ("hostname", &ep.hostname),
                    ("terminating", cond(ep.conditions.terminating)),
                    ("targetref_kind", kind),
                    ("targetref_name", name),
                    ("targetref_namespace", namespace),
                    ("endpoint_nodename", &ep.node_name),
                    ("endpoint_zone", &ep.zone),
                    ("address", address),
                ],
                1.0,
            );
        }
    }
}

const FAMILIES: &[Family<EndpointSlice>] = &[
    Family::gauge(
        "kube_endpointslice_info",
        Alpha,
        "One series per EndpointSlice, with its address type.",
        |s, out| out.sample(&[("addresstype", &s.address_type)], 1.0),
    ),
    Family::gauge(
        "kube_endpointslice_created",
        Alpha,
        "When the EndpointSlice was created, in Unix seconds.",
        common::created::<EndpointSlice>,
    ),
    Family::gauge(
        "kube_endpointslice_endpoints_hints",
        Alpha,
        "One series per zone hint of an endpoint, labelled with the endpoint's first address.",
        |s, out| {
            for ep in &s.endpoints {
                let (Some(hints), Some(address)) = (&ep.hints, ep.addresses.first()) else {
                    continue;
                };
                for zone in &hints.for_zones {
                    out.sample(&[("address", address), ("for_zone", &zone.name)], 1.0);
                }
            }
        },
    ),
    Family::gauge(
        "kube_endpointslice_endpoints",
        Alpha,
        "One series per address of each endpoint, with its conditions, target and location.",
        endpoints,
    ),
    Family::gauge(
        "kube_endpointslice_ports",
        Alpha,
        "One series per port of the EndpointSlice.",
        |s, out| {
            for p in &s.ports {
                let number = p.port.map(|n| n.to_string()).unwrap_or_default();
                out.sample(
                    &[
                        ("port_name", &p.name),
                        ("port_protocol", &p.protocol),
                        ("port_number", &number),
                    ],
                    1.0,
                );
            }
        },
    ),
    Family::gauge(
        "kube_endpointslice_annotations",
        Alpha,
        "EndpointSlice annotations named by the annotations allowlist, as labels.",
        common::annotations::<EndpointSlice>,
    ),
    Family::gauge(
        "kube_endpointslice_labels",
        Alpha,
        "EndpointSlice labels named by the labels allowlist, as labels.",
        common::labels::<EndpointSlice>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    const SLICE: &str = r#"{"metadata":{"name":"fe-1","namespace":"web","uid":"u","creationTimestamp":"2026-11-21T05:25:59Z"},
        "addressType":"IPv4",
        "endpoints":[
          {"addresses":["10.0.1.5"],"conditions":{"ready":true,"serving":true,"terminating":false},"hostname":"a",
           "targetRef":{"kind":"Pod","namespace":"web","name":"a"},"nodeName":"w1","zone":"z1",
           "hints":{"forZones":[{"name":"z1"},{"name":"z2"}]}},
          {"addresses":["10.0.2.6","10.0.2.66"],"conditions":{"ready":false,"terminating":true},
           "hints":{"forZones":[{"name":"z2"}],"forNodes":[{"name":"w2"}]}},
          {"addresses":[],"conditions":{},"hints":{"forZones":[{"name":"z3"}]}},
          {"addresses":["10.0.3.7"],"conditions":{}}],
        "ports":[{"name":"http","protocol":"TCP","port":8080},{"protocol":"UDP","port":53},{}]}"#;

    #[test]
    fn endpoints_one_per_address_with_optional_conditions() {
        assert_eq!(
            render_family("endpointslices", SLICE, "kube_endpointslice_endpoints"),
            "kube_endpointslice_endpoints{endpointslice=\"fe-1\",namespace=\"web\",ready=\"true\",serving=\"true\",hostname=\"a\",terminating=\"false\",targetref_kind=\"Pod\",targetref_name=\"a\",targetref_namespace=\"web\",endpoint_nodename=\"w1\",endpoint_zone=\"z1\",address=\"10.0.1.5\"} 1\n\
             kube_endpointslice_endpoints{endpointslice=\"fe-1\",namespace=\"web\",ready=\"false\",serving=\"\",hostname=\"\",terminating=\"true\",targetref_kind=\"\",targetref_name=\"\",targetref_namespace=\"\",endpoint_nodename=\"\",endpoint_zone=\"\",address=\"10.0.2.6\"} 1\n\
             kube_endpointslice_endpoints{endpointslice=\"fe-1\",namespace=\"web\",ready=\"false\",serving=\"\",hostname=\"\",terminating=\"true\",targetref_kind=\"\",targetref_name=\"\",targetref_namespace=\"\",endpoint_nodename=\"\",endpoint_zone=\"\",address=\"10.0.2.66\"} 1\n\
             kube_endpointslice_endpoints{endpointslice=\"fe-1\",namespace=\"web\",ready=\"\",serving=\"\",hostname=\"\",terminating=\"\",targetref_kind=\"\",targetref_name=\"\",targetref_namespace=\"\",endpoint_nodename=\"\",endpoint_zone=\"\",address=\"10.0.3.7\"} 1\n"
        );
    }

    #[test]
    fn hints_use_first_address_and_skip_addressless_endpoints() {
        assert_eq!(
            render_family("endpointslices", SLICE, "kube_endpointslice_endpoints_hints"),
            "kube_endpointslice_endpoints_hints{endpointslice=\"fe-1\",namespace=\"web\",address=\"10.0.1.5\",for_zone=\"z1\"} 1\n\
             kube_endpointslice_endpoints_hints{endpointslice=\"fe-1\",namespace=\"web\",address=\"10.0.1.5\",for_zone=\"z2\"} 1\n\
             kube_endpointslice_endpoints_hints{endpointslice=\"fe-1\",namespace=\"web\",address=\"10.0.2.6\",for_zone=\"z2\"} 1\n"
        );
    }

    #[test]
    fn ports_with_unset_fields() {
        assert_eq!(
            render_family("endpointslices", SLICE, "kube_endpointslice_ports"),
            "kube_endpointslice_ports{endpointslice=\"fe-1\",namespace=\"web\",port_name=\"http\",port_protocol=\"TCP\",port_number=\"8080\"} 1\n\
             kube_endpointslice_ports{endpointslice=\"fe-1\",namespace=\"web\",port_name=\"\",port_protocol=\"UDP\",port_number=\"53\"} 1\n\
             kube_endpointslice_ports{endpointslice=\"fe-1\",namespace=\"web\",port_name=\"\",port_protocol=\"\",port_number=\"\"} 1\n"
        );
    }

    #[test]
    fn empty_slice_with_null_lists() {
        let j = r#"{"metadata":{"name":"empty","namespace":"web"},"addressType":"FQDN","endpoints":null,"ports":null}"#;
        assert_eq!(
            render("endpointslices", j, "", ""),
            "kube_endpointslice_info{endpointslice=\"empty\",namespace=\"web\",addresstype=\"FQDN\"} 1\n"
        );
        assert_eq!(
            render_family("endpointslices", SLICE, "kube_endpointslice_created"),
            "kube_endpointslice_created{endpointslice=\"fe-1\",namespace=\"web\"} 1.795238759e+09\n"
        );
    }
}
