//! Every address a synthesized world holds is a valid IP address, for every preset: node
//! addresses, node pod ranges, pod and host IPs, service cluster IPs and endpoint addresses.
//! The ones Kubernetes keeps unique are unique, and endpoints point at their pods' addresses.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSnapshot, WorldSource};
use serde_json::Value;

/// `s` as an IP address, or a failure naming where it was found.
fn ip(s: &Value, what: &str, errors: &mut Vec<String>) -> Option<IpAddr> {
    match s.as_str().map(str::parse::<IpAddr>) {
        Some(Ok(ip)) => Some(ip),
        _ => {
            errors.push(format!("{what}: {s} is not an IP address"));
            None
        }
    }
}

/// Inserts `v` into `seen`, recording a failure when it was there already.
fn unique<T: std::hash::Hash + Eq + std::fmt::Display>(
    seen: &mut HashSet<T>,
    v: T,
    what: &str,
    errors: &mut Vec<String>,
) {
    let text = v.to_string();
    if !seen.insert(v) {
        errors.push(format!("{what}: {text} is used twice"));
    }
}

/// Everything wrong with the addresses of `world`, and how many addresses were read.
fn address_problems(world: &WorldSnapshot) -> (Vec<String>, usize) {
    let mut errors = Vec::new();
    let mut read = 0;
    let mut node_ips = HashSet::new();
    let mut cidrs = HashSet::new();
    for n in world.of("nodes") {
        let v = n.value();
        let what = format!("node {}", n.name);
        for a in v["status"]["addresses"].as_array().into_iter().flatten() {
            if a["type"] == "InternalIP" {
                read += 1;
                if let Some(ip) = ip(&a["address"], &what, &mut errors) {
                    unique(&mut node_ips, ip, &what, &mut errors);
                }
            }
        }
        read += 1;
        let cidr = v["spec"]["podCIDR"].as_str().unwrap_or("");
        match cidr.split_once('/') {
            Some((base, bits))
                if base.parse::<IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32) =>
            {
                unique(&mut cidrs, cidr.to_string(), &what, &mut errors);
            }
            _ => errors.push(format!("{what}: podCIDR {cidr:?} is not a CIDR")),
        }
        if v["spec"]["podCIDRs"][0] != v["spec"]["podCIDR"] {
            errors.push(format!("{what}: podCIDRs does not start with podCIDR"));
        }
    }
    let mut pod_ips: HashMap<IpAddr, String> = HashMap::new();
    for p in world.of("pods") {
        let v = p.value();
        let what = format!("pod {}/{}", p.namespace, p.name);
        let status = &v["status"];
        if !status["hostIP"].is_null() {
            read += 1;
            if let Some(host) = ip(&status["hostIP"], &what, &mut errors) {
                if !node_ips.contains(&host) {
                    errors.push(format!("{what}: hostIP {host} is no node's address"));
                }
            }
        }
        if !status["podIP"].is_null() {
            read += 1;
            if let Some(ip) = ip(&status["podIP"], &what, &mut errors) {
                if let Some(other) = pod_ips.insert(ip, what.clone()) {
                    errors.push(format!("{what}: podIP {ip} is also {other}'s"));
                }
                if node_ips.contains(&ip) {
                    errors.push(format!("{what}: podIP {ip} is a node's address"));
                }
            }
            if status["podIPs"][0]["ip"] != status["podIP"] {
                errors.push(format!("{what}: podIPs does not start with podIP"));
            }
        }
    }
    let mut cluster_ips = HashSet::new();
    for s in world.of("services") {
        let v = s.value();
        let what = format!("service {}/{}", s.namespace, s.name);
        if v["spec"]["clusterIP"] == "None" {
            continue;
        }
        read += 1;
        if let Some(ip) = ip(&v["spec"]["clusterIP"], &what, &mut errors) {
            unique(&mut cluster_ips, ip, &what, &mut errors);
            if pod_ips.contains_key(&ip) || node_ips.contains(&ip) {
                errors.push(format!("{what}: clusterIP {ip} is a pod's or a node's"));
            }
        }
    }
    for e in world.of("endpointslices") {
        let v = e.value();
        for ep in v["endpoints"].as_array().into_iter().flatten() {
            let pod = format!(
                "pod {}/{}",
                ep["targetRef"]["namespace"].as_str().unwrap_or(""),
                ep["targetRef"]["name"].as_str().unwrap_or("")
            );
            let what = format!("endpointslice {}/{} for {pod}", e.namespace, e.name);
            read += 1;
            if let Some(ip) = ip(&ep["addresses"][0], &what, &mut errors) {
                if pod_ips.get(&ip) != Some(&pod) {
                    errors.push(format!("{what}: {ip} is not that pod's address"));
                }
            }
        }
    }
    (errors, read)
}

