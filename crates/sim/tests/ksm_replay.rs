//! The proof that the simulator is faithful: for every conformance case, serve its
//! `objects.json`, run the reference kube-state-metrics v2.20.0 against the sim with the case's
//! flags, and compare its `/metrics` with the case's `expected.prom` family by family
//! (TYPE lines as a set, sample lines as sorted multisets, HELP lines ignored). KSM asks for
//! protobuf, as client-go does, and every resource request must have been answered in it.
//!
//! The KSM binary is looked up in `$KSM_BIN`, then `~/go/bin/kube-state-metrics`, then `PATH`;
//! without it the test prints why and passes without checking anything. Build it with
//! `go install k8s.io/kube-state-metrics/v2@v2.20.0`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kubestate_sim::{FaultConfig, Sim, SimConfig, WorldSource};

fn ksm_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KSM_BIN") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join("go/bin/kube-state-metrics");
        if p.is_file() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("kube-state-metrics"))
            .find(|p| p.is_file())
    })
}

fn cases_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CONFORMANCE_CASES") {
        return Some(PathBuf::from(d));
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases");
    d.is_dir().then_some(d)
}

/// Families of a text exposition: TYPE line → sorted sample lines.
fn families(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut fams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in body.split('\n') {
        if line.starts_with("# TYPE ") {
            cur = Some(line.to_string());
            fams.entry(line.to_string()).or_default();
        } else if !line.is_empty() && !line.starts_with('#') {
            let key = cur.clone().unwrap_or_default();
            fams.entry(key).or_default().push(line.to_string());
        }
    }
    for v in fams.values_mut() {
        v.sort();
    }
    fams
}

fn diff(
    expected: &BTreeMap<String, Vec<String>>,
    actual: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut out = Vec::new();
    for (k, ev) in expected {
        match actual.get(k) {
            None => out.push(format!("  missing family {k} ({} samples)", ev.len())),
            Some(av) if av != ev => {
                for l in ev.iter().filter(|l| !av.contains(l)) {
                    out.push(format!("  - {l}"));
                }
                for l in av.iter().filter(|l| !ev.contains(l)) {
                    out.push(format!("  + {l}"));
                }
                if ev.len() != av.len() {
                    out.push(format!(
                        "  {k}: {} expected vs {} actual samples",
                        ev.len(),
                        av.len()
                    ));
                }
            }
            _ => {}
        }
    }
    for k in actual.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(format!("  extra family {k}"));
    }
    out.truncate(40);
    out.join("\n")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n")
        .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8(buf).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    (head.split(' ').nth(1) == Some("200")).then(|| body.to_string())
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run one case; Ok(()) when KSM's output matches (returns the sim's LIST/WATCH counts).
/// [`run_case_once`], again with fresh ports when KSM could not bind the ones it was given:
/// ports are picked by binding and releasing them, so another test may take one in between.
fn run_case(
    rt: &tokio::runtime::Runtime,
    bin: &Path,
    case: &Path,
    tls: bool,
    faults: FaultConfig,
    give_up_after_stable: Duration,
) -> Result<(u64, u64), String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match run_case_once(rt, bin, case, tls, faults.clone(), give_up_after_stable) {
            Err(e) if attempt < 3 && e.contains("address already in use") => continue,
            other => return other,
        }
    }
}

