//! Families of the `horizontalpodautoscalers` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::horizontalpodautoscaler::{
    HorizontalPodAutoscaler, HpaMetric, HpaMetricValues, HpaScalingRules,
};
use kubestate_objects::Meta;

use crate::common;
use crate::conditions;
use crate::kind::{Api, Family, Kind, Out};
use crate::quantity::milli_float;

impl Kind for HorizontalPodAutoscaler {
    const RESOURCE: &'static str = "horizontalpodautoscalers";
    const KIND: &'static str = "HorizontalPodAutoscaler";
    const API: Api = Api::ns("autoscaling", "v2");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("horizontalpodautoscaler", &self.metadata.name);
    }
}

/// Which side of a metric entry to read: the spec's `target` or the status' `current`.
#[derive(Clone, Copy)]
enum Side {
    Target,
    Current,
}

/// `*_target_metric`: for each metric entry of a supported type whose source is present,
/// one sample per value it sets (`value`, `utilization`, `average`), labelled with the metric
/// (or resource) name and, for container resources, the container.
fn target_metrics(metrics: &[HpaMetric], side: Side, out: &mut Out<'_>) {
    for m in metrics {
        let (source, name_of_resource) = match &*m.type_ {
            "Object" => (&m.object, false),
            "Pods" => (&m.pods, false),
            "Resource" => (&m.resource, true),
            "ContainerResource" => (&m.container_resource, true),
            "External" => (&m.external, false),
            _ => continue,
        };
        let Some(source) = source else {
            continue;
        };
        let name = if name_of_resource {
            &source.name
        } else {
            &source.metric.name
        };
        let container = if &*m.type_ == "ContainerResource" {
            &*source.container
        } else {
            ""
        };
        let values: &HpaMetricValues = match side {
            Side::Target => &source.target,
            Side::Current => &source.current,
        };
        let mut emit = |kind: &str, v: f64| {
            out.sample(
                &[
                    ("metric_name", name),
                    ("metric_target_type", kind),
                    ("container", container),
                ],
                v,
            );
        };
        if let Some(q) = values.value {
            emit("value", milli_float(q));
        }
        if let Some(u) = values.average_utilization {
            emit("utilization", u as f64);
        }
        if let Some(q) = values.average_value {
            emit("average", milli_float(q));
        }
    }
}

/// `*_tolerance`: the rule's tolerance as a float, if set.
fn tolerance(rules: Option<&HpaScalingRules>, out: &mut Out<'_>) {
    if let Some(t) = rules.and_then(|r| r.tolerance) {
        out.sample(&[], t.as_f64());
    }
}

