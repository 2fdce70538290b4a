//! Embeds every data file under `assets/` that the binary needs, so adding a scenario
//! or a tree record is adding a file.
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

fn main() {
    let mut out = String::new();
    embed("assets/scenarios", "toml", "SCENARIO_FILES", &mut out);
    embed("assets/roots", "pem", "ROOT_FILES", &mut out);
    embed("assets/tree", "toml", "TREE_FILES", &mut out);
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("assets.rs"), out).unwrap();
}
