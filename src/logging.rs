//! Logs go to stderr, filtered by `RUST_LOG`; third-party targets never log above info
//! (aws-sigv4 traces canonical requests that hold session tokens). Owns the subscriber.
use tracing::Level;
use tracing_subscriber::{EnvFilter, Layer, filter::filter_fn, layer::SubscriberExt, util::SubscriberInitExt};

const CAPPED: &[&str] = &[
    "aws_sigv4",
    "aws_smithy",
    "aws_config",
    "aws_sdk",
    "aws_credential_types",
    "aws_runtime",
    "hyper",
    "h2",
    "rustls",
    "tokio_rustls",
    "scylla",
    "scylla_cql",
    "tower",
    "reqwest",
];

/// True when a third-party target would log below info.
pub fn is_capped(target: &str, level: &Level) -> bool {
    CAPPED.iter().any(|c| target.starts_with(c)) && *level > Level::INFO
}

/// Where logs go: stderr, or (while the TUI owns the terminal) a file, or nowhere.
pub enum Sink {
    Stderr,
    File(std::path::PathBuf),
    Off,
}

pub fn init(sink: Sink) {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let cap = filter_fn(|meta| !is_capped(meta.target(), meta.level()));
    match sink {
        Sink::Off => {}
        Sink::Stderr => {
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(env)
                .with_filter(cap);
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
        Sink::File(path) => {
            let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) else {
                return;
            };
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(env)
                .with_filter(cap);
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
    }
}
