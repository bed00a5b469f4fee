//! Fault convergence: one test per fault the simulator can inject. Each starts the small
//! synthesized world (1,000 pods) and an exporter, lets it sync, injects the fault while the
//! world changes (pods created and deleted, a deployment scaled, churn steps), clears the
//! fault, and then waits until `/metrics` equals, family by family, the oracle rendering of
//! the sim's current objects: nothing stale, nothing missing.
//!
//! The exporter runs in-process (`kubestate::exporter::start`), except in the continue-token
//! test, which needs paginated lists: the exporter always syncs with a watch-list when the
//! server supports one, so that test runs the engine itself with `watch_list: false`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{change_world, converge, init, small_world, start_sim, wait_for, Source, CONVERGE};
use kubestate::exporter::Exporter;
use kubestate::options::ExporterOptions;
use kubestate_engine::{Config, Engine};
use kubestate_sim::{FaultConfig, SimConfig, SimHandle};
use kubestate_store::{Exposition, TextStoreFactory};
use kubestate_testkit::http::get;

const SYNC: Duration = Duration::from_secs(60);
const T: Duration = Duration::from_secs(30);

struct Harness {
    sim: SimHandle,
    exporter: Exporter,
    source: Source,
    args: Vec<String>,
}

impl Harness {
    /// Sim with `cfg`, exporter with default flags, synced.
    async fn start(cfg: SimConfig) -> Harness {
        init();
        let sim = start_sim(cfg).await;
        let args: Vec<String> = Vec::new();
        let mut opts = ExporterOptions::parse_args(args.iter()).expect("flags");
        opts.host = "127.0.0.1".into();
        opts.port = 0;
        opts.telemetry_host = "127.0.0.1".into();
        opts.telemetry_port = 0;
        let client = kube_client(&sim);
        let exporter = kubestate::exporter::start(&opts, client)
            .await
            .expect("exporter starts");
        tokio::time::timeout(SYNC, exporter.wait_synced())
            .await
            .expect("initial sync within 60 s");
        let source = Source::Http(format!("http://{}/metrics", exporter.metrics_addr));
        Harness {
            sim,
            exporter,
            source,
            args,
        }
    }

    fn stores(&self) -> u64 {
        self.exporter.telemetry.stores().len() as u64
    }

    /// The telemetry body, over HTTP.
    async fn telemetry(&self) -> String {
        let url = format!("http://{}/metrics", self.exporter.telemetry_addr);
        let r = get(&url, &[], T).await.expect("telemetry scrape");
        assert_eq!(r.status, 200);
        r.text()
    }

    async fn converge(self, what: &str) {
        let took = converge(&self.source, &self.sim, &self.args, CONVERGE)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        eprintln!("{what}: converged {took:?} after the fault cleared");
        self.exporter.stop().await;
        self.sim.shutdown().await;
    }
}

fn kube_client(sim: &SimHandle) -> kube::Client {
    let url = sim.base_url().parse().expect("sim URL");
    kube::Client::try_from(kube::Config::new(url)).expect("kube client")
}

