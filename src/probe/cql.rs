//! CQL probe: the project's own first contact with the server (OPTIONS, STARTUP, the
//! SASL exchange, then each operation a driver and the application need), over TLS
//! verified against the Keyspaces name, with capped frames and a timeout on every step.
use super::io::{Io, Stream};
use crate::cql::frame::{self, BodyReader, BodyWriter, Consistency, FrameError, Opcode, encode_frame};
use crate::cql::result::{self, ResultBody};
use crate::evidence::{AttemptOutcome, AuthFailure, AuthResult, CqlFailure, CqlReport, Operation, QueryAttempt};
use crate::secret::Secret;
use crate::sigv4;
use crate::target::Target;
use crate::trust;
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc::UnboundedSender;

/// The largest response the probe accepts: a misbehaving server cannot make it allocate more.
pub const MAX_RESPONSE: usize = 4 << 20;

/// The credentials the CQL handshake uses.
#[derive(Debug, Clone)]
pub enum CqlCredentials {
    Password {
        username: String,
        password: Secret,
    },
    SigV4 {
        access_key_id: String,
        secret: Secret,
        session_token: Option<Secret>,
        region: String,
    },
    /// What is missing, and the message that says so.
    Missing(AuthFailure, String),
}

#[derive(Debug)]
enum Failure {
    Timeout,
    Frame(FrameError),
}

impl Failure {
    /// The kind of failure, as the evidence records it.
    fn kind(&self) -> CqlFailure {
        match self {
            Failure::Timeout => CqlFailure::NoAnswer,
            Failure::Frame(FrameError::TooLarge { .. } | FrameError::Malformed(_)) => CqlFailure::ProtocolViolation,
            Failure::Frame(FrameError::Closed | FrameError::Io(_)) => CqlFailure::Closed,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => f.write_str("no answer within the timeout"),
            Failure::Frame(e) => write!(f, "{e}"),
        }
    }
}

struct Conn {
    stream: Box<dyn Stream>,
    next: i16,
    timeout: Duration,
}

enum Answer {
    Frame(Opcode, Vec<u8>),
    Error { code: i32, message: String },
}

impl Conn {
    async fn request(&mut self, op: Opcode, body: &[u8]) -> Result<Answer, Failure> {
        self.next = self.next.wrapping_add(1).max(1);
        let id = self.next;
        let bytes = encode_frame(frame::PROTOCOL_V4, 0, id, op, body);
        let t = self.timeout;
        tokio::time::timeout(t, async {
            self.stream
                .write_all(&bytes)
                .await
                .map_err(|e| Failure::Frame(e.into()))?;
            self.stream.flush().await.map_err(|e| Failure::Frame(e.into()))?;
            loop {
                let f = frame::read_frame(&mut self.stream, MAX_RESPONSE)
                    .await
                    .map_err(Failure::Frame)?;
                if f.stream != id {
                    continue;
                }
                return match f.opcode() {
                    Some(Opcode::Error) => {
                        let mut r = BodyReader::new(&f.body);
                        let code = r.int().map_err(Failure::Frame)?;
                        let message = r.string().map_err(Failure::Frame)?;
                        Ok(Answer::Error { code, message })
                    }
                    Some(op) => Ok(Answer::Frame(op, f.body)),
                    None => Err(Failure::Frame(FrameError::Malformed(format!(
                        "unknown opcode 0x{:02x}",
                        f.opcode
                    )))),
                };
            }
        })
        .await
        .map_err(|_| Failure::Timeout)?
    }
}

fn query_body(cql: &str, c: Consistency, serial: bool) -> Vec<u8> {
    let mut w = BodyWriter::new();
    w.long_string(cql).short(c.code());
    if serial {
        w.byte(0x10).short(Consistency::LocalSerial.code());
    } else {
        w.byte(0);
    }
    w.into_inner()
}

