//! One-hot phase families (`*_status_phase`, ksm-behaviour.md §7): one sample per known
//! phase, value 1 on the current one.

use crate::kind::Out;

/// Writes one sample per entry of `known` with `label` = that phase, value 1 when it equals
/// `current`. Nothing when `current` is empty (phase unset); all zeros for a phase outside
/// `known`.
pub fn one_hot(out: &mut Out<'_>, label: &str, current: &str, known: &[&str]) {
    if current.is_empty() {
        return;
    }
    for phase in known {
        out.sample(&[(label, phase)], if *phase == current { 1.0 } else { 0.0 });
    }
}
