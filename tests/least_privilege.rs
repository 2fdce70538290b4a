//! The fixes are real: the least-privilege policy `check` generates, put on the
//! scenario's principal in the lab, makes the failing statement succeed; explicit
//! denies, trust policies and the VPC-endpoint rights are named precisely.
mod common;
use common::*;
use serde_json::{Value, json};

fn root(scenario: &str) -> (LabProcess, Value) {
    let lab = LabProcess::start(scenario);
    let (code, out, err) = run_check(&lab, &["--json"], None);
    assert_eq!(code, 1, "{scenario}: {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "problem")
        .unwrap()
        .clone();
    (lab, f)
}

fn put_policy(lab: &LabProcess, user: &str, policy: &Value) {
    put_user_policy(lab, user, "LeastPrivilege", policy);
}

fn fixed_by_least_privilege(scenario: &str, statement: &str, consistency: &str) {
    let (lab, f) = root(scenario);
    let policy = f["least_privilege_policy"].clone();
    assert!(policy.is_object(), "{scenario}: no least-privilege policy in {f}");
    let text = policy.to_string();
    assert!(
        text.contains("/keyspace/system*"),
        "{scenario}: every driver needs the system tables: {text}"
    );
    // Before: the statement fails for this principal.
    let before = python_driver(&driver_cfg(&lab, &[(statement, consistency)]));
    let failed = before["connected"] == false || before["results"][0]["ok"] == false;
    assert!(failed, "{scenario}: the statement must fail first: {before}");
    put_policy(&lab, "app", &policy);
    // After: a new connection (IAM changes reach new connections at once) succeeds.
    let after = python_driver(&driver_cfg(&lab, &[(statement, consistency)]));
    assert_eq!(after["connected"], true, "{scenario}: {after}");
    assert_eq!(after["results"][0]["ok"], true, "{scenario}: {after}\npolicy: {text}");
}

#[test]
fn no_permissions() {
    fixed_by_least_privilege("no-permissions", "SELECT * FROM store.orders", "LOCAL_ONE");
}

#[test]
fn missing_select() {
    fixed_by_least_privilege("missing-select", "SELECT * FROM store.orders", "LOCAL_ONE");
}

#[test]
fn missing_modify() {
    fixed_by_least_privilege(
        "missing-modify",
        "INSERT INTO store.orders (order_id, item, qty) VALUES ('o-77', 'lamp', 1)",
        "LOCAL_QUORUM",
    );
}

#[test]
fn resource_scoped() {
    fixed_by_least_privilege("resource-scoped", "SELECT * FROM store.orders", "LOCAL_ONE");
}

#[test]
fn system_tables_denied() {
    fixed_by_least_privilege("system-tables-denied", "SELECT * FROM store.orders", "LOCAL_ONE");
}

#[test]
fn explicit_deny_names_the_statement() {
    let (_lab, f) = root("explicit-deny");
    assert_eq!(f["statement"]["sid"], "DenyOrdersReads");
    assert_eq!(f["statement"]["json"]["Effect"], "Deny");
    let text = f.to_string();
    assert!(
        text.contains("DenyOrdersReads") && text.contains("GuardRails"),
        "{text}"
    );
    assert!(
        f["title"].as_str().unwrap().contains("DenyOrdersReads") || f["fix"].to_string().contains("DenyOrdersReads"),
        "{f}"
    );
}

#[test]
fn cross_account_gives_the_trust_statement() {
    let (_lab, f) = root("cross-account-denied");
    assert_eq!(
        f["statement"]["json"],
        json!({"Sid": "TrustCallerAccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"})
    );
}

#[test]
fn vpce_gives_the_ec2_statement() {
    let (_lab, f) = root("vpce-no-peers");
    let p = f["least_privilege_policy"].to_string();
    assert!(
        p.contains("ec2:DescribeNetworkInterfaces") && p.contains("ec2:DescribeVpcEndpoints"),
        "{p}"
    );
}
