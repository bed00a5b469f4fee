//! Many worlds served as one, and differences attributed back to their world.
//!
//! Starting KSM dominates a differential run, so a run serves many worlds at once: world `i`
//! is renamed so that every name, namespace and reference starting with [`PREFIX`] starts
//! with `fz<i>-` instead, and its uids get `i` as their first group (uids must be unique in
//! the served world). Every sample of an object carries its name or namespace, so a differing
//! sample names the world it belongs to ([`world_of`]). Flags that name namespaces are
//! expanded to the namespaces of every packed world ([`flags`]).

use serde_json::Value;

use crate::gen::{World, PREFIX};

/// The name prefix of the `i`th world of a pack.
pub fn prefix(i: usize) -> String {
    format!("fz{i}-")
}

/// The objects of `world` renamed as the `i`th world of a pack.
pub fn rename(world: &World, i: usize) -> Vec<Value> {
    let to = prefix(i);
    world
        .objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            rename_value(&mut o, &to);
            if let Some(uid) = o["metadata"]["uid"].as_str() {
                let rest = uid.split_once('-').map_or("", |(_, r)| r);
                o["metadata"]["uid"] = Value::String(format!("{i:08x}-{rest}"));
            }
            o
        })
        .collect()
}

fn rename_value(v: &mut Value, to: &str) {
    match v {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(PREFIX) {
                *s = format!("{to}{rest}");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_value(x, to)),
        Value::Object(m) => m.values_mut().for_each(|x| rename_value(x, to)),
        _ => {}
    }
}

/// The objects of all `worlds`, each renamed as its position in the pack.
pub fn pack(worlds: &[World]) -> Vec<Value> {
    worlds
        .iter()
        .enumerate()
        .flat_map(|(i, w)| rename(w, i))
        .collect()
}

/// `flags` (written for an unpacked world) for a pack of `n` worlds: every list item naming
/// a [`PREFIX`] namespace becomes that namespace in each of the `n` worlds.
pub fn flags(flags: &[String], n: usize) -> Vec<String> {
    flags
        .iter()
        .map(|f| {
            let Some((name, value)) = f.split_once('=') else {
                return f.clone();
            };
            if !value.split(',').any(|v| v.starts_with(PREFIX)) {
                return f.clone();
            }
            let items: Vec<String> = value
                .split(',')
                .flat_map(|v| match v.strip_prefix(PREFIX) {
                    Some(rest) => (0..n).map(|i| format!("{}{rest}", prefix(i))).collect(),
                    None => vec![v.to_string()],
                })
                .collect();
            format!("{name}={}", items.join(","))
        })
        .collect()
}

/// The pack position of the world a sample line belongs to: the first `fz<digits>-` in it.
pub fn world_of(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    while let Some(p) = line[i..].find("fz") {
        let start = i + p + 2;
        let digits = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && b.get(start + digits) == Some(&b'-') {
            return line[start..start + digits].parse().ok();
        }
        i = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_and_attributes() {
        let w = World {
            seed: None,
            objects: vec![
                json!({"kind": "Pod", "metadata": {"name": "fz-p0", "namespace": "fz-a",
                "uid": "abcdef01-2345-6789-abcd-ef0123456789", "labels": {"k": "fz-x", "j": "xfz-"}}}),
            ],
        };
        let o = &rename(&w, 12)[0];
        assert_eq!(o["metadata"]["name"], "fz12-p0");
        assert_eq!(o["metadata"]["namespace"], "fz12-a");
        assert_eq!(o["metadata"]["labels"]["j"], "xfz-");
        assert_eq!(o["metadata"]["uid"], "0000000c-2345-6789-abcd-ef0123456789");
        assert_eq!(
            world_of(r#"kube_pod_info{namespace="fz12-a",pod="fz12-p0"} 1"#),
            Some(12)
        );
        assert_eq!(world_of(r#"kube_x{a="fzz",b="fz3-q"} 1"#), Some(3));
        assert_eq!(world_of("kube_x 1"), None);
    }

    #[test]
    fn expands_namespace_flags() {
        let f = flags(
            &["--namespaces=fz-a,fz-c".into(), "--resources=pods".into()],
            2,
        );
        assert_eq!(f[0], "--namespaces=fz0-a,fz1-a,fz0-c,fz1-c");
        assert_eq!(f[1], "--resources=pods");
    }
}
