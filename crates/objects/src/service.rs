//! Service (v1).

use serde::Deserialize;

use crate::Meta;

/// A Service as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ServiceSpec,
    /// `status`
    pub status: ServiceStatus,
}

/// `spec` of a Service.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName` (kept verbatim).
    #[serde(rename = "type")]
    pub type_: Box<str>,
    /// `spec.clusterIP`
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Box<str>,
    /// `spec.externalName`
    pub external_name: Box<str>,
    /// `spec.loadBalancerIP`
    #[serde(rename = "loadBalancerIP")]
    pub load_balancer_ip: Box<str>,
    /// `spec.externalTrafficPolicy`
    pub external_traffic_policy: Box<str>,
    /// `spec.externalIPs`
    #[serde(
        rename = "externalIPs",
        deserialize_with = "crate::nullable::or_default"
    )]
    pub external_ips: Vec<Box<str>>,
}

/// `status` of a Service.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceStatus {
    /// `status.loadBalancer`
    pub load_balancer: LoadBalancerStatus,
}

/// `status.loadBalancer` of a Service.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoadBalancerStatus {
    /// `status.loadBalancer.ingress`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub ingress: Vec<LoadBalancerIngress>,
}

/// One `status.loadBalancer.ingress` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoadBalancerIngress {
    /// IP address of the ingress point.
    pub ip: Box<str>,
    /// Hostname of the ingress point.
    pub hostname: Box<str>,
}
