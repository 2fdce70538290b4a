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
        let _ = writeln!(o, "## {sev}: {} (`{}`)\n", f.title, f.cause.as_str());
        let _ = writeln!(o, "{}\n", f.why);
        for e in &f.evidence {
            let _ = writeln!(o, "- Evidence: `{}`", e.replace('`', "'"));
        }
        for s in &f.path {
            let _ = writeln!(o, "- Path: {} **{}**", s.question, s.answer);
        }
        let _ = writeln!(o, "\n**Fix**\n");
        for s in &f.fix.steps {
            let _ = writeln!(o, "1. {s}");
        }
        if !f.fix.commands.is_empty() {
            let _ = writeln!(o, "\n```sh\n{}\n```", f.fix.commands.join("\n"));
        }
        if let Some(p) = &f.least_privilege_policy {
            let _ = writeln!(
                o,
                "\n```json\n{}\n```",
                serde_json::to_string_pretty(p).unwrap_or_default()
            );
        }
        let _ = writeln!(o, "\n{} — [AWS documentation]({})\n", f.fix.retry, f.fix.doc);
    }
    let _ = writeln!(o, "## Probes\n\n| probe | status | ms | evidence |\n|---|---|---|---|");
    for p in &ev.probes {
        let _ = writeln!(
            o,
            "| {} | {:?} | {} | {} |",
            p.name,
            p.status,
            p.duration_ms,
            p.evidence.replace('|', "\\|")
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
                other => format!("{other:?}"),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                a.operation,
                a.consistency,
                a.duration_ms,
                outcome.replace('|', "\\|")
            );
        }
    }
    let trail = crate::digest::cloudtrail_lines(ev);
    if let Some((query, rest)) = trail.split_last() {
        let _ = writeln!(o, "\n## CloudTrail\n");
        for l in rest {
            let _ = writeln!(o, "- {l}");
        }
        let _ = writeln!(o, "\n```sql\n{query}\n```");
    }
    let checks = crate::digest::policy_check_lines(ev);
    if !checks.is_empty() {
        let _ = writeln!(o, "\n## Policy checks (local evaluation | IAM policy simulator)\n");
        for l in checks {
            let _ = writeln!(o, "- {l}");
        }
    }
    let lines = crate::digest::driver_config_lines(ev);
    if !lines.is_empty() {
        let _ = writeln!(o, "\n## Driver configuration\n\n```");
        for l in lines {
            let _ = writeln!(o, "{l}");
        }
        let _ = writeln!(o, "```");
    }
    o
}
