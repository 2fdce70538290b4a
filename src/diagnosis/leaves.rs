//! The knowledge behind every finding: leaf records (cause, title, why, fix steps,
//! commands, doc link, retry guidance, precedence, the pane that hints at it) read from
//! `assets/tree/leaves.toml`, with `{placeholders}` filled from the evidence. Data
//! access only.
use super::Cause;
pub use crate::leaf_id::LeafId;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaf {
    pub id: LeafId,
    pub cause: Cause,
    pub severity: super::Severity,
    /// Where its finding sorts: lower is closer to the root cause.
    pub rank: u32,
    /// Generic leaves this one accounts for when both are found.
    #[serde(default)]
    pub explains: Vec<LeafId>,
    /// Reported only when no problem ranks before it.
    #[serde(default)]
    pub secondary: bool,
    /// The pane whose text shows this leaf's first fix step.
    #[serde(default)]
    pub hint: Option<HintPane>,
    pub title: String,
    pub why: String,
    pub fix: Vec<String>,
    pub commands: Vec<String>,
    pub doc: String,
    pub retry: String,
}

/// A pane of the TUI that shows a one-line fix for the leaves that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HintPane {
    Identity,
    Endpoint,
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
            .flat_map(|(n, t)| match toml::from_str::<LeafFile>(t) {
                Ok(f) => f.leaf,
                Err(e) => {
                    tracing::error!("assets/tree/{n}.toml does not parse: {e}");
                    vec![]
                }
            })
            .fold(Vec::<Leaf>::new(), |mut acc, l| {
                if !acc.iter().any(|x| x.id == l.id) {
                    acc.push(l);
                }
                acc
            })
    })
}

/// The record of a leaf (every `LeafId` has one: both come from the same file).
pub fn get(id: LeafId) -> Option<&'static Leaf> {
    all().iter().find(|l| l.id == id)
}

/// The record of a leaf named in a data file or pasted text.
pub fn by_name(id: &str) -> Option<&'static Leaf> {
    LeafId::parse(id).and_then(get)
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
        assert_eq!(parsed.leaf.len(), LeafId::ALL.len(), "one record per LeafId");
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

    /// The rank table, checked against the order a client meets problems in: the path to
    /// the endpoint (10-12) before the certificate's name (14) and trust (16), the region
    /// (20) and clock (22) before the credentials (23-27), before permissions (30-36),
    /// before the schema (40); driver configuration files (60) after what the live
    /// probes saw; then a run cut short (70), an unexplained failure (80), warnings (90).
    #[test]
    fn ranks_follow_the_order_a_client_meets_problems_in() {
        use super::super::{Cause, Severity};
        for l in all() {
            let band: &[u32] = match (l.severity, l.cause) {
                (Severity::Warning, _) => &[90],
                _ if l.id.as_str().starts_with("conf-") => &[60],
                (_, Cause::CrossAccount) => &[5],
                (_, Cause::TlsVersion) => &[10],
                (_, Cause::WrongEndpoint) => &[12, 20],
                (_, Cause::Network) => &[12, 27, 70],
                (_, Cause::TlsHostname) => &[14],
                (_, Cause::TlsTrust) => &[16],
                (_, Cause::ClockSkew) => &[22],
                (_, Cause::ExpiredCredentials) => &[24],
                (_, Cause::InvalidCredentials) => &[23, 24, 25, 26],
                (_, Cause::MissingPermission) => &[30, 34, 36],
                (_, Cause::ResourceScope) => &[32, 34],
                (_, Cause::Schema) => &[40],
                (_, Cause::DriverConfig) => &[40, 60],
                (_, Cause::Unknown) => &[26, 80],
            };
            assert!(band.contains(&l.rank), "{}: rank {} not in {band:?}", l.id, l.rank);
        }
    }

    /// `explains` names generic problems that rank at or after the specific one, and
    /// a generic leaf explains nothing itself (no chains, no cycles).
    #[test]
    fn explains_points_from_specific_to_generic() {
        for l in all() {
            for g in &l.explains {
                let generic = get(*g).unwrap();
                assert!(generic.rank >= l.rank, "{} explains {} which ranks before it", l.id, g);
                assert!(
                    generic.explains.is_empty(),
                    "{g} is explained by {} and explains others",
                    l.id
                );
                assert_eq!(generic.severity, super::super::Severity::Problem, "{g}");
            }
        }
        assert!(all().iter().any(|l| !l.explains.is_empty()));
        assert!(all().iter().any(|l| l.secondary));
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
