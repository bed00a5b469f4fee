//! The explorer's pages and JSON API through the real main server: routes, content types,
//! queries, pins, objects, the live stream, and the same basic auth as `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use kubestate_explorer::{Config, Explorer};
use kubestate_http::{serve_main, Histogram, Pages, Settings, Shared, WebSecurity};
use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
use kubestate_store::{Exposition, StoreFactory, StoreInfo, TextStoreFactory};
use kubestate_testkit::http::get;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T: Duration = Duration::from_secs(10);

fn world() -> Arc<Exposition> {
    let exposition = Arc::new(Exposition::new());
    let factory = TextStoreFactory::new(exposition.clone());
    let families: Vec<FamilyDesc> = ["kube_pod_info", "kube_pod_status_phase"]
        .iter()
        .map(|n| FamilyDesc {
            name: n.to_string(),
            help: format!("{n} help"),
            ty: MetricType::Gauge,
            stability: Stability::Stable,
            deprecated_since: None,
        })
        .collect();
    let pods = factory.create(&StoreInfo {
        resource: "pods".into(),
        namespace: None,
        index: 0,
        families: families.into(),
    });
    for (ns, name, phase) in [
        ("a", "p1", "Running"),
        ("a", "p2", "Pending"),
        ("b", "p3", "Running"),
    ] {
        let mut m = ObjectMetrics::new();
        m.identity_label("namespace", ns);
        m.identity_label("pod", name);
        m.begin_family();
        m.sample(&[("node", "n1")], 1.0);
        m.begin_family();
        for p in ["Pending", "Running"] {
            m.sample(&[("phase", p)], f64::from(u8::from(p == phase)));
        }
        pods.apply(&format!("uid-{name}"), &m);
    }
    exposition
}

