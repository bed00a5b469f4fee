//! Families of the `validatingadmissionpolicybindings` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::validatingadmissionpolicybinding::{
    ParamRef, ValidatingAdmissionPolicyBinding,
};
use kubestate_objects::Meta;

use crate::admission::{self, Binding};
use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = ValidatingAdmissionPolicyBinding;

impl Kind for ValidatingAdmissionPolicyBinding {
    const RESOURCE: &'static str = "validatingadmissionpolicybindings";
    const KIND: &'static str = "ValidatingAdmissionPolicyBinding";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "validatingadmissionpolicybinding", out);
    }
}

impl Binding for ValidatingAdmissionPolicyBinding {
    fn policy_name(&self) -> &str {
        &self.spec.policy_name
    }
    fn param_ref(&self) -> Option<&ParamRef> {
        self.spec.param_ref.as_ref()
    }
}

fn validation_action(o: &O, out: &mut Out<'_>) {
    for a in &o.spec.validation_actions {
        out.sample(&[("action", a)], 1.0);
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_validatingadmissionpolicybinding_info",
        Alpha,
        "ValidatingAdmissionPolicyBinding policy and parameter reference.",
        admission::binding_info::<O>,
    ),
    Family::gauge(
        "kube_validatingadmissionpolicybinding_created",
        Alpha,
        "When the ValidatingAdmissionPolicyBinding was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_validatingadmissionpolicybinding_validation_action",
        Alpha,
        "One series per validation action (Deny, Warn, Audit) of the binding.",
        validation_action,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn validating_admission_policy_binding_families() {
        let json = r#"{"metadata":{"name":"prod","uid":"u1","creationTimestamp":"2026-11-21T05:23:40Z"},
            "spec":{"policyName":"limit","paramRef":{"name":"limits","namespace":"hooks","parameterNotFoundAction":"Deny"},
                    "validationActions":["Warn","Audit"]}}"#;
        assert_eq!(
            render("validatingadmissionpolicybindings", json, "", ""),
            "kube_validatingadmissionpolicybinding_info{namespace=\"\",validatingadmissionpolicybinding=\"prod\",policy_name=\"limit\",param_name=\"limits\",param_namespace=\"hooks\",param_not_found_action=\"Deny\"} 1\n\
             kube_validatingadmissionpolicybinding_created{namespace=\"\",validatingadmissionpolicybinding=\"prod\"} 1.79523862e+09\n\
             kube_validatingadmissionpolicybinding_validation_action{namespace=\"\",validatingadmissionpolicybinding=\"prod\",action=\"Warn\"} 1\n\
             kube_validatingadmissionpolicybinding_validation_action{namespace=\"\",validatingadmissionpolicybinding=\"prod\",action=\"Audit\"} 1\n"
        );
    }

    #[test]
    fn without_param_ref() {
        let json = r#"{"metadata":{"name":"b","uid":"u1"},"spec":{"policyName":"p"}}"#;
        assert_eq!(
            render("validatingadmissionpolicybindings", json, "", ""),
            "kube_validatingadmissionpolicybinding_info{namespace=\"\",validatingadmissionpolicybinding=\"b\",policy_name=\"p\",param_name=\"\",param_namespace=\"\",param_not_found_action=\"\"} 1\n"
        );
    }
}
