//! The real-driver check: a scylla session with the same settings, kept on the target
//! (an address translator pins every peer to the contact address and a host filter keeps
//! one node's pool), verifying the
//! Keyspaces name (scylla itself sends no SNI and checks the node IP), with a SigV4
//! authenticator of this project and an outer timeout (scylla has none for TLS or auth).
//! Runs only after the project's own first contact showed a well-behaved server.
use crate::evidence::DriverCheck;
use crate::secret::Secret;
use crate::sigv4;
use crate::trust;
use async_trait::async_trait;
use scylla::authentication::{AuthError, AuthenticatorProvider, AuthenticatorSession};
use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::metadata::Peer;
use scylla::errors::TranslationError;
use scylla::policies::address_translator::{AddressTranslator, UntranslatedPeer};
use scylla::policies::host_filter::HostFilter;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::cql::CqlCredentials;
use crate::target::Target;

struct Pin(SocketAddr);

/// Every node is pinned to the contact address, so one node's pool is the whole test:
/// the first node the driver offers is kept and the others get no connections.
#[derive(Default)]
struct OneNode(Mutex<Option<u128>>);

impl HostFilter for OneNode {
    fn accept(&self, peer: &Peer) -> bool {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *kept.get_or_insert(peer.host_id.as_u128()) == peer.host_id.as_u128()
    }
}

#[async_trait]
impl AddressTranslator for Pin {
    async fn translate_address(&self, _peer: &UntranslatedPeer) -> Result<SocketAddr, TranslationError> {
        Ok(self.0)
    }
}

/// Keyspaces' SigV4 exchange for scylla; signs each challenge with the given keys.
pub struct KeyspacesSigV4 {
    pub access_key_id: String,
    pub secret: Secret,
    pub session_token: Option<Secret>,
    pub region: String,
    /// The probes' clock: the signature's time.
    pub clock: std::sync::Arc<dyn super::io::Clock>,
}

struct SigV4Session {
    access_key_id: String,
    secret: Secret,
    session_token: Option<Secret>,
    region: String,
    clock: std::sync::Arc<dyn super::io::Clock>,
}

#[async_trait]
impl AuthenticatorProvider for KeyspacesSigV4 {
    async fn start_authentication_session(
        &self,
        _authenticator_name: &str,
    ) -> Result<(Option<Vec<u8>>, Box<dyn AuthenticatorSession>), AuthError> {
        Ok((
            Some(sigv4::INITIAL_RESPONSE.to_vec()),
            Box::new(SigV4Session {
                access_key_id: self.access_key_id.clone(),
                secret: self.secret.clone(),
                session_token: self.session_token.clone(),
                region: self.region.clone(),
                clock: self.clock.clone(),
            }),
        ))
    }
}

#[async_trait]
impl AuthenticatorSession for SigV4Session {
    async fn evaluate_challenge(&mut self, token: Option<&[u8]>) -> Result<Option<Vec<u8>>, AuthError> {
        let nonce = sigv4::parse_nonce(token.unwrap_or_default()).map_err(|e| e.to_string())?;
        Ok(Some(
            sigv4::response(
                &self.access_key_id,
                self.secret.expose(),
                self.session_token.as_ref().map(|s| s.expose()),
                &self.region,
                &nonce,
                self.clock.now(),
            )
            .into_bytes(),
        ))
    }

    async fn success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

pub async fn check(
    target: &Target,
    io: &super::Io,
    roots: &[rustls_pki_types::CertificateDer<'static>],
    addr: SocketAddr,
    creds: &CqlCredentials,
) -> DriverCheck {
    let start = Instant::now();
    let done = |ok: bool, detail: String| DriverCheck {
        driver: "scylla 1.9 (Rust)".into(),
        ok,
        duration_ms: start.elapsed().as_millis() as u64,
        detail,
        sends_sni: false,
    };
    let mut b = SessionBuilder::new()
        .known_node_addr(addr)
        .address_translator(Arc::new(Pin(addr)))
        .host_filter(Arc::new(OneNode::default()))
        .fetch_schema_metadata(false)
        .fetch_full_schema_metadata(false)
        .connection_timeout(target.step_timeout);
    if target.tls {
        match trust::client_config(roots, &target.tls_name) {
            Ok((cfg, _)) => b = b.tls_context(Some(Arc::new(cfg))),
            Err(e) => return done(false, e),
        }
    }
    b = match creds {
        CqlCredentials::Password { username, password } => b.user(username.clone(), password.expose().to_string()),
        CqlCredentials::SigV4 {
            access_key_id,
            secret,
            session_token,
            region,
        } => b.authenticator_provider(Arc::new(KeyspacesSigV4 {
            access_key_id: access_key_id.clone(),
            secret: secret.clone(),
            session_token: session_token.clone(),
            region: region.clone(),
            clock: io.clock.clone(),
        })),
        CqlCredentials::Missing(_, why) => return done(false, why.clone()),
    };
    let session = match tokio::time::timeout(target.step_timeout * 2, b.build()).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return done(false, format!("session setup failed: {e}")),
        Err(_) => {
            return done(
                false,
                format!("session setup did not finish within {:?}", target.step_timeout * 2),
            );
        }
    };
    let q = tokio::time::timeout(
        target.step_timeout,
        session.query_unpaged("SELECT release_version FROM system.local WHERE key='local'", ()),
    )
    .await;
    match q {
        Ok(Ok(_)) => done(
            true,
            "connected, authenticated and read system.local (no SNI: verified against the Keyspaces name)".into(),
        ),
        Ok(Err(e)) => done(false, format!("connected, but system.local failed: {e}")),
        Err(_) => done(false, "connected, but system.local did not answer in time".into()),
    }
}
