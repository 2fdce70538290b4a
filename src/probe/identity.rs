//! Identity probe: which provider of the AWS chain supplied credentials, the key (last
//! 4 characters only), temporary or not, STS `GetCallerIdentity`, `AssumeRole` with a
//! role ARN, the clock offset from STS's `Date` header, mixed credentials, and the region
//! each AWS SigV4 plugin would pick. Returns the credentials the CQL probe signs with.
use crate::evidence::{AssumeRoleReport, AwsError, CallerIdentity, IdentityReport, PluginRegion};
use crate::secret::Secret;
use crate::target::Target;
use aws_config::BehaviorVersion;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use rustls_pki_types::CertificateDer;
use std::sync::{Arc, Mutex};

/// Keys usable for SigV4, with their secrets wrapped.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub access_key_id: String,
    pub secret: Secret,
    pub session_token: Option<Secret>,
}

impl SigningKeys {
    /// The keys as the AWS SDK's credentials, for the IAM and CloudTrail clients.
    pub fn credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret.expose().to_string(),
            self.session_token.as_ref().map(|s| s.expose().to_string()),
            None,
            "keyspaces-doctor",
        )
    }
}

/// The `Date` header STS sent, and when it arrived here.
type Seen = Option<(String, chrono::DateTime<chrono::Utc>)>;

/// Records the `Date` header of STS's answers, and when they arrived by the probes' clock.
#[derive(Clone)]
struct DateCapture(Arc<Mutex<Seen>>, Arc<dyn super::io::Clock>);

impl std::fmt::Debug for DateCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DateCapture")
    }
}

impl Intercept for DateCapture {
    fn name(&self) -> &'static str {
        "keyspaces-doctor-date-capture"
    }

    fn read_before_deserialization(
        &self,
        ctx: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(d) = ctx.response().headers().get("date") {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((d.to_string(), self.1.now()));
        }
        Ok(())
    }
}

fn feature_name(f: &AwsCredentialFeature) -> &'static str {
    use AwsCredentialFeature::*;
    match f {
        CredentialsEnvVars => "environment variables (AWS_ACCESS_KEY_ID)",
        CredentialsEnvVarsStsWebIdToken | CredentialsProfileStsWebIdToken => "web identity token",
        CredentialsStsAssumeRole => "STS AssumeRole",
        CredentialsProfileSso | CredentialsSso => "SSO",
        CredentialsProfileProcess | CredentialsProcess => "credential_process",
        CredentialsProfile | CredentialsProfileSourceProfile | CredentialsProfileNamedProvider => {
            "shared profile (~/.aws)"
        }
        CredentialsHttp => "container credentials (ECS/EKS)",
        CredentialsImds => "EC2 instance metadata (IMDS)",
        CredentialsCode => "code",
        _ => "other",
    }
}

/// An error and its sources in their own words, `outer: inner: innermost`, each said once;
/// never the Debug dump that `DisplayErrorContext` appends.
pub fn plain_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

pub fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError {
    // Some endpoints (proxies, emulators) answer in an XML shape the SDK does not
    // parse; read <Code> and <Message> from the raw body then.
    let body = e
        .raw_response()
        .and_then(|r| r.body().bytes())
        .map(|b| String::from_utf8_lossy(b).to_string())
        .unwrap_or_default();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_string())
    };
    AwsError {
        code: e.code().map(str::to_string).or_else(|| tag("Code")),
        message: e
            .message()
            .map(str::to_string)
            .or_else(|| tag("Message"))
            .unwrap_or_else(|| {
                let full = plain_chain(e);
                full.chars().take(300).collect()
            }),
        http_status: e.raw_response().map(|r| r.status().as_u16()),
    }
}

