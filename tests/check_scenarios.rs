//! `check` against every lab scenario, run with the scenario's client block: it names
//! the expected root cause first and exits 1 (`healthy`: ok, exit 0), within its
//! timeouts, and no output format shows a secret.
mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn check_json(scenario: &str) -> (LabProcess, i32, Value, Duration) {
    let lab = LabProcess::start(scenario);
    let start = Instant::now();
    let (code, out, err) = run_check(&lab, &["--json"], None);
    let took = start.elapsed();
    let v: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{out}\nstderr:\n{err}"));
    assert_eq!(out.trim().lines().count(), 1, "one JSON line: {out}");
    (lab, code, v, took)
}

/// The first finding of severity problem (findings come ranked).
fn root_problem(v: &Value) -> &Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "problem")
        .unwrap_or_else(|| panic!("a problem finding: {}", v["findings"]))
}

fn expect(scenario: &str, cause: &str) -> Value {
    let (_lab, code, v, _) = check_json(scenario);
    assert_eq!(
        v["causes"][0],
        cause,
        "{scenario}: {}",
        serde_json::to_string_pretty(&v["findings"]).unwrap()
    );
    assert_eq!(v["verdict"], "problems");
    assert_eq!(code, 1, "{scenario}");
    let root = root_problem(&v).clone();
    assert_eq!(root["cause"], cause);
    assert!(
        !root["path"].as_array().unwrap().is_empty(),
        "{scenario}: the root finding carries its path: {root}"
    );
    assert!(!root["fix"]["steps"].as_array().unwrap().is_empty());
    root
}

#[test]
fn healthy_is_ok() {
    let (_lab, code, v, took) = check_json("healthy");
    assert_eq!(
        v["verdict"],
        "ok",
        "{}",
        serde_json::to_string_pretty(&v["findings"]).unwrap()
    );
    assert_eq!(v["causes"].as_array().unwrap().len(), 0);
    assert_eq!(code, 0);
    let probes: Vec<&str> = v["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["dns", "tcp", "tls", "identity", "cql"] {
        assert!(probes.contains(&p), "{probes:?}");
    }
    assert_eq!(
        v["evidence"]["cql"]["authenticator"],
        "com.amazon.helenus.auth.HelenusAuthenticator"
    );
    assert_eq!(v["evidence"]["cql"]["peers"], 9);
    assert!(took < Duration::from_secs(10), "a healthy check is fast: {took:?}");
}

#[test]
fn wrong_password() {
    let f = expect("wrong-password", "invalid-credentials");
    assert_eq!(f["leaf"], "wrong-password");
}

#[test]
fn iam_username() {
    let f = expect("iam-username", "invalid-credentials");
    assert_eq!(f["leaf"], "iam-username");
}

#[test]
fn password_whitespace() {
    let f = expect("password-whitespace", "invalid-credentials");
    assert_eq!(f["leaf"], "password-whitespace");
}

#[test]
fn invalid_signature() {
    let f = expect("invalid-signature", "invalid-credentials");
    assert_eq!(f["leaf"], "sigv4-bad-secret");
}

#[test]
fn expired_session_token() {
    expect("expired-session-token", "expired-credentials");
}

#[test]
fn wrong_signing_region() {
    let f = expect("wrong-signing-region", "wrong-endpoint");
    assert_eq!(f["leaf"], "region-mismatch");
}

#[test]
fn wrong_port() {
    let (_lab, code, v, took) = check_json("wrong-port");
    assert_eq!(v["causes"][0], "wrong-endpoint", "{v}");
    assert_eq!(code, 1);
    assert!(
        took < Duration::from_secs(15),
        "finishes within the default timeouts: {took:?}"
    );
}

#[test]
fn clock_skew() {
    expect("clock-skew", "clock-skew");
}

#[test]
fn no_permissions() {
    let f = expect("no-permissions", "missing-permission");
    assert_eq!(f["leaf"], "no-permissions");
}

#[test]
fn missing_select() {
    let f = expect("missing-select", "missing-permission");
    assert_eq!(f["leaf"], "action-denied");
    assert!(f["statement"].is_null());
    assert!(f["missing"].as_str().unwrap().contains("cassandra:Select"));
}

#[test]
fn missing_modify() {
    let f = expect("missing-modify", "missing-permission");
    assert_eq!(f["leaf"], "write-denied");
}

