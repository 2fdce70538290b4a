//! Renders a diagnosis and its evidence for `check`: readable text, one JSON
//! document, or Markdown. Rendering only: nothing here probes or decides, and
//! nothing here can see a secret (the evidence holds none).
pub mod markdown;
pub mod text;

use crate::diagnosis::Diagnosis;
use crate::evidence::Evidence;

/// The version of the `--json` report's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a report was made, so reports of many hosts can be told apart and grouped.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Host {
    pub name: String,
    pub os: String,
    pub tool_version: String,
    /// When the report was made (RFC 3339, UTC).
    pub time: String,
    /// Kubernetes pod and namespace, where the environment says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The ECS task metadata endpoint, where the environment has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_metadata: Option<String>,
}

impl Host {
    /// This host, from its environment (`HOSTNAME`, else /etc/hostname; the downward
    /// API's `POD_NAME`/`POD_NAMESPACE`; `ECS_CONTAINER_METADATA_URI_V4`).
    pub fn this(env: &dyn Fn(&str) -> Option<String>, now: chrono::DateTime<chrono::Utc>) -> Host {
        let clean = |s: String| crate::outside::text::clean(s.trim());
        let name = env("HOSTNAME")
            .or_else(|| {
                crate::outside::file::read_text(std::path::Path::new("/etc/hostname"), 4096)
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .map(clean)
            .unwrap_or_else(|| "unknown-host".into());
        Host {
            name,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            time: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            pod: env("POD_NAME").map(clean),
            namespace: env("POD_NAMESPACE").map(clean),
            ecs_metadata: env("ECS_CONTAINER_METADATA_URI_V4").map(clean),
        }
    }
}

/// `--json`: verdict, causes (root first), findings, probes and the whole evidence.
pub fn json(d: &Diagnosis, ev: &Evidence) -> String {
    json_from(d, ev, &Host::this(&|k| std::env::var(k).ok(), chrono::Utc::now()))
}

/// `--json` with the host block given.
pub fn json_from(d: &Diagnosis, ev: &Evidence, host: &Host) -> String {
    let v = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "verdict": d.verdict,
        "causes": d.causes,
        "findings": d.findings,
        "probes": ev.probes,
        // The whole evidence, versioned: `Evidence::read` takes it back (fixtures, diffs).
        "evidence": ev,
    });
    serde_json::to_string(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
