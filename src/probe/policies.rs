//! Reads the principal's identity policies (attached, inline, its groups', permission
//! boundary) with IAM so the diagnosis can name the statement behind a denial, and asks
//! IAM's policy simulator for the same actions where the principal may call it. Never required:
//! without IAM read rights it says what it could not see.
use super::identity::{SigningKeys, sdk_error};
use crate::evidence::{PolicyCheck, PolicyReport, SimulatedDecision, SimulationReport};
use crate::iam::arn::ResourceArn;
use crate::iam::{NamedPolicy, PolicyDocument};
use crate::target::Target;
use aws_sdk_iam::Client;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

fn decode_document(doc: &str) -> Option<PolicyDocument> {
    let decoded = percent_encoding::percent_decode_str(doc).decode_utf8().ok()?;
    serde_json::from_str(&decoded).ok()
}

async fn managed(iam: &Client, arn: &str) -> Result<NamedPolicy, String> {
    let p = iam.get_policy().policy_arn(arn).send().await.map_err(message)?;
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
        .map_err(message)?;
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

/// What IAM holds for the principal, gathered by `read`.
#[derive(Default)]
struct Gathered {
    policies: Vec<NamedPolicy>,
    boundary: Option<NamedPolicy>,
    partial: Vec<String>,
}

impl Gathered {
    /// Managed policies attached to a user, group or role.
    async fn attached(&mut self, iam: &Client, attached: &[aws_sdk_iam::types::AttachedPolicy]) -> Result<(), String> {
        for a in attached.iter().filter_map(|p| p.policy_arn()) {
            self.policies.push(managed(iam, a).await?);
        }
        Ok(())
    }

    /// An inline policy of `holder` (a user, group or role ARN).
    fn inline(&mut self, holder: &str, name: &str, document: &str) {
        if let Some(d) = decode_document(document) {
            self.policies.push(NamedPolicy {
                arn: format!("{holder} inline policy {name}"),
                document: d,
            });
        }
    }

    async fn boundary(
        &mut self,
        iam: &Client,
        b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>,
    ) -> Result<(), String> {
        if let Some(arn) = b.and_then(|b| b.permissions_boundary_arn()) {
            self.boundary = Some(managed(iam, arn).await?);
        }
        Ok(())
    }
}

fn message<E: ProvideErrorMetadata + std::error::Error + 'static>(e: SdkError<E, HttpResponse>) -> String {
    sdk_error(&e).message
}

/// Reads the principal's policies. `role` is the role as `GetRole` returned it (read
/// once by the caller, which also needs its ARN), or why it could not be read.
async fn read(
    iam: &Client,
    kind: &str,
    name: &str,
    arn: &str,
    role: &Result<aws_sdk_iam::types::Role, String>,
) -> Result<PolicyReport, String> {
    let mut g = Gathered::default();
    if kind == "user" {
        let user = iam.get_user().user_name(name).send().await.map_err(message)?;
        g.boundary(iam, user.user().and_then(|u| u.permissions_boundary()))
            .await?;
        let attached = iam
            .list_attached_user_policies()
            .user_name(name)
            .send()
            .await
            .map_err(message)?;
        g.attached(iam, attached.attached_policies()).await?;
        let inline = iam.list_user_policies().user_name(name).send().await.map_err(message)?;
        for pn in inline.policy_names() {
            let p = iam
                .get_user_policy()
                .user_name(name)
                .policy_name(pn)
                .send()
                .await
                .map_err(message)?;
            g.inline(arn, pn, p.policy_document());
        }
        // Group policies apply to the user as if attached to it. Best effort: without
        // iam:ListGroupsForUser the user's own policies still count.
        let groups = match iam.list_groups_for_user().user_name(name).send().await {
            Ok(r) => r.groups().to_vec(),
            Err(e) => {
                g.partial
                    .push(format!("the user's groups were not read: {}", message(e)));
                vec![]
            }
        };
        for group in &groups {
            let gn = group.group_name();
            let attached = iam
                .list_attached_group_policies()
                .group_name(gn)
                .send()
                .await
                .map_err(message)?;
            g.attached(iam, attached.attached_policies()).await?;
            let inline = iam.list_group_policies().group_name(gn).send().await.map_err(message)?;
            for pn in inline.policy_names() {
                let p = iam
                    .get_group_policy()
                    .group_name(gn)
                    .policy_name(pn)
                    .send()
                    .await
                    .map_err(message)?;
                g.inline(group.arn(), pn, p.policy_document());
            }
        }
    } else {
        // Best effort: without iam:GetRole the boundary is unknown, the policies still count.
        let holder = match role {
            Ok(r) => {
                g.boundary(iam, r.permissions_boundary()).await?;
                r.arn()
            }
            Err(e) => {
                g.partial
                    .push(format!("the role (and its permission boundary) was not read: {e}"));
                arn
            }
        };
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(message)?;
        g.attached(iam, attached.attached_policies()).await?;
        let inline = iam.list_role_policies().role_name(name).send().await.map_err(message)?;
        for pn in inline.policy_names() {
            let p = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(pn)
                .send()
                .await
                .map_err(message)?;
            g.inline(holder, pn, p.policy_document());
        }
    }
    Ok(PolicyReport {
        principal_arn: arn.into(),
        policies: g.policies,
        boundary: g.boundary,
        checks: vec![],
        unreadable: None,
        simulation: None,
        partial: g.partial,
    })
}

