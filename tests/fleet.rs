//! Many hosts: `check --json` reports carry their host and schema version; `summarize`
//! groups them by root cause; `diff` names first what explains the failing host.
mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

fn report(scenario: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let lab = LabProcess::start(scenario);
    let (_, out, err) = run_check(&lab, &["--json"], None);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{scenario}: {e}: {err}"));
    assert_eq!(v["schema_version"], 1);
    assert!(
        v["host"]["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{}",
        v["host"]
    );
    assert!(v["host"]["tool_version"].is_string() && v["host"]["time"].is_string());
    let path = dir.join(format!("{scenario}.json"));
    std::fs::write(&path, out.trim()).unwrap();
    path
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const FAILING: &[(&str, &str, &[&str])] = &[
    ("wrong-password", "invalid-credentials", &["CQL authentication"]),
    (
        "hostname-mismatch",
        "tls-hostname",
        &["name verified", "certificate names", "trust: your CA file"],
    ),
    ("clock-skew", "clock-skew", &["clock offset from STS"]),
    (
        "missing-select",
        "missing-permission",
        &[
            "CQL read table",
            "policy decision for cassandra:Select on arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders",
        ],
    ),
    ("wrong-signing-region", "wrong-endpoint", &["region"]),
];

#[test]
fn summarize_groups_by_root_cause_and_diff_names_the_cause_first() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = report("healthy", dir.path());
    let mut failing = Vec::new();
    for (scenario, _, _) in FAILING {
        failing.push(report(scenario, dir.path()));
    }
    // A second healthy host: every report counts.
    std::fs::copy(&healthy, dir.path().join("healthy-2.json")).unwrap();

    let (code, out, err) = run(&["summarize", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "problems among the hosts: {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["reports"], 7);
    let groups = v["groups"].as_array().unwrap();
    let ok = groups.iter().find(|g| g["verdict"] == "ok").unwrap();
    assert_eq!(ok["count"], 2);
    assert!(ok["cause"].is_null());
    for (scenario, cause, _) in FAILING {
        let g = groups
            .iter()
            .find(|g| g["cause"] == *cause)
            .unwrap_or_else(|| panic!("a group for {cause}: {out}"));
        assert_eq!(g["count"], 1, "{scenario}: {g}");
    }
    let (_, text, _) = run(&["summarize", dir.path().to_str().unwrap()]);
    assert!(
        text.contains("2 host(s): ok") && text.contains("invalid-credentials"),
        "{text}"
    );

    for ((scenario, _, first), bad) in FAILING.iter().zip(&failing) {
        let (code, out, err) = run(&["diff", "--json", healthy.to_str().unwrap(), bad.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let d = v["differences"].as_array().unwrap();
        let what = d[0]["what"].as_str().unwrap();
        assert!(
            first.contains(&what),
            "{scenario}: first difference {what:?}, expected one of {first:?}: {out}"
        );
        assert!(d[0]["why"].as_str().unwrap().contains("root cause"), "{}", d[0]);
    }
    // A report is hostile input: its verdict is not taken on its word (the evidence is
    // diagnosed again, so an edited "ok" does not pass a failing host), and control
    // characters in its text are escaped before they are shown.
    let mut forged: Value = serde_json::from_str(&std::fs::read_to_string(&failing[0]).unwrap()).unwrap();
    forged["verdict"] = Value::from("ok");
    forged["causes"] = serde_json::json!([]);
    forged["host"]["name"] = Value::from("forged\u{1b}[2Jhost");
    forged["evidence"]["cql"]["auth"]["message"] = Value::from("refused\u{1b}[31m\u{7}");
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let (code, out, _) = run(&["summarize", forged_path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("invalid-credentials") && !out.contains(": ok"), "{out}");
    let (_, out, _) = run(&["diff", healthy.to_str().unwrap(), forged_path.to_str().unwrap()]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("failing: invalid-credentials"), "{out}");
    // No report at all is not a fleet that is fine.
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["summarize", empty.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty() && err.contains("no report"), "{err}");
    // Bad input is a usage error that says what to pass.
    let (code, _, err) = run(&["diff", "/dev/null", healthy.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("report"), "{err}");
}

/// The SSM Command document: schema 2.2's structure (`schemaVersion`, `parameters`,
/// `mainSteps` with `aws:runShellScript`), every parameter constrained by a pattern its
/// default matches, every `{{ Parameter }}` in the script declared and every declared one
/// used; and moto's SSM accepts it with `create-document`.
#[test]
fn the_ssm_document_is_a_schema_2_2_command_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fleet/ssm/keyspaces-doctor-check.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["schemaVersion"], "2.2");
    let params = v["parameters"].as_object().unwrap();
    assert!(params.len() >= 6);
    for (name, p) in params {
        assert_eq!(p["type"], "String", "{name}");
        assert!(p["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
        let pattern = regex::Regex::new(p["allowedPattern"].as_str().unwrap()).unwrap();
        assert!(
            pattern.is_match(p["default"].as_str().unwrap()),
            "{name}: default vs pattern"
        );
        // Nothing a shell acts on gets through a pattern.
        for hostile in ["a'b", "$(id)", "a;b", "`id`", "a b"] {
            assert!(!pattern.is_match(hostile), "{name} admits {hostile:?}");
        }
    }
    let steps = v["mainSteps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["action"], "aws:runShellScript");
    let script: Vec<&str> = steps[0]["inputs"]["runCommand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let used: std::collections::BTreeSet<String> = regex::Regex::new(r"\{\{ *([A-Za-z0-9]+) *\}\}")
        .unwrap()
        .captures_iter(&script.join("\n"))
        .map(|c| c[1].to_string())
        .collect();
    let declared: std::collections::BTreeSet<String> = params.keys().cloned().collect();
    assert_eq!(used, declared);
    assert!(
        script.iter().any(|l| l.contains("sha256sum -c")),
        "the fetched binary is verified"
    );
    assert!(script.iter().any(|l| l.contains("check --json")));
    // As SSM renders it with the defaults, the script is valid sh.
    let mut rendered = script.join("\n");
    for (name, p) in params {
        let re = regex::Regex::new(&format!(r"\{{\{{ *{name} *\}}\}}")).unwrap();
        rendered = re.replace_all(&rendered, p["default"].as_str().unwrap()).into_owned();
    }
    let syntax = Command::new("sh").args(["-n", "-c", &rendered]).output().unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));

    let (_moto, url) = Moto::start(None);
    let content = format!("file://{}", path.display());
    let out = aws_cli(
        &[
            "ssm",
            "create-document",
            "--name",
            "KeyspacesDoctorCheck",
            "--document-type",
            "Command",
            "--document-format",
            "JSON",
            "--content",
            &content,
            "--endpoint-url",
            &url,
        ],
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["DocumentDescription"]["SchemaVersion"], "2.2", "{created}");
    assert_eq!(created["DocumentDescription"]["DocumentType"], "Command");
}

/// Every lab scenario's report validates against the JSON Schema shipped in
/// `assets/schema/report.schema.json` (checked by the `jsonschema` package, draft
/// 2020-12, formats on), and a report with a verdict the schema does not know does not.
#[test]
fn every_scenario_report_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = keyspaces_doctor::lab::scenario::all()
        .unwrap()
        .into_iter()
        .filter(|s| !s.hostile)
        .map(|s| s.name)
        .collect();
    for chunk in names.chunks(3) {
        std::thread::scope(|s| {
            for n in chunk {
                let d = dir.path();
                s.spawn(move || report(n, d));
            }
        });
    }
    let bad = dir.path().join("zz-bad.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("healthy.json")).unwrap()).unwrap();
    v["verdict"] = Value::from("maybe");
    std::fs::write(&bad, v.to_string()).unwrap();
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schema/report.schema.json");
    let script = r#"
import json, pathlib, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
for p in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
    errors = [e.message for e in v.iter_errors(json.load(open(p)))]
    print(json.dumps({"report": p.name, "errors": errors[:3]}))
"#;
    let out = Command::new(peers_bin().join("python"))
        .args(["-c", script])
        .arg(&schema)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), names.len() + 1, "{results:?}");
    for r in &results {
        let errors = r["errors"].as_array().unwrap();
        if r["report"] == "zz-bad.json" {
            assert!(!errors.is_empty(), "an unknown verdict must not validate");
        } else {
            assert!(errors.is_empty(), "{r}");
        }
    }
}

/// The check flags and environment of a lab's client block, as a host's Ansible vars.
fn host_vars(lab: &LabProcess, python: &std::path::Path) -> Value {
    let env: serde_json::Map<String, Value> = client_env(lab)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
    serde_json::json!({
        "ansible_connection": "local",
        "ansible_python_interpreter": python.display().to_string(),
        "kd_args": client_flags(lab),
        "kd_environment": env,
    })
}

/// The Ansible role and playbook on four local hosts, each with its own environment
/// pointing at another lab scenario: the binary installed (checksum-verified), each
/// host's report fetched, and `summarize` on the controller groups them by root cause;
/// no secret in Ansible's output; a second run installs nothing again.
#[test]
fn ansible_checks_four_hosts_and_summarizes_them() {
    use sha2::Digest;
    let venv = venv_bin("ansible-venv", &["ansible-core==2.18.1"]);
    let scenarios = [
        ("healthy", None),
        ("wrong-password", Some("invalid-credentials")),
        ("missing-select", Some("missing-permission")),
        ("hostname-mismatch", Some("tls-hostname")),
    ];
    let labs: Vec<LabProcess> = scenarios.iter().map(|(s, _)| LabProcess::start(s)).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut hosts = serde_json::Map::new();
    for ((scenario, _), lab) in scenarios.iter().zip(&labs) {
        hosts.insert(format!("host-{scenario}"), host_vars(lab, &venv.join("python")));
    }
    let inventory = dir.path().join("inventory.json");
    std::fs::write(
        &inventory,
        serde_json::json!({"all": {"children": {"keyspaces_clients": {"hosts": hosts}}}}).to_string(),
    )
    .unwrap();
    let binary = bin();
    let sha = hex::encode(sha2::Sha256::digest(std::fs::read(&binary).unwrap()));
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let playbook = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fleet/ansible/playbook.yml");
    let run = || {
        Command::new(venv.join("ansible-playbook"))
            .args(["-i", inventory.to_str().unwrap(), playbook.to_str().unwrap()])
            .args(["-e", &format!("keyspaces_doctor_binary={}", binary.display())])
            .args(["-e", &format!("keyspaces_doctor_sha256={sha}")])
            .args(["-e", &format!("reports_dir={}", reports.display())])
            .args([
                "-e",
                &format!(
                    "kd_install_path={}",
                    dir.path().join("installed-keyspaces-doctor").display()
                ),
            ])
            .env("ANSIBLE_LOCAL_TEMP", dir.path().join("ansible-local"))
            .env("ANSIBLE_REMOTE_TEMP", dir.path().join("ansible-remote"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_HOST_KEY_CHECKING", "False")
            .env("ANSIBLE_PYTHON_INTERPRETER", venv.join("python"))
            .output()
            .unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for lab in &labs {
        for s in lab_secrets(lab) {
            assert!(!stdout.contains(&s), "a secret in Ansible's output");
        }
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("reports-summary.json")).unwrap()).unwrap();
    assert_eq!(summary["reports"], 4, "{summary}");
    for (scenario, cause) in scenarios {
        let g = summary["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| match cause {
                Some(c) => g["cause"] == c,
                None => g["verdict"] == "ok",
            })
            .unwrap_or_else(|| panic!("{scenario}: {summary}"));
        assert_eq!(
            g["hosts"],
            serde_json::json!([format!("host-{scenario}")]),
            "{scenario}: {g}"
        );
    }
    // Again: the verified binary is already in place, so it is not installed twice.
    let again = run();
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{stdout}");
    let install: Vec<&str> = stdout.lines().filter(|l| l.contains("Install the binary")).collect();
    assert!(!install.is_empty());
    let recap = stdout
        .lines()
        .skip_while(|l| !l.starts_with("TASK [keyspaces_doctor : Install"))
        .take(6)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!recap.contains("changed:"), "{recap}");
}
