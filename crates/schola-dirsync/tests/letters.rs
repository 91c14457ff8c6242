//! Password letters as the admin gets them: a PDF whose text `pdftotext` reads back (names with
//! umlauts exactly, Cyrillic transliterated, every login and password), a CSV a spreadsheet or
//! the `csv` crate reads back, and a store that hands each format out once.

// helpers outside #[test] functions panic too; clippy.toml's allow-*-in-tests does not see them
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use schola_core::directory::Role;
use schola_dirsync::letters::{
    BatchMeta, Letter, LetterFormat, LetterHeader, LetterStore, letters_csv, letters_pdf,
};

const HEADER: LetterHeader<'static> = LetterHeader {
    school: "Gesamtschule Nord",
    portal_url: "https://schola.gs-nord.example",
    created: "12.03.2026",
};

fn letter(name: &str, login: &str, class: Option<&str>, password: &str) -> Letter {
    Letter {
        login: login.into(),
        display_name: name.into(),
        role: Role::Student,
        class: class.map(str::to_string),
        password: password.into(),
        mail: None,
    }
}

/// Runs a poppler tool on `pdf`; fails with how to install it when it is missing.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(pdf);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {tool} ({e}): the letters tests need poppler-utils \
             (apt-get install poppler-utils, or scripts/install-test-deps)"
        )
    });
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write_pdf(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    assert!(bytes.starts_with(b"%PDF-"));
    let path = dir.join("letters.pdf");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn pages(pdf: &Path) -> usize {
    let info = poppler("pdfinfo", &[], pdf);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap_or_else(|| panic!("pdfinfo shows no page count:\n{info}"))
        .trim()
        .parse()
        .unwrap()
}

fn page_text(pdf: &Path, page: usize) -> String {
    let p = page.to_string();
    poppler("pdftotext", &["-enc", "UTF-8", "-f", &p, "-l", &p], pdf)
}

fn mixed_school() -> Vec<Letter> {
    let mut teacher = letter("Frau Çelik-Öztürk", "celik", None, "t2pa-8kmr-c4vz");
    teacher.role = Role::Teacher;
    teacher.mail = Some("c.oeztuerk@gs-nord.example".into());
    vec![
        letter("Jürgen Groß", "juergen.gross", Some("5a"), "kx7m-p3qa-9dtn"),
        letter(
            "Zoë Müller-Lüdenscheidt",
            "zoe.mueller",
            Some("5a"),
            "h4rt-2wqe-7mcs",
        ),
        letter("José Núñez", "jose.nunez", Some("5a"), "a8bc-d9ef-g2hj"),
        letter("Иван Петров", "ivan.petrov", Some("10b"), "p3qr-s4tu-v5wx"),
        letter(
            "Łukasz Śliwiński",
            "lukasz.sliwinski",
            Some("10b"),
            "m6nz-y7ab-c8de",
        ),
        letter("İpek Şahin", "ipek.sahin", Some("10b"), "f9gh-j2kn-p3qr"),
        letter(
            "Nguyễn Thị Hương",
            "huong.nguyen",
            Some("10b"),
            "s4tv-w5xy-z6ab",
        ),
        teacher,
    ]
}

#[test]
fn the_pdf_reads_back_with_pdftotext() {
    let letters = mixed_school();
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), &letters_pdf(&HEADER, &letters));

    // 8 slips on 2 pages, then the lists of 5a, 10b and "without class"
    assert_eq!(pages(&path), 5);
    let info = poppler("pdfinfo", &[], &path);
    assert!(
        info.contains("Initial passwords — Gesamtschule Nord"),
        "{info}"
    );
    assert!(info.contains("595.28 x 841.89"), "{info}");

    let text = poppler("pdftotext", &["-enc", "UTF-8"], &path);
    for l in &letters {
        // each login and password twice: on the slip and on the class list
        assert_eq!(text.matches(&l.login).count(), 2, "{}\n{text}", l.login);
        assert_eq!(
            text.matches(&l.password).count(),
            2,
            "{}\n{text}",
            l.password
        );
    }
    for name in [
        "Jürgen Groß",
        "Zoë Müller-Lüdenscheidt",
        "José Núñez",
        "Frau Çelik-Öztürk",
        // what WinAnsi cannot show, transliterated
        "Ivan Petrov",
        "Lukasz Sliwinski",
        "Ipek Sahin",
        "Nguyen Thi Huong",
    ] {
        assert_eq!(text.matches(name).count(), 2, "{name}\n{text}");
    }
    assert!(!text.contains('?'), "no character became '?':\n{text}");
    for want in [
        "Bitte beim ersten Anmelden ändern. / Please change it when you first sign in.",
        "https://schola.gs-nord.example",
        "c.oeztuerk@gs-nord.example",
        "Klasse / Class: 5a",
        "Lehrkraft / Teacher",
    ] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }

    // slips in class order, then 5a's list, 10b's list, the list without class
    let slips = page_text(&path, 1);
    let at = |s: &str| {
        slips
            .find(s)
            .unwrap_or_else(|| panic!("{s} not on page 1:\n{slips}"))
    };
    assert!(at("José Núñez") < at("Jürgen Groß") && at("Jürgen Groß") < at("Zoë Müller"));
    assert!(
        at("Zoë Müller") < at("Ipek Sahin"),
        "5a before 10b:\n{slips}"
    );
    let list_5a = page_text(&path, 3);
    assert!(list_5a.contains("Klasse 5a — Erstpasswörter"), "{list_5a}");
    assert!(
        list_5a.contains("Class 5a — initial passwords"),
        "{list_5a}"
    );
    assert!(list_5a.contains("3 Personen / people"), "{list_5a}");
    assert!(!list_5a.contains("ivan.petrov"), "{list_5a}");
    let list_10b = page_text(&path, 4);
    assert!(
        list_10b.contains("Class 10b — initial passwords"),
        "{list_10b}"
    );
    assert!(list_10b.contains("Ivan Petrov") && list_10b.contains("p3qr-s4tu-v5wx"));
    let without = page_text(&path, 5);
    assert!(
        without.contains("Without class — initial passwords"),
        "{without}"
    );
    assert!(without.contains("celik") && without.contains("t2pa-8kmr-c4vz"));
    // the list without class mixes roles: it names them
    assert!(without.contains("Lehrkraft / Teacher"), "{without}");
}

