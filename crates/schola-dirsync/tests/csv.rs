#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The CSV reader against the sample exports in `/work/shared/data/rosters` (whose README says
//! what each must give) and the fixtures in `tests/fixtures/csv` (made by `make.sh` there).
//! Every assertion is about what an admin sees: the names exactly, the line, the reason.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use schola_core::config::{CsvProfile, Import};
use schola_core::directory::Role;
use schola_dirsync::csv::{CsvError, MAX_FILE_BYTES, ProfileChoice, profile_names, read_csv};
use schola_dirsync::roster::{Rejected, Roster, SourcePerson};
use unicode_normalization::is_nfc;

fn bytes_of(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A sample export (not in this repository).
fn sample(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/rosters");
    if !dir.is_dir() {
        panic!(
            "the sample rosters are missing: {} is not a directory",
            dir.display()
        );
    }
    bytes_of(dir.join(name))
}

fn fixture(name: &str) -> Vec<u8> {
    bytes_of(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/csv")
            .join(name),
    )
}

fn read(bytes: &[u8], origin: &str) -> Roster {
    read_with(bytes, origin, &ProfileChoice::Auto, &Import::default())
}

fn read_with(bytes: &[u8], origin: &str, choice: &ProfileChoice, cfg: &Import) -> Roster {
    read_csv(bytes, origin, choice, cfg).unwrap_or_else(|e| panic!("{origin}: {e}"))
}

fn error(bytes: &[u8], choice: &ProfileChoice, cfg: &Import) -> String {
    match read_csv(bytes, "x.csv", choice, cfg) {
        Ok(r) => panic!("read, but should not be: {r:?}"),
        Err(e) => e.to_string(),
    }
}

fn person<'a>(r: &'a Roster, id: &str) -> &'a SourcePerson {
    r.people
        .iter()
        .find(|p| p.external_id == id)
        .unwrap_or_else(|| panic!("no person with the id {id} in {}", r.origin))
}

fn names(p: &SourcePerson) -> (&str, &str) {
    (p.given_name.as_str(), p.family_name.as_str())
}

fn rejected_at(r: &Roster, line: u64) -> &Rejected {
    r.rejected
        .iter()
        .find(|x| x.line == Some(line))
        .unwrap_or_else(|| panic!("line {line} is not rejected: {:?}", r.rejected))
}

fn lines_of<T>(items: &[T], line: impl Fn(&T) -> Option<u64>) -> Vec<u64> {
    items.iter().filter_map(line).collect()
}

fn named(name: &str) -> ProfileChoice {
    ProfileChoice::Named(name.into())
}

// ---- the sample exports --------------------------------------------------------------------

#[test]
fn sophomorix_sample_rejects_the_readme_rows_and_keeps_the_rest() {
    let r = read(
        &sample("sophomorix-students-cp1252.csv"),
        "sophomorix-students-cp1252.csv",
    );
    assert_eq!(r.origin, "sophomorix-students-cp1252.csv");
    assert_eq!(r.profile, "sophomorix");
    assert_eq!(r.encoding.as_deref(), Some("Windows-1252"));
    assert_eq!(r.delimiter, Some(';'));
    assert_eq!(r.roles, vec![Role::Student]);
    assert_eq!(r.people.len(), 243, "245 rows, 2 rejected");

    assert_eq!(lines_of(&r.rejected, |x| x.line), vec![243, 244]);
    let no_name = rejected_at(&r, 243);
    assert!(no_name.reason.contains("given name"), "{no_name:?}");
    assert_eq!(no_name.at, "Weiß");
    let again = rejected_at(&r, 244);
    assert!(
        again.reason.contains("900001") && again.reason.contains("line 241"),
        "{again:?}"
    );
    assert_eq!(again.at, "Jörg Groß");

    let first = person(&r, "900001");
    assert_eq!(names(first), ("Anna", "Müller"));
    assert_eq!(
        (first.line, first.classes.as_slice()),
        (Some(241), &["5a".to_string()][..])
    );
    assert_eq!(first.birth_date.as_deref(), Some("01.02.2015"));
    let second = person(&r, "900002");
    assert_eq!(names(second), ("Anna", "Müller"));
    assert_eq!(second.classes, vec!["5a"]);

    let trimmed = person(&r, "900004");
    assert_eq!(names(trimmed), ("Ömer", "Straße"));
    assert_eq!(
        (trimmed.line, trimmed.classes.as_slice()),
        (Some(245), &["8a".to_string()][..])
    );
    assert_eq!(
        lines_of(&r.warnings, |w| w.line),
        vec![245],
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[0].message.contains("'8a '"), "{:?}", r.warnings);

    assert!(r.people.iter().all(|p| p.role == Role::Student));
    let leon = person(&r, "100000");
    assert_eq!((names(leon), leon.line), (("Leon", "Schulz"), Some(1)));
    assert_eq!(names(person(&r, "100002")), ("Håkon", "Werner"));
}

