//! Families of the `validatingadmissionpolicies` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::validatingadmissionpolicy::{ParamKind, ValidatingAdmissionPolicy};
use kubestate_objects::Meta;

use crate::admission::{self, Policy};
use crate::common;
use crate::kind::{Api, Family, Kind};

type O = ValidatingAdmissionPolicy;

impl Kind for ValidatingAdmissionPolicy {
    const RESOURCE: &'static str = "validatingadmissionpolicies";
    const KIND: &'static str = "ValidatingAdmissionPolicy";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "validatingadmissionpolicy", out);
    }
}

impl Policy for ValidatingAdmissionPolicy {
    fn param_kind(&self) -> Option<&ParamKind> {
        self.spec.param_kind.as_ref()
    }
    fn failure_policy(&self) -> Option<&str> {
        self.spec.failure_policy.as_deref()
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_validatingadmissionpolicy_info",
        Alpha,
        "ValidatingAdmissionPolicy parameter kind and failure policy.",
        admission::policy_info::<O>,
    ),
    Family::gauge(
        "kube_validatingadmissionpolicy_created",
        Alpha,
        "When the ValidatingAdmissionPolicy was created, in Unix seconds.",
        common::created::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn validating_admission_policy_families() {
        let json = r#"{"metadata":{"name":"limit","uid":"u1","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},"failurePolicy":"Fail"}}"#;
        assert_eq!(
            render("validatingadmissionpolicies", json, "", ""),
            "kube_validatingadmissionpolicy_info{namespace=\"\",validatingadmissionpolicy=\"limit\",param_api_version=\"v1\",param_kind=\"ConfigMap\",failure_policy=\"Fail\"} 1\n\
             kube_validatingadmissionpolicy_created{namespace=\"\",validatingadmissionpolicy=\"limit\"} 1.79523862e+09\n"
        );
    }

    #[test]
    fn unset_param_kind_and_failure_policy_are_empty() {
        let json = r#"{"metadata":{"name":"plain","uid":"u1"},"spec":{}}"#;
        assert_eq!(
            render("validatingadmissionpolicies", json, "", ""),
            "kube_validatingadmissionpolicy_info{namespace=\"\",validatingadmissionpolicy=\"plain\",param_api_version=\"\",param_kind=\"\",failure_policy=\"\"} 1\n"
        );
    }
}
