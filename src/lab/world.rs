//! The lab's IAM world: principals, roles, their policies and credentials, temporary
//! sessions issued by its STS, and its clock. Decides who a credential belongs to and
//! whether an action is allowed; knows nothing of sockets or wire formats.
use super::scenario::{PolicySpec, Scenario};
use crate::iam::{Decision, NamedPolicy, PolicyDocument, evaluate_in, policy::grants_any_keyspaces_action};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use std::sync::Mutex;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "111122223333";
pub const KEYSPACE: &str = "store";
pub const TABLE: &str = "orders";
pub const OTHER_TABLE: &str = "customers";

/// Who a credential resolves to.
#[derive(Debug, Clone)]
pub struct Identity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
    pub policies: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
}

impl Identity {
    /// The decision for a management request (STS, IAM), whose context is TLS alone.
    pub fn decide(&self, action: &str, resource: &str) -> Decision {
        let ctx = crate::iam::RequestContext::complete([("aws:SecureTransport", "true")]);
        self.decide_in(action, resource, &ctx)
    }

    pub fn decide_in(&self, action: &str, resource: &str, ctx: &crate::iam::RequestContext) -> Decision {
        evaluate_in(&self.policies, self.boundary.as_ref(), action, resource, ctx)
    }

    pub fn has_any_keyspaces_permission(&self) -> bool {
        grants_any_keyspaces_action(&self.policies)
    }
}

#[derive(Debug, Clone)]
pub struct ServiceCredential {
    pub username: String,
    pub password: String,
    pub id: String,
    pub active: bool,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub expires: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub identity: Identity,
    pub service_credential: Option<ServiceCredential>,
    /// A second service-specific credential (IAM allows two per user).
    pub older_ssc: Option<ServiceCredential>,
    pub access_key: Option<AccessKey>,
    pub expired_session: Option<AccessKey>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub trust: PolicyDocument,
    pub policies: Vec<NamedPolicy>,
}

/// Temporary credentials issued by the lab's STS.
#[derive(Debug, Clone)]
struct Session {
    key: AccessKey,
    identity: Identity,
}

pub struct World {
    pub principals: Vec<Principal>,
    pub roles: Vec<Role>,
    sessions: Mutex<Vec<Session>>,
    /// Inline policies put through the lab's IAM (`PutUserPolicy`), by principal ARN.
    added: Mutex<Vec<(String, NamedPolicy)>>,
    /// IAM refuses reads to everyone but the lab's admin.
    pub deny_iam_reads: bool,
    clock_offset: Duration,
    /// The VPC endpoint connections arrive through, if any.
    source_vpce: Option<String>,
    /// CloudTrail management events, oldest first.
    pub trail: Vec<TrailRecord>,
}

/// One recorded CloudTrail management event of Keyspaces.
#[derive(Debug, Clone)]
pub struct TrailRecord {
    pub principal_arn: String,
    pub event_name: String,
    pub error_code: String,
    pub error_message: Option<String>,
    pub time: DateTime<Utc>,
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    UnknownKey,
    Expired,
    TokenMismatch,
}

fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn new_access_key(prefix: &str) -> AccessKey {
    AccessKey {
        id: format!("{prefix}{}", random_string(16, UPPER)),
        secret: random_string(40, MIXED),
        session_token: None,
        expires: None,
    }
}

fn named(spec: &PolicySpec, account: &str) -> NamedPolicy {
    NamedPolicy {
        arn: format!("arn:aws:iam::{account}:policy/{}", spec.name),
        // Validated when the scenario was parsed.
        document: serde_json::from_str(&spec.document).unwrap_or(PolicyDocument {
            version: "2012-10-17".into(),
            statement: crate::iam::policy::OneOrMany::Many(vec![]),
        }),
    }
}

fn full_access(account: &str) -> NamedPolicy {
    named(
        &PolicySpec {
            name: "KeyspacesFullAccessLab".into(),
            document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllKeyspaces","Effect":"Allow","Action":["cassandra:*","sts:AssumeRole","iam:Get*","iam:List*","iam:PutUserPolicy"],"Resource":"*"}]}"#.into(),
        },
        account,
    )
}

