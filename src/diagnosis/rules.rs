//! The rules that turn evidence into findings: each asks one question of the evidence,
//! records the answer on the path, and lands on a leaf of `assets/tree/leaves.toml`.
use super::{Finding, Fix, PathStep, Severity, leaves};
use crate::evidence::{
    AttemptOutcome, ConfigNote, Evidence, QueryAttempt, TcpOutcome, TlsOutcome, TrustSource, VerifyProblem,
};
use crate::iam::{Decision, ResourceArn, policy::wildcard_match};
use std::collections::BTreeMap;

/// Lower ranks are closer to the root cause.
mod rank {
    pub const CROSS_ACCOUNT: u32 = 5;
    pub const TLS_OFF: u32 = 10;
    pub const ENDPOINT: u32 = 12;
    pub const TLS_NAME: u32 = 14;
    pub const TLS_TRUST: u32 = 16;
    pub const REGION: u32 = 20;
    pub const CLOCK: u32 = 22;
    pub const EXPIRED: u32 = 24;
    pub const CREDENTIALS: u32 = 26;
    pub const NO_PERMISSIONS: u32 = 30;
    pub const SYSTEM_SCOPE: u32 = 32;
    pub const PERMISSION: u32 = 34;
    pub const PEERS: u32 = 36;
    pub const SCHEMA: u32 = 40;
    /// Problems in a deployed driver configuration: after what the live probes saw.
    pub const DRIVER_CONFIG: u32 = 60;
    /// The total timeout cut the run: after every cause the partial evidence shows.
    pub const CUT: u32 = 70;
    /// A failed step no rule explains (fail closed).
    pub const UNEXPLAINED: u32 = 80;
    pub const WARNING: u32 = 90;
}

struct Ctx<'a> {
    ev: &'a Evidence,
    vars: BTreeMap<&'static str, String>,
    out: Vec<Finding>,
}

fn step(q: &str, a: impl Into<String>) -> PathStep {
    PathStep {
        question: q.into(),
        answer: a.into(),
    }
}