#[test]
fn sophomorix_sample_named_reads_the_same() {
    let bytes = sample("sophomorix-students-cp1252.csv");
    let auto = read(&bytes, "s.csv");
    let named = read_with(&bytes, "s.csv", &named("sophomorix"), &Import::default());
    assert_eq!(auto, named);
}

#[test]
fn generic_sample_keeps_every_name_exactly() {
    let r = read(
        &sample("generic-students-utf8-bom.csv"),
        "generic-students-utf8-bom.csv",
    );
    assert_eq!(r.profile, "schola");
    assert_eq!(r.encoding.as_deref(), Some("UTF-8 with BOM"));
    assert_eq!(r.delimiter, Some(','));
    assert_eq!(r.roles, vec![Role::Student]);
    assert_eq!(r.people.len(), 301);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    let last = person(&r, "S-77");
    assert_eq!(names(last), ("Jean \"JJ\"", "Dupont, Jr."));
    assert_eq!(last.line, Some(302));
    assert_eq!(last.classes, vec!["9b"]);
    assert_eq!(last.birth_date.as_deref(), Some("2011-12-12"));
    assert_eq!(last.mail, None);

    let first = person(&r, "100000");
    assert_eq!((names(first), first.line), (("Lukas", "Koch"), Some(2)));
    for (id, given, family) in [
        ("100020", "Sophie", "Yılmaz"),                 // Turkish dotless ı
        ("100021", "İbrahim", "O'Connor"),              // Turkish dotted İ
        ("100098", "José", "Şahin"),                    // Turkish ş
        ("100057", "Małgorzata", "Kaya"),               // Polish
        ("100017", "Sem", "Wiśniewski"),                // Polish
        ("100005", "Nguy\u{1ec5}n V\u{103}n", "Nuñez"), // Vietnamese, precomposed
        ("100016", "Μαρία", "Nuñez"),                   // Greek
        ("100088", "José", "Παπαδόπουλος"),             // Greek
        ("100011", "Дмитрий", "Hartmann"),              // Cyrillic
        ("100024", "Elias", "Иванов"),                  // Cyrillic
        ("100019", "Jürgen", "van der Berg"),           // Dutch particle
        ("100071", "François", "D'Angelo"),
        ("100044", "Emma", "Müller-Lüdenscheidt"),
        ("100022", "Дмитрий", "Ærøe"),
    ] {
        assert_eq!(names(person(&r, id)), (given, family), "id {id}");
    }
    assert!(
        r.people
            .iter()
            .all(|p| is_nfc(&p.given_name) && is_nfc(&p.family_name))
    );
}

