//! The admin endpoint under `/_sim` (same port as the API): faults, world inspection and
//! object changes. See docs/sim.md for the request formats.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::{FaultUpdate, Faults};
use crate::httputil::{bad_request, json_response, status_response, Body};
use crate::object::ObjRef;
use crate::state::{now_secs, Shared};
use crate::store::{to_bytes, EventKind, WorldError};

/// Largest admin request body accepted.
const MAX_BODY: usize = 1 << 30;

/// Apply objects (a single object, or `{"items":[...]}`); returns what was applied.
pub(crate) fn apply_value(sh: &Shared, v: Value) -> Result<Vec<(EventKind, ObjRef)>, WorldError> {
    let items = match v {
        Value::Object(mut m) if m.contains_key("items") && !m.contains_key("kind") => {
            match m.remove("items") {
                Some(Value::Array(a)) => a,
                _ => return Err(WorldError::Invalid("items is not an array".into())),
            }
        }
        Value::Object(mut m)
            if m.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && m.contains_key("items") =>
        {
            match m.remove("items") {
                Some(Value::Array(a)) => a,
                _ => return Err(WorldError::Invalid("items is not an array".into())),
            }
        }
        other => vec![other],
    };
    let now = now_secs();
    sh.mutate(|w| {
        // Applied in order (a CRD may precede its custom resources); stops at the first error.
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.into_iter().enumerate() {
            match w.apply(it, now) {
                Ok(x) => out.push(x),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    return Err(WorldError::Invalid(format!(
                        "item {i}: {e} (the {i} items before it were applied)"
                    )))
                }
            }
        }
        Ok(out)
    })
}

/// Delete by resource name (`pods`, `deployments.apps`, `deployments`), namespace and name.
pub(crate) fn delete(
    sh: &Shared,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Result<Option<ObjRef>, WorldError> {
    sh.mutate(|w| {
        let t = w
            .registry
            .by_resource(resource)
            .cloned()
            .ok_or_else(|| WorldError::UnknownType(resource.to_string()))?;
        let ns = if t.namespaced { namespace } else { "" };
        Ok(w.delete(t.store, ns, name))
    })
}

/// Every object, in the format of the conformance `objects.json`.
pub(crate) fn world_json(sh: &Shared) -> Bytes {
    let w = sh.world.read();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(format!("{{\"resourceVersion\":\"{}\",\"items\":[\n", w.rv).as_bytes());
    let mut first = true;
    for s in &w.stores {
        for o in s.objects.values() {
            if !first {
                buf.extend_from_slice(b",\n");
            }
            first = false;
            buf.extend_from_slice(&o.json);
        }
    }
    buf.extend_from_slice(b"\n]}\n");
    buf.freeze()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteRequest {
    resource: Option<String>,
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    namespace: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChurnRequest {
    /// Changes to make now.
    #[serde(default)]
    steps: usize,
    /// New churn rate (changes per second; 0 pauses).
    rate: Option<f64>,
}

fn world_error(e: &WorldError) -> Response<Body> {
    match e {
        WorldError::UnknownType(_) => status_response(404, "NotFound", &e.to_string(), None),
        WorldError::Invalid(_) => status_response(400, "BadRequest", &e.to_string(), None),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, Response<Body>> {
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| bad_request(&format!("cannot read request body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| bad_request(&format!("invalid JSON body: {e}")))
}

fn ok(v: &Value) -> Response<Body> {
    json_response(StatusCode::OK, to_bytes(v))
}

/// Handle `/_sim/<rest>`.
pub(crate) async fn handle(sh: &Arc<Shared>, rest: &str, req: Request<Incoming>) -> Response<Body> {
    let faults = Faults { sh: sh.clone() };
    match (req.method().clone(), rest) {
        (Method::GET, "/faults") => ok(&json!(faults.config())),
        (Method::POST, "/faults") => match read_json::<FaultUpdate>(req).await {
            Ok(u) => ok(&json!(faults.update(&u))),
            Err(r) => r,
        },
        (Method::GET, "/world") => json_response(StatusCode::OK, world_json(sh)),
        (Method::GET, "/stats") => ok(&stats_value(sh)),
        (Method::POST, "/apply") => match read_json::<Value>(req).await {
            Ok(v) => match apply_value(sh, v) {
                Ok(applied) => {
                    let items: Vec<Value> = applied
                        .iter()
                        .map(|(k, o)| {
                            json!({"type": k.as_str(),
                                   "object": serde_json::from_slice::<Value>(&o.json).unwrap_or(Value::Null)})
                        })
                        .collect();
                    ok(&json!({"items": items}))
                }
                Err(e) => world_error(&e),
            },
            Err(r) => r,
        },
        (Method::POST, "/delete") => match read_json::<DeleteRequest>(req).await {
            Ok(d) => {
                let resource = match (&d.resource, &d.api_version, &d.kind) {
                    (Some(r), _, _) => r.clone(),
                    (None, Some(av), Some(k)) => match sh.world.read().registry.by_kind(av, k) {
                        Some(t) => t.qualified_plural(),
                        None => {
                            return status_response(
                                404,
                                "NotFound",
                                &format!("unknown apiVersion/kind {av} {k}"),
                                None,
                            )
                        }
                    },
                    _ => return bad_request("give either resource or apiVersion and kind"),
                };
                match delete(sh, &resource, &d.namespace, &d.name) {
                    Ok(Some(o)) => json_response(StatusCode::OK, o.json.clone()),
                    Ok(None) => status_response(
                        404,
                        "NotFound",
                        &format!("{resource} \"{}\" not found", d.name),
                        None,
                    ),
                    Err(e) => world_error(&e),
                }
            }
            Err(r) => r,
        },
        (Method::POST, "/churn") => match read_json::<ChurnRequest>(req).await {
            Ok(c) => {
                if let Some(r) = c.rate {
                    sh.set_churn_rate(r);
                }
                let done = crate::tasks::run_steps(sh, c.steps);
                ok(&json!({"steps": done, "rate": sh.churn_rate(),
                           "resourceVersion": sh.world.read().rv.to_string()}))
            }
            Err(r) => r,
        },
        _ => status_response(
            404,
            "NotFound",
            "unknown admin endpoint; see docs/sim.md (GET/POST /_sim/faults, GET /_sim/world, GET /_sim/stats, POST /_sim/apply, POST /_sim/delete, POST /_sim/churn)",
            None,
        ),
    }
}

/// Counters and sizes.
pub(crate) fn stats_value(sh: &Shared) -> Value {
    let (rv, objects) = {
        let w = sh.world.read();
        (w.rv, w.object_count())
    };
    json!({
        "resourceVersion": rv.to_string(),
        "objects": objects,
        "openWatches": sh.watches.lock().len(),
        "requests": sh.counters.requests.load(Ordering::Relaxed),
        "lists": sh.counters.lists.load(Ordering::Relaxed),
        "watches": sh.counters.watches.load(Ordering::Relaxed),
        "gets": sh.counters.gets.load(Ordering::Relaxed),
        "json_responses": sh.counters.json_responses.load(Ordering::Relaxed),
        "protobuf_responses": sh.counters.protobuf_responses.load(Ordering::Relaxed),
    })
}
