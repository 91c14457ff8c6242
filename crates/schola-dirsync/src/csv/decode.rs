//! Bytes to text: refuses what is not a text file and finds the encoding of what is.
//!
//! School administration software writes UTF-8 (often with a byte order mark, as Excel does),
//! Windows-1252, ISO-8859-15 or, as Excel's "Unicode text", UTF-16 with a byte order mark.
//! Valid UTF-8 is UTF-8. Anything else is one of the two Western European single-byte
//! encodings: bytes 0x80-0x9F are letters and signs in Windows-1252 but unused control codes in
//! ISO-8859-15, so they settle it; otherwise the eight bytes where the two differ decide, by
//! which reading puts letters inside words.

use std::borrow::Cow;

use encoding_rs::{Encoding, ISO_8859_15, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{CsvError, MAX_FILE_BYTES};
use crate::roster::Warning;

/// A file's text and what it was written in.
#[derive(Debug)]
pub(super) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// As [`crate::roster::Roster::encoding`] reports it.
    pub encoding: &'static str,
    pub warnings: Vec<Warning>,
}

/// Files that are something else, by the bytes they start with.
const NOT_CSV: &[(&[u8], &str)] = &[
    (
        b"PK\x03\x04",
        "a ZIP archive (an .xlsx or .ods workbook?); save the sheet as CSV",
    ),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "an old Excel workbook (.xls); save the sheet as CSV",
    ),
    (b"%PDF-", "a PDF document"),
];

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, CsvError> {
    if bytes.is_empty() {
        return Err(CsvError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvError::TooLarge { bytes: bytes.len() });
    }
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        return Err(CsvError::Encoding(
            "the file is UTF-32 text, which is not read; save it as UTF-8".into(),
        ));
    }
    if let Some(body) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(body, UTF_16LE, "UTF-16LE with BOM");
    }
    if let Some(body) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(body, UTF_16BE, "UTF-16BE with BOM");
    }
    for (magic, what) in NOT_CSV {
        if bytes.starts_with(magic) {
            return Err(CsvError::NotCsv(what));
        }
    }
    refuse_binary(bytes)?;
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(body) {
            Ok(text) => Ok(Decoded {
                text: Cow::Borrowed(text),
                encoding: "UTF-8 with BOM",
                warnings: Vec::new(),
            }),
            Err(e) => {
                let at = 3 + e.valid_up_to();
                Err(CsvError::Encoding(format!(
                    "line {}: the file starts with a UTF-8 byte order mark, but byte {} is not \
                     UTF-8; save the export again as UTF-8",
                    line_of(bytes, at),
                    at + 1
                )))
            }
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: "UTF-8",
            warnings: Vec::new(),
        });
    }
    Ok(single_byte(bytes))
}

fn utf16<'a>(
    body: &[u8],
    encoding: &'static Encoding,
    name: &'static str,
) -> Result<Decoded<'a>, CsvError> {
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or_else(|| {
            CsvError::Encoding(format!(
                "the file starts with a {} byte order mark but is not valid {} text (is it cut \
                 off?)",
                &name[..8],
                &name[..8]
            ))
        })?;
    if let Some(at) = text.find('\0') {
        return Err(CsvError::Binary(format!(
            "a NUL character on line {}",
            line_of(text.as_bytes(), at)
        )));
    }
    Ok(Decoded {
        text: Cow::Owned(text.into_owned()),
        encoding: name,
        warnings: Vec::new(),
    })
}

/// A NUL byte, or many control bytes near the start: an image, a database, a workbook.
fn refuse_binary(bytes: &[u8]) -> Result<(), CsvError> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let hint = if bytes.len() >= 4 && bytes[0] != 0 && bytes[1] == 0 && bytes[3] == 0 {
            "; it looks like UTF-16 text without a byte order mark: save it as UTF-8"
        } else {
            ""
        };
        return Err(CsvError::Binary(format!(
            "a NUL byte at byte {}{hint}",
            at + 1
        )));
    }
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let is_control = |b: &u8| matches!(b, 0x01..=0x08 | 0x0B | 0x0E..=0x19 | 0x1B..=0x1F | 0x7F);
    let controls = head.iter().filter(|b| is_control(b)).count();
    // More than one byte in twenty: text has a stray one at most.
    if controls * 20 > head.len() {
        let first = head.iter().position(is_control).unwrap_or(0);
        return Err(CsvError::Binary(format!(
            "{controls} control bytes in the first {} bytes (the first at byte {})",
            head.len(),
            first + 1
        )));
    }
    Ok(())
}

/// The bytes where ISO-8859-15 and Windows-1252 (outside 0x80-0x9F) differ, with each
/// reading; `upper` for a capital letter in ISO-8859-15, `None` for a sign in both.
const DIFFERING: &[(u8, char, char, Option<bool>)] = &[
    (0xA4, '€', '¤', None),
    (0xA6, 'Š', '¦', Some(true)),
    (0xA8, 'š', '¨', Some(false)),
    (0xB4, 'Ž', '´', Some(true)),
    (0xB8, 'ž', '¸', Some(false)),
    (0xBC, 'Œ', '¼', Some(true)),
    (0xBD, 'œ', '½', Some(false)),
    (0xBE, 'Ÿ', '¾', Some(true)),
];

