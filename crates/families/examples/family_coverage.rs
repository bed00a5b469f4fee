//! Family coverage report: for each of kubestate's families, the conformance cases whose KSM
//! golden output has samples of it (every such case is compared sample for sample by the
//! conformance tests). Exits non-zero if any family is exercised by no case.
//!
//! `cargo run -p kubestate-families --example family_coverage [-- --markdown]`

use std::collections::BTreeMap;
use std::process::ExitCode;

use kubestate_families::catalog::catalog;

fn main() -> ExitCode {
    let markdown = std::env::args().any(|a| a == "--markdown");
    match report(markdown) {
        Ok(uncovered) if uncovered.is_empty() => ExitCode::SUCCESS,
        Ok(uncovered) => {
            eprintln!("not exercised: {}", uncovered.join(", "));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the report; returns the families no case exercises.
fn report(markdown: bool) -> Result<Vec<String>, String> {
    let cases = kubestate_testkit::cases();
    if cases.is_empty() {
        return Err(
            "no conformance corpus found (set KUBESTATE_SHARED or place shared/ beside the repo)"
                .into(),
        );
    }
    let mut by_family: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in &cases {
        for (type_line, samples) in kubestate_testkit::families(&case.expected_prom) {
            if samples.is_empty() {
                continue;
            }
            if let Some(name) = type_line.split(' ').nth(2) {
                by_family
                    .entry(name.to_string())
                    .or_default()
                    .push(case.name.clone());
            }
        }
    }
    let entries = catalog();
    let mut uncovered = Vec::new();
    if markdown {
        println!("| family | resource | cases with samples |\n|---|---|---|");
    }
    for e in &entries {
        let covered = by_family.get(&e.desc.name).cloned().unwrap_or_default();
        if covered.is_empty() {
            uncovered.push(e.desc.name.clone());
        }
        if markdown {
            println!(
                "| `{}` | {} | {} |",
                e.desc.name,
                e.resource,
                covered.join(", ")
            );
        } else {
            println!(
                "{:<62} {:>2} {}",
                e.desc.name,
                covered.len(),
                covered.join(",")
            );
        }
    }
    eprintln!(
        "{} families, {} exercised by at least one case, {} not exercised",
        entries.len(),
        entries.len() - uncovered.len(),
        uncovered.len()
    );
    Ok(uncovered)
}

#[cfg(test)]
mod tests {
    /// The example runs (`[[example]] test = true`) and every family is exercised by a
    /// conformance case.
    #[test]
    fn every_family_is_covered() {
        match super::report(true) {
            Ok(uncovered) => assert!(uncovered.is_empty(), "not exercised: {uncovered:?}"),
            Err(e) if std::env::var_os("KUBESTATE_REQUIRE_TOOLS").is_none() => {
                eprintln!("SKIP: {e}")
            }
            Err(e) => panic!("{e}"),
        }
    }
}
