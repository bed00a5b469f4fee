//! The service checks of Datadog's `kubernetes_state_core`, as series (check-semantics.md
//! §6.4), and the agent's `telemetry: true` series (§6.5).
//!
//! A service check has a name and a status; here it is a series with that name whose **value
//! is the status code** Datadog uses: `0` OK, `1` WARNING, `2` CRITICAL, `3` UNKNOWN. Its
//! labels go through the same pipeline as every other series (own labels, joins, the mapper,
//! static tags), so `kubernetes_state.node.ready` carries the node's joined zone and region.
//!
//! | series | source | status |
//! |---|---|---|
//! | `kubernetes_state.node.ready` | `kube_node_status_condition{condition="Ready"}` = 1 | `status` true → OK, false → CRITICAL, unknown → WARNING |
//! | `kubernetes_state.node.{out_of_disk,disk_pressure,network_unavailable,memory_pressure}` | the `OutOfDisk`, `DiskPressure`, `NetworkUnavailable`, `MemoryPressure` conditions | true → CRITICAL, false → OK, unknown → UNKNOWN |
//! | `kubernetes_state.job.complete` | `kube_job_complete` / `kube_job_failed` `{condition="true"}` = 1 | OK / CRITICAL; `kube_cronjob` added from a `<cronjob>-<4 to 10 digits>` job name |
//! | `kubernetes_state.cronjob.complete` | the same two families | per (namespace, cronjob), the job with the highest numeric suffix: OK if it completed, CRITICAL if it failed |
//! | `kubernetes_state.cronjob.on_schedule_check` | `kube_cronjob_next_schedule_time` | OK if the next schedule is now or later, else CRITICAL |
//!
//! The node checks leave out the `condition` and `status` labels (the name says the condition,
//! the value the status), and the job check the `condition` label, so that a check keeps one
//! series while its status changes. Datadog's messages ("n1 is currently reporting Ready =
//! false", "… is 75 seconds late") have no place in a series and are not reproduced.
//!
//! These run after the main pass, over the stores that carry the source families only (nodes,
//! jobs, cronjobs), so they cost nothing on the per-pod path.

use std::collections::BTreeMap;

use kubestate_store::structured::{Snapshot, Sym, Symbols};

use crate::index::{Index, Pairs};
use crate::plan::{FamilyPlan, KeyId, Plan};
use crate::run::{assemble, OwnerMemo, PlainKeys, RunStats};
use crate::series::{Emit, OutSeries};

/// Datadog's service-check statuses, as series values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    /// `0`.
    Ok = 0,
    /// `1`.
    Warning = 1,
    /// `2`.
    Critical = 2,
    /// `3`.
    Unknown = 3,
}

impl Status {
    /// The series value.
    pub fn value(self) -> f64 {
        f64::from(self as u8)
    }
}

/// The node conditions that have a service check: (condition, check name, whether `true` is
/// the healthy state).
const NODE_CONDITIONS: &[(&str, &str, bool)] = &[
    ("Ready", "kubernetes_state.node.ready", true),
    ("OutOfDisk", "kubernetes_state.node.out_of_disk", false),
    ("DiskPressure", "kubernetes_state.node.disk_pressure", false),
    (
        "NetworkUnavailable",
        "kubernetes_state.node.network_unavailable",
        false,
    ),
    (
        "MemoryPressure",
        "kubernetes_state.node.memory_pressure",
        false,
    ),
];

/// Status of a node condition check from the condition's `status` label.
pub fn node_condition_status(status: &str, healthy_when_true: bool) -> Status {
    match (status, healthy_when_true) {
        ("true", true) | ("false", false) => Status::Ok,
        ("false", true) | ("true", false) => Status::Critical,
        ("unknown", true) => Status::Warning,
        _ => Status::Unknown,
    }
}

/// The CronJob of a Job named `<cronjob>-<4 to 10 digits>` (the tag the agent adds to
/// `job.complete`).
pub fn cronjob_of_job_tag(job: &str) -> Option<&str> {
    let (head, tail) = job.rsplit_once('-')?;
    ((4..=10).contains(&tail.len()) && tail.bytes().all(|b| b.is_ascii_digit()))
        .then_some(head)
        .filter(|h| !h.is_empty())
}

/// The CronJob and the scheduled time of a Job named `<cronjob>-<at least 3 digits>`, how the
/// agent finds the latest job of a CronJob.
pub fn cronjob_and_id(job: &str) -> Option<(&str, u64)> {
    let (head, tail) = job.rsplit_once('-')?;
    if head.is_empty() || tail.len() < 3 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head, tail.parse().ok()?))
}

