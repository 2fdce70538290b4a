//! Turns a lab's client block into the `Target` a user with that configuration would
//! give `check`: the same flags and environment, through the same
//! `Target::from_args` (used by `demo`, `train` and the tests). The environment is the
//! client's alone (its keys, its password, a HOME without AWS or cqlsh files), never
//! the process's. The lab depends on the product here, never the other way round.
use super::LabDescriptor;
use super::scenario::AuthMode as LabAuth;
use crate::cli::{AuthArg, OperationArg, TargetArgs};
use crate::secret::Secret;
use crate::target::{StaticKeys, Target, UsageError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The flags a user of this client would pass to `check`.
pub fn args(d: &LabDescriptor, step_timeout: Duration) -> TargetArgs {
    let c = &d.client;
    let cql_ip = d
        .cql
        .rsplit_once(':')
        .map(|(ip, _)| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    TargetArgs {
        host: Some(c.host.clone()),
        port: Some(c.port),
        region: Some(c.region.clone()),
        resolve: vec![format!("{}:{cql_ip}", c.host)],
        ca_file: c.ca_file.as_ref().map(PathBuf::from),
        tls_name: None,
        no_tls: !c.tls,
        auth: Some(match c.auth {
            LabAuth::Password => AuthArg::Password,
            LabAuth::Sigv4 => AuthArg::Sigv4,
        }),
        username: c.username.clone(),
        keyspace: c.keyspace.clone(),
        table: c.table.clone(),
        role_arn: c.role_arn.clone(),
        profile: None,
        sts_endpoint: None,
        aws_endpoint_url: Some(d.sts.clone()),
        probe_writes: c.probe_writes,
        operations: c.operations.iter().map(|k| OperationArg::of(*k)).collect(),
        timeout: step_timeout,
        total_timeout: step_timeout * 3,
        cqlshrc: None,
        driver_config: c.driver_config.iter().map(PathBuf::from).collect(),
    }
}

/// The client's environment: its password and AWS keys, and a HOME that holds no AWS
/// or cqlsh files (the lab's directory).
pub fn env(d: &LabDescriptor) -> HashMap<&'static str, String> {
    let c = &d.client;
    let mut env = HashMap::new();
    let home = PathBuf::from(&d.ca_file)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/nonexistent".into());
    env.insert("HOME", home);
    for (k, v) in [
        ("KEYSPACES_PASSWORD", &c.password),
        ("AWS_ACCESS_KEY_ID", &c.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", &c.secret_access_key),
        ("AWS_SESSION_TOKEN", &c.session_token),
    ] {
        if let Some(v) = v {
            env.insert(k, v.clone());
        }
    }
    env
}

/// The target `check` builds for this client, its AWS keys being the environment's.
pub fn target(d: &LabDescriptor, step_timeout: Duration) -> Result<Target, UsageError> {
    let env = env(d);
    let mut t = Target::from_args(&args(d, step_timeout), &|k| env.get(k).cloned())?;
    // The AWS SDK reads keys from the process's environment; this client's are its own.
    t.static_credentials = env.get("AWS_ACCESS_KEY_ID").map(|id| StaticKeys {
        access_key_id: id.clone(),
        secret: Secret::new(env.get("AWS_SECRET_ACCESS_KEY").cloned().unwrap_or_default()),
        session_token: env.get("AWS_SESSION_TOKEN").cloned().map(Secret::new),
    });
    t.isolated = true;
    Ok(t)
}

/// The probes' I/O for this client: the host's sockets and clock, the client's
/// environment.
pub fn io(d: &LabDescriptor) -> crate::probe::Io {
    let env = env(d);
    crate::probe::Io::with_env(std::sync::Arc::new(move |k: &str| env.get(k).cloned()))
}

/// One run of `check` against a scenario of the embedded lab, as its client would run
/// it: the lab starts (its files in `dir`), the target is built from the client's flags
/// and environment, the probes run within the total timeout, the lab stops. The one
/// path of `demo`, `train` and the demo text report.
pub async fn check_scenario(
    scenario: &str,
    dir: &std::path::Path,
    step_timeout: Duration,
    tx: Option<tokio::sync::mpsc::UnboundedSender<crate::probe::Event>>,
) -> Result<crate::evidence::Evidence, String> {
    let running = super::start(super::LabOptions {
        scenario: scenario.to_string(),
        dir: dir.to_path_buf(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        allow_non_loopback: false,
    })
    .await
    .map_err(|e| e.to_string())?;
    let target = target(&running.descriptor, step_timeout).map_err(|e| e.to_string())?;
    let ev = crate::probe::run_within_total(&target, &io(&running.descriptor), tx).await;
    drop(running);
    Ok(ev)
}
