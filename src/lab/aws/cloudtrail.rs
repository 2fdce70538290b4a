//! The lab's CloudTrail: `LookupEvents` over the recorded Keyspaces management events.
use super::{AwsError, aws_error};
use crate::lab::world::{Identity, World};

/// CloudTrail `LookupEvents` over the lab's recorded Keyspaces management events: the
/// `EventSource` attribute and the time window filter, newest first. Every principal may
/// look up events unless the scenario refuses reads.
pub(super) fn lookup_events(world: &World, caller: &Identity, body: &[u8]) -> Result<String, AwsError> {
    if world.deny_iam_reads && caller.arn != world.admin().identity.arn {
        return Err(aws_error(
            400,
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action",
                caller.arn
            ),
        ));
    }
    let req: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| aws_error(400, "SerializationException", "the request body is not JSON"))?;
    let source = req["LookupAttributes"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["AttributeKey"] == "EventSource"))
        .and_then(|x| x["AttributeValue"].as_str())
        .map(str::to_string);
    let secs = |k: &str| req[k].as_f64().map(|f| f as i64);
    let (from, to) = (secs("StartTime"), secs("EndTime"));
    let max = req["MaxResults"].as_u64().unwrap_or(50).min(50) as usize;
    let mut events = Vec::new();
    for t in world.trail.iter().rev() {
        let at = t.time.timestamp();
        if source.as_deref().is_some_and(|s| s != "cassandra.amazonaws.com")
            || from.is_some_and(|f| at < f)
            || to.is_some_and(|e| at > e)
        {
            continue;
        }
        let id = format!("{:08x}-lab", (at as u64) ^ (t.event_name.len() as u64));
        let user = t.principal_arn.rsplit('/').next().unwrap_or_default().to_string();
        let record = serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": t.principal_arn, "accountId": t.principal_arn.split(':').nth(4), "userName": user},
            "eventTime": t.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "eventSource": "cassandra.amazonaws.com",
            "eventName": t.event_name,
            "awsRegion": "us-east-1",
            "errorCode": t.error_code,
            "errorMessage": t.error_message,
            "eventID": id,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management"
        });
        events.push(serde_json::json!({
            "EventId": id,
            "EventName": t.event_name,
            "ReadOnly": "true",
            "EventTime": at,
            "EventSource": "cassandra.amazonaws.com",
            "Username": user,
            "Resources": [],
            "CloudTrailEvent": record.to_string()
        }));
        if events.len() == max {
            break;
        }
    }
    Ok(serde_json::json!({"Events": events}).to_string())
}
