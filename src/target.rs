//! `Target`: what to diagnose, layered from flags, environment and cqlshrc. Secrets are
//! wrapped; usage errors (exit 2) are told apart from findings a real client would also
//! trip over (recorded as `ConfigNote`s). No network I/O here.
use crate::cli::{AuthArg, TargetArgs};
use crate::cqlshrc::{self, Cqlshrc, CqlshrcError};
use crate::evidence::{ConfigNote, TargetSummary};
use crate::secret::Secret;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 9142;

/// Regions where Amazon Keyspaces is offered (and a few it is not, for the same check).
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

pub use crate::evidence::AuthMode;

/// `--operations` as a set in canonical order; by default `select`, and `modify` with
/// `--probe-writes`.
fn operations_of(a: &TargetArgs) -> Vec<crate::evidence::OperationKind> {
    use crate::evidence::OperationKind as K;
    let wanted = |k: K| {
        if a.operations.is_empty() {
            return k == K::Select || (k == K::Modify && a.probe_writes);
        }
        a.operations.iter().any(|o| o.names(k))
    };
    K::ALL.into_iter().filter(|k| wanted(*k)).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Cqlshrc(#[from] CqlshrcError),
    #[error("--ca-file {path}: {problem}; pass a PEM file that holds the root certificates your client trusts")]
    CaFile { path: String, problem: String },
    #[error(
        "--resolve '{0}' is not HOST:ADDR with HOST a host name and ADDR an IP address, e.g. --resolve cassandra.us-east-1.amazonaws.com:10.0.1.5 or HOST:[2001:db8::5]"
    )]
    Resolve(String),
    #[error(
        "{path}:{line}: port = {value} is not a port number (1-65535); cqlsh refuses it too. Set port = 9142, the Keyspaces port"
    )]
    CqlshrcPort { path: String, line: usize, value: String },
    #[error(
        "host '{0}' is not a host name (letters, digits, '-' and '.' only) nor an IP address; pass the endpoint such as cassandra.us-east-1.amazonaws.com"
    )]
    Host(String),
    #[error("no endpoint to diagnose: pass --host or --region (or set hostname in cqlshrc, or AWS_REGION)")]
    NoEndpoint,
    #[error("--driver-config {path}: {problem}; pass the application.conf or cqlshrc your client reads")]
    DriverConfig { path: String, problem: String },
}

/// Keys handed over directly rather than found by the AWS credential chain.
#[derive(Debug, Clone)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret: Secret,
    pub session_token: Option<Secret>,
}

/// Everything a probe needs; secrets cannot be printed.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The region SigV4 signs for.
    pub region: Option<String>,
    pub region_source: String,
    pub host_region: Option<String>,
    pub resolve: Vec<(String, IpAddr)>,
    pub ca_file: Option<PathBuf>,
    pub ca_roots: Vec<CertificateDer<'static>>,
    pub tls_name: String,
    pub tls: bool,
    pub auth: AuthMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub keyspace: Option<String>,
    pub table: Option<String>,
    pub role_arn: Option<String>,
    /// The named AWS profile (`--profile` / `AWS_PROFILE`).
    pub profile: Option<String>,
    /// The cqlshrc's `[auth_provider] region_name` and where it is written.
    pub cqlshrc_region: Option<(String, String)>,
    pub sts_endpoint: Option<String>,
    pub aws_endpoint: Option<String>,
    pub probe_writes: bool,
    /// The operations to evaluate (`--operations`), in their canonical order.
    pub operations: Vec<crate::evidence::OperationKind>,
    /// Credentials given directly (the demo's lab client) instead of the AWS chain.
    pub static_credentials: Option<StaticKeys>,
    /// Ignore the host's AWS credential chain (the demo's lab clients).
    pub isolated: bool,
    pub step_timeout: Duration,
    pub total_timeout: Duration,
    pub notes: Vec<ConfigNote>,
    /// Driver configuration files to lint (`--driver-config`), each known to be readable.
    pub driver_configs: Vec<PathBuf>,
}

