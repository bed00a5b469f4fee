//! Helpers for family unit tests: render one object with given allowlists.

use kubestate_metric::ObjectMetrics;

use crate::filter::{Allowlist, FamilyFilter, Selection};

/// Renders every family of `resource` for the object `json`, with `labels`/`annotations` as
/// the allowlist value for this resource (e.g. `pods=[*]`, or `""` for none) and all opt-in
/// families enabled. Returns the text lines of all families, in table order.
///
/// # Panics
/// On an unknown resource, a bad allowlist or an undecodable object (test helper).
pub fn render(resource: &str, json: &str, labels: &str, annotations: &str) -> String {
    render_with(
        resource,
        json,
        labels,
        annotations,
        &FamilyFilter::new(&[], &[], &[".*".into()]).expect("valid"),
    )
}

/// [`render`] with an explicit family filter.
///
/// # Panics
/// As [`render`].
pub fn render_with(
    resource: &str,
    json: &str,
    labels: &str,
    annotations: &str,
    families: &FamilyFilter,
) -> String {
    let r = crate::resource(resource).expect("known resource");
    let la = Allowlist::parse("labels", labels).expect("labels allowlist");
    let aa = Allowlist::parse("annotations", annotations).expect("annotations allowlist");
    let sel = Selection {
        families: families.clone(),
        labels: la.for_resource("labels", resource).expect("labels keys"),
        annotations: aa
            .for_resource("annotations", resource)
            .expect("annotation keys"),
    };
    let g = r.generator(sel);
    let mut m = ObjectMetrics::new();
    g.generate(json.as_bytes(), &mut m).expect("object decodes");
    let mut out = Vec::new();
    for (i, f) in g.families().iter().enumerate() {
        m.write_family_text(i, &f.name, &mut out);
    }
    String::from_utf8(out).expect("utf-8")
}

/// Renders only family `name` of the object.
///
/// # Panics
/// As [`render`].
pub fn render_family(resource: &str, json: &str, name: &str) -> String {
    let f = FamilyFilter::new(&[format!("^{name}$")], &[], &[".*".into()]).expect("valid");
    render_with(resource, json, "*=[*]", "*=[*]", &f)
}
