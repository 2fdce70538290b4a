//! Driver configuration lint: reads the files a client really deploys (a Java driver
//! `application.conf`, a cqlshrc), checks them against Keyspaces' rules and against
//! what the probes saw, and reports each problem with its line and its leaf. Reads
//! files only; findings are made by the diagnosis, never here.
pub mod cqlsh;
pub mod hocon;
pub mod java;
pub mod truststore;

use crate::evidence::{ConfigProblem, DriverConfigReport};
use crate::leaf_id::LeafId;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};

/// Larger files are not driver configurations.
const MAX_BYTES: u64 = 4 << 20;

/// What the configuration is checked against: the endpoint being diagnosed and the
/// chain it served.
pub struct Expect<'a> {
    /// Where the files (the configuration, its truststore) are read from.
    pub files: &'a dyn crate::outside::file::Files,
    /// The environment (`PATH`, to find the cqlsh that would read a cqlshrc).
    pub env: &'a crate::outside::Env,
    pub host: &'a str,
    pub port: u16,
    pub region: Option<&'a str>,
    pub tls_name: &'a str,
    pub chain: &'a [CertificateDer<'static>],
}

/// Whether `path` can be linted at all (a usage error otherwise).
pub fn readable(path: &Path) -> Result<(), String> {
    crate::outside::file::readable_text(path, MAX_BYTES)
}

fn is_cqlshrc(path: &Path, text: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.contains("cqlshrc")
        || (!name.ends_with(".conf")
            && text.lines().any(|l| {
                matches!(
                    l.trim(),
                    "[connection]" | "[authentication]" | "[ssl]" | "[auth_provider]"
                )
            }))
}

/// Reads and lints one file.
pub fn inspect(path: &Path, expect: &Expect<'_>) -> DriverConfigReport {
    let text = expect.files.read_text(path, MAX_BYTES).unwrap_or_default();
    if is_cqlshrc(path, &text) {
        cqlsh::lint(path, &text, expect)
    } else {
        java::lint(path, &text, expect)
    }
}

/// A path from a configuration file: as the client would resolve it (relative to the
/// working directory), else relative to the configuration's own directory.
pub fn resolve_relative(config: &Path, p: &str) -> PathBuf {
    let raw = crate::cqlshrc::expand_home(p);
    if raw.is_absolute() || raw.exists() {
        return raw;
    }
    config
        .parent()
        .map(|d| d.join(&raw))
        .filter(|j| j.exists())
        .unwrap_or(raw)
}

pub(crate) fn problem(
    leaf: LeafId,
    line: Option<usize>,
    setting: &str,
    value: Option<&str>,
    detail: String,
) -> ConfigProblem {
    ConfigProblem {
        leaf,
        line,
        setting: setting.into(),
        value: value.map(str::to_string),
        detail,
    }
}

/// The truststore's own problems, as lint problems on the line that names it.
pub(crate) fn truststore_problems(
    ts: &crate::evidence::TruststoreReport,
    line: Option<usize>,
    setting: &str,
    out: &mut Vec<ConfigProblem>,
) {
    if let Some(why) = &ts.unreadable {
        let leaf = if ts.format == truststore::Format::Jks.name() {
            LeafId::ConfTruststoreJks
        } else {
            LeafId::ConfTruststoreUnreadable
        };
        out.push(problem(
            leaf,
            line,
            setting,
            Some(&ts.path),
            format!("{}: {why}", ts.path),
        ));
        return;
    }
    let served_fails = ts.verifies_endpoint == Some(false);
    if !ts.has_ats || served_fails {
        let held = if ts.certificates.is_empty() {
            "nothing".to_string()
        } else {
            ts.certificates.join(", ")
        };
        let mut detail = format!("{} ({}) holds: {held}", ts.path, ts.format);
        if !ts.has_ats {
            detail.push_str("; none of Amazon Root CA 1-4");
        }
        match (ts.verifies_endpoint, &ts.detail) {
            (Some(false), Some(d)) => detail.push_str(&format!("; the chain the endpoint served does not verify against it ({d})")),
            (Some(true), _) => detail.push_str("; the chain served now still verifies, but not the Amazon Trust Services chains Keyspaces is moving to"),
            _ => {}
        }
        out.push(problem(
            LeafId::ConfTruststoreMissingRoots,
            line,
            setting,
            Some(&ts.path),
            detail,
        ));
    }
}
