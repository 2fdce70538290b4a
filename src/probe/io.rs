//! The one injectable place where outside I/O enters the probes: name resolution,
//! TCP dialling, the clock and the system trust store. Real implementations here;
//! tests swap in fakes. AWS APIs enter through endpoint URLs on the `Target`.
use async_trait::async_trait;
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

#[derive(Clone)]
pub struct Io {
    pub resolver: Arc<dyn Resolver>,
    pub dialer: Arc<dyn Dialer>,
    pub clock: Arc<dyn Clock>,
    pub system_roots: Arc<dyn SystemRoots>,
}

struct SystemResolver;
struct TcpDialer;
struct SystemClock;
struct NativeRoots;

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
                if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
                    let path = std::path::PathBuf::from(&f);
                    let shown = crate::outside::text::clean(&path.display().to_string());
                    return match crate::outside::file::read(&path, crate::outside::file::CONFIG_CAP) {
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

    pub fn real() -> Io {
        Io {
            resolver: Arc::new(SystemResolver),
            dialer: Arc::new(TcpDialer),
            clock: Arc::new(SystemClock),
            system_roots: Arc::new(NativeRoots),
        }
    }
}
