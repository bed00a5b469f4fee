//! Families of the `cronjobs` resource. The schedule is read with [`crate::cron`].

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::cronjob::CronJob;
use kubestate_objects::{Meta, Time};

use crate::common;
use crate::kind::{Api, Family, Kind, Out};
use kubestate_cron::{cronjob_spec, Schedule, ScheduleError};

impl Kind for CronJob {
    const RESOURCE: &'static str = "cronjobs";
    const KIND: &'static str = "CronJob";
    const API: Api = Api::ns("batch", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("cronjob", &self.metadata.name);
    }
}

/// The CronJob's schedule in its time zone, as KSM parses it.
fn schedule(c: &CronJob) -> Result<Schedule, ScheduleError> {
    Schedule::parse(&cronjob_spec(&c.spec.schedule, c.spec.time_zone.as_deref()))
}

/// One label-less sample of an optional time, in Unix seconds (even Go's zero time).
fn time(t: Option<Time>, out: &mut Out<'_>) {
    if let Some(t) = t {
        out.sample(&[], t.unix());
    }
}

/// `kube_cronjob_next_schedule_time`: the first activation after the last scheduled run, or
/// after creation if it never ran; nothing while suspended, for an unparseable schedule, or
/// when neither time is known.
fn next_schedule_time(c: &CronJob, out: &mut Out<'_>) {
    if c.spec.suspend == Some(true) {
        return;
    }
    let Ok(s) = schedule(c) else {
        return;
    };
    let from = c
        .status
        .last_schedule_time
        .filter(|t| !t.is_zero())
        .or(c.metadata.creation_timestamp.filter(|t| !t.is_zero()));
    if let Some(from) = from {
        out.sample(&[], s.next(from) as f64);
    }
}

