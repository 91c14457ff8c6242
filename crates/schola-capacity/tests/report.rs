//! The pictures (SVG) and the readiness report (PDF) as a user gets them: SVG that a browser
//! parses under the admin pages' CSP and a screen reader can name, and a PDF whose text
//! `pdftotext` reads back, umlauts and page numbers included.

// helpers outside #[test] functions panic too; clippy.toml's allow-*-in-tests does not see them
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use expect_test::expect;
use schola_capacity::Level;
use schola_capacity::pdf::{Block, Report, render};
use schola_capacity::svg::{
    Bar, BarLabels, DiskPoint, ForecastLabels, PeakLabels, disk_forecast, morning_peaks, need_bars,
};
use schola_core::load_history::DailyPeak;

const DAY: i64 = 86_400;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn bar(label: &str, needed: f64, have: f64, level: Level) -> Bar {
    Bar {
        label: label.into(),
        needed,
        have,
        level,
        needed_text: format!("{needed} units"),
        have_text: format!("{have} units"),
        level_text: level.as_str().to_uppercase(),
    }
}

fn bar_labels() -> BarLabels {
    BarLabels {
        title: "Bedarf und Kapazität".into(),
        needed: "Bedarf".into(),
        have: "vorhanden".into(),
    }
}

/// A date as the tests' "translation": days since the epoch, so ticks are easy to check.
fn day_label(t: i64) -> String {
    format!("T{}", t / DAY)
}

/// Parses the SVG as XML and checks what every picture must have: the root with `role="img"`,
/// a `viewBox` and width 100 %, `<title>` and `<desc>` first, and nothing the CSP forbids.
fn parse(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("the picture is not well-formed XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    assert_eq!(root.attribute("width"), Some("100%"));
    assert!(root.attribute("viewBox").is_some());
    let first: Vec<&str> = root
        .children()
        .filter(|n| n.is_element())
        .take(2)
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(first, ["title", "desc"]);
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(
            !matches!(name, "style" | "script" | "foreignObject"),
            "<{name}> is forbidden by the CSP"
        );
        for attr in node.attributes() {
            assert!(
                attr.name() != "style" && !attr.name().starts_with("on"),
                "attribute {} on <{name}> is forbidden by the CSP",
                attr.name()
            );
        }
    }
    assert!(!svg.contains("style="));
    doc
}

fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// The elements of a series, without the legend's swatches.
fn with_class<'a>(
    doc: &'a roxmltree::Document<'a>,
    tag: &str,
    class: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            let classes: Vec<&str> = n.attribute("class").unwrap_or("").split(' ').collect();
            n.has_tag_name(tag) && classes.contains(&class) && !classes.contains(&"cap-swatch")
        })
        .collect()
}

fn num(node: &roxmltree::Node<'_, '_>, attr: &str) -> f64 {
    node.attribute(attr)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{}> has no number {attr}", node.tag_name().name()))
}

