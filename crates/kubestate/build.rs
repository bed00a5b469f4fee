//! Records the git commit the binary is built from, for `kube_state_metrics_build_info`'s
//! `revision` label: `KUBESTATE_REVISION` when set (release builds from a tarball), else
//! `git rev-parse HEAD`, else empty (not a git checkout, or no git).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=KUBESTATE_REVISION");
    let revision = match std::env::var("KUBESTATE_REVISION") {
        Ok(r) if !r.trim().is_empty() => r.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: its file, and the ref it points to.
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                println!("cargo:rerun-if-changed={dir}/HEAD");
                if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
                    let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(dir);
                    println!("cargo:rerun-if-changed={common}/{r}");
                }
            }
            git(&["rev-parse", "HEAD"]).unwrap_or_default()
        }
    };
    println!("cargo:rustc-env=KUBESTATE_REVISION={revision}");
}
