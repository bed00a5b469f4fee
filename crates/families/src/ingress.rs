//! Families of the `ingresses` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::ingress::Ingress;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = Ingress;

impl Kind for Ingress {
    const RESOURCE: &'static str = "ingresses";
    const KIND: &'static str = "Ingress";
    const API: Api = Api::ns("networking.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("ingress", &self.metadata.name);
    }
}

/// The legacy annotation that, when present, names the class instead of the spec.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

fn info(o: &O, out: &mut Out<'_>) {
    let class = o
        .metadata
        .annotations
        .get(CLASS_ANNOTATION)
        .or(o.spec.ingress_class_name.as_deref())
        .unwrap_or("_default");
    out.sample(&[("ingressclass", class)], 1.0);
}

/// One sample per `rules[].http.paths[]`; the labels after `path_type` depend on the backend:
/// `service_name`, `service_port` for a Service (port number, "0" when given by name), else
/// `resource_api_group`, `resource_kind`, `resource_name`.
fn path(o: &O, out: &mut Out<'_>) {
    for rule in &o.spec.rules {
        let Some(http) = &rule.http else { continue };
        for p in &http.paths {
            out.begin()
                .label("host", &rule.host)
                .label("path", &p.path)
                .label("path_type", p.path_type.as_deref().unwrap_or(""));
            match (&p.backend.service, &p.backend.resource) {
                (Some(s), _) => {
                    out.label("service_name", &s.name)
                        .label("service_port", &s.port.number.to_string());
                }
                (None, r) => {
                    let (group, kind, name) = match r {
                        Some(r) => (r.api_group.as_deref().unwrap_or(""), &*r.kind, &*r.name),
                        None => ("", "", ""),
                    };
                    out.label("resource_api_group", group)
                        .label("resource_kind", kind)
                        .label("resource_name", name);
                }
            }
            out.finish(1.0);
        }
    }
}

