//! The IAM requests each Keyspaces operation makes, with their exact ARNs, from AWS's
//! documentation: the Service Authorization Reference for Amazon Keyspaces (Select,
//! Modify and Restore act on a table; Create, Alter and Drop on a keyspace or a table,
//! https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkeyspacesforapachecassandra.html),
//! and "Configure restore table IAM permissions for Amazon Keyspaces PITR"
//! (https://docs.aws.amazon.com/keyspaces/latest/devguide/howitworks_restore_permissions.html):
//! `cassandra:Restore` on the target table and `cassandra:Select` on the source, the
//! latter made by Keyspaces on the principal's behalf, so a policy that limits traffic
//! by `aws:SourceVpce`, `aws:SourceIp` or `aws:SourceVpc` must also allow
//! `aws:ViaAWSService`. Data only; no I/O.
use super::ResourceArn;
use serde::{Deserialize, Serialize};

/// An operation a principal may need on the table, evaluated without running it
/// (`--operations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    Select,
    Modify,
    Create,
    Alter,
    Drop,
    Restore,
}

impl OperationKind {
    pub const ALL: [OperationKind; 6] = [
        OperationKind::Select,
        OperationKind::Modify,
        OperationKind::Create,
        OperationKind::Alter,
        OperationKind::Drop,
        OperationKind::Restore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Select => "select",
            OperationKind::Modify => "modify",
            OperationKind::Create => "create",
            OperationKind::Alter => "alter",
            OperationKind::Drop => "drop",
            OperationKind::Restore => "restore",
        }
    }
}

impl std::fmt::Display for OperationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One request of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: &'static str,
    pub resource: String,
    pub purpose: String,
    pub via_service: bool,
}

/// The table a point-in-time restore of `table` is evaluated into.
pub fn restore_target(table: &str) -> String {
    format!("{table}_restored")
}

/// The requests `op` makes on `keyspace.table`. CREATE TABLE is evaluated on the new
/// table's ARN (AWS's tag-based example grants `cassandra:Create` on
/// `/keyspace/<ks>/table/*`), ALTER and DROP on the table's.
pub fn requests(op: OperationKind, region: &str, account: &str, keyspace: &str, table: &str) -> Vec<Request> {
    let table_arn = ResourceArn::table(region, account, keyspace, table).arn();
    let on_table = |action: &'static str, purpose: String| Request {
        action,
        resource: table_arn.clone(),
        purpose,
        via_service: false,
    };
    match op {
        OperationKind::Select => vec![on_table("cassandra:Select", format!("SELECT from {keyspace}.{table}"))],
        OperationKind::Modify => vec![on_table(
            "cassandra:Modify",
            format!("INSERT, UPDATE or DELETE on {keyspace}.{table}"),
        )],
        OperationKind::Create => vec![on_table("cassandra:Create", format!("CREATE TABLE {keyspace}.{table}"))],
        OperationKind::Alter => vec![on_table("cassandra:Alter", format!("ALTER TABLE {keyspace}.{table}"))],
        OperationKind::Drop => vec![on_table("cassandra:Drop", format!("DROP TABLE {keyspace}.{table}"))],
        OperationKind::Restore => {
            let target = restore_target(table);
            vec![
                Request {
                    action: "cassandra:Restore",
                    resource: ResourceArn::table(region, account, keyspace, &target).arn(),
                    purpose: format!("RESTORE TABLE {keyspace}.{target} FROM TABLE {keyspace}.{table}: the target"),
                    via_service: false,
                },
                Request {
                    action: "cassandra:Select",
                    resource: table_arn.clone(),
                    purpose: format!(
                        "the restore reads the source {keyspace}.{table}, as Keyspaces on your behalf (aws:ViaAWSService)"
                    ),
                    via_service: true,
                },
            ]
        }
    }
}
