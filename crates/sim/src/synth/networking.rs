//! A Service with its EndpointSlice and Endpoints.

use std::net::Ipv4Addr;

use rand::Rng;
use serde_json::{json, Value};

use super::{owner_ref, Gen};
use crate::object::{rfc3339, uuid_from};
use crate::store::WorldError;

/// A pod a service points at: its name, its address and the index of its node.
pub(super) struct Endpoint {
    pub name: String,
    pub ip: Ipv4Addr,
    pub node: usize,
}

/// Emits a service selecting `selector` (headless or with the next cluster IP) and its
/// EndpointSlice and Endpoints listing `pods`.
pub(super) fn service(
    g: &mut Gen<'_>,
    ns: &str,
    name: &str,
    selector: &Value,
    created: i64,
    pods: &[Endpoint],
    headless: bool,
) -> Result<(), WorldError> {
    let n = g.rng.gen_range(0..65_000u32);
    let cluster_ip = if headless {
        "None".to_string()
    } else {
        g.addresses.service_ip()?.to_string()
    };
    let lb = !headless && g.rng.gen_bool(0.03);
    let mut spec = json!({"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
        "selector": selector, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
        "type": if lb {"LoadBalancer"} else {"ClusterIP"}, "sessionAffinity": "None",
        "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"});
    let mut status = json!({"loadBalancer": {}});
    if lb {
        spec["externalTrafficPolicy"] = json!("Cluster");
        spec["allocateLoadBalancerNodePorts"] = json!(true);
        spec["ports"][0]["nodePort"] = json!(30_000 + n % 2767);
        status = json!({"loadBalancer": {"ingress": [{"hostname": format!("{name}-{}.elb.eu-west-1.amazonaws.com", g.hex(8)), "ipMode": "Proxy"}]}});
    }
    let meta = g.meta(
        name,
        Some(ns),
        created,
        json!({"app.kubernetes.io/name": name}),
    );
    let svc_uid = meta["uid"].as_str().unwrap_or("").to_string();
    g.emit(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec, "status": status}))?;
    let mut eps = Vec::new();
    let mut addrs = Vec::new();
    for Endpoint { name: p, ip, node } in pods {
        let ip = ip.to_string();
        let node = &g.nodes[*node];
        let (nname, zone) = (node.name.clone(), node.zone);
        let uid = uuid_from(g.rng.gen(), g.rng.gen());
        eps.push(json!({"addresses": [ip], "conditions": {"ready": true, "serving": true, "terminating": false},
            "targetRef": {"kind": "Pod", "namespace": ns, "name": p, "uid": uid}, "nodeName": nname, "zone": zone}));
        addrs.push(json!({"ip": ip, "nodeName": nname, "targetRef": {"kind": "Pod", "namespace": ns, "name": p, "uid": uid}}));
    }
    let trigger = rfc3339(created + 5);
    let slice_name = format!("{name}-{}", g.suffix(5));
    let mut meta = g.meta(&slice_name, Some(ns), created,
        json!({"app.kubernetes.io/name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
               "kubernetes.io/service-name": name}));
    meta["generateName"] = json!(format!("{name}-"));
    meta["generation"] = json!(1);
    meta["annotations"] = json!({"endpoints.kubernetes.io/last-change-trigger-time": trigger});
    meta["ownerReferences"] = owner_ref("v1", "Service", name, &svc_uid);
    g.emit(json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta,
        "addressType": "IPv4", "endpoints": eps, "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]}))?;
    let mut meta = g.meta(name, Some(ns), created, json!({"app.kubernetes.io/name": name, "endpoints.kubernetes.io/managed-by": "endpoint-controller"}));
    meta["annotations"] = json!({"endpoints.kubernetes.io/last-change-trigger-time": trigger});
    let subsets = if addrs.is_empty() {
        json!([])
    } else {
        json!([{"addresses": addrs, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}])
    };
    let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta});
    if !addrs.is_empty() {
        ep["subsets"] = subsets;
    }
    g.emit(ep)
}
