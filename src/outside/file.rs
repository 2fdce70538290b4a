//! Bounded, non-blocking reads of files named by the user, a config file or the
//! environment. The size cap is enforced while reading (devices report a length of 0),
//! FIFOs, sockets and directories are refused without blocking, and `/dev/null` reads
//! as an empty file. Every file the program reads goes through [`read`].
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The cap for configuration files, CA bundles and truststores.
pub const CONFIG_CAP: u64 = 4 << 20;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("cannot be opened ({0})")]
    Open(String),
    #[error("is a directory, not a file")]
    Directory,
    #[error("is a FIFO (named pipe), not a file: reading it could wait forever")]
    Fifo,
    #[error("is a socket, not a file")]
    Socket,
    #[error("holds more than {0} bytes (an endless device such as /dev/zero, or not the file meant here)")]
    TooLarge(u64),
    #[error("could not be read ({0})")]
    Read(String),
}

/// Reads at most `cap` bytes of `path`; more is refused. Never blocks on a FIFO or a
/// terminal: the file is opened non-blocking and its type checked on the open handle.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, Refused> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => Refused::Socket,
            _ => Refused::Open(plain_io(&e)),
        })?;
    let kind = file.metadata().map_err(|e| Refused::Read(plain_io(&e)))?.file_type();
    if kind.is_dir() {
        return Err(Refused::Directory);
    }
    if kind.is_fifo() {
        return Err(Refused::Fifo);
    }
    if kind.is_socket() {
        return Err(Refused::Socket);
    }
    let mut buf = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Refused::Read(plain_io(&e)))?;
    if buf.len() as u64 > cap {
        return Err(Refused::TooLarge(cap));
    }
    Ok(buf)
}

/// [`read`], as text (invalid UTF-8 replaced).
pub fn read_text(path: &Path, cap: u64) -> Result<String, Refused> {
    read(path, cap).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Bounded reads of files a user or the environment names: `read` for the host's
/// files, a fake in tests.
pub trait Files: Send + Sync {
    fn read(&self, path: &Path, cap: u64) -> Result<Vec<u8>, Refused>;

    fn read_text(&self, path: &Path, cap: u64) -> Result<String, Refused> {
        self.read(path, cap).map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// The host's file system, through `read`.
pub struct HostFiles;

impl Files for HostFiles {
    fn read(&self, path: &Path, cap: u64) -> Result<Vec<u8>, Refused> {
        read(path, cap)
    }
}

/// Whether `path` is a regular file of UTF-8 text within `cap` bytes; why not in words.
pub fn readable_text(path: &Path, cap: u64) -> Result<(), String> {
    let bytes = read(path, cap).map_err(|e| e.to_string())?;
    std::str::from_utf8(&bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    Ok(())
}

/// An I/O error in words, without the `(os error N)` suffix's Debug neighbours.
pub fn plain_io(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteRefused {
    #[error("{0} is a symbolic link; refusing to write through it (remove it, or choose another directory)")]
    Symlink(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
}

fn io_refusal(path: &Path, e: &std::io::Error) -> WriteRefused {
    let is_link = || std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match e.raw_os_error() {
        Some(libc::ELOOP) => WriteRefused::Symlink(path.display().to_string()),
        Some(libc::EEXIST) if is_link() => WriteRefused::Symlink(path.display().to_string()),
        Some(libc::EEXIST) => WriteRefused::Exists(path.display().to_string()),
        _ => WriteRefused::Io {
            path: path.display().to_string(),
            message: plain_io(e),
        },
    }
}

/// Creates `path` new (never an existing file, never through a link) with `mode`.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteRefused> {
    use std::io::Write;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path)
        .map_err(|e| io_refusal(path, &e))?;
    f.write_all(bytes).map_err(|e| io_refusal(path, &e))
}

/// Writes `path` whole, replacing a regular file there: the bytes go to a new private
/// file beside it, which is then renamed over it. A symbolic link at `path` is refused,
/// never followed.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteRefused> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(WriteRefused::Symlink(path.display().to_string()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{:x}", std::process::id(), rand::random::<u64>()));
    write_new(&tmp, bytes, mode)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_refusal(path, &e)
    })
}

/// A fresh temporary directory, new (never one that already exists) and private to this
/// user (mode 0700); removed when the returned value is dropped.
pub fn private_temp_dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories() {
        assert_eq!(read(Path::new("/dev/null"), 10).unwrap(), Vec::<u8>::new());
        assert_eq!(read(Path::new("/dev/zero"), 1000), Err(Refused::TooLarge(1000)));
        assert_eq!(read(Path::new("/"), 10), Err(Refused::Directory));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(read(&fifo, 10), Err(Refused::Fifo));
        let f = dir.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read(&f, 5).unwrap(), b"12345");
        assert_eq!(read(&f, 4), Err(Refused::TooLarge(4)));
        assert!(matches!(read(&dir.path().join("none"), 4), Err(Refused::Open(_))));
    }

    #[test]
    fn writes_never_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let link = dir.path().join("ca.pem");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(matches!(replace(&link, b"x", 0o644), Err(WriteRefused::Symlink(_))));
        assert!(matches!(
            write_new(&link, b"x", 0o644),
            Err(WriteRefused::Symlink(_) | WriteRefused::Exists(_))
        ));
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let f = dir.path().join("f");
        replace(&f, b"one", 0o644).unwrap();
        replace(&f, b"two", 0o644).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert!(matches!(write_new(&f, b"x", 0o600), Err(WriteRefused::Exists(_))));
    }
}