/// The region in a Keyspaces host name (`cassandra.<region>.amazonaws.com`, `.api.aws`, FIPS, China, VPC endpoints).
pub fn region_of_host(host: &str) -> Option<String> {
    let h = host.to_ascii_lowercase();
    let labels: Vec<&str> = h.split('.').collect();
    let i = labels
        .iter()
        .position(|l| *l == "cassandra" || *l == "cassandra-fips")?;
    let r = labels.get(i + 1)?;
    let looks_like_region = r.split('-').count() >= 3 && r.chars().last().is_some_and(|c| c.is_ascii_digit());
    looks_like_region.then(|| r.to_string())
}

fn load_pem_roots(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = crate::outside::file::read(path, crate::outside::file::CONFIG_CAP).map_err(|e| e.to_string())?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("is not valid PEM ({e})"))?;
    if certs.is_empty() {
        return Err("holds no certificate".into());
    }
    Ok(certs)
}

impl Target {
    /// The region of the resource ARNs: the endpoint's, else the signing region.
    pub fn arn_region(&self) -> &str {
        self.host_region
            .as_deref()
            .or(self.region.as_deref())
            .unwrap_or("us-east-1")
    }

    /// Builds the target; `env` reads environment variables (injectable for tests).
    pub fn from_args(a: &TargetArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Target, UsageError> {
        let rc_path = a.cqlshrc.clone().or_else(|| {
            let p = PathBuf::from(env("HOME")?).join(".cassandra").join("cqlshrc");
            p.exists().then_some(p)
        });
        let rc: Option<Cqlshrc> = rc_path.as_deref().map(cqlshrc::load).transpose()?;
        let rcv = |s: &str, k: &str| rc.as_ref().and_then(|r| r.value(s, k));
        let mut notes = Vec::new();

        let mut host = a.host.clone().or_else(|| rcv("connection", "hostname"));
        let mut port = match (a.port, rc.as_ref().and_then(|r| r.get("connection", "port"))) {
            (Some(p), _) => Some(p),
            (None, Some(s)) => match s.value.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    return Err(UsageError::CqlshrcPort {
                        path: rc_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                        line: s.line,
                        value: crate::outside::text::clean_to(&s.value, 40),
                    });
                }
            },
            (None, None) => None,
        };
        if let Some(h) = host.clone()
            && let Some((name, p)) = h.rsplit_once(':')
            && let Ok(p) = p.parse::<u16>()
        {
            notes.push(ConfigNote::HostHasPort { host: h.clone() });
            host = Some(name.to_string());
            port = port.or(Some(p));
        }
        let env_region = env("AWS_REGION")
            .map(|r| (r, "AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION").map(|r| (r, "AWS_DEFAULT_REGION")));
        let host_region = host.as_deref().and_then(region_of_host);
        let (region, region_source) = match (&a.region, &host_region, &env_region) {
            (Some(r), _, _) => (Some(r.clone()), "--region".to_string()),
            (None, Some(r), _) => (Some(r.clone()), "the host name".to_string()),
            (None, None, Some((r, v))) => (Some(r.clone()), (*v).to_string()),
            _ => (None, "nowhere".to_string()),
        };
        let host = match (host, &region) {
            (Some(h), _) => h,
            (None, Some(r)) => format!("cassandra.{}.amazonaws.com", r.to_ascii_lowercase()),
            (None, None) => return Err(UsageError::NoEndpoint),
        };
        if let Some(r) = &region {
            if r != &r.to_ascii_lowercase() || r.trim() != r {
                notes.push(ConfigNote::RegionNotNormalized { given: r.clone() });
            } else if !KNOWN_REGIONS.contains(&r.as_str()) {
                notes.push(ConfigNote::UnknownRegion { region: r.clone() });
            }
            if let Some(hr) = &host_region
                && hr != &r.to_ascii_lowercase()
            {
                notes.push(ConfigNote::RegionMismatch {
                    signing: r.clone(),
                    endpoint: hr.clone(),
                });
            }
        } else {
            notes.push(ConfigNote::NoRegion);
        }

