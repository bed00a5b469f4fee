//! Emitters shared by the six admissionregistration kinds: webhook configurations
//! (validating, mutating), admission policies (validating, mutating) and their bindings.
//! Each kind implements one small trait exposing the fields its families read; the families
//! tables stay in the kind modules.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::validatingadmissionpolicy::ParamKind;
use kubestate_objects::validatingadmissionpolicybinding::ParamRef;
use kubestate_objects::validatingwebhookconfiguration::Webhook;

use crate::kind::{Kind, Out};

/// Identity of every admission object: `namespace` (always empty: the kinds are
/// cluster-scoped, KSM still writes the label) then the object name under `name_label`.
pub fn identity<K: Kind>(o: &K, name_label: &str, out: &mut ObjectMetrics) {
    out.identity_label("namespace", &o.meta().namespace);
    out.identity_label(name_label, &o.meta().name);
}

/// A webhook configuration: a list of webhooks.
pub trait WebhookConfiguration: Kind {
    /// `webhooks`
    fn webhooks(&self) -> &[Webhook];
}

/// `*_webhook_clientconfig_service`: one sample per webhook with `webhook_name`,
/// `service_name`, `service_namespace` (both empty for URL-based webhooks).
pub fn clientconfig_service<K: WebhookConfiguration>(o: &K, out: &mut Out<'_>) {
    for w in o.webhooks() {
        let (name, namespace) = match &w.client_config.service {
            Some(s) => (&*s.name, &*s.namespace),
            None => ("", ""),
        };
        out.sample(
            &[
                ("webhook_name", &w.name),
                ("service_name", name),
                ("service_namespace", namespace),
            ],
            1.0,
        );
    }
}

/// An admission policy: parameter kind, failure policy and, for mutating policies, the
/// reinvocation policy.
pub trait Policy: Kind {
    /// `spec.paramKind`
    fn param_kind(&self) -> Option<&ParamKind>;
    /// `spec.failurePolicy`
    fn failure_policy(&self) -> Option<&str>;
    /// `spec.reinvocationPolicy`; `None` for kinds that have no such field (the label is then
    /// left out, not empty).
    fn reinvocation_policy(&self) -> Option<&str> {
        None
    }
}

/// `*_info` of a policy: `param_api_version`, `param_kind`, `failure_policy` ("" when unset)
/// and, for mutating policies, `reinvocation_policy`.
pub fn policy_info<K: Policy>(o: &K, out: &mut Out<'_>) {
    let (api_version, kind) = match o.param_kind() {
        Some(p) => (&*p.api_version, &*p.kind),
        None => ("", ""),
    };
    out.begin()
        .label("param_api_version", api_version)
        .label("param_kind", kind)
        .label("failure_policy", o.failure_policy().unwrap_or(""));
    if let Some(r) = o.reinvocation_policy() {
        out.label("reinvocation_policy", r);
    }
    out.finish(1.0);
}

/// A policy binding: the bound policy and its parameter reference.
pub trait Binding: Kind {
    /// `spec.policyName`
    fn policy_name(&self) -> &str;
    /// `spec.paramRef`
    fn param_ref(&self) -> Option<&ParamRef>;
}

/// `*_info` of a binding: `policy_name`, `param_name`, `param_namespace`,
/// `param_not_found_action` (the last three "" without a paramRef or when unset).
pub fn binding_info<K: Binding>(o: &K, out: &mut Out<'_>) {
    let (name, namespace, action) = match o.param_ref() {
        Some(p) => (
            &*p.name,
            &*p.namespace,
            p.parameter_not_found_action.as_deref().unwrap_or(""),
        ),
        None => ("", "", ""),
    };
    out.sample(
        &[
            ("policy_name", o.policy_name()),
            ("param_name", name),
            ("param_namespace", namespace),
            ("param_not_found_action", action),
        ],
        1.0,
    );
}
