//! Pod (`v1`). Pods are the most numerous objects of a cluster, so this struct keeps only what
//! the pod families read: closed sets (phase, QoS class, condition type/status) are enums that
//! decode without allocating, and everything else a container spec or status carries (env,
//! probes, mounts, messages…) is skipped unallocated.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::{Meta, ResourceList, StrMap, Time};

/// A Pod as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: PodSpec,
    /// `status`
    pub status: PodStatus,
}

/// The parts of `spec` the families read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    /// `spec.nodeName`
    pub node_name: Box<str>,
    /// `spec.containers` (the one list Go serialises as `null` when empty).
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub containers: Vec<Container>,
    /// `spec.initContainers`
    pub init_containers: Vec<Container>,
    /// `spec.priorityClassName`
    pub priority_class_name: Box<str>,
    /// `spec.hostNetwork`
    pub host_network: bool,
    /// `spec.restartPolicy`
    pub restart_policy: Box<str>,
    /// `spec.runtimeClassName` (`None` when unset; an empty string is still set).
    pub runtime_class_name: Option<Box<str>>,
    /// `spec.volumes`
    pub volumes: Vec<Volume>,
    /// `spec.overhead`
    pub overhead: ResourceList,
    /// `spec.tolerations`
    pub tolerations: Vec<Toleration>,
    /// `spec.nodeSelector`, sorted by key.
    pub node_selector: StrMap,
    /// `spec.serviceAccountName`
    pub service_account_name: Box<str>,
    /// `spec.schedulerName`
    pub scheduler_name: Box<str>,
    /// `spec.resourceClaims` (dynamic resource allocation).
    pub resource_claims: Vec<PodResourceClaim>,
}

/// One entry of `spec.containers` or `spec.initContainers`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    pub name: Box<str>,
    /// Image as written in the spec.
    pub image: Box<str>,
    /// `resources.requests` / `resources.limits`.
    pub resources: Resources,
    /// Per-container restart policy (`Always` marks a native sidecar init container).
    pub restart_policy: Option<Box<str>>,
}

/// A container's `resources`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// `requests`
    pub requests: ResourceList,
    /// `limits`
    pub limits: ResourceList,
}

/// One entry of `spec.volumes`: only the claim-backed sources are read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Volume {
    /// Volume name.
    pub name: Box<str>,
    /// `persistentVolumeClaim` source.
    pub persistent_volume_claim: Option<PvcSource>,
    /// Whether the volume is a generic ephemeral volume (its template is not read).
    pub ephemeral: Option<IgnoredAny>,
}

/// A `persistentVolumeClaim` volume source.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PvcSource {
    /// The claim's name.
    pub claim_name: Box<str>,
    /// Whether the volume is mounted read-only.
    pub read_only: bool,
}

/// One entry of `spec.tolerations`.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Toleration {
    /// Taint key (empty matches every key).
    pub key: Box<str>,
    /// `Exists` or `Equal`.
    pub operator: Box<str>,
    /// Taint value.
    pub value: Box<str>,
    /// Taint effect.
    pub effect: Box<str>,
    /// How long a `NoExecute` taint is tolerated, if bounded.
    pub toleration_seconds: Option<i64>,
}

/// One entry of `spec.resourceClaims`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodResourceClaim {
    /// The name the pod uses for the claim.
    pub name: Box<str>,
    /// A ResourceClaim referenced directly.
    pub resource_claim_name: Option<Box<str>>,
    /// A ResourceClaimTemplate the claim is generated from.
    pub resource_claim_template_name: Option<Box<str>>,
}

/// The parts of `status` the families read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    /// `status.phase`
    pub phase: Phase,
    /// `status.qosClass`
    pub qos_class: QosClass,
    /// `status.reason` (e.g. `Evicted`).
    pub reason: Box<str>,
    /// `status.hostIP`
    #[serde(rename = "hostIP")]
    pub host_ip: Box<str>,
    /// `status.podIP`
    #[serde(rename = "podIP")]
    pub pod_ip: Box<str>,
    /// `status.podIPs`
    #[serde(rename = "podIPs")]
    pub pod_ips: Vec<PodIp>,
    /// `status.startTime`
    pub start_time: Option<Time>,
    /// `status.conditions`
    pub conditions: Vec<PodCondition>,
    /// `status.containerStatuses`
    pub container_statuses: Vec<ContainerStatus>,
    /// `status.initContainerStatuses`
    pub init_container_statuses: Vec<ContainerStatus>,
    /// `status.resourceClaimStatuses`
    pub resource_claim_statuses: Vec<ResourceClaimStatus>,
}

/// `status.phase`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Phase {
    /// Not reported.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// `Pending`
    Pending,
    /// `Running`
    Running,
    /// `Succeeded`
    Succeeded,
    /// `Failed`
    Failed,
    /// `Unknown`
    Unknown,
    /// Any other value.
    #[serde(other)]
    Other,
}

impl Phase {
    /// The API spelling (`""` when unset, `"?"` for a value outside the five).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Unset => "",
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
            Phase::Other => "?",
        }
    }
}

/// `status.qosClass`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum QosClass {
    /// Not reported.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// `BestEffort`
    BestEffort,
    /// `Burstable`
    Burstable,
    /// `Guaranteed`
    Guaranteed,
    /// Any other value.
    #[serde(other)]
    Other,
}

impl QosClass {
    /// The API spelling (`""` when unset, `"?"` for a value outside the three).
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Unset => "",
            QosClass::BestEffort => "BestEffort",
            QosClass::Burstable => "Burstable",
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Other => "?",
        }
    }
}

