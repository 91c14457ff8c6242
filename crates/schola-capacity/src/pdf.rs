//! The readiness report for the school authority as PDF: the document a school hands over to
//! get new hardware approved.
//!
//! The web UI fills a small document model ([`Report`], [`Block`]) with translated text; this
//! module typesets it on A4 and writes the PDF with `pdf-writer`. The fonts are the base-14
//! Helvetica and Helvetica-Bold in WinAnsiEncoding, so nothing is embedded and the file stays
//! small; lines are broken by the fonts' real glyph widths ([`metrics`]). Characters WinAnsi
//! lacks come out as `?`.
//!
//! Typesetting happens in two passes: [`Block`]s become unbreakable chunks (a heading, a
//! paragraph line, a table row, a bar), then the chunks are placed on pages. A chunk marked
//! "keep with next" moves to the next page together with its successor, so a heading never
//! stands alone at the bottom, and a table row that starts a page gets the table's header
//! again. Content is written top to bottom, left to right, so `pdftotext` reads it in order.

pub(crate) mod metrics;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::Level;
use crate::svg::{Bar, BarLabels, level_rgb};
use metrics::{encode, width};

/// A readiness report, every text already translated.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub title: String,
    pub subtitle: String,
    /// Page footer, e.g. "Gesamtschule Nord · 12 March 2026"; "n / N" is added on the right.
    pub footer: String,
    pub blocks: Vec<Block>,
}

/// One part of a report, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    /// Text wrapped to the page; a `\n` starts a new line.
    Paragraph(String),
    /// key/value pairs (school size, hardware)
    Facts(Vec<(String, String)>),
    /// a table; `levels`, when given, colours the first cell of each row (OK/WARN/FAIL)
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        levels: Option<Vec<Level>>,
    },
    /// the need-versus-capacity bars, drawn as vector graphics
    Bars(Vec<Bar>, BarLabels),
}

/// Typesets the report: A4 PDF bytes.
pub fn render(report: &Report) -> Vec<u8> {
    let chunks = layout(report);
    let pages = paginate(&chunks);
    write(report, &chunks, &pages)
}

// A4 in points, 20 mm side and top margins; the bottom margin leaves room for the footer.
const PAGE_W: f64 = 595.28;
const PAGE_H: f64 = 841.89;
const MARGIN: f64 = 56.69;
const TOP: f64 = 56.69;
const BOTTOM: f64 = 70.87;
const WIDTH: f64 = PAGE_W - 2.0 * MARGIN;
const CONTENT_H: f64 = PAGE_H - TOP - BOTTOM;
const FOOTER_BASELINE: f64 = 36.0;

const BODY: f64 = 10.5;
const BODY_LEADING: f64 = 14.5;
const TABLE: f64 = 9.5;
const TABLE_LEADING: f64 = 12.5;
const CELL_PAD_X: f64 = 5.0;
const CELL_PAD_Y: f64 = 3.5;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(f32, f32, f32);

const fn hex(v: u32) -> Rgb {
    Rgb(
        ((v >> 16) & 0xff) as f32 / 255.0,
        ((v >> 8) & 0xff) as f32 / 255.0,
        (v & 0xff) as f32 / 255.0,
    )
}

const INK: Rgb = hex(0x1f2328);
const MUTED: Rgb = hex(0x59636e);
const RULE: Rgb = hex(0xd0d7de);
const SHADE: Rgb = hex(0xeaeef2);
const HAVE_SWATCH: Rgb = hex(0x6e7781);
const WHITE: Rgb = hex(0xffffff);

fn level_colour(level: Level) -> Rgb {
    let (r, g, b) = level_rgb(level);
    Rgb(
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    )
}

/// The light background of a table's first cell per level; the text on it stays dark.
fn level_tint(level: Level) -> Rgb {
    match level {
        Level::Ok => hex(0xdafbe1),
        Level::Warn => hex(0xfff8c5),
        Level::Fail => hex(0xffebe9),
    }
}

/// Something to draw, in points from the chunk's top left (y grows downwards).
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Text {
        x: f64,
        /// baseline
        y: f64,
        bold: bool,
        size: f64,
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
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        width: f64,
        colour: Rgb,
    },
}

