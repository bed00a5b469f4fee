//! Worlds: world files, synthesized worlds (determinism), churn (determinism and
//! consistency), the admin world endpoints, TLS and kubectl.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::{get, pod, post_json, Watch};
use kubestate_sim::{Sim, SimConfig, SimHandle, SynthSpec, WorldSnapshot, WorldSource};
use serde_json::{json, Value};

fn synth(pods: usize, seed: u64) -> SimConfig {
    SimConfig {
        world: WorldSource::Synthesize(SynthSpec {
            nodes: 15,
            namespaces: 4,
            pods,
        }),
        seed,
        ..SimConfig::default()
    }
}

fn bytes_of(s: &WorldSnapshot) -> Vec<u8> {
    let mut out = Vec::new();
    for o in &s.objects {
        out.extend_from_slice(&o.json);
        out.push(b'\n');
    }
    out
}

#[tokio::test]
async fn world_file_is_served_as_is() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/cases/realistic-small-cluster/objects.json");
    if !path.is_file() {
        println!("SKIPPED: {} not found", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let items = file["items"].as_array().unwrap();
    let max_rv = items
        .iter()
        .map(|i| {
            i["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .max()
        .unwrap();
    let sim = Sim::start(SimConfig {
        world: WorldSource::File(path.clone()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(sim.resource_version(), max_rv);
    let snap = sim.snapshot();
    assert_eq!(snap.objects.len(), items.len());
    // Every object is served byte for byte as in the file (which is compact JSON).
    let lines: HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"apiVersion\""))
        .map(|l| l.trim_end_matches(','))
        .collect();
    for o in &snap.objects {
        let s = std::str::from_utf8(&o.json).unwrap();
        assert!(
            lines.contains(s),
            "object not served verbatim: {}",
            &s[..100.min(s.len())]
        );
    }
    let l = get(sim.addr(), "/api/v1/pods").await.json();
    assert_eq!(l["metadata"]["resourceVersion"], max_rv.to_string());
    let want = items.iter().filter(|i| i["kind"] == "Pod").count();
    assert_eq!(l["items"].as_array().unwrap().len(), want);
    // New changes get RVs above the file's maximum.
    let applied = sim.apply(pod("default", "new", json!({}))).unwrap();
    assert_eq!(applied[0].resource_version, max_rv + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_world_file_fails_startup_with_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.json");
    std::fs::write(&p, "{\"items\": [ {\"apiVersion\":\"v1\"} ]}").unwrap();
    let e = Sim::start(SimConfig {
        world: WorldSource::File(p),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("broken.json") && msg.contains("item 0") && msg.contains("kind"),
        "{msg}"
    );
}

#[tokio::test]
async fn synthesized_worlds_are_deterministic() {
    let a = Sim::start(synth(400, 9)).await.unwrap();
    let b = Sim::start(synth(400, 9)).await.unwrap();
    let c = Sim::start(synth(400, 10)).await.unwrap();
    let (sa, sb, sc) = (a.snapshot(), b.snapshot(), c.snapshot());
    assert!(bytes_of(&sa) == bytes_of(&sb), "same seed → same bytes");
    assert!(
        bytes_of(&sa) != bytes_of(&sc),
        "different seed → different world"
    );
    assert_eq!(sa.of("pods").count(), 400);
    // Same bytes over HTTP too.
    let la = get(a.addr(), "/api/v1/pods").await.body;
    let lb = get(b.addr(), "/api/v1/pods").await.body;
    assert!(la == lb);
    for s in [a, b, c] {
        s.shutdown().await;
    }
}

#[tokio::test]
async fn synthesized_world_has_every_kind_ksm_reads() {
    let sim = Sim::start(synth(600, 3)).await.unwrap();
    let snap = sim.snapshot();
    let kinds: HashSet<&str> = snap.objects.iter().map(|o| o.kind.as_str()).collect();
    for k in [
        "Pod",
        "Node",
        "Namespace",
        "Deployment",
        "ReplicaSet",
        "DaemonSet",
        "StatefulSet",
        "Job",
        "CronJob",
        "Service",
        "EndpointSlice",
        "Endpoints",
        "ConfigMap",
        "Secret",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Lease",
        "StorageClass",
        "IngressClass",
        "Ingress",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceAccount",
        "CertificateSigningRequest",
        "VolumeAttachment",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ReplicationController",
    ] {
        assert!(kinds.contains(k), "{k} missing");
    }
    let pods: Vec<Value> = snap.of("pods").map(|o| o.value()).collect();
    let has = |f: &dyn Fn(&Value) -> bool| pods.iter().any(f);
    assert!(has(&|p| p["status"]["containerStatuses"][0]["state"]
        ["waiting"]["reason"]
        == "CrashLoopBackOff"));
    assert!(has(&|p| p["status"]["containerStatuses"][0]["state"]
        ["waiting"]["reason"]
        == "ImagePullBackOff"
        || p["status"]["containerStatuses"][0]["lastState"]
            ["terminated"]["reason"]
            == "OOMKilled"));
    assert!(has(&|p| p["spec"]["initContainers"].is_array()));
    assert!(has(
        &|p| p["spec"]["containers"].as_array().unwrap().len() > 1
    ));
    assert!(has(&|p| p["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["persistentVolumeClaim"].is_object())));
    assert!(has(
        &|p| p["status"]["phase"] == "Pending" && p["spec"]["nodeName"].is_null()
    ));
    let nodes: Vec<Value> = snap.of("nodes").map(|o| o.value()).collect();
    assert!(nodes
        .iter()
        .all(|n| n["status"]["allocatable"]["hugepages-2Mi"].is_string()));
    sim.shutdown().await;
}

#[tokio::test]
async fn churn_is_deterministic_for_the_seed() {
    let a = Sim::start(synth(300, 5)).await.unwrap();
    let b = Sim::start(synth(300, 5)).await.unwrap();
    let c = Sim::start(synth(300, 6)).await.unwrap();
    assert_eq!(a.churn_steps(400), b.churn_steps(400));
    c.churn_steps(400);
    assert!(bytes_of(&a.snapshot()) == bytes_of(&b.snapshot()));
    assert!(bytes_of(&a.snapshot()) != bytes_of(&c.snapshot()));
    assert!(a.resource_version() > 1000 + a.snapshot().objects.len() as u64);
    for s in [a, b, c] {
        s.shutdown().await;
    }
}

fn key(v: &Value) -> (String, String) {
    (
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        v["metadata"]["name"].as_str().unwrap().to_string(),
    )
}

fn check_consistency(snap: &WorldSnapshot, initial_rs_pods: &HashMap<String, usize>) {
    let rss: HashMap<(String, String), Value> = snap
        .of("replicasets")
        .map(|o| {
            let v = o.value();
            (key(&v), v)
        })
        .collect();
    let deps: HashSet<(String, String)> = snap.of("deployments").map(|o| key(&o.value())).collect();
    let mut per_rs: HashMap<(String, String), usize> = HashMap::new();
    for p in snap.of("pods") {
        let v = p.value();
        let o = &v["metadata"]["ownerReferences"][0];
        if o["kind"] == "ReplicaSet" {
            let rk = (p.namespace.clone(), o["name"].as_str().unwrap().to_string());
            let rs = rss
                .get(&rk)
                .unwrap_or_else(|| panic!("orphan pod {} of missing {rk:?}", p.name));
            assert_eq!(rs["metadata"]["uid"], o["uid"], "owner uid of {}", p.name);
            assert_eq!(
                v["metadata"]["labels"]["pod-template-hash"],
                rs["metadata"]["labels"]["pod-template-hash"]
            );
            *per_rs.entry(rk).or_default() += 1;
        }
    }
    for (k, rs) in &rss {
        let owner = &rs["metadata"]["ownerReferences"][0];
        assert!(
            deps.contains(&(k.0.clone(), owner["name"].as_str().unwrap().to_string())),
            "rs {k:?} without deployment"
        );
        if rs["spec"]["replicas"] == 0 {
            assert_eq!(
                per_rs.get(k).copied().unwrap_or(0),
                0,
                "scaled-down rs {k:?} still owns pods"
            );
        }
    }
    // Per deployment, the number of pods is what it was (churn replaces, never scales).
    let mut per_dep: HashMap<String, usize> = HashMap::new();
    for (k, n) in &per_rs {
        let dep = rss[k]["metadata"]["ownerReferences"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        *per_dep.entry(format!("{}/{}", k.0, dep)).or_default() += n;
    }
    for (dep, n) in initial_rs_pods {
        assert_eq!(per_dep.get(dep).copied().unwrap_or(0), *n, "pods of {dep}");
    }
    let uids: Vec<String> = snap
        .objects
        .iter()
        .map(|o| o.value()["metadata"]["uid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        uids.len(),
        uids.iter().collect::<HashSet<_>>().len(),
        "uids unique"
    );
}

fn pods_per_deployment(snap: &WorldSnapshot) -> HashMap<String, usize> {
    let rs_dep: HashMap<(String, String), String> = snap
        .of("replicasets")
        .map(|o| {
            let v = o.value();
            (
                key(&v),
                v["metadata"]["ownerReferences"][0]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let mut out = HashMap::new();
    for p in snap.of("pods") {
        let v = p.value();
        let o = &v["metadata"]["ownerReferences"][0];
        if o["kind"] == "ReplicaSet" {
            let dep = &rs_dep[&(p.namespace.clone(), o["name"].as_str().unwrap().to_string())];
            *out.entry(format!("{}/{dep}", p.namespace)).or_default() += 1;
        }
    }
    out
}

#[tokio::test]
async fn churn_keeps_the_world_consistent_and_watches_converge() {
    let sim = Sim::start(SimConfig {
        churn_per_sec: 400.0,
        ..synth(500, 11)
    })
    .await
    .unwrap();
    let a = sim.addr();
    let before = pods_per_deployment(&sim.snapshot());
    // A client: list, then watch from the list's RV, applying events to its own map.
    let list = get(a, "/api/v1/pods").await.json();
    let mut mine: BTreeMap<(String, String), Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (key(p), p.clone()))
        .collect();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"),
    )
    .await;
    let t = std::time::Instant::now();
    let mut kinds = HashSet::new();
    while t.elapsed() < Duration::from_millis(1500) {
        let e = w.event().await;
        let ty = e["type"].as_str().unwrap().to_string();
        match ty.as_str() {
            "ADDED" | "MODIFIED" => {
                mine.insert(key(&e["object"]), e["object"].clone());
            }
            "DELETED" => {
                mine.remove(&key(&e["object"]));
            }
            other => panic!("unexpected {other}"),
        }
        kinds.insert(ty);
    }
    assert!(
        kinds.contains("ADDED") && kinds.contains("MODIFIED") && kinds.contains("DELETED"),
        "{kinds:?}"
    );
    // Stop churning by shutting the churn task down: take a snapshot at a quiet moment by
    // reading events until the client has seen the snapshot's RV.
    let snap = sim.snapshot();
    let target = snap.resource_version;
    loop {
        let e = w.event().await;
        let erv: u64 = e["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        if erv > target {
            break;
        }
        match e["type"].as_str().unwrap() {
            "DELETED" => {
                mine.remove(&key(&e["object"]));
            }
            _ => {
                mine.insert(key(&e["object"]), e["object"].clone());
            }
        }
        if erv == target {
            break;
        }
    }
    let truth: BTreeMap<(String, String), Value> = snap
        .of("pods")
        .map(|o| {
            let v = o.value();
            (key(&v), v)
        })
        .collect();
    // The client's view at `target` equals the snapshot, unless the last change at `target`
    // was not a pod event (then the loop consumed up to the next pod event past it, which we
    // excluded) — both cases leave `mine` at the state as of `target`.
    assert_eq!(mine.len(), truth.len());
    assert!(
        mine == truth,
        "watch-maintained view diverged from the world"
    );
    check_consistency(&snap, &before);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_world_endpoints() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let a = sim.addr();
    let r = post_json(
        a,
        "/_sim/apply",
        &json!({"items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
            pod("x", "p", json!({"app": "a"})),
        ]}),
    )
    .await;
    assert_eq!(r.status, 200);
    let applied = r.json();
    assert_eq!(applied["items"][0]["type"], "ADDED");
    assert_eq!(
        applied["items"][1]["object"]["metadata"]["resourceVersion"],
        "2"
    );
    assert!(
        applied["items"][1]["object"]["metadata"]["uid"]
            .as_str()
            .unwrap()
            .len()
            == 36
    );
    let r = post_json(a, "/_sim/apply", &pod("x", "p", json!({"app": "b"}))).await;
    assert_eq!(r.json()["items"][0]["type"], "MODIFIED");
    let world = get(a, "/_sim/world").await.json();
    assert_eq!(world["resourceVersion"], "3");
    assert_eq!(world["items"].as_array().unwrap().len(), 2);
    let stats = get(a, "/_sim/stats").await.json();
    assert_eq!(stats["objects"], 2);
    let r = post_json(
        a,
        "/_sim/delete",
        &json!({"resource": "pods", "namespace": "x", "name": "p"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["resourceVersion"], "4");
    let r = post_json(
        a,
        "/_sim/delete",
        &json!({"apiVersion": "v1", "kind": "Namespace", "name": "x"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = post_json(
        a,
        "/_sim/delete",
        &json!({"resource": "pods", "namespace": "x", "name": "p"}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = post_json(
        a,
        "/_sim/apply",
        &json!({"apiVersion": "nope/v1", "kind": "Thing", "metadata": {"name": "t"}}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = common::request(a, "POST", "/_sim/apply", &[], Some(b"{not json")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["kind"], "Status");
    let r = post_json(a, "/_sim/churn", &json!({"steps": 5})).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(a, "/_sim/nope").await.status, 404);
    sim.shutdown().await;
}

/// kubectl (a real client-go program) against the sim over HTTPS: discovery + list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_pods_over_tls() {
    let kubectl = Path::new("/usr/bin/kubectl");
    if !kubectl.is_file() {
        println!("SKIPPED: kubectl not found at /usr/bin/kubectl");
        return;
    }
    let sim: SimHandle = Sim::start(SimConfig {
        tls: true,
        ..synth(60, 1)
    })
    .await
    .unwrap();
    assert!(sim.base_url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let run = |args: &'static [&'static str]| {
        let (kc, home) = (kc.clone(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(kubectl)
                .arg("--kubeconfig")
                .arg(&kc)
                .args(args)
                .env("HOME", home)
                .output()
                .unwrap()
        })
    };
    let out = run(&["get", "pods", "-A"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_pod = sim.snapshot().of("pods").next().unwrap().name.clone();
    assert!(stdout.contains(&first_pod), "{stdout}");
    assert_eq!(stdout.lines().count(), 61, "header + 60 pods");
    let header: Vec<&str> = stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "server-side table columns"
    );
    let out = run(&["get", "deployments.apps", "-n", "team-0000", "-o", "json"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "List");
    sim.shutdown().await;
}
