//! Families of the `endpoints` resource (off by default since KSM v2.18).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::endpoint::{Address, Endpoints, Port};
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = Endpoints;

impl Kind for Endpoints {
    const RESOURCE: &'static str = "endpoints";
    const KIND: &'static str = "Endpoints";
    const API: Api = Api::CORE_NS;
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("endpoint", &self.metadata.name);
    }
}

/// One sample per (port × address) of a subset, ready addresses first, with `ready` telling
/// which list the address came from. Subsets without ports give nothing.
fn address(o: &O, out: &mut Out<'_>) {
    for s in &o.subsets {
        for p in &s.ports {
            let number = p.port.to_string();
            let mut write = |a: &Address, ready: &str| {
                out.sample(
                    &[
                        ("port_protocol", &p.protocol),
                        ("port_number", &number),
                        ("port_name", &p.name),
                        ("ip", &a.ip),
                        ("ready", ready),
                    ],
                    1.0,
                );
            };
            s.addresses.iter().for_each(|a| write(a, "true"));
            s.not_ready_addresses.iter().for_each(|a| write(a, "false"));
        }
    }
}

fn ports(o: &O, out: &mut Out<'_>) {
    for p in o.subsets.iter().flat_map(|s| &s.ports) {
        let Port {
            name,
            port,
            protocol,
        } = p;
        out.sample(
            &[
                ("port_name", name),
                ("port_protocol", protocol),
                ("port_number", &port.to_string()),
            ],
            1.0,
        );
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_endpoint_info",
        Stable,
        "One series per Endpoints object.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_endpoint_created",
        Stable,
        "When the Endpoints object was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_endpoint_annotations",
        Alpha,
        "Endpoints annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_endpoint_labels",
        Stable,
        "Endpoints labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
    Family::gauge(
        "kube_endpoint_address",
        Stable,
        "One series per port and address of each subset, ready or not.",
        address,
    ),
    Family::gauge(
        "kube_endpoint_ports",
        Stable,
        "One series per port of each subset.",
        ports,
    )
    .deprecated("v2.14.0"),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn endpoint_families() {
        let json = r#"{"metadata":{"name":"fe","namespace":"web","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"app":"fe"}},
            "subsets":[{"addresses":[{"ip":"10.0.0.1"}],"notReadyAddresses":[{"ip":"10.0.0.2"}],
                        "ports":[{"name":"http","port":8080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]},
                       {"addresses":[{"ip":"10.0.0.9"}]}]}"#;
        assert_eq!(
            render("endpoints", json, "endpoints=[*]", ""),
            "kube_endpoint_info{namespace=\"web\",endpoint=\"fe\"} 1\n\
             kube_endpoint_created{namespace=\"web\",endpoint=\"fe\"} 1.79523862e+09\n\
             kube_endpoint_labels{namespace=\"web\",endpoint=\"fe\",label_app=\"fe\"} 1\n\
             kube_endpoint_address{namespace=\"web\",endpoint=\"fe\",port_protocol=\"TCP\",port_number=\"8080\",port_name=\"http\",ip=\"10.0.0.1\",ready=\"true\"} 1\n\
             kube_endpoint_address{namespace=\"web\",endpoint=\"fe\",port_protocol=\"TCP\",port_number=\"8080\",port_name=\"http\",ip=\"10.0.0.2\",ready=\"false\"} 1\n\
             kube_endpoint_address{namespace=\"web\",endpoint=\"fe\",port_protocol=\"UDP\",port_number=\"53\",port_name=\"\",ip=\"10.0.0.1\",ready=\"true\"} 1\n\
             kube_endpoint_address{namespace=\"web\",endpoint=\"fe\",port_protocol=\"UDP\",port_number=\"53\",port_name=\"\",ip=\"10.0.0.2\",ready=\"false\"} 1\n\
             kube_endpoint_ports{namespace=\"web\",endpoint=\"fe\",port_name=\"http\",port_protocol=\"TCP\",port_number=\"8080\"} 1\n\
             kube_endpoint_ports{namespace=\"web\",endpoint=\"fe\",port_name=\"\",port_protocol=\"UDP\",port_number=\"53\"} 1\n"
        );
    }

    #[test]
    fn deprecated_ports_family() {
        let r = crate::resource("endpoints").expect("endpoints");
        let f = r.families();
        let ports = f
            .iter()
            .find(|f| f.desc.name == "kube_endpoint_ports")
            .expect("ports");
        assert_eq!(ports.desc.deprecated_since.as_deref(), Some("v2.14.0"));
        assert!(!r.default_enabled());
    }
}