#[test]
fn a_class_of_40_runs_over_two_list_pages() {
    let letters: Vec<Letter> = (1..=40)
        .map(|i| {
            letter(
                &format!("Schüler{i:02} Größe"),
                &format!("s{i:02}.x"),
                Some("5a"),
                &format!("pw{i:02}-abcd-efgh"),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), &letters_pdf(&HEADER, &letters));

    // 40 slips, five to a page; the list on two pages
    assert_eq!(pages(&path), 8 + 2);
    let first = page_text(&path, 9);
    let second = page_text(&path, 10);
    assert!(first.contains("Class 5a — initial passwords"), "{first}");
    assert!(
        second.contains("Class 5a — initial passwords (continued)"),
        "{second}"
    );
    assert!(
        second.contains("Klasse 5a — Erstpasswörter (Fortsetzung)"),
        "{second}"
    );
    for page in [&first, &second] {
        // the table's header on both pages
        assert!(page.contains("Anmeldename / Login"), "{page}");
        assert!(page.contains("Passwort / Password"), "{page}");
    }
    assert!(first.replace(" / ", "/").contains("1/2"), "{first}");
    assert!(second.replace(" / ", "/").contains("2/2"), "{second}");
    for l in &letters {
        // every row on exactly one list page, whole
        let on: Vec<bool> = [&first, &second]
            .iter()
            .map(|p| p.contains(&l.login))
            .collect();
        assert_eq!(on.iter().filter(|b| **b).count(), 1, "{}", l.login);
        let page = if on[0] { &first } else { &second };
        assert!(page.contains(&l.password) && page.contains(&l.display_name));
    }
    assert!(first.contains("Schüler01 Größe") && second.contains("Schüler40 Größe"));
    // every slip page holds five slips
    for p in 1..=8 {
        let text = page_text(&path, p);
        assert_eq!(
            text.matches("Please change it").count(),
            5,
            "page {p}:\n{text}"
        );
    }
}

#[test]
fn no_letters_is_still_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), &letters_pdf(&HEADER, &[]));
    assert_eq!(pages(&path), 1);
}

#[test]
fn long_logins_and_passwords_stay_whole() {
    let mut l = letter(
        &"Sehr Langer Name ".repeat(6),
        "ein.sehr.langer.anmeldename.x",
        Some("5a"),
        "aaaa-bbbb-cccc-dddd-eeee-ffff-gggg",
    );
    l.mail = Some("ein.sehr.langer.anmeldename.x@gs-nord.example".into());
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), &letters_pdf(&HEADER, &[l.clone()]));
    let text = poppler("pdftotext", &["-enc", "UTF-8"], &path);
    assert_eq!(
        text.matches(&l.login).count(),
        3,
        "slip, mail, list:\n{text}"
    );
    assert_eq!(text.matches(&l.password).count(), 2, "{text}");
}