impl Ctx<'_> {
    fn has(&self, leaf: &str) -> bool {
        self.out.iter().any(|f| f.leaf == leaf)
    }

    fn has_cause_rank_below(&self, r: u32) -> bool {
        self.out.iter().any(|f| f.severity == Severity::Problem && f.rank < r)
    }

    fn add(
        &mut self,
        leaf: &str,
        rank: u32,
        evidence: Vec<String>,
        path: Vec<PathStep>,
        extra: &[(&'static str, String)],
    ) {
        if let Some(f) = self.out.iter_mut().find(|f| f.leaf == leaf) {
            for e in evidence {
                if !f.evidence.contains(&e) {
                    f.evidence.push(e);
                }
            }
            return;
        }
        let Some(l) = leaves::get(leaf).or_else(|| leaves::get("unknown")) else {
            return;
        };
        let mut vars = self.vars.clone();
        for (k, v) in extra {
            vars.insert(k, v.clone());
        }
        let fill = |s: &str| leaves::fill(s, &vars);
        let mut replaced: Vec<String> = Vec::new();
        let commands: Vec<String> = l
            .commands
            .iter()
            .map(|s| {
                let (line, r) = leaves::fill_command(s, &vars);
                for n in r {
                    if !replaced.contains(&n) {
                        replaced.push(n);
                    }
                }
                line
            })
            .collect();
        // The tree's path to this leaf, then the evidence that answered it here.
        let mut full: Vec<PathStep> = super::tree::tree()
            .best_path_to(&l.id, &evidence)
            .unwrap_or_default()
            .into_iter()
            .map(|(q, a)| step(&q, a))
            .collect();
        full.extend(path);
        let path = full;
        self.out.push(Finding {
            cause: l.cause,
            severity: l.severity,
            leaf: l.id.clone(),
            title: fill(&l.title),
            why: fill(&l.why),
            evidence,
            fix: Fix {
                steps: l
                    .fix
                    .iter()
                    .map(|s| fill(s))
                    .chain((!replaced.is_empty()).then(|| {
                        format!(
                            "In the commands, {} stands for a value that did not look like a valid AWS name, ARN or host, so it was not pasted in: fill it in by hand.",
                            replaced.join(", ")
                        )
                    }))
                    .collect(),
                commands: commands.clone(),
                doc: l.doc.clone(),
                retry: l.retry.clone(),
            },
            path,
            policy_arn: None,
            statement: None,
            missing: None,
            least_privilege_policy: None,
            rank: if l.severity == Severity::Warning {
                rank::WARNING
            } else {
                rank
            },
        });
    }

    fn last_mut(&mut self) -> Option<&mut Finding> {
        self.out.last_mut()
    }
}

fn account_of(ev: &Evidence) -> String {
    ev.identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .map(|c| c.account.clone())
        .or_else(|| {
            ev.target
                .username
                .as_ref()
                .and_then(|u| u.rsplit_once("-at-").map(|(_, a)| a.to_string()))
        })
        .unwrap_or_else(|| "<account-id>".into())
}

fn iam_user_of(ev: &Evidence) -> String {
    ev.identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .and_then(|c| {
            c.arn
                .split(":user/")
                .nth(1)
                .map(|u| u.rsplit('/').next().unwrap_or(u).to_string())
        })
        .or_else(|| {
            ev.target.username.as_ref().map(|u| {
                u.rsplit_once("-at-")
                    .map(|(n, _)| n.to_string())
                    .unwrap_or_else(|| u.clone())
            })
        })
        .unwrap_or_else(|| "<iam-user>".into())
}

fn vars(ev: &Evidence) -> BTreeMap<&'static str, String> {
    let t = &ev.target;
    let region = t
        .region
        .clone()
        .or(t.host_region.clone())
        .unwrap_or_else(|| "<region>".into());
    let mut v = BTreeMap::new();
    v.insert("host", t.host.clone());
    v.insert("port", t.port.to_string());
    v.insert("region", region.to_ascii_lowercase());
    v.insert(
        "endpoint_region",
        t.host_region.clone().unwrap_or_else(|| region.clone()),
    );
    v.insert("signing_region", t.region.clone().unwrap_or_else(|| "<none>".into()));
    v.insert("username", t.username.clone().unwrap_or_else(|| "<username>".into()));
    v.insert("iam_user", iam_user_of(ev));
    v.insert("account", account_of(ev));
    v.insert("keyspace", t.keyspace.clone().unwrap_or_else(|| "<keyspace>".into()));
    v.insert("table", t.table.clone().unwrap_or_else(|| "<table>".into()));
    v.insert("tls_name", t.tls_name.clone());
    v.insert("ca_file", t.ca_file.clone().unwrap_or_else(|| "<ca-file>".into()));
    v.insert("role_arn", t.role_arn.clone().unwrap_or_else(|| "<role-arn>".into()));
    let caller = ev
        .identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .map(|c| c.arn.clone())
        .unwrap_or_else(|| "<caller-arn>".into());
    v.insert("caller_arn", caller.clone());
    v.insert("principal_arn", caller);
    v.insert(
        "offset",
        ev.identity
            .as_ref()
            .and_then(|i| i.clock_offset_secs)
            .map(|o| o.to_string())
            .unwrap_or_else(|| "?".into()),
    );
    let table_arn = ResourceArn::table(
        &region.to_ascii_lowercase(),
        &account_of(ev),
        t.keyspace.as_deref().unwrap_or("<keyspace>"),
        t.table.as_deref().unwrap_or("<table>"),
    )
    .arn();
    v.insert("resource", table_arn);
    v.insert("action", "cassandra:Select".into());
    v.insert("policy_arn", "<policy>".into());
    v.insert("sid", "<statement>".into());
    v
}

pub fn findings(ev: &Evidence) -> Vec<Finding> {
    let mut c = Ctx {
        ev,
        vars: vars(ev),
        out: vec![],
    };
    identity_rules(&mut c);
    service_credential_rules(&mut c);
    config_rules(&mut c);
    path_rules(&mut c);
    tls_rules(&mut c);
    cql_rules(&mut c);
    driver_config_rules(&mut c);
    cut_short(&mut c);
    unexplained_failures(&mut c);
    c.out
}

/// The total timeout ended the run before every step finished: what was seen is
/// reported, and the run is not a success.
fn cut_short(c: &mut Ctx<'_>) {
    let Some(cut) = &c.ev.cut else { return };
    let steps = if cut.steps.is_empty() {
        "the steps after the last one reported".to_string()
    } else {
        cut.steps.join(", ")
    };
    c.add(
        "check-cut-short",
        rank::CUT,
        vec![format!(
            "--total-timeout {} ms ended the check before these steps finished: {steps}",
            cut.total_timeout_ms
        )],
        vec![step(
            "Did every step finish within the total timeout?",
            format!("no: {steps}"),
        )],
        &[
            ("cut_steps", steps.clone()),
            ("total_ms", cut.total_timeout_ms.to_string()),
        ],
    );
}

