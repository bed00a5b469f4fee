//! Evaluating a [`Query`] over a [`Snapshot`], bounded in rows, groups and time.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::time::Instant;

use ahash::AHashMap;
use serde::Serialize;

use crate::lines::{self, Labels};
use crate::query::{AggOp, Grouping, Query};
use crate::snapshot::Snapshot;

/// Bounds of one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Series rows kept (a plain selector); more matches are counted, not kept.
    pub max_rows: usize,
    /// Groups kept (an aggregation); series of further groups are counted, not kept.
    pub max_groups: usize,
    /// Give up after this instant.
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_rows: 10_000,
            max_groups: 10_000,
            deadline: None,
        }
    }
}

/// One row of an answer: a series (with its family) or a group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The family, for series rows; `None` for groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Labels in written order (series) or grouping order (groups).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// The result of an evaluation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Answer {
    /// The rows, sorted by family then labels.
    pub rows: Vec<Row>,
    /// Series that matched the selector (and its filter).
    pub matched: u64,
    /// Series read.
    pub scanned: u64,
    /// Whether rows or groups were left out because of the limits.
    pub truncated: bool,
}

/// Why an evaluation stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeout {
    /// Series read before the deadline.
    pub scanned: u64,
}

#[derive(Clone, Copy)]
struct Acc {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            sum: 0.0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    fn add(&mut self, v: f64) {
        self.sum += v;
        self.count += 1;
        if v < self.min || self.min.is_nan() {
            self.min = v;
        }
        if v > self.max || self.max.is_nan() {
            self.max = v;
        }
    }

    fn result(&self, op: AggOp) -> f64 {
        match op {
            AggOp::Sum => self.sum,
            AggOp::Count => self.count as f64,
            AggOp::Min => self.min,
            AggOp::Max => self.max,
            AggOp::Avg => self.sum / self.count as f64,
        }
    }
}

