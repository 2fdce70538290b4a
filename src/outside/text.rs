//! Text from outside (server messages, certificate names, AWS errors, files, the
//! environment, pasted text) made safe to show: control characters (C0, DEL, C1, and
//! the Unicode bidi overrides) are shown escaped, so no escape sequence reaches a
//! terminal and no newline forges a report line, and the length is capped.

/// The longest piece of outside text kept as one piece of evidence, in characters.
pub const MAX_CHARS: usize = 4096;

/// Whether `c` would act on a terminal (or reorder text) instead of being shown.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `s` with every control character escaped (`\n`, `\t`, `\r`, `\e`, `\u{..}`) and cut
/// to [`MAX_CHARS`] characters with a note of what was cut.
pub fn clean(s: &str) -> String {
    clean_to(s, MAX_CHARS)
}

/// [`clean`] with its own cap.
pub fn clean_to(s: &str, max_chars: usize) -> String {
    if !s.chars().any(is_control) && s.len() <= max_chars {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len().min(max_chars + 32));
    for (shown, (i, c)) in s.char_indices().enumerate() {
        if shown >= max_chars {
            out.push_str(&format!("… ({} more bytes cut)", s.len() - i));
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Whether `s` holds a character [`clean`] would escape.
pub fn has_control(s: &str) -> bool {
    s.chars().any(is_control)
}

/// Text with many lines (a pasted log): each line cleaned, line breaks kept.
pub fn clean_lines(s: &str) -> String {
    s.lines().map(clean).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_caps() {
        assert_eq!(clean("plain text"), "plain text");
        assert_eq!(clean("a\x1b]0;x\x07b\nc"), "a\\e]0;x\\u{7}b\\nc");
        assert_eq!(clean("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(clean("x\u{202e}y"), "x\\u{202e}y");
        let long = "é".repeat(5000);
        let c = clean(&long);
        assert!(c.starts_with(&"é".repeat(MAX_CHARS)));
        assert!(c.ends_with("more bytes cut)"));
        assert!(!has_control(&clean("\x00\x01\x7f\r\t")));
    }
}
