//! The lab's IAM: the reads the doctor makes (users, roles, groups, attached and inline
//! policies and their versions, the permission boundary, service-specific credentials,
//! the policy simulator) and `PutUserPolicy`, each refused as IAM refuses it.
use super::sigv4::URI_ENCODE;
use super::{AwsError, aws_error, xml_escape};
use crate::lab::world::{Identity, World};
use percent_encoding::utf8_percent_encode;
use std::collections::BTreeMap;

pub(super) const ACTIONS: &[&str] = &[
    "ListServiceSpecificCredentials",
    "PutUserPolicy",
    "GetUserPolicy",
    "GetUser",
    "ListAttachedUserPolicies",
    "ListUserPolicies",
    "ListGroupsForUser",
    "GetPolicy",
    "GetPolicyVersion",
    "ListAttachedRolePolicies",
    "ListRolePolicies",
    "GetRole",
    "SimulatePrincipalPolicy",
];

fn iam_wrap(action: &str, inner: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <{action}Result>\n{inner}\n  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{{RID}}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
    )
}

fn members(items: &[String]) -> String {
    items.iter().map(|i| format!("<member>{i}</member>")).collect()
}

/// IAM reads: a principal may read its own user or role and the policies attached to it.
pub(super) fn handle(
    world: &World,
    caller: &Identity,
    action: &str,
    params: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let is_admin = caller.arn == world.admin().identity.arn;
    let denied = |resource: &str| {
        aws_error(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: iam:{action} on resource: {resource}",
                caller.arn
            ),
        )
    };
    let own =
        |kind: &str, name: &str| -> Option<(String, Vec<crate::iam::NamedPolicy>, Option<crate::iam::NamedPolicy>)> {
            if kind == "user" {
                let p = world.principals.iter().find(|p| {
                    p.identity.arn.ends_with(&format!(":user/{name}")) || (p.name == "admin" && name == "doctor-admin")
                })?;
                Some((
                    p.identity.arn.clone(),
                    p.identity.policies.clone(),
                    p.identity.boundary.clone(),
                ))
            } else {
                let r = world.roles.iter().find(|r| r.name == name)?;
                Some((r.arn.clone(), r.policies.clone(), None))
            }
        };
    let may_read = |arn: &str| {
        if world.deny_iam_reads && !is_admin {
            return false;
        }
        is_admin
            || caller.arn == arn
            || (caller.arn.contains(":assumed-role/")
                && arn.contains(":role/")
                && caller
                    .arn
                    .contains(&format!("/{}/", arn.rsplit('/').next().unwrap_or("-"))))
    };
    let user = params
        .get("UserName")
        .cloned()
        .unwrap_or_else(|| caller.arn.rsplit('/').next().unwrap_or_default().to_string());
    match action {
        "SimulatePrincipalPolicy" => {
            let source = params.get("PolicySourceArn").cloned().unwrap_or_default();
            let (kind, name) = match source.split(':').nth(5).and_then(|r| r.split_once('/')) {
                Some((k, n)) => (k.to_string(), n.rsplit('/').next().unwrap_or(n).to_string()),
                None => (String::new(), String::new()),
            };
            let (arn, mut policies, boundary) = own(&kind, &name)
                .ok_or_else(|| aws_error(404, "NoSuchEntity", format!("The principal {source} cannot be found.")))?;
            // The simulator sees the inline policies put since the lab started at once.
            policies.extend(world.added_policies(&arn));
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            let list = |prefix: &str| -> Vec<String> {
                (1..=100)
                    .map_while(|i| params.get(&format!("{prefix}.member.{i}")).cloned())
                    .collect()
            };
            // The request's context is what the caller passes as ContextEntries, and
            // nothing else: a key it does not pass is absent, as IAM simulates it.
            let context: Vec<(String, String)> = (1..=50)
                .map_while(|i| {
                    let name = params.get(&format!("ContextEntries.member.{i}.ContextKeyName"))?;
                    let value = params
                        .get(&format!("ContextEntries.member.{i}.ContextKeyValues.member.1"))
                        .cloned()
                        .unwrap_or_default();
                    Some((name.clone(), value))
                })
                .collect();
            let ctx = crate::iam::RequestContext::complete(context);
            let mut results = String::new();
            for a in list("ActionNames") {
                for r in list("ResourceArns") {
                    let d = crate::iam::evaluate_in(&policies, boundary.as_ref(), &a, &r, &ctx);
                    let decision = d.iam_name();
                    let (by, boundary_allows) = match &d {
                        crate::iam::Decision::Allowed { by } | crate::iam::Decision::ExplicitDeny { by } => {
                            (Some(by), true)
                        }
                        crate::iam::Decision::ImplicitDeny { boundary_blocks, .. } => (None, !boundary_blocks),
                    };
                    let matched = by
                        .map(|b| {
                            format!(
                                "<member><SourcePolicyId>{}</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType><StartPosition><Line>1</Line><Column>1</Column></StartPosition><EndPosition><Line>1</Line><Column>1</Column></EndPosition></member>",
                                xml_escape(b.policy_arn.rsplit('/').next().unwrap_or_default())
                            )
                        })
                        .unwrap_or_default();
                    results.push_str(&format!(
                        "<member><EvalActionName>{}</EvalActionName><EvalResourceName>{}</EvalResourceName><EvalDecision>{decision}</EvalDecision><MatchedStatements>{matched}</MatchedStatements><MissingContextValues/><PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>{boundary_allows}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail></member>",
                        xml_escape(&a),
                        xml_escape(&r)
                    ));
                }
            }
            Ok(iam_wrap(
                action,
                &format!("    <IsTruncated>false</IsTruncated>\n    <EvaluationResults>{results}</EvaluationResults>"),
            ))
        }
        "ListServiceSpecificCredentials" => {
            let p = world
                .principals
                .iter()
                .find(|p| {
                    p.identity.arn.ends_with(&format!(":user/{user}")) || (p.name == "admin" && user == "doctor-admin")
                })
                .ok_or_else(|| {
                    aws_error(
                        404,
                        "NoSuchEntity",
                        format!("The user with name {user} cannot be found."),
                    )
                })?;
            if !may_read(&p.identity.arn) {
                return Err(denied(&p.identity.arn));
            }
            let members: String = p
                .service_credential
                .iter()
                .chain(p.older_ssc.iter())
                .map(|c| {
                    format!(
                        "<member><UserName>{user}</UserName><Status>{}</Status><ServiceUserName>{}</ServiceUserName><CreateDate>{}</CreateDate><ServiceSpecificCredentialId>{}</ServiceSpecificCredentialId><ServiceName>cassandra.amazonaws.com</ServiceName></member>",
                        if c.active { "Active" } else { "Inactive" },
                        c.username,
                        c.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        c.id
                    )
                })
                .collect();
            Ok(iam_wrap(
                action,
                &format!("    <ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"),
            ))
        }
        "PutUserPolicy" | "GetUserPolicy" => {
            let (arn, _, _) = own("user", &user).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The user with name {user} cannot be found."),
                )
            })?;
            let name = params.get("PolicyName").cloned().unwrap_or_default();
            if action == "GetUserPolicy" {
                if !may_read(&arn) {
                    return Err(denied(&arn));
                }
                let p = world
                    .added_policies(&arn)
                    .into_iter()
                    .find(|p| p.arn.ends_with(&format!(" {name}")))
                    .ok_or_else(|| {
                        aws_error(
                            404,
                            "NoSuchEntity",
                            format!("The user policy with name {name} cannot be found."),
                        )
                    })?;
                let doc = serde_json::to_string(&p.document).unwrap_or_default();
                return Ok(iam_wrap(
                    action,
                    &format!(
                        "    <UserName>{user}</UserName>\n    <PolicyName>{name}</PolicyName>\n    <PolicyDocument>{}</PolicyDocument>",
                        utf8_percent_encode(&doc, URI_ENCODE)
                    ),
                ));
            }
            if !caller.decide("iam:PutUserPolicy", &arn).is_allowed() {
                return Err(denied(&arn));
            }
            let doc: crate::iam::PolicyDocument = params
                .get("PolicyDocument")
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| {
                    aws_error(
                        400,
                        "MalformedPolicyDocument",
                        "The policy document is not valid JSON for an IAM policy",
                    )
                })?;
            world.put_user_policy(&arn, &name, doc);
            Ok(iam_wrap(action, ""))
        }
        "GetUser" | "ListAttachedUserPolicies" | "ListUserPolicies" | "ListGroupsForUser" => {
            let (arn, policies, boundary) = own("user", &user).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The user with name {user} cannot be found."),
                )
            })?;
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            let inner = match action {
                "GetUser" => format!(
                    "    <User>\n      <Path>/</Path>\n      <UserName>{user}</UserName>\n      <UserId>AIDALAB{}</UserId>\n      <Arn>{arn}</Arn>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>{}\n    </User>",
                    user.len(),
                    boundary
                        .map(|b| format!("\n      <PermissionsBoundary>\n        <PermissionsBoundaryType>Policy</PermissionsBoundaryType>\n        <PermissionsBoundaryArn>{}</PermissionsBoundaryArn>\n      </PermissionsBoundary>", b.arn))
                        .unwrap_or_default()
                ),
                "ListAttachedUserPolicies" => format!(
                    "    <AttachedPolicies>{}</AttachedPolicies>\n    <IsTruncated>false</IsTruncated>",
                    policies
                        .iter()
                        .map(|p| format!("<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>", p.arn.rsplit('/').next().unwrap_or_default(), p.arn))
                        .collect::<String>()
                ),
                "ListGroupsForUser" => "    <Groups/>\n    <IsTruncated>false</IsTruncated>".to_string(),
                _ => format!(
                    "    <PolicyNames>{}</PolicyNames>\n    <IsTruncated>false</IsTruncated>",
                    members(
                        &world
                            .added_policies(&arn)
                            .iter()
                            .map(|p| p.arn.rsplit(' ').next().unwrap_or_default().to_string())
                            .collect::<Vec<_>>()
                    )
                ),
            };
            Ok(iam_wrap(action, &inner))
        }
        "GetRole" | "ListAttachedRolePolicies" | "ListRolePolicies" => {
            let name = params.get("RoleName").cloned().unwrap_or_default();
            let (arn, policies, _) = own("role", &name).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The role with name {name} cannot be found."),
                )
            })?;
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            if action == "GetRole" {
                return Ok(iam_wrap(
                    action,
                    &format!(
                        "    <Role>\n      <Path>/</Path>\n      <RoleName>{name}</RoleName>\n      <RoleId>AROALAB{}</RoleId>\n      <Arn>{arn}</Arn>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </Role>",
                        name.len()
                    ),
                ));
            }
            let inner = if action == "ListRolePolicies" {
                "    <PolicyNames/>\n    <IsTruncated>false</IsTruncated>".to_string()
            } else {
                format!(
                    "    <AttachedPolicies>{}</AttachedPolicies>\n    <IsTruncated>false</IsTruncated>",
                    policies
                        .iter()
                        .map(|p| format!(
                            "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                            p.arn.rsplit('/').next().unwrap_or_default(),
                            p.arn
                        ))
                        .collect::<String>()
                )
            };
            Ok(iam_wrap(action, &inner))
        }
        _ => {
            let parn = params.get("PolicyArn").cloned().unwrap_or_default();
            let holders = world
                .principals
                .iter()
                .map(|p| {
                    (
                        p.identity.arn.clone(),
                        p.identity
                            .policies
                            .iter()
                            .chain(p.identity.boundary.iter())
                            .cloned()
                            .collect::<Vec<_>>(),
                    )
                })
                .chain(world.roles.iter().map(|r| (r.arn.clone(), r.policies.clone())));
            let mut found = None;
            for (holder, ps) in holders {
                if let Some(p) = ps.into_iter().find(|p| p.arn == parn) {
                    if may_read(&holder) {
                        found = Some(p);
                        break;
                    }
                    found = found.or(None);
                }
            }
            let p = found.ok_or_else(|| denied(&parn))?;
            let name = p.arn.rsplit('/').next().unwrap_or_default().to_string();
            let inner = if action == "GetPolicy" {
                format!(
                    "    <Policy>\n      <PolicyName>{name}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n      <PolicyId>ANPALAB{}</PolicyId>\n      <Path>/</Path>\n      <Arn>{}</Arn>\n      <AttachmentCount>1</AttachmentCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n      <UpdateDate>2024-01-01T00:00:00Z</UpdateDate>\n    </Policy>",
                    name.len(),
                    p.arn
                )
            } else {
                let doc = serde_json::to_string(&p.document).unwrap_or_default();
                format!(
                    "    <PolicyVersion>\n      <Document>{}</Document>\n      <VersionId>v1</VersionId>\n      <IsDefaultVersion>true</IsDefaultVersion>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </PolicyVersion>",
                    utf8_percent_encode(&doc, URI_ENCODE)
                )
            };
            Ok(iam_wrap(action, &inner))
        }
    }
}
