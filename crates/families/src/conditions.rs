//! The condition triple shared by every `*_status_condition`-style family
//! (ksm-behaviour.md §7): three samples per condition, one per possible status, value 1 on the
//! condition's current status.

use crate::kind::Out;

/// The statuses KSM enumerates, as the API spells them and as KSM prints them.
const STATUSES: [(&str, &str); 3] = [("True", "true"), ("False", "false"), ("Unknown", "unknown")];

/// Writes three samples: `lead` labels, then `label` = `true`, `false`, `unknown`, each with
/// value 1 when `status` is exactly that API status (`True`/`False`/`Unknown`, case-sensitive
/// as in KSM) and 0 otherwise. A status outside the three yields three zeros.
///
/// `label` is `status` for most condition families and `condition` for the pod ready/scheduled
/// and job complete/failed families.
pub fn triple(out: &mut Out<'_>, lead: &[(&str, &str)], label: &str, status: &str) {
    for (api, printed) in STATUSES {
        out.begin();
        for (k, v) in lead {
            out.label(k, v);
        }
        out.label(label, printed);
        out.finish(if status == api { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Selection;
    use kubestate_metric::ObjectMetrics;

    fn render(lead: &[(&str, &str)], label: &str, status: &str) -> String {
        let mut m = ObjectMetrics::new();
        m.identity_label("node", "n1");
        m.begin_family();
        let sel = Selection::default();
        triple(&mut Out::new(&mut m, &sel), lead, label, status);
        let mut b = Vec::new();
        m.write_family_text(0, "x", &mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn status_triple() {
        assert_eq!(
            render(&[("condition", "Ready")], "status", "Unknown"),
            "x{node=\"n1\",condition=\"Ready\",status=\"true\"} 0\n\
             x{node=\"n1\",condition=\"Ready\",status=\"false\"} 0\n\
             x{node=\"n1\",condition=\"Ready\",status=\"unknown\"} 1\n"
        );
    }

    #[test]
    fn condition_label_and_odd_status() {
        assert_eq!(
            render(&[], "condition", "true"),
            "x{node=\"n1\",condition=\"true\"} 0\n\
             x{node=\"n1\",condition=\"false\"} 0\n\
             x{node=\"n1\",condition=\"unknown\"} 0\n"
        );
    }
}
