//! kubestate against a real kube-apiserver v1.36 and etcd (`kubestate_testkit::control_plane`):
//! each test starts its own control plane on free loopback ports, and the tests of this file
//! run one at a time.
//!
//! * differential: kubestate and the reference kube-state-metrics v2.20 on a world made of
//!   every conformance object, created through the API (statuses through the status
//!   subresource), all resources and `*=[*]` allowlists: the same samples in text and
//!   OpenMetrics, and again after churn made through the API;
//! * protocol: protobuf and JSON exporters agree; the initial sync uses a streaming watch-list
//!   (which ends on a bookmark) where the server offers it, 500-object pages where it does not
//!   (`--feature-gates=WatchList=false`); a relist after etcd compaction answers a resumed watch with 410;
//!   the API server restarted under a running exporter (it converges, nothing stale); a CRD
//!   created and deleted at run time with a custom-resource-state configuration, compared
//!   with kube-state-metrics at each step;
//! * `--auth-filter` against the real TokenReview and SubjectAccessReview APIs, with
//!   ServiceAccount tokens from the TokenRequest API.
//!
//! Each test prints SKIP and returns when the control-plane binaries (or kube-state-metrics,
//! or kubectl) are missing, and fails instead under `KUBESTATE_REQUIRE_TOOLS=1`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{all_flags, exporter_base_args, head, wait_for, ExporterProc};
use kubestate_testkit::control_plane::{
    creatable, without_addresses, ApiError, ControlPlane, Options,
};
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{free_port, kube_state_metrics, ChildGuard, TempDir};
use kubestate_testkit::{diff_families, families};
use serde_json::{json, Value};

const TEXT: &str = "text/plain;version=0.0.4";
const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0";
/// Longest wait for an exporter to reflect the world.
const SETTLE: Duration = Duration::from_secs(120);

/// The tests of this file run one at a time: each has a control plane, and two at once on two
/// cores would make every timing in them twice as loose.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The reference kube-state-metrics as a process on free ports, logging to a file.
struct Ksm {
    _child: ChildGuard,
    port: u16,
    dir: TempDir,
}