/// The actions and exact ARNs the probes exercise: the system tables every driver reads,
/// then the target keyspace and table (and `Modify` with `--probe-writes`).
pub fn checks_for(target: &Target, principal_arn: &str) -> Vec<(String, String)> {
    let Some(account) = principal_arn.split(':').nth(4).filter(|a| !a.is_empty()) else {
        return vec![];
    };
    let region = target.arn_region();
    let select = "cassandra:Select".to_string();
    let mut out: Vec<(String, String)> = [
        ("system", "local"),
        ("system", "peers"),
        ("system_schema", "keyspaces"),
        ("system_schema", "tables"),
    ]
    .iter()
    .map(|(k, t)| (select.clone(), ResourceArn::table(region, account, k, t).arn()))
    .collect();
    match (&target.keyspace, &target.table) {
        (Some(k), Some(t)) => {
            let arn = ResourceArn::table(region, account, k, t).arn();
            out.push((select.clone(), arn.clone()));
            if target.probe_writes {
                out.push(("cassandra:Modify".into(), arn));
            }
        }
        (Some(k), None) => out.push((select, ResourceArn::keyspace(region, account, k).arn())),
        _ => {}
    }
    for (action, resource) in super::operations::direct_checks(target, principal_arn) {
        if !out.contains(&(action.clone(), resource.clone())) {
            out.push((action, resource));
        }
    }
    out
}

/// The IAM principal to simulate: a role session is simulated as its role.
fn simulation_source(principal_arn: &str) -> String {
    if let Some(rest) = principal_arn
        .split(':')
        .nth(5)
        .and_then(|r| r.strip_prefix("assumed-role/"))
    {
        let parts: Vec<&str> = principal_arn.split(':').collect();
        let role = rest.split('/').next().unwrap_or_default();
        let partition = parts.get(1).copied().unwrap_or("aws");
        let account = parts.get(4).copied().unwrap_or_default();
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    principal_arn.to_string()
}

/// IAM's simulator for each (action, resource); `via_service` requests are simulated
/// with the context key `aws:ViaAWSService` = true (made by Keyspaces on the
/// principal's behalf, as a restore's read of its source is).
async fn simulate(
    iam: &Client,
    source: &str,
    checks: &[(String, String)],
    via_service: bool,
) -> Result<Vec<SimulatedDecision>, String> {
    let mut out = Vec::new();
    let mut actions: Vec<&String> = checks.iter().map(|(a, _)| a).collect();
    actions.sort();
    actions.dedup();
    for action in actions {
        let resources: Vec<String> = checks
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, r)| r.clone())
            .collect();
        let mut call = iam
            .simulate_principal_policy()
            .policy_source_arn(source)
            .action_names(action.clone())
            .set_resource_arns(Some(resources));
        if via_service {
            call = call.context_entries(
                aws_sdk_iam::types::ContextEntry::builder()
                    .context_key_name("aws:ViaAWSService")
                    .context_key_values("true")
                    .context_key_type(aws_sdk_iam::types::ContextKeyTypeEnum::Boolean)
                    .build(),
            );
        }
        let r = call.send().await.map_err(message)?;
        for e in r.evaluation_results() {
            out.push(SimulatedDecision {
                action: e.eval_action_name().to_string(),
                resource: e.eval_resource_name().unwrap_or_default().to_string(),
                decision: e.eval_decision().as_str().to_string(),
                matched: e
                    .matched_statements()
                    .iter()
                    .filter_map(|m| m.source_policy_id().map(str::to_string))
                    .collect(),
                agrees_with_local: None,
                via_service,
            });
        }
    }
    Ok(out)
}

