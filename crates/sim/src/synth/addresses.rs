//! The synthesized cluster's address plan. Every address is a valid IPv4 address, and the
//! ones Kubernetes keeps unique (node addresses, node pod ranges, pod addresses, service
//! cluster IPs) are unique at every size up to [`MAX_NODES`] nodes:
//!
//! | what | range | room |
//! |---|---|---|
//! | node `InternalIP` | 10.0.0.0/16, .10 to .249 of each /24 | 61,440 nodes |
//! | node `spec.podCIDR` | one /24 each, out of 10.128.0.0/9 | 32,768 nodes |
//! | pod IP | its node's /24, .2 to .253 | 252 pods a node (Kubernetes allows 110) |
//! | pod IP on a node already holding 252 | 10.64.0.0/11, one after another | 2,097,152 pods |
//! | service `clusterIP` | 10.96.0.0/12, one after another from 10.96.1.0 | 1,048,320 services |
//!
//! The ranges do not overlap, so no pod, node or service shares an address with another.

use std::net::Ipv4Addr;

use crate::store::WorldError;

/// The most nodes the plan gives a pod range of their own.
pub(super) const MAX_NODES: usize = 32_768;

/// Pod addresses in one node's /24 (.2 to .253).
const PODS_PER_RANGE: usize = 252;

/// Node addresses in one /24 of the node network (.10 to .249).
const NODES_PER_BLOCK: usize = 240;

/// Size of the pod overflow range 10.64.0.0/11.
const OVERFLOW_PODS: u32 = 1 << 21;

/// Size of the service range 10.96.0.0/12, less its first /24.
const SERVICES: u32 = (1 << 20) - 256;

/// `a.b.c.d` plus `offset`.
fn plus(base: Ipv4Addr, offset: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base) + offset)
}

/// The `InternalIP` of node `i` (`i` < [`MAX_NODES`]).
pub(super) fn node_ip(i: usize) -> Ipv4Addr {
    let block = (i / NODES_PER_BLOCK) as u32;
    let host = (i % NODES_PER_BLOCK + 10) as u32;
    plus(Ipv4Addr::new(10, 0, 0, 0), block * 256 + host)
}

/// The first address of node `i`'s pod range (`i` < [`MAX_NODES`]).
fn pod_range(i: usize) -> Ipv4Addr {
    plus(Ipv4Addr::new(10, 128, 0, 0), (i as u32) << 8)
}

/// Node `i`'s `spec.podCIDR` (`i` < [`MAX_NODES`]).
pub(super) fn pod_cidr(i: usize) -> String {
    format!("{}/24", pod_range(i))
}

/// Hands out the addresses that are drawn one after another.
#[derive(Default)]
pub(super) struct Addresses {
    overflow_pods: u32,
    services: u32,
}

impl Addresses {
    /// The address of the `k`-th pod (from 0) placed on node `node`: in the node's pod range,
    /// or, past what the range holds, the next free address of the overflow range.
    pub(super) fn pod_ip(&mut self, node: usize, k: usize) -> Result<Ipv4Addr, WorldError> {
        if k < PODS_PER_RANGE {
            return Ok(plus(pod_range(node), k as u32 + 2));
        }
        if self.overflow_pods == OVERFLOW_PODS {
            return Err(WorldError::Invalid(format!(
                "more than {OVERFLOW_PODS} pods beyond {PODS_PER_RANGE} a node: the synthesized \
                 address plan has no room for them (use more nodes)"
            )));
        }
        self.overflow_pods += 1;
        Ok(plus(Ipv4Addr::new(10, 64, 0, 0), self.overflow_pods - 1))
    }

    /// The next service cluster IP.
    pub(super) fn service_ip(&mut self) -> Result<Ipv4Addr, WorldError> {
        if self.services == SERVICES {
            return Err(WorldError::Invalid(format!(
                "more than {SERVICES} services: the synthesized address plan has no room for them"
            )));
        }
        self.services += 1;
        Ok(plus(Ipv4Addr::new(10, 96, 1, 0), self.services - 1))
    }
}

/// Fails for a node count the plan cannot address.
pub(super) fn check_nodes(nodes: usize) -> Result<(), WorldError> {
    if nodes > MAX_NODES {
        return Err(WorldError::Invalid(format!(
            "{nodes} nodes: a synthesized cluster has at most {MAX_NODES} (one /24 pod range \
             each out of 10.128.0.0/9)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn node_addresses_and_ranges_are_distinct_up_to_the_limit() {
        let ips: HashSet<Ipv4Addr> = (0..MAX_NODES).map(node_ip).collect();
        assert_eq!(ips.len(), MAX_NODES);
        assert_eq!(node_ip(0), Ipv4Addr::new(10, 0, 0, 10));
        assert_eq!(node_ip(239), Ipv4Addr::new(10, 0, 0, 249));
        assert_eq!(node_ip(240), Ipv4Addr::new(10, 0, 1, 10));
        assert!(ips.iter().all(|ip| ip.octets()[..2] == [10, 0]));
        let cidrs: HashSet<String> = (0..MAX_NODES).map(pod_cidr).collect();
        assert_eq!(cidrs.len(), MAX_NODES);
        assert_eq!(pod_cidr(0), "10.128.0.0/24");
        assert_eq!(pod_cidr(MAX_NODES - 1), "10.255.255.0/24");
        assert!(check_nodes(MAX_NODES).is_ok());
        let e = check_nodes(MAX_NODES + 1).expect_err("too many");
        assert!(e.to_string().contains("at most 32768"), "{e}");
    }

    #[test]
    fn pods_fill_their_node_range_then_the_overflow_range() {
        let mut a = Addresses::default();
        assert_eq!(a.pod_ip(1, 0).unwrap(), Ipv4Addr::new(10, 128, 1, 2));
        assert_eq!(a.pod_ip(1, 251).unwrap(), Ipv4Addr::new(10, 128, 1, 253));
        assert_eq!(a.pod_ip(1, 252).unwrap(), Ipv4Addr::new(10, 64, 0, 0));
        assert_eq!(a.pod_ip(7, 300).unwrap(), Ipv4Addr::new(10, 64, 0, 1));
        a.overflow_pods = OVERFLOW_PODS - 1;
        assert_eq!(a.pod_ip(0, 252).unwrap(), Ipv4Addr::new(10, 95, 255, 255));
        assert!(a.pod_ip(0, 252).is_err());
        assert_eq!(a.pod_ip(0, 3).unwrap(), Ipv4Addr::new(10, 128, 0, 5));
    }

    #[test]
    fn services_count_up_from_10_96_1_0_to_the_end_of_the_range() {
        let mut a = Addresses::default();
        assert_eq!(a.service_ip().unwrap(), Ipv4Addr::new(10, 96, 1, 0));
        assert_eq!(a.service_ip().unwrap(), Ipv4Addr::new(10, 96, 1, 1));
        a.services = SERVICES - 1;
        assert_eq!(a.service_ip().unwrap(), Ipv4Addr::new(10, 111, 255, 255));
        assert!(a.service_ip().is_err());
    }
}