/// Roots the session trusts: the user's CA file, else the system store plus the Keyspaces roots.
pub fn session_roots(target: &Target, io: &Io) -> Vec<CertificateDer<'static>> {
    if target.ca_file.is_some() {
        return target.ca_roots.clone();
    }
    let (mut sys, _) = io.system_roots.load();
    sys.extend(trust::keyspaces_roots().into_iter().map(|r| r.1));
    sys
}

struct Run<'a> {
    target: &'a Target,
    report: CqlReport,
    tx: Option<&'a UnboundedSender<QueryAttempt>>,
}

impl Run<'_> {
    async fn attempt(
        &mut self,
        conn: &mut Conn,
        operation: Operation,
        cql: &str,
        c: Consistency,
        serial: bool,
    ) -> Option<ResultBody> {
        let start = Instant::now();
        let r = conn.request(Opcode::Query, &query_body(cql, c, serial)).await;
        let duration_ms = start.elapsed().as_millis() as u64;
        let (outcome, body) = match r {
            Ok(Answer::Frame(Opcode::Result, b)) => match result::decode(&b) {
                Ok(rb) => (AttemptOutcome::Ok { rows: rb.row_count() }, Some(rb)),
                Err(e) => (
                    AttemptOutcome::Failed {
                        message: format!("unreadable RESULT: {e}"),
                    },
                    None,
                ),
            },
            Ok(Answer::Frame(op, _)) => (
                AttemptOutcome::Failed {
                    message: format!("unexpected {} in answer to QUERY", op.name()),
                },
                None,
            ),
            Ok(Answer::Error { code, message }) => (AttemptOutcome::Error { code, message }, None),
            Err(Failure::Timeout) => (AttemptOutcome::TimedOut, None),
            Err(e) => (AttemptOutcome::Failed { message: e.to_string() }, None),
        };
        let a = QueryAttempt {
            operation,
            statement: cql.into(),
            auth_mode: self.target.auth,
            consistency: c.name().into(),
            duration_ms,
            outcome,
        };
        if let Some(tx) = self.tx {
            let _ = tx.send(a.clone());
        }
        self.report.attempts.push(a);
        body
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub async fn probe(
    target: &Target,
    io: &Io,
    addr: SocketAddr,
    creds: CqlCredentials,
    tx: Option<&UnboundedSender<QueryAttempt>>,
) -> CqlReport {
    let mut run = Run {
        target,
        report: CqlReport {
            transport: if target.tls { "tls".into() } else { "plaintext".into() },
            ..Default::default()
        },
        tx,
    };
    if let Some(mut conn) = connect_and_auth(target, io, addr, creds.clone(), &mut run.report).await {
        // The project's own first contact went well: the real driver may now connect,
        // beside the remaining queries.
        let roots = session_roots(target, io);
        let (_, d) = tokio::join!(
            queries(&mut run, &mut conn),
            super::driver::check(target, io, &roots, addr, &creds)
        );
        run.report.driver = Some(d);
    }
    run.report
}

async fn connect_and_auth(
    target: &Target,
    io: &Io,
    addr: SocketAddr,
    creds: CqlCredentials,
    report: &mut CqlReport,
) -> Option<Conn> {
    let t = target.step_timeout;
    let tcp = match tokio::time::timeout(t, io.dialer.dial(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            fail(report, CqlFailure::Tcp, format!("TCP connect to {addr} failed: {e}"));
            return None;
        }
        Err(_) => {
            fail(
                report,
                CqlFailure::Tcp,
                format!("TCP connect to {addr} timed out after {t:?}"),
            );
            return None;
        }
    };
    let stream: Box<dyn Stream> = if target.tls {
        let roots = session_roots(target, io);
        let (cfg, verifier) = match trust::client_config(&roots, &target.tls_name) {
            Ok(c) => c,
            Err(e) => {
                fail(report, CqlFailure::Tls, format!("TLS is not possible: {e}"));
                return None;
            }
        };
        let Ok(name) = ServerName::try_from(target.tls_name.clone()) else {
            fail(
                report,
                CqlFailure::Tls,
                format!("'{}' is not a valid TLS name", target.tls_name),
            );
            return None;
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        match tokio::time::timeout(t, connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Box::new(s),
            Ok(Err(e)) => {
                let why = verifier
                    .last_error
                    .lock()
                    .ok()
                    .and_then(|g| g.clone())
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| e.to_string());
                fail(
                    report,
                    CqlFailure::Tls,
                    format!("TLS handshake failed: {why}; the session was not attempted"),
                );
                return None;
            }
            Err(_) => {
                fail(
                    report,
                    CqlFailure::Tls,
                    format!("TLS handshake got no answer within {t:?}"),
                );
                return None;
            }
        }
    } else {
        tcp
    };
    let mut conn = Conn {
        stream,
        next: 0,
        timeout: t,
    };
    match conn.request(Opcode::Options, &[]).await {
        Ok(Answer::Frame(Opcode::Supported, b)) => {
            report.supported = BodyReader::new(&b).string_multimap().unwrap_or_default();
        }
        Ok(Answer::Frame(op, _)) => {
            fail(
                report,
                CqlFailure::ProtocolViolation,
                format!("the server answered OPTIONS with {}", op.name()),
            );
            return None;
        }
        Ok(Answer::Error { code, message }) => {
            fail(
                report,
                CqlFailure::ProtocolViolation,
                format!("the server answered OPTIONS with error 0x{code:04X}: {message}"),
            );
            return None;
        }
        Err(Failure::Timeout) => {
            let transport = report.transport.clone();
            fail(
                report,
                CqlFailure::NoAnswer,
                format!("no answer to the CQL OPTIONS request within {t:?} over {transport}"),
            );
            return None;
        }
        Err(e) => {
            fail(report, e.kind(), format!("the connection failed during OPTIONS: {e}"));
            return None;
        }
    }
    let mut w = BodyWriter::new();
    w.string_map(&[("CQL_VERSION", "3.0.0"), ("DRIVER_NAME", "keyspaces-doctor")]);
    let start = Instant::now();
    match conn.request(Opcode::Startup, &w.into_inner()).await {
        Ok(Answer::Frame(Opcode::Ready, _)) => {
            report.auth = Some(AuthResult {
                ok: true,
                failure: None,
                code: None,
                message: Some("the server asked for no authentication (not Amazon Keyspaces)".into()),
                duration_ms: start.elapsed().as_millis() as u64,
            });
            return Some(conn);
        }
        Ok(Answer::Frame(Opcode::Authenticate, b)) => {
            report.authenticator = BodyReader::new(&b).string().ok();
        }
        Ok(Answer::Frame(op, _)) => {
            fail(
                report,
                CqlFailure::ProtocolViolation,
                format!("the server answered STARTUP with {}", op.name()),
            );
            return None;
        }
        Ok(Answer::Error { code, message }) => {
            fail(
                report,
                CqlFailure::StartupRefused,
                format!("STARTUP refused with 0x{code:04X}: {message}"),
            );
            return None;
        }
        Err(e) => {
            fail(report, e.kind(), format!("STARTUP failed: {e}"));
            return None;
        }
    }
    let auth = authenticate(&mut conn, creds, io.clock.now()).await;
    let ok = auth.ok;
    report.auth = Some(AuthResult {
        duration_ms: start.elapsed().as_millis() as u64,
        ..auth
    });
    ok.then_some(conn)
}

/// Records where the session stopped, as a kind and as the words that say so.
fn fail(report: &mut CqlReport, kind: CqlFailure, message: String) {
    report.connection_failure = Some(kind);
    report.connection_error = Some(message);
}

fn auth_failure(failure: AuthFailure, message: String) -> AuthResult {
    AuthResult {
        ok: false,
        failure: Some(failure),
        code: None,
        message: Some(message),
        duration_ms: 0,
    }
}

async fn send_token(conn: &mut Conn, token: &[u8]) -> Result<Answer, Failure> {
    let mut w = BodyWriter::new();
    w.bytes(Some(token));
    conn.request(Opcode::AuthResponse, &w.into_inner()).await
}

fn finish(answer: Result<Answer, Failure>) -> AuthResult {
    match answer {
        Ok(Answer::Frame(Opcode::AuthSuccess, _)) => AuthResult {
            ok: true,
            failure: None,
            code: None,
            message: None,
            duration_ms: 0,
        },
        Ok(Answer::Error { code, message }) => AuthResult {
            ok: false,
            failure: Some(AuthFailure::Rejected),
            code: Some(code),
            message: Some(message),
            duration_ms: 0,
        },
        Ok(Answer::Frame(op, _)) => auth_failure(
            AuthFailure::Broken,
            format!("unexpected {} during authentication", op.name()),
        ),
        Err(e) => auth_failure(AuthFailure::Broken, format!("authentication did not complete: {e}")),
    }
}

/// The SASL exchange; a SigV4 signature is dated `now` (the probes' clock).
async fn authenticate(conn: &mut Conn, creds: CqlCredentials, now: chrono::DateTime<chrono::Utc>) -> AuthResult {
    match creds {
        CqlCredentials::Missing(kind, why) => auth_failure(kind, why),
        CqlCredentials::Password { username, password } => {
            let mut token = vec![0u8];
            token.extend_from_slice(username.as_bytes());
            token.push(0);
            token.extend_from_slice(password.expose().as_bytes());
            finish(send_token(conn, &token).await)
        }
        CqlCredentials::SigV4 {
            access_key_id,
            secret,
            session_token,
            region,
        } => {
            let challenge = match send_token(conn, sigv4::INITIAL_RESPONSE).await {
                Ok(Answer::Frame(Opcode::AuthChallenge, b)) => BodyReader::new(&b)
                    .bytes()
                    .ok()
                    .flatten()
                    .map(|x| x.to_vec())
                    .unwrap_or_default(),
                other => return finish(other),
            };
            let nonce = match sigv4::parse_nonce(&challenge) {
                Ok(n) => n,
                Err(e) => {
                    return auth_failure(
                        AuthFailure::ChallengeUnusable,
                        format!("the server's SigV4 challenge is unusable: {e}"),
                    );
                }
            };
            let resp = sigv4::response(
                &access_key_id,
                secret.expose(),
                session_token.as_ref().map(|s| s.expose()),
                &region,
                &nonce,
                now,
            );
            finish(send_token(conn, resp.as_bytes()).await)
        }
    }
}

async fn queries(run: &mut Run<'_>, conn: &mut Conn) {
    let one = Consistency::LocalOne;
    run.attempt(
        conn,
        Operation::SystemLocal,
        "SELECT * FROM system.local WHERE key='local'",
        one,
        false,
    )
    .await;
    if let Some(p) = run
        .attempt(conn, Operation::SystemPeers, "SELECT * FROM system.peers", one, false)
        .await
    {
        run.report.peers = Some(p.row_count());
    }
    let Some(ks) = run.target.keyspace.clone() else { return };
    let kq = format!(
        "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = '{}'",
        ks.replace('\'', "''")
    );
    if let Some(r) = run.attempt(conn, Operation::KeyspaceExists, &kq, one, false).await {
        run.report.keyspace_exists = Some(r.row_count() > 0);
    }
    let tq = format!(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = '{}'",
        ks.replace('\'', "''")
    );
    let tables = run
        .attempt(conn, Operation::KeyspaceTables, &tq, one, false)
        .await
        .map(|r| r.texts("table_name"))
        .unwrap_or_default();
    let Some(table) = run.target.table.clone() else { return };
    if run.report.keyspace_exists == Some(true) {
        run.report.table_exists = Some(tables.contains(&table));
    }
    let sel = format!("SELECT * FROM {}.{} LIMIT 1", quote(&ks), quote(&table));
    run.attempt(conn, Operation::ReadTable, &sel, one, false).await;
    let denied = run.report.attempts.last().and_then(|a| a.error_code()) == Some(0x2100);
    if denied {
        for other in tables.iter().filter(|t| **t != table).take(5) {
            let q = format!("SELECT * FROM {}.{} LIMIT 1", quote(&ks), quote(other));
            let ok = run
                .attempt(conn, Operation::ReadSibling, &q, one, false)
                .await
                .is_some();
            run.report.sibling_reads.push((other.clone(), ok));
        }
    }
    if run.target.operations.contains(&crate::evidence::OperationKind::Restore)
        && run.report.table_exists != Some(false)
    {
        let pq = format!(
            "SELECT custom_properties FROM system_schema_mcs.tables WHERE keyspace_name = '{}' AND table_name = '{}'",
            ks.replace('\'', "''"),
            table.replace('\'', "''")
        );
        if let Some(r) = run.attempt(conn, Operation::TableProperties, &pq, one, false).await {
            run.report.table_properties = r
                .cells("custom_properties")
                .into_iter()
                .next()
                .map(|b| table_properties(&b));
        }
    }
    if run.target.probe_writes && run.report.table_exists != Some(false) {
        let cq = format!(
            "SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = '{}' AND table_name = '{}'",
            ks.replace('\'', "''"),
            table.replace('\'', "''")
        );
        let cols = run
            .attempt(conn, Operation::TableColumns, &cq, one, false)
            .await
            .map(|r| r.rows_as_text(&["column_name", "kind", "type"]))
            .unwrap_or_default();
        let keys: Vec<String> = cols
            .iter()
            .filter(|c| c[1] == "partition_key" || c[1] == "clustering")
            .map(|c| format!("{} = {}", quote(&c[0]), absent_literal(&c[2])))
            .collect();
        if keys.is_empty() {
            return;
        }
        let wq = format!(
            "DELETE FROM {}.{} WHERE {} IF EXISTS",
            quote(&ks),
            quote(&table),
            keys.join(" AND ")
        );
        run.attempt(conn, Operation::WriteProbe, &wq, Consistency::LocalQuorum, true)
            .await;
    }
}

/// `custom_properties` (a `map<text, frozen<map<text, text>>>`) as the evidence keeps it.
fn table_properties(bytes: &[u8]) -> crate::evidence::TableProperties {
    use crate::cql::value::{CqlType, Value};
    let mut out = crate::evidence::TableProperties::default();
    let Some(ty) = CqlType::parse("map<text, frozen<map<text, text>>>") else {
        return out;
    };
    let Ok(Value::Map(outer)) = Value::decode(&ty, Some(bytes)) else {
        return out;
    };
    let text = |v: &Value| match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    };
    for (k, v) in &outer {
        let Value::Map(inner) = v else { continue };
        let get = |name: &str| {
            inner
                .iter()
                .find(|(ik, _)| text(ik).as_deref() == Some(name))
                .and_then(|(_, iv)| text(iv))
        };
        match text(k).as_deref() {
            Some("point_in_time_recovery") => out.point_in_time_recovery = get("status"),
            Some("encryption_specification") => {
                out.encryption_type = get("encryption_type");
                out.kms_key = get("kms_key_identifier");
            }
            Some("capacity_mode") => out.throughput_mode = get("throughput_mode"),
            _ => {}
        }
    }
    out
}

/// A literal for a key value that does not exist (random, so the conditional write changes nothing).
fn absent_literal(ty: &str) -> String {
    let n: u32 = rand::random();
    match ty {
        "text" | "varchar" | "ascii" => format!("'keyspaces-doctor-probe-{n:08x}'"),
        "int" | "bigint" | "smallint" | "tinyint" | "varint" => format!("{}", -(n as i64 % 1_000_000) - 1_000_000_000),
        "uuid" | "timeuuid" => format!("{n:08x}-0000-4000-8000-000000000000"),
        "boolean" => "false".into(),
        _ => format!("'keyspaces-doctor-probe-{n:08x}'"),
    }
}
