//! The overview: objects and series per resource, and the problems at a glance.
//!
//! [`Tally`] keeps what each stored object contributes (its series, a pod's phase and
//! restarts, a workload's missing replicas, the problems it shows) keyed by the object's
//! rendered entry ([`RenderedObject::entry_id`]), and the totals of those contributions. A
//! pass skips every store whose version did not change, and in a store that did it reads
//! only the objects whose entry is new, subtracting those that went: its cost follows what
//! changed, not the size of the cluster: the store names the objects changed since the
//! version the tally last read ([`TextStore::changed_between`]), and only when it cannot (a
//! relist, or more changes than it keeps) is the whole store walked to find them.
//! [`compute`] is the same pass from scratch.

use std::cmp::Ordering;
use std::collections::hash_map::Entry as Slot;
use std::collections::BTreeMap;
use std::sync::Arc;

use ahash::AHashMap;
use kubestate_store::{RenderedObject, TextStore, TextView};
use serde::{Serialize, Serializer};
use tracing::warn;

use crate::lines::{self, Labels};
use crate::snapshot::{Identity, Snapshot, StoreSnap};

/// Items kept per problem list (the count stays exact).
pub const MAX_ITEMS: usize = 1000;

/// One object behind a problem count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

impl Item {
    /// The order of problem lists.
    fn key(&self) -> (&str, &str, &str, &str) {
        (&self.namespace, &self.name, &self.detail, &self.resource)
    }
}

/// An item of a problem's ordered list.
#[derive(Clone, Debug)]
struct Listed(Arc<Item>);

impl PartialEq for Listed {
    fn eq(&self, other: &Listed) -> bool {
        self.0.key() == other.0.key()
    }
}

impl Eq for Listed {}

impl PartialOrd for Listed {
    fn partial_cmp(&self, other: &Listed) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Listed {
    fn cmp(&self, other: &Listed) -> Ordering {
        self.0.key().cmp(&other.0.key())
    }
}

/// One kind of problem with its count and the objects behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// The first [`MAX_ITEMS`] objects in (namespace, name, detail, resource) order.
    #[serde(serialize_with = "as_slice")]
    pub items: Arc<[Arc<Item>]>,
}

fn as_slice<S: Serializer>(items: &Arc<[Arc<Item>]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(|i| &**i))
}

/// Objects and series of one resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ResourceCount {
    /// Resource name.
    pub resource: String,
    /// Objects over the resource's stores.
    pub objects: u64,
    /// Series over the resource's stores.
    pub series: u64,
}

/// What one pass over the stores found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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

/// The problems in display order: id, title, query listing the same series.
const PROBLEMS: [(&str, &str, &str); 7] = [
    (
        "pods-not-running",
        "Pods not running",
        r#"kube_pod_status_phase{phase=~"Pending|Failed|Unknown"} == 1"#,
    ),
    (
        "pods-not-ready",
        "Running pods not ready",
        r#"kube_pod_status_ready{condition="true"} == 0"#,
    ),
    (
        "containers-crashlooping",
        "Crash-looping containers",
        r#"kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"} == 1"#,
    ),
    (
        "workloads-missing-replicas",
        "Workloads missing replicas",
        "kube_deployment_status_replicas_unavailable > 0",
    ),
    (
        "nodes-not-ready",
        "Nodes not ready",
        r#"kube_node_status_condition{condition="Ready",status!="true"} == 1"#,
    ),
    (
        "jobs-failed",
        "Failed jobs",
        r#"kube_job_failed{condition="true"} == 1"#,
    ),
    (
        "pvcs-pending",
        "Pending volume claims",
        r#"kube_persistentvolumeclaim_status_phase{phase="Pending"} == 1"#,
    ),
];
const NOT_RUNNING: usize = 0;
const NOT_READY: usize = 1;
const CRASHLOOP: usize = 2;
const MISSING: usize = 3;
const NODES: usize = 4;
const JOBS: usize = 5;
const PVCS: usize = 6;