        if !crate::outside::shell::is_host(&host) {
            return Err(UsageError::Host(crate::outside::text::clean_to(&host, 80)));
        }
        let mut resolve = Vec::new();
        for r in &a.resolve {
            // Host names hold no ':', so the first one ends the name (IPv6 addresses follow).
            let (h, addr) = r
                .split_once(':')
                .ok_or_else(|| UsageError::Resolve(crate::outside::text::clean_to(r, 120)))?;
            if !crate::outside::shell::is_host(h) {
                return Err(UsageError::Resolve(crate::outside::text::clean_to(r, 120)));
            }
            let ip: IpAddr = addr
                .trim_matches(['[', ']'])
                .parse()
                .map_err(|_| UsageError::Resolve(crate::outside::text::clean_to(r, 120)))?;
            resolve.push((h.to_string(), ip));
        }

        // The CA file: a bad --ca-file is a usage error; a bad cqlshrc certfile is a finding.
        let mut ca_file = None;
        let mut ca_roots = Vec::new();
        if let Some(p) = &a.ca_file {
            ca_roots = load_pem_roots(p).map_err(|problem| UsageError::CaFile {
                path: p.display().to_string(),
                problem,
            })?;
            ca_file = Some(p.clone());
        } else if let Some((p, line)) = rc.as_ref().and_then(|r| r.certfile()) {
            match load_pem_roots(&p) {
                Ok(c) => {
                    ca_roots = c;
                    ca_file = Some(p);
                }
                Err(problem) => notes.push(ConfigNote::CaFileProblem {
                    path: format!("{} (cqlshrc line {line})", p.display()),
                    problem,
                }),
            }
        }
        if let Some(s) = rc.as_ref().and_then(|r| r.validation_disabled()) {
            notes.push(ConfigNote::VerificationDisabled {
                source: format!(
                    "{} line {}: validate = {}",
                    rc_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                    s.line,
                    s.value
                ),
            });
        }

