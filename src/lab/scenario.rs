//! Lab scenarios as data: the server's state for one misconfiguration and the client
//! block a client with that misconfiguration would use. Parsing and validation only.
use super::pki::ServingRoot;
use crate::iam::PolicyDocument;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One line on what the scenario teaches.
    pub teaches: String,
    /// The cause `check` must name first (`ok` for a healthy lab).
    pub cause: String,
    /// The leaf of the decision tree `check` must name first (none for a healthy lab).
    #[serde(default)]
    pub leaf: Option<crate::leaf_id::LeafId>,
    /// Misbehaving-server scenarios are hidden from `demo --list`.
    #[serde(default)]
    pub hostile: bool,
    #[serde(default)]
    pub server: ServerSpec,
    #[serde(default, rename = "principal")]
    pub principals: Vec<PrincipalSpec>,
    #[serde(default, rename = "role")]
    pub roles: Vec<RoleSpec>,
    pub client: ClientSpec,
    /// CloudTrail management events already recorded when the lab starts.
    #[serde(default, rename = "cloudtrail")]
    pub trail: Vec<TrailSeed>,
}

/// A Keyspaces management event in the lab's CloudTrail history.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailSeed {
    /// Whose event it is (a principal name of the scenario).
    pub principal: String,
    pub event_name: String,
    pub error_code: String,
    pub error_message: Option<String>,
    pub minutes_ago: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// How far the lab's clock runs ahead of the host's.
    #[serde(default)]
    pub clock_offset_secs: i64,
    #[serde(default = "nine")]
    pub peers: u8,
    #[serde(default)]
    pub serving_root: ServingRoot,
    /// Open a second port that accepts TCP and never sends a byte.
    #[serde(default)]
    pub silent_port: bool,
    /// Misbehave on purpose (hostile-server scenarios).
    #[serde(default)]
    pub misbehave: Option<Misbehavior>,
    /// IAM refuses every read (the principal has no iam:Get*/List* rights).
    #[serde(default)]
    pub deny_iam_reads: bool,
    /// Point-in-time recovery on the application's table (`custom_properties`).
    #[serde(default = "yes")]
    pub point_in_time_recovery: bool,
    /// The table is encrypted with this customer managed KMS key (else an AWS owned key).
    #[serde(default)]
    pub customer_managed_key: Option<String>,
    /// Connections arrive through this interface VPC endpoint (its id is the request's
    /// `aws:SourceVpce`); else over the public endpoint, where the key is absent.
    #[serde(default)]
    pub source_vpce: Option<String>,
}

/// Ways a hostile or broken server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misbehavior {
    /// Random bytes right after the TLS handshake.
    GarbageAfterHandshake,
    /// A frame header claiming a body of almost 2 GiB.
    HugeFrame,
    /// TLS completes, then no CQL answer ever comes.
    SilentAfterHandshake,
    /// Answers one byte a second.
    Drip,
    /// Closes the connection in the middle of the TLS handshake.
    CloseMidHandshake,
    /// An AUTH_CHALLENGE without a nonce.
    ChallengeWithoutNonce,
    /// An AUTH_CHALLENGE whose nonce has the wrong length.
    ChallengeShortNonce,
    /// STS answers malformed XML.
    StsMalformed,
    /// STS answers 503.
    #[serde(rename = "sts-5xx")]
    Sts5xx,
}

