//! Hand-written decoders for `v1.Pod` and `meta.v1.ObjectMeta`: the same structs as
//! [`from_slice`](super::from_slice) gives, read straight off the wire by field number,
//! without the `serde` plumbing (pods are the most numerous objects and most watch events).
//!
//! The decoders are strict: they accept only what they are sure the generic path decodes to
//! the same value, and return an error for anything else — malformed input, but also legal
//! shapes they leave to the generic path (a singular field given twice, which the derived
//! struct rejects; a map key that is not a string). [`decode_pod`] and [`decode_meta`] then
//! decode the message again with the generic path, so the result (value, error text and
//! the count of malformed quantities) is always exactly the generic one.
//!
//! The field numbers below are those of k8s.io/api's `generated.proto`; a test checks every
//! one against the schema table of `kubestate-protoschema`, with the type and cardinality of
//! each map, repeated, timestamp, boolean and integer field.

use kubestate_protoschema::Special;
use serde::de::IgnoredAny;

use super::de::time_of;
use super::wire::{utf8, Error, Reader, Result, WireValue};
use crate::meta::{Meta, OwnerRef, StrMap};
use crate::pod::{
    ConditionStatus, Container, ContainerState, ContainerStatus, Phase, Pod, PodCondition,
    PodConditionType, PodIp, PodResourceClaim, PodSpec, PodStatus, PvcSource, QosClass,
    ResourceClaimStatus, Resources, StateRunning, StateTerminated, StateWaiting, Toleration,
    Volume,
};
use crate::{Quantity, ResourceList, Time};

/// Decodes a `v1.Pod` message: exactly what `from_slice::<Pod>` gives, faster.
///
/// # Errors
/// As [`from_slice`](super::from_slice) (the same error).
pub fn decode_pod(bytes: &[u8]) -> Result<Pod> {
    match decode_pod_strict(bytes) {
        Ok(p) => Ok(p),
        Err(_) => super::from_slice(bytes, generic_message("k8s.io.api.core.v1.Pod")?),
    }
}

/// Decodes a `meta.v1.ObjectMeta` message: exactly what `from_slice::<Meta>` gives, faster.
///
/// # Errors
/// As [`from_slice`](super::from_slice) (the same error).
pub fn decode_meta(bytes: &[u8]) -> Result<Meta> {
    match meta(bytes) {
        Ok(m) => Ok(m),
        Err(_) => super::from_slice(
            bytes,
            generic_message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")?,
        ),
    }
}

/// The hand-written pod decoder alone, without the generic path behind it: an error also for
/// well-formed shapes it leaves to that path. Exposed for the equivalence tests.
///
/// # Errors
/// Malformed input, or a shape the generic path has to decode.
#[doc(hidden)]
pub fn decode_pod_strict(bytes: &[u8]) -> Result<Pod> {
    let mut q = Malformed(0);
    let p = pod(bytes, &mut q)?;
    q.count();
    Ok(p)
}

fn generic_message(name: &str) -> Result<kubestate_protoschema::MessageId> {
    kubestate_protoschema::message(name)
        .ok_or_else(|| Error::new(format!("{name} is not in the schema table")))
}

/// Field numbers, from k8s.io/api (core/v1) and k8s.io/apimachinery (meta/v1) `generated.proto`,
/// one module per message; `ALL` lists them for the test against the schema table.
macro_rules! numbers {
    ($($module:ident = $msg:literal { $($name:ident = $json:literal $n:literal,)* })*) => {
        $(
            #[doc = concat!("Fields of `", $msg, "`.")]
            pub(super) mod $module {
                $(
                    #[doc = concat!("`", $json, "`")]
                    pub(crate) const $name: u32 = $n;
                )*
            }
        )*
        /// `(message, JSON name, number)` of every field the decoders read.
        #[cfg(test)]
        pub(super) const ALL: &[(&str, &str, u32)] = &[$($(($msg, $json, $module::$name),)*)*];
    };
}

