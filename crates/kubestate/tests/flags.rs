//! Every kube-state-metrics v2.20 flag and `--config` key (ksm-behaviour.md §2 and §3), as
//! declared once in `kubestate::options`: the command line and a `--config` file give the same
//! options and the same engine configuration, and the defaults are KSM's.

use std::collections::BTreeSet;

use kubestate::options::ExporterOptions;

/// The flags of KSM v2.20 (ksm-behaviour.md §2), klog's included, without `--help`.
const KSM_FLAGS: &[&str] = &[
    "apiserver",
    "kubeconfig",
    "host",
    "port",
    "telemetry-host",
    "telemetry-port",
    "tls-config",
    "auth-filter",
    "resources",
    "namespaces",
    "namespaces-denylist",
    "metric-allowlist",
    "metric-denylist",
    "metric-opt-in-list",
    "metric-labels-allowlist",
    "metric-annotations-allowlist",
    "shard",
    "total-shards",
    "pod",
    "pod-namespace",
    "node",
    "track-unscheduled-pods",
    "use-apiserver-cache",
    "object-limit",
    "custom-resource-state-config",
    "custom-resource-state-config-file",
    "continue-without-custom-resource-state-config-file",
    "custom-resource-state-only",
    "config",
    "continue-without-config",
    "enable-gzip-encoding",
    "server-read-timeout",
    "server-write-timeout",
    "server-idle-timeout",
    "server-read-header-timeout",
    "auto-gomemlimit",
    "auto-gomemlimit-ratio",
    // klog
    "add_dir_header",
    "alsologtostderr",
    "alsologtostderrthreshold",
    "legacy_stderr_threshold_behavior",
    "log_backtrace_at",
    "log_dir",
    "log_file",
    "log_file_max_size",
    "logtostderr",
    "one_output",
    "skip_headers",
    "skip_log_headers",
    "stderrthreshold",
    "v",
    "vmodule",
];

/// kubestate's own flags.
const OWN_FLAGS: &[&str] = &["api-content-type", "explorer", "log-format"];

/// The keys of KSM's options file (ksm-behaviour.md §3), aliases and `help` included.
const KSM_KEYS: &[&str] = &[
    "resources",
    "metric_allowlist",
    "metric_denylist",
    "metric_opt_in_list",
    "labels_allow_list",
    "annotations_allow_list",
    "namespaces",
    "namespaces_denylist",
    "apiserver",
    "kubeconfig",
    "host",
    "port",
    "telemetry_host",
    "telemetry_port",
    "tls_config",
    "shard",
    "total_shards",
    "pod",
    "namespace",
    "node",
    "custom_resource_config",
    "custom_resource_state_config_file",
    "custom_resource_config_file",
    "continue_without_custom_resource_state_config_file",
    "continue_without_config",
    "custom_resources_only",
    "enable_gzip_encoding",
    "track_unscheduled_pods",
    "use_api_server_cache",
    "object_limit",
    "auth_filter",
    "server_read_timeout",
    "server_write_timeout",
    "server_idle_timeout",
    "server_read_header_timeout",
    "auto-gomemlimit",
    "auto-gomemlimit-ratio",
    "help",
];

/// KSM's defaults, as its `--help` shows them (flags not listed default to empty or false).
const KSM_DEFAULTS: &[(&str, &str)] = &[
    ("host", "::"),
    ("port", "8080"),
    ("telemetry-host", "::"),
    ("telemetry-port", "8081"),
    ("shard", "0"),
    ("total-shards", "1"),
    ("object-limit", "0"),
    ("server-read-timeout", "1m0s"),
    ("server-write-timeout", "1m0s"),
    ("server-idle-timeout", "5m0s"),
    ("server-read-header-timeout", "5s"),
    ("auto-gomemlimit-ratio", "0.9"),
    ("log_backtrace_at", ":0"),
    ("log_file_max_size", "1800"),
    ("logtostderr", "true"),
    ("v", "0"),
];

#[test]
fn the_table_has_every_ksm_flag_and_key() {
    let table: BTreeSet<&str> = ExporterOptions::FLAGS.iter().map(|f| f.long).collect();
    let want: BTreeSet<&str> = KSM_FLAGS.iter().chain(OWN_FLAGS).copied().collect();
    assert_eq!(table, want);
    let keys: BTreeSet<&str> = ExporterOptions::config_keys().into_iter().collect();
    let want: BTreeSet<&str> = KSM_KEYS.iter().copied().collect();
    assert_eq!(keys, want);
}

