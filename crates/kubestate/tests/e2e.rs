//! End-to-end tests of the real `kubestate` binary over HTTP: external parsers and linters
//! (promtool, Python's prometheus_client, a real Prometheus server), gzip, the probes and
//! routes, startup validation of bad flags, and a changing world reaching `/metrics`.
//!
//! The exporter always runs as a process (`CARGO_BIN_EXE_kubestate`); the simulated API
//! server runs in-process (so the tests can change the world and compute the oracle from its
//! snapshot), except in `probes_routes_and_resource_filters`, which runs `kubestate sim` as a
//! process too. A missing external tool skips its test with a `SKIP:` line (see
//! `kubestate_testkit::tools`).

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use common::{
    change_world, converge, exporter_base_args, head, init, oracle, run_to_exit, small_world,
    start_sim, wait_for, ExporterProc, SimProc, Source, CONVERGE,
};
use kubestate_sim::SimHandle;
use kubestate_store::ResourceFilter;
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{self, PyFormat, ScrapeJob, TempDir};
use kubestate_testkit::{diff_families, families};

const T: Duration = Duration::from_secs(30);
const TEXT_CT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OM_ACCEPT: &str = "application/openmetrics-text;version=1.0.0";
/// What Prometheus 2.42 sends by default (OpenMetrics preferred).
const PROM_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// What Prometheus 2.42 sends with `--enable-feature=native-histograms` (protobuf first, which
/// KSM, and so kubestate, answers with text).
const PROM_PROTO_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The in-process small world and the exporter binary watching it, synced.
async fn small_setup(extra: &[&str]) -> (SimHandle, ExporterProc, Vec<String>) {
    init();
    let sim = start_sim(small_world()).await;
    let mut args = exporter_base_args(&sim.base_url());
    args.extend(extra.iter().map(|s| s.to_string()));
    let exporter = ExporterProc::spawn(args.clone())
        .await
        .expect("exporter starts");
    exporter
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("exporter syncs");
    (sim, exporter, args)
}

async fn scrape(url: &str, accept: &str) -> kubestate_testkit::http::Reply {
    let r = get(url, &[("Accept", accept)], T).await.expect("scrape");
    assert_eq!(r.status, 200, "GET {url}");
    r
}

