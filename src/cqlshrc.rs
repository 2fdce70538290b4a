//! Reads `~/.cassandra/cqlshrc` as cqlsh and AWS's cqlsh-expansion write it
//! (`[connection]`, `[authentication]`, `[auth_provider]`, `[ssl]`). Parsing only.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CqlshrcError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    /// The line itself is not repeated: it may hold a password.
    #[error("{path}:{line}: this line is neither a [section], a 'key = value' line nor a comment; fix or remove it")]
    Malformed { path: String, line: usize },
    #[error(
        "{path}:{line}: '{key}' appears before any [section]; put it under [connection], [authentication], [ssl] or [auth_provider]"
    )]
    NoSection { path: String, line: usize, key: String },
}

/// One setting with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Cqlshrc {
    pub path: PathBuf,
    sections: BTreeMap<String, BTreeMap<String, Setting>>,
}

impl Cqlshrc {
    pub fn get(&self, section: &str, key: &str) -> Option<&Setting> {
        self.sections.get(section)?.get(key)
    }

    pub fn value(&self, section: &str, key: &str) -> Option<String> {
        self.get(section, key).map(|s| s.value.clone())
    }

    /// True when the file configures AWS's SigV4 plugin.
    pub fn uses_sigv4(&self) -> bool {
        self.value("auth_provider", "module")
            .is_some_and(|m| m.contains("cassandra_sigv4"))
    }

    /// `[ssl] validate = false`.
    pub fn validation_disabled(&self) -> Option<&Setting> {
        self.get("ssl", "validate")
            .filter(|s| matches!(s.value.to_ascii_lowercase().as_str(), "false" | "no" | "0" | "off"))
    }

    /// The certfile with `~` expanded.
    pub fn certfile(&self) -> Option<(PathBuf, usize)> {
        let s = self.get("ssl", "certfile")?;
        Some((expand_home(&s.value), s.line))
    }
}

/// Whether cqlsh would use TLS with this file: `[connection] ssl = true`, or an `[ssl]`
/// section that sets a certfile or validation (used with `--ssl`).
impl Cqlshrc {
    pub fn uses_tls(&self) -> bool {
        self.value("connection", "ssl")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || self.get("ssl", "certfile").is_some()
            || self.get("ssl", "validate").is_some()
    }
}

/// The cqlsh on `path` (a `PATH` value) and the version of the DataStax Python driver its
/// interpreter has installed, read from the driver's `.dist-info` directory name.
pub fn installed_cqlsh(path: &str) -> Option<(PathBuf, Option<String>)> {
    let cqlsh = std::env::split_paths(path)
        .map(|d| d.join("cqlsh"))
        .find(|p| p.is_file())?;
    let head = crate::outside::file::read(&cqlsh, 1 << 20).ok()?;
    let first = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let interpreter = first
        .strip_prefix("#!")
        .map(|s| s.split_whitespace().next().unwrap_or_default().to_string());
    let version = interpreter.and_then(|i| {
        let root = Path::new(&i).parent()?.parent()?.join("lib");
        std::fs::read_dir(&root)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("site-packages"))
            .filter_map(|sp| std::fs::read_dir(sp).ok())
            .flatten()
            .filter_map(Result::ok)
            .find_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.strip_prefix("cassandra_driver-")
                    .and_then(|r| r.strip_suffix(".dist-info"))
                    .map(str::to_string)
            })
    });
    Some((cqlsh, version))
}

/// Whether this driver version builds its TLS context without verification when given
/// `ssl_options` as cqlsh passes them (`cert_reqs` assigned to `SSLContext.options`):
/// the 3.29 and 3.30 series (3.30.1 verified against the lab).
pub fn driver_skips_verification(version: &str) -> bool {
    version.starts_with("3.29.") || version.starts_with("3.30.")
}

pub fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest))
            .unwrap_or_else(|| PathBuf::from(p)),
        None => PathBuf::from(p),
    }
}

