//! TLS probe: a standalone rustls handshake with SNI; version, cipher, the chain, and
//! verification judged separately against the user's CA file, the system store and the
//! five Keyspaces roots. Failures are recorded, not fatal.
use super::io::{Io, Stream};
use crate::evidence::{CertInfo, TlsOutcome, TlsReport, TrustSource, TrustVerdict};
use crate::target::Target;
use crate::trust::{self, Check, KeyspacesVerifier};
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;

pub fn cert_info(der: &CertificateDer<'_>) -> CertInfo {
    match x509_parser::parse_x509_certificate(der.as_ref()) {
        Ok((_, c)) => CertInfo {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            not_before: c.validity().not_before.to_string(),
            not_after: c.validity().not_after.to_string(),
            sha256: hex::encode(Sha256::digest(der.as_ref())),
            dns_names: c
                .subject_alternative_name()
                .ok()
                .flatten()
                .map(|san| {
                    san.value
                        .general_names
                        .iter()
                        .filter_map(|n| match n {
                            x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        Err(e) => CertInfo {
            subject: format!("(unparsable certificate: {e})"),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            sha256: hex::encode(Sha256::digest(der.as_ref())),
            dns_names: vec![],
        },
    }
}

fn verdict(
    source: TrustSource,
    origin: String,
    roots: &[CertificateDer<'static>],
    chain: &[CertificateDer<'static>],
    name: &ServerName<'static>,
) -> TrustVerdict {
    let base = |verified, problem, detail| TrustVerdict {
        source: source.clone(),
        origin: origin.clone(),
        roots: roots.len(),
        verified,
        problem,
        detail,
    };
    let Some((leaf, rest)) = chain.split_first() else {
        return base(false, None, Some("the server sent no certificate".into()));
    };
    match trust::webpki(trust::store(roots)) {
        Err(e) => base(false, Some(crate::evidence::VerifyProblem::UnknownIssuer), Some(e)),
        Ok(v) => match v.verify_server_cert(leaf, rest, name, &[], UnixTime::now()) {
            Ok(_) => base(true, None, None),
            Err(e) => base(false, Some(trust::classify(&e)), Some(e.to_string())),
        },
    }
}

fn outcome_of(e: &std::io::Error) -> TlsOutcome {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidMessage(_)) => TlsOutcome::NotTls { detail: e.to_string() },
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion))
        | Some(rustls::Error::PeerIncompatible(_)) => TlsOutcome::VersionRefused { detail: e.to_string() },
        Some(other) => TlsOutcome::Failed {
            detail: other.to_string(),
        },
        None if matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
        ) =>
        {
            TlsOutcome::Closed
        }
        None => TlsOutcome::Failed { detail: e.to_string() },
    }
}

/// Keeps the first bytes the server sent, to name what answered when it was not TLS.
struct FirstBytes<S> {
    inner: S,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let new = buf.filled()[before..].to_vec();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let room = 64usize.saturating_sub(seen.len());
        seen.extend_from_slice(&new[..new.len().min(room)]);
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Words for what answered a ClientHello with something that is not TLS.
fn what_answered(first: &[u8], detail: &str) -> String {
    let text = String::from_utf8_lossy(first);
    let line = crate::outside::text::clean(text.lines().next().unwrap_or_default());
    if first.starts_with(b"HTTP/") {
        format!("the port answered in plain HTTP ({line}): a web server or proxy listens there, not Keyspaces")
    } else if first.starts_with(b"SSH-") {
        format!("the port answered with an SSH banner ({line}), not TLS")
    } else if first.len() >= 9 && (first[0] == 0x84 || first[0] == 0x04 || first[0] == 0x83) {
        format!("the port answered with a plain-text CQL frame ({detail}): the server expects no TLS")
    } else if first.is_empty() {
        detail.to_string()
    } else {
        format!(
            "{detail}; its first bytes: {}",
            crate::outside::text::clean_to(&text, 40)
        )
    }
}

/// Runs the diagnostic handshake over an already connected stream.
pub async fn probe(target: &Target, io: &Io, stream: Box<dyn Stream>) -> TlsReport {
    let name = ServerName::try_from(target.tls_name.clone()).ok();
    let sni = name.as_ref().and_then(|n| match n {
        ServerName::DnsName(d) => Some(d.as_ref().to_string()),
        _ => None,
    });
    let ks_roots: Vec<CertificateDer<'static>> = trust::keyspaces_roots().into_iter().map(|r| r.1).collect();
    let mut report = TlsReport {
        verify_name: target.tls_name.clone(),
        sni: sni.clone(),
        outcome: TlsOutcome::Failed {
            detail: "not attempted".into(),
        },
        version: None,
        cipher: None,
        key_exchange: None,
        chain: vec![],
        verdicts: vec![],
        handshake_ms: 0,
        chain_der: vec![],
    };
    let Some(name) = name else {
        report.outcome = TlsOutcome::Failed {
            detail: format!("'{}' is not a valid TLS name", target.tls_name),
        };
        return report;
    };
    let signatures = match trust::webpki(trust::store(&ks_roots)) {
        Ok(v) => v,
        Err(e) => {
            report.outcome = TlsOutcome::Failed { detail: e };
            return report;
        }
    };
    let recorder = Arc::new(KeyspacesVerifier::new(signatures, Check::RecordOnly));
    let cfg = match trust::config_with(recorder.clone()) {
        Ok(c) => c,
        Err(e) => {
            report.outcome = TlsOutcome::Failed { detail: e };
            return report;
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let first = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stream = FirstBytes {
        inner: stream,
        seen: first.clone(),
    };
    let start = Instant::now();
    let r = tokio::time::timeout(target.step_timeout, connector.connect(name.clone(), stream)).await;
    report.handshake_ms = start.elapsed().as_millis() as u64;
    match r {
        Err(_) => report.outcome = TlsOutcome::NoAnswer,
        Ok(Err(e)) => {
            report.outcome = match outcome_of(&e) {
                TlsOutcome::NotTls { detail } => TlsOutcome::NotTls {
                    detail: what_answered(&first.lock().unwrap_or_else(|p| p.into_inner()), &detail),
                },
                other => other,
            }
        }
        Ok(Ok(tls)) => {
            let (_, conn) = tls.get_ref();
            report.outcome = TlsOutcome::Established;
            report.version = conn.protocol_version().map(version_name);
            report.cipher = conn
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .map(|n| n.replacen("TLS13_", "TLS_", 1));
            report.key_exchange = conn
                .negotiated_key_exchange_group()
                .and_then(|g| g.name().as_str())
                .map(str::to_string);
        }
    }
    let chain = recorder.chain.lock().unwrap_or_else(|p| p.into_inner()).clone();
    report.chain = chain.iter().map(cert_info).collect();
    report.chain_der = chain.clone();
    if !chain.is_empty() {
        if let Some(p) = &target.ca_file {
            report.verdicts.push(verdict(
                TrustSource::CaFile,
                p.display().to_string(),
                &target.ca_roots,
                &chain,
                &name,
            ));
        }
        let (sys, origin) = io.roots().await;
        report
            .verdicts
            .push(verdict(TrustSource::System, origin, &sys, &chain, &name));
        report.verdicts.push(verdict(
            TrustSource::KeyspacesRoots,
            "embedded: Amazon Root CA 1-4, Starfield Class 2".into(),
            &ks_roots,
            &chain,
            &name,
        ));
    }
    report
}

/// A TLS version as people write it (`TLS 1.3`).
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        rustls::ProtocolVersion::TLSv1_1 => "TLS 1.1".into(),
        rustls::ProtocolVersion::TLSv1_0 => "TLS 1.0".into(),
        other => format!("TLS version 0x{:04x}", u16::from(other)),
    }
}
