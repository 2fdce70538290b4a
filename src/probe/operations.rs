//! The operations of `--operations`, evaluated without running them: each IAM request
//! an operation makes (`iam::operations`), decided by the principal's policies as read
//! from IAM and by IAM's policy simulator. Nothing here talks to Keyspaces.
use crate::evidence::{OperationCheck, PolicyReport};
use crate::iam::RequestContext;
use crate::iam::operations::{Request, requests};
use crate::target::Target;

/// The requests of the target's operations, for its table and the principal's account.
fn all(target: &Target, principal_arn: &str) -> Vec<(crate::evidence::OperationKind, Request)> {
    let (Some(keyspace), Some(table)) = (&target.keyspace, &target.table) else {
        return vec![];
    };
    let Some(account) = principal_arn.split(':').nth(4).filter(|a| !a.is_empty()) else {
        return vec![];
    };
    let region = target.arn_region();
    target
        .operations
        .iter()
        .flat_map(|op| {
            requests(*op, region, account, keyspace, table)
                .into_iter()
                .map(move |r| (*op, r))
        })
        .collect()
}

/// The (action, resource) pairs the principal makes itself, for the simulator.
pub fn direct_checks(target: &Target, principal_arn: &str) -> Vec<(String, String)> {
    all(target, principal_arn)
        .into_iter()
        .filter(|(_, r)| !r.via_service)
        .map(|(_, r)| (r.action.to_string(), r.resource))
        .collect()
}

/// The pairs Keyspaces makes on the principal's behalf, simulated with aws:ViaAWSService.
pub fn via_service_checks(target: &Target, principal_arn: &str) -> Vec<(String, String)> {
    all(target, principal_arn)
        .into_iter()
        .filter(|(_, r)| r.via_service)
        .map(|(_, r)| (r.action.to_string(), r.resource))
        .collect()
}

/// Each request of each operation with its local and simulated decisions. The local
/// evaluation knows of the request only what the doctor can: TLS, the region, the
/// principal, and for a request Keyspaces makes on the principal's behalf that it
/// carries aws:ViaAWSService and none of the caller's network keys. A Condition that
/// admitted the live read of the table (`table_read_ok`) admits the principal's own
/// requests on the same path too: an allow that hinges on it counts as met.
pub fn evaluate(
    target: &Target,
    principal_arn: &str,
    policies: Option<&PolicyReport>,
    table_read_ok: bool,
) -> Vec<OperationCheck> {
    let table_arn = match (&target.keyspace, &target.table, principal_arn.split(':').nth(4)) {
        (Some(k), Some(t), Some(account)) => {
            Some(crate::iam::ResourceArn::table(target.arn_region(), account, k, t).arn())
        }
        _ => None,
    };
    let region = target.arn_region().to_string();
    all(target, principal_arn)
        .into_iter()
        .map(|(operation, r)| {
            let mut known = vec![
                ("aws:SecureTransport", "true".to_string()),
                ("aws:RequestedRegion", region.clone()),
                ("aws:PrincipalArn", principal_arn.to_string()),
            ];
            let ctx = if r.via_service {
                known.push(("aws:ViaAWSService", "true".into()));
                RequestContext::partial(known).without(&[
                    "aws:SourceVpce",
                    "aws:SourceVpc",
                    "aws:SourceIp",
                    "aws:VpcSourceIp",
                ])
            } else {
                RequestContext::partial(known)
            };
            let readable = policies.filter(|p| p.unreadable.is_none());
            let local = readable.map(|p| {
                let d = crate::iam::evaluate_in(&p.policies, p.boundary.as_ref(), r.action, &r.resource, &ctx);
                match d {
                    crate::iam::Decision::ImplicitDeny {
                        boundary_blocks: false,
                        condition_unmet: Some(by),
                    } if !r.via_service
                        && table_read_ok
                        && table_arn.as_ref().is_some_and(|t| {
                            by.statement.matches_action("cassandra:Select") && by.statement.matches_resource(t)
                        }) =>
                    {
                        crate::iam::Decision::Allowed { by }
                    }
                    d => d,
                }
            });
            let simulator = policies
                .and_then(|p| p.simulation.as_ref())
                .and_then(|s| {
                    s.results
                        .iter()
                        .find(|d| d.action == r.action && d.resource == r.resource && d.via_service == r.via_service)
                })
                .map(|d| d.decision.clone());
            OperationCheck {
                operation,
                action: r.action.to_string(),
                resource: r.resource,
                purpose: r.purpose,
                via_service: r.via_service,
                local,
                simulator,
            }
        })
        .collect()
}
