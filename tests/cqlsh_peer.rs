//! cqlsh from PyPI (pinned, in the peers' venv) against the lab, with a cqlshrc as users
//! write it: what users run (CONSISTENCY, SELECT * FROM system.local, DESCRIBE, a read
//! and a write), succeeding or failing as real Keyspaces would; and the cqlsh that does
//! not verify certificates, proven against the pinned driver.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs cqlsh against `lab` with `rc` as its cqlshrc, credentials in the environment or
/// a credentials file (never on argv), and `cql` as input.
fn cqlsh(lab: &LabProcess, home: &Path, rc: &str, cql: &str, sigv4: bool) -> Output {
    run_cqlsh(&peers_bin().join("cqlsh"), lab, home, rc, cql, sigv4)
}

fn run_cqlsh(program: &Path, lab: &LabProcess, home: &Path, rc: &str, cql: &str, sigv4: bool) -> Output {
    let rc_path = home.join("cqlshrc");
    std::fs::write(&rc_path, rc).unwrap();
    let mut cmd = Command::new(program);
    let creds = home.join("credentials");
    if let Some(user) = (!sigv4)
        .then(|| std::fs::read_to_string(&creds).ok())
        .flatten()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("username = "))
                .map(str::to_string)
        })
    {
        cmd.arg("-u").arg(user).arg("--credentials").arg(&creds);
    }
    cmd.arg("127.0.0.1")
        .arg(lab.cql_port().to_string())
        .args(["--ssl", "--cqlshrc"])
        .arg(&rc_path)
        .args(["--request-timeout", "10", "--connect-timeout", "10", "-e", cql])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let c = lab.client();
    if sigv4 {
        cmd.env("AWS_ACCESS_KEY_ID", c["access_key_id"].as_str().unwrap())
            .env("AWS_SECRET_ACCESS_KEY", c["secret_access_key"].as_str().unwrap())
            .env("AWS_DEFAULT_REGION", "us-east-1");
        if let Some(t) = c["session_token"].as_str() {
            cmd.env("AWS_SESSION_TOKEN", t);
        }
    }
    cmd.output().expect("run cqlsh")
}

