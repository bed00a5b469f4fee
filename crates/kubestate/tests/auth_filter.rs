//! `--auth-filter`'s Kubernetes authorizer against a fake API server that answers TokenReviews
//! and SubjectAccessReviews: verdicts, the request it sends, and caching.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kubestate::auth::kubernetes_authorizer;
use kubestate_http::AuthDecision;
use serde_json::{json, Value};

/// Users: token `good` is `scraper` (allowed to GET /metrics), `other` is `intruder` (not
/// allowed); any other token is invalid. Counts the review calls.
async fn fake_api(calls: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let calls = calls.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let calls = calls.clone();
                    async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let path = req.uri().path().to_string();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let answer = if path.ends_with("/tokenreviews") {
                            match v["spec"]["token"].as_str() {
                                Some("good") => {
                                    json!({"status": {"authenticated": true, "user": {"username": "scraper", "groups": ["g"]}}})
                                }
                                Some("other") => {
                                    json!({"status": {"authenticated": true, "user": {"username": "intruder"}}})
                                }
                                _ => {
                                    json!({"status": {"authenticated": false, "error": "invalid token"}})
                                }
                            }
                        } else {
                            let spec = &v["spec"];
                            let ok = spec["user"] == "scraper"
                                && spec["groups"] == json!(["g"])
                                && spec["nonResourceAttributes"]["path"] == "/metrics"
                                && spec["nonResourceAttributes"]["verb"] == "get";
                            json!({"status": {"allowed": ok}})
                        };
                        let mut resp =
                            hyper::Response::new(Full::new(bytes::Bytes::from(answer.to_string())));
                        resp.headers_mut().insert(
                            "content-type",
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn verdicts_and_caching() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = fake_api(calls.clone()).await;
    let client =
        kube::Client::try_from(kube::Config::new(url.parse().expect("url"))).expect("client");
    let authorize = kubernetes_authorizer(client);
    let ask =
        |t: &str, verb: &str| authorize(t.to_string(), verb.to_string(), "/metrics".to_string());

    assert_eq!(ask("good", "get").await, AuthDecision::Allowed);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one TokenReview and one SubjectAccessReview"
    );
    assert_eq!(ask("good", "get").await, AuthDecision::Allowed);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the second scrape is answered from the cache"
    );
    assert_eq!(
        ask("good", "post").await,
        AuthDecision::Forbidden,
        "the verb comes from the method"
    );
    assert_eq!(ask("other", "get").await, AuthDecision::Forbidden);
    assert_eq!(ask("forged", "get").await, AuthDecision::Unauthenticated);

    // An unreachable API server is reported, not cached as a denial.
    let dead = kube::Client::try_from(kube::Config::new(
        "http://127.0.0.1:1".parse().expect("url"),
    ))
    .expect("client");
    let d = kubernetes_authorizer(dead)("good".into(), "get".into(), "/metrics".into()).await;
    assert!(matches!(d, AuthDecision::Unavailable(_)), "{d:?}");
}
