//! Golden test of Custom Resource State evaluation: every case of
//! `custom_resources/cases.json` (configuration + objects) must produce exactly the bytes
//! kube-state-metrics v2.20.0's own `customresourcestate` package produced for it
//! (`custom_resources/expected.txt`, regenerated with `custom_resources/generate.go`).

use kubestate_customstate::{CustomConfig, CustomGenerator, ResolvedResource};
use kubestate_families::{FamilyFilter, Generator};
use kubestate_metric::{Format, ObjectMetrics};
use serde_json::Value;

fn run_case(case: &Value, out: &mut String) {
    let name = case["name"].as_str().unwrap_or_default();
    out.push_str(&format!("== {name}\n"));
    let config = CustomConfig::parse(case["config"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("case {name}: {e}"));
    let objects = case["objects"].as_array().cloned().unwrap_or_default();
    for r in config.config.resources() {
        let gvk = r.group_version_kind();
        let target = ResolvedResource::new(&gvk.group, &gvk.version, &gvk.kind, "things");
        let gen = CustomGenerator::new(r, &target, &FamilyFilter::default());
        let mut text = Vec::new();
        for d in gen.families() {
            // The generator's own header keeps info/stateset, like OpenMetrics.
            d.write_header(&mut text, Format::OPENMETRICS_1);
        }
        let mut m = ObjectMetrics::new();
        for (i, o) in objects.iter().enumerate() {
            text.extend_from_slice(format!("-- object {i}\n").as_bytes());
            let json = serde_json::to_vec(o).unwrap_or_default();
            gen.generate(&json, &mut m)
                .unwrap_or_else(|e| panic!("case {name}: {e}"));
            for (f, d) in gen.families().iter().enumerate() {
                m.write_family_text(f, &d.name, &mut text);
            }
        }
        out.push_str(&String::from_utf8(text).unwrap_or_default());
    }
}

#[test]
fn same_bytes_as_kube_state_metrics() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("custom_resources/cases.json")).unwrap();
    let want = include_str!("custom_resources/expected.txt");
    let mut got = String::new();
    for c in &cases {
        run_case(c, &mut got);
    }
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}:\n  want {a}\n  got  {b}", i + 1))
            .collect();
        panic!(
            "output differs from kube-state-metrics ({} vs {} lines):\n{}",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}
