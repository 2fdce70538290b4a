//! Hostile files as every file input: devices, FIFOs, directories, oversized files and
//! planted symbolic links. Each gives a clear error or finding within the deadline and
//! bounded memory, and nothing is written through a link.
mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Extra arguments, extra environment, and what the output must say.
type Case<A, V> = (Vec<A>, Vec<(&'static str, V)>, &'static str);

fn mkfifo(p: &Path) {
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

/// A file of `size` bytes of `[connection]` comment lines.
fn oversized(dir: &Path, name: &str, size: usize) -> PathBuf {
    let p = dir.join(name);
    let line = "; padding padding padding padding padding padding padding padding\n";
    std::fs::write(&p, line.repeat(size / line.len() + 1)).unwrap();
    p
}

/// Runs the binary under `/usr/bin/time` with a clean environment plus `env`.
fn run(args: &[&str], env: &[(&str, &str)], home: &Path) -> (Option<i32>, String, String, u64, Duration) {
    let start = Instant::now();
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "maxrss_kib=%M"])
        .arg(bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let kib = peak_rss_kib(&err);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        err,
        kib,
        start.elapsed(),
    )
}

#[test]
fn device_fifo_directory_and_oversized_inputs_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let big = oversized(dir.path(), "big-cqlshrc", 21 << 20);
    let d = dir.path().display().to_string();
    let f = fifo.display().to_string();
    let b = big.display().to_string();
    let base = [
        "check",
        "--region",
        "us-east-1",
        "--timeout",
        "1s",
        "--total-timeout",
        "3s",
    ];
    // (extra args, extra env, what stderr must say)
    let cases: Vec<Case<&str, &str>> = vec![
        (vec!["--ca-file", "/dev/zero"], vec![], "holds more than"),
        (vec!["--ca-file", &f], vec![], "is a FIFO"),
        (vec!["--ca-file", &d], vec![], "is a directory"),
        (vec![], vec![("SSL_CERTFILE", "/dev/zero")], "holds more than"),
        (vec!["--cqlshrc", "/dev/zero"], vec![], "holds more than"),
        (vec!["--cqlshrc", &f], vec![], "is a FIFO"),
        (vec!["--cqlshrc", &d], vec![], "is a directory"),
        (vec!["--cqlshrc", &b], vec![], "holds more than"),
        (vec!["--driver-config", "/dev/zero"], vec![], "holds more than"),
        (vec!["--driver-config", &f], vec![], "is a FIFO"),
    ];
    for (extra, env, needle) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(extra.iter());
        let (code, out, err, kib, took) = run(&args, &env, dir.path());
        assert_eq!(code, Some(2), "{extra:?} {env:?}: {err}");
        assert!(err.contains(needle), "{extra:?} {env:?}: {err}");
        assert!(out.is_empty(), "{extra:?}: usage errors print no report");
        assert!(kib < 100 * 1024, "{extra:?} {env:?}: peak RSS {kib} KiB");
        assert!(took < Duration::from_secs(10), "{extra:?} {env:?}: took {took:?}");
    }
}

/// Files named inside configuration files, and the AWS files: findings, not hangs.
#[test]
fn hostile_files_named_by_configuration_are_findings() {
    let lab = LabProcess::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let rc = dir.path().join("cqlshrc");
    std::fs::write(&rc, "[ssl]\ncertfile = /dev/zero\n").unwrap();
    let conf = dir.path().join("application.conf");
    std::fs::write(
        &conf,
        format!(
            "datastax-java-driver {{\n  advanced.ssl-engine-factory {{\n    class = DefaultSslEngineFactory\n    truststore-path = \"{}\"\n    truststore-password = \"changeit\"\n  }}\n}}\n",
            fifo.display()
        ),
    )
    .unwrap();
    let cases: Vec<Case<String, String>> = vec![
        (
            vec!["--driver-config".into(), conf.display().to_string()],
            vec![],
            "is a FIFO",
        ),
        (
            vec![],
            vec![("AWS_CONFIG_FILE", "/dev/zero".into())],
            "aws-file-unreadable",
        ),
        (
            vec![],
            vec![("AWS_SHARED_CREDENTIALS_FILE", fifo.display().to_string())],
            "aws-file-unreadable",
        ),
    ];
    // A cqlshrc's certfile is read when no --ca-file is given.
    let host = lab.client()["host"].as_str().unwrap().to_string();
    let port = lab.cql_port().to_string();
    let resolve = format!("{host}:127.0.0.1");
    let rc_path = rc.display().to_string();
    let args = [
        "check",
        "--json",
        "--host",
        &host,
        "--port",
        &port,
        "--resolve",
        &resolve,
        "--region",
        "us-east-1",
        "--auth",
        "password",
        "--username",
        "alice-at-111122223333",
        "--cqlshrc",
        &rc_path,
    ];
    let (code, out, err, kib, took) = run(&args, &[("KEYSPACES_PASSWORD", "not-the-password")], dir.path());
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(code, Some(1), "{}", v["findings"]);
    assert!(
        v["findings"].to_string().contains("cqlshrc-certfile"),
        "{}",
        v["findings"]
    );
    assert!(
        v["findings"].to_string().contains("holds more than"),
        "{}",
        v["findings"]
    );
    assert!(
        kib < 100 * 1024 && took < Duration::from_secs(20),
        "{kib} KiB, {took:?}"
    );
    for (extra, env, needle) in cases {
        let mut args: Vec<&str> = vec!["--json"];
        args.extend(extra.iter().map(String::as_str));
        let mut cmd = check_command(&lab, &args, None, Some(&["/usr/bin/time", "-f", "maxrss_kib=%M"]));
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let start = Instant::now();
        let out = cmd.output().unwrap();
        let took = start.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        let kib = peak_rss_kib(&err);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{extra:?}: {e}: {err}"));
        assert_eq!(out.status.code(), Some(1), "{extra:?} {env:?}: {}", v["findings"]);
        assert!(
            v["findings"].to_string().contains(needle),
            "{extra:?} {env:?}: {}",
            v["findings"]
        );
        assert!(kib < 100 * 1024, "{extra:?}: peak RSS {kib} KiB");
        assert!(took < Duration::from_secs(20), "{extra:?}: took {took:?}");
    }
}

