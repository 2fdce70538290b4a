//! `explain`: from any pasted error text to the most likely cause and its fix, by
//! walking the decision tree as far as the text allows, offline. Honest about
//! ambiguity: ranked candidates and the questions that remain.
use crate::diagnosis::leaves::{self, LeafId};
use crate::diagnosis::tree::{self, Tree};
use crate::diagnosis::{Cause, PathStep};
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Pasted text beyond this is ignored (a log excerpt, not a whole log).
pub const MAX_INPUT: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub cause: Cause,
    pub leaf: LeafId,
    pub title: String,
    pub score: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub cause: Cause,
    pub leaf: Option<LeafId>,
    pub title: String,
    pub fix: Vec<String>,
    pub commands: Vec<String>,
    pub doc: Option<String>,
    pub retry: Option<String>,
    pub path: Vec<PathStep>,
    pub open_questions: Vec<String>,
    pub candidates: Vec<Candidate>,
    /// Said when the input was longer than `explain` reads (its start and its end are read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_cut: Option<String>,
    /// The branches the text decided, as (node id, branch index), for the walk.
    #[serde(skip)]
    pub trail: Vec<(String, usize)>,
    /// The node whose question the text could not answer, if the walk stopped at one.
    #[serde(skip)]
    pub stopped_at: Option<String>,
    /// Other distinct errors in the same paste, each explained on its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<OtherError>,
}

/// Another error of the same paste and the leaf its own line leads to.
#[derive(Debug, Clone, Serialize)]
pub struct OtherError {
    pub excerpt: String,
    pub cause: Cause,
    pub leaf: LeafId,
    pub title: String,
}

/// The part of a long input that `explain` reads: its first and its last
/// `MAX_INPUT / 2` bytes (errors sit at the end of logs), with a note of the cut.
pub struct Input {
    pub text: String,
    pub cut: Option<String>,
}

/// Reads `r` to its end (at most `MAX_STREAM` bytes), keeping only the start and the end.
pub fn read_input(r: impl std::io::Read) -> Input {
    use std::io::Read;
    const MAX_STREAM: u64 = 256 << 20;
    let half = MAX_INPUT / 2;
    let mut head = Vec::with_capacity(half);
    let mut tail = std::collections::VecDeque::with_capacity(half);
    let mut total: u64 = 0;
    let mut buf = [0u8; 64 * 1024];
    let mut r = r.take(MAX_STREAM);
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n as u64;
        let mut chunk = &buf[..n];
        if head.len() < half {
            let take = (half - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        for &b in chunk {
            if tail.len() == half {
                tail.pop_front();
            }
            tail.push_back(b);
        }
    }
    let kept = (head.len() + tail.len()) as u64;
    let mut text = String::from_utf8_lossy(&head).into_owned();
    let cut = (total > kept).then(|| {
        format!(
            "the input was {total} bytes{}; explain read its first {} and its last {} bytes and skipped the {} between",
            if total >= MAX_STREAM { " or more" } else { "" },
            head.len(),
            tail.len(),
            total - kept
        )
    });
    if !tail.is_empty() {
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(tail.make_contiguous()));
    }
    Input { text, cut }
}