/// Workload kinds with wanted and available replicas: resource, kind, wanted, available.
const WORKLOADS: [(&str, &str, &str, &str); 3] = [
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
];

/// What the overview reads from the objects of one store, by its resource (family
/// positions in the store).
#[derive(Clone, Copy, Debug)]
enum Kind {
    Pods {
        phase: Option<usize>,
        reason: Option<usize>,
        ready: Option<usize>,
        waiting: Option<usize>,
        restarts: Option<usize>,
    },
    Workload {
        resource: &'static str,
        kind: &'static str,
        want: Option<usize>,
        have: Option<usize>,
    },
    Nodes {
        cond: Option<usize>,
    },
    Jobs {
        failed: Option<usize>,
    },
    Pvcs {
        phase: Option<usize>,
    },
    /// Objects and series only.
    Other,
}

impl Kind {
    fn of(s: &StoreSnap) -> Kind {
        let f = |name| s.family_index(name);
        match &*s.resource {
            "pods" => Kind::Pods {
                phase: f("kube_pod_status_phase"),
                reason: f("kube_pod_status_reason"),
                ready: f("kube_pod_status_ready"),
                waiting: f("kube_pod_container_status_waiting_reason"),
                restarts: f("kube_pod_container_status_restarts_total"),
            },
            "nodes" => Kind::Nodes {
                cond: f("kube_node_status_condition"),
            },
            "jobs" => Kind::Jobs {
                failed: f("kube_job_failed"),
            },
            "persistentvolumeclaims" => Kind::Pvcs {
                phase: f("kube_persistentvolumeclaim_status_phase"),
            },
            r => WORKLOADS.iter().find(|w| w.0 == r).map_or(
                Kind::Other,
                |&(resource, kind, want, have)| Kind::Workload {
                    resource,
                    kind,
                    want: f(want),
                    have: f(have),
                },
            ),
        }
    }