/// Fail closed: a step of the connection that failed, timed out or never ran, while no
/// problem explains it, is a problem of its own with cause `unknown`. Identity is a step
/// of the connection only when the client signs with SigV4.
fn unexplained_failures(c: &mut Ctx<'_>) {
    use crate::evidence::ProbeStatus;
    let ev = c.ev;
    if !ev.finished || c.out.iter().any(|f| f.severity == Severity::Problem) {
        return;
    }
    let mut required = vec!["dns", "tcp"];
    if ev.target.tls {
        required.push("tls");
    }
    required.push("cql");
    if ev.target.auth == "sigv4" {
        required.push("identity");
    }
    for name in required {
        let record = ev.probes.iter().find(|p| p.name == name);
        let (status, seen) = match record {
            Some(p) if p.status == ProbeStatus::Ok => continue,
            Some(p) => (p.status.to_string(), p.evidence.clone()),
            None => ("never ran".to_string(), "no record of this step".to_string()),
        };
        c.add(
            "unexplained-failure",
            rank::UNEXPLAINED,
            vec![format!("{name} step {status}: {seen}")],
            vec![step(
                "Did every step of the connection succeed?",
                format!("no: {name} {status}"),
            )],
            &[("step", name.to_string()), ("step_status", status)],
        );
    }
    if let Some(d) = ev.cql.as_ref().and_then(|q| q.driver.as_ref()).filter(|d| !d.ok) {
        c.add(
            "unexplained-failure",
            rank::UNEXPLAINED,
            vec![format!("{} driver session failed: {}", d.driver, d.detail)],
            vec![step("Did a real driver connect with the same settings?", "no")],
            &[("step", "driver session".into()), ("step_status", "failed".into())],
        );
    }
}

/// Each problem in a `--driver-config` file, with its file and line.
fn driver_config_rules(c: &mut Ctx<'_>) {
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
                &p.leaf,
                rank::DRIVER_CONFIG,
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

fn config_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let auth_failed_0100 = ev
        .cql
        .as_ref()
        .and_then(|q| q.auth.as_ref())
        .is_some_and(|a| a.code == Some(0x0100));
    let auth_ok = ev.cql.as_ref().and_then(|q| q.auth.as_ref()).is_some_and(|a| a.ok);
    let sigv4 = ev.target.auth == "sigv4";
    for n in &ev.config {
        match n {
            ConfigNote::TlsDisabled => c.add(
                "tls-disabled",
                rank::TLS_OFF,
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
                "verification-disabled",
                rank::WARNING,
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
                    "cqlsh-unverified",
                    rank::WARNING,
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
                "aws-file-unreadable",
                rank::CREDENTIALS,
                vec![format!("{variable}: {path} {problem}")],
                vec![step("Are the AWS config and credentials files readable files?", "no")],
                &[
                    ("aws_file_var", variable.clone()),
                    ("aws_file", path.clone()),
                    ("aws_file_problem", problem.clone()),
                ],
            ),
            ConfigNote::CaFileProblem { path, problem } => c.add(
                "cqlshrc-certfile",
                rank::TLS_TRUST,
                vec![format!("the certfile {path} {problem}")],
                vec![step("Can the configured CA file be read?", "no")],
                &[],
            ),
            ConfigNote::PasswordWhitespace {
                leading,
                trailing,
                newline,
            } if !auth_ok => c.add(
                "password-whitespace",
                rank::CREDENTIALS - 1,
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
                "iam-username",
                rank::CREDENTIALS - 2,
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
                "region-mismatch",
                rank::REGION,
                vec![format!(
                    "SigV4 signs for region {signing} (from {}), the endpoint {} is in {endpoint}",
                    ev.target.region_source, ev.target.host
                )],
                vec![step("Does the signing region match the endpoint's region?", "no")],
                &[],
            ),
            ConfigNote::RegionNotNormalized { given } => c.add(
                "region-not-normalized",
                rank::REGION,
                vec![format!("the region is written '{given}'")],
                vec![step("Is the region lower case without spaces?", "no")],
                &[],
            ),
            ConfigNote::UnknownRegion { region } => c.add(
                "unknown-region",
                rank::REGION,
                vec![format!("'{region}' is not a region where Amazon Keyspaces is offered")],
                vec![step("Is the region a Keyspaces region?", "no")],
                &[],
            ),
            ConfigNote::NoRegion if sigv4 => c.add(
                "no-region",
                rank::REGION,
                vec!["no region in --region, the host name, AWS_REGION or AWS_DEFAULT_REGION".into()],
                vec![step("Is a signing region configured?", "no")],
                &[],
            ),
            ConfigNote::HostHasPort { host } => c.add(
                "host-has-port",
                rank::ENDPOINT,
                vec![format!("the host setting is '{host}'")],
                vec![step("Is the host a bare name?", "no: it carries a port")],
                &[],
            ),
            _ => {}
        }
    }
}

