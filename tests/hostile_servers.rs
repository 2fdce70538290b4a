//! Hostile servers of this test's own, beside the lab's `hostile-*` scenarios: a CQL
//! endpoint that completes TLS and closes, closes on STARTUP, closes after
//! authentication on the first query, answers slowly at every step, or speaks text
//! crafted to break a terminal or a shell; an AWS endpoint that streams without end or
//! answers with a hostile ARN. For each: never an `ok` verdict, bounded time (and
//! memory), no control byte in any report, and every suggested command safe to paste.
mod common;
use common::{bin, peak_rss_kib};
use keyspaces_doctor::lab::pki::{LabPki, ServingRoot};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "cassandra.us-east-1.amazonaws.com";
/// What a payload would create if a shell ran it; must never appear outside single quotes.
const MARK: &str = "pwned";
const HOSTILE_ARN: &str = "arn:aws:iam::111122223333:user/$(touch${IFS}pwned)`touch${IFS}pwned2`";
const HOSTILE_TEXT: &str = "\u{1b}]0;pwned\u{7}\u{1b}[31m\nFORGED ✓ All checks passed\r\u{9b}2J";

#[derive(Clone, Copy, PartialEq)]
enum Cql {
    TlsThenClose,
    CloseOnStartup,
    CloseAfterAuth,
    Slow(Duration),
    HostileText,
}