/// Status of `cronjob.on_schedule_check`: OK while the next schedule time (whole seconds) is
/// not in the past.
pub fn on_schedule_status(next_schedule: f64, now_s: f64) -> Status {
    if (next_schedule as i64) - (now_s as i64) >= 0 {
        Status::Ok
    } else {
        Status::Critical
    }
}

/// The compiled service checks (names interned, output keys resolved).
#[derive(Debug)]
pub(crate) struct Rules {
    node_condition: Sym,
    job_complete: Sym,
    job_failed: Sym,
    next_schedule: Sym,
    condition: Sym,
    status: Sym,
    node: Sym,
    job_name: Sym,
    namespace: Sym,
    cronjob: Sym,
    /// Keys left out of node checks (condition, status) and job checks (condition).
    skip_node: Vec<KeyId>,
    skip_job: Vec<KeyId>,
    key_kube_cronjob: KeyId,
    key_namespace: KeyId,
    key_cronjob: KeyId,
}

/// The families the service checks read.
pub(crate) const SOURCES: &[&str] = &[
    "kube_node_status_condition",
    "kube_job_complete",
    "kube_job_failed",
    "kube_cronjob_next_schedule_time",
];

impl Rules {
    pub(crate) fn compile(plan: &mut Plan, symbols: &Symbols) -> Rules {
        let condition = plan.key("condition");
        let status = plan.key("status");
        Rules {
            node_condition: symbols.intern(SOURCES[0]),
            job_complete: symbols.intern(SOURCES[1]),
            job_failed: symbols.intern(SOURCES[2]),
            next_schedule: symbols.intern(SOURCES[3]),
            condition: symbols.intern("condition"),
            status: symbols.intern("status"),
            node: symbols.intern("node"),
            job_name: symbols.intern("job_name"),
            namespace: symbols.intern("namespace"),
            cronjob: symbols.intern("cronjob"),
            skip_node: vec![condition, status],
            skip_job: vec![condition],
            key_kube_cronjob: plan.key("kube_cronjob"),
            key_namespace: plan.key("namespace"),
            key_cronjob: plan.key("cronjob"),
        }
    }
}

/// One check found on a series: its name, status, the keys to leave out and an extra label.
struct Found<'s> {
    name: &'static str,
    status: Status,
    skip: &'s [KeyId],
    extra: Option<(KeyId, &'s str)>,
}

