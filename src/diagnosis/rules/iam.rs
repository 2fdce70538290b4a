//! Rules on IAM denials: which policy statement denies or fails to allow the request
//! (explicit deny, boundary, a resource scope elsewhere), with IAM's simulator and
//! CloudTrail beside it, and the least-privilege policy that would allow it.
use super::{Ctx, step};
use crate::diagnosis::PathStep;
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{Evidence, QueryAttempt};
use crate::iam::{Decision, ResourceArn, policy::wildcard_match};

/// `User: <arn> is not authorized to perform: <action> on resource: <arn>`.
pub(super) fn parse_denial(msg: &str) -> Option<(String, String, String)> {
    let principal = msg
        .strip_prefix("User: ")?
        .split(" is not authorized")
        .next()?
        .to_string();
    let action = msg.split("to perform: ").nth(1)?.split(' ').next()?.to_string();
    let resource = msg
        .split("on resource: ")
        .nth(1)?
        .trim()
        .trim_end_matches('.')
        .to_string();
    Some((principal, action, resource))
}

pub(super) fn least_privilege(action: &str, resource: &str, region: &str, account: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RequestedOperation", "Effect": "Allow", "Action": action, "Resource": resource},
            {"Sid": "DriverSystemTables", "Effect": "Allow", "Action": "cassandra:Select",
             "Resource": ResourceArn::system_tables(region, account)}
        ]
    })
}

/// IAM's policy simulator's answer for the same action and ARN, beside the local one.
pub(super) fn simulator_line(ev: &Evidence, action: &str, resource: &str) -> Option<String> {
    let sim = ev.identity.as_ref()?.policies.as_ref()?.simulation.as_ref()?;
    if let Some(why) = &sim.unavailable {
        return Some(format!("IAM policy simulator not asked: {why}"));
    }
    let r = sim
        .results
        .iter()
        .find(|r| r.action == action && r.resource == resource)?;
    Some(format!(
        "IAM policy simulator: {} for {action} on {resource}{}{}",
        r.decision,
        if r.matched.is_empty() {
            String::new()
        } else {
            format!(" (matched {})", r.matched.join(", "))
        },
        match r.agrees_with_local {
            Some(true) => "; the local evaluation agrees",
            Some(false) => "; the local evaluation DISAGREES (a condition, SCP or session policy may be involved)",
            None => "",
        }
    ))
}

