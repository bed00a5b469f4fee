//! The family tables against KSM's family list (`../shared/reference/ksm-families.tsv`): every
//! family, in KSM's order per resource, with KSM's type, stability, deprecation, opt-in and
//! default-on classification.

use kubestate_families::catalog::{catalog, CatalogEntry};
use kubestate_testkit::shared_dir;

struct Row {
    resource: String,
    family: String,
    ty: String,
    stability: String,
    default: String,
}

fn rows() -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(shared_dir()?.join("reference/ksm-families.tsv")).ok()?;
    Some(
        text.split('\n')
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                let col = |i: usize| c.get(i).copied().unwrap_or("").to_string();
                Row {
                    resource: col(0),
                    family: col(1),
                    ty: col(2),
                    stability: col(5),
                    default: col(6),
                }
            })
            .filter(|r| r.resource != "telemetry")
            .collect(),
    )
}

fn describe(e: &CatalogEntry) -> String {
    format!(
        "{} {} {}{}{} default={}",
        e.desc.name,
        e.desc.ty.as_str(),
        e.desc.stability.as_str(),
        e.desc
            .deprecated_since
            .as_deref()
            .map(|v| format!(" deprecated:{v}"))
            .unwrap_or_default(),
        if e.opt_in { " opt-in" } else { "" },
        e.on_by_default()
    )
}

fn expected(r: &Row) -> String {
    let stability = if r.stability.contains("STABLE") {
        "STABLE"
    } else {
        "ALPHA"
    };
    let deprecated = r
        .stability
        .split("deprecated since ")
        .nth(1)
        .map(|v| format!(" deprecated:{}", v.trim_end_matches(')')))
        .unwrap_or_default();
    let opt_in = if r.default.contains("opt-in") {
        " opt-in"
    } else {
        ""
    };
    format!(
        "{} {} {stability}{deprecated}{opt_in} default={}",
        r.family,
        r.ty,
        r.default.starts_with("yes")
    )
}

#[test]
fn tables_match_ksm_family_list() {
    let Some(rows) = rows() else {
        eprintln!("SKIP: ../shared/reference/ksm-families.tsv not found");
        return;
    };
    let ours: Vec<String> = catalog().iter().map(describe).collect();
    // KSM lists resources in its own order; compare per resource, families in KSM's order.
    let mut theirs: Vec<(String, Vec<String>)> = Vec::new();
    for r in &rows {
        match theirs.last_mut() {
            Some((res, v)) if *res == r.resource => v.push(expected(r)),
            _ => theirs.push((r.resource.clone(), vec![expected(r)])),
        }
    }
    let mut problems = Vec::new();
    for (res, fams) in &theirs {
        let first = fams[0].split(' ').next().unwrap_or("");
        let Some(start) = ours.iter().position(|o| o.split(' ').next() == Some(first)) else {
            problems.push(format!("{res}: first family {first} is missing"));
            continue;
        };
        let got = &ours[start..(start + fams.len()).min(ours.len())];
        for (want, have) in fams
            .iter()
            .zip(got.iter().chain(std::iter::repeat(&String::new())))
        {
            if want != have {
                problems.push(format!("{res}: want `{want}`, have `{have}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(
        ours.len(),
        rows.len(),
        "family count differs from KSM's list"
    );
}
