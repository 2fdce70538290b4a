//! `train`: a quiz for new staff. Each round runs one lab scenario through the real
//! engine, shows only what a failing application would show, asks for the cause, then
//! reveals the decision-tree path, the deciding evidence and the fix, and keeps score.
use crate::diagnosis::{self, Cause};
use crate::evidence::{AttemptOutcome, Evidence, TcpOutcome, TlsOutcome, VerifyProblem};
use crate::lab;
use rand::seq::SliceRandom;
use std::io::{BufRead, Write};
use std::time::Duration;

/// What the application's log would show, from the evidence.
pub fn symptom(ev: &Evidence) -> String {
    let host = format!("{}:{}", ev.target.host, ev.target.port);
    if let Some(a) = ev.identity.as_ref().and_then(|i| i.assume_role.as_ref())
        && let Some(e) = &a.error
    {
        return format!(
            "An error occurred ({}) when calling the AssumeRole operation: {}",
            e.code.clone().unwrap_or_default(),
            e.message
        );
    }
    if let Some(t) = &ev.tls {
        if t.outcome == TlsOutcome::NoAnswer {
            return format!(
                "cassandra.OperationTimedOut: errors={{'{host}': 'Timed out creating connection (5 seconds)'}}, last_host=None"
            );
        }
        if let Some(v) = t
            .verdicts
            .first()
            .filter(|v| !v.verified && ev.target.ca_file.is_some())
        {
            let why = match v.problem {
                Some(VerifyProblem::NameMismatch) => format!(
                    "Hostname mismatch, certificate is not valid for '{}'. (_ssl.c:1006)",
                    t.verify_name
                ),
                _ => "unable to get local issuer certificate (_ssl.c:1006)".into(),
            };
            return format!(
                "NoHostAvailable: ('Unable to connect to any servers', {{'{host}': ConnectionShutdown('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {why}')}})"
            );
        }
    }
    if let Some(t) = &ev.tcp
        && t.outcome != TcpOutcome::Connected
    {
        return format!(
            "NoHostAvailable: ('Unable to connect to any servers', {{'{host}': {:?}}})",
            t.outcome
        );
    }
    if let Some(q) = &ev.cql {
        if let Some(e) = &q.connection_error {
            return format!("cassandra.OperationTimedOut: errors={{'{host}': '{e}'}}, last_host=None");
        }
        if let Some(a) = q.auth.as_ref().filter(|a| !a.ok) {
            let name = match a.code {
                Some(0x0100) => "Bad credentials",
                Some(0x2100) => "Unauthorized",
                _ => "Error",
            };
            return format!(
                "NoHostAvailable: ('Unable to connect to any servers', {{'{host}': AuthenticationFailed('Failed to authenticate to {host}: Error from server: code={:04x} [{name}] message=\"{}\"')}})",
                a.code.unwrap_or(0),
                a.message.clone().unwrap_or_default()
            );
        }
        for at in &q.attempts {
            if let AttemptOutcome::Error { code, message } = &at.outcome {
                let name = match code {
                    0x2100 => "Unauthorized",
                    0x2200 => "Invalid query",
                    _ => "Error",
                };
                return format!(
                    "Error from server: code={code:04x} [{name}] message=\"{message}\"   (statement: {})",
                    at.statement
                );
            }
        }
        if q.peers == Some(0) {
            return "No error, but the driver opens a single connection: cluster.metadata.all_hosts() lists 1 host (public endpoints show 10), and throughput is capped".into();
        }
    }
    "The application works.".into()
}

fn screen_capable() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
}

/// The vocabulary offered as answers.
pub fn choices() -> Vec<Cause> {
    Cause::all().iter().copied().filter(|c| *c != Cause::Unknown).collect()
}

pub struct Options {
    pub scenario: Option<String>,
    pub count: usize,
    pub score_line: bool,
}

