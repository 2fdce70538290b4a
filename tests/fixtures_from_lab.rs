//! The evidence fixtures (`tests/fixtures/evidence/<scenario>.json`) stay true to the
//! lab: every non-hostile scenario is checked live with its client block, and the
//! findings (leaf, cause, severity, in order) must equal those its fixture yields
//! offline. A missing or stale fixture fails here.
//!
//! Write the missing and stale ones from the lab with
//! `UPDATE_FIXTURES=1 cargo test --test fixtures_from_lab`, or every one with
//! `UPDATE_FIXTURES=all` (ports and timings differ on each run, so the others are kept).
mod common;
use common::*;
use keyspaces_doctor::diagnosis;
use keyspaces_doctor::evidence::Evidence;
use serde_json::Value;
use std::path::PathBuf;

fn fixture_path(scenario: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/evidence/{scenario}.json"))
}

/// (severity, leaf, cause) per finding, in order.
fn shape(findings: &[diagnosis::Finding]) -> Vec<String> {
    finding_shape(findings)
}

fn live(scenario: &str) -> Value {
    let lab = LabProcess::start(scenario);
    let (_, out, err) = run_check(&lab, &["--json"], None);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{scenario}: check --json ({e}): {out}\n{err}"))
}

#[test]
fn every_fixture_matches_its_live_scenario() {
    let update = std::env::var("UPDATE_FIXTURES").ok();
    let names: Vec<String> = keyspaces_doctor::lab::scenario::all()
        .expect("scenarios parse")
        .into_iter()
        .filter(|s| !s.hostile)
        .map(|s| s.name)
        .collect();
    // Three at a time: each is a lab process and a check process.
    let mut failures = Vec::new();
    for chunk in names.chunks(3) {
        let runs: Vec<(String, Value)> = std::thread::scope(|s| {
            let hs: Vec<_> = chunk.iter().map(|n| s.spawn(move || (n.clone(), live(n)))).collect();
            hs.into_iter().map(|h| h.join().expect("scenario thread")).collect()
        });
        for (name, v) in runs {
            let evidence_json = serde_json::to_string_pretty(&v["evidence"]).unwrap();
            let live_ev = Evidence::read(&evidence_json).unwrap_or_else(|e| panic!("{name}: {e}"));
            let live_shape = shape(&diagnosis::evaluate(&live_ev).findings);
            let reported: Vec<String> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {}",
                        f["severity"].as_str().unwrap(),
                        f["leaf"].as_str().unwrap(),
                        f["cause"].as_str().unwrap()
                    )
                })
                .collect();
            assert_eq!(
                live_shape, reported,
                "{name}: the evidence read back diagnoses as check reported"
            );
            let path = fixture_path(&name);
            let problem = match std::fs::read_to_string(&path) {
                Err(e) => Some(format!("{name}: no fixture at {} ({e})", path.display())),
                Ok(text) => match Evidence::read(&text) {
                    Err(e) => Some(format!("{}: {e}", path.display())),
                    Ok(fixed) => {
                        let fixed_shape = shape(&diagnosis::evaluate(&fixed).findings);
                        (fixed_shape != live_shape)
                            .then(|| format!("{name}: fixture {fixed_shape:?}, live {live_shape:?}"))
                    }
                },
            };
            match (&update, problem) {
                (Some(all), _) if all == "all" => std::fs::write(&path, evidence_json + "\n").unwrap(),
                (Some(_), Some(_)) => std::fs::write(&path, evidence_json + "\n").unwrap(),
                (None, Some(p)) => failures.push(p),
                (_, None) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "stale or missing fixtures (regenerate with UPDATE_FIXTURES=1 cargo test --test fixtures_from_lab):\n{}",
        failures.join("\n")
    );
}
