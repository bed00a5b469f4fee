//! Kubernetes REST protocol behaviour of the sim: discovery, get/list, pagination, resourceVersion
//! semantics, watches (replay, initial events, bookmarks, timeouts), selectors, Status bodies.

mod common;

use std::time::Duration;

use common::{get, pod, request, Next, Watch};
use kubestate_sim::{Sim, SimConfig, SimHandle};
use serde_json::{json, Value};

async fn sim_with(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("sim starts")
}

async fn sim_with_pods() -> SimHandle {
    let sim = sim_with(SimConfig::default()).await;
    for (ns, name, app) in [
        ("a", "p1", "web"),
        ("a", "p2", "api"),
        ("b", "p3", "web"),
        ("b", "p4", "db"),
        ("c", "p5", "web"),
    ] {
        sim.apply(pod(ns, name, json!({"app": app}))).unwrap();
    }
    sim
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn assert_status(body: &Value, code: u64, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn discovery_documents() {
    let sim = sim_with(SimConfig::default()).await;
    let a = sim.addr();
    let v = get(a, "/version").await.json();
    assert_eq!(v["gitVersion"], "v1.36.2");
    assert_eq!(v["major"], "1");
    assert_eq!(v["minor"], "36");
    let api = get(a, "/api").await.json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    let apis = get(a, "/apis").await.json();
    assert_eq!(apis["kind"], "APIGroupList");
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"apps") && groups.contains(&"admissionregistration.k8s.io"));
    let core = get(a, "/api/v1").await.json();
    assert_eq!(core["kind"], "APIResourceList");
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["singularName"], "pod");
    assert!(pods["verbs"].as_array().unwrap().contains(&json!("watch")));
    let hpa = get(a, "/apis/autoscaling/v2").await.json();
    assert_eq!(hpa["groupVersion"], "autoscaling/v2");
    assert_eq!(hpa["resources"][0]["name"], "horizontalpodautoscalers");
    let nodes = get(a, "/api/v1").await.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "nodes")
        .unwrap()["namespaced"]
        .clone();
    assert_eq!(nodes, false);
    for p in ["/healthz", "/livez", "/readyz"] {
        let r = get(a, p).await;
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    }
    for p in [
        "/nope",
        "/apis/nope.io/v1",
        "/apis/apps/v7",
        "/api/v1/nopes",
        "/apis/apps/v1/deployments/x/y/z",
    ] {
        let r = get(a, p).await;
        assert_eq!(r.status, 404, "{p}");
        assert_status(&r.json(), 404, "NotFound");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn list_get_and_not_found() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let r = get(a, "/api/v1/pods").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let l = r.json();
    assert_eq!(l["kind"], "PodList");
    assert_eq!(l["apiVersion"], "v1");
    assert_eq!(
        l["metadata"]["resourceVersion"],
        sim.resource_version().to_string()
    );
    assert_eq!(names(&l), ["p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(l["items"][0]["kind"], "Pod");
    assert_eq!(l["items"][0]["apiVersion"], "v1");
    assert!(l["metadata"].get("continue").is_none());
    let l = get(a, "/api/v1/namespaces/b/pods").await.json();
    assert_eq!(names(&l), ["p3", "p4"]);
    let p = get(a, "/api/v1/namespaces/b/pods/p4").await.json();
    assert_eq!(p["metadata"]["name"], "p4");
    assert_eq!(p["metadata"]["labels"]["app"], "db");
    let r = get(a, "/api/v1/namespaces/b/pods/zzz").await;
    assert_eq!(r.status, 404);
    let s = r.json();
    assert_status(&s, 404, "NotFound");
    assert_eq!(s["message"], "pods \"zzz\" not found");
    assert_eq!(s["details"], json!({"name": "zzz", "kind": "pods"}));
    // Cluster-scoped resources have no namespaced path; namespaced ones no cluster-level get.
    assert_eq!(get(a, "/api/v1/namespaces/a/nodes").await.status, 404);
    assert_eq!(get(a, "/api/v1/pods/p1").await.status, 404);
    // Empty lists of every group work.
    let l = get(a, "/apis/apps/v1/deployments").await.json();
    assert_eq!(l["kind"], "DeploymentList");
    assert_eq!(l["items"], json!([]));
    // Writes through the API are refused with a Status.
    let r = request(a, "DELETE", "/api/v1/namespaces/a/pods/p1", &[], None).await;
    assert_eq!(r.status, 405);
    assert_status(&r.json(), 405, "MethodNotAllowed");
    sim.shutdown().await;
}

#[tokio::test]
async fn content_negotiation() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let r = request(
        a,
        "GET",
        "/api/v1/pods",
        &[(
            "Accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    // Built-in kinds: protobuf first, as client-go asks (details in tests/protobuf.rs).
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.kubernetes.protobuf")
    );
    assert_eq!(&r.body[..4], b"k8s\0");
    let r = request(
        a,
        "GET",
        "/api/v1/pods",
        &[("Accept", "application/json")],
        None,
    )
    .await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["kind"], "PodList");
    let r = request(
        a,
        "GET",
        "/apis",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        None,
    )
    .await;
    assert_eq!(r.json()["kind"], "APIGroupList");
    let r = request(
        a,
        "GET",
        "/api",
        &[("Accept", "application/vnd.kubernetes.protobuf")],
        None,
    )
    .await;
    assert_eq!(r.status, 406);
    assert_status(&r.json(), 406, "NotAcceptable");
    let r = request(a, "GET", "/api/v1/pods", &[("Accept", "text/html")], None).await;
    assert_eq!(r.status, 406);
    assert_status(&r.json(), 406, "NotAcceptable");
    sim.shutdown().await;
}

#[tokio::test]
async fn pagination_is_consistent_and_tokens_expire() {
    let sim = sim_with(SimConfig {
        continue_ttl: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    for i in 0..5 {
        sim.apply(pod("a", &format!("p{i}"), json!({}))).unwrap();
    }
    let a = sim.addr();
    let first = get(a, "/api/v1/pods?limit=2").await.json();
    assert_eq!(names(&first), ["p0", "p1"]);
    let rv = first["metadata"]["resourceVersion"].clone();
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let tok = first["metadata"]["continue"].as_str().unwrap().to_string();
    // Changes after the first page do not show up in later pages.
    sim.apply(pod("a", "p00", json!({}))).unwrap();
    assert!(sim.delete("pods", "a", "p4").unwrap());
    let second = get(a, &format!("/api/v1/pods?limit=2&continue={tok}"))
        .await
        .json();
    assert_eq!(names(&second), ["p2", "p3"]);
    assert_eq!(second["metadata"]["resourceVersion"], rv);
    assert_eq!(second["metadata"]["remainingItemCount"], 1);
    let tok2 = second["metadata"]["continue"].as_str().unwrap().to_string();
    let third = get(a, &format!("/api/v1/pods?limit=2&continue={tok2}"))
        .await
        .json();
    assert_eq!(names(&third), ["p4"]);
    assert!(third["metadata"].get("continue").is_none());
    // A fresh list sees the changes.
    assert_eq!(
        names(&get(a, "/api/v1/pods").await.json()),
        ["p0", "p00", "p1", "p2", "p3"]
    );
    // Bad tokens and bad combinations.
    let r = get(a, "/api/v1/pods?limit=2&continue=garbage").await;
    assert_eq!(r.status, 400);
    assert_status(&r.json(), 400, "BadRequest");
    let fresh = get(a, "/api/v1/pods?limit=2").await.json();
    let tok = fresh["metadata"]["continue"].as_str().unwrap().to_string();
    let r = get(
        a,
        &format!("/api/v1/pods?limit=2&continue={tok}&resourceVersion=5"),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = get(
        a,
        &format!("/api/v1/namespaces/a/configmaps?limit=2&continue={tok}"),
    )
    .await;
    assert_eq!(r.status, 400, "token of another resource");
    // Expiry after the TTL.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = get(a, &format!("/api/v1/pods?limit=2&continue={tok}")).await;
    assert_eq!(r.status, 410);
    assert_status(&r.json(), 410, "Expired");
    let r = get(a, "/api/v1/pods?limit=abc").await;
    assert_eq!(r.status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn resource_version_semantics() {
    let sim = sim_with(SimConfig {
        watch_window: 3,
        ..SimConfig::default()
    })
    .await;
    let a = sim.addr();
    sim.apply(pod("a", "x", json!({"v": "1"}))).unwrap();
    let rv1 = sim.resource_version();
    sim.apply(pod("a", "x", json!({"v": "2"}))).unwrap();
    sim.apply(pod("a", "y", json!({}))).unwrap();
    // Exact: the state at rv1.
    let l = get(
        a,
        &format!("/api/v1/pods?resourceVersion={rv1}&resourceVersionMatch=Exact"),
    )
    .await
    .json();
    assert_eq!(names(&l), ["x"]);
    assert_eq!(l["items"][0]["metadata"]["labels"]["v"], "1");
    assert_eq!(l["metadata"]["resourceVersion"], rv1.to_string());
    // NotOlderThan / "0": current state.
    for q in [
        format!("resourceVersion={rv1}&resourceVersionMatch=NotOlderThan"),
        "resourceVersion=0".to_string(),
        format!("resourceVersion={rv1}"),
    ] {
        let l = get(a, &format!("/api/v1/pods?{q}")).await.json();
        assert_eq!(names(&l), ["x", "y"], "{q}");
    }
    // Push rv1 out of the 3-event window → 410 Expired for Exact.
    for i in 0..3 {
        sim.apply(pod("a", &format!("z{i}"), json!({}))).unwrap();
    }
    let r = get(
        a,
        &format!("/api/v1/pods?resourceVersion={rv1}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(r.status, 410);
    assert_status(&r.json(), 410, "Expired");
    // Invalid combinations → 422 Invalid / 400.
    let r = get(a, "/api/v1/pods?resourceVersionMatch=Exact").await;
    assert_eq!(r.status, 422);
    assert_status(&r.json(), 422, "Invalid");
    let r = get(
        a,
        "/api/v1/pods?resourceVersion=0&resourceVersionMatch=Exact",
    )
    .await;
    assert_eq!(r.status, 422);
    let r = get(
        a,
        "/api/v1/pods?resourceVersion=1&resourceVersionMatch=Sometimes",
    )
    .await;
    assert_eq!(r.status, 422);
    let r = get(a, "/api/v1/pods?resourceVersion=abc").await;
    assert_eq!(r.status, 400);
    // Newer than current: waits ~3 s, then 504 "Too large resource version".
    let future = sim.resource_version() + 100;
    let t = std::time::Instant::now();
    let r = get(
        a,
        &format!("/api/v1/pods?resourceVersion={future}&resourceVersionMatch=NotOlderThan"),
    )
    .await;
    assert_eq!(r.status, 504);
    let s = r.json();
    assert_status(&s, 504, "Timeout");
    assert!(s["message"]
        .as_str()
        .unwrap()
        .contains("Too large resource version"));
    assert_eq!(
        s["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    assert!(t.elapsed() >= Duration::from_secs(2));
    sim.shutdown().await;
}

#[tokio::test]
async fn list_selectors() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let cases = [
        ("labelSelector=app%3Dweb", vec!["p1", "p3", "p5"]),
        ("labelSelector=app!%3Dweb", vec!["p2", "p4"]),
        ("labelSelector=app+in+(api,db)", vec!["p2", "p4"]),
        ("labelSelector=app%20notin%20(web)", vec!["p2", "p4"]),
        ("labelSelector=app", vec!["p1", "p2", "p3", "p4", "p5"]),
        ("labelSelector=!app", vec![]),
        ("fieldSelector=metadata.namespace%3Db", vec!["p3", "p4"]),
        ("fieldSelector=metadata.namespace%3D%3Db", vec!["p3", "p4"]),
        (
            "fieldSelector=metadata.namespace!%3Da,metadata.namespace!%3Dc",
            vec!["p3", "p4"],
        ),
        ("fieldSelector=metadata.name%3Dp5", vec!["p5"]),
        (
            "fieldSelector=status.phase%3DRunning&labelSelector=app%3Ddb",
            vec!["p4"],
        ),
        (
            "fieldSelector=spec.nodeName%3D",
            vec!["p1", "p2", "p3", "p4", "p5"],
        ),
    ];
    for (q, want) in cases {
        let l = get(a, &format!("/api/v1/pods?{q}")).await.json();
        assert_eq!(names(&l), want, "{q}");
    }
    let r = get(a, "/api/v1/pods?fieldSelector=spec.bogus%3Dx").await;
    assert_eq!(r.status, 400);
    let s = r.json();
    assert_status(&s, 400, "BadRequest");
    assert_eq!(s["message"], "field label not supported: spec.bogus");
    let r = get(
        a,
        "/api/v1/namespaces/a/configmaps?fieldSelector=spec.nodeName%3Dx",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = get(a, "/api/v1/pods?labelSelector=a%3D%3D%3Db").await;
    assert_eq!(r.status, 400);
    // Filtered paginated lists have no remainingItemCount.
    let l = get(a, "/api/v1/pods?labelSelector=app%3Dweb&limit=1")
        .await
        .json();
    assert_eq!(names(&l), ["p1"]);
    assert!(l["metadata"]["continue"].is_string());
    assert!(l["metadata"].get("remainingItemCount").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_replays_and_streams_changes() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={rv}")).await;
    assert_eq!(w.status, 200);
    assert!(w
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json"));
    sim.apply(pod("a", "new", json!({}))).unwrap();
    let mut changed = pod("a", "p1", json!({"app": "web", "x": "y"}));
    changed["status"]["phase"] = json!("Failed");
    sim.apply(changed).unwrap();
    sim.delete("pods", "b", "p3").unwrap();
    let e = w.event().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("new"))
    );
    let e = w.event().await;
    assert_eq!(e["type"], "MODIFIED");
    assert_eq!(e["object"]["status"]["phase"], "Failed");
    let e = w.event().await;
    assert_eq!(e["type"], "DELETED");
    assert_eq!(e["object"]["metadata"]["name"], "p3");
    assert_eq!(
        e["object"]["metadata"]["resourceVersion"],
        sim.resource_version().to_string()
    );
    // Replay from an older RV gives the same events.
    let mut w2 = Watch::open(
        a,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let evs = w2.until_end().await;
    let types: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"]);
    // Namespaced watch path.
    let mut w3 = Watch::open(
        a,
        &format!("/api/v1/namespaces/b/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let evs = w3.until_end().await;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["object"]["metadata"]["name"], "p3");
    // Legacy /watch/ path prefix.
    let mut w4 = Watch::open(
        a,
        &format!("/api/v1/watch/namespaces/a/pods?resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(w4.until_end().await.len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_from_rv_zero_sends_current_objects_first() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    for q in ["resourceVersion=0", ""] {
        let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&{q}")).await;
        let mut added = Vec::new();
        for _ in 0..5 {
            let e = w.event().await;
            assert_eq!(e["type"], "ADDED");
            added.push(
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        assert_eq!(added, ["p1", "p2", "p3", "p4", "p5"]);
        assert!(matches!(
            w.next(Duration::from_millis(200)).await,
            Next::Timeout
        ));
        sim.apply(pod("c", "later", json!({}))).unwrap();
        let e = w.event().await;
        assert_eq!(
            (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
            (Some("ADDED"), Some("later"))
        );
        sim.delete("pods", "c", "later").unwrap();
        assert_eq!(w.event().await["type"], "DELETED");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_list_initial_events_end_with_annotated_bookmark() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w = Watch::open(
        a,
        "/api/v1/namespaces/a/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=",
    )
    .await;
    assert_eq!(w.status, 200);
    for name in ["p1", "p2"] {
        let e = w.event().await;
        assert_eq!(e["type"], "ADDED");
        assert_eq!(e["object"]["metadata"]["name"], name);
    }
    let b = w.event().await;
    assert_eq!(b["type"], "BOOKMARK");
    assert_eq!(b["object"]["kind"], "Pod");
    assert_eq!(b["object"]["apiVersion"], "v1");
    assert_eq!(b["object"]["metadata"]["resourceVersion"], rv.to_string());
    assert_eq!(
        b["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    sim.apply(pod("a", "p9", json!({}))).unwrap();
    let e = w.event().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("p9"))
    );
    // Validation like the real server.
    let r = get(
        a,
        "/api/v1/pods?watch=1&sendInitialEvents=true&allowWatchBookmarks=true",
    )
    .await;
    assert_eq!(r.status, 422);
    assert_status(&r.json(), 422, "Invalid");
    let r = get(
        a,
        "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
    )
    .await;
    assert_eq!(r.status, 422);
    let r = get(
        a,
        "/api/v1/pods?watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan",
    )
    .await;
    assert_eq!(r.status, 422);
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_bookmarks_and_timeout() {
    let sim = sim_with(SimConfig {
        bookmark_interval: Duration::from_millis(100),
        ..SimConfig::default()
    })
    .await;
    sim.apply(pod("a", "p", json!({}))).unwrap();
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w = Watch::open(
        a,
        &format!(
            "/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=1"
        ),
    )
    .await;
    let b = w.event().await;
    assert_eq!(b["type"], "BOOKMARK");
    assert_eq!(b["object"]["metadata"]["resourceVersion"], rv.to_string());
    assert!(b["object"]["metadata"].get("annotations").is_none());
    sim.apply(pod("a", "q", json!({}))).unwrap();
    let mut saw_added = false;
    let mut last_bookmark_rv = 0u64;
    let t = std::time::Instant::now();
    for e in w.until_end().await {
        match e["type"].as_str() {
            Some("ADDED") => saw_added = true,
            Some("BOOKMARK") => {
                last_bookmark_rv = e["object"]["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_added);
    assert_eq!(
        last_bookmark_rv,
        sim.resource_version(),
        "bookmarks advance"
    );
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "timeoutSeconds closes the stream"
    );
    // Without allowWatchBookmarks no bookmark arrives.
    let mut w = Watch::open(
        a,
        &format!(
            "/api/v1/pods?watch=1&resourceVersion={}&timeoutSeconds=1",
            sim.resource_version()
        ),
    )
    .await;
    assert!(w.until_end().await.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_too_old_resource_version_is_410() {
    let sim = sim_with(SimConfig {
        watch_window: 2,
        ..SimConfig::default()
    })
    .await;
    let a = sim.addr();
    sim.apply(pod("a", "p0", json!({}))).unwrap();
    let old = sim.resource_version();
    for i in 1..5 {
        sim.apply(pod("a", &format!("p{i}"), json!({}))).unwrap();
    }
    let mut w = Watch::open(a, &format!("/api/v1/pods?watch=1&resourceVersion={old}")).await;
    assert_eq!(w.status, 200);
    let e = w.event().await;
    assert_eq!(e["type"], "ERROR");
    assert_status(&e["object"], 410, "Expired");
    assert!(e["object"]["message"]
        .as_str()
        .unwrap()
        .starts_with("too old resource version"));
    assert!(matches!(w.next(Duration::from_secs(5)).await, Next::End));
    // Other resources kept their window.
    let mut w = Watch::open(
        a,
        &format!("/api/v1/configmaps?watch=1&resourceVersion={old}&timeoutSeconds=1"),
    )
    .await;
    assert!(w.until_end().await.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_selectors_filter_and_turn_non_matching_into_deleted() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let rv = sim.resource_version();
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&labelSelector=app%3Dweb"),
    )
    .await;
    sim.apply(pod("a", "p2", json!({"app": "api", "touched": "yes"})))
        .unwrap(); // not matching: nothing
    sim.apply(pod("a", "p1", json!({"app": "api"}))).unwrap(); // stops matching → DELETED
    sim.apply(pod("b", "p4", json!({"app": "web"}))).unwrap(); // starts matching → ADDED
    sim.apply(pod("c", "p5", json!({"app": "web", "v": "2"})))
        .unwrap(); // MODIFIED
    let got: Vec<(String, String)> = [w.event().await, w.event().await, w.event().await]
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("DELETED".to_string(), "p1".to_string()),
            ("ADDED".to_string(), "p4".to_string()),
            ("MODIFIED".to_string(), "p5".to_string())
        ]
    );
    let mut w = Watch::open(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}&fieldSelector=metadata.namespace!%3Da,metadata.namespace!%3Dc&timeoutSeconds=1"),
    )
    .await;
    let evs = w.until_end().await;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["object"]["metadata"]["name"], "p4");
    sim.shutdown().await;
}

#[tokio::test]
async fn crds_serve_custom_resources() {
    let sim = sim_with(SimConfig::default()).await;
    let a = sim.addr();
    sim.apply(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}}))
    .unwrap();
    sim.apply(json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "a"}, "spec": {"size": 3}}))
        .unwrap();
    let groups = get(a, "/apis").await.json();
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
    let rl = get(a, "/apis/example.com/v1").await.json();
    assert_eq!(rl["resources"][0]["name"], "widgets");
    let l = get(a, "/apis/example.com/v1/namespaces/a/widgets")
        .await
        .json();
    assert_eq!(l["kind"], "WidgetList");
    assert_eq!(l["items"][0]["spec"]["size"], 3);
    let crds = get(a, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        .await
        .json();
    assert_eq!(names(&crds), ["widgets.example.com"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn tables_for_kubectl() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let r = request(
        a,
        "GET",
        "/api/v1/namespaces/a/pods?limit=500",
        &[("Accept", accept)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let t = r.json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        cols,
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]
    );
    let rows = t["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["cells"][0], "p1");
    assert_eq!(rows[0]["cells"][1], "0/1");
    assert_eq!(rows[0]["cells"][2], "Running");
    assert_eq!(rows[0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(rows[0]["object"]["metadata"]["namespace"], "a");
    let r = request(
        a,
        "GET",
        "/api/v1/namespaces/a/pods/p2",
        &[("Accept", accept)],
        None,
    )
    .await;
    assert_eq!(r.json()["rows"][0]["cells"][0], "p2");
    // Watch: one-row tables, column definitions only in the first event.
    let rv = sim.resource_version();
    let mut w = common::Watch::open_with(
        a,
        &format!("/api/v1/pods?watch=1&resourceVersion={rv}"),
        &[("Accept", accept)],
    )
    .await;
    sim.apply(pod("a", "t1", json!({}))).unwrap();
    sim.apply(pod("a", "t2", json!({}))).unwrap();
    let e1 = w.event().await;
    assert_eq!(e1["object"]["kind"], "Table");
    assert_eq!(e1["object"]["rows"][0]["cells"][0], "t1");
    assert!(!e1["object"]["columnDefinitions"]
        .as_array()
        .unwrap()
        .is_empty());
    let e2 = w.event().await;
    assert_eq!(e2["object"]["rows"][0]["cells"][0], "t2");
    assert!(e2["object"]["columnDefinitions"]
        .as_array()
        .unwrap()
        .is_empty());
    // Plain JSON clients are unaffected.
    assert_eq!(get(a, "/api/v1/pods").await.json()["kind"], "PodList");
    sim.shutdown().await;
}