#[test]
fn explicit_deny() {
    let f = expect("explicit-deny", "missing-permission");
    assert_eq!(f["leaf"], "explicit-deny");
    assert_eq!(f["policy_arn"], "arn:aws:iam::111122223333:policy/GuardRails");
    assert_eq!(f["statement"]["sid"], "DenyOrdersReads");
    // The tree path follows the evidence: a denied read, not a write.
    let path = f["path"].to_string();
    assert!(!path.contains("cassandra:Modify (a write)"), "{path}");
}

#[test]
fn vpce_no_peers() {
    let f = expect("vpce-no-peers", "missing-permission");
    assert_eq!(f["leaf"], "vpce-peers");
}

#[test]
fn resource_scoped() {
    let f = expect("resource-scoped", "resource-scope");
    assert_eq!(f["leaf"], "other-resource-allowed");
}

#[test]
fn system_tables_denied() {
    let f = expect("system-tables-denied", "resource-scope");
    assert_eq!(f["leaf"], "system-tables-denied");
}

#[test]
fn cross_account_denied() {
    expect("cross-account-denied", "cross-account");
}

#[test]
fn starfield_only_truststore() {
    let f = expect("starfield-only-truststore", "tls-trust");
    assert_eq!(f["leaf"], "ca-missing-root");
}

#[test]
fn java_conf_starfield_only_names_the_file_and_the_truststore_line() {
    let (lab, code, v, _) = check_json("java-conf-starfield-only");
    let conf = lab.client()["driver_config"]
        .as_str()
        .expect("the client block names its application.conf")
        .to_string();
    assert!(conf.ends_with("/application.conf"), "{conf}");
    assert_eq!(code, 1);
    assert_eq!(v["causes"][0], "tls-trust", "{}", v["findings"]);
    let f = root_problem(&v);
    assert_eq!(f["cause"], "tls-trust");
    assert_eq!(f["leaf"], "conf-truststore-missing-roots");
    assert!(f["title"].as_str().unwrap().contains(&conf), "{}", f["title"]);
    // The truststore is named on line 15 of the file the lab wrote.
    let text = std::fs::read_to_string(&conf).unwrap();
    let line = text.lines().position(|l| l.contains("truststore-path")).unwrap() + 1;
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with(&format!("{conf}:{line}: advanced.ssl-engine-factory.truststore-path"))),
        "{evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("Starfield Class 2") && e.contains("does not verify")),
        "{evidence:?}"
    );
    // The live connection itself is fine: only the deployed configuration is wrong.
    let probes = v["probes"].as_array().unwrap();
    assert!(
        probes
            .iter()
            .filter(|p| p["name"] == "tls" || p["name"] == "cql")
            .all(|p| p["status"] == "ok"),
        "{probes:?}"
    );
    let ts = &v["evidence"]["driver_configs"][0]["truststore"];
    assert_eq!(ts["format"], "PKCS#12");
    assert_eq!(ts["verifies_endpoint"], false);
    // The truststore password never leaves the file.
    assert!(!v.to_string().contains("lab-truststore-pass"));
}

#[test]
fn hostname_mismatch() {
    expect("hostname-mismatch", "tls-hostname");
}

#[test]
fn tls_disabled() {
    let (_lab, code, v, took) = check_json("tls-disabled");
    assert_eq!(v["causes"][0], "tls-version", "{v}");
    assert_eq!(code, 1);
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn unknown_table() {
    expect("unknown-table", "schema");
}

#[test]
fn boundary_deny() {
    let f = expect("boundary-deny", "missing-permission");
    assert_eq!(f["leaf"], "boundary-deny");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("permission boundary"),
        "{}",
        f["title"]
    );
    assert_eq!(f["policy_arn"], "arn:aws:iam::111122223333:policy/WriteOnlyBoundary");
}

/// An allow guarded by aws:SourceVpce, over the public endpoint: the lab denies it as
/// Keyspaces would, and the doctor names the statement and its Condition.
#[test]
fn condition_unmet() {
    let f = expect("condition-unmet", "missing-permission");
    assert_eq!(f["leaf"], "condition-unmet");
    assert!(f["title"].as_str().unwrap().contains("OrdersViaVpce"), "{}", f["title"]);
    assert_eq!(
        f["policy_arn"],
        "arn:aws:iam::111122223333:policy/AppViaVpcEndpointOnly"
    );
    assert!(f["why"].as_str().unwrap().contains("aws:SourceVpce"), "{}", f["why"]);
    let commands = f["fix"]["commands"].to_string();
    assert!(commands.contains("com.amazonaws.us-east-1.cassandra"), "{commands}");
}

