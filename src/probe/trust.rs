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

/// Verifies the chain against `name` (the Keyspaces host), not the address dialled:
/// drivers connect to peers by IP and must still check the real name.
#[derive(Debug)]
pub struct NameVerifier {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
    /// The last verification failure, for the report.
    pub last_error: Mutex<Option<TlsError>>,
}

impl NameVerifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>, name: ServerName<'static>) -> Self {
        NameVerifier {
            inner,
            name,
            last_error: Mutex::new(None),
        }
    }
}

impl ServerCertVerifier for NameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let r = self
            .inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now);
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

/// The diagnostic handshake's verifier: it records the chain and lets the handshake
/// finish so every trust source can be judged afterwards; the server must still prove
/// possession of its key. Its connection never carries application data.
#[derive(Debug)]
pub struct RecordingVerifier {
    pub signatures: Arc<WebPkiServerVerifier>,
    pub chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        *self.chain.lock().unwrap_or_else(|p| p.into_inner()) = chain;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.signatures.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.signatures.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.supported_verify_schemes()
    }
}

/// A client configuration that verifies against `roots` and `name`.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    name: &str,
) -> Result<(rustls::ClientConfig, Arc<NameVerifier>), String> {
    let server_name =
        ServerName::try_from(name.to_string()).map_err(|_| format!("'{name}' is not a valid TLS name"))?;
    let verifier = Arc::new(NameVerifier::new(webpki(store(roots))?, server_name));
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok((cfg, verifier))
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
