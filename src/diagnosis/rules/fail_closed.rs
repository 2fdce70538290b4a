//! Fail closed: a run the total timeout cut short, and a failed step that no other
//! rule explains, are problems of their own; never silence.
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{AuthMode, ProbeStatus, Step};

/// The total timeout ended the run before every step finished: what was seen is
/// reported, and the run is not a success.
pub(super) fn cut_short(c: &mut Ctx<'_>) {
    let Some(cut) = &c.ev.cut else { return };
    let steps = if cut.steps.is_empty() {
        "the steps after the last one reported".to_string()
    } else {
        cut.steps.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    };
    c.add(
        LeafId::CheckCutShort,
        vec![format!(
            "--total-timeout {} ms ended the check before these steps finished: {steps}",
            cut.total_timeout_ms
        )],
        vec![step(
            "Did every step finish within the total timeout?",
            format!("no: {steps}"),
        )],
        &[
            ("cut_steps", steps.clone()),
            ("total_ms", cut.total_timeout_ms.to_string()),
        ],
    );
}

/// Fail closed: a step of the connection that failed, timed out or never ran is a
/// problem of its own with cause `unknown` (its leaf is `secondary`: dropped when a
/// problem ranks before it, i.e. when another rule explains the failure). Identity is a
/// step of the connection only when the client signs with SigV4.
pub(super) fn unexplained_failures(c: &mut Ctx<'_>) {
    let ev = c.ev;
    if !ev.finished {
        return;
    }
    let mut required = vec![Step::Dns, Step::Tcp];
    if ev.target.tls {
        required.push(Step::Tls);
    }
    required.push(Step::Cql);
    if ev.target.auth == AuthMode::SigV4 {
        required.push(Step::Identity);
    }
    for name in required {
        let record = ev.probes.iter().find(|p| p.name == name);
        let (status, seen) = match record {
            Some(p) if p.status == ProbeStatus::Ok => continue,
            Some(p) => (p.status.to_string(), p.evidence.clone()),
            None => ("never ran".to_string(), "no record of this step".to_string()),
        };
        c.add(
            LeafId::UnexplainedFailure,
            vec![format!("{name} step {status}: {seen}")],
            vec![step(
                "Did every step of the connection succeed?",
                format!("no: {name} {status}"),
            )],
            &[("step", name.to_string()), ("step_status", status)],
        );
    }
    if let Some(d) = ev.cql.as_ref().and_then(|q| q.driver.as_ref()).filter(|d| !d.ok) {
        c.add(
            LeafId::UnexplainedFailure,
            vec![format!("{} driver session failed: {}", d.driver, d.detail)],
            vec![step("Did a real driver connect with the same settings?", "no")],
            &[("step", "driver session".into()), ("step_status", "failed".into())],
        );
    }
}