/// Values quoted in the text that make the fix concrete.
pub fn extract_vars(text: &str) -> BTreeMap<&'static str, String> {
    static RX: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    let rx = RX.get_or_init(|| {
        [
            ("username", r"[Pp]rovided username (\S+) and/or"),
            (
                "principal_arn",
                r"User:? (arn:aws[\w-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]+)",
            ),
            ("caller_arn", r"User:? (arn:aws[\w-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]+)"),
            ("action", r"to perform: ((?:cassandra|sts|iam|ec2):\w+)"),
            ("resource", r"on resource: (arn:[\w:/*.-]+[\w*/])"),
            (
                "role_arn",
                r"on resource: (arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+)",
            ),
            ("account", r"arn:aws[\w-]*:(?:iam|cassandra:[a-z0-9-]+)::?(\d{12})"),
            ("region", r"cassandra[.-](?:fips\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)"),
            ("host", r"(cassandra(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)"),
            ("keyspace", r"/keyspace/([\w]+)/"),
            ("table", r"/table/(\w+)"),
        ]
        .into_iter()
        .filter_map(|(k, p)| Regex::new(p).ok().map(|r| (k, r)))
        .collect()
    });
    let mut v: BTreeMap<&'static str, String> = [
        ("host", "cassandra.<region>.amazonaws.com"),
        ("port", "9142"),
        ("region", "<region>"),
        ("endpoint_region", "<endpoint-region>"),
        ("signing_region", "<signing-region>"),
        ("username", "<username>"),
        ("iam_user", "<iam-user>"),
        ("account", "<account-id>"),
        ("keyspace", "<keyspace>"),
        ("table", "<table>"),
        ("action", "cassandra:Select"),
        ("resource", "<resource-arn>"),
        ("principal_arn", "<principal-arn>"),
        ("tls_name", "cassandra.<region>.amazonaws.com"),
        ("ca_file", "<ca-file>"),
        ("role_arn", "<role-arn>"),
        ("caller_arn", "<caller-arn>"),
        ("offset", "<offset>"),
        ("policy_arn", "<policy-arn>"),
        ("sid", "<statement>"),
        ("cert_names", "<the names in the certificate>"),
    ]
    .into_iter()
    .map(|(k, d)| (k, d.to_string()))
    .collect();
    for (k, r) in rx {
        if let Some(m) = r.captures(text).and_then(|c| c.get(1)) {
            v.insert(k, crate::outside::text::clean_to(m.as_str(), 256));
        }
    }
    if let Some(u) = v.get("username").cloned()
        && let Some((name, acct)) = u.rsplit_once("-at-")
    {
        v.insert("iam_user", name.to_string());
        v.insert("account", acct.to_string());
    }
    if let Some(p) = v.get("principal_arn").cloned()
        && let Some(u) = p.split(":user/").nth(1)
    {
        v.insert("iam_user", u.rsplit('/').next().unwrap_or(u).to_string());
    }
    if v["region"] != "<region>" {
        let r = v["region"].clone();
        v.insert("endpoint_region", r.clone());
        if v["host"].contains("<region>") {
            v.insert("host", format!("cassandra.{r}.amazonaws.com"));
        }
        v.insert("tls_name", format!("cassandra.{r}.amazonaws.com"));
    }
    v
}

/// Whether a text reads like an error report at all (so a bare "hello" stays unknown
/// with nothing to suggest).
fn looks_like_an_error(spaced: &str) -> bool {
    static RX: OnceLock<Option<Regex>> = OnceLock::new();
    RX.get_or_init(|| {
        regex::RegexBuilder::new(
            r"error|exception|fail|refus|denied|invalid|timed? ?out|unable|cannot|can't|could not|not found|expired|unauthori[sz]ed|ssl|tls|certificate|credential|cassandra|keyspace|aws",
        )
        .case_insensitive(true)
        .build()
        .ok()
    })
    .as_ref()
    .is_some_and(|r| r.is_match(spaced))
}

/// Folds whitespace so wrapped, multi-line pastes match single-line patterns.
pub fn normalize(text: &str) -> (String, String) {
    let cut = if text.len() > MAX_INPUT {
        let mut i = MAX_INPUT;
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        &text[..i]
    } else {
        text
    };
    let spaced = cut.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined: String = cut.lines().map(str::trim).collect::<Vec<_>>().join("");
    (spaced, joined)
}

fn matches(b: &tree::Branch, spaced: &str, joined: &str) -> usize {
    b.patterns()
        .iter()
        .filter(|r| r.is_match(spaced) || r.is_match(joined))
        .count()
}

fn candidate(leaf: LeafId, score: u32, vars: &BTreeMap<&'static str, String>) -> Option<Candidate> {
    let l = leaves::get(leaf)?;
    Some(Candidate {
        cause: l.cause,
        leaf: l.id,
        title: leaves::fill(&l.title, vars),
        score,
    })
}

fn ranked(t: &Tree, branches: &[&tree::Branch], vars: &BTreeMap<&'static str, String>) -> Vec<Candidate> {
    let mut scores: BTreeMap<LeafId, u32> = BTreeMap::new();
    for b in branches {
        for (leaf, w) in t.leaves_under(&b.spec, 0) {
            let e = scores.entry(leaf).or_insert(0);
            *e = (*e).max(w);
        }
    }
    let mut out: Vec<Candidate> = scores.into_iter().filter_map(|(l, s)| candidate(l, s, vars)).collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.leaf.cmp(&b.leaf)));
    out
}

/// Explains `text` with the embedded tree, then each other distinct error the paste
/// holds (its own lines), ranked after the main one.
pub fn explain(text: &str) -> Explanation {
    let unwrapped = unwrap_json_escapes(text);
    let mut e = explain_with(tree::tree(), &unwrapped);
    e.also = others(&unwrapped, &e);
    e
}

/// A JSON log line carries its stack trace with escaped newlines and quotes (`\n`,
/// `\t`, `\"`): they are turned back into what they stand for, so `Caused by:` chains
/// and multi-line messages read as the program printed them.
pub fn unwrap_json_escapes(text: &str) -> String {
    if !text.contains("\\n") && !text.contains("\\t") {
        return text.to_string();
    }
    text.replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\"", "\"")
}