/// The region each SigV4 plugin would find here: the environment variables each reads,
/// then what else it reads (the profile's region for the SDK-based ones, the cqlshrc's
/// `region_name` that cqlsh hands the Python plugin).
fn plugin_regions(
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
    profile_region: Option<String>,
    cqlshrc_region: Option<(String, String)>,
) -> Vec<PluginRegion> {
    let v = |k: &str| env(k).filter(|s| !s.is_empty());
    let pick = |plugin: &str, keys: &[&str], more: Vec<(Option<String>, String)>, fallback: &str| {
        let found = keys
            .iter()
            .find_map(|k| v(k).map(|r| (r, k.to_string())))
            .or_else(|| more.into_iter().find_map(|(r, src)| r.map(|r| (r, src))));
        PluginRegion {
            plugin: plugin.into(),
            region: found.as_ref().map(|f| f.0.clone()),
            source: found.map(|f| f.1).unwrap_or_else(|| fallback.into()),
        }
    };
    let profile = (profile_region.clone(), "the profile's region".to_string());
    let cqlshrc = match cqlshrc_region {
        Some((r, at)) => (Some(r), format!("cqlshrc region_name ({at})")),
        None => (None, String::new()),
    };
    vec![
        pick(
            "Python cassandra-sigv4",
            &["AWS_DEFAULT_REGION"],
            vec![cqlshrc, profile.clone()],
            "no AWS_DEFAULT_REGION, profile region or cqlshrc region_name",
        ),
        pick(
            "Node aws-sigv4-auth-cassandra-plugin",
            &["AWS_REGION"],
            vec![],
            "no AWS_REGION",
        ),
        pick(
            "Go aws-sigv4-auth-cassandra-gocql-driver-plugin",
            &["AWS_DEFAULT_REGION", "AWS_REGION"],
            vec![],
            "no AWS_DEFAULT_REGION or AWS_REGION",
        ),
        pick(
            "Java aws-sigv4-auth-cassandra-java-driver-plugin",
            &["AWS_REGION"],
            vec![profile],
            "no aws-region setting seen, AWS_REGION or profile region (IMDS not asked)",
        ),
    ]
}

/// The AWS config and credentials files the SDK may read: a device, FIFO or huge file
/// (found by `Target`) is left out, as it would hang or flood the SDK's reader.
fn profile_files(target: &Target) -> aws_runtime::env_config::file::EnvConfigFiles {
    aws_runtime::env_config::file::EnvConfigFiles::builder()
        .include_default_config_file(!target.aws_file_refused("AWS_CONFIG_FILE"))
        .include_default_credentials_file(!target.aws_file_refused("AWS_SHARED_CREDENTIALS_FILE"))
        .build()
}

/// The region of the profile in use, as the SDKs read it from the config file.
async fn profile_region(target: &Target) -> Option<String> {
    if target.isolated {
        return None;
    }
    use aws_config::meta::region::ProvideRegion;
    let mut b = aws_config::profile::ProfileFileRegionProvider::builder().profile_files(profile_files(target));
    if let Some(p) = &target.profile {
        b = b.profile_name(p);
    }
    tokio::time::timeout(target.step_timeout, b.build().region())
        .await
        .ok()
        .flatten()
        .map(|r| r.to_string())
}

/// The SDK's HTTPS client, trusting the system roots already read by the probes (instead
/// of reading the store again per client). Certificates rustls cannot use as anchors are
/// left out, as rustls' own native-roots loading does.
pub async fn load_config(target: &Target, io: &super::Io, roots: &[CertificateDer<'static>]) -> aws_types::SdkConfig {
    let http = io.aws_http.clone().unwrap_or_else(|| super::aws_http::client(roots));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(target.step_timeout)
                .build(),
        );
    if target.aws_file_refused("AWS_CONFIG_FILE") || target.aws_file_refused("AWS_SHARED_CREDENTIALS_FILE") {
        loader = loader.profile_files(profile_files(target));
    }
    if let Some(p) = &target.profile {
        loader = loader.profile_name(p);
    }
    if target.isolated && target.static_credentials.is_none() {
        loader = loader.no_credentials();
    }
    if let Some(k) = &target.static_credentials {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            k.access_key_id.clone(),
            k.secret.expose().to_string(),
            k.session_token.as_ref().map(|s| s.expose().to_string()),
            None,
            "keyspaces-doctor-static",
        ));
    }
    if let Some(r) = &target.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    } else {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    tokio::time::timeout(target.step_timeout * 2, loader.load())
        .await
        .unwrap_or_else(|_| aws_types::SdkConfig::builder().build())
}