    /// Marks the problems whose families this store serves.
    fn available(&self, a: &mut [bool; PROBLEMS.len()]) {
        match *self {
            Kind::Pods {
                phase,
                ready,
                waiting,
                ..
            } => {
                a[NOT_RUNNING] |= phase.is_some();
                a[NOT_READY] |= ready.is_some() && phase.is_some();
                a[CRASHLOOP] |= waiting.is_some();
            }
            Kind::Workload { want, have, .. } => a[MISSING] |= want.is_some() && have.is_some(),
            Kind::Nodes { cond } => a[NODES] |= cond.is_some(),
            Kind::Jobs { failed } => a[JOBS] |= failed.is_some(),
            Kind::Pvcs { phase } => a[PVCS] |= phase.is_some(),
            Kind::Other => {}
        }
    }
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

/// One problem an object shows.
#[derive(Debug)]
struct Found {
    problem: usize,
    item: Listed,
    reason: Box<str>,
}

/// What one object adds to the overview, as read from its lines.
#[derive(Debug, Default)]
struct Contribution {
    series: u64,
    /// A pod's phase.
    phase: Option<String>,
    /// A pod's restarts, or a workload's missing replicas.
    value: f64,
    found: Vec<Found>,
}

impl Contribution {
    fn found(
        &mut self,
        problem: usize,
        resource: &str,
        id: &Identity<'_>,
        detail: String,
        reason: &str,
    ) {
        let text =
            |r: Option<lines::Raw<'_>>| r.map(|v| v.unescape().into_owned()).unwrap_or_default();
        self.found.push(Found {
            problem,
            item: Listed(Arc::new(Item {
                resource: resource.to_string(),
                namespace: text(id.namespace),
                name: text(id.name),
                detail,
            })),
            reason: reason.into(),
        });
    }
}

/// Reads what object `o` of a store of `kind` contributes.
fn contribution(kind: &Kind, o: &RenderedObject<'_>) -> Contribution {
    let mut c = Contribution {
        series: o.line_count() as u64,
        ..Contribution::default()
    };
    match *kind {
        Kind::Pods {
            phase,
            reason,
            ready,
            waiting,
            restarts,
        } => {
            let id = Identity::of(o.identity());
            let ph = values(o, phase)
                .find(|(_, v)| *v == 1.0)
                .and_then(|(r, _)| label(r, "phase"))
                .map(|p| p.unescape().into_owned());
            let why = values(o, reason)
                .find(|(_, v)| *v == 1.0)
                .and_then(|(r, _)| label(r, "reason"))
                .map(|r| r.unescape().into_owned());
            let mut first_wait = None;
            for (r, v) in values(o, waiting) {
                if v != 1.0 {
                    continue;
                }
                let reason = label(r, "reason").map(|r| r.unescape().into_owned());
                if reason.as_deref() == Some("CrashLoopBackOff") {
                    let ctr = label(r, "container").map(|c| c.unescape().into_owned());
                    c.found(
                        CRASHLOOP,
                        "pods",
                        &id,
                        format!("container {}", ctr.unwrap_or_default()),
                        "CrashLoopBackOff",
                    );
                }
                first_wait = first_wait.or(reason);
            }
            match ph.as_deref() {
                Some(p @ ("Pending" | "Failed" | "Unknown")) => {
                    let r = why.or(first_wait).unwrap_or_else(|| p.to_string());
                    let detail = if r == p {
                        p.to_string()
                    } else {
                        format!("{p}: {r}")
                    };
                    c.found(NOT_RUNNING, "pods", &id, detail, &r);
                }
                Some("Running") => {
                    let is_ready = values(o, ready)
                        .find(|(r, _)| label(r, "condition").is_some_and(|c| c.is("true")))
                        .map(|(_, v)| v == 1.0);
                    if is_ready == Some(false) {
                        let r = first_wait.unwrap_or_else(|| "NotReady".to_string());
                        c.found(NOT_READY, "pods", &id, r.clone(), &r);
                    }
                }
                _ => {}
            }
            c.phase = ph;
            c.value = values(o, restarts).map(|(_, v)| v).sum::<f64>();
        }
        Kind::Workload {
            resource,
            kind,
            want,
            have,
        } => {
            if let (Some(w), Some(h)) = (scalar(o, want), scalar(o, have)) {
                if w > h {
                    c.value = w - h;
                    let id = Identity::of(o.identity());
                    c.found(
                        MISSING,
                        resource,
                        &id,
                        format!("{h} of {w} available"),
                        kind,
                    );
                }
            }
        }
        Kind::Nodes { cond } => {
            let status = values(o, cond)
                .filter(|(_, v)| *v == 1.0)
                .find(|(r, _)| label(r, "condition").is_some_and(|c| c.is("Ready")))
                .and_then(|(r, _)| label(r, "status"))
                .map(|s| s.unescape().into_owned());
            if let Some(status) = status.filter(|s| s != "true") {
                let why = format!("Ready={status}");
                c.found(
                    NODES,
                    "nodes",
                    &Identity::of(o.identity()),
                    why.clone(),
                    &why,
                );
            }
        }
        Kind::Jobs { failed } => {
            let hit = values(o, failed)
                .find(|(r, v)| *v == 1.0 && label(r, "condition").is_some_and(|c| c.is("true")));
            if let Some((r, _)) = hit {
                let reason = label(r, "reason")
                    .map(|r| r.unescape().into_owned())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "Failed".to_string());
                c.found(
                    JOBS,
                    "jobs",
                    &Identity::of(o.identity()),
                    reason.clone(),
                    &reason,
                );
            }
        }
        Kind::Pvcs { phase } => {
            let pending = values(o, phase)
                .any(|(r, v)| v == 1.0 && label(r, "phase").is_some_and(|p| p.is("Pending")));
            if pending {
                let id = Identity::of(o.identity());
                c.found(
                    PVCS,
                    "persistentvolumeclaims",
                    &id,
                    "Pending".into(),
                    "Pending",
                );
            }
        }
        Kind::Other => {}
    }
    c
}

