//! Renders a diagnosis and its evidence for `check`: readable text, one JSON
//! document, or Markdown. Rendering only: nothing here probes or decides, and
//! nothing here can see a secret (the evidence holds none).
pub mod markdown;
pub mod text;

use crate::diagnosis::Diagnosis;
use crate::evidence::Evidence;

/// `--json`: verdict, causes (root first), findings, probes and the whole evidence.
pub fn json(d: &Diagnosis, ev: &Evidence) -> String {
    let v = serde_json::json!({
        "verdict": d.verdict,
        "causes": d.causes,
        "findings": d.findings,
        "probes": ev.probes,
        // The whole evidence, versioned: `Evidence::read` takes it back (fixtures, diffs).
        "evidence": ev,
    });
    serde_json::to_string(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
