//! The rules that turn evidence into findings, one file per layer of the connection
//! (config, endpoint and TLS, identity, IAM, CQL, fail-closed). Each rule asks one
//! question of typed evidence, records the answer on the path and lands on a leaf of
//! `assets/tree/leaves.toml`. Precedence is data: each leaf's `rank`, `explains` and
//! `secondary` (applied here after every rule ran), never the order the rules run in.
//! Rules match text only where it comes from outside (server and AWS messages, policy
//! documents, certificates); what this program wrote is read through its types.
mod config;
mod cql;
mod endpoint;
mod fail_closed;
mod iam;
mod identity;
mod operations;

use super::leaves::{self, LeafId};
use super::{Finding, Fix, PathStep, Severity};
use crate::evidence::Evidence;
use crate::iam::ResourceArn;
use std::collections::BTreeMap;

struct Ctx<'a> {
    ev: &'a Evidence,
    vars: BTreeMap<&'static str, String>,
    out: Vec<Finding>,
    /// The finding the last `add` created or added evidence to.
    last: Option<usize>,
}

pub(super) fn step(q: &str, a: impl Into<String>) -> PathStep {
    PathStep {
        question: q.into(),
        answer: a.into(),
    }
}

impl Ctx<'_> {
    fn has(&self, leaf: LeafId) -> bool {
        self.out.iter().any(|f| f.leaf == leaf)
    }

    /// Records a finding on `leaf` (or adds the evidence to the one already there).
    fn add(&mut self, leaf: LeafId, evidence: Vec<String>, path: Vec<PathStep>, extra: &[(&'static str, String)]) {
        self.add_as(leaf, evidence, path, extra, false)
    }

    /// As `add`, but a finding of the same leaf with another title stays apart (one
    /// finding per operation, say).
    fn add_distinct(
        &mut self,
        leaf: LeafId,
        evidence: Vec<String>,
        path: Vec<PathStep>,
        extra: &[(&'static str, String)],
    ) {
        self.add_as(leaf, evidence, path, extra, true)
    }

    fn add_as(
        &mut self,
        leaf: LeafId,
        evidence: Vec<String>,
        path: Vec<PathStep>,
        extra: &[(&'static str, String)],
        distinct: bool,
    ) {
        let title = distinct.then(|| {
            let mut vars = self.vars.clone();
            for (k, v) in extra {
                vars.insert(k, v.clone());
            }
            leaves::get(leaf)
                .map(|l| leaves::fill(&l.title, &vars))
                .unwrap_or_default()
        });
        if let Some(i) = self
            .out
            .iter()
            .position(|f| f.leaf == leaf && title.as_ref().is_none_or(|t| *t == f.title))
        {
            let f = &mut self.out[i];
            for e in evidence {
                if !f.evidence.contains(&e) {
                    f.evidence.push(e);
                }
            }
            self.last = Some(i);
            return;
        }
        let Some(l) = leaves::get(leaf) else {
            tracing::error!("leaf {leaf} has no record in assets/tree/leaves.toml");
            return;
        };
        let mut vars = self.vars.clone();
        for (k, v) in extra {
            vars.insert(k, v.clone());
        }
        let fill = |s: &str| leaves::fill(s, &vars);
        let mut replaced: Vec<String> = Vec::new();
        let commands: Vec<String> = l
            .commands
            .iter()
            .map(|s| {
                let (line, r) = leaves::fill_command(s, &vars);
                for n in r {
                    if !replaced.contains(&n) {
                        replaced.push(n);
                    }
                }
                line
            })
            .collect();
        // The tree's path to this leaf, then the evidence that answered it here.
        let mut full: Vec<PathStep> = super::tree::tree()
            .best_path_to(l.id, &evidence)
            .unwrap_or_default()
            .into_iter()
            .map(|(q, a)| step(&q, a))
            .collect();
        full.extend(path);
        self.out.push(Finding {
            cause: l.cause,
            severity: l.severity,
            leaf: l.id,
            title: fill(&l.title),
            why: fill(&l.why),
            evidence,
            fix: Fix {
                steps: l
                    .fix
                    .iter()
                    .map(|s| fill(s))
                    .chain((!replaced.is_empty()).then(|| {
                        format!(
                            "In the commands, {} stands for a value that did not look like a valid AWS name, ARN or host, so it was not pasted in: fill it in by hand.",
                            replaced.join(", ")
                        )
                    }))
                    .collect(),
                commands,
                doc: l.doc.clone(),
                retry: l.retry.clone(),
            },
            path: full,
            policy_arn: None,
            statement: None,
            missing: None,
            least_privilege_policy: None,
            rank: l.rank,
        });
        self.last = Some(self.out.len() - 1);
    }

    /// The finding the last `add` created or added to.
    fn last_mut(&mut self) -> Option<&mut Finding> {
        self.last.and_then(|i| self.out.get_mut(i))
    }

    fn finding_mut(&mut self, leaf: LeafId) -> Option<&mut Finding> {
        self.out.iter_mut().find(|f| f.leaf == leaf)
    }
}

fn account_of(ev: &Evidence) -> String {
    ev.identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .map(|c| c.account.clone())
        .or_else(|| {
            ev.target
                .username
                .as_ref()
                .and_then(|u| u.rsplit_once("-at-").map(|(_, a)| a.to_string()))
        })
        .unwrap_or_else(|| "<account-id>".into())
}

fn iam_user_of(ev: &Evidence) -> String {
    ev.identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .and_then(|c| {
            c.arn
                .split(":user/")
                .nth(1)
                .map(|u| u.rsplit('/').next().unwrap_or(u).to_string())
        })
        .or_else(|| {
            ev.target.username.as_ref().map(|u| {
                u.rsplit_once("-at-")
                    .map(|(n, _)| n.to_string())
                    .unwrap_or_else(|| u.clone())
            })
        })
        .unwrap_or_else(|| "<iam-user>".into())
}

fn vars(ev: &Evidence) -> BTreeMap<&'static str, String> {
    let t = &ev.target;
    let region = t
        .region
        .clone()
        .or(t.host_region.clone())
        .unwrap_or_else(|| "<region>".into());
    let mut v = BTreeMap::new();
    v.insert("host", t.host.clone());
    v.insert("port", t.port.to_string());
    v.insert("region", region.to_ascii_lowercase());
    v.insert(
        "endpoint_region",
        t.host_region.clone().unwrap_or_else(|| region.clone()),
    );
    v.insert("signing_region", t.region.clone().unwrap_or_else(|| "<none>".into()));
    v.insert("username", t.username.clone().unwrap_or_else(|| "<username>".into()));
    v.insert("iam_user", iam_user_of(ev));
    v.insert("account", account_of(ev));
    v.insert("keyspace", t.keyspace.clone().unwrap_or_else(|| "<keyspace>".into()));
    v.insert("table", t.table.clone().unwrap_or_else(|| "<table>".into()));
    v.insert("tls_name", t.tls_name.clone());
    v.insert("ca_file", t.ca_file.clone().unwrap_or_else(|| "<ca-file>".into()));
    v.insert("role_arn", t.role_arn.clone().unwrap_or_else(|| "<role-arn>".into()));
    let caller = ev
        .identity
        .as_ref()
        .and_then(|i| i.caller.as_ref())
        .map(|c| c.arn.clone())
        .unwrap_or_else(|| "<caller-arn>".into());
    v.insert("caller_arn", caller.clone());
    v.insert("principal_arn", caller);
    v.insert(
        "offset",
        ev.identity
            .as_ref()
            .and_then(|i| i.clock_offset_secs)
            .map(|o| o.to_string())
            .unwrap_or_else(|| "?".into()),
    );
    let table_arn = ResourceArn::table(
        &region.to_ascii_lowercase(),
        &account_of(ev),
        t.keyspace.as_deref().unwrap_or("<keyspace>"),
        t.table.as_deref().unwrap_or("<table>"),
    )
    .arn();
    v.insert("resource", table_arn);
    v.insert("action", "cassandra:Select".into());
    v.insert("policy_arn", "<policy>".into());
    v.insert("sid", "<statement>".into());
    v
}

/// Every finding the evidence supports, before sorting; precedence applied.
pub fn findings(ev: &Evidence) -> Vec<Finding> {
    let mut c = Ctx {
        ev,
        vars: vars(ev),
        out: vec![],
        last: None,
    };
    identity::identity_rules(&mut c);
    identity::service_credential_rules(&mut c);
    config::config_rules(&mut c);
    endpoint::path_rules(&mut c);
    endpoint::tls_rules(&mut c);
    cql::cql_rules(&mut c);
    config::driver_config_rules(&mut c);
    operations::operation_rules(&mut c);
    fail_closed::cut_short(&mut c);
    fail_closed::unexplained_failures(&mut c);
    precedence(c.out)
}

/// Applies the leaves' precedence data: a generic finding that another finding
/// `explains` gives that finding its evidence and is dropped; a `secondary` finding is
/// dropped when a problem ranks before it.
fn precedence(mut out: Vec<Finding>) -> Vec<Finding> {
    let explains = |f: &Finding, generic: LeafId| leaves::get(f.leaf).is_some_and(|l| l.explains.contains(&generic));
    let mut i = 0;
    while i < out.len() {
        let generic = out[i].leaf;
        let by = (0..out.len())
            .filter(|&j| j != i && explains(&out[j], generic))
            .min_by_key(|&j| out[j].rank);
        match by {
            Some(j) => {
                let g = out.remove(i);
                let j = if j > i { j - 1 } else { j };
                for e in g.evidence {
                    if !out[j].evidence.contains(&e) {
                        out[j].evidence.push(e);
                    }
                }
            }
            None => i += 1,
        }
    }
    let problem_ranks: Vec<u32> = out
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .map(|f| f.rank)
        .collect();
    out.retain(|f| {
        let secondary = leaves::get(f.leaf).is_some_and(|l| l.secondary);
        !(secondary && problem_ranks.iter().any(|r| *r < f.rank))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ev: &Evidence) -> Ctx<'_> {
        Ctx {
            ev,
            vars: vars(ev),
            out: vec![],
            last: None,
        }
    }

    fn leaves_of(out: &[Finding]) -> Vec<LeafId> {
        out.iter().map(|f| f.leaf).collect()
    }

    /// Precedence does not depend on the order the rules ran in.
    #[test]
    fn a_specific_finding_absorbs_the_generic_one_in_either_order() {
        let ev = Evidence::default();
        for order in [
            [LeafId::WrongPassword, LeafId::IamUsername],
            [LeafId::IamUsername, LeafId::WrongPassword],
        ] {
            let mut c = ctx(&ev);
            for l in order {
                c.add(l, vec![format!("seen for {l}")], vec![], &[]);
            }
            let out = precedence(c.out);
            assert_eq!(leaves_of(&out), vec![LeafId::IamUsername]);
            assert!(
                out[0].evidence.contains(&"seen for wrong-password".to_string()),
                "{:?}",
                out[0].evidence
            );
        }
    }

    #[test]
    fn a_secondary_finding_yields_to_a_problem_ranked_before_it() {
        let ev = Evidence::default();
        let mut c = ctx(&ev);
        c.add(LeafId::UnexplainedFailure, vec![], vec![], &[]);
        c.add(LeafId::VpcePeers, vec![], vec![], &[]);
        c.add(LeafId::ClockDrift, vec![], vec![], &[]);
        // A warning ranks after both: they stay; the unexplained failure (80) yields to
        // the peers problem (36).
        assert_eq!(
            leaves_of(&precedence(c.out)),
            vec![LeafId::VpcePeers, LeafId::ClockDrift]
        );
        let mut c = ctx(&ev);
        c.add(LeafId::VpcePeers, vec![], vec![], &[]);
        c.add(LeafId::ActionDenied, vec![], vec![], &[]);
        assert_eq!(leaves_of(&precedence(c.out)), vec![LeafId::ActionDenied]);
    }

    #[test]
    fn evidence_added_twice_to_a_leaf_is_kept_once() {
        let ev = Evidence::default();
        let mut c = ctx(&ev);
        c.add(LeafId::PortRefused, vec!["a".into()], vec![], &[]);
        c.add(LeafId::PortRefused, vec!["a".into(), "b".into()], vec![], &[]);
        assert_eq!(c.out.len(), 1);
        assert_eq!(c.out[0].evidence, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(c.last_mut().map(|f| f.leaf), Some(LeafId::PortRefused));
    }
}
