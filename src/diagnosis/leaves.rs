//! The knowledge behind every finding: leaf records (cause, title, why, fix steps,
//! commands, doc link, retry guidance) read from `assets/tree/leaves.toml`, with
//! `{placeholders}` filled from the evidence. Data access only.
use super::Cause;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaf {
    pub id: String,
    pub cause: Cause,
    pub severity: super::Severity,
    pub title: String,
    pub why: String,
    pub fix: Vec<String>,
    pub commands: Vec<String>,
    pub doc: String,
    pub retry: String,
}

#[derive(Debug, Deserialize)]
struct LeafFile {
    leaf: Vec<Leaf>,
}

/// Every leaf record, parsed once. A broken asset is a build defect, caught by tests.
pub fn all() -> &'static [Leaf] {
    static LEAVES: OnceLock<Vec<Leaf>> = OnceLock::new();
    LEAVES.get_or_init(|| {
        crate::assets::TREE_FILES
            .iter()
            .filter(|(n, _)| n.starts_with("leaves"))
            .flat_map(|(_, t)| toml::from_str::<LeafFile>(t).map(|f| f.leaf).unwrap_or_default())
            .fold(Vec::<Leaf>::new(), |mut acc, l| {
                if !acc.iter().any(|x| x.id == l.id) {
                    acc.push(l);
                }
                acc
            })
    })
}

pub fn get(id: &str) -> Option<&'static Leaf> {
    all().iter().find(|l| l.id == id)
}

