//! The protobuf decoder's fast path (fields presented to the derived visitors by position,
//! timestamps handed over as seconds and nanoseconds) decodes every object exactly as the
//! reference path does (every field by its JSON name, every timestamp as RFC 3339 text parsed
//! back): every object of every shared conformance world and of a synthesized world before
//! and after churn, each also truncated and with bytes flipped, compared as the `Debug` form
//! of the slim struct (or of the error) and the count of malformed quantities it dropped.
//!
//! The hand-written `Pod` and `ObjectMeta` decoders are held to the same reference the same
//! way, on the same messages plus pods reshaped as protobuf allows (repeated fields and map
//! entries spread over the message, unknown fields) or breaks (a singular field twice, a
//! numeric map key, a wrong wire type); their strict part must decode every pod the world
//! serves as it is, and anything it decodes must be the reference's value.

use std::fmt::Debug;

use kubestate_objects::proto::{
    decode_meta, decode_pod, decode_pod_strict, from_slice, from_slice_by_name, message_of, Reader,
};
use kubestate_objects::{take_malformed_quantities, Meta, ObjectHead};
use kubestate_protoschema::MessageId;
use serde::Deserialize;
use serde_json::Value;

/// Decodes `bytes` both ways; returns a description of the first difference.
fn compare<T: for<'de> Deserialize<'de> + Debug>(bytes: &[u8], msg: MessageId) -> Option<String> {
    // The quantities dropped as malformed are counted, and must be counted alike.
    let _ = take_malformed_quantities();
    let fast = format!(
        "{:?} malformed quantities: {}",
        from_slice::<T>(bytes, msg),
        take_malformed_quantities()
    );
    let reference = format!(
        "{:?} malformed quantities: {}",
        from_slice_by_name::<T>(bytes, msg),
        take_malformed_quantities()
    );
    (fast != reference).then(|| format!("fast:      {fast}\nreference: {reference}"))
}

/// The reference decode of `bytes` as `T`, in the form [`compare`] compares.
fn reference<T: for<'de> Deserialize<'de> + Debug>(bytes: &[u8], msg: MessageId) -> String {
    let _ = take_malformed_quantities();
    format!(
        "{:?} malformed quantities: {}",
        from_slice_by_name::<T>(bytes, msg),
        take_malformed_quantities()
    )
}

/// Whether the strict pod decoder accepted the message; `Err` describes a difference from the
/// reference (of the strict decoder where it accepts, of [`decode_pod`] always).
fn compare_handwritten_pod(bytes: &[u8], msg: MessageId) -> Result<bool, String> {
    let want = reference::<kubestate_objects::pod::Pod>(bytes, msg);
    let _ = take_malformed_quantities();
    let got = format!(
        "{:?} malformed quantities: {}",
        decode_pod(bytes),
        take_malformed_quantities()
    );
    if got != want {
        return Err(format!("decode_pod: {got}\nreference:  {want}"));
    }
    let strict = decode_pod_strict(bytes);
    let accepted = strict.is_ok();
    let strict = format!(
        "{strict:?} malformed quantities: {}",
        take_malformed_quantities()
    );
    if accepted && strict != want {
        return Err(format!("strict:    {strict}\nreference: {want}"));
    }
    Ok(accepted)
}

/// Compares the hand-written metadata decoder with the reference.
fn compare_handwritten_meta(bytes: &[u8], msg: MessageId) -> Option<String> {
    let want = reference::<Meta>(bytes, msg);
    let _ = take_malformed_quantities();
    let got = format!(
        "{:?} malformed quantities: {}",
        decode_meta(bytes),
        take_malformed_quantities()
    );
    (got != want).then(|| format!("decode_meta: {got}\nreference:   {want}"))
}

fn varint(mut x: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
    out
}

fn len_field(number: u32, data: &[u8]) -> Vec<u8> {
    [
        varint(u64::from(number) << 3 | 2),
        varint(data.len() as u64),
        data.to_vec(),
    ]
    .concat()
}

