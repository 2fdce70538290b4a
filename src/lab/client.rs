//! Turns a lab's client block into the `Target` a user with that configuration would
//! give `check` (used by `demo`, `train` and the tests). The lab depends on the
//! product here, never the other way round.
use super::LabDescriptor;
use super::scenario::AuthMode as LabAuth;
use crate::secret::Secret;
use crate::target::{AuthMode, StaticKeys, Target};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::net::IpAddr;
use std::time::Duration;

pub fn target(d: &LabDescriptor, step_timeout: Duration) -> Target {
    let c = &d.client;
    let cql_ip: IpAddr = d
        .cql
        .rsplit_once(':')
        .and_then(|(ip, _)| ip.parse().ok())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ca_roots: Vec<CertificateDer<'static>> = c
        .ca_file
        .as_ref()
        .and_then(|p| crate::outside::file::read(std::path::Path::new(p), crate::outside::file::CONFIG_CAP).ok())
        .map(|b| CertificateDer::pem_slice_iter(&b).filter_map(Result::ok).collect())
        .unwrap_or_default();
    let host_region = crate::target::region_of_host(&c.host);
    let mut notes = Vec::new();
    if let Some(hr) = &host_region
        && hr != &c.region
    {
        notes.push(crate::evidence::ConfigNote::RegionMismatch {
            signing: c.region.clone(),
            endpoint: hr.clone(),
        });
    }
    if !c.tls {
        notes.push(crate::evidence::ConfigNote::TlsDisabled);
    }
    let auth = match c.auth {
        LabAuth::Password => AuthMode::Password,
        LabAuth::Sigv4 => AuthMode::SigV4,
    };
    if let (AuthMode::Password, Some(p)) = (auth, &c.password)
        && (p.trim() != p || p.contains('\n'))
    {
        notes.push(crate::evidence::ConfigNote::PasswordWhitespace {
            leading: p.starts_with(char::is_whitespace),
            trailing: p.ends_with(char::is_whitespace),
            newline: p.contains('\n'),
        });
    }
    if let (AuthMode::Password, Some(u)) = (auth, &c.username)
        && !crate::target::is_service_specific_username(u)
    {
        notes.push(crate::evidence::ConfigNote::UsernameNotServiceSpecific { username: u.clone() });
    }
    Target {
        host: c.host.clone(),
        port: c.port,
        region: Some(c.region.clone()),
        region_source: "the lab client block".into(),
        host_region,
        resolve: vec![(c.host.clone(), cql_ip)],
        ca_file: c.ca_file.as_ref().map(Into::into),
        ca_roots,
        tls_name: c.host.clone(),
        tls: c.tls,
        auth,
        username: c.username.clone(),
        password: c.password.clone().map(Secret::new),
        keyspace: c.keyspace.clone(),
        table: c.table.clone(),
        role_arn: c.role_arn.clone(),
        profile: None,
        cqlshrc_region: None,
        sts_endpoint: Some(d.sts.clone()),
        aws_endpoint: Some(d.sts.clone()),
        probe_writes: c.probe_writes,
        static_credentials: c.access_key_id.clone().map(|id| StaticKeys {
            access_key_id: id,
            secret: Secret::new(c.secret_access_key.clone().unwrap_or_default()),
            session_token: c.session_token.clone().map(Secret::new),
        }),
        isolated: true,
        step_timeout,
        total_timeout: step_timeout * 3,
        notes,
        driver_configs: c.driver_config.iter().map(Into::into).collect(),
    }
}
