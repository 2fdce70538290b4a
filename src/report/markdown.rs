//! The Markdown report (tickets, wikis, the TUI's export).
use crate::diagnosis::{Diagnosis, Severity};
use crate::evidence::{AttemptOutcome, Evidence};
use std::fmt::Write;

pub fn render(d: &Diagnosis, ev: &Evidence) -> String {
    let mut o = String::new();
    let t = &ev.target;
    let _ = writeln!(o, "# keyspaces-doctor report\n");
    let _ = writeln!(
        o,
        "**Endpoint:** `{}:{}` · **auth:** {} · **TLS:** {}\n",
        t.host,
        t.port,
        t.auth,
        if t.tls { "on" } else { "off" }
    );
    let _ = writeln!(o, "**Verdict:** {}\n", d.headline());
    for f in &d.findings {
        let sev = if f.severity == Severity::Problem {
            "Problem"
        } else {
            "Warning"
        };
        let _ = writeln!(o, "## {sev}: {} (`{}`)\n", prose(&f.title), f.cause.as_str());
        let _ = writeln!(o, "{}\n", prose(&f.why));
        for e in &f.evidence {
            let _ = writeln!(o, "- Evidence: {}", code(e));
        }
        for s in &f.path {
            let _ = writeln!(o, "- Path: {} **{}**", prose(&s.question), prose(&s.answer));
        }
        if let Some(m) = &f.missing {
            let _ = writeln!(o, "- Missing: {}", prose(m));
        }
        let _ = writeln!(o, "\n**Fix**\n");
        for s in &f.fix.steps {
            let _ = writeln!(o, "1. {}", prose(s));
        }
        let (shell, config): (Vec<&String>, Vec<&String>) = f
            .fix
            .commands
            .iter()
            .partition(|c| crate::diagnosis::leaves::line_kind(c) == crate::diagnosis::leaves::LineKind::Shell);
        if !shell.is_empty() {
            let _ = writeln!(o, "\n```sh\n{}\n```", fenced(&shell));
        }
        if !config.is_empty() {
            let _ = writeln!(o, "\nConfiguration:\n\n```\n{}\n```", fenced(&config));
        }
        if let Some(p) = &f.least_privilege_policy {
            let _ = writeln!(
                o,
                "\n```json\n{}\n```",
                serde_json::to_string_pretty(p).unwrap_or_default()
            );
        }
        let _ = writeln!(o, "\n{} — [AWS documentation]({})\n", prose(&f.fix.retry), f.fix.doc);
    }
    let _ = writeln!(o, "## Probes\n\n| probe | status | ms | evidence |\n|---|---|---|---|");
    for p in &ev.probes {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            p.name,
            p.status,
            p.duration_ms,
            prose(&p.evidence)
        );
    }
    if let Some(q) = &ev.cql
        && !q.attempts.is_empty()
    {
        let _ = writeln!(
            o,
            "\n## Query attempts\n\n| operation | consistency | ms | outcome |\n|---|---|---|---|"
        );
        for a in &q.attempts {
            let outcome = match &a.outcome {
                AttemptOutcome::Ok { rows } => format!("ok, {rows} rows"),
                AttemptOutcome::Error { code, message } => format!("0x{code:04X} {message}"),
                other => other.to_string(),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                a.operation,
                a.consistency,
                a.duration_ms,
                prose(&outcome)
            );
        }
    }
    let trail = crate::digest::cloudtrail_lines(ev);
    if let Some((query, rest)) = trail.split_last() {
        let _ = writeln!(o, "\n## CloudTrail\n");
        for l in rest {
            let _ = writeln!(o, "- {}", prose(l));
        }
        let _ = writeln!(o, "\n```sql\n{}\n```", fenced(&[query]));
    }
    let checks = crate::digest::policy_check_lines(ev);
    if !checks.is_empty() {
        let _ = writeln!(o, "\n## Policy checks (local evaluation | IAM policy simulator)\n");
        for l in checks {
            let _ = writeln!(o, "- {}", prose(&l));
        }
    }
    let lines = crate::digest::driver_config_lines(ev);
    if !lines.is_empty() {
        let _ = writeln!(o, "\n## Driver configuration\n\n```");
        let _ = writeln!(o, "{}", fenced(&lines));
        let _ = writeln!(o, "```");
    }
    o
}

/// Text for Markdown prose: characters Markdown would act on are escaped (inline code
/// spans written with backticks are kept), and no line break can start a new block.
pub fn prose(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An inline code span that no backtick inside can end early.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
}

/// Lines for a fenced block that no line inside can close early.
fn fenced<S: AsRef<str>>(lines: &[S]) -> String {
    lines
        .iter()
        .map(|l| l.as_ref().replace("```", "\u{27}\u{27}\u{27}"))
        .collect::<Vec<_>>()
        .join("\n")
}
