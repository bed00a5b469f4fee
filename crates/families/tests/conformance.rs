//! Generator-level conformance: every object of every conformance world goes through the
//! family tables, and the family-major output must equal what KSM v2.20.0 printed, family by
//! family (ksm-behaviour.md §5.2, conformance/README.md "How to compare").
//!
//! Cases whose flags select namespaces or shards are checked end to end by the engine's
//! conformance test; here they are skipped because selecting objects is the engine's job.
//!
//! Every world is checked twice against the one expectation: with objects decoded from JSON,
//! and from their protobuf encoding (as the simulator, like a real API server, serves it to
//! protobuf clients).
//!
//! `CONFORMANCE_ONLY=pods,nodes` restricts the comparison to those resources' families;
//! `cargo test -p kubestate-families --test conformance -- <case>` runs one world.

use kubestate_families::{resources, Allowlist, Encoding, FamilyFilter, Resource, Selection};
use kubestate_metric::ObjectMetrics;
use kubestate_testkit::{cases, diff_families, Case};

fn list(case: &Case, flag: &str) -> Vec<String> {
    let prefix = format!("--{flag}=");
    case.args
        .iter()
        .filter_map(|a| a.strip_prefix(prefix.as_str()))
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn render_case(case: &Case, encoding: Encoding) -> String {
    let mut enabled: Vec<&'static dyn Resource> = {
        let named = list(case, "resources");
        resources()
            .iter()
            .copied()
            .filter(|r| {
                if named.is_empty() {
                    r.default_enabled()
                } else {
                    named.iter().any(|n| n == r.name())
                }
            })
            .collect()
    };
    enabled.sort_by_key(|r| r.name());
    let labels = Allowlist::parse("labels", case.flag("metric-labels-allowlist").unwrap_or(""))
        .expect("labels allowlist parses");
    let annotations = Allowlist::parse(
        "annotations",
        case.flag("metric-annotations-allowlist").unwrap_or(""),
    )
    .expect("annotations allowlist parses");
    let filter = FamilyFilter::new(
        &list(case, "metric-allowlist"),
        &list(case, "metric-denylist"),
        &list(case, "metric-opt-in-list"),
    )
    .expect("filters compile");
    let objects = case.objects();
    let mut body = Vec::new();
    let mut m = ObjectMetrics::new();
    for r in enabled {
        let sel = Selection {
            families: filter.clone(),
            labels: labels
                .for_resource("labels", r.name())
                .expect("labels keys"),
            annotations: annotations
                .for_resource("annotations", r.name())
                .expect("annotation keys"),
        };
        let g = r.generator(sel);
        let mut rendered: Vec<Vec<Vec<u8>>> = Vec::new();
        for o in objects.iter().filter(|o| o["kind"] == r.kind()) {
            let bytes = match encoding {
                Encoding::Json => serde_json::to_vec(o).expect("re-encode"),
                Encoding::Protobuf => kubestate_sim::protobuf_message(o)
                    .expect("encodes as protobuf")
                    .expect("a built-in kind"),
            };
            g.generate_encoded(&bytes, encoding, &mut m)
                .unwrap_or_else(|e| panic!("{} ({encoding:?}): {e:?}", r.name()));
            rendered.push(
                (0..g.families().len())
                    .map(|i| {
                        let mut b = Vec::new();
                        m.write_family_text(i, &g.families()[i].name, &mut b);
                        b
                    })
                    .collect(),
            );
        }
        if rendered.is_empty() {
            continue;
        }
        for (i, f) in g.families().iter().enumerate() {
            body.extend_from_slice(
                format!(
                    "# TYPE {} {}\n",
                    f.name,
                    f.ty.type_word(kubestate_metric::Format::Text)
                )
                .as_bytes(),
            );
            for obj in &rendered {
                body.extend_from_slice(&obj[i]);
            }
        }
    }
    String::from_utf8(body).expect("utf-8 body")
}

/// Differences between the generators' output for `case` and KSM's, restricted to the
/// families `keep` admits.
fn check_case(case: &Case, keep: &dyn Fn(&str) -> bool) -> Result<(), String> {
    for encoding in [Encoding::Json, Encoding::Protobuf] {
        check_encoding(case, encoding, keep).map_err(|e| format!("{encoding:?}: {e}"))?;
    }
    Ok(())
}

fn check_encoding(
    case: &Case,
    encoding: Encoding,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    let actual = render_case(case, encoding);
    if let Some(d) = diff_families(&case.expected_prom, &actual, keep) {
        return Err(d);
    }
    // Family order is deterministic in KSM: check the TYPE line sequence too.
    let seq = |b: &str| -> Vec<String> {
        kubestate_testkit::type_lines(b)
            .into_iter()
            .filter(|t| keep(t.split(' ').nth(2).unwrap_or("")))
            .collect()
    };
    if seq(&case.expected_prom) != seq(&actual) {
        return Err("TYPE lines in a different order".into());
    }
    Ok(())
}

/// One test per world; `CONFORMANCE_ONLY=pods,nodes` restricts the comparison to those
/// resources' families.
fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let only: Option<Vec<String>> = std::env::var("CONFORMANCE_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let names: Option<Vec<String>> = only.map(|rs| {
        rs.iter()
            .filter_map(|r| kubestate_families::resource(r))
            .flat_map(|r| r.families().into_iter().map(|f| f.desc.name))
            .collect()
    });
    let keep = std::sync::Arc::new(move |name: &str| {
        names.as_ref().is_none_or(|n| n.iter().any(|x| x == name))
    });
    let all = cases();
    if all.is_empty() {
        eprintln!("SKIP: no conformance corpus found");
    }
    let trials = all
        .into_iter()
        .map(|case| {
            // Selecting objects by namespace, node or shard is the engine's job: those worlds are
            // checked end to end by the binary's conformance test.
            let selects_objects = [
                "namespaces",
                "namespaces-denylist",
                "shard",
                "total-shards",
                "node",
            ]
            .iter()
            .any(|f| case.flag(f).is_some());
            let keep = keep.clone();
            let name = case.name.clone();
            libtest_mimic::Trial::test(name, move || check_case(&case, &*keep).map_err(Into::into))
                .with_ignored_flag(selects_objects)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
