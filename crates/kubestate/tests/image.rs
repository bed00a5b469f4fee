//! The OCI image: `deploy/image/build.sh` builds a static kubestate (glibc with `crt-static`,
//! or musl where its toolchain is installed) into an empty image with buildah. The test checks
//! the image's configuration against the Dockerfile (user 65534, entrypoint, ports 8080/8081),
//! then runs the image's binary against a simulated API server and scrapes it: with
//! `buildah run` (host network, the image's user) where the sandbox allows containers,
//! otherwise straight from the image's mounted root file system as user 65534 (which still
//! proves the file in the image is a complete, static, runnable kubestate). It prints which.
//!
//! The static binary is built once into `target/static` (a debug build without debug
//! information; `KUBESTATE_STATIC_BIN` uses a given one instead). Needs buildah (`apt-get install buildah crun`); skips without.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{head, wait_for, SimProc};
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{self, free_port, ChildGuard};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const STORAGE: &str = "vfs";

fn buildah(args: &[&str]) -> Result<String, String> {
    let out = Command::new("buildah")
        .arg("--storage-driver")
        .arg(STORAGE)
        .args(args)
        .output()
        .map_err(|e| format!("buildah: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "buildah {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Removes the test's image (and any container left from it) when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = buildah(&["rmi", "-f", &self.0]);
    }
}

/// Removes a working container when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = buildah(&["umount", &self.0]);
        let _ = buildah(&["rm", &self.0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_builds_runs_as_nobody_and_serves_metrics() {
    common::init();
    if kubestate_testkit::find_binary("BUILDAH", "buildah", &[]).is_none() {
        tools::skip("buildah", "apt-get install buildah crun");
        return;
    }
    let name = format!("localhost/kubestate-test:{}", std::process::id());
    let mut build = Command::new(repo().join("deploy/image/build.sh"));
    build
        .arg(&name)
        .env("BUILDAH_STORAGE", STORAGE)
        .env("PROFILE", "dev")
        // No debug information: the image strips it anyway, and the build is faster.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TARGET_DIR", repo().join("target/static"));
    if let Ok(bin) = std::env::var("KUBESTATE_STATIC_BIN") {
        build.env("KUBESTATE_BIN", bin);
    }
    let out = build.output().expect("run deploy/image/build.sh");
    assert!(
        out.status.success(),
        "deploy/image/build.sh failed:\n{}",
        head(&String::from_utf8_lossy(&out.stderr), 80)
    );
    let image = Image(name.clone());

    // The image's configuration is the Dockerfile's.
    let inspect: Value =
        serde_json::from_str(&buildah(&["inspect", "--type", "image", &image.0]).expect("inspect"))
            .expect("inspect JSON");
    let config = &inspect["OCIv1"]["config"];
    assert_eq!(config["User"], "65534:65534");
    let entrypoint: Vec<&str> = config["Entrypoint"]
        .as_array()
        .expect("entrypoint")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        entrypoint,
        ["/kubestate", "--port=8080", "--telemetry-port=8081"]
    );
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let docker_entrypoint: Vec<String> = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .expect("the Dockerfile's exec-form ENTRYPOINT");
    assert_eq!(
        entrypoint, docker_entrypoint,
        "build.sh and the Dockerfile agree"
    );
    let ports: Vec<&String> = config["ExposedPorts"]
        .as_object()
        .expect("ports")
        .keys()
        .collect();
    assert_eq!(ports, ["8080/tcp", "8081/tcp"]);
    let layers = inspect["OCIv1"]["rootfs"]["diff_ids"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(layers, 1, "one layer on an empty base");

    // Run it against a simulated cluster.
    let sim = SimProc::spawn(vec![
        "--pods".into(),
        "40".into(),
        "--nodes".into(),
        "3".into(),
    ])
    .await
    .expect("sim");
    let (port, telemetry) = (free_port(), free_port());
    let args = [
        format!("--apiserver={}", sim.base_url),
        "--host=127.0.0.1".to_string(),
        format!("--port={port}"),
        "--telemetry-host=127.0.0.1".to_string(),
        format!("--telemetry-port={telemetry}"),
    ];
    let ctr = Container(buildah(&["from", &image.0]).expect("buildah from"));
    let root = buildah(&["mount", &ctr.0]).expect("buildah mount");
    let mut entries: Vec<String> = std::fs::read_dir(&root)
        .expect("read the image's root")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["etc", "kubestate"],
        "the binary and /etc, nothing else (no shell)"
    );
    let etc = Path::new(&root).join("etc");
    assert!(std::fs::metadata(etc.join("ssl/certs/ca-certificates.crt")).is_ok_and(|m| m.len() > 0));
    let passwd = std::fs::read_to_string(etc.join("passwd")).expect("/etc/passwd");
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nobody:x:65534:65534:")),
        "{passwd}"
    );
    buildah(&["umount", &ctr.0]).expect("buildah umount");
    // First choice: `buildah run` with chroot isolation (no OCI runtime or cgroups needed), the
    // image's user and the host's network.
    let mut run = Command::new("buildah");
    run.args([
        "--storage-driver",
        STORAGE,
        "run",
        "--isolation",
        "chroot",
        "--network",
        "host",
    ])
    .args([&ctr.0, "--", "/kubestate"])
    .args(&args)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = ChildGuard(run.spawn().expect("buildah run"));
    std::thread::sleep(Duration::from_secs(3));
    let mode = if let Some(status) = child.try_exit() {
        let mut err = String::new();
        if let Some(mut e) = child.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        eprintln!(
            "buildah run is not possible here ({status}): {}",
            head(&err, 10)
        );
        // Fallback: the image's root file system, mounted, its binary run as 65534.
        let root = buildah(&["mount", &ctr.0]).expect("buildah mount");
        let c = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(Path::new(&root).join("kubestate"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run the image's binary");
        child = ChildGuard(c);
        "the binary from the mounted image, as 65534 (buildah run failed)"
    } else {
        "buildah run --isolation chroot, host network"
    };
    eprintln!("ran the image with: {mode}");
    let ready = format!("http://127.0.0.1:{telemetry}/readyz");
    wait_for(
        "the image's kubestate is ready",
        Duration::from_secs(60),
        || async {
            get(&ready, &[], Duration::from_secs(2))
                .await
                .is_ok_and(|r| r.status == 200)
        },
    )
    .await
    .expect("ready");
    let body = get(
        &format!("http://127.0.0.1:{port}/metrics"),
        &[],
        Duration::from_secs(10),
    )
    .await
    .expect("scrape")
    .text();
    let pods = body
        .lines()
        .filter(|l| l.starts_with("kube_pod_info{"))
        .count();
    assert_eq!(pods, 40, "every simulated pod is exported");
    let nodes = body
        .lines()
        .filter(|l| l.starts_with("kube_node_info{"))
        .count();
    assert_eq!(nodes, 3);
    assert!(child.try_exit().is_none(), "still running after the scrape");
    // It runs as the image's user: find the process serving our telemetry port.
    let marker = format!("--telemetry-port={telemetry}");
    let uid = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let argv: Vec<&[u8]> = c.split(|b| *b == 0).collect();
                argv.first().is_some_and(|a| a.ends_with(b"/kubestate"))
                    && argv.contains(&marker.as_bytes())
            })
        })
        .find_map(|e| {
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            status.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .map(|u| u.split_whitespace().next().unwrap_or("").to_string())
            })
        });
    assert_eq!(
        uid.as_deref(),
        Some("65534"),
        "the exporter runs as user 65534"
    );
}
