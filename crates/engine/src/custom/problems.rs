//! Logging of evaluation problems of custom resource metrics, rate-limited per family.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_customstate::{EvalProblem, ProblemHook};
use parking_lot::Mutex;
use tracing::{debug, info, trace, warn};

/// At most one evaluation problem is logged per family in this window.
const PROBLEM_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Logs evaluation problems at the level the metric's `errorLogV` asks for (0 → warn,
/// 1 → info, 2-4 → debug, more → trace), at most one line per family every 10 s with the
/// number of problems left unlogged.
pub(super) fn problem_logger() -> ProblemHook {
    let last: Mutex<HashMap<String, (Instant, u64)>> = Mutex::new(HashMap::new());
    Arc::new(move |p: &EvalProblem<'_>| {
        let now = Instant::now();
        let suppressed = {
            let mut m = last.lock();
            match m.get_mut(p.family) {
                Some((t, n)) if now.duration_since(*t) < PROBLEM_LOG_INTERVAL => {
                    *n += 1;
                    return;
                }
                Some((t, n)) => {
                    *t = now;
                    std::mem::take(n)
                }
                None => {
                    m.insert(p.family.to_string(), (now, 0));
                    0
                }
            }
        };
        let (family, ns, name, msg) = (p.family, p.namespace, p.name, p.message);
        match p.error_log_v {
            i32::MIN..=0 => {
                warn!(
                    family,
                    namespace = ns,
                    name,
                    suppressed,
                    "custom resource metric: {msg}"
                )
            }
            1 => info!(
                family,
                namespace = ns,
                name,
                suppressed,
                "custom resource metric: {msg}"
            ),
            2..=4 => {
                debug!(
                    family,
                    namespace = ns,
                    name,
                    suppressed,
                    "custom resource metric: {msg}"
                )
            }
            _ => trace!(
                family,
                namespace = ns,
                name,
                suppressed,
                "custom resource metric: {msg}"
            ),
        }
    })
}
