//! Generates `docs/metrics.md` from the family tables.
//!
//! `cargo run -p kubestate-families --example metrics_doc > docs/metrics.md`
//!
//! Label names are the ones kubestate actually emits for the conformance worlds, so the page
//! cannot drift from the code (a test checks the committed page is current).

fn main() {
    let objects = kubestate_testkit::cases()
        .iter()
        .flat_map(|c| c.objects())
        .collect::<Vec<_>>();
    let labels = kubestate_families::catalog::observed_labels(objects);
    print!("{}", kubestate_families::catalog::markdown(&labels));
}
