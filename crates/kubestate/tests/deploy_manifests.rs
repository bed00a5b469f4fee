//! Offline checks of the deployment artifacts: the kustomize layouts under `deploy/`, the Helm
//! chart under `deploy/helm/kubestate` and the image's entrypoint in `Dockerfile`.
//!
//! * Every layout resolves (its `kustomization.yaml` files and what they list) and parses.
//! * The ClusterRole grants exactly list/watch of the 39 kinds kubestate knows (taken from
//!   `kubestate_families::resources()`, not from a copy of the list); the opt-in roles
//!   (custom resources, auth filter, automatic sharding) grant only what their feature needs.
//! * Each container's command line (the image's entrypoint flags, then its args, with the
//!   downward-API variables filled in) is accepted by kubestate's own flag parser and
//!   validation, and its ports agree with the flags.
//! * Pods are hardened and probed on /livez and /readyz; Services and monitors keep the scrape
//!   job `kube-state-metrics`.
//! * The chart: `helm lint` and `helm template` with the default values and every file in the
//!   chart's `ci/` folder, the same checks on what it renders, and a golden file of the
//!   rendered container arguments (`tests/data/helm-args.golden`; `UPDATE_GOLDEN=1` rewrites
//!   it). Helm is looked up as `$HELM`, `~/go/bin/helm` or on `PATH` (`.ci/run` builds it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use kubestate::options::ExporterOptions;
use kubestate_testkit::tools::{skip, TempDir};
use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn deploy() -> PathBuf {
    repo().join("deploy")
}

/// Every YAML document of a file (empty documents dropped).
fn parse_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_str(&text, &path.display().to_string())
}

fn parse_str(text: &str, what: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{what}: {e}")))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// The objects of a kustomize directory: its `resources`, files or directories (recursively).
fn layout(dir: &Path) -> Vec<Value> {
    let k = dir.join("kustomization.yaml");
    let kust = parse_docs(&k);
    assert_eq!(kust.len(), 1, "{}", k.display());
    assert_eq!(s(&kust[0]["kind"]), "Kustomization", "{}", k.display());
    let mut out = Vec::new();
    for r in kust[0]["resources"].as_sequence().expect("resources") {
        let p = dir.join(s(r));
        assert!(
            p.exists(),
            "{} lists {}, which does not exist",
            k.display(),
            s(r)
        );
        if p.is_dir() {
            out.extend(layout(&p));
        } else {
            out.extend(parse_docs(&p));
        }
    }
    out
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn strs(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|seq| seq.iter().map(|x| s(x).to_string()).collect())
        .unwrap_or_default()
}

fn kind(o: &Value) -> &str {
    s(&o["kind"])
}

fn name(o: &Value) -> &str {
    s(&o["metadata"]["name"])
}

const LAYOUTS: &[&str] = &[
    "standard",
    "autosharding",
    "daemonset",
    "servicemonitor",
    "podmonitor",
    "policies",
    "custom-resources",
    "auth-filter",
];

/// The kube-state-metrics image's entrypoint flags, read from the Dockerfile's ENTRYPOINT.
fn entrypoint_flags() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let line = text
        .lines()
        .find(|l| l.starts_with("ENTRYPOINT "))
        .expect("Dockerfile has an ENTRYPOINT");
    let argv: Vec<String> =
        serde_json::from_str(line.trim_start_matches("ENTRYPOINT ")).expect("exec-form ENTRYPOINT");
    assert_eq!(argv[0], "/kubestate");
    argv[1..].to_vec()
}

/// (group, resource) of the 39 kinds, from kubestate's own registry.
fn kinds() -> BTreeSet<(String, String)> {
    kubestate_families::resources()
        .iter()
        .map(|r| (r.api().group.to_string(), r.name().to_string()))
        .collect()
}

/// (group, resource) → verbs of a role's rules; fails on anything but apiGroups/resources rules
/// unless `allow_other` (nonResourceURLs, resourceNames are reported as such).
fn grants(rules: &Value) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for rule in rules.as_sequence().into_iter().flatten() {
        let verbs: BTreeSet<String> = strs(&rule["verbs"]).into_iter().collect();
        if !rule["nonResourceURLs"].is_null() {
            for u in strs(&rule["nonResourceURLs"]) {
                out.entry(("nonResourceURL".into(), u))
                    .or_default()
                    .extend(verbs.clone());
            }
            continue;
        }
        let names = strs(&rule["resourceNames"]);
        for g in strs(&rule["apiGroups"]) {
            for r in strs(&rule["resources"]) {
                let r = if names.is_empty() {
                    r
                } else {
                    format!("{r}/{}", names.join(","))
                };
                out.entry((g.clone(), r)).or_default().extend(verbs.clone());
            }
        }
    }
    out
}