fn path_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    if let Some(d) = &ev.dns
        && let Some(e) = &d.error
    {
        c.add(
            "dns-failure",
            rank::ENDPOINT,
            vec![e.clone()],
            vec![step("Does the host resolve?", "no")],
            &[],
        );
    }
    if let Some(t) = &ev.tcp {
        match &t.outcome {
            TcpOutcome::Refused => c.add(
                "port-refused",
                rank::ENDPOINT,
                vec![format!("{} refused the connection", t.address)],
                vec![step("Does the port accept TCP?", "no: refused")],
                &[],
            ),
            TcpOutcome::TimedOut if ev.target.port != 9142 => c.add(
                "port-silent",
                rank::ENDPOINT,
                vec![format!(
                    "no TCP answer from {} (port {} is not 9142)",
                    t.address, ev.target.port
                )],
                vec![step("Does the port accept TCP?", "no answer")],
                &[],
            ),
            TcpOutcome::TimedOut | TcpOutcome::Error { .. } => c.add(
                "tcp-timeout",
                rank::ENDPOINT,
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
                "port-silent",
                rank::ENDPOINT,
                vec![format!(
                    "port {} accepted TCP but sent no TLS answer within {} ms: it is not a Keyspaces endpoint",
                    ev.target.port, t.handshake_ms
                )],
                path,
                &[],
            ),
            TlsOutcome::Closed | TlsOutcome::NotTls { .. } | TlsOutcome::Failed { .. } => c.add(
                "tls-closed",
                rank::ENDPOINT,
                vec![format!("the TLS handshake ended: {}", t.outcome)],
                path,
                &[],
            ),
            TlsOutcome::VersionRefused { detail } => {
                c.add("tls-version-refused", rank::TLS_OFF, vec![detail.clone()], path, &[])
            }
            _ => {}
        }
    }
}

fn tls_rules(c: &mut Ctx<'_>) {
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
                    "hostname-mismatch",
                    rank::TLS_NAME,
                    vec![format!(
                        "the certificate is valid for {names}, the client verifies against {}",
                        t.verify_name
                    )],
                    path,
                    &[("cert_names", shown)],
                );
            }
            Some(VerifyProblem::Expired) | Some(VerifyProblem::NotYetValid) => c.add(
                "cert-expired",
                rank::TLS_TRUST,
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
                    "ca-missing-root"
                } else {
                    "system-store-missing-root"
                };
                c.add(
                    leaf,
                    rank::TLS_TRUST,
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
        c.add("lab-ca-unknown", rank::WARNING, others_fail, path.clone(), &[]);
    }
}

/// Service-specific credentials as IAM lists them: Inactive, or due for rotation.
fn service_credential_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(r) = ev.identity.as_ref().and_then(|i| i.service_credentials.as_ref()) else {
        return;
    };
    if r.unreadable.is_some() {
        return;
    }
    let Some(user) = ev.target.username.clone() else { return };
    let mine: Vec<_> = r.credentials.iter().filter(|x| x.service_user_name == user).collect();
    let auth_ok = ev.cql.as_ref().and_then(|q| q.auth.as_ref()).is_some_and(|a| a.ok);
    let count = r.credentials.len().to_string();
    if ev.target.auth == "password"
        && !auth_ok
        && !mine.is_empty()
        && mine.iter().all(|x| !x.status.eq_ignore_ascii_case("active"))
    {
        let id = mine[0].id.clone();
        c.add(
            "ssc-inactive",
            rank::CREDENTIALS - 3,
            vec![format!("IAM lists {} for {user} with status {}", id, mine[0].status)],
            vec![step(
                "Is the service-specific credential in use Active?",
                "no: Inactive",
            )],
            &[("ssc_id", id), ("ssc_count", count.clone())],
        );
    }
    // The title names the credential in use; other stale ones of the user are evidence.
    let others: Vec<String> = r
        .credentials
        .iter()
        .filter(|x| x.service_user_name != user && x.age_days > 90)
        .map(|x| {
            format!(
                "also stale, not the one in use: {} ({}, {}) is {} days old",
                x.id, x.service_user_name, x.status, x.age_days
            )
        })
        .collect();
    if let Some(old) = mine.iter().filter(|x| x.age_days > 90).max_by_key(|x| x.age_days) {
        let mut evidence = vec![format!(
            "{} for {user}, the credential in use, was created {} days ago; the user holds {count} of the 2 allowed",
            old.id, old.age_days
        )];
        evidence.extend(others);
        c.add(
            "ssc-stale",
            rank::WARNING,
            evidence,
            vec![step(
                "Is the credential younger than 90 days?",
                format!("no: {} days", old.age_days),
            )],
            &[
                ("ssc_id", old.id.clone()),
                ("age_days", old.age_days.to_string()),
                ("ssc_count", count),
            ],
        );
    }
}

fn sts_code(ev: &Evidence) -> Option<(String, String)> {
    let e = ev.identity.as_ref()?.sts_error.as_ref()?;
    Some((e.code.clone().unwrap_or_default(), e.message.clone()))
}

