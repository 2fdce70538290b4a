//! The decision tree as data (`assets/tree/tree.toml`): nodes that ask one question,
//! branches that answer it (by patterns in pasted text, or by evidence), and leaves.
//! Loading, validation and walking; the knowledge itself lives in the asset.
use super::leaves::LeafId;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    pub answer: String,
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default = "five")]
    pub weight: u32,
    pub next: Option<String>,
    pub leaf: Option<LeafId>,
}

fn five() -> u32 {
    5
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub id: String,
    pub question: String,
    pub ask: String,
    #[serde(default)]
    pub evidence: String,
    #[serde(default, rename = "branch")]
    pub branches: Vec<BranchSpec>,
}

#[derive(Debug, Deserialize)]
struct TreeFile {
    node: Vec<NodeSpec>,
}

pub struct Branch {
    pub spec: BranchSpec,
    compiled: OnceLock<Vec<Regex>>,
}

impl Branch {
    /// The branch's patterns, compiled on first use: a `check` walks a handful of
    /// branches, and compiling all of them would cost more than the probes.
    pub fn patterns(&self) -> &[Regex] {
        self.compiled
            .get_or_init(|| self.spec.patterns.iter().filter_map(|p| compile(p).ok()).collect())
    }
}

fn compile(p: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(p).case_insensitive(true).size_limit(1 << 20).build()
}

pub struct Node {
    pub spec: NodeSpec,
    pub branches: Vec<Branch>,
}

pub struct Tree {
    pub nodes: Vec<Node>,
}

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("tree.toml does not parse: {0}")]
    Parse(String),
    #[error("node {node}: pattern {pattern:?} is not a valid regex: {message}")]
    Pattern {
        node: String,
        pattern: String,
        message: String,
    },
}

impl Tree {
    pub fn parse(text: &str) -> Result<Tree, TreeError> {
        let f: TreeFile = toml::from_str(text).map_err(|e| TreeError::Parse(e.to_string()))?;
        let mut nodes = Vec::new();
        for spec in f.node {
            let mut branches = Vec::new();
            for b in &spec.branches {
                // Syntax is checked here (cheap); compiling waits for first use.
                for p in &b.patterns {
                    regex_syntax::ParserBuilder::new()
                        .case_insensitive(true)
                        .build()
                        .parse(p)
                        .map_err(|e| TreeError::Pattern {
                            node: spec.id.clone(),
                            pattern: p.clone(),
                            message: e.to_string(),
                        })?;
                }
                branches.push(Branch {
                    spec: b.clone(),
                    compiled: OnceLock::new(),
                });
            }
            nodes.push(Node { spec, branches });
        }
        Ok(Tree { nodes })
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.spec.id == id)
    }

    pub fn root(&self) -> Option<&Node> {
        self.node("root")
    }

    /// The leaves reachable below a branch, with the weight that leads there.
    pub fn leaves_under(&self, b: &BranchSpec, depth: usize) -> Vec<(LeafId, u32)> {
        if depth > 32 {
            return vec![];
        }
        if let Some(l) = &b.leaf {
            return vec![(*l, b.weight)];
        }
        let Some(n) = b.next.as_deref().and_then(|id| self.node(id)) else {
            return vec![];
        };
        n.branches
            .iter()
            .flat_map(|c| {
                self.leaves_under(&c.spec, depth + 1)
                    .into_iter()
                    .map(move |(l, w)| (l, w * b.weight))
            })
            .collect()
    }

    /// Every path from the root to `leaf`, each step a node and the branch taken.
    pub fn paths_to(&self, leaf: LeafId) -> Vec<Vec<(&Node, &Branch)>> {
        fn walk<'t>(
            t: &'t Tree,
            node: &'t Node,
            leaf: LeafId,
            trail: &mut Vec<(&'t Node, &'t Branch)>,
            out: &mut Vec<Vec<(&'t Node, &'t Branch)>>,
        ) {
            if trail.iter().any(|(n, _)| n.spec.id == node.spec.id) || out.len() > 64 {
                return;
            }
            for b in &node.branches {
                trail.push((node, b));
                if b.spec.leaf == Some(leaf) {
                    out.push(trail.clone());
                } else if let Some(n) = b.spec.next.as_deref().and_then(|id| t.node(id)) {
                    walk(t, n, leaf, trail, out);
                }
                trail.pop();
            }
        }
        let mut out = Vec::new();
        if let Some(root) = self.root() {
            walk(self, root, leaf, &mut Vec::new(), &mut out);
        }
        out
    }

    /// The path to `leaf` that the evidence supports best: the one whose branch
    /// patterns match the most evidence lines (the first path on a tie).
    pub fn best_path_to(&self, leaf: LeafId, evidence: &[String]) -> Option<Vec<(String, String)>> {
        let paths = self.paths_to(leaf);
        let score = |p: &Vec<(&Node, &Branch)>| {
            p.iter()
                .filter(|(_, b)| b.patterns().iter().any(|r| evidence.iter().any(|e| r.is_match(e))))
                .count()
        };
        let mut best: Option<(usize, &Vec<(&Node, &Branch)>)> = None;
        for p in &paths {
            let sc = score(p);
            if best.is_none_or(|(b, _)| sc > b) {
                best = Some((sc, p));
            }
        }
        best.map(|(_, p)| {
            p.iter()
                .map(|(n, b)| (n.spec.question.clone(), b.spec.answer.clone()))
                .collect()
        })
    }

    /// The first path from the root to `leaf`: (question, answer) per step.
    pub fn path_to(&self, leaf: LeafId) -> Option<Vec<(String, String)>> {
        fn walk(t: &Tree, node: &Node, leaf: LeafId, seen: &mut Vec<String>) -> Option<Vec<(String, String)>> {
            if seen.contains(&node.spec.id) {
                return None;
            }
            seen.push(node.spec.id.clone());
            for b in &node.branches {
                let step = (node.spec.question.clone(), b.spec.answer.clone());
                if b.spec.leaf == Some(leaf) {
                    return Some(vec![step]);
                }
                if let Some(n) = b.spec.next.as_deref().and_then(|id| t.node(id))
                    && let Some(mut rest) = walk(t, n, leaf, seen)
                {
                    rest.insert(0, step);
                    return Some(rest);
                }
            }
            None
        }
        walk(self, self.root()?, leaf, &mut vec![])
    }
}

