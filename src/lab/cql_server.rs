//! The lab's CQL endpoint: TLS on every node address, the HelenusAuthenticator
//! handshake (PLAIN and SigV4), per-statement IAM authorization, and statement
//! execution over the store. Owns connections; the IAM world and the data are shared.
use super::scenario::Misbehavior;
use super::statement::{self, Condition, Selection, Statement, Term};
use super::store::{Rows, Store, SystemView};
use super::world::{ACCOUNT, Identity, REGION, World};
use crate::cql::frame::{self, BodyReader, BodyWriter, Consistency, Frame, FrameError, Opcode, encode_frame};
use crate::cql::value::{CqlType, Value};
use crate::iam::ResourceArn;
use crate::iam::arn::action_for_statement;
use crate::sigv4;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

pub const AUTHENTICATOR: &str = "com.amazon.helenus.auth.HelenusAuthenticator";
/// Requests larger than this are refused (drivers send far less).
const MAX_REQUEST: usize = 1 << 20;

pub mod code {
    pub const SERVER: i32 = 0x0000;
    pub const PROTOCOL: i32 = 0x000A;
    pub const BAD_CREDENTIALS: i32 = 0x0100;
    pub const SYNTAX: i32 = 0x2000;
    pub const UNAUTHORIZED: i32 = 0x2100;
    pub const INVALID: i32 = 0x2200;
    pub const UNPREPARED: i32 = 0x2500;
}

/// Everything the connections share.
pub struct CqlShared {
    pub misbehave: Option<Misbehavior>,
    pub world: Arc<World>,
    pub store: Store,
    pub nodes: Vec<IpAddr>,
    prepared: Mutex<HashMap<Vec<u8>, String>>,
}

impl CqlShared {
    pub fn new(world: Arc<World>, store: Store, nodes: Vec<IpAddr>) -> Self {
        CqlShared {
            misbehave: None,
            world,
            store,
            nodes,
            prepared: Mutex::new(HashMap::new()),
        }
    }
}

/// Accepts connections until the task is dropped.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<CqlShared>) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        // Responses go out in several writes; without this each waits for a delayed ACK.
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let local = tcp.local_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
            if let Err(e) = handle(tcp, acceptor, shared, local, peer.ip()).await {
                tracing::debug!(%peer, "lab connection ended: {e}");
            }
        });
    }
}

/// Accepts TCP and never sends a byte (a port that is not Keyspaces').
pub async fn serve_silent(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(hold_silently(tcp));
    }
}