#[test]
fn defaults_are_ksm_defaults() {
    let defaults = ExporterOptions::default();
    for (flag, values) in defaults.values() {
        let shown = values.join(",");
        let want = KSM_DEFAULTS
            .iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, d)| *d);
        match want {
            Some(d) => assert_eq!(shown, d, "--{flag}"),
            None if flag == "api-content-type" => assert_eq!(shown, "protobuf"),
            None if flag == "log-format" => assert_eq!(shown, "text"),
            None if flag == "explorer" => assert_eq!(shown, "true"),
            None => assert!(shown.is_empty() || shown == "false", "--{flag} = {shown}"),
        }
    }
    // Parsing nothing gives the same, and so does an empty --config file.
    assert_eq!(
        ExporterOptions::parse_args(Vec::<String>::new()).unwrap(),
        defaults
    );
    let mut o = ExporterOptions::default();
    o.apply_config_yaml("").unwrap();
    assert_eq!(o, defaults);
}

/// One round trip: flags on the command line, and the same settings as `--config` keys.
struct Case {
    cli: Vec<String>,
    yaml: String,
}

fn case(cli: &[&str], yaml: &str) -> Case {
    Case {
        cli: cli.iter().map(|s| s.to_string()).collect(),
        yaml: yaml.to_string(),
    }
}

fn cases(dir: &std::path::Path) -> Vec<Case> {
    let crs = dir.join("crs.yaml");
    std::fs::write(
        &crs,
        "spec:\n  resources:\n  - groupVersionKind: {group: a.io, version: v1, kind: W}\n    metrics:\n    - name: m\n      each: {type: Gauge, gauge: {path: [spec, n]}}\n",
    )
    .unwrap();
    let crs = crs.display().to_string();
    let missing = dir.join("later.yaml").display().to_string();
    vec![
        case(&["--apiserver=https://k8s.example:6443"], "apiserver: https://k8s.example:6443"),
        case(&["--kubeconfig=/etc/kube/config"], "kubeconfig: /etc/kube/config"),
        case(&["--host=127.0.0.1", "--port=9090"], "host: 127.0.0.1\nport: 9090"),
        case(
            &["--telemetry-host=localhost", "--telemetry-port=9091"],
            "telemetry_host: localhost\ntelemetry_port: 9091",
        ),
        case(&["--tls-config=/etc/web.yml"], "tls_config: /etc/web.yml"),
        case(&["--auth-filter"], "auth_filter: true"),
        case(
            &["--resources=pods,nodes", "--resources", "services"],
            "resources: {pods: {}, nodes: {}, services: {}}",
        ),
        case(&["--namespaces=a,b"], "namespaces: [a, b]"),
        case(&["--namespaces-denylist=kube-system"], "namespaces_denylist: [kube-system]"),
        case(
            &["--metric-allowlist=kube_pod_info,kube_node_.*"],
            "metric_allowlist: {kube_pod_info: {}, 'kube_node_.*': {}}",
        ),
        case(&["--metric-denylist=kube_secret_.*"], "metric_denylist: {'kube_secret_.*': {}}"),
        case(
            &["--metric-opt-in-list=kube_pod_nodeselectors"],
            "metric_opt_in_list: {kube_pod_nodeselectors: {}}",
        ),
        case(
            &["--metric-labels-allowlist=pods=[app,team],nodes=[*]"],
            "labels_allow_list: {pods: [app, team], nodes: ['*']}",
        ),
        case(
            &["--metric-annotations-allowlist=deployments=[owner]"],
            "annotations_allow_list: {deployments: [owner]}",
        ),
        case(&["--shard=1", "--total-shards=3"], "shard: 1\ntotal_shards: 3"),
        case(
            &["--pod=ksm-0", "--pod-namespace=monitoring"],
            "pod: ksm-0\nnamespace: monitoring",
        ),
        case(&["--node=worker-1", "--resources=pods"], "node: worker-1\nresources: {pods: {}}"),
        case(&["--track-unscheduled-pods"], "track_unscheduled_pods: true"),
        case(&["--use-apiserver-cache=true"], "use_api_server_cache: true"),
        case(&["--object-limit=1000"], "object_limit: 1000"),
        case(
            &["--custom-resource-state-config=spec: {resources: []}"],
            "custom_resource_config: 'spec: {resources: []}'",
        ),
        case(
            &[&format!("--custom-resource-state-config-file={crs}")],
            &format!("custom_resource_state_config_file: {crs}"),
        ),
        // The deprecated alias of the same key.
        case(
            &[&format!("--custom-resource-state-config-file={crs}")],
            &format!("custom_resource_config_file: {crs}"),
        ),
        case(
            &[
                &format!("--custom-resource-state-config-file={missing}"),
                "--continue-without-custom-resource-state-config-file",
            ],
            &format!("custom_resource_state_config_file: {missing}\ncontinue_without_custom_resource_state_config_file: true"),
        ),
        case(&["--custom-resource-state-only"], "custom_resources_only: true"),
        case(&["--continue-without-config"], "continue_without_config: true"),
        case(&["--enable-gzip-encoding"], "enable_gzip_encoding: true"),
        case(&["--server-read-timeout=30s"], "server_read_timeout: 30s"),
        case(&["--server-write-timeout=2m0s"], "server_write_timeout: 2m"),
        // yaml.v3 reads a number into a Go duration as nanoseconds.
        case(&["--server-idle-timeout=1m30s"], "server_idle_timeout: 90000000000"),
        case(&["--server-read-header-timeout=2s"], "server_read_header_timeout: 2s"),
        case(&["--auto-gomemlimit"], "auto-gomemlimit: true"),
        case(&["--auto-gomemlimit-ratio=0.5"], "auto-gomemlimit-ratio: 0.5"),
        // `help` is a key of KSM's options struct; it changes nothing.
        case(&["--port=1"], "port: 1\nhelp: true"),
    ]
}