/// One entry of `status.podIPs`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodIp {
    /// The address as the API reports it.
    pub ip: Box<str>,
}

/// A pod condition, without the message (the families never read it).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodCondition {
    /// Condition type.
    #[serde(rename = "type")]
    pub type_: PodConditionType,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// Machine-readable reason.
    pub reason: Box<str>,
    /// Last transition.
    pub last_transition_time: Option<Time>,
}

/// The pod condition types the families look at.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PodConditionType {
    /// `Ready`
    Ready,
    /// `Initialized`
    Initialized,
    /// `ContainersReady`
    ContainersReady,
    /// `PodScheduled`
    PodScheduled,
    /// `DisruptionTarget`
    DisruptionTarget,
    /// Any other type.
    #[default]
    #[serde(other)]
    Other,
}

/// A condition's status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ConditionStatus {
    /// `True`
    True,
    /// `False`
    False,
    /// `Unknown`
    Unknown,
    /// Empty or any other value.
    #[default]
    #[serde(other)]
    Other,
}

impl ConditionStatus {
    /// The API spelling (`""` for anything outside the three).
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
            ConditionStatus::Other => "",
        }
    }
}

/// One entry of `status.containerStatuses` or `status.initContainerStatuses`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    /// Container name.
    pub name: Box<str>,
    /// Image the runtime reports.
    pub image: Box<str>,
    /// Image digest reference.
    #[serde(rename = "imageID")]
    pub image_id: Box<str>,
    /// Runtime container ID.
    #[serde(rename = "containerID")]
    pub container_id: Box<str>,
    /// Readiness.
    pub ready: bool,
    /// Restarts so far.
    pub restart_count: i64,
    /// Current state.
    pub state: ContainerState,
    /// Previous state (`lastState`).
    pub last_state: ContainerState,
}

/// A container state: at most one of the three is set.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    /// Waiting, with its reason.
    pub waiting: Option<StateWaiting>,
    /// Running since.
    pub running: Option<StateRunning>,
    /// Terminated, with reason, exit code and times.
    pub terminated: Option<StateTerminated>,
}

/// `state.waiting`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StateWaiting {
    /// Why the container waits.
    pub reason: Box<str>,
}

/// `state.running`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateRunning {
    /// When the container started.
    pub started_at: Option<Time>,
}

/// `state.terminated`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateTerminated {
    /// Why the container terminated.
    pub reason: Box<str>,
    /// Exit code.
    pub exit_code: i64,
    /// When the container started.
    pub started_at: Option<Time>,
    /// When the container finished.
    pub finished_at: Option<Time>,
}

/// One entry of `status.resourceClaimStatuses`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceClaimStatus {
    /// The pod's claim name.
    pub name: Box<str>,
    /// The ResourceClaim generated for it, once created.
    pub resource_claim_name: Option<Box<str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_closed_sets_and_nil_fields() {
        let p: Pod = serde_json::from_str(
            r#"{"metadata":{"name":"p"},
                "spec":{"containers":[{"name":"c","image":"i","env":[{"name":"X"}],
                        "resources":{"limits":{"cpu":"250m"}}}],
                        "volumes":[{"name":"v","ephemeral":{"volumeClaimTemplate":{}}},
                                   {"name":"w","persistentVolumeClaim":{"claimName":"d"}}],
                        "tolerations":[{"key":"k","tolerationSeconds":300}]},
                "status":{"phase":"Weird","qosClass":"","conditions":[
                        {"type":"Ready","status":"True","message":"m"},
                        {"type":"Custom","status":"Maybe"}],
                        "containerStatuses":[{"name":"c","restartCount":2,
                        "state":{"terminated":{"exitCode":137,"reason":"OOMKilled"}},
                        "lastState":{}}]}}"#,
        )
        .unwrap();
        assert_eq!(p.status.phase, Phase::Other);
        assert_eq!(p.status.qos_class, QosClass::Unset);
        assert_eq!(p.status.conditions[0].type_, PodConditionType::Ready);
        assert_eq!(p.status.conditions[0].status, ConditionStatus::True);
        assert_eq!(p.status.conditions[1].type_, PodConditionType::Other);
        assert_eq!(p.status.conditions[1].status, ConditionStatus::Other);
        assert!(p.spec.volumes[0].ephemeral.is_some());
        assert!(p.spec.volumes[1].ephemeral.is_none());
        assert_eq!(p.spec.tolerations[0].toleration_seconds, Some(300));
        assert!(p.spec.runtime_class_name.is_none());
        let cs = &p.status.container_statuses[0];
        assert_eq!(cs.restart_count, 2);
        let t = cs.state.terminated.as_ref().unwrap();
        assert_eq!((t.exit_code, &*t.reason), (137, "OOMKilled"));
        assert!(t.finished_at.is_none());
        assert!(cs.last_state.terminated.is_none());
        assert_eq!(p.spec.containers[0].resources.limits.iter().len(), 1);
    }

    #[test]
    fn empty_object_decodes() {
        let p: Pod = serde_json::from_str("{}").unwrap();
        assert_eq!(p.status.phase, Phase::Unset);
        assert!(p.spec.containers.is_empty());
        let p: Pod =
            serde_json::from_str(r#"{"spec":{"containers":null,"nodeSelector":null}}"#).unwrap();
        assert!(p.spec.containers.is_empty());
        assert!(p.spec.node_selector.is_empty());
    }
}