fn nine() -> u8 {
    9
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec {
            clock_offset_secs: 0,
            peers: 9,
            serving_root: ServingRoot::Ats,
            silent_port: false,
            misbehave: None,
            deny_iam_reads: false,
            source_vpce: None,
            point_in_time_recovery: true,
            customer_managed_key: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    /// The policy JSON.
    pub document: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSpec {
    /// IAM user name.
    pub name: String,
    pub account: Option<String>,
    #[serde(default = "yes")]
    pub service_credential: bool,
    #[serde(default = "yes")]
    pub access_key: bool,
    /// Also issue temporary credentials that have already expired.
    #[serde(default)]
    pub expired_session: bool,
    /// Status of the service-specific credential (`Active` or `Inactive`).
    #[serde(default = "active")]
    pub ssc_status: String,
    /// Age of the service-specific credential in days.
    #[serde(default)]
    pub ssc_age_days: i64,
    /// Another (older) service-specific credential next to the one in use.
    #[serde(default)]
    pub second_ssc: bool,
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
    pub boundary: Option<PolicySpec>,
}

fn yes() -> bool {
    true
}

fn active() -> String {
    "Active".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    pub account: Option<String>,
    pub trust: String,
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Password,
    Sigv4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClientCa {
    #[default]
    Bundle,
    StarfieldOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClientPort {
    #[default]
    Cql,
    Silent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Whose credentials the client uses (`admin` is the lab's full-access user).
    #[serde(default = "admin")]
    pub principal: String,
    pub auth: AuthMode,
    #[serde(default = "yes")]
    pub tls: bool,
    #[serde(default)]
    pub probe_writes: bool,
    /// The operations the client evaluates (`--operations`).
    #[serde(default)]
    pub operations: Vec<crate::evidence::OperationKind>,
    #[serde(default)]
    pub ca: ClientCa,
    pub host: Option<String>,
    #[serde(default)]
    pub port: ClientPort,
    pub region: Option<String>,
    /// Use this username instead of the service-specific one.
    pub username: Option<String>,
    /// Appended to the password, as pasted.
    pub password_suffix: Option<String>,
    /// Sign with a secret that does not belong to the key.
    #[serde(default)]
    pub wrong_secret: bool,
    /// Use the principal's expired temporary credentials.
    #[serde(default)]
    pub use_session: bool,
    /// Also hand the client the IAM user's own access key (for AWS-side checks) when auth is password.
    #[serde(default)]
    pub with_access_key: bool,
    /// Assume this role (by name) first.
    pub role: Option<String>,
    pub table: Option<String>,
    /// A driver configuration file the client deploys (written into the lab directory).
    pub driver_config: Option<super::driver_files::DriverConfigSpec>,
}

fn admin() -> String {
    "admin".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("unknown scenario '{0}'; `keyspaces-doctor lab --list` prints the names")]
    Unknown(String),
    #[error("scenario file {file}.toml is invalid: {message}")]
    Invalid { file: String, message: String },
}

/// Parses one scenario file and checks its references.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |message: String| ScenarioError::Invalid {
        file: file.into(),
        message,
    };
    let s: Scenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if s.name != file {
        return Err(invalid(format!("its name is '{}', the file stem is '{file}'", s.name)));
    }
    for p in s
        .principals
        .iter()
        .flat_map(|p| p.policies.iter().chain(p.boundary.iter()))
    {
        serde_json::from_str::<PolicyDocument>(&p.document)
            .map_err(|e| invalid(format!("policy '{}' is not a policy document: {e}", p.name)))?;
    }
    for r in &s.roles {
        serde_json::from_str::<PolicyDocument>(&r.trust)
            .map_err(|e| invalid(format!("trust policy of role '{}': {e}", r.name)))?;
    }
    if s.client.principal != "admin" && !s.principals.iter().any(|p| p.name == s.client.principal) {
        return Err(invalid(format!(
            "client principal '{}' is not defined",
            s.client.principal
        )));
    }
    if let Some(r) = &s.client.role
        && !s.roles.iter().any(|x| &x.name == r)
    {
        return Err(invalid(format!("client role '{r}' is not defined")));
    }
    Ok(s)
}

/// Every embedded scenario, parsed.
pub fn all() -> Result<Vec<Scenario>, ScenarioError> {
    crate::assets::SCENARIO_FILES.iter().map(|(f, t)| parse(f, t)).collect()
}

pub fn find(name: &str) -> Result<Scenario, ScenarioError> {
    crate::assets::SCENARIO_FILES
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(f, t)| parse(f, t))
        .unwrap_or_else(|| Err(ScenarioError::Unknown(name.into())))
}
