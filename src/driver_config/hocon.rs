//! Reads the HOCON of a Java driver `application.conf` into flat settings that keep
//! their line: nested objects and dotted keys become one dotted path, later settings
//! override earlier ones, substitutions (`${...}`) and `include`s are kept as written.
//! Enough of HOCON for lint findings that point at a line; it evaluates nothing.

/// A value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    List(Vec<String>),
    /// An object opened here; its members are settings of their own.
    Object,
}

impl Value {
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub path: String,
    pub value: Value,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Document {
    pub settings: Vec<Setting>,
    /// Lines that could not be read, with why.
    pub errors: Vec<(usize, String)>,
    /// `include` directives, which are not followed.
    pub includes: Vec<(usize, String)>,
}

impl Document {
    /// The last setting of `path` (HOCON: later wins).
    pub fn get(&self, path: &str) -> Option<&Setting> {
        self.settings.iter().rev().find(|s| s.path == path)
    }

    pub fn text(&self, path: &str) -> Option<(&str, usize)> {
        self.get(path).and_then(|s| s.value.text().map(|t| (t, s.line)))
    }

    /// Whether anything at or below `path` is set.
    pub fn has(&self, path: &str) -> bool {
        let below = format!("{path}.");
        self.settings
            .iter()
            .any(|s| s.path == path || s.path.starts_with(&below))
    }
}

struct Reader<'a> {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    doc: &'a mut Document,
    depth: usize,
    /// Set by an unterminated string or list: the value is not recorded, so text from
    /// the lines after it (a password, say) never becomes part of a reported value.
    broken: bool,
}

const MAX_DEPTH: usize = 64;
/// Longer keys are not driver settings; capping them also bounds the memory of paths.
const MAX_KEY: usize = 256;
const MAX_PATH: usize = 1024;

