//! The family layer below the tree's specific patterns: generic error shapes (TLS trust,
//! TLS name, TLS version, credential providers, refused/timeout/reset/DNS, authentication
//! rejected, unauthorized, invalid query, driver configuration) from
//! `assets/tree/families.toml`, each with its cause, the leaf whose fix applies, the
//! alternatives it cannot rule out and the question that separates them. Data access
//! and matching only; `explain` decides when to use it.
use super::Cause;
use super::leaves::LeafId;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    pub answer: String,
    pub cause: Cause,
    pub leaf: LeafId,
    pub alternatives: Vec<LeafId>,
    pub question: String,
    pub patterns: Vec<String>,
    /// Shapes that look like this family but are not it (a server-side read timeout is
    /// not a connection timeout).
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(skip)]
    compiled: Vec<Regex>,
    #[serde(skip)]
    excluded: Vec<Regex>,
}

impl Family {
    fn matches(&self, text: &str) -> bool {
        self.compiled.iter().any(|r| r.is_match(text)) && !self.excluded.iter().any(|r| r.is_match(text))
    }
}

fn compile(patterns: &[String]) -> Vec<Regex> {
    patterns
        .iter()
        .filter_map(|p| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .ok()
        })
        .collect()
}

#[derive(Deserialize)]
struct FamilyFile {
    family: Vec<Family>,
}

/// Every family, in the order they are tried, patterns compiled once.
pub fn all() -> &'static [Family] {
    static FAMILIES: OnceLock<Vec<Family>> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let text = crate::assets::TREE_FILES
            .iter()
            .find(|(n, _)| *n == "families")
            .map(|(_, t)| *t)
            .unwrap_or_default();
        let mut families = toml::from_str::<FamilyFile>(text).map(|f| f.family).unwrap_or_default();
        for f in &mut families {
            f.compiled = compile(&f.patterns);
            f.excluded = compile(&f.exclude);
        }
        families
    })
}

/// The innermost errors of a paste first: the segments after `Caused by:`, `caused by:`,
/// `--->` or Python's "During handling of the above exception", last one first, then the
/// whole text.
pub fn innermost_first(text: &str) -> Vec<&str> {
    const MARKERS: &[&str] = &[
        "Caused by:",
        "caused by:",
        "--->",
        "During handling of the above exception",
        "The above exception was the direct cause",
    ];
    let mut cuts: Vec<usize> = MARKERS
        .iter()
        .flat_map(|m| text.match_indices(m).map(|(i, _)| i))
        .collect();
    cuts.sort_unstable();
    let mut segments: Vec<&str> = cuts.iter().rev().map(|i| &text[*i..]).collect();
    segments.push(text);
    segments
}

/// The first family that recognises `text`, innermost error first.
pub fn recognise(text: &str) -> Option<&'static Family> {
    for segment in innermost_first(text) {
        if let Some(f) = all().iter().find(|f| f.matches(segment)) {
            return Some(f);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_parse_and_name_real_leaves() {
        let fams = all();
        assert!(fams.len() >= 10);
        for f in fams {
            assert_eq!(f.compiled.len(), f.patterns.len(), "{}: every pattern compiles", f.id);
            assert_eq!(f.excluded.len(), f.exclude.len(), "{}: every exclusion compiles", f.id);
            assert!(super::super::leaves::get(f.leaf).is_some(), "{}: leaf {}", f.id, f.leaf);
            for a in &f.alternatives {
                assert!(super::super::leaves::get(*a).is_some(), "{}: alternative {a}", f.id);
            }
            assert!(!f.question.is_empty());
        }
    }

    #[test]
    fn the_innermost_error_decides() {
        let t = "java.lang.RuntimeException: request timed out\nCaused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed";
        assert_eq!(recognise(t).map(|f| f.id.as_str()), Some("tls-trust"));
        assert_eq!(
            recognise("connect ETIMEDOUT 10.0.0.1:9142").map(|f| f.id.as_str()),
            Some("network")
        );
        assert!(recognise("hello world").is_none());
    }
}