/// Emits one check with `pairs` as its labels (mapped with the key overrides of `fp`, the
/// rule of its source family; owner-handled; static tags added).
#[allow(clippy::too_many_arguments)] // one run's context
fn send<'a>(
    plan: &'a Plan,
    fp: &'a FamilyPlan,
    f: &Found<'_>,
    pairs: &[(KeyId, &'a str)],
    memo: (&PlainKeys, &mut OwnerMemo<'a>),
    labels: &mut Vec<(&'a str, &'a str)>,
    ts: i64,
    stats: &mut RunStats,
    out: &mut dyn Emit,
) {
    labels.clear();
    assemble(plan, fp, f.skip, pairs, memo, labels);
    out.series(&OutSeries {
        name: f.name,
        labels,
        value: f.status.value(),
        timestamp_ms: ts,
    });
    stats.series_out += 1;
    stats.service_checks += 1;
}

/// Emits the service checks and the agent telemetry series of one run (after the main pass).
pub(crate) fn emit(
    plan: &Plan,
    snap: &Snapshot,
    index: &Index<'_>,
    now_s: f64,
    ts: i64,
    stats: &mut RunStats,
    out: &mut dyn Emit,
) {
    if let Some(rules) = &plan.checks {
        checks(plan, rules, snap, index, now_s, ts, stats, out);
    }
    if plan.telemetry_series {
        telemetry(plan, snap, ts, stats, out);
    }
}

#[allow(clippy::too_many_arguments)] // one run's context
fn checks(
    plan: &Plan,
    r: &Rules,
    snap: &Snapshot,
    index: &Index<'_>,
    now_s: f64,
    ts: i64,
    stats: &mut RunStats,
    out: &mut dyn Emit,
) {
    let empty = FamilyPlan::empty();
    // Keys assemble may copy without looking further: none of those the checks leave out.
    let mut plain = PlainKeys::default();
    plain.reset(plan);
    plain.not_plain(&r.skip_node);
    plain.not_plain(&r.skip_job);
    for fam in [
        r.node_condition,
        r.job_complete,
        r.job_failed,
        r.next_schedule,
    ] {
        if let Some(fp) = plan.family(fam) {
            plain.family(fp);
        }
    }
    let mut owners = OwnerMemo::default();
    let mut leaves = Vec::new();
    let mut joined: Vec<&Pairs> = Vec::new();
    let mut pairs: Vec<(KeyId, &str)> = Vec::new();
    let mut labels: Vec<(&str, &str)> = Vec::new();
    // (namespace, cronjob) → (job id, status) of its latest finished job.
    let mut latest: BTreeMap<(&str, &str), (u64, Status)> = BTreeMap::new();
    for store in snap.stores() {
        let meta = store.meta();
        let sources: Vec<(usize, Sym)> = meta
            .family_syms
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                [
                    r.node_condition,
                    r.job_complete,
                    r.job_failed,
                    r.next_schedule,
                ]
                .contains(s)
            })
            .map(|(i, s)| (i, *s))
            .collect();
        if sources.is_empty() {
            continue;
        }
        for (_, obj) in store.objects() {
            index.object_leaves(plan, obj, &mut leaves);
            for &(i, fam) in &sources {
                let fp = plan.family(fam).map_or(&empty, |f| &**f);
                for s in obj.family(i) {
                    let found = if fam == r.node_condition {
                        node_check(r, &s)
                    } else if fam == r.next_schedule {
                        Some(Found {
                            name: "kubernetes_state.cronjob.on_schedule_check",
                            status: on_schedule_status(s.value(), now_s),
                            skip: &[],
                            extra: None,
                        })
                    } else {
                        let status = if fam == r.job_complete {
                            Status::Ok
                        } else {
                            Status::Critical
                        };
                        job_check(r, &s, status, &mut latest)
                    };
                    let Some(f) = found else { continue };
                    pairs.clear();
                    for (sym, v) in s.labels() {
                        if let Some(&k) = plan.key_of_sym.get(sym.index()) {
                            pairs.push((k, v));
                        }
                    }
                    joined.clear();
                    index.series_leaves(plan, &s, &leaves, &mut joined);
                    for p in &joined {
                        pairs.extend(p.iter().map(|(k, v)| (*k, &**v)));
                    }
                    pairs.extend(f.extra);
                    send(
                        plan,
                        fp,
                        &f,
                        &pairs,
                        (&plain, &mut owners),
                        &mut labels,
                        ts,
                        stats,
                        out,
                    );
                }
            }
        }
    }
    for ((namespace, cronjob), (_, status)) in latest {
        pairs.clear();
        pairs.push((r.key_namespace, namespace));
        pairs.push((r.key_cronjob, cronjob));
        joined.clear();
        index.leaves_of(
            plan,
            |l| {
                if l == r.namespace {
                    Some(namespace)
                } else if l == r.cronjob {
                    Some(cronjob)
                } else {
                    None
                }
            },
            &mut joined,
        );
        for p in &joined {
            pairs.extend(p.iter().map(|(k, v)| (*k, &**v)));
        }
        let f = Found {
            name: "kubernetes_state.cronjob.complete",
            status,
            skip: &[],
            extra: None,
        };
        send(
            plan,
            &empty,
            &f,
            &pairs,
            (&plain, &mut owners),
            &mut labels,
            ts,
            stats,
            out,
        );
    }
}

fn node_check<'s>(
    r: &'s Rules,
    s: &kubestate_store::structured::SeriesView<'_>,
) -> Option<Found<'s>> {
    if s.value() != 1.0 {
        return None;
    }
    let condition = s.get(r.condition)?;
    let (_, name, healthy_when_true) = NODE_CONDITIONS.iter().find(|c| c.0 == condition)?;
    s.get(r.node)?;
    let status = s.get(r.status)?;
    Some(Found {
        name,
        status: node_condition_status(status, *healthy_when_true),
        skip: &r.skip_node,
        extra: None,
    })
}

fn job_check<'s, 'v>(
    r: &'s Rules,
    s: &kubestate_store::structured::SeriesView<'v>,
    status: Status,
    latest: &mut BTreeMap<(&'v str, &'v str), (u64, Status)>,
) -> Option<Found<'s>>
where
    'v: 's,
{
    if s.value() != 1.0 || s.get(r.condition) != Some("true") {
        return None;
    }
    let job = s.get(r.job_name);
    if let (Some(ns), Some((cronjob, id))) = (s.get(r.namespace), job.and_then(cronjob_and_id)) {
        let e = latest.entry((ns, cronjob)).or_insert((id, status));
        if e.0 < id {
            *e = (id, status);
        }
    }
    Some(Found {
        name: "kubernetes_state.job.complete",
        status,
        skip: &r.skip_job,
        extra: job
            .and_then(cronjob_of_job_tag)
            .map(|c| (r.key_kube_cronjob, c)),
    })
}

