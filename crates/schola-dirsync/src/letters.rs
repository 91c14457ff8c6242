//! Password letters: how the people an import created learn their login and initial password.
//!
//! Every new account gets a random readable password (`schola_core::token::readable_password`).
//! The admin prints them once:
//!
//! - **slips** ([`letters_pdf`]), five to an A4 page with cut lines: school, the person's name
//!   and class, login, the password large in Courier, the portal's address and a note (German
//!   and English) to change the password at the first sign-in;
//! - after the slips, a **class list** per class for the class teacher (name, login, password;
//!   one class per page, continued on further pages when it is long), and one list of the
//!   people without a class;
//! - the same as **CSV** ([`letters_csv`]) for mail merges and spreadsheets: UTF-8 with a BOM
//!   (so Excel reads umlauts right), `;`-separated, RFC 4180 quoting.
//!
//! Both are sorted by class (naturally: 5a, 5b, 10a; people without a class last), then by name.
//!
//! # Fonts and characters
//!
//! Like the capacity readiness report (`schola-capacity/src/pdf.rs`), the PDF uses base-14 fonts
//! (Helvetica, Helvetica-Bold, Courier-Bold; ZapfDingbats for the scissors) in WinAnsiEncoding,
//! so nothing is embedded. WinAnsi covers German, French, Spanish and the rest of Western Europe
//! (ä ö ü ß é ç ñ print as they are); what it lacks (Turkish ş ğ İ, Polish ł ś, Vietnamese,
//! Greek, Cyrillic, ...) is printed transliterated with `deunicode` (Şahin → Sahin, Иван →
//! Ivan), so a slip never shows `?` for a name. Logins and passwords are ASCII and print
//! exactly; when one is too long for its place its font shrinks, it is never cut. The WinAnsi
//! table and Helvetica's widths are copied from `schola-capacity/src/pdf/metrics.rs` (private
//! to that crate).
//!
//! # One download
//!
//! The passwords exist in plain text nowhere else: [`LetterStore`] keeps a batch as a JSON file
//! (directory 0700, file 0600) named by a 256-bit random token until each format was taken
//! once or the batch expired; then the file is deleted. All operations on a store hold an
//! exclusive lock on `<dir>/.lock`, so two requests (or the web server and `scholactl`) never
//! hand out the same format twice.

use schola_pdf::winansi;
use std::cmp::Ordering;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use rand::Rng as _;
use schola_core::directory::Role;
use schola_pdf::page::{
    CUT, Font, INK, MUTED, PAGE_H, PAGE_W, Page, RULE, SHADE, ZEBRA, fit, write_pdf,
};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

/// One new account's letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// The class whose list the person is on; `None` puts them on the list "without class".
    pub class: Option<String>,
    /// The initial password, in plain text.
    pub password: String,
    pub mail: Option<String>,
}

/// What every page says besides the people.
#[derive(Debug, Clone, Copy)]
pub struct LetterHeader<'a> {
    pub school: &'a str,
    /// Where to sign in, e.g. `https://schola.gs-nord.example`.
    pub portal_url: &'a str,
    /// The date the accounts were made, as text (`12.03.2026`).
    pub created: &'a str,
}

/// Who stored a batch, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMeta {
    /// Unix seconds.
    pub created_at: i64,
    /// The import that created the accounts, if one did.
    pub import_id: Option<i64>,
    /// The admin's login (or `scholactl`, `daemon`).
    pub created_by: String,
}

/// The two ways to take a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LetterFormat {
    Pdf,
    Csv,
}