impl Ksm {
    fn start(bin: &Path, kubeconfig: &Path, args: &[String]) -> Ksm {
        let dir = TempDir::new("ksm").expect("temp dir");
        let log = std::fs::File::create(dir.path().join("ksm.log")).expect("ksm log");
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(["--host=127.0.0.1", &format!("--port={port}")])
            .args([
                "--telemetry-host=127.0.0.1",
                &format!("--telemetry-port={}", free_port()),
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start kube-state-metrics");
        Ksm {
            _child: ChildGuard(child),
            port,
            dir,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ksm.log")).unwrap_or_default()
    }
}

/// Scrapes `url` until two bodies a second apart agree family by family and `done` holds:
/// how a settled exporter is told from one still catching up (KSM has no readiness tied to
/// its sync).
async fn settled(url: &str, accept: &str, done: &dyn Fn(&str) -> bool) -> Result<String, String> {
    let start = Instant::now();
    let mut last: Option<BTreeMap<String, Vec<String>>> = None;
    let mut last_err = String::from("no scrape yet");
    while start.elapsed() < SETTLE {
        match get(url, &[("Accept", accept)], Duration::from_secs(30)).await {
            Ok(r) if r.status == 200 => {
                let body = r.text();
                let f = families(&body);
                let finished = done(&body);
                if finished && last.as_ref() == Some(&f) {
                    return Ok(body);
                }
                if !finished {
                    last_err = format!(
                        "the body never showed what the test waits for; last one:\n{}",
                        head(&body, 30)
                    );
                }
                last = Some(f);
            }
            Ok(r) => last_err = format!("status {}: {}", r.status, r.text()),
            Err(e) => last_err = e,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(format!(
        "{url} did not settle within {SETTLE:?}: {last_err}"
    ))
}

/// The value of the first sample of `name` whose labels include every `labels` pair.
fn value(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .find_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
}

/// The last `n` lines of a log.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Samples of `family` in `body`.
fn count(body: &str, family: &str) -> usize {
    body.lines()
        .filter(|l| l.strip_prefix(family).is_some_and(|r| r.starts_with('{')))
        .count()
}

async fn scrape(url: &str) -> String {
    scrape_with(url, TEXT).await
}

/// Compares kube-state-metrics and kubestate, once both settled with `done` true, in the
/// text format and in OpenMetrics. The API server renews its own lease every 10 s even in a
/// world that holds still, so the two bodies compared are scraped back to back, and a pair
/// that straddles such a renewal is taken again (up to 10 times). Returns the number of
/// samples compared.
async fn assert_same_as_ksm(
    ksm: &Ksm,
    ours: &ExporterProc,
    phase: &str,
    done: &dyn Fn(&str) -> bool,
) -> usize {
    let mut samples = 0;
    for accept in [TEXT, OPENMETRICS] {
        settled(&ksm.url(), accept, done)
            .await
            .unwrap_or_else(|e| panic!("{phase}: KSM: {e}\nKSM log:\n{}", tail(&ksm.log(), 40)));
        settled(&ours.metrics_url(""), accept, done)
            .await
            .unwrap_or_else(|e| panic!("{phase}: kubestate: {e}\nlog:\n{}", tail(&ours.log(), 40)));
        let mut attempt = 0;
        loop {
            let theirs = scrape_with(&ksm.url(), accept).await;
            let mine = scrape_with(&ours.metrics_url(""), accept).await;
            match diff_families(&theirs, &mine, |_| true) {
                None => {
                    samples = families(&mine).values().map(Vec::len).sum();
                    break;
                }
                Some(d) if attempt == 9 => panic!(
                    "{phase} ({accept}): kubestate differs from kube-state-metrics (- KSM, + kubestate):\n{}",
                    head(&d, 80)
                ),
                Some(_) => attempt += 1,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    samples
}

async fn scrape_with(url: &str, accept: &str) -> String {
    let r = get(url, &[("Accept", accept)], Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("scrape {url}: {e}"));
    assert_eq!(r.status, 200, "GET {url}: {}", r.text());
    r.text()
}

// ------------------------------------------------------------------------------ the world

/// Creation order: namespaces and service accounts before what uses them; quotas, limit
/// ranges and admission configuration last, so they cannot refuse the rest.
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "ServiceAccount" => 1,
        "ResourceQuota" | "LimitRange" => 3,
        k if k.contains("Webhook") || k.contains("AdmissionPolicy") => 4,
        _ => 2,
    }
}

/// `creatable(o)` plus what a captured object needs to be accepted again: a Job's selector and
/// controller-uid labels name the uid of the Job that was captured (the server sets new
/// ones), and an Ingress may not name its class twice (annotation and field) any more.
fn recreatable(o: &Value) -> Value {
    let mut c = creatable(o);
    match o["kind"].as_str() {
        Some("Job") => {
            if let Some(spec) = c["spec"].as_object_mut() {
                spec.remove("selector");
            }
            if let Some(l) = c["spec"]["template"]["metadata"]["labels"].as_object_mut() {
                l.remove("controller-uid");
                l.remove("batch.kubernetes.io/controller-uid");
            }
        }
        Some("Ingress") if !c["spec"]["ingressClassName"].is_null() => {
            if let Some(a) = c["metadata"]["annotations"].as_object_mut() {
                a.remove("kubernetes.io/ingress.class");
            }
        }
        _ => {}
    }
    c
}

/// The RuntimeClasses and PriorityClasses the world's pods name (admission refuses a pod
/// whose classes do not exist).
fn pod_prerequisites(objects: &[Value]) -> Vec<Value> {
    let mut runtime = BTreeMap::new();
    let mut priority = BTreeMap::new();
    for p in objects.iter().filter(|o| o["kind"] == "Pod") {
        if let Some(r) = p["spec"]["runtimeClassName"].as_str() {
            // A pod's overhead must be its RuntimeClass's.
            runtime.insert(r.to_string(), p["spec"]["overhead"].clone());
        }
        if let Some(c) = p["spec"]["priorityClassName"].as_str() {
            if !c.starts_with("system-") {
                priority.insert(c.to_string(), p["spec"]["priority"].as_i64().unwrap_or(0));
            }
        }
    }
    let runtime = runtime.into_iter().map(|(r, overhead)| {
        let mut rc = json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                            "metadata": {"name": r}, "handler": r});
        if !overhead.is_null() {
            rc["overhead"] = json!({"podFixed": overhead});
        }
        rc
    });
    let priority = priority.into_iter().map(|(c, v)| {
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
               "metadata": {"name": c}, "value": v})
    });
    runtime.chain(priority).collect()
}

/// What creating the conformance world did.
#[derive(Debug, Default)]
struct WorldReport {
    /// Kind → objects now in the cluster (created, or already there like built-in roles).
    present: BTreeMap<String, usize>,
    /// Objects or statuses the API server refused, with why.
    refused: Vec<String>,
}

/// Creates every object of every conformance world (first of each name), statuses through
/// the status subresource.
async fn create_conformance_world(cp: &ControlPlane) -> WorldReport {
    let mut seen = BTreeSet::new();
    let mut objects = Vec::new();
    for case in kubestate_testkit::cases() {
        for o in case.objects() {
            let key = (
                o["apiVersion"].to_string(),
                o["kind"].to_string(),
                o["metadata"]["namespace"].to_string(),
                o["metadata"]["name"].to_string(),
            );
            if seen.insert(key) {
                objects.push(o);
            }
        }
    }
    assert!(
        !objects.is_empty(),
        "no conformance objects found (../shared/conformance)"
    );
    objects.sort_by_key(|o| rank(o["kind"].as_str().unwrap_or_default()));
    let namespaces: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o["metadata"]["namespace"].as_str().map(str::to_string))
        .collect();
    let mut report = WorldReport::default();
    let mut namespaces_ready = false;
    for o in &objects {
        let kind = o["kind"].as_str().unwrap_or_default().to_string();
        if !namespaces_ready && rank(&kind) >= 2 {
            // Pods need their namespace's `default` ServiceAccount (no controller manager).
            for ns in &namespaces {
                if let Err(e) = cp.ensure_namespace(ns).await {
                    report.refused.push(format!("namespace {ns}: {e}"));
                }
            }
            for p in pod_prerequisites(&objects) {
                if let Err(e) = cp.create(&p).await {
                    report
                        .refused
                        .push(format!("{}: {e}", p["metadata"]["name"]));
                }
            }
            namespaces_ready = true;
        }
        let id = format!(
            "{kind} {}/{}",
            o["metadata"]["namespace"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        );
        let body = recreatable(o);
        let mut created = cp.create(&body).await;
        if kind == "Service" && matches!(&created, Err(e) if e.code == 422) {
            // A cluster IP or node port taken by a service of another world: let the server pick.
            let body = without_addresses(&body);
            created = cp.create(&body).await;
        }
        match created {
            Ok(mut c) => {
                *report.present.entry(kind.clone()).or_default() += 1;
                let status = &o["status"];
                if status.as_object().is_some_and(|s| !s.is_empty()) {
                    c["status"] = status.clone();
                    match cp.update_status(&c).await {
                        Ok(_) => {}
                        Err(e) if e.reason == "NoStatus" => {}
                        // Set below, by deleting the namespace.
                        Err(_) if kind == "Namespace" && status["phase"] == "Terminating" => {}
                        Err(e) => report.refused.push(format!("status of {id}: {e}")),
                    }
                }
            }
            Err(ApiError { code: 409, .. }) => *report.present.entry(kind).or_default() += 1,
            Err(e) => report.refused.push(format!("{id}: {e}")),
        }
    }
    // A namespace captured while terminating terminates here too (nothing finalizes it
    // until the controller manager runs).
    for ns in objects
        .iter()
        .filter(|o| o["kind"] == "Namespace" && o["status"]["phase"] == "Terminating")
    {
        let name = ns["metadata"]["name"].as_str().unwrap_or_default();
        if let Err(e) = cp.delete("v1", "Namespace", None, name).await {
            report
                .refused
                .push(format!("deleting namespace {name}: {e}"));
        }
    }
    let kinds: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o["kind"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<&String> = kinds
        .iter()
        .filter(|k| !report.present.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "kinds without a single object in the cluster: {missing:?}\nrefused:\n{}",
        report.refused.join("\n")
    );
    report
}

fn pod(ns: &str, name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels,
                     "annotations": {"churn.example.com/by": "real-apiserver-test"}},
        "spec": {"nodeName": "churn-node", "automountServiceAccountToken": false,
                 "containers": [{"name": "app", "image": "registry.example/app:1",
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    })
}

fn configmap(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns, "labels": {"bulk": "yes"}},
           "data": {"k": "v"}})
}