/// Evaluates `q` over `snap` within `limits`.
///
/// # Errors
/// The deadline passed.
pub fn evaluate(q: &Query, snap: &Snapshot, limits: &Limits) -> Result<Answer, Timeout> {
    let sel = &q.selector;
    let matchers: Vec<_> = sel.label_matchers().collect();
    let mut answer = Answer::default();
    let mut groups: AHashMap<String, (Vec<(String, String)>, Acc)> = AHashMap::new();
    let mut key = String::new();
    let mut pairs: Vec<(&str, Cow<'_, str>)> = Vec::new();
    for store in &snap.stores {
        for (fi, fam) in store.families.iter().enumerate() {
            if !sel.admits_family(&fam.name) {
                continue;
            }
            for (_, obj) in store.view.objects() {
                let ident = obj.identity();
                for rest in obj.family(fi) {
                    answer.scanned += 1;
                    if answer.scanned % 4096 == 0
                        && limits.deadline.is_some_and(|d| Instant::now() > d)
                    {
                        return Err(Timeout {
                            scanned: answer.scanned,
                        });
                    }
                    let admitted = matchers.iter().all(|m| {
                        let v = lines::get(rest, ident, &m.name).map(|r| r.unescape());
                        m.matches(v.as_deref().unwrap_or(""))
                    });
                    if !admitted {
                        continue;
                    }
                    let Some(value) = lines::value(rest) else {
                        continue;
                    };
                    if sel.filter.is_some_and(|f| !f.admits(value)) {
                        continue;
                    }
                    answer.matched += 1;
                    let Some(agg) = &q.aggregation else {
                        if answer.rows.len() < limits.max_rows {
                            answer.rows.push(Row {
                                family: Some(fam.name.clone()),
                                labels: series_labels(ident, rest),
                                value,
                            });
                        } else {
                            answer.truncated = true;
                        }
                        continue;
                    };
                    // The group's key, built in a reused buffer: a new group allocates, a
                    // known one does not.
                    pairs.clear();
                    match &agg.grouping {
                        Grouping::By(names) => {
                            for n in names {
                                let v = lines::get(rest, ident, n).map(|r| r.unescape());
                                pairs.push((n.as_str(), v.unwrap_or(Cow::Borrowed(""))));
                            }
                        }
                        Grouping::Without(names) => {
                            for (k, v) in Labels::new(ident).chain(Labels::new(rest)) {
                                if !names.iter().any(|n| n == k) {
                                    pairs.retain(|(p, _)| *p != k);
                                    pairs.push((k, v.unescape()));
                                }
                            }
                            pairs.sort_by(|a, b| a.0.cmp(b.0));
                        }
                    }
                    key.clear();
                    for (k, v) in &pairs {
                        key.push_str(k);
                        key.push('\u{1}');
                        key.push_str(v);
                        key.push('\u{2}');
                    }
                    let full = groups.len() >= limits.max_groups;
                    match groups.get_mut(key.as_str()) {
                        Some((_, acc)) => acc.add(value),
                        None if !full => {
                            let labels = pairs
                                .iter()
                                .filter(|(_, v)| !v.is_empty())
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect();
                            let mut acc = Acc::new();
                            acc.add(value);
                            if let Entry::Vacant(e) = groups.entry(key.clone()) {
                                e.insert((labels, acc));
                            }
                        }
                        None => answer.truncated = true,
                    }
                }
            }
        }
    }
    if let Some(agg) = &q.aggregation {
        answer.rows = groups
            .into_values()
            .map(|(labels, acc)| Row {
                family: None,
                labels,
                value: acc.result(agg.op),
            })
            .filter(|r| agg.filter.is_none_or(|f| f.admits(r.value)))
            .collect();
    }
    answer.rows.sort_by(|a, b| {
        a.family
            .cmp(&b.family)
            .then_with(|| a.labels.cmp(&b.labels))
    });
    Ok(answer)
}

/// All labels of one series: identity first, then its own, unescaped.
pub fn series_labels(ident: &[u8], rest: &[u8]) -> Vec<(String, String)> {
    Labels::new(ident)
        .chain(Labels::new(rest))
        .map(|(k, v)| (k.to_string(), v.unescape().into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::{self, World};

    fn run(world: &World, q: &str) -> Answer {
        let q = Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        evaluate(&q, &world.snapshot(), &Limits::default()).expect("in time")
    }

    fn groups(a: &Answer) -> Vec<(String, f64)> {
        a.rows
            .iter()
            .map(|r| {
                let l: Vec<_> = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (l.join(","), r.value)
            })
            .collect()
    }

    #[test]
    fn selectors_match_labels_families_and_values() {
        let w = testing::small();
        let a = run(&w, r#"kube_pod_info{namespace="a"}"#);
        assert_eq!(a.rows.len(), 3);
        assert_eq!(a.matched, 3);
        assert_eq!(a.scanned, 5);
        assert_eq!(
            a.rows[0].labels,
            vec![
                ("namespace".to_string(), "a".to_string()),
                ("pod".to_string(), "job-1".to_string()),
                ("uid".to_string(), "uid-a-job-1".to_string()),
                ("node".to_string(), "n2".to_string()),
                ("host_ip".to_string(), "10.0.0.1".to_string()),
            ]
        );
        assert_eq!(a.rows[0].family.as_deref(), Some("kube_pod_info"));
        assert_eq!(run(&w, r#"kube_pod_info{pod=~"web-.*"}"#).rows.len(), 2);
        assert_eq!(
            run(&w, r#"kube_pod_info{pod!~"web-.*",node!="n1"}"#)
                .rows
                .len(),
            3
        );
        // Regexes are anchored.
        assert_eq!(run(&w, r#"kube_pod_info{pod=~"web"}"#).rows.len(), 0);
        // A missing label matches as "".
        assert_eq!(run(&w, r#"kube_pod_info{nolabel=""}"#).rows.len(), 5);
        assert_eq!(run(&w, r#"kube_pod_info{nolabel!=""}"#).rows.len(), 0);
        // Escaped values are compared unescaped, and come back unescaped.
        let a = run(&w, r#"kube_pod_info{pod="say \"hi\""}"#);
        assert_eq!(a.rows.len(), 1);
        assert!(a.rows[0]
            .labels
            .contains(&("pod".into(), "say \"hi\"".into())));
        // Value filters.
        let a = run(&w, r#"kube_pod_status_phase{phase="Running"} == 1"#);
        assert_eq!(a.rows.len(), 3);
        assert_eq!(
            run(&w, "kube_pod_container_status_restarts_total > 1")
                .rows
                .len(),
            2
        );
        assert_eq!(
            run(&w, "kube_pod_container_status_restarts_total <= 0")
                .rows
                .len(),
            3
        );
        // __name__ selects families by pattern.
        let a = run(&w, r#"{__name__=~"kube_deployment_.*",namespace="a"}"#);
        assert_eq!(a.rows.len(), 2);
        assert_eq!(run(&w, "kube_no_such_family").rows.len(), 0);
    }

    #[test]
    fn aggregations_group_and_combine() {
        let w = testing::small();
        let a = run(&w, "sum by (phase) (kube_pod_status_phase == 1)");
        assert_eq!(
            groups(&a),
            vec![
                ("phase=Pending".into(), 1.0),
                ("phase=Running".into(), 3.0),
                ("phase=Succeeded".into(), 1.0)
            ]
        );
        let a = run(&w, "count by (namespace) (kube_pod_info)");
        assert_eq!(
            groups(&a),
            vec![("namespace=a".into(), 3.0), ("namespace=b".into(), 2.0)]
        );
        let a = run(&w, "count(kube_pod_info) by (namespace) > 2");
        assert_eq!(groups(&a), vec![("namespace=a".into(), 3.0)]);
        let r = "kube_pod_container_status_restarts_total";
        assert_eq!(
            groups(&run(&w, &format!("sum({r})"))),
            vec![(String::new(), 9.0)]
        );
        assert_eq!(
            groups(&run(&w, &format!("max({r})"))),
            vec![(String::new(), 7.0)]
        );
        assert_eq!(
            groups(&run(&w, &format!("min({r})"))),
            vec![(String::new(), 0.0)]
        );
        assert_eq!(
            groups(&run(&w, &format!("avg({r})"))),
            vec![(String::new(), 1.8)]
        );
        let a = run(&w, &format!("max by (namespace, node) ({r})"));
        assert_eq!(
            groups(&a),
            vec![("namespace=a".into(), 7.0), ("namespace=b".into(), 2.0)]
        );
        // Empty label values are dropped from the group's labels, as in Prometheus.
        // `without` keeps every other label (the family name is never one).
        let a = run(&w, "sum without (uid, pod, host_ip) (kube_pod_info)");
        assert_eq!(
            groups(&a),
            vec![
                ("namespace=a,node=n1".into(), 2.0),
                ("namespace=a,node=n2".into(), 1.0),
                ("namespace=b,node=n2".into(), 2.0)
            ]
        );
        // Empty selection: no groups.
        assert!(run(&w, "sum(kube_pod_info{namespace=\"zzz\"})")
            .rows
            .is_empty());
    }

    #[test]
    fn limits_cap_rows_groups_and_time() {
        let w = testing::small();
        let snap = w.snapshot();
        let q = Query::parse("kube_pod_status_phase").unwrap();
        let capped = Limits {
            max_rows: 4,
            max_groups: 2,
            deadline: None,
        };
        let a = evaluate(&q, &snap, &capped).unwrap();
        assert_eq!((a.rows.len(), a.matched, a.truncated), (4, 25, true));
        let q = Query::parse("count by (pod) (kube_pod_info)").unwrap();
        let a = evaluate(&q, &snap, &capped).unwrap();
        assert_eq!((a.rows.len(), a.matched, a.truncated), (2, 5, true));
        // A deadline already past stops a scan of more than 4096 series.
        let big = World::new();
        let s = big.store("pods", testing::POD_FAMILIES);
        for i in 0..1000 {
            let n = format!("p{i}");
            let p = testing::Pod {
                ns: "x",
                name: &n,
                node: "n",
                phase: "Running",
                ready: true,
                waiting: None,
                restarts: 0.0,
                rs: None,
            };
            s.apply(&n, &testing::pod(&p));
        }
        let past = Limits {
            deadline: Some(Instant::now() - Duration::from_millis(1)),
            ..Limits::default()
        };
        let q = Query::parse("kube_pod_status_phase").unwrap();
        let e = evaluate(&q, &big.snapshot(), &past).unwrap_err();
        assert_eq!(e.scanned, 4096);
        assert_eq!(
            evaluate(&q, &big.snapshot(), &Limits::default())
                .unwrap()
                .matched,
            5000
        );
    }
}
