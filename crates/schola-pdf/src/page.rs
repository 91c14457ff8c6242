//! A small page-description layer over pdf-writer for Schola's A4 documents (the password
//! letters, the backup's recovery sheet): base-14 fonts in WinAnsiEncoding (nothing embedded),
//! text, rectangles and lines placed in points from the page's top left, and the writer that
//! turns pages into one PDF.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// The base-14 fonts Schola's documents use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Sans,
    SansBold,
    MonoBold,
    /// ZapfDingbats, for the scissors on the cut lines (its own encoding, not WinAnsi).
    Dingbats,
}

impl Font {
    pub const ALL: [Font; 4] = [Font::Sans, Font::SansBold, Font::MonoBold, Font::Dingbats];

    /// The name in a page's resources.
    pub fn resource(self) -> Name<'static> {
        match self {
            Font::Sans => Name(b"F1"),
            Font::SansBold => Name(b"F2"),
            Font::MonoBold => Name(b"F3"),
            Font::Dingbats => Name(b"F4"),
        }
    }

    pub fn base_font(self) -> Name<'static> {
        match self {
            Font::Sans => Name(b"Helvetica"),
            Font::SansBold => Name(b"Helvetica-Bold"),
            Font::MonoBold => Name(b"Courier-Bold"),
            Font::Dingbats => Name(b"ZapfDingbats"),
        }
    }

    /// Advance width of one code, 1/1000 em.
    pub fn glyph(self, code: u8) -> f64 {
        match self {
            // every Courier glyph is 600 wide
            Font::MonoBold => 600.0,
            // only the scissors (a2) is used
            Font::Dingbats => 961.0,
            Font::Sans => crate::glyph(code, false),
            Font::SansBold => crate::glyph(code, true),
        }
    }

    /// Width of WinAnsi bytes at `size` points.
    pub fn width(self, bytes: &[u8], size: f64) -> f64 {
        bytes.iter().map(|&b| self.glyph(b)).sum::<f64>() * size / 1000.0
    }
}

/// `bytes` at `size`, or smaller so they fit in `max` points. Text that may be cut
/// (`ellipsis`) shrinks down to `min` and then loses its end to an ellipsis; text that must stay
/// exact (a login, a password) shrinks as far as it has to.
pub fn fit(
    mut bytes: Vec<u8>,
    font: Font,
    size: f64,
    min: f64,
    max: f64,
    ellipsis: bool,
) -> (f64, Vec<u8>) {
    let max = max.max(1.0);
    let w = font.width(&bytes, size);
    if w <= max || w <= 0.0 {
        return (size, bytes);
    }
    // a hair smaller than the exact ratio, so rounding in the viewer cannot overflow
    let shrunk = size * max / w * 0.999;
    if shrunk >= min || !ellipsis {
        return (shrunk, bytes);
    }
    // WinAnsi 0x85 is the horizontal ellipsis
    while !bytes.is_empty() && font.width(&bytes, min) + font.width(&[0x85], min) > max {
        bytes.pop();
    }
    bytes.push(0x85);
    (min, bytes)
}

// =============================================================================================
// Pages
// =============================================================================================

// A4 in points
pub const PAGE_W: f64 = 595.28;
pub const PAGE_H: f64 = 841.89;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

pub const fn hex(v: u32) -> Rgb {
    Rgb(
        ((v >> 16) & 0xff) as f32 / 255.0,
        ((v >> 8) & 0xff) as f32 / 255.0,
        (v & 0xff) as f32 / 255.0,
    )
}

pub const INK: Rgb = hex(0x1f2328);
pub const MUTED: Rgb = hex(0x59636e);
pub const RULE: Rgb = hex(0xd0d7de);
pub const SHADE: Rgb = hex(0xeaeef2);
pub const ZEBRA: Rgb = hex(0xf6f8fa);
pub const CUT: Rgb = hex(0x8c959f);

/// Something to draw, in points from the page's top left (y grows downwards).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Text {
        x: f64,
        /// baseline
        y: f64,
        font: Font,
        size: f64,
        /// extra space after each character (Courier passwords read easier spaced out)
        spacing: f64,
        colour: Rgb,
        text: Vec<u8>,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        colour: Rgb,
    },
    Line {
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        colour: Rgb,
        dashed: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub ops: Vec<Op>,
}

impl Page {
    pub fn text(&mut self, x: f64, y: f64, font: Font, (size, text): (f64, Vec<u8>), colour: Rgb) {
        self.spaced(x, y, font, (size, text), 0.0, colour);
    }

