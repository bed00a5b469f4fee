//! Malformed protobuf from the network is an error, never a panic: random bytes, and real
//! objects' encodings with random corruption, go through every resource's protobuf decoder.
//! The hand-written pod decoder gives, on corrupted pods, exactly what the generic one gives.

use std::sync::OnceLock;

use kubestate_families::{resources, Encoding, Generator, Selection};
use kubestate_metric::ObjectMetrics;
use proptest::prelude::*;

fn generators() -> &'static Vec<std::sync::Arc<dyn Generator>> {
    static G: OnceLock<Vec<std::sync::Arc<dyn Generator>>> = OnceLock::new();
    G.get_or_init(|| {
        resources()
            .iter()
            .map(|r| r.generator(Selection::default()))
            .collect()
    })
}

/// Protobuf encodings of the objects of `realistic-small-cluster` that `keep` picks (a tiny
/// message when the corpus is missing).
fn encodings(mut keep: impl FnMut(&serde_json::Value) -> bool) -> Vec<Vec<u8>> {
    let path = kubestate_testkit::shared_dir()
        .map(|d| d.join("conformance/cases/realistic-small-cluster/objects.json"))
        .unwrap_or_default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return vec![b"\x0a\x03\x0a\x01a".to_vec()];
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| keep(o))
        .filter_map(|o| kubestate_sim::protobuf_message(o).ok().flatten())
        .collect()
}

/// Protobuf encodings of a few realistic objects (pods, nodes, deployments, …): one per kind.
fn samples() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut seen = std::collections::BTreeSet::new();
        encodings(|o| seen.insert(o["kind"].to_string()))
    })
}

/// Protobuf encodings of every pod of the same world.
fn pod_samples() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| encodings(|o| o["kind"] == "Pod"))
}

/// The hand-written and the reference pod decode of `bytes`: value or error, and the
/// quantities dropped.
fn both_pod_decodes(bytes: &[u8]) -> (String, String) {
    use kubestate_objects::take_malformed_quantities;
    let msg = kubestate_protoschema::kind("v1", "Pod").expect("Pod schema");
    let _ = take_malformed_quantities();
    let fast = format!(
        "{:?} {}",
        kubestate_objects::proto::decode_pod(bytes),
        take_malformed_quantities()
    );
    let reference = format!(
        "{:?} {}",
        kubestate_objects::proto::from_slice_by_name::<kubestate_objects::pod::Pod>(bytes, msg),
        take_malformed_quantities()
    );
    (fast, reference)
}

fn decode_everywhere(bytes: &[u8]) {
    let mut m = ObjectMetrics::new();
    for g in generators() {
        let _ = g.peek_encoded(bytes, Encoding::Protobuf);
        let _ = g.generate_encoded(bytes, Encoding::Protobuf, &mut m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        decode_everywhere(&bytes);
    }

    #[test]
    fn corrupted_objects_never_panic(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = which.get(samples()).clone();
        for (at, byte) in edits {
            let i = at.index(b.len().max(1));
            if let Some(x) = b.get_mut(i) {
                *x = byte;
            }
        }
        decode_everywhere(&b);
        b.truncate(cut.index(b.len().max(1)));
        decode_everywhere(&b);
    }

    #[test]
    fn corrupted_pods_decode_by_hand_as_by_the_reference(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = which.get(pod_samples()).clone();
        for (at, byte) in edits {
            let i = at.index(b.len().max(1));
            if let Some(x) = b.get_mut(i) {
                *x = byte;
            }
        }
        let (fast, reference) = both_pod_decodes(&b);
        prop_assert_eq!(fast, reference);
        b.truncate(cut.index(b.len().max(1)));
        let (fast, reference) = both_pod_decodes(&b);
        prop_assert_eq!(fast, reference);
    }
}

#[test]
fn samples_decode_and_malformed_ones_are_errors() {
    if kubestate_testkit::shared_dir().is_none() {
        eprintln!("SKIP: no conformance corpus to take sample objects from");
        return;
    }
    assert!(samples().len() > 10);
    let pods = kubestate_families::resource("pods")
        .unwrap()
        .generator(Selection::default());
    let mut m = ObjectMetrics::new();
    // metadata as a varint: the sim's malformed-object fault.
    assert!(pods
        .generate_encoded(&[0x08, 0x2a, 0x10, 0x2a], Encoding::Protobuf, &mut m)
        .is_err());
    assert!(pods
        .generate_encoded(&[0x0a, 0x05, 0x0a], Encoding::Protobuf, &mut m)
        .is_err());
}
