//! `--operations`: Create, Alter, Drop and Restore evaluated for the exact ARNs they
//! need, by the local evaluation and by IAM's policy simulator, never run; each denied
//! request named with its action and ARN, and its least-privilege statement proven in
//! the lab by attaching it and checking again.
mod common;
use common::*;
use serde_json::Value;

fn check(lab: &LabProcess, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let (_, out, err) = run_check(lab, &args, None);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

fn root(v: &Value) -> Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "problem")
        .cloned()
        .unwrap_or_else(|| panic!("a problem: {}", v["findings"]))
}

const TABLE: &str = "arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders";

fn missing(scenario: &str, operation: &str, action: &str) {
    let lab = LabProcess::start(scenario);
    let v = check(&lab, &[]);
    assert_eq!(v["causes"][0], "missing-permission", "{scenario}: {}", v["findings"]);
    let f = root(&v);
    assert_eq!(f["leaf"], "operation-denied", "{scenario}: {f}");
    let title = f["title"].as_str().unwrap();
    assert!(
        title.starts_with(operation) && title.contains(action) && title.contains(TABLE),
        "{title}"
    );
    assert!(f["missing"].as_str().unwrap().contains(action), "{f}");
    // One entry per requested operation and resource, local and simulator side by side.
    let ops = v["evidence"]["operations"].as_array().unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o["operation"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["select", operation], "{ops:?}");
    let denied = ops.iter().find(|o| o["operation"] == operation).unwrap();
    assert_eq!(denied["action"], action);
    assert_eq!(denied["resource"], TABLE);
    assert_eq!(denied["local"]["decision"], "implicit_deny", "{denied}");
    assert_eq!(denied["simulator"], "implicitDeny", "{denied}");
    let allowed = ops.iter().find(|o| o["operation"] == "select").unwrap();
    assert_eq!(allowed["local"]["decision"], "allowed", "{allowed}");
    assert_eq!(allowed["simulator"], "allowed", "{allowed}");

    // The least-privilege statement, attached in the lab, makes both evaluations allow it.
    put_policy(&lab, &f["least_privilege_policy"]);
    let after = check(&lab, &[]);
    let ops = after["evidence"]["operations"].as_array().unwrap();
    let now = ops.iter().find(|o| o["operation"] == operation).unwrap();
    assert_eq!(
        now["local"]["decision"], "allowed",
        "{now}\npolicies: {}",
        after["evidence"]["identity"]["policies"]
    );
    assert_eq!(now["simulator"], "allowed", "{now}");
    assert!(
        !after["findings"].to_string().contains("operation-denied"),
        "{}",
        after["findings"]
    );
}

fn put_policy(lab: &LabProcess, policy: &Value) {
    put_user_policy(lab, "app", "OperationLeastPrivilege", policy);
}

#[test]
fn missing_create() {
    missing("missing-create", "create", "cassandra:Create");
}

#[test]
fn missing_alter() {
    missing("missing-alter", "alter", "cassandra:Alter");
}

#[test]
fn missing_drop() {
    missing("missing-drop", "drop", "cassandra:Drop");
}

/// A restore needs Select on its source: the live read fails first (the root), and the
/// restore's own finding names the source read.
#[test]
fn restore_missing_select() {
    let lab = LabProcess::start("restore-missing-select");
    let v = check(&lab, &[]);
    assert_eq!(v["causes"][0], "missing-permission");
    let ops = v["evidence"]["operations"].as_array().unwrap();
    let restore: Vec<&Value> = ops.iter().filter(|o| o["operation"] == "restore").collect();
    assert_eq!(restore.len(), 2, "the target and the source: {ops:?}");
    let target = restore.iter().find(|o| o["action"] == "cassandra:Restore").unwrap();
    assert_eq!(target["resource"], format!("{TABLE}_restored"));
    assert_eq!(target["local"]["decision"], "allowed", "{target}");
    let source = restore.iter().find(|o| o["action"] == "cassandra:Select").unwrap();
    assert_eq!(source["via_service"], true);
    assert_eq!(source["local"]["decision"], "implicit_deny", "{source}");
    let findings = v["findings"].to_string();
    assert!(
        findings.contains("restore would be denied") && findings.contains("cassandra:Select"),
        "{findings}"
    );
    // The source is encrypted with a customer managed key: the restore needs it too.
    assert_eq!(
        v["evidence"]["cql"]["table_properties"]["encryption_type"],
        "CUSTOMER_MANAGED_KMS_KEY"
    );
    assert!(findings.contains("\"leaf\":\"restore-cmk\""), "{findings}");
}

