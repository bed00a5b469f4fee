//! One test per fault kind, driven both through `SimHandle::faults()` and the admin endpoint.

mod common;

use std::time::{Duration, Instant};

use common::{get, pod, post_json, Next, Watch};
use kubestate_sim::{FaultConfig, Sim, SimConfig, SimHandle};
use serde_json::{json, Value};

async fn sim_with_pods(cfg: SimConfig) -> SimHandle {
    let sim = Sim::start(cfg).await.expect("sim starts");
    for i in 0..4 {
        sim.apply(pod("a", &format!("p{i}"), json!({"app": "web"})))
            .unwrap();
    }
    sim
}

async fn wait_for_open_watches(sim: &SimHandle, n: usize) {
    let t = Instant::now();
    while sim.stats().open_watches < n {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "watches never registered"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn drop_all_watches_now_ends_streams_cleanly() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w1 = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    let mut w2 = Watch::open(
        a,
        &format!("/api/v1/configmaps?watch=1&resourceVersion={rv}"),
    )
    .await;
    wait_for_open_watches(&sim, 2).await;
    assert_eq!(sim.faults().drop_all_watches(), 2);
    assert!(matches!(w1.next(Duration::from_secs(5)).await, Next::End));
    assert!(matches!(w2.next(Duration::from_secs(5)).await, Next::End));
    // Through the admin endpoint as well.
    let mut w3 = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    wait_for_open_watches(&sim, 1).await;
    let r = post_json(a, "/_sim/faults", &json!({"drop_watches_now": true})).await;
    assert_eq!(r.status, 200);
    assert!(matches!(w3.next(Duration::from_secs(5)).await, Next::End));
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_drop_rate_closes_watches_over_time() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut ws = Vec::new();
    for _ in 0..3 {
        ws.push(Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await);
    }
    wait_for_open_watches(&sim, 3).await;
    sim.faults().watch_drop_rate(50.0);
    for w in &mut ws {
        assert!(matches!(w.next(Duration::from_secs(5)).await, Next::End));
    }
    sim.faults().watch_drop_rate(0.0);
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    assert!(matches!(
        w.next(Duration::from_millis(300)).await,
        Next::Timeout
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn expire_continue_tokens_now() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let l = get(a, "/api/v1/pods?limit=1").await.json();
    let tok = l["metadata"]["continue"].as_str().unwrap().to_string();
    assert_eq!(
        get(a, &format!("/api/v1/pods?limit=1&continue={tok}"))
            .await
            .status,
        200
    );
    sim.faults().expire_continue_tokens();
    let r = get(a, &format!("/api/v1/pods?limit=1&continue={tok}")).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["reason"], "Expired");
    // New tokens work again; the admin action expires them too.
    let l = get(a, "/api/v1/pods?limit=1").await.json();
    let tok = l["metadata"]["continue"].as_str().unwrap().to_string();
    post_json(
        a,
        "/_sim/faults",
        &json!({"expire_continue_tokens_now": true}),
    )
    .await;
    assert_eq!(
        get(a, &format!("/api/v1/pods?limit=1&continue={tok}"))
            .await
            .status,
        410
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn gone_next_watches() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let rv = sim.resource_version();
    sim.faults().gone_next_watches(2);
    for _ in 0..2 {
        let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
        let e = w.event().await;
        assert_eq!(e["type"], "ERROR");
        assert_eq!(e["object"]["code"], 410);
        assert_eq!(e["object"]["kind"], "Status");
        assert!(matches!(w.next(Duration::from_secs(5)).await, Next::End));
    }
    assert_eq!(sim.faults().config().gone_next_watches, 0);
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    assert!(w.until_end().await.is_empty(), "the third watch is normal");
    sim.shutdown().await;
}

#[tokio::test]
async fn throttle_answers_429_with_retry_after() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().throttle(1.0, 7);
    let r = get(a, "/api/v1/pods").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    let s = r.json();
    assert_eq!(s["reason"], "TooManyRequests");
    assert_eq!(s["details"]["retryAfterSeconds"], 7);
    // Discovery and health are not throttled.
    assert_eq!(get(a, "/api/v1").await.status, 200);
    // A fraction: deterministic for the seed, roughly the requested share.
    sim.faults().throttle(0.5, 1);
    let mut throttled = 0;
    for _ in 0..200 {
        if get(a, "/api/v1/namespaces/a/pods/p0").await.status == 429 {
            throttled += 1;
        }
    }
    assert!(
        (60..=140).contains(&throttled),
        "{throttled} of 200 throttled"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn error_fraction_answers_500() {
    let sim = sim_with_pods(SimConfig {
        faults: FaultConfig {
            error_fraction: 1.0,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let a = sim.addr();
    let r = get(a, "/api/v1/pods").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["reason"], "InternalError");
    let r = post_json(a, "/_sim/faults", &json!({"error_fraction": 0.0})).await;
    assert_eq!(r.json()["error_fraction"], 0.0);
    assert_eq!(get(a, "/api/v1/pods").await.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_delays_requests() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().latency(Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(a, "/api/v1/pods").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    sim.faults().latency(Duration::ZERO);
    let t = Instant::now();
    get(a, "/api/v1/pods").await;
    assert!(t.elapsed() < Duration::from_millis(250));
    sim.shutdown().await;
}

#[tokio::test]
async fn cut_streams_in_the_middle_of_an_object() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().cut_next_streams(1);
    let r = get(a, "/api/v1/pods").await;
    assert_eq!(r.status, 200);
    assert!(
        !r.complete,
        "the list body is shorter than its Content-Length"
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert!(r.body.len() > 20);
    // Watch: part of the first line, then the connection breaks.
    sim.faults().cut_next_streams(1);
    let mut w = Watch::open(a, "/api/v1/pods?watch=1&resourceVersion=0").await;
    match w.next(Duration::from_secs(5)).await {
        Next::Cut(partial) => {
            assert!(!partial.is_empty());
            assert!(partial.starts_with(b"{\"type\":\"ADDED\""));
            assert!(!partial.contains(&b'\n'));
        }
        other => panic!("expected a cut stream, got {other:?}"),
    }
    // The counter is used up.
    let r = get(a, "/api/v1/pods").await;
    assert!(r.complete);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_objects_in_lists_and_watches() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    post_json(a, "/_sim/faults", &json!({"malformed_next": 2})).await;
    let l = get(a, "/api/v1/pods").await.json();
    let items = l["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "4 real items + 1 malformed");
    assert!(
        items[0]["metadata"].is_string(),
        "metadata is structurally wrong"
    );
    assert_eq!(items[0]["kind"], "Pod");
    assert!(items[1..].iter().all(|i| i["metadata"].is_object()));
    let rv = sim.resource_version();
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    let e = w.event().await;
    assert!(e["object"]["metadata"].is_string());
    sim.apply(pod("a", "after", json!({}))).unwrap();
    let e = w.event().await;
    assert_eq!(e["object"]["metadata"]["name"], "after");
    let l = get(a, "/api/v1/pods").await.json();
    assert!(l["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["metadata"].is_object()));
    sim.shutdown().await;
}

#[tokio::test]
async fn restart_epoch_jumps_rvs_closes_watches_and_expires_old_rvs() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    wait_for_open_watches(&sim, 1).await;
    let r = post_json(a, "/_sim/faults", &json!({"restart_epoch": true})).await;
    assert_eq!(r.status, 200);
    assert!(matches!(w.next(Duration::from_secs(5)).await, Next::End));
    let new_rv = sim.resource_version();
    assert!(new_rv >= rv + 1_000_000);
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    let e = w.event().await;
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    let r = get(
        a,
        &format!("/api/v1/pods?resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(r.status, 410);
    // Relisting works and watching from the new RV streams new changes.
    let l = get(a, "/api/v1/pods").await.json();
    assert_eq!(l["metadata"]["resourceVersion"], new_rv.to_string());
    assert_eq!(l["items"].as_array().unwrap().len(), 4);
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={new_rv}")).await;
    sim.apply(pod("a", "fresh", json!({}))).unwrap();
    let e = w.event().await;
    assert_eq!(
        e["object"]["metadata"]["resourceVersion"],
        (new_rv + 1).to_string()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_fault_endpoint_reads_and_resets() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let r = post_json(
        a,
        "/_sim/faults",
        &json!({"throttle_fraction": 0.25, "retry_after_secs": 3, "latency_ms": 10, "cut_next_streams": 4}),
    )
    .await;
    let c = r.json();
    assert_eq!(c["throttle_fraction"], 0.25);
    assert_eq!(c["cut_next_streams"], 4);
    let c = get(a, "/_sim/faults").await.json();
    assert_eq!(c["latency_ms"], 10);
    let c = post_json(a, "/_sim/faults", &json!({"reset": true}))
        .await
        .json();
    assert_eq!(c, serde_json::to_value(FaultConfig::default()).unwrap());
    let r = post_json(a, "/_sim/faults", &json!({"no_such_fault": 1})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["reason"], "BadRequest");
    sim.shutdown().await;
}

/// Per-resource refusals: a forbidden resource answers 403 with the RBAC wording of a real
/// API server, a "not found" one 404, while the others keep working; the admin endpoint
/// sets and clears both lists.
#[tokio::test]
async fn per_resource_403_and_404() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().forbid(&["pods"]);
    sim.faults().not_found(&["configmaps"]);
    let r = get(a, "/api/v1/pods").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["reason"], "Forbidden");
    let msg = r.json()["message"].as_str().unwrap_or("").to_string();
    assert!(
        msg.contains("cannot list resource \"pods\" in API group \"\" at the cluster scope"),
        "{msg}"
    );
    let r = get(a, "/api/v1/namespaces/a/pods?watch=1").await;
    assert_eq!(r.status, 403);
    let msg = r.json()["message"].as_str().unwrap_or("").to_string();
    assert!(
        msg.contains("cannot watch resource \"pods\" in API group \"\" in the namespace \"a\""),
        "{msg}"
    );
    assert_eq!(get(a, "/api/v1/configmaps").await.status, 404);
    assert_eq!(get(a, "/api/v1/services").await.status, 200);
    let r = post_json(
        a,
        "/_sim/faults",
        &json!({"forbidden_resources": [], "not_found_resources": []}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(get(a, "/api/v1/pods").await.status, 200);
    assert_eq!(get(a, "/api/v1/configmaps").await.status, 200);
    sim.shutdown().await;
}

/// A hidden group disappears from `/apis`, its discovery documents and resources answer
/// 404, and it comes back when unhidden.
#[tokio::test]
async fn hidden_groups_leave_discovery() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    let groups = |v: Value| -> Vec<String> {
        v["groups"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(groups(get(a, "/apis").await.json()).contains(&"batch".to_string()));
    sim.faults().hide_groups(&["batch"]);
    let listed = groups(get(a, "/apis").await.json());
    assert!(!listed.contains(&"batch".to_string()), "{listed:?}");
    assert!(listed.contains(&"apps".to_string()));
    assert_eq!(get(a, "/apis/batch").await.status, 404);
    assert_eq!(get(a, "/apis/batch/v1").await.status, 404);
    assert_eq!(get(a, "/apis/batch/v1/jobs").await.status, 404);
    assert_eq!(get(a, "/apis/apps/v1/deployments").await.status, 200);
    let r = post_json(a, "/_sim/faults", &json!({"hidden_groups": []})).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(a, "/apis/batch/v1/jobs").await.status, 200);
    sim.shutdown().await;
}

/// A stalled response sends its headers and then nothing; the next request is served.
#[tokio::test]
async fn stalled_responses_send_headers_then_nothing() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().stall_next(1);
    let mut w = Watch::open(a, "/api/v1/pods").await;
    assert_eq!(w.status, 200);
    assert!(matches!(
        w.next(Duration::from_millis(500)).await,
        Next::Timeout
    ));
    assert_eq!(sim.faults().config().stall_next, 0);
    assert_eq!(get(a, "/api/v1/pods").await.status, 200);
    sim.shutdown().await;
}

/// A poisoned watch starts with one line that is not JSON, then carries the normal events.
#[tokio::test]
async fn poisoned_watches_carry_one_undecodable_event() {
    let sim = sim_with_pods(SimConfig::default()).await;
    let a = sim.addr();
    sim.faults().poison_next_watches(1);
    let rv = sim.resource_version();
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let mut raw = Vec::new();
    // Read the first line raw: the helper would panic on it, which is the point.
    let first = loop {
        match w.frame_raw(Duration::from_secs(5)).await {
            Some(b) => {
                raw.extend_from_slice(&b);
                if let Some(p) = raw.iter().position(|&c| c == b'\n') {
                    break raw[..p].to_vec();
                }
            }
            None => panic!("no poison line"),
        }
    };
    assert!(serde_json::from_slice::<Value>(&first).is_err());
    assert_eq!(sim.faults().config().poison_next_watches, 0);
    // The next watch is clean.
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    assert!(matches!(w.next(Duration::from_secs(5)).await, Next::End));
    sim.shutdown().await;
}
