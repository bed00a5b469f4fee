//! Whole-configuration tests: parsing and validation messages, label precedence, prefixes,
//! filters, and the reference example as a byte-exact golden test.

use std::sync::{Arc, Mutex};

use kubestate_metric::{Format, ObjectMetrics};

use super::*;

fn parse(yaml: &str) -> ParsedConfig {
    CustomConfig::parse(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn widget() -> ResolvedResource {
    ResolvedResource::new("example.com", "v1", "Widget", "widgets")
}

/// Headers and samples of every family for one object, as the text format writes them.
fn render(gen: &CustomGenerator, obj: &str, format: Format) -> String {
    let mut m = ObjectMetrics::new();
    gen.generate(obj.as_bytes(), &mut m).unwrap();
    let mut out = Vec::new();
    for (i, d) in gen.families().iter().enumerate() {
        d.write_header(&mut out, format);
        m.write_family_text(i, &d.name, &mut out);
    }
    String::from_utf8(out).unwrap()
}

fn samples(gen: &CustomGenerator, obj: &str) -> Vec<String> {
    render(gen, obj, Format::Text)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

const EXAMPLE: &str = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: example.com, version: v1, kind: Widget}
      metricNamePrefix: widget
      labelsFromPath:
        name: [metadata, name]
        namespace: [metadata, namespace]
      metrics:
        - name: replicas
          help: Desired widget replicas
          each: {type: Gauge, gauge: {path: [spec, replicas], nilIsZero: true}}
        - name: phase
          help: Widget phase
          each:
            type: StateSet
            stateSet: {path: [status, phase], labelName: phase, list: [Pending, Ready, Failed]}
        - name: condition
          help: Widget conditions
          each:
            type: Gauge
            gauge: {path: [status, conditions], labelsFromPath: {type: [type]}, valueFrom: [status]}
"#;

const W1: &str = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"default","uid":"u1"},"spec":{"replicas":3},"status":{"phase":"Ready","conditions":[{"type":"Available","status":"True"}]}}"#;

#[test]
fn reference_example_is_byte_exact() {
    let p = parse(EXAMPLE);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let gen = CustomGenerator::new(
        &p.config.resources()[0],
        &widget(),
        &FamilyFilter::default(),
    );
    let l = r#"customresource_group="example.com",customresource_kind="Widget",customresource_version="v1",name="w1",namespace="default""#;
    let want = format!(
        "# HELP widget_replicas Desired widget replicas\n\
         # TYPE widget_replicas gauge\n\
         widget_replicas{{{l}}} 3\n\
         # HELP widget_phase Widget phase\n\
         # TYPE widget_phase gauge\n\
         widget_phase{{{l},phase=\"Failed\"}} 0\n\
         widget_phase{{{l},phase=\"Pending\"}} 0\n\
         widget_phase{{{l},phase=\"Ready\"}} 1\n\
         # HELP widget_condition Widget conditions\n\
         # TYPE widget_condition gauge\n\
         widget_condition{{{l},type=\"Available\"}} 1\n"
    );
    assert_eq!(render(&gen, W1, Format::Text), want);
    let om = render(&gen, W1, Format::OPENMETRICS_1);
    assert!(om.contains("# TYPE widget_phase stateset\n"), "{om}");
    assert_eq!(gen.resource(), "example.com/v1, Resource=widgets");
}