fn list_watch() -> BTreeSet<String> {
    ["list", "watch"].iter().map(|v| v.to_string()).collect()
}

#[test]
fn every_layout_resolves_and_parses() {
    for l in LAYOUTS {
        let objects = layout(&deploy().join(l));
        assert!(!objects.is_empty(), "{l}");
        let mut seen = BTreeSet::new();
        for o in &objects {
            assert!(
                !s(&o["apiVersion"]).is_empty() && !kind(o).is_empty(),
                "{l}: {o:?}"
            );
            assert!(!name(o).is_empty(), "{l}: unnamed {}", kind(o));
            assert!(
                seen.insert((kind(o).to_string(), name(o).to_string())),
                "{l}: {} {} twice",
                kind(o),
                name(o)
            );
            let cluster_scoped = matches!(kind(o), "ClusterRole" | "ClusterRoleBinding");
            let ns = s(&o["metadata"]["namespace"]);
            assert_eq!(
                ns.is_empty(),
                cluster_scoped,
                "{l}: {} {} namespace {ns:?}",
                kind(o),
                name(o)
            );
            if !cluster_scoped {
                assert_eq!(ns, "kube-system", "{l}: {} {}", kind(o), name(o));
            }
        }
    }
    // kubectl's own kustomize agrees, where kubectl is installed.
    if let Some(kubectl) = kubestate_testkit::find_binary("KUBECTL", "kubectl", &[]) {
        for l in LAYOUTS {
            let out = Command::new(&kubectl)
                .args(["kustomize"])
                .arg(deploy().join(l))
                .output()
                .expect("kubectl kustomize");
            assert!(
                out.status.success(),
                "{l}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let built = parse_str(&String::from_utf8_lossy(&out.stdout), l);
            assert_eq!(built.len(), layout(&deploy().join(l)).len(), "{l}");
        }
    } else {
        eprintln!("kubectl not installed: checked the kustomizations without it");
    }
}

#[test]
fn cluster_role_is_exactly_list_watch_of_the_39_kinds() {
    let docs = parse_docs(&deploy().join("rbac/cluster-role.yaml"));
    assert_eq!(docs.len(), 1);
    let g = grants(&docs[0]["rules"]);
    let expected = kinds();
    assert_eq!(expected.len(), 39);
    let granted: BTreeSet<(String, String)> = g.keys().cloned().collect();
    assert_eq!(
        granted, expected,
        "the ClusterRole must list exactly the 39 kinds"
    );
    for (k, verbs) in &g {
        assert_eq!(verbs, &list_watch(), "{k:?}: only list and watch");
    }
}

#[test]
fn opt_in_roles_grant_only_their_feature() {
    // Custom resources: an aggregated role whose only shipped rule reads CRDs.
    let docs = parse_docs(&deploy().join("custom-resources/cluster-role.yaml"));
    let aggregated = docs
        .iter()
        .find(|d| name(d) == "kube-state-metrics-custom-resources")
        .expect("aggregated role");
    let selector = &aggregated["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"];
    let (key, value) = selector
        .as_mapping()
        .and_then(|m| m.iter().next())
        .expect("selector");
    let parts: Vec<&Value> = docs
        .iter()
        .filter(|d| &d["metadata"]["labels"][s(key)] == value)
        .collect();
    assert_eq!(parts.len(), 1);
    let g = grants(&parts[0]["rules"]);
    assert_eq!(g.len(), 1);
    assert_eq!(
        g[&(
            "apiextensions.k8s.io".to_string(),
            "customresourcedefinitions".to_string()
        )],
        list_watch()
    );
    // Auth filter: create of the two review kinds; the scraper role gets /metrics only.
    let docs = parse_docs(&deploy().join("auth-filter/cluster-role.yaml"));
    let g = grants(
        &docs
            .iter()
            .find(|d| name(d) == "kube-state-metrics-auth-filter")
            .expect("role")["rules"],
    );
    let create: BTreeSet<String> = ["create".to_string()].into();
    assert_eq!(
        g,
        BTreeMap::from([
            (
                ("authentication.k8s.io".into(), "tokenreviews".into()),
                create.clone()
            ),
            (
                ("authorization.k8s.io".into(), "subjectaccessreviews".into()),
                create
            ),
        ])
    );
    let g = grants(
        &docs
            .iter()
            .find(|d| name(d) == "kube-state-metrics-scraper")
            .expect("scraper")["rules"],
    );
    assert_eq!(
        g,
        BTreeMap::from([(
            ("nonResourceURL".into(), "/metrics".into()),
            ["get".to_string()].into()
        )])
    );
    // Bindings point at the roles above and at the ServiceAccount every workload uses.
    for l in ["custom-resources", "auth-filter", "rbac"] {
        for b in layout(&deploy().join(l))
            .iter()
            .filter(|o| kind(o) == "ClusterRoleBinding")
        {
            assert_eq!(s(&b["subjects"][0]["name"]), "kube-state-metrics");
            assert_eq!(s(&b["subjects"][0]["namespace"]), "kube-system");
        }
    }
    // Automatic sharding: its own pod (get) and its own StatefulSet by name.
    let objects = layout(&deploy().join("autosharding"));
    let role = objects.iter().find(|o| kind(o) == "Role").expect("Role");
    let sts = objects
        .iter()
        .find(|o| kind(o) == "StatefulSet")
        .expect("StatefulSet");
    let g = grants(&role["rules"]);
    assert_eq!(
        g[&("".to_string(), "pods".to_string())],
        ["get".to_string()].into()
    );
    let scoped = format!("statefulsets/{}", name(sts));
    assert!(g[&("apps".to_string(), scoped)].is_superset(&list_watch()));
    assert_eq!(g.len(), 2);
}

/// The pod templates of a set of objects: (workload kind/name, pod template).
fn pod_templates(objects: &[Value]) -> Vec<(String, &Value)> {
    objects
        .iter()
        .filter(|o| matches!(kind(o), "Deployment" | "StatefulSet" | "DaemonSet"))
        .map(|o| (format!("{}/{}", kind(o), name(o)), &o["spec"]["template"]))
        .collect()
}

/// A container's command line with `$(VAR)` filled in as the kubelet would (downward API).
fn command_line(container: &Value, entrypoint: &[String]) -> Vec<String> {
    let fill = |arg: &str| {
        let mut a = arg.to_string();
        for env in container["env"].as_sequence().into_iter().flatten() {
            let field = s(&env["valueFrom"]["fieldRef"]["fieldPath"]);
            let value = match field {
                "metadata.name" => "kube-state-metrics-1",
                "metadata.namespace" => "kube-system",
                "spec.nodeName" => "node-1",
                _ => s(&env["value"]),
            };
            a = a.replace(&format!("$({})", s(&env["name"])), value);
        }
        assert!(!a.contains("$("), "unresolved variable in {arg}");
        a
    };
    let argv: Vec<String> = if container["command"].is_null() {
        entrypoint.to_vec()
    } else {
        strs(&container["command"])[1..].to_vec()
    };
    argv.into_iter()
        .chain(strs(&container["args"]))
        .map(|a| fill(&a))
        .collect()
}

/// [`command_line`], with the custom-resource configuration file the pod would mount read
/// from `crs_dir` instead.
fn local_command_line(
    container: &Value,
    entrypoint: &[String],
    crs_dir: Option<&Path>,
) -> Vec<String> {
    let mut argv = command_line(container, entrypoint);
    if let Some(dir) = crs_dir {
        for a in &mut argv {
            if let Some(p) = a.strip_prefix("--custom-resource-state-config-file=") {
                let file = Path::new(p).file_name().expect("file name");
                *a = format!(
                    "--custom-resource-state-config-file={}",
                    dir.join(file).display()
                );
            }
        }
    }
    argv
}

/// Parses and validates `argv` with kubestate's own flags; returns the options.
fn accepted(what: &str, argv: &[String]) -> ExporterOptions {
    let o = ExporterOptions::parse_args(argv).unwrap_or_else(|e| panic!("{what}: {argv:?}: {e}"));
    o.engine_config()
        .unwrap_or_else(|e| panic!("{what}: {argv:?}: {e:#}"));
    o
}

fn port_named(container: &Value, port: &Value) -> Option<i64> {
    if let Some(n) = port.as_i64() {
        return Some(n);
    }
    container["ports"]
        .as_sequence()?
        .iter()
        .find(|p| p["name"] == *port)
        .and_then(|p| p["containerPort"].as_i64())
}

/// The `kubestate check` sidecar: its arguments parse as the `check` subcommand's and its
/// configuration (from the rendered ConfigMap, in `dir`) loads.
fn check_sidecar(what: &str, c: &Value, dir: Option<&Path>) {
    use clap::Parser as _;
    let args = strs(&c["args"]);
    let cli = kubestate::Cli::try_parse_from(
        std::iter::once("kubestate".to_string()).chain(args.clone()),
    )
    .unwrap_or_else(|e| panic!("{what}: kubestate {args:?}: {e}"));
    let Some(kubestate::Command::Check(check)) = cli.command else {
        panic!("{what}: the sidecar does not run `kubestate check`: {args:?}");
    };
    let config = check.config.expect("--config");
    let file = dir
        .expect("rendered ConfigMaps")
        .join(config.file_name().expect("file name"));
    kubestate_sinks::Config::from_file(&file).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"],
        Value::Bool(true),
        "{what}"
    );
}

