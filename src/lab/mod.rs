//! `lab`: a faithful local Amazon Keyspaces for tests, demos and training. CQL v4 over
//! TLS on every node address, the HelenusAuthenticator handshake, IAM-style denials,
//! system tables, and an STS endpoint, all configured by one scenario file.
//! The product's probes never import this module.
pub mod aws;
pub mod client;
pub mod cql_server;
pub mod driver_files;
pub mod pki;
pub mod scenario;
pub mod statement;
pub mod store;
pub mod system_tables;
pub mod world;

use scenario::{AuthMode, ClientCa, ClientPort, Scenario};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use world::{KEYSPACE, OTHER_TABLE, REGION, TABLE, World};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("the lab refuses to listen on {0}: it is not a loopback address (pass --allow-non-loopback to insist)")]
    NotLoopback(IpAddr),
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("could not write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("lab --dir: {0}")]
    Refused(#[from] crate::outside::file::WriteRefused),
    #[error("TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
}

pub struct LabOptions {
    pub scenario: String,
    pub dir: PathBuf,
    pub listen: SocketAddr,
    pub allow_non_loopback: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PasswordUser {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessKeyOut {
    pub id: String,
    pub secret: String,
    pub session_token: Option<String>,
}

/// The settings a client with the scenario's misconfiguration would use.
#[derive(Debug, Clone, Serialize)]
pub struct ClientBlock {
    pub host: String,
    pub port: u16,
    pub region: String,
    pub auth: AuthMode,
    pub username: Option<String>,
    pub password: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub role_arn: Option<String>,
    pub ca_file: Option<String>,
    pub keyspace: Option<String>,
    pub table: Option<String>,
    pub tls: bool,
    pub probe_writes: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<crate::evidence::OperationKind>,
    /// The driver configuration the client deploys, when the scenario has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<String>,
}

/// The one JSON line `lab` prints once it is ready.
#[derive(Debug, Clone, Serialize)]
pub struct LabDescriptor {
    pub cql: String,
    pub sts: String,
    pub host: String,
    pub region: String,
    pub ca_file: String,
    pub keyspace: String,
    pub table: String,
    pub password_user: PasswordUser,
    pub access_key: AccessKeyOut,
    pub client: ClientBlock,
}

/// A lab that serves until dropped.
pub struct RunningLab {
    pub descriptor: LabDescriptor,
    pub scenario: Scenario,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RunningLab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub fn public_host(region: &str) -> String {
    format!("cassandra.{region}.amazonaws.com")
}

fn write_file(dir: &Path, name: &str, content: &str) -> Result<PathBuf, LabError> {
    let path = dir.join(name);
    crate::outside::file::replace(&path, content.as_bytes(), 0o644)?;
    Ok(path)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, LabError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| LabError::Bind { addr, source })
}

/// Binds the contact point and one listener per peer address, all on one port.
async fn bind_nodes(listen: SocketAddr, peers: u8) -> Result<Vec<TcpListener>, LabError> {
    let peer_ip = |i: u8| -> Option<IpAddr> {
        match listen.ip() {
            // The loopback addresses after the main node's own, so `--listen 127.0.0.2:P`
            // never collides with its peers.
            IpAddr::V4(v) if v.is_loopback() => {
                let [a, b, c, d] = v.octets();
                d.checked_add(1 + i)
                    .filter(|n| *n < 255)
                    .map(|n| IpAddr::V4(Ipv4Addr::new(a, b, c, n)))
            }
            _ => None,
        }
    };
    let mut last_err = None;
    for _ in 0..20 {
        let main = bind(listen).await?;
        let port = main.local_addr().map(|a| a.port()).unwrap_or(listen.port());
        let mut all = vec![main];
        let mut ok = true;
        for i in 0..peers {
            let Some(ip) = peer_ip(i) else { break };
            match bind(SocketAddr::new(ip, port)).await {
                Ok(l) => all.push(l),
                Err(e) => {
                    last_err = Some(e);
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(all);
        }
        if listen.port() != 0 {
            break;
        }
    }
    Err(last_err.unwrap_or(LabError::Bind {
        addr: listen,
        source: std::io::Error::other("no port was free on every node address"),
    }))
}

pub async fn start(opts: LabOptions) -> Result<RunningLab, LabError> {
    let scenario = scenario::find(&opts.scenario)?;
    if !opts.listen.ip().is_loopback() && !opts.allow_non_loopback {
        return Err(LabError::NotLoopback(opts.listen.ip()));
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let host = public_host(REGION);
    let pki = pki::LabPki::generate(
        &host,
        &[format!("cassandra.{REGION}.api.aws")],
        scenario.server.serving_root,
    )?;
    std::fs::create_dir_all(&opts.dir).map_err(|source| LabError::Write {
        path: opts.dir.clone(),
        source,
    })?;
    let ca_file = write_file(&opts.dir, "ca.pem", &pki.bundle_pem())?;
    let starfield_only = write_file(&opts.dir, "starfield-only.pem", &pki.starfield_root_pem)?;

    let world = Arc::new(World::from_scenario(&scenario));
    let listeners = bind_nodes(opts.listen, scenario.server.peers).await?;
    let nodes: Vec<IpAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.ip())
        .collect();
    let cql_addr = listeners[0].local_addr().map_err(|source| LabError::Bind {
        addr: opts.listen,
        source,
    })?;
    let server_config =
        rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), pki.key.clone_key())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let mut shared = cql_server::CqlShared::new(
        world.clone(),
        store::Store::with_properties(
            KEYSPACE,
            TABLE,
            OTHER_TABLE,
            store::TableProperties {
                point_in_time_recovery: scenario.server.point_in_time_recovery,
                customer_managed_key: scenario.server.customer_managed_key.clone(),
            },
        ),
        nodes,
    );
    shared.misbehave = scenario.server.misbehave;
    let shared = Arc::new(shared);
    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(cql_server::serve(l, acceptor.clone(), shared.clone())));
    }
    let sts_listener = bind(SocketAddr::new(opts.listen.ip(), 0)).await?;
    let sts_addr = sts_listener.local_addr().map_err(|source| LabError::Bind {
        addr: opts.listen,
        source,
    })?;
    tasks.push(tokio::spawn(aws::serve(
        sts_listener,
        world.clone(),
        scenario.server.misbehave,
    )));
    let silent_port = if scenario.server.silent_port {
        let l = bind(SocketAddr::new(opts.listen.ip(), 0)).await?;
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        tasks.push(tokio::spawn(cql_server::serve_silent(l)));
        Some(port)
    } else {
        None
    };

    let admin = world.admin();
    let (admin_user, admin_password) = admin
        .service_credential
        .as_ref()
        .map(|c| (c.username.clone(), c.password.clone()))
        .unwrap_or_default();
    let admin_key = admin
        .access_key
        .clone()
        .unwrap_or_else(|| world::new_access_key("AKIA"));
    let c = &scenario.client;
    let p = world.principal(&c.principal).unwrap_or(admin);
    let (username, password) = match c.auth {
        AuthMode::Password => {
            let ssc = p.service_credential.clone();
            (
                c.username.clone().or(ssc.as_ref().map(|s| s.username.clone())),
                ssc.map(|s| {
                    let base = if c.wrong_secret {
                        world::new_access_key("").secret
                    } else {
                        s.password
                    };
                    format!("{base}{}", c.password_suffix.clone().unwrap_or_default())
                }),
            )
        }
        AuthMode::Sigv4 => (None, None),
    };
    let key = match (c.auth, c.use_session) {
        (AuthMode::Sigv4, true) => p.expired_session.clone(),
        (AuthMode::Sigv4, false) => p.access_key.clone(),
        (AuthMode::Password, _) if c.with_access_key => p.access_key.clone(),
        _ => None,
    };
    let client_port = match c.port {
        ClientPort::Cql => cql_addr.port(),
        ClientPort::Silent => silent_port.unwrap_or(cql_addr.port()),
    };
    let driver_config = match c.driver_config {
        Some(spec) => Some(
            driver_files::write(spec, &opts.dir, &host, client_port, REGION, &pki.starfield_root_pem)?
                .display()
                .to_string(),
        ),
        None => None,
    };
    let client = ClientBlock {
        host: c.host.clone().unwrap_or_else(|| host.clone()),
        port: match c.port {
            ClientPort::Cql => cql_addr.port(),
            ClientPort::Silent => silent_port.unwrap_or(cql_addr.port()),
        },
        region: c.region.clone().unwrap_or_else(|| REGION.into()),
        auth: c.auth,
        username,
        password,
        access_key_id: key.as_ref().map(|k| k.id.clone()),
        secret_access_key: key.as_ref().map(|k| {
            if c.wrong_secret {
                world::new_access_key("AKIA").secret
            } else {
                k.secret.clone()
            }
        }),
        session_token: key.as_ref().and_then(|k| k.session_token.clone()),
        role_arn: c
            .role
            .as_ref()
            .and_then(|r| world.roles.iter().find(|x| &x.name == r).map(|x| x.arn.clone())),
        ca_file: Some(
            match c.ca {
                ClientCa::Bundle => &ca_file,
                ClientCa::StarfieldOnly => &starfield_only,
            }
            .display()
            .to_string(),
        ),
        keyspace: Some(KEYSPACE.into()),
        table: Some(c.table.clone().unwrap_or_else(|| TABLE.into())),
        tls: c.tls,
        probe_writes: c.probe_writes,
        operations: c.operations.clone(),
        driver_config,
    };
    let descriptor = LabDescriptor {
        cql: cql_addr.to_string(),
        sts: format!("http://{sts_addr}"),
        host,
        region: REGION.into(),
        ca_file: ca_file.display().to_string(),
        keyspace: KEYSPACE.into(),
        table: TABLE.into(),
        password_user: PasswordUser {
            username: admin_user,
            password: admin_password,
        },
        access_key: AccessKeyOut {
            id: admin_key.id,
            secret: admin_key.secret,
            session_token: None,
        },
        client,
    };
    Ok(RunningLab {
        descriptor,
        scenario,
        tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_parses() {
        let all = scenario::all().expect("every scenario file parses");
        assert!(all.len() >= 20);
    }
}