/// A sum that gives the same total whatever the order values are added and subtracted in:
/// integral values are summed exactly (the counts and replica numbers summed here are), the
/// others as floats, and NaN and infinities are counted so that removing one restores a
/// finite total.
#[derive(Clone, Copy, Debug, Default)]
struct Sum {
    ints: i128,
    fracs: f64,
    frac_terms: u64,
    nans: u64,
    pos_inf: u64,
    neg_inf: u64,
}

/// Integral values below this magnitude are summed as integers.
const EXACT: f64 = 9_223_372_036_854_775_808.0; // 2^63

impl Sum {
    fn add(&mut self, v: f64, sign: i8) {
        let step = |n: &mut u64| {
            if sign > 0 {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
            }
        };
        if v == 0.0 {
        } else if v.is_nan() {
            step(&mut self.nans);
        } else if v == f64::INFINITY {
            step(&mut self.pos_inf);
        } else if v == f64::NEG_INFINITY {
            step(&mut self.neg_inf);
        } else if v.fract() == 0.0 && v.abs() < EXACT {
            self.ints += i128::from(sign) * v as i128;
        } else {
            step(&mut self.frac_terms);
            self.fracs += f64::from(sign) * v;
            if self.frac_terms == 0 {
                self.fracs = 0.0;
            }
        }
    }

    fn value(&self) -> f64 {
        if self.nans > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            f64::NAN
        } else if self.pos_inf > 0 {
            f64::INFINITY
        } else if self.neg_inf > 0 {
            f64::NEG_INFINITY
        } else {
            self.ints as f64 + self.fracs
        }
    }
}

/// What a [`Tally`] keeps of one object: 24 bytes, plus the problems it shows if any.
#[derive(Debug)]
struct Cached {
    value: f64,
    series: u32,
    /// 0 for none, else 1 + the phase's position in [`Tally::phases`].
    phase: u16,
    /// Whether the object was in the store's last scan (compared with the store's parity).
    seen: bool,
    /// Boxed: a thin pointer keeps the common case (no problem) at 24 bytes.
    #[allow(clippy::box_collection)]
    found: Option<Box<Vec<Found>>>,
}

const _: () = assert!(std::mem::size_of::<Cached>() == 24);

/// One problem's totals.
#[derive(Debug, Default)]
struct Totals {
    count: u64,
    reasons: BTreeMap<Box<str>, u64>,
    /// Every item, with how many objects show it.
    items: BTreeMap<Listed, u32>,
    /// The first [`MAX_ITEMS`], while they did not change.
    listed: Option<Arc<[Arc<Item>]>>,
}

impl Totals {
    fn add(&mut self, f: &Found) {
        self.count += 1;
        *self.reasons.entry(f.reason.clone()).or_default() += 1;
        self.touch(&f.item);
        *self.items.entry(f.item.clone()).or_default() += 1;
    }

    fn remove(&mut self, f: &Found) {
        self.count = self.count.saturating_sub(1);
        if let Some(n) = self.reasons.get_mut(&f.reason) {
            *n -= 1;
            if *n == 0 {
                self.reasons.remove(&f.reason);
            }
        }
        self.touch(&f.item);
        if let Some(n) = self.items.get_mut(&f.item) {
            *n -= 1;
            if *n == 0 {
                self.items.remove(&f.item);
            }
        }
    }

    /// Forgets the list if `item` is, or would be, among its first [`MAX_ITEMS`].
    fn touch(&mut self, item: &Listed) {
        if let Some(l) = &self.listed {
            let last = l.last().map(|i| i.key());
            if l.len() < MAX_ITEMS || last.is_none_or(|k| item.0.key() <= k) {
                self.listed = None;
            }
        }
    }

    fn listed(&mut self) -> Arc<[Arc<Item>]> {
        let items = &self.items;
        self.listed
            .get_or_insert_with(|| {
                items
                    .iter()
                    .flat_map(|(i, n)| std::iter::repeat_n(i, *n as usize))
                    .take(MAX_ITEMS)
                    .map(|i| i.0.clone())
                    .collect()
            })
            .clone()
    }

