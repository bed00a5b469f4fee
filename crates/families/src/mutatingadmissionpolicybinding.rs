//! Families of the `mutatingadmissionpolicybindings` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::mutatingadmissionpolicybinding::MutatingAdmissionPolicyBinding;
use kubestate_objects::validatingadmissionpolicybinding::ParamRef;
use kubestate_objects::Meta;

use crate::admission::{self, Binding};
use crate::common;
use crate::kind::{Api, Family, Kind};

type O = MutatingAdmissionPolicyBinding;

impl Kind for MutatingAdmissionPolicyBinding {
    const RESOURCE: &'static str = "mutatingadmissionpolicybindings";
    const KIND: &'static str = "MutatingAdmissionPolicyBinding";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "mutatingadmissionpolicybinding", out);
    }
}

impl Binding for MutatingAdmissionPolicyBinding {
    fn policy_name(&self) -> &str {
        &self.spec.policy_name
    }
    fn param_ref(&self) -> Option<&ParamRef> {
        self.spec.param_ref.as_ref()
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_mutatingadmissionpolicybinding_info",
        Alpha,
        "MutatingAdmissionPolicyBinding policy and parameter reference.",
        admission::binding_info::<O>,
    ),
    Family::gauge(
        "kube_mutatingadmissionpolicybinding_created",
        Alpha,
        "When the MutatingAdmissionPolicyBinding was created, in Unix seconds.",
        common::created::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn mutating_admission_policy_binding_families() {
        let json = r#"{"metadata":{"name":"all","uid":"u1","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"policyName":"add","paramRef":{"name":"defaults","namespace":"hooks","parameterNotFoundAction":"Allow"}}}"#;
        assert_eq!(
            render("mutatingadmissionpolicybindings", json, "", ""),
            "kube_mutatingadmissionpolicybinding_info{namespace=\"\",mutatingadmissionpolicybinding=\"all\",policy_name=\"add\",param_name=\"defaults\",param_namespace=\"hooks\",param_not_found_action=\"Allow\"} 1\n\
             kube_mutatingadmissionpolicybinding_created{namespace=\"\",mutatingadmissionpolicybinding=\"all\"} 1.79523862e+09\n"
        );
    }
}