async fn world(spec: SynthSpec) -> WorldSnapshot {
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(spec),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let snapshot = sim.snapshot();
    sim.shutdown().await;
    snapshot
}

/// Synthesizes each preset and fails on any address problem.
async fn presets_have_valid_distinct_addresses(presets: &[&str]) {
    for preset in presets {
        let spec = SynthSpec::preset(preset).expect("preset");
        let (nodes, pods) = (spec.nodes, spec.pods);
        let w = world(spec).await;
        let (errors, read) = address_problems(&w);
        assert!(
            errors.is_empty(),
            "{preset}: {} address problems, e.g.\n{}",
            errors.len(),
            errors[..errors.len().min(20)].join("\n")
        );
        // Every node's address and range, and most pods' addresses, were read.
        assert!(
            read > 2 * nodes + pods / 2,
            "{preset}: only {read} addresses"
        );
        println!("{preset}: {read} addresses of {nodes} nodes and {pods} pods checked");
    }
}

/// `small`, and `medium`, the first preset with more than 240 nodes (a second /24 of node
/// addresses) and more than 256 (pod ranges past 10.128.0.0/16).
#[tokio::test]
async fn small_and_medium_presets_synthesize_valid_distinct_addresses() {
    presets_have_valid_distinct_addresses(&["small", "medium"]).await;
}

/// `large` (1,666 nodes) and `xl` (5,000 nodes, 150,000 pods): about four minutes in a debug
/// build, so run on demand.
#[tokio::test]
#[ignore = "minutes in debug: cargo test -p kubestate-sim --test addresses -- --ignored"]
async fn large_and_xl_presets_synthesize_valid_distinct_addresses() {
    presets_have_valid_distinct_addresses(&["large", "xl"]).await;
}

#[tokio::test]
async fn pods_past_a_nodes_range_keep_distinct_addresses() {
    // 2 nodes for 1,200 pods: hundreds of pods a node, more than a /24 holds.
    let w = world(SynthSpec {
        nodes: 2,
        namespaces: 4,
        pods: 1_200,
    })
    .await;
    let (errors, read) = address_problems(&w);
    assert!(
        errors.is_empty(),
        "{}",
        errors[..errors.len().min(20)].join("\n")
    );
    assert!(read > 600, "only {read} addresses");
}

#[tokio::test]
async fn the_checks_catch_bad_addresses() {
    let w = world(SynthSpec::for_pods(60)).await;
    assert_eq!(address_problems(&w).0, Vec::<String>::new());
    let mut broken = w.clone();
    let i = broken
        .objects
        .iter()
        .position(|o| o.resource == "nodes")
        .expect("a node");
    let mut node = broken.objects[i].value();
    node["status"]["addresses"][0]["address"] = "10.0.0.258".into();
    broken.objects[i].json = serde_json::to_vec(&node).expect("json").into();
    let (errors, _) = address_problems(&broken);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("10.0.0.258") && e.contains("not an IP address")),
        "{errors:?}"
    );
    let mut twice = w.clone();
    let pods: Vec<usize> = twice
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.resource == "pods" && !o.value()["status"]["podIP"].is_null())
        .map(|(i, _)| i)
        .take(2)
        .collect();
    let first_ip = twice.objects[pods[0]].value()["status"]["podIP"].clone();
    let mut second = twice.objects[pods[1]].value();
    second["status"]["podIP"] = first_ip.clone();
    second["status"]["podIPs"][0]["ip"] = first_ip;
    twice.objects[pods[1]].json = serde_json::to_vec(&second).expect("json").into();
    let (errors, _) = address_problems(&twice);
    assert!(errors.iter().any(|e| e.contains("is also")), "{errors:?}");
}
