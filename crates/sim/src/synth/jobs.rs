//! CronJobs and Jobs (each job has one finished pod).

use rand::Rng;
use serde_json::{json, Value};

use super::pods::template_spec;
use super::{owner_ref, Ctr, Gen, PodState, Tmpl, T0};
use crate::object::rfc3339;
use crate::store::WorldError;

/// Emit `n_cron` cronjobs and `n_jobs` jobs; the first jobs belong to the cronjobs, the
/// rest are standalone backfills.
pub(super) fn cron_jobs_and_jobs(
    g: &mut Gen<'_>,
    namespaces: &[String],
    n_cron: usize,
    n_jobs: usize,
) -> Result<(), WorldError> {
    let mut cron_uids = Vec::new();
    for ci in 0..n_cron {
        let ns = namespaces[g.rng.gen_range(0..namespaces.len())].clone();
        let name = format!("nightly-{ci:04}");
        let mut meta = g.meta_aged(
            &name,
            Some(&ns),
            40 * 86_400,
            json!({"app.kubernetes.io/name": "nightly"}),
        );
        meta["generation"] = json!(1);
        let uid = meta["uid"].as_str().unwrap_or("").to_string();
        let schedule = format!(
            "{} {} * * *",
            g.rng.gen_range(0..60),
            g.rng.gen_range(0..24)
        );
        let mut spec = json!({"schedule": schedule, "concurrencyPolicy": "Forbid", "suspend": ci % 10 == 9,
            "jobTemplate": {"metadata": {}, "spec": {"backoffLimit": 2, "template": {"metadata": {}, "spec": {
                "containers": [{"name": "job", "image": "ghcr.io/acme/reports:4.1.0", "resources": {},
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "securityContext": {}, "schedulerName": "default-scheduler"}}}},
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1});
        if ci % 3 == 0 {
            spec["timeZone"] = json!("Europe/London");
        }
        g.emit(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec,
            "status": {"lastScheduleTime": rfc3339(T0 - 3600), "lastSuccessfulTime": rfc3339(T0 - 3400)}}))?;
        cron_uids.push((ns, name, uid));
    }
    for ji in 0..n_jobs {
        let (ns, name, owner) = match cron_uids.get(ji % cron_uids.len().max(1)) {
            Some((ns, cname, cuid)) if ji < n_cron * 2 => (
                ns.clone(),
                format!("{cname}-{}", 29_400_000 + ji as u64),
                Some(owner_ref("batch/v1", "CronJob", cname, cuid)),
            ),
            _ => (
                namespaces[g.rng.gen_range(0..namespaces.len())].clone(),
                format!("backfill-{ji:05}"),
                None,
            ),
        };
        job(g, &ns, &name, owner, ji)?;
    }
    Ok(())
}

pub(super) fn job(
    g: &mut Gen<'_>,
    ns: &str,
    name: &str,
    owner: Option<Value>,
    ji: usize,
) -> Result<(), WorldError> {
    let created = T0 - g.rng.gen_range(600..86_400 * 3);
    let mut meta = g.meta(name, Some(ns), created, json!({}));
    let uid = meta["uid"].as_str().unwrap_or("").to_string();
    let labels = json!({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
        "controller-uid": uid, "job-name": name});
    meta["labels"] = labels.clone();
    meta["generation"] = json!(1);
    if let Some(o) = &owner {
        meta["ownerReferences"] = o.clone();
    }
    let failed = ji % 9 == 4;
    let tmpl = Tmpl {
        labels: labels.clone(),
        containers: vec![Ctr {
            name: "job".into(),
            image: "ghcr.io/acme/reports:4.1.0".into(),
            cpu: "500m",
            mem: "1Gi",
            mem_limit: None,
            port: None,
        }],
        init: None,
        config_volume: None,
        pvc: None,
        node_selector: false,
        service_account: "default".into(),
        restart_policy: "Never",
    };
    let start = rfc3339(created);
    let end = rfc3339(created + 130);
    let status = if failed {
        json!({"conditions": [{"type": "FailureTarget", "status": "True", "lastProbeTime": end, "lastTransitionTime": end, "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
            {"type": "Failed", "status": "True", "lastProbeTime": end, "lastTransitionTime": end, "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}],
            "startTime": start, "failed": 1, "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0})
    } else {
        json!({"conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": end, "lastTransitionTime": end, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
            {"type": "Complete", "status": "True", "lastProbeTime": end, "lastTransitionTime": end, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}],
            "startTime": start, "completionTime": end, "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0})
    };
    g.emit(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
        "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 0, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
            "manualSelector": false, "template": {"metadata": {"labels": labels}, "spec": template_spec(&tmpl)},
            "completionMode": "NonIndexed", "suspend": false, "podReplacementPolicy": "TerminatingOrFailed"},
        "status": status}))?;
    let pname = format!("{name}-{}", g.suffix(5));
    let st = if failed {
        PodState::JobFailed
    } else {
        PodState::Succeeded
    };
    g.pod(
        ns,
        &pname,
        Some(&format!("{name}-")),
        Some(owner_ref("batch/v1", "Job", name, &uid)),
        &tmpl,
        &[],
        st,
        created + 1,
        None,
    )?;
    Ok(())
}
