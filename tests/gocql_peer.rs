//! gocql, from Debian's packages (golang-go, golang-github-gocql-gocql-dev, built offline
//! against the Debian sources), with PasswordAuthenticator over TLS with the lab's CA and
//! host verification on: it connects on healthy and fails on wrong-password,
//! starfield-only-truststore and hostname-mismatch as a Go application would, and
//! `explain` reads each text it prints to the scenario's cause.
mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The gocql client, built once (under a lock) into target/.
fn gocql_client() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let lock = std::fs::File::create(target.join("gocql-client.lock")).unwrap();
    lock.lock().unwrap();
    let bin = target.join("gocql-client");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/gocql_client.go");
    let fresh = bin.metadata().and_then(|b| b.modified()).ok() > src.metadata().and_then(|s| s.modified()).ok();
    if !fresh {
        let how = "gocql needs Debian's golang-go and golang-github-gocql-gocql-dev: `sudo apt-get install golang-go golang-github-gocql-gocql-dev` (.ci/run installs them)";
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(&src)
            .env("GO111MODULE", "off")
            .env("GOPATH", "/usr/share/gocode")
            .env("GOCACHE", target.join("go-cache"))
            .env("GOFLAGS", "")
            .output()
            .unwrap_or_else(|e| panic!("{how}: {e}"));
        assert!(out.status.success(), "{how}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    bin
}

fn gocql(cfg: &Value) -> Value {
    json_exchange(&mut Command::new(gocql_client()), cfg)
}

/// The client as the scenario's application would configure it.
fn cfg(lab: &LabProcess, admin: bool) -> Value {
    let c = lab.client();
    let (user, password) = if admin {
        (
            &lab.json["password_user"]["username"],
            &lab.json["password_user"]["password"],
        )
    } else {
        (&c["username"], &c["password"])
    };
    serde_json::json!({
        "address": "127.0.0.1",
        "port": lab.cql_port(),
        "server_name": c["host"],
        "ca_file": c["ca_file"],
        "username": user,
        "password": password,
        "query": "SELECT key FROM system.local",
    })
}

#[test]
fn gocql_connects_on_healthy() {
    let lab = LabProcess::start("healthy");
    let out = gocql(&cfg(&lab, true));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["first"], "local", "{out}");
}

#[test]
fn gocql_fails_as_a_go_application_would_and_explain_reads_it() {
    // (scenario, use the admin's password (the scenario's client has none), what gocql says)
    let cases = [
        ("wrong-password", false, "and/or password are incorrect"),
        (
            "starfield-only-truststore",
            true,
            "x509: certificate signed by unknown authority",
        ),
        ("hostname-mismatch", true, "not keyspaces.internal.example.com"),
    ];
    for (scenario, admin, needle) in cases {
        let lab = LabProcess::start(scenario);
        let out = gocql(&cfg(&lab, admin));
        assert_eq!(out["ok"], false, "{scenario}: {out}");
        let error = out["error"].as_str().unwrap().to_string();
        assert!(error.contains(needle), "{scenario}: {error}");
        assert_eq!(
            explain_cause(&error),
            scenario_cause(scenario),
            "{scenario}: explain of '{error}'"
        );
    }
}
