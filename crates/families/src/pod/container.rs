//! The container families and their init-container twins. Each function serves both members
//! of a pair: `INIT = false` reads `spec.containers` / `status.containerStatuses`, `INIT = true`
//! reads `spec.initContainers` / `status.initContainerStatuses`.

use kubestate_objects::pod::{Container, ContainerState, ContainerStatus, Pod};

use super::{flag, unix_or_go_zero};
use crate::kind::Out;
use crate::quantity::{unit, Unit};

fn specs<const INIT: bool>(p: &Pod) -> &[Container] {
    if INIT {
        &p.spec.init_containers
    } else {
        &p.spec.containers
    }
}

fn statuses<const INIT: bool>(p: &Pod) -> &[ContainerStatus] {
    if INIT {
        &p.status.init_container_statuses
    } else {
        &p.status.container_statuses
    }
}

/// One sample per status entry, labelled `container`, with `value` of the entry.
fn per_status<const INIT: bool>(
    p: &Pod,
    out: &mut Out<'_>,
    value: impl Fn(&ContainerStatus) -> f64,
) {
    for cs in statuses::<INIT>(p) {
        out.sample(&[("container", &cs.name)], value(cs));
    }
}

/// `*_info`: one sample per spec container for each status entry of the same name, with the
/// spec image as `image_spec` and the runtime's image, image ID and container ID; init
/// containers add their own `restart_policy` (`Always` for native sidecars, empty if unset).
pub(super) fn info<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    for c in specs::<INIT>(p) {
        for cs in statuses::<INIT>(p).iter().filter(|cs| cs.name == c.name) {
            out.begin()
                .label("container", &cs.name)
                .label("image_spec", &c.image)
                .label("image", &cs.image)
                .label("image_id", &cs.image_id)
                .label("container_id", &cs.container_id);
            if INIT {
                out.label("restart_policy", c.restart_policy.as_deref().unwrap_or(""));
            }
            out.finish(1.0);
        }
    }
}

/// `*_resource_limits` (`LIMITS = true`) and `*_resource_requests`: cpu in cores at milli
/// precision; memory, storage, hugepages and attachable volumes as whole bytes; extended
/// resources as whole integers; every other resource name is left out.
pub(super) fn resources<const INIT: bool, const LIMITS: bool>(p: &Pod, out: &mut Out<'_>) {
    let mut sanitized = String::new();
    for c in specs::<INIT>(p) {
        let list = if LIMITS {
            &c.resources.limits
        } else {
            &c.resources.requests
        };
        for (name, q) in list.iter() {
            let Some(u) = unit(name) else { continue };
            let value = match u {
                Unit::Core => crate::quantity::milli_float(q),
                Unit::Byte | Unit::Integer => q.value() as f64,
            };
            out.sample(
                &[
                    ("container", &c.name),
                    ("node", &p.spec.node_name),
                    ("resource", resource_label(name, &mut sanitized)),
                    ("unit", u.as_str()),
                ],
                value,
            );
        }
    }
}

/// The `resource` label: `name` with every character outside `[a-zA-Z0-9_]` replaced by `_`,
/// borrowed as is when nothing needs replacing.
fn resource_label<'a>(name: &'a str, buf: &'a mut String) -> &'a str {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return name;
    }
    buf.clear();
    kubestate_metric::sanitize_name(buf, name);
    buf
}

/// `*_state_started`: start of the running state, else of the terminated state; nothing while
/// waiting.
pub(super) fn state_started<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    for cs in statuses::<INIT>(p) {
        let started = match (&cs.state.running, &cs.state.terminated) {
            (Some(r), _) => r.started_at,
            (None, Some(t)) => t.started_at,
            (None, None) => continue,
        };
        out.sample(&[("container", &cs.name)], unix_or_go_zero(started));
    }
}

/// Samples of containers whose `state` (or `lastState` when `last`) is terminated.
fn per_terminated<const INIT: bool>(
    p: &Pod,
    out: &mut Out<'_>,
    last: bool,
    emit: impl Fn(&mut Out<'_>, &ContainerStatus, &kubestate_objects::pod::StateTerminated),
) {
    for cs in statuses::<INIT>(p) {
        let state: &ContainerState = if last { &cs.last_state } else { &cs.state };
        if let Some(t) = &state.terminated {
            emit(out, cs, t);
        }
    }
}

pub(super) fn last_terminated_reason<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_terminated::<INIT>(p, out, true, |out, cs, t| {
        out.sample(&[("container", &cs.name), ("reason", &t.reason)], 1.0);
    });
}

pub(super) fn last_terminated_exitcode<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_terminated::<INIT>(p, out, true, |out, cs, t| {
        out.sample(&[("container", &cs.name)], t.exit_code as f64);
    });
}

pub(super) fn last_terminated_timestamp<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_terminated::<INIT>(p, out, true, |out, cs, t| {
        out.sample(&[("container", &cs.name)], unix_or_go_zero(t.finished_at));
    });
}

pub(super) fn terminated_reason<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_terminated::<INIT>(p, out, false, |out, cs, t| {
        out.sample(&[("container", &cs.name), ("reason", &t.reason)], 1.0);
    });
}

pub(super) fn waiting_reason<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    for cs in statuses::<INIT>(p) {
        if let Some(w) = &cs.state.waiting {
            out.sample(&[("container", &cs.name), ("reason", &w.reason)], 1.0);
        }
    }
}

pub(super) fn ready<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_status::<INIT>(p, out, |cs| flag(cs.ready));
}

pub(super) fn restarts<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_status::<INIT>(p, out, |cs| cs.restart_count as f64);
}

pub(super) fn running<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_status::<INIT>(p, out, |cs| flag(cs.state.running.is_some()));
}

pub(super) fn terminated<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_status::<INIT>(p, out, |cs| flag(cs.state.terminated.is_some()));
}

pub(super) fn waiting<const INIT: bool>(p: &Pod, out: &mut Out<'_>) {
    per_status::<INIT>(p, out, |cs| flag(cs.state.waiting.is_some()));
}