/// Hardening, probes and a valid command line for every kubestate container of `objects`.
fn check_workloads(what: &str, objects: &[Value], entrypoint: &[String], crs_dir: Option<&Path>) {
    let templates = pod_templates(objects);
    assert!(!templates.is_empty(), "{what}: no workload");
    for (w, t) in templates {
        let spec = &t["spec"];
        let pod_sc = &spec["securityContext"];
        for c in spec["containers"].as_sequence().expect("containers") {
            let cname = s(&c["name"]);
            if cname.starts_with("kube-rbac-proxy") {
                continue;
            }
            if cname == "kubestate-check" {
                check_sidecar(&format!("{what}: {w}"), c, crs_dir);
                continue;
            }
            let at = format!("{what}: {w} container {cname}");
            let sc = &c["securityContext"];
            let either = |k: &str| {
                if sc[k].is_null() {
                    pod_sc[k].clone()
                } else {
                    sc[k].clone()
                }
            };
            assert_eq!(either("runAsNonRoot"), Value::Bool(true), "{at}");
            assert_eq!(either("runAsUser").as_i64(), Some(65534), "{at}");
            assert_eq!(either("runAsGroup").as_i64(), Some(65534), "{at}");
            assert_eq!(
                s(&either("seccompProfile")["type"]),
                "RuntimeDefault",
                "{at}"
            );
            assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true), "{at}");
            assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false), "{at}");
            assert_eq!(strs(&sc["capabilities"]["drop"]), vec!["ALL"], "{at}");
            assert!(
                sc["privileged"].is_null() || sc["privileged"] == Value::Bool(false),
                "{at}"
            );
            let o = accepted(&at, &local_command_line(c, entrypoint, crs_dir));
            let live = &c["livenessProbe"]["httpGet"];
            let ready = &c["readinessProbe"]["httpGet"];
            assert_eq!(s(&live["path"]), "/livez", "{at}");
            assert_eq!(s(&ready["path"]), "/readyz", "{at}");
            if o.host != "127.0.0.1" {
                // Served directly (not behind kube-rbac-proxy): probes and ports hit kubestate.
                assert_eq!(
                    port_named(c, &live["port"]),
                    Some(i64::from(o.port)),
                    "{at}: liveness on the main port"
                );
                assert_eq!(
                    port_named(c, &ready["port"]),
                    Some(i64::from(o.telemetry_port)),
                    "{at}: readiness on the telemetry port"
                );
            }
        }
    }
}

