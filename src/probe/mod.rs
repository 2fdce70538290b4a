//! The probe engine: runs DNS → TCP → TLS → CQL on the critical path and identity in
//! parallel, each step with its own timeout, emitting events as it goes and returning
//! the `Evidence`. Knows nothing about screens or reports.
pub mod aws_http;
pub mod cloudtrail;
pub mod cql;
pub mod dns;
pub mod driver;
pub mod identity;
pub mod io;
pub mod operations;
pub mod policies;
pub mod tcp;
pub mod tls;

use crate::evidence::{AuthFailure, Evidence, ProbeRecord, ProbeStatus, QueryAttempt, Step, TcpOutcome, TlsOutcome};
use crate::target::{AuthMode, Target};
use cql::CqlCredentials;
pub use io::Io;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// What the engine reports while it runs.
#[derive(Debug, Clone)]
pub enum Event {
    Probe(ProbeRecord),
    Attempt(QueryAttempt),
    /// The evidence so far.
    Snapshot(Box<Evidence>),
}

struct Recorder<'a> {
    tx: Option<&'a UnboundedSender<Event>>,
    records: Vec<ProbeRecord>,
}

impl Recorder<'_> {
    fn start(&self, name: Step) -> Instant {
        if let Some(tx) = self.tx {
            let _ = tx.send(Event::Probe(ProbeRecord {
                name,
                status: ProbeStatus::Running,
                duration_ms: 0,
                evidence: String::new(),
            }));
        }
        Instant::now()
    }

    fn finish(&mut self, name: Step, start: Instant, status: ProbeStatus, evidence: String) {
        let r = ProbeRecord {
            name,
            status,
            duration_ms: start.elapsed().as_millis() as u64,
            evidence: crate::outside::text::clean(&evidence),
        };
        if let Some(tx) = self.tx {
            let _ = tx.send(Event::Probe(r.clone()));
        }
        self.records.push(r);
    }

    fn push(&mut self, name: Step, duration_ms: u64, status: ProbeStatus, evidence: String) {
        let r = ProbeRecord {
            name,
            status,
            duration_ms,
            evidence: crate::outside::text::clean(&evidence),
        };
        if let Some(tx) = self.tx {
            let _ = tx.send(Event::Probe(r.clone()));
        }
        self.records.push(r);
    }

    fn skip(&mut self, name: Step, why: &str) {
        let s = Instant::now();
        self.finish(name, s, ProbeStatus::Skipped, why.into());
    }
}

pub use io::Env;