async fn serve(security: WebSecurity) -> String {
    let exposition = world();
    let telemetry = Arc::new(kubestate_engine::Telemetry::default());
    let config = Config {
        interval: Duration::from_millis(100),
        ..Config::default()
    };
    let explorer = Explorer::start(exposition.clone(), telemetry.clone(), config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shared = Arc::new(Shared {
        exposition,
        telemetry,
        liveness: None,
        build_info: Vec::new(),
        histogram: Histogram::default(),
        settings: Settings::default(),
        security: kubestate_http::SecuritySlot::from_pointee(security),
        authorizer: None,
        pages: Some(Arc::new(explorer) as Arc<dyn Pages>),
    });
    tokio::spawn(serve_main(listener, shared, std::future::pending::<()>()));
    format!("http://{addr}")
}

async fn json(url: &str) -> (u16, Value) {
    let r = get(url, &[], T).await.expect("get");
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

/// One request with any method on a fresh connection; returns the status and the body.
async fn send(base: &str, method: &str, path: &str) -> (u16, Value) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .expect("in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().expect("status");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // The body is small and sent with a length, or as one chunk.
    let body = body
        .find('{')
        .or_else(|| body.find('['))
        .map_or("", |i| &body[i..]);
    let end = body.rfind(['}', ']']).map_or(0, |i| i + 1);
    (
        status,
        serde_json::from_str(&body[..end]).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn pages_and_json_api() {
    let base = serve(WebSecurity::default()).await;
    let r = get(&format!("{base}/"), &[], T).await.expect("index");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("kubestate explorer") && r.text().contains("/metrics"));
    for (asset, ct) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ("uPlot.min.css", "text/css; charset=utf-8"),
    ] {
        let r = get(&format!("{base}/explorer/assets/{asset}"), &[], T)
            .await
            .expect("asset");
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(ct)),
            "{asset}"
        );
        assert!(r.body.len() > 500, "{asset}");
    }
    assert_eq!(
        get(&format!("{base}/explorer/assets/nope.js"), &[], T)
            .await
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        get(&format!("{base}/api/v1/explorer/nope"), &[], T)
            .await
            .unwrap()
            .status,
        404
    );
    // /metrics is untouched.
    let r = get(&format!("{base}/metrics"), &[], T)
        .await
        .expect("metrics");
    assert!(r
        .text()
        .contains("kube_pod_info{namespace=\"a\",pod=\"p1\",node=\"n1\"} 1"));

    // A query, a page of it, and a bad one.
    let (s, v) = json(&format!(
        "{base}/api/v1/explorer/query?q=kube_pod_info%7Bnamespace%3D%22a%22%7D"
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["kind"].as_str(), v["total_rows"].as_u64()),
        (Some("series"), Some(2))
    );
    assert_eq!(v["rows"][0]["labels"][1], serde_json::json!(["pod", "p1"]));
    let q = "sum%20by%20(phase)%20(kube_pod_status_phase)";
    let (_, v) = json(&format!(
        "{base}/api/v1/explorer/query?q={q}&offset=1&limit=1"
    ))
    .await;
    assert_eq!(v["total_rows"], 2);
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        v["rows"][0]["labels"],
        serde_json::json!([["phase", "Running"]])
    );
    assert_eq!(v["rows"][0]["value"], 2.0);
    let (s, v) = json(&format!(
        "{base}/api/v1/explorer/query?q=kube_pod_info%7Bpod%3D"
    ))
    .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("quoted string")),
        "{v}"
    );
    assert_eq!(v["pos"], 18);
    let (s, _) = json(&format!("{base}/api/v1/explorer/query?q=x&limit=abc")).await;
    assert_eq!(s, 400);

    // Objects, one object, families.
    let (_, v) = json(&format!(
        "{base}/api/v1/explorer/objects?resource=pods&q=a/"
    ))
    .await;
    assert_eq!(v["total"], 2);
    let (s, v) = json(&format!(
        "{base}/api/v1/explorer/object?resource=pods&namespace=b&name=p3"
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["uid"].as_str(), v["series"].as_u64()),
        (Some("uid-p3"), Some(3))
    );
    let (s, _) = json(&format!(
        "{base}/api/v1/explorer/object?resource=pods&namespace=b&name=zz"
    ))
    .await;
    assert_eq!(s, 404);
    let (_, v) = json(&format!("{base}/api/v1/explorer/families")).await;
    assert_eq!(v[0]["name"], "kube_pod_info");

    // Pins: add, list, graph, remove.
    let (s, pin) = send(
        &base,
        "POST",
        "/api/v1/explorer/pins?q=count%20by%20(namespace)%20(kube_pod_info)",
    )
    .await;
    assert_eq!(s, 201, "{pin}");
    let id = pin["id"].as_u64().expect("pin id");
    let (s, _) = send(&base, "POST", "/api/v1/explorer/pins?q=bad%7B").await;
    assert_eq!(s, 400);
    let (_, pins) = json(&format!("{base}/api/v1/explorer/pins")).await;
    assert_eq!(pins.as_array().map(Vec::len), Some(1));
    // Samples arrive every 100 ms here: the overview, the history and the pinned series fill.
    let mut history = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        history = json(&format!("{base}/api/v1/explorer/history")).await.1;
        if history["series"][format!("pin.{id}.{{namespace=\"a\"}}")].is_array()
            && history["times"].as_array().is_some_and(|t| t.len() >= 3)
        {
            break;
        }
    }
    let a = &history["series"][format!("pin.{id}.{{namespace=\"a\"}}")];
    assert_eq!(
        a.as_array().and_then(|a| a.last()),
        Some(&serde_json::json!(2.0)),
        "{history}"
    );
    assert_eq!(
        history["series"]["pods.phase.Running"]
            .as_array()
            .and_then(|a| a.last()),
        Some(&serde_json::json!(2.0))
    );
    let (_, o) = json(&format!("{base}/api/v1/explorer/overview")).await;
    assert_eq!(
        (o["objects"].as_u64(), o["series"].as_u64()),
        (Some(3), Some(9))
    );
    assert_eq!(o["pods_by_phase"]["Pending"], 1);
    // The stores did not change since the first pass, which read their 3 objects: later
    // passes read none.
    assert_eq!(o["sample_read"], 0, "{o}");
    let (s, p) = json(&format!("{base}/api/v1/explorer/problems/pods-not-running")).await;
    assert_eq!((s, p["count"].as_u64()), (200, Some(1)));
    assert_eq!(p["items"][0]["name"], "p2");
    let (s, _) = send(&base, "DELETE", &format!("/api/v1/explorer/pins/{id}")).await;
    assert_eq!(s, 200);
    let (s, _) = send(&base, "DELETE", &format!("/api/v1/explorer/pins/{id}")).await;
    assert_eq!(s, 404);

    // The live stream sends ticks.
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /api/v1/explorer/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut seen = String::new();
    let mut buf = [0u8; 8192];
    while !seen.contains("event: tick") {
        let n = tokio::time::timeout(T, s.read(&mut buf))
            .await
            .expect("tick in time")
            .expect("read");
        assert!(n > 0, "stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        seen.contains("text/event-stream") && seen.contains("\"pods.phase.Running\":2.0"),
        "{seen}"
    );
}

#[tokio::test]
async fn behind_the_same_basic_auth_as_metrics() {
    let hash = bcrypt::hash("pw", 4).expect("hash");
    let yaml = format!("basic_auth_users:\n  op: '{hash}'\n");
    let security = WebSecurity::parse(&yaml, std::path::Path::new("web.yml")).expect("valid");
    let base = serve(security).await;
    for path in [
        "/",
        "/explorer/assets/app.js",
        "/api/v1/explorer/overview",
        "/metrics",
    ] {
        let r = get(&format!("{base}{path}"), &[], T).await.expect("get");
        assert_eq!(r.status, 401, "{path}");
        // "op:pw" in base64.
        let r = get(
            &format!("{base}{path}"),
            &[("Authorization", "Basic b3A6cHc=")],
            T,
        )
        .await
        .expect("get");
        assert_eq!(r.status, 200, "{path}");
    }
}
