//! The sim's protobuf encoding, checked against an independent implementation: every object of
//! every conformance world and of a synthesized world encodes strictly (each JSON member maps
//! to a schema field), and decoding our bytes with `prost` into the `k8s-pb` types and
//! re-encoding them gives back exactly our bytes (same fields, numbers, wire types, order).
//! Then GET, LIST and WATCH over HTTP with client-go's `Accept` header: envelopes, list
//! metadata, length-prefixed watch frames, the initial-events-end bookmark, ERROR events and
//! error bodies as protobuf `Status`, custom resources staying JSON, and the stats counters.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{pod, request, Next, Watch};
use k8s_pb::api as a;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use kubestate_sim::{protobuf_message, Sim, SimConfig, SynthSpec, WorldSource};
use prost::Message;
use serde_json::{json, Value};

const CLIENT_GO_ACCEPT: &str = "application/vnd.kubernetes.protobuf,application/json";

/// Decodes `bytes` as the k8s-pb type of the kind and encodes it again. `None` for kinds
/// k8s-pb 0.9 does not have at this version.
fn prost_round_trip(api_version: &str, kind: &str, b: &[u8]) -> Option<Result<Vec<u8>, String>> {
    macro_rules! rt {
        ($t:ty) => {
            Some(
                <$t>::decode(b)
                    .map(|m| m.encode_to_vec())
                    .map_err(|e| e.to_string()),
            )
        };
    }
    match (api_version, kind) {
        ("v1", "ConfigMap") => rt!(a::core::v1::ConfigMap),
        ("v1", "Endpoints") => rt!(a::core::v1::Endpoints),
        ("v1", "LimitRange") => rt!(a::core::v1::LimitRange),
        ("v1", "Namespace") => rt!(a::core::v1::Namespace),
        ("v1", "Node") => rt!(a::core::v1::Node),
        ("v1", "PersistentVolumeClaim") => rt!(a::core::v1::PersistentVolumeClaim),
        ("v1", "PersistentVolume") => rt!(a::core::v1::PersistentVolume),
        ("v1", "Pod") => rt!(a::core::v1::Pod),
        ("v1", "ReplicationController") => rt!(a::core::v1::ReplicationController),
        ("v1", "ResourceQuota") => rt!(a::core::v1::ResourceQuota),
        ("v1", "Secret") => rt!(a::core::v1::Secret),
        ("v1", "ServiceAccount") => rt!(a::core::v1::ServiceAccount),
        ("v1", "Service") => rt!(a::core::v1::Service),
        ("apps/v1", "DaemonSet") => rt!(a::apps::v1::DaemonSet),
        ("apps/v1", "Deployment") => rt!(a::apps::v1::Deployment),
        ("apps/v1", "ReplicaSet") => rt!(a::apps::v1::ReplicaSet),
        ("apps/v1", "StatefulSet") => rt!(a::apps::v1::StatefulSet),
        ("batch/v1", "CronJob") => rt!(a::batch::v1::CronJob),
        ("batch/v1", "Job") => rt!(a::batch::v1::Job),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            rt!(a::autoscaling::v2::HorizontalPodAutoscaler)
        }
        ("policy/v1", "PodDisruptionBudget") => rt!(a::policy::v1::PodDisruptionBudget),
        ("networking.k8s.io/v1", "Ingress") => rt!(a::networking::v1::Ingress),
        ("networking.k8s.io/v1", "IngressClass") => rt!(a::networking::v1::IngressClass),
        ("networking.k8s.io/v1", "NetworkPolicy") => rt!(a::networking::v1::NetworkPolicy),
        ("discovery.k8s.io/v1", "EndpointSlice") => rt!(a::discovery::v1::EndpointSlice),
        ("storage.k8s.io/v1", "StorageClass") => rt!(a::storage::v1::StorageClass),
        ("storage.k8s.io/v1", "VolumeAttachment") => rt!(a::storage::v1::VolumeAttachment),
        ("certificates.k8s.io/v1", "CertificateSigningRequest") => {
            rt!(a::certificates::v1::CertificateSigningRequest)
        }
        ("coordination.k8s.io/v1", "Lease") => rt!(a::coordination::v1::Lease),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            rt!(a::rbac::v1::ClusterRoleBinding)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => rt!(a::rbac::v1::ClusterRole),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => rt!(a::rbac::v1::RoleBinding),
        ("rbac.authorization.k8s.io/v1", "Role") => rt!(a::rbac::v1::Role),
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
            rt!(a::admissionregistration::v1::MutatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy") => {
            rt!(a::admissionregistration::v1::ValidatingAdmissionPolicy)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
            rt!(a::admissionregistration::v1::ValidatingAdmissionPolicyBinding)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
            rt!(a::admissionregistration::v1::ValidatingWebhookConfiguration)
        }
        // Not in k8s-pb 0.9 at v1; v1beta1 has the same messages and numbers.
        ("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy") => {
            rt!(a::admissionregistration::v1beta1::MutatingAdmissionPolicy)
        }
        ("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding") => {
            rt!(a::admissionregistration::v1beta1::MutatingAdmissionPolicyBinding)
        }
        _ => None,
    }
}