/// Recovery off on the table: the restore is impossible, said in words.
#[test]
fn restore_no_pitr() {
    let lab = LabProcess::start("restore-no-pitr");
    let v = check(&lab, &[]);
    assert_eq!(v["causes"][0], "schema", "{}", v["findings"]);
    let f = root(&v);
    assert_eq!(f["leaf"], "restore-no-pitr");
    assert!(f["title"].as_str().unwrap().contains("point-in-time recovery"), "{f}");
    assert!(
        f["fix"]["commands"]
            .to_string()
            .contains("'point_in_time_recovery': {'status': 'enabled'}"),
        "{f}"
    );
    assert_eq!(
        v["evidence"]["cql"]["table_properties"]["point_in_time_recovery"],
        "disabled"
    );
}

/// A new scenario with --operations all: its cause first, every operation evaluated
/// with local and simulator decisions side by side, and a finding naming the exact
/// action and ARN with the denying statement and its policy, or what is missing.
fn with_all_operations(scenario: &str, cause: &str, leaf: &str, action: &str) {
    let lab = LabProcess::start(scenario);
    let v = check(&lab, &["--operations", "all"]);
    assert_eq!(v["causes"][0], cause, "{scenario}: {}", v["findings"]);
    let ops = v["evidence"]["operations"].as_array().unwrap();
    let names: std::collections::BTreeSet<&str> = ops.iter().map(|o| o["operation"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 6, "{scenario}: every operation evaluated: {names:?}");
    assert!(
        ops.iter().all(|o| o["local"].is_object() && o["simulator"].is_string()),
        "{scenario}: local and simulator side by side: {ops:?}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["leaf"] == leaf && f["title"].as_str().unwrap().contains(action))
        .cloned()
        .unwrap_or_else(|| panic!("{scenario}: a {leaf} finding naming {action}: {}", v["findings"]));
    if leaf != "restore-no-pitr" {
        assert!(
            f["title"].as_str().unwrap().contains(TABLE) || f["why"].as_str().unwrap().contains(TABLE),
            "{scenario}: the exact ARN: {f}"
        );
        assert!(
            f["missing"].is_string() || (f["statement"].is_object() && f["policy_arn"].is_string()),
            "{scenario}: the denying statement or what is missing: {f}"
        );
    }
}

#[test]
fn missing_create_with_all_operations() {
    with_all_operations(
        "missing-create",
        "missing-permission",
        "operation-denied",
        "cassandra:Create",
    );
}

#[test]
fn missing_alter_with_all_operations() {
    with_all_operations(
        "missing-alter",
        "missing-permission",
        "operation-denied",
        "cassandra:Alter",
    );
}

#[test]
fn missing_drop_with_all_operations() {
    with_all_operations(
        "missing-drop",
        "missing-permission",
        "operation-denied",
        "cassandra:Drop",
    );
}

#[test]
fn restore_missing_select_with_all_operations() {
    with_all_operations(
        "restore-missing-select",
        "missing-permission",
        "operation-denied",
        "cassandra:Select",
    );
}

#[test]
fn restore_sourcevpce_without_via_service_with_all_operations() {
    with_all_operations(
        "restore-sourcevpce-without-via-service",
        "missing-permission",
        "restore-needs-via-service",
        "cassandra:Select",
    );
}

#[test]
fn restore_no_pitr_with_all_operations() {
    with_all_operations("restore-no-pitr", "schema", "restore-no-pitr", "point-in-time recovery");
}

/// No probe changes data or schema: every table and the schema read the same before
/// and after a check with every operation and the write probe.
#[test]
fn no_probe_changes_data_or_schema() {
    let lab = LabProcess::start("healthy");
    let read = || {
        python_driver(&driver_cfg(
            &lab,
            &[
                ("SELECT * FROM store.orders", "LOCAL_ONE"),
                ("SELECT * FROM store.customers", "LOCAL_ONE"),
                (
                    "SELECT keyspace_name, table_name FROM system_schema.tables",
                    "LOCAL_ONE",
                ),
                (
                    "SELECT keyspace_name, table_name, column_name, type FROM system_schema.columns",
                    "LOCAL_ONE",
                ),
                (
                    "SELECT keyspace_name, table_name, custom_properties FROM system_schema_mcs.tables",
                    "LOCAL_ONE",
                ),
            ],
        ))
    };
    let before = read();
    assert_eq!(before["connected"], true, "{before}");
    let v = check(&lab, &["--operations", "all", "--probe-writes"]);
    assert_eq!(
        v["evidence"]["operations"].as_array().unwrap().len(),
        7,
        "{}",
        v["evidence"]["operations"]
    );
    let after = read();
    assert_eq!(before["results"], after["results"]);
}

/// Through the VPC endpoint the application works, but a restore's source read (made
/// by Keyspaces, with aws:ViaAWSService) fails the aws:SourceVpce condition.
#[test]
fn restore_sourcevpce_without_via_service() {
    let lab = LabProcess::start("restore-sourcevpce-without-via-service");
    let v = check(&lab, &[]);
    assert_eq!(v["causes"][0], "missing-permission", "{}", v["findings"]);
    let f = root(&v);
    assert_eq!(f["leaf"], "restore-needs-via-service", "{f}");
    assert_eq!(
        f["policy_arn"],
        "arn:aws:iam::111122223333:policy/AppViaVpcEndpointOnly"
    );
    assert_eq!(f["statement"]["sid"], "OrdersViaVpce");
    let ops = v["evidence"]["operations"].as_array().unwrap();
    let source = ops.iter().find(|o| o["via_service"] == true).unwrap();
    assert_eq!(source["simulator"], "implicitDeny", "{source}");
    // The live read through the endpoint works: the Condition is met on that path.
    let attempts = v["evidence"]["cql"]["attempts"].to_string();
    assert!(
        !attempts.contains("0x2100") && !attempts.contains("\"code\":8448"),
        "{attempts}"
    );
    // The statement it proposes (allow when aws:ViaAWSService), put on the principal,
    // makes both the local evaluation and the simulator allow the source read.
    put_policy(&lab, &f["least_privilege_policy"]);
    let after = check(&lab, &[]);
    let source = after["evidence"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["via_service"] == true)
        .cloned()
        .unwrap();
    assert_eq!(source["local"]["decision"], "allowed", "{source}");
    assert_eq!(source["simulator"], "allowed", "{source}");
    assert!(!after["findings"].to_string().contains("restore-needs-via-service"));
}

/// The least-privilege statement for the restore's denied source read, put on the
/// principal in the lab, makes the evaluation allow it.
#[test]
fn restore_missing_select_fixed_by_least_privilege() {
    let lab = LabProcess::start("restore-missing-select");
    let v = check(&lab, &[]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["leaf"] == "operation-denied")
        .cloned()
        .unwrap();
    assert!(f["title"].as_str().unwrap().starts_with("restore"), "{f}");
    put_policy(&lab, &f["least_privilege_policy"]);
    let after = check(&lab, &[]);
    let restore: Vec<Value> = after["evidence"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["operation"] == "restore")
        .cloned()
        .collect();
    assert!(
        restore
            .iter()
            .all(|o| o["local"]["decision"] == "allowed" && o["simulator"] == "allowed"),
        "{restore:?}"
    );
}
