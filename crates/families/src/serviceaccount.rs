//! Families of the `serviceaccounts` resource (off by default). Its samples carry the `uid`
//! as a third identity label.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::serviceaccount::{NamedRef, ServiceAccount};
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

impl Kind for ServiceAccount {
    const RESOURCE: &'static str = "serviceaccounts";
    const KIND: &'static str = "ServiceAccount";
    const API: Api = Api::CORE_NS;
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("serviceaccount", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }
}

/// One `name`-labelled sample per referenced secret.
fn names(refs: &[NamedRef], out: &mut Out<'_>) {
    for r in refs {
        out.sample(&[("name", &r.name)], 1.0);
    }
}

const FAMILIES: &[Family<ServiceAccount>] = &[
    Family::gauge(
        "kube_serviceaccount_info",
        Alpha,
        "One series per ServiceAccount; automount_token is its automountServiceAccountToken (empty when unset).",
        |s, out| {
            let automount = s
                .automount_service_account_token
                .map_or("", common::bool_str);
            out.sample(&[("automount_token", automount)], 1.0);
        },
    ),
    Family::gauge(
        "kube_serviceaccount_created",
        Alpha,
        "When the ServiceAccount was created, in Unix seconds.",
        common::created::<ServiceAccount>,
    ),
    Family::gauge(
        "kube_serviceaccount_deleted",
        Alpha,
        "When the ServiceAccount was marked for deletion, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<ServiceAccount>,
    ),
    Family::gauge(
        "kube_serviceaccount_secret",
        Alpha,
        "One series per secret the ServiceAccount references.",
        |s, out| names(&s.secrets, out),
    ),
    Family::gauge(
        "kube_serviceaccount_image_pull_secret",
        Alpha,
        "One series per image pull secret the ServiceAccount references.",
        |s, out| names(&s.image_pull_secrets, out),
    ),
    Family::gauge(
        "kube_serviceaccount_annotations",
        Alpha,
        "ServiceAccount annotations named by the annotations allowlist, as labels.",
        common::annotations::<ServiceAccount>,
    ),
    Family::gauge(
        "kube_serviceaccount_labels",
        Alpha,
        "ServiceAccount labels named by the labels allowlist, as labels.",
        common::labels::<ServiceAccount>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"builder","namespace":"ci","uid":"u-1",
            "creationTimestamp":"2026-11-21T05:23:40Z","deletionTimestamp":"2026-11-21T05:25:00Z",
            "labels":{"team":"ci"}},
            "automountServiceAccountToken":false,
            "secrets":[{"name":"tok-a"},{"name":"tok-b"}],"imagePullSecrets":[{"name":"regcred"}]}"#;
        assert_eq!(
            render("serviceaccounts", j, "serviceaccounts=[team]", ""),
            "kube_serviceaccount_info{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\",automount_token=\"false\"} 1\n\
             kube_serviceaccount_created{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\"} 1.79523862e+09\n\
             kube_serviceaccount_deleted{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\"} 1.7952387e+09\n\
             kube_serviceaccount_secret{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\",name=\"tok-a\"} 1\n\
             kube_serviceaccount_secret{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\",name=\"tok-b\"} 1\n\
             kube_serviceaccount_image_pull_secret{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\",name=\"regcred\"} 1\n\
             kube_serviceaccount_labels{namespace=\"ci\",serviceaccount=\"builder\",uid=\"u-1\",label_team=\"ci\"} 1\n"
        );
    }

    #[test]
    fn unset_token_no_secrets_not_deleted() {
        let j = r#"{"metadata":{"name":"default","namespace":"ci","uid":"u-2"},"secrets":null}"#;
        assert_eq!(
            render("serviceaccounts", j, "", ""),
            "kube_serviceaccount_info{namespace=\"ci\",serviceaccount=\"default\",uid=\"u-2\",automount_token=\"\"} 1\n"
        );
    }
}
