//! Metric families for every Kubernetes kind kubestate exposes, and the filters that select
//! them.
//!
//! Place in the data flow: objects (slim decoded structs) → **families** → store. No I/O, no
//! state: given an object's JSON, a [`Generator`] decodes it into its slim struct and writes
//! every enabled family's samples into an [`ObjectMetrics`] arena.
//!
//! # Brief overview
//!
//! * Each kind is one module (`pod`, `node`, …) implementing [`Kind`] for its slim struct. Its
//!   heart is a `FAMILIES` table with one [`Family`] per metric family, in KSM's order: name,
//!   help (our words), type, stability, and the function that emits its samples.
//! * [`resources`] lists every kind as an object-safe [`Resource`]; [`Resource::generator`]
//!   compiles a kind's table against a [`Selection`] (family filters and allowlists) into a
//!   [`Generator`].
//! * [`filter`] holds `--metric-allowlist`/`--metric-denylist`/`--metric-opt-in-list` and the
//!   label/annotation allowlist grammar.
//! * [`common`] holds the emitters many kinds share (`_created`, `_labels`, `_owner`, …).
//!
//! # Example
//!
//! ```
//! use kubestate_families::{resource, Selection};
//! use kubestate_metric::ObjectMetrics;
//!
//! let gen = resource("configmaps").unwrap().generator(Selection::default());
//! let mut out = ObjectMetrics::new();
//! let key = gen
//!     .generate(br#"{"metadata":{"name":"a","namespace":"b","uid":"u1"}}"#, &mut out)
//!     .unwrap();
//! assert_eq!(&*key.uid, "u1");
//! let info = gen.families().iter().position(|f| f.name == "kube_configmap_info").unwrap();
//! let mut text = Vec::new();
//! out.write_family_text(info, "kube_configmap_info", &mut text);
//! assert_eq!(text, b"kube_configmap_info{namespace=\"b\",configmap=\"a\"} 1\n");
//! ```
#![deny(missing_docs)]

use std::sync::Arc;

use kubestate_metric::{FamilyDesc, ObjectMetrics};
pub use kubestate_objects::Encoding;
use kubestate_objects::{Meta, ObjectHead};

pub mod admission;
pub mod catalog;
pub mod common;
pub mod conditions;
pub mod filter;
mod kind;
pub mod phases;
pub mod quantity;

pub use filter::{Allowlist, FamilyFilter, FilterError, KeySet, Selection};
pub use kind::{Api, Family, Kind, Out, Registered};

mod certificatesigningrequest;
mod clusterrole;
mod clusterrolebinding;
mod configmap;
mod cronjob;
mod daemonset;
mod deployment;
mod endpoint;
mod endpointslice;
mod horizontalpodautoscaler;
mod ingress;
mod ingressclass;
mod job;
mod lease;
mod limitrange;
mod mutatingadmissionpolicy;
mod mutatingadmissionpolicybinding;
mod mutatingwebhookconfiguration;
mod namespace;
mod networkpolicy;
mod node;
mod persistentvolume;
mod persistentvolumeclaim;
mod pod;
mod poddisruptionbudget;
mod replicaset;
mod replicationcontroller;
mod resourcequota;
mod role;
mod rolebinding;
mod secret;
mod service;
mod serviceaccount;
mod statefulset;
mod storageclass;
mod validatingadmissionpolicy;
mod validatingadmissionpolicybinding;
mod validatingwebhookconfiguration;
mod volumeattachment;

#[doc(hidden)]
pub mod testing;

/// Why one object could not be turned into metrics. The object is skipped; the engine counts
/// and logs it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a valid object of the resource.
    #[error("{resource} object could not be decoded")]
    Json {
        /// The resource.
        resource: &'static str,
        /// The decoder's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The bytes are not a valid protobuf message of the resource.
    #[error("{resource} object could not be decoded from protobuf")]
    Protobuf {
        /// The resource.
        resource: &'static str,
        /// The decoder's complaint.
        #[source]
        source: kubestate_objects::proto::Error,
    },
    /// The resource has no protobuf form (custom resources), yet protobuf was handed in.
    #[error("{resource} objects are not decoded from protobuf")]
    NoProtobuf {
        /// The resource.
        resource: String,
    },
}

/// What identifies a stored object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectKey {
    /// `metadata.uid` (the store key and the sharding input).
    pub uid: Box<str>,
    /// `metadata.namespace`
    pub namespace: Box<str>,
    /// `metadata.name`
    pub name: Box<str>,
    /// `metadata.resourceVersion`
    pub resource_version: Box<str>,
}

