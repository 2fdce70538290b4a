//! The one injectable place where outside I/O enters the probes: name resolution,
//! TCP dialling, the clock, the environment, file reads, the system trust store and
//! the HTTP client of every AWS call (STS, IAM, CloudTrail, credential endpoints).
//! Real implementations here; tests swap in fakes. Knows nothing of what is probed.
use async_trait::async_trait;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls_pki_types::CertificateDer;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream the probes can run TLS and CQL over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

#[async_trait]
pub trait Resolver: Send + Sync {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

#[async_trait]
pub trait Dialer: Send + Sync {
    async fn dial(&self, addr: SocketAddr) -> std::io::Result<Box<dyn Stream>>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The system trust store, and where it was read from.
pub trait SystemRoots: Send + Sync {
    fn load(&self) -> (Vec<CertificateDer<'static>>, String);
}

pub use crate::outside::Env;
pub use crate::outside::file::Files;

#[derive(Clone)]
pub struct Io {
    pub resolver: Arc<dyn Resolver>,
    pub dialer: Arc<dyn Dialer>,
    pub clock: Arc<dyn Clock>,
    pub system_roots: Arc<dyn SystemRoots>,
    pub env: Arc<Env>,
    pub files: Arc<dyn Files>,
    /// The HTTP client of the AWS calls; `None` builds the real one, trusting the
    /// roots the probes read and capping every body.
    pub aws_http: Option<SharedHttpClient>,
}

struct SystemResolver;
struct TcpDialer;
struct SystemClock;
struct NativeRoots {
    env: Arc<Env>,
    files: Arc<dyn Files>,
}

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

#[async_trait]
impl Dialer for TcpDialer {
    async fn dial(&self, addr: SocketAddr) -> std::io::Result<Box<dyn Stream>> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        let _ = s.set_nodelay(true);
        Ok(Box::new(s))
    }
}

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

impl SystemRoots for NativeRoots {
    /// Read once per process: the store does not change during a run.
    fn load(&self) -> (Vec<CertificateDer<'static>>, String) {
        static ROOTS: std::sync::OnceLock<(Vec<CertificateDer<'static>>, String)> = std::sync::OnceLock::new();
        ROOTS
            .get_or_init(|| {
                // SSL_CERT_FILE replaces the store; it is read here with the bounded
                // reader, so a device or FIFO named there cannot hang or flood the run.
                if let Some(f) = (self.env)("SSL_CERT_FILE") {
                    let path = std::path::PathBuf::from(&f);
                    let shown = crate::outside::text::clean(&path.display().to_string());
                    return match self.files.read(&path, crate::outside::file::CONFIG_CAP) {
                        Ok(bytes) => {
                            use rustls_pki_types::pem::PemObject;
                            let certs: Vec<CertificateDer<'static>> =
                                CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok).collect();
                            (certs, format!("SSL_CERT_FILE={shown}"))
                        }
                        Err(e) => (vec![], format!("SSL_CERT_FILE={shown}, which {e}")),
                    };
                }
                let r = rustls_native_certs::load_native_certs();
                (r.certs, "the operating system's store".into())
            })
            .clone()
    }
}

impl Io {
    /// The system store, read on a blocking thread: on some hosts it is hundreds of files,
    /// and the probes beside it must keep running meanwhile.
    pub async fn roots(&self) -> (Vec<CertificateDer<'static>>, String) {
        let store = self.system_roots.clone();
        tokio::task::spawn_blocking(move || store.load())
            .await
            .unwrap_or_else(|e| (vec![], format!("the operating system's store (not read: {e})")))
    }

    /// The host's own resolver, sockets, clock, environment, files and trust store.
    pub fn real() -> Io {
        Io::with_env(Arc::new(|k: &str| std::env::var(k).ok()))
    }

    /// The real I/O with this environment instead of the process's.
    pub fn with_env(env: Arc<Env>) -> Io {
        let files: Arc<dyn Files> = Arc::new(crate::outside::file::HostFiles);
        Io {
            resolver: Arc::new(SystemResolver),
            dialer: Arc::new(TcpDialer),
            clock: Arc::new(SystemClock),
            system_roots: Arc::new(NativeRoots {
                env: env.clone(),
                files: files.clone(),
            }),
            env,
            files,
            aws_http: None,
        }
    }
}
