//! Short human lines that summarise parts of the evidence (driver configuration files,
//! policy checks beside IAM's simulator, CloudTrail), shared by the diagnosis' evidence,
//! the reports and the TUI. Pure formatting of `Evidence`; no I/O, no decisions.
use crate::evidence::Evidence;

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
/// probed action and ARN, each with whether it needs attention (a denial, a simulator
/// that could not be asked); shared by the reports and the TUI.
pub fn policy_checks(ev: &Evidence) -> Vec<(bool, String)> {
    let Some(p) = ev.identity.as_ref().and_then(|i| i.policies.as_ref()) else {
        return vec![];
    };
    let mut out = Vec::new();
    let sim = p.simulation.as_ref();
    if let Some(why) = sim.and_then(|s| s.unavailable.as_ref()) {
        out.push((true, format!("IAM policy simulator not available: {why}")));
    }
    let short = |r: &str| {
        r.split_once(":/")
            .map(|(_, t)| format!("/{t}"))
            .unwrap_or_else(|| r.to_string())
    };
    let mut pairs: Vec<(String, String, Option<&str>, Option<&str>)> = p
        .checks
        .iter()
        .map(|c| (c.action.clone(), c.resource.clone(), Some(c.decision.iam_name()), None))
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
        out.push((
            !ok,
            format!(
                "{} {a} {}: local {} | IAM simulator {}",
                if ok { "✓" } else { "✗" },
                short(&r),
                local.unwrap_or("not evaluated (policies unreadable)"),
                iam.unwrap_or("not asked")
            ),
        ));
    }
    out
}

/// The operations of `--operations`, one line per request: evaluated, never run.
pub fn operation_lines(ev: &Evidence) -> Vec<String> {
    ev.operations
        .iter()
        .map(|o| {
            let local = match &o.local {
                Some(d) => match d {
                    crate::iam::Decision::Allowed { .. } => "allowed".to_string(),
                    crate::iam::Decision::ExplicitDeny { by } => format!("explicitly denied by {}", by.sid_or_index),
                    crate::iam::Decision::ImplicitDeny {
                        condition_unmet: Some(by),
                        ..
                    } => format!("denied: {}'s Condition is not met", by.sid_or_index),
                    crate::iam::Decision::ImplicitDeny { .. } => "denied: no statement allows it".to_string(),
                },
                None => "policies not readable".to_string(),
            };
            format!(
                "{:<8} {} on {}{}: local {local}, simulator {}",
                o.operation,
                o.action,
                o.resource,
                if o.via_service { " (by Keyspaces for you)" } else { "" },
                o.simulator.as_deref().unwrap_or("not asked")
            )
        })
        .collect()
}
pub fn policy_check_lines(ev: &Evidence) -> Vec<String> {
    policy_checks(ev).into_iter().map(|(_, l)| l).collect()
}

/// The principal's failed Keyspaces management events CloudTrail returned, a line each.
pub fn cloudtrail_events(ev: &Evidence) -> Vec<String> {
    let Some(t) = ev.identity.as_ref().and_then(|i| i.cloudtrail.as_ref()) else {
        return vec![];
    };
    t.events
        .iter()
        .map(|e| {
            format!(
                "CloudTrail {} {}: {}{}",
                e.time,
                e.event_name,
                e.error_code,
                e.error_message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
            )
        })
        .collect()
}

/// CloudTrail: the events, or why there are none, and where the data events are; for
/// the reports.
pub fn cloudtrail_lines(ev: &Evidence) -> Vec<String> {
    let Some(t) = ev.identity.as_ref().and_then(|i| i.cloudtrail.as_ref()) else {
        return vec![];
    };
    let mut out = match &t.unavailable {
        Some(why) => vec![format!("CloudTrail LookupEvents not available: {why}")],
        None if t.events.is_empty() => vec![format!(
            "CloudTrail LookupEvents: no failed Keyspaces management event by this principal among the account's 50 most recent Keyspaces events of the last {} h",
            t.looked_back_hours
        )],
        None => cloudtrail_events(ev),
    };
    out.push(
        "CQL statements (SELECT, INSERT...) are data events: LookupEvents never returns them; with a trail or event data store collecting Keyspaces data events, run in CloudTrail Lake:".into(),
    );
    out.push(t.lake_query.clone());
    out
}

/// The IAM user's service-specific credentials for Keyspaces: status, age, which one the
/// client uses, and the two-per-user limit.
pub fn service_credential_lines(ev: &Evidence) -> Vec<String> {
    let Some(r) = ev.identity.as_ref().and_then(|i| i.service_credentials.as_ref()) else {
        return vec![];
    };
    if let Some(why) = &r.unreadable {
        return vec![format!(
            "Service-specific credentials of {}: not readable ({why})",
            r.user
        )];
    }
    let mut out = vec![format!(
        "Service-specific credentials of {}: {} of 2{}",
        r.user,
        r.credentials.len(),
        if r.credentials.len() >= 2 {
            " (the limit: delete one before creating another)"
        } else {
            ""
        }
    )];
    let in_use = ev.target.username.as_deref();
    for c in &r.credentials {
        out.push(format!(
            "  {} {} {} {} days old{}{}",
            if c.status == "Active" { "✓" } else { "✗" },
            c.service_user_name,
            c.status,
            c.age_days,
            if c.age_days > 90 {
                " (rotate: older than 90 days)"
            } else {
                ""
            },
            if in_use == Some(c.service_user_name.as_str()) {
                " ← in use"
            } else {
                ""
            }
        ));
    }
    out
}