fn tls(o: &O, out: &mut Out<'_>) {
    for t in &o.spec.tls {
        for host in &t.hosts {
            out.sample(&[("tls_host", host), ("secret", &t.secret_name)], 1.0);
        }
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_ingress_info",
        Stable,
        "Ingress class of the Ingress (legacy annotation first, _default when unset).",
        info,
    ),
    Family::gauge(
        "kube_ingress_annotations",
        Alpha,
        "Ingress annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_ingress_labels",
        Stable,
        "Ingress labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
    Family::gauge(
        "kube_ingress_created",
        Stable,
        "When the Ingress was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_ingress_metadata_resource_version",
        Alpha,
        "The Ingress's resourceVersion, as a number.",
        common::resource_version::<O>,
    ),
    Family::gauge(
        "kube_ingress_path",
        Stable,
        "One series per HTTP path rule with its host and backend.",
        path,
    ),
    Family::gauge(
        "kube_ingress_tls",
        Stable,
        "One series per TLS host with the secret that serves it.",
        tls,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn ingress_families() {
        let json = r#"{"metadata":{"name":"shop","namespace":"web","uid":"u","resourceVersion":"365",
            "creationTimestamp":"2026-11-21T05:23:40Z","annotations":{"kubernetes.io/ingress.class":"internal"}},
            "spec":{"ingressClassName":"nginx",
              "rules":[{"host":"shop.example.com","http":{"paths":[
                  {"path":"/","pathType":"Prefix","backend":{"service":{"name":"fe","port":{"number":80}}}},
                  {"path":"/api","pathType":"ImplementationSpecific","backend":{"service":{"name":"api","port":{"name":"http"}}}},
                  {"path":"/static","pathType":"Exact","backend":{"resource":{"apiGroup":"k8s.example.com","kind":"Bucket","name":"assets"}}}]}},
                {"http":{"paths":[{"path":"/m","pathType":"Exact","backend":{"resource":{"kind":"ConfigMap","name":"page"}}}]}},
                {"host":"nohttp.example.com"}],
              "tls":[{"hosts":["a.example.com","b.example.com"],"secretName":"s"},{"hosts":["c.example.com"]}]}}"#;
        assert_eq!(
            render("ingresses", json, "", "ingresses=[*]"),
            "kube_ingress_info{namespace=\"web\",ingress=\"shop\",ingressclass=\"internal\"} 1\n\
             kube_ingress_annotations{namespace=\"web\",ingress=\"shop\",annotation_kubernetes_io_ingress_class=\"internal\"} 1\n\
             kube_ingress_created{namespace=\"web\",ingress=\"shop\"} 1.79523862e+09\n\
             kube_ingress_metadata_resource_version{namespace=\"web\",ingress=\"shop\"} 365\n\
             kube_ingress_path{namespace=\"web\",ingress=\"shop\",host=\"shop.example.com\",path=\"/\",path_type=\"Prefix\",service_name=\"fe\",service_port=\"80\"} 1\n\
             kube_ingress_path{namespace=\"web\",ingress=\"shop\",host=\"shop.example.com\",path=\"/api\",path_type=\"ImplementationSpecific\",service_name=\"api\",service_port=\"0\"} 1\n\
             kube_ingress_path{namespace=\"web\",ingress=\"shop\",host=\"shop.example.com\",path=\"/static\",path_type=\"Exact\",resource_api_group=\"k8s.example.com\",resource_kind=\"Bucket\",resource_name=\"assets\"} 1\n\
             kube_ingress_path{namespace=\"web\",ingress=\"shop\",host=\"\",path=\"/m\",path_type=\"Exact\",resource_api_group=\"\",resource_kind=\"ConfigMap\",resource_name=\"page\"} 1\n\
             kube_ingress_tls{namespace=\"web\",ingress=\"shop\",tls_host=\"a.example.com\",secret=\"s\"} 1\n\
             kube_ingress_tls{namespace=\"web\",ingress=\"shop\",tls_host=\"b.example.com\",secret=\"s\"} 1\n\
             kube_ingress_tls{namespace=\"web\",ingress=\"shop\",tls_host=\"c.example.com\",secret=\"\"} 1\n"
        );
    }

    #[test]
    fn ingress_class_precedence() {
        let info = |meta: &str, spec: &str| {
            let json = format!(
                r#"{{"metadata":{{"name":"i","namespace":"n","uid":"u"{meta}}},"spec":{{{spec}}}}}"#
            );
            render_family("ingresses", &json, "kube_ingress_info")
        };
        let line = |c: &str| {
            format!("kube_ingress_info{{namespace=\"n\",ingress=\"i\",ingressclass=\"{c}\"}} 1\n")
        };
        assert_eq!(info("", ""), line("_default"));
        assert_eq!(info("", r#""ingressClassName":"nginx""#), line("nginx"));
        assert_eq!(
            info(
                r#","annotations":{"kubernetes.io/ingress.class":""}"#,
                r#""ingressClassName":"nginx""#
            ),
            line("")
        );
        assert_eq!(
            info(
                r#","annotations":{"kubernetes.io/ingress.class":"traefik"}"#,
                ""
            ),
            line("traefik")
        );
    }

    #[test]
    fn null_paths_are_empty() {
        let json = r#"{"metadata":{"name":"i","namespace":"n","uid":"u"},
            "spec":{"rules":[{"host":"h","http":{"paths":null}}]}}"#;
        assert_eq!(render_family("ingresses", json, "kube_ingress_path"), "");
    }

    /// KSM v2.20 crashes on a path whose backend names neither a service nor a resource
    /// (docs/migration.md, "Differential fuzzing"); kubestate reports the path with empty
    /// resource labels.
    #[test]
    fn path_without_backend_has_empty_resource_labels() {
        let json = r#"{"metadata":{"name":"i","namespace":"n","uid":"u"},
            "spec":{"rules":[{"host":"h","http":{"paths":[{"path":"/","backend":{}}]}}]}}"#;
        assert_eq!(
            render_family("ingresses", json, "kube_ingress_path"),
            "kube_ingress_path{namespace=\"n\",ingress=\"i\",host=\"h\",path=\"/\",path_type=\"\",resource_api_group=\"\",resource_kind=\"\",resource_name=\"\"} 1\n"
        );
    }
}