/// An unbreakable piece of the document.
#[derive(Debug, Clone, Default)]
struct Chunk {
    height: f64,
    /// Space above, dropped at the top of a page.
    space_before: f64,
    ops: Vec<Op>,
    /// Goes to the next page together with the chunk after it.
    keep_with_next: bool,
    /// A table header (index into the chunks) to repeat when this chunk starts a page.
    header: Option<usize>,
}

impl Chunk {
    fn text(&mut self, x: f64, y: f64, bold: bool, size: f64, colour: Rgb, text: Vec<u8>) {
        if !text.is_empty() {
            self.ops.push(Op::Text {
                x,
                y,
                bold,
                size,
                colour,
                text,
            });
        }
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, colour: Rgb) {
        if w > 0.0 && h > 0.0 {
            self.ops.push(Op::Rect { x, y, w, h, colour });
        }
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), width: f64, colour: Rgb) {
        self.ops.push(Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            colour,
        });
    }
}

/// The baseline of a line of `size` text in a line box `leading` high.
fn baseline(leading: f64, size: f64) -> f64 {
    (leading - size) / 2.0 + 0.78 * size
}

/// Breaks `text` into lines no wider than `max`: at spaces, and at `\n`; a word wider than a
/// line is broken between letters rather than run off the page.
fn wrap(text: &str, bold: bool, size: f64, max: f64) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for hard in text.split('\n') {
        let bytes = encode(hard);
        let mut line: Vec<u8> = Vec::new();
        for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
            let mut candidate = line.clone();
            if !candidate.is_empty() {
                candidate.push(b' ');
            }
            candidate.extend_from_slice(word);
            if width(&candidate, bold, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest = word;
            while width(rest, bold, size) > max && rest.len() > 1 {
                let mut k = 1;
                while k < rest.len() && width(&rest[..=k], bold, size) <= max {
                    k += 1;
                }
                lines.push(rest[..k].to_vec());
                rest = &rest[k..];
            }
            line = rest.to_vec();
        }
        lines.push(line);
    }
    lines
}

/// `text` cut to `max` wide with an ellipsis, for one-line places (footer, bar labels).
fn fit(text: &str, bold: bool, size: f64, max: f64) -> Vec<u8> {
    let mut bytes = encode(text);
    if width(&bytes, bold, size) <= max {
        return bytes;
    }
    // WinAnsi 0x85 is the horizontal ellipsis
    while !bytes.is_empty() && width(&bytes, bold, size) + width(&[0x85], bold, size) > max {
        bytes.pop();
    }
    bytes.push(0x85);
    bytes
}

/// How a run of text looks: font, size, line height and colour.
#[derive(Debug, Clone, Copy)]
struct Style {
    bold: bool,
    size: f64,
    leading: f64,
    colour: Rgb,
}

const fn style(bold: bool, size: f64, leading: f64, colour: Rgb) -> Style {
    Style {
        bold,
        size,
        leading,
        colour,
    }
}

const TITLE: Style = style(true, 20.0, 25.0, INK);
const SUBTITLE: Style = style(false, 12.0, 16.0, MUTED);
const HEADING: Style = style(true, 13.5, 17.0, INK);
const CAPTION: Style = style(true, 11.0, 15.0, INK);
const KEY: Style = style(true, BODY, BODY_LEADING, INK);
const TEXT: Style = style(false, BODY, BODY_LEADING, INK);

/// A block of wrapped lines at the given position.
fn text_lines(chunk: &mut Chunk, x: f64, top: f64, lines: Vec<Vec<u8>>, s: Style) {
    for (i, line) in lines.into_iter().enumerate() {
        let y = top + i as f64 * s.leading + baseline(s.leading, s.size);
        chunk.text(x, y, s.bold, s.size, s.colour, line);
    }
}

fn layout(report: &Report) -> Vec<Chunk> {
    let mut chunks = Vec::new();

    let mut head = Chunk::default();
    let title = wrap(&report.title, TITLE.bold, TITLE.size, WIDTH);
    let title_h = title.len() as f64 * TITLE.leading;
    text_lines(&mut head, 0.0, 0.0, title, TITLE);
    let subtitle = wrap(&report.subtitle, SUBTITLE.bold, SUBTITLE.size, WIDTH);
    let sub_h = if report.subtitle.is_empty() {
        0.0
    } else {
        subtitle.len() as f64 * SUBTITLE.leading + 4.0
    };
    text_lines(&mut head, 0.0, title_h + 4.0, subtitle, SUBTITLE);
    let rule_y = title_h + sub_h + 8.0;
    head.line((0.0, rule_y), (WIDTH, rule_y), 0.8, RULE);
    head.height = rule_y + 4.0;
    chunks.push(head);

    for block in &report.blocks {
        match block {
            Block::Heading(text) => heading(&mut chunks, text),
            Block::Paragraph(text) => paragraph(&mut chunks, text),
            Block::Facts(pairs) => facts(&mut chunks, pairs),
            Block::Table {
                header,
                rows,
                levels,
            } => table(&mut chunks, header, rows, levels.as_deref()),
            Block::Bars(bars, labels) => bar_rows(&mut chunks, bars, labels),
        }
    }
    chunks
}