pub fn parse(text: &str) -> Document {
    let mut doc = Document::default();
    let mut r = Reader {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        doc: &mut doc,
        depth: 0,
        broken: false,
    };
    r.skip_space(true);
    if r.peek() == Some('{') {
        r.bump();
        r.object("", true);
    } else {
        r.object("", false);
    }
    doc
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn at_comment(&self) -> bool {
        self.peek() == Some('#') || (self.peek() == Some('/') && self.peek_at(1) == Some('/'))
    }

    fn skip_to_eol(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    /// Skips blanks and comments; newlines and commas too when `newlines`.
    fn skip_space(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            if self.at_comment() {
                self.skip_to_eol();
            } else if c == '\n' || c == ',' {
                if !newlines {
                    return;
                }
                self.bump();
            } else if c.is_whitespace() || c == '\u{feff}' {
                self.bump();
            } else {
                return;
            }
        }
    }

    fn error(&mut self, line: usize, msg: impl Into<String>) {
        self.doc.errors.push((line, msg.into()));
        self.skip_to_eol();
    }

    /// Members until `}` (when `braced`) or the end.
    fn object(&mut self, prefix: &str, braced: bool) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let line = self.line;
            self.error(line, "objects nested too deeply");
            self.pos = self.chars.len();
            return;
        }
        loop {
            self.skip_space(true);
            match self.peek() {
                None => {
                    if braced {
                        let line = self.line;
                        self.doc.errors.push((line, "an object is not closed with '}'".into()));
                    }
                    break;
                }
                Some('}') => {
                    self.bump();
                    if !braced {
                        let line = self.line;
                        self.doc.errors.push((line, "a '}' closes nothing".into()));
                        continue;
                    }
                    break;
                }
                _ => {
                    let before = self.pos;
                    self.member(prefix);
                    if self.pos == before {
                        // Never stand still on input no rule consumes.
                        self.bump();
                    }
                }
            }
        }
        self.depth -= 1;
    }

    fn key(&mut self) -> Option<Vec<String>> {
        let mut parts = vec![String::new()];
        loop {
            match self.peek() {
                Some('"') => {
                    let s = self.quoted()?;
                    if let Some(last) = parts.last_mut() {
                        last.push_str(&s);
                    }
                }
                Some('.') => {
                    self.bump();
                    parts.push(String::new());
                }
                Some(c) if c.is_whitespace() || "=:{}[],+".contains(c) || self.at_comment() => break,
                Some(_) => {
                    let c = self.bump()?;
                    if let Some(last) = parts.last_mut() {
                        last.push(c);
                    }
                }
                None => break,
            }
        }
        if parts.iter().any(String::is_empty) {
            None
        } else {
            Some(parts)
        }
    }

    fn member(&mut self, prefix: &str) {
        let line = self.line;
        let Some(parts) = self.key() else {
            // The line is not repeated: it may hold a password.
            self.error(line, "expected a key at this position");
            return;
        };
        if parts.len() == 1 && parts[0] == "include" {
            self.skip_space(false);
            let rest: String = self.chars[self.pos..].iter().take_while(|c| **c != '\n').collect();
            self.doc.includes.push((line, rest.trim().to_string()));
            self.skip_to_eol();
            return;
        }
        if parts.iter().any(|p| p.chars().count() > MAX_KEY) || prefix.len() > MAX_PATH {
            self.error(line, "a key longer than any driver setting");
            return;
        }
        let path = if prefix.is_empty() {
            parts.join(".")
        } else {
            format!("{prefix}.{}", parts.join("."))
        };
        self.skip_space(false);
        match self.peek() {
            Some('=') | Some(':') => {
                self.bump();
            }
            Some('+') if self.peek_at(1) == Some('=') => {
                self.bump();
                self.bump();
            }
            Some('{') => {}
            _ => {
                // The key is not repeated: after a broken value it may be part of a password.
                self.error(line, "a key has no '=' or ':' before its value");
                return;
            }
        }
        self.skip_space(false);
        self.value(path, line);
    }

    fn value(&mut self, path: String, line: usize) {
        match self.peek() {
            Some('{') => {
                self.bump();
                self.doc.settings.push(Setting {
                    path: path.clone(),
                    value: Value::Object,
                    line,
                });
                self.object(&path, true);
            }
            Some('[') => {
                self.bump();
                self.broken = false;
                let items = self.list();
                if !std::mem::take(&mut self.broken) {
                    self.doc.settings.push(Setting {
                        path,
                        value: Value::List(items),
                        line,
                    });
                }
            }
            _ => {
                self.broken = false;
                let v = self.scalar();
                if !std::mem::take(&mut self.broken) {
                    self.doc.settings.push(Setting {
                        path,
                        value: Value::Text(v),
                        line,
                    });
                }
            }
        }
    }

    fn list(&mut self) -> Vec<String> {
        let mut items = Vec::new();
        loop {
            self.skip_space(true);
            match self.peek() {
                None => {
                    let line = self.line;
                    self.doc.errors.push((line, "a list is not closed with ']'".into()));
                    self.broken = true;
                    break;
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                Some('{') => {
                    // Objects inside lists are not settings the lint reads.
                    self.bump();
                    let mut depth = 1;
                    while depth > 0 {
                        match self.bump() {
                            Some('{') => depth += 1,
                            Some('}') => depth -= 1,
                            None => break,
                            _ => {}
                        }
                    }
                }
                Some('[') => {
                    self.bump();
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        let line = self.line;
                        self.error(line, "lists nested too deeply");
                        self.pos = self.chars.len();
                        return items;
                    }
                    items.extend(self.list());
                    self.depth -= 1;
                }
                _ => {
                    let before = self.pos;
                    let item = self.scalar();
                    if self.pos == before {
                        // A '}' (or anything no value starts with) inside a list: the
                        // list was not closed where it should have been.
                        let line = self.line;
                        self.bump();
                        self.doc.errors.push((line, "a list is not closed with ']'".into()));
                        self.broken = true;
                    } else {
                        items.push(item);
                    }
                }
            }
        }
        items
    }

    fn quoted(&mut self) -> Option<String> {
        let line = self.line;
        if self.peek_at(1) == Some('"') && self.peek_at(2) == Some('"') {
            for _ in 0..3 {
                self.bump();
            }
            let mut s = String::new();
            loop {
                if self.peek() == Some('"') && self.peek_at(1) == Some('"') && self.peek_at(2) == Some('"') {
                    for _ in 0..3 {
                        self.bump();
                    }
                    return Some(s);
                }
                match self.bump() {
                    Some(c) => s.push(c),
                    None => {
                        self.doc.errors.push((line, "a \"\"\" string is not closed".into()));
                        self.broken = true;
                        return Some(s);
                    }
                }
            }
        }
        self.bump();
        let mut s = String::new();
        loop {
            // A newline ends an unclosed string and stays for the caller: the next line
            // is not part of it.
            match self.peek() {
                None | Some('\n') => break,
                Some('"') => {
                    self.bump();
                    return Some(s);
                }
                Some('\\') => {
                    self.bump();
                    match self.peek() {
                        None | Some('\n') => break,
                        Some(c) => {
                            self.bump();
                            s.push(match c {
                                'n' => '\n',
                                't' => '\t',
                                c => c,
                            });
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    s.push(c);
                }
            }
        }
        self.doc
            .errors
            .push((line, "a quoted string is not closed on its line".into()));
        self.broken = true;
        Some(s)
    }

    /// A string, number, boolean, substitution or unquoted text, up to the end of the value.
    fn scalar(&mut self) -> String {
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    if let Some(s) = self.quoted() {
                        out.push_str(&s);
                    }
                }
                Some('$') if self.peek_at(1) == Some('{') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                        out.push(c);
                        if c == '}' {
                            break;
                        }
                    }
                }
                Some(c) if c == '\n' || c == ',' || c == '}' || c == ']' => break,
                Some(_) if self.at_comment() => break,
                Some(c) => {
                    out.push(c);
                    self.bump();
                }
                None => break,
            }
        }
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_dotted_keys_and_lines() {
        let d = parse(
            "datastax-java-driver {\n  basic.contact-points = [ \"cassandra.us-east-1.amazonaws.com:9142\"]\n  advanced {\n    auth-provider = {\n      class = software.aws.mcs.auth.SigV4AuthProvider\n      aws-region = us-east-1 # comment\n    }\n  }\n}\n",
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(
            d.get("datastax-java-driver.basic.contact-points")
                .map(|s| (&s.value, s.line)),
            Some((&Value::List(vec!["cassandra.us-east-1.amazonaws.com:9142".into()]), 2))
        );
        assert_eq!(
            d.text("datastax-java-driver.advanced.auth-provider.class"),
            Some(("software.aws.mcs.auth.SigV4AuthProvider", 5))
        );
        assert_eq!(
            d.text("datastax-java-driver.advanced.auth-provider.aws-region"),
            Some(("us-east-1", 6))
        );
        assert!(d.has("datastax-java-driver.advanced.auth-provider"));
    }

    #[test]
    fn later_settings_win_and_quoted_keys_keep_dots() {
        let d = parse("a.b = 1\na { b = 2 }\n\"x.y\" : \"q\"\n// c\nc = ${?ENV_VAR}\n");
        assert_eq!(d.text("a.b"), Some(("2", 2)));
        assert_eq!(d.text("x.y"), Some(("q", 3)));
        assert_eq!(d.text("c"), Some(("${?ENV_VAR}", 5)));
    }

    #[test]
    fn an_unclosed_string_or_list_never_takes_the_next_lines_with_it() {
        let d = parse("a {\n  truststore-path = \"./x.jks\n  truststore-password = \"pw\"\n}\n");
        assert_eq!(d.get("a.truststore-path"), None);
        assert_eq!(d.text("a.truststore-password"), Some(("pw", 3)));
        let d = parse("a {\n  contact-points = [ \"h:9142\"\n  password = \"s3cret\"\n}\n");
        assert_eq!(d.get("a.contact-points"), None, "{d:?}");
        assert!(
            d.settings
                .iter()
                .all(|s| !format!("{:?}", s.value).contains("s3cret") || s.path.ends_with("password"))
        );
        let d = parse("x = ${?A\ny = 2\n");
        assert_eq!(d.text("y"), Some(("2", 2)));
        let long = format!("\"{}\" {{ a = 1, b = 2 }}", "k".repeat(5000));
        assert!(parse(&long).settings.iter().all(|s| s.path.len() < 2000));
    }

    #[test]
    fn broken_input_is_reported_with_lines_not_panics() {
        let d = parse("a {\n  b = \"open\n  = 3\n");
        assert!(!d.errors.is_empty());
        assert!(d.errors.iter().all(|(l, _)| *l >= 1 && *l <= 4), "{:?}", d.errors);
        let deep = "a{".repeat(500);
        assert!(!parse(&deep).errors.is_empty());
        let lists = format!("a = {}", "[".repeat(500));
        assert!(!parse(&lists).errors.is_empty());
        // Characters no rule consumes inside a list or an object end, with an error.
        for text in ["a = [ } ]", "a = [ } ", "a = [}", "]", "a { ] }", "a = [ \"x\" } 1 ]"] {
            let d = parse(text);
            assert!(!d.errors.is_empty(), "{text}: {d:?}");
        }
    }
}