fn identity_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(id) = &ev.identity else { return };
    let sigv4 = ev.target.auth == "sigv4";
    if let Some(a) = &id.assume_role
        && let Some(e) = &a.error
    {
        c.add(
            "assume-role-denied",
            rank::CROSS_ACCOUNT,
            vec![format!(
                "sts:AssumeRole {}: {} {}",
                a.role_arn,
                e.code.clone().unwrap_or_default(),
                e.message
            )],
            vec![
                step("Is a role assumed first?", format!("yes: {}", a.role_arn)),
                step(
                    "Did STS allow AssumeRole?",
                    format!("no: {}", e.code.clone().unwrap_or_default()),
                ),
            ],
            &[],
        );
        let caller_account = id
            .caller
            .as_ref()
            .map(|c| c.account.clone())
            .unwrap_or_else(|| "<caller-account-id>".into());
        if let Some(f) = c.out.iter_mut().find(|f| f.leaf == "assume-role-denied") {
            f.missing = Some(format!(
                "a trust-policy statement on {} that lets account {caller_account} assume it (and sts:AssumeRole in the caller's own policy)",
                a.role_arn
            ));
            f.statement = Some(serde_json::json!({
                "sid": "TrustCallerAccount",
                "json": {"Sid": "TrustCallerAccount", "Effect": "Allow",
                         "Principal": {"AWS": format!("arn:aws:iam::{caller_account}:root")},
                         "Action": "sts:AssumeRole"}
            }));
        }
    }
    let offset = id.clock_offset_secs.unwrap_or(0);
    let sts = sts_code(ev);
    let time_msg = sts
        .as_ref()
        .is_some_and(|(_, m)| m.contains("Signature expired") || m.contains("not yet current"));
    if offset.abs() > 900 || time_msg {
        c.add(
            "clock-skew",
            rank::CLOCK,
            vec![format!(
                "STS's clock differs from this host's by {offset} s{}",
                sts.as_ref()
                    .filter(|_| time_msg)
                    .map(|(code, m)| format!("; STS answered {code}: {m}"))
                    .unwrap_or_default()
            )],
            vec![
                step("How far is this host's clock from AWS's?", format!("{offset} s")),
                step("Is that beyond SigV4's 15-minute window?", "yes"),
            ],
            &[],
        );
    } else if offset.abs() > 60 {
        c.add(
            "clock-drift",
            rank::WARNING,
            vec![format!("STS's clock differs from this host's by {offset} s")],
            vec![step("How far is this host's clock from AWS's?", format!("{offset} s"))],
            &[],
        );
    }
    if let Some(err) = &id.chain_error {
        let leaf = if sigv4 {
            "no-aws-credentials"
        } else {
            "no-aws-credentials-password-mode"
        };
        c.add(
            leaf,
            rank::CREDENTIALS,
            vec![err.lines().next().unwrap_or_default().to_string()],
            vec![step("Did the AWS credential chain supply credentials?", "no")],
            &[],
        );
    }
    if let Some(m) = &id.mixed_credentials {
        c.add(
            "mixed-credentials",
            if sigv4 { rank::CREDENTIALS - 1 } else { rank::WARNING },
            vec![m.clone()],
            vec![step("Is a session token paired with a long-term key?", "yes")],
            &[],
        );
    }
    if let Some(e) = &id.sts_error
        && e.code.is_none()
        && sigv4
    {
        let what = match e.http_status {
            Some(st) if st >= 500 => format!("STS answered {st}"),
            Some(st) => format!("STS answered with a body that is not STS XML (HTTP {st})"),
            None => "STS could not be reached".to_string(),
        };
        if e.http_status.is_some() {
            c.add(
                "sts-unusable",
                rank::CREDENTIALS + 1,
                vec![format!("{what}: {}", e.message.chars().take(200).collect::<String>())],
                vec![step("Does STS answer GetCallerIdentity with STS XML?", "no")],
                &[],
            );
        }
    }
    if let Some((code, msg)) = sts
        && !time_msg
        && sigv4
    {
        let leaf = match code.as_str() {
            "ExpiredToken" | "RequestExpired" => Some(("expired-session-token", rank::EXPIRED)),
            "SignatureDoesNotMatch" => Some(("sigv4-bad-secret", rank::CREDENTIALS)),
            "InvalidClientTokenId" | "UnrecognizedClientException" => Some(("unknown-access-key", rank::CREDENTIALS)),
            _ => None,
        };
        if let Some((leaf, r)) = leaf {
            c.add(
                leaf,
                r,
                vec![format!(
                    "STS GetCallerIdentity with key ...{} answered {code}: {msg}",
                    id.access_key_last4.clone().unwrap_or_default()
                )],
                vec![
                    step(
                        "Did the AWS credential chain supply credentials?",
                        format!("yes, from {}", id.credential_source.clone().unwrap_or_default()),
                    ),
                    step("Does STS accept them?", format!("no: {code}")),
                ],
                &[],
            );
        }
    }
    if sigv4 && id.caller.is_some() {
        for p in id.plugin_regions.iter().filter(|p| p.region.is_none()) {
            c.add(
                "plugin-region-unset",
                rank::WARNING,
                vec![format!("{} would find no region ({})", p.plugin, p.source)],
                vec![step("Would each SigV4 plugin find a region?", "not all")],
                &[],
            );
        }
    }
}