pub fn parse(path: &Path, text: &str) -> Result<Cqlshrc, CqlshrcError> {
    let shown = path.display().to_string();
    let mut out = Cqlshrc {
        path: path.to_path_buf(),
        sections: BTreeMap::new(),
    };
    let mut current: Option<String> = None;
    // The key a continuation line (indented, as Python's configparser reads it) extends.
    let mut last: Option<(String, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if raw.starts_with([' ', '\t'])
            && let Some((section, key)) = &last
            && let Some(s) = out.sections.get_mut(section).and_then(|m| m.get_mut(key))
        {
            s.value.push('\n');
            s.value.push_str(t);
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = Some(name.trim().to_ascii_lowercase());
            last = None;
            continue;
        }
        let Some((k, v)) = t.split_once(['=', ':']) else {
            return Err(CqlshrcError::Malformed { path: shown, line });
        };
        let key = k.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(CqlshrcError::Malformed { path: shown, line });
        }
        let Some(section) = &current else {
            return Err(CqlshrcError::NoSection { path: shown, line, key });
        };
        last = Some((section.clone(), key.clone()));
        out.sections.entry(section.clone()).or_default().insert(
            key,
            Setting {
                value: v.trim().to_string(),
                line,
            },
        );
    }
    Ok(out)
}

/// A cqlshrc is a few hundred bytes; anything over this is not one.
const MAX_BYTES: u64 = 1 << 20;

pub fn load(path: &Path) -> Result<Cqlshrc, CqlshrcError> {
    let text = crate::outside::file::read_text(path, MAX_BYTES).map_err(|e| CqlshrcError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What AWS's cqlsh-expansion installs (SigV4).
    const EXPANSION: &str = "[connection]\nport = 9142\nfactory = cqlshlib.ssl.ssl_transport_factory\n\n[ssl]\nvalidate = true\ncertfile =  ~/.cassandra/sf-class2-root.crt\n\n[auth_provider]\nmodule = cassandra_sigv4.auth\nclassname = SigV4AuthProvider\n";

    /// A service-specific credential setup.
    const SSC: &str = "; written by hand\n[authentication]\nusername = alice-at-111122223333\npassword = p@ss=word\n\n[connection]\nhostname = cassandra.eu-west-1.amazonaws.com\nport = 9142\nssl = true\n\n[ssl]\nvalidate = false\ncertfile = /etc/keyspaces/keyspaces-bundle.pem\n";

    #[test]
    fn reads_the_cqlsh_expansion_file() {
        let c = parse(Path::new("cqlshrc"), EXPANSION).unwrap();
        assert!(c.uses_sigv4());
        assert_eq!(c.value("connection", "port").as_deref(), Some("9142"));
        assert!(c.certfile().unwrap().0.ends_with(".cassandra/sf-class2-root.crt"));
        assert_eq!(c.certfile().unwrap().1, 7);
        assert!(c.validation_disabled().is_none());
    }

    #[test]
    fn reads_a_service_specific_file() {
        let c = parse(Path::new("cqlshrc"), SSC).unwrap();
        assert!(!c.uses_sigv4());
        assert_eq!(c.value("authentication", "password").as_deref(), Some("p@ss=word"));
        assert_eq!(c.validation_disabled().unwrap().line, 12);
        assert_eq!(
            c.value("connection", "hostname").as_deref(),
            Some("cassandra.eu-west-1.amazonaws.com")
        );
    }

    #[test]
    fn continuation_lines_extend_the_value() {
        let c = parse(Path::new("c"), "[ssl]\ncertfile = /a\n  b\n[connection]\nport = 9142\n").unwrap();
        assert_eq!(c.value("ssl", "certfile").as_deref(), Some("/a\nb"));
        assert_eq!(c.value("connection", "port").as_deref(), Some("9142"));
        assert!(parse(Path::new("c"), "[ssl]\n  b\n").is_err());
    }

    #[test]
    fn malformed_lines_are_named() {
        let e = parse(Path::new("/x/cqlshrc"), "[connection]\nport 9142\n").unwrap_err();
        assert_eq!(e.to_string().split(':').nth(1), Some("2"));
        assert!(e.to_string().contains("/x/cqlshrc:2"));
        let e = parse(Path::new("c"), "port = 1\n").unwrap_err();
        assert!(matches!(e, CqlshrcError::NoSection { line: 1, .. }));
    }
}
