//! Rules on the path to the endpoint: name resolution, TCP, the TLS handshake, and
//! whether the certificate chain verifies for the name the client dials against the
//! trust source the client really uses.
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{TcpOutcome, TlsOutcome, TrustSource, VerifyProblem};

pub(super) fn path_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    if let Some(d) = &ev.dns
        && let Some(e) = &d.error
    {
        c.add(
            LeafId::DnsFailure,
            vec![e.clone()],
            vec![step("Does the host resolve?", "no")],
            &[],
        );
    }
    if let Some(t) = &ev.tcp {
        match &t.outcome {
            TcpOutcome::Refused => c.add(
                LeafId::PortRefused,
                vec![format!("{} refused the connection", t.address)],
                vec![step("Does the port accept TCP?", "no: refused")],
                &[],
            ),
            TcpOutcome::TimedOut if ev.target.port != 9142 => c.add(
                LeafId::PortSilent,
                vec![format!(
                    "no TCP answer from {} (port {} is not 9142)",
                    t.address, ev.target.port
                )],
                vec![step("Does the port accept TCP?", "no answer")],
                &[],
            ),
            TcpOutcome::TimedOut | TcpOutcome::Error { .. } => c.add(
                LeafId::TcpTimeout,
                vec![format!("no TCP connection to {}: {}", t.address, t.outcome)],
                vec![step("Does the port accept TCP?", "no answer")],
                &[],
            ),
            TcpOutcome::Connected => {}
        }
    }
    if let Some(t) = &ev.tls {
        let path = vec![
            step("Does the port accept TCP?", "yes"),
            step("Does the endpoint complete a TLS handshake?", "no"),
        ];
        match &t.outcome {
            TlsOutcome::NoAnswer => c.add(
                LeafId::PortSilent,
                vec![format!(
                    "port {} accepted TCP but sent no TLS answer within {} ms: it is not a Keyspaces endpoint",
                    ev.target.port, t.handshake_ms
                )],
                path,
                &[],
            ),
            TlsOutcome::Closed | TlsOutcome::NotTls { .. } | TlsOutcome::Failed { .. } => c.add(
                LeafId::TlsClosed,
                vec![format!("the TLS handshake ended: {}", t.outcome)],
                path,
                &[],
            ),
            TlsOutcome::VersionRefused { detail } => c.add(LeafId::TlsVersionRefused, vec![detail.clone()], path, &[]),
            _ => {}
        }
    }
}

pub(super) fn tls_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(t) = &ev.tls else { return };
    if t.chain.is_empty() {
        return;
    }
    let ca = t.verdicts.iter().find(|v| v.source == TrustSource::CaFile);
    let sys = t.verdicts.iter().find(|v| v.source == TrustSource::System);
    let ks = t.verdicts.iter().find(|v| v.source == TrustSource::KeyspacesRoots);
    let effective = ca.or(sys);
    let top_issuer = t.chain.last().map(|c| c.issuer.clone()).unwrap_or_default();
    let Some(eff) = effective else { return };
    let source_name = match eff.source {
        TrustSource::CaFile => format!("your CA file {}", eff.origin),
        TrustSource::System => format!("the system trust store ({})", eff.origin),
        TrustSource::KeyspacesRoots => "the Keyspaces roots".into(),
    };
    let mut path = vec![
        step(
            "Does the endpoint complete a TLS handshake?",
            format!("yes, {}", t.version.clone().unwrap_or_default()),
        ),
        step(
            &format!("Does {source_name} verify the chain for {}?", t.verify_name),
            if eff.verified {
                "yes".to_string()
            } else {
                format!(
                    "no: {}",
                    eff.problem
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "the chain does not verify".into())
                )
            },
        ),
    ];
    if !eff.verified {
        match eff.problem {
            Some(VerifyProblem::NameMismatch) => {
                let names = t.chain.first().map(|c| c.dns_names.join(", ")).unwrap_or_default();
                // The title names what the certificate really holds (at most three names).
                let shown = t
                    .chain
                    .first()
                    .map(|c| {
                        let mut n: Vec<String> = c.dns_names.iter().take(3).cloned().collect();
                        if c.dns_names.len() > 3 {
                            n.push(format!("{} more", c.dns_names.len() - 3));
                        }
                        n.join(", ")
                    })
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "other names".into());
                c.add(
                    LeafId::HostnameMismatch,
                    vec![format!(
                        "the certificate is valid for {names}, the client verifies against {}",
                        t.verify_name
                    )],
                    path,
                    &[("cert_names", shown)],
                );
            }
            Some(VerifyProblem::Expired) | Some(VerifyProblem::NotYetValid) => c.add(
                LeafId::CertExpired,
                vec![eff.detail.clone().unwrap_or_default()],
                path,
                &[],
            ),
            _ => {
                let would = ks.is_some_and(|k| k.verified);
                path.push(step(
                    "Would the five Keyspaces roots verify it?",
                    if would { "yes" } else { "no" },
                ));
                let leaf = if eff.source == TrustSource::CaFile {
                    LeafId::CaMissingRoot
                } else {
                    LeafId::SystemStoreMissingRoot
                };
                c.add(
                    leaf,
                    vec![
                        format!(
                            "{source_name} ({} roots) does not hold the root of this chain: {}",
                            eff.roots,
                            eff.detail.clone().unwrap_or_default()
                        ),
                        format!("the chain's top certificate is issued by {top_issuer}"),
                    ],
                    path,
                    &[],
                );
            }
        }
        return;
    }
    let others_fail: Vec<String> = [sys, ks]
        .into_iter()
        .flatten()
        .filter(|v| !v.verified && Some(v.source.clone()) != effective.map(|e| e.source.clone()))
        .map(|v| format!("{} ({}) does not verify it", v.source, v.origin))
        .collect();
    if eff.source == TrustSource::CaFile && !others_fail.is_empty() {
        c.add(LeafId::LabCaUnknown, others_fail, path.clone(), &[]);
    }
}