#[test]
fn workloads_are_hardened_and_their_flags_accepted() {
    let entrypoint = entrypoint_flags();
    assert_eq!(entrypoint, vec!["--port=8080", "--telemetry-port=8081"]);
    for l in ["standard", "autosharding", "daemonset"] {
        let objects = layout(&deploy().join(l));
        check_workloads(l, &objects, &entrypoint, None);
        for (w, t) in pod_templates(&objects) {
            assert_eq!(
                s(&t["spec"]["serviceAccountName"]),
                "kube-state-metrics",
                "{l}: {w}"
            );
            assert_eq!(
                t["spec"]["automountServiceAccountToken"],
                Value::Bool(true),
                "{l}: {w}"
            );
        }
    }
    // The per-node layout covers every default resource exactly once between its workloads.
    let objects = layout(&deploy().join("daemonset"));
    let mut covered = Vec::new();
    for (_, t) in pod_templates(&objects) {
        let o = accepted(
            "daemonset",
            &command_line(&t["spec"]["containers"][0], &entrypoint),
        );
        covered.extend(o.resources.clone());
    }
    covered.sort();
    let pods = covered.iter().filter(|r| *r == "pods").count();
    assert_eq!(pods, 2, "pods: per node, and unscheduled");
    covered.retain(|r| r != "pods");
    let mut defaults: Vec<String> = kubestate_families::resources()
        .iter()
        .filter(|r| r.default_enabled() && r.name() != "pods")
        .map(|r| r.name().to_string())
        .collect();
    defaults.sort();
    assert_eq!(covered, defaults);
}

