//! Embeds every data file under `assets/` that the binary needs, so adding a scenario
//! or a tree record is adding a file; and names every leaf of the decision tree as a
//! variant of `LeafId`, so a leaf named in code but missing from the data fails to compile.
use std::{env, fs, path::Path};

fn embed(dir: &str, ext: &str, static_name: &str, out: &mut String) {
    println!("cargo:rerun-if-changed={dir}");
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join(dir);
    let mut files: Vec<_> = fs::read_dir(&root)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == ext));
    files.sort();
    out.push_str(&format!("pub static {static_name}: &[(&str, &str)] = &[\n"));
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        println!("cargo:rerun-if-changed={}", f.display());
        out.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
}

/// `wrong-password` → `WrongPassword`.
fn variant(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The `id = "..."` of every `[[leaf]]` record in `assets/tree/leaves*.toml`.
fn leaf_ids() -> Vec<String> {
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("assets/tree");
    let mut files: Vec<_> = fs::read_dir(&root)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "toml")
            && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("leaves"))
    });
    files.sort();
    let mut ids = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        let mut in_leaf = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_leaf = line == "[[leaf]]";
            } else if in_leaf && let Some(rest) = line.strip_prefix("id = \"") {
                let id = rest.trim_end_matches('"').to_string();
                assert!(
                    id.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "leaf id {id:?} in {}: lower case, digits and '-' only",
                    f.display()
                );
                assert!(!ids.contains(&id), "leaf id {id:?} defined twice");
                ids.push(id);
            }
        }
    }
    ids
}

fn leaf_enum(ids: &[String]) -> String {
    let mut out = String::from(
        "/// A leaf of the decision tree, one per record of `assets/tree/leaves*.toml`.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum LeafId {\n",
    );
    for id in ids {
        out.push_str(&format!("    /// `{id}`\n    {},\n", variant(id)));
    }
    out.push_str("}\n\nimpl LeafId {\n    pub const ALL: &'static [LeafId] = &[\n");
    for id in ids {
        out.push_str(&format!("        LeafId::{},\n", variant(id)));
    }
    out.push_str("    ];\n\n    /// The id as the data files and reports write it.\n    pub fn as_str(self) -> &'static str {\n        match self {\n");
    for id in ids {
        out.push_str(&format!("            LeafId::{} => {id:?},\n", variant(id)));
    }
    out.push_str("        }\n    }\n}\n");
    out
}

fn main() {
    let mut out = String::new();
    embed("assets/scenarios", "toml", "SCENARIO_FILES", &mut out);
    embed("assets/roots", "pem", "ROOT_FILES", &mut out);
    embed("assets/tree", "toml", "TREE_FILES", &mut out);
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("assets.rs"), out).unwrap();
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("leaf_id.rs"),
        leaf_enum(&leaf_ids()),
    )
    .unwrap();
}
