//! Hostile and broken servers: for each, `check` finishes within its timeouts, names
//! what the server did, stays within bounded memory, and never panics.
mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn hostile(scenario: &str, leaf: &str) {
    let lab = LabProcess::start(scenario);
    let start = Instant::now();
    let (code, out, err) = run_check(&lab, &["--json"], None);
    let took = start.elapsed();
    assert!(!err.contains("panicked"), "{scenario}: {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{scenario}: {e}: {out}\n{err}"));
    assert_eq!(code, 1, "{scenario}: {}", v["findings"]);
    let leaves: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["leaf"].as_str())
        .collect();
    assert!(leaves.contains(&leaf), "{scenario}: expected {leaf}, got {leaves:?}");
    assert_eq!(v["causes"][0], "network", "{scenario}: {}", v["causes"]);
    // Default timeouts: 5 s a step, 15 s in all; allow for a noisy machine.
    assert!(took < Duration::from_secs(25), "{scenario} took {took:?}");
}

#[test]
fn garbage_after_handshake() {
    hostile("hostile-garbage-after-handshake", "server-protocol-violation");
}

#[test]
fn huge_frame_is_refused_without_allocating_it() {
    hostile("hostile-huge-frame", "server-protocol-violation");
}

#[test]
fn silent_after_handshake() {
    hostile("hostile-silent-after-handshake", "cql-no-answer");
}

#[test]
fn drip_feed() {
    hostile("hostile-drip", "cql-no-answer");
}

#[test]
fn close_mid_handshake() {
    hostile("hostile-close-mid-handshake", "tls-closed");
}

#[test]
fn challenge_without_nonce() {
    hostile("hostile-challenge-without-nonce", "server-protocol-violation");
}

#[test]
fn challenge_short_nonce() {
    hostile("hostile-challenge-short-nonce", "server-protocol-violation");
}

#[test]
fn sts_malformed() {
    hostile("hostile-sts-malformed", "sts-unusable");
}

#[test]
fn sts_5xx() {
    hostile("hostile-sts-5xx", "sts-unusable");
}

#[test]
fn hostile_scenarios_are_listed_by_lab_but_not_by_demo() {
    let lab = std::process::Command::new(bin())
        .args(["lab", "--list"])
        .output()
        .unwrap();
    let demo = std::process::Command::new(bin())
        .args(["demo", "--list"])
        .output()
        .unwrap();
    let lab = String::from_utf8_lossy(&lab.stdout);
    let demo = String::from_utf8_lossy(&demo.stdout);
    assert!(lab.contains("hostile-huge-frame"));
    assert!(!demo.contains("hostile-"));
    assert!(demo.contains("missing-select"));
}

#[test]
fn memory_stays_bounded_against_a_huge_frame() {
    for scenario in ["hostile-huge-frame", "hostile-garbage-after-handshake"] {
        let lab = LabProcess::start(scenario);
        let out = check_command(&lab, &["--json"], None, Some(&["/usr/bin/time", "-f", "maxrss_kib=%M"]))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let kib = peak_rss_kib(&err);
        // The frame claims ~2 GiB; the check must not allocate it.
        assert!(kib < 200 * 1024, "{scenario}: peak RSS {kib} KiB");
    }
}

/// Fail closed, swept over every lab scenario (hostile ones included): a run in which a
/// step of the connection failed is never `ok`; a run that is `ok` had every step
/// succeed; at the default log level nothing reaches stderr; and no face (JSON, text,
/// Markdown) carries Rust Debug text.
#[test]
fn no_failed_probe_ever_yields_ok() {
    let list = std::process::Command::new(bin())
        .args(["lab", "--list"])
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 30, "{names:?}");
    let mut oks = 0;
    for scenario in &names {
        let lab = LabProcess::start(scenario);
        let (code, out, err) = run_check(&lab, &["--json", "--timeout", "2s", "--total-timeout", "8s"], None);
        let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{scenario}: {e}: {out}\n{err}"));
        let failed: Vec<String> = v["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "failed" || p["status"] == "timed_out")
            .filter(|p| p["name"] != "identity" || v["evidence"]["target"]["auth"] == "sigv4")
            .map(|p| format!("{}: {}", p["name"], p["evidence"]))
            .collect();
        if v["verdict"] == "ok" {
            oks += 1;
            assert!(failed.is_empty(), "{scenario}: ok although {failed:?}");
            assert_eq!(code, 0, "{scenario}");
        } else {
            assert_eq!(code, 1, "{scenario}");
        }
        if !failed.is_empty() {
            assert_eq!(v["verdict"], "problems", "{scenario}: {failed:?}");
        }
        assert!(
            err.trim().is_empty(),
            "{scenario}: stderr at the default log level:\n{err}"
        );
        // Plain words in every face: no Rust Debug text.
        for face in [&["--markdown"][..], &[][..]] {
            let mut args = face.to_vec();
            args.extend(["--timeout", "2s", "--total-timeout", "8s"]);
            let (_, text, _) = run_check(&lab, &args, None);
            for report in [&text, &out] {
                for debug in ["Some(", "None", "{ source:", "Error {", "TLSv1_"] {
                    assert!(
                        !report.contains(debug),
                        "{scenario} {face:?}: Debug text {debug:?} in\n{report}"
                    );
                }
            }
        }
    }
    assert!(oks >= 1, "the healthy scenario passes");
}
