//! `diff GOOD BAD`: the facts that differ between a working and a failing host, the
//! ones nearest to the failing host's root cause first.
use super::{Report, facts, relevance};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Difference {
    pub what: String,
    pub good: String,
    pub bad: String,
    /// Why it is ranked where it is, in words.
    pub why: String,
}

pub fn diff(good: &Report, bad: &Report) -> Vec<Difference> {
    let g = facts(&good.evidence);
    let b = facts(&bad.evidence);
    let order = relevance(bad.root);
    let mut out: Vec<(usize, usize, Difference)> = Vec::new();
    let mut seen = Vec::new();
    for (i, f) in b.iter().chain(g.iter()).enumerate() {
        if seen.contains(&f.what) {
            continue;
        }
        seen.push(f.what.clone());
        let gv = g.iter().find(|x| x.what == f.what).map(|x| x.value.clone());
        let bv = b.iter().find(|x| x.what == f.what).map(|x| x.value.clone());
        if gv == bv {
            continue;
        }
        let rank = order.iter().position(|k| *k == f.kind).unwrap_or(order.len());
        // Within a kind, a value that shows a failure on the failing host comes first.
        let failed = bv.as_deref().is_some_and(shows_failure);
        let rank = rank * 2 + usize::from(!failed);
        let why = match (rank / 2, bad.root) {
            (0, Some(c)) => format!("the failing host's root cause is {}", c.as_str()),
            (_, Some(c)) => format!("differs; less related to {}", c.as_str()),
            (_, None) => "differs".to_string(),
        };
        out.push((
            rank,
            i,
            Difference {
                what: f.what.clone(),
                good: gv.unwrap_or_else(|| "not seen".into()),
                bad: bv.unwrap_or_else(|| "not seen".into()),
                why,
            },
        ));
    }
    out.sort_by_key(|(r, i, _)| (*r, *i));
    out.into_iter().map(|(_, _, d)| d).collect()
}

pub fn render_text(good: &Report, bad: &Report, d: &[Difference]) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} (working) vs {} (failing: {})",
        good.host,
        bad.host,
        bad.root.map(|c| c.as_str()).unwrap_or("ok")
    );
    if d.is_empty() {
        let _ = writeln!(o, "No difference in the evidence.");
    }
    for x in d {
        let _ = writeln!(o, "- {}: {} → {} ({})", x.what, x.good, x.bad, x.why);
    }
    o
}

/// Words with which the evidence reports a failure.
fn shows_failure(v: &str) -> bool {
    let v = v.to_ascii_lowercase();
    [
        "refused",
        "not trusted",
        "deny",
        "denied",
        "failed",
        "error",
        "timed out",
        "no answer",
        "does not",
    ]
    .iter()
    .any(|w| v.contains(w))
}
