//! What the probes saw, as plain data: DNS, TCP, TLS, identity, CQL. Probes write it,
//! the diagnosis reads it, reports and the TUI render it. Types only; no logic, no I/O.
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Running,
    Ok,
    Failed,
    TimedOut,
    Skipped,
}

/// The steps of one check, in the order a client takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Identity,
    Cql,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Dns => "dns",
            Step::Tcp => "tcp",
            Step::Tls => "tls",
            Step::Identity => "identity",
            Step::Cql => "cql",
        }
    }
}

/// How the client authenticates: a service-specific user name and password (SASL
/// PLAIN), or AWS credentials (the SigV4 mechanism).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    #[default]
    Password,
    #[serde(rename = "sigv4")]
    SigV4,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Password => "password",
            AuthMode::SigV4 => "sigv4",
        }
    }
}

/// One probe's run, for the report's `probes` list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub name: Step,
    pub status: ProbeStatus,
    pub duration_ms: u64,
    pub evidence: String,
}

/// The target as the probes understood it (no secrets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TargetSummary {
    pub host: String,
    pub port: u16,
    pub region: Option<String>,
    pub region_source: String,
    pub host_region: Option<String>,
    pub tls: bool,
    pub tls_name: String,
    pub auth: AuthMode,
    pub username: Option<String>,
    pub keyspace: Option<String>,
    pub table: Option<String>,
    pub ca_file: Option<String>,
    pub role_arn: Option<String>,
    pub probe_writes: bool,
    pub resolve: Vec<String>,
    /// The operations evaluated (`--operations`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OperationKind>,
}

