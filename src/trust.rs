//! Trust: the five roots Keyspaces may chain to (embedded from `assets/roots`), root
//! stores per trust source, a verifier that checks the Keyspaces name whatever address
//! a driver dialled, and the recording verifier of the diagnostic handshake.
use crate::evidence::VerifyProblem;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex};

/// Amazon Root CA 1-4 and Starfield Class 2, as shipped in `assets/roots`.
pub fn keyspaces_roots() -> Vec<(String, CertificateDer<'static>)> {
    crate::assets::ROOT_FILES
        .iter()
        .filter_map(|(name, pem)| {
            CertificateDer::from_pem_slice(pem.as_bytes())
                .ok()
                .map(|c| (name.to_string(), c))
        })
        .collect()
}

pub fn store(certs: &[CertificateDer<'static>]) -> RootCertStore {
    let mut s = RootCertStore::empty();
    s.add_parsable_certificates(certs.iter().cloned());
    s
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

pub fn webpki(roots: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| format!("no usable root certificate ({e})"))
}

pub fn classify(e: &TlsError) -> VerifyProblem {
    match e {
        TlsError::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => VerifyProblem::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                VerifyProblem::NameMismatch
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => VerifyProblem::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => VerifyProblem::NotYetValid,
            CertificateError::BadSignature => VerifyProblem::BadSignature,
            _ => VerifyProblem::Other,
        },
        _ => VerifyProblem::Other,
    }
}

/// What the verifier decides about the server's chain.
#[derive(Debug)]
pub enum Check {
    /// Verify against this name (the Keyspaces host), not the address dialled: drivers
    /// connect to peers by IP and must still check the real name.
    Name(ServerName<'static>),
    /// The diagnostic handshake: record the chain and let the handshake finish so every
    /// trust source can be judged afterwards. Its connection never carries data.
    RecordOnly,
}

/// The one verifier of the project. It always records the chain it was shown and the
/// last failure; the server must always prove possession of its key.
#[derive(Debug)]
pub struct KeyspacesVerifier {
    inner: Arc<WebPkiServerVerifier>,
    check: Check,
    pub chain: Mutex<Vec<CertificateDer<'static>>>,
    pub last_error: Mutex<Option<TlsError>>,
}

impl KeyspacesVerifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>, check: Check) -> Self {
        KeyspacesVerifier {
            inner,
            check,
            chain: Mutex::new(vec![]),
            last_error: Mutex::new(None),
        }
    }
}

impl ServerCertVerifier for KeyspacesVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        *self.chain.lock().unwrap_or_else(|p| p.into_inner()) = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        let Check::Name(name) = &self.check else {
            return Ok(ServerCertVerified::assertion());
        };
        let r = self
            .inner
            .verify_server_cert(end_entity, intermediates, name, ocsp, now);
        if let Err(e) = &r {
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
        }
        r
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A TLS 1.2/1.3 client configuration around `verifier`, without session resumption
/// (a resumed session would skip the verifier).
pub fn config_with(verifier: Arc<KeyspacesVerifier>) -> Result<rustls::ClientConfig, String> {
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(cfg)
}

/// A client configuration that verifies against `roots` and `name`.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    name: &str,
) -> Result<(rustls::ClientConfig, Arc<KeyspacesVerifier>), String> {
    let server_name =
        ServerName::try_from(name.to_string()).map_err(|_| format!("'{name}' is not a valid TLS name"))?;
    let verifier = Arc::new(KeyspacesVerifier::new(webpki(store(roots))?, Check::Name(server_name)));
    Ok((config_with(verifier.clone())?, verifier))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_five_keyspaces_roots_are_embedded() {
        let roots = super::keyspaces_roots();
        assert_eq!(roots.len(), 5, "{:?}", roots.iter().map(|r| &r.0).collect::<Vec<_>>());
        assert_eq!(
            super::store(&roots.into_iter().map(|r| r.1).collect::<Vec<_>>()).len(),
            5
        );
    }
}
