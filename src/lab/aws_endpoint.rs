//! The lab's AWS endpoint (HTTP on loopback): STS `GetCallerIdentity` and `AssumeRole`
//! with every request's SigV4 signature verified over exactly the headers it signed,
//! answering AWS's error codes and texts, and a `Date` from the lab's clock.
//! Owns the HTTP surface only; identities and decisions come from the world.
use super::scenario::Misbehavior;
use super::world::{Identity, KeyProblem, World};
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::net::TcpListener;

const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
const MAX_BODY: usize = 64 * 1024;

pub async fn serve(listener: TcpListener, world: Arc<World>, misbehave: Option<Misbehavior>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let world = world.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let world = world.clone();
                async move {
                    let resp = match misbehave {
                        Some(Misbehavior::StsMalformed) => Response::builder()
                            .status(200)
                            .header("content-type", "text/xml")
                            .body(Full::new(Bytes::from_static(
                                b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>",
                            )))
                            .unwrap_or_default(),
                        Some(Misbehavior::Sts5xx) => Response::builder()
                            .status(503)
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(b"Service Unavailable")))
                            .unwrap_or_default(),
                        _ => handle(req, &world).await,
                    };
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

struct AwsError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn aws_error(status: u16, code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        code,
        message: message.into(),
    }
}

