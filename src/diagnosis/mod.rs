//! Diagnosis: a pure function from `Evidence` to `Finding`s, root cause first. Each
//! finding names a leaf of the knowledge in `assets/tree/` and records the path of
//! evidence that led there. Imports neither probes, lab nor screens.
pub mod families;
pub mod leaves;
mod rules;
pub mod tree;

use crate::evidence::Evidence;
use serde::{Deserialize, Serialize};

/// The fixed vocabulary of causes (also used by `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    InvalidCredentials,
    ExpiredCredentials,
    MissingPermission,
    ResourceScope,
    WrongEndpoint,
    CrossAccount,
    TlsTrust,
    TlsHostname,
    TlsVersion,
    Network,
    ClockSkew,
    DriverConfig,
    Schema,
    Unknown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::InvalidCredentials => "invalid-credentials",
            Cause::ExpiredCredentials => "expired-credentials",
            Cause::MissingPermission => "missing-permission",
            Cause::ResourceScope => "resource-scope",
            Cause::WrongEndpoint => "wrong-endpoint",
            Cause::CrossAccount => "cross-account",
            Cause::TlsTrust => "tls-trust",
            Cause::TlsHostname => "tls-hostname",
            Cause::TlsVersion => "tls-version",
            Cause::Network => "network",
            Cause::ClockSkew => "clock-skew",
            Cause::DriverConfig => "driver-config",
            Cause::Schema => "schema",
            Cause::Unknown => "unknown",
        }
    }

    pub fn all() -> &'static [Cause] {
        use Cause::*;
        &[
            InvalidCredentials,
            ExpiredCredentials,
            MissingPermission,
            ResourceScope,
            WrongEndpoint,
            CrossAccount,
            TlsTrust,
            TlsHostname,
            TlsVersion,
            Network,
            ClockSkew,
            DriverConfig,
            Schema,
            Unknown,
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Problem,
    Warning,
}

/// One step of the path that led to a finding: the question and the evidence that answered it.
#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub steps: Vec<String>,
    pub commands: Vec<String>,
    pub doc: String,
    pub retry: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub cause: Cause,
    pub severity: Severity,
    pub leaf: leaves::LeafId,
    pub title: String,
    pub why: String,
    pub evidence: Vec<String>,
    pub fix: Fix,
    pub path: Vec<PathStep>,
    /// The policy behind a denial, where the principal's policies could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// Least-privilege policy JSON that would allow the denied request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub least_privilege_policy: Option<serde_json::Value>,
    #[serde(skip)]
    pub rank: u32,
}

/// The answer of a check: `ok` only when every step succeeded and no rule found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Problems,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Problems => "problems",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub verdict: Verdict,
    pub causes: Vec<Cause>,
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Ok
    }

    pub fn root(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.severity == Severity::Problem)
    }

    /// One line for a status bar.
    pub fn headline(&self) -> String {
        match self.root() {
            Some(f) => format!("✗ {} — {}", f.cause.as_str(), f.title),
            None => "✓ All checks passed: the connection works".into(),
        }
    }
}

/// Evaluates the evidence. Pure: same evidence, same findings.
pub fn evaluate(ev: &Evidence) -> Diagnosis {
    let mut findings = rules::findings(ev);
    findings.sort_by_key(|f| (f.severity == Severity::Warning, f.rank));
    let mut causes = Vec::new();
    for f in findings.iter().filter(|f| f.severity == Severity::Problem) {
        if !causes.contains(&f.cause) {
            causes.push(f.cause);
        }
    }
    Diagnosis {
        verdict: if causes.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Problems
        },
        causes,
        findings,
    }
}
