//! Regenerates `crates/protoschema/src/table.rs` from Kubernetes' `generated.proto` files.
//!
//! ```sh
//! cargo run -p kubestate-protoschema --example generate -- \
//!     ~/go/pkg/mod/k8s.io/api@v0.36.3 ~/go/pkg/mod/k8s.io/apimachinery@v0.36.3 \
//!     > crates/protoschema/src/table.rs
//! ```

use std::path::PathBuf;

fn main() {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    match run(&dirs) {
        Ok(table) => print!("{table}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(if dirs.is_empty() { 2 } else { 1 });
        }
    }
}

/// The generated table, or what went wrong.
fn run(dirs: &[PathBuf]) -> Result<String, String> {
    if dirs.is_empty() {
        return Err("usage: generate <dir with generated.proto files>...".into());
    }
    kubestate_protoschema::gen::generate(dirs).map_err(|e| format!("generate: {e}"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The example runs (`[[example]] test = true`): without directories it prints its usage,
    /// and a directory without protos is an error, not an empty table. (That the committed
    /// table is what it generates from the real protos is `tests/generated.rs`.)
    #[test]
    fn reports_usage_and_missing_protos() {
        assert!(super::run(&[]).unwrap_err().starts_with("usage:"));
        let nowhere = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("no-such-dir");
        assert!(super::run(&[nowhere])
            .unwrap_err()
            .starts_with("generate: "));
    }
}