/// A letter in both encodings (ASCII, or the Latin-1 letters at 0xC0-0xFF but × and ÷).
fn is_letter(b: u8) -> bool {
    b.is_ascii_alphabetic() || (b >= 0xC0 && b != 0xD7 && b != 0xF7)
}
fn is_upper(b: u8) -> bool {
    b.is_ascii_uppercase() || ((0xC0..=0xDE).contains(&b) && b != 0xD7)
}
fn is_lower(b: u8) -> bool {
    is_letter(b) && !is_upper(b)
}

fn single_byte(bytes: &[u8]) -> Decoded<'static> {
    let mut warnings = Vec::new();
    if let Some(at) = first_utf8_sequence(bytes) {
        warnings.push(Warning {
            line: Some(line_of(bytes, at)),
            message: "this line looks like UTF-8, but the file as a whole is not: it mixes two \
                      encodings, so names on this line will look wrong (such as 'Ã¼' for 'ü'); \
                      save the export again in one encoding"
                .into(),
        });
    }
    let (encoding, name) = if bytes.iter().any(|b| (0x80..=0x9F).contains(b)) {
        (WINDOWS_1252, "Windows-1252")
    } else {
        let (encoding, name, warning) = latin9_or_cp1252(bytes);
        warnings.extend(warning);
        (encoding, name)
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: Cow::Owned(text.into_owned()),
        encoding: name,
        warnings,
    }
}

/// Votes, byte by byte where the two differ, for the reading that makes a letter inside a word
/// (ISO-8859-15) or a sign beside one (Windows-1252); a tie is Windows-1252, with a warning.
fn latin9_or_cp1252(bytes: &[u8]) -> (&'static Encoding, &'static str, Option<Warning>) {
    // (votes, first byte position that voted) for ISO-8859-15 and for Windows-1252
    let mut latin9 = (0usize, None);
    let mut cp1252 = (0usize, None);
    let mut undecided = None;
    for (i, &b) in bytes.iter().enumerate() {
        let Some(&(_, _, _, upper)) = DIFFERING.iter().find(|d| d.0 == b) else {
            continue;
        };
        let prev = i.checked_sub(1).map(|p| bytes[p]);
        let next = bytes.get(i + 1).copied();
        let after = bytes.get(i + 2).copied();
        let letter = match upper {
            None => {
                undecided.get_or_insert(i);
                continue;
            }
            // š ž œ: beside a letter
            Some(false) => prev.is_some_and(is_letter) || next.is_some_and(is_letter),
            // Š Ž Œ Ÿ: starting a word, or in capitals; not after a small letter (d´Angelo), nor
            // as a capital before a capital and a small letter (D´Angelo, O´Connor)
            Some(true) => {
                next.is_some_and(is_letter)
                    && !prev.is_some_and(is_lower)
                    && !(next.is_some_and(is_upper) && after.is_some_and(is_lower))
            }
        };
        let vote = if letter { &mut latin9 } else { &mut cp1252 };
        vote.0 += 1;
        vote.1.get_or_insert(i);
    }
    let reading = |at: usize, latin9_first: bool| {
        let b = bytes[at];
        let (l9, cp) = DIFFERING
            .iter()
            .find(|d| d.0 == b)
            .map_or(('?', '?'), |d| (d.1, d.2));
        if latin9_first {
            format!("byte 0x{b:02X} reads better as '{cp}' (Windows-1252) than as '{l9}'")
        } else {
            format!("byte 0x{b:02X} reads better as '{l9}' (ISO-8859-15) than as '{cp}'")
        }
    };
    if latin9.0 > cp1252.0 {
        let warning = cp1252.1.map(|at| Warning {
            line: Some(line_of(bytes, at)),
            message: format!(
                "the file was read as ISO-8859-15 (letters such as Š, ž, œ inside words in {} \
                 places), but here {}: check the names on this line",
                latin9.0,
                reading(at, true)
            ),
        });
        return (ISO_8859_15, "ISO-8859-15", warning);
    }
    if cp1252.0 > latin9.0 {
        let warning = latin9.1.map(|at| Warning {
            line: Some(line_of(bytes, at)),
            message: format!(
                "the file was read as Windows-1252 (signs such as ´ ¼ beside words in {} places), \
                 but here {}: check the names on this line",
                cp1252.0,
                reading(at, false)
            ),
        });
        return (WINDOWS_1252, "Windows-1252", warning);
    }
    // A tie: nothing, or as much for one as for the other.
    let warning = latin9.1.or(undecided).map(|at| {
        let b = bytes[at];
        let (l9, cp) = DIFFERING
            .iter()
            .find(|d| d.0 == b)
            .map_or(('?', '?'), |d| (d.1, d.2));
        Warning {
            line: Some(line_of(bytes, at)),
            message: format!(
                "the file is not UTF-8 and could be Windows-1252 or ISO-8859-15; it was read as \
                 Windows-1252, where byte 0x{b:02X} on this line is '{cp}' (in ISO-8859-15 \
                 '{l9}'): check the names, or save the export as UTF-8"
            ),
        }
    });
    (WINDOWS_1252, "Windows-1252", warning)
}

