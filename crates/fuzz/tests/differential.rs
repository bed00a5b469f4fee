//! Differential fuzzing against the reference KSM, bounded for CI: a fixed range of seeds,
//! packed into a few runs, must show no difference in text or OpenMetrics. Skips without KSM
//! (`go install k8s.io/kube-state-metrics/v2@v2.20.0`, or set KSM_BIN) and fails instead under
//! `KUBESTATE_REQUIRE_TOOLS=1`.
//!
//! `KUBESTATE_FUZZ_SEEDS=FROM:COUNT` compares other seeds (the long run uses the
//! `kubestate-fuzz run` binary instead, see docs/conformance.md).

use std::time::Duration;

use kubestate_fuzz::campaign::{campaign, Config};
use kubestate_fuzz::run::find_ksm;
use kubestate_testkit::tools::skip;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_worlds_match_reference_ksm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(ksm) = find_ksm() else {
        skip(
            "reference kube-state-metrics",
            "go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN",
        );
        return;
    };
    let (from, worlds) = std::env::var("KUBESTATE_FUZZ_SEEDS")
        .ok()
        .and_then(|v| {
            let (a, b) = v.split_once(':')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or((1_000_000, 240));
    let report = campaign(
        &ksm,
        &Config {
            from,
            worlds,
            per_pack: 40,
            max_time: Duration::from_secs(240),
            save: None,
            shrink_rounds: 0,
        },
    )
    .await;
    eprintln!("{}", report.summary());
    assert!(report.errors.is_empty(), "{}", report.summary());
    assert!(report.worlds >= worlds.min(40), "{}", report.summary());
    assert!(
        report.failures.is_empty() && report.unattributed.is_empty(),
        "kubestate differs from KSM; reproduce and shrink with \
         `cargo run -p kubestate-fuzz -- run --from {from} --worlds {worlds} --save crates/fuzz/regressions`:\n{}",
        report.summary()
    );
}