/// Whether `selector` (a matchLabels / matchExpressions selector) selects `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let ml = if selector["matchLabels"].is_null() && selector["matchExpressions"].is_null() {
        selector // a Service's plain selector map
    } else {
        &selector["matchLabels"]
    };
    let labels_ok = ml
        .as_mapping()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels[s(k)] == *v);
    let exprs_ok = selector["matchExpressions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .all(|e| {
            let have = &labels[s(&e["key"])];
            match s(&e["operator"]) {
                "In" => strs(&e["values"]).iter().any(|v| have.as_str() == Some(v)),
                "Exists" => !have.is_null(),
                op => panic!("operator {op} not handled"),
            }
        });
    labels_ok && exprs_ok
}

#[test]
fn scrape_job_stays_kube_state_metrics() {
    let sm = &layout(&deploy().join("servicemonitor"))[0];
    assert_eq!(s(&sm["spec"]["jobLabel"]), "app.kubernetes.io/name");
    let ports: BTreeSet<String> = sm["spec"]["endpoints"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| s(&e["port"]).to_string())
        .collect();
    assert_eq!(
        ports,
        ["http-metrics".to_string(), "telemetry".to_string()].into()
    );
    let pm = &layout(&deploy().join("podmonitor"))[0];
    for e in pm["spec"]["podMetricsEndpoints"].as_sequence().unwrap() {
        let relabel = &e["relabelings"][0];
        assert_eq!(
            (s(&relabel["targetLabel"]), s(&relabel["replacement"])),
            ("job", "kube-state-metrics")
        );
    }
    let policies = layout(&deploy().join("policies"));
    let netpol = policies
        .iter()
        .find(|o| kind(o) == "NetworkPolicy")
        .expect("NetworkPolicy");
    let pdb = policies
        .iter()
        .find(|o| kind(o) == "PodDisruptionBudget")
        .expect("PDB");
    for l in ["standard", "autosharding", "daemonset"] {
        let objects = layout(&deploy().join(l));
        let pods: Vec<(String, &Value)> = pod_templates(&objects);
        let services: Vec<&Value> = objects.iter().filter(|o| kind(o) == "Service").collect();
        // Every workload's pods are behind a Service the ServiceMonitor selects, which makes
        // the job kube-state-metrics, and are selected by the PodMonitor and NetworkPolicy.
        for (w, t) in &pods {
            let labels = &t["metadata"]["labels"];
            let svc = services
                .iter()
                .find(|svc| selects(&svc["spec"]["selector"], labels));
            let svc = svc.unwrap_or_else(|| panic!("{l}: no Service selects {w}"));
            assert!(
                selects(&sm["spec"]["selector"], &svc["metadata"]["labels"]),
                "{l}: {w}"
            );
            assert_eq!(
                s(&svc["metadata"]["labels"]["app.kubernetes.io/name"]),
                "kube-state-metrics"
            );
            assert_eq!(
                svc["spec"]["clusterIP"].as_str(),
                Some("None"),
                "{l}: headless"
            );
            assert!(
                selects(&pm["spec"]["selector"], labels),
                "{l}: PodMonitor misses {w}"
            );
            assert!(
                selects(&netpol["spec"]["podSelector"], labels),
                "{l}: NetworkPolicy misses {w}"
            );
        }
        assert!(
            pods.iter()
                .any(|(_, t)| selects(&pdb["spec"]["selector"], &t["metadata"]["labels"])),
            "{l}"
        );
    }
}

// ---- The Helm chart ----

fn helm() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let h = kubestate_testkit::find_binary("HELM", "helm", &[home.join("go/bin")]);
    if h.is_none() {
        skip(
            "helm",
            ".ci/run builds it: go install helm.sh/helm/v4/cmd/helm@v4.3.2",
        );
    }
    h
}

fn chart() -> PathBuf {
    deploy().join("helm/kubestate")
}

/// The values files the chart is tested with: defaults, then `ci/*.yaml` by name.
fn values_files() -> Vec<Option<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart().join("ci"))
        .expect("ci/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    std::iter::once(None)
        .chain(files.into_iter().map(Some))
        .collect()
}

