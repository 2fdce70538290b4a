//! Each lab scenario's failure really happens: a real client (the DataStax Python
//! driver with cassandra-sigv4, or the AWS CLI) using the scenario's client block
//! fails in the expected way, and `healthy` succeeds.
mod common;
use common::*;
use serde_json::Value;

const READ_TABLE: &[(&str, &str)] = &[("SELECT * FROM store.orders", "LOCAL_ONE")];

fn run(scenario: &str, queries: &[(&str, &str)]) -> (LabProcess, Value) {
    let lab = LabProcess::start(scenario);
    let mut cfg = driver_cfg(&lab, queries);
    cfg["connect_timeout"] = 3.into();
    if let Some(t) = lab.client()["table"].as_str() {
        cfg["queries"] = queries
            .iter()
            .map(|(q, cl)| serde_json::json!({"cql": q.replace("store.orders", &format!("store.{t}")), "consistency": cl}))
            .collect();
    }
    let out = python_driver(&cfg);
    (lab, out)
}

fn connect_error(out: &Value) -> String {
    assert_eq!(out["connected"], false, "expected the connection to fail: {out}");
    out["message"].as_str().unwrap_or_default().to_string()
}

fn query_error(out: &Value, i: usize) -> String {
    assert_eq!(out["connected"], true, "expected a connection: {out}");
    assert_eq!(out["results"][i]["ok"], false, "expected statement {i} to fail: {out}");
    out["results"][i]["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn healthy() {
    let (_, out) = run("healthy", READ_TABLE);
    assert_eq!(out["connected"], true, "{out}");
    assert_eq!(out["results"][0]["ok"], true, "{out}");
}

#[test]
fn wrong_password() {
    let (_, out) = run("wrong-password", READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("code=0100") && m.contains("Provided username app-at-111122223333 and/or password are incorrect"),
        "{m}"
    );
}

#[test]
fn iam_username() {
    let (_, out) = run("iam-username", READ_TABLE);
    let m = connect_error(&out);
    assert!(m.contains("Provided username app and/or password are incorrect"), "{m}");
}

#[test]
fn password_whitespace() {
    let (lab, out) = run("password-whitespace", READ_TABLE);
    assert!(lab.client()["password"].as_str().unwrap().ends_with(' '));
    let m = connect_error(&out);
    assert!(
        m.contains("code=0100") && m.contains("and/or password are incorrect"),
        "{m}"
    );
}

fn assert_invalid_signature(scenario: &str) -> LabProcess {
    let (lab, out) = run(scenario, READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("code=0100") && m.contains("Authentication failure: Invalid signature"),
        "{m}"
    );
    lab
}

fn sts_error(lab: &LabProcess) -> String {
    let c = lab.client();
    let out = aws_cli(
        &[
            "sts",
            "get-caller-identity",
            "--endpoint-url",
            lab.json["sts"].as_str().unwrap(),
        ],
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
        c["session_token"].as_str(),
    );
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn invalid_signature() {
    let lab = assert_invalid_signature("invalid-signature");
    assert!(sts_error(&lab).contains("SignatureDoesNotMatch"));
}

#[test]
fn expired_session_token() {
    let lab = assert_invalid_signature("expired-session-token");
    assert!(lab.client()["access_key_id"].as_str().unwrap().starts_with("ASIA"));
    assert!(sts_error(&lab).contains("ExpiredToken"));
}

#[test]
fn wrong_signing_region() {
    let lab = assert_invalid_signature("wrong-signing-region");
    assert_eq!(lab.client()["region"], "us-west-2");
}

#[test]
fn clock_skew() {
    let lab = assert_invalid_signature("clock-skew");
    let e = sts_error(&lab);
    assert!(
        e.contains("SignatureDoesNotMatch") && e.contains("Signature expired"),
        "{e}"
    );
}

#[test]
fn no_permissions() {
    let (_, out) = run("no-permissions", READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("code=2100") && m.contains("User arn:aws:iam::111122223333:user/app has no permissions."),
        "{m}"
    );
}

fn assert_denied(scenario: &str, queries: &[(&str, &str)], i: usize, action: &str) {
    let (_, out) = run(scenario, queries);
    let m = query_error(&out, i);
    assert!(m.contains("code=2100"), "{m}");
    assert!(
        m.contains(&format!("is not authorized to perform: {action} on resource: arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders")),
        "{m}"
    );
}

#[test]
fn missing_select() {
    assert_denied("missing-select", READ_TABLE, 0, "cassandra:Select");
}

#[test]
fn missing_modify() {
    let q = &[
        ("SELECT * FROM store.orders", "LOCAL_ONE"),
        (
            "INSERT INTO store.orders (order_id, item, qty) VALUES ('o-9', 'x', 1)",
            "LOCAL_QUORUM",
        ),
    ];
    let (lab, out) = run("missing-modify", q);
    assert_eq!(lab.client()["probe_writes"], true);
    assert_eq!(out["results"][0]["ok"], true, "reads work: {out}");
    let m = query_error(&out, 1);
    assert!(m.contains("code=2100") && m.contains("cassandra:Modify"), "{m}");
}

#[test]
fn resource_scoped() {
    let q = &[
        ("SELECT * FROM store.customers", "LOCAL_ONE"),
        ("SELECT * FROM store.orders", "LOCAL_ONE"),
    ];
    let (_, out) = run("resource-scoped", q);
    assert_eq!(out["results"][0]["ok"], true, "the scoped table works: {out}");
    let m = query_error(&out, 1);
    assert!(
        m.contains("code=2100") && m.contains("/keyspace/store/table/orders"),
        "{m}"
    );
}

#[test]
fn system_tables_denied() {
    let (_, out) = run("system-tables-denied", READ_TABLE);
    let m = connect_error(&out);
    assert!(m.contains("Unauthorized") || m.contains("2100"), "{out}");
    assert!(
        out["trace"].as_str().unwrap_or_default().contains("/keyspace/system"),
        "{out}"
    );
}

#[test]
fn explicit_deny() {
    assert_denied("explicit-deny", READ_TABLE, 0, "cassandra:Select");
}

#[test]
fn cross_account_denied() {
    let lab = LabProcess::start("cross-account-denied");
    let c = lab.client();
    let role = c["role_arn"].as_str().unwrap();
    let out = aws_cli(
        &[
            "sts",
            "assume-role",
            "--role-arn",
            role,
            "--role-session-name",
            "app",
            "--endpoint-url",
            lab.json["sts"].as_str().unwrap(),
        ],
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
        None,
    );
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        e.contains("AccessDenied")
            && e.contains("User: arn:aws:iam::444455556666:user/app is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/KeyspacesAccess"),
        "{e}"
    );
    // The admin may assume nothing it is not trusted for either, but a trusted caller would succeed:
    // the trust policy is what decides.
}

#[test]
fn starfield_only_truststore() {
    let (_, out) = run("starfield-only-truststore", READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("CERTIFICATE_VERIFY_FAILED") && m.contains("unable to get local issuer certificate"),
        "{m}"
    );
}

#[test]
fn hostname_mismatch() {
    let (_, out) = run("hostname-mismatch", READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("CERTIFICATE_VERIFY_FAILED") && m.contains("Hostname mismatch"),
        "{m}"
    );
}

#[test]
fn tls_disabled() {
    let (_, out) = run("tls-disabled", READ_TABLE);
    let m = connect_error(&out);
    assert!(m.to_lowercase().contains("timed out"), "plaintext gets no answer: {m}");
}

#[test]
fn wrong_port() {
    let (lab, out) = run("wrong-port", READ_TABLE);
    assert_ne!(lab.client()["port"].as_u64().unwrap(), lab.cql_port() as u64);
    let m = connect_error(&out);
    assert!(m.to_lowercase().contains("timed out"), "{m}");
}

#[test]
fn unknown_table() {
    let (_, out) = run("unknown-table", READ_TABLE);
    let m = query_error(&out, 0);
    assert!(
        m.contains("code=2200") && m.contains("unconfigured table store.order"),
        "{m}"
    );
}

#[test]
fn vpce_no_peers() {
    let (_, out) = run("vpce-no-peers", READ_TABLE);
    assert_eq!(out["connected"], true, "{out}");
    assert_eq!(out["hosts"], 1, "system.peers is empty: {out}");
}

#[test]
fn boundary_deny() {
    assert_denied("boundary-deny", READ_TABLE, 0, "cassandra:Select");
}

#[test]
fn ssc_inactive() {
    let (_, out) = run("ssc-inactive", READ_TABLE);
    let m = connect_error(&out);
    assert!(
        m.contains("code=0100") && m.contains("Provided username app-at-111122223333 and/or password are incorrect"),
        "{m}"
    );
}

#[test]
fn ssc_stale_still_works() {
    let (lab, out) = run("ssc-stale", READ_TABLE);
    assert_eq!(out["connected"], true, "{out}");
    assert_eq!(out["results"][0]["ok"], true, "{out}");
    // The client block also carries the IAM user's own key for the AWS-side checks.
    assert!(lab.client()["access_key_id"].as_str().unwrap().starts_with("AKIA"));
    let out = aws_cli(
        &[
            "iam",
            "list-service-specific-credentials",
            "--user-name",
            "app",
            "--service-name",
            "cassandra.amazonaws.com",
            "--endpoint-url",
            lab.json["sts"].as_str().unwrap(),
            "--output",
            "json",
        ],
        lab.client()["access_key_id"].as_str().unwrap(),
        lab.client()["secret_access_key"].as_str().unwrap(),
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ServiceSpecificCredentials"].as_array().unwrap().len(), 2, "{v}");
}

#[test]
fn java_conf_starfield_only() {
    // The application.conf the lab wrote names a PKCS#12 truststore; `cryptography` (not
    // this project) opens it with the configured password, and the Python driver trusting
    // exactly its certificates fails as the Java driver would.
    let lab = LabProcess::start("java-conf-starfield-only");
    let conf = std::fs::read_to_string(lab.client()["driver_config"].as_str().unwrap()).unwrap();
    let setting = |k: &str| {
        conf.lines()
            .find_map(|l| l.trim().strip_prefix(k))
            .map(|v| v.trim().trim_start_matches('=').trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("{k} in {conf}"))
    };
    let (store, password) = (setting("truststore-path"), setting("truststore-password"));
    let pem = lab.dir.path().join("from-truststore.pem");
    let script = "import sys\nfrom cryptography.hazmat.primitives.serialization import pkcs12, Encoding\n\
        k, c, extra = pkcs12.load_key_and_certificates(open(sys.argv[1],'rb').read(), sys.argv[2].encode())\n\
        certs = ([c] if c else []) + list(extra)\n\
        open(sys.argv[3],'wb').write(b''.join(x.public_bytes(Encoding.PEM) for x in certs))\n\
        print('\\n'.join(x.subject.rfc4514_string() for x in certs))\n";
    let out = std::process::Command::new(peers_bin().join("python"))
        .args(["-c", script, &store, &password, pem.to_str().unwrap()])
        .output()
        .unwrap();
    let subjects = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(subjects.lines().count(), 1, "{subjects}");
    assert!(subjects.contains("Starfield Class 2"), "{subjects}");
    let mut cfg = driver_cfg(&lab, READ_TABLE);
    cfg["connect_timeout"] = 3.into();
    cfg["ca_file"] = pem.to_str().unwrap().into();
    let m = connect_error(&python_driver(&cfg));
    assert!(m.contains("CERTIFICATE_VERIFY_FAILED"), "{m}");
}
