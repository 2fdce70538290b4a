//! Identity-policy evaluation as IAM documents it
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//! an explicit Deny wins, then an Allow is needed, else the implicit deny; a permission
//! boundary must also allow. `Action`/`NotAction`, `Resource`/`NotResource`, wildcards and
//! `Condition` blocks (`super::condition`) against the request's context. A condition a
//! partial context cannot decide neither allows nor denies: the allow it guards is
//! reported as unmet. Pure; tested against AWS's documented cases in `tests/iam_oracle.rs`.
use super::condition::{RequestContext, Truth, holds};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn iter(&self) -> Box<dyn Iterator<Item = &T> + '_> {
        match self {
            OneOrMany::One(t) => Box::new(std::iter::once(t)),
            OneOrMany::Many(v) => Box::new(v.iter()),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_resource: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    #[serde(default = "default_version")]
    pub version: String,
    pub statement: OneOrMany<Statement>,
}

fn default_version() -> String {
    "2012-10-17".into()
}

/// A policy with the name or ARN it is attached under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedPolicy {
    pub arn: String,
    pub document: PolicyDocument,
}

/// Which statement decided, for the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementRef {
    pub policy_arn: String,
    /// The statement's Sid, or its index when it has none.
    pub sid_or_index: String,
    pub statement: Statement,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allowed {
        by: StatementRef,
    },
    ExplicitDeny {
        by: StatementRef,
    },
    /// No statement allows; a boundary that lacks the action also lands here.
    ImplicitDeny {
        boundary_blocks: bool,
        /// An Allow that names the action and resource but whose `Condition` this
        /// request does not meet (or that the context cannot decide).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition_unmet: Option<StatementRef>,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    /// The decision as IAM's policy simulator names it (`EvalDecision`).
    pub fn iam_name(&self) -> &'static str {
        match self {
            Decision::Allowed { .. } => "allowed",
            Decision::ExplicitDeny { .. } => "explicitDeny",
            Decision::ImplicitDeny { .. } => "implicitDeny",
        }
    }
}