const FAMILIES: &[Family<HorizontalPodAutoscaler>] = &[
    Family::gauge(
        "kube_horizontalpodautoscaler_info",
        Alpha,
        "One series per HorizontalPodAutoscaler with the object it scales (api version only when set).",
        |h, out| {
            let r = &h.spec.scale_target_ref;
            out.begin();
            if !r.api_version.is_empty() {
                out.label("scaletargetref_api_version", &r.api_version);
            }
            out.label("scaletargetref_kind", &r.kind)
                .label("scaletargetref_name", &r.name);
            out.finish(1.0);
        },
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_metadata_generation",
        Stable,
        "The HorizontalPodAutoscaler's metadata.generation.",
        |h, out| out.sample(&[], h.metadata.generation as f64),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_spec_max_replicas",
        Stable,
        "Most pods the autoscaler may set.",
        |h, out| out.sample(&[], h.spec.max_replicas as f64),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_spec_min_replicas",
        Stable,
        "Fewest pods the autoscaler may set (1 when unset).",
        |h, out| out.sample(&[], h.spec.min_replicas.unwrap_or(1) as f64),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_spec_target_metric",
        Alpha,
        "The target values of the metrics the autoscaler works from.",
        |h, out| target_metrics(&h.spec.metrics, Side::Target, out),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance",
        Alpha,
        "Relative metric change below which the autoscaler does not scale down; absent when unset.",
        |h, out| tolerance(h.spec.behavior.as_ref().and_then(|b| b.scale_down.as_ref()), out),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance",
        Alpha,
        "Relative metric change below which the autoscaler does not scale up; absent when unset.",
        |h, out| tolerance(h.spec.behavior.as_ref().and_then(|b| b.scale_up.as_ref()), out),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_status_target_metric",
        Stable,
        "The current values of the metrics the autoscaler works from.",
        |h, out| target_metrics(&h.status.current_metrics, Side::Current, out),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_status_current_replicas",
        Stable,
        "Pods the autoscaler last saw.",
        |h, out| out.sample(&[], h.status.current_replicas as f64),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_status_desired_replicas",
        Stable,
        "Pods the autoscaler last asked for.",
        |h, out| out.sample(&[], h.status.desired_replicas as f64),
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_annotations",
        Alpha,
        "HorizontalPodAutoscaler annotations named by the annotations allowlist, as labels.",
        common::annotations::<HorizontalPodAutoscaler>,
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_labels",
        Stable,
        "HorizontalPodAutoscaler labels named by the labels allowlist, as labels.",
        common::labels::<HorizontalPodAutoscaler>,
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_status_condition",
        Stable,
        "Status of each autoscaler condition, as status=true|false|unknown.",
        |h, out| {
            for c in &h.status.conditions {
                conditions::triple(out, &[("condition", &c.type_)], "status", &c.status);
            }
        },
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_created",
        Alpha,
        "When the HorizontalPodAutoscaler was created, in Unix seconds.",
        common::created::<HorizontalPodAutoscaler>,
    ),
    Family::gauge(
        "kube_horizontalpodautoscaler_deletion_timestamp",
        Alpha,
        "When the HorizontalPodAutoscaler was marked for deletion, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<HorizontalPodAutoscaler>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    const WEB: &str = r#"{"metadata":{"name":"web","namespace":"apps","generation":2,
        "creationTimestamp":"2026-11-21T05:26:15Z"},
        "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},
          "minReplicas":2,"maxReplicas":20,
          "metrics":[
            {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
            {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}},
            {"type":"Pods","pods":{"metric":{"name":"pps"},"target":{"type":"AverageValue","averageValue":"1500m"}}},
            {"type":"Object","object":{"describedObject":{"kind":"Ingress","name":"main"},"metric":{"name":"rps"},
              "target":{"type":"Value","value":"10k"}}},
            {"type":"External","external":{"metric":{"name":"queue"},"target":{"type":"AverageValue","averageValue":"30"}}},
            {"type":"ContainerResource","containerResource":{"name":"cpu","container":"app",
              "target":{"type":"Utilization","averageUtilization":60}}},
            {"type":"Future","future":{}}],
          "behavior":{"scaleUp":{"tolerance":"100m"},"scaleDown":{"tolerance":"50m"}}},
        "status":{"currentReplicas":5,"desiredReplicas":7,
          "currentMetrics":[
            {"type":"Resource","resource":{"name":"cpu","current":{"averageValue":"425m","averageUtilization":85}}},
            {"type":"External","external":{"metric":{"name":"queue"},"current":{"value":"287","averageValue":"41"}}},
            {"type":"Pods"}],
          "conditions":[{"type":"AbleToScale","status":"True"},{"type":"ScalingActive","status":"Unknown"}]}}"#;

    #[test]
    fn all_families() {
        let l = "namespace=\"apps\",horizontalpodautoscaler=\"web\"";
        let expected = [
            format!("kube_horizontalpodautoscaler_info{{{l},scaletargetref_api_version=\"apps/v1\",scaletargetref_kind=\"Deployment\",scaletargetref_name=\"web\"}} 1"),
            format!("kube_horizontalpodautoscaler_metadata_generation{{{l}}} 2"),
            format!("kube_horizontalpodautoscaler_spec_max_replicas{{{l}}} 20"),
            format!("kube_horizontalpodautoscaler_spec_min_replicas{{{l}}} 2"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"cpu\",metric_target_type=\"utilization\",container=\"\"}} 70"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"memory\",metric_target_type=\"average\",container=\"\"}} 5.24288e+08"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"pps\",metric_target_type=\"average\",container=\"\"}} 1.5"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"rps\",metric_target_type=\"value\",container=\"\"}} 10000"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"queue\",metric_target_type=\"average\",container=\"\"}} 30"),
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{l},metric_name=\"cpu\",metric_target_type=\"utilization\",container=\"app\"}} 60"),
            format!("kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance{{{l}}} 0.05"),
            format!("kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance{{{l}}} 0.1"),
            format!("kube_horizontalpodautoscaler_status_target_metric{{{l},metric_name=\"cpu\",metric_target_type=\"utilization\",container=\"\"}} 85"),
            format!("kube_horizontalpodautoscaler_status_target_metric{{{l},metric_name=\"cpu\",metric_target_type=\"average\",container=\"\"}} 0.425"),
            format!("kube_horizontalpodautoscaler_status_target_metric{{{l},metric_name=\"queue\",metric_target_type=\"value\",container=\"\"}} 287"),
            format!("kube_horizontalpodautoscaler_status_target_metric{{{l},metric_name=\"queue\",metric_target_type=\"average\",container=\"\"}} 41"),
            format!("kube_horizontalpodautoscaler_status_current_replicas{{{l}}} 5"),
            format!("kube_horizontalpodautoscaler_status_desired_replicas{{{l}}} 7"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"AbleToScale\",status=\"true\"}} 1"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"AbleToScale\",status=\"false\"}} 0"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"AbleToScale\",status=\"unknown\"}} 0"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"ScalingActive\",status=\"true\"}} 0"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"ScalingActive\",status=\"false\"}} 0"),
            format!("kube_horizontalpodautoscaler_status_condition{{{l},condition=\"ScalingActive\",status=\"unknown\"}} 1"),
            format!("kube_horizontalpodautoscaler_created{{{l}}} 1.795238775e+09"),
        ];
        let mut want = expected.join("\n");
        want.push('\n');
        assert_eq!(render("horizontalpodautoscalers", WEB, "", ""), want);
    }

    /// KSM v2.20 crashes on a metric whose `type` names an absent source (docs/migration.md,
    /// "Differential fuzzing"); kubestate leaves that metric out and keeps the others.
    #[test]
    fn metric_without_its_source_is_left_out() {
        let j = r#"{"metadata":{"name":"h","namespace":"apps"},
            "spec":{"scaleTargetRef":{"kind":"Deployment","name":"x"},"maxReplicas":3,"metrics":[
              {"type":"Resource","pods":{"metric":{"name":"p"},"target":{"type":"AverageValue","averageValue":"1"}}},
              {"type":"Pods","pods":{"metric":{"name":"p"},"target":{"type":"AverageValue","averageValue":"2"}}}]}}"#;
        assert_eq!(
            render_family("horizontalpodautoscalers", j, "kube_horizontalpodautoscaler_spec_target_metric"),
            "kube_horizontalpodautoscaler_spec_target_metric{namespace=\"apps\",horizontalpodautoscaler=\"h\",metric_name=\"p\",metric_target_type=\"average\",container=\"\"} 2\n"
        );
    }

    #[test]
    fn defaults_and_variable_info_labels() {
        let j = r#"{"metadata":{"name":"bare","namespace":"apps","deletionTimestamp":"2026-11-21T05:26:15Z"},
            "spec":{"scaleTargetRef":{"kind":"Deployment","name":"x"},"maxReplicas":3,"metrics":null},
            "status":{"currentMetrics":null,"conditions":null}}"#;
        assert_eq!(
            render("horizontalpodautoscalers", j, "", ""),
            "kube_horizontalpodautoscaler_info{namespace=\"apps\",horizontalpodautoscaler=\"bare\",scaletargetref_kind=\"Deployment\",scaletargetref_name=\"x\"} 1\n\
             kube_horizontalpodautoscaler_metadata_generation{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 0\n\
             kube_horizontalpodautoscaler_spec_max_replicas{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 3\n\
             kube_horizontalpodautoscaler_spec_min_replicas{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 1\n\
             kube_horizontalpodautoscaler_status_current_replicas{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 0\n\
             kube_horizontalpodautoscaler_status_desired_replicas{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 0\n\
             kube_horizontalpodautoscaler_deletion_timestamp{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 1.795238775e+09\n"
        );
        assert_eq!(
            render_family("horizontalpodautoscalers", j, "kube_horizontalpodautoscaler_labels"),
            "kube_horizontalpodautoscaler_labels{namespace=\"apps\",horizontalpodautoscaler=\"bare\"} 1\n"
        );
    }
}