/// The embedded tree, parsed once (a broken asset is caught by the tests).
pub fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        crate::assets::TREE_FILES
            .iter()
            .find(|(n, _)| *n == "tree")
            .and_then(|(_, t)| Tree::parse(t).ok())
            .unwrap_or(Tree { nodes: vec![] })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::leaves;

    fn parsed() -> Tree {
        let text = crate::assets::TREE_FILES
            .iter()
            .find(|(n, _)| *n == "tree")
            .expect("tree.toml")
            .1;
        Tree::parse(text).expect("tree.toml is valid")
    }

    #[test]
    fn every_record_is_reachable_and_every_leaf_has_a_fix() {
        let t = parsed();
        assert!(t.root().is_some(), "a root node");
        let mut ids: Vec<&str> = t.nodes.iter().map(|n| n.spec.id.as_str()).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "node ids are unique");
        for n in &t.nodes {
            for b in &n.branches {
                assert!(
                    b.spec.next.is_some() != b.spec.leaf.is_some(),
                    "{}: '{}' needs exactly one of next/leaf",
                    n.spec.id,
                    b.spec.answer
                );
                for p in &b.spec.patterns {
                    assert!(compile(p).is_ok(), "{}: pattern {p:?} compiles", n.spec.id);
                }
                assert_eq!(b.patterns().len(), b.spec.patterns.len());
                if let Some(next) = &b.spec.next {
                    assert!(t.node(next).is_some(), "{} → missing node {next}", n.spec.id);
                }
                if let Some(l) = &b.spec.leaf {
                    let leaf = leaves::get(*l).unwrap_or_else(|| panic!("{} → missing leaf {l}", n.spec.id));
                    assert!(!leaf.fix.is_empty() && leaf.doc.starts_with("https://"), "{l}");
                }
            }
            if n.spec.id != "root" {
                assert!(
                    t.nodes
                        .iter()
                        .any(|m| m.branches.iter().any(|b| b.spec.next.as_deref() == Some(&n.spec.id))),
                    "node {} is unreachable",
                    n.spec.id
                );
            }
        }
        for l in leaves::all() {
            assert!(
                t.path_to(l.id).is_some(),
                "leaf {} is not reachable from the root",
                l.id
            );
        }
    }
}
