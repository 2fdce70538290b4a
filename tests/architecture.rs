//! The shape of the code, checked: no import cycle among the top-level modules under
//! `src/`, the layering rules between them, no leaf of the decision tree named by a
//! string literal in `src/` (code names leaves as `LeafId`), and small diagnosis files.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its `#[cfg(test)] mod tests` and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level module → the other top-level modules its code names (`crate::x`).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for e in std::fs::read_dir(src()).unwrap().flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            let mut files = vec![];
            rust_files(&p, &mut files);
            modules.insert(name, files);
        } else if name != "lib" && name != "main" && p.extension().is_some_and(|x| x == "rs") {
            modules.insert(name, vec![p]);
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let path_re = regex::Regex::new(r"crate::(\w+)").unwrap();
    let group_re = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let word_re = regex::Regex::new(r"(?m)(?:^|[{,\s])(\w+)").unwrap();
    let mut out = BTreeMap::new();
    for (m, files) in &modules {
        let mut uses = BTreeSet::new();
        for f in files {
            let c = code(f);
            for cap in path_re.captures_iter(&c) {
                uses.insert(cap[1].to_string());
            }
            for cap in group_re.captures_iter(&c) {
                for w in word_re.captures_iter(&cap[1]) {
                    uses.insert(w[1].to_string());
                }
            }
        }
        uses.retain(|u| u != m && names.contains(u));
        out.insert(m.clone(), uses);
    }
    out
}

#[test]
fn no_import_cycle_among_top_level_modules() {
    let g = imports();
    assert!(g.len() >= 15, "{g:?}");
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        trail: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = trail.iter().position(|t| t == n) {
            let mut cycle = trail[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        trail.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, trail, done) {
                return Some(c);
            }
        }
        trail.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(cycle) = visit(n, &g, &mut vec![], &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn layers_import_only_what_they_may() {
    let g = imports();
    let forbidden: &[(&str, &[&str])] = &[
        ("diagnosis", &["probe", "tui", "lab", "target", "train", "report"]),
        ("probe", &["lab", "tui", "report", "train"]),
        ("report", &["tui", "probe", "lab"]),
        ("evidence", &["probe", "diagnosis", "tui", "lab"]),
    ];
    let mut wrong = vec![];
    for (m, banned) in forbidden {
        let uses = g.get(*m).unwrap_or_else(|| panic!("module {m} exists"));
        for b in *banned {
            if uses.contains(*b) {
                wrong.push(format!("{m} imports {b}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn no_leaf_id_is_a_string_literal_in_src() {
    let leaves =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/tree/leaves.toml")).unwrap();
    let ids: Vec<String> = regex::Regex::new(r#"(?m)^id = "([^"]+)""#)
        .unwrap()
        .captures_iter(&leaves)
        .map(|c| c[1].to_string())
        .collect();
    assert!(ids.len() >= 70);
    // Cause names that are also leaf names may appear where the causes are defined.
    let causes: Vec<&str> = keyspaces_doctor::diagnosis::Cause::all()
        .iter()
        .map(|c| c.as_str())
        .collect();
    let mut files = vec![];
    rust_files(&src(), &mut files);
    let mut found = vec![];
    for f in files {
        let c = code(&f);
        let defines_causes = c.contains("pub enum Cause");
        for id in &ids {
            if c.contains(&format!("\"{id}\"")) && !(defines_causes && causes.contains(&id.as_str())) {
                found.push(format!("{}: \"{id}\"", f.strip_prefix(src()).unwrap().display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "leaf ids written as string literals (use LeafId): {found:?}"
    );
}

#[test]
fn diagnosis_files_stay_small() {
    let mut files = vec![];
    rust_files(&src().join("diagnosis"), &mut files);
    for f in files {
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        assert!(n <= 500, "{} has {n} lines (at most 500)", f.display());
    }
}