/// The other distinct errors of a paste: each line that reads like an error and that
/// the tree decides on its own, when it lands on another leaf than the main answer (at
/// most five, in the order they appear).
fn others(text: &str, main: &Explanation) -> Vec<OtherError> {
    let mut out: Vec<OtherError> = Vec::new();
    // The main answer's leaf (decided, else its first candidate) is not repeated.
    let mut seen: Vec<LeafId> = main
        .leaf
        .or_else(|| main.candidates.first().map(|c| c.leaf))
        .into_iter()
        .collect();
    if text.lines().filter(|l| !l.trim().is_empty()).count() < 2 {
        return out;
    }
    for line in text.lines().map(str::trim).filter(|l| l.len() > 12).take(400) {
        if out.len() >= 5 {
            break;
        }
        if !looks_like_an_error(line) {
            continue;
        }
        let e = explain_with(tree::tree(), line);
        let Some(leaf) = e.leaf.filter(|l| !seen.contains(l)) else {
            continue;
        };
        seen.push(leaf);
        out.push(OtherError {
            excerpt: crate::outside::text::clean(&line.chars().take(160).collect::<String>()),
            cause: e.cause,
            leaf,
            title: e.title,
        });
    }
    out
}

pub fn explain_with(t: &Tree, text: &str) -> Explanation {
    let (spaced, joined) = normalize(text);
    let vars = extract_vars(&spaced);
    let mut path = Vec::new();
    let mut node = t.root();
    let mut decided: Option<LeafId> = None;
    let mut open_questions = Vec::new();
    let mut candidates = Vec::new();
    let mut trail: Vec<(String, usize)> = Vec::new();
    let mut stopped_at: Option<String> = None;
    let mut steps = 0;
    while let Some(n) = node {
        steps += 1;
        if steps > 64 {
            break;
        }
        let hits: Vec<(&tree::Branch, usize)> = n
            .branches
            .iter()
            .map(|b| (b, matches(b, &spaced, &joined)))
            .filter(|(_, h)| *h > 0)
            .collect();
        let targets: Vec<(Option<&String>, Option<&LeafId>)> = hits
            .iter()
            .map(|(b, _)| (b.spec.next.as_ref(), b.spec.leaf.as_ref()))
            .collect();
        let same_target = targets.windows(2).all(|w| w[0] == w[1]);
        match hits.as_slice() {
            [] => {
                stopped_at = Some(n.spec.id.clone());
                open_questions.push(n.spec.ask.clone());
                if n.spec.id != "root" {
                    let all: Vec<&tree::Branch> = n.branches.iter().collect();
                    candidates = ranked(t, &all, &vars);
                }
                break;
            }
            [(b, _), ..] if hits.len() == 1 || same_target => {
                if let Some(i) = n.branches.iter().position(|x| std::ptr::eq(x, *b)) {
                    trail.push((n.spec.id.clone(), i));
                }
                path.push(PathStep {
                    question: n.spec.question.clone(),
                    answer: b.spec.answer.clone(),
                });
                if let Some(l) = &b.spec.leaf {
                    decided = Some(*l);
                    break;
                }
                node = b.spec.next.as_deref().and_then(|id| t.node(id));
            }
            _ => {
                stopped_at = Some(n.spec.id.clone());
                let bs: Vec<&tree::Branch> = hits.iter().map(|(b, _)| *b).collect();
                candidates = ranked(t, &bs, &vars);
                open_questions.push(n.spec.ask.clone());
                path.push(PathStep {
                    question: n.spec.question.clone(),
                    answer: format!(
                        "ambiguous: {}",
                        hits.iter()
                            .map(|(b, _)| b.spec.answer.as_str())
                            .collect::<Vec<_>>()
                            .join(" | ")
                    ),
                });
                break;
            }
        }
    }
    let leaf = decided.and_then(leaves::get);
    if let Some(l) = leaf {
        candidates = vec![candidate(l.id, 100, &vars)].into_iter().flatten().collect();
    }
    // Nothing specific decided: the generic shape of the innermost error, whatever wraps it.
    let mut family_cause = None;
    if leaf.is_none()
        && candidates.is_empty()
        && let Some(f) = crate::diagnosis::families::recognise(text)
    {
        family_cause = Some(f.cause);
        path.push(PathStep {
            question: "What generic kind of error is it, whatever driver or SDK wraps it?".into(),
            answer: f.answer.clone(),
        });
        candidates = std::iter::once(&f.leaf)
            .chain(f.alternatives.iter())
            .enumerate()
            .filter_map(|(i, l)| candidate(*l, 90u32.saturating_sub(20 * i as u32), &vars))
            .collect();
        open_questions = vec![f.question.clone()];
    }
    // Still nothing, but the text is an error of some kind: never an empty answer. The
    // commonest causes are ranked with the question and command that decide them; the
    // cause stays unknown.
    let fallback = leaf.is_none() && candidates.is_empty() && looks_like_an_error(&spaced);
    if fallback {
        candidates = [
            LeafId::TcpTimeout,
            LeafId::CaMissingRoot,
            LeafId::WrongPassword,
            LeafId::NoAwsCredentials,
            LeafId::ActionDenied,
        ]
        .iter()
        .enumerate()
        .filter_map(|(i, l)| candidate(*l, 30u32.saturating_sub(5 * i as u32), &vars))
        .collect();
        open_questions.push(
            "Run `keyspaces-doctor check` from the host that fails: it tries DNS, TCP, TLS, identity and CQL in turn and names the first step that breaks."
                .into(),
        );
    }
    let best = if fallback {
        None
    } else {
        leaf.or_else(|| candidates.first().and_then(|c| leaves::get(c.leaf)))
    };
    let fill = |s: &String| leaves::fill(s, &vars);
    match best {
        Some(l) => Explanation {
            cause: family_cause.unwrap_or(l.cause),
            leaf: leaf.map(|l| l.id),
            title: fill(&l.title),
            fix: l.fix.iter().map(fill).collect(),
            commands: l.commands.iter().map(|c| leaves::fill_command(c, &vars).0).collect(),
            doc: Some(l.doc.clone()),
            retry: Some(l.retry.clone()),
            path,
            open_questions,
            candidates,
            input_cut: None,
            trail,
            stopped_at,
            also: vec![],
        },
        None => Explanation {
            cause: Cause::Unknown,
            leaf: None,
            title: "No known Keyspaces authentication, permission or TLS error was recognised".into(),
            fix: leaves::get(LeafId::Unknown)
                .map(|l| l.fix.iter().map(fill).collect())
                .unwrap_or_default(),
            commands: vec![],
            doc: leaves::get(LeafId::Unknown).map(|l| l.doc.clone()),
            retry: None,
            path,
            open_questions,
            candidates,
            input_cut: None,
            trail,
            stopped_at,
            also: vec![],
        },
    }
}

