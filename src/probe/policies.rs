//! Reads the principal's identity policies (attached, inline, permission boundary)
//! with IAM so the diagnosis can name the statement behind a denial. Never required:
//! without IAM read rights it says what it could not see.
use super::identity::{SigningKeys, sdk_error};
use crate::evidence::PolicyReport;
use crate::iam::{NamedPolicy, PolicyDocument};
use crate::target::Target;
use aws_sdk_iam::Client;

fn decode_document(doc: &str) -> Option<PolicyDocument> {
    let decoded = percent_encoding::percent_decode_str(doc).decode_utf8().ok()?;
    serde_json::from_str(&decoded).ok()
}

async fn managed(iam: &Client, arn: &str) -> Result<NamedPolicy, String> {
    let p = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error(&e).message)?;
    let version = p
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_string();
    let v = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| sdk_error(&e).message)?;
    let doc = v
        .policy_version()
        .and_then(|v| v.document())
        .and_then(decode_document)
        .ok_or_else(|| format!("the document of {arn} is not a policy"))?;
    Ok(NamedPolicy {
        arn: arn.into(),
        document: doc,
    })
}

/// The principal behind an ARN: (`user`|`role`, name).
fn principal_of(arn: &str) -> Option<(&'static str, String)> {
    let resource = arn.split(':').nth(5)?;
    if let Some(u) = resource.strip_prefix("user/") {
        return Some(("user", u.rsplit('/').next()?.to_string()));
    }
    if let Some(r) = resource.strip_prefix("assumed-role/") {
        return Some(("role", r.split('/').next()?.to_string()));
    }
    if let Some(r) = resource.strip_prefix("role/") {
        return Some(("role", r.rsplit('/').next()?.to_string()));
    }
    None
}

async fn read(iam: &Client, kind: &str, name: &str, arn: &str) -> Result<PolicyReport, String> {
    let mut policies = Vec::new();
    let mut boundary = None;
    if kind == "user" {
        let user = iam
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&e).message)?;
        if let Some(b) = user
            .user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn())
        {
            boundary = Some(managed(iam, b).await?);
        }
        let attached = iam
            .list_attached_user_policies()
            .user_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&e).message)?;
        for p in attached.attached_policies() {
            if let Some(a) = p.policy_arn() {
                policies.push(managed(iam, a).await?);
            }
        }
        let inline = iam
            .list_user_policies()
            .user_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&e).message)?;
        for pn in inline.policy_names() {
            let p = iam
                .get_user_policy()
                .user_name(name)
                .policy_name(pn)
                .send()
                .await
                .map_err(|e| sdk_error(&e).message)?;
            if let Some(d) = decode_document(p.policy_document()) {
                policies.push(NamedPolicy {
                    arn: format!("{arn} inline policy {pn}"),
                    document: d,
                });
            }
        }
    } else {
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&e).message)?;
        for p in attached.attached_policies() {
            if let Some(a) = p.policy_arn() {
                policies.push(managed(iam, a).await?);
            }
        }
    }
    Ok(PolicyReport {
        principal_arn: arn.into(),
        policies,
        boundary,
        checks: vec![],
        unreadable: None,
    })
}

fn iam_client(target: &Target, conf: &aws_types::SdkConfig, keys: &SigningKeys) -> Client {
    let creds = aws_credential_types::Credentials::new(
        keys.access_key_id.clone(),
        keys.secret.expose().to_string(),
        keys.session_token.as_ref().map(|s| s.expose().to_string()),
        None,
        "keyspaces-doctor",
    );
    let mut b = aws_sdk_iam::config::Builder::from(conf)
        .credentials_provider(creds)
        .region(aws_config::Region::new("us-east-1"));
    if let Some(u) = &target.aws_endpoint {
        b = b.endpoint_url(u);
    }
    Client::from_conf(b.build())
}

/// The IAM user's service-specific credentials for Keyspaces (status, age).
pub async fn service_credentials(
    target: &Target,
    conf: &aws_types::SdkConfig,
    keys: &SigningKeys,
    principal_arn: &str,
) -> Option<crate::evidence::ServiceCredentialsReport> {
    let (kind, user) = principal_of(principal_arn)?;
    if kind != "user" {
        return None;
    }
    let iam = iam_client(target, conf, keys);
    let r = tokio::time::timeout(
        target.step_timeout,
        iam.list_service_specific_credentials()
            .user_name(&user)
            .service_name("cassandra.amazonaws.com")
            .send(),
    )
    .await;
    let now = std::time::SystemTime::now();
    Some(match r {
        Ok(Ok(o)) => crate::evidence::ServiceCredentialsReport {
            user,
            credentials: o
                .service_specific_credentials()
                .iter()
                .map(|c| crate::evidence::ServiceCredentialInfo {
                    id: c.service_specific_credential_id().to_string(),
                    service_user_name: c.service_user_name().to_string(),
                    status: c.status().as_str().to_string(),
                    age_days: std::time::SystemTime::try_from(*c.create_date())
                        .ok()
                        .and_then(|t| now.duration_since(t).ok())
                        .map(|d| (d.as_secs() / 86_400) as i64)
                        .unwrap_or(0),
                })
                .collect(),
            unreadable: None,
        },
        Ok(Err(e)) => crate::evidence::ServiceCredentialsReport {
            user,
            credentials: vec![],
            unreadable: Some(sdk_error(&e).message),
        },
        Err(_) => crate::evidence::ServiceCredentialsReport {
            user,
            credentials: vec![],
            unreadable: Some("IAM did not answer within the timeout".into()),
        },
    })
}

pub async fn probe(
    target: &Target,
    conf: &aws_types::SdkConfig,
    keys: &SigningKeys,
    principal_arn: &str,
) -> PolicyReport {
    let unreadable = |why: String| PolicyReport {
        principal_arn: principal_arn.into(),
        policies: vec![],
        boundary: None,
        checks: vec![],
        unreadable: Some(why),
    };
    let Some((kind, name)) = principal_of(principal_arn) else {
        return unreadable(format!("{principal_arn} is not an IAM user or role"));
    };
    let iam = iam_client(target, conf, keys);
    match tokio::time::timeout(target.step_timeout * 2, read(&iam, kind, &name, principal_arn)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => unreadable(format!("IAM could not be read with these credentials: {e}")),
        Err(_) => unreadable("IAM did not answer within the timeout".into()),
    }
}
