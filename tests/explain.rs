//! `explain` on real error texts as users paste them (multi-line, wrapped, with IPs and
//! ids), the documented Keyspaces messages, ambiguous texts with ranked candidates,
//! the CLI contract, speed, and arbitrary input that must never panic.
mod common;
use keyspaces_doctor::explain::explain;
use proptest::prelude::*;
use serde::Deserialize;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct Case {
    name: String,
    cause: String,
    leaf: Option<String>,
    #[serde(default)]
    ambiguous: bool,
    #[serde(default)]
    candidates: Vec<String>,
    text: String,
}

#[derive(Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

fn corpus() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain_corpus.toml")).unwrap();
    toml::from_str::<Corpus>(&text).unwrap().case
}

#[test]
fn real_error_texts_reach_their_cause() {
    let cases = corpus();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for c in &cases {
        let e = explain(&c.text);
        if e.cause.as_str() != c.cause {
            failures.push(format!("{}: cause {} (expected {})", c.name, e.cause.as_str(), c.cause));
        }
        if let Some(l) = &c.leaf
            && e.leaf.map(|x| x.as_str()) != Some(l.as_str())
        {
            failures.push(format!("{}: leaf {:?} (expected {l})", c.name, e.leaf));
        }
        if c.ambiguous {
            if e.candidates.len() < 2 {
                failures.push(format!(
                    "{}: ambiguous text returned {} candidates",
                    c.name,
                    e.candidates.len()
                ));
            }
            if e.open_questions.is_empty() {
                failures.push(format!("{}: ambiguous text leaves no open question", c.name));
            }
            let scores: Vec<u32> = e.candidates.iter().map(|x| x.score).collect();
            if !scores.windows(2).all(|w| w[0] >= w[1]) {
                failures.push(format!("{}: candidates not ranked: {scores:?}", c.name));
            }
        }
        for want in &c.candidates {
            if !e.candidates.iter().any(|x| x.cause.as_str() == want) {
                failures.push(format!("{}: candidate {want} missing", c.name));
            }
        }
        if c.cause != "unknown" && e.fix.is_empty() {
            failures.push(format!("{}: no fix", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_signature_is_honestly_ambiguous() {
    let e = explain("Authentication failure: Invalid signature");
    let causes: Vec<&str> = e.candidates.iter().map(|c| c.cause.as_str()).collect();
    for c in ["invalid-credentials", "clock-skew", "wrong-endpoint"] {
        assert!(causes.contains(&c), "{causes:?}");
    }
    assert_eq!(e.cause.as_str(), "invalid-credentials");
    assert!(!e.open_questions.is_empty());
}

#[test]
fn explain_cli_json_contract_and_speed() {
    let text = "NoHostAvailable: ('Unable to connect to any servers', {'3.12.23.45:9142': AuthenticationFailed('Failed to authenticate to 3.12.23.45:9142: Error from server: code=0100 [Bad credentials] message=\"Provided username alice-at-111122223333 and/or password are incorrect\"')})";
    let start = Instant::now();
    let out = std::process::Command::new(common::bin())
        .args(["explain", "--json", text])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["cause", "leaf", "title", "fix", "path", "open_questions", "candidates"] {
        assert!(v.get(k).is_some(), "missing {k}: {v}");
    }
    assert_eq!(v["cause"], "invalid-credentials");
    assert!(took < Duration::from_secs(5), "no network, no waiting: {took:?}");
    // stdin works too, and unknown text says unknown.
    use std::io::Write;
    let mut child = std::process::Command::new(common::bin())
        .args(["explain", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"the coffee machine is broken again")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cause"], "unknown");
}

#[test]
fn explaining_is_fast_in_process() {
    let cases = corpus();
    let start = Instant::now();
    for c in &cases {
        let _ = explain(&c.text);
    }
    let per = start.elapsed() / cases.len() as u32;
    assert!(per < Duration::from_millis(200), "{per:?} per text");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]
    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC{0,400}") {
        let _ = explain(&s);
    }

    #[test]
    fn never_panics_on_truncated_real_texts(i in 0usize..87, cut in 0usize..2000) {
        let cases = corpus();
        let t = &cases[i % cases.len()].text;
        let mut end = cut.min(t.len());
        while !t.is_char_boundary(end) { end -= 1; }
        let _ = explain(&t[..end]);
    }
}

/// A JSON log line carries its stack trace with escaped newlines: they are read as the
/// program printed them, and the innermost error decides.
#[test]
fn json_log_lines_are_unwrapped() {
    let line = r#"{"level":"ERROR","logger":"com.example.OrdersDao","stack_trace":"com.datastax.oss.driver.api.core.AllNodesFailedException: All 1 node(s) tried for the query failed (showing first 1 nodes, use getAllErrors() for more): Node(endPoint=cassandra.us-east-1.amazonaws.com/3.83.168.1:9142, hostId=null, hashCode=5d3a8c0e): [com.datastax.oss.driver.api.core.connection.ConnectionInitException: [s0|control|connecting...] Protocol initialization request, step 1 (OPTIONS): failed to send request (javax.net.ssl.SSLHandshakeException: PKIX path building failed)]\n\tat com.datastax.oss.driver.api.core.AllNodesFailedException.copy(AllNodesFailedException.java:141)\nCaused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target"}"#;
    let unwrapped = keyspaces_doctor::explain::unwrap_json_escapes(line);
    assert!(
        unwrapped.contains("\nCaused by: javax.net.ssl.SSLHandshakeException"),
        "{unwrapped}"
    );
    assert!(unwrapped.contains("\n\tat com.datastax"), "{unwrapped}");
    assert_eq!(keyspaces_doctor::explain::explain(line).cause.as_str(), "tls-trust");
    // Text without escapes is left as it is.
    assert_eq!(keyspaces_doctor::explain::unwrap_json_escapes("C: a b"), "C: a b");
}

/// Two distinct errors in one paste: the main answer, and the other explained on its own.
#[test]
fn each_distinct_error_of_a_paste_is_explained() {
    let paste = "ERROR 12:00:01 cassandra: Provided username alice-at-111122223333 and/or password are incorrect\n\
                 WARN 12:00:05 javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target\n";
    let e = keyspaces_doctor::explain::explain(paste);
    assert_eq!(e.cause.as_str(), "invalid-credentials");
    assert_eq!(e.also.len(), 1, "{:?}", e.also);
    assert_eq!(e.also[0].cause.as_str(), "tls-trust");
    assert!(e.also[0].excerpt.contains("PKIX"), "{:?}", e.also[0]);
    let text = keyspaces_doctor::explain::render_text(&e);
    assert!(text.contains("Also in this paste"), "{text}");
    // One error, one answer: nothing is repeated under "also".
    assert!(
        keyspaces_doctor::explain::explain("Authentication failure: Invalid signature")
            .also
            .is_empty()
    );
}