/// One field of a message: its number, its encoded bytes (key included) and, for a
/// length-delimited field, the bytes inside.
type RawField = (u32, Vec<u8>, Option<Vec<u8>>);

/// The fields of a message; `None` for malformed bytes.
fn split_fields(buf: &[u8]) -> Option<Vec<RawField>> {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    loop {
        let start = r.position();
        match r.next_field().ok()? {
            None => return Some(out),
            Some((n, v)) => {
                let body = match v {
                    kubestate_objects::proto::WireValue::Len(b) => Some(b.to_vec()),
                    _ => None,
                };
                out.push((n, buf[start..r.position()].to_vec(), body));
            }
        }
    }
}

/// Odd-placed fields first, then the even-placed ones: every run of two or more repeated
/// elements or map entries ends up spread over the message.
fn interleave(fields: &[RawField]) -> Vec<u8> {
    let odd = fields.iter().skip(1).step_by(2);
    let even = fields.iter().step_by(2);
    odd.chain(even).flat_map(|f| f.1.clone()).collect()
}

/// A pod reshaped: `(what, bytes, whether the strict decoder must accept it)`.
fn pod_reshapes(pod: &[u8]) -> Vec<(&'static str, Vec<u8>, bool)> {
    let Some(top) = split_fields(pod) else {
        return Vec::new();
    };
    // Rebuilds the pod with `f` applied to the body of its field `number`.
    let rebuild = |number: u32, f: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<u8> {
        top.iter()
            .flat_map(|(n, raw, body)| match body {
                Some(b) if *n == number => len_field(number, &f(b)),
                _ => raw.clone(),
            })
            .collect()
    };
    let deep_interleave = |b: &[u8]| -> Vec<u8> {
        // The message's own fields, and those of each of its message fields, spread.
        let Some(fs) = split_fields(b) else {
            return b.to_vec();
        };
        let inner: Vec<_> = fs
            .iter()
            .map(
                |(n, raw, body)| match body.as_deref().and_then(split_fields) {
                    Some(sub) if sub.len() > 1 => {
                        let spread = interleave(&sub);
                        (*n, len_field(*n, &spread), Some(spread))
                    }
                    _ => (*n, raw.clone(), body.clone()),
                },
            )
            .collect();
        interleave(&inner)
    };
    let unknown = [varint(1000 << 3), varint(7), len_field(1001, b"x")].concat();
    vec![
        ("metadata spread", rebuild(1, &deep_interleave), true),
        ("spec spread", rebuild(2, &deep_interleave), true),
        ("status spread", rebuild(3, &deep_interleave), true),
        ("whole pod spread", interleave(&top), true),
        (
            "unknown fields",
            [unknown.clone(), rebuild(2, &|b| [b, &unknown[..]].concat())].concat(),
            true,
        ),
        // metadata.name twice: the derived struct rejects a duplicate field.
        (
            "name twice",
            rebuild(1, &|b| [b, &len_field(1, b"again")[..]].concat()),
            false,
        ),
        // A label with a numeric key: the generic path spells it as decimal text.
        (
            "numeric label key",
            rebuild(1, &|b| {
                [b, &len_field(11, &[0x08, 0x05, 0x12, 0x01, b'x'])[..]].concat()
            }),
            false,
        ),
        // spec.nodeName as a varint.
        (
            "wrong wire type",
            rebuild(2, &|b| [b, &[0x50, 0x01][..]].concat()),
            false,
        ),
        // A quantity that does not parse, in an overhead entry (counted, not fatal).
        (
            "malformed quantity",
            rebuild(2, &|b| {
                let q = len_field(1, b"12xy");
                let entry = [len_field(1, b"cpu"), len_field(2, &q)].concat();
                [b, &len_field(32, &entry)[..]].concat()
            }),
            true,
        ),
    ]
}