/// Creates, changes and deletes objects of several kinds through the API, ending with a
/// marker ConfigMap `churn-done-<round>`.
async fn churn(cp: &ControlPlane, round: usize) -> Result<(), ApiError> {
    let ns = "churn";
    cp.ensure_namespace(ns).await?;
    for i in 0..8 {
        let name = format!("p{round}-{i}");
        let created = cp
            .create(&pod(
                ns,
                &name,
                json!({"app": "churn", "round": round.to_string()}),
            ))
            .await?;
        if i % 2 == 0 {
            let mut c = created;
            c["status"] = json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": i,
                    "image": "registry.example/app:1", "imageID": "",
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]
            });
            cp.update_status(&c).await?;
        }
    }
    cp.create(&json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("d{round}"), "namespace": ns, "labels": {"app": "churn"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "churn"}},
                 "template": {"metadata": {"labels": {"app": "churn"}},
                              "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}}}
    }))
    .await?;
    cp.patch(
        "apps/v1",
        "Deployment",
        Some(ns),
        &format!("d{round}"),
        &json!({"spec": {"replicas": 5}, "metadata": {"labels": {"scaled": "yes"}}}),
    )
    .await?;
    cp.create(&json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("s{round}"), "namespace": ns},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "churn"}}}))
        .await?;
    // Changes and deletions of objects the world already had.
    let pods: Vec<Value> = cp
        .list("v1", "Pod")
        .await?
        .into_iter()
        .filter(|p| p["metadata"]["namespace"] != ns)
        .collect();
    for p in pods.iter().take(4) {
        let m = &p["metadata"];
        cp.patch(
            "v1",
            "Pod",
            m["namespace"].as_str(),
            m["name"].as_str().unwrap_or_default(),
            &json!({"metadata": {"labels": {"churned": round.to_string()}}}),
        )
        .await?;
    }
    for p in pods.iter().skip(4).take(3) {
        let m = &p["metadata"];
        cp.delete(
            "v1",
            "Pod",
            m["namespace"].as_str(),
            m["name"].as_str().unwrap_or_default(),
        )
        .await?;
    }
    let cms: Vec<Value> = cp
        .list("v1", "ConfigMap")
        .await?
        .into_iter()
        .filter(|c| c["metadata"]["namespace"] != "kube-system" && c["metadata"]["namespace"] != ns)
        .take(3)
        .collect();
    for c in &cms {
        let m = &c["metadata"];
        cp.delete(
            "v1",
            "ConfigMap",
            m["namespace"].as_str(),
            m["name"].as_str().unwrap_or_default(),
        )
        .await?;
    }
    if let Some(node) = cp.list("v1", "Node").await?.first() {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        let cordon = round % 2 == 0;
        cp.patch(
            "v1",
            "Node",
            None,
            name,
            &json!({"spec": {"unschedulable": cordon}}),
        )
        .await?;
    }
    cp.create(&configmap(ns, &format!("churn-done-{round}")))
        .await?;
    Ok(())
}

// ------------------------------------------------------------------------------ tests

