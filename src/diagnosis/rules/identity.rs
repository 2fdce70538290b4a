//! Rules on the AWS identity: the credential chain, what STS answered (expired,
//! unknown or mis-signed keys, the clock), an assumed role, the SigV4 plugins' regions,
//! and the user's service-specific credentials as IAM lists them.
use super::{Ctx, step};
use crate::diagnosis::leaves::LeafId;
use crate::evidence::{AuthMode, Evidence};

/// Service-specific credentials as IAM lists them: Inactive, or due for rotation.
pub(super) fn service_credential_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(r) = ev.identity.as_ref().and_then(|i| i.service_credentials.as_ref()) else {
        return;
    };
    if r.unreadable.is_some() {
        return;
    }
    let Some(user) = ev.target.username.clone() else { return };
    let mine: Vec<_> = r.credentials.iter().filter(|x| x.service_user_name == user).collect();
    let auth_ok = ev.cql.as_ref().and_then(|q| q.auth.as_ref()).is_some_and(|a| a.ok);
    let count = r.credentials.len().to_string();
    if ev.target.auth == AuthMode::Password
        && !auth_ok
        && !mine.is_empty()
        && mine.iter().all(|x| !x.status.eq_ignore_ascii_case("active"))
    {
        let id = mine[0].id.clone();
        c.add(
            LeafId::SscInactive,
            vec![format!("IAM lists {} for {user} with status {}", id, mine[0].status)],
            vec![step(
                "Is the service-specific credential in use Active?",
                "no: Inactive",
            )],
            &[("ssc_id", id), ("ssc_count", count.clone())],
        );
    }
    // The title names the credential in use; other stale ones of the user are evidence.
    let others: Vec<String> = r
        .credentials
        .iter()
        .filter(|x| x.service_user_name != user && x.age_days > 90)
        .map(|x| {
            format!(
                "also stale, not the one in use: {} ({}, {}) is {} days old",
                x.id, x.service_user_name, x.status, x.age_days
            )
        })
        .collect();
    if let Some(old) = mine.iter().filter(|x| x.age_days > 90).max_by_key(|x| x.age_days) {
        let mut evidence = vec![format!(
            "{} for {user}, the credential in use, was created {} days ago; the user holds {count} of the 2 allowed",
            old.id, old.age_days
        )];
        evidence.extend(others);
        c.add(
            LeafId::SscStale,
            evidence,
            vec![step(
                "Is the credential younger than 90 days?",
                format!("no: {} days", old.age_days),
            )],
            &[
                ("ssc_id", old.id.clone()),
                ("age_days", old.age_days.to_string()),
                ("ssc_count", count),
            ],
        );
    }
}

fn sts_code(ev: &Evidence) -> Option<(String, String)> {
    let e = ev.identity.as_ref()?.sts_error.as_ref()?;
    Some((e.code.clone().unwrap_or_default(), e.message.clone()))
}