/// Compares the slim struct of `kind`, and the metadata views every kind shares.
fn compare_kind(kind: &str, bytes: &[u8], msg: MessageId) -> Option<String> {
    macro_rules! kinds {
        ($($m:ident::$t:ident),* $(,)?) => {
            match kind {
                $(stringify!($t) => compare::<kubestate_objects::$m::$t>(bytes, msg),)*
                _ => panic!("no slim struct for kind {kind}"),
            }
        };
    }
    let own = kinds!(
        certificatesigningrequest::CertificateSigningRequest,
        clusterrole::ClusterRole,
        clusterrolebinding::ClusterRoleBinding,
        configmap::ConfigMap,
        cronjob::CronJob,
        daemonset::DaemonSet,
        deployment::Deployment,
        endpoint::Endpoints,
        endpointslice::EndpointSlice,
        horizontalpodautoscaler::HorizontalPodAutoscaler,
        ingress::Ingress,
        ingressclass::IngressClass,
        job::Job,
        lease::Lease,
        limitrange::LimitRange,
        mutatingadmissionpolicy::MutatingAdmissionPolicy,
        mutatingadmissionpolicybinding::MutatingAdmissionPolicyBinding,
        mutatingwebhookconfiguration::MutatingWebhookConfiguration,
        namespace::Namespace,
        networkpolicy::NetworkPolicy,
        node::Node,
        persistentvolume::PersistentVolume,
        persistentvolumeclaim::PersistentVolumeClaim,
        pod::Pod,
        poddisruptionbudget::PodDisruptionBudget,
        replicaset::ReplicaSet,
        replicationcontroller::ReplicationController,
        resourcequota::ResourceQuota,
        role::Role,
        rolebinding::RoleBinding,
        secret::Secret,
        service::Service,
        serviceaccount::ServiceAccount,
        statefulset::StatefulSet,
        storageclass::StorageClass,
        validatingadmissionpolicy::ValidatingAdmissionPolicy,
        validatingadmissionpolicybinding::ValidatingAdmissionPolicyBinding,
        validatingwebhookconfiguration::ValidatingWebhookConfiguration,
        volumeattachment::VolumeAttachment,
    );
    own.or_else(|| compare::<ObjectHead>(bytes, msg))
}

/// The object's protobuf message and its variants: the bytes as they are, cut short at
/// several points, and with single bytes changed (malformed input must fail, or decode, the
/// same way on both paths).
fn variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![bytes.to_vec()];
    let n = bytes.len();
    for cut in [n / 7, n / 3, n / 2, n * 2 / 3, n.saturating_sub(1)] {
        out.push(bytes[..cut].to_vec());
    }
    for (i, at) in [n / 11, n / 5, n / 4, n / 2 + 1, n * 3 / 4, n * 9 / 10]
        .into_iter()
        .enumerate()
    {
        if at < n {
            let mut b = bytes.to_vec();
            b[at] ^= [0x01, 0x80, 0x07, 0x10, 0xff, 0x40][i];
            out.push(b);
        }
    }
    out
}

