//! Ingress (networking.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// An Ingress as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Ingress {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: IngressSpec,
}

/// `spec` of an Ingress.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressSpec {
    /// `ingressClassName`; `None` when unset.
    pub ingress_class_name: Option<Box<str>>,
    /// `rules`, in order.
    pub rules: Vec<Rule>,
    /// `tls`, in order.
    pub tls: Vec<Tls>,
}

/// One `spec.rules[]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Rule {
    /// `host` (empty for host-less rules).
    pub host: Box<str>,
    /// `http`; `None` when the rule has no HTTP section.
    pub http: Option<HttpRule>,
}

/// `rules[].http`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HttpRule {
    /// `paths`, in order (Go writes an empty list as `null`).
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub paths: Vec<HttpPath>,
}

/// One `rules[].http.paths[]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpPath {
    /// `path`
    pub path: Box<str>,
    /// `pathType`; `None` when unset.
    pub path_type: Option<Box<str>>,
    /// `backend`
    pub backend: Backend,
}

/// A path backend: a Service or a typed object reference.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Backend {
    /// `service`
    pub service: Option<ServiceBackend>,
    /// `resource`
    pub resource: Option<ResourceBackend>,
}

/// `backend.service`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceBackend {
    /// Service name.
    pub name: Box<str>,
    /// Service port.
    pub port: ServicePort,
}

/// `backend.service.port`: by number or by name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServicePort {
    /// `number` (0 when the port is given by name).
    pub number: i32,
}

/// `backend.resource`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceBackend {
    /// `apiGroup`; `None` for the core group.
    pub api_group: Option<Box<str>>,
    /// `kind`
    pub kind: Box<str>,
    /// `name`
    pub name: Box<str>,
}

/// One `spec.tls[]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Tls {
    /// `hosts`, in order.
    pub hosts: Vec<Box<str>>,
    /// `secretName` (may be empty).
    pub secret_name: Box<str>,
}