pub(super) fn denial_finding(c: &mut Ctx<'_>, a: &QueryAttempt, message: &str, write: bool) {
    let ev = c.ev;
    let (principal, action, resource) = parse_denial(message).unwrap_or_else(|| {
        (
            c.vars["principal_arn"].clone(),
            if write {
                "cassandra:Modify".into()
            } else {
                "cassandra:Select".into()
            },
            c.vars["resource"].clone(),
        )
    });
    let extra = [
        ("action", action.clone()),
        ("resource", resource.clone()),
        ("principal_arn", principal.clone()),
    ];
    let mut path = vec![
        step("Did CQL authentication succeed?", "yes"),
        step(
            &format!("Is {} allowed?", a.operation),
            format!("no: 0x2100 Unauthorized for {action}"),
        ),
    ];
    let region = c.vars["region"].clone();
    let account = resource.split(':').nth(4).unwrap_or("<account-id>").to_string();
    let lp = least_privilege(&action, &resource, &region, &account);
    let mut evidence = vec![format!("{} → 0x2100: {message}", a.statement)];
    if let Some(line) = simulator_line(ev, &action, &resource) {
        evidence.push(line);
    }
    evidence.extend(crate::digest::cloudtrail_events(ev));
    let policies = ev
        .identity
        .as_ref()
        .and_then(|i| i.policies.as_ref())
        .filter(|p| p.unreadable.is_none());
    if let Some(p) = policies {
        // What the doctor knows of the denied request's context; other keys are unknown.
        let ctx = crate::iam::RequestContext::partial([
            ("aws:SecureTransport", "true".to_string()),
            ("aws:RequestedRegion", region.clone()),
            ("aws:PrincipalArn", principal.clone()),
        ]);
        let decision = crate::iam::evaluate_in(&p.policies, p.boundary.as_ref(), &action, &resource, &ctx);
        match decision {
            Decision::ImplicitDeny {
                boundary_blocks: false,
                condition_unmet: Some(by),
            } => {
                let condition = serde_json::to_string(&by.statement.condition).unwrap_or_default();
                path.push(step(
                    "Does an Allow name it only under a Condition?",
                    format!("yes: {} in {}, when {condition}", by.sid_or_index, by.policy_arn),
                ));
                evidence.push(format!(
                    "statement {} of {} allows {action} on {resource} only when {condition}",
                    by.sid_or_index, by.policy_arn
                ));
                let mut ex = extra.to_vec();
                ex.push(("policy_arn", by.policy_arn.clone()));
                ex.push(("sid", by.sid_or_index.clone()));
                ex.push(("condition", condition.clone()));
                c.add(LeafId::ConditionUnmet, evidence, path, &ex);
                if let Some(f) = c.last_mut() {
                    f.policy_arn = Some(by.policy_arn.clone());
                    f.statement = Some(serde_json::json!({"sid": by.sid_or_index, "json": by.statement}));
                    f.missing = Some(format!(
                        "a request that meets {condition}, or a Condition that admits this host's path"
                    ));
                }
                return;
            }
            Decision::ExplicitDeny { by } => {
                path.push(step(
                    "Does a statement explicitly deny it?",
                    format!("yes: {} in {}", by.sid_or_index, by.policy_arn),
                ));
                let mut ex = extra.to_vec();
                ex.push(("policy_arn", by.policy_arn.clone()));
                ex.push(("sid", by.sid_or_index.clone()));
                c.add(LeafId::ExplicitDeny, evidence, path, &ex);
                if let Some(f) = c.last_mut() {
                    f.policy_arn = Some(by.policy_arn.clone());
                    f.statement = Some(serde_json::json!({"sid": by.sid_or_index, "json": by.statement}));
                }
                return;
            }
            Decision::ImplicitDeny {
                boundary_blocks: true, ..
            } => {
                path.push(step("Does the permission boundary allow it?", "no"));
                c.add(LeafId::BoundaryDeny, evidence, path, &extra);
                if let Some(f) = c.last_mut() {
                    f.policy_arn = p.boundary.as_ref().map(|b| b.arn.clone());
                    f.missing = Some(format!("the permission boundary allows no {action} on {resource}"));
                }
                return;
            }
            Decision::Allowed { by } => {
                path.push(step("Do the policies read from IAM allow it?", format!("yes ({}), yet the server denied it: policy changes take up to 10 minutes on existing connections", by.sid_or_index)));
            }
            Decision::ImplicitDeny { .. } => {
                let elsewhere = p.policies.iter().find_map(|np| {
                    np.document
                        .statement
                        .iter()
                        .find(|s| {
                            s.effect == crate::iam::policy::Effect::Allow
                                && s.matches_action(&action)
                                && s.resource.as_ref().is_some_and(|r| {
                                    r.iter().any(|pat| {
                                        pat.contains(":/keyspace/")
                                            && !wildcard_match(pat, &resource, false)
                                            && !pat.contains("/keyspace/system")
                                    })
                                })
                        })
                        .map(|s| (np.arn.clone(), s.clone()))
                });
                let leaf = if elsewhere.is_some() {
                    LeafId::OtherResourceAllowed
                } else if write {
                    LeafId::WriteDenied
                } else {
                    LeafId::ActionDenied
                };
                path.push(step(
                    &format!("Does any statement allow {action} on another resource?"),
                    if elsewhere.is_some() { "yes" } else { "no" },
                ));
                c.add(leaf, evidence, path, &extra);
                if let Some(f) = c.last_mut() {
                    f.missing = Some(format!("no statement allows {action} on {resource}"));
                    f.least_privilege_policy = Some(lp);
                    if let Some((arn, s)) = elsewhere {
                        f.policy_arn = Some(arn);
                        f.evidence.push(format!(
                            "the allow is scoped to {}",
                            serde_json::to_string(&s.resource).unwrap_or_default()
                        ));
                    }
                }
                return;
            }
        }
    }
    // No policies readable: decide from what the server allowed elsewhere.
    let sibling_ok: Vec<&String> = ev
        .cql
        .as_ref()
        .map(|q| q.sibling_reads.iter().filter(|(_, ok)| *ok).map(|(t, _)| t).collect())
        .unwrap_or_default();
    let leaf = if !write && !sibling_ok.is_empty() {
        path.push(step(
            "Can other tables of the keyspace be read?",
            format!(
                "yes: {}",
                sibling_ok.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
        LeafId::OtherResourceAllowed
    } else if write {
        LeafId::WriteDenied
    } else {
        LeafId::ActionDenied
    };
    c.add(leaf, evidence, path, &extra);
    if let Some(f) = c.last_mut() {
        f.least_privilege_policy = Some(lp);
        f.missing = Some(format!(
            "no statement allows {action} on {resource} (policies could not be read: {})",
            ev.identity
                .as_ref()
                .and_then(|i| i.policies.as_ref())
                .and_then(|p| p.unreadable.clone())
                .unwrap_or_else(|| "no IAM identity".into())
        ));
    }
}

/// 0x2100 at authentication: the principal holds no Keyspaces permission at all.
pub(super) fn no_permissions(
    c: &mut Ctx<'_>,
    evidence: Vec<String>,
    path: Vec<PathStep>,
    extra: &[(&'static str, String)],
) {
    c.add(LeafId::NoPermissions, evidence, path, extra);
    let action = if c.ev.target.probe_writes {
        "cassandra:Modify"
    } else {
        "cassandra:Select"
    };
    let lp = least_privilege(action, &c.vars["resource"], &c.vars["region"], &c.vars["account"]);
    let resource = c.vars["resource"].clone();
    if let Some(f) = c.finding_mut(LeafId::NoPermissions) {
        f.least_privilege_policy = Some(lp);
        f.missing = Some(format!("any cassandra: action; at least {action} on {resource}"));
    }
}
