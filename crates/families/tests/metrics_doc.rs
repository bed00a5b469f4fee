//! `docs/metrics.md` is generated from the family tables; this fails when it is stale.

#[test]
fn metrics_doc_is_current() {
    let cases = kubestate_testkit::cases();
    if cases.is_empty() {
        eprintln!("SKIP: no conformance corpus to observe label names from");
        return;
    }
    let labels =
        kubestate_families::catalog::observed_labels(cases.iter().flat_map(|c| c.objects()));
    let want = kubestate_families::catalog::markdown(&labels);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md");
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/metrics.md is stale: run `cargo run -p kubestate-families --example metrics_doc > docs/metrics.md`"
    );
}