/// Plain text for a person in a terminal.
pub fn render_text(e: &Explanation) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    if let Some(cut) = &e.input_cut {
        let _ = writeln!(o, "Note: {cut}\n");
    }
    let _ = writeln!(o, "Most likely cause: {} — {}", e.cause.as_str(), e.title);
    if !e.path.is_empty() {
        let _ = writeln!(o, "\nHow the text was read:");
        for s in &e.path {
            let _ = writeln!(o, "  - {} → {}", s.question, s.answer);
        }
    }
    if !e.candidates.is_empty() && (e.candidates.len() > 1 || e.leaf.is_none()) {
        let _ = writeln!(o, "\nCandidates, most likely first:");
        for c in &e.candidates {
            let _ = writeln!(o, "  - [{}] {} ({})", c.score, c.title, c.cause.as_str());
        }
    }
    if !e.open_questions.is_empty() {
        let _ = writeln!(o, "\nWhat would decide it:");
        for q in &e.open_questions {
            let _ = writeln!(o, "  ? {q}");
        }
    }
    if !e.fix.is_empty() {
        let _ = writeln!(
            o,
            "\nFix{}:",
            if e.leaf.is_some() {
                ""
            } else {
                " (for the most likely cause)"
            }
        );
        for s in &e.fix {
            let _ = writeln!(o, "  * {s}");
        }
        for c in &e.commands {
            match leaves::line_kind(c) {
                leaves::LineKind::Shell => {
                    let _ = writeln!(o, "    $ {c}");
                }
                leaves::LineKind::Config => {
                    let _ = writeln!(o, "      {c}");
                }
            }
        }
    }
    if let Some(r) = &e.retry {
        let _ = writeln!(o, "\nRetry: {r}");
    }
    if let Some(d) = &e.doc {
        let _ = writeln!(o, "Doc: {d}");
    }
    if !e.also.is_empty() {
        let _ = writeln!(o, "\nAlso in this paste (each explained on its own):");
        for a in &e.also {
            let _ = writeln!(o, "  - {} — {}\n    from: {}", a.cause.as_str(), a.title, a.excerpt);
        }
    }
    o
}