    fn by(&self) -> Vec<(String, u64)> {
        let mut by: Vec<_> = self
            .reasons
            .iter()
            .map(|(r, n)| (r.to_string(), *n))
            .collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        by
    }
}

/// The contributions of one store's objects as of one version of the store.
struct StoreCache {
    /// The store (held so that its address keeps telling it apart).
    store: Arc<TextStore>,
    resource: Arc<str>,
    kind: Kind,
    /// The version the cache was filled from: holding it keeps its entries alive, so the ids
    /// in `objects` stay unique until the next version has been compared with them.
    view: Option<TextView>,
    series: u64,
    /// Flipped at each scan; objects seen in the scan get it.
    parity: bool,
    objects: AHashMap<usize, Cached>,
}

/// The overview kept up to date from one pass to the next (see the module's doc).
#[derive(Default)]
pub struct Tally {
    stores: Vec<StoreCache>,
    /// Pod phases seen, with how many pods are in each now.
    phases: Vec<(Box<str>, u64)>,
    restarts: Sum,
    missing: Sum,
    problems: [Totals; PROBLEMS.len()],
    /// Objects read (new or changed entries) by the passes so far.
    read: u64,
    /// Stores walked whole (first seen, or their change list did not reach back) so far.
    walked: u64,
}

impl Tally {
    /// An empty tally: its first [`Tally::update`] reads every object.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Objects read (because their entry was new) by all passes so far.
    pub fn objects_read(&self) -> u64 {
        self.read
    }

    /// Stores walked whole by all passes so far: once per store when first seen, then only
    /// after a relist or when more changed than the store keeps a list of.
    pub fn stores_walked(&self) -> u64 {
        self.walked
    }

    /// Brings the tally to `snap` and returns the overview. Reads only the objects of
    /// changed stores whose entries it has not seen; stores gone from `snap` are removed.
    pub fn update(&mut self, snap: &Snapshot) -> State {
        let mut old = std::mem::take(&mut self.stores);
        let mut available = [false; PROBLEMS.len()];
        for s in &snap.stores {
            let mut c = match old.iter().position(|c| Arc::ptr_eq(&c.store, &s.store)) {
                Some(i) => old.swap_remove(i),
                None => StoreCache {
                    store: s.store.clone(),
                    resource: s.resource.clone(),
                    kind: Kind::of(s),
                    view: None,
                    series: 0,
                    parity: false,
                    objects: AHashMap::new(),
                },
            };
            c.kind.available(&mut available);
            if c.view.as_ref().map(TextView::generation) != Some(s.view.generation()) {
                self.scan(&mut c, &s.view);
            }
            self.stores.push(c);
        }
        for c in old {
            for cached in c.objects.values() {
                self.remove(&c.kind, cached);
            }
        }
        self.state(&available)
    }

    /// Compares `view` with the version `c` was filled from: through the store's list of
    /// changed objects when it still has one that reaches back to that version, else by
    /// walking the whole view.
    fn scan(&mut self, c: &mut StoreCache, view: &TextView) {
        // Held to the end: its entries stay alive while their ids are compared.
        let old = c.view.take();
        if let Some(old) = &old {
            if let Some(uids) = c.store.changed_between(old.generation(), view.generation()) {
                self.bring_forward(c, old, view, &uids);
                c.view = Some(view.clone());
                return;
            }
        }
        self.walk(c, view);
    }

    /// Re-reads the objects `uids` names (an object may be named more than once).
    fn bring_forward(
        &mut self,
        c: &mut StoreCache,
        old: &TextView,
        view: &TextView,
        uids: &[Arc<str>],
    ) {
        for uid in uids {
            let before = old.get(uid).map(|o| o.entry_id());
            let after = view.get(uid);
            if before == after.map(|o| o.entry_id()) {
                continue;
            }
            // Both views are held, so an id of either names one entry only.
            if let Some(cached) = before.and_then(|id| c.objects.remove(&id)) {
                c.series = c.series.saturating_sub(u64::from(cached.series));
                self.remove(&c.kind, &cached);
            }
            if let Some(o) = after {
                if let Slot::Vacant(e) = c.objects.entry(o.entry_id()) {
                    let got = contribution(&c.kind, &o);
                    self.read += 1;
                    c.series += got.series;
                    e.insert(self.add(&c.kind, got, c.parity));
                }
            }
        }
    }