impl World {
    pub fn from_scenario(s: &Scenario) -> World {
        let mut principals = vec![Principal {
            name: "admin".into(),
            identity: Identity {
                arn: format!("arn:aws:iam::{ACCOUNT}:user/doctor-admin"),
                account: ACCOUNT.into(),
                user_id: format!("AIDA{}", random_string(17, UPPER)),
                policies: vec![full_access(ACCOUNT)],
                boundary: None,
            },
            service_credential: Some(ServiceCredential {
                username: format!("doctor-admin-at-{ACCOUNT}"),
                password: random_string(44, MIXED),
                id: format!("ACCA{}", random_string(17, UPPER)),
                active: true,
                created: Utc::now() - Duration::days(10),
            }),
            older_ssc: None,
            access_key: Some(new_access_key("AKIA")),
            expired_session: None,
        }];
        for p in &s.principals {
            let account = p.account.clone().unwrap_or_else(|| ACCOUNT.into());
            let identity = Identity {
                arn: format!("arn:aws:iam::{account}:user/{}", p.name),
                account: account.clone(),
                user_id: format!("AIDA{}", random_string(17, UPPER)),
                policies: p.policies.iter().map(|x| named(x, &account)).collect(),
                boundary: p.boundary.as_ref().map(|b| named(b, &account)),
            };
            let expired_session = p.expired_session.then(|| {
                let mut k = new_access_key("ASIA");
                k.session_token = Some(random_string(120, MIXED));
                k.expires = Some(Utc::now() - Duration::hours(2));
                k
            });
            principals.push(Principal {
                name: p.name.clone(),
                service_credential: p.service_credential.then(|| ServiceCredential {
                    username: format!("{}-at-{account}", p.name),
                    password: random_string(44, MIXED),
                    id: format!("ACCA{}", random_string(17, UPPER)),
                    active: !p.ssc_status.eq_ignore_ascii_case("inactive"),
                    created: Utc::now() - Duration::days(p.ssc_age_days),
                }),
                // IAM names a user's second credential `<user>+1-at-<account>`.
                older_ssc: p.second_ssc.then(|| ServiceCredential {
                    username: format!("{}+1-at-{account}", p.name),
                    password: random_string(44, MIXED),
                    id: format!("ACCA{}", random_string(17, UPPER)),
                    active: true,
                    created: Utc::now() - Duration::days(p.ssc_age_days + 30),
                }),
                access_key: p.access_key.then(|| new_access_key("AKIA")),
                expired_session,
                identity,
            });
        }
        let roles = s
            .roles
            .iter()
            .map(|r| {
                let account = r.account.clone().unwrap_or_else(|| ACCOUNT.into());
                Role {
                    arn: format!("arn:aws:iam::{account}:role/{}", r.name),
                    name: r.name.clone(),
                    trust: serde_json::from_str(&r.trust).unwrap_or(PolicyDocument {
                        version: "2012-10-17".into(),
                        statement: crate::iam::policy::OneOrMany::Many(vec![]),
                    }),
                    policies: r.policies.iter().map(|x| named(x, &account)).collect(),
                    account,
                }
            })
            .collect();
        World {
            principals,
            roles,
            sessions: Mutex::new(Vec::new()),
            added: Mutex::new(Vec::new()),
            deny_iam_reads: s.server.deny_iam_reads,
            clock_offset: Duration::seconds(s.server.clock_offset_secs),
            source_vpce: s.server.source_vpce.clone(),
            trail: s
                .trail
                .iter()
                .map(|t| TrailRecord {
                    principal_arn: format!("arn:aws:iam::{ACCOUNT}:user/{}", t.principal),
                    event_name: t.event_name.clone(),
                    error_code: t.error_code.clone(),
                    error_message: t.error_message.clone(),
                    time: Utc::now() + Duration::seconds(s.server.clock_offset_secs) - Duration::minutes(t.minutes_ago),
                })
                .collect(),
        }
    }

    /// The IAM request context of a CQL request from `peer` by `principal_arn`, as
    /// Keyspaces fills it: over the public endpoint `aws:SourceIp`; through an
    /// interface VPC endpoint `aws:SourceVpce` and `aws:VpcSourceIp` instead.
    pub fn request_context(&self, principal_arn: &str, peer: std::net::IpAddr) -> crate::iam::RequestContext {
        let mut keys: Vec<(&str, String)> = vec![
            ("aws:SecureTransport", "true".into()),
            (
                "aws:CurrentTime",
                self.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            ("aws:RequestedRegion", REGION.into()),
            ("aws:PrincipalArn", principal_arn.into()),
            ("aws:PrincipalAccount", ACCOUNT.into()),
        ];
        match &self.source_vpce {
            Some(v) => {
                keys.push(("aws:SourceVpce", v.clone()));
                keys.push(("aws:VpcSourceIp", peer.to_string()));
            }
            None => keys.push(("aws:SourceIp", peer.to_string())),
        }
        crate::iam::RequestContext::complete(keys)
    }

    /// The lab's clock (the host's, shifted by the scenario's offset).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    pub fn principal(&self, name: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.name == name)
    }