#[test]
fn prefixes_and_empty_help() {
    let p = parse(
        "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: a\n      each: {type: gauge, gauge: {path: [x]}}\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metricNamePrefix: \"\"\n    metrics:\n    - name: b\n      each: {type: GAUGE, gauge: {path: [x]}}\n",
    );
    let target = ResolvedResource::new("g", "v", "K", "ks");
    let a = CustomGenerator::new(&p.config.resources()[0], &target, &FamilyFilter::default());
    assert_eq!(a.families()[0].name, "kube_customresource_a");
    let b = CustomGenerator::new(&p.config.resources()[1], &target, &FamilyFilter::default());
    assert_eq!(b.families()[0].name, "b");
    let text = render(&b, r#"{"x": 1}"#, Format::Text);
    assert!(text.starts_with("# HELP b \n# TYPE b gauge\n"), "{text:?}");
}

#[test]
fn label_precedence_resource_metric_each() {
    let p = parse(
        r#"
spec:
  resources:
  - groupVersionKind: {group: g, version: v, kind: K}
    commonLabels: {team: r, customresource_kind: overridden, only_r: x}
    labelsFromPath: {who: [spec, r], path_vs_common: [spec, p]}
    metrics:
    - name: m
      commonLabels: {team: m, customresource_group: mine, path_vs_common: common}
      labelsFromPath: {who: [spec, m]}
      each:
        type: Gauge
        gauge: {path: [spec, items], valueFrom: [v], labelsFromPath: {who: [e], team: [t]}}
"#,
    );
    let gen = CustomGenerator::new(
        &p.config.resources()[0],
        &ResolvedResource::new("g", "v", "K", "ks"),
        &FamilyFilter::default(),
    );
    let got = samples(
        &gen,
        r#"{"spec":{"r":"res","m":"met","p":"path","items":[{"v":1,"e":"each"},{"v":2,"t":"elem"}]}}"#,
    );
    assert_eq!(
        got,
        vec![
            // GVK labels replace the resource's commonLabels, the metric's replace those;
            // labelsFromPath replace commonLabels; each-level labels win over everything.
            // Samples are ordered by their each-level labels only: {team} before {who}.
            r#"kube_customresource_m{customresource_group="mine",customresource_kind="K",customresource_version="v",only_r="x",path_vs_common="path",team="elem",who="met"} 2"#,
            r#"kube_customresource_m{customresource_group="mine",customresource_kind="K",customresource_version="v",only_r="x",path_vs_common="path",team="m",who="each"} 1"#,
        ]
    );
}

#[test]
fn sanitised_and_star_labels() {
    let p = parse(
        r#"
spec:
  resources:
  - groupVersionKind: {group: g, version: v, kind: K}
    metricNamePrefix: x
    labelsFromPath:
      "app.kubernetes.io/name": [metadata, labels, "app.kubernetes.io/name"]
      "label_*": [metadata, labels]
    metrics:
    - name: info
      each: {type: Info, info: {labelsFromPath: {"*": [metadata, annotations]}}}
"#,
    );
    let gen = CustomGenerator::new(
        &p.config.resources()[0],
        &ResolvedResource::new("g", "v", "K", "ks"),
        &FamilyFilter::default(),
    );
    let got = samples(
        &gen,
        r#"{"metadata":{"labels":{"app.kubernetes.io/name":"web"},"annotations":{"a/b":"c","n":1}}}"#,
    );
    assert_eq!(
        got,
        vec![
            r#"x_info{a_b="c",app_kubernetes_io_name="web",customresource_group="g",customresource_kind="K",customresource_version="v",label_app_kubernetes_io_name="web",n="1"} 1"#
        ]
    );
}

#[test]
fn family_filters_apply_and_never_opt_in() {
    let p = parse(EXAMPLE);
    let deny = FamilyFilter::new(&[], &["phase".to_string()], &[]).unwrap();
    let gen = CustomGenerator::new(&p.config.resources()[0], &widget(), &deny);
    let names: Vec<&str> = gen.families().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["widget_replicas", "widget_condition"]);
    let allow = FamilyFilter::new(&["^widget_rep".to_string()], &[], &[]).unwrap();
    let gen = CustomGenerator::new(&p.config.resources()[0], &widget(), &allow);
    assert_eq!(gen.families().len(), 1);
    let text = render(&gen, W1, Format::Text);
    assert!(text.contains("widget_replicas{") && !text.contains("widget_phase"));
}

