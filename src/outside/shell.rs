//! Values made safe to paste: POSIX shell quoting for suggested `$` commands (as
//! Python's `shlex.quote`), SQL string literals, and the AWS grammars that values must
//! match before they are used in a command at all.

/// `s` as one shell word: unchanged when it holds only characters no shell treats
/// specially, else in single quotes with each `'` written as `'"'"'`.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// `s` as the inside of a SQL string literal (`'` doubled, no control characters).
pub fn sql_literal(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('\'', "''")
}

/// An ARN as AWS writes it: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, with
/// printable ASCII only and none of the characters a shell or SQL treats specially.
pub fn is_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let word = |p: &str| {
        p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    partition.starts_with("aws")
        && word(partition)
        && !service.is_empty()
        && word(service)
        && word(region)
        && (account.is_empty()
            || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
            || account == "aws")
        && !resource.is_empty()
        && s.len() <= 2048
        && resource
            .chars()
            .all(|c| c.is_ascii_graphic() && !"'\"`$\\;&|<>(){}!".contains(c))
}

/// An IAM user, role or group name: `[\w+=,.@-]{1,128}`.
pub fn is_iam_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A region name such as `us-east-1`.
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A DNS host name or an IP address literal.
pub fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && (s.parse::<std::net::IpAddr>().is_ok()
            || s.split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("alice-at-111122223333"), "alice-at-111122223333");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("$(id)"), "'$(id)'");
        assert_eq!(quote("o'brien"), "'o'\"'\"'brien'");
        assert_eq!(quote(""), "''");
        assert_eq!(sql_literal("o'brien"), "o''brien");
    }

    #[test]
    fn grammars() {
        assert!(is_arn("arn:aws:iam::111122223333:user/app"));
        assert!(is_arn(
            "arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders"
        ));
        assert!(is_arn("arn:aws:sts::111122223333:assumed-role/r/s@x.com"));
        assert!(is_arn("arn:aws:iam::aws:policy/AmazonKeyspacesReadOnlyAccess"));
        assert!(!is_arn("arn:aws:iam::111122223333:user/$(id)"));
        assert!(!is_arn("arn:aws:iam::111122223333:user/`id`"));
        assert!(!is_arn("arn:aws:iam::1:user/a b"));
        assert!(is_iam_name("app+ci@corp.example"));
        assert!(!is_iam_name("a;b"));
        assert!(is_region("us-east-1"));
        assert!(!is_region("us-east-1;id"));
        assert!(is_host("cassandra.us-east-1.amazonaws.com"));
        assert!(is_host("::1"));
        assert!(!is_host("a b"));
    }
}