#[test]
fn the_csv_round_trips() {
    let mut tricky = letter(
        "Meier; \"Ali\" Ünal",
        "ali.uenal",
        Some("5a"),
        "kx7m-p3qa-9dtn",
    );
    tricky.mail = Some("ali@gs-nord.example".into());
    let letters = vec![
        letter("Иван Петров", "ivan.petrov", Some("10b"), "p3qr-s4tu-v5wx"),
        tricky.clone(),
        letter("Ohne Klasse", "ohne", None, "a8bc-d9ef-g2hj"),
    ];
    let bytes = letters_csv(&letters);
    assert!(bytes.starts_with(b"\xef\xbb\xbfclass;name;login;password;mail\r\n"));
    let text = std::str::from_utf8(&bytes).unwrap();
    // RFC 4180: quoted, the inner quotes doubled
    assert!(
        text.contains("5a;\"Meier; \"\"Ali\"\" Ünal\";ali.uenal;"),
        "{text}"
    );

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["class", "name", "login", "password", "mail"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![
                "5a",
                "Meier; \"Ali\" Ünal",
                "ali.uenal",
                "kx7m-p3qa-9dtn",
                "ali@gs-nord.example"
            ],
            vec!["10b", "Иван Петров", "ivan.petrov", "p3qr-s4tu-v5wx", ""],
            vec!["", "Ohne Klasse", "ohne", "a8bc-d9ef-g2hj", ""],
        ]
    );
}

fn meta(created_at: i64) -> BatchMeta {
    BatchMeta {
        created_at,
        import_id: Some(7),
        created_by: "admin".into(),
    }
}

/// Every file under `dir`, with its mode.
fn files(dir: &Path) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            (e.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    out.sort();
    out
}

const DAY: i64 = 86_400;

#[test]
fn each_format_is_taken_once_then_the_batch_is_gone() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("import").join("letters");
    let store = LetterStore::new(&dir);
    assert!(
        store.list(1000, DAY).unwrap().is_empty(),
        "no directory yet"
    );

    let letters = mixed_school();
    let token = store.put(&letters, &meta(1000)).unwrap();
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_ne!(token, store.put(&letters, &meta(1000)).unwrap());

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&root.path().join("import")), 0o700);
    for (name, m) in files(&dir) {
        assert_eq!(m, 0o600, "{name}");
    }
    let batch = dir.join(format!("{token}.json"));
    assert!(batch.exists());

    let list = store.list(1000, DAY).unwrap();
    assert_eq!(list.len(), 2);
    let info = list.iter().find(|b| b.token == token).unwrap();
    assert_eq!(info.count, 8);
    assert_eq!(info.import_id, Some(7));
    assert_eq!(info.classes, ["5a", "10b"]);
    assert!(info.pdf_left && info.csv_left);

    let pdf = store
        .take(&token, LetterFormat::Pdf, &HEADER, 1060, DAY)
        .unwrap()
        .expect("the PDF, once");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        store
            .take(&token, LetterFormat::Pdf, &HEADER, 1061, DAY)
            .unwrap(),
        None
    );
    // rewritten with the mark, still private
    assert_eq!(mode(&batch), 0o600);
    let info = store
        .list(1062, DAY)
        .unwrap()
        .into_iter()
        .find(|b| b.token == token)
        .unwrap();
    assert!(!info.pdf_left && info.csv_left);

    let csv = store
        .take(&token, LetterFormat::Csv, &HEADER, 1063, DAY)
        .unwrap()
        .expect("the CSV, once");
    assert_eq!(csv, letters_csv(&letters));
    assert!(!batch.exists(), "both formats taken: the file is gone");
    assert_eq!(
        store
            .take(&token, LetterFormat::Csv, &HEADER, 1064, DAY)
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take(&token, LetterFormat::Pdf, &HEADER, 1064, DAY)
            .unwrap(),
        None
    );
    assert!(
        files(&dir).iter().all(|(n, _)| !n.contains(&token)),
        "{:?}",
        files(&dir)
    );
    assert_eq!(store.list(1065, DAY).unwrap().len(), 1);
}