#[test]
fn ssc_inactive() {
    let f = expect("ssc-inactive", "invalid-credentials");
    assert_eq!(f["leaf"], "ssc-inactive");
    assert!(f["title"].as_str().unwrap().contains("Inactive"), "{}", f["title"]);
}

#[test]
fn ssc_stale_is_a_rotation_warning_naming_the_age() {
    let (_lab, code, v, _) = check_json("ssc-stale");
    assert_eq!(v["verdict"], "ok", "{}", v["findings"]);
    assert_eq!(code, 0);
    let w = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["leaf"] == "ssc-stale")
        .expect("a rotation warning");
    assert_eq!(w["severity"], "warning");
    let title = w["title"].as_str().unwrap();
    // The credential in use (200 days), not the user's older one (230 days).
    assert!(
        title.contains("app-at-111122223333") && title.contains("200 days"),
        "{title}"
    );
    assert!(
        w["evidence"].to_string().contains("230 days old"),
        "the other stale credential is listed: {}",
        w["evidence"]
    );
    assert!(
        w["evidence"].to_string().contains("2 of the 2 allowed"),
        "{}",
        w["evidence"]
    );
}

#[test]
fn without_iam_read_rights_the_cql_evidence_decides() {
    let f = expect("no-iam-read", "missing-permission");
    assert_eq!(f["leaf"], "action-denied");
    let missing = f["missing"].as_str().unwrap();
    assert!(missing.contains("policies could not be read"), "{missing}");
    assert!(
        missing.contains("AccessDenied") || missing.contains("not authorized"),
        "{missing}"
    );
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("IAM policy simulator not asked")),
        "{}",
        f["evidence"]
    );
}

#[test]
fn cloudtrail_lookup_events_and_the_lake_query() {
    let (_lab, _code, v, _) = check_json("missing-select");
    let t = &v["evidence"]["identity"]["cloudtrail"];
    assert_eq!(t["unavailable"], Value::Null, "{t}");
    let events = t["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{t}");
    assert_eq!(events[0]["event_name"], "GetTable");
    assert_eq!(events[0]["error_code"], "AccessDeniedException");
    let q = t["lake_query"].as_str().unwrap();
    assert!(
        q.contains("eventSource = 'cassandra.amazonaws.com'")
            && q.contains("userIdentity.arn = 'arn:aws:iam::111122223333:user/app'")
            && q.contains("errorCode IS NOT NULL"),
        "{q}"
    );
    let root = root_problem(&v);
    assert!(
        root["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("GetTable: AccessDeniedException")),
        "{}",
        root["evidence"]
    );
    // Without read rights: said plainly, the diagnosis unchanged.
    let (_lab, _code, v, _) = check_json("no-iam-read");
    let t = &v["evidence"]["identity"]["cloudtrail"];
    assert!(
        t["unavailable"]
            .as_str()
            .is_some_and(|u| u.contains("cloudtrail:LookupEvents")),
        "{t}"
    );
    assert_eq!(v["causes"][0], "missing-permission");
}

#[test]
fn iam_policy_simulator_answers_beside_the_local_evaluation() {
    for scenario in [
        "missing-select",
        "explicit-deny",
        "resource-scoped",
        "boundary-deny",
        "system-tables-denied",
    ] {
        let (_lab, _code, v, _) = check_json(scenario);
        let p = &v["evidence"]["identity"]["policies"];
        let results = p["simulation"]["results"]
            .as_array()
            .unwrap_or_else(|| panic!("{scenario}: {p}"));
        assert!(!results.is_empty(), "{scenario}");
        assert_eq!(results.len(), p["checks"].as_array().unwrap().len(), "{scenario}");
        for r in results {
            assert_eq!(r["agrees_with_local"], true, "{scenario}: {r}");
        }
        assert!(
            results.iter().any(|r| r["decision"] != "allowed"),
            "{scenario}: the simulator sees the denial too: {results:?}"
        );
        let root = root_problem(&v);
        assert!(
            root["evidence"].as_array().unwrap().iter().any(|e| e
                .as_str()
                .unwrap()
                .starts_with("IAM policy simulator: ")
                && e.as_str().unwrap().contains("the local evaluation agrees")),
            "{scenario}: {}",
            root["evidence"]
        );
    }
}