impl LetterFormat {
    /// `pdf` or `csv`: the file name extension, and the word in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterFormat::Pdf => "pdf",
            LetterFormat::Csv => "csv",
        }
    }

    /// The HTTP `Content-Type` of the bytes [`LetterStore::take`] returns.
    pub fn content_type(self) -> &'static str {
        match self {
            LetterFormat::Pdf => "application/pdf",
            LetterFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A waiting batch as the admin UI lists it (no names, no passwords).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchInfo {
    pub token: String,
    pub created_at: i64,
    pub import_id: Option<i64>,
    /// Letters in the batch.
    pub count: usize,
    pub pdf_left: bool,
    pub csv_left: bool,
    /// The classes of the letters, sorted naturally (people without a class are not named).
    pub classes: Vec<String>,
}

// =============================================================================================
// Order
// =============================================================================================

/// Compares class names as people read them: `5a` < `5b` < `10a`, case-insensitive.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, part)) if *d == digit => part.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for ((da, xa), (db, xb)) in pa.iter().zip(&pb) {
        let ord = match (da, db) {
            (true, true) => {
                let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
                ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
            }
            // a number sorts before text
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => xa.to_lowercase().cmp(&xb.to_lowercase()),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// A name as the sort sees it: Ärger next to Arnold, not after Zimmer.
fn name_key(name: &str) -> String {
    deunicode::deunicode(&name.nfc().collect::<String>()).to_lowercase()
}

/// The letters in print order: by class (people without a class last), then by name.
fn sorted(letters: &[Letter]) -> Vec<&Letter> {
    let mut keyed: Vec<(String, &Letter)> = letters
        .iter()
        .map(|l| (name_key(&l.display_name), l))
        .collect();
    keyed.sort_by(|(ka, a), (kb, b)| {
        let class = match (&a.class, &b.class) {
            (Some(x), Some(y)) => natural_cmp(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        class
            .then_with(|| ka.cmp(kb))
            .then_with(|| a.display_name.cmp(&b.display_name))
            .then_with(|| a.login.cmp(&b.login))
    });
    keyed.into_iter().map(|(_, l)| l).collect()
}

/// The sorted letters grouped by class, in print order.
fn by_class<'a>(sorted: &[&'a Letter]) -> Vec<(Option<&'a str>, Vec<&'a Letter>)> {
    let mut groups: Vec<(Option<&'a str>, Vec<&'a Letter>)> = Vec::new();
    for &l in sorted {
        let class = l.class.as_deref();
        match groups.last_mut() {
            Some((c, people)) if *c == class => people.push(l),
            _ => groups.push((class, vec![l])),
        }
    }
    groups
}

// =============================================================================================
// CSV
// =============================================================================================

/// The letters as CSV: UTF-8 with a BOM, `;`-separated, CRLF line ends, fields quoted as
/// RFC 4180 says (a `;`, `"` or line break in a name is quoted, `"` doubled). Header
/// `class;name;login;password;mail`. A name or mail address that starts like a spreadsheet
/// formula (`=`, `+`, `-`, `@`) gets a leading `'` so Excel and LibreOffice show it as text
/// instead of running it; login and password are always exact.
pub fn letters_csv(letters: &[Letter]) -> Vec<u8> {
    match write_csv(letters) {
        Ok(bytes) => bytes,
        // writing into memory cannot fail; an empty file is still safer than a panic
        Err(e) => {
            tracing::error!("cannot write the letters as CSV: {e}");
            Vec::new()
        }
    }
}

fn write_csv(letters: &[Letter]) -> Result<Vec<u8>, ::csv::Error> {
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(::csv::Terminator::CRLF)
        .from_writer(b"\xef\xbb\xbf".to_vec());
    w.write_record(["class", "name", "login", "password", "mail"])?;
    for l in sorted(letters) {
        w.write_record([
            l.class.as_deref().unwrap_or(""),
            &not_a_formula(&l.display_name),
            &l.login,
            &l.password,
            &not_a_formula(l.mail.as_deref().unwrap_or("")),
        ])?;
    }
    w.into_inner()
        .map_err(|e| ::csv::Error::from(e.into_error()))
}

/// Text a spreadsheet would read as a formula, made plain text (OWASP's "CSV injection").
fn not_a_formula(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

// =============================================================================================
// Text for the base-14 fonts (widths and encoding from schola-pdf, shared with the report)
// =============================================================================================

/// Text in WinAnsi bytes: composed first (a decomposed `u` + `¨` is `ü`), then every run of
/// characters WinAnsi lacks transliterated (`Łukasz Şahin` → `Lukasz Sahin`, `Иван` →
/// `Ivan`); only what even that cannot spell becomes `?`. ASCII stays exactly as it is.
fn encode(s: &str) -> Vec<u8> {
    fn flush(foreign: &mut String, out: &mut Vec<u8>) {
        if foreign.is_empty() {
            return;
        }
        for c in deunicode::deunicode_with_tofu(foreign, "?").chars() {
            out.push(match winansi(c) {
                Some(b) => b,
                None if c.is_whitespace() => b' ',
                None => b'?',
            });
        }
        foreign.clear();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut foreign = String::new();
    for c in s.nfc() {
        match winansi(c) {
            Some(b) => {
                flush(&mut foreign, &mut out);
                out.push(b);
            }
            None => foreign.push(c),
        }
    }
    flush(&mut foreign, &mut out);
    out
}

/// The slip's and the list's words, German / English.
const LOGIN_LABEL: &str = "Anmeldename / Login";
const PASSWORD_LABEL: &str = "Passwort / Password";
const MAIL_LABEL: &str = "E-Mail / Email";
const PORTAL_LABEL: &str = "Anmelden unter / Sign in at";
const CHANGE_NOTE: &str =
    "Bitte beim ersten Anmelden ändern. / Please change it when you first sign in.";
/// The note under a class list's title (German, English); the list without class goes to the
/// office rather than a class teacher.
fn list_note(class: Option<&str>) -> [&'static str; 2] {
    match class {
        Some(_) => [
            "Nur für die Lehrkraft der Klasse. Sicher aufbewahren und nach dem Austeilen vernichten.",
            "For the class teacher only. Keep it safe and destroy it once the slips are handed out.",
        ],
        None => [
            "Für die Schulverwaltung. Sicher aufbewahren und nach dem Austeilen vernichten.",
            "For the school office. Keep it safe and destroy it once the slips are handed out.",
        ],
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Student => "Schüler/in / Student",
        Role::Teacher => "Lehrkraft / Teacher",
        Role::Staff => "Mitarbeiter/in / Staff",
        Role::Admin => "Administration / Administrator",
    }
}

/// The PDF: the slips, then one class list per class (people without a class last, on a list
/// "without class"). A4; see the module documentation.
pub fn letters_pdf(h: &LetterHeader<'_>, letters: &[Letter]) -> Vec<u8> {
    let people = sorted(letters);
    let mut pages = slip_pages(h, &people);
    for (class, people) in by_class(&people) {
        pages.extend(class_list_pages(h, class, &people));
    }
    if pages.is_empty() {
        pages.push(empty_page(h));
    }
    let title = format!("Erstpasswörter / Initial passwords — {}", h.school);
    write_pdf(&title, &pages)
}

// ---- slips ----------------------------------------------------------------------------------

const SLIPS_PER_PAGE: usize = 5;
/// Room above the first slip and below the last (printers do not print to the edge).
const SLIP_MARGIN_Y: f64 = 14.0;
const SLIP_H: f64 = (PAGE_H - 2.0 * SLIP_MARGIN_Y) / SLIPS_PER_PAGE as f64;
/// 15 mm
const SLIP_X: f64 = 42.52;
const SLIP_W: f64 = PAGE_W - 2.0 * SLIP_X;
const LABEL_SIZE: f64 = 9.0;

fn slip_pages(h: &LetterHeader<'_>, people: &[&Letter]) -> Vec<Page> {
    let label_w = [LOGIN_LABEL, PASSWORD_LABEL, MAIL_LABEL, PORTAL_LABEL]
        .iter()
        .map(|l| Font::Sans.width(&encode(l), LABEL_SIZE))
        .fold(0.0, f64::max)
        + 14.0;
    people
        .chunks(SLIPS_PER_PAGE)
        .map(|chunk| {
            let mut page = Page::default();
            for (i, l) in chunk.iter().enumerate() {
                let top = SLIP_MARGIN_Y + i as f64 * SLIP_H;
                slip(&mut page, top, h, l, label_w);
                // a cut line below every slip but the page's last
                if i + 1 < SLIPS_PER_PAGE {
                    cut_line(&mut page, top + SLIP_H);
                }
            }
            page
        })
        .collect()
}

fn cut_line(page: &mut Page, y: f64) {
    page.line((30.0, y), (PAGE_W - 14.0, y), 0.5, CUT, true);
    // ZapfDingbats '"' (a2) is the black scissors ✂
    page.text(14.0, y + 3.4, Font::Dingbats, (10.0, b"\"".to_vec()), CUT);
}

/// One slip; `top` is its upper edge on the page.
fn slip(page: &mut Page, top: f64, h: &LetterHeader<'_>, l: &Letter, label_w: f64) {
    let x = SLIP_X;

    let date = encode(h.created);
    let date_w = Font::Sans.width(&date, 8.5);
    page.text(
        x + SLIP_W - date_w,
        top + 21.0,
        Font::Sans,
        (8.5, date),
        MUTED,
    );
    let school = fit(
        encode(h.school),
        Font::SansBold,
        10.0,
        7.0,
        SLIP_W - date_w - 12.0,
        true,
    );
    page.text(x, top + 21.0, Font::SansBold, school, INK);

    let name = fit(
        encode(&l.display_name),
        Font::SansBold,
        16.0,
        9.0,
        SLIP_W,
        true,
    );
    page.text(x, top + 42.0, Font::SansBold, name, INK);
    let mut who = Vec::new();
    if l.role != Role::Student || l.class.is_none() {
        who.push(role_label(l.role).to_string());
    }
    if let Some(class) = &l.class {
        who.push(format!("Klasse / Class: {class}"));
    }
    let who = fit(
        encode(&who.join("  ·  ")),
        Font::Sans,
        9.5,
        7.0,
        SLIP_W,
        true,
    );
    page.text(x, top + 56.0, Font::Sans, who, MUTED);

    let vx = x + label_w;
    let vw = SLIP_W - label_w;
    let label = |page: &mut Page, y: f64, text: &str| {
        page.text(x, y, Font::Sans, (LABEL_SIZE, encode(text)), MUTED);
    };

    label(page, top + 76.0, LOGIN_LABEL);
    let login = fit(encode(&l.login), Font::MonoBold, 13.0, 0.0, vw, false);
    page.text(vx, top + 76.0, Font::MonoBold, login, INK);

    // the password large on a light box, its characters a little apart
    label(page, top + 100.0, PASSWORD_LABEL);
    let pw = encode(&l.password);
    let n = pw.len() as f64;
    // 1.5 points between characters, unless the password is so long that it needs the room
    let spacing = if 1.5 * n <= (vw - 12.0) / 4.0 {
        1.5
    } else {
        0.0
    };
    let (size, pw) = fit(
        pw,
        Font::MonoBold,
        20.0,
        0.0,
        vw - 12.0 - spacing * n,
        false,
    );
    let pw_w = Font::MonoBold.width(&pw, size) + spacing * n;
    page.rect(vx - 6.0, top + 85.0, pw_w + 12.0 - spacing, 22.0, SHADE);
    page.spaced(vx, top + 101.0, Font::MonoBold, (size, pw), spacing, INK);

    let mut y = top + 120.0;
    if let Some(mail) = l.mail.as_deref().filter(|m| !m.is_empty()) {
        label(page, y, MAIL_LABEL);
        let mail = fit(encode(mail), Font::Sans, 10.0, 6.0, vw, true);
        page.text(vx, y, Font::Sans, mail, INK);
        y += 14.0;
    }
    label(page, y, PORTAL_LABEL);
    let url = fit(encode(h.portal_url), Font::SansBold, 10.0, 6.0, vw, true);
    page.text(vx, y, Font::SansBold, url, INK);

    let note = fit(encode(CHANGE_NOTE), Font::Sans, 8.5, 6.0, SLIP_W, true);
    page.text(x, y + 17.0, Font::Sans, note, MUTED);
}

// ---- class lists ----------------------------------------------------------------------------

const LIST_X: f64 = 56.69;
const LIST_W: f64 = PAGE_W - 2.0 * LIST_X;
const LIST_TOP: f64 = 56.69;
/// Where the table must end; the footer sits below.
const LIST_BOTTOM: f64 = PAGE_H - 70.87;
const FOOTER_Y: f64 = PAGE_H - 36.0;
/// The title, subtitle and notes above the table.
const TABLE_TOP: f64 = LIST_TOP + 98.0;
const HEAD_H: f64 = 19.0;
const ROW_H: f64 = 17.0;
const ROWS_PER_PAGE: usize = ((LIST_BOTTOM - TABLE_TOP - HEAD_H) / ROW_H) as usize;
const CELL_PAD: f64 = 6.0;
// a list page holds a usual class (the tests' class of 40 runs over two); a slip has room for
// its eight lines
const _: () = assert!(ROWS_PER_PAGE >= 32 && ROWS_PER_PAGE < 40);
const _: () = assert!(SLIP_H > 150.0);
const TABLE_SIZE: f64 = 9.5;
const TABLE_HEAD_SIZE: f64 = 8.5;

/// Column widths of one list: number, name, role (only when the list is not all students),
/// login, password, and the Courier size the logins and passwords fit in.
#[derive(Debug, Clone, PartialEq)]
struct Columns {
    num: f64,
    name: f64,
    role: Option<f64>,
    login: f64,
    password: f64,
    mono: f64,
}

fn columns(people: &[&Letter]) -> Columns {
    const MIN_NAME: f64 = 150.0;
    let pad = 2.0 * CELL_PAD;
    let num = 28.0;
    let head = |s: &str| Font::SansBold.width(&encode(s), TABLE_HEAD_SIZE) + pad;
    let chars = |f: fn(&Letter) -> &str| {
        people.iter().map(|l| encode(f(l)).len()).max().unwrap_or(0) as f64
    };
    let (login_chars, pw_chars) = (chars(|l| &l.login), chars(|l| &l.password));
    let role = people.iter().any(|l| l.role != Role::Student).then(|| {
        people
            .iter()
            .map(|l| Font::Sans.width(&encode(role_label(l.role)), TABLE_SIZE) + pad)
            .fold(head("Rolle / Role"), f64::max)
    });
    let fixed = num + role.unwrap_or(0.0);
    let widths = |mono: f64| {
        (
            head(LOGIN_LABEL).max(login_chars * 0.6 * mono + pad),
            head(PASSWORD_LABEL).max(pw_chars * 0.6 * mono + pad),
        )
    };
    // Courier 10, or smaller (down to 5, in quarter points) until the name keeps its room;
    // logins and passwords are never cut
    let mut mono = 10.0;
    while mono > 5.0 && {
        let (login, password) = widths(mono);
        LIST_W - fixed - login - password < MIN_NAME
    } {
        mono -= 0.25;
    }
    let (login, password) = widths(mono);
    let name = (LIST_W - fixed - login - password).max(0.0);
    Columns {
        num,
        name,
        role,
        login,
        password,
        mono,
    }
}

fn class_titles(class: Option<&str>) -> (String, String, String) {
    match class {
        Some(c) => (
            format!("Klasse {c} — Erstpasswörter"),
            format!("Class {c} — initial passwords"),
            format!("Klasse / Class {c}"),
        ),
        None => (
            "Ohne Klasse — Erstpasswörter".to_string(),
            "Without class — initial passwords".to_string(),
            "Ohne Klasse / Without class".to_string(),
        ),
    }
}

fn class_list_pages(h: &LetterHeader<'_>, class: Option<&str>, people: &[&Letter]) -> Vec<Page> {
    let cols = columns(people);
    let (title_de, title_en, short) = class_titles(class);
    let parts = people.len().div_ceil(ROWS_PER_PAGE);
    let count = if people.len() == 1 {
        "1 Person / person".to_string()
    } else {
        format!("{} Personen / people", people.len())
    };
    let [note_de, note_en] = list_note(class);
    let info = format!("{}  ·  {}  ·  {count}", h.school, h.created);

    let mut pages = Vec::new();
    for (part, rows) in people.chunks(ROWS_PER_PAGE).enumerate() {
        let mut page = Page::default();
        let x = LIST_X;
        let continued = if part > 0 { " (Fortsetzung)" } else { "" };
        let title = fit(
            encode(&format!("{title_de}{continued}")),
            Font::SansBold,
            16.0,
            9.0,
            LIST_W,
            true,
        );
        page.text(x, LIST_TOP + 14.0, Font::SansBold, title, INK);
        let continued = if part > 0 { " (continued)" } else { "" };
        let sub = fit(
            encode(&format!("{title_en}{continued}")),
            Font::SansBold,
            12.0,
            8.0,
            LIST_W,
            true,
        );
        page.text(x, LIST_TOP + 34.0, Font::SansBold, sub, MUTED);
        page.text(
            x,
            LIST_TOP + 52.0,
            Font::Sans,
            fit(encode(&info), Font::Sans, 9.5, 6.0, LIST_W, true),
            INK,
        );
        page.text(
            x,
            LIST_TOP + 68.0,
            Font::Sans,
            fit(encode(note_de), Font::Sans, 8.5, 6.0, LIST_W, true),
            MUTED,
        );
        page.text(
            x,
            LIST_TOP + 80.0,
            Font::Sans,
            fit(encode(note_en), Font::Sans, 8.5, 6.0, LIST_W, true),
            MUTED,
        );

        // the table's header, on every page
        let mut y = TABLE_TOP;
        page.rect(x, y, LIST_W, HEAD_H, SHADE);
        let mut headers = vec![("#", cols.num), ("Name", cols.name)];
        if let Some(w) = cols.role {
            headers.push(("Rolle / Role", w));
        }
        headers.push((LOGIN_LABEL, cols.login));
        headers.push((PASSWORD_LABEL, cols.password));
        let mut cx = x;
        for (text, w) in headers {
            let cell = fit(
                encode(text),
                Font::SansBold,
                TABLE_HEAD_SIZE,
                6.0,
                w - 2.0 * CELL_PAD,
                true,
            );
            page.text(cx + CELL_PAD, y + 12.5, Font::SansBold, cell, INK);
            cx += w;
        }
        y += HEAD_H;
        page.line((x, y), (x + LIST_W, y), 0.8, INK, false);

        for (i, l) in rows.iter().enumerate() {
            let n = part * ROWS_PER_PAGE + i + 1;
            if i % 2 == 1 {
                page.rect(x, y, LIST_W, ROW_H, ZEBRA);
            }
            let base = y + 12.0;
            let number = encode(&n.to_string());
            let nw = Font::Sans.width(&number, 8.5);
            page.text(
                x + cols.num - CELL_PAD - nw,
                base,
                Font::Sans,
                (8.5, number),
                MUTED,
            );
            let mut cx = x + cols.num;
            let name = fit(
                encode(&l.display_name),
                Font::Sans,
                TABLE_SIZE,
                7.0,
                cols.name - 2.0 * CELL_PAD,
                true,
            );
            page.text(cx + CELL_PAD, base, Font::Sans, name, INK);
            cx += cols.name;
            if let Some(w) = cols.role {
                let role = fit(
                    encode(role_label(l.role)),
                    Font::Sans,
                    TABLE_SIZE,
                    6.0,
                    w - 2.0 * CELL_PAD,
                    true,
                );
                page.text(cx + CELL_PAD, base, Font::Sans, role, INK);
                cx += w;
            }
            let login = fit(
                encode(&l.login),
                Font::MonoBold,
                cols.mono,
                0.0,
                cols.login - 2.0 * CELL_PAD,
                false,
            );
            page.text(cx + CELL_PAD, base, Font::MonoBold, login, INK);
            cx += cols.login;
            let pw = fit(
                encode(&l.password),
                Font::MonoBold,
                cols.mono,
                0.0,
                cols.password - 2.0 * CELL_PAD,
                false,
            );
            page.text(cx + CELL_PAD, base, Font::MonoBold, pw, INK);
            y += ROW_H;
            page.line((x, y), (x + LIST_W, y), 0.4, RULE, false);
        }

        footer(&mut page, h, &format!("{short}  ·  {} / {parts}", part + 1));
        pages.push(page);
    }
    pages
}

fn footer(page: &mut Page, h: &LetterHeader<'_>, right: &str) {
    let right = encode(right);
    let right_w = Font::Sans.width(&right, 8.5);
    page.line(
        (LIST_X, FOOTER_Y - 12.0),
        (LIST_X + LIST_W, FOOTER_Y - 12.0),
        0.4,
        RULE,
        false,
    );
    let left = fit(
        encode(&format!("{}  ·  {}", h.school, h.created)),
        Font::Sans,
        8.5,
        6.0,
        LIST_W - right_w - 16.0,
        true,
    );
    page.text(LIST_X, FOOTER_Y, Font::Sans, left, MUTED);
    page.text(
        LIST_X + LIST_W - right_w,
        FOOTER_Y,
        Font::Sans,
        (8.5, right),
        MUTED,
    );
}

/// The one page of a PDF without letters, so the file is still a document.
fn empty_page(h: &LetterHeader<'_>) -> Page {
    let mut page = Page::default();
    page.text(
        LIST_X,
        LIST_TOP + 14.0,
        Font::SansBold,
        (16.0, encode("Keine neuen Zugangsdaten")),
        INK,
    );
    page.text(
        LIST_X,
        LIST_TOP + 34.0,
        Font::SansBold,
        (12.0, encode("No new sign-in details")),
        MUTED,
    );
    footer(&mut page, h, "1 / 1");
    page
}

// =============================================================================================
// The store
// =============================================================================================

/// Letters waiting for their one download, one JSON file per batch under a directory of their
/// own (`Config::letters_dir`). See the module documentation.
#[derive(Debug, Clone)]
pub struct LetterStore {
    dir: PathBuf,
}

/// A batch file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Batch {
    meta: BatchMeta,
    pdf_taken: bool,
    csv_taken: bool,
    letters: Vec<Letter>,
}

impl Batch {
    fn expired(&self, now: i64, max_age_secs: i64) -> bool {
        now.saturating_sub(self.meta.created_at) > max_age_secs
    }

    fn info(&self, token: &str) -> BatchInfo {
        let mut classes: Vec<String> = self
            .letters
            .iter()
            .filter_map(|l| l.class.clone())
            .collect();
        classes.sort_by(|a, b| natural_cmp(a, b));
        classes.dedup();
        BatchInfo {
            token: token.to_string(),
            created_at: self.meta.created_at,
            import_id: self.meta.import_id,
            count: self.letters.len(),
            pdf_left: !self.pdf_taken,
            csv_left: !self.csv_taken,
            classes,
        }
    }
}

/// Bytes of randomness in a token: 256 bits, written as 64 lower-case hex digits.
const TOKEN_BYTES: usize = 32;

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token is exactly 64 lower-case hex digits; anything else (`../x`, a path, upper case)
/// never reaches the file system.
fn valid_token(token: &str) -> bool {
    token.len() == 2 * TOKEN_BYTES
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

impl LetterStore {
    /// A store in `dir`; nothing is touched until the first [`put`](Self::put) creates it.
    pub fn new(dir: impl Into<PathBuf>) -> LetterStore {
        LetterStore { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.json"))
    }

    /// Creates the directory (0700, parents too) or tightens an existing one to 0700.
    fn ensure_dir(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let meta = fs::symlink_metadata(&self.dir)?;
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", self.dir.display()),
            ));
        }
        if meta.permissions().mode() & 0o777 != 0o700 {
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    /// The store's lock, held until the file is dropped; `None` when the directory does not
    /// exist (and `create` is false): then there is nothing to take, list or discard.
    fn lock(&self, create: bool) -> io::Result<Option<File>> {
        if create {
            self.ensure_dir()?;
        } else if !self.dir.is_dir() {
            return Ok(None);
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(self.dir.join(".lock"))?;
        f.lock()?;
        Ok(Some(f))
    }

    fn read(&self, path: &Path) -> io::Result<Option<Batch>> {
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// Writes a batch file whole: a temporary file (0600), fsync, rename over, fsync the
    /// directory. A crash leaves the old file or the new one, never half of either.
    fn write(&self, token: &str, batch: &Batch) -> io::Result<()> {
        let json =
            serde_json::to_vec(batch).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let tmp = self.dir.join(format!(".{token}.tmp"));
        match fs::remove_file(&tmp) {
            Err(e) if !is_not_found(&e) => return Err(e),
            _ => {}
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let written = f.write_all(&json).and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, self.path(token))) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        File::open(&self.dir)?.sync_all()
    }

    fn remove(&self, token: &str) -> io::Result<bool> {
        match fs::remove_file(self.path(token)) {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores a batch and returns the token naming it (64 hex digits, 256 random bits).
    pub fn put(&self, letters: &[Letter], meta: &BatchMeta) -> io::Result<String> {
        let _lock = self.lock(true)?;
        let mut token = new_token();
        // 2^-256: the loop is for the principle
        while self.path(&token).exists() {
            token = new_token();
        }
        let batch = Batch {
            meta: meta.clone(),
            pdf_taken: false,
            csv_taken: false,
            letters: letters.to_vec(),
        };
        self.write(&token, &batch)?;
        Ok(token)
    }

    /// Takes the batch in `format`: its bytes, once. The format is marked taken before the bytes
    /// are returned (a failure to record that is an error, not a second copy later); when both
    /// formats are taken the file is deleted. `None` for a token that is malformed, unknown,
    /// already taken in this format, or older than `max_age_secs` at `now` (that file is
    /// deleted). A batch file that is not valid JSON is an `InvalidData` error (the admin can
    /// [`discard`](Self::discard) it).
    pub fn take(
        &self,
        token: &str,
        format: LetterFormat,
        header: &LetterHeader<'_>,
        now: i64,
        max_age_secs: i64,
    ) -> io::Result<Option<Vec<u8>>> {
        if !valid_token(token) {
            return Ok(None);
        }
        let Some(_lock) = self.lock(false)? else {
            return Ok(None);
        };
        let Some(mut batch) = self.read(&self.path(token))? else {
            return Ok(None);
        };
        if batch.expired(now, max_age_secs) {
            self.remove(token)?;
            return Ok(None);
        }
        let taken = match format {
            LetterFormat::Pdf => &mut batch.pdf_taken,
            LetterFormat::Csv => &mut batch.csv_taken,
        };
        if *taken {
            return Ok(None);
        }
        *taken = true;
        let bytes = match format {
            LetterFormat::Pdf => letters_pdf(header, &batch.letters),
            LetterFormat::Csv => letters_csv(&batch.letters),
        };
        if batch.pdf_taken && batch.csv_taken {
            self.remove(token)?;
        } else {
            self.write(token, &batch)?;
        }
        Ok(Some(bytes))
    }

    /// The waiting batches, oldest first. Expired batches are deleted, and so are temporary
    /// files a crash left behind. A batch file that cannot be read is skipped with a warning.
    pub fn list(&self, now: i64, max_age_secs: i64) -> io::Result<Vec<BatchInfo>> {
        let Some(_lock) = self.lock(false)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            // under the lock no put is writing: a temporary file is a crash's leftover
            if name.starts_with('.') && name.ends_with(".tmp") {
                match fs::remove_file(entry.path()) {
                    Err(e) if !is_not_found(&e) => return Err(e),
                    _ => {}
                }
                continue;
            }
            let Some(token) = name.strip_suffix(".json").filter(|t| valid_token(t)) else {
                continue;
            };
            match self.read(&entry.path()) {
                Ok(Some(batch)) if batch.expired(now, max_age_secs) => {
                    self.remove(token)?;
                }
                Ok(Some(batch)) => out.push(batch.info(token)),
                Ok(None) => {}
                Err(e) => tracing::warn!("skipping a password letter batch: {e}"),
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
        Ok(out)
    }

    /// Deletes a batch (the admin discards it); false when there was none by that token.
    pub fn discard(&self, token: &str) -> io::Result<bool> {
        if !valid_token(token) {
            return Ok(false);
        }
        let Some(_lock) = self.lock(false)? else {
            return Ok(false);
        };
        self.remove(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(name: &str, class: Option<&str>) -> Letter {
        Letter {
            login: name.to_lowercase().replace(' ', "."),
            display_name: name.to_string(),
            role: Role::Student,
            class: class.map(str::to_string),
            password: "kx7m-p3qa-9dtn".to_string(),
            mail: None,
        }
    }

    #[test]
    fn western_letters_print_as_they_are() {
        assert_eq!(
            encode("Jürgen Groß-Müller, Zoë, François, Núñez"),
            b"J\xfcrgen Gro\xdf-M\xfcller, Zo\xeb, Fran\xe7ois, N\xfa\xf1ez".to_vec()
        );
        // decomposed (as macOS writes file names): composed before encoding
        assert_eq!(encode("Mu\u{308}ller"), b"M\xfcller".to_vec());
        assert_eq!(encode("kx7m-p3qa-9dtn"), b"kx7m-p3qa-9dtn".to_vec());
    }

    #[test]
    fn what_winansi_lacks_is_transliterated() {
        assert_eq!(encode("İpek Şahin Doğan"), b"Ipek Sahin Dogan".to_vec());
        assert_eq!(encode("Łukasz Śliwiński"), b"Lukasz Sliwinski".to_vec());
        assert_eq!(encode("Nguyễn Thị Hương"), b"Nguyen Thi Huong".to_vec());
        assert_eq!(encode("Иван Петров"), b"Ivan Petrov".to_vec());
        assert_eq!(encode("Γιώργος"), b"Giorgos".to_vec());
        // a WinAnsi letter next to a transliterated one keeps its accent
        assert_eq!(encode("Émile Ağa"), b"\xc9mile Aga".to_vec());
        assert!(!encode("北京 😀 Ω").is_empty());
    }

    #[test]
    fn classes_sort_naturally_and_names_by_their_letters() {
        let letters = vec![
            letter("Zimmer Zoe", Some("10a")),
            letter("Ärger Anna", Some("5b")),
            letter("Arnold Ben", Some("5b")),
            letter("Berg Carl", None),
            letter("Zander Emil", Some("5b")),
            letter("Otto Olga", Some("5a")),
        ];
        let order: Vec<&str> = sorted(&letters)
            .iter()
            .map(|l| l.display_name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "Otto Olga",
                "Ärger Anna",
                "Arnold Ben",
                "Zander Emil",
                "Zimmer Zoe",
                "Berg Carl"
            ]
        );
        assert_eq!(natural_cmp("5a", "10a"), Ordering::Less);
        assert_eq!(natural_cmp("Q1", "q2"), Ordering::Less);
        // the same number: the spelling decides, so the order is total
        assert_ne!(natural_cmp("05a", "5a"), Ordering::Equal);
        let groups = by_class(&sorted(&letters));
        let classes: Vec<Option<&str>> = groups.iter().map(|(c, _)| *c).collect();
        assert_eq!(classes, [Some("5a"), Some("5b"), Some("10a"), None]);
    }

    #[test]
    fn exact_text_shrinks_and_other_text_is_cut() {
        let long = vec![b'x'; 200];
        let (size, bytes) = fit(long.clone(), Font::MonoBold, 20.0, 8.0, 300.0, false);
        assert_eq!(bytes, long);
        assert!(Font::MonoBold.width(&bytes, size) <= 300.0);
        let (size, bytes) = fit(long.clone(), Font::Sans, 10.0, 8.0, 300.0, true);
        assert_eq!(size, 8.0);
        assert_eq!(bytes.last(), Some(&0x85));
        assert!(Font::Sans.width(&bytes, size) <= 300.0);
        let (size, bytes) = fit(b"short".to_vec(), Font::Sans, 10.0, 8.0, 300.0, true);
        assert_eq!((size, bytes), (10.0, b"short".to_vec()));
    }

    #[test]
    fn columns_fit_the_page() {
        let mut long = letter("A", Some("5a"));
        // the longest login the directory takes, and a long password
        long.login = "a".repeat(32);
        long.password = "b".repeat(24);
        long.role = Role::Teacher;
        let people = [&long];
        let c = columns(&people);
        let sum = c.num + c.name + c.role.unwrap_or(0.0) + c.login + c.password;
        assert!((sum - LIST_W).abs() < 1e-6, "{c:?}");
        assert!(c.name >= 150.0 - 1e-6, "{c:?}");
        assert!(c.mono < 10.0 && c.mono >= 5.0, "{c:?}");
        let short = letter("B", Some("5a"));
        let c = columns(&[&short]);
        assert_eq!(c.role, None);
        assert_eq!(c.mono, 10.0);
    }

    #[test]
    fn tokens_are_64_hex_digits_and_nothing_else_passes() {
        let t = new_token();
        assert!(valid_token(&t), "{t}");
        assert_ne!(t, new_token());
        for bad in [
            "",
            "../x",
            "..",
            &t[..63],
            &format!("{t}0"),
            &t.to_uppercase(),
            &format!("{}/", &t[..63]),
            &format!("{}.json", &t[..59]),
        ] {
            assert!(!valid_token(bad), "{bad}");
        }
    }

    #[test]
    fn csv_guards_formulas_but_not_logins() {
        let mut l = letter("=HYPERLINK(\"x\")", Some("5a"));
        l.mail = Some("@evil".into());
        l.password = "-abc".into();
        let csv = String::from_utf8(letters_csv(&[l])).unwrap_or_default();
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(csv.contains(";'@evil"), "{csv}");
        assert!(csv.contains(";-abc;"), "{csv}");
    }
}
