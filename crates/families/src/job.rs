//! Families of the `jobs` resource. Samples name the Job in a `job_name` label.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::job::Job;
use kubestate_objects::{Meta, Time};

use crate::common;
use crate::conditions;
use crate::kind::{Api, Family, Kind, Out};

impl Kind for Job {
    const RESOURCE: &'static str = "jobs";
    const KIND: &'static str = "Job";
    const API: Api = Api::ns("batch", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("job_name", &self.metadata.name);
    }
}

/// The failure reasons `kube_job_status_failed` reports one by one.
const FAILURE_REASONS: [&str; 3] = ["BackoffLimitExceeded", "DeadlineExceeded", "Evicted"];

/// One label-less sample of an optional time, in Unix seconds (even Go's zero time).
fn time(t: Option<Time>, out: &mut Out<'_>) {
    if let Some(t) = t {
        out.sample(&[], t.unix());
    }
}

/// `kube_job_status_failed`: without failures a single unlabelled 0; otherwise, per
/// `Failed` condition, one 0/1 sample per known reason, plus a `reason=""` sample carrying
/// the failure count when no condition had a known reason.
fn status_failed(j: &Job, out: &mut Out<'_>) {
    let failed = j.status.failed;
    if failed == 0 {
        out.sample(&[], 0.0);
        return;
    }
    let mut known = false;
    for c in j.status.conditions.iter().filter(|c| &*c.type_ == "Failed") {
        for reason in FAILURE_REASONS {
            let hit = &*c.reason == reason;
            known |= hit;
            out.sample(&[("reason", reason)], if hit { 1.0 } else { 0.0 });
        }
    }
    if !known {
        out.sample(&[("reason", "")], failed as f64);
    }
}

/// The `condition`-labelled triple of every condition of type `type_`.
fn condition_triples(j: &Job, type_: &str, out: &mut Out<'_>) {
    for c in j.status.conditions.iter().filter(|c| &*c.type_ == type_) {
        conditions::triple(out, &[], "condition", &c.status);
    }
}

