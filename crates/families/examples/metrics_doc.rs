//! Generates `docs/metrics.md` from the family tables.
//!
//! `cargo run -p kubestate-families --example metrics_doc > docs/metrics.md`
//!
//! Label names are the ones kubestate actually emits for the conformance worlds, so the page
//! cannot drift from the code (a test checks the committed page is current).

fn main() {
    print!("{}", render());
}

/// The page's markdown.
fn render() -> String {
    let objects = kubestate_testkit::cases()
        .iter()
        .flat_map(|c| c.objects())
        .collect::<Vec<_>>();
    let labels = kubestate_families::catalog::observed_labels(objects);
    kubestate_families::catalog::markdown(&labels)
}

#[cfg(test)]
mod tests {
    /// The example runs (`[[example]] test = true`) and documents every resource's families.
    /// (That the committed page is current is `tests/metrics_doc.rs`.)
    #[test]
    fn renders_every_resource() {
        let page = super::render();
        for r in kubestate_families::resources() {
            let first = &r.families()[0].desc.name;
            assert!(
                page.contains(first.as_str()),
                "{} missing from the page",
                first
            );
        }
    }
}