fn helm_run(helm: &Path, args: &[&str], values: Option<&Path>) -> String {
    let mut cmd = Command::new(helm);
    cmd.args(args).arg(chart());
    if let Some(v) = values {
        cmd.arg("-f").arg(v);
    }
    let out = cmd.output().expect("run helm");
    assert!(
        out.status.success(),
        "helm {args:?} {values:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn label(values: &Option<PathBuf>) -> String {
    values
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or("default values".to_string(), |f| {
            f.to_string_lossy().into_owned()
        })
}

#[test]
fn helm_chart_lints_renders_and_matches_the_golden_arguments() {
    let Some(helm) = helm() else { return };
    let entrypoint = entrypoint_flags();
    let mut golden = String::new();
    for values in values_files() {
        let what = label(&values);
        helm_run(&helm, &["lint", "--strict"], values.as_deref());
        let text = helm_run(
            &helm,
            &[
                "template",
                "kube-state-metrics",
                "--namespace",
                "monitoring",
            ],
            values.as_deref(),
        );
        let objects = parse_str(&text, &what);
        // The custom-resource configuration the chart mounts, written where the test can read it.
        let dir = TempDir::new("helm-crs").expect("temp dir");
        for cm in objects.iter().filter(|o| kind(o) == "ConfigMap") {
            for (k, v) in cm["data"].as_mapping().into_iter().flatten() {
                std::fs::write(dir.path().join(s(k)), s(v)).expect("write");
            }
        }
        check_workloads(&what, &objects, &entrypoint, Some(dir.path()));
        // A release named like the kube-state-metrics chart's keeps its object names and the
        // label that makes the scrape job.
        let workload = objects
            .iter()
            .find(|o| matches!(kind(o), "Deployment" | "StatefulSet"))
            .expect("workload");
        assert_eq!(name(workload), "kube-state-metrics", "{what}");
        let svc = objects
            .iter()
            .find(|o| kind(o) == "Service")
            .expect("Service");
        assert_eq!(
            s(&svc["metadata"]["labels"]["app.kubernetes.io/name"]),
            "kube-state-metrics"
        );
        if let Some(sm) = objects.iter().find(|o| kind(o) == "ServiceMonitor") {
            assert_eq!(
                s(&sm["spec"]["jobLabel"]),
                "app.kubernetes.io/name",
                "{what}"
            );
            assert!(
                selects(&sm["spec"]["selector"], &svc["metadata"]["labels"]),
                "{what}"
            );
        }
        // RBAC: exactly list/watch of the rendered --resources (plus the features' own rules).
        let c = &workload["spec"]["template"]["spec"]["containers"][0];
        let o = accepted(&what, &local_command_line(c, &entrypoint, Some(dir.path())));
        let role = objects
            .iter()
            .find(|o| matches!(kind(o), "ClusterRole" | "Role"))
            .expect("role");
        let g = grants(&role["rules"]);
        let all = kinds();
        for r in &o.resources {
            let key = all
                .iter()
                .find(|(_, n)| n == r)
                .expect("known resource")
                .clone();
            assert_eq!(g.get(&key), Some(&list_watch()), "{what}: {key:?}");
        }
        let builtin = g.keys().filter(|k| all.contains(*k)).count();
        assert_eq!(
            builtin,
            o.resources.len(),
            "{what}: rules for resources not exported"
        );
        if o.auth_filter {
            assert!(
                g.contains_key(&("authentication.k8s.io".into(), "tokenreviews".into())),
                "{what}"
            );
        }
        for (wname, t) in pod_templates(&objects) {
            for c in t["spec"]["containers"].as_sequence().into_iter().flatten() {
                golden.push_str(&format!("# {what}: {wname} container {}\n", s(&c["name"])));
                for a in strs(&c["args"]) {
                    golden.push_str(&a);
                    golden.push('\n');
                }
            }
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/helm-args.golden");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &golden).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    let (old, new): (Vec<&str>, Vec<&str>) = (want.lines().collect(), golden.lines().collect());
    let gone: Vec<&&str> = old.iter().filter(|l| !new.contains(l)).collect();
    let added: Vec<&&str> = new.iter().filter(|l| !old.contains(l)).collect();
    assert!(
        want == golden,
        "rendered container arguments differ from {} (UPDATE_GOLDEN=1 rewrites it after review):\n- {gone:?}\n+ {added:?}",
        path.display()
    );
}