fn request_id() -> String {
    let n: u128 = rand::random();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn handle(req: Request<Incoming>, world: &World) -> Response<Full<Bytes>> {
    let now = world.now();
    let rid = request_id();
    // CloudTrail speaks the JSON protocol (X-Amz-Target); STS and IAM the query protocol.
    let json = req.headers().contains_key("x-amz-target");
    let (status, body) = match process(req, world, now).await {
        Ok(xml) => (StatusCode::OK, xml.replace("{RID}", &rid)),
        Err(e) if json => (
            e.status,
            serde_json::json!({"__type": e.code, "message": e.message}).to_string(),
        ),
        Err(e) => (
            e.status,
            format!(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n",
                e.code,
                xml_escape(&e.message)
            ),
        ),
    };
    Response::builder()
        .status(status)
        .header(
            "content-type",
            if json { "application/x-amz-json-1.1" } else { "text/xml" },
        )
        .header("x-amzn-requestid", &rid)
        .header("date", now.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn process(req: Request<Incoming>, world: &World, now: DateTime<Utc>) -> Result<String, AwsError> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| aws_error(413, "RequestEntityTooLarge", "Request body too large"))?
        .to_bytes();
    let query = parts.uri.query().unwrap_or("");
    let mut params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    params.extend(form_urlencoded::parse(&body).into_owned());
    let identity = authenticate(&parts, &body, world, now)?;
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return match target.rsplit('.').next() {
            Some("LookupEvents") => lookup_events(world, &identity, &body),
            _ => Err(aws_error(
                400,
                "UnknownOperationException",
                format!("Unknown operation {target}"),
            )),
        };
    }
    match params.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => Ok(format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{{RID}}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
            identity.arn, identity.user_id, identity.account
        )),
        Some("AssumeRole") => {
            let role = params.get("RoleArn").cloned().unwrap_or_default();
            let session = params
                .get("RoleSessionName")
                .cloned()
                .unwrap_or_else(|| "session".into());
            let (key, arn) = world
                .assume_role(&identity, &role, &session)
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
        Some(action) if IAM_ACTIONS.contains(&action) => iam(world, &identity, action, &params),
        Some(other) => Err(aws_error(
            400,
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
        None => Err(aws_error(400, "MissingAction", "Missing Action")),
    }
}

struct AuthHeader {
    access_key: String,
    datestamp: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(v: &str) -> Option<AuthHeader> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let mut cred = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(',') {
        let (k, val) = part.trim().split_once('=')?;
        match k {
            "Credential" => cred = Some(val.to_string()),
            "SignedHeaders" => signed = Some(val.to_string()),
            "Signature" => sig = Some(val.to_string()),
            _ => {}
        }
    }
    let cred = cred?;
    let mut c = cred.split('/');
    Some(AuthHeader {
        access_key: c.next()?.into(),
        datestamp: c.next()?.into(),
        region: c.next()?.into(),
        service: c.next()?.into(),
        signed_headers: signed?.split(';').map(str::to_string).collect(),
        signature: sig?,
    })
}

fn header(parts: &hyper::http::request::Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn authenticate(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    world: &World,
    now: DateTime<Utc>,
) -> Result<Identity, AwsError> {
    let missing = || {
        aws_error(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
    };
    let auth = header(parts, "authorization").ok_or_else(missing)?;
    let a = parse_authorization(&auth).ok_or_else(|| {
        aws_error(
            400,
            "IncompleteSignature",
            format!("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={auth}"),
        )
    })?;
    let token = header(parts, "x-amz-security-token");
    let (secret, identity) = world
        .resolve_key(&a.access_key, token.as_deref())
        .map_err(|p| match p {
            KeyProblem::Expired => aws_error(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
            ),
            KeyProblem::UnknownKey | KeyProblem::TokenMismatch => aws_error(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        })?;
    let amz_date = header(parts, "x-amz-date").unwrap_or_default();
    let t = NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .map(|n| n.and_utc())
        .map_err(|_| aws_error(400, "IncompleteSignature", "Missing or malformed X-Amz-Date header"))?;
    let fmt = |d: DateTime<Utc>| d.format("%Y%m%dT%H%M%SZ").to_string();
    let window = chrono::Duration::minutes(15);
    if t < now - window {
        return Err(aws_error(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                fmt(t),
                fmt(now - window),
                fmt(now)
            ),
        ));
    }
    if t > now + window {
        return Err(aws_error(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                fmt(t),
                fmt(now + window),
                fmt(now)
            ),
        ));
    }
    let mut canonical_headers = String::new();
    for h in &a.signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(h.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{h}:{}\n", values.join(",")));
    }
    let mut q: Vec<String> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(&k, URI_ENCODE),
                utf8_percent_encode(&v, URI_ENCODE)
            )
        })
        .collect();
    q.sort();
    let payload_hash = header(parts, "x-amz-content-sha256").unwrap_or_else(|| hex::encode(Sha256::digest(body)));
    let path = if parts.uri.path().is_empty() {
        "/"
    } else {
        parts.uri.path()
    };
    let canonical = format!(
        "{}\n{path}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        parts.method,
        q.join("&"),
        a.signed_headers.join(";")
    );
    let scope = format!("{}/{}/{}/aws4_request", a.datestamp, a.region, a.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let day = chrono::NaiveDate::parse_from_str(&a.datestamp, "%Y%m%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .unwrap_or(t);
    let key = aws_sigv4::sign::v4::generate_signing_key(&secret, day.into(), &a.region, &a.service);
    let expected = aws_sigv4::sign::v4::calculate_signature(key, to_sign.as_bytes());
    if expected != a.signature {
        tracing::debug!(target: "keyspaces_doctor::lab", "signature mismatch for {}", a.access_key);
        return Err(aws_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(identity)
}

const IAM_ACTIONS: &[&str] = &[
    "ListServiceSpecificCredentials",
    "PutUserPolicy",
    "GetUserPolicy",
    "GetUser",
    "ListAttachedUserPolicies",
    "ListUserPolicies",
    "ListGroupsForUser",
    "GetPolicy",
    "GetPolicyVersion",
    "ListAttachedRolePolicies",
    "ListRolePolicies",
    "GetRole",
    "SimulatePrincipalPolicy",
];

fn iam_wrap(action: &str, inner: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <{action}Result>\n{inner}\n  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{{RID}}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
    )
}

fn members(items: &[String]) -> String {
    items.iter().map(|i| format!("<member>{i}</member>")).collect()
}

/// IAM reads: a principal may read its own user or role and the policies attached to it.
fn iam(world: &World, caller: &Identity, action: &str, params: &BTreeMap<String, String>) -> Result<String, AwsError> {
    let is_admin = caller.arn == world.admin().identity.arn;
    let denied = |resource: &str| {
        aws_error(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: iam:{action} on resource: {resource}",
                caller.arn
            ),
        )
    };
    let own =
        |kind: &str, name: &str| -> Option<(String, Vec<crate::iam::NamedPolicy>, Option<crate::iam::NamedPolicy>)> {
            if kind == "user" {
                let p = world.principals.iter().find(|p| {
                    p.identity.arn.ends_with(&format!(":user/{name}")) || (p.name == "admin" && name == "doctor-admin")
                })?;
                Some((
                    p.identity.arn.clone(),
                    p.identity.policies.clone(),
                    p.identity.boundary.clone(),
                ))
            } else {
                let r = world.roles.iter().find(|r| r.name == name)?;
                Some((r.arn.clone(), r.policies.clone(), None))
            }
        };
    let may_read = |arn: &str| {
        if world.deny_iam_reads && !is_admin {
            return false;
        }
        is_admin
            || caller.arn == arn
            || (caller.arn.contains(":assumed-role/")
                && arn.contains(":role/")
                && caller
                    .arn
                    .contains(&format!("/{}/", arn.rsplit('/').next().unwrap_or("-"))))
    };
    let user = params
        .get("UserName")
        .cloned()
        .unwrap_or_else(|| caller.arn.rsplit('/').next().unwrap_or_default().to_string());
    match action {
        "SimulatePrincipalPolicy" => {
            let source = params.get("PolicySourceArn").cloned().unwrap_or_default();
            let (kind, name) = match source.split(':').nth(5).and_then(|r| r.split_once('/')) {
                Some((k, n)) => (k.to_string(), n.rsplit('/').next().unwrap_or(n).to_string()),
                None => (String::new(), String::new()),
            };
            let (arn, policies, boundary) = own(&kind, &name)
                .ok_or_else(|| aws_error(404, "NoSuchEntity", format!("The principal {source} cannot be found.")))?;
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            let list = |prefix: &str| -> Vec<String> {
                (1..=100)
                    .map_while(|i| params.get(&format!("{prefix}.member.{i}")).cloned())
                    .collect()
            };
            let mut results = String::new();
            for a in list("ActionNames") {
                for r in list("ResourceArns") {
                    let d = crate::iam::evaluate(&policies, boundary.as_ref(), &a, &r);
                    let decision = d.iam_name();
                    let (by, boundary_allows) = match &d {
                        crate::iam::Decision::Allowed { by } | crate::iam::Decision::ExplicitDeny { by } => {
                            (Some(by), true)
                        }
                        crate::iam::Decision::ImplicitDeny { boundary_blocks, .. } => (None, !boundary_blocks),
                    };
                    let matched = by
                        .map(|b| {
                            format!(
                                "<member><SourcePolicyId>{}</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType><StartPosition><Line>1</Line><Column>1</Column></StartPosition><EndPosition><Line>1</Line><Column>1</Column></EndPosition></member>",
                                xml_escape(b.policy_arn.rsplit('/').next().unwrap_or_default())
                            )
                        })
                        .unwrap_or_default();
                    results.push_str(&format!(
                        "<member><EvalActionName>{}</EvalActionName><EvalResourceName>{}</EvalResourceName><EvalDecision>{decision}</EvalDecision><MatchedStatements>{matched}</MatchedStatements><MissingContextValues/><PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>{boundary_allows}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail></member>",
                        xml_escape(&a),
                        xml_escape(&r)
                    ));
                }
            }
            Ok(iam_wrap(
                action,
                &format!("    <IsTruncated>false</IsTruncated>\n    <EvaluationResults>{results}</EvaluationResults>"),
            ))
        }
        "ListServiceSpecificCredentials" => {
            let p = world
                .principals
                .iter()
                .find(|p| {
                    p.identity.arn.ends_with(&format!(":user/{user}")) || (p.name == "admin" && user == "doctor-admin")
                })
                .ok_or_else(|| {
                    aws_error(
                        404,
                        "NoSuchEntity",
                        format!("The user with name {user} cannot be found."),
                    )
                })?;
            if !may_read(&p.identity.arn) {
                return Err(denied(&p.identity.arn));
            }
            let members: String = p
                .service_credential
                .iter()
                .chain(p.older_ssc.iter())
                .map(|c| {
                    format!(
                        "<member><UserName>{user}</UserName><Status>{}</Status><ServiceUserName>{}</ServiceUserName><CreateDate>{}</CreateDate><ServiceSpecificCredentialId>{}</ServiceSpecificCredentialId><ServiceName>cassandra.amazonaws.com</ServiceName></member>",
                        if c.active { "Active" } else { "Inactive" },
                        c.username,
                        c.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        c.id
                    )
                })
                .collect();
            Ok(iam_wrap(
                action,
                &format!("    <ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"),
            ))
        }
        "PutUserPolicy" | "GetUserPolicy" => {
            let (arn, _, _) = own("user", &user).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The user with name {user} cannot be found."),
                )
            })?;
            let name = params.get("PolicyName").cloned().unwrap_or_default();
            if action == "GetUserPolicy" {
                if !may_read(&arn) {
                    return Err(denied(&arn));
                }
                let p = world
                    .added_policies(&arn)
                    .into_iter()
                    .find(|p| p.arn.ends_with(&format!(" {name}")))
                    .ok_or_else(|| {
                        aws_error(
                            404,
                            "NoSuchEntity",
                            format!("The user policy with name {name} cannot be found."),
                        )
                    })?;
                let doc = serde_json::to_string(&p.document).unwrap_or_default();
                return Ok(iam_wrap(
                    action,
                    &format!(
                        "    <UserName>{user}</UserName>\n    <PolicyName>{name}</PolicyName>\n    <PolicyDocument>{}</PolicyDocument>",
                        utf8_percent_encode(&doc, URI_ENCODE)
                    ),
                ));
            }
            if !caller.decide("iam:PutUserPolicy", &arn).is_allowed() {
                return Err(denied(&arn));
            }
            let doc: crate::iam::PolicyDocument = params
                .get("PolicyDocument")
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| {
                    aws_error(
                        400,
                        "MalformedPolicyDocument",
                        "The policy document is not valid JSON for an IAM policy",
                    )
                })?;
            world.put_user_policy(&arn, &name, doc);
            Ok(iam_wrap(action, ""))
        }
        "GetUser" | "ListAttachedUserPolicies" | "ListUserPolicies" | "ListGroupsForUser" => {
            let (arn, policies, boundary) = own("user", &user).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The user with name {user} cannot be found."),
                )
            })?;
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            let inner = match action {
                "GetUser" => format!(
                    "    <User>\n      <Path>/</Path>\n      <UserName>{user}</UserName>\n      <UserId>AIDALAB{}</UserId>\n      <Arn>{arn}</Arn>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>{}\n    </User>",
                    user.len(),
                    boundary
                        .map(|b| format!("\n      <PermissionsBoundary>\n        <PermissionsBoundaryType>Policy</PermissionsBoundaryType>\n        <PermissionsBoundaryArn>{}</PermissionsBoundaryArn>\n      </PermissionsBoundary>", b.arn))
                        .unwrap_or_default()
                ),
                "ListAttachedUserPolicies" => format!(
                    "    <AttachedPolicies>{}</AttachedPolicies>\n    <IsTruncated>false</IsTruncated>",
                    policies
                        .iter()
                        .map(|p| format!("<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>", p.arn.rsplit('/').next().unwrap_or_default(), p.arn))
                        .collect::<String>()
                ),
                "ListGroupsForUser" => "    <Groups/>\n    <IsTruncated>false</IsTruncated>".to_string(),
                _ => format!(
                    "    <PolicyNames>{}</PolicyNames>\n    <IsTruncated>false</IsTruncated>",
                    members(
                        &world
                            .added_policies(&arn)
                            .iter()
                            .map(|p| p.arn.rsplit(' ').next().unwrap_or_default().to_string())
                            .collect::<Vec<_>>()
                    )
                ),
            };
            Ok(iam_wrap(action, &inner))
        }
        "GetRole" | "ListAttachedRolePolicies" | "ListRolePolicies" => {
            let name = params.get("RoleName").cloned().unwrap_or_default();
            let (arn, policies, _) = own("role", &name).ok_or_else(|| {
                aws_error(
                    404,
                    "NoSuchEntity",
                    format!("The role with name {name} cannot be found."),
                )
            })?;
            if !may_read(&arn) {
                return Err(denied(&arn));
            }
            if action == "GetRole" {
                return Ok(iam_wrap(
                    action,
                    &format!(
                        "    <Role>\n      <Path>/</Path>\n      <RoleName>{name}</RoleName>\n      <RoleId>AROALAB{}</RoleId>\n      <Arn>{arn}</Arn>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </Role>",
                        name.len()
                    ),
                ));
            }
            let inner = if action == "ListRolePolicies" {
                "    <PolicyNames/>\n    <IsTruncated>false</IsTruncated>".to_string()
            } else {
                format!(
                    "    <AttachedPolicies>{}</AttachedPolicies>\n    <IsTruncated>false</IsTruncated>",
                    policies
                        .iter()
                        .map(|p| format!(
                            "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                            p.arn.rsplit('/').next().unwrap_or_default(),
                            p.arn
                        ))
                        .collect::<String>()
                )
            };
            Ok(iam_wrap(action, &inner))
        }
        _ => {
            let parn = params.get("PolicyArn").cloned().unwrap_or_default();
            let holders = world
                .principals
                .iter()
                .map(|p| {
                    (
                        p.identity.arn.clone(),
                        p.identity
                            .policies
                            .iter()
                            .chain(p.identity.boundary.iter())
                            .cloned()
                            .collect::<Vec<_>>(),
                    )
                })
                .chain(world.roles.iter().map(|r| (r.arn.clone(), r.policies.clone())));
            let mut found = None;
            for (holder, ps) in holders {
                if let Some(p) = ps.into_iter().find(|p| p.arn == parn) {
                    if may_read(&holder) {
                        found = Some(p);
                        break;
                    }
                    found = found.or(None);
                }
            }
            let p = found.ok_or_else(|| denied(&parn))?;
            let name = p.arn.rsplit('/').next().unwrap_or_default().to_string();
            let inner = if action == "GetPolicy" {
                format!(
                    "    <Policy>\n      <PolicyName>{name}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n      <PolicyId>ANPALAB{}</PolicyId>\n      <Path>/</Path>\n      <Arn>{}</Arn>\n      <AttachmentCount>1</AttachmentCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n      <UpdateDate>2024-01-01T00:00:00Z</UpdateDate>\n    </Policy>",
                    name.len(),
                    p.arn
                )
            } else {
                let doc = serde_json::to_string(&p.document).unwrap_or_default();
                format!(
                    "    <PolicyVersion>\n      <Document>{}</Document>\n      <VersionId>v1</VersionId>\n      <IsDefaultVersion>true</IsDefaultVersion>\n      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </PolicyVersion>",
                    utf8_percent_encode(&doc, URI_ENCODE)
                )
            };
            Ok(iam_wrap(action, &inner))
        }
    }
}

/// CloudTrail `LookupEvents` over the lab's recorded Keyspaces management events: the
/// `EventSource` attribute and the time window filter, newest first. Every principal may
/// look up events unless the scenario refuses reads.
fn lookup_events(world: &World, caller: &Identity, body: &[u8]) -> Result<String, AwsError> {
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