fn heading(chunks: &mut Vec<Chunk>, text: &str) {
    let lines = wrap(text, HEADING.bold, HEADING.size, WIDTH);
    let mut c = Chunk {
        height: lines.len() as f64 * HEADING.leading + 3.0,
        space_before: 16.0,
        keep_with_next: true,
        ..Chunk::default()
    };
    text_lines(&mut c, 0.0, 0.0, lines, HEADING);
    chunks.push(c);
}

fn paragraph(chunks: &mut Vec<Chunk>, text: &str) {
    let lines = wrap(text, false, BODY, WIDTH);
    let n = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        let mut c = Chunk {
            height: BODY_LEADING,
            space_before: if i == 0 { 6.0 } else { 0.0 },
            // no single first line at the bottom of a page, no single last line at the top
            keep_with_next: n >= 2 && (i == 0 || i + 2 == n),
            ..Chunk::default()
        };
        c.text(0.0, baseline(BODY_LEADING, BODY), false, BODY, INK, line);
        chunks.push(c);
    }
}

fn facts(chunks: &mut Vec<Chunk>, pairs: &[(String, String)]) {
    const GAP: f64 = 14.0;
    let key_w = pairs
        .iter()
        .flat_map(|(k, _)| k.split('\n'))
        .map(|k| width(&encode(k), true, BODY))
        .fold(0.0, f64::max)
        .min(WIDTH * 0.4);
    let value_w = WIDTH - key_w - GAP;
    for (i, (key, value)) in pairs.iter().enumerate() {
        let keys = wrap(key, true, BODY, key_w);
        let values = wrap(value, false, BODY, value_w);
        let rows = keys.len().max(values.len()) as f64;
        let height = rows * BODY_LEADING + 5.0;
        let mut c = Chunk {
            height,
            space_before: if i == 0 { 6.0 } else { 0.0 },
            ..Chunk::default()
        };
        text_lines(&mut c, 0.0, 2.0, keys, KEY);
        text_lines(&mut c, key_w + GAP, 2.0, values, TEXT);
        c.line((0.0, height), (WIDTH, height), 0.4, RULE);
        chunks.push(c);
    }
}

/// Column widths sized to content: every column gets at least its longest word; then the
/// columns that need least to fit on one line get it first (a number or a level never wraps),
/// and the long texts share what is left.
fn column_widths(cells: &[Vec<(String, bool)>], ncols: usize) -> Vec<f64> {
    let pad = 2.0 * CELL_PAD_X;
    let mut min = vec![pad; ncols];
    let mut max = vec![pad; ncols];
    for row in cells {
        for (c, (text, bold)) in row.iter().enumerate() {
            for hard in text.split('\n') {
                let bytes = encode(hard);
                let full = width(&bytes, *bold, TABLE) + pad;
                let word = bytes
                    .split(|&b| b == b' ')
                    .map(|w| width(w, *bold, TABLE))
                    .fold(0.0, f64::max)
                    + pad;
                max[c] = max[c].max(full);
                min[c] = min[c].max(word);
            }
        }
    }
    let sum_max: f64 = max.iter().sum();
    let sum_min: f64 = min.iter().sum();
    if sum_max <= WIDTH {
        // everything fits on one line: spread the rest so the table spans the page
        let extra = WIDTH - sum_max;
        return max.iter().map(|m| m + extra * m / sum_max).collect();
    }
    if sum_min > WIDTH {
        // even the longest words do not fit: shrink, and `wrap` breaks words
        return min.iter().map(|m| m * WIDTH / sum_min).collect();
    }
    let mut widths = min.clone();
    let mut spare = WIDTH - sum_min;
    let mut order: Vec<usize> = (0..ncols).collect();
    order.sort_by(|&a, &b| (max[a] - min[a]).total_cmp(&(max[b] - min[b])));
    for (k, &c) in order.iter().enumerate() {
        let fair = spare / (ncols - k) as f64;
        let give = (max[c] - min[c]).min(fair);
        widths[c] += give;
        spare -= give;
    }
    widths
}