fn varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = b[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
    }
    v
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Our bytes as prost would write the same message: map entries leave out an empty key or
/// value (prost treats map entries like proto3 and skips defaults; Go writes both). Everything
/// else must already be byte-identical.
fn prost_canonical(b: &[u8], msg: kubestate_protoschema::MessageId) -> Vec<u8> {
    use kubestate_protoschema::{Cardinality, Type};
    let def = msg.def();
    let mut out = Vec::with_capacity(b.len());
    let mut pos = 0;
    while pos < b.len() {
        let start = pos;
        let key = varint(b, &mut pos);
        let (number, wt) = ((key >> 3) as u32, key & 7);
        let field = def.field(number).expect("a schema field");
        match wt {
            0 => {
                varint(b, &mut pos);
                out.extend_from_slice(&b[start..pos]);
            }
            1 => {
                pos += 8;
                out.extend_from_slice(&b[start..pos]);
            }
            5 => {
                pos += 4;
                out.extend_from_slice(&b[start..pos]);
            }
            2 => {
                let len = varint(b, &mut pos) as usize;
                let data = &b[pos..pos + len];
                pos += len;
                let inner = match (field.card, field.ty) {
                    (Cardinality::Map { .. }, ty) => {
                        let mut e = Vec::new();
                        let mut p = 0;
                        while p < data.len() {
                            let s = p;
                            let k = varint(data, &mut p);
                            let l = if k & 7 == 2 {
                                varint(data, &mut p) as usize
                            } else {
                                let v0 = p;
                                varint(data, &mut p);
                                let is_zero = data[v0..p] == [0];
                                p = v0;
                                varint(data, &mut p);
                                if is_zero {
                                    continue;
                                }
                                e.extend_from_slice(&data[s..p]);
                                continue;
                            };
                            let v = &data[p..p + l];
                            p += l;
                            if l == 0 {
                                continue;
                            }
                            match (k >> 3, ty) {
                                (2, Type::Message(m)) => {
                                    let c = prost_canonical(v, m);
                                    put_varint(&mut e, k);
                                    put_varint(&mut e, c.len() as u64);
                                    e.extend_from_slice(&c);
                                }
                                _ => e.extend_from_slice(&data[s..p]),
                            }
                        }
                        Some(e)
                    }
                    (_, Type::Message(m)) => Some(prost_canonical(data, m)),
                    _ => None,
                };
                match inner {
                    Some(c) => {
                        put_varint(&mut out, key);
                        put_varint(&mut out, c.len() as u64);
                        out.extend_from_slice(&c);
                    }
                    None => out.extend_from_slice(&b[start..pos]),
                }
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

fn cases_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CONFORMANCE_CASES") {
        return Some(PathBuf::from(d));
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases");
    d.is_dir().then_some(d)
}

/// Strict encoding plus the prost round trip of one object; the failure as text.
fn check_object(v: &Value) -> Result<(), String> {
    let api_version = v["apiVersion"].as_str().unwrap_or("");
    let kind = v["kind"].as_str().unwrap_or("");
    let who = format!(
        "{api_version} {kind} {}/{}",
        v["metadata"]["namespace"].as_str().unwrap_or(""),
        v["metadata"]["name"].as_str().unwrap_or("")
    );
    let Some(ours) = protobuf_message(v).map_err(|e| format!("{who}: {e}"))? else {
        return if kind == "CustomResourceDefinition" || !api_version.contains(".k8s.io") {
            Ok(())
        } else {
            Err(format!("{who}: no protobuf form"))
        };
    };
    let msg = kubestate_protoschema::kind(api_version, kind).expect("a built-in kind");
    let ours = prost_canonical(&ours, msg);
    match prost_round_trip(api_version, kind, &ours) {
        None => Err(format!("{who}: no k8s-pb type in this test")),
        Some(Err(e)) => Err(format!("{who}: prost cannot decode our bytes: {e}")),
        Some(Ok(back)) if back != ours => Err(format!(
            "{who}: prost re-encodes {} bytes as {} bytes (first difference at {})",
            ours.len(),
            back.len(),
            ours.iter()
                .zip(&back)
                .position(|(x, y)| x != y)
                .unwrap_or(ours.len().min(back.len()))
        )),
        Some(Ok(_)) => Ok(()),
    }
}

#[test]
fn conformance_objects_encode_strictly_and_round_trip_through_prost() {
    let Some(dir) = cases_dir() else {
        eprintln!("conformance cases not found; skipping");
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for case in std::fs::read_dir(&dir).unwrap() {
        let p = case.unwrap().path().join("objects.json");
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let file: Value = serde_json::from_str(&text).unwrap();
        for v in file["items"].as_array().unwrap() {
            kinds.insert(v["kind"].as_str().unwrap_or("").to_string());
            checked += 1;
            if let Err(e) = check_object(v) {
                failures.push(format!("{}: {e}", p.display()));
            }
        }
    }
    assert!(checked > 500, "only {checked} objects found");
    assert!(kinds.len() >= 39, "{kinds:?}");
    assert!(
        failures.is_empty(),
        "{} of {checked} objects fail:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}

#[tokio::test]
async fn synthesized_objects_encode_strictly_and_round_trip_through_prost() {
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::preset("small").unwrap()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let snap = sim.snapshot();
    let mut failures = Vec::new();
    let (mut json_bytes, mut proto_bytes) = (0, 0);
    for o in &snap.objects {
        let v = o.value();
        json_bytes += o.json.len();
        proto_bytes += protobuf_message(&v).ok().flatten().map_or(0, |b| b.len());
        if let Err(e) = check_object(&v) {
            failures.push(e);
        }
    }
    println!(
        "synthesized small world: {} objects, {json_bytes} bytes of JSON, {proto_bytes} bytes of protobuf ({:.2}x)",
        snap.objects.len(),
        proto_bytes as f64 / json_bytes as f64
    );
    assert!(snap.objects.len() > 1000);
    assert!(
        failures.is_empty(),
        "{} objects fail:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    sim.shutdown().await;
}

/// Strips the magic and decodes the envelope.
fn unwrap_body(body: &[u8]) -> Unknown {
    assert_eq!(&body[..4], b"k8s\0", "protobuf magic");
    Unknown::decode(&body[4..]).expect("runtime.Unknown")
}

fn type_meta(u: &Unknown) -> (String, String) {
    let tm = u.type_meta.clone().unwrap_or_default();
    (
        tm.api_version.unwrap_or_default(),
        tm.kind.unwrap_or_default(),
    )
}

async fn sim_with_pods() -> kubestate_sim::SimHandle {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    for (ns, name) in [("a", "p1"), ("a", "p2"), ("b", "p3")] {
        sim.apply(pod(ns, name, json!({"app": "web"}))).unwrap();
    }
    sim
}

#[tokio::test]
async fn get_and_list_in_protobuf() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let accept = [("Accept", CLIENT_GO_ACCEPT)];
    let r = request(a, "GET", "/api/v1/namespaces/a/pods/p1", &accept, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.kubernetes.protobuf")
    );
    let u = unwrap_body(&r.body);
    assert_eq!(type_meta(&u), ("v1".into(), "Pod".into()));
    assert_eq!(u.content_encoding.as_deref(), Some(""));
    assert_eq!(u.content_type.as_deref(), Some(""));
    let p = a::core::v1::Pod::decode(u.raw.unwrap().as_slice()).unwrap();
    let m = p.metadata.unwrap();
    assert_eq!(m.name.as_deref(), Some("p1"));
    assert_eq!(m.labels.get("app").map(String::as_str), Some("web"));
    assert_eq!(p.status.unwrap().phase.as_deref(), Some("Running"));

    // A paginated list: envelope kind PodList, ListMeta with continue and remaining count.
    let r = request(a, "GET", "/api/v1/pods?limit=2", &accept, None).await;
    assert_eq!(r.status, 200);
    assert!(r.complete);
    let u = unwrap_body(&r.body);
    assert_eq!(type_meta(&u), ("v1".into(), "PodList".into()));
    let list = a::core::v1::PodList::decode(u.raw.unwrap().as_slice()).unwrap();
    let lm = list.metadata.unwrap();
    assert_eq!(list.items.len(), 2);
    assert_eq!(lm.remaining_item_count, Some(1));
    let cont = lm.r#continue.unwrap();
    let r = request(
        a,
        "GET",
        &format!("/api/v1/pods?limit=2&continue={cont}"),
        &accept,
        None,
    )
    .await;
    let list = a::core::v1::PodList::decode(unwrap_body(&r.body).raw.unwrap().as_slice()).unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].metadata.as_ref().unwrap().name.as_deref(),
        Some("p3")
    );

    // Errors are protobuf Status bodies.
    let r = request(a, "GET", "/api/v1/namespaces/a/pods/nope", &accept, None).await;
    assert_eq!(r.status, 404);
    let u = unwrap_body(&r.body);
    assert_eq!(type_meta(&u), ("v1".into(), "Status".into()));
    let st = meta::Status::decode(u.raw.unwrap().as_slice()).unwrap();
    assert_eq!(st.code, Some(404));
    assert_eq!(st.reason.as_deref(), Some("NotFound"));

    // Protobuf-only clients are served too; JSON-first clients still get JSON.
    let r = request(
        a,
        "GET",
        "/api/v1/pods",
        &[("Accept", "application/vnd.kubernetes.protobuf")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = request(
        a,
        "GET",
        "/api/v1/pods",
        &[(
            "Accept",
            "application/json, application/vnd.kubernetes.protobuf",
        )],
        None,
    )
    .await;
    assert_eq!(r.json()["kind"], "PodList");
    let stats = sim.stats();
    assert_eq!(stats.protobuf_responses, 5);
    assert_eq!(stats.json_responses, 1);
    sim.shutdown().await;
}

/// Reads length-prefixed watch frames and decodes their events: (type, envelope).
async fn next_event(w: &mut Watch) -> Option<(String, Unknown)> {
    let frame = w.frame(Duration::from_secs(10)).await?;
    let ev = meta::WatchEvent::decode(frame.as_slice()).expect("WatchEvent");
    let raw = ev.object.and_then(|o| o.raw).unwrap_or_default();
    Some((ev.r#type.unwrap_or_default(), unwrap_body(&raw)))
}

#[tokio::test]
async fn watch_streams_protobuf_frames() {
    let sim = sim_with_pods().await;
    let a = sim.addr();
    let accept = [("Accept", CLIENT_GO_ACCEPT)];
    let mut w = Watch::open_with(
        a,
        "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        &accept,
    )
    .await;
    assert_eq!(w.status, 200);
    let ct = w
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    assert_eq!(
        ct.as_deref(),
        Some("application/vnd.kubernetes.protobuf;stream=watch")
    );
    let mut names = Vec::new();
    for _ in 0..3 {
        let (ty, u) = next_event(&mut w).await.unwrap();
        assert_eq!(ty, "ADDED");
        assert_eq!(type_meta(&u), ("v1".into(), "Pod".into()));
        let p = a::core::v1::Pod::decode(u.raw.unwrap().as_slice()).unwrap();
        names.push(p.metadata.unwrap().name.unwrap());
    }
    assert_eq!(names, ["p1", "p2", "p3"]);
    let (ty, u) = next_event(&mut w).await.unwrap();
    assert_eq!(ty, "BOOKMARK");
    let p = a::core::v1::Pod::decode(u.raw.unwrap().as_slice()).unwrap();
    let m = p.metadata.unwrap();
    assert_eq!(
        m.annotations
            .get("k8s.io/initial-events-end")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(m.resource_version.as_deref(), Some("3"));
    sim.apply(pod("a", "p4", json!({}))).unwrap();
    let (ty, u) = next_event(&mut w).await.unwrap();
    assert_eq!(ty, "ADDED");
    let p = a::core::v1::Pod::decode(u.raw.unwrap().as_slice()).unwrap();
    assert_eq!(p.metadata.unwrap().resource_version.as_deref(), Some("4"));

    // A watch from a compacted resourceVersion gets an ERROR event with a Status.
    sim.faults().gone_next_watches(1);
    let mut w = Watch::open_with(a, "/api/v1/pods?watch=1&resourceVersion=1", &accept).await;
    let (ty, u) = next_event(&mut w).await.unwrap();
    assert_eq!(ty, "ERROR");
    assert_eq!(type_meta(&u), ("v1".into(), "Status".into()));
    let st = meta::Status::decode(u.raw.unwrap().as_slice()).unwrap();
    assert_eq!(st.code, Some(410));
    assert!(w.frame(Duration::from_secs(5)).await.is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn custom_resources_stay_json() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    sim.apply(json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"widgets.example.com"},
        "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},
            "versions":[{"name":"v1","served":true,"storage":true}]}}))
    .unwrap();
    sim.apply(json!({"apiVersion":"example.com/v1","kind":"Widget",
        "metadata":{"name":"w","namespace":"a"}}))
        .unwrap();
    let a = sim.addr();
    let accept = [("Accept", CLIENT_GO_ACCEPT)];
    for path in [
        "/apis/example.com/v1/widgets",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ] {
        let r = request(a, "GET", path, &accept, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    }
    let mut w = Watch::open_with(a, "/apis/example.com/v1/widgets?watch=1", &accept).await;
    match w.next(Duration::from_secs(5)).await {
        Next::Event(v) => assert_eq!(v["object"]["kind"], "Widget"),
        other => panic!("{other:?}"),
    }
    let r = request(
        a,
        "GET",
        "/apis/example.com/v1/widgets",
        &[("Accept", "application/vnd.kubernetes.protobuf")],
        None,
    )
    .await;
    assert_eq!(r.status, 406);
    sim.shutdown().await;
}
