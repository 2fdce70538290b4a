//! CloudTrail pointers: `LookupEvents` for the principal's recent Keyspaces management
//! events that carry an error code, and the CloudTrail Lake query for DML data events,
//! which `LookupEvents` never returns. Never required: says why when it cannot ask.
use super::identity::{SigningKeys, sdk_error};
use crate::evidence::{CloudTrailReport, TrailEvent};
use crate::target::Target;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

const LOOK_BACK_HOURS: u32 = 24;
const EVENT_SOURCE: &str = "cassandra.amazonaws.com";

fn client(target: &Target, conf: &aws_types::SdkConfig, keys: &SigningKeys) -> Client {
    let creds = keys.credentials();
    let region = target
        .host_region
        .clone()
        .or_else(|| target.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let mut b = aws_sdk_cloudtrail::config::Builder::from(conf)
        .credentials_provider(creds)
        .region(aws_config::Region::new(region));
    if let Some(u) = &target.aws_endpoint {
        b = b.endpoint_url(u);
    }
    Client::from_conf(b.build())
}

/// The CloudTrail Lake query that finds the principal's failed Keyspaces calls,
/// data events included (they need an event data store that collects them).
pub fn lake_query(principal_arn: &str, since: chrono::DateTime<chrono::Utc>) -> String {
    // The ARN came from STS or a server message: only a well-formed one is pasted in.
    let principal = if crate::outside::shell::is_arn(principal_arn) {
        crate::outside::shell::sql_literal(principal_arn)
    } else {
        "<principal-arn>".to_string()
    };
    format!(
        "SELECT eventTime, eventName, errorCode, errorMessage, requestParameters FROM <event-data-store-id> WHERE eventSource = '{EVENT_SOURCE}' AND userIdentity.arn = '{principal}' AND errorCode IS NOT NULL AND eventTime > '{}' ORDER BY eventTime DESC LIMIT 50",
        since.format("%Y-%m-%d %H:%M:%S")
    )
}

/// Whether an event was made by the principal; for a role session, by any session of
/// the same role (its `sessionIssuer` is the role, whatever the path).
fn by_principal(event: &serde_json::Value, principal_arn: &str) -> bool {
    let arn = event["userIdentity"]["arn"].as_str().unwrap_or_default();
    if arn == principal_arn {
        return true;
    }
    let parts: Vec<&str> = principal_arn.split(':').collect();
    let Some(role) = parts
        .get(5)
        .and_then(|r| r.strip_prefix("assumed-role/"))
        .and_then(|r| r.split('/').next())
    else {
        return false;
    };
    let account = parts.get(4).copied().unwrap_or_default();
    let issuer = event["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
        .as_str()
        .unwrap_or_default();
    issuer.contains(&format!(":iam::{account}:role/")) && issuer.ends_with(&format!("/{role}"))
}

pub async fn probe(
    target: &Target,
    conf: &aws_types::SdkConfig,
    keys: &SigningKeys,
    principal_arn: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> CloudTrailReport {
    let mut report = CloudTrailReport {
        principal_arn: principal_arn.into(),
        looked_back_hours: LOOK_BACK_HOURS,
        events: vec![],
        unavailable: None,
        lake_query: lake_query(principal_arn, now - chrono::Duration::hours(i64::from(LOOK_BACK_HOURS))),
    };
    let attribute = match LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value(EVENT_SOURCE)
        .build()
    {
        Ok(a) => a,
        Err(e) => {
            report.unavailable = Some(e.to_string());
            return report;
        }
    };
    let since = now - chrono::Duration::hours(i64::from(LOOK_BACK_HOURS));
    let call = client(target, conf, keys)
        .lookup_events()
        .lookup_attributes(attribute)
        .start_time(aws_smithy_types::DateTime::from_secs(since.timestamp()))
        .end_time(aws_smithy_types::DateTime::from_secs(now.timestamp()))
        .max_results(50)
        .send();
    match tokio::time::timeout(target.step_timeout, call).await {
        Err(_) => report.unavailable = Some("CloudTrail did not answer within the timeout".into()),
        Ok(Err(e)) => report.unavailable = Some(format!("cloudtrail:LookupEvents: {}", sdk_error(&e).message)),
        Ok(Ok(out)) => {
            for e in out.events() {
                let Some(raw) = e.cloud_trail_event() else { continue };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
                    continue;
                };
                let Some(code) = v["errorCode"].as_str() else { continue };
                if !by_principal(&v, principal_arn) {
                    continue;
                }
                report.events.push(TrailEvent {
                    time: v["eventTime"].as_str().unwrap_or_default().to_string(),
                    event_name: e.event_name().unwrap_or_default().to_string(),
                    error_code: code.to_string(),
                    error_message: v["errorMessage"].as_str().map(str::to_string),
                });
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sessions_match_their_role_whatever_the_path() {
        let event = serde_json::json!({"userIdentity": {"arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_1234/alice",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_1234"}}}});
        assert!(by_principal(
            &event,
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_1234/bob"
        ));
        assert!(!by_principal(
            &event,
            "arn:aws:sts::111122223333:assumed-role/Other/bob"
        ));
        assert!(!by_principal(
            &event,
            "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Dev_1234/bob"
        ));
        let user = serde_json::json!({"userIdentity": {"arn": "arn:aws:iam::111122223333:user/app"}});
        assert!(by_principal(&user, "arn:aws:iam::111122223333:user/app"));
        assert!(!by_principal(&user, "arn:aws:iam::111122223333:user/other"));
    }

    #[test]
    fn the_lake_query_quotes_the_principal() {
        let q = lake_query("arn:aws:iam::111122223333:user/app", chrono::Utc::now());
        assert!(
            q.contains("userIdentity.arn = 'arn:aws:iam::111122223333:user/app'"),
            "{q}"
        );
        let q = lake_query("arn:aws:iam::111122223333:user/x' OR '1'='1", chrono::Utc::now());
        assert!(q.contains("userIdentity.arn = '<principal-arn>'"), "{q}");
    }
}