/// A server running on its own runtime for as long as this value lives.
struct Server {
    port: u16,
    dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A listener on a free loopback port, in `rt`.
fn loopback_listener(rt: &tokio::runtime::Runtime) -> (tokio::net::TcpListener, u16) {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn frame(stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x84, 0];
    f.extend_from_slice(&stream.to_be_bytes());
    f.push(opcode);
    f.extend_from_slice(&(body.len() as u32).to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn string(s: &str) -> Vec<u8> {
    let mut b = (s.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(s.as_bytes());
    b
}

fn supported() -> Vec<u8> {
    let mut b = 1u16.to_be_bytes().to_vec();
    b.extend(string("CQL_VERSION"));
    b.extend(1u16.to_be_bytes());
    b.extend(string("3.4.4"));
    b
}

fn error(code: i32, msg: &str) -> Vec<u8> {
    let mut b = code.to_be_bytes().to_vec();
    b.extend(string(msg));
    b
}

/// A CQL endpoint over TLS with a certificate for `names` (the first is the subject).
fn cql_server(behaviour: Cql, names: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let extra: Vec<String> = names[1..].iter().map(|s| s.to_string()).collect();
    let pki = LabPki::generate(names[0], &extra, ServingRoot::Ats).unwrap();
    std::fs::write(dir.path().join("ca.pem"), pki.bundle_pem()).unwrap();
    let config =
        rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), pki.key.clone_key())
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = runtime();
    let (listener, port) = loopback_listener(&rt);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Cql::Slow(d) = behaviour {
                    tokio::time::sleep(d).await;
                }
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                if behaviour == Cql::TlsThenClose {
                    let _ = tls.shutdown().await;
                    return;
                }
                loop {
                    let mut header = [0u8; 9];
                    if tls.read_exact(&mut header).await.is_err() {
                        return;
                    }
                    let stream = i16::from_be_bytes([header[2], header[3]]);
                    let len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) as usize;
                    let mut body = vec![0u8; len.min(1 << 20)];
                    if tls.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if let Cql::Slow(d) = behaviour {
                        tokio::time::sleep(d).await;
                    }
                    let answer = match (header[4], behaviour) {
                        (0x05, _) => frame(stream, 0x06, &supported()),
                        (0x01, Cql::CloseOnStartup) => return,
                        (0x01, Cql::HostileText) => frame(
                            stream,
                            0x03,
                            &string(&format!("org.apache.cassandra.auth.PasswordAuthenticator{HOSTILE_TEXT}")),
                        ),
                        (0x01, _) => frame(stream, 0x03, &string("com.amazonaws.cassandra.auth.HelenusAuthenticator")),
                        (0x0F, _) => frame(stream, 0x10, &(-1i32).to_be_bytes()),
                        (_, Cql::CloseAfterAuth) => return,
                        (_, Cql::HostileText) => frame(
                            stream,
                            0x00,
                            &error(
                                0x2100,
                                &format!(
                                    "User: {HOSTILE_ARN} is not authorized to perform: cassandra:Select on resource: arn:aws:cassandra:us-east-1:111122223333:/keyspace/system/table/local{HOSTILE_TEXT}"
                                ),
                            ),
                        ),
                        (0x0B, _) => frame(stream, 0x02, &[]),
                        _ => frame(stream, 0x08, &1i32.to_be_bytes()),
                    };
                    if tls.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server { port, dir, _rt: rt }
}

#[derive(Clone, Copy, PartialEq)]
enum Aws {
    /// Answers every call with a body that never ends.
    Endless,
    /// GetCallerIdentity names a hostile ARN; every other call is denied with hostile text.
    HostileArn,
}

fn aws_server(behaviour: Aws) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (listener, port) = loopback_listener(&rt);
    rt.spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                loop {
                    let mut req = Vec::new();
                    let mut byte = [0u8; 1];
                    while !req.ends_with(b"\r\n\r\n") {
                        if tcp.read_exact(&mut byte).await.is_err() || req.len() > 65536 {
                            return;
                        }
                        req.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&req).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0u8; len.min(1 << 20)];
                    if tcp.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let body = String::from_utf8_lossy(&body);
                    if behaviour == Aws::Endless {
                        let _ = tcp
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ntransfer-encoding: chunked\r\n\r\n")
                            .await;
                        let chunk = format!("{:x}\r\n{}\r\n", 65536, &"<a>".repeat(65536 / 3 + 1)[..65536]);
                        loop {
                            if tcp.write_all(chunk.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                    let (status, xml) = if body.contains("Action=GetCallerIdentity") {
                        (
                            "200 OK",
                            format!(
                                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>{}&#10;FORGED</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                                HOSTILE_ARN.replace('&', "&amp;")
                            ),
                        )
                    } else {
                        (
                            "403 Forbidden",
                            format!(
                                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: {} is not authorized&#10;FORGED \u{1b}[31m</Message></Error><RequestId>1</RequestId></ErrorResponse>",
                                HOSTILE_ARN.replace('&', "&amp;")
                            ),
                        )
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}",
                        xml.len()
                    );
                    if tcp.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server { port, dir, _rt: rt }
}

/// `check` against the server as a service-specific-credential user would run it, in a
/// clean environment (no AWS files, no instance metadata).
fn check(
    server: &Server,
    sts: Option<u16>,
    extra: &[&str],
    format: &[&str],
) -> (Option<i32>, Vec<u8>, String, Duration) {
    // Under /usr/bin/time, for the peak RSS of every hostile case.
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "maxrss_kib=%M"])
        .arg(bin())
        .arg("check")
        .args(["--host", HOST, "--port", &server.port.to_string()])
        .args(["--resolve", &format!("{HOST}:127.0.0.1")])
        .args(["--region", "us-east-1", "--keyspace", "store", "--table", "orders"])
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(extra)
        .args(format)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", server.dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    match sts {
        Some(p) => {
            cmd.args([
                "--auth",
                "sigv4",
                "--aws-endpoint-url",
                &format!("http://127.0.0.1:{p}"),
            ])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        }
        None => {
            cmd.args(["--auth", "password", "--username", "alice-at-111122223333"])
                .env("KEYSPACES_PASSWORD", "correct horse battery");
        }
    }
    let start = Instant::now();
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).to_string(),
        start.elapsed(),
    )
}

