//! Reports of many hosts: read back (`check --json` files or JSON lines, bounded), cut
//! into comparable facts, grouped by verdict and root cause (`summarize`) and compared
//! host to host (`diff`). Reads reports only; probes nothing.
pub mod diff;
pub mod summarize;

use crate::diagnosis::Cause;
use crate::evidence::Evidence;
use serde_json::Value;
use std::path::Path;

/// The largest report read (a report is tens of KiB).
const REPORT_CAP: u64 = 8 << 20;

/// One host's `check --json` report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The host's name, else where the report came from.
    pub host: String,
    pub ok: bool,
    pub root: Option<Cause>,
    pub root_leaf: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}: {1}")]
    Read(String, String),
    #[error("{0}: not a keyspaces-doctor check --json report: {1}")]
    Shape(String, String),
}

impl Report {
    pub fn parse(text: &str, origin: &str) -> Result<Report, ReportError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ReportError::Shape(origin.into(), e.to_string()))?;
        let ev = v
            .get("evidence")
            .ok_or_else(|| ReportError::Shape(origin.into(), "no evidence".into()))?;
        // Outside text: escaped before it is compared or shown. The verdict and the root
        // cause are this build's diagnosis of the evidence, never the report's own claim,
        // so an edited or stale verdict cannot pass a failing host as ok.
        let evidence = Evidence::read(&ev.to_string())
            .map_err(|e| ReportError::Shape(origin.into(), e.to_string()))?
            .sanitized();
        let d = crate::diagnosis::evaluate(&evidence);
        let root = d.root().map(|f| f.cause);
        let root_leaf = d.root().map(|f| f.leaf.to_string());
        Ok(Report {
            host: v["host"]["name"]
                .as_str()
                .map(crate::outside::text::clean)
                .unwrap_or_else(|| origin.to_string()),
            ok: d.ok(),
            root,
            root_leaf,
            evidence,
        })
    }

    /// Reports from files, directories (their `*.json`) or `-` (JSON lines on stdin).
    pub fn load(args: &[String], stdin: &mut dyn std::io::BufRead) -> Result<Vec<Report>, ReportError> {
        let mut out = Vec::new();
        for a in args {
            if a == "-" {
                let mut n = 0;
                let mut line = String::new();
                while stdin
                    .read_line(&mut line)
                    .map_err(|e| ReportError::Read("stdin".into(), e.to_string()))?
                    > 0
                {
                    n += 1;
                    if !line.trim().is_empty() {
                        out.push(Report::parse(line.trim(), &format!("stdin line {n}"))?);
                    }
                    line.clear();
                }
                continue;
            }
            let p = Path::new(a);
            if p.is_dir() {
                let mut files: Vec<_> = std::fs::read_dir(p)
                    .map_err(|e| ReportError::Read(a.clone(), e.to_string()))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|x| x == "json"))
                    .collect();
                files.sort();
                for f in files {
                    out.push(read_file(&f)?);
                }
            } else {
                out.push(read_file(p)?);
            }
        }
        Ok(out)
    }
}

fn read_file(p: &Path) -> Result<Report, ReportError> {
    let shown = crate::outside::text::clean(&p.display().to_string());
    let text =
        crate::outside::file::read_text(p, REPORT_CAP).map_err(|e| ReportError::Read(shown.clone(), e.to_string()))?;
    Report::parse(text.trim(), &shown)
}

/// What a fact is about; `diff` orders differences by how near their kind is to the
/// failing host's root cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Principal,
    Credentials,
    Region,
    Endpoint,
    Network,
    TlsName,
    TlsTrust,
    TlsVersion,
    Clock,
    Permission,
    Schema,
    DriverConfig,
}

impl Kind {
    const ALL: [Kind; 12] = [
        Kind::Principal,
        Kind::Credentials,
        Kind::Region,
        Kind::Endpoint,
        Kind::Network,
        Kind::TlsName,
        Kind::TlsTrust,
        Kind::TlsVersion,
        Kind::Clock,
        Kind::Permission,
        Kind::Schema,
        Kind::DriverConfig,
    ];
}

/// The kinds nearest to a root cause, first.
pub fn relevance(cause: Option<Cause>) -> Vec<Kind> {
    use Kind::*;
    let first: &[Kind] = match cause {
        Some(Cause::InvalidCredentials) | Some(Cause::ExpiredCredentials) => &[Credentials, Principal, Clock, Region],
        Some(Cause::MissingPermission) | Some(Cause::ResourceScope) | Some(Cause::CrossAccount) => {
            &[Permission, Principal]
        }
        Some(Cause::WrongEndpoint) => &[Region, Endpoint, Network],
        Some(Cause::TlsTrust) => &[TlsTrust, TlsName, TlsVersion],
        Some(Cause::TlsHostname) => &[TlsName, TlsTrust, Endpoint],
        Some(Cause::TlsVersion) => &[TlsVersion, TlsTrust, Endpoint],
        Some(Cause::Network) => &[Network, Endpoint],
        Some(Cause::ClockSkew) => &[Clock, Credentials],
        Some(Cause::DriverConfig) => &[DriverConfig],
        Some(Cause::Schema) => &[Schema, Permission],
        Some(Cause::Unknown) | None => &[],
    };
    let mut order: Vec<Kind> = first.to_vec();
    for k in Kind::ALL {
        if !order.contains(&k) {
            order.push(k);
        }
    }
    order
}