#[test]
fn racing_downloads_get_one_copy() {
    let root = tempfile::tempdir().unwrap();
    let store = LetterStore::new(root.path());
    let token = store.put(&mixed_school(), &meta(1000)).unwrap();
    let got: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                // each thread its own store value: its own lock file handle, as two processes
                let store = LetterStore::new(root.path());
                let token = token.clone();
                s.spawn(move || {
                    store
                        .take(&token, LetterFormat::Csv, &HEADER, 1001, DAY)
                        .unwrap()
                        .is_some()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(got, 1);
    let info = &store.list(1002, DAY).unwrap()[0];
    assert!(info.pdf_left && !info.csv_left);
}

#[test]
fn an_expired_batch_is_none_and_deleted() {
    let root = tempfile::tempdir().unwrap();
    let store = LetterStore::new(root.path());
    let old = store.put(&mixed_school(), &meta(1000)).unwrap();
    let listed = store.put(&mixed_school(), &meta(1000)).unwrap();
    let fresh = store.put(&mixed_school(), &meta(1000 + DAY)).unwrap();

    // exactly max_age old is still good
    let now = 1000 + DAY;
    assert_eq!(store.list(now, DAY).unwrap().len(), 3);
    assert_eq!(
        store
            .take(&old, LetterFormat::Csv, &HEADER, now + 1, DAY)
            .unwrap(),
        None
    );
    assert!(!root.path().join(format!("{old}.json")).exists());
    // list deletes expired batches too
    let list = store.list(now + 1, DAY).unwrap();
    assert_eq!(
        list.iter().map(|b| b.token.as_str()).collect::<Vec<_>>(),
        [fresh.as_str()]
    );
    assert!(!root.path().join(format!("{listed}.json")).exists());
}

#[test]
fn malformed_tokens_touch_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("letters");
    let store = LetterStore::new(&dir);
    let token = store.put(&mixed_school(), &meta(1000)).unwrap();
    // a file beside the store that "../x" would name
    let outside = root.path().join("x");
    std::fs::write(&outside, "keep").unwrap();
    std::fs::write(root.path().join("x.json"), "{}").unwrap();
    let before = files(&dir);

    for bad in [
        "../x",
        "..",
        "",
        "x",
        "/etc/passwd",
        &token.to_uppercase(),
        &token[..63],
        &format!("{token}.json"),
        &format!("../letters/{token}"),
        &format!("{}\0", &token[..63]),
    ] {
        for format in [LetterFormat::Pdf, LetterFormat::Csv] {
            assert_eq!(
                store.take(bad, format, &HEADER, 1000, DAY).unwrap(),
                None,
                "{bad:?}"
            );
        }
        assert!(!store.discard(bad).unwrap(), "{bad:?}");
    }
    assert_eq!(files(&dir), before);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
    assert!(root.path().join("x.json").exists());

    // a well-formed token nobody issued is just unknown
    let unknown = "0".repeat(64);
    assert_eq!(
        store
            .take(&unknown, LetterFormat::Pdf, &HEADER, 1000, DAY)
            .unwrap(),
        None
    );
    assert!(!store.discard(&unknown).unwrap());

    // the real one still works, and discarding it removes it
    assert!(store.discard(&token).unwrap());
    assert!(!store.discard(&token).unwrap());
    assert_eq!(
        store
            .take(&token, LetterFormat::Pdf, &HEADER, 1000, DAY)
            .unwrap(),
        None
    );
}

#[test]
fn a_store_that_does_not_exist_yet_is_empty_and_stays_uncreated() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("letters");
    let store = LetterStore::new(&dir);
    assert!(store.list(0, DAY).unwrap().is_empty());
    assert_eq!(
        store
            .take(&"a".repeat(64), LetterFormat::Pdf, &HEADER, 0, DAY)
            .unwrap(),
        None
    );
    assert!(!store.discard(&"a".repeat(64)).unwrap());
    assert!(!dir.exists());
}

#[test]
fn an_existing_loose_directory_is_tightened_and_leftovers_are_swept() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("letters");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = LetterStore::new(&dir);
    store.put(&mixed_school(), &meta(1000)).unwrap();
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // a crash between writing and renaming leaves a temporary file: list sweeps it
    let tmp = dir.join(format!(".{}.tmp", "b".repeat(64)));
    std::fs::write(&tmp, "half").unwrap();
    assert_eq!(store.list(1000, DAY).unwrap().len(), 1);
    assert!(!tmp.exists());
}
