//! The SigV4 exchange Amazon Keyspaces uses inside CQL authentication: signing a
//! challenge nonce (client side) and checking a signed response (the lab's side).
//! Pure functions over strings and times; no I/O, no credential lookup.
use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The first AUTH_RESPONSE a SigV4 client sends.
pub const INITIAL_RESPONSE: &[u8] = b"SigV4\0\0";
/// Signatures are valid this long around the signing time (`X-Amz-Expires`).
pub const VALIDITY_SECS: i64 = 900;

const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChallengeError {
    #[error("the server's challenge is not text")]
    NotText,
    #[error("the server's challenge has no nonce= field (got {0} bytes)")]
    NoNonce(usize),
    #[error("the server's nonce has {0} characters, expected 32")]
    NonceLength(usize),
}

/// Extracts the nonce from an AUTH_CHALLENGE body such as `nonce=<32 chars>`.
pub fn parse_nonce(challenge: &[u8]) -> Result<String, ChallengeError> {
    let text = std::str::from_utf8(challenge).map_err(|_| ChallengeError::NotText)?;
    let rest = text
        .split(',')
        .find_map(|part| part.trim().strip_prefix("nonce="))
        .ok_or(ChallengeError::NoNonce(challenge.len()))?;
    if rest.chars().count() != 32 {
        return Err(ChallengeError::NonceLength(rest.chars().count()));
    }
    Ok(rest.to_string())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as the AWS plugins send it.
pub fn amz_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The signature over a nonce, computed over `amzdate` exactly as it is written.
pub fn signature(access_key_id: &str, secret: &str, region: &str, nonce: &str, amzdate: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(amzdate).ok()?.with_timezone(&Utc);
    let datestamp = t.format("%Y%m%d").to_string();
    let scope = format!("{datestamp}/{region}/cassandra/aws4_request");
    let mut query = [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256".to_string(),
        format!(
            "X-Amz-Credential={access_key_id}%2F{}",
            utf8_percent_encode(&scope, URI_ENCODE)
        ),
        format!("X-Amz-Date={}", utf8_percent_encode(amzdate, URI_ENCODE)),
        "X-Amz-Expires=900".to_string(),
    ];
    query.sort();
    let canonical = format!(
        "PUT\n/authenticate\n{}\nhost:cassandra\n\nhost\n{}",
        query.join("&"),
        hex::encode(Sha256::digest(nonce.as_bytes()))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amzdate}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, t.into(), region, "cassandra");
    Some(aws_sigv4::sign::v4::calculate_signature(key, to_sign.as_bytes()))
}

/// The second AUTH_RESPONSE: `signature=..,access_key=..,amzdate=..[,session_token=..]`.
pub fn response(
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
    region: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> String {
    let amzdate = amz_date(now);
    let sig = signature(access_key_id, secret, region, nonce, &amzdate).unwrap_or_default();
    let mut out = format!("signature={sig},access_key={access_key_id},amzdate={amzdate}");
    if let Some(tok) = session_token {
        out.push_str(",session_token=");
        out.push_str(tok);
    }
    out
}

/// A parsed signed response, as the server receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedResponse {
    pub signature: String,
    pub access_key: String,
    pub amzdate: String,
    pub session_token: Option<String>,
}

pub fn parse_response(body: &[u8]) -> Option<SignedResponse> {
    let text = std::str::from_utf8(body).ok()?;
    let mut sig = None;
    let mut key = None;
    let mut date = None;
    let mut tok = None;
    for part in text.split(',') {
        let (k, v) = part.split_once('=')?;
        match k.trim() {
            "signature" => sig = Some(v.to_string()),
            "access_key" => key = Some(v.to_string()),
            "amzdate" => date = Some(v.to_string()),
            "session_token" => tok = Some(v.to_string()),
            _ => {}
        }
    }
    Some(SignedResponse {
        signature: sig?,
        access_key: key?,
        amzdate: date?,
        session_token: tok,
    })
}

/// Why a signed response was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    BadSignature,
    OutsideWindow { skew_secs: i64 },
    MalformedDate,
}

/// Checks a response against the secret and region the server expects, at server time `now`.
pub fn verify(
    resp: &SignedResponse,
    secret: &str,
    region: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    let t = DateTime::parse_from_rfc3339(&resp.amzdate)
        .map_err(|_| Rejection::MalformedDate)?
        .with_timezone(&Utc);
    let skew = (now - t).num_seconds();
    if skew.abs() > VALIDITY_SECS {
        return Err(Rejection::OutsideWindow { skew_secs: skew });
    }
    let expected = signature(&resp.access_key, secret, region, nonce, &resp.amzdate).ok_or(Rejection::MalformedDate)?;
    if expected == resp.signature.to_ascii_lowercase() {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "91703fdc2ef562e19fbdab0f58e42fe5";

    #[test]
    fn known_answer_from_every_aws_plugin() {
        let sig = signature(
            "UserID-1",
            "UserSecretKey-1",
            "us-west-2",
            NONCE,
            "2020-06-09T22:41:51.000Z",
        )
        .unwrap();
        assert_eq!(sig, "7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87");
        let t = DateTime::parse_from_rfc3339("2020-06-09T22:41:51Z")
            .unwrap()
            .with_timezone(&Utc);
        let resp = response("UserID-1", "UserSecretKey-1", None, "us-west-2", NONCE, t);
        assert_eq!(
            resp,
            "signature=7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87,access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z"
        );
        let parsed = parse_response(resp.as_bytes()).unwrap();
        assert_eq!(verify(&parsed, "UserSecretKey-1", "us-west-2", NONCE, t), Ok(()));
        assert_eq!(
            verify(&parsed, "other", "us-west-2", NONCE, t),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(&parsed, "UserSecretKey-1", "us-east-1", NONCE, t),
            Err(Rejection::BadSignature)
        );
        let late = t + chrono::Duration::minutes(20);
        assert!(matches!(
            verify(&parsed, "UserSecretKey-1", "us-west-2", NONCE, late),
            Err(Rejection::OutsideWindow { .. })
        ));
    }

    #[test]
    fn signing_key_matches_the_known_answer() {
        let t = DateTime::parse_from_rfc3339("2020-06-09T22:41:51Z")
            .unwrap()
            .with_timezone(&Utc);
        let key = aws_sigv4::sign::v4::generate_signing_key("UserSecretKey-1", t.into(), "us-west-2", "cassandra");
        assert_eq!(
            hex::encode(key.as_ref()),
            "7fb139473f153aec1b05747b0cd5cd77a1186d22ae895a3a0128e699d72e1aba"
        );
    }

    #[test]
    fn four_fraction_digits_are_verified_as_sent() {
        let amz = "2020-06-09T22:41:51.1000Z";
        let sig = signature("UserID-1", "UserSecretKey-1", "us-west-2", NONCE, amz).unwrap();
        let resp = SignedResponse {
            signature: sig,
            access_key: "UserID-1".into(),
            amzdate: amz.into(),
            session_token: None,
        };
        let t = DateTime::parse_from_rfc3339("2020-06-09T22:41:52Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(verify(&resp, "UserSecretKey-1", "us-west-2", NONCE, t), Ok(()));
    }

    #[test]
    fn nonce_parsing() {
        assert_eq!(parse_nonce(format!("nonce={NONCE}").as_bytes()).unwrap(), NONCE);
        assert_eq!(parse_nonce(b"nonsense"), Err(ChallengeError::NoNonce(8)));
        assert_eq!(parse_nonce(b"nonce=abc"), Err(ChallengeError::NonceLength(3)));
    }
}
