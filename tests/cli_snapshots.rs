//! The interface cannot drift unnoticed: `--help`, completions and the man page are
//! snapshot-tested; `--version` names the embedded roots; the binary links only libc.
mod common;
use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(common::bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", run(&["--help"]));
    insta::assert_snapshot!("check_help", run(&["check", "--help"]));
    insta::assert_snapshot!("lab_help", run(&["lab", "--help"]));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        insta::assert_snapshot!(format!("completions_{shell}"), run(&["completions", shell]));
    }
    insta::assert_snapshot!("man", run(&["man"]));
}

#[test]
fn version_names_the_embedded_roots() {
    let v = run(&["--version"]);
    assert!(v.starts_with(&format!("keyspaces-doctor {}", env!("CARGO_PKG_VERSION"))));
    for root in ["Amazon_Root_CA_1", "Amazon_Root_CA_4", "Starfield_Class_2_CA"] {
        assert!(v.contains(root), "{v}");
    }
    // Amazon Root CA 1's well-known SHA-256 fingerprint.
    assert!(
        v.contains("8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"),
        "{v}"
    );
}

#[test]
fn binary_links_only_the_c_runtime() {
    let out = Command::new("ldd").arg(common::bin()).output().expect("ldd");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        let lib = line.split_whitespace().next().unwrap_or_default();
        let ok = [
            "linux-vdso",
            "libc.so",
            "libm.so",
            "libgcc_s",
            "libpthread",
            "libdl",
            "ld-linux",
            "librt",
            "/lib64/ld-linux",
        ]
        .iter()
        .any(|p| lib.contains(p));
        assert!(ok, "unexpected dynamic dependency: {line}");
    }
    assert!(!text.contains("libssl") && !text.contains("libpython"), "{text}");
}
