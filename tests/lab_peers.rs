//! The lab, checked by clients nobody here wrote: the DataStax Python driver (with and
//! without AWS's cassandra-sigv4 plugin) and the AWS CLI.
mod common;
use common::*;
use serde_json::json;

const READS: &[(&str, &str)] = &[
    ("SELECT * FROM system.local", "LOCAL_QUORUM"),
    ("SELECT * FROM system_schema.columns", "LOCAL_QUORUM"),
    ("SELECT * FROM store.orders", "LOCAL_QUORUM"),
];

fn assert_reads_ok(out: &serde_json::Value) {
    assert_eq!(out["connected"], true, "{out}");
    assert_eq!(out["protocol_version"], 4, "{out}");
    let r = out["results"].as_array().unwrap();
    assert!(r.iter().all(|x| x["ok"] == true), "{out}");
    assert_eq!(r[0]["first"][3], "Amazon Keyspaces", "cluster_name: {out}");
    assert_eq!(r[2]["rows"], 3, "{out}");
}

#[test]
fn python_driver_reads_with_plain_and_sigv4() {
    let lab = LabProcess::start("healthy");
    let mut cfg = driver_cfg(&lab, READS);
    assert_reads_ok(&python_driver(&cfg));
    cfg["auth"] = "password".into();
    cfg["username"] = lab.json["password_user"]["username"].clone();
    cfg["password"] = lab.json["password_user"]["password"].clone();
    let out = python_driver(&cfg);
    assert_reads_ok(&out);
    assert_eq!(out["hosts"], 10, "nine peers and the contact point: {out}");
}

#[test]
fn python_driver_gets_documented_auth_errors() {
    let lab = LabProcess::start("healthy");
    let mut cfg = driver_cfg(&lab, READS);
    cfg["auth"] = "password".into();
    cfg["username"] = lab.json["password_user"]["username"].clone();
    cfg["password"] = "not-the-password".into();
    let out = python_driver(&cfg);
    let msg = out["message"].as_str().unwrap_or_default();
    assert!(msg.contains("code=0100"), "{out}");
    assert!(
        msg.contains("Provided username doctor-admin-at-111122223333 and/or password are incorrect"),
        "{out}"
    );
    let mut cfg = driver_cfg(&lab, READS);
    cfg["secret_access_key"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into();
    let out = python_driver(&cfg);
    let msg = out["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("code=0100") && msg.contains("Authentication failure: Invalid signature"),
        "{out}"
    );
}

#[test]
fn python_driver_gets_unauthorized_with_missing_select_credentials() {
    let lab = LabProcess::start("missing-select");
    let out = python_driver(&driver_cfg(&lab, READS));
    assert_eq!(out["connected"], true, "{out}");
    let r = &out["results"][2];
    assert_eq!(r["ok"], false, "{out}");
    assert_eq!(r["error"], "Unauthorized", "{out}");
    let msg = r["message"].as_str().unwrap();
    assert!(msg.contains("code=2100"), "{msg}");
    assert!(
        msg.contains("is not authorized to perform: cassandra:Select on resource: arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders"),
        "{msg}"
    );
}

#[test]
fn aws_cli_get_caller_identity() {
    let lab = LabProcess::start("healthy");
    let sts = lab.json["sts"].as_str().unwrap();
    let id = lab.json["access_key"]["id"].as_str().unwrap();
    let secret = lab.json["access_key"]["secret"].as_str().unwrap();
    let out = aws_cli(
        &["sts", "get-caller-identity", "--endpoint-url", sts, "--output", "json"],
        id,
        secret,
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Arn"], "arn:aws:iam::111122223333:user/doctor-admin");
    assert_eq!(v["Account"], "111122223333");
    let out = aws_cli(
        &["sts", "get-caller-identity", "--endpoint-url", sts],
        id,
        "wrong-secret-wrong-secret-wrong-secret00",
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    let out = aws_cli(
        &["sts", "get-caller-identity", "--endpoint-url", sts],
        "AKIAUNKNOWNUNKNOWN00",
        secret,
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidClientTokenId"));
}

#[test]
fn lab_contract() {
    let out = std::process::Command::new(bin())
        .args(["lab", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
    for n in REQUIRED_SCENARIOS {
        assert!(names.iter().any(|x| x == n), "lab --list lacks {n}");
    }
    let out = std::process::Command::new(bin())
        .args(["lab", "--scenario", "no-such-scenario"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scenario"));
    assert!(out.stdout.is_empty());
    let out = std::process::Command::new(bin())
        .args(["lab", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address"));
    let out = std::process::Command::new(bin())
        .args(["lab", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn lab_keeps_existing_files_in_dir_and_prints_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.txt"), "keep me").unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["lab", "--scenario", "healthy", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    for k in [
        "cql",
        "sts",
        "host",
        "region",
        "ca_file",
        "keyspace",
        "table",
        "password_user",
        "access_key",
        "client",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for k in ["host", "port", "region", "auth", "tls", "probe_writes"] {
        assert!(!v["client"][k].is_null(), "client.{k} must be set");
    }
    // SIGTERM ends it cleanly.
    let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("mine.txt")).unwrap(), "keep me");
    assert!(dir.path().join("ca.pem").exists());
    let _ = json!({});
}

/// The AWS CLI reads the lab's CloudTrail (JSON protocol) and IAM policy simulator, signed
/// with the scenario principal's own key.
#[test]
fn aws_cli_reads_cloudtrail_and_the_policy_simulator() {
    let lab = LabProcess::start("missing-select");
    let url = lab.json["sts"].as_str().unwrap();
    let c = lab.client();
    let (id, secret) = (
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
    );
    let out = aws_cli(
        &[
            "cloudtrail",
            "lookup-events",
            "--endpoint-url",
            url,
            "--lookup-attributes",
            "AttributeKey=EventSource,AttributeValue=cassandra.amazonaws.com",
            "--output",
            "json",
        ],
        id,
        secret,
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["Events"][0];
    assert_eq!(e["EventName"], "GetTable", "{v}");
    let record: serde_json::Value = serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["errorCode"], "AccessDeniedException");
    assert_eq!(record["userIdentity"]["arn"], "arn:aws:iam::111122223333:user/app");

    let table = "arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders";
    let out = aws_cli(
        &[
            "iam",
            "simulate-principal-policy",
            "--endpoint-url",
            url,
            "--policy-source-arn",
            "arn:aws:iam::111122223333:user/app",
            "--action-names",
            "cassandra:Select",
            "cassandra:Modify",
            "--resource-arns",
            table,
            "--output",
            "json",
        ],
        id,
        secret,
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let decisions: Vec<(String, String)> = v["EvaluationResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["EvalActionName"].as_str().unwrap().to_string(),
                r["EvalDecision"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("cassandra:Select".to_string(), "implicitDeny".to_string()),
            ("cassandra:Modify".to_string(), "allowed".to_string()),
        ],
        "{v}"
    );
}