#[test]
fn untis_sample_has_six_teachers_by_kuerzel() {
    let r = read(
        &sample("teachers-untis-utf8.csv"),
        "teachers-untis-utf8.csv",
    );
    assert_eq!(r.profile, "untis-teachers");
    assert_eq!(r.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(r.delimiter, Some(';'));
    assert_eq!(r.roles, vec![Role::Teacher]);
    let ids: Vec<&str> = r.people.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(ids, ["MÜL", "SCH", "OEZ", "VDB", "DSM", "OCO"]);
    assert!(
        r.people
            .iter()
            .all(|p| p.role == Role::Teacher && p.classes.is_empty())
    );
    assert_eq!(names(person(&r, "MÜL")), ("Jürgen", "Müller"));
    assert_eq!(names(person(&r, "SCH")), ("Renée", "Schäfer"));
    assert_eq!(names(person(&r, "OEZ")), ("Ayşe", "Öztürk"));
    assert_eq!(names(person(&r, "VDB")), ("Daan", "van der Berg"));
    assert_eq!(names(person(&r, "OCO")), ("Siobhán", "O'Connor"));
    assert_eq!(person(&r, "OCO").line, Some(7));
    assert!(r.rejected.is_empty() && r.warnings.is_empty(), "{r:?}");
}

#[test]
fn year_change_samples_read_as_sophomorix() {
    let old = read(
        &sample("year-change/2025-students.csv"),
        "2025-students.csv",
    );
    let new = read(
        &sample("year-change/2026-students.csv"),
        "2026-students.csv",
    );
    for r in [&old, &new] {
        assert_eq!(r.profile, "sophomorix", "{}", r.origin);
        assert_eq!(r.encoding.as_deref(), Some("Windows-1252"), "{}", r.origin);
        assert_eq!(r.delimiter, Some(';'));
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
    assert_eq!((old.people.len(), new.people.len()), (443, 437));
    // the same id a year later: promoted, family name changed
    let (before, after) = (person(&old, "100003"), person(&new, "100003"));
    assert_eq!(
        (names(before), before.classes.as_slice()),
        (("Noah", "Lê"), &["5d".to_string()][..])
    );
    assert_eq!(
        (names(after), after.classes.as_slice()),
        (("Noah", "Lê-Neu"), &["6d".to_string()][..])
    );
    assert_eq!(names(person(&new, "100000")), ("Björn", "Schröder"));
}

// ---- fixtures: names, encodings, quoting ---------------------------------------------------

#[test]
fn names_from_many_languages_are_kept_exactly() {
    let r = read(&fixture("names-utf8.csv"), "names-utf8.csv");
    assert_eq!(
        (r.profile.as_str(), r.encoding.as_deref()),
        ("schola", Some("UTF-8"))
    );
    assert!(r.rejected.is_empty() && r.warnings.is_empty(), "{r:?}");
    assert_eq!(r.roles, vec![Role::Student, Role::Teacher, Role::Staff]);
    // two pupils of the same name in the same class, told apart by their ids
    for id in ["1001", "1002"] {
        assert_eq!(names(person(&r, id)), ("Anna", "Müller"));
        assert_eq!(person(&r, id).classes, vec!["5a"]);
    }
    assert_ne!(person(&r, "1001").birth_date, person(&r, "1002").birth_date);
    for (id, given, family) in [
        ("1003", "Jörg-Peter", "Weiß"),
        ("1004", "Siobhán", "O'Connor"),
        ("1005", "Noël", "D'Angelo"),
        ("1006", "Maria Luisa", "García López"),
        ("1007", "İlkay", "Işık"),
        ("1008", "Дмитрий", "Иванов"),
        ("1009", "Ελένη", "Παπαδοπούλου"),
        ("1010", "Zoë", "Lefèvre-Ñúñez"),
        ("1011", "Nguyễn", "Thị Minh Khai"),
        ("L-01", "Jürgen", "Schäfer"),
        ("S-01", "Ludwig", "van der Straßen"),
    ] {
        assert_eq!(names(person(&r, id)), (given, family), "id {id}");
    }
    assert_eq!(
        person(&r, "1003").role,
        Role::Student,
        "'Schüler' is a student"
    );
    let teacher = person(&r, "L-01");
    assert_eq!(teacher.role, Role::Teacher, "'Lehrer' is a teacher");
    assert_eq!(
        teacher.classes,
        vec!["5a", "7c"],
        "'5a|7c 5A', sorted, once each"
    );
    assert_eq!(teacher.mail.as_deref(), Some("j.schaefer@example.org"));
    let staff = person(&r, "S-01");
    assert_eq!(
        (staff.role, staff.classes.len(), staff.line),
        (Role::Staff, 0, Some(14))
    );
}

#[test]
fn windows_1252_sophomorix_with_a_bad_birth_date() {
    let r = read(&fixture("sophomorix-cp1252.csv"), "s.csv");
    assert_eq!(r.profile, "sophomorix");
    assert_eq!(r.encoding.as_deref(), Some("Windows-1252"));
    assert_eq!(names(person(&r, "2001")), ("Šimon", "Žužek"));
    assert_eq!(names(person(&r, "2002")), ("Chloé", "Lefèvre"));
    assert_eq!(names(person(&r, "2003")), ("Jörg", "Müller"));
    // a date that does not exist is kept, with a warning: not a reason to refuse the pupil
    assert_eq!(person(&r, "2002").birth_date.as_deref(), Some("31.02.2015"));
    assert_eq!(lines_of(&r.warnings, |w| w.line), vec![2]);
    assert!(
        r.warnings[0].message.contains("birth date '31.02.2015'"),
        "{:?}",
        r.warnings
    );
    assert!(r.rejected.is_empty());
}

#[test]
fn iso_8859_15_is_told_by_letters_inside_words() {
    let r = read(&fixture("generic-latin9.csv"), "l.csv");
    assert_eq!(r.encoding.as_deref(), Some("ISO-8859-15"));
    assert_eq!(r.delimiter, Some(';'));
    assert_eq!(names(person(&r, "3001")), ("Šimon", "Koželuh"));
    assert_eq!(names(person(&r, "3002")), ("Œdile", "Gauß"));
    assert_eq!(names(person(&r, "3003")), ("Renée", "Müller"));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn quoted_fields_bom_and_crlf() {
    let r = read(&fixture("quoted-bom-crlf.csv"), "q.csv");
    assert_eq!(r.encoding.as_deref(), Some("UTF-8 with BOM"));
    assert_eq!(r.delimiter, Some(','));
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let jj = person(&r, "4001");
    assert_eq!(
        (names(jj), jj.line),
        (("Jean \"JJ\"", "Dupont, Jr."), Some(2))
    );
    // a line break inside quoted names: the person keeps the line the row starts on, the
    // names are repaired with a warning
    let anna = person(&r, "4002");
    assert_eq!((names(anna), anna.line), (("Anna Lena", "Meyer"), Some(3)));
    assert_eq!(
        lines_of(&r.warnings, |w| w.line),
        vec![3, 3],
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings[0].message.contains("given name"),
        "{:?}",
        r.warnings
    );
    // the row after the multi-line one starts on physical line 6
    let tom = person(&r, "4003");
    assert_eq!((names(tom), tom.line), (("Tom", "Schmitz"), Some(6)));
    let li = person(&r, "4004");
    assert_eq!((names(li), li.line), (("Li, Na", "Wang \"W.\""), Some(7)));
}

#[test]
fn utf16_unicode_text_from_excel_is_read() {
    let r = read(&fixture("untis-utf16le.csv"), "u.txt");
    assert_eq!(r.encoding.as_deref(), Some("UTF-16LE with BOM"));
    assert_eq!(r.delimiter, Some('\t'));
    assert_eq!(r.profile, "untis-teachers");
    assert_eq!(names(person(&r, "ŞEN")), ("Ayşe", "Şen"));
    assert_eq!(person(&r, "ŞEN").line, Some(2));
}

#[test]
fn tab_separated_generic_file() {
    let r = read(&fixture("tab.csv"), "t.csv");
    assert_eq!((r.profile.as_str(), r.delimiter), ("schola", Some('\t')));
    assert_eq!(names(person(&r, "T-1")), ("Karin", "Schulze, geb. Mayer"));
    assert_eq!(names(person(&r, "T-2")), ("Ole", "Nielsen"));
    assert_eq!(r.roles, vec![Role::Teacher]);
}

#[test]
fn blank_lines_are_skipped_and_lines_stay_physical() {
    let r = read(&fixture("blank-lines.csv"), "b.csv");
    assert_eq!(r.profile, "untis-teachers");
    assert!(r.rejected.is_empty() && r.warnings.is_empty(), "{r:?}");
    assert_eq!(lines_of(&r.people, |p| p.line), vec![3, 6]);
    assert_eq!(names(person(&r, "BCD")), ("Bernd", "Bauer"));
}

// ---- fixtures: rows that cannot be imported ------------------------------------------------

#[test]
fn each_problem_row_is_rejected_with_its_line_and_field() {
    let r = read(&fixture("problems.csv"), "p.csv");
    assert_eq!(r.profile, "schola");
    assert_eq!(
        lines_of(&r.rejected, |x| x.line),
        vec![3, 4, 5, 6, 7, 8, 9, 10]
    );
    for (line, at, field) in [
        (3, "Vogel", "the given name is empty"),
        (4, "Max Fuchs", "the id is empty"),
        (5, "Finn Wolf", "the role 'pirate'"),
        (
            6,
            "id 5005",
            "the given name (column 4) and the family name (column 5)",
        ),
        (7, "Mia Lange", "the email 'mia@' is not a mail address"),
        (8, "Ben Kühn", "the class '9/a'"),
        (9, "Paul Dupont", "7 columns but the header 6"),
        (10, "Lea Hahn", "the id '5001' is already used by line 2"),
    ] {
        let x = rejected_at(&r, line);
        assert_eq!(x.at, at, "line {line}");
        assert!(x.reason.contains(field), "line {line}: {}", x.reason);
    }
    // the first row with the id stays; the repaired row is imported with its warnings
    assert_eq!(person(&r, "5001").line, Some(2));
    let nina = person(&r, "5010");
    assert_eq!(
        (names(nina), nina.classes.as_slice()),
        (("Nina", "Roth"), &["9a".to_string()][..])
    );
    assert_eq!(
        lines_of(&r.warnings, |w| w.line),
        vec![11, 11],
        "{:?}",
        r.warnings
    );
    assert_eq!(r.people.len(), 2);
    assert_eq!(r.roles, vec![Role::Student]);
}

#[test]
fn every_problem_of_a_row_is_named_at_once() {
    let r = read(b"id,given_name,family_name,email\n,,Kraus,nope\n", "x.csv");
    let x = rejected_at(&r, 2);
    for field in ["id", "given name", "email"] {
        assert!(x.reason.contains(field), "{}", x.reason);
    }
    assert!(
        r.warnings.iter().all(|w| w.line.is_none()),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_file_with_nothing_imported_declares_no_one_gone() {
    let r = read(
        b"5a;Kraus;;01.02.2015;1;\r\n5b;Lenz;;01.02.2015;2;\r\n",
        "s.csv",
    );
    assert_eq!(r.profile, "sophomorix");
    assert_eq!(r.rejected.len(), 2);
    assert!(r.roles.is_empty(), "{:?}", r.roles);
    assert!(r.warnings[0].message.contains("nothing about who has left"));
    let r = read(b"id,given_name,family_name\n", "h.csv");
    assert!(r.people.is_empty() && r.roles.is_empty());
    assert!(
        r.warnings[0].message.contains("no rows"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_stray_quote_that_swallows_rows_is_not_imported_silently() {
    // the quote opened on line 3 closes on line 5: lines 4 and 5 are inside one field
    let file = "id,given_name,family_name,note\n\
                1,Ada,Lovelace,\n\
                2,\"Alan,Turing,\n\
                3,Grace,Hopper,\n\
                4,Edsger\",Dijkstra,\n\
                5,Barbara,Liskov,\"x\n6,Tim,Berners-Lee,\"\n";
    let r = read(file.as_bytes(), "s.csv");
    let x = rejected_at(&r, 3);
    assert!(
        x.reason.contains("column 2") && x.reason.contains("closing '\"'"),
        "{}",
        x.reason
    );
    // in a column nobody reads, it is a warning; the row itself is fine
    assert_eq!(names(person(&r, "5")), ("Barbara", "Liskov"));
    assert_eq!(
        lines_of(&r.warnings, |w| w.line),
        vec![1, 6],
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[0].message.contains("'note'"), "{:?}", r.warnings);
    assert!(
        r.warnings[1].message.contains("column 4"),
        "{:?}",
        r.warnings
    );
    assert_eq!(lines_of(&r.people, |p| p.line), vec![2, 6]);
}

#[test]
fn a_sophomorix_file_with_a_header_row_skips_it() {
    let file = b"Klasse;Nachname;Vorname;Geburtsdatum;Nr;\r\n5a;Kraus;Eva;01.02.2015;1;\r\n";
    for choice in [ProfileChoice::Auto, named("sophomorix")] {
        let r = read_with(file, "s.csv", &choice, &Import::default());
        assert_eq!(r.profile, "sophomorix");
        assert_eq!(r.people.len(), 1, "{r:?}");
        assert_eq!(
            (names(&r.people[0]), r.people[0].line),
            (("Eva", "Kraus"), Some(2))
        );
        assert!(r.rejected.is_empty() && r.warnings.is_empty(), "{r:?}");
    }
}

// ---- fixtures: whole-file problems ---------------------------------------------------------

#[test]
fn whole_file_problems_are_errors_that_say_where() {
    let cfg = Import::default();
    let auto = ProfileChoice::Auto;
    assert_eq!(
        error(&fixture("empty.csv"), &auto, &cfg),
        "the file is empty (0 bytes)"
    );
    assert_eq!(
        error(&fixture("png-header.csv"), &auto, &cfg),
        "this is not a text file: a NUL byte at byte 9"
    );
    let unclosed = error(&fixture("unclosed-quote.csv"), &auto, &cfg);
    assert!(unclosed.starts_with("line 3: a quoted field"), "{unclosed}");
    assert!(matches!(
        read_csv(&fixture("unclosed-quote.csv"), "u.csv", &auto, &cfg),
        Err(CsvError::UnclosedQuote { line: 3 })
    ));
    assert_eq!(
        error(b"id,given_name\n1,Anna\n", &auto, &cfg),
        "line 1: the header has no column 'family_name' (found: 'id', 'given_name')"
    );
    assert_eq!(
        error(b"\n\nid,given_name,ID,family_name\n", &auto, &cfg),
        "line 3: the header has the column 'id' twice (columns 1 and 3)"
    );
    let none = error(b"Name;Vorname;Klasse\nKraus;Eva;5a\n", &auto, &cfg);
    assert!(
        none.starts_with("no profile matches this file: line 1 ('Name;Vorname;Klasse')")
            && none.contains("name one with --profile"),
        "{none}"
    );
    assert_eq!(
        error(b"a,b\n", &named("asv"), &cfg),
        "unknown profile 'asv' (known: schola, sophomorix, untis-teachers)"
    );
    for choice in [auto.clone(), named("sophomorix"), named("schola")] {
        assert_eq!(
            error(b" \r\n\r\n;;\n", &choice, &cfg),
            "the file has no rows, only blank lines"
        );
    }
    let too_large = vec![b'a'; MAX_FILE_BYTES + 1];
    assert!(error(&too_large, &auto, &cfg).starts_with("the file is larger than 32 MiB"));
    let xlsx = error(b"PK\x03\x04\x14\0\x06\0", &auto, &cfg);
    assert!(xlsx.contains(".xlsx"), "{xlsx}");
}

#[test]
fn untis_named_on_a_generic_file_says_what_is_missing() {
    let e = error(
        &fixture("names-utf8.csv"),
        &named("untis-teachers"),
        &Import::default(),
    );
    assert!(
        e.starts_with("line 1: the header has no column 'Kürzel' (found: 'id', 'role'"),
        "{e}"
    );
}

// ---- configured profiles -------------------------------------------------------------------

fn profile(id: &str, given: &str, family: &str) -> CsvProfile {
    CsvProfile {
        header: true,
        delimiter: None,
        role: None,
        id: id.into(),
        given_name: given.into(),
        family_name: family.into(),
        class: None,
        role_column: None,
        login: None,
        email: None,
        birth_date: None,
    }
}

fn with_profiles(profiles: Vec<(&str, CsvProfile)>) -> Import {
    Import {
        profiles: profiles
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
        ..Import::default()
    }
}

fn asv() -> CsvProfile {
    CsvProfile {
        class: Some("Klasse".into()),
        birth_date: Some("geburtstag".into()),
        role_column: Some("Funktion".into()),
        role: Some("Lehrer".into()),
        ..profile("Schülernummer", "Rufname", "Familienname")
    }
}

#[test]
fn a_configured_profile_is_picked_by_its_header() {
    let cfg = with_profiles(vec![("asv", asv())]);
    assert_eq!(
        profile_names(&cfg),
        ["schola", "sophomorix", "untis-teachers", "asv"]
    );
    let bytes = fixture("configured.csv");
    let r = read_with(&bytes, "c.csv", &ProfileChoice::Auto, &cfg);
    assert_eq!(r.profile, "asv");
    assert_eq!(r.delimiter, Some(';'));
    assert!(r.rejected.is_empty() && r.warnings.is_empty(), "{r:?}");
    let lina = person(&r, "6001");
    assert_eq!(
        (names(lina), lina.role),
        (("Lina", "Krüger"), Role::Student)
    );
    assert_eq!(lina.birth_date.as_deref(), Some("2010-04-05"));
    let oemer = person(&r, "6002");
    assert_eq!(names(oemer), ("Ömer", "Çelik"));
    assert_eq!(oemer.classes, vec!["10c", "ag-chor"]);
    // an empty role cell takes the profile's `role`
    let petra = person(&r, "6003");
    assert_eq!(
        (names(petra), petra.role, petra.line),
        (("Petra", "Groß"), Role::Teacher, Some(4))
    );
    assert_eq!(r.roles, vec![Role::Student, Role::Teacher]);
    assert_eq!(read_with(&bytes, "c.csv", &named("asv"), &cfg), r);
}

#[test]
fn a_configured_profile_with_column_numbers() {
    let cfg = with_profiles(vec![(
        "numbers",
        CsvProfile {
            header: false,
            delimiter: Some(",".into()),
            role: Some("teacher".into()),
            ..profile("2", "3", "1")
        },
    )]);
    let bytes = fixture("configured-numbers.csv");
    let r = read_with(&bytes, "n.csv", &named("numbers"), &cfg);
    assert_eq!(
        (r.profile.as_str(), r.roles.as_slice()),
        ("numbers", &[Role::Teacher][..])
    );
    assert_eq!(names(person(&r, "7001")), ("Eva", "Berger"));
    assert_eq!(person(&r, "7002").line, Some(2));
    // headerless profiles are only used when named
    let e = error(&bytes, &ProfileChoice::Auto, &cfg);
    assert!(
        e.contains("known: schola, sophomorix, untis-teachers, numbers"),
        "{e}"
    );
}

#[test]
fn configured_profile_mistakes_are_named() {
    let cfg = with_profiles(vec![
        (
            "words",
            CsvProfile {
                header: false,
                ..profile("eins", "2", "3")
            },
        ),
        (
            "pipe",
            CsvProfile {
                delimiter: Some("||".into()),
                ..profile("a", "b", "c")
            },
        ),
        (
            "boss",
            CsvProfile {
                role: Some("boss".into()),
                ..profile("Schülernummer", "Rufname", "Familienname")
            },
        ),
        (
            "asv",
            CsvProfile {
                email: Some("Mail".into()),
                ..asv()
            },
        ),
    ]);
    let bytes = fixture("configured.csv");
    let e = error(&bytes, &named("words"), &cfg);
    assert!(
        e.contains("profile 'words'") && e.contains("'eins' is not a column number"),
        "{e}"
    );
    let e = error(&bytes, &named("pipe"), &cfg);
    assert!(e.contains("the delimiter '||'"), "{e}");
    let e = error(&bytes, &named("boss"), &cfg);
    assert!(e.contains("profile 'boss'") && e.contains("'boss'"), "{e}");
    let e = error(&bytes, &named("asv"), &cfg);
    assert!(
        e.starts_with("line 1: the header has no column 'Mail'")
            && e.contains("profile 'asv' reads the email"),
        "{e}"
    );
}

#[test]
fn two_configured_profiles_fitting_one_header_is_an_error() {
    let teachers = CsvProfile {
        role: Some("teacher".into()),
        ..profile("Schülernummer", "Rufname", "Familienname")
    };
    let students = CsvProfile {
        role: Some("student".into()),
        ..teachers.clone()
    };
    let cfg = with_profiles(vec![("students", students), ("teachers", teachers)]);
    let e = error(&fixture("configured.csv"), &ProfileChoice::Auto, &cfg);
    assert_eq!(
        e,
        "line 1: the header fits the profiles 'students', 'teachers'; name one with --profile"
    );
    let r = read_with(
        &fixture("configured.csv"),
        "c.csv",
        &named("teachers"),
        &cfg,
    );
    assert_eq!(r.roles, vec![Role::Teacher]);
}

// ---- size ----------------------------------------------------------------------------------

#[test]
fn five_thousand_rows_are_read_quickly() {
    let mut file = String::from("id,role,class,given_name,family_name,birth_date,email\n");
    for i in 0..5000 {
        file.push_str(&format!(
            "{i},student,{}{},Jürgen-{i},\"Müller, {i}\",2015-02-01,p{i}@example.org\n",
            5 + i % 8,
            ["a", "b", "c"][i % 3]
        ));
    }
    let start = Instant::now();
    let r = read(file.as_bytes(), "big.csv");
    let took = start.elapsed();
    assert_eq!(r.people.len(), 5000);
    assert!(r.rejected.is_empty() && r.warnings.is_empty());
    assert_eq!(person(&r, "4999").line, Some(5001));
    // a debug build is several times slower; the bound is for release builds
    let bound = if cfg!(debug_assertions) { 5.0 } else { 0.5 };
    assert!(took.as_secs_f64() < bound, "5000 rows took {took:?}");
}