    pub fn admin(&self) -> &Principal {
        &self.principals[0]
    }

    /// An identity with the inline policies added since the lab started (new
    /// connections see IAM changes at once, as on Keyspaces).
    fn current(&self, id: &Identity) -> Identity {
        let mut id = id.clone();
        let added = self.added.lock().unwrap_or_else(|e| e.into_inner());
        id.policies
            .extend(added.iter().filter(|(arn, _)| *arn == id.arn).map(|(_, p)| p.clone()));
        id
    }

    /// IAM PutUserPolicy: attach (or replace) an inline policy.
    pub fn put_user_policy(&self, user_arn: &str, name: &str, document: PolicyDocument) {
        let mut added = self.added.lock().unwrap_or_else(|e| e.into_inner());
        let arn = format!("{user_arn} inline policy {name}");
        added.retain(|(_, p)| p.arn != arn);
        added.push((user_arn.to_string(), NamedPolicy { arn, document }));
    }

    /// Inline policies added to a principal.
    pub fn added_policies(&self, principal_arn: &str) -> Vec<NamedPolicy> {
        self.added
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(a, _)| a == principal_arn)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// SASL PLAIN: the identity behind a service-specific credential.
    pub fn check_password(&self, username: &str, password: &str) -> Option<Identity> {
        self.principals.iter().find_map(|p| {
            p.service_credential
                .iter()
                .chain(p.older_ssc.iter())
                .find(|c| c.active && c.username == username && c.password == password)
                .map(|_| self.current(&p.identity))
        })
    }

    /// The secret and identity behind an access key id, checking the token and expiry.
    pub fn resolve_key(&self, id: &str, token: Option<&str>) -> Result<(String, Identity), KeyProblem> {
        let now = self.now();
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let long_term = self
            .principals
            .iter()
            .filter_map(|p| p.access_key.as_ref().map(|k| (k, &p.identity)));
        let expired = self
            .principals
            .iter()
            .filter_map(|p| p.expired_session.as_ref().map(|k| (k, &p.identity)));
        let issued = sessions.iter().map(|s| (&s.key, &s.identity));
        let (key, identity) = long_term
            .chain(expired)
            .chain(issued)
            .find(|(k, _)| k.id == id)
            .ok_or(KeyProblem::UnknownKey)?;
        if key.session_token.as_deref() != token {
            return Err(KeyProblem::TokenMismatch);
        }
        if key.expires.is_some_and(|e| e <= now) {
            return Err(KeyProblem::Expired);
        }
        Ok((key.secret.clone(), self.current(identity)))
    }

    /// STS AssumeRole: trust policy and the caller's `sts:AssumeRole` permission.
    pub fn assume_role(
        &self,
        caller: &Identity,
        role_arn: &str,
        session_name: &str,
    ) -> Result<(AccessKey, String), String> {
        let denied = || {
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            )
        };
        let role = self.roles.iter().find(|r| r.arn == role_arn).ok_or_else(denied)?;
        let trusted = role.trust.statement.iter().any(|s| {
            s.effect == crate::iam::policy::Effect::Allow
                && s.matches_action("sts:AssumeRole")
                && s.matches_principal(&caller.arn, &caller.account)
        });
        let permitted = caller.decide("sts:AssumeRole", role_arn).is_allowed();
        if !trusted || !permitted {
            return Err(denied());
        }
        let mut key = new_access_key("ASIA");
        key.session_token = Some(random_string(120, MIXED));
        key.expires = Some(self.now() + Duration::hours(1));
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{}/{session_name}",
            role.account, role.name
        );
        let identity = Identity {
            arn: arn.clone(),
            account: role.account.clone(),
            user_id: format!("AROA{}:{session_name}", random_string(17, UPPER)),
            policies: role.policies.clone(),
            boundary: None,
        };
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).push(Session {
            key: key.clone(),
            identity,
        });
        Ok((key, arn))
    }
}