#[test]
fn every_flag_and_key_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("options.yaml");
    let defaults = ExporterOptions::default();
    let mut flags_seen = BTreeSet::new();
    let mut keys_seen = BTreeSet::new();
    for (i, c) in cases(dir.path()).iter().enumerate() {
        let from_cli = ExporterOptions::parse_args(&c.cli)
            .unwrap_or_else(|e| panic!("case {i} {:?}: {e}", c.cli));
        std::fs::write(&file, &c.yaml).unwrap();
        let config_flag = format!("--config={}", file.display());
        let mut from_file = ExporterOptions::parse_args([config_flag.as_str()]).unwrap();
        from_file.apply_config_file().unwrap();
        from_file.config = String::new();
        assert_eq!(from_cli, from_file, "case {i}: {:?} vs {:?}", c.cli, c.yaml);
        assert_ne!(from_cli, defaults, "case {i} changes nothing");
        let engine = |o: &ExporterOptions| {
            o.engine_config()
                .map(|c| format!("{c:?}"))
                .unwrap_or_else(|e| panic!("case {i}: {e:#}"))
        };
        assert_eq!(engine(&from_cli), engine(&from_file), "case {i}");
        assert_eq!(
            format!("{:?}", from_cli.http_settings()),
            format!("{:?}", from_file.http_settings())
        );
        for (flag, _) in from_cli.changed() {
            flags_seen.insert(flag);
        }
        let doc: serde_yaml::Mapping = serde_yaml::from_str(&c.yaml).unwrap();
        for k in doc.keys() {
            keys_seen.insert(k.as_str().unwrap().to_string());
        }
    }
    // Every key is covered; every flag with a key is covered (klog's flags and `--config`
    // itself have none: see `klog_flags_parse`).
    for k in KSM_KEYS {
        assert!(keys_seen.contains(*k), "no round trip for key {k}");
    }
    for f in ExporterOptions::FLAGS.iter().filter(|f| !f.keys.is_empty()) {
        assert!(
            flags_seen.contains(f.long),
            "no round trip for --{}",
            f.long
        );
    }
}

#[test]
fn klog_flags_parse_and_change_their_option() {
    for (flag, value) in [
        ("add_dir_header", "true"),
        ("alsologtostderr", "true"),
        ("alsologtostderrthreshold", "WARNING"),
        ("legacy_stderr_threshold_behavior", "true"),
        ("log_backtrace_at", "main.go:10"),
        ("log_dir", "/var/log/ksm"),
        ("log_file", "/var/log/ksm.log"),
        ("log_file_max_size", "10"),
        ("logtostderr", "false"),
        ("one_output", "true"),
        ("skip_headers", "true"),
        ("skip_log_headers", "true"),
        ("stderrthreshold", "ERROR"),
        ("v", "4"),
        ("vmodule", "main=4"),
    ] {
        let o = ExporterOptions::parse_args([format!("--{flag}={value}")]).unwrap();
        let changed = o.changed();
        assert_eq!(changed.len(), 1, "--{flag}: {changed:?}");
        assert_eq!(changed[0], (flag, vec![value.to_string()]));
        o.check_supported().unwrap();
    }
    // klog's short form, and pflag's boolean spellings.
    assert_eq!(
        ExporterOptions::parse_args(["-v", "3"]).unwrap().verbosity,
        3
    );
    assert!(
        !ExporterOptions::parse_args(["--logtostderr=F"])
            .unwrap()
            .logtostderr
    );
    assert!(
        ExporterOptions::parse_args(["--skip_headers=1"])
            .unwrap()
            .skip_headers
    );
}

