//! An oracle for `iam::evaluate_in` that does not come from its code: the cases in
//! `tests/fixtures/iam_oracle.toml` were written from AWS's published policy
//! evaluation logic, condition operators, NotAction/NotResource and permissions
//! boundary pages (each case names its page and the rule that decides it).
use keyspaces_doctor::iam::{Decision, NamedPolicy, RequestContext, evaluate_in};
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    source: String,
    rule: String,
    policies: Vec<String>,
    boundary: Option<String>,
    action: String,
    resource: String,
    #[serde(default)]
    context: BTreeMap<String, String>,
    expected: String,
}

#[derive(serde::Deserialize)]
struct Cases {
    case: Vec<Case>,
}

fn named(i: usize, json: &str, case: &str) -> NamedPolicy {
    NamedPolicy {
        arn: format!("arn:aws:iam::111122223333:policy/p{i}"),
        document: serde_json::from_str(json).unwrap_or_else(|e| panic!("{case}: policy {i}: {e}")),
    }
}

#[test]
fn every_documented_case_decides_as_aws_documents_it() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iam_oracle.toml")).unwrap();
    let cases: Cases = toml::from_str(&text).expect("iam_oracle.toml parses");
    assert!(cases.case.len() >= 40);
    let mut wrong = vec![];
    for c in &cases.case {
        assert!(
            c.source.starts_with("https://docs.aws.amazon.com/"),
            "{}: {}",
            c.name,
            c.source
        );
        let policies: Vec<NamedPolicy> = c
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| named(i, p, &c.name))
            .collect();
        let boundary = c.boundary.as_deref().map(|b| named(99, b, &c.name));
        let ctx = RequestContext::complete(c.context.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let got = match evaluate_in(&policies, boundary.as_ref(), &c.action, &c.resource, &ctx) {
            Decision::Allowed { .. } => "allowed",
            Decision::ExplicitDeny { .. } => "explicit_deny",
            Decision::ImplicitDeny { .. } => "implicit_deny",
        };
        if got != c.expected {
            wrong.push(format!(
                "{}: expected {}, got {got} ({}; {})",
                c.name, c.expected, c.rule, c.source
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.case.len(),
        wrong.join("\n")
    );
}

/// The doctor does not know every key of a request it did not make: an allow that
/// depends on one is reported as unmet, never as allowed.
#[test]
fn an_allow_a_partial_context_cannot_decide_is_unmet() {
    let p = named(
        0,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyViaVpce","Effect":"Allow","Action":"cassandra:Select","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}"#,
        "partial",
    );
    let ctx = RequestContext::partial([("aws:SecureTransport", "true")]);
    match evaluate_in(
        &[p],
        None,
        "cassandra:Select",
        "arn:aws:cassandra:us-east-1:111122223333:/keyspace/ks/table/t",
        &ctx,
    ) {
        Decision::ImplicitDeny {
            boundary_blocks: false,
            condition_unmet: Some(by),
        } => assert_eq!(by.sid_or_index, "OnlyViaVpce"),
        d => panic!("{d:?}"),
    }
}