/// Control characters (C0 but the line feed, DEL, C1, bidi overrides) in `out`.
fn control_chars(out: &str) -> Vec<String> {
    out.chars()
        .filter(|c| (*c != '\n' && c.is_control()) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

/// Where `MARK` would be expanded by a POSIX shell: outside single quotes (inside double
/// quotes `$(...)` and backquotes still run). Returns the offending positions.
fn unquoted_marks(cmd: &str) -> Vec<usize> {
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
    }
    let b = cmd.as_bytes();
    let mut q = Q::None;
    let mut hits = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match q {
            Q::Single if c == b'\'' => q = Q::None,
            Q::Single => {}
            _ if c == b'\\' => i += 1,
            Q::None if c == b'\'' => q = Q::Single,
            Q::None if c == b'"' => q = Q::Double,
            Q::Double if c == b'"' => q = Q::None,
            _ if cmd[i..].starts_with(MARK) => hits.push(i),
            _ => {}
        }
        i += 1;
    }
    hits
}

/// Runs `check` in each face and asserts the fail-closed, clean and safe properties.
fn assert_hostile_case(name: &str, server: &Server, sts: Option<u16>, extra: &[&str]) -> Value {
    let mut json = Value::Null;
    for format in [&[][..], &["--json"][..], &["--markdown"][..]] {
        let (code, stdout, stderr, took) = check(server, sts, extra, format);
        let kib = peak_rss_kib(&stderr);
        assert!(kib < 100 * 1024, "{name} {format:?}: peak RSS {kib} KiB");
        let stderr: String = stderr
            .lines()
            .filter(|l| !l.starts_with("maxrss_kib="))
            .collect::<Vec<_>>()
            .join("\n");
        let out = String::from_utf8_lossy(&stdout).to_string();
        assert!(!stderr.contains("panicked"), "{name} {format:?}: {stderr}");
        assert_eq!(
            code,
            Some(1),
            "{name} {format:?}: a failed connection must not pass:\n{out}\n{stderr}"
        );
        assert!(took < Duration::from_secs(30), "{name} {format:?} took {took:?}");
        let bad = control_chars(&out);
        assert!(
            bad.is_empty(),
            "{name} {format:?}: control characters {bad:?} in\n{out}"
        );
        let bad = control_chars(&stderr.replace('\n', ""));
        assert!(
            bad.is_empty(),
            "{name} {format:?}: control characters {bad:?} on stderr:\n{stderr}"
        );
        assert!(
            !out.contains("\nFORGED"),
            "{name} {format:?}: a server's line break reached the report"
        );
        assert!(
            !out.contains("All checks passed") || out.contains("FORGED ✓ All checks passed"),
            "{name}"
        );
        let commands: Vec<String> = match format {
            [] => out
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("$ "))
                .map(str::to_string)
                .collect(),
            ["--json"] => {
                json = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
                assert_eq!(json["verdict"], "problems", "{name}: {}", json["findings"]);
                json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|f| f["fix"]["commands"].as_array().cloned().unwrap_or_default())
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            }
            _ => vec![],
        };
        for c in &commands {
            assert!(unquoted_marks(c).is_empty(), "{name}: a payload would run in: {c}");
        }
    }
    json
}

fn leaves(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["leaf"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn tls_then_close_is_never_ok() {
    let s = cql_server(Cql::TlsThenClose, &[HOST]);
    let json = assert_hostile_case("tls-then-close", &s, None, &[]);
    assert_ne!(json["causes"][0], Value::Null);
}

#[test]
fn close_on_startup_is_never_ok() {
    let s = cql_server(Cql::CloseOnStartup, &[HOST]);
    assert_hostile_case("close-on-startup", &s, None, &[]);
}

#[test]
fn close_after_authentication_on_the_first_query_is_never_ok() {
    let s = cql_server(Cql::CloseAfterAuth, &[HOST]);
    let json = assert_hostile_case("close-after-auth", &s, None, &[]);
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "problem")
    );
}

#[test]
fn slow_at_every_step_gives_a_partial_report() {
    let s = cql_server(Cql::Slow(Duration::from_millis(600)), &[HOST]);
    let json = assert_hostile_case("slow", &s, None, &["--timeout", "1500ms", "--total-timeout", "2500ms"]);
    assert!(
        leaves(&json).contains(&"check-cut-short".to_string()),
        "{}",
        json["findings"]
    );
    let cut = json["evidence"]["cut"]["steps"].as_array().cloned().unwrap_or_default();
    assert!(!cut.is_empty(), "the cut steps are named: {}", json["evidence"]);
    // What finished before the cut is still reported.
    let probes = json["probes"].as_array().unwrap();
    assert!(
        probes.iter().any(|p| p["name"] == "tcp" && p["status"] == "ok"),
        "{probes:?}"
    );
}

