//! Families of the `services` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::service::Service;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for Service {
    const RESOURCE: &'static str = "services";
    const KIND: &'static str = "Service";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("service", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }
}

const FAMILIES: &[Family<Service>] = &[
    Family::gauge(
        "kube_service_info",
        Stable,
        "Service cluster IP, external name, load balancer IP and external traffic policy.",
        |s, out| {
            out.sample(
                &[
                    ("cluster_ip", &s.spec.cluster_ip),
                    ("external_name", &s.spec.external_name),
                    ("load_balancer_ip", &s.spec.load_balancer_ip),
                    ("external_traffic_policy", &s.spec.external_traffic_policy),
                ],
                1.0,
            );
        },
    ),
    Family::gauge(
        "kube_service_created",
        Stable,
        "When the service was created, in Unix seconds.",
        common::created::<Service>,
    ),
    Family::gauge(
        "kube_service_spec_type",
        Stable,
        "The service type, as a label.",
        |s, out| out.sample(&[("type", &s.spec.type_)], 1.0),
    ),
    Family::gauge(
        "kube_service_annotations",
        Alpha,
        "Service annotations named by the annotations allowlist, as labels.",
        common::annotations::<Service>,
    ),
    Family::gauge(
        "kube_service_labels",
        Stable,
        "Service labels named by the labels allowlist, as labels.",
        common::labels::<Service>,
    ),
    Family::gauge(
        "kube_service_spec_external_ip",
        Stable,
        "One series per external IP of the service.",
        |s, out| {
            for ip in &s.spec.external_ips {
                out.sample(&[("external_ip", ip)], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_service_status_load_balancer_ingress",
        Stable,
        "One series per load-balancer ingress point of the service.",
        |s, out| {
            for i in &s.status.load_balancer.ingress {
                out.sample(&[("ip", &i.ip), ("hostname", &i.hostname)], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_service_deletion_timestamp",
        Alpha,
        "When deletion of the service was requested, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<Service>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn load_balancer_service() {
        let j = r#"{"metadata":{"name":"lb","namespace":"web","uid":"u1","creationTimestamp":"2026-11-21T05:25:59Z",
            "deletionTimestamp":"2026-11-21T05:25:59Z"},
            "spec":{"type":"LoadBalancer","clusterIP":"10.96.0.10","loadBalancerIP":"203.0.113.10",
              "externalTrafficPolicy":"Cluster","externalIPs":["198.51.100.7","198.51.100.8"]},
            "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"},{"hostname":"a.elb.example.com"}]}}}"#;
        assert_eq!(
            render("services", j, "", ""),
            "kube_service_info{namespace=\"web\",service=\"lb\",uid=\"u1\",cluster_ip=\"10.96.0.10\",external_name=\"\",load_balancer_ip=\"203.0.113.10\",external_traffic_policy=\"Cluster\"} 1\n\
             kube_service_created{namespace=\"web\",service=\"lb\",uid=\"u1\"} 1.795238759e+09\n\
             kube_service_spec_type{namespace=\"web\",service=\"lb\",uid=\"u1\",type=\"LoadBalancer\"} 1\n\
             kube_service_spec_external_ip{namespace=\"web\",service=\"lb\",uid=\"u1\",external_ip=\"198.51.100.7\"} 1\n\
             kube_service_spec_external_ip{namespace=\"web\",service=\"lb\",uid=\"u1\",external_ip=\"198.51.100.8\"} 1\n\
             kube_service_status_load_balancer_ingress{namespace=\"web\",service=\"lb\",uid=\"u1\",ip=\"203.0.113.10\",hostname=\"\"} 1\n\
             kube_service_status_load_balancer_ingress{namespace=\"web\",service=\"lb\",uid=\"u1\",ip=\"\",hostname=\"a.elb.example.com\"} 1\n\
             kube_service_deletion_timestamp{namespace=\"web\",service=\"lb\",uid=\"u1\"} 1.795238759e+09\n"
        );
    }

    #[test]
    fn external_name_service_with_allowlists() {
        let j = r#"{"metadata":{"name":"db","namespace":"web","uid":"u2","labels":{"tier":"db"}},
            "spec":{"type":"ExternalName","externalName":"db.example.com"},"status":{"loadBalancer":{}}}"#;
        assert_eq!(
            render("services", j, "services=[*]", "services=[*]"),
            "kube_service_info{namespace=\"web\",service=\"db\",uid=\"u2\",cluster_ip=\"\",external_name=\"db.example.com\",load_balancer_ip=\"\",external_traffic_policy=\"\"} 1\n\
             kube_service_spec_type{namespace=\"web\",service=\"db\",uid=\"u2\",type=\"ExternalName\"} 1\n\
             kube_service_annotations{namespace=\"web\",service=\"db\",uid=\"u2\"} 1\n\
             kube_service_labels{namespace=\"web\",service=\"db\",uid=\"u2\",label_tier=\"db\"} 1\n"
        );
    }
}