/// Reads and discards until the peer closes (at most ten minutes); never answers.
async fn hold_silently<S: AsyncRead + Unpin>(mut s: S) {
    use tokio::io::AsyncReadExt;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(600), async {
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn handle(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    shared: Arc<CqlShared>,
    local: IpAddr,
    peer: IpAddr,
) -> Result<(), FrameError> {
    // Like Keyspaces: anything but a TLS handshake on this port gets no answer at all.
    let mut first = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(600), tcp.peek(&mut first))
        .await
        .map_err(|_| FrameError::Closed)??;
    if n == 0 {
        return Ok(());
    }
    if first[0] != 0x16 {
        hold_silently(tcp).await;
        return Ok(());
    }
    if shared.misbehave == Some(Misbehavior::CloseMidHandshake) {
        let mut hello = [0u8; 64];
        use tokio::io::AsyncReadExt;
        let mut tcp = tcp;
        let _ = tcp.read(&mut hello).await;
        return Ok(());
    }
    let tls = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
        .await
        .map_err(|_| FrameError::Closed)??;
    let mut tls = tls;
    match shared.misbehave {
        Some(Misbehavior::GarbageAfterHandshake) => {
            let junk: Vec<u8> = (0..64).map(|_| rand::random::<u8>() | 0x40).collect();
            tls.write_all(&junk).await?;
            tls.flush().await?;
            hold_silently(tls).await;
            Ok(())
        }
        Some(Misbehavior::HugeFrame) => {
            let _ = frame::read_frame(&mut tls, MAX_REQUEST).await;
            let mut header = encode_frame(frame::RESPONSE_FLAG | frame::PROTOCOL_V4, 0, 0, Opcode::Supported, &[]);
            header[5..9].copy_from_slice(&0x7fff_fff0i32.to_be_bytes());
            tls.write_all(&header).await?;
            tls.flush().await?;
            hold_silently(tls).await;
            Ok(())
        }
        Some(Misbehavior::SilentAfterHandshake) => {
            hold_silently(tls).await;
            Ok(())
        }
        Some(Misbehavior::Drip) => {
            let f = frame::read_frame(&mut tls, MAX_REQUEST).await?;
            let mut w = BodyWriter::new();
            w.string_multimap(&[("CQL_VERSION", &["3.4.4"]), ("COMPRESSION", &[])]);
            let bytes = encode_frame(
                frame::RESPONSE_FLAG | frame::PROTOCOL_V4,
                0,
                f.stream,
                Opcode::Supported,
                &w.buf,
            );
            for b in bytes {
                tls.write_all(&[b]).await?;
                tls.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        _ => Connection::new(shared, local, peer).run(tls).await,
    }
}

enum Sasl {
    Start,
    AwaitSignature(String),
}

struct Connection {
    shared: Arc<CqlShared>,
    local: IpAddr,
    /// The client's address, for the IAM request context.
    peer: IpAddr,
    identity: Option<Identity>,
    sasl: Sasl,
    keyspace: Option<String>,
}

/// A response body with its opcode.
type Reply = (Opcode, Vec<u8>);

fn error(code: i32, message: &str) -> Reply {
    let mut w = BodyWriter::new();
    w.int(code).string(message);
    (Opcode::Error, w.into_inner())
}

fn void() -> Reply {
    let mut w = BodyWriter::new();
    w.int(1);
    (Opcode::Result, w.into_inner())
}

/// Bound values of one request, as sent.
struct Params {
    consistency: Consistency,
    values: Vec<Option<Vec<u8>>>,
    skip_metadata: bool,
}

fn read_params(r: &mut BodyReader<'_>) -> Result<Params, FrameError> {
    let c = r.short()?;
    let consistency =
        Consistency::from_code(c).ok_or_else(|| FrameError::Malformed(format!("unknown consistency 0x{c:04x}")))?;
    let flags = r.byte()?;
    let mut values = Vec::new();
    if flags & 0x01 != 0 {
        let n = r.short()?;
        for _ in 0..n {
            if flags & 0x40 != 0 {
                r.string()?;
            }
            let len = r.int()?;
            if len < 0 {
                values.push(None);
            } else {
                let mut sub = BodyReader::new(&[]);
                std::mem::swap(&mut sub, r);
                // Re-read through a fresh slice of the remaining bytes.
                let rest = sub.rest();
                if rest.len() < len as usize {
                    return Err(FrameError::Malformed("a bound value is truncated".into()));
                }
                values.push(Some(rest[..len as usize].to_vec()));
                *r = BodyReader::new(&rest[len as usize..]);
            }
        }
    }
    Ok(Params {
        consistency,
        values,
        skip_metadata: flags & 0x02 != 0,
    })
}

impl Connection {
    fn new(shared: Arc<CqlShared>, local: IpAddr, peer: IpAddr) -> Self {
        Connection {
            shared,
            local,
            peer,
            identity: None,
            sasl: Sasl::Start,
            keyspace: None,
        }
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(mut self, mut stream: S) -> Result<(), FrameError> {
        loop {
            let f = match frame::read_frame(&mut stream, MAX_REQUEST).await {
                Ok(f) => f,
                Err(FrameError::TooLarge { claimed, limit }) => {
                    let (op, body) = error(
                        code::PROTOCOL,
                        &format!("Request is too big: length {claimed} exceeds maximum allowed length {limit}."),
                    );
                    stream.write_all(&encode_frame(0x84, 0, 0, op, &body)).await?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if f.version != frame::PROTOCOL_V4 {
                let (op, body) = error(
                    code::PROTOCOL,
                    &format!(
                        "Invalid or unsupported protocol version ({}); supported versions are (3/v3, 4/v4, 5/v5-beta)",
                        f.version
                    ),
                );
                stream
                    .write_all(&encode_frame(
                        frame::RESPONSE_FLAG | frame::PROTOCOL_V4,
                        0,
                        f.stream,
                        op,
                        &body,
                    ))
                    .await?;
                stream.flush().await?;
                return Ok(());
            }
            let (op, body) = self.respond(&f);
            stream
                .write_all(&encode_frame(
                    frame::RESPONSE_FLAG | frame::PROTOCOL_V4,
                    0,
                    f.stream,
                    op,
                    &body,
                ))
                .await?;
            stream.flush().await?;
        }
    }

    fn respond(&mut self, f: &Frame) -> Reply {
        let result = match f.opcode() {
            Some(Opcode::Options) => {
                let mut w = BodyWriter::new();
                w.string_multimap(&[("CQL_VERSION", &["3.4.4"]), ("COMPRESSION", &[])]);
                Ok((Opcode::Supported, w.into_inner()))
            }
            Some(Opcode::Startup) => {
                let mut w = BodyWriter::new();
                w.string(AUTHENTICATOR);
                Ok((Opcode::Authenticate, w.into_inner()))
            }
            Some(Opcode::AuthResponse) => self.auth_response(&f.body),
            Some(op) if self.identity.is_none() => Ok(error(
                code::PROTOCOL,
                &format!("Unexpected message {}, expecting STARTUP or AUTH_RESPONSE", op.name()),
            )),
            Some(Opcode::Register) => Ok((Opcode::Ready, vec![])),
            Some(Opcode::Query) => self.query(&f.body),
            Some(Opcode::Prepare) => self.prepare(&f.body),
            Some(Opcode::Execute) => self.execute(&f.body),
            Some(Opcode::Batch) => self.batch(&f.body),
            _ => Ok(error(code::PROTOCOL, &format!("Unknown opcode {}", f.opcode))),
        };
        result.unwrap_or_else(|e| error(code::PROTOCOL, &format!("Invalid message: {e}")))
    }

    fn admit(&mut self, identity: Identity) -> Reply {
        if !identity.has_any_keyspaces_permission() {
            return error(
                code::UNAUTHORIZED,
                &format!("User {} has no permissions.", identity.arn),
            );
        }
        self.identity = Some(identity);
        let mut w = BodyWriter::new();
        w.bytes(None);
        (Opcode::AuthSuccess, w.into_inner())
    }

    fn auth_response(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let token = BodyReader::new(body).bytes()?.unwrap_or(&[]);
        let world = self.shared.world.clone();
        match std::mem::replace(&mut self.sasl, Sasl::Start) {
            Sasl::Start if token == sigv4::INITIAL_RESPONSE => {
                let nonce: String = {
                    let mut rng = rand::rng();
                    (0..16).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
                };
                let challenge = match self.shared.misbehave {
                    Some(Misbehavior::ChallengeWithoutNonce) => "realm=keyspaces".to_string(),
                    Some(Misbehavior::ChallengeShortNonce) => "nonce=abc123".to_string(),
                    _ => format!("nonce={nonce}"),
                };
                let mut w = BodyWriter::new();
                w.bytes(Some(challenge.as_bytes()));
                self.sasl = Sasl::AwaitSignature(nonce);
                Ok((Opcode::AuthChallenge, w.into_inner()))
            }
            Sasl::Start => {
                let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
                let (user, pass) = match parts.as_slice() {
                    [_, u, p] => (
                        String::from_utf8_lossy(u).to_string(),
                        String::from_utf8_lossy(p).to_string(),
                    ),
                    _ => (String::new(), String::new()),
                };
                match world.check_password(&user, &pass) {
                    Some(id) => Ok(self.admit(id)),
                    None => Ok(error(
                        code::BAD_CREDENTIALS,
                        &format!("Provided username {user} and/or password are incorrect"),
                    )),
                }
            }
            Sasl::AwaitSignature(nonce) => {
                let invalid = || error(code::BAD_CREDENTIALS, "Authentication failure: Invalid signature");
                let Some(resp) = sigv4::parse_response(token) else {
                    return Ok(invalid());
                };
                let Ok((secret, identity)) = world.resolve_key(&resp.access_key, resp.session_token.as_deref()) else {
                    return Ok(invalid());
                };
                match sigv4::verify(&resp, &secret, REGION, &nonce, world.now()) {
                    Ok(()) => Ok(self.admit(identity)),
                    Err(_) => Ok(invalid()),
                }
            }
        }
    }

    fn query(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let cql = r.long_string()?;
        let params = read_params(&mut r)?;
        Ok(self.run_statement(&cql, &params))
    }

    fn prepare(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let cql = BodyReader::new(body).long_string()?;
        let st = match statement::parse(&cql) {
            Ok(s) => s,
            Err(e) => return Ok(error(code::SYNTAX, &e)),
        };
        let (ks, table) = match self.resolve_table(&st) {
            Ok(x) => x,
            Err(reply) => return Ok(reply),
        };
        let Some(columns) = self.columns_of(&ks, &table) else {
            return Ok(error(code::INVALID, &format!("unconfigured table {ks}.{table}")));
        };
        let id = Sha256::digest(cql.as_bytes())[..16].to_vec();
        self.shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), cql.clone());
        let binds = bind_specs(&st, &columns);
        let mut w = BodyWriter::new();
        w.int(4).short_bytes(&id);
        // Bind variable metadata with partition key indexes.
        let key_indexes: Vec<u16> = binds
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| columns.first().is_some_and(|(c, _)| c == n))
            .map(|(i, _)| i as u16)
            .collect();
        w.int(0x0001).int(binds.len() as i32).int(key_indexes.len() as i32);
        for i in &key_indexes {
            w.short(*i);
        }
        w.string(&ks).string(&table);
        for (n, t) in &binds {
            w.string(n);
            t.write_option(&mut w);
        }
        match &st {
            Statement::Select { selection, .. } => {
                let cols = project_columns(selection, &columns).unwrap_or_default();
                w.int(0x0001).int(cols.len() as i32).string(&ks).string(&table);
                for (n, t) in &cols {
                    w.string(n);
                    t.write_option(&mut w);
                }
            }
            _ => {
                w.int(0x0004).int(0);
            }
        }
        Ok((Opcode::Result, w.into_inner()))
    }

    fn execute(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let id = r.short_bytes()?.to_vec();
        let params = read_params(&mut r)?;
        let cql = self
            .shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        match cql {
            Some(cql) => Ok(self.run_statement(&cql, &params)),
            None => {
                let mut w = BodyWriter::new();
                w.int(code::UNPREPARED)
                    .string(&format!("Prepared query with ID {} not found", hex::encode(&id)))
                    .short_bytes(&id);
                Ok((Opcode::Error, w.into_inner()))
            }
        }
    }

    fn batch(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let _kind = r.byte()?;
        let n = r.short()?;
        let mut items = Vec::new();
        for _ in 0..n {
            let cql = match r.byte()? {
                0 => r.long_string()?,
                _ => {
                    let id = r.short_bytes()?.to_vec();
                    let found = self
                        .shared
                        .prepared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&id)
                        .cloned();
                    found.ok_or_else(|| FrameError::Malformed("unknown prepared id in BATCH".into()))?
                }
            };
            let nv = r.short()?;
            let mut values = Vec::new();
            for _ in 0..nv {
                values.push(r.bytes()?.map(|b| b.to_vec()));
            }
            items.push((cql, values));
        }
        let c = r.short()?;
        let consistency =
            Consistency::from_code(c).ok_or_else(|| FrameError::Malformed(format!("unknown consistency 0x{c:04x}")))?;
        for (cql, values) in items {
            let reply = self.run_statement(
                &cql,
                &Params {
                    consistency,
                    values,
                    skip_metadata: true,
                },
            );
            if reply.0 == Opcode::Error {
                return Ok(reply);
            }
        }
        Ok(void())
    }

    fn resolve_table(&self, st: &Statement) -> Result<(String, String), Reply> {
        let t = st
            .table()
            .ok_or_else(|| error(code::INVALID, "This statement is not supported by the lab"))?;
        let ks = t.keyspace.clone().or_else(|| self.keyspace.clone()).ok_or_else(|| {
            error(
                code::INVALID,
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
            )
        })?;
        Ok((ks, t.table.clone()))
    }

    fn view(&self) -> SystemView<'_> {
        SystemView {
            region: REGION,
            local_address: self.local,
            nodes: &self.shared.nodes,
        }
    }

    fn rows_of(&self, ks: &str, table: &str) -> Option<Rows> {
        if super::system_tables::is_system(ks) {
            self.shared.store.system_rows(ks, table, &self.view())
        } else {
            self.shared.store.user_rows(ks, table)
        }
    }

    fn columns_of(&self, ks: &str, table: &str) -> Option<Vec<(String, CqlType)>> {
        self.rows_of(ks, table).map(|r| r.columns)
    }

    fn run_statement(&mut self, cql: &str, params: &Params) -> Reply {
        let st = match statement::parse(cql) {
            Ok(s) => s,
            Err(e) => return error(code::SYNTAX, &e),
        };
        if let Statement::Use(ks) = &st {
            if !super::system_tables::is_system(ks) && !self.shared.store.user_keyspaces().contains(ks) {
                return error(code::INVALID, &format!("unconfigured keyspace {ks}"));
            }
            self.keyspace = Some(ks.clone());
            let mut w = BodyWriter::new();
            w.int(3).string(ks);
            return (Opcode::Result, w.into_inner());
        }
        let (ks, table) = match self.resolve_table(&st) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        // Consistency, as Keyspaces enforces it.
        let c = params.consistency;
        if st.is_write() && c != Consistency::LocalQuorum {
            return error(
                code::INVALID,
                &format!(
                    "Consistency level {} is not supported for this operation. Supported consistency levels are: LOCAL_QUORUM",
                    c.name()
                ),
            );
        }
        if !st.is_write() && !matches!(c, Consistency::One | Consistency::LocalOne | Consistency::LocalQuorum) {
            return error(
                code::INVALID,
                &format!(
                    "Consistency level {} is not supported for this operation. Supported consistency levels are: ONE, LOCAL_QUORUM, LOCAL_ONE",
                    c.name()
                ),
            );
        }
        // IAM, per statement, on the exact resource.
        let action = action_for_statement(cql);
        let resource = ResourceArn::table(REGION, ACCOUNT, &ks, &table).arn();
        let Some(identity) = &self.identity else {
            return error(code::PROTOCOL, "Not authenticated");
        };
        let ctx = self.shared.world.request_context(&identity.arn, self.peer);
        if !identity.decide_in(action, &resource, &ctx).is_allowed() {
            return error(
                code::UNAUTHORIZED,
                &format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource}",
                    identity.arn
                ),
            );
        }
        let Some(all) = self.rows_of(&ks, &table) else {
            if !super::system_tables::is_system(&ks) && !self.shared.store.user_keyspaces().contains(&ks) {
                return error(code::INVALID, &format!("unconfigured keyspace {ks}"));
            }
            return error(code::INVALID, &format!("unconfigured table {ks}.{table}"));
        };
        let binds = bind_specs(&st, &all.columns);
        let bound: Vec<Value> = binds
            .iter()
            .enumerate()
            .map(|(i, (_, t))| Value::decode(t, params.values.get(i).and_then(|v| v.as_deref())).unwrap_or(Value::Null))
            .collect();
        let resolve = |term: &Term, col: &str| -> Value {
            let ty = all
                .columns
                .iter()
                .find(|(n, _)| n == col)
                .map(|(_, t)| t.clone())
                .unwrap_or(CqlType::Varchar);
            term_value(term, &ty, &bound)
        };
        match &st {
            Statement::Select {
                selection,
                filters,
                limit,
                ..
            } => {
                let cols = match project_columns(selection, &all.columns) {
                    Ok(c) => c,
                    Err(bad) => return error(code::INVALID, &format!("Undefined column name {bad}")),
                };
                let wanted: Vec<(usize, Value)> = filters
                    .iter()
                    .filter_map(|(c, t)| all.columns.iter().position(|(n, _)| n == c).map(|i| (i, resolve(t, c))))
                    .collect();
                let limit = limit
                    .as_ref()
                    .map(|t| match term_value(t, &CqlType::Int, &bound) {
                        Value::Int(n) => n.max(0) as usize,
                        _ => usize::MAX,
                    })
                    .unwrap_or(usize::MAX);
                let matching: Vec<&Vec<Value>> = all
                    .rows
                    .iter()
                    .filter(|row| wanted.iter().all(|(i, v)| &row[*i] == v))
                    .take(limit)
                    .collect();
                if *selection == Selection::Count {
                    let rs = Rows {
                        keyspace: ks.clone(),
                        table: table.clone(),
                        columns: vec![("count".into(), CqlType::Bigint)],
                        rows: vec![vec![Value::Bigint(matching.len() as i64)]],
                    };
                    return rows_reply(&rs, params.skip_metadata);
                }
                let idx: Vec<usize> = cols
                    .iter()
                    .filter_map(|(n, _)| all.columns.iter().position(|(c, _)| c == n))
                    .collect();
                let rs = Rows {
                    keyspace: ks.clone(),
                    table: table.clone(),
                    columns: cols,
                    rows: matching
                        .iter()
                        .map(|r| idx.iter().map(|i| r[*i].clone()).collect())
                        .collect(),
                };
                rows_reply(&rs, params.skip_metadata)
            }
            _ if super::system_tables::is_system(&ks) => error(
                code::UNAUTHORIZED,
                &format!("{} is a system keyspace: it cannot be modified", ks),
            ),
            _ => self.write(&st, &ks, &table, &resolve),
        }
    }

    fn write(&self, st: &Statement, ks: &str, table: &str, resolve: &dyn Fn(&Term, &str) -> Value) -> Reply {
        let applied = self.shared.store.with_rows(ks, table, |def, rows| {
            let key_of = |pairs: &[(String, Value)]| -> Option<Vec<Value>> {
                def.key_columns()
                    .map(|(_, c)| pairs.iter().find(|(n, _)| *n == c.name).map(|(_, v)| v.clone()))
                    .collect()
            };
            let row_key = |row: &Vec<Value>| -> Vec<Value> { def.key_columns().map(|(i, _)| row[i].clone()).collect() };
            match st {
                Statement::Insert {
                    columns,
                    values,
                    condition,
                    ..
                } => {
                    let pairs: Vec<(String, Value)> = columns
                        .iter()
                        .zip(values)
                        .map(|(c, t)| (c.clone(), resolve(t, c)))
                        .collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let exists = rows.iter().position(|r| row_key(r) == key);
                    if condition == &Some(Condition::IfNotExists) && exists.is_some() {
                        return Ok(Some(false));
                    }
                    let mut row = exists
                        .map(|i| rows[i].clone())
                        .unwrap_or_else(|| vec![Value::Null; def.columns.len()]);
                    for (c, v) in &pairs {
                        if let Some(i) = def.columns.iter().position(|d| &d.name == c) {
                            row[i] = v.clone();
                        }
                    }
                    match exists {
                        Some(i) => rows[i] = row,
                        None => rows.push(row),
                    }
                    Ok(condition.as_ref().map(|_| true))
                }
                Statement::Update {
                    sets,
                    filters,
                    condition,
                    ..
                } => {
                    let pairs: Vec<(String, Value)> = filters.iter().map(|(c, t)| (c.clone(), resolve(t, c))).collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let exists = rows.iter().position(|r| row_key(r) == key);
                    if matches!(condition, Some(Condition::IfExists) | Some(Condition::Columns(_))) && exists.is_none()
                    {
                        return Ok(Some(false));
                    }
                    let i = match exists {
                        Some(i) => i,
                        None => {
                            let mut row = vec![Value::Null; def.columns.len()];
                            for (c, v) in &pairs {
                                if let Some(i) = def.columns.iter().position(|d| &d.name == c) {
                                    row[i] = v.clone();
                                }
                            }
                            rows.push(row);
                            rows.len() - 1
                        }
                    };
                    for (c, t) in sets {
                        if let Some(ci) = def.columns.iter().position(|d| &d.name == c) {
                            rows[i][ci] = resolve(t, c);
                        }
                    }
                    Ok(condition.as_ref().map(|_| true))
                }
                Statement::Delete { filters, condition, .. } => {
                    let pairs: Vec<(String, Value)> = filters.iter().map(|(c, t)| (c.clone(), resolve(t, c))).collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let before = rows.len();
                    rows.retain(|r| row_key(r) != key);
                    Ok(condition.as_ref().map(|_| rows.len() != before))
                }
                _ => Err("This statement is not supported by the lab".to_string()),
            }
        });
        match applied {
            None => error(code::INVALID, &format!("unconfigured table {ks}.{table}")),
            Some(Err(e)) => error(code::INVALID, &e),
            Some(Ok(None)) => void(),
            Some(Ok(Some(applied))) => rows_reply(
                &Rows {
                    keyspace: ks.into(),
                    table: table.into(),
                    columns: vec![("[applied]".into(), CqlType::Boolean)],
                    rows: vec![vec![Value::Bool(applied)]],
                },
                false,
            ),
        }
    }
}