pub async fn probe(
    target: &Target,
    conf: &aws_types::SdkConfig,
    io: &super::Io,
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
    early: Option<tokio::sync::oneshot::Sender<Option<SigningKeys>>>,
) -> (IdentityReport, Option<SigningKeys>) {
    // The CQL probe signs with these keys as soon as they are known; STS and IAM
    // answers are evidence, not a gate.
    let mut early = early;
    let mut hand_over = |k: Option<SigningKeys>| {
        if let Some(tx) = early.take() {
            let _ = tx.send(k);
        }
    };
    let mut report = IdentityReport {
        plugin_regions: plugin_regions(env, profile_region(target).await, target.cqlshrc_region.clone()),
        ..Default::default()
    };
    let Some(provider) = conf.credentials_provider() else {
        report.chain_error = Some("no AWS credential provider is configured".into());
        hand_over(None);
        return (report, None);
    };
    let creds = match tokio::time::timeout(target.step_timeout, provider.provide_credentials()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            // The error's own words, one provider a clause; never the SDK's Debug dump.
            report.chain_error = Some(
                plain_chain(&e)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
                    .replace(".; ", ": ")
                    .replace(":; ", ": "),
            );
            hand_over(None);
            return (report, None);
        }
        Err(_) => {
            hand_over(None);
            report.chain_error = Some(format!(
                "the AWS credential chain gave no answer within {:?}",
                target.step_timeout
            ));
            return (report, None);
        }
    };
    report.credential_source = creds
        .get_property::<Vec<AwsCredentialFeature>>()
        .and_then(|v| v.iter().map(feature_name).find(|n| *n != "other"))
        .map(str::to_string)
        .or_else(|| Some("AWS credential chain".into()));
    let akid = creds.access_key_id().to_string();
    report.access_key_last4 = Some(
        akid.chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
    );
    report.long_term_key = Some(akid.starts_with("AKIA"));
    report.has_session_token = creds.session_token().is_some();
    report.expires_at = creds
        .expiry()
        .map(|e| chrono::DateTime::<chrono::Utc>::from(e).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    if akid.starts_with("AKIA") && creds.session_token().is_some() {
        report.mixed_credentials = Some(
            "a long-term access key (AKIA...) is paired with a session token, probably a leftover AWS_SESSION_TOKEN"
                .into(),
        );
    }
    let mut keys = Some(SigningKeys {
        access_key_id: akid,
        secret: Secret::new(creds.secret_access_key()),
        session_token: creds.session_token().map(Secret::new),
    });
    if target.role_arn.is_none() {
        hand_over(keys.clone());
    }

    let dates = DateCapture(Arc::default(), io.clock.clone());
    let mut sts_conf = aws_sdk_sts::config::Builder::from(conf).interceptor(dates.clone());
    if let Some(u) = &target.sts_endpoint {
        sts_conf = sts_conf.endpoint_url(u);
    }
    let sts = aws_sdk_sts::Client::from_conf(sts_conf.build());
    let sent = io.clock.now();
    match sts.get_caller_identity().send().await {
        Ok(o) if o.arn().is_none_or(str::is_empty) => {
            report.sts_error = Some(AwsError {
                code: None,
                message: "GetCallerIdentity answered without an Arn: the body is not STS XML".into(),
                http_status: Some(200),
            })
        }
        Ok(o) => {
            report.caller = Some(CallerIdentity {
                arn: o.arn().unwrap_or_default().into(),
                account: o.account().unwrap_or_default().into(),
                user_id: o.user_id().unwrap_or_default().into(),
            })
        }
        Err(e) => report.sts_error = Some(sdk_error(&e)),
    }
    if let Some((date, received)) = dates.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
        && let Ok(server) = chrono::DateTime::parse_from_rfc2822(&date)
    {
        let mid = sent + (received - sent) / 2;
        report.clock_offset_secs = Some((server.with_timezone(&chrono::Utc) - mid).num_seconds());
    }
    if let Some(role) = &target.role_arn {
        let r = sts
            .assume_role()
            .role_arn(role)
            .role_session_name("keyspaces-doctor")
            .send()
            .await;
        report.assume_role = Some(match r {
            Ok(o) => {
                if let Some(c) = o.credentials() {
                    keys = Some(SigningKeys {
                        access_key_id: c.access_key_id().into(),
                        secret: Secret::new(c.secret_access_key()),
                        session_token: Some(Secret::new(c.session_token())),
                    });
                }
                AssumeRoleReport {
                    role_arn: role.clone(),
                    assumed_arn: o.assumed_role_user().map(|u| u.arn().to_string()),
                    error: None,
                }
            }
            Err(e) => AssumeRoleReport {
                role_arn: role.clone(),
                assumed_arn: None,
                error: Some(sdk_error(&e)),
            },
        });
    }
    hand_over(keys.clone());
    (report, keys)
}