mod num {
    numbers! {
        pod = "core.v1.Pod" {
            METADATA = "metadata" 1,
            SPEC = "spec" 2,
            STATUS = "status" 3,
        }
        pod_spec = "core.v1.PodSpec" {
            VOLUMES = "volumes" 1,
            CONTAINERS = "containers" 2,
            RESTART_POLICY = "restartPolicy" 3,
            NODE_SELECTOR = "nodeSelector" 7,
            SERVICE_ACCOUNT_NAME = "serviceAccountName" 8,
            NODE_NAME = "nodeName" 10,
            HOST_NETWORK = "hostNetwork" 11,
            SCHEDULER_NAME = "schedulerName" 19,
            INIT_CONTAINERS = "initContainers" 20,
            TOLERATIONS = "tolerations" 22,
            PRIORITY_CLASS_NAME = "priorityClassName" 24,
            RUNTIME_CLASS_NAME = "runtimeClassName" 29,
            OVERHEAD = "overhead" 32,
            RESOURCE_CLAIMS = "resourceClaims" 39,
        }
        container = "core.v1.Container" {
            NAME = "name" 1,
            IMAGE = "image" 2,
            RESOURCES = "resources" 8,
            RESTART_POLICY = "restartPolicy" 24,
        }
        resource_requirements = "core.v1.ResourceRequirements" {
            LIMITS = "limits" 1,
            REQUESTS = "requests" 2,
        }
        volume = "core.v1.Volume" {
            NAME = "name" 1,
            VOLUME_SOURCE = "volumeSource" 2,
        }
        volume_source = "core.v1.VolumeSource" {
            PERSISTENT_VOLUME_CLAIM = "persistentVolumeClaim" 10,
            EPHEMERAL = "ephemeral" 29,
        }
        persistent_volume_claim_volume_source = "core.v1.PersistentVolumeClaimVolumeSource" {
            CLAIM_NAME = "claimName" 1,
            READ_ONLY = "readOnly" 2,
        }
        toleration = "core.v1.Toleration" {
            KEY = "key" 1,
            OPERATOR = "operator" 2,
            VALUE = "value" 3,
            EFFECT = "effect" 4,
            TOLERATION_SECONDS = "tolerationSeconds" 5,
        }
        pod_resource_claim = "core.v1.PodResourceClaim" {
            NAME = "name" 1,
            RESOURCE_CLAIM_NAME = "resourceClaimName" 3,
            RESOURCE_CLAIM_TEMPLATE_NAME = "resourceClaimTemplateName" 4,
        }
        pod_status = "core.v1.PodStatus" {
            PHASE = "phase" 1,
            CONDITIONS = "conditions" 2,
            REASON = "reason" 4,
            HOST_I_P = "hostIP" 5,
            POD_I_P = "podIP" 6,
            START_TIME = "startTime" 7,
            CONTAINER_STATUSES = "containerStatuses" 8,
            QOS_CLASS = "qosClass" 9,
            INIT_CONTAINER_STATUSES = "initContainerStatuses" 10,
            POD_I_PS = "podIPs" 12,
            RESOURCE_CLAIM_STATUSES = "resourceClaimStatuses" 15,
        }
        pod_ip = "core.v1.PodIP" {
            IP = "ip" 1,
        }
        pod_condition = "core.v1.PodCondition" {
            TYPE = "type" 1,
            STATUS = "status" 2,
            LAST_TRANSITION_TIME = "lastTransitionTime" 4,
            REASON = "reason" 5,
        }
        container_status = "core.v1.ContainerStatus" {
            NAME = "name" 1,
            STATE = "state" 2,
            LAST_STATE = "lastState" 3,
            READY = "ready" 4,
            RESTART_COUNT = "restartCount" 5,
            IMAGE = "image" 6,
            IMAGE_I_D = "imageID" 7,
            CONTAINER_I_D = "containerID" 8,
        }
        container_state = "core.v1.ContainerState" {
            WAITING = "waiting" 1,
            RUNNING = "running" 2,
            TERMINATED = "terminated" 3,
        }
        container_state_waiting = "core.v1.ContainerStateWaiting" {
            REASON = "reason" 1,
        }
        container_state_running = "core.v1.ContainerStateRunning" {
            STARTED_AT = "startedAt" 1,
        }
        container_state_terminated = "core.v1.ContainerStateTerminated" {
            EXIT_CODE = "exitCode" 1,
            REASON = "reason" 3,
            STARTED_AT = "startedAt" 5,
            FINISHED_AT = "finishedAt" 6,
        }
        pod_resource_claim_status = "core.v1.PodResourceClaimStatus" {
            NAME = "name" 1,
            RESOURCE_CLAIM_NAME = "resourceClaimName" 2,
        }
        object_meta = "meta.v1.ObjectMeta" {
            NAME = "name" 1,
            NAMESPACE = "namespace" 3,
            UID = "uid" 5,
            RESOURCE_VERSION = "resourceVersion" 6,
            GENERATION = "generation" 7,
            CREATION_TIMESTAMP = "creationTimestamp" 8,
            DELETION_TIMESTAMP = "deletionTimestamp" 9,
            LABELS = "labels" 11,
            ANNOTATIONS = "annotations" 12,
            OWNER_REFERENCES = "ownerReferences" 13,
        }
        owner_reference = "meta.v1.OwnerReference" {
            KIND = "kind" 1,
            NAME = "name" 3,
            CONTROLLER = "controller" 6,
        }
    }
}