#[test]
fn need_bars_escape_every_text_and_draw_each_row_to_its_own_scale() {
    let mut hostile = bar("<b>&\"x\"", 1900.0, 512.0, Level::Fail);
    hostile.have_text = "512 'conn'".into();
    let labels = BarLabels {
        title: "Need & capacity <8:00>".into(),
        ..bar_labels()
    };
    let svg = need_bars(
        &[
            hostile,
            bar("RAM", 4.0, 16.0, Level::Ok),
            bar("Disk", 90.0, 100.0, Level::Warn),
        ],
        &labels,
    );
    assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;"), "{svg}");
    assert!(svg.contains("512 &#39;conn&#39;"));
    assert!(!svg.contains("<b>"));
    let doc = parse(&svg);
    assert_eq!(
        doc.root_element().attribute("aria-label"),
        Some("Need & capacity <8:00>")
    );
    let texts = texts(&doc);
    for want in [
        "<b>&\"x\"",
        "FAIL",
        "OK",
        "WARN",
        "Bedarf: 1900 units",
        "vorhanden: 512 'conn'",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want:?} missing in {texts:?}"
        );
    }
    // a screen reader hears every row's numbers and level
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        desc.contains("RAM: Bedarf 4 units, vorhanden 16 units, OK."),
        "{desc}"
    );

    // the capacity bar of each row, relative to that row's larger value
    let track = num(&with_class(&doc, "rect", "cap-track")[0], "width");
    let have: Vec<f64> = with_class(&doc, "rect", "cap-have")
        .iter()
        .map(|n| num(n, "width") / track)
        .collect();
    assert_eq!(have.len(), 3);
    assert!((have[0] - 512.0 / 1900.0).abs() < 0.01, "{have:?}");
    assert!((have[1] - 1.0).abs() < 0.01);
    // the needed marker sits where the need is
    let marker_x: Vec<f64> = with_class(&doc, "line", "cap-needed")
        .iter()
        .map(|n| num(n, "x1") / track)
        .collect();
    assert!((marker_x[1] - 0.25).abs() < 0.01, "{marker_x:?}");
    // the level is a class the web CSS can style, and a colour
    assert_eq!(with_class(&doc, "rect", "cap-fail").len(), 2); // badge and bar
    assert_eq!(with_class(&doc, "rect", "cap-warn").len(), 2);
}

#[test]
fn need_bars_snapshot() {
    let svg = need_bars(
        &[bar("Sign-in CPU", 30.0, 20.0, Level::Fail)],
        &bar_labels(),
    );
    parse(&svg);
    // one element a line, so a change shows as a readable diff
    expect![[r##"
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 560 104" width="100%" role="img" aria-label="Bedarf und Kapazität" class="cap-chart cap-bars" font-family="system-ui, -apple-system, &#39;Segoe UI&#39;, Helvetica, Arial, sans-serif">
        <title>Bedarf und Kapazität</title>
        <desc>Sign-in CPU: Bedarf 30 units, vorhanden 20 units, FAIL.</desc>
        <rect x="0" y="4" width="16" height="12" fill="#6e7781" class="cap-swatch cap-have"/>
        <text x="22" y="14.5" font-size="13" fill="#59636e" class="cap-legend">vorhanden</text>
        <polyline points="112.6,10 128.6,10" fill="none" stroke="#1f2328" stroke-width="2.5" stroke-linejoin="round" class="cap-swatch cap-needed"/>
        <text x="134.6" y="14.5" font-size="13" fill="#59636e" class="cap-legend">Bedarf</text>
        <rect x="519.3" y="32" width="40.7" height="19" fill="#cf222e" class="cap-badge cap-fail"/>
        <text x="539.7" y="46" font-size="12" text-anchor="middle" font-weight="bold" fill="#ffffff" class="cap-badge-text">FAIL</text>
        <text x="0" y="46" font-size="15" font-weight="bold" fill="#1f2328" class="cap-label">Sign-in CPU</text>
        <rect x="0" y="57" width="560" height="14" fill="#eaeef2" class="cap-track"/>
        <rect x="0" y="57" width="373.3" height="14" fill="#cf222e" class="cap-have cap-fail"/>
        <line x1="558.5" y1="53" x2="558.5" y2="75" stroke="#1f2328" stroke-width="3" class="cap-needed"/>
        <text x="0" y="87" font-size="13" fill="#1f2328" class="cap-value">Bedarf: 30 units</text>
        <text x="560" y="87" font-size="13" text-anchor="end" fill="#1f2328" class="cap-value">vorhanden: 20 units</text>
        </svg>"##]].assert_eq(&svg.replace("><", ">\n<"));
}

fn forecast_labels(full_on: Option<&str>) -> ForecastLabels {
    ForecastLabels {
        title: "Datenplatte".into(),
        used: "belegt".into(),
        forecast: "Prognose".into(),
        capacity: "Größe".into(),
        full_on: full_on.map(Into::into),
    }
}

#[test]
fn disk_forecast_draws_history_forecast_and_the_day_the_disk_is_full() {
    let now = 100 * DAY;
    let history: Vec<DiskPoint> = (0..30)
        .map(|i| DiskPoint {
            at: now - (29 - i) * DAY,
            used: 400.0 * GIB + i as f64 * 6.0 * GIB,
        })
        .collect();
    // 574 GiB used, 1 TiB disk, 6 GiB a day: full in about 75 days, inside the 90 shown
    let svg = disk_forecast(
        &history,
        1024.0 * GIB,
        6.0 * GIB,
        now,
        90,
        &forecast_labels(Some("voll am T175")),
        &day_label,
    );
    let doc = parse(&svg);
    let texts = texts(&doc);
    for want in [
        "belegt",
        "Prognose",
        "Größe",
        "voll am T175",
        "1.0 TiB",
        "T120",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want:?} missing in {texts:?}"
        );
    }
    let used = with_class(&doc, "polyline", "cap-used");
    assert_eq!(
        used[0].attribute("points").map(|p| p.split(' ').count()),
        Some(30)
    );
    let forecast = with_class(&doc, "polyline", "cap-forecast");
    assert_eq!(forecast.len(), 1);
    assert!(forecast[0].attribute("stroke-dasharray").is_some());
    // the full-on dot sits on the capacity line, right of "now", left of the picture's end
    let capacity = with_class(&doc, "line", "cap-capacity");
    let full = with_class(&doc, "circle", "cap-full");
    assert_eq!(num(&full[0], "cy"), num(&capacity[0], "y1"));
    let now_x = num(&with_class(&doc, "circle", "cap-used")[0], "cx");
    let end_x = num(&capacity[0], "x2");
    let full_x = num(&full[0], "cx");
    let expected = now_x + (end_x - now_x) * (450.0 / 6.0) / 90.0;
    assert!((full_x - expected).abs() < 1.0, "{full_x} vs {expected}");
}

