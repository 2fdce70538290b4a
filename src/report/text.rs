//! The plain-text report: readable on a dumb terminal over SSH, no colour needed.
use crate::diagnosis::{Diagnosis, Severity};
use crate::evidence::{AttemptOutcome, Evidence};
use std::fmt::Write;

pub fn render(d: &Diagnosis, ev: &Evidence) -> String {
    let mut o = String::new();
    let t = &ev.target;
    let _ = writeln!(
        o,
        "keyspaces-doctor check: {}:{} ({} auth, TLS {})",
        t.host,
        t.port,
        t.auth,
        if t.tls { "on" } else { "off" }
    );
    let _ = writeln!(o, "{}", d.headline());
    let _ = writeln!(o);
    for (i, f) in d.findings.iter().enumerate() {
        let mark = match f.severity {
            Severity::Problem => "PROBLEM",
            Severity::Warning => "warning",
        };
        let _ = writeln!(o, "{}. [{mark}] {} ({})", i + 1, f.title, f.cause.as_str());
        let _ = writeln!(o, "   Why: {}", f.why);
        for e in &f.evidence {
            let _ = writeln!(o, "   Evidence: {e}");
        }
        if !f.path.is_empty() {
            let _ = writeln!(o, "   Path:");
            for s in &f.path {
                let _ = writeln!(o, "     - {} {}", s.question, s.answer);
            }
        }
        if let Some(m) = &f.missing {
            let _ = writeln!(o, "   Missing: {m}");
        }
        if let (Some(p), Some(s)) = (&f.policy_arn, &f.statement) {
            let _ = writeln!(o, "   Statement: {s} in {p}");
        }
        let _ = writeln!(o, "   Fix:");
        for s in &f.fix.steps {
            let _ = writeln!(o, "     * {s}");
        }
        for c in &f.fix.commands {
            match crate::diagnosis::leaves::line_kind(c) {
                crate::diagnosis::leaves::LineKind::Shell => {
                    let _ = writeln!(o, "       $ {c}");
                }
                crate::diagnosis::leaves::LineKind::Config => {
                    let _ = writeln!(o, "         {c}");
                }
            }
        }
        if let Some(p) = &f.least_privilege_policy {
            let _ = writeln!(
                o,
                "   Least-privilege policy:\n{}",
                indent(&serde_json::to_string_pretty(p).unwrap_or_default(), 6)
            );
        }
        let _ = writeln!(o, "   Retry: {}", f.fix.retry);
        let _ = writeln!(o, "   Doc: {}", f.fix.doc);
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "Probes:");
    for p in &ev.probes {
        let _ = writeln!(
            o,
            "  {:<9} {:<9} {:>6} ms  {}",
            p.name,
            p.status.to_string(),
            p.duration_ms,
            p.evidence
        );
    }
    if let Some(q) = &ev.cql {
        if let Some(a) = &q.authenticator {
            let _ = writeln!(o, "  authenticator: {a}");
        }
        for a in &q.attempts {
            let outcome = match &a.outcome {
                AttemptOutcome::Ok { rows } => format!("ok, {rows} rows"),
                AttemptOutcome::Error { code, message } => format!("0x{code:04X} {message}"),
                AttemptOutcome::TimedOut => "timed out".into(),
                AttemptOutcome::Failed { message } => message.clone(),
                AttemptOutcome::Skipped { reason } => format!("skipped: {reason}"),
            };
            let _ = writeln!(
                o,
                "  {:<28} {:<12} {:>5} ms  {outcome}",
                a.operation, a.consistency, a.duration_ms
            );
        }
    }
    for (title, lines) in [
        ("Credentials:", crate::digest::service_credential_lines(ev)),
        ("CloudTrail:", crate::digest::cloudtrail_lines(ev)),
        ("Policy checks:", crate::digest::policy_check_lines(ev)),
        ("Operations (evaluated, not run):", crate::digest::operation_lines(ev)),
        ("Driver configuration:", crate::digest::driver_config_lines(ev)),
    ] {
        if !lines.is_empty() {
            let _ = writeln!(o, "{title}");
            for l in lines {
                let _ = writeln!(o, "  {l}");
            }
        }
    }
    o
}

fn indent(s: &str, n: usize) -> String {
    s.lines()
        .map(|l| format!("{}{l}", " ".repeat(n)))
        .collect::<Vec<_>>()
        .join("\n")
}