impl ObjectKey {
    /// The key of an object with this metadata.
    pub fn from_meta(m: &Meta) -> ObjectKey {
        ObjectKey {
            uid: m.uid.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            resource_version: m.resource_version.clone(),
        }
    }
}

impl From<ObjectHead> for ObjectKey {
    fn from(head: ObjectHead) -> ObjectKey {
        let m = head.metadata;
        ObjectKey {
            uid: m.uid,
            namespace: m.namespace,
            name: m.name,
            resource_version: m.resource_version,
        }
    }
}

/// Decodes only `metadata` (uid, namespace, name, resourceVersion) of an object, skipping the
/// rest unallocated: enough to apply namespace and shard predicates before a full decode.
///
/// # Errors
/// The bytes are not a JSON object with an object-valued `metadata`.
pub fn peek_key(resource: &'static str, json: &[u8]) -> Result<ObjectKey, DecodeError> {
    let p: ObjectHead =
        serde_json::from_slice(json).map_err(|source| DecodeError::Json { resource, source })?;
    Ok(p.into())
}

/// [`peek_key`] for protobuf: decodes only `metadata` (field 1 of every kind) of the
/// protobuf message `bytes` of type `msg`.
///
/// # Errors
/// The bytes are not a valid protobuf message of that type.
pub fn peek_key_protobuf(
    resource: &'static str,
    bytes: &[u8],
    msg: kubestate_protoschema::MessageId,
) -> Result<ObjectKey, DecodeError> {
    let p: ObjectHead = kubestate_objects::proto::from_slice(bytes, msg)
        .map_err(|source| DecodeError::Protobuf { resource, source })?;
    Ok(p.into())
}

/// A family as listed by a resource, before filtering.
#[derive(Clone, Debug)]
pub struct FamilyInfo {
    /// Name, help, type, stability.
    pub desc: FamilyDesc,
    /// Whether it must be opted into.
    pub opt_in: bool,
}

/// One exposable resource (object-safe view of a [`Kind`]).
pub trait Resource: Send + Sync {
    /// The `--resources` name, e.g. `pods`.
    fn name(&self) -> &'static str;
    /// The Kind, e.g. `Pod`.
    fn kind(&self) -> &'static str;
    /// API group, version and scope.
    fn api(&self) -> Api;
    /// Whether the resource is on when `--resources` is not given.
    fn default_enabled(&self) -> bool;
    /// Every family of the resource, in output order, before filtering.
    fn families(&self) -> Vec<FamilyInfo>;
    /// Compiles the resource's families against `sel`.
    fn generator(&self, sel: Selection) -> Arc<dyn Generator>;

    /// The watched type as Go's client names it in KSM's self-metrics (`*v1.Pod`).
    fn go_type(&self) -> String {
        format!("*{}.{}", self.api().version, self.kind())
    }
}

/// Turns objects of one resource into their enabled families.
pub trait Generator: Send + Sync {
    /// The resource name.
    fn resource(&self) -> &str;
    /// The enabled families, in output order. [`ObjectMetrics`] family `i` is `families()[i]`.
    fn families(&self) -> &[FamilyDesc];
    /// Decodes only the object's key.
    ///
    /// # Errors
    /// The bytes are not an object.
    fn peek(&self, json: &[u8]) -> Result<ObjectKey, DecodeError>;
    /// Decodes the object and writes all enabled families into `out` (cleared first).
    ///
    /// # Errors
    /// The bytes are not a valid object of this resource; `out` is then unspecified.
    fn generate(&self, json: &[u8], out: &mut ObjectMetrics) -> Result<ObjectKey, DecodeError>;
    /// [`Generator::peek`] for an object in `encoding` (JSON, or the protobuf message of a
    /// built-in kind without its envelope). The default handles JSON only.
    ///
    /// # Errors
    /// The bytes are not an object in that encoding.
    fn peek_encoded(&self, bytes: &[u8], encoding: Encoding) -> Result<ObjectKey, DecodeError> {
        match encoding {
            Encoding::Json => self.peek(bytes),
            Encoding::Protobuf => Err(DecodeError::NoProtobuf {
                resource: self.resource().to_string(),
            }),
        }
    }
    /// [`Generator::generate`] for an object in `encoding`. Both encodings of one object
    /// produce the same metrics. The default handles JSON only.
    ///
    /// # Errors
    /// The bytes are not a valid object of this resource in that encoding.
    fn generate_encoded(
        &self,
        bytes: &[u8],
        encoding: Encoding,
        out: &mut ObjectMetrics,
    ) -> Result<ObjectKey, DecodeError> {
        match encoding {
            Encoding::Json => self.generate(bytes, out),
            Encoding::Protobuf => Err(DecodeError::NoProtobuf {
                resource: self.resource().to_string(),
            }),
        }
    }
}