/// IAM's wildcard match: `*` any run, `?` one character.
pub fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    let (mut pi, mut vi, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Statement {
    pub fn matches_action(&self, action: &str) -> bool {
        if let Some(a) = &self.action {
            return a.iter().any(|p| wildcard_match(p, action, true));
        }
        if let Some(na) = &self.not_action {
            return !na.iter().any(|p| wildcard_match(p, action, true));
        }
        false
    }

    pub fn matches_resource(&self, resource: &str) -> bool {
        if let Some(r) = &self.resource {
            return r.iter().any(|p| wildcard_match(p, resource, false));
        }
        if let Some(nr) = &self.not_resource {
            return !nr.iter().any(|p| wildcard_match(p, resource, false));
        }
        false
    }

    /// Whether the statement's `Condition` holds for the request (no condition: it does).
    pub fn condition_holds(&self, ctx: &RequestContext) -> Truth {
        match &self.condition {
            None => Truth::True,
            Some(c) => holds(c, ctx),
        }
    }

    /// For trust policies: does `Principal` name this caller (its ARN or its account)?
    pub fn matches_principal(&self, caller_arn: &str, caller_account: &str) -> bool {
        let Some(p) = &self.principal else { return false };
        let names: Vec<String> = match p {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Object(m) => m
                .get("AWS")
                .map(|v| match v {
                    serde_json::Value::String(s) => vec![s.clone()],
                    serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
                    _ => vec![],
                })
                .unwrap_or_default(),
            _ => vec![],
        };
        names.iter().any(|n| {
            n == "*" || n == caller_arn || n == caller_account || *n == format!("arn:aws:iam::{caller_account}:root")
        })
    }
}

fn statements(policies: &[NamedPolicy]) -> impl Iterator<Item = (&NamedPolicy, usize, &Statement)> {
    policies
        .iter()
        .flat_map(|p| p.document.statement.iter().enumerate().map(move |(i, s)| (p, i, s)))
}

fn reference(p: &NamedPolicy, i: usize, s: &Statement) -> StatementRef {
    StatementRef {
        policy_arn: p.arn.clone(),
        sid_or_index: s.sid.clone().unwrap_or_else(|| i.to_string()),
        statement: s.clone(),
    }
}

/// Evaluates identity policies (and an optional permission boundary) for one request
/// whose context is unknown: a statement with a `Condition` neither allows nor denies.
pub fn evaluate(policies: &[NamedPolicy], boundary: Option<&NamedPolicy>, action: &str, resource: &str) -> Decision {
    evaluate_in(
        policies,
        boundary,
        action,
        resource,
        &RequestContext::partial(std::iter::empty::<(&str, &str)>()),
    )
}

/// Evaluates identity policies (and an optional permission boundary) for one request
/// with the given context.
pub fn evaluate_in(
    policies: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    action: &str,
    resource: &str,
    ctx: &RequestContext,
) -> Decision {
    let names = |s: &Statement| s.matches_action(action) && s.matches_resource(resource);
    let applies = |s: &Statement| names(s) && s.condition_holds(ctx) == Truth::True;
    let bound: Vec<NamedPolicy> = boundary.into_iter().cloned().collect();
    for (p, i, s) in statements(policies).chain(statements(&bound)) {
        if s.effect == Effect::Deny && applies(s) {
            return Decision::ExplicitDeny { by: reference(p, i, s) };
        }
    }
    let allow = statements(policies).find(|(_, _, s)| s.effect == Effect::Allow && applies(s));
    let boundary_allows =
        boundary.is_none() || statements(&bound).any(|(_, _, s)| s.effect == Effect::Allow && applies(s));
    let unmet = || {
        statements(policies)
            .chain(statements(&bound))
            .find(|(_, _, s)| s.effect == Effect::Allow && names(s) && s.condition_holds(ctx) != Truth::True)
            .map(|(p, i, s)| reference(p, i, s))
    };
    match allow {
        Some((p, i, s)) if boundary_allows => Decision::Allowed { by: reference(p, i, s) },
        Some(_) => Decision::ImplicitDeny {
            boundary_blocks: true,
            condition_unmet: unmet(),
        },
        None => Decision::ImplicitDeny {
            boundary_blocks: false,
            condition_unmet: unmet(),
        },
    }
}

/// True when any statement allows any `cassandra:` action at all.
pub fn grants_any_keyspaces_action(policies: &[NamedPolicy]) -> bool {
    statements(policies).any(|(_, _, s)| {
        s.effect == Effect::Allow
            && [
                "cassandra:Select",
                "cassandra:Modify",
                "cassandra:Create",
                "cassandra:Alter",
                "cassandra:Drop",
            ]
            .iter()
            .any(|a| s.matches_action(a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> NamedPolicy {
        NamedPolicy {
            arn: "arn:aws:iam::111122223333:policy/p".into(),
            document: serde_json::from_str(json).unwrap(),
        }
    }

    const TABLE: &str = "arn:aws:cassandra:us-east-1:111122223333:/keyspace/ks/table/t";

    #[test]
    fn explicit_deny_wins_over_allow() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"cassandra:*","Resource":"*"},
              {"Sid":"NoWrites","Effect":"Deny","Action":["cassandra:Modify"],"Resource":"arn:aws:cassandra:*:*:/keyspace/ks/*"}]}"#,
        );
        assert!(evaluate(std::slice::from_ref(&p), None, "cassandra:Select", TABLE).is_allowed());
        match evaluate(&[p], None, "cassandra:Modify", TABLE) {
            Decision::ExplicitDeny { by } => assert_eq!(by.sid_or_index, "NoWrites"),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn resource_scope_and_boundary() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"cassandra:Select","Resource":["arn:aws:cassandra:us-east-1:111122223333:/keyspace/ks/table/other","arn:aws:cassandra:us-east-1:111122223333:/keyspace/system*"]}}"#,
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&p), None, "cassandra:Select", TABLE),
            Decision::ImplicitDeny {
                boundary_blocks: false,
                condition_unmet: None
            }
        );
        let sys = "arn:aws:cassandra:us-east-1:111122223333:/keyspace/system_schema/table/columns";
        assert!(evaluate(std::slice::from_ref(&p), None, "cassandra:Select", sys).is_allowed());
        let b = policy(r#"{"Statement":{"Effect":"Allow","Action":"cassandra:Modify","Resource":"*"}}"#);
        assert_eq!(
            evaluate(&[p], Some(&b), "cassandra:Select", sys),
            Decision::ImplicitDeny {
                boundary_blocks: true,
                condition_unmet: None
            }
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("cassandra:Sel*", "CASSANDRA:select", true));
        assert!(wildcard_match("a?c*", "abcdef", false));
        assert!(!wildcard_match("a?c", "abcd", false));
    }
}
