//! The HelenusAuthenticator handshake of the lab's CQL endpoint: SASL PLAIN with
//! service-specific credentials, and the SigV4 mechanism (nonce challenge, signature
//! verified on the lab's clock), refused with Keyspaces' codes and texts.
use super::{Connection, Reply, code, error};
use crate::cql::frame::{BodyReader, BodyWriter, FrameError, Opcode};
use crate::lab::scenario::Misbehavior;
use crate::lab::world::{Identity, REGION};
use crate::sigv4;
use rand::Rng;

pub(super) enum Sasl {
    Start,
    AwaitSignature(String),
}

impl Connection {
    fn admit(&mut self, identity: Identity) -> Reply {
        if !identity.has_any_keyspaces_permission() {
            return error(
                code::UNAUTHORIZED,
                &format!("User {} has no permissions.", identity.arn),
            );
        }
        self.identity = Some(identity);
        let mut w = BodyWriter::new();
        w.bytes(None);
        (Opcode::AuthSuccess, w.into_inner())
    }

    pub(super) fn auth_response(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let token = BodyReader::new(body).bytes()?.unwrap_or(&[]);
        let world = self.shared.world.clone();
        match std::mem::replace(&mut self.sasl, Sasl::Start) {
            Sasl::Start if token == sigv4::INITIAL_RESPONSE => {
                let nonce: String = {
                    let mut rng = rand::rng();
                    (0..16).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
                };
                let challenge = match self.shared.misbehave {
                    Some(Misbehavior::ChallengeWithoutNonce) => "realm=keyspaces".to_string(),
                    Some(Misbehavior::ChallengeShortNonce) => "nonce=abc123".to_string(),
                    _ => format!("nonce={nonce}"),
                };
                let mut w = BodyWriter::new();
                w.bytes(Some(challenge.as_bytes()));
                self.sasl = Sasl::AwaitSignature(nonce);
                Ok((Opcode::AuthChallenge, w.into_inner()))
            }
            Sasl::Start => {
                let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
                let (user, pass) = match parts.as_slice() {
                    [_, u, p] => (
                        String::from_utf8_lossy(u).to_string(),
                        String::from_utf8_lossy(p).to_string(),
                    ),
                    _ => (String::new(), String::new()),
                };
                match world.check_password(&user, &pass) {
                    Some(id) => Ok(self.admit(id)),
                    None => Ok(error(
                        code::BAD_CREDENTIALS,
                        &format!("Provided username {user} and/or password are incorrect"),
                    )),
                }
            }
            Sasl::AwaitSignature(nonce) => {
                let invalid = || error(code::BAD_CREDENTIALS, "Authentication failure: Invalid signature");
                let Some(resp) = sigv4::parse_response(token) else {
                    return Ok(invalid());
                };
                let Ok((secret, identity)) = world.resolve_key(&resp.access_key, resp.session_token.as_deref()) else {
                    return Ok(invalid());
                };
                match sigv4::verify(&resp, &secret, REGION, &nonce, world.now()) {
                    Ok(()) => Ok(self.admit(identity)),
                    Err(_) => Ok(invalid()),
                }
            }
        }
    }
}