/// A cqlshrc for password authentication, with the password in a credentials file that
/// only its owner may read (cqlsh ignores it otherwise).
fn password_rc(home: &Path, user: &str, password: &str, certfile: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let creds = home.join("credentials");
    std::fs::write(
        &creds,
        format!("[PlainTextAuthProvider]\nusername = {user}\npassword = {password}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    format!("[connection]\nport = 9142\n\n[ssl]\nvalidate = true\ncertfile = {certfile}\n")
}

/// The cqlshrc AWS's cqlsh-expansion writes, with the SigV4 plugin.
fn sigv4_rc(certfile: &str) -> String {
    format!(
        "[connection]\nport = 9142\n\n[ssl]\nvalidate = true\ncertfile = {certfile}\n\n[auth_provider]\nmodule = cassandra_sigv4.auth\nclassname = SigV4AuthProvider\nregion_name = us-east-1\n"
    )
}

const SESSION: &str = "CONSISTENCY LOCAL_QUORUM; SELECT * FROM system.local; SELECT * FROM store.orders; INSERT INTO store.orders (order_id, item, qty) VALUES ('o-cqlsh', 'pen', 1); SELECT * FROM store.orders WHERE order_id = 'o-cqlsh';";

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A password cqlshrc for the lab's admin user (full access).
fn admin_rc(lab: &LabProcess, home: &Path) -> String {
    let u = &lab.json["password_user"];
    password_rc(
        home,
        u["username"].as_str().unwrap(),
        u["password"].as_str().unwrap(),
        &ca(lab),
    )
}

/// `check --json` for the lab's client with the peers' cqlsh first on PATH.
fn check_with_cqlsh_on_path(lab: &LabProcess, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let mut cmd = check_command(lab, &args, None, None);
    let path = format!(
        "{}:{}",
        peers_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cmd.env("PATH", path).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The finding with `leaf`, or a failure that shows them all.
fn finding(v: &Value, leaf: &str) -> Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["leaf"] == leaf)
        .cloned()
        .unwrap_or_else(|| panic!("no {leaf} finding: {}", v["findings"]))
}

fn ca(lab: &LabProcess) -> String {
    lab.json["ca_file"].as_str().unwrap().to_string()
}

#[test]
fn cqlsh_password_session_on_healthy() {
    let lab = LabProcess::start("healthy");
    let home = tempfile::tempdir().unwrap();
    let rc = admin_rc(&lab, home.path());
    let out = cqlsh(&lab, home.path(), &rc, SESSION, false);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Consistency level set to LOCAL_QUORUM"), "{t}");
    assert!(
        t.contains("Amazon Keyspaces") && t.contains("Murmur3Partitioner"),
        "system.local printed: {t}"
    );
    assert!(t.contains("keyboard"), "the table's rows: {t}");
    assert!(
        t.contains("o-cqlsh") && t.contains("pen"),
        "the written row read back: {t}"
    );
}

/// DESCRIBE: PyPI's cqlsh 6.x sends it to the server and, for a 3.11 server such as
/// Amazon Keyspaces, prints that it moved server side; AWS's cqlsh-expansion (what AWS
/// tells Keyspaces users to install) describes from the driver's schema metadata, which
/// must therefore hold the system keyspaces and the application's table.
#[test]
fn describe_keyspaces_and_table_in_cqlsh_expansion() {
    let lab = LabProcess::start("healthy");
    let home = tempfile::tempdir().unwrap();
    let rc = admin_rc(&lab, home.path());
    let expansion = venv_bin("expansion-venv", EXPANSION).join("cqlsh-expansion");
    let out = run_cqlsh(&expansion, &lab, home.path(), &rc, "DESCRIBE KEYSPACES;", false);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for ks in ["store", "system_schema", "system_schema_mcs", "system_multiregion_info"] {
        assert!(t.contains(ks), "DESCRIBE KEYSPACES lists {ks}: {t}");
    }
    let out = run_cqlsh(
        &expansion,
        &lab,
        home.path(),
        &rc,
        "DESCRIBE TABLE store.orders;",
        false,
    );
    let t = text(&out);
    assert!(out.status.success() && t.contains("CREATE TABLE store.orders"), "{t}");
    assert!(t.contains("order_id text PRIMARY KEY"), "{t}");
    // PyPI's cqlsh says DESCRIBE is server side from Cassandra 4.0, as against Keyspaces.
    let out = cqlsh(&lab, home.path(), &rc, "DESCRIBE KEYSPACES;", false);
    assert!(
        text(&out).contains("DESCRIBE does not exist server side prior Cassandra 4.0"),
        "{}",
        text(&out)
    );
}

/// The Python driver's schema metadata knows the system keyspaces and system.local.
#[test]
fn python_driver_metadata_lists_the_system_keyspaces() {
    let lab = LabProcess::start("healthy");
    let script = r#"
import json, ssl, sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
cfg = json.load(sys.stdin)
ctx = ssl.create_default_context(cafile=cfg["ca"])
ctx.check_hostname = False
c = Cluster(["127.0.0.1"], port=cfg["port"], ssl_context=ctx,
            auth_provider=PlainTextAuthProvider(cfg["user"], cfg["password"]))
c.connect()
m = c.metadata
print(json.dumps({"keyspaces": sorted(m.keyspaces), "system": sorted(m.keyspaces["system"].tables),
                  "local_columns": list(m.keyspaces["system"].tables["local"].columns)}))
c.shutdown()
"#;
    let u = &lab.json["password_user"];
    let cfg =
        serde_json::json!({"ca": ca(&lab), "port": lab.cql_port(), "user": u["username"], "password": u["password"]});
    let v = json_exchange(Command::new(peers_bin().join("python")).args(["-c", script]), &cfg);
    for ks in [
        "system",
        "system_schema",
        "system_schema_mcs",
        "system_multiregion_info",
        "store",
    ] {
        assert!(v["keyspaces"].to_string().contains(&format!("\"{ks}\"")), "{v}");
    }
    assert!(
        v["system"].to_string().contains("\"local\"") && v["system"].to_string().contains("\"peers\""),
        "{v}"
    );
    assert!(v["local_columns"].to_string().contains("truncated_at"), "{v}");
}

#[test]
fn cqlsh_sigv4_session_on_healthy() {
    let lab = LabProcess::start("healthy");
    let home = tempfile::tempdir().unwrap();
    let out = cqlsh(&lab, home.path(), &sigv4_rc(&ca(&lab)), SESSION, true);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Amazon Keyspaces") && t.contains("keyboard"), "{t}");
}

#[test]
fn cqlsh_fails_as_keyspaces_would() {
    // (scenario, sigv4, what cqlsh prints)
    let cases = [
        ("wrong-password", false, "and/or password are incorrect"),
        ("invalid-signature", true, "Invalid signature"),
        ("missing-select", true, "is not authorized to perform: cassandra:Select"),
        ("missing-modify", true, "is not authorized to perform: cassandra:Modify"),
    ];
    for (scenario, sigv4, needle) in cases {
        let lab = LabProcess::start(scenario);
        let home = tempfile::tempdir().unwrap();
        let c = lab.client();
        let rc = if sigv4 {
            sigv4_rc(&ca(&lab))
        } else {
            password_rc(
                home.path(),
                c["username"].as_str().unwrap(),
                c["password"].as_str().unwrap(),
                &ca(&lab),
            )
        };
        let statement = if scenario == "missing-modify" {
            "CONSISTENCY LOCAL_QUORUM; INSERT INTO store.orders (order_id, item, qty) VALUES ('o-cqlsh', 'pen', 1);"
        } else {
            "SELECT * FROM store.orders;"
        };
        let out = cqlsh(&lab, home.path(), &rc, statement, sigv4);
        let t = text(&out);
        assert!(!out.status.success(), "{scenario}: cqlsh must fail: {t}");
        assert!(t.contains(needle), "{scenario}: {t}");
        // What cqlsh printed is a text `explain` must read to the scenario's cause.
        assert_eq!(
            explain_cause(&t),
            scenario_cause(scenario),
            "{scenario}: explain of cqlsh's text: {t}"
        );
    }
}

/// The premise of the unverified-cqlsh warning: cqlsh on the pinned driver 3.30.1 connects
/// with `validate = true` and a bundle that does not hold the lab's root. This test
/// fails the day the driver verifies again; the warning must then be versioned.
#[test]
fn cqlsh_does_not_verify_the_certificate_and_check_says_so() {
    let lab = LabProcess::start("starfield-only-truststore");
    let home = tempfile::tempdir().unwrap();
    let c = lab.client();
    let starfield_only = c["ca_file"].as_str().unwrap().to_string();
    assert!(starfield_only.ends_with("starfield-only.pem"), "{starfield_only}");
    let rc = sigv4_rc(&starfield_only);
    let out = cqlsh(&lab, home.path(), &rc, "SELECT * FROM system.local;", true);
    let t = text(&out);
    assert!(
        out.status.success() && t.contains("Amazon Keyspaces"),
        "cqlsh connected although its bundle lacks the served root: {t}"
    );
    // The application's own check fails on the same bundle, and says why cqlsh did not.
    let rc_path = home.path().join("cqlshrc");
    std::fs::write(&rc_path, &rc).unwrap();
    let v = check_with_cqlsh_on_path(&lab, &["--cqlshrc", rc_path.to_str().unwrap()]);
    assert_eq!(v["causes"][0], "tls-trust", "{}", v["findings"]);
    let w = finding(&v, "cqlsh-unverified");
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["cause"], "tls-trust");
    assert!(
        w["evidence"].to_string().contains("3.30.1"),
        "the driver version in use: {}",
        w["evidence"]
    );
    // The same cqlshrc linted with --driver-config says it too, on its line.
    let v = check_with_cqlsh_on_path(
        &lab,
        &["--cqlshrc", "/dev/null", "--driver-config", rc_path.to_str().unwrap()],
    );
    let w = finding(&v, "cqlsh-unverified");
    let e = w["evidence"].to_string();
    assert!(e.contains("3.30.1") && e.contains("cqlshrc:5"), "{e}");
}