/// The process's environment, for building a `Target` the way `check` does.
pub fn real_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// Runs every probe for `target` and returns what they saw.
pub async fn run(target: &Target, io: &Io, tx: Option<UnboundedSender<Event>>) -> Evidence {
    let mut ev = Evidence {
        target: target.summary(),
        config: target.notes.clone(),
        ..Default::default()
    };
    let snapshot = |ev: &Evidence| {
        if let Some(tx) = &tx {
            let _ = tx.send(Event::Snapshot(Box::new(ev.clone().sanitized())));
        }
    };
    snapshot(&ev);
    let mut rec = Recorder {
        tx: tx.as_ref(),
        records: vec![],
    };

    // Identity runs beside the network path; the system store is read once, off the
    // async threads, for both the AWS SDK's HTTPS client and the TLS verdicts.
    let (keys_tx, keys_rx) = tokio::sync::oneshot::channel();
    // It runs as a task of its own: the AWS SDK reads files (tokens, profiles) and a read
    // that blocks there stalls only that task, never the deadline of the whole run.
    let (target_owned, io_owned, tx_owned) = (target.clone(), io.clone(), tx.clone());
    let env_snapshot: std::collections::HashMap<&'static str, String> = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .filter_map(|k| (io.env)(k).map(|v| (k, v)))
        .collect();
    let identity_task = tokio::spawn(async move {
        let (target, io, tx) = (&target_owned, &io_owned, &tx_owned);
        let env = move |k: &str| env_snapshot.get(k).cloned();
        let start = Instant::now();
        let (roots, _) = io.roots().await;
        let conf = identity::load_config(target, io, &roots).await;
        let (mut report, keys) = identity::probe(target, &conf, io, &env, Some(keys_tx)).await;
        let principal = report
            .assume_role
            .as_ref()
            .and_then(|a| a.assumed_arn.clone())
            .or_else(|| report.caller.as_ref().map(|c| c.arn.clone()));
        if let (Some(k), Some(arn)) = (&keys, principal) {
            let (p, ssc, trail) = tokio::join!(
                policies::probe(target, &conf, k, &arn),
                policies::service_credentials(target, &conf, k, &arn),
                cloudtrail::probe(target, &conf, k, &arn, io.clock.now())
            );
            report.policies = Some(p);
            report.service_credentials = ssc;
            report.cloudtrail = Some(trail);
        }
        // The step's record, sent as soon as it ends (a cut run still shows it).
        let (status, summary) = identity_record(target, &report);
        let record = ProbeRecord {
            name: Step::Identity,
            status,
            duration_ms: start.elapsed().as_millis() as u64,
            evidence: crate::outside::text::clean(&summary),
        };
        if let Some(tx) = &tx {
            let _ = tx.send(Event::Probe(record.clone()));
        }
        (report, record)
    });
    let identity = async move {
        identity_task.await.unwrap_or_else(|e| {
            (
                crate::evidence::IdentityReport::default(),
                ProbeRecord {
                    name: Step::Identity,
                    status: ProbeStatus::Failed,
                    duration_ms: 0,
                    evidence: format!("the identity step ended abnormally: {e}"),
                },
            )
        })
    };

    let path = async {
        let mut recs = Vec::new();
        // Each step is reported as it ends, so a run cut by the total timeout still
        // shows how far it got.
        let announce = |name: Step, ms: u64, status: ProbeStatus, evidence: &str| {
            if let Some(tx) = &tx {
                let _ = tx.send(Event::Probe(ProbeRecord {
                    name,
                    status,
                    duration_ms: ms,
                    evidence: crate::outside::text::clean(evidence),
                }));
            }
        };
        let t = Instant::now();
        let (dns, addrs) = dns::probe(target, io).await;
        recs.push((
            Step::Dns,
            t.elapsed().as_millis() as u64,
            if dns.error.is_none() {
                ProbeStatus::Ok
            } else {
                ProbeStatus::Failed
            },
            dns.error.clone().unwrap_or_else(|| {
                format!(
                    "{} → {}",
                    dns.host,
                    dns.addresses
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        ));
        if let Some((n, ms, st, e)) = recs.last() {
            announce(*n, *ms, *st, e);
        }
        let Some(addr) = addrs.first().copied() else {
            return (Some(dns), None, None, None, recs, None);
        };
        announce(Step::Tcp, 0, ProbeStatus::Running, "");
        let t = Instant::now();
        let (tcp, stream) = tcp::probe(addr, io, target.step_timeout).await;
        let status = match tcp.outcome {
            TcpOutcome::Connected => ProbeStatus::Ok,
            TcpOutcome::TimedOut => ProbeStatus::TimedOut,
            _ => ProbeStatus::Failed,
        };
        recs.push((
            Step::Tcp,
            t.elapsed().as_millis() as u64,
            status,
            format!("{} {} in {} ms", tcp.address, tcp.outcome, tcp.connect_ms),
        ));
        if let Some((n, ms, st, e)) = recs.last() {
            announce(*n, *ms, *st, e);
        }
        let Some(stream) = stream else {
            return (Some(dns), Some(tcp), None, Some(addr), recs, None);
        };
        announce(Step::Tls, 0, ProbeStatus::Running, "");
        let t = Instant::now();
        let tls = tls::probe(target, io, stream).await;
        let status = match &tls.outcome {
            TlsOutcome::Established => ProbeStatus::Ok,
            TlsOutcome::NoAnswer => ProbeStatus::TimedOut,
            _ => ProbeStatus::Failed,
        };
        recs.push((
            Step::Tls,
            t.elapsed().as_millis() as u64,
            status,
            format!(
                "{} {}; {}",
                tls.outcome,
                tls.version.clone().unwrap_or_default(),
                tls.verdicts
                    .iter()
                    .map(|v| format!("{}: {}", v.source, if v.verified { "trusted" } else { "not trusted" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        if let Some((n, ms, st, e)) = recs.last() {
            announce(*n, *ms, *st, e);
        }
        // CQL: only where the path reached a server that completed a TLS handshake (or
        // the client has TLS off, which is reproduced as such). It starts as soon as the
        // credentials are known, beside the rest of the identity probe.
        let tls_ok = tls.outcome == TlsOutcome::Established;
        let cql = if tls_ok || !target.tls {
            let keys = match target.auth {
                AuthMode::SigV4 => keys_rx.await.ok().flatten(),
                AuthMode::Password => None,
            };
            Some(cql_stage(target, io, addr, keys, tx.clone()).await)
        } else {
            None
        };
        (Some(dns), Some(tcp), Some(tls), Some(addr), recs, cql)
    };

    rec.start(Step::Dns);
    rec.start(Step::Identity);
    let ((dns, tcp, tls, _addr, recs, cql), (id_report, id_record)) = tokio::join!(path, identity);
    for (name, ms, status, evidence) in recs {
        rec.push(name, ms, status, evidence);
    }
    rec.records.push(id_record);
    ev.driver_configs = driver_configs(
        target,
        io,
        tls.as_ref().map(|t| t.chain_der.clone()).unwrap_or_default(),
    )
    .await;
    ev.dns = dns;
    ev.tcp = tcp;
    ev.tls = tls;
    ev.identity = Some(id_report);
    snapshot(&ev);

    match cql {
        Some((report, status, summary, ms)) => {
            rec.push(Step::Cql, ms, status, summary);
            ev.cql = Some(report);
        }
        None => rec.skip(
            Step::Cql,
            "not attempted: the endpoint did not complete a TLS handshake",
        ),
    }
    if let Some(id) = &ev.identity {
        let principal = id
            .assume_role
            .as_ref()
            .and_then(|a| a.assumed_arn.clone())
            .or_else(|| id.caller.as_ref().map(|c| c.arn.clone()));
        let read_ok = ev.cql.as_ref().is_some_and(|q| {
            q.attempts.iter().any(|a| {
                a.operation == crate::evidence::Operation::ReadTable
                    && matches!(a.outcome, crate::evidence::AttemptOutcome::Ok { .. })
            })
        });
        if let Some(arn) = &principal {
            ev.operations = operations::evaluate(target, arn, id.policies.as_ref(), read_ok);
        }
    }
    ev.probes = rec.records;
    ev.finished = true;
    let ev = ev.sanitized();
    if let Some(tx) = &tx {
        let _ = tx.send(Event::Snapshot(Box::new(ev.clone())));
    }
    ev
}

/// The identity step's status and one line of what it saw. With service-specific
/// credentials a host without AWS credentials skips it: the connection does not use them.
fn identity_record(target: &Target, r: &crate::evidence::IdentityReport) -> (ProbeStatus, String) {
    match (&r.caller, &r.sts_error, &r.chain_error) {
        (Some(c), _, _) => (ProbeStatus::Ok, c.arn.clone()),
        (_, Some(e), _) => (
            ProbeStatus::Failed,
            format!(
                "{}: {}",
                e.code.clone().unwrap_or_else(|| "no answer".into()),
                e.message
            ),
        ),
        (_, _, Some(e)) if target.auth == AuthMode::Password => (
            ProbeStatus::Skipped,
            format!("no AWS credentials (not needed for password authentication): {e}"),
        ),
        (_, _, Some(e)) => (ProbeStatus::Failed, e.clone()),
        _ => (ProbeStatus::Failed, "no identity".into()),
    }
}

/// Runs every probe within the target's total timeout. When the timeout ends the run
/// first, the evidence is what the steps reported so far: the unfinished steps are
/// marked as cut, `cut` names them, and the report is still made from it.
pub async fn run_within_total(target: &Target, io: &Io, tx: Option<UnboundedSender<Event>>) -> Evidence {
    let (itx, mut irx) = tokio::sync::mpsc::unbounded_channel();
    let run = run(target, io, Some(itx));
    tokio::pin!(run);
    let deadline = tokio::time::sleep(target.total_timeout);
    tokio::pin!(deadline);
    let mut seen = Seen::default();
    let pass = |e: Event, seen: &mut Seen| {
        seen.note(&e);
        if let Some(tx) = &tx {
            let _ = tx.send(e);
        }
    };
    loop {
        tokio::select! {
            biased;
            ev = &mut run => {
                while let Ok(e) = irx.try_recv() {
                    pass(e, &mut seen);
                }
                return ev;
            }
            Some(e) = irx.recv() => pass(e, &mut seen),
            _ = &mut deadline => {
                while let Ok(e) = irx.try_recv() {
                    pass(e, &mut seen);
                }
                let ev = seen.cut(target);
                if let Some(tx) = &tx {
                    let _ = tx.send(Event::Snapshot(Box::new(ev.clone())));
                }
                return ev;
            }
        }
    }
}

/// What a run reported so far, for a partial report.
#[derive(Default)]
struct Seen {
    last: Option<Evidence>,
    records: Vec<ProbeRecord>,
    attempts: Vec<QueryAttempt>,
}

impl Seen {
    fn note(&mut self, e: &Event) {
        match e {
            Event::Probe(r) => match self.records.iter_mut().find(|p| p.name == r.name) {
                Some(p) => *p = r.clone(),
                None => self.records.push(r.clone()),
            },
            Event::Attempt(a) => self.attempts.push(a.clone()),
            Event::Snapshot(ev) => self.last = Some((**ev).clone()),
        }
    }

    /// The evidence of a run the total timeout ended.
    fn cut(self, target: &Target) -> Evidence {
        let mut ev = self.last.unwrap_or_else(|| Evidence {
            target: target.summary(),
            config: target.notes.clone(),
            ..Default::default()
        });
        let ms = target.total_timeout.as_millis() as u64;
        let mut steps = Vec::new();
        let mut records = self.records;
        for r in records.iter_mut().filter(|r| r.status == ProbeStatus::Running) {
            r.status = ProbeStatus::TimedOut;
            r.evidence = format!("cut: the total timeout ({ms} ms) ended the check before this step finished");
            steps.push(r.name);
        }
        ev.probes = records;
        if ev.cql.is_none() && !self.attempts.is_empty() {
            ev.cql = Some(crate::evidence::CqlReport {
                attempts: self.attempts,
                ..Default::default()
            });
        }
        ev.finished = true;
        ev.cut = Some(crate::evidence::CutShort {
            total_timeout_ms: ms,
            steps,
        });
        ev
    }
}

/// Lints the `--driver-config` files off the async threads (opening a PKCS#12 store runs
/// its key derivation) and within the step timeout.
async fn driver_configs(
    target: &Target,
    io: &Io,
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
) -> Vec<crate::evidence::DriverConfigReport> {
    if target.driver_configs.is_empty() {
        return vec![];
    }
    let t = target.clone();
    let (files, env) = (io.files.clone(), io.env.clone());
    let work = tokio::task::spawn_blocking(move || {
        let expect = crate::driver_config::Expect {
            files: files.as_ref(),
            env: env.as_ref(),
            host: &t.host,
            port: t.port,
            region: t.host_region.as_deref().or(t.region.as_deref()),
            tls_name: &t.tls_name,
            chain: &chain,
        };
        t.driver_configs
            .iter()
            .map(|p| crate::driver_config::inspect(p, &expect))
            .collect::<Vec<_>>()
    });
    match tokio::time::timeout(target.step_timeout * 2, work).await {
        Ok(Ok(reports)) => reports,
        _ => target
            .driver_configs
            .iter()
            .map(|p| crate::evidence::DriverConfigReport {
                path: p.display().to_string(),
                kind: crate::evidence::ConfigFileKind::Unknown,
                problems: vec![],
                truststore: None,
                parse_errors: vec![format!(
                    "not linted: reading it (or its truststore) took longer than {:?}",
                    target.step_timeout * 2
                )],
            })
            .collect(),
    }
}

/// The CQL probe with the credentials of the target's auth mode.
async fn cql_stage(
    target: &Target,
    io: &Io,
    addr: std::net::SocketAddr,
    keys: Option<identity::SigningKeys>,
    tx: Option<UnboundedSender<Event>>,
) -> (crate::evidence::CqlReport, ProbeStatus, String, u64) {
    let creds = match target.auth {
        AuthMode::Password => match (&target.username, &target.password) {
            (Some(u), Some(p)) => CqlCredentials::Password {
                username: u.clone(),
                password: p.clone(),
            },
            (None, _) => CqlCredentials::Missing(
                AuthFailure::NoUsername,
                "no username: pass --username or set it in cqlshrc".into(),
            ),
            (_, None) => CqlCredentials::Missing(
                AuthFailure::NoPassword,
                "no password: set KEYSPACES_PASSWORD or [authentication] password in cqlshrc".into(),
            ),
        },
        AuthMode::SigV4 => match keys {
            Some(k) => CqlCredentials::SigV4 {
                access_key_id: k.access_key_id,
                secret: k.secret,
                session_token: k.session_token,
                region: target.signing_region().unwrap_or("us-east-1").to_string(),
            },
            None => CqlCredentials::Missing(
                AuthFailure::NoAwsCredentials,
                "no AWS credentials were found in the AWS credential chain".into(),
            ),
        },
    };
    let t = Instant::now();
    if let Some(tx) = &tx {
        let _ = tx.send(Event::Probe(ProbeRecord {
            name: Step::Cql,
            status: ProbeStatus::Running,
            duration_ms: 0,
            evidence: String::new(),
        }));
    }
    let (atx, mut arx) = tokio::sync::mpsc::unbounded_channel::<QueryAttempt>();
    let fwd = tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(mut a) = arx.recv().await {
            if let Some(tx) = &fwd {
                if let crate::evidence::AttemptOutcome::Error { message, .. }
                | crate::evidence::AttemptOutcome::Failed { message } = &mut a.outcome
                {
                    *message = crate::outside::text::clean(message.as_str());
                }
                let _ = tx.send(Event::Attempt(a));
            }
        }
    });
    let report = cql::probe(target, io, addr, creds, Some(&atx)).await;
    drop(atx);
    let _ = forward.await;
    let status = match (&report.connection_error, &report.auth) {
        (Some(_), _) => ProbeStatus::Failed,
        (None, Some(a)) if !a.ok => ProbeStatus::Failed,
        _ if report
            .attempts
            .iter()
            .any(|a| !matches!(a.outcome, crate::evidence::AttemptOutcome::Ok { .. })) =>
        {
            ProbeStatus::Failed
        }
        _ => ProbeStatus::Ok,
    };
    let summary = report
        .connection_error
        .clone()
        .or_else(|| {
            report
                .auth
                .as_ref()
                .filter(|a| !a.ok)
                .map(|a| format!("authentication refused: {}", a.message.clone().unwrap_or_default()))
        })
        .unwrap_or_else(|| {
            let failed: Vec<&QueryAttempt> = report
                .attempts
                .iter()
                .filter(|a| !matches!(a.outcome, crate::evidence::AttemptOutcome::Ok { .. }))
                .collect();
            match failed.first() {
                None => format!("{} attempts, all answered", report.attempts.len()),
                Some(first) => format!(
                    "{} attempts, {} failed; first: {} → {}",
                    report.attempts.len(),
                    failed.len(),
                    first.operation,
                    first.outcome
                ),
            }
        });
    (report, status, summary, t.elapsed().as_millis() as u64)
}
