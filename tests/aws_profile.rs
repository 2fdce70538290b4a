//! `--profile` as the AWS CLI's: a named profile from the config and credentials files, a
//! profile that does not exist, and a `source_profile`/`role_arn` chain, each checked
//! against the lab with the AWS CLI (botocore) resolving the same profile beside it.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Writes the AWS files for the lab client's keys: `[app]` with the keys, `[profile ops]`
/// assuming `role_arn` with `app` as its source.
fn aws_files(dir: &Path, lab: &LabProcess, role_arn: &str) -> (String, String) {
    let c = lab.client();
    let creds = dir.join("credentials");
    std::fs::write(
        &creds,
        format!(
            "[app]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            c["access_key_id"].as_str().unwrap(),
            c["secret_access_key"].as_str().unwrap()
        ),
    )
    .unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!("[profile app]\nregion = us-east-1\n\n[profile ops]\nregion = us-east-1\nrole_arn = {role_arn}\nsource_profile = app\n"),
    )
    .unwrap();
    (config.display().to_string(), creds.display().to_string())
}

/// `check --profile P` with only the AWS files (no key in the environment).
fn check_with_profile(lab: &LabProcess, profile: &str, files: &(String, String)) -> Value {
    let mut cmd = check_command(lab, &["--json", "--profile", profile], None, None);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_CONFIG_FILE", &files.0)
        .env("AWS_SHARED_CREDENTIALS_FILE", &files.1)
        .env("AWS_ENDPOINT_URL_STS", lab.json["sts"].as_str().unwrap());
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `aws sts get-caller-identity --profile P` with the same files and endpoint.
fn cli_with_profile(lab: &LabProcess, profile: &str, files: &(String, String)) -> std::process::Output {
    Command::new(peers_bin().join("aws"))
        .args(["sts", "get-caller-identity", "--profile", profile, "--output", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", lab.dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &files.0)
        .env("AWS_SHARED_CREDENTIALS_FILE", &files.1)
        .env("AWS_ENDPOINT_URL_STS", lab.json["sts"].as_str().unwrap())
        .output()
        .unwrap()
}

#[test]
fn a_named_profile_supplies_the_keys_as_for_the_aws_cli() {
    let lab = LabProcess::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let files = aws_files(dir.path(), &lab, "arn:aws:iam::111122223333:role/None");
    let v = check_with_profile(&lab, "app", &files);
    let caller = v["evidence"]["identity"]["caller"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        caller.starts_with("arn:aws:iam::111122223333:user/"),
        "{}",
        v["evidence"]["identity"]
    );
    assert_eq!(
        v["evidence"]["identity"]["credential_source"],
        "shared profile (~/.aws)"
    );
    assert_eq!(v["verdict"], "ok", "{}", v["findings"]);
    let out = cli_with_profile(&lab, "app", &files);
    let cli: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        cli["Arn"].as_str(),
        Some(caller.as_str()),
        "the AWS CLI resolves the same principal"
    );
}

#[test]
fn a_missing_profile_fails_as_for_the_aws_cli() {
    let lab = LabProcess::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let files = aws_files(dir.path(), &lab, "arn:aws:iam::111122223333:role/None");
    let v = check_with_profile(&lab, "nosuch", &files);
    assert_eq!(v["verdict"], "problems");
    let chain = v["evidence"]["identity"]["chain_error"].as_str().unwrap_or_default();
    assert!(chain.contains("nosuch"), "the error names the profile: {chain}");
    let out = cli_with_profile(&lab, "nosuch", &files);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));
}

#[test]
fn a_source_profile_role_chain_is_followed_as_by_the_aws_cli() {
    // The scenario's role does not trust the caller's account: both must be refused.
    let lab = LabProcess::start("cross-account-denied");
    let dir = tempfile::tempdir().unwrap();
    let role = "arn:aws:iam::111122223333:role/KeyspacesAccess";
    let files = aws_files(dir.path(), &lab, role);
    let v = check_with_profile(&lab, "ops", &files);
    assert_eq!(v["verdict"], "problems");
    let identity = v["evidence"]["identity"].to_string();
    assert!(
        identity.contains("AccessDenied") || identity.contains("not authorized"),
        "{identity}"
    );
    let out = cli_with_profile(&lab, "ops", &files);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AccessDenied") || err.contains("not authorized"), "{err}");
}

#[test]
fn plugin_regions_come_from_what_is_really_configured() {
    let lab = LabProcess::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let files = aws_files(dir.path(), &lab, "arn:aws:iam::111122223333:role/None");
    let rc = dir.path().join("cqlshrc");
    std::fs::write(
        &rc,
        "[auth_provider]\nmodule = cassandra_sigv4.auth\nclassname = SigV4AuthProvider\nregion_name = us-east-1\n",
    )
    .unwrap();
    let region_of = |v: &Value, plugin: &str| -> (Value, String) {
        let p = v["evidence"]["identity"]["plugin_regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["plugin"].as_str().unwrap().starts_with(plugin))
            .unwrap()
            .clone();
        (p["region"].clone(), p["source"].as_str().unwrap().to_string())
    };
    // The profile's region: the SDK-based plugins (Python, Java) find it.
    let v = check_with_profile(&lab, "app", &files);
    assert_eq!(
        region_of(&v, "Python").0,
        "us-east-1",
        "{}",
        v["evidence"]["identity"]["plugin_regions"]
    );
    assert_eq!(region_of(&v, "Java").0, "us-east-1");
    assert_eq!(region_of(&v, "Node").0, Value::Null);
    // The cqlshrc's region_name: the Python plugin under cqlsh finds it.
    let mut cmd = check_command(&lab, &["--json", "--cqlshrc", rc.to_str().unwrap()], None, None);
    let out = cmd.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (region, source) = region_of(&v, "Python");
    assert_eq!(region, "us-east-1");
    assert!(source.contains("cqlshrc region_name"), "{source}");
}