fn project_columns(selection: &Selection, all: &[(String, CqlType)]) -> Result<Vec<(String, CqlType)>, String> {
    match selection {
        Selection::All => Ok(all.to_vec()),
        Selection::Count => Ok(vec![("count".into(), CqlType::Bigint)]),
        Selection::Columns(cols) => cols
            .iter()
            .map(|c| all.iter().find(|(n, _)| n == c).cloned().ok_or_else(|| c.clone()))
            .collect(),
    }
}

/// The `?` markers of a statement with the column (and type) each binds to, in order.
fn bind_specs(st: &Statement, columns: &[(String, CqlType)]) -> Vec<(String, CqlType)> {
    let mut found: Vec<(usize, String, CqlType)> = Vec::new();
    let ty = |c: &str| {
        columns
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, t)| t.clone())
            .unwrap_or(CqlType::Varchar)
    };
    let mut visit = |c: &str, t: &Term| {
        if let Term::Bind(i) = t {
            found.push((*i, c.to_string(), ty(c)));
        }
    };
    match st {
        Statement::Select { filters, limit, .. } => {
            filters.iter().for_each(|(c, t)| visit(c, t));
            if let Some(Term::Bind(i)) = limit {
                found.push((*i, "[limit]".into(), CqlType::Int));
            }
        }
        Statement::Insert {
            columns: cols,
            values,
            condition,
            ..
        } => {
            cols.iter().zip(values).for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        Statement::Update {
            sets,
            filters,
            condition,
            ..
        } => {
            sets.iter().chain(filters).for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        Statement::Delete { filters, condition, .. } => {
            filters.iter().for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        _ => {}
    }
    found.sort_by_key(|(i, _, _)| *i);
    found.into_iter().map(|(_, c, t)| (c, t)).collect()
}

fn term_value(term: &Term, ty: &CqlType, bound: &[Value]) -> Value {
    match term {
        Term::Bind(i) => bound.get(*i).cloned().unwrap_or(Value::Null),
        Term::Null => Value::Null,
        Term::Bool(b) => Value::Bool(*b),
        Term::Str(s) => Value::Text(s.clone()),
        Term::Num(n) => match ty {
            CqlType::Int => n.parse().map(Value::Int).unwrap_or(Value::Null),
            CqlType::Bigint => n.parse().map(Value::Bigint).unwrap_or(Value::Null),
            CqlType::Double => n.parse().map(Value::Double).unwrap_or(Value::Null),
            _ => Value::Text(n.clone()),
        },
    }
}

fn rows_reply(rs: &Rows, skip_metadata: bool) -> Reply {
    let mut w = BodyWriter::new();
    w.int(2);
    if skip_metadata {
        w.int(0x0004).int(rs.columns.len() as i32);
    } else {
        w.int(0x0001).int(rs.columns.len() as i32);
        w.string(&rs.keyspace).string(&rs.table);
        for (n, t) in &rs.columns {
            w.string(n);
            t.write_option(&mut w);
        }
    }
    w.int(rs.rows.len() as i32);
    for row in &rs.rows {
        for v in row {
            w.bytes(v.encode().as_deref());
        }
    }
    (Opcode::Result, w.into_inner())
}
