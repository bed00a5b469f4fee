//! A synthesized world loaded into a real API server: a control plane (etcd + kube-apiserver
//! from `kubestate-testkit`) started on free loopback ports, and every object of a preset
//! created through the API with bounded concurrency, statuses through the status subresource.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context as _;
use futures::stream::{self, StreamExt as _};
use kubestate_testkit::control_plane::{
    creatable, without_addresses, ApiError, Binaries, ControlPlane, Options,
};
use serde_json::Value;

/// Admission plugins switched off, so that the objects are stored as synthesized: no
/// ServiceAccount, priority or runtime class checks or defaults (there is no controller
/// manager to create service accounts), no quota or limit enforcement against the world's own
/// quotas, no Pod Security enforcement from namespace labels, no added tolerations.
pub const DISABLED_ADMISSION: &str = "ServiceAccount,Priority,RuntimeClass,ResourceQuota,LimitRanger,PodSecurity,DefaultTolerationSeconds,DefaultStorageClass,StorageObjectInUseProtection";

/// Creation phase of a kind: namespaces before what lives in them, quotas and admission
/// configuration after everything else so they cannot refuse or intercept it.
pub fn phase(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "ServiceAccount" | "CustomResourceDefinition" => 1,
        "ResourceQuota" | "LimitRange" => 3,
        k if k.contains("Webhook") || k.contains("AdmissionPolicy") => 4,
        _ => 2,
    }
}

/// `obj` ready to be created: no server-set fields, and no Job selector or controller-uid
/// labels (the server sets its own for a new Job).
pub fn prepare(obj: &Value) -> Value {
    let mut c = creatable(obj);
    if obj["kind"] == "Job" {
        if let Some(spec) = c["spec"].as_object_mut() {
            spec.remove("selector");
        }
        if let Some(l) = c["spec"]["template"]["metadata"]["labels"].as_object_mut() {
            l.remove("controller-uid");
            l.remove("batch.kubernetes.io/controller-uid");
        }
    }
    c
}

/// What loading did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Kind → objects created.
    pub created: BTreeMap<String, usize>,
    /// Objects that already existed (built-in namespaces, roles…).
    pub existing: usize,
    /// Statuses written.
    pub statuses: usize,
    /// Objects or statuses refused, with why (the first 20; `refused_total` counts all).
    pub refused: Vec<String>,
    /// Every refusal.
    pub refused_total: usize,
    /// Seconds the load took.
    pub seconds: f64,
}

impl LoadReport {
    /// One line: what was created, how long it took, what was refused.
    pub fn summary(&self) -> String {
        let kinds: Vec<String> = self
            .created
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!(
            "{} objects created in {:.0} s ({}), {} statuses written, {} already there, {} refused{}",
            self.created.values().sum::<usize>(),
            self.seconds,
            kinds.join(", "),
            self.statuses,
            self.existing,
            self.refused_total,
            if self.refused.is_empty() {
                String::new()
            } else {
                format!(" (first: {})", self.refused[0])
            }
        )
    }
}

enum Outcome {
    Created { kind: String, status: bool },
    Existing,
    Refused(String),
}

async fn create_one(cp: &ControlPlane, obj: &Value) -> Vec<Outcome> {
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let id = format!(
        "{kind} {}/{}",
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap_or("")
    );
    let body = prepare(obj);
    let mut created = cp.create(&body).await;
    if kind == "Service" && matches!(&created, Err(e) if e.code == 422) {
        created = cp.create(&without_addresses(&body)).await;
    }
    match created {
        Ok(mut c) => {
            let status = &obj["status"];
            if status.as_object().is_none_or(|s| s.is_empty()) {
                return vec![Outcome::Created {
                    kind,
                    status: false,
                }];
            }
            c["status"] = status.clone();
            match cp.update_status(&c).await {
                Ok(_) => vec![Outcome::Created { kind, status: true }],
                Err(e) if e.reason == "NoStatus" => vec![Outcome::Created {
                    kind,
                    status: false,
                }],
                Err(e) => vec![
                    Outcome::Created {
                        kind,
                        status: false,
                    },
                    Outcome::Refused(format!("status of {id}: {e}")),
                ],
            }
        }
        Err(ApiError { code: 409, .. }) => vec![Outcome::Existing],
        Err(e) => vec![Outcome::Refused(format!("{id}: {e}"))],
    }
}