const FAMILIES: &[Family<CronJob>] = &[
    Family::gauge(
        "kube_cronjob_annotations",
        Alpha,
        "CronJob annotations named by the annotations allowlist, as labels.",
        common::annotations::<CronJob>,
    ),
    Family::gauge(
        "kube_cronjob_labels",
        Stable,
        "CronJob labels named by the labels allowlist, as labels.",
        common::labels::<CronJob>,
    ),
    Family::gauge(
        "kube_cronjob_info",
        Stable,
        "One series per CronJob with its schedule, concurrency policy and time zone (\"local\" when unset).",
        |c, out| {
            let tz = c.spec.time_zone.as_deref().unwrap_or("local");
            out.sample(
                &[
                    ("schedule", &c.spec.schedule),
                    ("concurrency_policy", &c.spec.concurrency_policy),
                    ("timezone", tz),
                ],
                1.0,
            );
        },
    ),
    Family::gauge(
        "kube_cronjob_created",
        Stable,
        "When the CronJob was created, in Unix seconds.",
        common::created::<CronJob>,
    ),
    Family::gauge(
        "kube_cronjob_status_active",
        Stable,
        "Jobs of the CronJob currently running.",
        |c, out| out.sample(&[], c.status.active.len() as f64),
    ),
    Family::gauge(
        "kube_cronjob_status_last_schedule_time",
        Stable,
        "When a Job of the CronJob was last scheduled, in Unix seconds.",
        |c, out| time(c.status.last_schedule_time, out),
    ),
    Family::gauge(
        "kube_cronjob_status_last_successful_time",
        Stable,
        "When a Job of the CronJob last completed successfully, in Unix seconds.",
        |c, out| time(c.status.last_successful_time, out),
    ),
    Family::gauge(
        "kube_cronjob_spec_suspend",
        Stable,
        "1 when the CronJob is suspended, else 0.",
        |c, out| out.sample(&[], if c.spec.suspend == Some(true) { 1.0 } else { 0.0 }),
    ),
    Family::gauge(
        "kube_cronjob_spec_starting_deadline_seconds",
        Stable,
        "Seconds after a missed start time within which the Job may still start; absent when unset.",
        |c, out| common::value_if_set(c.spec.starting_deadline_seconds.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_cronjob_next_schedule_time",
        Stable,
        "When the CronJob is next due after its last scheduled run (or its creation), in Unix seconds; absent while suspended.",
        next_schedule_time,
    ),
    Family::gauge(
        "kube_cronjob_schedule_invalid",
        Alpha,
        "1 when the CronJob's schedule cannot be parsed in its time zone; absent otherwise.",
        |c, out| {
            if schedule(c).is_err() {
                out.sample(&[], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_cronjob_metadata_resource_version",
        Stable,
        "The CronJob's resourceVersion, as a number.",
        common::resource_version::<CronJob>,
    ),
    Family::gauge(
        "kube_cronjob_spec_successful_job_history_limit",
        Alpha,
        "Successful Jobs of the CronJob kept; absent when unset.",
        |c, out| common::value_if_set(c.spec.successful_jobs_history_limit.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_cronjob_spec_failed_job_history_limit",
        Alpha,
        "Failed Jobs of the CronJob kept; absent when unset.",
        |c, out| common::value_if_set(c.spec.failed_jobs_history_limit.map(|v| v as f64), out),
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"backup","namespace":"batch","resourceVersion":"349",
            "creationTimestamp":"2026-11-21T05:25:26Z","labels":{"app":"backup"}},
            "spec":{"schedule":"0 2 * * *","timeZone":"Europe/Berlin","concurrencyPolicy":"Forbid","suspend":false,
                "startingDeadlineSeconds":300,"successfulJobsHistoryLimit":3,"failedJobsHistoryLimit":1},
            "status":{"active":[{"kind":"Job","name":"backup-1"}],"lastScheduleTime":"2026-11-21T01:00:00Z",
                "lastSuccessfulTime":"2026-11-20T01:01:11Z"}}"#;
        assert_eq!(
            render("cronjobs", j, "cronjobs=[app]", ""),
            "kube_cronjob_labels{namespace=\"batch\",cronjob=\"backup\",label_app=\"backup\"} 1\n\
             kube_cronjob_info{namespace=\"batch\",cronjob=\"backup\",schedule=\"0 2 * * *\",concurrency_policy=\"Forbid\",timezone=\"Europe/Berlin\"} 1\n\
             kube_cronjob_created{namespace=\"batch\",cronjob=\"backup\"} 1.795238726e+09\n\
             kube_cronjob_status_active{namespace=\"batch\",cronjob=\"backup\"} 1\n\
             kube_cronjob_status_last_schedule_time{namespace=\"batch\",cronjob=\"backup\"} 1.7952228e+09\n\
             kube_cronjob_status_last_successful_time{namespace=\"batch\",cronjob=\"backup\"} 1.795136471e+09\n\
             kube_cronjob_spec_suspend{namespace=\"batch\",cronjob=\"backup\"} 0\n\
             kube_cronjob_spec_starting_deadline_seconds{namespace=\"batch\",cronjob=\"backup\"} 300\n\
             kube_cronjob_next_schedule_time{namespace=\"batch\",cronjob=\"backup\"} 1.7953092e+09\n\
             kube_cronjob_metadata_resource_version{namespace=\"batch\",cronjob=\"backup\"} 349\n\
             kube_cronjob_spec_successful_job_history_limit{namespace=\"batch\",cronjob=\"backup\"} 3\n\
             kube_cronjob_spec_failed_job_history_limit{namespace=\"batch\",cronjob=\"backup\"} 1\n"
        );
    }

    #[test]
    fn never_scheduled_counts_from_creation_in_local_time() {
        let j = r#"{"metadata":{"name":"hourly","namespace":"batch","creationTimestamp":"2026-11-21T05:25:26Z"},
            "spec":{"schedule":"@hourly"}}"#;
        assert_eq!(
            render("cronjobs", j, "", ""),
            "kube_cronjob_info{namespace=\"batch\",cronjob=\"hourly\",schedule=\"@hourly\",concurrency_policy=\"\",timezone=\"local\"} 1\n\
             kube_cronjob_created{namespace=\"batch\",cronjob=\"hourly\"} 1.795238726e+09\n\
             kube_cronjob_status_active{namespace=\"batch\",cronjob=\"hourly\"} 0\n\
             kube_cronjob_spec_suspend{namespace=\"batch\",cronjob=\"hourly\"} 0\n\
             kube_cronjob_next_schedule_time{namespace=\"batch\",cronjob=\"hourly\"} 1.7952408e+09\n"
        );
    }

    #[test]
    fn suspended_has_no_next_time() {
        let j = r#"{"metadata":{"name":"paused","namespace":"batch","creationTimestamp":"2026-11-21T05:25:26Z"},
            "spec":{"schedule":"*/10 * * * *","suspend":true},"status":{"lastScheduleTime":"2026-11-01T00:00:00Z"}}"#;
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_next_schedule_time"),
            ""
        );
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_spec_suspend"),
            "kube_cronjob_spec_suspend{namespace=\"batch\",cronjob=\"paused\"} 1\n"
        );
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_schedule_invalid"),
            ""
        );
    }

    #[test]
    fn invalid_schedules_are_flagged() {
        for (schedule, tz) in [
            ("@every 500ms", "null"),
            ("*/60 * * * *", "null"),
            ("0 2 * * *", "\"Mars/Olympus\""),
            ("0 2 * * *", "\"\""),
        ] {
            let j = format!(
                r#"{{"metadata":{{"name":"x","namespace":"b","creationTimestamp":"2026-11-21T05:25:26Z"}},
                "spec":{{"schedule":"{schedule}","timeZone":{tz}}}}}"#
            );
            assert_eq!(
                render_family("cronjobs", &j, "kube_cronjob_schedule_invalid"),
                "kube_cronjob_schedule_invalid{namespace=\"b\",cronjob=\"x\"} 1\n",
                "{schedule} {tz}"
            );
            assert_eq!(
                render_family("cronjobs", &j, "kube_cronjob_next_schedule_time"),
                ""
            );
        }
        // An empty time zone is still a time zone: the label shows it as is.
        let j = r#"{"metadata":{"name":"x","namespace":"b"},"spec":{"schedule":"0 2 * * *","timeZone":""}}"#;
        assert!(render_family("cronjobs", j, "kube_cronjob_info").contains(",timezone=\"\"} 1\n"));
    }

    #[test]
    fn unsatisfiable_schedule_reports_go_zero_time() {
        let j = r#"{"metadata":{"name":"never","namespace":"b","creationTimestamp":"2026-11-21T05:25:26Z"},
            "spec":{"schedule":"0 0 30 2 *"}}"#;
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_next_schedule_time"),
            "kube_cronjob_next_schedule_time{namespace=\"b\",cronjob=\"never\"} -6.21355968e+10\n"
        );
    }

    #[test]
    fn without_any_time_there_is_no_next_time() {
        let j = r#"{"metadata":{"name":"x","namespace":"b"},"spec":{"schedule":"0 2 * * *"}}"#;
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_next_schedule_time"),
            ""
        );
        assert_eq!(
            render_family("cronjobs", j, "kube_cronjob_schedule_invalid"),
            ""
        );
    }
}