pub(super) fn identity_rules(c: &mut Ctx<'_>) {
    let ev = c.ev;
    let Some(id) = &ev.identity else { return };
    let sigv4 = ev.target.auth == AuthMode::SigV4;
    if let Some(a) = &id.assume_role
        && let Some(e) = &a.error
    {
        c.add(
            LeafId::AssumeRoleDenied,
            vec![format!(
                "sts:AssumeRole {}: {} {}",
                a.role_arn,
                e.code.clone().unwrap_or_default(),
                e.message
            )],
            vec![
                step("Is a role assumed first?", format!("yes: {}", a.role_arn)),
                step(
                    "Did STS allow AssumeRole?",
                    format!("no: {}", e.code.clone().unwrap_or_default()),
                ),
            ],
            &[],
        );
        let caller_account = id
            .caller
            .as_ref()
            .map(|c| c.account.clone())
            .unwrap_or_else(|| "<caller-account-id>".into());
        if let Some(f) = c.finding_mut(LeafId::AssumeRoleDenied) {
            f.missing = Some(format!(
                "a trust-policy statement on {} that lets account {caller_account} assume it (and sts:AssumeRole in the caller's own policy)",
                a.role_arn
            ));
            f.statement = Some(serde_json::json!({
                "sid": "TrustCallerAccount",
                "json": {"Sid": "TrustCallerAccount", "Effect": "Allow",
                         "Principal": {"AWS": format!("arn:aws:iam::{caller_account}:root")},
                         "Action": "sts:AssumeRole"}
            }));
        }
    }
    let offset = id.clock_offset_secs.unwrap_or(0);
    let sts = sts_code(ev);
    let time_msg = sts
        .as_ref()
        .is_some_and(|(_, m)| m.contains("Signature expired") || m.contains("not yet current"));
    if offset.abs() > 900 || time_msg {
        c.add(
            LeafId::ClockSkew,
            vec![format!(
                "STS's clock differs from this host's by {offset} s{}",
                sts.as_ref()
                    .filter(|_| time_msg)
                    .map(|(code, m)| format!("; STS answered {code}: {m}"))
                    .unwrap_or_default()
            )],
            vec![
                step("How far is this host's clock from AWS's?", format!("{offset} s")),
                step("Is that beyond SigV4's 15-minute window?", "yes"),
            ],
            &[],
        );
    } else if offset.abs() > 60 {
        c.add(
            LeafId::ClockDrift,
            vec![format!("STS's clock differs from this host's by {offset} s")],
            vec![step("How far is this host's clock from AWS's?", format!("{offset} s"))],
            &[],
        );
    }
    if let Some(err) = &id.chain_error {
        let leaf = if sigv4 {
            LeafId::NoAwsCredentials
        } else {
            LeafId::NoAwsCredentialsPasswordMode
        };
        c.add(
            leaf,
            vec![err.lines().next().unwrap_or_default().to_string()],
            vec![step("Did the AWS credential chain supply credentials?", "no")],
            &[],
        );
    }
    // Mixed keys break only what signs with them: the connection when it uses SigV4.
    if let Some(m) = id.mixed_credentials.as_ref().filter(|_| sigv4) {
        c.add(
            LeafId::MixedCredentials,
            vec![m.clone()],
            vec![step("Is a session token paired with a long-term key?", "yes")],
            &[],
        );
    }
    if let Some(e) = &id.sts_error
        && e.code.is_none()
        && sigv4
    {
        let what = match e.http_status {
            Some(st) if st >= 500 => format!("STS answered {st}"),
            Some(st) => format!("STS answered with a body that is not STS XML (HTTP {st})"),
            None => "STS could not be reached".to_string(),
        };
        if e.http_status.is_some() {
            c.add(
                LeafId::StsUnusable,
                vec![format!("{what}: {}", e.message.chars().take(200).collect::<String>())],
                vec![step("Does STS answer GetCallerIdentity with STS XML?", "no")],
                &[],
            );
        }
    }
    if let Some((code, msg)) = sts
        && !time_msg
        && sigv4
    {
        let leaf = match code.as_str() {
            "ExpiredToken" | "RequestExpired" => Some(LeafId::ExpiredSessionToken),
            "SignatureDoesNotMatch" => Some(LeafId::Sigv4BadSecret),
            "InvalidClientTokenId" | "UnrecognizedClientException" => Some(LeafId::UnknownAccessKey),
            _ => None,
        };
        if let Some(leaf) = leaf {
            c.add(
                leaf,
                vec![format!(
                    "STS GetCallerIdentity with key ...{} answered {code}: {msg}",
                    id.access_key_last4.clone().unwrap_or_default()
                )],
                vec![
                    step(
                        "Did the AWS credential chain supply credentials?",
                        format!("yes, from {}", id.credential_source.clone().unwrap_or_default()),
                    ),
                    step("Does STS accept them?", format!("no: {code}")),
                ],
                &[],
            );
        }
    }
    if sigv4 && id.caller.is_some() {
        for p in id.plugin_regions.iter().filter(|p| p.region.is_none()) {
            c.add(
                LeafId::PluginRegionUnset,
                vec![format!("{} would find no region ({})", p.plugin, p.source)],
                vec![step("Would each SigV4 plugin find a region?", "not all")],
                &[],
            );
        }
    }
}
