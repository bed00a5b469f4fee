//! The page's files, embedded in the binary: nothing is fetched at run time.

/// uPlot's version, as vendored under `assets/vendor/uplot` (see its VERSION and SHA256SUMS).
pub const UPLOT_VERSION: &str = "1.6.32";

/// One embedded file.
pub(crate) struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The page itself.
pub(crate) const INDEX: &[u8] = include_bytes!("../assets/index.html");

/// Everything under `/explorer/assets/`.
pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/uPlot.min.css"),
    },
    Asset {
        name: "uPlot.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/LICENSE"),
    },
];

/// The embedded file called `name`.
pub(crate) fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// The vendored uPlot files are byte for byte those recorded in SHA256SUMS (taken from the
    /// npm tarball of the version in VERSION).
    #[test]
    fn vendored_uplot_matches_its_recorded_checksums() {
        let sums = include_str!("../assets/vendor/uplot/SHA256SUMS");
        let version = include_str!("../assets/vendor/uplot/VERSION");
        assert!(version.contains(&format!("uplot {}", super::UPLOT_VERSION)));
        let files: [(&str, &[u8]); 3] = [
            (
                "uPlot.iife.min.js",
                include_bytes!("../assets/vendor/uplot/uPlot.iife.min.js"),
            ),
            (
                "uPlot.min.css",
                include_bytes!("../assets/vendor/uplot/uPlot.min.css"),
            ),
            ("LICENSE", include_bytes!("../assets/vendor/uplot/LICENSE")),
        ];
        for (name, bytes) in files {
            let want = sums
                .lines()
                .find_map(|l| {
                    let (sum, file) = l.split_once("  ")?;
                    (file == name).then_some(sum)
                })
                .unwrap_or_else(|| panic!("{name} missing from SHA256SUMS"));
            let got: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(got, want, "{name} differs from the vendored uPlot");
        }
        assert!(String::from_utf8_lossy(files[2].1).contains("MIT License"));
    }
}
