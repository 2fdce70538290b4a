//! Shared test fixtures: the lab as a real process, and the peers nobody here wrote
//! (DataStax Python driver, cassandra-sigv4, AWS CLI, moto) in a venv the tests
//! create themselves on first use.
#![allow(dead_code)]
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const PEERS: &[&str] = &[
    "cassandra-driver==3.30.1",
    "cassandra-sigv4==4.0.2",
    "awscli==1.46.3",
    "moto[server]==5.2.5",
    "cqlsh==6.2.2",
    "jsonschema==4.26.0",
];

/// The scenario names the product and its tests rely on.
pub const REQUIRED_SCENARIOS: &[&str] = &[
    "healthy",
    "wrong-password",
    "iam-username",
    "password-whitespace",
    "invalid-signature",
    "expired-session-token",
    "wrong-signing-region",
    "clock-skew",
    "no-permissions",
    "missing-select",
    "missing-modify",
    "resource-scoped",
    "system-tables-denied",
    "explicit-deny",
    "cross-account-denied",
    "starfield-only-truststore",
    "hostname-mismatch",
    "tls-disabled",
    "wrong-port",
    "unknown-table",
    "vpce-no-peers",
];

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keyspaces-doctor"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// AWS's cqlsh-expansion (its own `cqlsh` and `cqlshlib` clash with PyPI's cqlsh, so it
/// lives in a venv of its own).
pub const EXPANSION: &[&str] = &[
    "cassandra-driver==3.30.1",
    "cassandra-sigv4==4.0.2",
    "cqlsh-expansion==0.9.6",
];

/// The venv's `bin/` with the pinned peers, created once (under a file lock).
pub fn peers_bin() -> PathBuf {
    venv_bin("peers-venv", PEERS)
}

/// The `bin/` of the venv `name` under target/ holding `packages`, created once.
pub fn venv_bin(name: &str, packages: &[&str]) -> PathBuf {
    let venv = target_dir().join(name);
    let marker = venv.join("installed.txt");
    let wanted = packages.join("\n");
    std::fs::create_dir_all(target_dir()).expect("create target dir");
    let lock = std::fs::File::create(target_dir().join(format!("{name}.lock"))).expect("create lock file");
    lock.lock().expect("lock the venv");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        let how = format!(
            "the test peers could not be installed; run `python3 -m venv {0} && {0}/bin/pip install {1}` by hand to see why (needs python3 with venv and access to PyPI)",
            venv.display(),
            packages.join(" ")
        );
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "{how}");
        let out = Command::new(venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "-q"])
            .args(packages)
            .output()
            .unwrap_or_else(|e| panic!("{how}: {e}"));
        assert!(out.status.success(), "{how}\n{}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&marker, &wanted).expect("write venv marker");
    }
    venv.join("bin")
}

/// A running `keyspaces-doctor lab` process; killed on drop.
pub struct LabProcess {
    pub child: Child,
    pub json: Value,
    pub dir: tempfile::TempDir,
}

