//! The lab's STS: `GetCallerIdentity` and `AssumeRole`, answered as STS answers them.
use super::{AwsError, aws_error};
use crate::lab::world::{Identity, World};
use std::collections::BTreeMap;

pub(super) fn get_caller_identity(identity: &Identity) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{{RID}}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        identity.arn, identity.user_id, identity.account
    )
}

pub(super) fn assume_role(
    world: &World,
    identity: &Identity,
    params: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let role = params.get("RoleArn").cloned().unwrap_or_default();
    let session = params
        .get("RoleSessionName")
        .cloned()
        .unwrap_or_else(|| "session".into());
    let (key, arn) = world
        .assume_role(identity, &role, &session)
        .map_err(|m| aws_error(403, "AccessDenied", m))?;
    Ok(format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n      <Arn>{arn}</Arn>\n      <AssumedRoleId>AROA:{session}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{{RID}}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
        key.id,
        key.secret,
        key.session_token.unwrap_or_default(),
        key.expires
            .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    ))
}
