//! The overview: objects and series per resource, and the problems at a glance, computed in
//! one pass over the stores of the kinds involved.

use std::collections::BTreeMap;

use kubestate_store::RenderedObject;
use serde::Serialize;

use crate::lines::{self, Labels};
use crate::snapshot::{Identity, Snapshot, StoreSnap};

/// Items kept per problem list (the count stays exact).
pub const MAX_ITEMS: usize = 1000;

/// One object behind a problem count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    /// Resource of the object (`pods`).
    pub resource: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// What is wrong (`Pending`, `container=app`, `1 of 3 available`…).
    pub detail: String,
}

/// One kind of problem with its count and the objects behind it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Problem {
    /// Stable id, used in URLs (`pods-not-running`).
    pub id: &'static str,
    /// Title shown on the page.
    pub title: &'static str,
    /// Number of objects (or containers) with the problem.
    pub count: u64,
    /// Counts by reason, largest first.
    pub by: Vec<(String, u64)>,
    /// A query listing the same series, when one exists.
    pub query: &'static str,
    /// Whether the families it needs are served (a disabled family makes the count unknown).
    pub available: bool,
    /// The first [`MAX_ITEMS`] objects, sorted.
    pub items: Vec<Item>,
    #[serde(skip)]
    reasons: BTreeMap<String, u64>,
}

impl Problem {
    fn new(id: &'static str, title: &'static str, query: &'static str) -> Problem {
        Problem {
            id,
            title,
            query,
            ..Problem::default()
        }
    }

    fn add(&mut self, resource: &str, id: &Identity<'_>, detail: String, reason: &str) {
        self.count += 1;
        *self.reasons.entry(reason.to_string()).or_default() += 1;
        if self.items.len() < MAX_ITEMS {
            self.items.push(Item {
                resource: resource.to_string(),
                namespace: id
                    .namespace
                    .map(|n| n.unescape().into_owned())
                    .unwrap_or_default(),
                name: id
                    .name
                    .map(|n| n.unescape().into_owned())
                    .unwrap_or_default(),
                detail,
            });
        }
    }

    fn finish(&mut self) {
        let mut by: Vec<_> = std::mem::take(&mut self.reasons).into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.by = by;
        self.items.sort_by(|a, b| {
            (&a.namespace, &a.name, &a.detail).cmp(&(&b.namespace, &b.name, &b.detail))
        });
    }
}

/// Objects and series of one resource.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResourceCount {
    /// Resource name.
    pub resource: String,
    /// Objects over the resource's stores.
    pub objects: u64,
    /// Series over the resource's stores.
    pub series: u64,
}

/// What one pass over the stores found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct State {
    /// Per resource, sorted by name.
    pub resources: Vec<ResourceCount>,
    /// The problems, in display order.
    pub problems: Vec<Problem>,
    /// Pods per phase (`kube_pod_status_phase == 1`).
    pub pods_by_phase: BTreeMap<String, u64>,
    /// Replicas wanted but not available, over deployments, statefulsets and daemonsets.
    pub missing_replicas: f64,
    /// Sum of `kube_pod_container_status_restarts_total`.
    pub restarts: f64,
    /// Nodes whose Ready condition is not true.
    pub nodes_not_ready: u64,
}

fn values<'a>(
    o: &RenderedObject<'a>,
    fam: Option<usize>,
) -> impl Iterator<Item = (&'a [u8], f64)> + 'a {
    fam.map(|i| o.family(i))
        .into_iter()
        .flatten()
        .filter_map(|r| lines::value(r).map(|v| (r, v)))
}

/// The first value of a family with no own labels (a gauge per object).
fn scalar(o: &RenderedObject<'_>, fam: Option<usize>) -> Option<f64> {
    values(o, fam).next().map(|(_, v)| v)
}

fn label<'a>(rest: &'a [u8], name: &str) -> Option<lines::Raw<'a>> {
    Labels::new(rest).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// Counts the series of one store (the sampler caches it per store version).
pub(crate) fn series_of(store: &StoreSnap) -> u64 {
    store
        .view
        .objects()
        .map(|(_, o)| {
            (0..o.family_count())
                .map(|i| o.family(i).count() as u64)
                .sum::<u64>()
        })
        .sum()
}