    /// Compares every object of `view` with what `c` holds.
    fn walk(&mut self, c: &mut StoreCache, view: &TextView) {
        self.walked += 1;
        c.parity = !c.parity;
        let parity = c.parity;
        for (_, o) in view.objects() {
            match c.objects.entry(o.entry_id()) {
                Slot::Occupied(mut e) => e.get_mut().seen = parity,
                Slot::Vacant(e) => {
                    let got = contribution(&c.kind, &o);
                    self.read += 1;
                    c.series += got.series;
                    e.insert(self.add(&c.kind, got, parity));
                }
            }
        }
        // Entries of the previous version that are not in this one: deleted or replaced.
        if c.objects.len() > view.len() {
            let kind = c.kind;
            c.objects.retain(|_, cached| {
                if cached.seen == parity {
                    return true;
                }
                c.series = c.series.saturating_sub(u64::from(cached.series));
                self.remove(&kind, cached);
                false
            });
        }
        c.view = Some(view.clone());
    }

    fn sum(&mut self, kind: &Kind) -> Option<&mut Sum> {
        match kind {
            Kind::Pods { .. } => Some(&mut self.restarts),
            Kind::Workload { .. } => Some(&mut self.missing),
            _ => None,
        }
    }

    fn add(&mut self, kind: &Kind, got: Contribution, seen: bool) -> Cached {
        if let Some(sum) = self.sum(kind) {
            sum.add(got.value, 1);
        }
        let phase = got.phase.map_or(0, |p| self.phase(&p));
        if phase > 0 {
            self.phases[usize::from(phase) - 1].1 += 1;
        }
        for f in &got.found {
            self.problems[f.problem].add(f);
        }
        Cached {
            value: got.value,
            series: u32::try_from(got.series).unwrap_or(u32::MAX),
            phase,
            seen,
            found: (!got.found.is_empty()).then(|| Box::new(got.found)),
        }
    }

    fn remove(&mut self, kind: &Kind, cached: &Cached) {
        if let Some(sum) = self.sum(kind) {
            sum.add(cached.value, -1);
        }
        if cached.phase > 0 {
            let n = &mut self.phases[usize::from(cached.phase) - 1].1;
            *n = n.saturating_sub(1);
        }
        for f in cached.found.iter().flat_map(|f| f.iter()) {
            self.problems[f.problem].remove(f);
        }
    }

    /// 1 + the position of phase `p`, interned; 0 (not counted) past 65 535 distinct phases.
    fn phase(&mut self, p: &str) -> u16 {
        if let Some(i) = self.phases.iter().position(|(q, _)| &**q == p) {
            return u16::try_from(i + 1).unwrap_or(0);
        }
        match u16::try_from(self.phases.len() + 1) {
            Ok(i) if i < u16::MAX => {
                self.phases.push((p.into(), 0));
                i
            }
            _ => {
                warn!(
                    phase = p,
                    "too many distinct pod phases; not counting this one"
                );
                0
            }
        }
    }

    fn state(&mut self, available: &[bool; PROBLEMS.len()]) -> State {
        let mut per: BTreeMap<&str, ResourceCount> = BTreeMap::new();
        for c in &self.stores {
            let r = per.entry(&c.resource).or_insert_with(|| ResourceCount {
                resource: c.resource.to_string(),
                ..ResourceCount::default()
            });
            r.objects += c.view.as_ref().map_or(0, |v| v.len() as u64);
            r.series += c.series;
        }
        let problems = PROBLEMS
            .iter()
            .zip(&mut self.problems)
            .zip(available)
            .map(|((&(id, title, query), t), &available)| Problem {
                id,
                title,
                count: t.count,
                by: t.by(),
                query,
                available,
                items: t.listed(),
            })
            .collect();
        State {
            resources: per.into_values().collect(),
            problems,
            pods_by_phase: self
                .phases
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(p, n)| (p.to_string(), *n))
                .collect(),
            missing_replicas: self.missing.value(),
            restarts: self.restarts.value(),
            nodes_not_ready: self.problems[NODES].count,
        }
    }
}

