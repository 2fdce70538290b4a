//! Keyspaces ARNs: partition, region, account, the colon-slash and the keyspace's
//! trailing slash, built in one place. Also maps CQL statements to IAM actions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    pub fn for_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::AwsCn
        } else if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

/// What a statement touches, in Keyspaces' ARN shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArn {
    pub region: String,
    pub account: String,
    pub keyspace: String,
    pub table: Option<String>,
}

impl ResourceArn {
    pub fn table(region: &str, account: &str, keyspace: &str, table: &str) -> Self {
        ResourceArn {
            region: region.into(),
            account: account.into(),
            keyspace: keyspace.into(),
            table: Some(table.into()),
        }
    }

    pub fn keyspace(region: &str, account: &str, keyspace: &str) -> Self {
        ResourceArn {
            region: region.into(),
            account: account.into(),
            keyspace: keyspace.into(),
            table: None,
        }
    }

    fn prefix(&self) -> String {
        format!(
            "arn:{}:cassandra:{}:{}:",
            Partition::for_region(&self.region).as_str(),
            self.region,
            self.account
        )
    }

    /// The ARN string: `.../keyspace/<ks>/` or `.../keyspace/<ks>/table/<t>`.
    pub fn arn(&self) -> String {
        match &self.table {
            Some(t) => format!("{}/keyspace/{}/table/{}", self.prefix(), self.keyspace, t),
            None => format!("{}/keyspace/{}/", self.prefix(), self.keyspace),
        }
    }

    /// The ARN every driver connection needs `cassandra:Select` on.
    pub fn system_tables(region: &str, account: &str) -> String {
        format!(
            "arn:{}:cassandra:{region}:{account}:/keyspace/system*",
            Partition::for_region(region).as_str()
        )
    }
}

/// The IAM action a CQL statement needs, from its first keyword.
pub fn action_for_statement(cql: &str) -> &'static str {
    let first = cql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    match first.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "BATCH" | "BEGIN" => "cassandra:Modify",
        "CREATE" => "cassandra:Create",
        "ALTER" => "cassandra:Alter",
        "DROP" => "cassandra:Drop",
        _ => "cassandra:Select",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_have_the_colon_slash_and_trailing_slash() {
        assert_eq!(
            ResourceArn::keyspace("us-east-1", "111122223333", "ks").arn(),
            "arn:aws:cassandra:us-east-1:111122223333:/keyspace/ks/"
        );
        assert_eq!(
            ResourceArn::table("cn-north-1", "1", "ks", "t").arn(),
            "arn:aws-cn:cassandra:cn-north-1:1:/keyspace/ks/table/t"
        );
        assert_eq!(
            ResourceArn::system_tables("us-gov-west-1", "1"),
            "arn:aws-us-gov:cassandra:us-gov-west-1:1:/keyspace/system*"
        );
        assert_eq!(action_for_statement("insert into x"), "cassandra:Modify");
        assert_eq!(action_for_statement("SELECT * FROM x"), "cassandra:Select");
    }
}
