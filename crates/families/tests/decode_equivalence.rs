//! The protobuf decoder's fast path (fields presented to the derived visitors by position,
//! timestamps handed over as seconds and nanoseconds) decodes every object exactly as the
//! reference path does (every field by its JSON name, every timestamp as RFC 3339 text parsed
//! back): every object of every shared conformance world and of a synthesized world before
//! and after churn, each also truncated and with bytes flipped, compared as the `Debug` form
//! of the slim struct (or of the error) and the count of malformed quantities it dropped.

use std::fmt::Debug;

use kubestate_objects::proto::{from_slice, from_slice_by_name, message_of};
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
            }
        }
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