/// Checks every object; returns how many messages were compared.
fn check_objects<'a>(what: &str, objects: impl Iterator<Item = &'a Value>) -> usize {
    let mut compared = 0;
    let mut pod_shapes = 0;
    let mut failures = Vec::new();
    for o in objects {
        let api_version = o["apiVersion"].as_str().unwrap_or("");
        let kind = o["kind"].as_str().unwrap_or("");
        let Some(msg) = message_of(api_version, kind) else {
            continue; // custom resources have no protobuf form
        };
        let bytes = kubestate_sim::protobuf_message(o)
            .unwrap_or_else(|e| panic!("{what}: {kind} {}: {e}", o["metadata"]["name"]))
            .expect("built-in kind");
        for b in variants(&bytes) {
            compared += 1;
            if let Some(d) = compare_kind(kind, &b, msg) {
                failures.push(format!(
                    "{what}: {kind} {} ({} bytes)\n{d}",
                    o["metadata"]["name"],
                    b.len()
                ));
            }
        }
        if kind == "Pod" {
            let mut shapes: Vec<(&str, Vec<u8>, Option<bool>)> = variants(&bytes)
                .into_iter()
                .enumerate()
                // The message as it is must take the strict path; its variants may not.
                .map(|(i, b)| ("variant", b, (i == 0).then_some(true)))
                .collect();
            shapes.extend(
                pod_reshapes(&bytes)
                    .into_iter()
                    .map(|(w, b, strict)| (w, b, Some(strict))),
            );
            for (shape, b, must_accept) in shapes {
                compared += 1;
                match compare_handwritten_pod(&b, msg) {
                    Err(d) => failures.push(format!(
                        "{what}: hand-written Pod {} ({shape})\n{d}",
                        o["metadata"]["name"]
                    )),
                    Ok(accepted) if must_accept.is_some_and(|m| m != accepted) => {
                        failures.push(format!(
                            "{what}: hand-written Pod {} ({shape}): strict decoder {}",
                            o["metadata"]["name"],
                            if accepted {
                                "accepted it"
                            } else {
                                "rejected it"
                            }
                        ))
                    }
                    Ok(_) => pod_shapes += 1,
                }
            }
        }
        // The metadata alone, as the families' peek and `Meta` read it.
        let meta_msg =
            kubestate_protoschema::message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                .expect("ObjectMeta");
        if let Ok(Some(meta)) = kubestate_sim::protobuf_message(&serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": o["metadata"]
        })) {
            // ConfigMap field 1 is its metadata.
            let mut r = kubestate_objects::proto::Reader::new(&meta);
            if let Ok(Some((1, kubestate_objects::proto::WireValue::Len(m)))) = r.next_field() {
                compared += 1;
                if let Some(d) = compare::<Meta>(m, meta_msg) {
                    failures.push(format!(
                        "{what}: metadata of {kind} {}\n{d}",
                        o["metadata"]["name"]
                    ));
                }
                for b in variants(m) {
                    compared += 1;
                    if let Some(d) = compare_handwritten_meta(&b, meta_msg) {
                        failures.push(format!(
                            "{what}: hand-written metadata of {kind} {}\n{d}",
                            o["metadata"]["name"]
                        ));
                    }
                }
            }
        }
    }
    if what != "synthesized" && what != "churned" {
        // Not every conformance world has pods.
    } else {
        assert!(
            pod_shapes > 1000,
            "{what}: only {pod_shapes} pod shapes checked"
        );
    }
    assert!(
        failures.is_empty(),
        "{} differences, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n\n")
    );
    compared
}

#[test]
fn conformance_worlds_decode_the_same_both_ways() {
    let Some(shared) = kubestate_testkit::shared_dir() else {
        eprintln!("SKIP: no shared directory with the conformance worlds");
        return;
    };
    let cases = shared.join("conformance/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&cases)
        .unwrap_or_else(|e| panic!("{}: {e}", cases.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    let mut worlds = 0;
    let mut compared = 0;
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("objects.json")) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).expect("objects.json");
        worlds += 1;
        compared += check_objects(
            &dir.file_name().unwrap_or_default().to_string_lossy(),
            v["items"].as_array().into_iter().flatten(),
        );
    }
    assert!(worlds >= 20, "only {worlds} conformance worlds found");
    assert!(compared > 1000, "only {compared} messages compared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_world_decodes_the_same_both_ways_before_and_after_churn() {
    use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(SynthSpec::for_pods(400)),
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let before: Vec<Value> = sim.snapshot().objects.iter().map(|o| o.value()).collect();
    // Restarts, replacements, rollouts, node flips: states the first snapshot lacks.
    sim.churn_steps(400);
    let after: Vec<Value> = sim.snapshot().objects.iter().map(|o| o.value()).collect();
    sim.shutdown().await;
    let n = check_objects("synthesized", before.iter()) + check_objects("churned", after.iter());
    assert!(n > 5000, "only {n} messages compared");
}
