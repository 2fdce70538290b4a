//! IAM `Condition` blocks, evaluated against a request context as AWS documents it
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//! and reference_policies_condition-logic-multiple-context-keys-or-values.html):
//! operators AND-ed, keys AND-ed, the values of one key OR-ed (NOR for negated
//! operators), `...IfExists`, `Null`, `ForAllValues:`/`ForAnyValue:` on single-valued
//! keys, and the missing-key rule. A context may be partial (the doctor does not know
//! every key of a request it did not make): a key it lacks makes the answer `Unknown`.
//! Pure functions; no I/O.
use super::policy::wildcard_match;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What a request carries, by condition key (keys compare case-insensitively).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    values: BTreeMap<String, String>,
    /// Every key of the request is here: an absent key is absent from the request.
    complete: bool,
    /// Keys a partial context knows the request does not carry.
    absent: Vec<String>,
}

/// A three-valued answer: a partial context cannot always decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
            _ => Truth::True,
        }
    }

    fn from(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
}

enum Lookup<'a> {
    Present(&'a str),
    Absent,
    Unknown,
}

impl RequestContext {
    /// The whole context of a request (the lab's server knows every key it sets).
    pub fn complete<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        RequestContext {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into()))
                .collect(),
            complete: true,
            absent: vec![],
        }
    }

    /// The same context, knowing the request carries none of `keys`.
    pub fn without(mut self, keys: &[&str]) -> Self {
        self.absent.extend(keys.iter().map(|k| k.to_ascii_lowercase()));
        self
    }

    /// Some keys of a request; the others are unknown.
    pub fn partial<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        RequestContext {
            complete: false,
            ..RequestContext::complete(pairs)
        }
    }

    fn get(&self, key: &str) -> Lookup<'_> {
        let key = key.to_ascii_lowercase();
        match self.values.get(&key) {
            Some(v) => Lookup::Present(v),
            None if self.complete || self.absent.contains(&key) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

/// A whole `Condition` block: every operator and every key must hold.
pub fn holds(condition: &serde_json::Value, ctx: &RequestContext) -> Truth {
    let Some(ops) = condition.as_object() else {
        return Truth::Unknown;
    };
    let mut t = Truth::True;
    for (op, keys) in ops {
        let Some(keys) = keys.as_object() else {
            return Truth::Unknown;
        };
        for (key, values) in keys {
            t = t.and(one(op, key, &strings(values), ctx));
        }
    }
    t
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

/// One operator on one key.
fn one(op: &str, key: &str, values: &[String], ctx: &RequestContext) -> Truth {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(true), r)
    } else if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(false), r)
    } else {
        (None, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    if base == "Null" {
        let want_absent = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return match ctx.get(key) {
            Lookup::Unknown => Truth::Unknown,
            Lookup::Absent => Truth::from(want_absent),
            Lookup::Present(_) => Truth::from(!want_absent),
        };
    }
    let Some((positive, negated)) = operator(base) else {
        return Truth::Unknown;
    };
    match ctx.get(key) {
        Lookup::Unknown => Truth::Unknown,
        Lookup::Absent => Truth::from(match set {
            Some(all) => all,
            None => if_exists || negated,
        }),
        Lookup::Present(v) => {
            let any = values.iter().any(|pattern| positive(pattern, v));
            Truth::from(if negated { !any } else { any })
        }
    }
}

type Matcher = fn(&str, &str) -> bool;

/// The positive matcher of an operator and whether the operator negates it.
fn operator(base: &str) -> Option<(Matcher, bool)> {
    Some(match base {
        "StringEquals" => (string_equals, false),
        "StringNotEquals" => (string_equals, true),
        "StringEqualsIgnoreCase" => (string_equals_ignore_case, false),
        "StringNotEqualsIgnoreCase" => (string_equals_ignore_case, true),
        "StringLike" => (string_like, false),
        "StringNotLike" => (string_like, true),
        "ArnEquals" | "ArnLike" => (arn_like, false),
        "ArnNotEquals" | "ArnNotLike" => (arn_like, true),
        "Bool" => (string_equals_ignore_case, false),
        "IpAddress" => (in_network, false),
        "NotIpAddress" => (in_network, true),
        "DateEquals" => (|p, v| date_cmp(p, v) == Some(std::cmp::Ordering::Equal), false),
        "DateNotEquals" => (|p, v| date_cmp(p, v) == Some(std::cmp::Ordering::Equal), true),
        "DateLessThan" => (|p, v| date_cmp(p, v) == Some(std::cmp::Ordering::Less), false),
        "DateLessThanEquals" => (|p, v| date_cmp(p, v).is_some_and(|o| o.is_le()), false),
        "DateGreaterThan" => (|p, v| date_cmp(p, v) == Some(std::cmp::Ordering::Greater), false),
        "DateGreaterThanEquals" => (|p, v| date_cmp(p, v).is_some_and(|o| o.is_ge()), false),
        "NumericEquals" => (|p, v| num_cmp(p, v) == Some(std::cmp::Ordering::Equal), false),
        "NumericNotEquals" => (|p, v| num_cmp(p, v) == Some(std::cmp::Ordering::Equal), true),
        "NumericLessThan" => (|p, v| num_cmp(p, v) == Some(std::cmp::Ordering::Less), false),
        "NumericLessThanEquals" => (|p, v| num_cmp(p, v).is_some_and(|o| o.is_le()), false),
        "NumericGreaterThan" => (|p, v| num_cmp(p, v) == Some(std::cmp::Ordering::Greater), false),
        "NumericGreaterThanEquals" => (|p, v| num_cmp(p, v).is_some_and(|o| o.is_ge()), false),
        _ => return None,
    })
}

fn string_equals(p: &str, v: &str) -> bool {
    p == v
}

fn string_equals_ignore_case(p: &str, v: &str) -> bool {
    p.eq_ignore_ascii_case(v)
}

fn string_like(p: &str, v: &str) -> bool {
    wildcard_match(p, v, false)
}

/// ARNs match component by component (the six colon-separated parts).
fn arn_like(p: &str, v: &str) -> bool {
    let ps: Vec<&str> = p.splitn(6, ':').collect();
    let vs: Vec<&str> = v.splitn(6, ':').collect();
    ps.len() == 6 && vs.len() == 6 && ps.iter().zip(&vs).all(|(a, b)| wildcard_match(a, b, false))
}

/// `v` (an address) lies in `p` (a CIDR block, or one address meaning /32 or /128).
fn in_network(p: &str, v: &str) -> bool {
    let Ok(addr) = v.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match p.trim().split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (p.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

fn date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&chrono::Utc));
    }
    if let Ok(secs) = s.parse::<i64>() {
        return chrono::DateTime::from_timestamp(secs, 0);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// The request's value compared with the policy's.
fn date_cmp(p: &str, v: &str) -> Option<std::cmp::Ordering> {
    Some(date(v)?.cmp(&date(p)?))
}

fn num_cmp(p: &str, v: &str) -> Option<std::cmp::Ordering> {
    v.trim()
        .parse::<f64>()
        .ok()?
        .partial_cmp(&p.trim().parse::<f64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_partial_context_says_unknown_for_keys_it_lacks() {
        let c = json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}});
        assert_eq!(
            holds(&c, &RequestContext::partial([("aws:SecureTransport", "true")])),
            Truth::Unknown
        );
        assert_eq!(
            holds(&c, &RequestContext::complete([("aws:SecureTransport", "true")])),
            Truth::False
        );
        let both = json!({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}});
        assert_eq!(
            holds(&both, &RequestContext::partial([("aws:SecureTransport", "true")])),
            Truth::False
        );
    }

    #[test]
    fn networks() {
        assert!(in_network("203.0.113.0/24", "203.0.113.9"));
        assert!(!in_network("203.0.113.0/24", "203.0.114.9"));
        assert!(in_network("203.0.113.9", "203.0.113.9"));
        assert!(in_network("2001:db8::/32", "2001:db8::1"));
        assert!(!in_network("10.0.0.0/8", "2001:db8::1"));
    }
}
