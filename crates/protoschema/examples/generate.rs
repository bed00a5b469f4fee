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
    if dirs.is_empty() {
        eprintln!("usage: generate <dir with generated.proto files>...");
        std::process::exit(2);
    }
    match kubestate_protoschema::gen::generate(&dirs) {
        Ok(table) => print!("{table}"),
        Err(e) => {
            eprintln!("generate: {e}");
            std::process::exit(1);
        }
    }
}