/// Facts about the user's own settings that a real client would also trip over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConfigNote {
    PasswordWhitespace {
        leading: bool,
        trailing: bool,
        newline: bool,
    },
    UsernameNotServiceSpecific {
        username: String,
    },
    HostHasPort {
        host: String,
    },
    RegionMismatch {
        signing: String,
        endpoint: String,
    },
    RegionNotNormalized {
        given: String,
    },
    UnknownRegion {
        region: String,
    },
    TlsDisabled,
    VerificationDisabled {
        source: String,
    },
    CaFileProblem {
        path: String,
        problem: String,
    },
    /// cqlsh with this cqlshrc connects without verifying the certificate (its driver).
    CqlshUnverified {
        cqlshrc: String,
        cqlsh: Option<String>,
        driver_version: Option<String>,
    },
    /// An AWS shared config or credentials file that is not a readable regular file.
    AwsFileRefused {
        variable: String,
        path: String,
        problem: String,
    },
    NoRegion,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsReport {
    pub host: String,
    pub addresses: Vec<IpAddr>,
    pub via_resolve_flag: bool,
    pub private: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TcpOutcome {
    Connected,
    Refused,
    TimedOut,
    Error { message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TcpReport {
    pub address: SocketAddr,
    pub outcome: TcpOutcome,
    pub connect_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyProblem {
    UnknownIssuer,
    NameMismatch,
    Expired,
    NotYetValid,
    BadSignature,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustSource {
    CaFile,
    System,
    KeyspacesRoots,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustVerdict {
    pub source: TrustSource,
    /// Where the roots came from (a path, the system store's location, "embedded").
    pub origin: String,
    pub roots: usize,
    pub verified: bool,
    pub problem: Option<VerifyProblem>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TlsOutcome {
    Established,
    /// TCP accepted, but no TLS answer came within the timeout.
    NoAnswer,
    /// The peer closed the connection during the handshake.
    Closed,
    /// The peer answered with something that is not TLS.
    NotTls {
        detail: String,
    },
    /// The peer refused our protocol versions.
    VersionRefused {
        detail: String,
    },
    Failed {
        detail: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TlsReport {
    pub verify_name: String,
    pub sni: Option<String>,
    pub outcome: TlsOutcome,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub key_exchange: Option<String>,
    pub chain: Vec<CertInfo>,
    pub verdicts: Vec<TrustVerdict>,
    pub handshake_ms: u64,
    /// The served chain itself, for judging other trust stores against it.
    #[serde(skip)]
    pub chain_der: Vec<rustls_pki_types::CertificateDer<'static>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AwsError {
    pub code: Option<String>,
    pub message: String,
    pub http_status: Option<u16>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssumeRoleReport {
    pub role_arn: String,
    pub assumed_arn: Option<String>,
    pub error: Option<AwsError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginRegion {
    pub plugin: String,
    pub region: Option<String>,
    pub source: String,
}

/// One IAM decision computed locally from the principal's policies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyCheck {
    pub action: String,
    pub resource: String,
    pub decision: crate::iam::Decision,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyReport {
    pub principal_arn: String,
    pub policies: Vec<crate::iam::NamedPolicy>,
    pub boundary: Option<crate::iam::NamedPolicy>,
    pub checks: Vec<PolicyCheck>,
    /// Why some policies could not be read (no iam:Get*/List* rights, etc.).
    pub unreadable: Option<String>,
    /// IAM's own policy simulator for the same actions and ARNs, beside `checks`.
    pub simulation: Option<SimulationReport>,
    /// What could not be read while the rest was (groups, a role's boundary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
}

/// `iam:SimulatePrincipalPolicy` for the probes' actions and ARNs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulationReport {
    pub results: Vec<SimulatedDecision>,
    /// Why the simulator could not be asked (no iam:SimulatePrincipalPolicy right, etc.).
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulatedDecision {
    pub action: String,
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`, as IAM says it.
    pub decision: String,
    /// The policies IAM says matched.
    pub matched: Vec<String>,
    /// Whether the local evaluation reached the same decision.
    pub agrees_with_local: Option<bool>,
    /// Simulated as made by Keyspaces on the principal's behalf (`aws:ViaAWSService`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_service: bool,
}

/// One service-specific credential of the IAM user, as IAM lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceCredentialInfo {
    pub id: String,
    pub service_user_name: String,
    pub status: String,
    pub age_days: i64,
}

/// The user's service-specific credentials for Keyspaces, or why they could not be listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceCredentialsReport {
    pub user: String,
    pub credentials: Vec<ServiceCredentialInfo>,
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityReport {
    /// Which provider of the AWS chain supplied credentials.
    pub credential_source: Option<String>,
    pub chain_error: Option<String>,
    pub access_key_last4: Option<String>,
    pub long_term_key: Option<bool>,
    pub has_session_token: bool,
    pub expires_at: Option<String>,
    pub caller: Option<CallerIdentity>,
    pub sts_error: Option<AwsError>,
    pub assume_role: Option<AssumeRoleReport>,
    /// STS's clock minus ours, from the `Date` header.
    pub clock_offset_secs: Option<i64>,
    pub mixed_credentials: Option<String>,
    pub plugin_regions: Vec<PluginRegion>,
    pub policies: Option<PolicyReport>,
    pub service_credentials: Option<ServiceCredentialsReport>,
    pub cloudtrail: Option<CloudTrailReport>,
}

/// Recent Keyspaces management events of the principal that carry an error code, from
/// CloudTrail `LookupEvents`, and the CloudTrail Lake query for the data events
/// (SELECT/INSERT...) that `LookupEvents` never returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloudTrailReport {
    pub principal_arn: String,
    pub looked_back_hours: u32,
    pub events: Vec<TrailEvent>,
    /// Why CloudTrail could not be asked (no cloudtrail:LookupEvents right, etc.).
    pub unavailable: Option<String>,
    pub lake_query: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrailEvent {
    pub time: String,
    pub event_name: String,
    pub error_code: String,
    pub error_message: Option<String>,
}

/// What a CQL request of the probe was for: the rules decide on this, never on the
/// statement's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `system.local`, as every driver reads it first.
    SystemLocal,
    /// `system.peers`, for the driver's view of the endpoint's nodes.
    SystemPeers,
    /// Whether the keyspace exists (`system_schema.keyspaces`).
    KeyspaceExists,
    /// The tables of the keyspace (`system_schema.tables`).
    KeyspaceTables,
    /// One row of the table.
    ReadTable,
    /// One row of another table of the keyspace, after the table was denied.
    ReadSibling,
    /// The table's key columns (`system_schema.columns`), for the write probe.
    TableColumns,
    /// A conditional delete of a key that does not exist: no data changes.
    WriteProbe,
    /// The table's `custom_properties` (`system_schema_mcs.tables`), for a restore.
    TableProperties,
}

impl Operation {
    /// Reads of `system*` keyspaces, which every driver needs.
    pub fn reads_system_tables(self) -> bool {
        matches!(
            self,
            Operation::SystemLocal
                | Operation::SystemPeers
                | Operation::KeyspaceExists
                | Operation::KeyspaceTables
                | Operation::TableColumns
                | Operation::TableProperties
        )
    }
}

impl std::fmt::Display for Operation {
    /// Padded as asked (`{:<22}` lines attempts up in columns).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Operation::SystemLocal => "system.local",
            Operation::SystemPeers => "system.peers",
            Operation::KeyspaceExists => "keyspace exists",
            Operation::KeyspaceTables => "tables of keyspace",
            Operation::ReadTable => "read table",
            Operation::ReadSibling => "read sibling table",
            Operation::TableColumns => "columns of table",
            Operation::WriteProbe => "write probe (conditional, no data changed)",
            Operation::TableProperties => "table properties",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AttemptOutcome {
    Ok { rows: usize },
    Error { code: i32, message: String },
    TimedOut,
    Failed { message: String },
    Skipped { reason: String },
}

/// One CQL request the probe made, with what the server answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryAttempt {
    pub operation: Operation,
    pub statement: String,
    pub auth_mode: AuthMode,
    pub consistency: String,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
}

impl QueryAttempt {
    pub fn error_code(&self) -> Option<i32> {
        match &self.outcome {
            AttemptOutcome::Error { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Why authentication did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    /// The server answered with an error (`code` and `message` hold what it said).
    Rejected,
    /// The server's SigV4 challenge carried no usable nonce.
    ChallengeUnusable,
    /// No user name was configured for password authentication.
    NoUsername,
    /// No password was configured for password authentication.
    NoPassword,
    /// SigV4 was asked for, but the AWS credential chain supplied nothing.
    NoAwsCredentials,
    /// An unexpected answer, or the connection broke or went silent, mid-exchange.
    Broken,
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthFailure::Rejected => "the server refused the credentials",
            AuthFailure::ChallengeUnusable => "the server's SigV4 challenge is unusable",
            AuthFailure::NoUsername => "no user name is configured",
            AuthFailure::NoPassword => "no password is configured",
            AuthFailure::NoAwsCredentials => "no AWS credentials were found",
            AuthFailure::Broken => "the authentication exchange did not complete",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthResult {
    pub ok: bool,
    /// Set when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<AuthFailure>,
    pub code: Option<i32>,
    pub message: Option<String>,
    pub duration_ms: u64,
}

/// Where the probe's own CQL session stopped before it could authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CqlFailure {
    /// The TCP connection failed or timed out.
    Tcp,
    /// TLS could not be set up, or the handshake failed or got no answer.
    Tls,
    /// The peer sent no answer to a CQL request within the timeout.
    NoAnswer,
    /// The peer broke the CQL protocol: an oversized or malformed frame, an unknown
    /// opcode, an answer that does not fit the request.
    ProtocolViolation,
    /// The server answered STARTUP with an error.
    StartupRefused,
    /// The connection closed or failed mid-exchange.
    Closed,
}

impl std::fmt::Display for CqlFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CqlFailure::Tcp => "no TCP connection",
            CqlFailure::Tls => "no TLS session",
            CqlFailure::NoAnswer => "no CQL answer within the timeout",
            CqlFailure::ProtocolViolation => "the peer broke the CQL protocol",
            CqlFailure::StartupRefused => "the server refused STARTUP",
            CqlFailure::Closed => "the connection closed mid-exchange",
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CqlReport {
    pub transport: String,
    pub supported: Vec<(String, Vec<String>)>,
    pub authenticator: Option<String>,
    pub auth: Option<AuthResult>,
    pub attempts: Vec<QueryAttempt>,
    pub peers: Option<usize>,
    /// Tables of the keyspace and whether a read of each was allowed.
    pub sibling_reads: Vec<(String, bool)>,
    pub keyspace_exists: Option<bool>,
    pub table_exists: Option<bool>,
    pub connection_error: Option<String>,
    /// What kind of failure `connection_error` describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_failure: Option<CqlFailure>,
    /// The table's properties as `system_schema_mcs.tables` lists them (read for a restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_properties: Option<TableProperties>,
    /// A real driver (scylla) connecting end to end with the same settings.
    pub driver: Option<DriverCheck>,
}

/// What Keyspaces lists in a table's `custom_properties`, as it spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableProperties {
    /// `point_in_time_recovery.status`: `enabled` or `disabled`.
    pub point_in_time_recovery: Option<String>,
    /// `encryption_specification.encryption_type`: `AWS_OWNED_KMS_KEY` or `CUSTOMER_MANAGED_KMS_KEY`.
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
    /// `capacity_mode.throughput_mode`: `PAY_PER_REQUEST` or `PROVISIONED`.
    pub throughput_mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverCheck {
    pub driver: String,
    pub ok: bool,
    pub duration_ms: u64,
    pub detail: String,
    pub sends_sni: bool,
}

pub use crate::iam::operations::OperationKind;

/// One IAM request an operation needs, and what the local evaluation and IAM's policy
/// simulator decide for it. Evaluated, never executed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationCheck {
    pub operation: OperationKind,
    pub action: String,
    pub resource: String,
    /// Why the operation needs it, in words.
    pub purpose: String,
    /// Keyspaces makes this request on the principal's behalf (`aws:ViaAWSService`).
    pub via_service: bool,
    /// The local evaluation of the principal's policies; absent when they could not be read.
    pub local: Option<crate::iam::Decision>,
    /// IAM's simulator: `allowed`, `explicitDeny` or `implicitDeny`, as IAM says it.
    pub simulator: Option<String>,
}

/// The version of the evidence's shape; a reader refuses others (`Evidence::read`).
pub const EVIDENCE_VERSION: u32 = 1;

fn evidence_version() -> u32 {
    EVIDENCE_VERSION
}

/// Everything one run of the probes produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    /// `EVIDENCE_VERSION` when written.
    #[serde(default = "evidence_version")]
    pub version: u32,
    pub target: TargetSummary,
    pub config: Vec<ConfigNote>,
    pub dns: Option<DnsReport>,
    pub tcp: Option<TcpReport>,
    pub tls: Option<TlsReport>,
    pub identity: Option<IdentityReport>,
    pub cql: Option<CqlReport>,
    pub probes: Vec<ProbeRecord>,
    /// Driver configuration files read with `--driver-config`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub driver_configs: Vec<DriverConfigReport>,
    /// The operations of `--operations`, each request evaluated (not executed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OperationCheck>,
    /// The run ended (every step finished, or the total timeout cut it). Until then the
    /// findings are provisional: a step still running is not yet a failure.
    #[serde(default)]
    pub finished: bool,
    /// What `--total-timeout` cut, when it ended the run before every step finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<CutShort>,
}

/// The total timeout ended the run: how long it allowed and which steps it cut.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CutShort {
    pub total_timeout_ms: u64,
    pub steps: Vec<Step>,
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence {
            version: EVIDENCE_VERSION,
            target: TargetSummary::default(),
            config: vec![],
            dns: None,
            tcp: None,
            tls: None,
            identity: None,
            cql: None,
            probes: vec![],
            driver_configs: vec![],
            operations: vec![],
            finished: false,
            cut: None,
        }
    }
}

/// Evidence that could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("the evidence is not valid JSON of the expected shape: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("the evidence has version {found}; this build reads version {expected}: regenerate it with this build")]
    Version { found: u32, expected: u32 },
}

impl Evidence {
    /// Reads evidence written by `serde_json` (a fixture, or `check --json`'s `evidence`).
    pub fn read(json: &str) -> Result<Evidence, EvidenceError> {
        let ev: Evidence = serde_json::from_str(json)?;
        if ev.version != EVIDENCE_VERSION {
            return Err(EvidenceError::Version {
                found: ev.version,
                expected: EVIDENCE_VERSION,
            });
        }
        Ok(ev)
    }

    /// Every string in the evidence made safe to show (control characters escaped,
    /// length capped): what a server, a certificate, a file or the environment said
    /// becomes evidence only through here. The served chain's bytes are kept as they are.
    pub fn sanitized(self) -> Evidence {
        fn walk(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::String(s)
                    if crate::outside::text::has_control(s) || s.len() > crate::outside::text::MAX_CHARS =>
                {
                    *s = crate::outside::text::clean(s);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
                serde_json::Value::Object(o) => o.values_mut().for_each(walk),
                _ => {}
            }
        }
        let chain = self.tls.as_ref().map(|t| t.chain_der.clone());
        let Ok(mut value) = serde_json::to_value(&self) else {
            return self;
        };
        walk(&mut value);
        match serde_json::from_value::<Evidence>(value) {
            Ok(mut clean) => {
                if let (Some(t), Some(c)) = (clean.tls.as_mut(), chain) {
                    t.chain_der = c;
                }
                clean
            }
            Err(e) => {
                tracing::error!("evidence could not be re-read after cleaning: {e}");
                self
            }
        }
    }
}

/// A driver configuration file and what in it breaks or weakens the connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverConfigReport {
    pub path: String,
    pub kind: ConfigFileKind,
    pub problems: Vec<ConfigProblem>,
    pub truststore: Option<TruststoreReport>,
    /// Lines that could not be read, as `line N: why`.
    pub parse_errors: Vec<String>,
}

/// Which client a driver configuration file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFileKind {
    /// The DataStax Java driver's `application.conf`.
    JavaDriver,
    Cqlshrc,
    /// Not read (it took too long).
    Unknown,
}

impl std::fmt::Display for ConfigFileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConfigFileKind::JavaDriver => "java-driver",
            ConfigFileKind::Cqlshrc => "cqlshrc",
            ConfigFileKind::Unknown => "not read",
        })
    }
}

/// One problem in a driver configuration, tied to a leaf of the decision tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigProblem {
    pub leaf: crate::leaf_id::LeafId,
    pub line: Option<usize>,
    pub setting: String,
    /// As written; absent for secrets.
    pub value: Option<String>,
    pub detail: String,
}

/// A truststore named by a driver configuration, opened and judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruststoreReport {
    pub path: String,
    pub format: String,
    /// Each certificate: the Keyspaces root it is, else its subject.
    pub certificates: Vec<String>,
    /// Which of the five embedded Keyspaces roots it holds (by fingerprint).
    pub keyspaces_roots: Vec<String>,
    pub has_ats: bool,
    pub has_starfield: bool,
    /// Whether the chain the endpoint served verifies against it (when a chain was seen).
    pub verifies_endpoint: Option<bool>,
    pub detail: Option<String>,
    pub unreadable: Option<String>,
}

// Plain words for people: how each outcome reads in panes, reports and JSON messages.

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::fmt::Display for ProbeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProbeStatus::Running => "running",
            ProbeStatus::Ok => "ok",
            ProbeStatus::Failed => "failed",
            ProbeStatus::TimedOut => "timed out",
            ProbeStatus::Skipped => "skipped",
        })
    }
}

impl std::fmt::Display for TcpOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TcpOutcome::Connected => f.write_str("connected"),
            TcpOutcome::Refused => f.write_str("refused (nothing listens on that port)"),
            TcpOutcome::TimedOut => f.write_str("no answer within the timeout"),
            TcpOutcome::Error { message } => write!(f, "failed: {message}"),
        }
    }
}

impl std::fmt::Display for TlsOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsOutcome::Established => f.write_str("established"),
            TlsOutcome::NoAnswer => f.write_str("no TLS answer within the timeout"),
            TlsOutcome::Closed => f.write_str("the server closed the connection during the handshake"),
            TlsOutcome::NotTls { detail } => write!(f, "the server answered with something that is not TLS ({detail})"),
            TlsOutcome::VersionRefused { detail } => {
                write!(f, "the server refused the TLS versions offered ({detail})")
            }
            TlsOutcome::Failed { detail } => write!(f, "failed: {detail}"),
        }
    }
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrustSource::CaFile => "your CA file",
            TrustSource::System => "the system store",
            TrustSource::KeyspacesRoots => "the Keyspaces roots",
        })
    }
}

impl std::fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyProblem::UnknownIssuer => "unknown issuer: no root in this store signs the chain",
            VerifyProblem::NameMismatch => "the certificate is not valid for the name dialled",
            VerifyProblem::Expired => "the certificate has expired",
            VerifyProblem::NotYetValid => "the certificate is not valid yet",
            VerifyProblem::BadSignature => "a signature in the chain does not verify",
            VerifyProblem::Other => "the chain does not verify",
        })
    }
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptOutcome::Ok { rows } => write!(f, "ok, {rows} rows"),
            AttemptOutcome::Error { code, message } => write!(f, "server error 0x{code:04X}: {message}"),
            AttemptOutcome::TimedOut => f.write_str("no answer within the timeout"),
            AttemptOutcome::Failed { message } => write!(f, "failed: {message}"),
            AttemptOutcome::Skipped { reason } => write!(f, "skipped: {reason}"),
        }
    }
}
