//! TCP probe: connect time, and refused vs timed out vs accepted.
use super::io::{Io, Stream};
use crate::evidence::{TcpOutcome, TcpReport};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub async fn probe(addr: SocketAddr, io: &Io, timeout: Duration) -> (TcpReport, Option<Box<dyn Stream>>) {
    let start = Instant::now();
    let r = tokio::time::timeout(timeout, io.dialer.dial(addr)).await;
    let connect_ms = start.elapsed().as_millis() as u64;
    let (outcome, stream) = match r {
        Ok(Ok(s)) => (TcpOutcome::Connected, Some(s)),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => (TcpOutcome::Refused, None),
        Ok(Err(e)) => (TcpOutcome::Error { message: e.to_string() }, None),
        Err(_) => (TcpOutcome::TimedOut, None),
    };
    (
        TcpReport {
            address: addr,
            outcome,
            connect_ms,
        },
        stream,
    )
}