fn iam_client(target: &Target, conf: &aws_types::SdkConfig, keys: &SigningKeys) -> Client {
    let creds = keys.credentials();
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
        simulation: None,
        partial: vec![],
    };
    let Some((kind, name)) = principal_of(principal_arn) else {
        return unreadable(format!("{principal_arn} is not an IAM user or role"));
    };
    let iam = iam_client(target, conf, keys);
    let checks = checks_for(target, principal_arn);
    // A role session is simulated as its role, whose ARN (with its path, e.g. the
    // /aws-reserved/sso.amazonaws.com/ roles of IAM Identity Center) IAM knows; the same
    // GetRole answer gives the reader the role's boundary.
    let role = if kind == "role" {
        match tokio::time::timeout(target.step_timeout, iam.get_role().role_name(&name).send()).await {
            Ok(Ok(r)) => r.role().cloned().ok_or_else(|| "GetRole returned no role".to_string()),
            Ok(Err(e)) => Err(message(e)),
            Err(_) => Err("IAM did not answer GetRole within the timeout".into()),
        }
    } else {
        Err(String::new())
    };
    let source = match &role {
        Ok(r) => r.arn().to_string(),
        Err(_) => simulation_source(principal_arn),
    };
    let via_service = super::operations::via_service_checks(target, principal_arn);
    let simulate_all = async {
        let mut all = simulate(&iam, &source, &checks, false).await?;
        if !via_service.is_empty() {
            all.extend(simulate(&iam, &source, &via_service, true).await?);
        }
        Ok::<_, String>(all)
    };
    let (read_result, simulated) = tokio::join!(
        tokio::time::timeout(target.step_timeout * 2, read(&iam, kind, &name, principal_arn, &role)),
        tokio::time::timeout(target.step_timeout, simulate_all)
    );
    let mut report = match read_result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => unreadable(format!("IAM could not be read with these credentials: {e}")),
        Err(_) => unreadable("IAM did not answer within the timeout".into()),
    };
    if report.unreadable.is_none() {
        report.checks = checks
            .iter()
            .map(|(action, resource)| PolicyCheck {
                action: action.clone(),
                resource: resource.clone(),
                decision: crate::iam::evaluate(&report.policies, report.boundary.as_ref(), action, resource),
            })
            .collect();
    }
    report.simulation = Some(match simulated {
        Ok(Ok(mut results)) => {
            for s in results.iter_mut().filter(|s| !s.via_service) {
                s.agrees_with_local = report
                    .checks
                    .iter()
                    .find(|c| c.action == s.action && c.resource == s.resource)
                    .map(|c| c.decision.iam_name() == s.decision);
            }
            SimulationReport {
                results,
                unavailable: None,
            }
        }
        Ok(Err(e)) => SimulationReport {
            results: vec![],
            unavailable: Some(format!("iam:SimulatePrincipalPolicy for {source}: {e}")),
        },
        Err(_) => SimulationReport {
            results: vec![],
            unavailable: Some("IAM's policy simulator did not answer within the timeout".into()),
        },
    });
    report
}
