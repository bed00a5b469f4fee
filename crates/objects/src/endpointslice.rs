//! EndpointSlice (discovery.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// An EndpointSlice as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointSlice {
    /// Object metadata.
    pub metadata: Meta,
    /// `IPv4`, `IPv6` or `FQDN` (kept verbatim).
    pub address_type: Box<str>,
    /// `endpoints` (serialised as `null` when empty).
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub endpoints: Vec<Endpoint>,
    /// `ports` (serialised as `null` when empty).
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub ports: Vec<EndpointPort>,
}

/// One `endpoints` entry. Optional strings read as empty when unset, which is how every
/// family reports them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Endpoint {
    /// `addresses`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub addresses: Vec<Box<str>>,
    /// `conditions`
    pub conditions: EndpointConditions,
    /// `hostname`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub hostname: Box<str>,
    /// `targetRef`
    pub target_ref: Option<TargetRef>,
    /// `nodeName`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub node_name: Box<str>,
    /// `zone`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub zone: Box<str>,
    /// `hints`
    pub hints: Option<EndpointHints>,
}

/// `conditions` of an endpoint; `None` when the condition is unset.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointConditions {
    /// `ready`
    pub ready: Option<bool>,
    /// `serving`
    pub serving: Option<bool>,
    /// `terminating`
    pub terminating: Option<bool>,
}

/// `targetRef` of an endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TargetRef {
    /// Referenced kind.
    pub kind: Box<str>,
    /// Referenced name.
    pub name: Box<str>,
    /// Referenced namespace.
    pub namespace: Box<str>,
}

/// `hints` of an endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointHints {
    /// `forZones`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub for_zones: Vec<ForZone>,
}

/// One `hints.forZones` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForZone {
    /// Zone name.
    pub name: Box<str>,
}

/// One `ports` entry; unset fields read as empty / `None`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointPort {
    /// `name`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub name: Box<str>,
    /// `protocol`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub protocol: Box<str>,
    /// `port`
    pub port: Option<i64>,
}
