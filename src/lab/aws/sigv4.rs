//! SigV4 verification of the lab's AWS requests: the `Authorization` header parsed,
//! the canonical request rebuilt over exactly the headers it signed, the key and the
//! time checked, with AWS's error codes and texts. Decides who sent a request; knows
//! nothing of the APIs behind it.
use super::{AwsError, aws_error};
use crate::lab::world::{Identity, KeyProblem, World};
use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

pub(super) const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

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

pub(super) fn authenticate(
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