use num::*;

/// Quantities dropped as malformed, counted once the whole decode has succeeded (a failed
/// strict decode is decoded again by the generic path, which counts them itself).
struct Malformed(u32);

impl Malformed {
    fn count(self) {
        crate::shared::count_malformed(self.0);
    }
}

/// The singular fields of a message seen so far: the derived structs reject a field given
/// twice, so the strict decoders do too.
#[derive(Default)]
struct Seen(u64);

impl Seen {
    /// `value`, the first time field `number` is seen; an error the second time.
    #[inline]
    fn first<T>(&mut self, number: u32, value: Result<T>) -> Result<T> {
        self.once(number)?;
        value
    }

    #[inline]
    fn once(&mut self, number: u32) -> Result<()> {
        let bit = 1u64 << (number & 63);
        if self.0 & bit != 0 {
            return Err(Error::new("singular field given twice"));
        }
        self.0 |= bit;
        Ok(())
    }
}

#[inline]
fn bytes(v: WireValue<'_>) -> Result<&[u8]> {
    match v {
        WireValue::Len(b) => Ok(b),
        _ => Err(Error::new("field is not length-delimited")),
    }
}

#[inline]
fn str_of(v: WireValue<'_>) -> Result<&str> {
    utf8(bytes(v)?)
}

#[inline]
fn string(v: WireValue<'_>) -> Result<Box<str>> {
    str_of(v).map(Box::from)
}

#[inline]
fn varint(v: WireValue<'_>) -> Result<u64> {
    match v {
        WireValue::Varint(x) => Ok(x),
        _ => Err(Error::new("field is not a varint")),
    }
}

/// An `int32` as the generic path widens it.
#[inline]
fn int32(v: WireValue<'_>) -> Result<i64> {
    Ok(i64::from(varint(v)? as i64 as i32))
}

/// A `meta.v1.Time`, as the generic path hands it over.
#[inline]
fn time(v: WireValue<'_>) -> Result<Time> {
    time_of(bytes(v)?, Special::Time)?.ok_or_else(|| Error::new("not a time"))
}

/// One entry of a `map<string, V>` field: its key and value bytes (`""` when absent).
fn entry(v: WireValue<'_>) -> Result<(&str, Option<WireValue<'_>>)> {
    let mut key = None;
    let mut value = None;
    let mut r = Reader::new(bytes(v)?);
    while let Some((n, v)) = r.next_field()? {
        match n {
            1 => key = Some(v),
            2 => value = Some(v),
            _ => {}
        }
    }
    // A numeric key the generic path spells as decimal text: leave it to that path.
    let key = match key {
        None => "",
        Some(k) => str_of(k)?,
    };
    Ok((key, value))
}

/// A `map<string, string>` entry, pushed as the generic path gathers it.
fn push_str_entry(v: WireValue<'_>, out: &mut Vec<(Box<str>, Box<str>)>) -> Result<()> {
    let (k, val) = entry(v)?;
    let val = match val {
        None => "",
        Some(val) => str_of(val)?,
    };
    out.push((k.into(), val.into()));
    Ok(())
}

