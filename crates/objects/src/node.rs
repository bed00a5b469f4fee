//! Node (v1).

use serde::Deserialize;

use crate::{Condition, Meta, ResourceList};

/// A Node as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: NodeSpec,
    /// `status`
    pub status: NodeStatus,
}

/// `spec` of a Node.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeSpec {
    /// `spec.podCIDR`
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Box<str>,
    /// `spec.podCIDRs`
    #[serde(rename = "podCIDRs")]
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub pod_cidrs: Vec<Box<str>>,
    /// `spec.providerID`
    #[serde(rename = "providerID")]
    pub provider_id: Box<str>,
    /// `spec.unschedulable`
    pub unschedulable: bool,
    /// `spec.taints`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub taints: Vec<Taint>,
}

/// One `spec.taints` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Taint {
    /// Taint key.
    pub key: Box<str>,
    /// Taint value.
    pub value: Box<str>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute` (kept verbatim).
    pub effect: Box<str>,
}

/// `status` of a Node.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeStatus {
    /// `status.capacity`
    pub capacity: ResourceList,
    /// `status.allocatable`
    pub allocatable: ResourceList,
    /// `status.conditions`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<Condition>,
    /// `status.addresses`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub addresses: Vec<NodeAddress>,
    /// `status.nodeInfo`
    pub node_info: NodeInfo,
}

/// One `status.addresses` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeAddress {
    /// `InternalIP`, `ExternalIP`, `Hostname`, … (kept verbatim).
    #[serde(rename = "type")]
    pub type_: Box<str>,
    /// The address.
    pub address: Box<str>,
}

/// `status.nodeInfo` (the fields `kube_node_info` reads).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeInfo {
    /// Kernel version.
    pub kernel_version: Box<str>,
    /// OS image.
    pub os_image: Box<str>,
    /// Container runtime version.
    pub container_runtime_version: Box<str>,
    /// Kubelet version.
    pub kubelet_version: Box<str>,
    /// System UUID.
    #[serde(rename = "systemUUID")]
    pub system_uuid: Box<str>,
}