#[test]
fn disk_forecast_works_without_history_or_with_one_point() {
    let labels = forecast_labels(None);
    let empty = disk_forecast(
        &[],
        500.0 * GIB,
        1.0 * GIB,
        10 * DAY,
        30,
        &labels,
        &day_label,
    );
    let doc = parse(&empty);
    assert!(with_class(&doc, "polyline", "cap-used").is_empty());
    assert_eq!(with_class(&doc, "line", "cap-capacity").len(), 1);

    let one = [DiskPoint {
        at: 10 * DAY,
        used: 100.0 * GIB,
    }];
    let svg = disk_forecast(
        &one,
        500.0 * GIB,
        1.0 * GIB,
        10 * DAY,
        30,
        &labels,
        &day_label,
    );
    let doc = parse(&svg);
    assert_eq!(with_class(&doc, "circle", "cap-used").len(), 1);
    assert_eq!(with_class(&doc, "polyline", "cap-forecast").len(), 1);
    let dates: Vec<String> = texts(&doc)
        .into_iter()
        .filter(|t| t.starts_with('T'))
        .collect();
    assert!(dates.len() >= 3, "{dates:?}");

    // a runaway forecast stops at the top of the picture instead of squashing the rest
    let svg = disk_forecast(
        &one,
        500.0 * GIB,
        500.0 * GIB,
        10 * DAY,
        365,
        &labels,
        &day_label,
    );
    let doc = parse(&svg);
    let capacity_y = num(&with_class(&doc, "line", "cap-capacity")[0], "y1");
    let forecast = with_class(&doc, "polyline", "cap-forecast");
    let points = forecast[0].attribute("points").unwrap();
    let end_y: f64 = points.rsplit(',').next().unwrap().parse().unwrap();
    assert!(end_y >= 0.0 && end_y < capacity_y, "{points}");
}

fn peak(day: i64, signins: u64, p99: Option<f64>, waiting: u64) -> DailyPeak {
    DailyPeak {
        day: day * DAY,
        at: day * DAY + 8 * 3600,
        signins_per_minute: signins,
        requests_per_minute: signins * 10,
        p99_ms: p99,
        waiting_room: waiting,
        refused: 0,
    }
}