/// A `map<string, Quantity>` entry: kept when the quantity parses, counted when not.
fn push_quantity_entry(
    v: WireValue<'_>,
    out: &mut Vec<(Box<str>, Quantity)>,
    q: &mut Malformed,
) -> Result<()> {
    let (k, val) = entry(v)?;
    let text = match val {
        None => "0",
        Some(val) => match Reader::find_bytes(bytes(val)?, 1)? {
            Some(s) => utf8(s)?,
            None => "0",
        },
    };
    match Quantity::parse(text) {
        Some(x) => out.push((k.into(), x)),
        None => q.0 = q.0.saturating_add(1),
    }
    Ok(())
}

fn str_map(mut v: Vec<(Box<str>, Box<str>)>) -> StrMap {
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    StrMap(v)
}

fn resource_list(mut v: Vec<(Box<str>, Quantity)>) -> ResourceList {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    ResourceList(v)
}

/// Reads the fields of `buf`, handing each to `f` with the singular-field tracker.
#[inline]
fn fields<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(u32, WireValue<'a>, &mut Seen) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(buf);
    let mut seen = Seen::default();
    while let Some((n, v)) = r.next_field()? {
        f(n, v, &mut seen)?;
    }
    Ok(())
}

fn meta(buf: &[u8]) -> Result<Meta> {
    let mut m = Meta::default();
    let (mut labels, mut annotations) = (Vec::new(), Vec::new());
    fields(buf, |n, v, seen| {
        match n {
            object_meta::NAME => m.name = seen.first(n, string(v))?,
            object_meta::NAMESPACE => m.namespace = seen.first(n, string(v))?,
            object_meta::UID => m.uid = seen.first(n, string(v))?,
            object_meta::RESOURCE_VERSION => m.resource_version = seen.first(n, string(v))?,
            object_meta::GENERATION => m.generation = seen.first(n, varint(v).map(|x| x as i64))?,
            object_meta::CREATION_TIMESTAMP => {
                m.creation_timestamp = seen.first(n, time(v).map(Some))?
            }
            object_meta::DELETION_TIMESTAMP => {
                m.deletion_timestamp = seen.first(n, time(v).map(Some))?
            }
            object_meta::LABELS => push_str_entry(v, &mut labels)?,
            object_meta::ANNOTATIONS => push_str_entry(v, &mut annotations)?,
            object_meta::OWNER_REFERENCES => m.owner_references.push(owner_ref(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    m.labels = str_map(labels);
    m.annotations = str_map(annotations);
    Ok(m)
}

fn owner_ref(buf: &[u8]) -> Result<OwnerRef> {
    let mut o = OwnerRef::default();
    fields(buf, |n, v, seen| {
        match n {
            owner_reference::KIND => o.kind = seen.first(n, string(v))?,
            owner_reference::NAME => o.name = seen.first(n, string(v))?,
            owner_reference::CONTROLLER => {
                o.controller = seen.first(n, varint(v).map(|x| Some(x != 0)))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(o)
}

fn pod(buf: &[u8], q: &mut Malformed) -> Result<Pod> {
    let mut p = Pod::default();
    fields(buf, |n, v, seen| {
        match n {
            pod::METADATA => p.metadata = seen.first(n, meta(bytes(v)?))?,
            pod::SPEC => {
                seen.once(n)?;
                p.spec = spec(bytes(v)?, q)?;
            }
            pod::STATUS => p.status = seen.first(n, status(bytes(v)?))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

fn spec(buf: &[u8], q: &mut Malformed) -> Result<PodSpec> {
    let mut s = PodSpec::default();
    let (mut node_selector, mut overhead) = (Vec::new(), Vec::new());
    fields(buf, |n, v, seen| {
        match n {
            pod_spec::VOLUMES => s.volumes.push(volume(bytes(v)?)?),
            pod_spec::CONTAINERS => s.containers.push(container(bytes(v)?, q)?),
            pod_spec::RESTART_POLICY => s.restart_policy = seen.first(n, string(v))?,
            pod_spec::NODE_SELECTOR => push_str_entry(v, &mut node_selector)?,
            pod_spec::SERVICE_ACCOUNT_NAME => s.service_account_name = seen.first(n, string(v))?,
            pod_spec::NODE_NAME => s.node_name = seen.first(n, string(v))?,
            pod_spec::HOST_NETWORK => s.host_network = seen.first(n, varint(v).map(|x| x != 0))?,
            pod_spec::SCHEDULER_NAME => s.scheduler_name = seen.first(n, string(v))?,
            pod_spec::INIT_CONTAINERS => s.init_containers.push(container(bytes(v)?, q)?),
            pod_spec::TOLERATIONS => s.tolerations.push(toleration(bytes(v)?)?),
            pod_spec::PRIORITY_CLASS_NAME => s.priority_class_name = seen.first(n, string(v))?,
            pod_spec::RUNTIME_CLASS_NAME => {
                s.runtime_class_name = seen.first(n, string(v).map(Some))?
            }
            pod_spec::OVERHEAD => push_quantity_entry(v, &mut overhead, q)?,
            pod_spec::RESOURCE_CLAIMS => s.resource_claims.push(resource_claim(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    s.node_selector = str_map(node_selector);
    s.overhead = resource_list(overhead);
    Ok(s)
}

fn container(buf: &[u8], q: &mut Malformed) -> Result<Container> {
    let mut c = Container::default();
    fields(buf, |n, v, seen| {
        match n {
            container::NAME => c.name = seen.first(n, string(v))?,
            container::IMAGE => c.image = seen.first(n, string(v))?,
            container::RESOURCES => {
                seen.once(n)?;
                c.resources = resources(bytes(v)?, q)?;
            }
            container::RESTART_POLICY => c.restart_policy = seen.first(n, string(v).map(Some))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

fn resources(buf: &[u8], q: &mut Malformed) -> Result<Resources> {
    let (mut limits, mut requests) = (Vec::new(), Vec::new());
    fields(buf, |n, v, _| {
        match n {
            resource_requirements::LIMITS => push_quantity_entry(v, &mut limits, q)?,
            resource_requirements::REQUESTS => push_quantity_entry(v, &mut requests, q)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(Resources {
        requests: resource_list(requests),
        limits: resource_list(limits),
    })
}

fn volume(buf: &[u8]) -> Result<Volume> {
    let mut vol = Volume::default();
    // `volumeSource` is inlined in JSON: its members are fields of the volume, and a member
    // given twice (in one source or across two) is a duplicate, so one tracker serves both
    // levels (the numbers do not overlap).
    let mut seen = Seen::default();
    let mut r = Reader::new(buf);
    while let Some((n, v)) = r.next_field()? {
        match n {
            volume::NAME => vol.name = seen.first(n, string(v))?,
            volume::VOLUME_SOURCE => {
                let mut src = Reader::new(bytes(v)?);
                while let Some((n, v)) = src.next_field()? {
                    match n {
                        volume_source::PERSISTENT_VOLUME_CLAIM => {
                            vol.persistent_volume_claim =
                                seen.first(n, pvc_source(bytes(v)?).map(Some))?
                        }
                        volume_source::EPHEMERAL => {
                            seen.once(n)?;
                            bytes(v)?;
                            vol.ephemeral = Some(IgnoredAny);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(vol)
}

fn pvc_source(buf: &[u8]) -> Result<PvcSource> {
    let mut s = PvcSource::default();
    fields(buf, |n, v, seen| {
        match n {
            persistent_volume_claim_volume_source::CLAIM_NAME => {
                s.claim_name = seen.first(n, string(v))?
            }
            persistent_volume_claim_volume_source::READ_ONLY => {
                s.read_only = seen.first(n, varint(v).map(|x| x != 0))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn toleration(buf: &[u8]) -> Result<Toleration> {
    let mut t = Toleration::default();
    fields(buf, |n, v, seen| {
        let slot = match n {
            toleration::KEY => &mut t.key,
            toleration::OPERATOR => &mut t.operator,
            toleration::VALUE => &mut t.value,
            toleration::EFFECT => &mut t.effect,
            toleration::TOLERATION_SECONDS => {
                seen.once(n)?;
                t.toleration_seconds = Some(varint(v)? as i64);
                return Ok(());
            }
            _ => return Ok(()),
        };
        seen.once(n)?;
        *slot = string(v)?;
        Ok(())
    })?;
    Ok(t)
}

fn resource_claim(buf: &[u8]) -> Result<PodResourceClaim> {
    let mut c = PodResourceClaim::default();
    fields(buf, |n, v, seen| {
        match n {
            pod_resource_claim::NAME => c.name = seen.first(n, string(v))?,
            pod_resource_claim::RESOURCE_CLAIM_NAME => {
                c.resource_claim_name = seen.first(n, string(v).map(Some))?
            }
            pod_resource_claim::RESOURCE_CLAIM_TEMPLATE_NAME => {
                c.resource_claim_template_name = seen.first(n, string(v).map(Some))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

fn status(buf: &[u8]) -> Result<PodStatus> {
    let mut s = PodStatus::default();
    fields(buf, |n, v, seen| {
        match n {
            pod_status::PHASE => {
                seen.once(n)?;
                s.phase = match str_of(v)? {
                    "" => Phase::Unset,
                    "Pending" => Phase::Pending,
                    "Running" => Phase::Running,
                    "Succeeded" => Phase::Succeeded,
                    "Failed" => Phase::Failed,
                    "Unknown" => Phase::Unknown,
                    _ => Phase::Other,
                };
            }
            pod_status::CONDITIONS => s.conditions.push(condition(bytes(v)?)?),
            pod_status::REASON => s.reason = seen.first(n, string(v))?,
            pod_status::HOST_I_P => s.host_ip = seen.first(n, string(v))?,
            pod_status::POD_I_P => s.pod_ip = seen.first(n, string(v))?,
            pod_status::START_TIME => s.start_time = seen.first(n, time(v).map(Some))?,
            pod_status::CONTAINER_STATUSES => {
                s.container_statuses.push(container_status(bytes(v)?)?)
            }
            pod_status::QOS_CLASS => {
                seen.once(n)?;
                s.qos_class = match str_of(v)? {
                    "" => QosClass::Unset,
                    "BestEffort" => QosClass::BestEffort,
                    "Burstable" => QosClass::Burstable,
                    "Guaranteed" => QosClass::Guaranteed,
                    _ => QosClass::Other,
                };
            }
            pod_status::INIT_CONTAINER_STATUSES => {
                s.init_container_statuses.push(container_status(bytes(v)?)?)
            }
            pod_status::POD_I_PS => s.pod_ips.push(pod_ip(bytes(v)?)?),
            pod_status::RESOURCE_CLAIM_STATUSES => {
                s.resource_claim_statuses.push(claim_status(bytes(v)?)?)
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn pod_ip(buf: &[u8]) -> Result<PodIp> {
    let mut p = PodIp::default();
    fields(buf, |n, v, seen| {
        if n == pod_ip::IP {
            seen.once(n)?;
            p.ip = string(v)?;
        }
        Ok(())
    })?;
    Ok(p)
}

fn condition(buf: &[u8]) -> Result<PodCondition> {
    let mut c = PodCondition::default();
    fields(buf, |n, v, seen| {
        match n {
            pod_condition::TYPE => {
                seen.once(n)?;
                c.type_ = match str_of(v)? {
                    "Ready" => PodConditionType::Ready,
                    "Initialized" => PodConditionType::Initialized,
                    "ContainersReady" => PodConditionType::ContainersReady,
                    "PodScheduled" => PodConditionType::PodScheduled,
                    "DisruptionTarget" => PodConditionType::DisruptionTarget,
                    _ => PodConditionType::Other,
                };
            }
            pod_condition::STATUS => {
                seen.once(n)?;
                c.status = match str_of(v)? {
                    "True" => ConditionStatus::True,
                    "False" => ConditionStatus::False,
                    "Unknown" => ConditionStatus::Unknown,
                    _ => ConditionStatus::Other,
                };
            }
            pod_condition::LAST_TRANSITION_TIME => {
                c.last_transition_time = seen.first(n, time(v).map(Some))?
            }
            pod_condition::REASON => c.reason = seen.first(n, string(v))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

fn container_status(buf: &[u8]) -> Result<ContainerStatus> {
    let mut c = ContainerStatus::default();
    fields(buf, |n, v, seen| {
        match n {
            container_status::NAME => c.name = seen.first(n, string(v))?,
            container_status::STATE => c.state = seen.first(n, container_state(bytes(v)?))?,
            container_status::LAST_STATE => {
                c.last_state = seen.first(n, container_state(bytes(v)?))?
            }
            container_status::READY => c.ready = seen.first(n, varint(v).map(|x| x != 0))?,
            container_status::RESTART_COUNT => c.restart_count = seen.first(n, int32(v))?,
            container_status::IMAGE => c.image = seen.first(n, string(v))?,
            container_status::IMAGE_I_D => c.image_id = seen.first(n, string(v))?,
            container_status::CONTAINER_I_D => c.container_id = seen.first(n, string(v))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

fn container_state(buf: &[u8]) -> Result<ContainerState> {
    let mut s = ContainerState::default();
    fields(buf, |n, v, seen| {
        match n {
            container_state::WAITING => {
                seen.once(n)?;
                let mut w = StateWaiting::default();
                fields(bytes(v)?, |n, v, seen| {
                    if n == container_state_waiting::REASON {
                        seen.once(n)?;
                        w.reason = string(v)?;
                    }
                    Ok(())
                })?;
                s.waiting = Some(w);
            }
            container_state::RUNNING => {
                seen.once(n)?;
                let mut r = StateRunning::default();
                fields(bytes(v)?, |n, v, seen| {
                    if n == container_state_running::STARTED_AT {
                        seen.once(n)?;
                        r.started_at = Some(time(v)?);
                    }
                    Ok(())
                })?;
                s.running = Some(r);
            }
            container_state::TERMINATED => {
                s.terminated = seen.first(n, terminated(bytes(v)?).map(Some))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

fn terminated(buf: &[u8]) -> Result<StateTerminated> {
    let mut t = StateTerminated::default();
    fields(buf, |n, v, seen| {
        match n {
            container_state_terminated::EXIT_CODE => t.exit_code = seen.first(n, int32(v))?,
            container_state_terminated::REASON => t.reason = seen.first(n, string(v))?,
            container_state_terminated::STARTED_AT => {
                t.started_at = seen.first(n, time(v).map(Some))?
            }
            container_state_terminated::FINISHED_AT => {
                t.finished_at = seen.first(n, time(v).map(Some))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(t)
}

fn claim_status(buf: &[u8]) -> Result<ResourceClaimStatus> {
    let mut c = ResourceClaimStatus::default();
    fields(buf, |n, v, seen| {
        match n {
            pod_resource_claim_status::NAME => c.name = seen.first(n, string(v))?,
            pod_resource_claim_status::RESOURCE_CLAIM_NAME => {
                c.resource_claim_name = seen.first(n, string(v).map(Some))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use kubestate_protoschema::{message, Cardinality, Scalar, Type};

    use super::*;

    /// Every field number the decoders match on is the schema table's, and the maps, repeated
    /// fields, timestamps, booleans and integers have the type and cardinality the decoders
    /// read them as.
    #[test]
    fn field_numbers_match_the_schema_table() {
        for &(msg, json, number) in num::ALL {
            let full = if msg.starts_with("meta.") {
                format!("k8s.io.apimachinery.pkg.apis.{msg}")
            } else {
                format!("k8s.io.api.{msg}")
            };
            let id = message(&full).unwrap_or_else(|| panic!("{full} not in the table"));
            let f = id
                .def()
                .field_by_json(json)
                .unwrap_or_else(|| panic!("{full}.{json} not in the table"));
            assert_eq!(f.number, number, "{full}.{json}");
        }
        // Types and shapes the decoders assume.
        let field = |m: &str, j: &str| {
            message(m)
                .and_then(|id| id.def().field_by_json(j))
                .unwrap_or_else(|| panic!("{m}.{j}"))
        };
        let time = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
        let quantity = "k8s.io.apimachinery.pkg.api.resource.Quantity";
        for (m, j, ty, card) in [
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "labels",
                None,
                "map",
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "annotations",
                None,
                "map",
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "creationTimestamp",
                Some(time),
                "one",
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "deletionTimestamp",
                Some(time),
                "one",
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "ownerReferences",
                None,
                "repeated",
            ),
            ("k8s.io.api.core.v1.PodSpec", "nodeSelector", None, "map"),
            (
                "k8s.io.api.core.v1.PodSpec",
                "overhead",
                Some(quantity),
                "map",
            ),
            (
                "k8s.io.api.core.v1.ResourceRequirements",
                "limits",
                Some(quantity),
                "map",
            ),
            (
                "k8s.io.api.core.v1.ResourceRequirements",
                "requests",
                Some(quantity),
                "map",
            ),
            ("k8s.io.api.core.v1.PodSpec", "volumes", None, "repeated"),
            ("k8s.io.api.core.v1.PodSpec", "containers", None, "repeated"),
            (
                "k8s.io.api.core.v1.PodSpec",
                "initContainers",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodSpec",
                "tolerations",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodSpec",
                "resourceClaims",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodStatus",
                "conditions",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodStatus",
                "containerStatuses",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodStatus",
                "initContainerStatuses",
                None,
                "repeated",
            ),
            ("k8s.io.api.core.v1.PodStatus", "podIPs", None, "repeated"),
            (
                "k8s.io.api.core.v1.PodStatus",
                "resourceClaimStatuses",
                None,
                "repeated",
            ),
            (
                "k8s.io.api.core.v1.PodStatus",
                "startTime",
                Some(time),
                "one",
            ),
            (
                "k8s.io.api.core.v1.PodCondition",
                "lastTransitionTime",
                Some(time),
                "one",
            ),
            (
                "k8s.io.api.core.v1.ContainerStateRunning",
                "startedAt",
                Some(time),
                "one",
            ),
            (
                "k8s.io.api.core.v1.ContainerStateTerminated",
                "startedAt",
                Some(time),
                "one",
            ),
            (
                "k8s.io.api.core.v1.ContainerStateTerminated",
                "finishedAt",
                Some(time),
                "one",
            ),
        ] {
            let f = field(m, j);
            let shape = match f.card {
                Cardinality::Map {
                    key: Scalar::String,
                } => "map",
                Cardinality::Map { .. } => "map with another key",
                Cardinality::Repeated => "repeated",
                Cardinality::Optional => "one",
            };
            assert_eq!(shape, card, "{m}.{j}");
            if let Some(ty) = ty {
                assert_eq!(f.ty, Type::Message(message(ty).unwrap()), "{m}.{j}");
            }
        }
        assert_eq!(
            message(time).unwrap().def().special,
            Special::Time,
            "meta.v1.Time"
        );
        assert!(field("k8s.io.api.core.v1.Volume", "volumeSource").inline);
        for (m, j, s) in [
            ("k8s.io.api.core.v1.PodSpec", "hostNetwork", Scalar::Bool),
            (
                "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource",
                "readOnly",
                Scalar::Bool,
            ),
            ("k8s.io.api.core.v1.ContainerStatus", "ready", Scalar::Bool),
            (
                "k8s.io.api.core.v1.ContainerStatus",
                "restartCount",
                Scalar::Int32,
            ),
            (
                "k8s.io.api.core.v1.ContainerStateTerminated",
                "exitCode",
                Scalar::Int32,
            ),
            (
                "k8s.io.api.core.v1.Toleration",
                "tolerationSeconds",
                Scalar::Int64,
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "generation",
                Scalar::Int64,
            ),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
                "controller",
                Scalar::Bool,
            ),
            ("k8s.io.api.core.v1.PodSpec", "nodeSelector", Scalar::String),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "labels",
                Scalar::String,
            ),
        ] {
            assert_eq!(field(m, j).ty, Type::Scalar(s), "{m}.{j}");
        }
    }
}