#[test]
fn bad_values_name_the_flag_or_key() {
    let e = ExporterOptions::parse_args(["--port=http"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--port"), "{e}");
    let e = ExporterOptions::parse_args(["--shard=-1"])
        .unwrap()
        .engine_config()
        .unwrap_err();
    assert!(
        format!("{e:#}").starts_with("--shard: must not be negative"),
        "{e:#}"
    );
    let mut o = ExporterOptions::default();
    let e = o.apply_config_yaml("total_shards: many").unwrap_err();
    assert!(format!("{e:#}").contains("\"total_shards\""), "{e:#}");
    let e = o
        .apply_config_yaml("server_write_timeout: 10x")
        .unwrap_err();
    assert!(format!("{e:#}").contains("unknown unit"), "{e:#}");
    let e = o.apply_config_yaml("auto-gomemlimit-ratio: 2").unwrap_err();
    assert!(format!("{e:#}").contains("auto-gomemlimit-ratio"), "{e:#}");
    let e = o
        .apply_config_yaml("labels_allow_list: {pods: app}")
        .unwrap_err();
    assert!(format!("{e:#}").contains("labels_allow_list"), "{e:#}");
    let e = ExporterOptions::parse_args(["--api-content-type=xml"])
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(format!("{e:#}").contains("--api-content-type"), "{e:#}");
}

/// The reference kube-state-metrics binary (`$KSM_BIN`, `$GOPATH/bin`, `~/go/bin`, `PATH`).
fn reference_ksm() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let gopath = std::env::var("GOPATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| home.join("go"));
    let found =
        kubestate_testkit::find_binary("KSM_BIN", "kube-state-metrics", &[gopath.join("bin")]);
    if found.is_none() {
        kubestate_testkit::tools::skip(
            "kube-state-metrics v2.20.0",
            "go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN",
        );
    }
    found
}

/// The real binary's `--help` agrees: every flag it lists is in the table, and the defaults
/// it shows for its own (non-klog) flags are the table's.
#[test]
fn reference_ksm_help_agrees() {
    let Some(ksm) = reference_ksm() else {
        return;
    };
    let out = std::process::Command::new(ksm)
        .arg("--help")
        .output()
        .expect("run kube-state-metrics --help");
    let help =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let defaults: std::collections::BTreeMap<&str, Vec<String>> =
        ExporterOptions::default().values().into_iter().collect();
    let mut seen = 0;
    for line in help.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix("-v, ").unwrap_or(line);
        let Some(rest) = line.strip_prefix("--") else {
            continue;
        };
        let name = rest.split_whitespace().next().unwrap_or_default();
        if name == "help" {
            continue;
        }
        seen += 1;
        let ours = defaults
            .get(name)
            .unwrap_or_else(|| panic!("KSM flag --{name} is not in the table"));
        // klog's defaults as registered differ from what KSM sets at run time (INFO threshold,
        // legacy behaviour off); those are checked in `defaults_are_ksm_defaults`.
        let klog = name.contains('_')
            || ["v", "vmodule", "stderrthreshold", "logtostderr"].contains(&name)
            || name.starts_with("alsologtostderr");
        if let (false, Some((_, d))) = (klog, line.rsplit_once("(default ")) {
            let shown = d.trim_end_matches(')').trim_matches('"');
            assert_eq!(ours.join(","), shown, "default of --{name}");
        }
    }
    assert!(
        seen >= KSM_FLAGS.len(),
        "only {seen} flags in KSM's help:\n{help}"
    );
}

#[test]
fn repeated_flags_last_wins_and_lists_accumulate() {
    // As with pflag: a repeated scalar flag keeps its last value, list flags accumulate.
    let o = ExporterOptions::parse_args([
        "--port=8080",
        "--port=9090",
        "--host=::",
        "--host=127.0.0.1",
        "--resources=pods",
        "--resources=nodes,services",
        "--auth-filter",
        "--auth-filter=false",
        "--server-write-timeout=1s",
        "--server-write-timeout=2s",
    ])
    .unwrap();
    assert_eq!((o.port, o.host.as_str()), (9090, "127.0.0.1"));
    assert_eq!(o.resources, vec!["pods", "nodes", "services"]);
    assert!(!o.auth_filter);
    assert_eq!(o.server_write_timeout, std::time::Duration::from_secs(2));
}
