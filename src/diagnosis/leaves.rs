//! The knowledge behind every finding: leaf records (cause, title, why, fix steps,
//! commands, doc link, retry guidance) read from `assets/tree/leaves.toml`, with
//! `{placeholders}` filled from the evidence. Data access only.
use super::Cause;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaf {
    pub id: String,
    pub cause: Cause,
    pub severity: super::Severity,
    pub title: String,
    pub why: String,
    pub fix: Vec<String>,
    pub commands: Vec<String>,
    pub doc: String,
    pub retry: String,
}

#[derive(Debug, Deserialize)]
struct LeafFile {
    leaf: Vec<Leaf>,
}

/// Every leaf record, parsed once. A broken asset is a build defect, caught by tests.
pub fn all() -> &'static [Leaf] {
    static LEAVES: OnceLock<Vec<Leaf>> = OnceLock::new();
    LEAVES.get_or_init(|| {
        crate::assets::TREE_FILES
            .iter()
            .filter(|(n, _)| n.starts_with("leaves"))
            .flat_map(|(_, t)| toml::from_str::<LeafFile>(t).map(|f| f.leaf).unwrap_or_default())
            .fold(Vec::<Leaf>::new(), |mut acc, l| {
                if !acc.iter().any(|x| x.id == l.id) {
                    acc.push(l);
                }
                acc
            })
    })
}

pub fn get(id: &str) -> Option<&'static Leaf> {
    all().iter().find(|l| l.id == id)
}

/// Fills `{name}` placeholders; unknown ones are left visible.
pub fn fill(text: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) if vars.contains_key(&after[..j]) => {
                out.push_str(&vars[&after[..j]]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_parse_and_each_has_a_fix_and_a_doc_link() {
        let text = crate::assets::TREE_FILES
            .iter()
            .find(|(n, _)| *n == "leaves")
            .unwrap()
            .1;
        let parsed: LeafFile = toml::from_str(text).expect("leaves.toml parses");
        assert!(parsed.leaf.len() >= 40);
        for l in &parsed.leaf {
            assert!(!l.fix.is_empty(), "{} has no fix", l.id);
            assert!(
                l.doc.starts_with("https://docs.aws.amazon.com/"),
                "{} doc {}",
                l.id,
                l.doc
            );
            assert!(!l.retry.is_empty(), "{}", l.id);
        }
    }

    #[test]
    fn placeholders() {
        let mut v = BTreeMap::new();
        v.insert("host", "h".to_string());
        assert_eq!(fill("a {host} {nope} b", &v), "a h {nope} b");
    }
}