#[test]
fn objects_decode_or_fail_as_malformed() {
    let p = parse(EXAMPLE);
    let gen = CustomGenerator::new(
        &p.config.resources()[0],
        &widget(),
        &FamilyFilter::default(),
    );
    let mut m = ObjectMetrics::new();
    let key = gen.generate(W1.as_bytes(), &mut m).unwrap();
    assert_eq!(
        (&*key.uid, &*key.namespace, &*key.name),
        ("u1", "default", "w1")
    );
    assert!(gen.generate(b"[1,2]", &mut m).is_err());
    assert!(gen.generate(b"{nope", &mut m).is_err());
    assert_eq!(&*gen.peek(W1.as_bytes()).unwrap().uid, "u1");
    // Missing values: nilIsZero gives 0, a missing status gives no state set samples.
    let text = samples(&gen, r#"{"metadata":{"name":"w2"}}"#);
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].ends_with("} 0"));
}

#[test]
fn evaluation_problems_reach_the_hook() {
    let p = parse(
        "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    errorLogV: 3\n    metrics:\n    - name: m\n      each: {type: Gauge, gauge: {path: [spec, bad]}}\n    - name: s\n      errorLogV: 1\n      each: {type: StateSet, stateSet: {path: [spec, n], labelName: s, list: [a]}}\n",
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let gen = CustomGenerator::new(
        &p.config.resources()[0],
        &ResolvedResource::new("g", "v", "K", "ks"),
        &FamilyFilter::default(),
    )
    .with_problem_hook(Arc::new(move |e: &EvalProblem<'_>| {
        if let Ok(mut v) = s.lock() {
            v.push(format!(
                "{} {} {} {}",
                e.family, e.error_log_v, e.name, e.message
            ));
        }
    }));
    let mut m = ObjectMetrics::new();
    gen.generate(
        br#"{"metadata":{"name":"o"},"spec":{"bad":"many","n":{"x":1}}}"#,
        &mut m,
    )
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].starts_with("kube_customresource_m 3 o [spec,bad]"),
        "{seen:?}"
    );
    assert!(
        seen[1].starts_with("kube_customresource_s 1 o [spec,n]"),
        "{seen:?}"
    );
}

#[test]
fn invalid_settings_name_the_place_and_the_fix() {
    let cases = [
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: phase\n      each:\n        type: statset\n",
            &["spec.resources[0].metrics[0] (\"phase\")", "\"statset\"", "StateSet", "line 7"][..],
        ),
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: r\n      each:\n        type: Gauge\n        info: {}\n",
            &["no each.gauge block", "line 7"][..],
        ),
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: r\n      each:\n        type: StateSet\n        stateset: {}\n",
            &["no each.stateSet block", "each.stateset: unknown key", "did you mean `stateSet`"][..],
        ),
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: c\n      each:\n        type: Gauge\n        gauge:\n          path: [status, \"[type]\"]\n",
            &["each.gauge.path", "invalid list lookup", "[key=value]", "line 9"][..],
        ),
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: c\n      each: {}\n",
            &["each.type is missing"][..],
        ),
        (
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    labelsFromPath: {x: [\"[a]\"]}\n    metrics:\n    - name: c\n      each: {type: Info, info: {labelFromKey: k}}\n",
            &["labelsFromPath.x", "invalid list lookup"][..],
        ),
    ];
    for (yaml, wants) in cases {
        let e = CustomConfig::parse(yaml).expect_err("rejected").to_string();
        for w in wants {
            assert!(e.contains(w), "{e:?} should contain {w:?}");
        }
    }
}

#[test]
fn warnings_for_ignored_settings() {
    let p = parse(
        "spec:\n  resources:\n  - groupVersionKind: {group: \"*\", kind: K}\n    metrics:\n    - name: i\n      each: {type: Info, info: {path: [spec]}, gauge: {path: [x]}}\n    - name: g\n      each: {type: Gauge, gauge: {path: [x], nilIsZer0: true}}\n",
    );
    let w = p.warnings.join("\n");
    assert!(w.contains("nilIsZer0") && w.contains("`nilIsZero`"), "{w}");
    assert!(w.contains("a group is required"), "{w}");
    assert!(w.contains("each.gauge is ignored"), "{w}");
    assert!(w.contains("never produces a sample"), "{w}");
}

#[test]
fn a_document_without_spec_is_an_empty_configuration() {
    let p = parse("kind: CustomResourceStateMetrics\n");
    assert!(p.config.is_empty() && p.warnings.is_empty());
    assert!(CustomConfig::parse("").is_err());
}
