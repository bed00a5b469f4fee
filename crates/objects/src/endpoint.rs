//! Endpoints (v1).

use serde::Deserialize;

use crate::Meta;

/// An Endpoints object as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Endpoints {
    /// Object metadata.
    pub metadata: Meta,
    /// `subsets`, in order.
    pub subsets: Vec<Subset>,
}

/// One `subsets[]` entry: addresses sharing a set of ports.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Subset {
    /// `addresses` (ready).
    pub addresses: Vec<Address>,
    /// `notReadyAddresses`
    pub not_ready_addresses: Vec<Address>,
    /// `ports`
    pub ports: Vec<Port>,
}

/// An endpoint address.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Address {
    /// `ip`
    pub ip: Box<str>,
}

/// An endpoint port.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Port {
    /// `name` (may be empty).
    pub name: Box<str>,
    /// `port`
    pub port: i32,
    /// `protocol` (`TCP`, `UDP`, `SCTP`).
    pub protocol: Box<str>,
}
