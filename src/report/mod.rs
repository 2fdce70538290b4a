//! Renders a diagnosis and its evidence for `check`: readable text, one JSON
//! document, or Markdown. Rendering only: nothing here probes or decides, and
//! nothing here can see a secret (the evidence holds none).
pub mod markdown;
pub mod text;

use crate::diagnosis::Diagnosis;
use crate::evidence::Evidence;

/// `--json`: verdict, causes (root first), findings, probes and the evidence.
pub fn json(d: &Diagnosis, ev: &Evidence) -> String {
    let v = serde_json::json!({
        "verdict": d.verdict,
        "causes": d.causes,
        "findings": d.findings,
        "probes": ev.probes,
        "evidence": {
            "target": ev.target,
            "config": ev.config,
            "dns": ev.dns,
            "tcp": ev.tcp,
            "tls": ev.tls,
            "identity": ev.identity,
            "cql": ev.cql,
            "driver_configs": ev.driver_configs,
        }
    });
    serde_json::to_string(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The driver configuration files as short lines (file, truststore, problems by line),
/// shared by the text and Markdown reports and the TUI.
pub fn driver_config_lines(ev: &Evidence) -> Vec<String> {
    let mut out = Vec::new();
    for r in &ev.driver_configs {
        out.push(format!(
            "{} ({}): {}",
            r.path,
            r.kind,
            match r.problems.len() {
                0 => "no problem found".to_string(),
                1 => "1 problem".to_string(),
                n => format!("{n} problems"),
            }
        ));
        if let Some(t) = &r.truststore {
            let verdict = match t.verifies_endpoint {
                Some(true) => "; the served chain verifies against it",
                Some(false) => "; the served chain does NOT verify against it",
                None => "",
            };
            match &t.unreadable {
                Some(why) => out.push(format!("  truststore {} ({}): {why}", t.path, t.format)),
                None => out.push(format!(
                    "  truststore {} ({}): {}{verdict}",
                    t.path,
                    t.format,
                    t.certificates.join(", ")
                )),
            }
        }
        for p in &r.problems {
            let at = p.line.map(|l| format!("line {l}")).unwrap_or_else(|| "file".into());
            out.push(format!("  {at}: {} [{}]", p.detail, p.leaf));
        }
        for e in &r.parse_errors {
            out.push(format!("  not read: {e}"));
        }
    }
    out
}

/// The principal's policies evaluated locally beside IAM's policy simulator, one line per
/// probed action and ARN; shared by the reports and the TUI.
pub fn policy_check_lines(ev: &Evidence) -> Vec<String> {
    let Some(p) = ev.identity.as_ref().and_then(|i| i.policies.as_ref()) else {
        return vec![];
    };
    let mut out = Vec::new();
    let sim = p.simulation.as_ref();
    if let Some(why) = sim.and_then(|s| s.unavailable.as_ref()) {
        out.push(format!("IAM policy simulator not available: {why}"));
    }
    let local_name = |d: &crate::iam::Decision| match d {
        crate::iam::Decision::Allowed { .. } => "allowed",
        crate::iam::Decision::ExplicitDeny { .. } => "explicitDeny",
        crate::iam::Decision::ImplicitDeny { .. } => "implicitDeny",
    };
    let short = |r: &str| {
        r.split_once(":/")
            .map(|(_, t)| format!("/{t}"))
            .unwrap_or_else(|| r.to_string())
    };
    let mut pairs: Vec<(String, String, Option<&str>, Option<&str>)> = p
        .checks
        .iter()
        .map(|c| {
            (
                c.action.clone(),
                c.resource.clone(),
                Some(local_name(&c.decision)),
                None,
            )
        })
        .collect();
    for r in sim.map(|s| s.results.as_slice()).unwrap_or_default() {
        match pairs
            .iter_mut()
            .find(|(a, res, _, _)| *a == r.action && *res == r.resource)
        {
            Some(pair) => pair.3 = Some(r.decision.as_str()),
            None => pairs.push((r.action.clone(), r.resource.clone(), None, Some(r.decision.as_str()))),
        }
    }
    for (a, r, local, iam) in pairs {
        let ok = local.unwrap_or("allowed") == "allowed" && iam.unwrap_or("allowed") == "allowed";
        out.push(format!(
            "{} {a} {}: local {} | IAM simulator {}",
            if ok { "✓" } else { "✗" },
            short(&r),
            local.unwrap_or("not evaluated (policies unreadable)"),
            iam.unwrap_or("not asked")
        ));
    }
    out
}