        for (variable, default) in [
            ("AWS_CONFIG_FILE", "config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ] {
            let path = env(variable)
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws").join(default)));
            let Some(path) = path else { continue };
            match crate::outside::file::read(&path, crate::outside::file::CONFIG_CAP) {
                Ok(_) | Err(crate::outside::file::Refused::Open(_)) => {}
                Err(problem) => {
                    notes.push(ConfigNote::AwsFileRefused {
                        variable: variable.to_string(),
                        path: path.display().to_string(),
                        problem: problem.to_string(),
                    });
                }
            }
        }
        // cqlsh itself may not verify what this cqlshrc asks it to verify.
        if let Some(r) = rc
            .as_ref()
            .filter(|r| r.uses_tls() && r.validation_disabled().is_none())
        {
            let found = env("PATH").and_then(|p| cqlshrc::installed_cqlsh(&p));
            let version = found.as_ref().and_then(|(_, v)| v.clone());
            if version.as_deref().is_none_or(cqlshrc::driver_skips_verification) {
                notes.push(ConfigNote::CqlshUnverified {
                    cqlshrc: r.path.display().to_string(),
                    cqlsh: found.map(|(p, _)| p.display().to_string()),
                    driver_version: version,
                });
            }
        }
        let username = a.username.clone().or_else(|| rcv("authentication", "username"));
        let password = env("KEYSPACES_PASSWORD")
            .or_else(|| rcv("authentication", "password"))
            .map(Secret::new);
        let wants_password = matches!(a.auth, Some(AuthArg::Password)) || (a.auth.is_none() && username.is_some());
        let password = match password {
            Some(p) => Some(p),
            None if wants_password => prompt_password(username.as_deref().unwrap_or("the service-specific user")),
            None => None,
        };
        let auth = match a.auth {
            Some(AuthArg::Password) => AuthMode::Password,
            Some(AuthArg::Sigv4) => AuthMode::SigV4,
            None if rc.as_ref().is_some_and(|r| r.uses_sigv4()) => AuthMode::SigV4,
            None if username.is_some() => AuthMode::Password,
            None => AuthMode::SigV4,
        };
        if auth == AuthMode::Password {
            if let Some(p) = &password {
                let v = p.expose();
                let newline = v.contains('\n') || v.contains('\r');
                let leading = v.starts_with(char::is_whitespace);
                let trailing = v.ends_with(char::is_whitespace);
                if newline || leading || trailing {
                    notes.push(ConfigNote::PasswordWhitespace {
                        leading,
                        trailing,
                        newline,
                    });
                }
            }
            if let Some(u) = &username
                && !is_service_specific_username(u)
            {
                notes.push(ConfigNote::UsernameNotServiceSpecific { username: u.clone() });
            }
        }
        let tls = !a.no_tls && !rcv("connection", "ssl").is_some_and(|v| v.eq_ignore_ascii_case("false"));
        if !tls {
            notes.push(ConfigNote::TlsDisabled);
        }
        for p in &a.driver_config {
            crate::outside::file::readable_text(p, crate::outside::file::CONFIG_CAP).map_err(|problem| {
                UsageError::DriverConfig {
                    path: p.display().to_string(),
                    problem,
                }
            })?;
        }
        Ok(Target {
            tls_name: a.tls_name.clone().unwrap_or_else(|| host.clone()),
            host,
            port: port.unwrap_or(DEFAULT_PORT),
            region,
            region_source,
            host_region,
            resolve,
            ca_file,
            ca_roots,
            tls,
            auth,
            username,
            password,
            keyspace: a.keyspace.clone(),
            table: a.table.clone(),
            role_arn: a.role_arn.clone(),
            profile: a.profile.clone().filter(|p| !p.is_empty()),
            cqlshrc_region: rc.as_ref().and_then(|r| {
                r.get("auth_provider", "region_name")
                    .map(|s| (s.value.clone(), format!("{}:{}", r.path.display(), s.line)))
            }),
            sts_endpoint: a.sts_endpoint.clone().or_else(|| a.aws_endpoint_url.clone()),
            // --sts-endpoint is for STS only; --aws-endpoint-url for every AWS call.
            aws_endpoint: a.aws_endpoint_url.clone(),
            probe_writes: a.probe_writes,
            operations: operations_of(a),
            static_credentials: None,
            isolated: false,
            step_timeout: a.timeout,
            total_timeout: a.total_timeout,
            notes,
            driver_configs: a.driver_config.clone(),
        })
    }

    /// Whether the AWS shared file named by `variable` was refused (a device, FIFO or huge
    /// file): the SDK chain leaves it out.
    pub fn aws_file_refused(&self, variable: &str) -> bool {
        self.notes
            .iter()
            .any(|n| matches!(n, ConfigNote::AwsFileRefused { variable: v, .. } if v == variable))
    }

    /// The region SigV4 uses, exactly as configured.
    pub fn signing_region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn summary(&self) -> TargetSummary {
        TargetSummary {
            host: self.host.clone(),
            port: self.port,
            region: self.region.clone(),
            region_source: self.region_source.clone(),
            host_region: self.host_region.clone(),
            tls: self.tls,
            tls_name: self.tls_name.clone(),
            auth: self.auth,
            username: self.username.clone(),
            keyspace: self.keyspace.clone(),
            table: self.table.clone(),
            ca_file: self.ca_file.as_ref().map(|p| p.display().to_string()),
            role_arn: self.role_arn.clone(),
            probe_writes: self.probe_writes,
            operations: self.operations.clone(),
            resolve: self.resolve.iter().map(|(h, a)| format!("{h}:{a}")).collect(),
        }
    }
}

