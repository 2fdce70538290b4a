//! Many hosts: `check --json` reports carry their host and schema version; `summarize`
//! groups them by root cause; `diff` names first what explains the failing host.
mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

fn report(scenario: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let lab = LabProcess::start(scenario);
    let (_, out, err) = run_check(&lab, &["--json"], None);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{scenario}: {e}: {err}"));
    assert_eq!(v["schema_version"], 1);
    assert!(
        v["host"]["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{}",
        v["host"]
    );
    assert!(v["host"]["tool_version"].is_string() && v["host"]["time"].is_string());
    let path = dir.join(format!("{scenario}.json"));
    std::fs::write(&path, out.trim()).unwrap();
    path
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const FAILING: &[(&str, &str, &[&str])] = &[
    ("wrong-password", "invalid-credentials", &["CQL authentication"]),
    (
        "hostname-mismatch",
        "tls-hostname",
        &["name verified", "certificate names", "trust: your CA file"],
    ),
    ("clock-skew", "clock-skew", &["clock offset from STS"]),
    (
        "missing-select",
        "missing-permission",
        &[
            "CQL read table",
            "policy decision for cassandra:Select on arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders",
        ],
    ),
    ("wrong-signing-region", "wrong-endpoint", &["region"]),
];

#[test]
fn summarize_groups_by_root_cause_and_diff_names_the_cause_first() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = report("healthy", dir.path());
    let mut failing = Vec::new();
    for (scenario, _, _) in FAILING {
        failing.push(report(scenario, dir.path()));
    }
    // A second healthy host: every report counts.
    std::fs::copy(&healthy, dir.path().join("healthy-2.json")).unwrap();

    let (code, out, err) = run(&["summarize", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "problems among the hosts: {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["reports"], 7);
    let groups = v["groups"].as_array().unwrap();
    let ok = groups.iter().find(|g| g["verdict"] == "ok").unwrap();
    assert_eq!(ok["count"], 2);
    assert!(ok["cause"].is_null());
    for (scenario, cause, _) in FAILING {
        let g = groups
            .iter()
            .find(|g| g["cause"] == *cause)
            .unwrap_or_else(|| panic!("a group for {cause}: {out}"));
        assert_eq!(g["count"], 1, "{scenario}: {g}");
    }
    let (_, text, _) = run(&["summarize", dir.path().to_str().unwrap()]);
    assert!(
        text.contains("2 host(s): ok") && text.contains("invalid-credentials"),
        "{text}"
    );

    for ((scenario, _, first), bad) in FAILING.iter().zip(&failing) {
        let (code, out, err) = run(&["diff", "--json", healthy.to_str().unwrap(), bad.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let d = v["differences"].as_array().unwrap();
        let what = d[0]["what"].as_str().unwrap();
        assert!(
            first.contains(&what),
            "{scenario}: first difference {what:?}, expected one of {first:?}: {out}"
        );
        assert!(d[0]["why"].as_str().unwrap().contains("root cause"), "{}", d[0]);
    }
    // Bad input is a usage error that says what to pass.
    let (code, _, err) = run(&["diff", "/dev/null", healthy.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("report"), "{err}");
}