static RESOURCES: &[&dyn Resource] = &[
    &Registered::<kubestate_objects::certificatesigningrequest::CertificateSigningRequest>::NEW,
    &Registered::<kubestate_objects::clusterrolebinding::ClusterRoleBinding>::NEW,
    &Registered::<kubestate_objects::clusterrole::ClusterRole>::NEW,
    &Registered::<kubestate_objects::configmap::ConfigMap>::NEW,
    &Registered::<kubestate_objects::cronjob::CronJob>::NEW,
    &Registered::<kubestate_objects::daemonset::DaemonSet>::NEW,
    &Registered::<kubestate_objects::deployment::Deployment>::NEW,
    &Registered::<kubestate_objects::endpoint::Endpoints>::NEW,
    &Registered::<kubestate_objects::endpointslice::EndpointSlice>::NEW,
    &Registered::<kubestate_objects::horizontalpodautoscaler::HorizontalPodAutoscaler>::NEW,
    &Registered::<kubestate_objects::ingressclass::IngressClass>::NEW,
    &Registered::<kubestate_objects::ingress::Ingress>::NEW,
    &Registered::<kubestate_objects::job::Job>::NEW,
    &Registered::<kubestate_objects::lease::Lease>::NEW,
    &Registered::<kubestate_objects::limitrange::LimitRange>::NEW,
    &Registered::<kubestate_objects::mutatingadmissionpolicy::MutatingAdmissionPolicy>::NEW,
    &Registered::<kubestate_objects::mutatingadmissionpolicybinding::MutatingAdmissionPolicyBinding>::NEW,
    &Registered::<kubestate_objects::mutatingwebhookconfiguration::MutatingWebhookConfiguration>::NEW,
    &Registered::<kubestate_objects::namespace::Namespace>::NEW,
    &Registered::<kubestate_objects::networkpolicy::NetworkPolicy>::NEW,
    &Registered::<kubestate_objects::node::Node>::NEW,
    &Registered::<kubestate_objects::persistentvolumeclaim::PersistentVolumeClaim>::NEW,
    &Registered::<kubestate_objects::persistentvolume::PersistentVolume>::NEW,
    &Registered::<kubestate_objects::poddisruptionbudget::PodDisruptionBudget>::NEW,
    &Registered::<kubestate_objects::pod::Pod>::NEW,
    &Registered::<kubestate_objects::replicaset::ReplicaSet>::NEW,
    &Registered::<kubestate_objects::replicationcontroller::ReplicationController>::NEW,
    &Registered::<kubestate_objects::resourcequota::ResourceQuota>::NEW,
    &Registered::<kubestate_objects::rolebinding::RoleBinding>::NEW,
    &Registered::<kubestate_objects::role::Role>::NEW,
    &Registered::<kubestate_objects::secret::Secret>::NEW,
    &Registered::<kubestate_objects::serviceaccount::ServiceAccount>::NEW,
    &Registered::<kubestate_objects::service::Service>::NEW,
    &Registered::<kubestate_objects::statefulset::StatefulSet>::NEW,
    &Registered::<kubestate_objects::storageclass::StorageClass>::NEW,
    &Registered::<kubestate_objects::validatingadmissionpolicy::ValidatingAdmissionPolicy>::NEW,
    &Registered::<kubestate_objects::validatingadmissionpolicybinding::ValidatingAdmissionPolicyBinding>::NEW,
    &Registered::<kubestate_objects::validatingwebhookconfiguration::ValidatingWebhookConfiguration>::NEW,
    &Registered::<kubestate_objects::volumeattachment::VolumeAttachment>::NEW,
];

/// Every resource kubestate can expose, sorted by name.
pub fn resources() -> &'static [&'static dyn Resource] {
    RESOURCES
}

/// The resource with this `--resources` name.
pub fn resource(name: &str) -> Option<&'static dyn Resource> {
    RESOURCES.iter().copied().find(|r| r.name() == name)
}
