//! The lab's AWS endpoint (HTTP on loopback): routes each request, after its SigV4
//! signature is verified (`sigv4`), to STS (`sts`), IAM (`iam`) or CloudTrail
//! (`cloudtrail`), and answers AWS's error shapes (query-protocol XML, JSON-protocol
//! `__type`) with a `Date` from the lab's clock. Owns the HTTP surface only; identities
//! and decisions come from the world.
mod cloudtrail;
mod iam;
mod sigv4;
mod sts;

use super::scenario::Misbehavior;
use super::world::World;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::net::TcpListener;

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

pub(super) struct AwsError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

pub(super) fn aws_error(status: u16, code: &'static str, message: impl Into<String>) -> AwsError {
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

pub(super) fn xml_escape(s: &str) -> String {
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
    let identity = sigv4::authenticate(&parts, &body, world, now)?;
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return match target.rsplit('.').next() {
            Some("LookupEvents") => cloudtrail::lookup_events(world, &identity, &body),
            _ => Err(aws_error(
                400,
                "UnknownOperationException",
                format!("Unknown operation {target}"),
            )),
        };
    }
    match params.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => Ok(sts::get_caller_identity(&identity)),
        Some("AssumeRole") => sts::assume_role(world, &identity, &params),
        Some(action) if iam::ACTIONS.contains(&action) => iam::handle(world, &identity, action, &params),
        Some(other) => Err(aws_error(
            400,
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
        None => Err(aws_error(400, "MissingAction", "Missing Action")),
    }
}
