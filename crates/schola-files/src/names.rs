//! Names and virtual paths: every path a client sends (WebDAV, portal API, hand-outs) is parsed
//! here into a [`VPath`] of checked, NFC-normalized segments before anything touches the disk.
//!
//! Refused with a [`NameError`] naming the segment and the reason: empty names, `.` and `..`,
//! separators, NUL and control characters, the characters Windows forbids (`< > : " | ? *`),
//! a trailing dot or space, over-long names, reserved Windows device names (`CON`, `NUL.txt`,
//! `com1`, …) and names starting with `.~schola` (our own temporary files). [`same_name`] tells
//! case and normalization twins apart from really different names, so "Ä.txt" (NFD) and
//! "ä.TXT" are treated as the same name as "Ä.txt" when a new file is created beside it.

use unicode_normalization::UnicodeNormalization as _;

/// A path in the virtual namespace (`/home/...`, `/groups/<g>/...`, `/exchange/...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VPath(pub Vec<String>);

/// A refused name, with the reason a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the name '{name}' is not allowed: {reason}")]
pub struct NameError {
    pub name: String,
    pub reason: &'static str,
}

/// The prefix of names schola-files keeps for itself (never listed, never accepted).
pub const INTERNAL_PREFIX: &str = ".~schola";

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Checks one path segment and returns it NFC-normalized.
pub fn check_name(seg: &str) -> Result<String, NameError> {
    let err = |reason| {
        Err(NameError {
            name: seg
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect(),
            reason,
        })
    };
    if seg.is_empty() {
        return err("a name cannot be empty");
    }
    if seg == "." || seg == ".." {
        return err("'.' and '..' are not names");
    }
    if seg.contains('/') || seg.contains('\\') {
        return err("a name cannot contain '/' or '\\'");
    }
    if seg.chars().any(|c| c == '\0' || c.is_control()) {
        return err("a name cannot contain control characters");
    }
    if seg
        .chars()
        .any(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return err("a name cannot contain any of < > : \" | ? *");
    }
    if seg.trim().is_empty() {
        return err("a name cannot be only spaces");
    }
    if seg.ends_with('.') || seg.ends_with(' ') {
        return err("a name cannot end with a dot or a space (Windows cannot open it)");
    }
    if seg.starts_with(char::is_whitespace) {
        return err("a name cannot start with a space");
    }
    // ASCII is already NFC: most names, and every entry of a big listing, skip the tables
    let nfc: String = if seg.is_ascii() {
        seg.to_owned()
    } else {
        seg.nfc().collect()
    };
    if nfc.len() > 255 {
        return err("a name can be at most 255 bytes long");
    }
    let stem = nfc.split('.').next().unwrap_or("").trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return err("it is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)");
    }
    if nfc.starts_with(INTERNAL_PREFIX) {
        return err("names starting with '.~schola' are reserved for Schola");
    }
    Ok(nfc)
}

/// True when `a` and `b` name the same entry on a case-insensitive, normalizing client
/// (Windows, macOS): equal after NFC and Unicode lower-casing.
pub fn same_name(a: &str, b: &str) -> bool {
    NameKey::of(a).matches(b)
}

/// A name folded for [`same_name`] once, to compare against many siblings cheaply (a new
/// file's twin check reads its whole folder).
#[derive(Debug, Clone)]
pub struct NameKey(String);

impl NameKey {
    pub fn of(name: &str) -> NameKey {
        NameKey(fold(name))
    }

    /// The folded form itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// True when `other` folds to this key.
    pub fn matches(&self, other: &str) -> bool {
        if other.is_ascii() {
            // folding ASCII is ASCII lower-casing; a non-ASCII name can still fold to ASCII
            // (the Kelvin sign to 'k'), which is why the key, not the name, is compared
            other.len() == self.0.len()
                && other
                    .bytes()
                    .zip(self.0.bytes())
                    .all(|(a, b)| a.to_ascii_lowercase() == b)
        } else {
            fold(other) == self.0
        }
    }
}

fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.nfc().collect::<String>().to_lowercase()
    }
}

impl VPath {
    /// The root `/`.
    pub fn root() -> VPath {
        VPath(Vec::new())
    }

    /// Parses an already percent-decoded path: `/a/b`, `a/b/`, `` (root). Empty segments from
    /// doubled or trailing slashes are skipped; every other segment must pass [`check_name`].
    pub fn parse(p: &str) -> Result<VPath, NameError> {
        let mut segs = Vec::new();
        for seg in p.split('/') {
            if seg.is_empty() {
                continue;
            }
            segs.push(check_name(seg)?);
        }
        Ok(VPath(segs))
    }

    /// The parent, or `None` for the root.
    pub fn parent(&self) -> Option<VPath> {
        if self.0.is_empty() {
            None
        } else {
            Some(VPath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    /// This path with one more (checked) segment.
    pub fn join(&self, seg: &str) -> Result<VPath, NameError> {
        let mut v = self.0.clone();
        v.push(check_name(seg)?);
        Ok(VPath(v))
    }

    /// The last segment, or `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }
}

impl std::fmt::Display for VPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for s in &self.0 {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hostile_names_are_refused_with_a_reason() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a\nb",
            "a<b",
            "a:b",
            "a?",
            "*",
            "x.",
            "x ",
            "   ",
            " x",
            "CON",
            "con.txt",
            "Lpt9.tar.gz",
            "nul",
            ".~schola-123.tmp",
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(e.to_string().contains("is not allowed"), "{bad}: {e}");
        }
        assert!(check_name(&"a".repeat(256)).is_err());
        assert!(check_name(&"a".repeat(255)).is_ok());
        for good in [
            "Referat.docx",
            ".hidden",
            "CONSOLE.txt",
            "COM10",
            "a b",
            "Übung 1",
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn names_are_nfc_and_twins_are_the_same_name() {
        let nfd = "A\u{0308}pfel.txt";
        assert_eq!(check_name(nfd).unwrap(), "\u{00C4}pfel.txt");
        assert!(same_name(nfd, "\u{00E4}PFEL.txt"));
        assert!(!same_name("a.txt", "b.txt"));
        // the fast ASCII path and the Unicode path agree
        assert!(same_name("Kelvin-\u{212A}.txt", "kelvin-k.TXT"));
        assert!(same_name("kelvin-k.TXT", "Kelvin-\u{212A}.txt"));
        assert!(!same_name("ab", "abc"));
        assert!(NameKey::of("REPORT.pdf").matches("report.PDF"));
        assert!(!NameKey::of("report.pdf").matches("report.pdf2"));
    }

    #[test]
    fn paths_parse_and_print() {
        let p = VPath::parse("/home//a/b/").unwrap();
        assert_eq!(p.to_string(), "/home/a/b");
        assert_eq!(p.parent().unwrap().to_string(), "/home/a");
        assert_eq!(p.name(), Some("b"));
        assert_eq!(VPath::parse("").unwrap(), VPath::root());
        assert_eq!(VPath::root().to_string(), "/");
        assert!(VPath::parse("/home/../etc").is_err());
        assert!(p.join("..").is_err());
    }
}