/// Runs the quiz over `input`/`output`; returns (right, asked).
pub async fn run(opts: Options, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<(usize, usize), String> {
    let mut names: Vec<String> = lab::scenario::all()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| !s.hostile && s.cause != "ok")
        .map(|s| s.name)
        .collect();
    if let Some(s) = &opts.scenario {
        if !names.contains(s) {
            return Err(format!(
                "unknown or healthy scenario '{s}'; `keyspaces-doctor demo --list` shows them"
            ));
        }
        names = vec![s.clone()];
    }
    names.shuffle(&mut rand::rng());
    names.truncate(opts.count.max(1));
    let choices = choices();
    let (mut right, mut asked) = (0, 0);
    // A fresh private directory for the lab's files, removed when training ends.
    let dir = crate::outside::file::private_temp_dir("keyspaces-doctor-train-")
        .map_err(|e| format!("cannot create a private directory for the lab: {e}"))?;
    for (round, name) in names.iter().enumerate() {
        let ev = lab::client::check_scenario(name, dir.path(), Duration::from_secs(3), None).await?;
        let d = diagnosis::evaluate(&ev);
        let Some(root) = d.root().cloned() else { continue };
        let w = |out: &mut dyn Write, s: String| {
            let _ = writeln!(out, "{s}");
        };
        w(out, format!("\n=== Round {} of {} ===", round + 1, names.len()));
        w(out, "The application's log shows:".into());
        w(out, format!("  {}", symptom(&ev)));
        w(out, "Which cause is it?".into());
        for (i, c) in choices.iter().enumerate() {
            w(out, format!("  {:>2}) {}", i + 1, c.as_str()));
        }
        // `o` opens the scenario in the demo's panes first (on a full-screen terminal).
        let mut line = String::new();
        loop {
            let _ = write!(out, "Your answer (number or name; o explores the panes first): ");
            let _ = out.flush();
            line.clear();
            if tokio::task::block_in_place(|| input.read_line(&mut line)).unwrap_or(0) == 0 {
                break;
            }
            if line.trim() != "o" {
                break;
            }
            if !screen_capable() {
                w(
                    out,
                    "o needs a full-screen terminal (TERM set, stdout a terminal); answer from the log line".into(),
                );
                continue;
            }
            let source = crate::tui::Source::Demo {
                scenarios: vec![name.clone()],
                index: 0,
                dir: None,
            };
            if let Err(e) = crate::tui::run(source, std::env::var_os("NO_COLOR").is_some()).await {
                w(out, format!("the panes could not open: {e}"));
            }
            w(out, "Back in training: the same round.".into());
        }
        if line.is_empty() {
            break;
        }
        let answer = line.trim();
        let picked = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| choices.get(n.wrapping_sub(1)).copied())
            .or_else(|| choices.iter().copied().find(|c| c.as_str() == answer));
        asked += 1;
        if picked == Some(root.cause) {
            right += 1;
            w(out, format!("✓ Right: {}", root.cause.as_str()));
        } else {
            w(
                out,
                format!(
                    "✗ Wrong: you said {}, it is {}",
                    picked.map(|c| c.as_str()).unwrap_or("nothing recognisable"),
                    root.cause.as_str()
                ),
            );
        }
        w(out, format!("Scenario: {name} — {}", root.title));
        w(
            out,
            "The walk from the symptom to the cause (each question, and what answered it):".into(),
        );
        for s in &root.path {
            w(out, format!("  - {} → {}", s.question, s.answer));
        }
        w(out, "Deciding evidence:".into());
        for e in &root.evidence {
            w(out, format!("  - {e}"));
        }
        w(out, "Fix:".into());
        for s in &root.fix.steps {
            w(out, format!("  * {s}"));
        }
        for c in &root.fix.commands {
            w(out, format!("    $ {c}"));
        }
        w(out, format!("Score: {right}/{asked}"));
    }
    if opts.score_line {
        let _ = writeln!(out, "train score: {right}/{asked}");
    }
    Ok((right, asked))
}
