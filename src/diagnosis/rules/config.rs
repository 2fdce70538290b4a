//! Rules on the client's own settings and on `--driver-config` files: TLS off or
//! unverified, the shape of the user name and password, the region, the host, the AWS
//! files the SDK would read, and each problem a driver configuration file holds.
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{AuthMode, ConfigNote};

/// Each problem in a `--driver-config` file, with its file and line.
pub(super) fn driver_config_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    for r in &ev.driver_configs {
        for p in &r.problems {
            let at = match p.line {
                Some(l) => format!("{}:{l}", r.path),
                None => r.path.clone(),
            };
            let written = match &p.value {
                Some(v) => format!("{at}: {} = {v}", p.setting),
                None => format!("{at}: {} (not set)", p.setting),
            };
            let truststore = r
                .truststore
                .as_ref()
                .map(|t| t.path.clone())
                .unwrap_or_else(|| "<truststore>".into());
            c.add(
                p.leaf,
                vec![written, p.detail.clone()],
                vec![step("Which driver configuration file?", at.clone())],
                &[
                    ("config", r.path.clone()),
                    ("line", p.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into())),
                    ("value", p.value.clone().unwrap_or_default()),
                    ("truststore", truststore),
                ],
            );
        }
    }
}

pub(super) fn config_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let auth_failed_0100 = ev
        .cql
        .as_ref()
        .and_then(|q| q.auth.as_ref())
        .is_some_and(|a| a.code == Some(0x0100));
    let auth_ok = ev.cql.as_ref().and_then(|q| q.auth.as_ref()).is_some_and(|a| a.ok);
    let sigv4 = ev.target.auth == AuthMode::SigV4;
    for n in &ev.config {
        match n {
            ConfigNote::TlsDisabled => c.add(
                LeafId::TlsDisabled,
                vec![format!(
                    "the client connects to {}:{} without TLS{}",
                    ev.target.host,
                    ev.target.port,
                    ev.cql
                        .as_ref()
                        .and_then(|q| q.connection_error.clone())
                        .map(|e| format!("; the plaintext attempt: {e}"))
                        .unwrap_or_default()
                )],
                vec![step("Is TLS enabled in the client?", "no")],
                &[],
            ),
            ConfigNote::VerificationDisabled { source } => c.add(
                LeafId::VerificationDisabled,
                vec![format!("certificate validation is off: {source}")],
                vec![step("Is certificate validation on?", "no")],
                &[],
            ),
            ConfigNote::CqlshUnverified {
                cqlshrc,
                cqlsh,
                driver_version,
            } => {
                let (evidence, answer) = match (cqlsh, driver_version) {
                    (Some(p), Some(v)) => (
                        format!("{p} runs on cassandra-driver {v}, which builds its TLS context without verification from cqlsh's ssl options"),
                        format!("no: cassandra-driver {v}"),
                    ),
                    _ => (
                        "the cqlsh in use could not be found on PATH; if it runs on cassandra-driver 3.29 or 3.30 (as AWS's cqlsh-expansion installs), it does not verify the certificate".to_string(),
                        "unknown: if its driver is 3.29 or 3.30, no".to_string(),
                    ),
                };
                c.add(
                    LeafId::CqlshUnverified,
                    vec![format!("{cqlshrc} asks for verification ([ssl] validate)"), evidence],
                    vec![step("Does this cqlsh verify the server certificate?", answer)],
                    &[("config", cqlshrc.clone())],
                )
            }
            ConfigNote::AwsFileRefused {
                variable,
                path,
                problem,
            } => c.add(
                LeafId::AwsFileUnreadable,
                vec![format!("{variable}: {path} {problem}")],
                vec![step("Are the AWS config and credentials files readable files?", "no")],
                &[
                    ("aws_file_var", variable.clone()),
                    ("aws_file", path.clone()),
                    ("aws_file_problem", problem.clone()),
                ],
            ),
            ConfigNote::CaFileProblem { path, problem } => c.add(
                LeafId::CqlshrcCertfile,
                vec![format!("the certfile {path} {problem}")],
                vec![step("Can the configured CA file be read?", "no")],
                &[],
            ),
            ConfigNote::PasswordWhitespace {
                leading,
                trailing,
                newline,
            } if !auth_ok => c.add(
                LeafId::PasswordWhitespace,
                vec![format!(
                    "the password has{}{}{}",
                    if *leading { " leading whitespace" } else { "" },
                    if *trailing { " trailing whitespace" } else { "" },
                    if *newline { " a line break" } else { "" }
                )],
                vec![
                    step("Did CQL authentication succeed?", "no"),
                    step("Does the password have surrounding whitespace or a line break?", "yes"),
                ],
                &[],
            ),
            ConfigNote::UsernameNotServiceSpecific { username } if !auth_ok => c.add(
                LeafId::IamUsername,
                vec![format!(
                    "the user name '{username}' is not of the service-specific form <iam-user>-at-<account-id>"
                )],
                vec![
                    step(
                        "Did CQL authentication succeed?",
                        if auth_failed_0100 {
                            "no: 0x0100 Bad credentials"
                        } else {
                            "not yet tried"
                        },
                    ),
                    step("Is the user name of the form <user>-at-<account>?", "no"),
                ],
                &[],
            ),
            ConfigNote::RegionMismatch { signing, endpoint } if sigv4 => c.add(
                LeafId::RegionMismatch,
                vec![format!(
                    "SigV4 signs for region {signing} (from {}), the endpoint {} is in {endpoint}",
                    ev.target.region_source, ev.target.host
                )],
                vec![step("Does the signing region match the endpoint's region?", "no")],
                &[],
            ),
            ConfigNote::RegionNotNormalized { given } => c.add(
                LeafId::RegionNotNormalized,
                vec![format!("the region is written '{given}'")],
                vec![step("Is the region lower case without spaces?", "no")],
                &[],
            ),
            ConfigNote::UnknownRegion { region } => c.add(
                LeafId::UnknownRegion,
                vec![format!("'{region}' is not a region where Amazon Keyspaces is offered")],
                vec![step("Is the region a Keyspaces region?", "no")],
                &[],
            ),
            ConfigNote::NoRegion if sigv4 => c.add(
                LeafId::NoRegion,
                vec!["no region in --region, the host name, AWS_REGION or AWS_DEFAULT_REGION".into()],
                vec![step("Is a signing region configured?", "no")],
                &[],
            ),
            ConfigNote::HostHasPort { host } => c.add(
                LeafId::HostHasPort,
                vec![format!("the host setting is '{host}'")],
                vec![step("Is the host a bare name?", "no: it carries a port")],
                &[],
            ),
            _ => {}
        }
    }
}