const FAMILIES: &[Family<Job>] = &[
    Family::gauge(
        "kube_job_annotations",
        Alpha,
        "Job annotations named by the annotations allowlist, as labels.",
        common::annotations::<Job>,
    ),
    Family::gauge(
        "kube_job_labels",
        Stable,
        "Job labels named by the labels allowlist, as labels.",
        common::labels::<Job>,
    ),
    Family::gauge("kube_job_info", Stable, "One series per Job.", |_, out| {
        out.sample(&[], 1.0)
    }),
    Family::gauge(
        "kube_job_created",
        Stable,
        "When the Job was created, in Unix seconds.",
        common::created::<Job>,
    ),
    Family::gauge(
        "kube_job_spec_parallelism",
        Stable,
        "Most pods the Job runs at once; absent when unset.",
        |j, out| common::value_if_set(j.spec.parallelism.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_job_spec_completions",
        Stable,
        "Successful pods the Job needs; absent when unset.",
        |j, out| common::value_if_set(j.spec.completions.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_job_spec_active_deadline_seconds",
        Stable,
        "Seconds after its start the Job may stay active; absent when unset.",
        |j, out| common::value_if_set(j.spec.active_deadline_seconds.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_job_status_succeeded",
        Stable,
        "Pods of the Job that succeeded.",
        |j, out| out.sample(&[], j.status.succeeded as f64),
    ),
    Family::gauge(
        "kube_job_status_failed",
        Stable,
        "Pods of the Job that failed, and why the Job failed.",
        status_failed,
    ),
    Family::gauge(
        "kube_job_status_active",
        Stable,
        "Pods of the Job that are running.",
        |j, out| out.sample(&[], j.status.active as f64),
    ),
    Family::gauge(
        "kube_job_status_ready",
        Alpha,
        "Ready pods of the Job (0 when not reported).",
        |j, out| out.sample(&[], j.status.ready.unwrap_or(0) as f64),
    ),
    Family::gauge(
        "kube_job_complete",
        Stable,
        "Status of the Job's Complete condition, as condition=true|false|unknown.",
        |j, out| condition_triples(j, "Complete", out),
    ),
    Family::gauge(
        "kube_job_failed",
        Stable,
        "Status of the Job's Failed condition, as condition=true|false|unknown.",
        |j, out| condition_triples(j, "Failed", out),
    ),
    Family::gauge(
        "kube_job_status_start_time",
        Stable,
        "When the Job started, in Unix seconds.",
        |j, out| time(j.status.start_time, out),
    ),
    Family::gauge(
        "kube_job_status_completion_time",
        Stable,
        "When the Job completed, in Unix seconds.",
        |j, out| time(j.status.completion_time, out),
    ),
    Family::gauge(
        "kube_job_status_suspended",
        Alpha,
        "One series per Suspended condition of the Job: 1 when it is True.",
        |j, out| {
            for c in j
                .status
                .conditions
                .iter()
                .filter(|c| &*c.type_ == "Suspended")
            {
                out.sample(&[], if &*c.status == "True" { 1.0 } else { 0.0 });
            }
        },
    ),
    Family::gauge(
        "kube_job_owner",
        Stable,
        "One series per owner of the Job, or one with empty owner labels.",
        common::owner::<Job>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    fn failed(status: &str) -> String {
        let j = format!(r#"{{"metadata":{{"name":"j","namespace":"b"}},"status":{status}}}"#);
        render_family("jobs", &j, "kube_job_status_failed")
    }

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"nightly-1","namespace":"batch","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"app":"backup"},
            "ownerReferences":[{"kind":"CronJob","name":"nightly","controller":true}]},
            "spec":{"parallelism":3,"completions":10,"activeDeadlineSeconds":7200},
            "status":{"succeeded":4,"active":3,"ready":2,"startTime":"2026-11-21T05:23:41Z",
                "conditions":[{"type":"Suspended","status":"False"}]}}"#;
        assert_eq!(
            render("jobs", j, "jobs=[app]", ""),
            "kube_job_labels{namespace=\"batch\",job_name=\"nightly-1\",label_app=\"backup\"} 1\n\
             kube_job_info{namespace=\"batch\",job_name=\"nightly-1\"} 1\n\
             kube_job_created{namespace=\"batch\",job_name=\"nightly-1\"} 1.79523862e+09\n\
             kube_job_spec_parallelism{namespace=\"batch\",job_name=\"nightly-1\"} 3\n\
             kube_job_spec_completions{namespace=\"batch\",job_name=\"nightly-1\"} 10\n\
             kube_job_spec_active_deadline_seconds{namespace=\"batch\",job_name=\"nightly-1\"} 7200\n\
             kube_job_status_succeeded{namespace=\"batch\",job_name=\"nightly-1\"} 4\n\
             kube_job_status_failed{namespace=\"batch\",job_name=\"nightly-1\"} 0\n\
             kube_job_status_active{namespace=\"batch\",job_name=\"nightly-1\"} 3\n\
             kube_job_status_ready{namespace=\"batch\",job_name=\"nightly-1\"} 2\n\
             kube_job_status_start_time{namespace=\"batch\",job_name=\"nightly-1\"} 1.795238621e+09\n\
             kube_job_status_suspended{namespace=\"batch\",job_name=\"nightly-1\"} 0\n\
             kube_job_owner{namespace=\"batch\",job_name=\"nightly-1\",owner_kind=\"CronJob\",owner_name=\"nightly\",owner_is_controller=\"true\"} 1\n"
        );
    }

    #[test]
    fn complete_job() {
        let j = r#"{"metadata":{"name":"done","namespace":"b"},
            "status":{"succeeded":1,"completionTime":"2026-11-21T05:25:00Z",
                "conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}}"#;
        assert_eq!(
            render_family("jobs", j, "kube_job_complete"),
            "kube_job_complete{namespace=\"b\",job_name=\"done\",condition=\"true\"} 1\n\
             kube_job_complete{namespace=\"b\",job_name=\"done\",condition=\"false\"} 0\n\
             kube_job_complete{namespace=\"b\",job_name=\"done\",condition=\"unknown\"} 0\n"
        );
        assert_eq!(render_family("jobs", j, "kube_job_failed"), "");
        assert_eq!(
            render_family("jobs", j, "kube_job_status_completion_time"),
            "kube_job_status_completion_time{namespace=\"b\",job_name=\"done\"} 1.7952387e+09\n"
        );
        // No status at all: ready reads 0, times and conditions are absent.
        let bare = r#"{"metadata":{"name":"fresh","namespace":"b"}}"#;
        assert_eq!(
            render_family("jobs", bare, "kube_job_status_ready"),
            "kube_job_status_ready{namespace=\"b\",job_name=\"fresh\"} 0\n"
        );
        assert_eq!(
            render_family("jobs", bare, "kube_job_status_start_time"),
            ""
        );
        assert_eq!(render_family("jobs", bare, "kube_job_spec_parallelism"), "");
    }

    #[test]
    fn failed_with_known_reason() {
        assert_eq!(
            failed(r#"{"failed":1,"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded"}]}"#),
            "kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"BackoffLimitExceeded\"} 0\n\
             kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"DeadlineExceeded\"} 1\n\
             kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"Evicted\"} 0\n"
        );
    }

    #[test]
    fn failed_with_unknown_reason_reports_the_count() {
        assert_eq!(
            failed(r#"{"failed":2,"conditions":[{"type":"Failed","status":"True","reason":"PodFailurePolicy"}]}"#),
            "kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"BackoffLimitExceeded\"} 0\n\
             kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"DeadlineExceeded\"} 0\n\
             kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"Evicted\"} 0\n\
             kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"\"} 2\n"
        );
        // Failures without any Failed condition.
        assert_eq!(
            failed(
                r#"{"failed":2,"conditions":[{"type":"FailureTarget","status":"True","reason":"BackoffLimitExceeded"}]}"#
            ),
            "kube_job_status_failed{namespace=\"b\",job_name=\"j\",reason=\"\"} 2\n"
        );
    }

    #[test]
    fn failed_condition_triple_and_two_failed_conditions() {
        let j = r#"{"metadata":{"name":"j","namespace":"b"},"status":{"failed":1,"conditions":[
            {"type":"Failed","status":"True","reason":"BackoffLimitExceeded"},
            {"type":"Failed","status":"Unknown","reason":"Other"}]}}"#;
        assert_eq!(
            render_family("jobs", j, "kube_job_failed"),
            "kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"true\"} 1\n\
             kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"false\"} 0\n\
             kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"unknown\"} 0\n\
             kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"true\"} 0\n\
             kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"false\"} 0\n\
             kube_job_failed{namespace=\"b\",job_name=\"j\",condition=\"unknown\"} 1\n"
        );
        assert_eq!(
            render_family("jobs", j, "kube_job_status_failed")
                .lines()
                .count(),
            6
        );
    }
}
