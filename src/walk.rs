//! The decision tree walked with a person: the branches pasted text decides are taken
//! (`explain`), and where nothing decides, the node's question is put with numbered
//! answers until a leaf is reached. Answers are marked by who gave them and can be
//! taken back. State and transitions only; the TUI draws it.
use crate::diagnosis::leaves::{self, Leaf, LeafId};
use crate::diagnosis::tree::{self, Tree};
use crate::explain::Explanation;

/// Who answered a question of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnsweredBy {
    /// The pasted text matched the branch's patterns.
    Text,
    /// The person chose it.
    You,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkStep {
    pub node: String,
    pub branch: usize,
    pub question: String,
    pub answer: String,
    pub by: AnsweredBy,
}

/// A question waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub question: String,
    /// How the person can find the answer (a command, a place to look).
    pub ask: String,
    pub answers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Walk {
    pub steps: Vec<WalkStep>,
    /// The node whose question is open; `None` once a leaf is reached.
    pub at: Option<String>,
    pub leaf: Option<LeafId>,
    /// What the text alone concluded (cause, candidates), for the first screen.
    pub explanation: Option<Explanation>,
    /// Values the text names (host, region, ARNs...), for the leaf's text.
    pub vars: std::collections::BTreeMap<&'static str, String>,
}

impl Walk {
    /// A walk from the root, nothing answered.
    pub fn new() -> Walk {
        Walk {
            steps: vec![],
            at: tree::tree().root().map(|n| n.spec.id.clone()),
            leaf: None,
            explanation: None,
            vars: Default::default(),
        }
    }

    /// The walk as far as `text` decides it, then the first open question.
    pub fn from_text(text: &str) -> Walk {
        let t = tree::tree();
        let e = crate::explain::explain(text);
        let mut w = Walk::new();
        for (node, branch) in &e.trail {
            w.take(t, node, *branch, AnsweredBy::Text);
        }
        if w.leaf.is_none()
            && let Some(stop) = &e.stopped_at
        {
            w.at = Some(stop.clone());
        }
        w.explanation = Some(e);
        w.vars = crate::explain::extract_vars(&crate::explain::normalize(text).0);
        w
    }

    fn take(&mut self, t: &Tree, node: &str, branch: usize, by: AnsweredBy) -> bool {
        let Some(n) = t.node(node) else { return false };
        let Some(b) = n.branches.get(branch) else {
            return false;
        };
        self.steps.push(WalkStep {
            node: node.to_string(),
            branch,
            question: n.spec.question.clone(),
            answer: b.spec.answer.clone(),
            by,
        });
        match (&b.spec.leaf, &b.spec.next) {
            (Some(l), _) => {
                self.leaf = Some(*l);
                self.at = None;
            }
            (None, Some(next)) => {
                self.leaf = None;
                self.at = Some(next.clone());
            }
            (None, None) => self.at = None,
        }
        true
    }

    /// The open question, with its answers in order (the person types their number).
    pub fn question(&self) -> Option<Question> {
        let n = tree::tree().node(self.at.as_deref()?)?;
        Some(Question {
            question: n.spec.question.clone(),
            ask: n.spec.ask.clone(),
            answers: n.branches.iter().map(|b| b.spec.answer.clone()).collect(),
        })
    }

    /// Answers the open question with answer `number` (1-based); false if there is no
    /// such answer or no open question.
    pub fn answer(&mut self, number: usize) -> bool {
        let Some(at) = self.at.clone() else { return false };
        number >= 1 && self.take(tree::tree(), &at, number - 1, AnsweredBy::You)
    }

    /// Takes back the last answer the person gave (the text's stay): its question is
    /// open again.
    pub fn undo(&mut self) -> bool {
        if self.steps.last().is_none_or(|s| s.by != AnsweredBy::You) {
            return false;
        }
        let last = self.steps.pop().expect("checked above");
        self.at = Some(last.node);
        self.leaf = None;
        true
    }

    /// The leaf reached, with its record.
    pub fn leaf(&self) -> Option<&'static Leaf> {
        self.leaf.and_then(leaves::get)
    }
}

impl Default for Walk {
    fn default() -> Self {
        Walk::new()
    }
}

/// A leaf's text with the walk's values filled in; a value the text did not give is
/// shown as `<name>`.
pub fn fill(text: &str, vars: &std::collections::BTreeMap<&'static str, String>) -> String {
    static OPEN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let filled = leaves::fill(text, vars);
    OPEN.get_or_init(|| regex::Regex::new(r"\{([a-z_]+)\}").expect("a valid pattern"))
        .replace_all(&filled, "<$1>")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_decides_what_it_can_then_the_person_answers_to_a_leaf() {
        let mut w = Walk::from_text("Authentication failure: Invalid signature");
        assert!(w.steps.iter().all(|s| s.by == AnsweredBy::Text));
        let mut answered = 0;
        while let Some(q) = w.question() {
            assert!(!q.answers.is_empty(), "{q:?}");
            assert!(w.answer(1), "{q:?}");
            answered += 1;
            assert!(answered < 20, "the walk ends");
        }
        assert!(answered >= 1, "the text alone does not decide: {:?}", w.steps);
        let leaf = w.leaf().expect("a leaf");
        assert!(!leaf.fix.is_empty());
        assert!(w.steps.iter().any(|s| s.by == AnsweredBy::You));
        // The last answer can be taken back, and its question is open again.
        assert!(w.undo());
        assert!(w.leaf.is_none() && w.question().is_some());
        assert!(!w.answer(99), "no such answer");
    }

    #[test]
    fn a_decisive_text_needs_no_question() {
        let w = Walk::from_text(
            "Error from server: code=2100 [Unauthorized] message=\"User: arn:aws:iam::111122223333:user/app is not authorized to perform: cassandra:Select on resource: arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders because no identity-based policy allows the cassandra:Select action\"",
        );
        assert!(w.leaf.is_some(), "{:?}", w.steps);
        assert!(w.question().is_none());
        assert!(!Walk::from_text("x").steps.iter().any(|s| s.by == AnsweredBy::You));
    }
}
