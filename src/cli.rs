//! The command line: every subcommand and flag, defined once (the binary, the help
//! snapshots and the completions all read it). Parses; runs nothing.
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keyspaces-doctor",
    version,
    about = "Finds which misconfiguration breaks an Amazon Keyspaces connection (authentication, permissions, TLS) and how to fix it"
)]
#[command(args_conflicts_with_subcommands = true, disable_version_flag = true)]
pub struct Cli {
    /// Print the version and the fingerprints of the embedded Keyspaces roots.
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the interactive TUI on this target (cqlshrc and the AWS chain fill the rest).
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Diagnose a connection without a screen: text (default), --json or --markdown on stdout; exit 0 ok, 1 problems, 2 usage.
    Check(CheckArgs),
    /// Explain a pasted driver, TLS or AWS error (TEXT or stdin), offline: cause, fix, remaining questions.
    Explain(ExplainArgs),
    /// The TUI against the embedded lab: one scenario's misconfiguration, live (s switches scenario).
    Demo(DemoArgs),
    /// A quiz for new staff: guess the cause from what a failing application shows.
    Train(TrainArgs),
    /// Group many hosts' check --json reports (files, directories, or - for JSON lines on stdin) by verdict and root cause.
    Summarize(SummarizeArgs),
    /// The evidence that differs between a working host's report and a failing one's, nearest to the failure first.
    Diff(DiffArgs),
    /// Print shell completions for bash, zsh or fish.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Serve a faithful local Amazon Keyspaces (CQL v4 over TLS, SigV4, IAM denials, STS) for one scenario.
    Lab(LabArgs),
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// Report files (check --json), directories of them, or - for JSON lines on stdin.
    #[arg(required = true)]
    pub reports: Vec<String>,
    /// One JSON document on stdout.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown on stdout.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The report of a host where the connection works.
    pub good: String,
    /// The report of a host where it fails.
    pub bad: String,
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// The scenario to serve (see --list).
    #[arg(long, env = "KEYSPACES_DOCTOR_SCENARIO", default_value = "healthy")]
    pub scenario: String,
    /// Print the scenario names, one a line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Where to write the CA bundle and other files (it may exist; nothing in it is removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Address of the CQL endpoint; peers listen on the next loopback addresses (127.0.0.2 and up for 127.0.0.1), on the same port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Allow listening on an address that is not loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OperationArg {
    Select,
    Modify,
    Create,
    Alter,
    Drop,
    Restore,
    All,
}

impl OperationArg {
    /// Whether this value of `--operations` names `kind` (the values are the kinds' own
    /// names, plus `all`).
    pub fn names(self, kind: crate::evidence::OperationKind) -> bool {
        use clap::ValueEnum;
        self == OperationArg::All || self.to_possible_value().is_some_and(|v| v.get_name() == kind.as_str())
    }

    /// The value of `--operations` that names `kind`.
    pub fn of(kind: crate::evidence::OperationKind) -> OperationArg {
        use clap::ValueEnum;
        OperationArg::from_str(kind.as_str(), false).unwrap_or(OperationArg::All)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthArg {
    /// Service-specific credentials (SASL PLAIN).
    Password,
    /// IAM credentials from the AWS chain, signed with SigV4.
    Sigv4,
}

/// Parses `5`, `5s`, `1.5s` or `500ms`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration; use seconds such as 5, 2.5s or 500ms"))?;
    if !(v * scale >= 0.001 && v * scale <= 3600.0) {
        return Err(format!("'{s}' is out of range; use a duration between 1ms and 3600s"));
    }
    Ok(std::time::Duration::from_secs_f64(v * scale))
}

/// What to diagnose: the settings a client would use.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Endpoint host name [default: cassandra.<region>.amazonaws.com].
    #[arg(long, env = "KEYSPACES_HOST")]
    pub host: Option<String>,
    /// Endpoint port [default: 9142].
    #[arg(long, env = "KEYSPACES_PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Region to sign for [default: from the host name, else the AWS chain].
    #[arg(long, env = "KEYSPACES_REGION")]
    pub region: Option<String>,
    /// Connect to ADDR whenever HOST is dialled, keeping HOST for TLS (repeatable), as HOST:ADDR.
    #[arg(long, value_name = "HOST:ADDR")]
    pub resolve: Vec<String>,
    /// PEM bundle of the roots your client trusts (cqlsh's SSL_CERTFILE).
    #[arg(long, env = "SSL_CERTFILE")]
    pub ca_file: Option<PathBuf>,
    /// Name to verify the certificate against (also sent as SNI by the TLS probe) [default: the host].
    #[arg(long)]
    pub tls_name: Option<String>,
    /// Reproduce a client that has TLS turned off.
    #[arg(long)]
    pub no_tls: bool,
    /// Authentication mode [default: sigv4, or password when a username is configured].
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// Service-specific user name (the password comes from KEYSPACES_PASSWORD, cqlshrc or a prompt, never argv).
    #[arg(long, env = "KEYSPACES_USERNAME")]
    pub username: Option<String>,
    #[arg(long, env = "KEYSPACES_KEYSPACE")]
    pub keyspace: Option<String>,
    #[arg(long, env = "KEYSPACES_TABLE")]
    pub table: Option<String>,
    /// Assume this role first (cross-account access).
    #[arg(long, env = "KEYSPACES_ROLE_ARN")]
    pub role_arn: Option<String>,
    /// Named profile of the AWS config and credentials files, as the AWS CLI's --profile.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// STS endpoint URL (private endpoints, the lab).
    #[arg(long, env = "AWS_ENDPOINT_URL_STS")]
    pub sts_endpoint: Option<String>,
    /// One endpoint for every AWS API call (STS, IAM); --sts-endpoint wins for STS.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// Also probe cassandra:Modify with a conditional write on a random absent key (changes no data).
    #[arg(long)]
    pub probe_writes: bool,
    /// Operations to evaluate for the table (never run): select, modify, create, alter,
    /// drop, restore, or all [default: select, plus modify with --probe-writes].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub operations: Vec<OperationArg>,
    /// Timeout of each network step.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Timeout of the whole check.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub total_timeout: std::time::Duration,
    /// cqlshrc to read [default: ~/.cassandra/cqlshrc when it exists].
    #[arg(long, env = "CQLSH_RC")]
    pub cqlshrc: Option<PathBuf>,
    /// A driver configuration to lint against what the probes see: a Java driver
    /// application.conf or a cqlshrc (repeatable).
    #[arg(long, value_name = "PATH")]
    pub driver_config: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// One JSON document on stdout.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// A Markdown report on stdout.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The error text; read from stdin when absent.
    pub text: Vec<String>,
    /// One JSON document on stdout.
    #[arg(long, conflicts_with = "walk")]
    pub json: bool,
    /// On a terminal: walk the decision tree from the text (or a paste box without
    /// TEXT), answering with digit keys the questions the text cannot decide.
    #[arg(long)]
    pub walk: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario to start with (a failing one; `s` moves on to the next).
    #[arg(long, default_value = "missing-select")]
    pub scenario: String,
    /// List the scenarios with what each teaches, and exit.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Only this scenario.
    #[arg(long)]
    pub scenario: Option<String>,
    /// How many rounds.
    #[arg(long, default_value_t = 5)]
    pub count: usize,
    /// Print the final score as one line (for a trainer).
    #[arg(long)]
    pub score_line: bool,
}