/// Asks for the password on the terminal without echo; never when stdin is not a terminal.
fn prompt_password(user: &str) -> Option<Secret> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return None;
    }
    eprint!("Password for {user} (not echoed; KEYSPACES_PASSWORD avoids this prompt): ");
    let _ = std::io::stderr().flush();
    crossterm::terminal::enable_raw_mode().ok()?;
    let mut value = String::new();
    let ok = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break true,
                KeyCode::Esc => break false,
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => break false,
                KeyCode::Backspace => {
                    value.pop();
                }
                KeyCode::Char(ch) => value.push(ch),
                _ => {}
            },
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    eprintln!();
    ok.then(|| Secret::new(value))
}

/// `<iam-user>-at-<12-digit account>`.
pub fn is_service_specific_username(u: &str) -> bool {
    u.rsplit_once("-at-")
        .is_some_and(|(name, acct)| !name.is_empty() && acct.len() == 12 && acct.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_value_names_its_own_kind() {
        use crate::cli::OperationArg;
        use crate::evidence::OperationKind;
        for k in OperationKind::ALL {
            let arg = OperationArg::of(k);
            assert_ne!(arg, OperationArg::All, "{k}");
            for other in OperationKind::ALL {
                assert_eq!(arg.names(other), other == k, "{k} vs {other}");
                assert!(OperationArg::All.names(other));
            }
        }
    }

    fn target_of(args: &[&str]) -> Result<Target, UsageError> {
        use clap::Parser;
        let mut argv = vec!["keyspaces-doctor", "check", "--cqlshrc", "/dev/null"];
        argv.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(argv).expect("arguments parse");
        let Some(crate::cli::Command::Check(c)) = cli.command else {
            panic!("a check command")
        };
        Target::from_args(&c.target, &|_| None)
    }

    #[test]
    fn resolve_takes_ipv6_and_refuses_an_empty_host() {
        let t = target_of(&[
            "--region",
            "us-east-1",
            "--resolve",
            "cassandra.us-east-1.amazonaws.com:[2001:db8::5]",
        ])
        .unwrap();
        assert_eq!(t.resolve[0].1, "2001:db8::5".parse::<IpAddr>().unwrap());
        let t = target_of(&[
            "--region",
            "us-east-1",
            "--resolve",
            "cassandra.us-east-1.amazonaws.com:::1",
        ])
        .unwrap();
        assert_eq!(t.resolve[0].1, "::1".parse::<IpAddr>().unwrap());
        assert!(matches!(
            target_of(&["--region", "us-east-1", "--resolve", ":10.0.0.1"]),
            Err(UsageError::Resolve(_))
        ));
        assert!(matches!(
            target_of(&["--host", "a b.example"]),
            Err(UsageError::Host(_))
        ));
    }

    #[test]
    fn sts_endpoint_is_for_sts_alone() {
        let t = target_of(&["--region", "us-east-1", "--sts-endpoint", "http://127.0.0.1:1"]).unwrap();
        assert_eq!(t.sts_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(t.aws_endpoint, None);
        let t = target_of(&["--region", "us-east-1", "--aws-endpoint-url", "http://127.0.0.1:2"]).unwrap();
        assert_eq!(t.sts_endpoint.as_deref(), Some("http://127.0.0.1:2"));
        assert_eq!(t.aws_endpoint.as_deref(), Some("http://127.0.0.1:2"));
    }

    #[test]
    fn regions_from_host_names() {
        assert_eq!(
            region_of_host("cassandra.us-east-1.amazonaws.com").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            region_of_host("cassandra.eu-west-1.api.aws").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_host("cassandra-fips.us-west-2.amazonaws.com").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            region_of_host("cassandra.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of_host("keyspaces.internal.example.com"), None);
        assert!(is_service_specific_username("alice-at-111122223333"));
        assert!(!is_service_specific_username("alice"));
    }
}