impl Drop for LabProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LabProcess {
    pub fn start(scenario: &str) -> LabProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(bin())
            .args(["lab", "--scenario", scenario, "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the lab");
        let stdout = child.stdout.take().expect("lab stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the lab printed its JSON line within 30 s");
        let json: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("lab line is JSON: {e}: {line}"));
        LabProcess { child, json, dir }
    }

    pub fn client(&self) -> &Value {
        &self.json["client"]
    }

    pub fn cql_port(&self) -> u16 {
        self.json["cql"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// Runs the DataStax Python driver with `cfg` (fed on stdin) and returns its JSON answer.
pub fn python_driver(cfg: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/driver_client.py");
    json_exchange(Command::new(peers_bin().join("python")).arg(script), cfg)
}

/// A driver config from the lab's client block.
pub fn driver_cfg(lab: &LabProcess, queries: &[(&str, &str)]) -> Value {
    let mut c = lab.client().clone();
    c["address"] = "127.0.0.1".into();
    c["queries"] = queries
        .iter()
        .map(|(cql, cl)| serde_json::json!({"cql": cql, "consistency": cl}))
        .collect();
    c
}

/// Leaves `cmd` no AWS configuration of this host: only PATH, a temporary HOME and the
/// given key (no profile files, no instance metadata).
pub fn with_key_only<'a>(cmd: &'a mut Command, key_id: &str, secret: &str) -> &'a mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

/// Runs the AWS CLI against the lab's STS with the given key.
pub fn aws_cli(args: &[&str], key_id: &str, secret: &str, token: Option<&str>) -> Output {
    let mut cmd = Command::new(peers_bin().join("aws"));
    with_key_only(cmd.args(args), key_id, secret).env("AWS_DEFAULT_REGION", "us-east-1");
    if let Some(t) = token {
        cmd.env("AWS_SESSION_TOKEN", t);
    }
    cmd.output().expect("run the aws cli")
}

/// `check` run as a user with the scenario's client block would: flags, and the
/// credentials in the environment (never on argv). Returns (exit code, stdout, stderr).
pub fn run_check(lab: &LabProcess, extra: &[&str], rust_log: Option<&str>) -> (i32, String, String) {
    let out = check_command(lab, extra, rust_log, None).output().expect("run check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The `check` flags of a lab's client block, as a user with that configuration gives them.
pub fn client_flags(lab: &LabProcess) -> Vec<String> {
    let c = lab.client();
    let host = c["host"].as_str().unwrap();
    let mut args: Vec<String> = vec![
        "--host".into(),
        host.into(),
        "--port".into(),
        c["port"].to_string(),
        "--resolve".into(),
        format!("{host}:127.0.0.1"),
        "--region".into(),
        c["region"].as_str().unwrap().into(),
        "--auth".into(),
        c["auth"].as_str().unwrap().into(),
        "--aws-endpoint-url".into(),
        lab.json["sts"].as_str().unwrap().into(),
    ];
    for (flag, key) in [
        ("--ca-file", "ca_file"),
        ("--keyspace", "keyspace"),
        ("--table", "table"),
        ("--username", "username"),
        ("--role-arn", "role_arn"),
        ("--driver-config", "driver_config"),
    ] {
        if let Some(v) = c[key].as_str() {
            args.extend([flag.to_string(), v.to_string()]);
        }
    }
    if c["tls"] == false {
        args.push("--no-tls".into());
    }
    if let Some(ops) = c["operations"].as_array().filter(|o| !o.is_empty()) {
        let list: Vec<&str> = ops.iter().filter_map(|o| o.as_str()).collect();
        args.extend(["--operations".to_string(), list.join(",")]);
    }
    if c["probe_writes"] == true {
        args.push("--probe-writes".into());
    }
    args
}

/// The environment of a lab's client: its credentials (never on argv) and a HOME and AWS
/// configuration of its own, so nothing of this host's AWS setup leaks in.
pub fn client_env(lab: &LabProcess) -> Vec<(&'static str, String)> {
    let c = lab.client();
    let mut env = vec![
        ("HOME", lab.dir.path().display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
    ];
    for (var, key) in [
        ("KEYSPACES_PASSWORD", "password"),
        ("AWS_ACCESS_KEY_ID", "access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
        ("AWS_SESSION_TOKEN", "session_token"),
    ] {
        if let Some(v) = c[key].as_str() {
            env.push((var, v.to_string()));
        }
    }
    env
}

/// The `check` command for a lab's client block, optionally under a wrapper such as
/// `/usr/bin/time -f %M`.
pub fn check_command(lab: &LabProcess, extra: &[&str], rust_log: Option<&str>, wrapper: Option<&[&str]>) -> Command {
    let mut cmd = match wrapper {
        Some(w) => {
            let mut cmd = Command::new(w[0]);
            cmd.args(&w[1..]).arg(bin());
            cmd
        }
        None => Command::new(bin()),
    };
    cmd.arg("check")
        .args(client_flags(lab))
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(client_env(lab));
    if let Some(l) = rust_log {
        cmd.env("RUST_LOG", l);
    }
    cmd
}

/// The lab's secrets for this scenario (to prove no output shows them).
pub fn lab_secrets(lab: &LabProcess) -> Vec<String> {
    let c = lab.client();
    ["password", "secret_access_key", "session_token"]
        .iter()
        .filter_map(|k| c[*k].as_str())
        .map(|s| s.trim().to_string())
        .filter(|s| s.len() >= 8)
        .collect()
}

/// The lab in this process (for tests that drive the library directly); the temp dir
/// holding its files lives as long as the returned guard.
pub async fn lab_in_process(scenario: &str) -> (keyspaces_doctor::lab::RunningLab, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let running = keyspaces_doctor::lab::start(keyspaces_doctor::lab::LabOptions {
        scenario: scenario.into(),
        dir: dir.path().into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_non_loopback: false,
    })
    .await
    .unwrap();
    (running, dir)
}

/// Runs `cmd` with `input` (a JSON object) on stdin and reads the one JSON document it
/// prints; secrets in `input` never reach argv.
pub fn json_exchange(cmd: &mut Command, input: &Value) -> Value {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the peer");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("peer output");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "the peer printed no JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The cause `keyspaces-doctor explain` names for `text`.
pub fn explain_cause(text: &str) -> String {
    let out = Command::new(bin()).args(["explain", "--json", text]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("explain prints JSON");
    v["cause"].as_str().unwrap_or_default().to_string()
}

/// The cause a lab scenario's file declares.
pub fn scenario_cause(scenario: &str) -> String {
    let s = std::fs::read_to_string(format!(
        "{}/assets/scenarios/{scenario}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("cause = "))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

/// The peak RSS `/usr/bin/time -f maxrss_kib=%M` printed on stderr.
pub fn peak_rss_kib(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rss in {stderr}"))
}

/// Puts `policy` as the inline policy `name` of the lab's IAM user `user`, with the AWS
/// CLI and the lab's admin key, as an administrator applying a fix would.
pub fn put_user_policy(lab: &LabProcess, user: &str, name: &str, policy: &Value) {
    assert!(policy.is_object(), "a policy document: {policy}");
    let file = lab.dir.path().join(format!("{name}.json"));
    std::fs::write(&file, policy.to_string()).unwrap();
    let out = aws_cli(
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            name,
            "--policy-document",
            &format!("file://{}", file.display()),
            "--endpoint-url",
            lab.json["sts"].as_str().unwrap(),
        ],
        lab.json["access_key"]["id"].as_str().unwrap(),
        lab.json["access_key"]["secret"].as_str().unwrap(),
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Each finding as "severity leaf cause", in order: what the fixture tables compare.
pub fn finding_shape(findings: &[keyspaces_doctor::diagnosis::Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                serde_json::to_value(f.severity).unwrap().as_str().unwrap(),
                f.leaf,
                f.cause.as_str()
            )
        })
        .collect()
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server (AWS's APIs, mocked), killed on drop.
pub struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Moto {
    /// A moto server on a free port, ready; `no_auth_actions` makes it enforce IAM
    /// authentication after that many calls. Returns it with its URL.
    pub fn start(no_auth_actions: Option<&str>) -> (Moto, String) {
        let port = free_port();
        let mut cmd = Command::new(peers_bin().join("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(n) = no_auth_actions {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n);
        }
        let moto = Moto(cmd.spawn().expect("moto_server starts"));
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "moto did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        (moto, format!("http://127.0.0.1:{port}"))
    }
}