/// Where a multi-byte UTF-8 sequence is in a file that is not UTF-8 as a whole.
fn first_utf8_sequence(bytes: &[u8]) -> Option<usize> {
    let cont = |i: usize| bytes.get(i).is_some_and(|b| (0x80..=0xBF).contains(b));
    (0..bytes.len()).find(|&i| match bytes[i] {
        0xC2..=0xDF => cont(i + 1),
        0xE0..=0xEF => cont(i + 1) && cont(i + 2),
        _ => false,
    })
}

/// The 1-based line a byte is on.
pub(super) fn line_of(bytes: &[u8], at: usize) -> u64 {
    1 + bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(bytes: &[u8]) -> (&'static str, String, Vec<Warning>) {
        match decode(bytes) {
            Ok(d) => (d.encoding, d.text.into_owned(), d.warnings),
            Err(e) => ("error", e.to_string(), Vec::new()),
        }
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let (e, t, w) = enc("Müller".as_bytes());
        assert_eq!((e, t.as_str(), w.len()), ("UTF-8", "Müller", 0));
        let (e, t, _) = enc(b"\xEF\xBB\xBFM\xC3\xBCller");
        assert_eq!((e, t.as_str()), ("UTF-8 with BOM", "Müller"));
        let (e, t, _) = enc(b"\xEF\xBB\xBFa\nM\xFCller");
        assert_eq!(e, "error");
        assert!(t.contains("line 2") && t.contains("byte 7"), "{t}");
    }

    #[test]
    fn c1_bytes_mean_windows_1252() {
        // Š in Windows-1252 is 0x8A; ´ at 0xB4 then stays ´
        let (e, t, w) = enc(b"\x8Aime;D\xB4Angelo");
        assert_eq!((e, t.as_str()), ("Windows-1252", "Šime;D´Angelo"));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn letters_inside_words_mean_iso_8859_15() {
        let (e, t, w) = enc(b"\xA6imon;Ko\xB8eluh;\xBCuvre");
        assert_eq!((e, t.as_str()), ("ISO-8859-15", "Šimon;Koželuh;Œuvre"));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn signs_beside_words_mean_windows_1252() {
        let (e, t, w) = enc(b"O\xB4Connor;M\xFCller;d\xB4Angelo\n1\xBD");
        assert_eq!(
            (e, t.as_str()),
            ("Windows-1252", "O´Connor;Müller;d´Angelo\n1½")
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_tie_is_windows_1252_with_a_warning() {
        let (e, t, w) = enc(b"a;b\n10 \xA4;M\xFCller");
        assert_eq!((e, t.as_str()), ("Windows-1252", "a;b\n10 ¤;Müller"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, Some(2));
        assert!(w[0].message.contains("ISO-8859-15"), "{w:?}");
        // nothing where the two differ: no guess to warn about
        let (e, _, w) = enc(b"M\xFCller");
        assert_eq!((e, w.len()), ("Windows-1252", 0));
    }

    #[test]
    fn a_minority_reading_is_pointed_out() {
        let (e, _, w) = enc(b"\xA6imon;Ko\xB8eluh\nO\xB4Connor");
        assert_eq!(e, "ISO-8859-15");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, Some(2));
    }

    #[test]
    fn mixed_encodings_are_pointed_out() {
        let (e, t, w) = enc(b"M\xFCller\nRen\xC3\xA9e");
        assert_eq!((e, t.as_str()), ("Windows-1252", "Müller\nRenÃ©e"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, Some(2));
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in "Kürzel\tŞ\r\n".encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
        }
        assert_eq!(enc(&le).0, "UTF-16LE with BOM");
        assert_eq!(enc(&le).1, "Kürzel\tŞ\r\n");
        assert_eq!(enc(&be).0, "UTF-16BE with BOM");
        assert_eq!(enc(&be).1, "Kürzel\tŞ\r\n");
        le.push(b'x');
        assert_eq!(enc(&le).0, "error");
        assert!(enc(&le).1.contains("UTF-16"));
    }

    #[test]
    fn binary_files_are_refused() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(enc(png).1, "this is not a text file: a NUL byte at byte 9");
        assert!(enc(b"PK\x03\x04\x14\0").1.contains("xlsx"));
        let controls: Vec<u8> = (0..100u8)
            .map(|i| if i % 4 == 0 { 1 } else { b'a' })
            .collect();
        assert!(
            enc(&controls).1.contains("control bytes"),
            "{}",
            enc(&controls).1
        );
        assert!(enc(b"i\0d\0,\0").1.contains("UTF-16"));
        assert_eq!(enc(b"").1, "the file is empty (0 bytes)");
    }

    #[test]
    fn lines_are_counted_from_one() {
        assert_eq!(line_of(b"a\nb\nc", 0), 1);
        assert_eq!(line_of(b"a\nb\nc", 2), 2);
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
    }
}