/// `User: <arn> is not authorized to perform: <action> on resource: <arn>`.
fn parse_denial(msg: &str) -> Option<(String, String, String)> {
    let principal = msg
        .strip_prefix("User: ")?
        .split(" is not authorized")
        .next()?
        .to_string();
    let action = msg.split("to perform: ").nth(1)?.split(' ').next()?.to_string();
    let resource = msg
        .split("on resource: ")
        .nth(1)?
        .trim()
        .trim_end_matches('.')
        .to_string();
    Some((principal, action, resource))
}

fn least_privilege(action: &str, resource: &str, region: &str, account: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RequestedOperation", "Effect": "Allow", "Action": action, "Resource": resource},
            {"Sid": "DriverSystemTables", "Effect": "Allow", "Action": "cassandra:Select",
             "Resource": ResourceArn::system_tables(region, account)}
        ]
    })
}

/// IAM's policy simulator's answer for the same action and ARN, beside the local one.
fn simulator_line(ev: &Evidence, action: &str, resource: &str) -> Option<String> {
    let sim = ev.identity.as_ref()?.policies.as_ref()?.simulation.as_ref()?;
    if let Some(why) = &sim.unavailable {
        return Some(format!("IAM policy simulator not asked: {why}"));
    }
    let r = sim
        .results
        .iter()
        .find(|r| r.action == action && r.resource == resource)?;
    Some(format!(
        "IAM policy simulator: {} for {action} on {resource}{}{}",
        r.decision,
        if r.matched.is_empty() {
            String::new()
        } else {
            format!(" (matched {})", r.matched.join(", "))
        },
        match r.agrees_with_local {
            Some(true) => "; the local evaluation agrees",
            Some(false) => "; the local evaluation DISAGREES (a condition, SCP or session policy may be involved)",
            None => "",
        }
    ))
}

