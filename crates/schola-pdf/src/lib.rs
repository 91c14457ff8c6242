//! schola-pdf: Helvetica's glyph widths and the WinAnsi encoding, what Schola's PDFs (the
//! capacity readiness report, the password letters) measure lines with, and what the capacity
//! pictures estimate SVG label widths with (browsers' sans-serif fonts such as Arial and
//! Liberation Sans are metric-compatible with Helvetica).
//!
//! The base-14 fonts are not embedded, so the widths must be the ones every PDF viewer uses:
//! Adobe's Core 14 AFM files (`Helvetica.afm`, `Helvetica-Bold.afm`), in 1/1000 em, indexed by
//! WinAnsi code 32..=255. Codes WinAnsi leaves undefined (127, 129, 141, 143, 144, 157) are 0:
//! [`encode`] never produces them.

pub mod page;

/// Helvetica, WinAnsi codes 32..=255.
#[rustfmt::skip]
const REGULAR: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32..47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48..63
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64..79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80..95
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96..111
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 112..127
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 128..143
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 144..159
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160..175
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176..191
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192..207
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208..223
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 224..239
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 240..255
];

/// Helvetica-Bold, WinAnsi codes 32..=255.
#[rustfmt::skip]
const BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 32..47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 48..63
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 64..79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 80..95
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 96..111
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 112..127
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 128..143
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 144..159
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160..175
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176..191
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192..207
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208..223
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 224..239
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 240..255
];

/// The WinAnsi code of a character; `None` for one the encoding lacks (the base-14 fonts have no
/// other glyphs). Spaces that must not break (U+202F, which French puts before `:` and inside
/// numbers, U+2007, U+2009) become the no-break space rather than `?`: they are spaces, only
/// narrower.
pub fn winansi(c: char) -> Option<u8> {
    Some(match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '\t' => b' ',
        '\u{2007}' | '\u{2009}' | '\u{202f}' => 0xa0,
        '\u{2010}' | '\u{2011}' | '\u{2212}' => b'-',
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => return None,
    })
}

/// A string in WinAnsi bytes; characters the encoding lacks become `?`.
pub fn encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| winansi(c).unwrap_or(b'?')).collect()
}

/// Advance width of one WinAnsi code, in 1/1000 em.
pub fn glyph(code: u8, bold: bool) -> f64 {
    let table = if bold { &BOLD } else { &REGULAR };
    match code.checked_sub(32) {
        Some(i) => f64::from(table[usize::from(i)]),
        None => 0.0,
    }
}

/// Width of WinAnsi bytes at `size` points.
pub fn width(bytes: &[u8], bold: bool, size: f64) -> f64 {
    bytes.iter().map(|&b| glyph(b, bold)).sum::<f64>() * size / 1000.0
}

/// Width of a string at `size` (points, or SVG user units).
pub fn str_width(s: &str, bold: bool, size: f64) -> f64 {
    width(&encode(s), bold, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_adobe_afm() {
        // a few values read from the AFM files, across the table
        assert_eq!(glyph(b' ', false), 278.0);
        assert_eq!(glyph(b'W', false), 944.0);
        assert_eq!(glyph(b'i', false), 222.0);
        assert_eq!(glyph(b'i', true), 278.0);
        assert_eq!(glyph(b'\xdf', false), 611.0);
        assert_eq!(glyph(b'\xfc', true), 611.0);
        assert_eq!(glyph(b'\x80', false), 556.0);
        assert_eq!(glyph(b'\x97', false), 1000.0);
        assert!((str_width("Größe", false, 10.0) - 28.34).abs() < 1e-9);
    }

    #[test]
    fn outside_winansi_is_a_question_mark() {
        assert_eq!(encode("Ä€ł→"), vec![0xc4, 0x80, b'?', b'?']);
        assert_eq!(encode("1\u{202f}900"), b"1\xa0900".to_vec());
    }
}