/// One table row as a chunk: cells wrapped to their columns, the row as high as its tallest
/// cell.
fn table_row(
    cells: &[(String, bool)],
    widths: &[f64],
    level: Option<Level>,
    header: bool,
) -> Chunk {
    let wrapped: Vec<Vec<Vec<u8>>> = cells
        .iter()
        .zip(widths)
        .map(|((text, bold), w)| wrap(text, *bold, TABLE, w - 2.0 * CELL_PAD_X))
        .collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let height = lines as f64 * TABLE_LEADING + 2.0 * CELL_PAD_Y;
    let mut c = Chunk {
        height,
        ..Chunk::default()
    };
    if header {
        c.rect(0.0, 0.0, WIDTH, height, SHADE);
    }
    if let (Some(level), Some(w)) = (level, widths.first()) {
        c.rect(0.0, 0.0, *w, height, level_tint(level));
        c.rect(0.0, 0.0, 3.0, height, level_colour(level));
    }
    let mut x = 0.0;
    for ((lines, (_, bold)), w) in wrapped.into_iter().zip(cells).zip(widths) {
        let s = style(*bold, TABLE, TABLE_LEADING, INK);
        text_lines(&mut c, x + CELL_PAD_X, CELL_PAD_Y, lines, s);
        x += w;
    }
    let (rule, colour) = if header { (0.8, INK) } else { (0.4, RULE) };
    c.line((0.0, height), (WIDTH, height), rule, colour);
    c
}

fn table(
    chunks: &mut Vec<Chunk>,
    header: &[String],
    rows: &[Vec<String>],
    levels: Option<&[Level]>,
) {
    let ncols = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(header.len()))
        .max()
        .unwrap_or(0);
    if ncols == 0 {
        return;
    }
    let cell =
        |row: &[String], c: usize, bold: bool| (row.get(c).cloned().unwrap_or_default(), bold);
    let head: Vec<(String, bool)> = (0..ncols).map(|c| cell(header, c, true)).collect();
    let body: Vec<Vec<(String, bool)>> = rows
        .iter()
        .map(|r| (0..ncols).map(|c| cell(r, c, false)).collect())
        .collect();
    let mut all = body.clone();
    if !header.is_empty() {
        all.push(head.clone());
    }
    let widths = column_widths(&all, ncols);

    let mut header_index = None;
    if !header.is_empty() {
        let mut h = table_row(&head, &widths, None, true);
        h.space_before = 8.0;
        h.keep_with_next = true;
        header_index = Some(chunks.len());
        chunks.push(h);
    }
    for (i, row) in body.iter().enumerate() {
        let level = levels.and_then(|l| l.get(i)).copied();
        let mut c = table_row(row, &widths, level, false);
        c.header = header_index;
        if header_index.is_none() && i == 0 {
            c.space_before = 8.0;
        }
        chunks.push(c);
    }
}

