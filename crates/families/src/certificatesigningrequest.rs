//! Families of the `certificatesigningrequests` resource. Every sample starts with the CSR
//! name and its `spec.signerName`.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::certificatesigningrequest::CertificateSigningRequest;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for CertificateSigningRequest {
    const RESOURCE: &'static str = "certificatesigningrequests";
    const KIND: &'static str = "CertificateSigningRequest";
    const API: Api = Api::cluster("certificates.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("certificatesigningrequest", &self.metadata.name);
        out.identity_label("signer_name", &self.spec.signer_name);
    }
}

const FAMILIES: &[Family<CertificateSigningRequest>] = &[
    Family::gauge(
        "kube_certificatesigningrequest_annotations",
        Alpha,
        "CertificateSigningRequest annotations named by the annotations allowlist, as labels.",
        common::annotations::<CertificateSigningRequest>,
    ),
    Family::gauge(
        "kube_certificatesigningrequest_labels",
        Stable,
        "CertificateSigningRequest labels named by the labels allowlist, as labels.",
        common::labels::<CertificateSigningRequest>,
    ),
    Family::gauge(
        "kube_certificatesigningrequest_created",
        Stable,
        "When the CertificateSigningRequest was created, in Unix seconds.",
        common::created::<CertificateSigningRequest>,
    ),
    Family::gauge(
        "kube_certificatesigningrequest_condition",
        Stable,
        "How many conditions of each type (approved, denied, failed) the request has.",
        |c, out| {
            for (label, type_) in [
                ("approved", "Approved"),
                ("denied", "Denied"),
                ("failed", "Failed"),
            ] {
                let n = c
                    .status
                    .conditions
                    .iter()
                    .filter(|k| &*k.type_ == type_)
                    .count();
                out.sample(&[("condition", label)], n as f64);
            }
        },
    ),
    Family::gauge(
        "kube_certificatesigningrequest_cert_length",
        Stable,
        "Size in bytes of the issued certificate; 0 until one is issued.",
        |c, out| out.sample(&[], c.status.certificate_len as f64),
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"alice","uid":"u1","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"user":"alice"}},
            "spec":{"signerName":"kubernetes.io/kube-apiserver-client","request":"cmVx","usages":["client auth"]},
            "status":{"conditions":[{"type":"Approved","status":"True"},{"type":"Failed","status":"True"},
                {"type":"Approved","status":"True"}],"certificate":"YWJjZA=="}}"#;
        assert_eq!(
            render("certificatesigningrequests", j, "certificatesigningrequests=[user]", ""),
            "kube_certificatesigningrequest_labels{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\",label_user=\"alice\"} 1\n\
             kube_certificatesigningrequest_created{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\"} 1.79523862e+09\n\
             kube_certificatesigningrequest_condition{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\",condition=\"approved\"} 2\n\
             kube_certificatesigningrequest_condition{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\",condition=\"denied\"} 0\n\
             kube_certificatesigningrequest_condition{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\",condition=\"failed\"} 1\n\
             kube_certificatesigningrequest_cert_length{certificatesigningrequest=\"alice\",signer_name=\"kubernetes.io/kube-apiserver-client\"} 4\n"
        );
    }

    #[test]
    fn pending_request() {
        let j = r#"{"metadata":{"name":"bob"},"spec":{"signerName":"example.com/client"}}"#;
        assert_eq!(
            render("certificatesigningrequests", j, "", ""),
            "kube_certificatesigningrequest_condition{certificatesigningrequest=\"bob\",signer_name=\"example.com/client\",condition=\"approved\"} 0\n\
             kube_certificatesigningrequest_condition{certificatesigningrequest=\"bob\",signer_name=\"example.com/client\",condition=\"denied\"} 0\n\
             kube_certificatesigningrequest_condition{certificatesigningrequest=\"bob\",signer_name=\"example.com/client\",condition=\"failed\"} 0\n\
             kube_certificatesigningrequest_cert_length{certificatesigningrequest=\"bob\",signer_name=\"example.com/client\"} 0\n"
        );
    }
}