#[test]
fn explain_reads_the_end_of_a_long_log_and_says_it_cut() {
    let mut text = "INFO all good\n".repeat(40_000);
    text.push_str("com.datastax.oss.driver.api.core.auth.AuthenticationException: Authentication error on node cassandra.us-east-1.amazonaws.com/3.12.23.181:9142: Provided username alice-at-111122223333 and/or password are incorrect\n");
    let mut child = Command::new(bin())
        .args(["explain", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cause"], "invalid-credentials", "{v}");
    let cut = v["input_cut"].as_str().unwrap_or_default();
    assert!(cut.contains("skipped"), "{v}");
}

#[test]
fn lab_dir_never_writes_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let labdir = dir.path().join("lab");
    std::fs::create_dir(&labdir).unwrap();
    std::os::unix::fs::symlink(&victim, labdir.join("ca.pem")).unwrap();
    let out = Command::new(bin())
        .args(["lab", "--scenario", "healthy", "--dir"])
        .arg(&labdir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("ca.pem is a symbolic link"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    // An existing directory with regular files is still accepted (and its files replaced).
    let ok = tempfile::tempdir().unwrap();
    std::fs::write(ok.path().join("ca.pem"), "old").unwrap();
    let lab = Command::new(bin())
        .args(["lab", "--scenario", "healthy", "--dir"])
        .arg(ok.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lab = scopeguard(lab);
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(lab.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("\"cql\""), "{line}");
    assert!(
        std::fs::read_to_string(ok.path().join("ca.pem"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
}

/// Kills the child when dropped.
struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

#[test]
fn lab_listen_on_another_loopback_address_does_not_collide_with_its_peers() {
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Guard(
        Command::new(bin())
            .args(["lab", "--scenario", "healthy", "--listen", "127.0.0.2:0", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(lab.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: '{line}'"));
    assert!(v["cql"].as_str().unwrap().starts_with("127.0.0.2:"), "{v}");
    let port = v["cql"].as_str().unwrap().rsplit(':').next().unwrap().to_string();
    // The first peer listens on the next loopback address, same port.
    let peer =
        std::net::TcpStream::connect_timeout(&format!("127.0.0.3:{port}").parse().unwrap(), Duration::from_secs(2));
    assert!(peer.is_ok(), "a peer listens on 127.0.0.3:{port}");
}

/// A FIFO where the AWS SDK reads the web identity token blocks inside the SDK: the run
/// still ends at its total timeout with a report that names the cut step.
#[test]
fn a_blocking_read_inside_the_sdk_does_not_outlive_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("token");
    mkfifo(&fifo);
    let args = [
        "check",
        "--region",
        "us-east-1",
        "--resolve",
        "cassandra.us-east-1.amazonaws.com:127.0.0.1",
        "--port",
        "1",
        "--timeout",
        "1s",
        "--total-timeout",
        "3s",
        "--json",
    ];
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", fifo.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/app"),
    ];
    let (code, out, err, kib, took) = run(&args, &env, dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(kib < 100 * 1024);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(v["verdict"], "problems");
    assert!(
        v["evidence"]["cut"]["steps"].to_string().contains("identity"),
        "{}",
        v["evidence"]
    );
}
