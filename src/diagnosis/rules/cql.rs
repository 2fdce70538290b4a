//! Rules on what the CQL server answered: protocol violations and silence,
//! authentication refusals (0x0100, 0x2100), denied system-table, table and write
//! requests, unknown keyspaces and tables, consistency levels, and an empty
//! `system.peers`.
use super::iam::{denial_finding, least_privilege, no_permissions, parse_denial, simulator_line};
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{AttemptOutcome, AuthFailure, AuthMode, CqlFailure, Operation};

pub(super) fn cql_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(q) = &ev.cql else { return };
    let sigv4 = ev.target.auth == AuthMode::SigV4;
    let said = q.connection_error.clone().unwrap_or_default();
    match q.connection_failure {
        Some(CqlFailure::ProtocolViolation) => {
            let e = &said;
            c.add(
                LeafId::ServerProtocolViolation,
                vec![e.clone()],
                vec![step(
                    "Does the peer answer CQL OPTIONS like Keyspaces?",
                    "no: a protocol violation",
                )],
                &[],
            );
        }
        Some(CqlFailure::NoAnswer) if ev.target.tls => {
            let e = &said;
            c.add(
                LeafId::CqlNoAnswer,
                vec![e.clone()],
                vec![step(
                    "Does the peer answer CQL OPTIONS like Keyspaces?",
                    "no answer within the timeout",
                )],
                &[],
            );
        }
        _ => {}
    }
    if let Some(a) = q
        .auth
        .as_ref()
        .filter(|a| a.failure == Some(AuthFailure::ChallengeUnusable))
    {
        c.add(
            LeafId::ServerProtocolViolation,
            vec![a.message.clone().unwrap_or_default()],
            vec![step("Is the server's SigV4 challenge a 32-character nonce?", "no")],
            &[],
        );
        return;
    }
    if let Some(a) = &q.auth
        && !a.ok
    {
        let msg = a.message.clone().unwrap_or_default();
        let server = format!(
            "the server answered {}: {msg}",
            a.code
                .map(|c| format!("0x{c:04X}"))
                .unwrap_or_else(|| "nothing usable".into())
        );
        let path0 = step(
            "Did CQL authentication succeed?",
            format!(
                "no: {}",
                a.code
                    .map(|c| format!("0x{c:04X}"))
                    .unwrap_or_else(|| "no answer".into())
            ),
        );
        match a.code {
            Some(0x2100) => no_permissions(
                c,
                vec![server],
                vec![path0, step("Does the principal hold any Keyspaces permission?", "no")],
                &[(
                    "principal_arn",
                    msg.trim_start_matches("User ")
                        .split(" has no")
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                )],
            ),
            // A more specific credentials finding (the user name's form, whitespace in
            // the password, an Inactive credential) `explains` this one when found.
            Some(0x0100) if !sigv4 => {
                c.add(
                    LeafId::WrongPassword,
                    vec![server],
                    vec![
                        path0,
                        step("Is the user name service-specific and the password clean?", "yes"),
                    ],
                    &[],
                );
            }
            // What STS, the clock and the region settings show `explains` this generic
            // refusal when found (the leaves' `explains` lists).
            Some(0x0100) => {
                {
                    // Each claim about STS comes from what STS answered, or says it did not.
                    let id = ev.identity.as_ref();
                    let (sts_said, sts_step) = match (
                        id.and_then(|i| i.caller.as_ref()),
                        id.and_then(|i| i.sts_error.as_ref()),
                    ) {
                        (Some(_), _) => ("STS accepts the same keys".to_string(), "yes".to_string()),
                        (None, Some(e)) => (
                            format!(
                                "STS could not confirm the keys: {}",
                                e.message.chars().take(120).collect::<String>()
                            ),
                            "unknown: STS did not answer usably".to_string(),
                        ),
                        (None, None) => (
                            "STS was not asked about these keys".to_string(),
                            "unknown: STS was not asked".to_string(),
                        ),
                    };
                    let clock = match id.and_then(|i| i.clock_offset_secs) {
                        Some(o) => format!("region as configured; clock {o} s from STS's"),
                        None => {
                            "region as configured; the clock could not be compared (no answer from STS)".to_string()
                        }
                    };
                    c.add(
                        LeafId::Sigv4Rejected,
                        vec![server],
                        vec![
                            path0,
                            step("Does STS accept the same keys?", sts_step),
                            step("Do the signing region and the clock look right?", clock),
                        ],
                        &[("sts_said", sts_said)],
                    );
                }
            }
            _ if matches!(a.failure, Some(AuthFailure::NoPassword | AuthFailure::NoUsername)) => {
                c.add(LeafId::MissingPassword, vec![msg], vec![path0], &[])
            }
            _ if a.failure == Some(AuthFailure::NoAwsCredentials) => {
                c.add(LeafId::NoAwsCredentials, vec![msg], vec![path0], &[])
            }
            _ => c.add(LeafId::Unknown, vec![server], vec![path0], &[]),
        }
    }
    for a in &q.attempts {
        let AttemptOutcome::Error { code, message } = &a.outcome else {
            continue;
        };
        match *code {
            0x2100 if a.operation.reads_system_tables() => {
                let mut evidence = vec![format!("{} → 0x2100: {message}", a.statement)];
                if let Some((_, _, resource)) = parse_denial(message)
                    && let Some(line) = simulator_line(ev, "cassandra:Select", &resource)
                {
                    evidence.push(line);
                }
                c.add(
                    LeafId::SystemTablesDenied,
                    evidence,
                    vec![
                        step("Did CQL authentication succeed?", "yes"),
                        step("Can the driver read the system tables?", "no: 0x2100"),
                    ],
                    &[],
                );
                let lp = least_privilege(
                    "cassandra:Select",
                    &c.vars["resource"],
                    &c.vars["region"],
                    &c.vars["account"],
                );
                if let Some(f) = c.finding_mut(LeafId::SystemTablesDenied) {
                    f.least_privilege_policy.get_or_insert(lp);
                    f.missing
                        .get_or_insert_with(|| "cassandra:Select on /keyspace/system*".into());
                }
            }
            0x2100 if a.operation == Operation::WriteProbe => denial_finding(c, a, message, true),
            0x2100 if a.operation == Operation::ReadTable => denial_finding(c, a, message, false),
            0x2200 if message.contains("unconfigured table") || message.contains("unconfigured keyspace") => {
                let leaf = if message.contains("keyspace") && !message.contains("table") {
                    LeafId::UnknownKeyspace
                } else {
                    LeafId::UnknownTable
                };
                c.add(
                    leaf,
                    vec![format!("{} → 0x2200: {message}", a.statement)],
                    vec![step("Does the table exist?", "no")],
                    &[],
                )
            }
            0x2200 if message.contains("Consistency level") => c.add(
                LeafId::ConsistencyLevel,
                vec![message.clone()],
                vec![step("Is the consistency level one Keyspaces supports?", "no")],
                &[],
            ),
            _ => {}
        }
    }
    if q.keyspace_exists == Some(false) && !c.has(LeafId::UnknownKeyspace) {
        c.add(
            LeafId::UnknownKeyspace,
            vec![format!(
                "system_schema.keyspaces has no keyspace {}",
                ev.target.keyspace.clone().unwrap_or_default()
            )],
            vec![step("Does the keyspace exist?", "no")],
            &[],
        );
    }
    if q.table_exists == Some(false) && !c.has(LeafId::UnknownTable) {
        c.add(
            LeafId::UnknownTable,
            vec![format!(
                "system_schema.tables lists no table {}",
                ev.target.table.clone().unwrap_or_default()
            )],
            vec![step("Does the table exist?", "no")],
            &[],
        );
    }
    if q.peers == Some(0) {
        c.add(LeafId::VpcePeers,
            vec![format!(
                "system.peers returned no rows (public endpoints list 9 peers){}",
                if ev.dns.as_ref().is_some_and(|d| d.private) { "; the host resolves to a private address, as through a VPC endpoint" } else { "" }
            )],
            vec![
                step("Does system.peers list the endpoint's peers?", "no: 0 rows"),
                step("Is this a VPC endpoint whose principal lacks ec2:DescribeNetworkInterfaces/ec2:DescribeVpcEndpoints?", "yes"),
            ],
            &[],
        );
        if let Some(f) = c.last_mut() {
            f.missing = Some("ec2:DescribeNetworkInterfaces and ec2:DescribeVpcEndpoints".into());
            f.least_privilege_policy = Some(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Sid": "ListVPCEndpoints", "Effect": "Allow",
                    "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcEndpoints"], "Resource": "*"}]
            }));
        }
    }
}
