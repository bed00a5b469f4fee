//! Families of the `mutatingadmissionpolicies` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::mutatingadmissionpolicy::MutatingAdmissionPolicy;
use kubestate_objects::validatingadmissionpolicy::ParamKind;
use kubestate_objects::Meta;

use crate::admission::{self, Policy};
use crate::common;
use crate::kind::{Api, Family, Kind};

type O = MutatingAdmissionPolicy;

impl Kind for MutatingAdmissionPolicy {
    const RESOURCE: &'static str = "mutatingadmissionpolicies";
    const KIND: &'static str = "MutatingAdmissionPolicy";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "mutatingadmissionpolicy", out);
    }
}

impl Policy for MutatingAdmissionPolicy {
    fn param_kind(&self) -> Option<&ParamKind> {
        self.spec.param_kind.as_ref()
    }
    fn failure_policy(&self) -> Option<&str> {
        self.spec.failure_policy.as_deref()
    }
    fn reinvocation_policy(&self) -> Option<&str> {
        Some(&self.spec.reinvocation_policy)
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_mutatingadmissionpolicy_info",
        Alpha,
        "MutatingAdmissionPolicy parameter kind, failure and reinvocation policies.",
        admission::policy_info::<O>,
    ),
    Family::gauge(
        "kube_mutatingadmissionpolicy_created",
        Alpha,
        "When the MutatingAdmissionPolicy was created, in Unix seconds.",
        common::created::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn mutating_admission_policy_families() {
        let json = r#"{"metadata":{"name":"add","uid":"u1","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},"failurePolicy":"Fail","reinvocationPolicy":"IfNeeded"}}"#;
        assert_eq!(
            render("mutatingadmissionpolicies", json, "", ""),
            "kube_mutatingadmissionpolicy_info{namespace=\"\",mutatingadmissionpolicy=\"add\",param_api_version=\"v1\",param_kind=\"ConfigMap\",failure_policy=\"Fail\",reinvocation_policy=\"IfNeeded\"} 1\n\
             kube_mutatingadmissionpolicy_created{namespace=\"\",mutatingadmissionpolicy=\"add\"} 1.79523862e+09\n"
        );
    }

    #[test]
    fn unset_fields_are_empty_labels() {
        let json = r#"{"metadata":{"name":"plain","uid":"u1"}}"#;
        assert_eq!(
            render("mutatingadmissionpolicies", json, "", ""),
            "kube_mutatingadmissionpolicy_info{namespace=\"\",mutatingadmissionpolicy=\"plain\",param_api_version=\"\",param_kind=\"\",failure_policy=\"\",reinvocation_policy=\"\"} 1\n"
        );
    }
}