fn peak_labels() -> PeakLabels {
    PeakLabels {
        title: "Morgenspitzen".into(),
        signins: "Anmeldungen/min".into(),
        p99: "p99".into(),
        waiting: "Warteraum".into(),
    }
}

#[test]
fn morning_peaks_draw_a_bar_per_day_and_mark_waiting_room_days() {
    let peaks = [
        peak(20, 120, Some(300.0), 0),
        peak(21, 480, Some(1800.0), 35),
        peak(22, 0, None, 0),
        peak(23, 200, Some(400.0), 0),
    ];
    let svg = morning_peaks(&peaks, &peak_labels(), &day_label);
    let doc = parse(&svg);
    let bars = with_class(&doc, "rect", "cap-signins");
    assert_eq!(bars.len(), 4);
    // the busiest day has the tallest bar
    let heights: Vec<f64> = bars.iter().map(|b| num(b, "height")).collect();
    assert!(heights[1] > heights[3] && heights[3] > heights[0] && heights[2] == 0.0);
    assert_eq!(with_class(&doc, "path", "cap-waiting").len(), 1);
    assert_eq!(with_class(&doc, "rect", "cap-waiting").len(), 1);
    // the day without a latency breaks the p99 line in two
    assert_eq!(with_class(&doc, "polyline", "cap-p99").len(), 1);
    assert_eq!(with_class(&doc, "circle", "cap-p99").len(), 3);
    let texts = texts(&doc);
    for want in ["T20", "T23", "Warteraum", "2,000 ms"] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want:?} missing in {texts:?}"
        );
    }
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        desc.contains("T21: Anmeldungen/min 480, p99 1,800 ms, Warteraum 35"),
        "{desc}"
    );
}

#[test]
fn morning_peaks_work_with_no_one_and_many_days() {
    let svg = morning_peaks(&[], &peak_labels(), &day_label);
    let doc = parse(&svg);
    assert!(with_class(&doc, "rect", "cap-signins").is_empty());

    let svg = morning_peaks(&[peak(5, 10, Some(50.0), 0)], &peak_labels(), &day_label);
    let doc = parse(&svg);
    assert_eq!(with_class(&doc, "rect", "cap-signins").len(), 1);
    assert!(texts(&doc).iter().any(|t| t == "T5"));

    let many: Vec<DailyPeak> = (0..400)
        .map(|d| {
            peak(
                1000 + d,
                100 + (d as u64 % 50),
                Some(200.0),
                u64::from(d % 30 == 0),
            )
        })
        .collect();
    let svg = morning_peaks(&many, &peak_labels(), &day_label);
    let doc = parse(&svg);
    let bars = with_class(&doc, "rect", "cap-signins");
    assert_eq!(bars.len(), 400);
    // every bar stays inside the picture and no two overlap
    let xs: Vec<(f64, f64)> = bars
        .iter()
        .map(|b| (num(b, "x"), num(b, "x") + num(b, "width")))
        .collect();
    assert!(
        xs.windows(2).all(|w| w[0].1 <= w[1].0 + 0.1),
        "bars overlap"
    );
    assert!(xs.last().unwrap().1 <= 640.0);
    let date_ticks = texts(&doc).iter().filter(|t| t.starts_with('T')).count();
    assert!((3..=8).contains(&date_ticks), "{date_ticks} date labels");
    // a screen reader gets the newest month, not 400 days
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(desc.contains("T1399:") && !desc.contains("T1000:"));
    assert!(svg.len() < 200_000, "{} bytes", svg.len());
}

