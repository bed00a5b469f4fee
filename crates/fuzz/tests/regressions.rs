//! Replays every regression case found by differential fuzzing (`crates/fuzz/regressions/`):
//! the shrunk world is served by the simulator to kubestate, whose text and OpenMetrics bodies
//! must equal what KSM v2.20.0 printed for it. Needs no KSM.

use kubestate_fuzz::regress::{dir, replay};
use kubestate_testkit::cases_in;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regression_case_matches_ksm() {
    let cases = cases_in(&dir());
    assert!(
        !cases.is_empty(),
        "no regression cases under {}",
        dir().display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = replay(case).await {
            failures.push(format!("== {} ==\n{e}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