#[test]
fn hostile_cql_text_reaches_no_terminal_and_no_shell() {
    let s = cql_server(Cql::HostileText, &[HOST]);
    let json = assert_hostile_case("hostile-cql-text", &s, None, &[]);
    let text = json.to_string();
    assert!(
        text.contains("\\\\e]0;pwned"),
        "the server's text is kept, escaped: {text}"
    );
}

#[test]
fn hostile_certificate_names_are_escaped_and_named() {
    let s = cql_server(
        Cql::HostileText,
        &[
            "other.example",
            "evil\u{1b}]0;pwned\u{7}.example",
            "x\n[forged].example",
        ],
    );
    let json = assert_hostile_case("hostile-sans", &s, None, &[]);
    let title = json["findings"][0]["title"].as_str().unwrap_or_default();
    assert!(
        title.contains("other.example"),
        "the headline names the certificate's real names: {title}"
    );
    assert!(!title.contains("for cassandra.us-east-1"), "{title}");
}

#[test]
fn hostile_sts_arn_is_never_pasted_into_a_command() {
    let cql = cql_server(Cql::HostileText, &[HOST]);
    let sts = aws_server(Aws::HostileArn);
    let json = assert_hostile_case("hostile-sts-arn", &cql, Some(sts.port), &[]);
    let caller = json["evidence"]["identity"]["caller"]["arn"]
        .as_str()
        .unwrap_or_default();
    assert!(
        caller.contains("$(touch"),
        "STS's ARN was read: {}",
        json["evidence"]["identity"]
    );
    assert!(caller.contains("\\nFORGED"), "and kept escaped: {caller}");
}

#[test]
fn an_endless_aws_body_keeps_memory_bounded() {
    let cql = cql_server(Cql::CloseAfterAuth, &[HOST]);
    let sts = aws_server(Aws::Endless);
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kib=%M"])
        .arg(bin())
        .arg("check")
        .args(["--host", HOST, "--port", &cql.port.to_string()])
        .args([
            "--resolve",
            &format!("{HOST}:127.0.0.1"),
            "--region",
            "us-east-1",
            "--json",
        ])
        .args([
            "--auth",
            "sigv4",
            "--aws-endpoint-url",
            &format!("http://127.0.0.1:{}", sts.port),
        ])
        .arg("--ca-file")
        .arg(cql.ca_file())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", cql.dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let kib = peak_rss_kib(&err);
    assert!(kib < 100 * 1024, "peak RSS {kib} KiB against an endless AWS body");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "problems");
}

#[test]
fn the_quote_scanner_finds_what_a_shell_would_run() {
    assert_eq!(unquoted_marks("aws x 'a$(pwned)'"), Vec::<usize>::new());
    assert!(!unquoted_marks("aws x $(pwned)").is_empty());
    assert!(!unquoted_marks("aws x \"$(pwned)\"").is_empty());
    assert!(!unquoted_marks("aws x 'a'$(pwned)").is_empty());
}

#[test]
fn plain_http_on_the_port_is_named_as_http() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (listener, port) = loopback_listener(&rt);
    rt.spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    let pki = LabPki::generate(HOST, &[], ServingRoot::Ats).unwrap();
    std::fs::write(dir.path().join("ca.pem"), pki.bundle_pem()).unwrap();
    let server = Server { port, dir, _rt: rt };
    let (code, out, _, _) = check(&server, None, &[], &["--json"]);
    assert_eq!(code, Some(1));
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        json["findings"]
            .to_string()
            .contains("plain HTTP (HTTP/1.1 400 Bad Request)"),
        "{}",
        json["findings"]
    );
}