    pub fn spaced(
        &mut self,
        x: f64,
        y: f64,
        font: Font,
        (size, text): (f64, Vec<u8>),
        spacing: f64,
        colour: Rgb,
    ) {
        if !text.is_empty() {
            self.ops.push(Op::Text {
                x,
                y,
                font,
                size,
                spacing,
                colour,
                text,
            });
        }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, colour: Rgb) {
        if w > 0.0 && h > 0.0 {
            self.ops.push(Op::Rect { x, y, w, h, colour });
        }
    }

    pub fn line(
        &mut self,
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        colour: Rgb,
        dashed: bool,
    ) {
        self.ops.push(Op::Line {
            from,
            to,
            width,
            colour,
            dashed,
        });
    }
}

// ---- writing --------------------------------------------------------------------------------

pub fn draw(content: &mut Content, ops: &[Op]) {
    // PDF's y grows upwards from the bottom of the page
    let px = |x: f64| x as f32;
    let py = |y: f64| (PAGE_H - y) as f32;
    for op in ops {
        match op {
            Op::Rect { x, y, w, h, colour } => {
                content.set_fill_rgb(colour.0, colour.1, colour.2);
                content.rect(px(*x), py(y + h), *w as f32, *h as f32);
                content.fill_nonzero();
            }
            Op::Line {
                from,
                to,
                width,
                colour,
                dashed,
            } => {
                content.set_stroke_rgb(colour.0, colour.1, colour.2);
                content.set_line_width(*width as f32);
                if *dashed {
                    content.set_dash_pattern([4.0, 3.0], 0.0);
                } else {
                    content.set_dash_pattern([], 0.0);
                }
                content.move_to(px(from.0), py(from.1));
                content.line_to(px(to.0), py(to.1));
                content.stroke();
            }
            Op::Text {
                x,
                y,
                font,
                size,
                spacing,
                colour,
                text,
            } => {
                content.begin_text();
                content.set_font(font.resource(), *size as f32);
                // Tc outlives the text object: set it every time
                content.set_char_spacing(*spacing as f32);
                content.set_fill_rgb(colour.0, colour.1, colour.2);
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, px(*x), py(*y)]);
                content.show(Str(text));
                content.end_text();
            }
        }
    }
}

pub fn write_pdf(title: &str, pages: &[Page]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts: Vec<(Font, Ref)> = Font::ALL
        .iter()
        .zip(4..)
        .map(|(&f, id)| (f, Ref::new(id)))
        .collect();
    let first = 4 + Font::ALL.len() as i32;
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len() as i32)
        .map(|i| (Ref::new(first + 2 * i), Ref::new(first + 1 + 2 * i)))
        .collect();

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree);
        cat.viewer_preferences().display_doc_title(true);
    }
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    for &(font, id) in &fonts {
        let mut f = pdf.type1_font(id);
        f.base_font(font.base_font());
        if font != Font::Dingbats {
            f.encoding_predefined(Name(b"WinAnsiEncoding"));
        }
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .creator(TextStr("Schola"))
        .producer(TextStr("Schola"));

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32));
        p.parent(tree);
        p.contents(*content_id);
        {
            let mut resources = p.resources();
            let mut dict = resources.fonts();
            for &(font, id) in &fonts {
                dict.pair(font.resource(), id);
            }
        }
        p.finish();
        let mut content = Content::new();
        draw(&mut content, &page.ops);
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// WinAnsi `text` broken into lines of at most `max` points at spaces (a word longer than a
/// line is broken where it must be).
pub fn wrap(text: &[u8], font: Font, size: f64, max: f64) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if font.width(&candidate, size) <= max || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_vec();
        }
        // a single word wider than the line: cut it
        while font.width(&line, size) > max && line.len() > 1 {
            let mut n = line.len() - 1;
            while n > 1 && font.width(&line[..n], size) > max {
                n -= 1;
            }
            lines.push(line[..n].to_vec());
            line = line[n..].to_vec();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_within_the_width() {
        let text = b"Keep this sheet off the server, locked away in the school office.";
        let lines = wrap(text, Font::Sans, 11.0, 150.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for l in &lines {
            assert!(Font::Sans.width(l, 11.0) <= 150.0, "{l:?}");
        }
        assert_eq!(lines.join(&b' '), text.to_vec());
        let long = wrap(&[b'x'; 200], Font::MonoBold, 10.0, 60.0);
        assert!(long.iter().all(|l| l.len() == 10), "{long:?}");
        assert!(wrap(b"   ", Font::Sans, 11.0, 100.0).is_empty());
    }

    #[test]
    fn a_page_becomes_a_pdf() {
        let mut page = Page::default();
        page.text(72.0, 72.0, Font::SansBold, (20.0, b"Hallo".to_vec()), INK);
        let pdf = write_pdf("Test", &[page]);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.windows(5).any(|w| w == b"Hallo"));
    }
}