/// The overview of `snap` from scratch (what a fresh [`Tally`] finds).
pub fn compute(snap: &Snapshot) -> State {
    Tally::new().update(snap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn counts_and_problems_from_the_stores() {
        let w = testing::small();
        let st = compute(&w.snapshot());
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

    /// Passes that re-read only changed objects give exactly what a pass from scratch gives,
    /// through adds, updates and deletes, a relist (every entry new) and a store going away,
    /// and read only what changed.
    #[test]
    fn incremental_passes_equal_full_recomputes_under_churn() {
        let mut w = testing::Churning::new(7, 300);
        let mut tally = Tally::new();
        let snap = w.world.snapshot();
        assert_eq!(tally.update(&snap), compute(&snap));
        // 300 pods, 6 deployments, 6 nodes.
        assert_eq!(tally.objects_read(), 312);
        assert_eq!(tally.update(&snap), compute(&snap));
        assert_eq!(
            tally.objects_read(),
            312,
            "an unchanged snapshot reads nothing"
        );
        let mut seen_problems = [0u64; PROBLEMS.len()];
        for round in 0..60 {
            let n = 1 + w.rng.below(25);
            w.step(n);
            if round == 20 {
                w.relist_pods();
            }
            if round == 40 {
                w.drop_z();
            }
            let snap = w.world.snapshot();
            let read = tally.objects_read();
            let inc = tally.update(&snap);
            assert_eq!(inc, compute(&snap), "round {round}");
            if round != 20 && round != 40 {
                assert!(tally.objects_read() - read <= n as u64, "round {round}");
            }
            for (seen, p) in seen_problems.iter_mut().zip(&inc.problems) {
                *seen = (*seen).max(p.count);
            }
        }
        // The churn made every problem the world can show.
        assert!(
            seen_problems[..=NODES].iter().all(|n| *n > 0),
            "{seen_problems:?}"
        );
    }

    /// Problem lists longer than [`MAX_ITEMS`] keep the first ones in order while items come
    /// and go on both sides of the cut.
    #[test]
    fn long_problem_lists_stay_the_first_items_in_order() {
        let mut w = testing::Churning::new(3, 2600);
        let mut tally = Tally::new();
        for round in 0..8 {
            w.step(200);
            let snap = w.world.snapshot();
            let inc = tally.update(&snap);
            assert_eq!(inc, compute(&snap), "round {round}");
            let p = &inc.problems[NOT_RUNNING];
            assert!(p.count > MAX_ITEMS as u64, "{}", p.count);
            assert_eq!(p.items.len(), MAX_ITEMS);
            assert!(p.items.windows(2).all(|w| w[0].key() <= w[1].key()));
        }
    }

    /// Sums come out the same whatever the order of adds and removals, infinities and NaN
    /// included.
    #[test]
    fn sums_do_not_drift() {
        let mut s = Sum::default();
        for v in [3.0, 0.1, f64::INFINITY, 1e300, -2.0, f64::NAN] {
            s.add(v, 1);
        }
        assert!(s.value().is_nan());
        s.add(f64::NAN, -1);
        assert_eq!(s.value(), f64::INFINITY);
        s.add(f64::NEG_INFINITY, 1);
        assert!(s.value().is_nan());
        for v in [f64::NEG_INFINITY, f64::INFINITY, 1e300, 0.1] {
            s.add(v, -1);
        }
        assert_eq!(s.value(), 1.0);
        s.add(0.25, 1);
        assert_eq!(s.value(), 1.25);
    }
}