/// Fills `{name}` placeholders; unknown ones are left visible.
pub fn fill(text: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) if vars.contains_key(&after[..j]) => {
                out.push_str(&vars[&after[..j]]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a suggested line is: a command to run in a POSIX shell, or a line of a
/// configuration file or program (cqlshrc, application.conf, Python, CQL) to edit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Shell,
    Config,
}

/// The programs the suggested shell commands start with (after `VAR=value` prefixes).
const SHELL_PROGRAMS: &[&str] = &[
    "aws",
    "openssl",
    "keyspaces-doctor",
    "cqlsh",
    "export",
    "keytool",
    "printf",
    "chronyc",
    "sudo",
    "getent",
    "for",
    "env",
    "unset",
    "grep",
    "date",
    "nc",
    "cat",
    "read",
    "pip",
    "npm",
    "go",
    "timedatectl",
    "dig",
    "curl",
    "ls",
    "case",
    "chmod",
    "python3",
    "apt-get",
    "yum",
    "apk",
    "echo",
    "mvn",
    "traceroute",
    "time",
    "kubectl",
];

/// Whether `line` is run in a shell or written into a file.
pub fn line_kind(line: &str) -> LineKind {
    let first = line
        .split_whitespace()
        .find(|t| !(t.contains('=') && t.chars().next().is_some_and(|c| c.is_ascii_uppercase())));
    match first {
        Some(w) if SHELL_PROGRAMS.contains(&w) => LineKind::Shell,
        _ => LineKind::Config,
    }
}

/// A check that a value is well formed.
type Grammar = fn(&str) -> bool;

/// The grammar a value must match before it goes into a suggested line, and the
/// placeholder shown instead when it does not.
fn grammar(name: &str) -> Option<(Grammar, &'static str)> {
    use crate::outside::shell::{is_arn, is_host, is_iam_name, is_region};
    fn account(s: &str) -> bool {
        s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
    }
    fn cql_name(s: &str) -> bool {
        !s.is_empty() && s.len() <= 48 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
    Some(match name {
        "caller_arn" => (is_arn, "<caller-arn>"),
        "principal_arn" => (is_arn, "<principal-arn>"),
        "role_arn" => (is_arn, "<role-arn>"),
        "policy_arn" => (is_arn, "<policy-arn>"),
        "resource" => (is_arn, "<resource-arn>"),
        "iam_user" => (is_iam_name, "<iam-user>"),
        "region" | "signing_region" | "endpoint_region" => (is_region, "<region>"),
        "host" | "tls_name" => (is_host, "<host>"),
        "account" => (account, "<account-id>"),
        "keyspace" => (cql_name, "<keyspace>"),
        "table" => (cql_name, "<table>"),
        _ => return None,
    })
}

/// Fills a suggested line. Each value is first checked against its AWS grammar (an
/// ARN, an IAM name, a region, a host) and replaced by a `<placeholder>` when it does
/// not match; in a shell command every value is then shell-quoted, so no value from
/// outside can run as a command. Returns the line and the placeholders put in.
pub fn fill_command(text: &str, vars: &BTreeMap<&str, String>) -> (String, Vec<String>) {
    let shell = line_kind(text) == LineKind::Shell;
    let mut replaced = Vec::new();
    let mut safe: BTreeMap<&str, String> = BTreeMap::new();
    for (k, v) in vars {
        let valid = match grammar(k) {
            Some((ok, placeholder)) if !ok(v) && !v.starts_with('<') => {
                replaced.push(((*k).to_string(), placeholder));
                placeholder.to_string()
            }
            _ => v.clone(),
        };
        let quoted = if shell && !valid.starts_with('<') {
            crate::outside::shell::quote(&valid)
        } else {
            valid
        };
        safe.insert(k, quoted);
    }
    let used: Vec<String> = replaced
        .into_iter()
        .filter(|(k, _)| text.contains(&format!("{{{k}}}")))
        .map(|(_, p)| p.to_string())
        .collect();
    (fill(text, &safe), used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_parse_and_each_has_a_fix_and_a_doc_link() {
        let text = crate::assets::TREE_FILES
            .iter()
            .find(|(n, _)| *n == "leaves")
            .unwrap()
            .1;
        let parsed: LeafFile = toml::from_str(text).expect("leaves.toml parses");
        assert!(parsed.leaf.len() >= 40);
        for l in &parsed.leaf {
            assert!(!l.fix.is_empty(), "{} has no fix", l.id);
            assert!(
                l.doc.starts_with("https://docs.aws.amazon.com/"),
                "{} doc {}",
                l.id,
                l.doc
            );
            assert!(!l.retry.is_empty(), "{}", l.id);
        }
    }

    #[test]
    fn commands_quote_and_validate_what_they_substitute() {
        let mut v = BTreeMap::new();
        v.insert(
            "caller_arn",
            "arn:aws:iam::111122223333:user/$(touch /tmp/x)".to_string(),
        );
        v.insert("iam_user", "app".to_string());
        v.insert("host", "h`id`".to_string());
        v.insert("region", "us-east-1".to_string());
        let (line, replaced) = fill_command("aws iam get-user --user-name {iam_user} --arn {caller_arn}", &v);
        assert_eq!(line, "aws iam get-user --user-name app --arn <caller-arn>");
        assert_eq!(replaced, vec!["<caller-arn>".to_string()]);
        let (line, _) = fill_command("cqlsh {host} 9142 --ssl", &v);
        assert_eq!(line, "cqlsh <host> 9142 --ssl");
        let (line, _) = fill_command(
            "datastax-java-driver.basic.load-balancing-policy.local-datacenter = \"{region}\"",
            &v,
        );
        assert!(line.ends_with("\"us-east-1\""));
        v.insert("keyspace", "a b".to_string());
        let (line, _) = fill_command("aws keyspaces get-keyspace --keyspace-name {keyspace}", &v);
        assert_eq!(line, "aws keyspaces get-keyspace --keyspace-name <keyspace>");
        assert_eq!(line_kind("[authentication]"), LineKind::Config);
        assert_eq!(line_kind("RUST_LOG=debug keyspaces-doctor check"), LineKind::Shell);
    }

    #[test]
    fn placeholders() {
        let mut v = BTreeMap::new();
        v.insert("host", "h".to_string());
        assert_eq!(fill("a {host} {nope} b", &v), "a h {nope} b");
    }
}