fn run_case_once(
    rt: &tokio::runtime::Runtime,
    bin: &Path,
    case: &Path,
    tls: bool,
    faults: FaultConfig,
    give_up_after_stable: Duration,
) -> Result<(u64, u64), String> {
    let name = case
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let expected_text = std::fs::read_to_string(case.join("expected.prom"))
        .map_err(|e| format!("{name}: cannot read expected.prom: {e}"))?;
    let expected = families(&expected_text);
    let args: Vec<String> = std::fs::read_to_string(case.join("args.txt"))
        .unwrap_or_default()
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let sim = rt
        .block_on(Sim::start(SimConfig {
            world: WorldSource::File(case.join("objects.json")),
            tls,
            faults,
            ..SimConfig::default()
        }))
        .map_err(|e| format!("{name}: sim failed to start: {e:#}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig)
        .map_err(|e| e.to_string())?;
    let (port, tport) = (free_port(), free_port());
    let log = std::fs::File::create(dir.path().join("ksm.log")).map_err(|e| e.to_string())?;
    let child = Command::new(bin)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg("--telemetry-host=127.0.0.1")
        .arg(format!("--telemetry-port={tport}"))
        .args(&args)
        .env("TZ", "UTC")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{name}: cannot start KSM: {e}"))?;
    let _child = KillOnDrop(child);
    let start = Instant::now();
    let mut last: Option<BTreeMap<String, Vec<String>>> = None;
    let mut stable_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let Some(body) = scrape(port) else {
            if start.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(dir.path().join("ksm.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(15).collect::<Vec<_>>().join("\n");
                return Err(format!(
                    "{name}: KSM never answered /metrics; log tail:\n{tail}"
                ));
            }
            continue;
        };
        let actual = families(&body);
        if actual == expected {
            let st = sim.stats();
            rt.block_on(sim.shutdown());
            // A real API server answers client-go in protobuf; so must the sim, for every
            // request of KSM (built-in kinds only in these worlds).
            if st.protobuf_responses == 0 || st.json_responses > 0 {
                return Err(format!(
                    "{name}: KSM was not served protobuf only ({} protobuf, {} JSON responses)",
                    st.protobuf_responses, st.json_responses
                ));
            }
            return Ok((st.lists, st.watches));
        }
        if last.as_ref() != Some(&actual) {
            last = Some(actual);
            stable_since = Instant::now();
        } else if stable_since.elapsed() > give_up_after_stable
            && start.elapsed() > Duration::from_secs(8)
            || start.elapsed() > Duration::from_secs(120)
        {
            let d = diff(&expected, &actual);
            rt.block_on(sim.shutdown());
            return Err(format!(
                "{name}: output differs (unchanged for {:.0} s):\n{d}",
                stable_since.elapsed().as_secs_f64()
            ));
        }
    }
}

#[test]
fn ksm_replay_matches_every_conformance_case() {
    let Some(bin) = ksm_bin() else {
        println!(
            "SKIPPED ksm_replay: kube-state-metrics binary not found ($KSM_BIN, ~/go/bin, PATH); \
             install it with `go install k8s.io/kube-state-metrics/v2@v2.20.0`"
        );
        return;
    };
    let Some(dir) = cases_dir() else {
        println!("SKIPPED ksm_replay: conformance cases not found (shared/conformance/cases beside the repo, or $CONFORMANCE_CASES)");
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("objects.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    if let Ok(only) = std::env::var("KSM_CASE") {
        cases.retain(|c| c.ends_with(&only));
    }
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let queue = Arc::new(Mutex::new(cases.clone()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (rt, queue, failures, bin) =
                (rt.clone(), queue.clone(), failures.clone(), bin.clone());
            std::thread::spawn(move || loop {
                let Some(case) = queue.lock().map(|mut q| q.pop()).ok().flatten() else {
                    return;
                };
                let t = Instant::now();
                let name = case
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("?")
                    .to_string();
                match run_case(
                    &rt,
                    &bin,
                    &case,
                    false,
                    FaultConfig::default(),
                    Duration::from_secs(5),
                ) {
                    Ok((lists, watches)) => println!(
                        "ok    {name} ({:.1}s, {lists} lists, {watches} watches)",
                        t.elapsed().as_secs_f64()
                    ),
                    Err(e) => {
                        println!("FAIL  {e}");
                        if let Ok(mut f) = failures.lock() {
                            f.push(name);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let failures = failures.lock().map(|f| f.clone()).unwrap_or_default();
    println!(
        "ksm replay: {} of {} cases match",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "cases that differ: {failures:?}");
}

/// KSM over HTTPS while the sim injects faults (500s, 429s, 410 on watches, streams cut in
/// the middle of an object, latency): client-go must retry and still converge to the exact
/// expected output.
#[test]
fn ksm_replay_converges_over_tls_despite_faults() {
    let (Some(bin), Some(dir)) = (ksm_bin(), cases_dir()) else {
        println!("SKIPPED ksm_replay (tls+faults): kube-state-metrics binary or conformance cases not found");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let faults = FaultConfig {
        throttle_fraction: 0.1,
        retry_after_secs: 1,
        error_fraction: 0.1,
        latency_ms: 5,
        gone_next_watches: 5,
        cut_next_streams: 3,
        ..FaultConfig::default()
    };
    for case in ["realistic-small-cluster", "flags-namespaces-denylist"] {
        let t = Instant::now();
        // Reflectors back off exponentially after errors (up to 30 s in client-go), so a
        // partial output may stay unchanged for a while before the last resource syncs.
        match run_case(
            &rt,
            &bin,
            &dir.join(case),
            true,
            faults.clone(),
            Duration::from_secs(45),
        ) {
            Ok((lists, watches)) => println!(
                "ok    {case} over TLS with faults ({:.1}s, {lists} lists, {watches} watches)",
                t.elapsed().as_secs_f64()
            ),
            Err(e) => panic!("{e}"),
        }
    }
}

/// Parse `name{k="v",...} value` into (name, labels, value).
fn parse_sample(line: &str) -> Option<(String, BTreeMap<String, String>, String)> {
    let (name, rest) = match line.find('{') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => {
            let (n, v) = line.split_once(' ')?;
            return Some((n.to_string(), BTreeMap::new(), v.to_string()));
        }
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.char_indices().peekable();
    let mut key = String::new();
    loop {
        let (_, c) = chars.next()?;
        match c {
            '}' => break,
            ',' => continue,
            '=' => {
                chars.next(); // opening quote
                let mut val = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                val.push(if e == 'n' { '\n' } else { e });
                            }
                        }
                        '"' => break,
                        c => val.push(c),
                    }
                }
                labels.insert(std::mem::take(&mut key), val);
            }
            c => key.push(c),
        }
    }
    let value = chars.map(|(_, c)| c).collect::<String>().trim().to_string();
    Some((name.to_string(), labels, value))
}

/// What KSM should report for the sim's current world, for a few families.
fn expected_facts(snap: &kubestate_sim::WorldSnapshot) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in snap.of("pods") {
        let v = p.value();
        let uid = v["metadata"]["uid"].as_str().unwrap_or("").to_string();
        out.insert(
            format!("pod_info {}/{}/{uid}", p.namespace, p.name),
            "1".into(),
        );
        for c in v["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.insert(
                format!(
                    "restarts {}/{}/{}",
                    p.namespace,
                    p.name,
                    c["name"].as_str().unwrap_or("")
                ),
                c["restartCount"].as_u64().unwrap_or(0).to_string(),
            );
        }
    }
    for n in snap.of("nodes") {
        let v = n.value();
        for c in v["status"]["conditions"].as_array().into_iter().flatten() {
            if c["type"] == "Ready" {
                let st = c["status"].as_str().unwrap_or("").to_ascii_lowercase();
                out.insert(format!("node_ready {}/{st}", n.name), "1".into());
            }
        }
    }
    for r in snap.of("replicasets") {
        let v = r.value();
        out.insert(
            format!("rs_replicas {}/{}", r.namespace, r.name),
            v["spec"]["replicas"].as_u64().unwrap_or(0).to_string(),
        );
    }
    out
}

fn actual_facts(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in body
        .split('\n')
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((name, l, v)) = parse_sample(line) else {
            continue;
        };
        let g = |k: &str| l.get(k).cloned().unwrap_or_default();
        match name.as_str() {
            "kube_pod_info" => {
                out.insert(
                    format!("pod_info {}/{}/{}", g("namespace"), g("pod"), g("uid")),
                    v,
                );
            }
            "kube_pod_container_status_restarts_total" => {
                out.insert(
                    format!(
                        "restarts {}/{}/{}",
                        g("namespace"),
                        g("pod"),
                        g("container")
                    ),
                    v,
                );
            }
            "kube_node_status_condition" if g("condition") == "Ready" && v == "1" => {
                out.insert(format!("node_ready {}/{}", g("node"), g("status")), v);
            }
            "kube_replicaset_spec_replicas" => {
                out.insert(
                    format!("rs_replicas {}/{}", g("namespace"), g("replicaset")),
                    v,
                );
            }
            _ => {}
        }
    }
    out
}

/// kube-state-metrics follows a churning synthesized world: after churn stops, what it
/// reports for pods (identity, restarts), node readiness and replicaset sizes equals the
/// sim's world — the watch events the sim sends (ADDED/MODIFIED/DELETED, bookmarks) are
/// understood by client-go.
#[test]
fn ksm_follows_a_churning_synthesized_world() {
    let Some(bin) = ksm_bin() else {
        println!("SKIPPED ksm churn: kube-state-metrics binary not found");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt
        .block_on(Sim::start(SimConfig {
            world: WorldSource::Synthesize(kubestate_sim::SynthSpec {
                nodes: 20,
                namespaces: 5,
                pods: 400,
            }),
            seed: 4,
            bookmark_interval: Duration::from_secs(1),
            ..SimConfig::default()
        }))
        .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let (port, tport) = (free_port(), free_port());
    let child = Command::new(&bin)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg("--telemetry-host=127.0.0.1")
        .arg(format!("--telemetry-port={tport}"))
        .arg("--resources=pods,nodes,replicasets,deployments")
        .env("TZ", "UTC")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start KSM");
    let _child = KillOnDrop(child);
    let converge = |what: &str| {
        let t = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let want = expected_facts(&sim.snapshot());
            if let Some(body) = scrape(port) {
                let got = actual_facts(&body);
                if got == want {
                    println!(
                        "ok    KSM converged ({what}) in {:.1}s: {} facts",
                        t.elapsed().as_secs_f64(),
                        want.len()
                    );
                    return;
                }
                if t.elapsed() > Duration::from_secs(60) {
                    let missing: Vec<_> = want
                        .iter()
                        .filter(|(k, v)| got.get(*k) != Some(v))
                        .take(10)
                        .collect();
                    let extra: Vec<_> = got
                        .iter()
                        .filter(|(k, v)| want.get(*k) != Some(v))
                        .take(10)
                        .collect();
                    panic!("KSM did not converge ({what}): missing/different {missing:?}, extra/different {extra:?}");
                }
            } else if t.elapsed() > Duration::from_secs(60) {
                panic!("KSM never answered /metrics");
            }
        }
    };
    converge("initial world");
    let rv0 = sim.resource_version();
    sim.set_churn_rate(200.0);
    std::thread::sleep(Duration::from_secs(3));
    sim.set_churn_rate(0.0);
    assert!(sim.resource_version() > rv0 + 300, "churn made changes");
    converge("after churn");
    rt.block_on(sim.shutdown());
}