/// Runs a poppler tool; a missing one fails the test with the package to install.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {tool} ({e}): the report test needs poppler-utils \
                 (apt-get install -y poppler-utils)"
            )
        });
    assert!(
        out.status.success(),
        "{tool} failed on the report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pdfinfo(pdf: &Path) -> String {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run pdfinfo ({e}): the report test needs poppler-utils \
             (apt-get install -y poppler-utils)"
            )
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn german_report() -> Report {
    let verdicts = [
        (
            "Anmelde-CPU",
            "1.900 Anmeldungen in 10 Minuten",
            "3,2 Kerne",
            "2 Kerne",
        ),
        ("Arbeitsspeicher", "9,5 GiB", "9,5 GiB", "4 GiB"),
        ("Verbindungen", "Webserver", "1.900", "512"),
    ];
    let mut rows = Vec::new();
    let mut levels = Vec::new();
    // a long table that runs over a page: the header must come again, no row split
    for i in 0..40 {
        let (name, what, need, have) = verdicts[i % 3];
        rows.push(vec![
            format!("{name} {i}"),
            format!(
                "R{i}A {what}: überprüft mit dem Profil „Fernunterricht“ – mit genug Text, dass \
                 die Zelle umbricht R{i}Z"
            ),
            need.to_string(),
            have.to_string(),
        ]);
        levels.push([Level::Fail, Level::Warn, Level::Ok][i % 3]);
    }
    Report {
        title: "Prüfbericht für die Schulträger — Größe".into(),
        subtitle: "Gesamtschule Nord · Kapazität für den Fernunterricht".into(),
        footer: "Gesamtschule Nord · 12. März 2026".into(),
        blocks: vec![
            Block::Heading("Schulgröße und Hardware".into()),
            Block::Facts(vec![
                ("Schülerinnen und Schüler".into(), "1.450".into()),
                ("Lehrkräfte".into(), "120".into()),
                (
                    "Prozessor".into(),
                    "4 Kerne, 1.240 Prüfungen/s (argon2id)".into(),
                ),
                ("Coût estimé".into(), "1\u{202f}200 € — ok → fertig".into()),
            ]),
            Block::Paragraph(
                "Dieser Bericht zeigt mit gemessenen Zahlen, ob der Server den Ansturm um 8:00 \
                 Uhr trägt. Äußerst wichtig: Größe, Maß und Übermaß werden geprüft. "
                    .repeat(6),
            ),
            Block::Bars(
                vec![
                    Bar {
                        label: "Anmelde-CPU".into(),
                        needed: 3.2,
                        have: 2.0,
                        level: Level::Fail,
                        needed_text: "3,2 Kerne".into(),
                        have_text: "2 Kerne".into(),
                        level_text: "MANGEL".into(),
                    },
                    Bar {
                        label: "Arbeitsspeicher".into(),
                        needed: 9.5,
                        have: 16.0,
                        level: Level::Ok,
                        needed_text: "9,5 GiB".into(),
                        have_text: "16 GiB".into(),
                        level_text: "OK".into(),
                    },
                ],
                bar_labels(),
            ),
            Block::Heading("Urteile je Ressource".into()),
            Block::Table {
                header: vec![
                    "Ressource".into(),
                    "Begründung".into(),
                    "Bedarf".into(),
                    "vorhanden".into(),
                ],
                rows,
                levels: Some(levels),
            },
            Block::Heading("Empfehlung".into()),
            Block::Paragraph("Kaufen Sie 8 GiB Arbeitsspeicher dazu.".into()),
        ],
    }
}

