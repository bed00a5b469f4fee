//! `--auth-filter`: bearer tokens on `/metrics` are authenticated with a TokenReview and
//! authorized with a SubjectAccessReview for the non-resource URL, as KSM does
//! (ksm-behaviour.md §2, §4). Verdicts are cached briefly so a scrape every few seconds does
//! not cost two API calls each time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_http::{AuthDecision, Authorizer};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// How long an allowing verdict is reused.
const ALLOWED_TTL: Duration = Duration::from_secs(60);
/// How long a refusing verdict is reused.
const DENIED_TTL: Duration = Duration::from_secs(10);

#[derive(Deserialize, Default)]
#[serde(default)]
struct Review {
    status: ReviewStatus,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReviewStatus {
    authenticated: bool,
    allowed: bool,
    user: serde_json::Value,
    error: String,
}

type Cache = Mutex<HashMap<[u8; 32], (AuthDecision, Instant)>>;

/// The authorizer for `client`'s API server.
pub fn kubernetes_authorizer(client: kube::Client) -> Authorizer {
    let cache: Arc<Cache> = Arc::default();
    Arc::new(move |token: String, verb: String, path: String| {
        let client = client.clone();
        let cache = cache.clone();
        Box::pin(async move {
            let key: [u8; 32] = Sha256::new()
                .chain_update(token.as_bytes())
                .chain_update([0])
                .chain_update(verb.as_bytes())
                .chain_update([0])
                .chain_update(path.as_bytes())
                .finalize()
                .into();
            if let Some((d, until)) = cache.lock().get(&key) {
                if Instant::now() < *until {
                    return d.clone();
                }
            }
            let decision = review(&client, &token, &verb, &path).await;
            let ttl = match decision {
                AuthDecision::Allowed => ALLOWED_TTL,
                AuthDecision::Unavailable(_) => return decision,
                _ => DENIED_TTL,
            };
            let mut c = cache.lock();
            if c.len() > 4096 {
                c.retain(|_, (_, until)| *until > Instant::now());
            }
            c.insert(key, (decision.clone(), Instant::now() + ttl));
            decision
        })
    })
}

async fn post(
    client: &kube::Client,
    path: &str,
    body: serde_json::Value,
) -> Result<Review, String> {
    let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let req = http::Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes)
        .map_err(|e| e.to_string())?;
    client
        .request::<Review>(req)
        .await
        .map_err(|e| format!("POST {path}: {e}"))
}

async fn review(client: &kube::Client, token: &str, verb: &str, path: &str) -> AuthDecision {
    let tr = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}});
    let authn = match post(client, "/apis/authentication.k8s.io/v1/tokenreviews", tr).await {
        Ok(r) => r,
        Err(e) => return AuthDecision::Unavailable(e),
    };
    if !authn.status.authenticated {
        if !authn.status.error.is_empty() {
            tracing::debug!(error = %authn.status.error, "token rejected");
        }
        return AuthDecision::Unauthenticated;
    }
    let user = &authn.status.user;
    let sar = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user.get("username"),
            "uid": user.get("uid"),
            "groups": user.get("groups"),
            "extra": user.get("extra"),
            "nonResourceAttributes": {"path": path, "verb": verb},
        }
    });
    match post(
        client,
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        sar,
    )
    .await
    {
        Ok(r) if r.status.allowed => AuthDecision::Allowed,
        Ok(_) => AuthDecision::Forbidden,
        Err(e) => AuthDecision::Unavailable(e),
    }
}
