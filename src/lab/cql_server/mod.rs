//! The lab's CQL endpoint: TLS on every node address, then each connection's frames
//! read, dispatched and answered (here); the HelenusAuthenticator handshake, PLAIN and
//! SigV4 (`sasl`); per-statement IAM authorization and execution over the store
//! (`statements`). Owns connections; the IAM world and the data are shared.
mod sasl;
mod statements;

use super::scenario::Misbehavior;
use super::store::Store;
use super::world::{Identity, World};
use crate::cql::frame::{self, BodyWriter, Frame, FrameError, Opcode, encode_frame};
use sasl::Sasl;
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
}