#[test]
fn the_report_reads_back_with_pdftotext() {
    let report = german_report();
    let pdf = render(&report);
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bericht.pdf");
    std::fs::write(&path, &pdf).unwrap();

    let info = pdfinfo(&path);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("pdfinfo shows no {name}\n{info}"))
    };
    assert_eq!(field("Pages:"), "3");
    assert_eq!(field("Title:"), "Prüfbericht für die Schulträger — Größe");
    assert_eq!(field("Creator:"), "Schola");
    assert!(field("Page size:").contains("595.28 x 841.89"), "{info}");

    // pdftotext writes the no-break space as a plain one
    let text = poppler("pdftotext", &["-enc", "UTF-8"], &path).replace('\u{a0}', " ");
    // reading order: these appear in this order
    let mut at = 0;
    for want in [
        "Prüfbericht für die Schulträger — Größe",
        "Gesamtschule Nord · Kapazität für den Fernunterricht",
        "Schulgröße und Hardware",
        "Lehrkräfte",
        "1 200 € — ok ? fertig",
        "Äußerst wichtig: Größe, Maß und Übermaß werden geprüft.",
        "Bedarf und Kapazität",
        "Anmelde-CPU",
        "MANGEL",
        "Bedarf: 3,2 Kerne",
        "vorhanden: 16 GiB",
        "Urteile je Ressource",
        "Verbindungen 2",
        "Empfehlung",
        "Kaufen Sie 8 GiB Arbeitsspeicher dazu.",
    ] {
        match text[at..].find(want) {
            Some(i) => at += i + want.len(),
            None => panic!("{want:?} missing or out of order after byte {at} in\n{text}"),
        }
    }
    let pages: Vec<String> = (1..=3)
        .map(|page| {
            let p = page.to_string();
            poppler("pdftotext", &["-enc", "UTF-8", "-f", &p, "-l", &p], &path)
        })
        .collect();
    for (i, page) in pages.iter().enumerate() {
        // pdftotext's default mode reads the footer's "1 / 3" as "1/3"
        let number = format!("{}/3", i + 1);
        assert!(
            page.contains("Gesamtschule Nord · 12. März 2026")
                && page.replace(" / ", "/").contains(&number),
            "page {} lacks its footer and number:\n{page}",
            i + 1
        );
        // every page the table runs over starts with its header
        if page.contains("R39Z") || page.contains("R20A") {
            assert!(
                page.contains("Begründung"),
                "page {} lacks the header:\n{page}",
                i + 1
            );
        }
    }
    // no table row is split across pages: each row's first and last words share a page
    for i in 0..40 {
        let (start, end) = (format!("R{i}A"), format!("R{i}Z"));
        let on = |s: &str| pages.iter().position(|p| p.contains(s));
        assert!(on(&start).is_some(), "row {i} missing");
        assert_eq!(on(&start), on(&end), "row {i} is split across pages");
    }
    assert!(
        pages.iter().filter(|p| p.contains("Begründung")).count() >= 2,
        "the table should run over a page for this test"
    );
}

#[test]
fn odd_input_still_makes_a_readable_report() {
    let report = Report {
        title: String::new(),
        subtitle: String::new(),
        footer: "Schule 🏫".into(),
        blocks: vec![
            Block::Heading("Zeichen außerhalb: 😀 → ł".into()),
            Block::Paragraph(format!("Ein {} Wort.", "sehr".repeat(60))),
            Block::Table {
                header: vec![],
                rows: vec![
                    vec!["a".into()],
                    vec!["b".into(), "zwei".into(), "drei".into()],
                ],
                // fewer levels than rows: the rest stay plain
                levels: Some(vec![Level::Fail]),
            },
            Block::Table {
                header: vec![],
                rows: vec![],
                levels: None,
            },
            Block::Facts(vec![]),
            Block::Bars(
                vec![
                    bar("leer", 0.0, 0.0, Level::Ok),
                    bar("unendlich", f64::NAN, f64::INFINITY, Level::Warn),
                ],
                bar_labels(),
            ),
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.pdf");
    std::fs::write(&path, render(&report)).unwrap();
    assert!(pdfinfo(&path).contains("Pages:"));
    let text = poppler("pdftotext", &["-enc", "UTF-8"], &path);
    for want in [
        "Zeichen außerhalb: ? ? ?",
        "Schule ?",
        "zwei",
        "drei",
        "unendlich",
        "1 / 1",
    ] {
        assert!(
            text.replace("1/1", "1 / 1").contains(want),
            "{want:?} missing in\n{text}"
        );
    }
    // the overlong word is broken across lines, not cut off
    let letters: usize = text.matches("sehr").count();
    assert!(letters >= 55, "{letters} of 60 'sehr' survived\n{text}");
}