/// Creates `objects` in `cp`, phase by phase, at most `concurrency` requests at a time.
pub async fn load(cp: &ControlPlane, objects: &[Value], concurrency: usize) -> LoadReport {
    let t0 = Instant::now();
    let mut report = LoadReport::default();
    let mut phases: BTreeMap<u8, Vec<&Value>> = BTreeMap::new();
    for o in objects {
        phases
            .entry(phase(o["kind"].as_str().unwrap_or_default()))
            .or_default()
            .push(o);
    }
    for (ph, objs) in phases {
        let n = objs.len();
        let mut outcomes = stream::iter(objs)
            .map(|o| create_one(cp, o))
            .buffer_unordered(concurrency.max(1));
        let mut done = 0usize;
        let mut last = Instant::now();
        while let Some(v) = outcomes.next().await {
            done += 1;
            for o in v {
                match o {
                    Outcome::Created { kind, status } => {
                        *report.created.entry(kind).or_default() += 1;
                        report.statuses += usize::from(status);
                    }
                    Outcome::Existing => report.existing += 1,
                    Outcome::Refused(why) => {
                        report.refused_total += 1;
                        if report.refused.len() < 20 {
                            report.refused.push(why);
                        }
                    }
                }
            }
            if last.elapsed().as_secs() >= 10 {
                last = Instant::now();
                eprintln!(
                    "  loading phase {ph}: {done}/{n} objects, {:.0} s",
                    t0.elapsed().as_secs_f64()
                );
            }
        }
    }
    report.seconds = t0.elapsed().as_secs_f64();
    report
}

/// The objects of a synthesized preset (seed 1), as the simulator serves them.
pub fn preset_objects(preset: &str) -> anyhow::Result<Vec<Value>> {
    let dir = std::env::temp_dir();
    let w = crate::world::SimWorld::start(preset, &dir, &format!("load-{}", std::process::id()))?;
    let objects = w.snapshot_values()?;
    w.stop();
    Ok(objects)
}

/// A control plane with a preset's world in it, and the runtime its client lives on.
pub struct LoadedControlPlane {
    /// Drops after the control plane (field order), so its client outlives it.
    cp: ControlPlane,
    runtime: tokio::runtime::Runtime,
    /// What loading did.
    pub report: LoadReport,
    /// Objects of the preset (as the simulator counts its world).
    pub objects: usize,
}

impl LoadedControlPlane {
    /// Starts etcd and kube-apiserver (the binaries of
    /// `../shared/tools/k8s-control-plane/build.sh`) and loads `preset` into them.
    pub fn start(preset: &str, concurrency: usize) -> anyhow::Result<LoadedControlPlane> {
        let bins = Binaries::find().with_context(|| {
            format!(
                "kube-apiserver and etcd not found; {}",
                kubestate_testkit::control_plane::BUILD_HINT
            )
        })?;
        let objects = preset_objects(preset)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("control-plane-client")
            .enable_all()
            .build()
            .context("starting a runtime")?;
        let opts = Options {
            apiserver_args: vec![format!("--disable-admission-plugins={DISABLED_ADMISSION}")],
            ..Options::default()
        };
        let cp = runtime
            .block_on(ControlPlane::start(bins, opts))
            .map_err(|e| anyhow::anyhow!("starting the control plane: {e}"))?;
        eprintln!(
            "control plane at {} ({}); creating {} objects of the {preset} preset, {concurrency} at a time",
            cp.url(),
            cp.dir().display(),
            objects.len()
        );
        let report = runtime.block_on(load(&cp, &objects, concurrency));
        eprintln!(
            "loaded in {:.0} s: {} created, {} existed, {} statuses, {} refused{}",
            report.seconds,
            report.created.values().sum::<usize>(),
            report.existing,
            report.statuses,
            report.refused_total,
            if report.refused.is_empty() {
                String::new()
            } else {
                format!(", e.g.:\n  {}", report.refused.join("\n  "))
            }
        );
        Ok(LoadedControlPlane {
            cp,
            runtime,
            report,
            objects: objects.len(),
        })
    }

    /// The admin kubeconfig.
    pub fn kubeconfig(&self) -> &std::path::Path {
        self.cp.kubeconfig()
    }

    /// Stops the control plane.
    pub fn stop(self) {
        let LoadedControlPlane { cp, runtime, .. } = self;
        drop(cp);
        drop(runtime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phases_put_namespaces_first_and_admission_last() {
        assert!(phase("Namespace") < phase("ServiceAccount"));
        assert!(phase("ServiceAccount") < phase("Pod"));
        assert!(phase("Pod") < phase("ResourceQuota"));
        assert!(phase("ResourceQuota") < phase("ValidatingWebhookConfiguration"));
        assert_eq!(phase("MutatingWebhookConfiguration"), 4);
        assert_eq!(phase("ValidatingAdmissionPolicyBinding"), 4);
    }

    #[test]
    fn jobs_lose_their_selector() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "uid": "u", "resourceVersion": "3"},
            "spec": {"selector": {"matchLabels": {"controller-uid": "u"}},
                     "template": {"metadata": {"labels": {"controller-uid": "u", "app": "a"}}}},
            "status": {"succeeded": 1}});
        let p = prepare(&job);
        assert!(p["spec"].get("selector").is_none());
        assert_eq!(
            p["spec"]["template"]["metadata"]["labels"],
            json!({"app": "a"})
        );
        assert!(p.get("status").is_none() && p["metadata"].get("uid").is_none());
    }
}
