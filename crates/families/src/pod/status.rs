//! The status families: phase, QoS class, the Ready/PodScheduled condition triples, condition
//! transition times and the reason families.

use kubestate_objects::pod::{ConditionStatus, Pod, PodCondition, PodConditionType};

use super::unix_or_go_zero;
use crate::conditions::triple;
use crate::kind::Out;
use crate::phases::one_hot;

/// `kube_pod_completion_time`: the latest `finishedAt` over currently terminated containers,
/// only when it is after the Unix epoch.
pub(super) fn completion_time(p: &Pod, out: &mut Out<'_>) {
    let latest = p
        .status
        .container_statuses
        .iter()
        .filter_map(|cs| cs.state.terminated.as_ref())
        .map(|t| unix_or_go_zero(t.finished_at))
        .fold(0.0_f64, f64::max);
    if latest > 0.0 {
        out.sample(&[], latest);
    }
}

/// Five samples, one per phase, none while the phase is unreported.
pub(super) fn phase(p: &Pod, out: &mut Out<'_>) {
    let known = ["Pending", "Succeeded", "Failed", "Unknown", "Running"];
    one_hot(out, "phase", p.status.phase.as_str(), &known);
}

/// Three samples, one per QoS class, none while the class is unreported.
pub(super) fn qos_class(p: &Pod, out: &mut Out<'_>) {
    let known = ["BestEffort", "Burstable", "Guaranteed"];
    one_hot(out, "qos_class", p.status.qos_class.as_str(), &known);
}

fn conditions(p: &Pod, ty: PodConditionType) -> impl Iterator<Item = &PodCondition> {
    p.status.conditions.iter().filter(move |c| c.type_ == ty)
}

/// The `condition="true|false|unknown"` triple of every condition of type `ty`.
fn condition_triple(p: &Pod, out: &mut Out<'_>, ty: PodConditionType) {
    for c in conditions(p, ty) {
        triple(out, &[], "condition", c.status.as_str());
    }
}

/// The last transition time of every condition of type `ty` whose status is `status`.
fn transition_time(p: &Pod, out: &mut Out<'_>, ty: PodConditionType, status: ConditionStatus) {
    for c in conditions(p, ty).filter(|c| c.status == status) {
        out.sample(&[], unix_or_go_zero(c.last_transition_time));
    }
}

pub(super) fn ready(p: &Pod, out: &mut Out<'_>) {
    condition_triple(p, out, PodConditionType::Ready);
}

pub(super) fn scheduled(p: &Pod, out: &mut Out<'_>) {
    condition_triple(p, out, PodConditionType::PodScheduled);
}

pub(super) fn ready_time(p: &Pod, out: &mut Out<'_>) {
    transition_time(p, out, PodConditionType::Ready, ConditionStatus::True);
}

pub(super) fn initialized_time(p: &Pod, out: &mut Out<'_>) {
    transition_time(p, out, PodConditionType::Initialized, ConditionStatus::True);
}

pub(super) fn container_ready_time(p: &Pod, out: &mut Out<'_>) {
    transition_time(
        p,
        out,
        PodConditionType::ContainersReady,
        ConditionStatus::True,
    );
}

pub(super) fn scheduled_time(p: &Pod, out: &mut Out<'_>) {
    transition_time(
        p,
        out,
        PodConditionType::PodScheduled,
        ConditionStatus::True,
    );
}

pub(super) fn unscheduled_time(p: &Pod, out: &mut Out<'_>) {
    transition_time(
        p,
        out,
        PodConditionType::PodScheduled,
        ConditionStatus::False,
    );
}

/// `kube_pod_status_unschedulable`: 1 per PodScheduled condition that is False.
pub(super) fn unschedulable(p: &Pod, out: &mut Out<'_>) {
    for _ in
        conditions(p, PodConditionType::PodScheduled).filter(|c| c.status == ConditionStatus::False)
    {
        out.sample(&[], 1.0);
    }
}

/// The reasons `kube_pod_status_reason` knows.
const STATUS_REASONS: [&str; 8] = [
    "Evicted",
    "NodeAffinity",
    "NodeLost",
    "PreemptionByScheduler",
    "SchedulingGated",
    "Shutdown",
    "TerminationByKubelet",
    "UnexpectedAdmissionError",
];

/// `kube_pod_status_reason` (v2.20): one sample per known reason found in `status.reason`, in
/// any condition's reason or in a currently terminated container's reason; plus `Other` when
/// `status.reason` is set to a reason outside the list. Nothing for a pod with none of these.
pub(super) fn reason(p: &Pod, out: &mut Out<'_>) {
    let st = &p.status;
    for r in STATUS_REASONS {
        let present = &*st.reason == r
            || st.conditions.iter().any(|c| &*c.reason == r)
            || st
                .container_statuses
                .iter()
                .filter_map(|cs| cs.state.terminated.as_ref())
                .any(|t| &*t.reason == r);
        if present {
            out.sample(&[("reason", r)], 1.0);
        }
    }
    if !st.reason.is_empty() && !STATUS_REASONS.contains(&&*st.reason) {
        out.sample(&[("reason", "Other")], 1.0);
    }
}

/// The reasons `kube_pod_status_disruption_reason` keeps; any other becomes `Other`.
const DISRUPTION_REASONS: [&str; 5] = [
    "PreemptionByScheduler",
    "DeletionByTaintManager",
    "EvictionByEvictionAPI",
    "DeletionByPodGC",
    "TerminationByKubelet",
];

/// `kube_pod_status_disruption_reason`: one sample per DisruptionTarget condition, whatever
/// its status.
pub(super) fn disruption_reason(p: &Pod, out: &mut Out<'_>) {
    for c in conditions(p, PodConditionType::DisruptionTarget) {
        let r = if DISRUPTION_REASONS.contains(&&*c.reason) {
            &*c.reason
        } else {
            "Other"
        };
        out.sample(&[("reason", r)], 1.0);
    }
}