fn bar_rows(chunks: &mut Vec<Chunk>, bars: &[Bar], labels: &BarLabels) {
    let mut caption = Chunk {
        space_before: 12.0,
        keep_with_next: true,
        ..Chunk::default()
    };
    let lines = wrap(&labels.title, CAPTION.bold, CAPTION.size, WIDTH);
    caption.height = lines.len() as f64 * CAPTION.leading + 2.0;
    text_lines(&mut caption, 0.0, 0.0, lines, CAPTION);
    chunks.push(caption);

    let mut legend = Chunk {
        height: 18.0,
        keep_with_next: true,
        ..Chunk::default()
    };
    legend.rect(0.0, 4.0, 12.0, 8.0, HAVE_SWATCH);
    let have = encode(&labels.have);
    let have_w = width(&have, false, 8.5);
    legend.text(16.0, 11.0, false, 8.5, MUTED, have);
    let x = 16.0 + have_w + 16.0;
    legend.line((x + 6.0, 2.0), (x + 6.0, 14.0), 2.0, INK);
    legend.text(x + 14.0, 11.0, false, 8.5, MUTED, encode(&labels.needed));
    chunks.push(legend);

    for bar in bars {
        let mut c = Chunk {
            height: 50.0,
            ..Chunk::default()
        };
        let colour = level_colour(bar.level);
        let badge = encode(&bar.level_text);
        let badge_w = if badge.is_empty() {
            0.0
        } else {
            width(&badge, true, 8.0) + 10.0
        };
        c.text(
            0.0,
            10.0,
            true,
            10.0,
            INK,
            fit(&bar.label, true, 10.0, WIDTH - badge_w - 8.0),
        );
        c.rect(WIDTH - badge_w, 0.5, badge_w, 12.0, colour);
        c.text(WIDTH - badge_w + 5.0, 9.6, true, 8.0, WHITE, badge);

        let max = [bar.needed, bar.have]
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let share = |v: f64| {
            if v.is_nan() || max <= 0.0 {
                0.0
            } else if v.is_infinite() {
                if v > 0.0 { 1.0 } else { 0.0 }
            } else {
                (v / max).clamp(0.0, 1.0)
            }
        };
        c.rect(0.0, 16.0, WIDTH, 10.0, SHADE);
        c.rect(0.0, 16.0, share(bar.have) * WIDTH, 10.0, colour);
        let needed_x = (share(bar.needed) * WIDTH).clamp(1.0, WIDTH - 1.0);
        c.line((needed_x, 13.0), (needed_x, 29.0), 2.0, INK);

        let needed = encode(&format!("{}: {}", labels.needed, bar.needed_text));
        let have = encode(&format!("{}: {}", labels.have, bar.have_text));
        let have_w = width(&have, false, 8.5);
        c.text(0.0, 39.0, false, 8.5, INK, needed);
        c.text(WIDTH - have_w, 39.0, false, 8.5, INK, have);
        chunks.push(c);
    }
}

/// Where each chunk goes: per page, (chunk index, y of its top within the content area).
fn paginate(chunks: &[Chunk]) -> Vec<Vec<(usize, f64)>> {
    let mut pages: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
    let mut y = 0.0;
    for (i, c) in chunks.iter().enumerate() {
        let empty = pages.last().is_none_or(Vec::is_empty);
        let before = if empty { 0.0 } else { c.space_before };
        // this chunk and every chunk it is kept with
        let mut need = before + c.height;
        let mut j = i;
        while chunks[j].keep_with_next && j + 1 < chunks.len() {
            j += 1;
            need += chunks[j].space_before + chunks[j].height;
        }
        // a chain taller than a page cannot be kept together; then only this chunk must fit
        if need > CONTENT_H {
            need = before + c.height;
        }
        if !empty && y + need > CONTENT_H {
            pages.push(Vec::new());
            y = 0.0;
            if let Some(h) = c.header {
                if let Some(page) = pages.last_mut() {
                    page.push((h, 0.0));
                }
                y = chunks[h].height;
            }
            if let Some(page) = pages.last_mut() {
                page.push((i, y));
            }
            y += c.height;
            continue;
        }
        if let Some(page) = pages.last_mut() {
            page.push((i, y + before));
        }
        y += before + c.height;
    }
    pages
}

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

fn draw(content: &mut Content, ops: &[Op], left: f64, top: f64) {
    // PDF's y grows upwards from the bottom of the page
    let px = |x: f64| (left + x) as f32;
    let py = |y: f64| (PAGE_H - top - y) as f32;
    for op in ops {
        match op {
            Op::Rect { x, y, w, h, colour } => {
                content.set_fill_rgb(colour.0, colour.1, colour.2);
                content.rect(px(*x), py(y + h), *w as f32, *h as f32);
                content.fill_nonzero();
            }
            Op::Line {
                x1,
                y1,
                x2,
                y2,
                width,
                colour,
            } => {
                content.set_stroke_rgb(colour.0, colour.1, colour.2);
                content.set_line_width(*width as f32);
                content.move_to(px(*x1), py(*y1));
                content.line_to(px(*x2), py(*y2));
                content.stroke();
            }
            Op::Text {
                x,
                y,
                bold,
                size,
                colour,
                text,
            } => {
                content.begin_text();
                content.set_font(if *bold { BOLD } else { REGULAR }, *size as f32);
                content.set_fill_rgb(colour.0, colour.1, colour.2);
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, px(*x), py(*y)]);
                content.show(Str(text));
                content.end_text();
            }
        }
    }
}

