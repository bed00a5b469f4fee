//! The committed table is what the generator makes of the Kubernetes protos, when they are on
//! this machine (in the Go module cache, where building the reference KSM puts them).

use std::path::PathBuf;

fn proto_dirs() -> Option<Vec<PathBuf>> {
    let root = match std::env::var_os("K8S_PROTO_ROOT") {
        Some(r) => PathBuf::from(r),
        None => PathBuf::from(std::env::var_os("HOME")?).join("go/pkg/mod/k8s.io"),
    };
    let dirs = vec![root.join("api@v0.36.3"), root.join("apimachinery@v0.36.3")];
    dirs.iter().all(|d| d.is_dir()).then_some(dirs)
}

#[test]
fn committed_table_is_up_to_date() {
    let Some(dirs) = proto_dirs() else {
        eprintln!("k8s.io/api@v0.36.3 protos not found; skipping the staleness check");
        return;
    };
    let generated = kubestate_protoschema::gen::generate(&dirs).expect("the protos parse");
    let committed = include_str!("../src/table.rs");
    assert!(
        generated == committed,
        "crates/protoschema/src/table.rs is stale: regenerate it (see the crate docs)"
    );
}
