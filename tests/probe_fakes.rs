//! The probes against fakes of the one injectable place (`probe::Io`): a resolver that
//! finds no address, a dialer that is refused, a clock and an STS that disagree by
//! twenty minutes. No socket is opened: the dialer counts its calls and the AWS calls
//! go to a fake HTTP client.
use async_trait::async_trait;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use clap::Parser;
use keyspaces_doctor::diagnosis::{self, leaves::LeafId};
use keyspaces_doctor::evidence::Evidence;
use keyspaces_doctor::probe::io::{Clock, Dialer, Resolver, Stream, SystemRoots};
use keyspaces_doctor::probe::{self, Io};
use keyspaces_doctor::secret::Secret;
use keyspaces_doctor::target::{StaticKeys, Target};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct NoAddress;

#[async_trait]
impl Resolver for NoAddress {
    async fn lookup(&self, host: &str, _port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Err(std::io::Error::other(format!(
            "failed to lookup address information for {host}: Name or service not known"
        )))
    }
}

struct OneAddress;

#[async_trait]
impl Resolver for OneAddress {
    async fn lookup(&self, _host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::from(([192, 0, 2, 10], port))])
    }
}

/// Refuses every connection, and counts the attempts.
#[derive(Default)]
struct Refusing(AtomicUsize);

#[async_trait]
impl Dialer for Refusing {
    async fn dial(&self, _addr: SocketAddr) -> std::io::Result<Box<dyn Stream>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }
}

struct FixedClock(chrono::DateTime<chrono::Utc>);

impl Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

struct NoRoots;

impl SystemRoots for NoRoots {
    fn load(&self) -> (Vec<rustls_pki_types::CertificateDer<'static>>, String) {
        (vec![], "no store (a test)".into())
    }
}

/// Answers every AWS call with STS's GetCallerIdentity, dated `date`.
#[derive(Debug, Clone)]
struct FakeSts {
    date: String,
}

impl HttpClient for FakeSts {
    fn http_connector(&self, _s: &HttpConnectorSettings, _c: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for FakeSts {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let body = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/app</Arn><UserId>AIDAEXAMPLEUSERID0001</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>5a1b0c52-0000-4000-8000-000000000001</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
        let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body));
        r.headers_mut().insert("date", self.date.clone());
        r.headers_mut().insert("content-type", "text/xml");
        HttpConnectorFuture::ready(Ok(r))
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn io(resolver: Arc<dyn Resolver>, dialer: Arc<Refusing>, sts_offset_secs: i64) -> Io {
    let mut io = Io::with_env(Arc::new(|_: &str| None));
    io.resolver = resolver;
    io.dialer = dialer;
    io.clock = Arc::new(FixedClock(now()));
    io.system_roots = Arc::new(NoRoots);
    let date = (now() + chrono::Duration::seconds(sts_offset_secs))
        .to_rfc2822()
        .replace("+0000", "GMT");
    io.aws_http = Some(SharedHttpClient::new(FakeSts { date }));
    io
}

fn target() -> Target {
    let cli = keyspaces_doctor::cli::Cli::parse_from([
        "keyspaces-doctor",
        "check",
        "--host",
        "cassandra.us-east-1.amazonaws.com",
        "--region",
        "us-east-1",
        "--auth",
        "sigv4",
        "--keyspace",
        "store",
        "--table",
        "orders",
    ]);
    let keyspaces_doctor::cli::Command::Check(args) = cli.command.expect("a command") else {
        panic!("check");
    };
    let mut t = Target::from_args(&args.target, &|_| None).expect("a target");
    t.static_credentials = Some(StaticKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: None,
    });
    t.isolated = true;
    t
}

async fn run(io: &Io) -> (Evidence, Vec<LeafId>) {
    let ev = probe::run(&target(), io, None).await;
    let leaves = diagnosis::evaluate(&ev).findings.iter().map(|f| f.leaf).collect();
    (ev, leaves)
}

#[tokio::test]
async fn a_name_that_does_not_resolve() {
    let dialer = Arc::new(Refusing::default());
    let (ev, leaves) = run(&io(Arc::new(NoAddress), dialer.clone(), 0)).await;
    assert!(
        ev.dns
            .as_ref()
            .and_then(|d| d.error.clone())
            .unwrap_or_default()
            .contains("Name or service not known"),
        "{:?}",
        ev.dns
    );
    assert_eq!(leaves.first(), Some(&LeafId::DnsFailure), "{leaves:?}");
    assert_eq!(dialer.0.load(Ordering::SeqCst), 0, "nothing was dialled");
    assert_eq!(
        ev.identity.and_then(|i| i.caller).map(|c| c.account).as_deref(),
        Some("111122223333")
    );
}

#[tokio::test]
async fn a_refused_port() {
    let dialer = Arc::new(Refusing::default());
    let (ev, leaves) = run(&io(Arc::new(OneAddress), dialer.clone(), 0)).await;
    assert_eq!(
        ev.tcp.as_ref().map(|t| t.address.to_string()).as_deref(),
        Some("192.0.2.10:9142")
    );
    assert_eq!(leaves.first(), Some(&LeafId::PortRefused), "{leaves:?}");
    assert!(
        !leaves.contains(&LeafId::ClockSkew) && !leaves.contains(&LeafId::ClockDrift),
        "{leaves:?}"
    );
    assert!(dialer.0.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_clock_twenty_minutes_behind_sts() {
    let dialer = Arc::new(Refusing::default());
    let (ev, leaves) = run(&io(Arc::new(OneAddress), dialer, 1200)).await;
    let offset = ev.identity.as_ref().and_then(|i| i.clock_offset_secs);
    assert!(offset.is_some_and(|o| (1190..=1210).contains(&o)), "{offset:?}");
    assert!(leaves.contains(&LeafId::ClockSkew), "{leaves:?}");
    let d = diagnosis::evaluate(&ev);
    let f = d.findings.iter().find(|f| f.leaf == LeafId::ClockSkew).unwrap();
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("1200") || e.contains("119") || e.contains("120")),
        "{:?}",
        f.evidence
    );
}
