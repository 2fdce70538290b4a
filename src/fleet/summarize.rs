//! `summarize`: hosts grouped by verdict and root cause, with what the hosts of each
//! group share and what varies within it.
use super::{Report, facts};
use crate::diagnosis::Cause;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Group {
    pub verdict: &'static str,
    /// The root cause; `null` for the hosts whose check is ok.
    pub cause: Option<Cause>,
    pub leaf: Option<String>,
    pub count: usize,
    pub hosts: Vec<String>,
    /// Facts every host of the group shares, as "what: value".
    pub shared: Vec<String>,
    /// Facts that differ within the group, by name.
    pub varies: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub reports: usize,
    pub groups: Vec<Group>,
}

pub fn summarize(reports: &[Report]) -> Summary {
    let mut keys: Vec<(bool, Option<Cause>)> = Vec::new();
    for r in reports {
        let k = (r.ok, if r.ok { None } else { r.root });
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    // Failing groups first, largest first; the ok group last.
    let mut groups: Vec<Group> = keys
        .into_iter()
        .map(|(ok, cause)| {
            let members: Vec<&Report> = reports
                .iter()
                .filter(|r| r.ok == ok && (ok || r.root == cause))
                .collect();
            let all: Vec<Vec<super::Fact>> = members.iter().map(|r| facts(&r.evidence)).collect();
            let mut shared = Vec::new();
            let mut varies = Vec::new();
            if let Some(first) = all.first() {
                for f in first {
                    let same = all
                        .iter()
                        .all(|fs| fs.iter().any(|g| g.what == f.what && g.value == f.value));
                    if same {
                        shared.push(format!("{}: {}", f.what, f.value));
                    } else if !varies.contains(&f.what) {
                        varies.push(f.what.clone());
                    }
                }
            }
            let mut leaves: Vec<String> = members.iter().filter_map(|r| r.root_leaf.clone()).collect();
            leaves.dedup();
            Group {
                verdict: if ok { "ok" } else { "problems" },
                cause: if ok { None } else { cause },
                leaf: (leaves.len() == 1).then(|| leaves[0].clone()),
                count: members.len(),
                hosts: members.iter().map(|r| r.host.clone()).collect(),
                shared,
                varies,
            }
        })
        .collect();
    groups.sort_by_key(|g| (g.verdict == "ok", std::cmp::Reverse(g.count)));
    Summary {
        reports: reports.len(),
        groups,
    }
}

pub fn render_text(s: &Summary, markdown: bool) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let esc = |t: &str| {
        if markdown {
            crate::report::markdown::prose(t)
        } else {
            t.to_string()
        }
    };
    let _ = writeln!(o, "{} reports, {} groups", s.reports, s.groups.len());
    for g in &s.groups {
        let head = match g.cause {
            Some(c) => format!(
                "{} host(s): {} ({})",
                g.count,
                c.as_str(),
                g.leaf.as_deref().unwrap_or("several leaves")
            ),
            None => format!("{} host(s): ok", g.count),
        };
        let _ = writeln!(o, "\n{}{}", if markdown { "## " } else { "" }, esc(&head));
        let _ = writeln!(
            o,
            "{}hosts: {}",
            if markdown { "- " } else { "  " },
            esc(&g.hosts.join(", "))
        );
        if !g.varies.is_empty() {
            let _ = writeln!(
                o,
                "{}varies within the group: {}",
                if markdown { "- " } else { "  " },
                esc(&g.varies.join("; "))
            );
        }
        for f in g.shared.iter().take(12) {
            let _ = writeln!(o, "{}shared: {}", if markdown { "- " } else { "  " }, esc(f));
        }
    }
    o
}
