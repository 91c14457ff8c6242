//! What `scholactl` prints: aligned text tables for people, JSON for scripts (`--json`), dates,
//! and writing to stdout without panicking when the reader (`| head`) has gone away.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use serde::Serialize;

/// Writes `text` to standard output. A closed pipe is not an error: the reader has all it wanted.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

/// Prints `value` as pretty JSON followed by a newline.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode the output as JSON")?;
    print(&format!("{text}\n"))
}

/// A notice for the person at the terminal that is not part of the command's output (it goes
/// to stderr, so `--json` output stays parseable).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(cell);
            if i + 1 < widths.len() {
                l.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// Replaces control characters with `\u{..}` so that a name typed with a stray newline or
/// escape sequence cannot break or hijack the terminal output.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// "1 group", "3 groups".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(t: i64) -> String {
    let (y, m, d) = schola_core::clock::civil_from_days(t.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM UTC` of a Unix time.
pub fn datetime(t: i64) -> String {
    let secs = t.rem_euclid(86_400);
    format!("{} {:02}:{:02} UTC", date(t), secs / 3600, secs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(datetime(1_788_246_000), "2026-09-01 07:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
    }

    #[test]
    fn table_aligns_by_characters_not_bytes() {
        let t = table(
            &["login", "name"],
            &[
                vec!["juergen.mueller".into(), "Jürgen Müller".into()],
                vec!["zoe".into(), "Zoë".into()],
            ],
        );
        assert_eq!(
            t,
            "login            name\njuergen.mueller  Jürgen Müller\nzoe              Zoë\n"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb\u{1b}[2J"), "a\\u{a}b\\u{1b}[2J");
        assert_eq!(printable("D'Hondt"), "D'Hondt");
    }
}