/// A body without the families whose TYPE is `counter` and whose name ends in `_total`: the
/// KSM-inherited OpenMetrics quirk (ksm-behaviour.md §5.3) that strict parsers reject.
fn without_total_counters(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut skipping = false;
    let mut pending_help: Option<&str> = None;
    for line in body.split_inclusive('\n') {
        if line.starts_with("# HELP ") {
            pending_help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            let (name, ty) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            skipping = ty == "counter" && name.ends_with("_total");
        } else if line.starts_with("# EOF") {
            skipping = false;
        }
        if !skipping {
            if let Some(h) = pending_help.take() {
                out.push_str(h);
            }
            out.push_str(line);
        } else {
            pending_help = None;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_parses_text_and_adds_no_new_kind_of_finding() {
    let Some(promtool) = tools::promtool() else {
        return;
    };
    let shared = kubestate_testkit::shared_dir();
    // KSM's own findings: the conformance output (HELP lines removed) and a real v2.20 dump.
    let mut ksm_kinds = BTreeSet::new();
    let mut baselines = 0;
    if let Some(shared) = &shared {
        for f in [
            "conformance/cases/flags-all-resources/expected.prom",
            "fixtures/ksm-dumps/ksm-v2.20.0-small.txt",
        ] {
            let Ok(body) = std::fs::read(shared.join(f)) else {
                continue;
            };
            let r = tools::promtool_check_metrics(&promtool, &body).expect("run promtool");
            assert!(r.parsed(), "promtool cannot parse KSM's {f}: {r:?}");
            eprintln!(
                "promtool on KSM {f}: {} findings, kinds {:?}",
                r.findings.len(),
                r.kinds()
            );
            ksm_kinds.extend(r.kinds());
            baselines += 1;
        }
    }
    if baselines == 0 {
        eprintln!("note: no KSM baseline found (shared/ missing): any finding fails");
    }
    let (_sim, exporter, _) = small_setup(&[]).await;
    let body = scrape(&exporter.metrics_url(""), "text/plain").await.body;
    let r = tools::promtool_check_metrics(&promtool, &body).expect("run promtool");
    assert!(r.parsed(), "promtool rejects kubestate's text body: {r:?}");
    let ours = r.kinds();
    eprintln!(
        "promtool on kubestate: {} findings, kinds {ours:?}",
        r.findings.len()
    );
    let new: Vec<_> = ours.difference(&ksm_kinds).collect();
    assert!(
        new.is_empty(),
        "kubestate triggers promtool findings KSM does not: {new:?}\n{:?}",
        r.findings
            .iter()
            .filter(|f| new.contains(&&f.problem))
            .take(20)
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_client_parses_text_and_openmetrics() {
    let Some(python) = tools::python_prometheus_client() else {
        return;
    };
    let (_sim, exporter, _) = small_setup(&[]).await;
    let url = exporter.metrics_url("");

    let text = scrape(&url, "text/plain").await.text();
    let (fams, samples) = tools::count_exposition(&text);
    let p = tools::python_parse(&python, text.as_bytes(), PyFormat::Text).expect("python runs");
    assert_eq!(
        p.error, None,
        "prometheus_client's text parser rejects the body"
    );
    assert_eq!(
        (p.families, p.samples),
        (fams, samples),
        "text: prometheus_client counts (families, samples) differently from us"
    );

    let om = scrape(&url, OM_ACCEPT).await.text();
    assert!(om.ends_with("# EOF\n"));
    assert_eq!(
        tools::count_exposition(&om),
        (fams, samples),
        "OpenMetrics and text differ in size"
    );
    let p =
        tools::python_parse(&python, om.as_bytes(), PyFormat::OpenMetrics).expect("python runs");
    // KSM names the restart counters `…_total` in their TYPE lines, which the strict OpenMetrics
    // parser rejects; kubestate copies that on purpose. Any other error is ours.
    let has_total_counter = om
        .lines()
        .any(|l| l.starts_with("# TYPE ") && l.ends_with("_total counter"));
    match &p.error {
        None => assert_eq!((p.families, p.samples), (fams, samples)),
        Some(e) => assert!(
            has_total_counter && e.contains("Clashing name") && e.contains("_total"),
            "prometheus_client's OpenMetrics parser: {e}"
        ),
    }
    if let Some(shared) = kubestate_testkit::shared_dir() {
        let ksm = shared.join("conformance/cases/flags-defaults/expected.openmetrics");
        if let Ok(ksm) = std::fs::read(ksm) {
            let k = tools::python_parse(&python, &ksm, PyFormat::OpenMetrics).expect("python runs");
            eprintln!("prometheus_client on KSM's OpenMetrics: {:?}", k.error);
            assert_eq!(
                k.error.is_some(),
                p.error.is_some(),
                "the OpenMetrics parser treats KSM's output and ours differently"
            );
        }
    }
    // Without those families, everything else must parse and count the same.
    let rest = without_total_counters(&om);
    let (rf, rs) = tools::count_exposition(&rest);
    assert!(rf < fams || !has_total_counter);
    let p =
        tools::python_parse(&python, rest.as_bytes(), PyFormat::OpenMetrics).expect("python runs");
    assert_eq!(
        p.error, None,
        "prometheus_client's OpenMetrics parser rejects the body"
    );
    assert_eq!(
        (p.families, p.samples),
        (rf, rs),
        "OpenMetrics: counts differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_openmetrics_and_text() {
    let Some(prometheus) = tools::prometheus() else {
        return;
    };
    let (_sim, exporter, _) = small_setup(&[]).await;
    let url = exporter.metrics_url("");

    // What each Prometheus will be answered, asked the same way.
    let om = scrape(&url, PROM_ACCEPT).await;
    assert!(
        om.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text; version=1.0.0")),
        "{:?}",
        om.header("content-type")
    );
    let text = scrape(&url, PROM_PROTO_ACCEPT).await;
    assert_eq!(text.header("content-type"), Some(TEXT_CT));
    let (_, samples) = tools::count_exposition(&text.text());
    assert_eq!(tools::count_exposition(&om.text()).1, samples);

    let job = |name: &str| ScrapeJob {
        name: name.into(),
        target: exporter.metrics.clone(),
        path: "/metrics".into(),
    };
    let interval = Duration::from_secs(1);
    let mut om_prom =
        tools::PrometheusServer::start(&prometheus, &[job("kubestate-om")], interval, &[])
            .expect("start prometheus");
    let mut text_prom = tools::PrometheusServer::start(
        &prometheus,
        &[job("kubestate-text")],
        interval,
        &["--enable-feature=native-histograms"],
    )
    .expect("start prometheus");
    om_prom.wait_ready(T).await.expect("prometheus ready");
    text_prom.wait_ready(T).await.expect("prometheus ready");

    for (prom, job) in [(&om_prom, "kubestate-om"), (&text_prom, "kubestate-text")] {
        let last = Mutex::new((None, None));
        let ok = wait_for(
            &format!("{job}: up == 1 and {samples} samples scraped"),
            Duration::from_secs(60),
            || {
                let (up_q, n_q) = (
                    format!("up{{job=\"{job}\"}}"),
                    format!("scrape_samples_scraped{{job=\"{job}\"}}"),
                );
                let last = &last;
                async move {
                    let up = prom.value(&up_q).await.ok().flatten();
                    let n = prom.value(&n_q).await.ok().flatten();
                    *last.lock().expect("lock") = (up, n);
                    up == Some(1.0) && n == Some(samples as f64)
                }
            },
        )
        .await;
        if let Err(e) = ok {
            panic!(
                "{e}; last up / samples: {:?}\nprometheus log:\n{}",
                last.lock().expect("lock"),
                head(&prom.log(), 40)
            );
        }
        // Every sample became a series: no duplicates, nothing out of order or rejected.
        for bad in [
            "prometheus_target_scrapes_sample_duplicate_timestamp_total",
            "prometheus_target_scrapes_sample_out_of_order_total",
            "prometheus_target_scrapes_sample_out_of_bounds_total",
        ] {
            let n = prom.own_metric(bad).await.expect("prometheus /metrics");
            assert_eq!(n, 0.0, "{job}: {bad}");
        }
        let series = prom
            .value(&format!("count({{job=\"{job}\",__name__=~\"kube_.*\"}})"))
            .await
            .expect("query");
        assert_eq!(series, Some(samples as f64), "{job}: series stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_only_with_the_flag() {
    init();
    let sim = start_sim(small_world()).await;
    let base = exporter_base_args(&sim.base_url());
    let mut with = base.clone();
    with.push("--enable-gzip-encoding".into());
    let gz = ExporterProc::spawn(with).await.expect("exporter starts");
    let plain = ExporterProc::spawn(base).await.expect("exporter starts");
    gz.wait_ready(Duration::from_secs(60)).await.expect("sync");
    plain
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("sync");

    for (accept, name) in [("text/plain", "text"), (OM_ACCEPT, "OpenMetrics")] {
        let url = gz.metrics_url("");
        let compressed = get(&url, &[("Accept", accept), ("Accept-Encoding", "gzip")], T)
            .await
            .expect("scrape");
        assert_eq!(
            compressed.header("content-encoding"),
            Some("gzip"),
            "{name}"
        );
        let unzipped = String::from_utf8(compressed.decoded()).expect("UTF-8");
        assert!(
            compressed.body.len() * 3 < unzipped.len(),
            "{name}: gzip hardly compressed"
        );
        let identity = get(&url, &[("Accept", accept)], T).await.expect("scrape");
        assert_eq!(
            identity.header("content-encoding"),
            None,
            "{name} without Accept-Encoding"
        );
        if let Some(d) = diff_families(&identity.text(), &unzipped, |_| true) {
            panic!(
                "{name}: gunzipped body differs from the plain one:\n{}",
                head(&d, 30)
            );
        }
        // Without the flag, Accept-Encoding is ignored.
        let r = get(
            &plain.metrics_url(""),
            &[("Accept", accept), ("Accept-Encoding", "gzip")],
            T,
        )
        .await
        .expect("scrape");
        assert_eq!(
            r.header("content-encoding"),
            None,
            "{name} without the flag"
        );
        assert!(diff_families(&identity.text(), &r.text(), |_| true).is_none());
    }
    // gzip;q=… is still gzip.
    let r = get(
        &gz.metrics_url(""),
        &[("Accept-Encoding", "deflate, gzip;q=0.5")],
        T,
    )
    .await
    .expect("scrape");
    assert_eq!(r.header("content-encoding"), Some("gzip"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_routes_and_resource_filters() {
    init();
    // `kubestate sim` as a process, every resource request delayed so the sync takes seconds.
    let mut sim = SimProc::spawn(vec![
        "--synthesize".into(),
        "--preset".into(),
        "small".into(),
        "--fault-latency".into(),
        "3s".into(),
    ])
    .await
    .expect("kubestate sim starts");
    let args = exporter_base_args(&sim.kubeconfig.to_string_lossy());
    let mut exporter = ExporterProc::spawn(args.clone())
        .await
        .expect("exporter starts");

    let readyz = get(&exporter.telemetry_url("/readyz"), &[], T)
        .await
        .expect("readyz");
    assert_eq!(readyz.status, 503, "/readyz before the initial sync");
    exporter
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("sync");

    let r = get(&exporter.url("/healthz"), &[], T)
        .await
        .expect("healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let r = get(&exporter.url("/livez"), &[], T).await.expect("livez");
    assert_eq!(r.status, 200, "/livez with the API server up");
    let r = get(&exporter.url("/"), &[], T).await.expect("landing");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/metrics"), "landing page links /metrics");
    for path in ["/nope", "/metrics/", "/healthz/x"] {
        let r = get(&exporter.url(path), &[], T).await.expect("get");
        assert_eq!(r.status, 404, "{path}");
    }
    let r = get(&exporter.telemetry_url("/metrics"), &[], T)
        .await
        .expect("telemetry");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("kube_state_metrics_build_info"));

    // The world, as the sim serves it: the oracle for the whole body and the filtered ones.
    let world = get(&format!("{}/_sim/world", sim.base_url), &[], T)
        .await
        .expect("world");
    let world: serde_json::Value = serde_json::from_slice(&world.body).expect("world JSON");
    let objects: Vec<Vec<u8>> = world["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| serde_json::to_vec(o).expect("serialize"))
        .collect();
    let expect = |filter: ResourceFilter| oracle(&args, objects.iter().map(Vec::as_slice), &filter);
    let cases = [
        ("", ResourceFilter::default()),
        (
            "?resources=pods",
            ResourceFilter {
                include: Some(vec!["pods".into()]),
                exclude: vec![],
            },
        ),
        (
            "?exclude_resources=pods",
            ResourceFilter {
                include: None,
                exclude: vec!["pods".into()],
            },
        ),
        (
            "?resources=pods,nodes&exclude_resources=pods",
            ResourceFilter {
                include: Some(vec!["pods".into(), "nodes".into()]),
                exclude: vec!["pods".into()],
            },
        ),
    ];
    for (query, filter) in cases {
        let body = scrape(&exporter.metrics_url(query), "text/plain")
            .await
            .text();
        let want = expect(filter);
        assert!(!want.is_empty());
        if let Some(d) = diff_families(&want, &body, |_| true) {
            panic!("/metrics{query} differs from the oracle:\n{}", head(&d, 30));
        }
    }
    let pods_only = scrape(&exporter.metrics_url("?resources=pods"), "text/plain")
        .await
        .text();
    assert!(families(&pods_only)
        .keys()
        .all(|t| t.starts_with("# TYPE kube_pod_")));
    let no_pods = scrape(
        &exporter.metrics_url("?exclude_resources=pods"),
        "text/plain",
    )
    .await
    .text();
    assert!(!no_pods.contains("\nkube_pod_info{"));
    assert!(no_pods.contains("\nkube_node_info{"));

    // The API server goes away: /livez turns 503, /healthz stays 200, /metrics keeps serving.
    sim.kill();
    let url = exporter.url("/livez");
    wait_for("/livez 503 after the API server died", T, || async {
        get(&url, &[], T).await.is_ok_and(|r| r.status == 503)
    })
    .await
    .expect("livez");
    let r = get(&exporter.url("/healthz"), &[], T)
        .await
        .expect("healthz");
    assert_eq!(r.status, 200);
    let r = scrape(&exporter.metrics_url(""), "text/plain").await;
    assert!(diff_families(&expect(ResourceFilter::default()), &r.text(), |_| true).is_none());
    assert!(exporter.running(), "the exporter survives its API server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_fail_at_startup_naming_the_flag() {
    let dir = TempDir::new("flags").expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "resources: {pods: {}}\nport: \"eighty\"\n").expect("write config");
    let base = exporter_base_args("http://127.0.0.1:9");
    let cases: Vec<(Vec<String>, &[&str])> = vec![
        (vec!["--resources=podz".into()], &["podz", "--resources"]),
        (
            vec![
                "--metric-allowlist=kube_pod_.*".into(),
                "--metric-denylist=kube_node_.*".into(),
            ],
            &["allowlist", "denylist"],
        ),
        (
            vec!["--server-write-timeout=10".into()],
            &["--server-write-timeout"],
        ),
        (
            vec!["--metric-labels-allowlist=pods=[app".into()],
            &["--metric-labels-allowlist"],
        ),
        (
            vec!["--metric-labels-allowlist=pods=[a*b*c]".into()],
            &["--metric-labels-allowlist"],
        ),
        (
            vec![format!("--config={}", config.display())],
            &["--config", "port"],
        ),
        (vec!["--no-such-flag".into()], &["--no-such-flag"]),
    ];
    let mut failures = Vec::new();
    for (extra, needles) in cases {
        let mut args = base.clone();
        args.extend(extra.iter().cloned());
        let (code, out) = run_to_exit(args, T).await;
        let named = needles.iter().all(|n| out.contains(n));
        if code.is_none() || code == Some(0) || !named {
            failures.push(format!(
                "{extra:?}: exit code {code:?}, expected the message to name {needles:?}:\n{}",
                head(&out, 10)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_adds_changes_and_deletes_reach_metrics() {
    let (sim, exporter, args) = small_setup(&[]).await;
    let source = Source::Http(exporter.metrics_url(""));
    converge(&source, &sim, &args, CONVERGE)
        .await
        .expect("initial state");

    let c = change_world(&sim, "churn-a", 20);
    let (ns, name) = c.created_pod.clone();
    let info = format!("kube_pod_info{{namespace=\"{ns}\",pod=\"{name}\"");
    let (dns, dname) = c.deleted_pod.clone();
    let gone = format!("kube_pod_info{{namespace=\"{dns}\",pod=\"{dname}\"");
    let (sns, sname, replicas) = c.scaled_deployment.clone();
    let scaled = format!(
        "kube_deployment_spec_replicas{{namespace=\"{sns}\",deployment=\"{sname}\"}} {replicas}\n"
    );
    let url = exporter.metrics_url("");
    let last = Mutex::new(String::new());
    let seen = wait_for(
        "the created pod, the deleted pod and the new replicas",
        T,
        || {
            let (url, info, gone, scaled) = (&url, &info, &gone, &scaled);
            let last = &last;
            async move {
                let Ok(r) = get(url, &[], T).await else {
                    return false;
                };
                let body = r.text();
                let ok = body.contains(info.as_str())
                    && !body.contains(gone.as_str())
                    && body.contains(scaled.as_str());
                *last.lock().expect("lock") = body;
                ok
            }
        },
    )
    .await;
    if let Err(e) = seen {
        let last = last.lock().expect("lock");
        panic!(
            "{e}: created seen={}, deleted still there={}, replicas seen={}",
            last.contains(&info),
            last.contains(&gone),
            last.contains(&scaled)
        );
    }
    // Then the created pod goes away again, and more churn.
    assert!(sim.delete("pods", &ns, &name).expect("delete"));
    sim.churn_steps(30);
    let url2 = url.clone();
    wait_for("the created pod to disappear", T, || async {
        get(&url2, &[], T)
            .await
            .is_ok_and(|r| !r.text().contains(info.as_str()))
    })
    .await
    .expect("pod deleted from /metrics");
    let took = converge(&source, &sim, &args, CONVERGE)
        .await
        .expect("converges");
    eprintln!("converged {took:?} after the last change");
}