/// Scans `snap`; `series` gives the series count of a store (cached by the caller).
pub fn compute(snap: &Snapshot, mut series: impl FnMut(&StoreSnap) -> u64) -> State {
    let mut st = State::default();
    let mut per: BTreeMap<&str, ResourceCount> = BTreeMap::new();
    for s in &snap.stores {
        let r = per.entry(&s.resource).or_insert_with(|| ResourceCount {
            resource: s.resource.to_string(),
            ..ResourceCount::default()
        });
        r.objects += s.view.len() as u64;
        r.series += series(s);
    }
    st.resources = per.into_values().collect();

    let mut not_running = Problem::new(
        "pods-not-running",
        "Pods not running",
        r#"kube_pod_status_phase{phase=~"Pending|Failed|Unknown"} == 1"#,
    );
    let mut not_ready = Problem::new(
        "pods-not-ready",
        "Running pods not ready",
        r#"kube_pod_status_ready{condition="true"} == 0"#,
    );
    let mut crashloop = Problem::new(
        "containers-crashlooping",
        "Crash-looping containers",
        r#"kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"} == 1"#,
    );
    let mut missing = Problem::new(
        "workloads-missing-replicas",
        "Workloads missing replicas",
        "kube_deployment_status_replicas_unavailable > 0",
    );
    let mut nodes = Problem::new(
        "nodes-not-ready",
        "Nodes not ready",
        r#"kube_node_status_condition{condition="Ready",status!="true"} == 1"#,
    );
    let mut jobs = Problem::new(
        "jobs-failed",
        "Failed jobs",
        r#"kube_job_failed{condition="true"} == 1"#,
    );
    let mut pvcs = Problem::new(
        "pvcs-pending",
        "Pending volume claims",
        r#"kube_persistentvolumeclaim_status_phase{phase="Pending"} == 1"#,
    );

    for s in snap.resource("pods") {
        let phase = s.family_index("kube_pod_status_phase");
        let reason = s.family_index("kube_pod_status_reason");
        let ready = s.family_index("kube_pod_status_ready");
        let waiting = s.family_index("kube_pod_container_status_waiting_reason");
        let restarts = s.family_index("kube_pod_container_status_restarts_total");
        not_running.available |= phase.is_some();
        not_ready.available |= ready.is_some() && phase.is_some();
        crashloop.available |= waiting.is_some();
        for (_, o) in s.view.objects() {
            let id = Identity::of(o.identity());
            let ph = values(&o, phase)
                .find(|(_, v)| *v == 1.0)
                .and_then(|(r, _)| label(r, "phase"))
                .map(|p| p.unescape().into_owned());
            if let Some(p) = &ph {
                *st.pods_by_phase.entry(p.clone()).or_default() += 1;
            }
            let why = values(&o, reason)
                .find(|(_, v)| *v == 1.0)
                .and_then(|(r, _)| label(r, "reason"))
                .map(|r| r.unescape().into_owned());
            let mut first_wait = None;
            for (r, v) in values(&o, waiting) {
                if v != 1.0 {
                    continue;
                }
                let reason = label(r, "reason").map(|r| r.unescape().into_owned());
                if reason.as_deref() == Some("CrashLoopBackOff") {
                    let c = label(r, "container").map(|c| c.unescape().into_owned());
                    crashloop.add(
                        "pods",
                        &id,
                        format!("container {}", c.unwrap_or_default()),
                        "CrashLoopBackOff",
                    );
                }
                first_wait = first_wait.or(reason);
            }
            match ph.as_deref() {
                Some(p @ ("Pending" | "Failed" | "Unknown")) => {
                    let r = why
                        .clone()
                        .or(first_wait.clone())
                        .unwrap_or_else(|| p.to_string());
                    let detail = if r == p {
                        p.to_string()
                    } else {
                        format!("{p}: {r}")
                    };
                    not_running.add("pods", &id, detail, &r);
                }
                Some("Running") => {
                    let is_ready = values(&o, ready)
                        .find(|(r, _)| label(r, "condition").is_some_and(|c| c.is("true")))
                        .map(|(_, v)| v == 1.0);
                    if is_ready == Some(false) {
                        let r = first_wait.clone().unwrap_or_else(|| "NotReady".to_string());
                        not_ready.add("pods", &id, r.clone(), &r);
                    }
                }
                _ => {}
            }
            st.restarts += values(&o, restarts).map(|(_, v)| v).sum::<f64>();
        }
    }

    for (resource, kind, want, have) in [
        (
            "deployments",
            "Deployment",
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_available",
        ),
        (
            "statefulsets",
            "StatefulSet",
            "kube_statefulset_replicas",
            "kube_statefulset_status_replicas_ready",
        ),
        (
            "daemonsets",
            "DaemonSet",
            "kube_daemonset_status_desired_number_scheduled",
            "kube_daemonset_status_number_available",
        ),
    ] {
        for s in snap.resource(resource) {
            let (w, h) = (s.family_index(want), s.family_index(have));
            missing.available |= w.is_some() && h.is_some();
            for (_, o) in s.view.objects() {
                let (Some(w), Some(h)) = (scalar(&o, w), scalar(&o, h)) else {
                    continue;
                };
                if w > h {
                    st.missing_replicas += w - h;
                    missing.add(
                        resource,
                        &Identity::of(o.identity()),
                        format!("{h} of {w} available"),
                        kind,
                    );
                }
            }
        }
    }

    for s in snap.resource("nodes") {
        let cond = s.family_index("kube_node_status_condition");
        nodes.available |= cond.is_some();
        for (_, o) in s.view.objects() {
            let status = values(&o, cond)
                .filter(|(_, v)| *v == 1.0)
                .find(|(r, _)| label(r, "condition").is_some_and(|c| c.is("Ready")))
                .and_then(|(r, _)| label(r, "status"))
                .map(|s| s.unescape().into_owned());
            if let Some(status) = status.filter(|s| s != "true") {
                st.nodes_not_ready += 1;
                let why = format!("Ready={status}");
                nodes.add("nodes", &Identity::of(o.identity()), why.clone(), &why);
            }
        }
    }

    for s in snap.resource("jobs") {
        let failed = s.family_index("kube_job_failed");
        jobs.available |= failed.is_some();
        for (_, o) in s.view.objects() {
            let hit = values(&o, failed)
                .find(|(r, v)| *v == 1.0 && label(r, "condition").is_some_and(|c| c.is("true")));
            if let Some((r, _)) = hit {
                let reason = label(r, "reason")
                    .map(|r| r.unescape().into_owned())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "Failed".to_string());
                jobs.add("jobs", &Identity::of(o.identity()), reason.clone(), &reason);
            }
        }
    }

    for s in snap.resource("persistentvolumeclaims") {
        let phase = s.family_index("kube_persistentvolumeclaim_status_phase");
        pvcs.available |= phase.is_some();
        for (_, o) in s.view.objects() {
            let pending = values(&o, phase)
                .any(|(r, v)| v == 1.0 && label(r, "phase").is_some_and(|p| p.is("Pending")));
            if pending {
                pvcs.add(
                    "persistentvolumeclaims",
                    &Identity::of(o.identity()),
                    "Pending".into(),
                    "Pending",
                );
            }
        }
    }

    st.problems = vec![
        not_running,
        not_ready,
        crashloop,
        missing,
        nodes,
        jobs,
        pvcs,
    ];
    for p in &mut st.problems {
        p.finish();
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn counts_and_problems_from_the_stores() {
        let w = testing::small();
        let st = compute(&w.snapshot(), series_of);
        let res: Vec<_> = st
            .resources
            .iter()
            .map(|r| (r.resource.as_str(), r.objects, r.series))
            .collect();
        // A pod here has 1 + 5 + 3 + (0 or 1) + 1 + 1 series.
        assert_eq!(
            res,
            vec![
                ("deployments", 2, 4),
                ("nodes", 2, 6),
                ("pods", 5, 57),
                ("replicasets", 1, 1)
            ]
        );
        let phases: Vec<_> = st
            .pods_by_phase
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            phases,
            vec![("Pending", 1), ("Running", 3), ("Succeeded", 1)]
        );
        assert_eq!(st.restarts, 9.0);
        assert_eq!(st.missing_replicas, 2.0);
        assert_eq!(st.nodes_not_ready, 1);
        let p = |id: &str| st.problems.iter().find(|p| p.id == id).expect(id);
        let nr = p("pods-not-running");
        assert_eq!((nr.count, nr.available), (1, true));
        assert_eq!(nr.by, vec![("ImagePullBackOff".to_string(), 1)]);
        assert_eq!(nr.items[0].detail, "Pending: ImagePullBackOff");
        let ready = p("pods-not-ready");
        assert_eq!(ready.count, 1);
        assert_eq!(ready.items[0].name, "web-2");
        let crash = p("containers-crashlooping");
        assert_eq!(crash.count, 1);
        assert_eq!(
            (
                crash.items[0].namespace.as_str(),
                crash.items[0].detail.as_str()
            ),
            ("a", "container app")
        );
        let missing = p("workloads-missing-replicas");
        assert_eq!(missing.count, 1);
        assert_eq!(missing.items[0].detail, "1 of 3 available");
        let nodes = p("nodes-not-ready");
        assert_eq!(nodes.items[0].name, "n2");
        assert_eq!(nodes.by, vec![("Ready=unknown".to_string(), 1)]);
        // Kinds the exporter does not watch: unknown, not zero.
        assert!(!p("jobs-failed").available);
        assert!(!p("pvcs-pending").available);
    }
}