/// One comparable fact of a report, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub what: String,
    pub value: String,
    pub kind: Kind,
}

/// The facts of a report that tell hosts apart (no secret is in the evidence).
pub fn facts(ev: &Evidence) -> Vec<Fact> {
    let mut f = Vec::new();
    let mut add = |what: &str, value: String, kind: Kind| {
        f.push(Fact {
            what: what.to_string(),
            value,
            kind,
        })
    };
    let t = &ev.target;
    add("endpoint", format!("{}:{}", t.host, t.port), Kind::Endpoint);
    add(
        "region",
        t.region.clone().unwrap_or_else(|| "none".into()),
        Kind::Region,
    );
    add("authentication", t.auth.to_string(), Kind::Credentials);
    add(
        "user name",
        t.username.clone().unwrap_or_else(|| "none".into()),
        Kind::Credentials,
    );
    add("TLS", if t.tls { "on" } else { "off" }.into(), Kind::TlsVersion);
    if let Some(d) = &ev.dns {
        let addrs: Vec<String> = d.addresses.iter().map(|a| a.to_string()).collect();
        add(
            "resolved addresses",
            d.error.clone().unwrap_or_else(|| addrs.join(", ")),
            Kind::Endpoint,
        );
    }
    if let Some(tcp) = &ev.tcp {
        add("TCP", tcp.outcome.to_string(), Kind::Network);
    }
    if let Some(tls) = &ev.tls {
        add("TLS handshake", tls.outcome.to_string(), Kind::TlsVersion);
        add(
            "TLS version",
            tls.version.clone().unwrap_or_else(|| "none".into()),
            Kind::TlsVersion,
        );
        add("name verified", tls.verify_name.clone(), Kind::TlsName);
        if let Some(c) = tls.chain.first() {
            add("certificate names", c.dns_names.join(", "), Kind::TlsName);
        }
        for v in &tls.verdicts {
            let verdict = if v.verified {
                "trusted".to_string()
            } else {
                format!("not trusted: {}", v.problem.map(|p| p.to_string()).unwrap_or_default())
            };
            add(&format!("trust: {}", v.source), verdict, Kind::TlsTrust);
        }
    }
    if let Some(id) = &ev.identity {
        add(
            "principal",
            id.caller
                .as_ref()
                .map(|c| c.arn.clone())
                .unwrap_or_else(|| "none".into()),
            Kind::Principal,
        );
        add(
            "credential source",
            id.credential_source.clone().unwrap_or_else(|| "none".into()),
            Kind::Principal,
        );
        if let Some(e) = &id.sts_error {
            add(
                "STS answer",
                e.code.clone().unwrap_or_else(|| e.message.clone()),
                Kind::Credentials,
            );
        }
        if let Some(o) = id.clock_offset_secs {
            // To the minute: seconds of jitter are no difference.
            add(
                "clock offset from STS",
                format!("{} min", (o as f64 / 60.0).round() as i64),
                Kind::Clock,
            );
        }
        if let Some(p) = &id.policies {
            for c in &p.checks {
                add(
                    &format!("policy decision for {} on {}", c.action, c.resource),
                    c.decision.iam_name().into(),
                    Kind::Permission,
                );
            }
        }
    }
    if let Some(q) = &ev.cql {
        if let Some(a) = &q.auth {
            let v = match (a.ok, a.code) {
                (true, _) => "accepted".to_string(),
                (false, Some(c)) => format!("refused 0x{c:04X}: {}", a.message.clone().unwrap_or_default()),
                (false, None) => format!("failed: {}", a.message.clone().unwrap_or_default()),
            };
            add("CQL authentication", v, Kind::Credentials);
        }
        for a in &q.attempts {
            let kind = match a.operation {
                crate::evidence::Operation::KeyspaceExists | crate::evidence::Operation::KeyspaceTables => Kind::Schema,
                _ => Kind::Permission,
            };
            add(&format!("CQL {}", a.operation), a.outcome.to_string(), kind);
        }
        if let Some(p) = q.peers {
            add("system.peers rows", p.to_string(), Kind::Permission);
        }
        if let Some(e) = q.table_exists {
            add("table exists", e.to_string(), Kind::Schema);
        }
    }
    for o in &ev.operations {
        add(
            &format!("{} {} on {}", o.operation, o.action, o.resource),
            o.local
                .as_ref()
                .map(|d| d.iam_name().to_string())
                .unwrap_or_else(|| "not evaluated".into()),
            Kind::Permission,
        );
    }
    for r in &ev.driver_configs {
        for p in &r.problems {
            add(
                &format!("{} {}", r.path, p.setting),
                p.value.clone().unwrap_or_else(|| "not set".into()),
                Kind::DriverConfig,
            );
        }
    }
    f
}
