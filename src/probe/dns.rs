//! DNS probe: the addresses the host resolves to (or the `--resolve` override), and
//! whether they are private (a VPC endpoint or private DNS).
use super::io::Io;
use crate::evidence::DnsReport;
use crate::target::Target;
use std::net::{IpAddr, SocketAddr};

pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.octets()[0] == 100 && (v.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00,
    }
}

pub async fn probe(target: &Target, io: &Io) -> (DnsReport, Vec<SocketAddr>) {
    if let Some((_, ip)) = target
        .resolve
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(&target.host))
    {
        let addr = SocketAddr::new(*ip, target.port);
        return (
            DnsReport {
                host: target.host.clone(),
                addresses: vec![*ip],
                via_resolve_flag: true,
                private: is_private(ip),
                error: None,
            },
            vec![addr],
        );
    }
    let r = tokio::time::timeout(target.step_timeout, io.resolver.lookup(&target.host, target.port)).await;
    let (addrs, error) = match r {
        Ok(Ok(a)) if !a.is_empty() => (a, None),
        Ok(Ok(_)) => (vec![], Some(format!("{} resolved to no address", target.host))),
        Ok(Err(e)) => (vec![], Some(format!("{} does not resolve: {e}", target.host))),
        Err(_) => (
            vec![],
            Some(format!(
                "resolving {} took longer than {:?}",
                target.host, target.step_timeout
            )),
        ),
    };
    (
        DnsReport {
            host: target.host.clone(),
            addresses: addrs.iter().map(|a| a.ip()).collect(),
            via_resolve_flag: false,
            private: addrs.iter().any(|a| is_private(&a.ip())),
            error,
        },
        addrs,
    )
}
