//! `check`'s probes against real peers: TLS verdicts per trust source with real
//! handshakes, the identity probe against moto, usage errors, and no secret in any
//! output format even at RUST_LOG=trace.
mod common;
use common::*;
use keyspaces_doctor::evidence::{TrustSource, VerifyProblem};
use keyspaces_doctor::lab;
use keyspaces_doctor::probe::{self, Io, io::SystemRoots};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

struct FixedRoots(Vec<CertificateDer<'static>>);

impl SystemRoots for FixedRoots {
    fn load(&self) -> (Vec<CertificateDer<'static>>, String) {
        (self.0.clone(), "a fake system store".into())
    }
}

fn pem_certs(path: &str) -> Vec<CertificateDer<'static>> {
    let b = std::fs::read(path).unwrap();
    CertificateDer::pem_slice_iter(&b).map(Result::unwrap).collect()
}

async fn tls_verdicts(
    scenario: &str,
    ca: &str,
    system: Vec<CertificateDer<'static>>,
) -> Vec<(TrustSource, bool, Option<VerifyProblem>)> {
    let (running, dir) = lab_in_process(scenario).await;
    let mut target =
        lab::client::target(&running.descriptor, Duration::from_secs(5)).expect("the client block makes a target");
    let ca_path = dir.path().join(ca);
    target.ca_roots = pem_certs(ca_path.to_str().unwrap());
    target.ca_file = Some(ca_path);
    let mut io = Io::with_env(Arc::new(|_: &str| None));
    io.system_roots = Arc::new(FixedRoots(system));
    let ev = probe::run(&target, &io, None).await;
    ev.tls
        .unwrap()
        .verdicts
        .into_iter()
        .map(|v| (v.source, v.verified, v.problem))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verdicts_per_trust_source() {
    // The user's bundle holds the serving root; the system store and the five Keyspaces roots do not.
    let v = tls_verdicts("healthy", "ca.pem", vec![]).await;
    assert_eq!(v[0], (TrustSource::CaFile, true, None));
    assert_eq!(v[1].0, TrustSource::System);
    assert!(!v[1].1);
    assert_eq!(
        v[2],
        (TrustSource::KeyspacesRoots, false, Some(VerifyProblem::UnknownIssuer))
    );
    // A bundle lacking the serving root (Starfield only, server on the ATS-like chain).
    let v = tls_verdicts("healthy", "starfield-only.pem", vec![]).await;
    assert_eq!(v[0], (TrustSource::CaFile, false, Some(VerifyProblem::UnknownIssuer)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_store_verdict_uses_the_injected_store() {
    let (running, _dir) = lab_in_process("healthy").await;
    let bundle = pem_certs(&running.descriptor.ca_file);
    drop(running);
    let v = tls_verdicts("healthy", "ca.pem", bundle).await;
    // A different lab run has a different CA: the stale store must not verify it.
    assert!(!v[1].1, "{v:?}");
}

#[test]
fn no_secret_in_any_output_even_at_trace() {
    for scenario in [
        "healthy",
        "wrong-password",
        "password-whitespace",
        "expired-session-token",
        "invalid-signature",
        "missing-select",
    ] {
        let lab = LabProcess::start(scenario);
        let secrets = lab_secrets(&lab);
        assert!(!secrets.is_empty(), "{scenario} has secrets to look for");
        for fmt in [&[][..], &["--json"][..], &["--markdown"][..]] {
            let (_, out, err) = run_check(&lab, fmt, Some("trace"));
            assert!(!out.trim().is_empty());
            for s in &secrets {
                assert!(!out.contains(s.as_str()), "{scenario} {fmt:?}: a secret is on stdout");
                assert!(!err.contains(s.as_str()), "{scenario} {fmt:?}: a secret is in the logs");
            }
        }
    }
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let bad_rc = dir.path().join("cqlshrc");
    std::fs::write(&bad_rc, "[connection]\nhostname cassandra.us-east-1.amazonaws.com\n").unwrap();
    let port_rc = dir.path().join("port-cqlshrc");
    std::fs::write(
        &port_rc,
        "[connection]\nhostname = cassandra.us-east-1.amazonaws.com\nport = abc\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["check".into(), "--bogus".into()], "--bogus"),
        (vec!["check".into(), "--port".into(), "ninety".into()], "ninety"),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--ca-file".into(),
                "/nonexistent.pem".into(),
            ],
            "/nonexistent.pem",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--ca-file".into(),
                empty.display().to_string(),
            ],
            "no certificate",
        ),
        (
            vec!["check".into(), "--cqlshrc".into(), bad_rc.display().to_string()],
            ":2:",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--driver-config".into(),
                "/nonexistent/application.conf".into(),
            ],
            "--driver-config /nonexistent/application.conf: cannot be opened",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--driver-config".into(),
                dir.path().display().to_string(),
            ],
            "is a directory",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--port".into(),
                "0".into(),
            ],
            "0",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--timeout".into(),
                "0.0001s".into(),
            ],
            "between 1ms and 3600s",
        ),
        (
            vec![
                "check".into(),
                "--host".into(),
                "cassandra us-east-1.amazonaws.com".into(),
            ],
            "is not a host name",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--resolve".into(),
                ":10.0.0.1".into(),
            ],
            "--resolve ':10.0.0.1'",
        ),
        (
            vec!["check".into(), "--cqlshrc".into(), port_rc.display().to_string()],
            "port = abc is not a port number",
        ),
        (
            vec![
                "check".into(),
                "--region".into(),
                "us-east-1".into(),
                "--timeout".into(),
                "soon".into(),
            ],
            "soon",
        ),
    ];
    for (args, needle) in cases {
        let out = Command::new(bin())
            .args(&args)
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn identity_probe_against_moto() {
    let (_moto, url) = Moto::start(Some("2"));
    let aws = |args: &[&str]| {
        aws_cli(
            args,
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        )
    };
    let out = aws(&["iam", "create-user", "--user-name", "doctor", "--endpoint-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = aws(&[
        "iam",
        "create-access-key",
        "--user-name",
        "doctor",
        "--endpoint-url",
        &url,
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string();
    let closed = free_port();
    let check = |id: &str, secret: &str| -> serde_json::Value {
        let mut cmd = Command::new(bin());
        cmd.args([
            "check",
            "--json",
            "--host",
            "cassandra.us-east-1.amazonaws.com",
            "--port",
            &closed.to_string(),
        ])
        .args([
            "--resolve",
            "cassandra.us-east-1.amazonaws.com:127.0.0.1",
            "--sts-endpoint",
            &url,
            "--aws-endpoint-url",
            &url,
        ]);
        let out = with_key_only(&mut cmd, id, secret).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    };
    let v = check(&id, &secret);
    assert_eq!(
        v["evidence"]["identity"]["caller"]["arn"], "arn:aws:iam::123456789012:user/doctor",
        "{}",
        v["evidence"]["identity"]
    );
    let v = check(&id, "wrong-secret-wrong-secret-wrong-secret0");
    assert_eq!(
        v["evidence"]["identity"]["sts_error"]["code"], "SignatureDoesNotMatch",
        "{}",
        v["evidence"]["identity"]
    );
    let v = check("AKIAUNKNOWNUNKNOWN00", &secret);
    assert_eq!(
        v["evidence"]["identity"]["sts_error"]["code"], "InvalidClientTokenId",
        "{}",
        v["evidence"]["identity"]
    );
    assert_eq!(
        v["causes"][0], "wrong-endpoint",
        "port refused is named first: {}",
        v["causes"]
    );
}

/// What a real client would also trip over is a finding (exit 1), not a usage error.
#[test]
fn client_mistakes_are_findings_not_usage_errors() {
    let lab = LabProcess::start("healthy");
    let c = lab.client().clone();
    let host = c["host"].as_str().unwrap().to_string();
    let port = c["port"].to_string();
    let base = |extra: &[&str], envs: &[(&str, &str)]| -> (i32, serde_json::Value) {
        let mut cmd = Command::new(bin());
        cmd.args([
            "check",
            "--json",
            "--resolve",
            &format!("{host}:127.0.0.1"),
            "--port",
            &port,
        ])
        .args([
            "--aws-endpoint-url",
            lab.json["sts"].as_str().unwrap(),
            "--timeout",
            "3s",
        ])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", lab.dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .stdin(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), v)
    };
    let leaves = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["leaf"].as_str().unwrap().to_string())
            .collect()
    };
    let keys = [
        ("AWS_ACCESS_KEY_ID", c["access_key_id"].as_str().unwrap()),
        ("AWS_SECRET_ACCESS_KEY", c["secret_access_key"].as_str().unwrap()),
    ];
    // Upper-case region.
    let (code, v) = base(
        &[
            "--host",
            &host,
            "--region",
            "US-EAST-1",
            "--ca-file",
            c["ca_file"].as_str().unwrap(),
        ],
        &keys,
    );
    assert_eq!(code, 1);
    assert!(
        leaves(&v).contains(&"region-not-normalized".to_string()),
        "{:?}",
        leaves(&v)
    );
    // Unknown region.
    let (code, v) = base(
        &[
            "--host",
            &host,
            "--region",
            "us-east-9",
            "--ca-file",
            c["ca_file"].as_str().unwrap(),
        ],
        &keys,
    );
    assert_eq!(code, 1);
    assert!(leaves(&v).contains(&"unknown-region".to_string()), "{:?}", leaves(&v));
    // A host with a port in it.
    let (code, v) = base(
        &[
            "--host",
            &format!("{host}:9142"),
            "--ca-file",
            c["ca_file"].as_str().unwrap(),
        ],
        &keys,
    );
    assert_eq!(code, 1);
    assert!(leaves(&v).contains(&"host-has-port".to_string()), "{:?}", leaves(&v));
    // A password with a newline (service-specific credentials).
    let user = lab.json["password_user"]["username"].as_str().unwrap();
    let pass = format!("{}\n", lab.json["password_user"]["password"].as_str().unwrap());
    let (code, v) = base(
        &[
            "--host",
            &host,
            "--auth",
            "password",
            "--username",
            user,
            "--ca-file",
            c["ca_file"].as_str().unwrap(),
        ],
        &[("KEYSPACES_PASSWORD", pass.as_str())],
    );
    assert_eq!(code, 1);
    assert!(
        leaves(&v).contains(&"password-whitespace".to_string()),
        "{:?}",
        leaves(&v)
    );
    // A cqlshrc whose certfile is missing.
    let rc = lab.dir.path().join("cqlshrc");
    std::fs::write(
        &rc,
        format!(
            "[connection]\nhostname = {host}\nport = {port}\n\n[ssl]\ncertfile = /nonexistent/sf-class2-root.crt\n"
        ),
    )
    .unwrap();
    let (code, v) = base(&["--cqlshrc", rc.to_str().unwrap()], &keys);
    assert_eq!(code, 1);
    assert!(leaves(&v).contains(&"cqlshrc-certfile".to_string()), "{:?}", leaves(&v));
    // A cqlshrc certfile that is not PEM.
    let junk = lab.dir.path().join("junk.crt");
    std::fs::write(&junk, "hello").unwrap();
    std::fs::write(
        &rc,
        format!(
            "[connection]\nhostname = {host}\nport = {port}\n\n[ssl]\ncertfile = {}\n",
            junk.display()
        ),
    )
    .unwrap();
    let (code, v) = base(&["--cqlshrc", rc.to_str().unwrap()], &keys);
    assert_eq!(code, 1);
    assert!(leaves(&v).contains(&"cqlshrc-certfile".to_string()), "{:?}", leaves(&v));
}

#[test]
fn without_a_terminal_the_tui_prints_the_text_report() {
    let port = free_port();
    let out = Command::new(bin())
        .args([
            "--host",
            "cassandra.us-east-1.amazonaws.com",
            "--port",
            &port.to_string(),
        ])
        .args([
            "--resolve",
            "cassandra.us-east-1.amazonaws.com:127.0.0.1",
            "--timeout",
            "2s",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("keyspaces-doctor check:"), "{text}");
    assert!(text.contains("wrong-endpoint"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

/// Moto implements the IAM reads of users (groups, attached and inline policies; not user
/// permission boundaries, which the lab's `boundary-deny` covers) but not the policy simulator: the reader finds every policy, evaluates the
/// probes' ARNs locally, and says the simulator could not be asked.
#[test]
fn policy_reads_against_moto() {
    let (_moto, url) = Moto::start(None);
    let setup = r#"
import boto3, json, sys
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
def doc(effect, action, resource, sid):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": effect, "Action": action, "Resource": resource}]})
ks = "arn:aws:cassandra:us-east-1:123456789012:/keyspace/"
iam.create_user(UserName="app")
read = iam.create_policy(PolicyName="KeyspacesRead", PolicyDocument=doc("Allow", "cassandra:Select", ks + "*", "ReadAll"))["Policy"]["Arn"]
iam.attach_user_policy(UserName="app", PolicyArn=read)
iam.put_user_policy(UserName="app", PolicyName="InlineWrite", PolicyDocument=doc("Allow", "cassandra:Modify", ks + "store/table/*", "WriteStore"))
iam.create_group(GroupName="auditors")
deny = iam.create_policy(PolicyName="NoOrders", PolicyDocument=doc("Deny", "cassandra:Select", ks + "store/table/orders", "NoOrders"))["Policy"]["Arn"]
iam.attach_group_policy(GroupName="auditors", PolicyArn=deny)
iam.put_group_policy(GroupName="auditors", PolicyName="GroupInline", PolicyDocument=doc("Allow", "cassandra:Select", ks + "system*", "Systems"))
iam.add_user_to_group(GroupName="auditors", UserName="app")
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/app"}, "Action": "sts:AssumeRole"}]})
iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)
iam.attach_role_policy(RoleName="reader", PolicyArn=read)
iam.put_role_policy(RoleName="reader", PolicyName="RoleInline", PolicyDocument=doc("Allow", "cassandra:Modify", ks + "store/*", "RoleWrite"))
rb = iam.create_policy(PolicyName="ReadOnlyBoundary", PolicyDocument=doc("Allow", "cassandra:Select", "*", "OnlyReads"))["Policy"]["Arn"]
iam.put_role_permissions_boundary(RoleName="reader", PermissionsBoundary=rb)
k = iam.create_access_key(UserName="app")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;
    let out = Command::new(peers_bin().join("python"))
        .args(["-c", setup, &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let keys = String::from_utf8_lossy(&out.stdout).to_string();
    let (id, secret) = keys.trim().split_once(' ').unwrap();
    let closed = free_port();
    let check = |extra: &[&str]| -> serde_json::Value {
        let mut cmd = Command::new(bin());
        cmd.args(["check", "--json", "--host", "cassandra.us-east-1.amazonaws.com"])
            .args([
                "--port",
                &closed.to_string(),
                "--keyspace",
                "store",
                "--table",
                "orders",
            ])
            .args(["--resolve", "cassandra.us-east-1.amazonaws.com:127.0.0.1"])
            .args(["--aws-endpoint-url", &url])
            .args(extra);
        let out = with_key_only(&mut cmd, id, secret).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    };
    let v = check(&[]);
    let p = &v["evidence"]["identity"]["policies"];
    assert_eq!(p["unreadable"], serde_json::Value::Null, "{p}");
    let mut names: Vec<String> = p["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["arn"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "arn:aws:iam::123456789012:group/auditors inline policy GroupInline".to_string(),
            "arn:aws:iam::123456789012:policy/KeyspacesRead".to_string(),
            "arn:aws:iam::123456789012:policy/NoOrders".to_string(),
            "arn:aws:iam::123456789012:user/app inline policy InlineWrite".to_string(),
        ],
        "{p}"
    );
    // The group's explicit deny decides the table read; the system tables are allowed.
    let checks = p["checks"].as_array().unwrap();
    let orders = checks
        .iter()
        .find(|c| {
            c["resource"]
                .as_str()
                .unwrap()
                .ends_with("/keyspace/store/table/orders")
        })
        .unwrap();
    assert_eq!(orders["decision"]["decision"], "explicit_deny", "{orders}");
    assert_eq!(
        orders["decision"]["by"]["policy_arn"],
        "arn:aws:iam::123456789012:policy/NoOrders"
    );
    assert!(
        checks
            .iter()
            .filter(|c| c["resource"].as_str().unwrap().contains("/keyspace/system"))
            .all(|c| c["decision"]["decision"] == "allowed"),
        "{checks:?}"
    );
    // Moto has no policy simulator: said plainly, the rest still evaluated.
    assert!(
        p["simulation"]["unavailable"]
            .as_str()
            .is_some_and(|u| u.contains("SimulatePrincipalPolicy")),
        "{}",
        p["simulation"]
    );

    // As the role: its attached and inline policies and its permission boundary.
    let v = check(&["--role-arn", "arn:aws:iam::123456789012:role/reader", "--probe-writes"]);
    let p = &v["evidence"]["identity"]["policies"];
    assert_eq!(p["unreadable"], serde_json::Value::Null, "{p}");
    assert!(
        p["principal_arn"].as_str().unwrap().contains(":assumed-role/reader/"),
        "{p}"
    );
    let mut names: Vec<String> = p["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["arn"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "arn:aws:iam::123456789012:policy/KeyspacesRead".to_string(),
            "arn:aws:iam::123456789012:role/reader inline policy RoleInline".to_string(),
        ],
        "{p}"
    );
    assert_eq!(
        p["boundary"]["arn"],
        "arn:aws:iam::123456789012:policy/ReadOnlyBoundary"
    );
    // The inline policy allows Modify, the boundary does not.
    let modify = p["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "cassandra:Modify")
        .unwrap();
    assert_eq!(modify["decision"]["decision"], "implicit_deny", "{modify}");
    assert_eq!(modify["decision"]["boundary_blocks"], true, "{modify}");
}

/// A malformed line is located, never repeated: it may be a password.
#[test]
fn malformed_configuration_lines_are_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("cqlshrc");
    std::fs::write(
        &rc,
        "[authentication]\nusername = alice-at-111122223333\npassword Sup3r-S3cret-Pa55\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["check", "--cqlshrc", rc.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(":3:"), "{err}");
    assert!(!err.contains("Sup3r-S3cret-Pa55"), "{err}");

    let conf = dir.path().join("application.conf");
    std::fs::write(
        &conf,
        "datastax-java-driver {\n  advanced.auth-provider {\n    class = PlainTextAuthProvider\n    username = \"alice-at-111122223333\"\n    = \"Sup3r-S3cret-Pa55\"\n  }\n}\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args([
            "check",
            "--json",
            "--region",
            "us-east-1",
            "--port",
            "1",
            "--timeout",
            "1s",
        ])
        .args(["--resolve", "cassandra.us-east-1.amazonaws.com:127.0.0.1"])
        .args(["--driver-config", conf.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("line 5: expected a key"), "{stdout}");
    assert!(!stdout.contains("Sup3r-S3cret-Pa55"), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Sup3r-S3cret-Pa55"));
}