/// Sum of the samples of `family` whose line contains every one of `with`.
fn sum(text: &str, family: &str, with: &[&str]) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .filter(|l| with.iter().all(|w| l.contains(w)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_all_at_once() {
    let h = Harness::start(small_world()).await;
    let before = h.sim.stats().watches;
    let mut dropped = 0;
    for i in 0..3 {
        change_world(&h.sim, &format!("drop-{i}a"), 10);
        dropped += h.sim.faults().drop_all_watches();
        change_world(&h.sim, &format!("drop-{i}b"), 10);
    }
    assert!(
        dropped as u64 >= h.stores(),
        "the exporter's watches were open"
    );
    let sim = &h.sim;
    wait_for("the exporter to reopen its watches", T, || async {
        sim.stats().watches >= before + dropped as u64
    })
    .await
    .expect("reconnects");
    h.converge("dropped watches").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_at_a_rate() {
    let h = Harness::start(small_world()).await;
    let before = h.sim.stats().watches;
    h.sim.faults().watch_drop_rate(25.0);
    let sim = &h.sim;
    let mut round = 0;
    wait_for("30 watches dropped and reopened under churn", T, || {
        round += 1;
        change_world(sim, &format!("rate-{round}"), 5);
        async move { sim.stats().watches >= before + 30 }
    })
    .await
    .expect("drops");
    h.sim.faults().watch_drop_rate(0.0);
    h.converge("watches dropped at a rate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_to_the_next_watches() {
    let h = Harness::start(small_world()).await;
    // Every store's reconnect and its first relist attempt get a 410.
    let n = 2 * h.stores();
    h.sim.faults().gone_next_watches(n);
    change_world(&h.sim, "gone-a", 10);
    h.sim.faults().drop_all_watches();
    change_world(&h.sim, "gone-b", 10);
    let sim = &h.sim;
    let mut round = 0;
    wait_for("every 410 to be served", T, || {
        round += 1;
        if round % 10 == 0 {
            change_world(sim, &format!("gone-{round}"), 5);
        }
        async move { sim.faults().config().gone_next_watches == 0 }
    })
    .await
    .expect("410s consumed");
    h.converge("410 Gone on watches").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_continue_tokens_during_paginated_lists() {
    init();
    let sim = start_sim(small_world()).await;
    let args: Vec<String> = Vec::new();
    let opts = ExporterOptions::parse_args(args.iter()).expect("flags");
    // Paginated lists (no watch-list), 100 objects a page: pods take 10 pages.
    let config = Config {
        watch_list: false,
        page_size: 100,
        ..opts.engine_config().expect("config")
    };
    let exposition = Arc::new(Exposition::new());
    let engine = Engine::new(&config, &TextStoreFactory::new(exposition.clone())).expect("engine");
    let telemetry = engine.telemetry().clone();
    let list_errors = || {
        let mut t = Vec::new();
        telemetry.write_text(&mut t);
        sum(
            &String::from_utf8_lossy(&t),
            "kube_state_metrics_list_total",
            &["result=\"error\""],
        )
    };

    // Every page is slow and every token expires within 50 ms: no multi-page list can finish.
    let expiring = Arc::new(AtomicBool::new(true));
    let faults = sim.faults();
    faults.latency(Duration::from_millis(200));
    let (flag, f) = (expiring.clone(), faults.clone());
    let expirer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if flag.load(Ordering::Relaxed) {
                f.expire_continue_tokens();
            }
        }
    });
    let running = engine.spawn(kube_client(&sim));
    wait_for("a list to fail on an expired continue token", T, || async {
        list_errors() > 0.0
    })
    .await
    .expect("410 on continue");
    let pods_synced = || {
        telemetry
            .stores()
            .iter()
            .any(|s| s.resource == "pods" && s.is_synced())
    };
    assert!(
        !pods_synced(),
        "pods synced although every continue token expired"
    );
    expiring.store(false, Ordering::Relaxed);
    faults.latency(Duration::ZERO);
    tokio::time::timeout(SYNC, telemetry.wait_synced())
        .await
        .expect("initial sync once tokens live again");

    // Synced: change the world, then force every store to relist while tokens keep expiring.
    change_world(&sim, "continue-a", 10);
    let errors = list_errors();
    faults.latency(Duration::from_millis(200));
    expiring.store(true, Ordering::Relaxed);
    faults.gone_next_watches(engine.stores().count() as u64);
    faults.drop_all_watches();
    change_world(&sim, "continue-b", 10);
    wait_for("relists to fail on expired tokens", T, || async {
        list_errors() > errors
    })
    .await
    .expect("410 on continue during relist");
    change_world(&sim, "continue-c", 10);
    expiring.store(false, Ordering::Relaxed);
    faults.set(FaultConfig::default());
    let source = Source::Exposition(exposition);
    let took = converge(&source, &sim, &args, CONVERGE)
        .await
        .unwrap_or_else(|e| panic!("expired continue tokens: {e}"));
    eprintln!("expired continue tokens: converged {took:?} after the fault cleared");
    expirer.abort();
    drop(running);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_with_retry_after() {
    let h = Harness::start(small_world()).await;
    // kube-client's default retry layer absorbs 429s (honouring Retry-After) before the engine
    // sees them, so count them at the sim: requests that reached no get/list/watch handler.
    let answered = |s: &kubestate_sim::SimStats| s.lists + s.watches + s.gets;
    let before = h.sim.stats();
    h.sim.faults().throttle(0.6, 1);
    change_world(&h.sim, "throttle-a", 10);
    let dropped = h.sim.faults().drop_all_watches() as u64;
    change_world(&h.sim, "throttle-b", 10);
    let sim = &h.sim;
    wait_for("every watch reopened through the 429s", T, || async {
        let s = sim.stats();
        s.watches >= before.watches + dropped && s.open_watches as u64 >= dropped
    })
    .await
    .expect("reconnected");
    let after = h.sim.stats();
    let throttled = (after.requests - before.requests) - (answered(&after) - answered(&before));
    assert!(throttled >= 5, "only {throttled} requests were throttled");
    change_world(&h.sim, "throttle-c", 10);
    h.sim.faults().throttle(0.0, 1);
    h.converge("429 with Retry-After").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_to_a_fraction() {
    let h = Harness::start(small_world()).await;
    let errors = |t: &str| sum(t, "kube_state_metrics_watch_total", &["result=\"error\""]);
    let before = errors(&h.telemetry().await);
    h.sim.faults().error_fraction(0.5);
    change_world(&h.sim, "error-a", 10);
    h.sim.faults().drop_all_watches();
    change_world(&h.sim, "error-b", 10);
    let h2 = &h;
    wait_for("500s to reach the exporter", T, || async move {
        errors(&h2.telemetry().await) >= before + 5.0
    })
    .await
    .expect("500s");
    change_world(&h.sim, "error-c", 10);
    h.sim.faults().error_fraction(0.0);
    h.converge("500 to a fraction of requests").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_latency() {
    let h = Harness::start(small_world()).await;
    let before = h.sim.stats().watches;
    h.sim.faults().latency(Duration::from_millis(1500));
    let dropped = h.sim.faults().drop_all_watches() as u64;
    // The changes land while every reconnect is still waiting for its answer.
    change_world(&h.sim, "latency-a", 10);
    // /metrics keeps answering from the stores meanwhile.
    let r = get(
        &format!("http://{}/metrics", h.exporter.metrics_addr),
        &[],
        Duration::from_secs(10),
    )
    .await
    .expect("scrape during latency");
    assert_eq!(r.status, 200);
    let sim = &h.sim;
    wait_for("the delayed watches to be answered", T, || async {
        sim.stats().watches >= before + dropped && sim.stats().open_watches as u64 >= dropped
    })
    .await
    .expect("reconnected");
    change_world(&h.sim, "latency-b", 10);
    h.sim.faults().latency(Duration::ZERO);
    h.converge("added latency").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_cut_mid_object() {
    // The first streams of the initial sync are cut in the middle of an object too.
    let mut cfg = small_world();
    cfg.faults.cut_next_streams = 5;
    let h = Harness::start(cfg).await;
    assert_eq!(h.sim.faults().config().cut_next_streams, 0);
    h.sim.faults().cut_next_streams(10);
    h.sim.faults().drop_all_watches();
    let sim = &h.sim;
    let mut round = 0;
    wait_for("every cut to be used", T, || {
        round += 1;
        change_world(sim, &format!("cut-{round}"), 5);
        async move { sim.faults().config().cut_next_streams == 0 }
    })
    .await
    .expect("cuts consumed");
    change_world(&h.sim, "cut-last", 10);
    h.converge("streams cut mid-object").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_object_is_skipped_and_counted() {
    // The initial sync already carries malformed objects.
    let mut cfg = small_world();
    cfg.faults.malformed_next = 3;
    let h = Harness::start(cfg).await;
    let malformed = |t: &str| sum(t, "kubestate_malformed_objects_total", &[]);
    let first = malformed(&h.telemetry().await);
    assert!(
        first >= 3.0,
        "malformed objects counted during the initial sync: {first}"
    );
    h.sim.faults().malformed_next(5);
    h.sim.faults().drop_all_watches();
    change_world(&h.sim, "malformed-a", 10);
    let h2 = &h;
    wait_for("5 more malformed objects counted", T, || async move {
        malformed(&h2.telemetry().await) >= first + 5.0
    })
    .await
    .expect("counted");
    change_world(&h.sim, "malformed-b", 10);
    let r = get(
        &format!("http://{}/healthz", h.exporter.metrics_addr),
        &[],
        T,
    )
    .await
    .expect("still serving");
    assert_eq!(r.status, 200);
    h.converge("malformed objects").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_with_a_new_resource_version_epoch() {
    let h = Harness::start(small_world()).await;
    change_world(&h.sim, "epoch-a", 10);
    let rv = h.sim.resource_version();
    h.sim.faults().restart_epoch();
    assert!(h.sim.resource_version() >= rv + 1_000_000);
    change_world(&h.sim, "epoch-b", 10);
    h.converge("new resourceVersion epoch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_beyond_the_watch_window() {
    // The sim keeps 20 events per resource: reconnecting after 300 changes is answered
    // "too old resource version", and only a relist brings the exporter back.
    let mut cfg = small_world();
    cfg.watch_window = 20;
    let h = Harness::start(cfg).await;
    h.sim.faults().latency(Duration::from_millis(1000));
    h.sim.faults().drop_all_watches();
    change_world(&h.sim, "window", 300);
    h.sim.faults().latency(Duration::ZERO);
    h.converge("resume beyond the watch window").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_once_from_the_start() {
    // The initial sync itself runs through 410s, drops, cut streams, malformed objects, 500s
    // and latency; then a new epoch.
    let mut cfg = small_world();
    cfg.faults = FaultConfig {
        watch_drop_per_sec: 5.0,
        error_fraction: 0.2,
        latency_ms: 100,
        gone_next_watches: 20,
        cut_next_streams: 4,
        malformed_next: 4,
        ..FaultConfig::default()
    };
    let h = Harness::start(cfg).await;
    change_world(&h.sim, "all-a", 10);
    h.sim.faults().restart_epoch();
    change_world(&h.sim, "all-b", 10);
    h.sim.faults().set(FaultConfig::default());
    h.converge("every fault at once").await;
}