fn denial_finding(c: &mut Ctx<'_>, a: &QueryAttempt, message: &str, write: bool) {
    let ev = c.ev;
    let (principal, action, resource) = parse_denial(message).unwrap_or_else(|| {
        (
            c.vars["principal_arn"].clone(),
            if write {
                "cassandra:Modify".into()
            } else {
                "cassandra:Select".into()
            },
            c.vars["resource"].clone(),
        )
    });
    let extra = [
        ("action", action.clone()),
        ("resource", resource.clone()),
        ("principal_arn", principal.clone()),
    ];
    let mut path = vec![
        step("Did CQL authentication succeed?", "yes"),
        step(
            &format!("Is {} allowed?", a.operation),
            format!("no: 0x2100 Unauthorized for {action}"),
        ),
    ];
    let region = c.vars["region"].clone();
    let account = resource.split(':').nth(4).unwrap_or("<account-id>").to_string();
    let lp = least_privilege(&action, &resource, &region, &account);
    let mut evidence = vec![format!("{} → 0x2100: {message}", a.statement)];
    if let Some(line) = simulator_line(ev, &action, &resource) {
        evidence.push(line);
    }
    evidence.extend(crate::digest::cloudtrail_events(ev));
    let policies = ev
        .identity
        .as_ref()
        .and_then(|i| i.policies.as_ref())
        .filter(|p| p.unreadable.is_none());
    if let Some(p) = policies {
        let decision = crate::iam::evaluate(&p.policies, p.boundary.as_ref(), &action, &resource);
        match decision {
            Decision::ExplicitDeny { by } => {
                path.push(step(
                    "Does a statement explicitly deny it?",
                    format!("yes: {} in {}", by.sid_or_index, by.policy_arn),
                ));
                let mut ex = extra.to_vec();
                ex.push(("policy_arn", by.policy_arn.clone()));
                ex.push(("sid", by.sid_or_index.clone()));
                c.add("explicit-deny", rank::PERMISSION, evidence, path, &ex);
                if let Some(f) = c.last_mut() {
                    f.policy_arn = Some(by.policy_arn.clone());
                    f.statement = Some(serde_json::json!({"sid": by.sid_or_index, "json": by.statement}));
                }
                return;
            }
            Decision::ImplicitDeny { boundary_blocks: true } => {
                path.push(step("Does the permission boundary allow it?", "no"));
                c.add("boundary-deny", rank::PERMISSION, evidence, path, &extra);
                if let Some(f) = c.last_mut() {
                    f.policy_arn = p.boundary.as_ref().map(|b| b.arn.clone());
                    f.missing = Some(format!("the permission boundary allows no {action} on {resource}"));
                }
                return;
            }
            Decision::Allowed { by } => {
                path.push(step("Do the policies read from IAM allow it?", format!("yes ({}), yet the server denied it: policy changes take up to 10 minutes on existing connections", by.sid_or_index)));
            }
            Decision::ImplicitDeny { .. } => {
                let elsewhere = p.policies.iter().find_map(|np| {
                    np.document
                        .statement
                        .iter()
                        .find(|s| {
                            s.effect == crate::iam::policy::Effect::Allow
                                && s.matches_action(&action)
                                && s.resource.as_ref().is_some_and(|r| {
                                    r.iter().any(|pat| {
                                        pat.contains(":/keyspace/")
                                            && !wildcard_match(pat, &resource, false)
                                            && !pat.contains("/keyspace/system")
                                    })
                                })
                        })
                        .map(|s| (np.arn.clone(), s.clone()))
                });
                let leaf = if elsewhere.is_some() {
                    "other-resource-allowed"
                } else if write {
                    "write-denied"
                } else {
                    "action-denied"
                };
                path.push(step(
                    &format!("Does any statement allow {action} on another resource?"),
                    if elsewhere.is_some() { "yes" } else { "no" },
                ));
                c.add(leaf, rank::PERMISSION, evidence, path, &extra);
                if let Some(f) = c.last_mut() {
                    f.missing = Some(format!("no statement allows {action} on {resource}"));
                    f.least_privilege_policy = Some(lp);
                    if let Some((arn, s)) = elsewhere {
                        f.policy_arn = Some(arn);
                        f.evidence.push(format!(
                            "the allow is scoped to {}",
                            serde_json::to_string(&s.resource).unwrap_or_default()
                        ));
                    }
                }
                return;
            }
        }
    }
    // No policies readable: decide from what the server allowed elsewhere.
    let sibling_ok: Vec<&String> = ev
        .cql
        .as_ref()
        .map(|q| q.sibling_reads.iter().filter(|(_, ok)| *ok).map(|(t, _)| t).collect())
        .unwrap_or_default();
    let leaf = if !write && !sibling_ok.is_empty() {
        path.push(step(
            "Can other tables of the keyspace be read?",
            format!(
                "yes: {}",
                sibling_ok.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
        "other-resource-allowed"
    } else if write {
        "write-denied"
    } else {
        "action-denied"
    };
    c.add(leaf, rank::PERMISSION, evidence, path, &extra);
    if let Some(f) = c.last_mut() {
        f.least_privilege_policy = Some(lp);
        f.missing = Some(format!(
            "no statement allows {action} on {resource} (policies could not be read: {})",
            ev.identity
                .as_ref()
                .and_then(|i| i.policies.as_ref())
                .and_then(|p| p.unreadable.clone())
                .unwrap_or_else(|| "no IAM identity".into())
        ));
    }
}

/// 0x2100 at authentication: the principal holds no Keyspaces permission at all.
fn no_permissions(
    c: &mut Ctx<'_>,
    rank: u32,
    evidence: Vec<String>,
    path: Vec<PathStep>,
    extra: &[(&'static str, String)],
) {
    c.add("no-permissions", rank, evidence, path, extra);
    let action = if c.ev.target.probe_writes {
        "cassandra:Modify"
    } else {
        "cassandra:Select"
    };
    let lp = least_privilege(action, &c.vars["resource"], &c.vars["region"], &c.vars["account"]);
    let resource = c.vars["resource"].clone();
    if let Some(f) = c.out.iter_mut().find(|f| f.leaf == "no-permissions") {
        f.least_privilege_policy = Some(lp);
        f.missing = Some(format!("any cassandra: action; at least {action} on {resource}"));
    }
}

fn cql_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(q) = &ev.cql else { return };
    let sigv4 = ev.target.auth == "sigv4";
    if let Some(e) = &q.connection_error {
        let protocol = [
            "exceeds the limit",
            "is malformed",
            "unknown opcode",
            "answered OPTIONS with",
            "answered STARTUP with",
        ];
        if protocol.iter().any(|p| e.contains(p)) {
            c.add(
                "server-protocol-violation",
                rank::ENDPOINT,
                vec![e.clone()],
                vec![step(
                    "Does the peer answer CQL OPTIONS like Keyspaces?",
                    "no: a protocol violation",
                )],
                &[],
            );
        } else if e.contains("no answer to the CQL OPTIONS") && ev.target.tls {
            c.add(
                "cql-no-answer",
                rank::ENDPOINT,
                vec![e.clone()],
                vec![step(
                    "Does the peer answer CQL OPTIONS like Keyspaces?",
                    "no answer within the timeout",
                )],
                &[],
            );
        }
    }
    if let Some(m) = q
        .auth
        .as_ref()
        .and_then(|a| a.message.as_ref())
        .filter(|m| m.contains("challenge is unusable"))
    {
        c.add(
            "server-protocol-violation",
            rank::ENDPOINT,
            vec![m.clone()],
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
                rank::NO_PERMISSIONS,
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
            Some(0x0100) if !sigv4 => {
                for leaf in ["iam-username", "password-whitespace"] {
                    if c.has(leaf) {
                        c.add(leaf, 0, vec![server.clone()], vec![], &[]);
                        return;
                    }
                }
                c.add(
                    "wrong-password",
                    rank::CREDENTIALS,
                    vec![server],
                    vec![
                        path0,
                        step("Is the user name service-specific and the password clean?", "yes"),
                    ],
                    &[],
                );
            }
            Some(0x0100) => {
                let explained = [
                    "clock-skew",
                    "expired-session-token",
                    "sigv4-bad-secret",
                    "unknown-access-key",
                    "mixed-credentials",
                    "region-mismatch",
                    "region-not-normalized",
                    "unknown-region",
                    "no-region",
                ];
                if let Some(leaf) = explained.iter().find(|l| c.has(l)) {
                    c.add(leaf, 0, vec![server], vec![], &[]);
                } else {
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
                        "sigv4-rejected",
                        rank::CREDENTIALS,
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
            _ if msg.contains("no password") || msg.contains("no username") => {
                c.add("missing-password", rank::CREDENTIALS, vec![msg], vec![path0], &[])
            }
            _ if msg.contains("AWS credentials") => {
                c.add("no-aws-credentials", rank::CREDENTIALS, vec![msg], vec![path0], &[])
            }
            _ => c.add("unknown", rank::CREDENTIALS, vec![server], vec![path0], &[]),
        }
    }
    for a in &q.attempts {
        let AttemptOutcome::Error { code, message } = &a.outcome else {
            continue;
        };
        let system = a.statement.contains("system.") || a.statement.contains("system_schema.");
        match *code {
            0x2100 if system => {
                let mut evidence = vec![format!("{} → 0x2100: {message}", a.statement)];
                if let Some((_, _, resource)) = parse_denial(message)
                    && let Some(line) = simulator_line(ev, "cassandra:Select", &resource)
                {
                    evidence.push(line);
                }
                c.add(
                    "system-tables-denied",
                    rank::SYSTEM_SCOPE,
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
                if let Some(f) = c.out.iter_mut().find(|f| f.leaf == "system-tables-denied") {
                    f.least_privilege_policy.get_or_insert(lp);
                    f.missing
                        .get_or_insert_with(|| "cassandra:Select on /keyspace/system*".into());
                }
            }
            0x2100 if a.operation.starts_with("write probe") => denial_finding(c, a, message, true),
            0x2100 if a.operation == "read table" => denial_finding(c, a, message, false),
            0x2200 if message.contains("unconfigured table") || message.contains("unconfigured keyspace") => {
                let leaf = if message.contains("keyspace") && !message.contains("table") {
                    "unknown-keyspace"
                } else {
                    "unknown-table"
                };
                c.add(
                    leaf,
                    rank::SCHEMA,
                    vec![format!("{} → 0x2200: {message}", a.statement)],
                    vec![step("Does the table exist?", "no")],
                    &[],
                )
            }
            0x2200 if message.contains("Consistency level") => c.add(
                "consistency-level",
                rank::SCHEMA,
                vec![message.clone()],
                vec![step("Is the consistency level one Keyspaces supports?", "no")],
                &[],
            ),
            _ => {}
        }
    }
    if q.keyspace_exists == Some(false) && !c.has("unknown-keyspace") {
        c.add(
            "unknown-keyspace",
            rank::SCHEMA,
            vec![format!(
                "system_schema.keyspaces has no keyspace {}",
                ev.target.keyspace.clone().unwrap_or_default()
            )],
            vec![step("Does the keyspace exist?", "no")],
            &[],
        );
    }
    if q.table_exists == Some(false) && !c.has("unknown-table") {
        c.add(
            "unknown-table",
            rank::SCHEMA,
            vec![format!(
                "system_schema.tables lists no table {}",
                ev.target.table.clone().unwrap_or_default()
            )],
            vec![step("Does the table exist?", "no")],
            &[],
        );
    }
    if q.peers == Some(0) && !c.has_cause_rank_below(rank::PEERS) {
        c.add(
            "vpce-peers",
            rank::PEERS,
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