/// The agent's telemetry series: series of known families (not metadata), unknown families,
/// and series per resource (the second word of the family name).
fn telemetry(plan: &Plan, snap: &Snapshot, ts: i64, stats: &mut RunStats, out: &mut dyn Emit) {
    use crate::plan::{Action, DropReason};
    let mut total = 0u64;
    let mut unknown = 0u64;
    let mut per_resource: BTreeMap<&str, u64> = BTreeMap::new();
    for store in snap.stores() {
        let meta = store.meta();
        for (i, sym) in meta.family_syms.iter().enumerate() {
            let name = meta.info.families[i].name.as_str();
            let n: u64 = store.objects().map(|(_, o)| o.family(i).len() as u64).sum();
            if n == 0 {
                continue;
            }
            let metadata = ["_info", "_labels", "_status_reason"]
                .iter()
                .any(|m| name.contains(m));
            let known = match plan.family(*sym).map(|f| &f.action) {
                Some(Action::Emit(_)) | Some(Action::Drop(DropReason::Aggregated)) => true,
                Some(Action::Drop(DropReason::Unknown)) => false,
                // Dropped by a rule (the agent never generates those) or never compiled.
                _ => continue,
            };
            if metadata {
                continue;
            }
            if !known {
                unknown += 1;
                continue;
            }
            total += n;
            if let Some(resource) = name.split('_').nth(1) {
                *per_resource.entry(resource).or_insert(0) += n;
            }
        }
    }
    let mut send = |name: &str, extra: Option<(&str, &str)>, value: u64| {
        let mut labels: Vec<(&str, &str)> = Vec::with_capacity(1 + plan.static_tags.len());
        labels.extend(extra);
        labels.extend(plan.static_tags.iter().map(|(k, v)| (&**k, &**v)));
        out.series(&OutSeries {
            name,
            labels: &labels,
            value: value as f64,
            timestamp_ms: ts,
        });
        stats.series_out += 1;
    };
    send(
        "kubernetes_state.telemetry.metrics.count.total",
        None,
        total,
    );
    send(
        "kubernetes_state.telemetry.unknown_metrics.count",
        None,
        unknown,
    );
    for (resource, n) in per_resource {
        send(
            "kubernetes_state.telemetry.metrics.count",
            Some(("resource_name", resource)),
            n,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_condition_statuses_follow_the_agent() {
        use Status::*;
        for (status, ready, pressure) in [
            ("true", Ok, Critical),
            ("false", Critical, Ok),
            ("unknown", Warning, Unknown),
            ("weird", Unknown, Unknown),
        ] {
            assert_eq!(node_condition_status(status, true), ready, "{status}");
            assert_eq!(node_condition_status(status, false), pressure, "{status}");
        }
        assert_eq!(
            [Ok, Warning, Critical, Unknown].map(Status::value),
            [0.0, 1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn job_names_give_their_cronjob() {
        assert_eq!(cronjob_of_job_tag("backup-28391520"), Some("backup"));
        assert_eq!(cronjob_of_job_tag("a-b-1234"), Some("a-b"));
        assert_eq!(cronjob_of_job_tag("backup-123"), None, "3 digits: no tag");
        assert_eq!(cronjob_of_job_tag("backup-12345678901"), None);
        assert_eq!(cronjob_of_job_tag("backup-x1234"), None);
        assert_eq!(cronjob_of_job_tag("-1234"), None);
        assert_eq!(
            cronjob_and_id("backup-28391520"),
            Some(("backup", 28391520))
        );
        assert_eq!(cronjob_and_id("backup-123"), Some(("backup", 123)));
        assert_eq!(cronjob_and_id("backup-12"), None);
        assert_eq!(cronjob_and_id("backup"), None);
    }

    #[test]
    fn on_schedule_compares_whole_seconds() {
        assert_eq!(on_schedule_status(100.0, 100.9), Status::Ok);
        assert_eq!(on_schedule_status(101.0, 100.0), Status::Ok);
        assert_eq!(on_schedule_status(99.0, 100.0), Status::Critical);
    }
}
