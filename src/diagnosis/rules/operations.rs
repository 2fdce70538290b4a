//! Rules on the operations of `--operations`, evaluated without running them: a
//! request the principal's policies (or IAM's simulator, when the policies cannot be
//! read) would deny, and a restore whose source read (made by Keyspaces on the
//! principal's behalf) fails a network Condition. Select, and Modify with
//! `--probe-writes`, are probed live and judged by the CQL rules instead.
use super::iam::least_privilege;
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{OperationCheck, OperationKind};
use crate::iam::Decision;

/// The network keys a request Keyspaces makes for the principal never carries.
const NETWORK_KEYS: [&str; 4] = ["aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:vpcsourceip"];

pub(super) fn operation_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    restore_state(c);
    for op in &ev.operations {
        let probed_live =
            op.operation == OperationKind::Select || (op.operation == OperationKind::Modify && ev.target.probe_writes);
        if probed_live && !op.via_service {
            continue;
        }
        let denied_by_simulator = op.simulator.as_deref().is_some_and(|d| d != "allowed");
        match &op.local {
            Some(Decision::Allowed { .. }) => {}
            Some(Decision::ImplicitDeny {
                condition_unmet: Some(by),
                ..
            }) if op.via_service && mentions_network_keys(&by.statement.condition) => {
                let condition = serde_json::to_string(&by.statement.condition).unwrap_or_default();
                let extra = [
                    ("action", op.action.clone()),
                    ("resource", op.resource.clone()),
                    ("policy_arn", by.policy_arn.clone()),
                    ("sid", by.sid_or_index.clone()),
                    ("condition", condition.clone()),
                ];
                c.add(
                    LeafId::RestoreNeedsViaService,
                    vec![
                        format!("{}: {} on {} ({})", op.operation, op.action, op.resource, op.purpose),
                        format!(
                            "statement {} of {} allows it only when {condition}",
                            by.sid_or_index, by.policy_arn
                        ),
                        simulator_line(op),
                    ],
                    vec![step(
                        "Does a request Keyspaces makes on your behalf meet the policy's Condition?",
                        format!("no: {condition} needs a network key that request never carries"),
                    )],
                    &extra,
                );
                if let Some(f) = c.last_mut() {
                    f.policy_arn = Some(by.policy_arn.clone());
                    f.statement = Some(serde_json::json!({"sid": by.sid_or_index, "json": by.statement}));
                    f.missing = Some(format!(
                        "an Allow of {} on {} when aws:ViaAWSService is true",
                        op.action, op.resource
                    ));
                    // AWS's documented pattern: the same actions allowed when Keyspaces
                    // makes the request on the principal's behalf.
                    f.least_privilege_policy = Some(serde_json::json!({
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "RestoreViaKeyspaces",
                            "Effect": "Allow",
                            "Action": op.action,
                            "Resource": op.resource,
                            "Condition": {"Bool": {"aws:ViaAWSService": "true"}}
                        }]
                    }));
                }
            }
            Some(d) => denied(c, op, d),
            None if denied_by_simulator => denied(
                c,
                op,
                &Decision::ImplicitDeny {
                    boundary_blocks: false,
                    condition_unmet: None,
                },
            ),
            None => {}
        }
    }
}

fn mentions_network_keys(condition: &Option<serde_json::Value>) -> bool {
    let text = condition
        .as_ref()
        .map(|c| c.to_string().to_ascii_lowercase())
        .unwrap_or_default();
    NETWORK_KEYS.iter().any(|k| text.contains(&format!("\"{k}\"")))
}

fn simulator_line(op: &OperationCheck) -> String {
    match &op.simulator {
        Some(d) => format!("IAM policy simulator: {d} for {} on {}", op.action, op.resource),
        None => "IAM policy simulator: not asked or no answer".to_string(),
    }
}

fn denied(c: &mut Ctx<'_>, op: &OperationCheck, d: &Decision) {
    let (decided, by) = match d {
        Decision::ExplicitDeny { by } => (
            format!("statement {} of {} explicitly denies", by.sid_or_index, by.policy_arn),
            Some(by),
        ),
        Decision::ImplicitDeny {
            boundary_blocks: true, ..
        } => ("the permission boundary allows no".to_string(), None),
        _ => ("no statement allows".to_string(), None),
    };
    let local = match d {
        Decision::Allowed { .. } => "allowed",
        Decision::ExplicitDeny { .. } => "explicit deny",
        Decision::ImplicitDeny { .. } if op.local.is_none() => "policies not readable",
        Decision::ImplicitDeny { .. } => "implicit deny",
    };
    let extra = [
        ("operation", op.operation.as_str().to_string()),
        ("action", op.action.clone()),
        ("resource", op.resource.clone()),
        ("purpose", op.purpose.clone()),
        ("decided", decided.clone()),
    ];
    // One finding per denied request (an operation may need several).
    let evidence = vec![
        format!(
            "{}: {} on {} ({}), evaluated, not run: local {local}",
            op.operation, op.action, op.resource, op.purpose
        ),
        simulator_line(op),
    ];
    c.add_distinct(
        LeafId::OperationDenied,
        evidence,
        vec![step(
            &format!("Would the {} operation be allowed?", op.operation),
            format!("no: {decided} {} on {}", op.action, op.resource),
        )],
        &extra,
    );
    let region = c.vars["region"].clone();
    let account = op.resource.split(':').nth(4).unwrap_or("<account-id>").to_string();
    let lp = least_privilege(&op.action, &op.resource, &region, &account);
    if let Some(f) = c.last_mut() {
        f.least_privilege_policy = Some(lp);
        match by {
            Some(b) => {
                f.policy_arn = Some(b.policy_arn.clone());
                f.statement = Some(serde_json::json!({"sid": b.sid_or_index, "json": b.statement}));
            }
            None => f.missing = Some(format!("no statement allows {} on {}", op.action, op.resource)),
        }
    }
}

/// What the table's own state says of a restore: recovery off, or a customer managed key.
fn restore_state(c: &mut Ctx<'_>) {
    let ev = c.ev;
    if !ev.target.operations.contains(&OperationKind::Restore) {
        return;
    }
    let Some(p) = ev.cql.as_ref().and_then(|q| q.table_properties.as_ref()) else {
        return;
    };
    if let Some(status) = p
        .point_in_time_recovery
        .as_ref()
        .filter(|s| !s.eq_ignore_ascii_case("enabled"))
    {
        c.add(
            LeafId::RestoreNoPitr,
            vec![format!(
                "system_schema_mcs.tables: point_in_time_recovery status '{status}'"
            )],
            vec![step(
                "Is point-in-time recovery enabled on the source table?",
                format!("no: {status}"),
            )],
            &[("pitr_status", status.clone())],
        );
    }
    if p.encryption_type.as_deref() == Some("CUSTOMER_MANAGED_KMS_KEY") {
        let key = p.kms_key.clone().unwrap_or_else(|| "<kms-key>".into());
        c.add(
            LeafId::RestoreCmk,
            vec![format!(
                "system_schema_mcs.tables: encryption_type CUSTOMER_MANAGED_KMS_KEY, key {key}"
            )],
            vec![step("Is the source encrypted with a customer managed key?", "yes")],
            &[("kms_key", key)],
        );
    }
}