/// Whether kube-controller-manager was built (SKIP line, or a failure under
/// `KUBESTATE_REQUIRE_TOOLS`, when not).
fn cp_has_controller_manager() -> bool {
    let built = kubestate_testkit::control_plane::Binaries::find()
        .is_some_and(|b| b.kube_controller_manager.is_some());
    if !built {
        kubestate_testkit::tools::skip(
            "kube-controller-manager (the churn round that runs it)",
            kubestate_testkit::control_plane::BUILD_HINT,
        );
    }
    built
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_samples_as_ksm_on_a_real_api_server_before_and_after_churn() {
    common::init();
    let _serial = SERIAL.lock().await;
    let Some(ksm_bin) = kube_state_metrics() else {
        return;
    };
    let Some(mut cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    let t0 = Instant::now();
    let report = create_conformance_world(&cp).await;
    let created: usize = report.present.values().sum();
    eprintln!(
        "world: {created} objects of {} kinds in {:?}; refused {}:\n{}",
        report.present.len(),
        t0.elapsed(),
        report.refused.len(),
        head(&report.refused.join("\n"), 30)
    );

    let kubeconfig = cp.kubeconfig().display().to_string();
    let ksm = Ksm::start(&ksm_bin, cp.kubeconfig(), &all_flags());
    let mut args = exporter_base_args(&kubeconfig);
    args.extend(all_flags());
    let ours = ExporterProc::spawn(args).await.expect("kubestate starts");
    ours.wait_ready(SETTLE).await.expect("kubestate ready");

    let pods = cp.list("v1", "Pod").await.expect("list pods").len();
    let has_world = move |b: &str| count(b, "kube_pod_info") == pods;
    let samples = assert_same_as_ksm(&ksm, &ours, "conformance world", &has_world).await;
    eprintln!("conformance world: {samples} samples identical in text and OpenMetrics");
    assert!(
        samples > 2000,
        "a world this size has thousands of samples, got {samples}"
    );

    for round in 1..=2 {
        churn(&cp, round).await.expect("churn through the API");
        if round == 2 {
            // The controller manager moves the world on its own (replica sets and pods for the
            // deployments, garbage collection of objects whose owners are gone, jobs for cron
            // jobs…); let it work, then stop it so the world holds still for the comparison.
            if cp_has_controller_manager() {
                cp.start_controller_manager()
                    .await
                    .expect("kube-controller-manager starts");
                tokio::time::sleep(Duration::from_secs(20)).await;
                cp.stop_controller_manager();
            }
        }
        let marker = format!("configmap=\"churn-done-{round}\"");
        let pods = cp.list("v1", "Pod").await.expect("list pods").len();
        let done = move |b: &str| b.contains(&marker) && count(b, "kube_pod_info") == pods;
        let samples = assert_same_as_ksm(&ksm, &ours, &format!("after churn {round}"), &done).await;
        eprintln!("after churn {round}: {samples} samples identical");
    }
}

/// Creates ConfigMaps `prefix-0 … prefix-(n-1)` in `ns`.
async fn create_configmaps(
    cp: &ControlPlane,
    ns: &str,
    prefix: &str,
    range: std::ops::Range<usize>,
) {
    for i in range {
        cp.create(&configmap(ns, &format!("{prefix}-{i}")))
            .await
            .unwrap_or_else(|e| panic!("create configmap {prefix}-{i}: {e}"));
    }
}

/// The names of the ConfigMaps in `body`'s `kube_configmap_info`.
fn configmap_names(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter(|l| l.starts_with("kube_configmap_info{"))
        .filter_map(|l| {
            let ns = l.split("namespace=\"").nth(1)?.split('"').next()?;
            let name = l.split("configmap=\"").nth(1)?.split('"').next()?;
            Some(format!("{ns}/{name}"))
        })
        .collect()
}

/// The ConfigMaps the API server has.
async fn api_configmap_names(cp: &ControlPlane) -> BTreeSet<String> {
    cp.list("v1", "ConfigMap")
        .await
        .expect("list configmaps")
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["metadata"]["namespace"].as_str().unwrap_or_default(),
                c["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Waits until `exporter` serves exactly the API server's ConfigMaps.
async fn converge_configmaps(cp: &ControlPlane, exporter: &ExporterProc, what: &str) {
    let want = api_configmap_names(cp).await;
    let url = exporter.metrics_url("");
    let start = Instant::now();
    loop {
        let have = configmap_names(&scrape(&url).await);
        if have == want {
            return;
        }
        if start.elapsed() > SETTLE {
            let stale: Vec<_> = have.difference(&want).take(10).collect();
            let missing: Vec<_> = want.difference(&have).take(10).collect();
            panic!(
                "{what}: not converged after {SETTLE:?}: stale {stale:?}, missing {missing:?}\nlog:\n{}",
                head(&exporter.log(), 60)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `kube_state_metrics_{list,watch}_total{resource="*v1.ConfigMap",result="success"}`.
async fn configmap_requests(exporter: &ExporterProc) -> (f64, f64) {
    let t = scrape(&exporter.telemetry_url("/metrics")).await;
    let of = |name| {
        value(
            &t,
            name,
            &[("resource", "*v1.ConfigMap"), ("result", "success")],
        )
    };
    (
        of("kube_state_metrics_list_total").unwrap_or(0.0),
        of("kube_state_metrics_watch_total").unwrap_or(0.0),
    )
}

/// Protobuf and JSON exporters on the default API server: the initial sync is a watch-list
/// (its initial events end on a bookmark), watch events reach both, and after the API server
/// restarts under them both converge to the same body as an exporter started afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_list_protobuf_and_an_api_server_restart() {
    common::init();
    let _serial = SERIAL.lock().await;
    let Some(mut cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    cp.ensure_namespace("bulk").await.expect("namespace");
    create_configmaps(&cp, "bulk", "cm", 0..1100).await;
    let kubeconfig = cp.kubeconfig().display().to_string();
    let flags = |content: &str| {
        let mut a = exporter_base_args(&kubeconfig);
        a.extend([
            "--resources=configmaps,namespaces,pods".to_string(),
            "--metric-labels-allowlist=configmaps=[*]".to_string(),
            format!("--api-content-type={content}"),
        ]);
        a
    };
    let proto = ExporterProc::spawn(flags("protobuf")).await.expect("start");
    let json_ = ExporterProc::spawn(flags("json")).await.expect("start");
    proto
        .wait_ready(SETTLE)
        .await
        .expect("protobuf exporter ready");
    json_.wait_ready(SETTLE).await.expect("JSON exporter ready");
    converge_configmaps(&cp, &proto, "protobuf, initial sync").await;
    converge_configmaps(&cp, &json_, "JSON, initial sync").await;

    // kube-apiserver 1.36 serves watch-list from its watch cache: no list request at all, and
    // the sync completed, so the bookmark that ends the initial events was understood.
    for (e, what) in [(&proto, "protobuf"), (&json_, "JSON")] {
        let (lists, watches) = configmap_requests(e).await;
        assert_eq!(lists, 0.0, "{what}: the initial sync used list requests");
        assert!(watches >= 1.0, "{what}: no successful watch counted");
    }
    let same = |a: &str, b: &str, what: &str| {
        if let Some(d) = diff_families(a, b, |_| true) {
            panic!(
                "{what}: protobuf (-) and JSON (+) exporters differ:\n{}",
                head(&d, 40)
            );
        }
    };
    same(
        &scrape(&proto.metrics_url("")).await,
        &scrape(&json_.metrics_url("")).await,
        "initial sync",
    );

    // Watch events: creates, label changes, deletes.
    let events_before = value(
        &scrape(&proto.telemetry_url("/metrics")).await,
        "kubestate_watch_events_total",
        &[("resource", "configmaps")],
    )
    .unwrap_or(0.0);
    create_configmaps(&cp, "bulk", "late", 0..5).await;
    for i in 0..5 {
        cp.patch(
            "v1",
            "ConfigMap",
            Some("bulk"),
            &format!("cm-{i}"),
            &json!({"metadata": {"labels": {"changed": "yes"}}}),
        )
        .await
        .expect("label a configmap");
        cp.delete("v1", "ConfigMap", Some("bulk"), &format!("cm-{}", 100 + i))
            .await
            .expect("delete a configmap");
    }
    converge_configmaps(&cp, &proto, "protobuf, after watch events").await;
    converge_configmaps(&cp, &json_, "JSON, after watch events").await;
    let labelled = |b: &str| {
        b.lines()
            .filter(|l| {
                l.starts_with("kube_configmap_labels{") && l.contains("label_changed=\"yes\"")
            })
            .count()
    };
    wait_for("the label changes", SETTLE, || async {
        labelled(&scrape(&proto.metrics_url("")).await) == 5
    })
    .await
    .expect("label changes arrive by watch");
    let events_after = value(
        &scrape(&proto.telemetry_url("/metrics")).await,
        "kubestate_watch_events_total",
        &[("resource", "configmaps")],
    )
    .unwrap_or(0.0);
    assert!(
        events_after - events_before >= 15.0,
        "15 changes should arrive as watch events ({events_before} → {events_after})"
    );
    let (lists, _) = configmap_requests(&proto).await;
    assert_eq!(lists, 0.0, "watch events must not cause a relist");

    // The API server goes away under both exporters and comes back; the world changes after.
    cp.stop_apiserver();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let took = cp.start_apiserver().await.expect("the API server restarts");
    eprintln!("API server ready again after {took:?}");
    create_configmaps(&cp, "bulk", "after-restart", 0..5).await;
    for i in 0..5 {
        cp.delete("v1", "ConfigMap", Some("bulk"), &format!("cm-{}", 200 + i))
            .await
            .expect("delete a configmap");
    }
    converge_configmaps(&cp, &proto, "protobuf, after the restart").await;
    converge_configmaps(&cp, &json_, "JSON, after the restart").await;
    let fresh = ExporterProc::spawn(flags("protobuf")).await.expect("start");
    fresh
        .wait_ready(SETTLE)
        .await
        .expect("fresh exporter ready");
    converge_configmaps(&cp, &fresh, "fresh exporter").await;
    let fresh_body = scrape(&fresh.metrics_url("")).await;
    for (e, what) in [(&proto, "protobuf"), (&json_, "JSON")] {
        let body = scrape(&e.metrics_url("")).await;
        if let Some(d) = diff_families(&fresh_body, &body, |_| true) {
            panic!(
                "{what} exporter after the restart differs from a fresh one (- fresh):\n{}",
                head(&d, 40)
            );
        }
        let ready = get(&e.telemetry_url("/readyz"), &[], Duration::from_secs(5))
            .await
            .expect("readyz");
        assert_eq!(ready.status, 200, "{what}: still ready after the restart");
    }
}

/// An API server without watch-list (feature gate `WatchList=false`): the initial sync falls
/// back to a paginated list. With the watch cache off, a watch resumed from a resourceVersion
/// that etcd compacted away gets `410 Gone`, and the exporter relists and converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_and_a_relist_after_etcd_compaction() {
    common::init();
    let _serial = SERIAL.lock().await;
    let opts = Options {
        // The API server's own compaction stays out of the way; the test compacts explicitly.
        etcd_compaction_interval: Some(Duration::from_secs(3600)),
        // No watch-list (the server then refuses `sendInitialEvents`), and watches served
        // straight from etcd, so a compacted resourceVersion is answered with 410.
        apiserver_args: vec![
            "--feature-gates=WatchList=false".into(),
            "--watch-cache=false".into(),
        ],
        ..Options::default()
    };
    let Some(mut cp) = ControlPlane::start_or_skip(opts).await else {
        return;
    };
    cp.ensure_namespace("bulk").await.expect("namespace");
    create_configmaps(&cp, "bulk", "cm", 0..1100).await;
    let total = api_configmap_names(&cp).await.len();
    let mut args = exporter_base_args(&cp.kubeconfig().display().to_string());
    args.push("--resources=configmaps".into());
    let exporter = ExporterProc::spawn(args).await.expect("start");
    exporter.wait_ready(SETTLE).await.expect("ready");
    converge_configmaps(&cp, &exporter, "initial sync").await;
    let pages = total.div_ceil(500) as f64;
    let (lists, _) = configmap_requests(&exporter).await;
    assert_eq!(lists, pages, "{total} ConfigMaps in 500-object pages");

    // Pause the exporter and restart the API server under it (its watch connection dies),
    // then change the world and compact etcd past the exporter's resourceVersion: once it runs
    // again, it must resume its watch from a compacted resourceVersion, having seen none of
    // the changes.
    let pid = exporter.pid().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    cp.restart_apiserver().await.expect("restart");
    for i in 0..50 {
        cp.delete("v1", "ConfigMap", Some("bulk"), &format!("cm-{i}"))
            .await
            .expect("delete");
    }
    create_configmaps(&cp, "bulk", "while-paused", 0..20).await;
    let rev = cp.compact_etcd().await.expect("compaction");
    eprintln!("etcd compacted to revision {rev}");
    signal("-CONT");

    converge_configmaps(&cp, &exporter, "after the 410").await;
    let (lists_after, _) = configmap_requests(&exporter).await;
    let total_after = api_configmap_names(&cp).await.len();
    assert_eq!(
        lists_after,
        pages + total_after.div_ceil(500) as f64,
        "exactly one relist after the 410; log:\n{}",
        tail(&exporter.log(), 40)
    );
    assert!(
        exporter
            .log()
            .contains("resourceVersion expired, relisting"),
        "the relist is logged:\n{}",
        head(&exporter.log(), 40)
    );
}

const WIDGET_CONFIG: &str = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
  - groupVersionKind: {group: example.com, version: v1, kind: Widget}
    metricNamePrefix: widget
    labelsFromPath:
      name: [metadata, name]
      namespace: [metadata, namespace]
    metrics:
    - name: replicas
      help: Desired replicas
      each: {type: Gauge, gauge: {path: [spec, replicas], nilIsZero: true}}
    - name: phase
      help: Phase
      each: {type: StateSet, stateSet: {path: [status, phase], labelName: phase, list: [Pending, Ready]}}
    - name: labels
      help: Object labels
      each: {type: Info, info: {labelsFromPath: {"label_*": [metadata, labels]}}}
"#;

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object",
                    "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    })
}

fn widget(name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": name, "namespace": "default", "labels": {"tier": "gold"}},
           "spec": {"replicas": replicas}})
}

/// A CRD created, used and deleted while kubestate and kube-state-metrics run with the same
/// custom-resource-state configuration: the same samples at every step, the families appear
/// and disappear, and the CRD discovery counters say what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resource_definition_created_and_deleted_at_run_time() {
    common::init();
    let _serial = SERIAL.lock().await;
    let Some(ksm_bin) = kube_state_metrics() else {
        return;
    };
    let Some(cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    let dir = TempDir::new("crd").expect("temp dir");
    let config = dir.path().join("custom-resources.yaml");
    std::fs::write(&config, WIDGET_CONFIG).expect("write config");
    let flags = vec![
        "--resources=namespaces".to_string(),
        format!("--custom-resource-state-config-file={}", config.display()),
    ];
    let ksm = Ksm::start(&ksm_bin, cp.kubeconfig(), &flags);
    let mut args = exporter_base_args(&cp.kubeconfig().display().to_string());
    args.extend(flags);
    let ours = ExporterProc::spawn(args).await.expect("start");
    ours.wait_ready(SETTLE)
        .await
        .expect("ready without the CRD");
    let no_widgets = |b: &str| b.contains("kube_namespace_created{") && !b.contains("widget_");
    assert_same_as_ksm(&ksm, &ours, "before the CRD", &no_widgets).await;

    cp.create(&widget_crd()).await.expect("create the CRD");
    wait_for("the CRD to be established", SETTLE, || async {
        cp.api(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
            None,
        )
        .await
        .is_ok_and(|c| {
            c["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
    })
    .await
    .expect("established");
    cp.forget_discovery();
    for (name, replicas) in [("alpha", 1), ("beta", 3)] {
        cp.create(&widget(name, replicas))
            .await
            .expect("create a widget");
    }
    let mut beta = cp
        .api(
            "GET",
            "/apis/example.com/v1/namespaces/default/widgets/beta",
            None,
        )
        .await
        .expect("get beta");
    beta["status"] = json!({"phase": "Ready"});
    cp.update_status(&beta).await.expect("beta's status");
    let replicas = "widget_replicas";
    let two = move |b: &str| count(b, replicas) == 2 && b.contains("phase=\"Ready\"");
    assert_same_as_ksm(&ksm, &ours, "widgets created", &two).await;
    let body = scrape(&ours.metrics_url("")).await;
    assert_eq!(
        value(&body, replicas, &[("name", "beta")]),
        Some(3.0),
        "{}",
        head(&body, 40)
    );

    cp.patch(
        "example.com/v1",
        "Widget",
        Some("default"),
        "alpha",
        &json!({"spec": {"replicas": 7}}),
    )
    .await
    .expect("scale alpha");
    let scaled = move |b: &str| value(b, replicas, &[("name", "alpha")]) == Some(7.0);
    assert_same_as_ksm(&ksm, &ours, "widget changed", &scaled).await;

    cp.delete(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        None,
        "widgets.example.com",
    )
    .await
    .expect("delete the CRD");
    assert_same_as_ksm(&ksm, &ours, "CRD deleted", &no_widgets).await;
    let t = scrape(&ours.telemetry_url("/metrics")).await;
    for (name, want) in [
        (
            "kube_state_metrics_custom_resource_state_add_events_total",
            1.0,
        ),
        (
            "kube_state_metrics_custom_resource_state_delete_events_total",
            1.0,
        ),
        ("kube_state_metrics_custom_resource_state_cache", 0.0),
    ] {
        assert_eq!(
            value(&t, name, &[]),
            Some(want),
            "{name}:\n{}",
            head(&t, 80)
        );
    }
    let ready = get(&ours.telemetry_url("/readyz"), &[], Duration::from_secs(5))
        .await
        .expect("readyz");
    assert_eq!(ready.status, 200, "still ready after the CRD went away");
}

/// `--auth-filter` with the real TokenReview and SubjectAccessReview APIs: ServiceAccount
/// tokens from the TokenRequest API, with and without a role granting `get` on `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_filter_with_real_token_and_subject_access_reviews() {
    common::init();
    let _serial = SERIAL.lock().await;
    let Some(cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    let ns = "monitoring";
    cp.ensure_namespace(ns).await.expect("namespace");
    for sa in ["scraper", "healthz-only", "nobody", "deleted"] {
        cp.create(&json!({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": sa, "namespace": ns}}))
            .await
            .expect("service account");
    }
    for (role, url, sa) in [
        ("metrics-reader", "/metrics", "scraper"),
        ("healthz-reader", "/healthz", "healthz-only"),
    ] {
        cp.create(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": role},
            "rules": [{"nonResourceURLs": [url], "verbs": ["get"]}]}),
        )
        .await
        .expect("cluster role");
        cp.create(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]}))
            .await
            .expect("cluster role binding");
    }
    let mut tokens = BTreeMap::new();
    for sa in ["scraper", "healthz-only", "nobody", "deleted"] {
        tokens.insert(sa, cp.create_token(ns, sa).await.expect("TokenRequest"));
    }
    cp.delete("v1", "ServiceAccount", Some(ns), "deleted")
        .await
        .expect("delete a service account");

    let mut args = exporter_base_args(&cp.kubeconfig().display().to_string());
    args.extend([
        "--resources=namespaces".to_string(),
        "--auth-filter".to_string(),
    ]);
    let exporter = ExporterProc::spawn(args).await.expect("start");
    exporter.wait_ready(SETTLE).await.expect("ready");

    let status = |url: String, token: Option<String>| async move {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let r = get(&url, &headers, Duration::from_secs(30))
            .await
            .expect("scrape");
        (r.status, r.text())
    };
    for url in [exporter.metrics_url(""), exporter.telemetry_url("/metrics")] {
        let (code, body) = status(url.clone(), tokens.get("scraper").cloned()).await;
        assert_eq!(code, 200, "{url} with the scraper's token: {body}");
        assert!(body.contains("# TYPE"), "{url} answered a body: {body}");
        for (who, token, want) in [
            (
                "a ServiceAccount allowed only /healthz",
                tokens.get("healthz-only").cloned(),
                403,
            ),
            (
                "a ServiceAccount without any role",
                tokens.get("nobody").cloned(),
                403,
            ),
            (
                "a deleted ServiceAccount",
                tokens.get("deleted").cloned(),
                401,
            ),
            ("a made-up token", Some("not-a-token".to_string()), 401),
            ("no token", None, 401),
            (
                "the admin (system:masters)",
                Some(cp.token().to_string()),
                200,
            ),
        ] {
            let (code, body) = status(url.clone(), token).await;
            assert_eq!(code, want, "{url} as {who}: {body}");
        }
    }
    let namespaces = scrape_as(&exporter.metrics_url(""), &tokens["scraper"]).await;
    assert!(
        namespaces.contains("kube_namespace_created{namespace=\"monitoring\"}"),
        "the allowed scrape carries the metrics:\n{}",
        head(&namespaces, 20)
    );
}

async fn scrape_as(url: &str, token: &str) -> String {
    let auth = format!("Bearer {token}");
    get(url, &[("Authorization", &auth)], Duration::from_secs(30))
        .await
        .expect("scrape")
        .text()
}

// ------------------------------------------------------------------------------ deploy/

/// The prometheus-operator release whose CRDs (ServiceMonitor, PodMonitor, ScrapeConfig…) the
/// manifests and the chart are validated against; fetched through the Go module proxy at test
/// time (and cached in the Go module cache), never kept in the repository.
const PROMETHEUS_OPERATOR: &str = "github.com/prometheus-operator/prometheus-operator@v0.86.1";

fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder of prometheus-operator's CRD manifests, or `None` after the SKIP line.
fn prometheus_operator_crds() -> Option<std::path::PathBuf> {
    let tmp = TempDir::new("gomod").expect("temp dir");
    let out = Command::new("go")
        .args(["mod", "download", "-json", PROMETHEUS_OPERATOR])
        .current_dir(tmp.path())
        .output();
    let dir = out.ok().and_then(|o| {
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        Some(Path::new(v["Dir"].as_str()?).join("example/prometheus-operator-crd"))
    });
    match dir.filter(|d| d.is_dir()) {
        Some(d) => Some(d),
        None => {
            kubestate_testkit::tools::skip(
                "prometheus-operator's CRDs",
                &format!("go mod download {PROMETHEUS_OPERATOR}"),
            );
            None
        }
    }
}

fn helm() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let h = kubestate_testkit::find_binary("HELM", "helm", &[home.join("go/bin")]);
    if h.is_none() {
        kubestate_testkit::tools::skip("helm", "go install helm.sh/helm/v4/cmd/helm@v4.3.2");
    }
    h
}

/// The objects of a multi-document YAML text.
fn yaml_docs(text: &str) -> Vec<serde_yaml::Value> {
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| serde::Deserialize::deserialize(d).ok())
        .filter(|v: &serde_yaml::Value| !v.is_null())
        .collect()
}

/// `kubectl apply --dry-run=server` of `yaml` (namespaces it names created first, as an
/// installation would have them); the number of objects the server accepted.
async fn server_dry_run(cp: &ControlPlane, kubectl: &Path, yaml: &str, what: &str) -> usize {
    let docs = yaml_docs(yaml);
    let namespaces: BTreeSet<&str> = docs
        .iter()
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    for ns in namespaces {
        cp.ensure_namespace(ns).await.expect("namespace");
    }
    let out = cp
        .kubectl(
            kubectl,
            &["apply", "--dry-run=server", "-f", "-"],
            yaml.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let accepted = out
        .lines()
        .filter(|l| l.ends_with("(server dry run)"))
        .count();
    assert_eq!(
        accepted,
        docs.len(),
        "{what}: every object accepted:\n{out}"
    );
    accepted
}

/// Every kustomize layout under `deploy/` and the chart rendered with its default values and
/// each values file of its `ci/` folder pass `kubectl apply --dry-run=server`, monitors
/// included (against prometheus-operator's CRDs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_manifests_and_chart_pass_server_side_dry_run() {
    common::init();
    let _serial = SERIAL.lock().await;
    let (Some(kubectl), Some(helm), Some(crds)) = (
        kubestate_testkit::control_plane::kubectl(),
        helm(),
        prometheus_operator_crds(),
    ) else {
        return;
    };
    let Some(cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    let crds = crds.display().to_string();
    cp.kubectl(&kubectl, &["apply", "--server-side", "-f", &crds], b"")
        .expect("install prometheus-operator's CRDs");
    cp.kubectl(
        &kubectl,
        &[
            "wait",
            "--for=condition=Established",
            "crd",
            "--all",
            "--timeout=120s",
        ],
        b"",
    )
    .expect("CRDs established");

    let deploy = repo().join("deploy");
    let mut layouts: Vec<_> = std::fs::read_dir(&deploy)
        .expect("deploy/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("kustomization.yaml").is_file())
        .collect();
    layouts.sort();
    assert!(
        layouts.len() >= 5,
        "kustomize layouts under deploy/: {layouts:?}"
    );
    for dir in &layouts {
        let what = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let yaml = cp
            .kubectl(&kubectl, &["kustomize", &dir.display().to_string()], b"")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let n = server_dry_run(&cp, &kubectl, &yaml, &what).await;
        eprintln!("deploy/{what}: {n} objects accepted");
    }

    let chart = deploy.join("helm/kubestate");
    let mut values: Vec<Option<std::path::PathBuf>> = vec![None];
    let mut files: Vec<_> = std::fs::read_dir(chart.join("ci"))
        .expect("chart ci/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    values.extend(files.into_iter().map(Some));
    for v in &values {
        let what = v
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or("default values".to_string(), |f| {
                f.to_string_lossy().into_owned()
            });
        let mut cmd = Command::new(&helm);
        cmd.args([
            "template",
            "kube-state-metrics",
            "--namespace",
            "monitoring",
        ])
        .arg(&chart);
        if let Some(v) = v {
            cmd.arg("-f").arg(v);
        }
        let out = cmd.output().expect("run helm");
        assert!(
            out.status.success(),
            "helm template with {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let yaml = String::from_utf8_lossy(&out.stdout);
        let n = server_dry_run(&cp, &kubectl, &yaml, &format!("chart with {what}")).await;
        eprintln!("chart with {what}: {n} objects accepted");
    }
}

/// The states `kubestate_resource_sync_state` reports as current, per resource.
fn sync_states(telemetry: &str) -> BTreeMap<String, String> {
    telemetry
        .lines()
        .filter(|l| l.starts_with("kubestate_resource_sync_state{") && l.ends_with(" 1"))
        .filter_map(|l| {
            let r = l.split("resource=\"").nth(1)?.split('"').next()?;
            let s = l.split("state=\"").nth(1)?.split('"').next()?;
            Some((r.to_string(), s.to_string()))
        })
        .collect()
}

/// kubestate with the token of the ServiceAccount the `deploy/rbac` manifests bind syncs every
/// default resource and becomes ready; with one resource removed from the ClusterRole, exactly
/// that resource is forbidden, and a WARN line names the missing rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_rbac_is_sufficient_and_a_missing_rule_fails_only_its_resource() {
    common::init();
    let _serial = SERIAL.lock().await;
    let Some(kubectl) = kubestate_testkit::control_plane::kubectl() else {
        return;
    };
    let Some(cp) = ControlPlane::start_or_skip(Options::default()).await else {
        return;
    };
    let rbac = repo().join("deploy/rbac").display().to_string();
    let yaml = cp
        .kubectl(&kubectl, &["kustomize", &rbac], b"")
        .expect("kustomize deploy/rbac");
    cp.kubectl(&kubectl, &["apply", "-f", "-"], yaml.as_bytes())
        .expect("apply deploy/rbac");
    let docs = yaml_docs(&yaml);
    let sa = docs
        .iter()
        .find(|d| d["kind"] == "ServiceAccount")
        .expect("deploy/rbac has a ServiceAccount");
    let role_name = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .and_then(|d| d["metadata"]["name"].as_str())
        .expect("deploy/rbac has a ClusterRole")
        .to_string();
    let token = cp
        .create_token(
            sa["metadata"]["namespace"].as_str().unwrap_or("default"),
            sa["metadata"]["name"].as_str().unwrap_or("default"),
        )
        .await
        .expect("TokenRequest");
    let dir = TempDir::new("rbac").expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    cp.write_kubeconfig(&kubeconfig, &token)
        .expect("kubeconfig");
    let args = exporter_base_args(&kubeconfig.display().to_string());

    let exporter = ExporterProc::spawn(args.clone()).await.expect("start");
    exporter
        .wait_ready(SETTLE)
        .await
        .expect("ready with the manifests' RBAC");
    let states = sync_states(&scrape(&exporter.telemetry_url("/metrics")).await);
    assert!(states.len() >= 30, "default resources: {states:?}");
    let not_synced: Vec<_> = states.iter().filter(|(_, s)| *s != "synced").collect();
    assert!(
        not_synced.is_empty(),
        "with the manifests' ClusterRole every default resource syncs: {not_synced:?}\n{}",
        tail(&exporter.log(), 20)
    );
    drop(exporter);

    let role_path = format!("/apis/rbac.authorization.k8s.io/v1/clusterroles/{role_name}");
    for (group, plural) in [("", "secrets"), ("apps", "deployments")] {
        let original = cp
            .api("GET", &role_path, None)
            .await
            .expect("get the ClusterRole");
        let mut reduced = original.clone();
        let mut removed = false;
        for rule in reduced["rules"].as_array_mut().into_iter().flatten() {
            let in_group = rule["apiGroups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g == group));
            if let Some(res) = rule["resources"].as_array_mut().filter(|_| in_group) {
                let before = res.len();
                res.retain(|r| r != plural);
                removed |= res.len() != before;
            }
        }
        assert!(removed, "the ClusterRole grants {plural} in {group:?}");
        cp.api("PUT", &role_path, Some(&reduced))
            .await
            .expect("reduce the ClusterRole");

        let exporter = ExporterProc::spawn(args.clone()).await.expect("start");
        exporter
            .wait_ready(SETTLE)
            .await
            .expect("ready without the rule (a forbidden resource settles readiness)");
        let url = exporter.telemetry_url("/metrics");
        // Settled: every resource synced or forbidden (none still syncing).
        let start = Instant::now();
        let last = loop {
            let states = sync_states(&scrape(&url).await);
            if states.values().all(|s| s == "synced" || s == "forbidden") {
                break states;
            }
            assert!(
                start.elapsed() < SETTLE,
                "sync states did not settle: {states:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let failed: Vec<&String> = last
            .iter()
            .filter(|(_, s)| *s != "synced")
            .map(|(r, _)| r)
            .collect();
        assert_eq!(failed, vec![plural], "exactly {plural} fails: {last:?}");
        assert_eq!(last.get(plural).map(String::as_str), Some("forbidden"));
        let line = format!(
            "missing RBAC rule: list and watch on resource \"{plural}\" in API group \"{group}\""
        );
        let log = exporter.log();
        assert!(
            log.lines()
                .any(|l| l.contains("\"WARN\"") && l.contains(&line.replace('"', "\\\""))),
            "a WARN line names the missing rule ({line}):\n{}",
            tail(&log, 20)
        );
        let mut restored = original;
        restored["metadata"]["resourceVersion"] = Value::Null;
        cp.api("PUT", &role_path, Some(&restored))
            .await
            .expect("restore the ClusterRole");
    }
}
