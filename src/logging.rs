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

/// Without `RUST_LOG`: this program's own warnings only. Third-party libraries stay
/// quiet (what they would warn about is evidence in the report).
const DEFAULT_FILTER: &str = "off,keyspaces_doctor=warn";

pub fn init(sink: Sink) {
    use std::io::IsTerminal;
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let cap = filter_fn(|meta| !is_capped(meta.target(), meta.level()));
    match sink {
        Sink::Off => {}
        Sink::Stderr => {
            let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .with_writer(move || Clean {
                    inner: std::io::stderr(),
                    ansi,
                })
                .with_filter(env)
                .with_filter(cap);
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
        Sink::File(path) => {
            // Never through a link planted at the (predictable) log path.
            let Ok(file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o600)
                .open(&path)
            else {
                return;
            };
            let file = std::sync::Arc::new(std::sync::Mutex::new(file));
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || Clean {
                    inner: FileHandle(file.clone()),
                    ansi: false,
                })
                .with_filter(env)
                .with_filter(cap);
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
    }
}

use std::os::unix::fs::OpenOptionsExt;

/// The log file, shared by every event.
struct FileHandle(std::sync::Arc<std::sync::Mutex<std::fs::File>>);

impl std::io::Write for FileHandle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// A log line writer that lets no control character from a logged value act on the
/// terminal: each event is one write; its final line break is kept, every other control
/// byte is shown escaped (the colour codes of the formatter itself pass when colour is on).
struct Clean<W> {
    inner: W,
    ansi: bool,
}

impl<W: std::io::Write> std::io::Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(&escape_log(buf, self.ansi))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `buf` with control bytes escaped, but a trailing newline and (with `ansi`) SGR colour
/// sequences (`ESC [ digits ; m`).
pub fn escape_log(buf: &[u8], ansi: bool) -> Vec<u8> {
    let (body, end) = match buf.strip_suffix(b"\n") {
        Some(b) => (b, &b"\n"[..]),
        None => (buf, &b""[..]),
    };
    let mut out = Vec::with_capacity(buf.len() + 8);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == 0x1b && ansi && body.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < body.len() && (body[j].is_ascii_digit() || body[j] == b';') {
                j += 1;
            }
            if body.get(j) == Some(&b'm') {
                out.extend_from_slice(&body[i..=j]);
                i = j + 1;
                continue;
            }
        }
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.push(b'\t'),
            0x1b => out.extend_from_slice(b"\\e"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            b => out.push(b),
        }
        i += 1;
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_lines_carry_no_control_bytes() {
        let e = super::escape_log(b"msg: a\x1b]0;pwn\x07\nforged line\n", false);
        assert_eq!(e, b"msg: a\\e]0;pwn\\x07\\nforged line\n");
        let e = super::escape_log(b"\x1b[2mtime\x1b[0m x\x1b[31\x1bZ\n", true);
        assert_eq!(e, b"\x1b[2mtime\x1b[0m x\\e[31\\eZ\n");
    }
}
