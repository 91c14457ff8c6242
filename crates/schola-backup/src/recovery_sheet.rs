//! The backup's recovery sheet: one printable A4 page with the school, where the backup is, the
//! passphrase large in Courier, and how to bring the school back — to be kept off the server
//! (without the passphrase the encrypted backup cannot be read by anyone).
//!
//! The words come from the caller ([`Words`]; the admin UI passes them in the admin's language,
//! `scholactl` in English), so this module only lays the page out.

use schola_pdf::encode;
use schola_pdf::page::{Font, INK, MUTED, PAGE_W, Page, RULE, SHADE, fit, wrap, write_pdf};

/// What the sheet says besides the facts.
#[derive(Debug, Clone)]
pub struct Words {
    pub title: String,
    pub target_label: String,
    pub made_label: String,
    pub server_label: String,
    pub passphrase_label: String,
    /// Paragraphs under the passphrase (keep it safe; how to restore).
    pub paragraphs: Vec<String>,
}

/// For an SFTP target: the new server has a key of its own, which the backup server must learn.
const SFTP_EN: &str = "The new server signs in to the SFTP server with a key of its own: the restore page shows it after the first try. Add it to ~/.ssh/authorized_keys of the backup user on the SFTP server, then restore again.";

impl Words {
    /// The English sheet.
    pub fn english(target: &str) -> Words {
        Words {
            title: "Backup recovery sheet".into(),
            target_label: "Backup target".into(),
            made_label: "Made on".into(),
            server_label: "Server".into(),
            passphrase_label: "Passphrase".into(),
            paragraphs: [
                Some("Keep this sheet off the server, locked away (for example in the school office's safe). The backup is encrypted: without this passphrase nobody can read it, not even Schola's developers, and a lost passphrase cannot be recovered.".into()),
                Some("To bring the school back onto new hardware: install Schola from its ISO image, choose \"Restore a school from its backup instead\" in the first-run setup, and give the backup target above and this passphrase.".into()),
                schola_core::backups::is_sftp(target).then(|| SFTP_EN.to_string()),
                Some(format!("Without Schola, any computer with restic reads the backup: restic -r {target} restore latest --target /restore (restic asks for the passphrase).")),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}

/// The facts on the sheet.
#[derive(Debug, Clone)]
pub struct Sheet<'a> {
    pub school: &'a str,
    pub target: &'a str,
    pub passphrase: &'a str,
    /// e.g. `2026-11-24 10:15 UTC`
    pub made: &'a str,
    pub server: &'a str,
    pub footer: &'a str,
}

const MARGIN: f64 = 56.0;

/// The sheet as a one-page PDF.
pub fn pdf(sheet: &Sheet<'_>, words: &Words) -> Vec<u8> {
    let width = PAGE_W - 2.0 * MARGIN;
    let mut page = Page::default();
    let mut y = MARGIN + 20.0;
    page.text(
        MARGIN,
        y,
        Font::SansBold,
        fit(
            encode(&words.title),
            Font::SansBold,
            22.0,
            12.0,
            width,
            true,
        ),
        INK,
    );
    y += 26.0;
    page.text(
        MARGIN,
        y,
        Font::Sans,
        fit(encode(sheet.school), Font::Sans, 14.0, 9.0, width, true),
        MUTED,
    );
    y += 16.0;
    page.line((MARGIN, y), (PAGE_W - MARGIN, y), 0.8, RULE, false);
    y += 26.0;
    let label_w = 120.0;
    for (label, value) in [
        (&words.target_label, sheet.target),
        (&words.made_label, sheet.made),
        (&words.server_label, sheet.server),
    ] {
        page.text(MARGIN, y, Font::SansBold, (11.0, encode(label)), INK);
        // the target must print exactly: it shrinks, it is never cut
        page.text(
            MARGIN + label_w,
            y,
            Font::Sans,
            fit(encode(value), Font::Sans, 11.0, 6.0, width - label_w, false),
            INK,
        );
        y += 20.0;
    }
    y += 14.0;
    // the passphrase in a shaded box, large and spaced out
    let box_h = 78.0;
    page.rect(MARGIN, y, width, box_h, SHADE);
    page.text(
        MARGIN + 14.0,
        y + 22.0,
        Font::SansBold,
        (11.0, encode(&words.passphrase_label)),
        MUTED,
    );
    let (size, text) = fit(
        encode(sheet.passphrase),
        Font::MonoBold,
        22.0,
        8.0,
        width - 28.0,
        false,
    );
    page.spaced(
        MARGIN + 14.0,
        y + 56.0,
        Font::MonoBold,
        (size, text),
        0.0,
        INK,
    );
    y += box_h + 30.0;
    for para in &words.paragraphs {
        for line in wrap(&encode(para), Font::Sans, 11.0, width) {
            page.text(MARGIN, y, Font::Sans, (11.0, line), INK);
            y += 15.0;
        }
        y += 9.0;
    }
    page.line(
        (MARGIN, 841.89 - MARGIN - 12.0),
        (PAGE_W - MARGIN, 841.89 - MARGIN - 12.0),
        0.5,
        RULE,
        false,
    );
    page.text(
        MARGIN,
        841.89 - MARGIN,
        Font::Sans,
        fit(encode(sheet.footer), Font::Sans, 8.0, 6.0, width, true),
        MUTED,
    );
    write_pdf(&words.title, &[page])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sheet_holds_the_passphrase_and_the_target_exactly() {
        let target = "sftp:backup@nas.gesamtschule-nord.example:/volume1/backups/schola";
        let sheet = Sheet {
            school: "Gesamtschule Nord (Hamburg)",
            target,
            passphrase: "kx7m-p3qa-9dtn-4wzr-h8ce-tu2b",
            made: "2026-11-24 10:15 UTC",
            server: "schola.gesamtschule-nord.example",
            footer: "Schola 0.1.0",
        };
        let pdf = pdf(&sheet, &Words::english(target));
        assert!(pdf.starts_with(b"%PDF-"));
        let has = |s: &[u8]| pdf.windows(s.len()).any(|w| w == s);
        assert!(has(b"kx7m-p3qa-9dtn-4wzr-h8ce-tu2b"));
        assert!(has(target.as_bytes()));
        assert!(has(b"(Gesamtschule Nord (Hamburg)) Tj"));
        assert!(has(b"Backup recovery sheet"));
        assert!(has(b"/Count 1"), "one page");
        // an SFTP target: the new server's own key must be added on the SFTP server
        assert!(has(b"authorized_keys"));
        let usb = Words::english("/media/backup/schola");
        assert!(!usb.paragraphs.iter().any(|p| p.contains("authorized_keys")));
        assert_eq!(usb.paragraphs.len(), 3);
    }
}
