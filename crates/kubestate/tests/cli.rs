//! The exporter's startup as a user sees it, with the real binary: `-v` levels, klog's log
//! flags (files, stderr, warnings for the ones without effect), ANSI colours only on a
//! terminal, `--host` host names, and `--tls-config` checked before the API server is
//! contacted.

mod common;

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{init, start_sim, ExporterProc, BIN};
use kubestate_sim::SimConfig;
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{ChildGuard, TempDir};

/// A TCP port standing in for an API server: it counts connections and closes each at once,
/// so a client fails fast, and the test can tell whether the exporter contacted it.
struct FakeApiServer {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl FakeApiServer {
    fn start() -> FakeApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        FakeApiServer { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Output of a finished run.
struct Run {
    success: bool,
    stderr: String,
}

/// Runs the binary to completion (at most 30 s), without RUST_LOG.
fn run(args: &[String]) -> Run {
    run_with_rust_log(args, None)
}

/// Spawns the binary with `args` (RUST_LOG set to `rust_log`, or unset), standard error
/// collected by a thread until the process ends.
fn spawn(args: &[String], rust_log: Option<&str>) -> (ChildGuard, std::thread::JoinHandle<String>) {
    let mut cmd = Command::new(BIN);
    match rust_log {
        Some(v) => cmd.env("RUST_LOG", v),
        None => cmd.env_remove("RUST_LOG"),
    };
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubestate");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    (ChildGuard(child), reader)
}

/// Runs the binary to completion (at most 30 s) with RUST_LOG set to `rust_log`, if given.
fn run_with_rust_log(args: &[String], rust_log: Option<&str>) -> Run {
    let (mut child, reader) = spawn(args, rust_log);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_exit() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "kubestate {args:?} did not exit within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        success: status.success(),
        stderr: reader.join().expect("reader"),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Flags that make the exporter stop at its first API request (the fake server hangs up).
fn failing_start(api: &FakeApiServer, extra: &[&str]) -> Vec<String> {
    let mut a = args(&[
        "--host=127.0.0.1",
        "--port=0",
        "--telemetry-host=127.0.0.1",
        "--telemetry-port=0",
    ]);
    a.push(format!("--apiserver={}", api.url));
    a.extend(args(extra));
    a
}

fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn own_debug_lines(stderr: &str) -> usize {
    json_lines(stderr)
        .iter()
        .filter(|v| {
            v["level"] == "DEBUG"
                && v["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("kubestate"))
        })
        .count()
}

#[test]
fn dash_v_enables_kubestates_own_debug_logs() {
    let api = FakeApiServer::start();
    let quiet = run(&failing_start(&api, &["--log-format=json"]));
    assert!(!quiet.success);
    assert_eq!(own_debug_lines(&quiet.stderr), 0, "{}", quiet.stderr);
    for v in ["-v=2", "--v=4"] {
        let verbose = run(&failing_start(&api, &["--log-format=json", v]));
        assert!(
            own_debug_lines(&verbose.stderr) > 0,
            "{v}: no kubestate debug line:\n{}",
            verbose.stderr
        );
    }
    // RUST_LOG replaces the -v mapping, in both directions.
    let a = failing_start(&api, &["--log-format=json"]);
    let by_env = run_with_rust_log(&a, Some("info,kubestate=debug"));
    assert!(own_debug_lines(&by_env.stderr) > 0, "{}", by_env.stderr);
    let a = failing_start(&api, &["--log-format=json", "-v=2"]);
    let quieted = run_with_rust_log(&a, Some("warn"));
    assert_eq!(own_debug_lines(&quieted.stderr), 0, "{}", quieted.stderr);
    // An invalid RUST_LOG is reported, and -v used.
    let bad = run_with_rust_log(&a, Some("kubestate=loud"));
    assert!(bad.stderr.contains("RUST_LOG"), "{}", bad.stderr);
    assert!(own_debug_lines(&bad.stderr) > 0, "{}", bad.stderr);
}

#[test]
fn ineffective_klog_flags_are_warned_about_once_by_name() {
    let api = FakeApiServer::start();
    let out = run(&failing_start(
        &api,
        &[
            "--log-format=json",
            "--vmodule=main=4",
            "--one_output",
            "--skip_log_headers",
            "--log_backtrace_at=main.go:1",
            "--auto-gomemlimit",
        ],
    ));
    for flag in [
        "--vmodule",
        "--one_output",
        "--skip_log_headers",
        "--log_backtrace_at",
        "--auto-gomemlimit",
    ] {
        let warnings = json_lines(&out.stderr)
            .into_iter()
            .filter(|v| v["level"] == "WARN" && v["fields"]["flag"] == flag)
            .count();
        assert_eq!(warnings, 1, "{flag}:\n{}", out.stderr);
    }
    // Flags with an effect are not warned about.
    let out = run(&failing_start(
        &api,
        &["--log-format=json", "--skip_headers"],
    ));
    assert!(!out.stderr.contains("has no effect"), "{}", out.stderr);
}

#[test]
fn text_logs_carry_colours_only_on_a_terminal() {
    let api = FakeApiServer::start();
    // A warning is logged (--vmodule), to a pipe: no escape sequences.
    let out = run(&failing_start(&api, &["--vmodule=x=1"]));
    assert!(out.stderr.contains("--vmodule"), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    // Under a terminal (script(1) gives it one) they are kept.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!(
            "SKIP: script(1) not installed (apt-get install bsdutils); terminal half not run"
        );
        return;
    }
    let mut line = format!("'{BIN}'");
    for a in failing_start(&api, &["--vmodule=x=1"]) {
        line.push_str(&format!(" '{a}'"));
    }
    let dir = TempDir::new("tty").expect("tempdir");
    let typescript = dir.path().join("typescript");
    let status = Command::new("script")
        .args(["-q", "-e", "-c", &line])
        .arg(&typescript)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("script");
    assert!(!status.success());
    let seen = std::fs::read_to_string(&typescript).expect("typescript");
    assert!(seen.contains("--vmodule"), "{seen}");
    assert!(
        seen.contains('\u{1b}'),
        "no colours on a terminal: {seen:?}"
    );
}

#[test]
fn tls_config_is_checked_before_the_api_server_is_contacted() {
    let api = FakeApiServer::start();
    let dir = TempDir::new("webcfg").expect("tempdir");
    let missing = dir.path().join("web.yml");
    let out = run(&failing_start(
        &api,
        &[&format!("--tls-config={}", missing.display())],
    ));
    assert!(!out.success);
    assert!(
        out.stderr.contains("--tls-config") && out.stderr.contains("web.yml"),
        "{}",
        out.stderr
    );
    // A file whose certificate is missing: the message names the certificate.
    std::fs::write(
        &missing,
        "tls_server_config:\n  cert_file: /nonexistent/server.crt\n  key_file: /nonexistent/server.key\n",
    )
    .expect("write");
    let out = run(&failing_start(
        &api,
        &[&format!("--tls-config={}", missing.display())],
    ));
    assert!(!out.success);
    assert!(out.stderr.contains("server.crt"), "{}", out.stderr);
    assert_eq!(api.connections(), 0, "the API server was contacted first");
}

#[test]
fn unresolvable_host_fails_before_the_api_server_is_contacted() {
    let api = FakeApiServer::start();
    let out = run(&failing_start(&api, &["--host=no-such-host.invalid"]));
    assert!(!out.success);
    assert!(
        out.stderr.contains("--host=no-such-host.invalid"),
        "{}",
        out.stderr
    );
    assert_eq!(api.connections(), 0);
}

async fn sim_url() -> (kubestate_sim::SimHandle, String) {
    init();
    let sim = start_sim(SimConfig::default()).await;
    let url = sim.base_url();
    (sim, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_names_are_resolved_like_go_does() {
    let (sim, url) = sim_url().await;
    let exporter = ExporterProc::spawn(args(&[
        &format!("--apiserver={url}"),
        "--host=localhost",
        "--port=0",
        "--telemetry-host=localhost",
        "--telemetry-port=0",
        "--log-format=json",
    ]))
    .await
    .expect("exporter starts with --host=localhost");
    assert!(
        exporter.metrics.starts_with("127.0.0.1:"),
        "{}",
        exporter.metrics
    );
    assert!(
        exporter.telemetry.starts_with("127.0.0.1:"),
        "{}",
        exporter.telemetry
    );
    let r = get(
        &format!("http://{}/healthz", exporter.metrics),
        &[],
        Duration::from_secs(10),
    )
    .await
    .expect("healthz");
    assert_eq!(r.text(), "OK");
    drop(exporter);
    sim.shutdown().await;
}

/// Spawns the exporter against `url` with `extra` flags, waits until `file` holds the
/// "serving" line, then stops it and returns what it wrote to standard error.
async fn run_logging_to(url: &str, extra: &[String], file: &std::path::Path) -> String {
    let mut a = args(&[
        "--host=127.0.0.1",
        "--port=0",
        "--telemetry-host=127.0.0.1",
        "--telemetry-port=0",
    ]);
    a.push(format!("--apiserver={url}"));
    a.extend(extra.iter().cloned());
    let (mut child, reader) = spawn(&a, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains("serving") {
            break;
        }
        assert!(
            child.try_exit().is_none(),
            "exited early; log file:\n{text}"
        );
        assert!(
            Instant::now() < deadline,
            "no 'serving' line in {} within 30 s:\n{text}",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill();
    reader.join().expect("reader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_file_and_log_dir_receive_the_logs() {
    let (sim, url) = sim_url().await;
    let dir = TempDir::new("logs").expect("tempdir");
    // --log_file with --logtostderr=false: the file only; standard error stays empty.
    let file = dir.path().join("k.log");
    let stderr = run_logging_to(
        &url,
        &[
            format!("--log_file={}", file.display()),
            "--logtostderr=false".into(),
        ],
        &file,
    )
    .await;
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    let text = std::fs::read_to_string(&file).expect("log file");
    assert!(text.contains("connected to the API server"), "{text}");
    assert!(!text.contains('\u{1b}'), "colours in a file: {text:?}");
    // --log_dir (and the default --logtostderr=true): DIR/kubestate.log and standard error.
    let logs = dir.path().join("logs");
    let file = logs.join("kubestate.log");
    let stderr = run_logging_to(
        &url,
        &[
            format!("--log_dir={}", logs.display()),
            "--log-format=json".into(),
        ],
        &file,
    )
    .await;
    assert!(stderr.contains("serving"), "stderr: {stderr}");
    let text = std::fs::read_to_string(&file).expect("log file");
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{text}"
    );
    // --logtostderr=false with --alsologtostderr and a WARNING threshold: warnings only.
    let file = dir.path().join("w.log");
    let stderr = run_logging_to(
        &url,
        &[
            format!("--log_file={}", file.display()),
            "--logtostderr=false".into(),
            "--alsologtostderr".into(),
            "--alsologtostderrthreshold=WARNING".into(),
            "--vmodule=x=1".into(),
        ],
        &file,
    )
    .await;
    assert!(stderr.contains("--vmodule"), "stderr: {stderr}");
    assert!(!stderr.contains("serving"), "stderr: {stderr}");
    sim.shutdown().await;
}