fn write(report: &Report, chunks: &[Chunk], pages: &[Vec<(usize, f64)>]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len() as i32)
        .map(|i| (Ref::new(6 + 2 * i), Ref::new(7 + 2 * i)))
        .collect();

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree);
        // viewers show the title rather than the file name
        cat.viewer_preferences().display_doc_title(true);
    }
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&report.title))
        .creator(TextStr("Schola"))
        .producer(TextStr("Schola"));

    let total = pages.len();
    for (n, (placed, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32));
        page.parent(tree);
        page.contents(*content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();

        let mut content = Content::new();
        for &(i, y) in placed {
            if let Some(c) = chunks.get(i) {
                draw(&mut content, &c.ops, MARGIN, TOP + y);
            }
        }
        let mut footer = Chunk::default();
        let number = encode(&format!("{} / {}", n + 1, total));
        let number_w = width(&number, false, 8.5);
        footer.line((0.0, -12.0), (WIDTH, -12.0), 0.4, RULE);
        footer.text(
            0.0,
            0.0,
            false,
            8.5,
            MUTED,
            fit(&report.footer, false, 8.5, WIDTH - number_w - 16.0),
        );
        footer.text(WIDTH - number_w, 0.0, false, 8.5, MUTED, number);
        draw(&mut content, &footer.ops, MARGIN, PAGE_H - FOOTER_BASELINE);
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_by_glyph_width() {
        // "Größe" is 28.34 points at 10 pt, a space 2.78: three words with their two spaces
        // are 90.58 points
        let lines = wrap("Größe Größe Größe Größe", false, 10.0, 90.6);
        assert_eq!(lines, vec![encode("Größe Größe Größe"), encode("Größe")]);
        let lines = wrap("Größe Größe Größe Größe", false, 10.0, 90.5);
        assert_eq!(lines, vec![encode("Größe Größe"), encode("Größe Größe")]);
    }

    #[test]
    fn wrap_breaks_an_overlong_word_and_keeps_hard_breaks() {
        let lines = wrap("Kapazitätsprüfung\nok", false, 10.0, 40.0);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, false, 10.0) <= 40.0));
        assert_eq!(lines.last(), Some(&b"ok".to_vec()));
    }

    #[test]
    fn columns_fit_the_page() {
        let long = "Wort ".repeat(80);
        let cells = vec![vec![
            ("OK".to_string(), false),
            (long, false),
            ("1,900".to_string(), false),
        ]];
        let w = column_widths(&cells, 3);
        assert!((w.iter().sum::<f64>() - WIDTH).abs() < 1e-6, "{w:?}");
        // the short columns keep their text on one line
        assert!(w[0] >= width(b"OK", false, TABLE) + 2.0 * CELL_PAD_X);
        assert!(w[2] >= width(b"1,900", false, TABLE) + 2.0 * CELL_PAD_X);
    }

    #[test]
    fn a_heading_never_ends_a_page() {
        // fill the first page so the heading alone would still fit, but not with two lines of
        // the paragraph after it
        let report = Report {
            title: "T".into(),
            subtitle: String::new(),
            footer: String::new(),
            blocks: vec![
                Block::Paragraph(vec!["x"; 42].join("\n")),
                Block::Heading("Kapazität".into()),
                Block::Paragraph("Text ".repeat(200)),
            ],
        };
        let chunks = layout(&report);
        let pages = paginate(&chunks);
        let heading = chunks
            .iter()
            .position(|c| c.keep_with_next && c.space_before == 16.0)
            .unwrap();
        let page_of = |i| pages.iter().position(|p| p.iter().any(|&(c, _)| c == i));
        let first_end = pages[0]
            .iter()
            .map(|&(i, y)| y + chunks[i].height)
            .fold(0.0, f64::max);
        let h = &chunks[heading];
        assert!(
            CONTENT_H - first_end >= h.space_before + h.height,
            "the test needs room for the heading alone on page 1"
        );
        assert_eq!(
            page_of(heading),
            Some(1),
            "the heading moved to the second page"
        );
        assert_eq!(page_of(heading + 1), Some(1));
        for page in &pages {
            let bottom = page
                .iter()
                .map(|&(i, y)| y + chunks[i].height)
                .fold(0.0, f64::max);
            assert!(bottom <= CONTENT_H + 1e-6);
        }
    }
}
