//! A Service with its EndpointSlice and Endpoints.

use rand::Rng;
use serde_json::{json, Value};

use super::{owner_ref, Gen};
use crate::object::{rfc3339, uuid_from};
use crate::store::WorldError;

pub(super) fn service(
    g: &mut Gen<'_>,
    ns: &str,
    name: &str,
    selector: &Value,
    created: i64,
    pods: &[String],
    headless: bool,
) -> Result<(), WorldError> {
    let n = g.rng.gen_range(0..65_000u32);
    let cluster_ip = if headless {
        "None".to_string()
    } else {
        format!("10.96.{}.{}", n / 254, n % 254 + 1)
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
    for (i, p) in pods.iter().enumerate() {
        let ip = format!(
            "10.{}.{}.{}",
            244 + i / 60_000,
            (i / 250) % 256,
            i % 250 + 2
        );
        let node = &g.nodes[(i * 7 + n as usize) % g.nodes.len()];
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
