//! The live explorer in a real browser: headless Chromium driven by Selenium (Python) against
//! the exporter binary watching a simulated cluster with churn. The checks live in
//! `explorer_browser.py`; screenshots land in `$CARGO_TARGET_TMPDIR/explorer-shots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` and `pip install selenium`; without them
//! the test prints `SKIP:` (and fails under `KUBESTATE_REQUIRE_TOOLS=1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{exporter_base_args, init, small_world, start_sim, ExporterProc};
use kubestate_testkit::tools;

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Chromium, its driver and a Python that imports selenium, or `None` after a SKIP line.
fn browser_tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| first_existing(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]));
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| first_existing(&["/usr/bin/chromedriver"]));
    let python = std::env::var_os("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let selenium = Command::new(&python)
        .args(["-c", "import selenium"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (chromium, driver, selenium) {
        (Some(c), Some(d), true) => Some((python, c, d)),
        (None, _, _) => {
            tools::skip("chromium", "apt-get install chromium");
            None
        }
        (_, None, _) => {
            tools::skip("chromedriver", "apt-get install chromium-driver");
            None
        }
        (_, _, false) => {
            tools::skip("python3 with selenium", "pip install selenium");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_in_a_real_browser() {
    let Some((python, chromium, driver)) = browser_tools() else {
        return;
    };
    init();
    let mut cfg = small_world();
    cfg.churn_per_sec = 20.0;
    let sim = start_sim(cfg).await;
    let exporter = ExporterProc::spawn(exporter_base_args(&sim.base_url()))
        .await
        .expect("exporter starts");
    exporter
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("exporter syncs");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explorer-shots");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explorer_browser.py");
    let args = [
        script.display().to_string(),
        format!("http://{}", exporter.metrics),
        sim.base_url(),
        shots.display().to_string(),
        chromium.display().to_string(),
        driver.display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new(python).args(args).output())
        .await
        .expect("join")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("OK: explorer checks passed"),
        "browser checks failed ({}):\n{stdout}\n{stderr}\nexporter log:\n{}\nscreenshots in {}",
        out.status,
        exporter.log(),
        shots.display()
    );
    sim.shutdown().await;
}
