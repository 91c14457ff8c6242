//! The capacity page: does this machine hold the school's 8:00 morning (the latest stored
//! check of `schola-capacity`, with its pictures, formulas and history), the distance-learning
//! profile an admin edits, the "check now" and one-button fixes (left as request files for the
//! helpers, as the Updates page does), the readiness report as HTML and PDF, and the banner
//! every admin page shows while the latest check says WARN or FAIL.
//!
//! The check itself runs elsewhere (`scholactl check`, the daily timer); this module only reads
//! what was stored and never trusts a form for what to change: a fix is looked up in the latest
//! check's verdicts.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use schola_capacity::health::HealthCheck;
use schola_capacity::{Action, Check, Level, Profile, Quantity, Unit, Verdict};
use schola_core::audit::Actor;
use schola_core::capacity_request::{CapacityRequest, FIXABLE, RequestDir};
use schola_core::directory::Language;
use schola_core::load_history::StoredCheck;
use schola_core::session::Session;
use serde::Deserialize;
use serde_json::json;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, gate, html, redirect};
use crate::state::AppState;

use schola_capacity::{pdf, svg};

type Data = web::Data<AppState>;

/// What an admin types on the console instead of pressing a button.
const CHECK_COMMAND: &str = "scholactl check";
const FIX_COMMAND: &str = "scholactl check --fix";
/// Stored checks read for the disk forecast (the daily timer makes one a day).
const FORECAST_CHECKS: usize = 120;
/// Days the disk forecast looks ahead.
const FORECAST_DAYS: u32 = 120;
const HISTORY: usize = 20;
const PEAK_DAYS: i64 = 60;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/capacity", web::get().to(page))
        .route("/admin/capacity/profile", web::post().to(save_profile))
        .route("/admin/capacity/check", web::post().to(check_now))
        .route("/admin/capacity/fix", web::post().to(apply_fix))
        .route("/admin/capacity/report", web::get().to(report_html))
        .route("/admin/capacity/report.pdf", web::get().to(report_pdf));
}

// --- numbers and units in the page's language ---------------------------------------------

/// A number as the page's language writes it: digit grouping, one decimal below 10, two
/// significant digits below 1 (`0,017`), so a small need does not read as nothing.
pub(crate) fn decimal(t: &Tr, v: f64) -> String {
    if !v.is_finite() {
        return "∞".into();
    }
    let local = |s: String| match t.lang {
        Language::En => s,
        _ => s.replace('.', ","),
    };
    if v != 0.0 && v.abs() < 1.0 {
        let digits = ((-v.abs().log10().floor()) as usize + 1).min(6);
        return local(format!("{v:.digits$}"));
    }
    let tenths = (v * 10.0).round();
    if v.abs() < 10.0 && tenths % 10.0 != 0.0 {
        return local(format!("{:.1}", tenths / 10.0));
    }
    t.number(v.round() as i64)
}

/// Headroom in per cent; past 1,000 % the exact figure says nothing more.
fn headroom_text(t: &Tr, h: f64) -> String {
    if h > 1_000.0 {
        format!("> {}", t.number(1_000))
    } else {
        decimal(t, h.round())
    }
}

/// What the machine has; "unknown" when it could not be measured (no headroom although
/// something is needed: the uplink not entered, a link speed not reported).
fn have_text(t: &Tr, v: &Verdict) -> String {
    if v.headroom_pct.is_none() && v.needed.value > 0.0 {
        t.t("capacity-unknown")
    } else {
        quantity(t, v.have)
    }
}

/// A count with a plural unit (`2 cores`, `1 Tag`); fractions take the "other" form.
fn plural(t: &Tr, key: &str, v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        t.tn(key, v as i64)
    } else {
        t.targs(key, &[("count", "other".into()), ("n", decimal(t, v))])
    }
}

/// A prefixed value: `9.5 GiB` (binary, step 1024) or `120 Mbit/s` (decimal, step 1000); the
/// prefixes are translated (French writes octets: Gio).
fn prefixed(t: &Tr, v: f64, step: f64, names_key: &str) -> String {
    let names = t.t(names_key);
    let names: Vec<&str> = names.split_whitespace().collect();
    let mut x = v;
    let mut i = 0;
    while x.abs() >= step && i + 1 < names.len() {
        x /= step;
        i += 1;
    }
    let unit = names.get(i).copied().unwrap_or("");
    format!("{} {unit}", decimal(t, x))
}

fn bytes(t: &Tr, v: f64) -> String {
    prefixed(t, v, 1024.0, "capacity-unit-byte-prefixes")
}

fn bits(t: &Tr, v: f64) -> String {
    prefixed(t, v, 1000.0, "capacity-unit-bit-prefixes")
}

/// A [`Quantity`] with its unit, in the page's language.
pub(crate) fn quantity(t: &Tr, q: Quantity) -> String {
    let v = q.value;
    let n = |key: &str, n: String| t.t1(key, "n", &n);
    match q.unit {
        Unit::Count => decimal(t, v),
        Unit::Share => n("capacity-unit-percent", decimal(t, v * 100.0)),
        Unit::Cores => plural(t, "capacity-unit-cores", v),
        Unit::Bytes => bytes(t, v),
        Unit::BytesPerDay => n("capacity-unit-per-day", bytes(t, v)),
        Unit::BytesPerSecond => n("capacity-unit-per-second", bytes(t, v)),
        Unit::BitsPerSecond => bits(t, v),
        Unit::PerSecond => n("capacity-unit-per-second", decimal(t, v)),
        Unit::PerMinute => n("capacity-unit-per-minute", decimal(t, v)),
        Unit::Seconds => n("capacity-unit-seconds", decimal(t, v)),
        Unit::Milliseconds => n("capacity-unit-ms", decimal(t, v)),
        Unit::Days => plural(t, "capacity-unit-days", v),
    }
}

// --- words for the library's keys -----------------------------------------------------------

fn level_key(l: Level) -> &'static str {
    match l {
        Level::Ok => "capacity-level-ok",
        Level::Warn => "capacity-level-warn",
        Level::Fail => "capacity-level-fail",
    }
}

/// The CSS class of a level badge (the badge always carries the word too).
fn level_class(l: Level) -> &'static str {
    match l {
        Level::Ok => "lvl-ok",
        Level::Warn => "lvl-warn",
        Level::Fail => "lvl-fail",
    }
}

const TRIGGERS: &[&str] = &["cli", "timer", "upgrade", "web", "storm"];
const SOURCES: &[&str] = &[
    "directory",
    "profile",
    "probe",
    "config",
    "constant",
    "storm",
    "model",
];
const HEALTH: &[&str] = &[
    "disk-free",
    "memory",
    "swap",
    "oom-kills",
    "mail-queue",
    "certificate",
    "services",
    "limits-hit",
    "backup",
];
/// Figure keys of `schola_capacity::model::needs`, in its order, each with a translated name
/// (`capacity-figure-<key>`); a test runs the model and fails on a key missing here.
const FIGURES: &[&str] = &[
    "people",
    "active_people",
    "signin_rate",
    "cpu_scale",
    "signin_cpu",
    "request_rate",
    "request_cpu",
    "connections",
    "open_files",
    "memory",
    "disk_growth_per_day",
    "disk_space_year",
    "disk_write_rate",
    "commit_rate",
    "uplink",
    "network",
];
/// Input keys of the model's formulas besides the profile's fields (`capacity-input-<key>`).
/// Figures that feed later ones are here too: in a formula they read as a lower-case noun
/// ("people × …"), not as a heading.
const INPUTS: &[&str] = &[
    // the school (the directory) and figures used as inputs
    "people",
    "students",
    "teachers",
    "staff",
    "admins",
    "active_people",
    "signin_rate",
    "cpu_scale",
    "request_rate",
    "connections",
    "disk_growth_per_day",
    // the machine (probe, config) and the calibration
    "cores",
    "verifies_per_sec",
    "memory_kib",
    "iterations",
    "calibration_verify_ms",
    "calibration_argon2_work",
    "signin_overhead_ms",
    "request_cpu_ms",
    "open_files_headroom",
    // memory
    "os_baseline",
    "web_baseline",
    "hash_threads",
    "argon2_memory",
    "workers",
    "per_worker",
    "per_connection",
    "per_session",
    "per_drive",
    "mail_connections_per_person",
    "per_mail_connection",
    // disk
    "busiest_hour_share",
    "commits_per_signin",
    "session_touches_per_minute",
];

fn dashed(key: &str) -> String {
    key.replace('_', "-")
}

/// The translation of `prefix-<key>` when `key` is one of `known`, else the key itself.
fn known_word(t: &Tr, prefix: &str, key: &str, known: &[&str]) -> String {
    if known.contains(&key) {
        t.t(&format!("{prefix}-{}", dashed(key)))
    } else {
        key.to_string()
    }
}

fn trigger_name(t: &Tr, trigger: &str) -> String {
    known_word(t, "capacity-trigger", trigger, TRIGGERS)
}

fn resource_name(t: &Tr, r: schola_capacity::Resource) -> String {
    t.t(&format!("capacity-resource-{}", r.key()))
}

fn figure_name(t: &Tr, key: &str) -> String {
    known_word(t, "capacity-figure", key, FIGURES)
}

/// The name of a formula's input: a profile field, a known input, or another figure.
fn input_name(t: &Tr, key: &str) -> String {
    if FIELDS.iter().any(|f| f.key == key) {
        t.t(&format!("capacity-field-{}", dashed(key)))
    } else if INPUTS.contains(&key) {
        t.t(&format!("capacity-input-{}", dashed(key)))
    } else {
        figure_name(t, key)
    }
}

fn health_name(t: &Tr, key: &str) -> String {
    known_word(t, "capacity-health", key, HEALTH)
}

fn setting(section: &str, key: &str) -> String {
    format!("[{section}] {key}")
}

/// The action as a sentence in the page's language.
pub(crate) fn action_text(t: &Tr, a: &Action) -> String {
    match a {
        Action::SetConfig {
            section,
            key,
            value,
        } => t.targs(
            "capacity-action-set-config",
            &[
                ("setting", setting(section, key)),
                ("value", value.to_string()),
            ],
        ),
        Action::AddMemory { bytes: b } => {
            t.t1("capacity-action-add-memory", "amount", &bytes(t, *b as f64))
        }
        Action::AddCores { cores } => t.t1(
            "capacity-action-add-cores",
            "cores",
            &t.number(*cores as i64),
        ),
        Action::AddDisk {
            bytes: b,
            full_in_days: Some(d),
        } => t.targs(
            "capacity-action-add-disk-full",
            &[("days", decimal(t, *d)), ("amount", bytes(t, *b as f64))],
        ),
        Action::AddDisk {
            bytes: b,
            full_in_days: None,
        } => t.t1("capacity-action-add-disk", "amount", &bytes(t, *b as f64)),
        Action::FasterDisk => t.t("capacity-action-faster-disk"),
        Action::EnterUplink => t.t("capacity-action-enter-uplink"),
        Action::FasterUplink { bits: b } => {
            t.t1("capacity-action-faster-uplink", "bandwidth", &bits(t, *b))
        }
        Action::FasterNetwork { bits: b } => {
            t.t1("capacity-action-faster-network", "bandwidth", &bits(t, *b))
        }
        Action::RaiseOpenFiles { service, value } => t.targs(
            "capacity-action-raise-open-files",
            &[("service", service.clone()), ("value", value.to_string())],
        ),
        Action::Investigate { what } => t.t1("capacity-action-investigate", "what", what),
    }
}

/// "needed X, have Y, headroom Z %".
fn numbers(t: &Tr, v: &Verdict) -> String {
    let (needed, have) = (quantity(t, v.needed), have_text(t, v));
    match v.headroom_pct {
        Some(h) => t.targs(
            "capacity-numbers",
            &[
                ("needed", needed),
                ("have", have),
                ("headroom", headroom_text(t, h)),
            ],
        ),
        None => t.targs(
            "capacity-numbers-no-need",
            &[("needed", needed), ("have", have)],
        ),
    }
}

/// A formula with its input keys replaced by their names: `people × storm_share` reads
/// "people × People who sign in during the storm". Its numbers are written the model's way
/// (`3,600`) and are shown in the page's language, as `3,600` reads 3.6 to a German admin.
fn formula_text(t: &Tr, formula: &str, inputs: &[schola_capacity::Input]) -> String {
    let mut out = String::with_capacity(formula.len() * 2);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if inputs.iter().any(|i| i.key == *word) {
            out.push_str(&input_name(t, word));
        } else if let Some(n) = grouped_integer(word) {
            out.push_str(&t.number(n));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    let mut chars = formula.chars().peekable();
    while let Some(c) = chars.next() {
        let in_number = !word.is_empty() && word.chars().all(|w| w.is_ascii_digit() || w == ',');
        let grouping = c == ',' && in_number && chars.peek().is_some_and(char::is_ascii_digit);
        if c.is_ascii_alphanumeric() || c == '_' || grouping {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `3,600` or `60` as a number; `None` for anything else (`1,00`, `a_b`, the `00` of `8:00`).
fn grouped_integer(word: &str) -> Option<i64> {
    let mut groups = word.split(',');
    let first = groups.next()?;
    if first.len() > 1 && first.starts_with('0') {
        return None;
    }
    let well_formed = !first.is_empty()
        && first.len() <= 3
        && first.chars().all(|c| c.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_digit());
    if well_formed || plain {
        word.replace(',', "").parse().ok()
    } else {
        None
    }
}

// --- the banner on every admin page --------------------------------------------------------

/// The banner of the admin pages while the latest check says WARN or FAIL.
pub struct Banner {
    pub text: String,
    pub link: String,
    pub fail: bool,
}

/// What the banner and the history need of a stored check, without reading all of it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Slim {
    largest_school: usize,
    verdicts: Vec<SlimLevel>,
    health: Vec<SlimLevel>,
    machine: Option<SlimMachine>,
}

#[derive(Deserialize)]
struct SlimLevel {
    level: Level,
}

#[derive(Deserialize)]
struct SlimMachine {
    #[serde(default)]
    filesystems: Vec<SlimFilesystem>,
}

#[derive(Deserialize)]
struct SlimFilesystem {
    role: String,
    size: u64,
    used: u64,
}

/// Reads the latest check (one indexed query, on admin pages only) and says what is wrong.
/// Called while the page's frame is built; a database error means no banner, not no page.
pub(crate) fn banner(state: &AppState, t: &Tr) -> Option<Banner> {
    let latest = match state.store.latest_check() {
        Ok(c) => c?,
        Err(e) => {
            tracing::warn!(error = %e, "the capacity banner could not read the latest check");
            return None;
        }
    };
    if latest.level == "ok" {
        return None;
    }
    let slim: Slim = serde_json::from_str(&latest.result).unwrap_or_default();
    let count = |l: Level| {
        slim.verdicts
            .iter()
            .chain(&slim.health)
            .filter(|x| x.level == l)
            .count() as i64
    };
    let (warn, fail) = (count(Level::Warn), count(Level::Fail));
    let mut problems = Vec::new();
    if warn > 0 {
        problems.push(t.tn("capacity-warnings", warn));
    }
    if fail > 0 {
        problems.push(t.tn("capacity-failures", fail));
    }
    if problems.is_empty() {
        // the level column says WARN or FAIL but the JSON has no such entry: say the level
        problems.push(t.t(level_key(
            Level::parse(&latest.level).unwrap_or(Level::Warn),
        )));
    }
    Some(Banner {
        text: t.t1("capacity-banner-text", "problems", &problems.join(", ")),
        link: t.t("capacity-banner-link"),
        fail: fail > 0 || latest.level == "fail",
    })
}

// --- the profile form ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FieldUnit {
    Percent,
    Seconds,
    PerMinute,
    Count,
    Days,
    Mb,
    Kb,
    Kbit,
    Mbit,
}

/// One field of [`Profile`] on the form: its JSON key, how the form's number becomes the
/// stored one (`stored = shown × scale`), and the range `Profile::check` allows (stored units;
/// a test keeps both in step).
struct Field {
    key: &'static str,
    unit: FieldUnit,
    scale: f64,
    lo: f64,
    hi: f64,
}

const fn field(key: &'static str, unit: FieldUnit, scale: f64, lo: f64, hi: f64) -> Field {
    Field {
        key,
        unit,
        scale,
        lo,
        hi,
    }
}

const FIELDS: &[Field] = &[
    field("students_online", FieldUnit::Percent, 0.01, 0.0, 1.0),
    field("staff_online", FieldUnit::Percent, 0.01, 0.0, 1.0),
    field("storm_share", FieldUnit::Percent, 0.01, 0.0, 1.0),
    field("storm_window_secs", FieldUnit::Seconds, 1.0, 10.0, 7_200.0),
    field("requests_per_minute", FieldUnit::PerMinute, 1.0, 0.0, 600.0),
    field("connections_per_browser", FieldUnit::Count, 1.0, 1.0, 64.0),
    field("upload_per_teacher", FieldUnit::Mb, 1e6, 0.0, 1e12),
    field("upload_per_student", FieldUnit::Mb, 1e6, 0.0, 1e12),
    field("mails_per_person", FieldUnit::Count, 1.0, 0.0, 10_000.0),
    field("mail_size", FieldUnit::Kb, 1e3, 0.0, 1e9),
    field("drives_per_person", FieldUnit::Count, 1.0, 0.0, 16.0),
    field("bandwidth_per_person", FieldUnit::Kbit, 1e3, 0.0, 1e10),
    field("school_days", FieldUnit::Days, 1.0, 1.0, 366.0),
    field("uplink_bits", FieldUnit::Mbit, 1e6, 1e5, 1e12),
];

/// The only field that may stay empty: the uplink cannot be measured, so "not entered" is a
/// value of its own.
const OPTIONAL_FIELD: &str = "uplink_bits";

fn unit_label(t: &Tr, u: FieldUnit) -> String {
    match u {
        FieldUnit::Percent => "%".into(),
        FieldUnit::Seconds => t.t("capacity-unit-s"),
        FieldUnit::PerMinute => t.t("capacity-unit-per-minute-short"),
        FieldUnit::Count | FieldUnit::Days => String::new(),
        FieldUnit::Mb => t.t("capacity-unit-mb"),
        FieldUnit::Kb => t.t("capacity-unit-kb"),
        FieldUnit::Kbit => t.t("capacity-unit-kbit"),
        FieldUnit::Mbit => t.t("capacity-unit-mbit"),
    }
}

/// A value in the form's unit, for the hints and messages: `95 %`, `600 s`, `190 days`.
fn in_unit(t: &Tr, u: FieldUnit, shown: f64) -> String {
    match u {
        FieldUnit::Percent => t.t1("capacity-unit-percent", "n", &decimal(t, shown)),
        FieldUnit::PerMinute => t.t1("capacity-unit-per-minute", "n", &decimal(t, shown)),
        FieldUnit::Days => plural(t, "capacity-unit-days", shown),
        FieldUnit::Count => decimal(t, shown),
        _ => format!("{} {}", decimal(t, shown), unit_label(t, u)),
    }
}

/// A number for an `<input type=number>`: a dot, no grouping, no float noise (0.95 / 0.01).
fn input_number(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The profile's fields as JSON numbers (the profile's own serialisation is the key list).
fn profile_values(p: &Profile) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(p) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// One field of the form as the template shows it.
pub struct FieldView {
    pub key: &'static str,
    pub label: String,
    pub hint: String,
    pub unit: String,
    pub value: String,
    pub min: String,
    pub max: String,
    pub default_text: String,
    pub range_text: String,
}

fn field_views(
    t: &Tr,
    current: &Profile,
    entered: Option<&HashMap<String, String>>,
) -> Vec<FieldView> {
    let now = profile_values(current);
    let defaults = profile_values(&Profile::default());
    FIELDS
        .iter()
        .map(|f| {
            let shown = |m: &serde_json::Map<String, serde_json::Value>| {
                m.get(f.key)
                    .and_then(serde_json::Value::as_f64)
                    .map(|v| v / f.scale)
            };
            let value = match entered.and_then(|e| e.get(f.key)) {
                Some(v) => v.clone(),
                None => shown(&now).map(input_number).unwrap_or_default(),
            };
            let default_text = match shown(&defaults) {
                Some(d) => in_unit(t, f.unit, d),
                None => t.t("capacity-profile-not-entered"),
            };
            let (min, max) = (f.lo / f.scale, f.hi / f.scale);
            let name = dashed(f.key);
            FieldView {
                key: f.key,
                label: t.t(&format!("capacity-field-{name}")),
                hint: t.t(&format!("capacity-field-{name}-hint")),
                unit: unit_label(t, f.unit),
                value,
                min: input_number(min),
                max: input_number(max),
                default_text: t.t1("capacity-profile-default", "default", &default_text),
                range_text: t.targs(
                    "capacity-profile-range",
                    &[
                        ("min", in_unit(t, f.unit, min)),
                        ("max", in_unit(t, f.unit, max)),
                    ],
                ),
            }
        })
        .collect()
}

/// Why the form was refused, in the admin's language, naming the field and its range.
#[derive(Debug, PartialEq)]
enum FormProblem {
    NotANumber { key: &'static str, value: String },
    OutOfRange { key: String, value: String },
}

impl FormProblem {
    fn text(&self, t: &Tr) -> String {
        match self {
            FormProblem::NotANumber { key, value } => t.targs(
                "capacity-profile-not-a-number",
                &[
                    ("field", t.t(&format!("capacity-field-{}", dashed(key)))),
                    ("value", value.clone()),
                ],
            ),
            FormProblem::OutOfRange { key, value } => match FIELDS.iter().find(|f| f.key == key) {
                Some(f) => t.targs(
                    "capacity-profile-out-of-range",
                    &[
                        ("field", t.t(&format!("capacity-field-{}", dashed(f.key)))),
                        (
                            "value",
                            format!("{value} {}", unit_label(t, f.unit))
                                .trim()
                                .to_string(),
                        ),
                        ("min", in_unit(t, f.unit, f.lo / f.scale)),
                        ("max", in_unit(t, f.unit, f.hi / f.scale)),
                    ],
                ),
                None => key.clone(),
            },
        }
    }
}

/// The profile from the form's fields: an empty field takes its default (the uplink: not
/// entered), a number is scaled to the stored unit, and the whole is checked by
/// `Profile::check`, the one place that knows the ranges.
fn profile_from_form(entered: &HashMap<String, String>) -> Result<Profile, FormProblem> {
    let mut m = serde_json::Map::new();
    for f in FIELDS {
        let raw = entered.get(f.key).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            if f.key == OPTIONAL_FIELD {
                m.insert(f.key.into(), serde_json::Value::Null);
            }
            continue;
        }
        // browsers send a dot; someone typing a German "2,5" means the same
        let normal = if raw.contains('.') {
            raw.to_string()
        } else {
            raw.replace(',', ".")
        };
        let n = match normal.parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => {
                return Err(FormProblem::NotANumber {
                    key: f.key,
                    value: raw.to_string(),
                });
            }
        };
        m.insert(f.key.into(), json!(n * f.scale));
    }
    let p: Profile = serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| {
        FormProblem::OutOfRange {
            key: e.to_string(),
            value: String::new(),
        }
    })?;
    p.check().map_err(|e| FormProblem::OutOfRange {
        key: e.field.to_string(),
        value: entered
            .get(e.field)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    })?;
    Ok(p)
}

// --- the page ------------------------------------------------------------------------------

/// A message in one section of the page.
pub struct Note {
    pub section: &'static str,
    pub ok: bool,
    pub text: String,
}

type Say = Box<dyn FnOnce(&Tr) -> String + Send>;

pub struct VerdictRow {
    pub id: &'static str,
    pub name: String,
    pub level: String,
    pub class: &'static str,
    pub numbers: String,
    pub measured: String,
    pub action: Option<String>,
    pub fix: Option<FixButton>,
}

pub struct FixButton {
    pub resource: &'static str,
    pub section: String,
    pub key: String,
    pub value: u64,
    pub label: String,
}

pub struct InputRow {
    pub name: String,
    pub key: String,
    pub value: String,
    pub source: String,
}

pub struct FigureView {
    pub key: String,
    pub name: String,
    pub value: String,
    pub formula: String,
    pub inputs: Vec<InputRow>,
}

pub struct HealthRow {
    pub key: String,
    pub name: String,
    pub level: String,
    pub class: &'static str,
    pub detail: String,
    pub action: Option<String>,
}

pub struct HistoryRow {
    pub when: String,
    pub level: String,
    pub class: &'static str,
    pub trigger: String,
    pub largest: String,
}

/// The latest check as the page shows it.
pub struct LatestView {
    pub level: String,
    pub class: &'static str,
    pub ran: String,
    pub largest: String,
    pub measured: bool,
    pub bars: String,
    pub verdicts: Vec<VerdictRow>,
    pub figures: Vec<FigureView>,
    pub health: Vec<HealthRow>,
    pub any_fix: bool,
}

#[derive(Template)]
#[template(path = "admin_capacity.html")]
struct CapacityPage {
    layout: Layout,
    note: Option<Note>,
    managed: bool,
    check_waiting: bool,
    fix_waiting: bool,
    check_command: &'static str,
    fix_command: &'static str,
    latest: Option<LatestView>,
    unreadable: Option<String>,
    disk_svg: Option<String>,
    peaks_svg: Option<String>,
    history: Vec<HistoryRow>,
    fields: Vec<FieldView>,
}

/// What the page reads from the store, in one blocking call.
struct Loaded {
    school: schola_core::directory::School,
    checks: Vec<StoredCheck>,
    peaks: Vec<schola_core::load_history::DailyPeak>,
    profile: Profile,
    now: i64,
}

fn load(state: &AppState, checks: usize) -> schola_core::Result<Loaded> {
    let now = state.store.now();
    let profile = match state.store.capacity_profile()? {
        Some(json) => Profile::from_json(&json).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the stored capacity profile is not valid; the form shows the defaults");
            Profile::default()
        }),
        None => Profile::default(),
    };
    Ok(Loaded {
        school: state.store.school()?,
        checks: state.store.checks(checks)?,
        peaks: state.store.daily_peaks(now, PEAK_DAYS)?,
        profile,
        now,
    })
}

/// The latest stored check, whole; `Err` carries why it could not be read.
fn parse(stored: &StoredCheck) -> Result<Check, String> {
    serde_json::from_str(&stored.result).map_err(|e| e.to_string())
}

fn bar_list(t: &Tr, c: &Check) -> Vec<svg::Bar> {
    c.verdicts
        .iter()
        .map(|v| svg::Bar {
            label: resource_name(t, v.resource),
            needed: v.needed.value,
            have: v.have.value,
            level: v.level,
            needed_text: quantity(t, v.needed),
            have_text: have_text(t, v),
            level_text: t.t(level_key(v.level)),
        })
        .collect()
}

fn bar_labels(t: &Tr) -> svg::BarLabels {
    svg::BarLabels {
        title: t.t("capacity-bars-title"),
        needed: t.t("capacity-bar-needed"),
        have: t.t("capacity-bar-have"),
    }
}

fn latest_view(t: &Tr, stored: &StoredCheck, c: &Check, managed: bool) -> LatestView {
    let verdicts = c
        .verdicts
        .iter()
        .map(|v| {
            let fix = match &v.action {
                Some(Action::SetConfig {
                    section,
                    key,
                    value,
                }) if managed => Some(FixButton {
                    resource: v.resource.key(),
                    section: section.clone(),
                    key: key.clone(),
                    value: *value,
                    label: t.targs(
                        "capacity-fix-button",
                        &[
                            ("setting", setting(section, key)),
                            ("value", value.to_string()),
                        ],
                    ),
                }),
                _ => None,
            };
            VerdictRow {
                id: v.resource.key(),
                name: resource_name(t, v.resource),
                level: t.t(level_key(v.level)),
                class: level_class(v.level),
                numbers: numbers(t, v),
                measured: t.t(if v.measured {
                    "capacity-measured"
                } else {
                    "capacity-modelled"
                }),
                action: v.action.as_ref().map(|a| action_text(t, a)),
                fix,
            }
        })
        .collect();
    let figures = c
        .needs
        .figures
        .iter()
        .map(|f| FigureView {
            key: f.key.clone(),
            name: figure_name(t, &f.key),
            value: quantity(t, f.value),
            formula: formula_text(t, &f.formula, &f.inputs),
            inputs: f
                .inputs
                .iter()
                .map(|i| InputRow {
                    name: input_name(t, &i.key),
                    key: i.key.clone(),
                    value: quantity(t, i.value),
                    source: known_word(t, "capacity-source", &i.source, SOURCES),
                })
                .collect(),
        })
        .collect();
    let health = c.health.iter().map(|h| health_row(t, h)).collect();
    LatestView {
        level: t.t(level_key(c.level)),
        class: level_class(c.level),
        ran: t.targs(
            "capacity-ran",
            &[
                ("when", t.datetime(stored.at)),
                ("trigger", trigger_name(t, &stored.trigger)),
                ("version", c.version.clone()),
            ],
        ),
        largest: t.targs(
            "capacity-largest",
            &[
                ("largest", t.number(c.largest_school as i64)),
                ("this", t.number(c.school.people() as i64)),
            ],
        ),
        measured: c.storm.is_some(),
        bars: svg::need_bars(&bar_list(t, c), &bar_labels(t)),
        any_fix: c
            .verdicts
            .iter()
            .any(|v| v.action.as_ref().is_some_and(Action::fixable)),
        verdicts,
        figures,
        health,
    }
}

fn health_row(t: &Tr, h: &HealthCheck) -> HealthRow {
    HealthRow {
        key: h.key.clone(),
        name: health_name(t, &h.key),
        level: t.t(level_key(h.level)),
        class: level_class(h.level),
        detail: h.detail.clone(),
        action: h.action.as_ref().map(|a| action_text(t, a)),
    }
}

/// The data disk's use over the stored checks (oldest first) and its size now: the `files`
/// filesystem, else the `database` one.
fn disk_history(checks: &[StoredCheck]) -> (Vec<svg::DiskPoint>, Option<f64>) {
    let mut points = Vec::new();
    let mut size = None;
    for c in checks.iter().rev() {
        let Ok(slim) = serde_json::from_str::<Slim>(&c.result) else {
            continue;
        };
        let Some(m) = slim.machine else { continue };
        let fs = m
            .filesystems
            .iter()
            .find(|f| f.role == "files")
            .or_else(|| m.filesystems.iter().find(|f| f.role == "database"));
        if let Some(fs) = fs {
            points.push(svg::DiskPoint {
                at: c.at,
                used: fs.used as f64,
            });
            size = Some(fs.size as f64);
        }
    }
    (points, size)
}

fn disk_svg(t: &Tr, checks: &[StoredCheck], latest: Option<&Check>, now: i64) -> Option<String> {
    let (points, size) = disk_history(checks);
    let size = size?;
    let last = points.last()?;
    let growth = latest
        .and_then(|c| c.needs.value("disk_growth_per_day"))
        .unwrap_or(0.0)
        .max(0.0);
    let full_on = (growth > 0.0 && size > last.used)
        .then(|| t.date(last.at + ((size - last.used) / growth * 86_400.0) as i64));
    let labels = svg::ForecastLabels {
        title: t.t("capacity-disk-title"),
        used: t.t("capacity-disk-used"),
        forecast: t.t("capacity-disk-forecast"),
        capacity: t.t("capacity-disk-capacity"),
        full_on: full_on.map(|d| t.t1("capacity-disk-full-on", "date", &d)),
    };
    let date = |at: i64| t.date(at);
    Some(svg::disk_forecast(
        &points,
        size,
        growth,
        now,
        FORECAST_DAYS,
        &labels,
        &date,
    ))
}

fn peaks_svg(t: &Tr, peaks: &[schola_core::load_history::DailyPeak]) -> Option<String> {
    if peaks.is_empty() {
        return None;
    }
    let labels = svg::PeakLabels {
        title: t.t("capacity-peaks-title"),
        signins: t.t("capacity-peaks-signins"),
        p99: t.t("capacity-peaks-p99"),
        waiting: t.t("capacity-peaks-waiting"),
    };
    let date = |at: i64| t.date(at);
    Some(svg::morning_peaks(peaks, &labels, &date))
}

async fn render(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    entered: Option<HashMap<String, String>>,
    note: Option<(&'static str, bool, Say)>,
) -> PageResult {
    let st = state.clone();
    let loaded = web::block(move || load(&st, FORECAST_CHECKS)).await??;
    let layout = Layout::for_session(&loaded.school, s, req);
    let t = layout.t;
    let requests = RequestDir::from_config(&state.cfg);
    let managed = requests.managed();
    let (latest, unreadable) = match loaded.checks.first() {
        None => (None, None),
        Some(stored) => match parse(stored) {
            Ok(c) => (Some((stored, c)), None),
            Err(e) => {
                tracing::warn!(error = %e, id = stored.id, "a stored capacity check could not be read");
                (
                    None,
                    Some(t.targs(
                        "capacity-unreadable",
                        &[("when", t.datetime(stored.at)), ("error", e)],
                    )),
                )
            }
        },
    };
    let history = loaded
        .checks
        .iter()
        .take(HISTORY)
        .map(|c| {
            let slim: Slim = serde_json::from_str(&c.result).unwrap_or_default();
            let level = Level::parse(&c.level).unwrap_or(Level::Warn);
            HistoryRow {
                when: t.datetime(c.at),
                level: t.t(level_key(level)),
                class: level_class(level),
                trigger: trigger_name(&t, &c.trigger),
                largest: t.number(slim.largest_school as i64),
            }
        })
        .collect();
    let page = CapacityPage {
        note: note.map(|(section, ok, say)| Note {
            section,
            ok,
            text: say(&t),
        }),
        managed,
        check_waiting: managed && requests.waiting(true),
        fix_waiting: managed && requests.waiting(false),
        check_command: CHECK_COMMAND,
        fix_command: FIX_COMMAND,
        disk_svg: disk_svg(
            &t,
            &loaded.checks,
            latest.as_ref().map(|(_, c)| c),
            loaded.now,
        ),
        peaks_svg: peaks_svg(&t, &loaded.peaks),
        latest: latest.map(|(stored, c)| latest_view(&t, stored, &c, managed)),
        unreadable,
        history,
        fields: field_views(&t, &loaded.profile, entered.as_ref()),
        layout,
    };
    Ok(html(status, page.render()?))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    setting: String,
    #[serde(default)]
    value: String,
}

/// The confirmation after a button (the forms redirect here, so a reload sends nothing again).
fn done_note(q: &DoneQuery) -> Option<(&'static str, bool, Say)> {
    match q.done.as_str() {
        "profile" => Some(("profile", true, Box::new(|t| t.t("capacity-profile-saved")))),
        "check" => Some((
            "actions",
            true,
            Box::new(|t| t.t("capacity-check-requested")),
        )),
        "fix" => {
            // only what a fix may set is repeated back, so a crafted link cannot put words here
            let (section, key) = q.setting.split_once('.')?;
            FIXABLE
                .iter()
                .find(|(s, k, _, _)| *s == section && *k == key)?;
            let value: u64 = q.value.parse().ok()?;
            let setting = setting(section, key);
            Some((
                "verdicts",
                true,
                Box::new(move |t| {
                    t.targs(
                        "capacity-fix-requested",
                        &[("setting", setting), ("value", value.to_string())],
                    )
                }),
            ))
        }
        _ => None,
    }
}

async fn page(req: HttpRequest, state: Data, q: web::Query<DoneQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    render(&req, &state, &s, StatusCode::OK, None, done_note(&q)).await
}

fn csrf_ok(req: &HttpRequest, s: &Session, csrf: &str) -> bool {
    guard::eq(csrf, &s.csrf) && guard::same_origin(req)
}

fn actor_of(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

async fn save_profile(
    req: HttpRequest,
    state: Data,
    form: web::Form<HashMap<String, String>>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let entered = form.into_inner();
    let csrf = entered.get("csrf").cloned().unwrap_or_default();
    if !csrf_ok(&req, &s, &csrf) {
        let say: Say = Box::new(|t| t.t("form-expired"));
        return render(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            Some(entered),
            Some(("profile", false, say)),
        )
        .await;
    }
    let profile = match profile_from_form(&entered) {
        Ok(p) => p,
        Err(problem) => {
            let say: Say = Box::new(move |t| problem.text(t));
            return render(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(entered),
                Some(("profile", false, say)),
            )
            .await;
        }
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    web::block(move || {
        st.store
            .set_capacity_profile(&actor, Some(&profile.to_json()))
    })
    .await??;
    tracing::info!(by = %s.person.login, "capacity profile changed");
    Ok(redirect("/admin/capacity?done=profile#profile"))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Leaves a request for the helper; `None` when it was left, else why not.
fn leave(state: &AppState, r: &CapacityRequest) -> Option<Say> {
    let dir = RequestDir::from_config(&state.cfg);
    if !dir.managed() {
        let command = if matches!(r, CapacityRequest::Check) {
            CHECK_COMMAND
        } else {
            FIX_COMMAND
        };
        return Some(Box::new(move |t| {
            t.t1("capacity-not-managed", "command", command)
        }));
    }
    match dir.write(r) {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "a capacity request could not be left");
            let e = e.to_string();
            Some(Box::new(move |t| {
                t.t1("capacity-request-failed", "error", &e)
            }))
        }
    }
}

async fn check_now(req: HttpRequest, state: Data, form: web::Form<CsrfOnly>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !csrf_ok(&req, &s, &form.csrf) {
        let say: Say = Box::new(|t| t.t("form-expired"));
        return render(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            None,
            Some(("actions", false, say)),
        )
        .await;
    }
    let st = state.clone();
    if let Some(say) = web::block(move || leave(&st, &CapacityRequest::Check)).await? {
        return render(
            &req,
            &state,
            &s,
            StatusCode::CONFLICT,
            None,
            Some(("actions", false, say)),
        )
        .await;
    }
    tracing::info!(by = %s.person.login, "capacity check requested");
    Ok(redirect("/admin/capacity?done=check#actions"))
}

#[derive(Deserialize)]
pub struct FixForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

/// The fix the latest check proposes for `resource`, if it is exactly the one the form names.
fn proposed(c: &Check, f: &FixForm) -> Option<(String, String, u64)> {
    let value: u64 = f.value.trim().parse().ok()?;
    c.verdicts.iter().find_map(|v| match &v.action {
        Some(Action::SetConfig {
            section,
            key,
            value: proposed,
        }) if v.resource.key() == f.resource
            && *section == f.section
            && *key == f.key
            && *proposed == value =>
        {
            Some((section.clone(), key.clone(), value))
        }
        _ => None,
    })
}

async fn apply_fix(req: HttpRequest, state: Data, form: web::Form<FixForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    let refuse = |status, say: Say| {
        render(
            &req,
            &state,
            &s,
            status,
            None,
            Some(("verdicts", false, say)),
        )
    };
    if !csrf_ok(&req, &s, &f.csrf) {
        return refuse(StatusCode::FORBIDDEN, Box::new(|t| t.t("form-expired"))).await;
    }
    let st = state.clone();
    let latest = web::block(move || st.store.latest_check()).await??;
    let fix = latest
        .as_ref()
        .and_then(|c| parse(c).ok())
        .and_then(|c| proposed(&c, &f));
    let Some((section, key, value)) = fix else {
        tracing::warn!(by = %s.person.login, resource = %f.resource, setting = %setting(&f.section, &f.key), value = %f.value, "a capacity fix that the last check does not propose was refused");
        return refuse(
            StatusCode::CONFLICT,
            Box::new(|t| t.t("capacity-fix-forged")),
        )
        .await;
    };
    let request = match CapacityRequest::fix(&section, &key, value) {
        Ok(r) => r,
        Err(e) => {
            let e = e.to_string();
            return refuse(
                StatusCode::CONFLICT,
                Box::new(move |t| t.t1("capacity-request-failed", "error", &e)),
            )
            .await;
        }
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    let check_id = latest.as_ref().map(|c| c.id);
    let resource = f.resource.clone();
    let (sec, k) = (section.clone(), key.clone());
    let refused = web::block(move || -> schola_core::Result<Option<Say>> {
        if let Some(say) = leave(&st, &request) {
            return Ok(Some(say));
        }
        st.store.record_event(
            &actor,
            "capacity.fix",
            Some(&setting(&sec, &k)),
            json!({"section": sec, "key": k, "value": value, "resource": resource, "check": check_id}),
        )?;
        Ok(None)
    })
    .await??;
    if let Some(say) = refused {
        return refuse(StatusCode::CONFLICT, say).await;
    }
    tracing::info!(by = %s.person.login, setting = %setting(&section, &key), value, "capacity fix requested");
    Ok(redirect(&format!(
        "/admin/capacity?done=fix&setting={}.{}&value={value}#verdicts",
        crate::pages::urlencode(&section),
        crate::pages::urlencode(&key)
    )))
}

// --- the readiness report ------------------------------------------------------------------

/// The report's blocks, for the PDF as they are and for the HTML page (bars become inline SVG).
fn report(t: &Tr, school: &str, c: &Check, now: i64) -> pdf::Report {
    use pdf::Block;
    let mut b = Vec::new();
    let n = |x: usize| t.number(x as i64);
    let facts = |rows: Vec<(&str, String)>| {
        Block::Facts(rows.into_iter().map(|(k, v)| (t.t(k), v)).collect())
    };

    b.push(Block::Heading(t.t("capacity-report-summary")));
    b.push(Block::Paragraph(t.t1(
        "capacity-overall",
        "level",
        &t.t(level_key(c.level)),
    )));
    b.push(Block::Paragraph(t.targs(
        "capacity-largest",
        &[
            ("largest", n(c.largest_school)),
            ("this", n(c.school.people())),
        ],
    )));
    if c.storm.is_some() {
        b.push(Block::Paragraph(t.t("capacity-largest-measured")));
    }

    b.push(Block::Heading(t.t("capacity-report-school")));
    b.push(Block::Facts(vec![
        (t.t("capacity-input-students"), n(c.school.students)),
        (t.t("capacity-input-teachers"), n(c.school.teachers)),
        (t.t("capacity-input-staff"), n(c.school.staff)),
        (t.t("capacity-input-admins"), n(c.school.admins)),
        (t.t("capacity-report-people-total"), n(c.school.people())),
    ]));

    let m = &c.machine;
    b.push(Block::Heading(t.t("capacity-report-hardware")));
    let ram = bytes(t, m.memory.total as f64);
    b.push(facts(vec![
        ("capacity-report-host", m.hostname.clone()),
        ("capacity-report-cpu", m.cpu_model.clone()),
        ("capacity-report-cores", n(m.cores)),
        (
            "capacity-report-ram",
            if m.memory.cgroup_limited {
                t.t1("capacity-report-ram-cgroup", "amount", &ram)
            } else {
                ram
            },
        ),
        ("capacity-report-swap", bytes(t, m.memory.swap_total as f64)),
    ]));
    b.push(Block::Heading(t.t("capacity-report-disks")));
    let not_measured = t.t("capacity-report-not-measured");
    b.push(Block::Table {
        header: [
            "capacity-report-col-disk",
            "capacity-report-col-type",
            "capacity-report-col-size",
            "capacity-report-col-free",
            "capacity-report-col-seq-write",
            "capacity-report-col-fsyncs",
            "capacity-report-col-iops",
        ]
        .iter()
        .map(|k| t.t(k))
        .collect(),
        rows: m
            .filesystems
            .iter()
            .map(|f| {
                let role = match f.role.as_str() {
                    "database" => t.t("capacity-report-disk-role-database"),
                    "files" => t.t("capacity-report-disk-role-files"),
                    other => other.to_string(),
                };
                let per_sec = |v: f64| t.t1("capacity-unit-per-second", "n", &decimal(t, v));
                let (seq, fsyncs, iops) = match &f.bench {
                    Some(d) => (
                        t.t1("capacity-unit-per-second", "n", &bytes(t, d.seq_write)),
                        per_sec(d.fsyncs_per_sec),
                        format!("{} / {}", per_sec(d.read_iops), per_sec(d.write_iops)),
                    ),
                    None => (
                        not_measured.clone(),
                        not_measured.clone(),
                        not_measured.clone(),
                    ),
                };
                vec![
                    format!("{role}: {}", f.mount_point.display()),
                    f.fs_type.clone(),
                    bytes(t, f.size as f64),
                    bytes(t, f.free as f64),
                    seq,
                    fsyncs,
                    iops,
                ]
            })
            .collect(),
        levels: None,
    });
    b.push(Block::Heading(t.t("capacity-report-nics")));
    b.push(Block::Facts(
        m.nics
            .iter()
            .map(|nic| {
                let speed = match nic.speed_mbit {
                    Some(s) => bits(t, s as f64 * 1e6),
                    None => t.t("capacity-report-nic-speed-unknown"),
                };
                let speed = if nic.up {
                    speed
                } else {
                    format!("{speed} ({})", t.t("capacity-report-nic-down"))
                };
                (nic.name.clone(), speed)
            })
            .collect(),
    ));

    b.push(Block::Heading(t.t("capacity-report-measured")));
    b.push(facts(vec![
        (
            "capacity-report-argon2",
            t.t1(
                "capacity-unit-per-second",
                "n",
                &decimal(t, m.argon2.verifies_per_sec),
            ),
        ),
        (
            "capacity-report-argon2-params",
            t.targs(
                "capacity-report-argon2-params-value",
                &[
                    ("memory", bytes(t, f64::from(m.argon2.memory_kib) * 1024.0)),
                    ("iterations", m.argon2.iterations.to_string()),
                ],
            ),
        ),
    ]));
    match &c.storm {
        Some(s) => {
            let ms = |v: f64| t.t1("capacity-unit-ms", "n", &decimal(t, v));
            let per_sec = |v: f64| t.t1("capacity-unit-per-second", "n", &decimal(t, v));
            b.push(Block::Heading(t.t("capacity-report-storm")));
            b.push(facts(vec![
                ("capacity-report-storm-people", n(s.people)),
                (
                    "capacity-report-storm-window",
                    t.t1("capacity-unit-seconds", "n", &decimal(t, s.window_secs)),
                ),
                ("capacity-report-storm-rate", per_sec(s.signins_per_sec)),
                (
                    "capacity-report-storm-predicted",
                    per_sec(s.predicted_signins_per_sec),
                ),
                ("capacity-report-storm-p99-signin", ms(s.p99_signin_ms)),
                ("capacity-report-storm-p99-start", ms(s.p99_start_page_ms)),
                ("capacity-report-storm-errors", n(s.errors)),
                ("capacity-report-storm-waiting", n(s.waiting_room)),
            ]));
        }
        None => b.push(Block::Paragraph(t.t("capacity-report-no-storm"))),
    }

    b.push(Block::Heading(t.t("capacity-report-verdicts")));
    b.push(Block::Bars(bar_list(t, c), bar_labels(t)));
    b.push(Block::Table {
        header: [
            "capacity-col-resource",
            "capacity-col-level",
            "capacity-report-col-needed",
            "capacity-report-col-have",
            "capacity-report-col-headroom",
            "capacity-col-action",
        ]
        .iter()
        .map(|k| t.t(k))
        .collect(),
        rows: c
            .verdicts
            .iter()
            .map(|v| {
                vec![
                    resource_name(t, v.resource),
                    t.t(level_key(v.level)),
                    quantity(t, v.needed),
                    have_text(t, v),
                    v.headroom_pct
                        .map(|h| t.t1("capacity-unit-percent", "n", &headroom_text(t, h)))
                        .unwrap_or_default(),
                    v.action
                        .as_ref()
                        .map(|a| action_text(t, a))
                        .unwrap_or_else(|| t.t("capacity-no-action")),
                ]
            })
            .collect(),
        levels: Some(c.verdicts.iter().map(|v| v.level).collect()),
    });
    if !c.health.is_empty() {
        b.push(Block::Heading(t.t("capacity-health-title")));
        b.push(Block::Table {
            header: [
                "capacity-col-check",
                "capacity-col-level",
                "capacity-col-detail",
            ]
            .iter()
            .map(|k| t.t(k))
            .collect(),
            rows: c
                .health
                .iter()
                .map(|h| {
                    vec![
                        health_name(t, &h.key),
                        t.t(level_key(h.level)),
                        h.detail.clone(),
                    ]
                })
                .collect(),
            levels: Some(c.health.iter().map(|h| h.level).collect()),
        });
    }

    b.push(Block::Heading(t.t("capacity-report-upgrade")));
    let upgrades: Vec<String> = c
        .verdicts
        .iter()
        .filter(|v| v.level != Level::Ok)
        .filter_map(|v| {
            v.action
                .as_ref()
                .map(|a| format!("{}: {}", resource_name(t, v.resource), action_text(t, a)))
        })
        .chain(
            c.health
                .iter()
                .filter(|h| h.level != Level::Ok)
                .filter_map(|h| {
                    h.action
                        .as_ref()
                        .map(|a| format!("{}: {}", health_name(t, &h.key), action_text(t, a)))
                }),
        )
        .collect();
    if upgrades.is_empty() {
        b.push(Block::Paragraph(t.t("capacity-report-upgrade-none")));
    } else {
        b.extend(upgrades.into_iter().map(Block::Paragraph));
    }

    b.push(Block::Heading(t.t("capacity-report-profile")));
    let values = profile_values(&c.profile);
    b.push(Block::Facts(
        FIELDS
            .iter()
            .map(|f| {
                let v = values
                    .get(f.key)
                    .and_then(serde_json::Value::as_f64)
                    .map(|v| in_unit(t, f.unit, v / f.scale))
                    .unwrap_or_else(|| t.t("capacity-profile-not-entered"));
                (t.t(&format!("capacity-field-{}", dashed(f.key))), v)
            })
            .collect(),
    ));

    b.push(Block::Facts(vec![
        (t.t("capacity-report-date"), t.datetime(c.at) + " UTC"),
        (t.t("capacity-report-version"), c.version.clone()),
    ]));

    let date = t.date(now);
    pdf::Report {
        title: t.t1("capacity-report-title", "school", school),
        subtitle: t.t1("capacity-report-subtitle", "date", &t.date(c.at)),
        footer: t.targs(
            "capacity-report-footer",
            &[
                ("version", schola_core::VERSION.to_string()),
                ("school", school.to_string()),
                ("date", date),
            ],
        ),
        blocks: b,
    }
}

/// One block of the HTML report.
pub enum HtmlBlock {
    Heading(String),
    Paragraph(String),
    Facts(Vec<(String, String)>),
    Table {
        header: Vec<String>,
        rows: Vec<(Vec<String>, &'static str)>,
    },
    Svg(String),
}

#[derive(Template)]
#[template(path = "capacity_report.html")]
struct ReportPage {
    layout: Layout,
    title: String,
    subtitle: String,
    footer: String,
    blocks: Vec<HtmlBlock>,
}

fn html_blocks(r: pdf::Report) -> (String, String, String, Vec<HtmlBlock>) {
    use pdf::Block;
    let blocks = r
        .blocks
        .into_iter()
        .map(|b| match b {
            Block::Heading(h) => HtmlBlock::Heading(h),
            Block::Paragraph(p) => HtmlBlock::Paragraph(p),
            Block::Facts(f) => HtmlBlock::Facts(f),
            Block::Table {
                header,
                rows,
                levels,
            } => HtmlBlock::Table {
                header,
                rows: rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let class = levels
                            .as_ref()
                            .and_then(|l| l.get(i))
                            .map_or("", |l| level_class(*l));
                        (r, class)
                    })
                    .collect(),
            },
            Block::Bars(bars, labels) => HtmlBlock::Svg(svg::need_bars(&bars, &labels)),
        })
        .collect();
    (r.title, r.subtitle, r.footer, blocks)
}

/// The latest check for the report, or the page that says there is none yet.
async fn report_check(
    req: &HttpRequest,
    state: &Data,
) -> Result<Result<(Layout, Check, i64), HttpResponse>, crate::pages::PageError> {
    let s = match gate(req, state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(Err(resp)),
    };
    let st = state.clone();
    let (school, latest, now) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.latest_check()?, st.store.now()))
    })
    .await??;
    match latest.as_ref().map(parse) {
        Some(Ok(c)) => Ok(Ok((Layout::for_session(&school, &s, req), c, now))),
        _ => Ok(Err(crate::pages::message(
            req,
            state,
            Some(&s),
            StatusCode::NOT_FOUND,
            "capacity-none-title",
            "capacity-report-none",
        )
        .await?)),
    }
}

async fn report_html(req: HttpRequest, state: Data) -> PageResult {
    let (layout, c, now) = match report_check(&req, &state).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let r = report(&layout.t, &layout.school, &c, now);
    let (title, subtitle, footer, blocks) = html_blocks(r);
    let page = ReportPage {
        layout,
        title,
        subtitle,
        footer,
        blocks,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

/// `2026-11-23`, for the file name.
fn iso_date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        Err(_) => unix.to_string(),
    }
}

async fn report_pdf(req: HttpRequest, state: Data) -> PageResult {
    let (layout, c, now) = match report_check(&req, &state).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let r = report(&layout.t, &layout.school, &c, now);
    let body = web::block(move || pdf::render(&r)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"schola-readiness-{}.pdf\"",
                iso_date(now)
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_in_the_pages_language() {
        let en = Tr::new(Language::En);
        let de = Tr::new(Language::De);
        let fr = Tr::new(Language::Fr);
        let q = |v, u| Quantity::new(v, u);
        assert_eq!(quantity(&en, q(1_900.0, Unit::Count)), "1,900");
        assert_eq!(quantity(&de, q(1_900.0, Unit::Count)), "1.900");
        assert_eq!(
            quantity(&de, q(9.5 * 1024.0 * 1024.0 * 1024.0, Unit::Bytes)),
            "9,5 GiB"
        );
        assert_eq!(
            quantity(&fr, q(4.0 * 1024.0 * 1024.0 * 1024.0, Unit::Bytes)),
            "4 Gio"
        );
        assert_eq!(quantity(&en, q(0.8, Unit::Share)), "80 %");
        assert_eq!(quantity(&en, q(1.0, Unit::Cores)), "1 core");
        assert_eq!(quantity(&de, q(2.5, Unit::Cores)), "2,5 Kerne");
        assert_eq!(quantity(&en, q(120e6, Unit::BitsPerSecond)), "120 Mbit/s");
        assert_eq!(
            quantity(&de, q(6.0 * 1024.0 * 1024.0 * 1024.0, Unit::BytesPerDay)),
            "6 GiB/Tag"
        );
        assert_eq!(quantity(&nl(), q(23.0, Unit::Days)), "23 dagen");
    }

    fn nl() -> Tr {
        Tr::new(Language::Nl)
    }

    #[test]
    fn every_action_is_a_translated_sentence() {
        let actions = [
            Action::SetConfig {
                section: "web".into(),
                key: "max_connections".into(),
                value: 4000,
            },
            Action::AddMemory { bytes: 8 << 30 },
            Action::AddCores { cores: 8 },
            Action::AddDisk {
                bytes: 500 << 30,
                full_in_days: Some(23.0),
            },
            Action::AddDisk {
                bytes: 500 << 30,
                full_in_days: None,
            },
            Action::FasterDisk,
            Action::EnterUplink,
            Action::FasterUplink { bits: 500e6 },
            Action::FasterNetwork { bits: 1e9 },
            Action::RaiseOpenFiles {
                service: "schola-web".into(),
                value: 65_536,
            },
            Action::Investigate {
                what: "look".into(),
            },
        ];
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for a in &actions {
                let s = action_text(&t, a);
                assert!(!s.starts_with("capacity-"), "{lang}: {s}");
            }
        }
        let en = Tr::new(Language::En);
        assert_eq!(
            action_text(&en, &actions[0]),
            "Set [web] max_connections = 4000."
        );
        assert_eq!(
            action_text(&en, &actions[3]),
            "The disk is full in 23 days: add 500 GiB."
        );
        assert_eq!(
            action_text(&Tr::new(Language::De), &actions[1]),
            "8 GiB Arbeitsspeicher hinzufügen."
        );
    }

    /// Keys built at run time (`capacity-resource-…`, tables of known keys) exist in every
    /// language; `i18n`'s test only sees keys written out in `t("…")`.
    #[test]
    fn every_built_key_is_translated() {
        use schola_capacity::Resource;
        let resources = [
            Resource::SigninCpu,
            Resource::RequestCpu,
            Resource::Memory,
            Resource::Connections,
            Resource::OpenFiles,
            Resource::DiskSpace,
            Resource::DiskWrite,
            Resource::Uplink,
            Resource::Network,
        ];
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            let mut words: Vec<String> = resources.iter().map(|r| resource_name(&t, *r)).collect();
            words.extend(TRIGGERS.iter().map(|k| trigger_name(&t, k)));
            words.extend(
                SOURCES
                    .iter()
                    .map(|k| known_word(&t, "capacity-source", k, SOURCES)),
            );
            words.extend(HEALTH.iter().map(|k| health_name(&t, k)));
            words.extend(FIGURES.iter().map(|k| figure_name(&t, k)));
            words.extend(INPUTS.iter().map(|k| input_name(&t, k)));
            words.extend([Level::Ok, Level::Warn, Level::Fail].map(|l| t.t(level_key(l))));
            for f in field_views(&t, &Profile::default(), None) {
                words.extend([f.label, f.hint, f.unit, f.default_text, f.range_text]);
            }
            for w in words {
                assert!(!w.starts_with("capacity-"), "{lang}: {w}");
                assert!(!w.contains('_'), "{lang}: an untranslated key {w}");
            }
        }
        assert_eq!(
            trigger_name(&Tr::new(Language::En), "someday"),
            "someday",
            "an unknown trigger shows as it is"
        );
    }

    #[test]
    fn formulas_name_their_inputs() {
        let t = Tr::new(Language::En);
        let input = |key: &str| schola_capacity::Input {
            key: key.into(),
            value: Quantity::new(1.0, Unit::Count),
            source: "profile".into(),
        };
        let f = formula_text(
            &t,
            "people × storm_share ÷ storm_window_secs",
            &[
                input("people"),
                input("storm_share"),
                input("storm_window_secs"),
            ],
        );
        assert_eq!(
            f,
            "people × People who sign in during the storm ÷ Storm window"
        );
        assert_eq!(
            formula_text(&t, "a_b + 2", &[]),
            "a_b + 2",
            "unknown words stay"
        );
        let de = Tr::new(Language::De);
        assert_eq!(
            formula_text(&de, "people ÷ 1,000 × 60 at 8:00, 1,00", &[input("people")]),
            "Personen ÷ 1.000 × 60 at 8:00, 1,00",
            "numbers in the page's language; times and odd groups stay"
        );
    }

    /// A four-core machine with 16 GiB, as the probe would describe it.
    fn machine() -> schola_capacity::Machine {
        use schola_capacity::probe::{
            Argon2Bench, ConfiguredLimits, Filesystem, Limit, Memory, Nic, OpenFiles,
        };
        const GIB: u64 = 1 << 30;
        schola_capacity::Machine {
            hostname: "schola".into(),
            cpu_model: "test CPU".into(),
            cores: 4,
            cpu_quota: None,
            argon2: Argon2Bench {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1,
                verifies_per_sec: 260.0,
                verify_ms: 15.4,
                threads: 4,
                seconds: 2.0,
            },
            memory: Memory {
                total: 16 * GIB,
                available: 12 * GIB,
                swap_total: 0,
                swap_free: 0,
                cgroup_limited: false,
            },
            filesystems: vec![Filesystem {
                role: "files".into(),
                path: "/srv/schola".into(),
                mount_point: "/srv".into(),
                fs_type: "ext4".into(),
                size: 500 * GIB,
                free: 400 * GIB,
                used: 100 * GIB,
                bench: None,
            }],
            nics: vec![Nic {
                name: "eno1".into(),
                speed_mbit: Some(1_000),
                up: true,
            }],
            open_files: OpenFiles {
                soft: 1_024,
                hard: 524_288,
                system_max: Some(1_000_000),
                web: 65_536,
            },
            limits: ConfiguredLimits {
                web_workers: 4,
                web_max_connections: 13_000,
                web_max_connections_per_client: 64,
                web_in_flight: 256,
                web_signins_waiting: 1_024,
                web_hash_threads: 4,
                all: vec![Limit {
                    key: "web.max_connections".into(),
                    value: 13_000,
                    source: "derived".into(),
                }],
            },
            oom_kills: Some(0),
            uptime_secs: Some(86_400),
        }
    }

    /// Every figure and input the model produces has a name in every language, so a key added
    /// to the model without one fails here rather than showing `snake_case` on the page.
    #[test]
    fn every_key_of_the_model_has_a_name() {
        let school = schola_capacity::SchoolSize {
            students: 1_700,
            teachers: 150,
            staff: 20,
            admins: 3,
        };
        let needs = schola_capacity::model::needs(&school, &Profile::default(), &machine());
        assert!(needs.figures.len() >= 16, "{} figures", needs.figures.len());
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for f in &needs.figures {
                let name = figure_name(&t, &f.key);
                assert!(
                    FIGURES.contains(&f.key.as_str()) && !name.starts_with("capacity-"),
                    "{lang}: figure {} has no name ({name})",
                    f.key
                );
                for i in &f.inputs {
                    // English may name `students` "students": the key must be known, not
                    // differently spelt
                    let known = INPUTS.contains(&i.key.as_str())
                        || FIELDS.iter().any(|field| field.key == i.key);
                    let name = input_name(&t, &i.key);
                    assert!(
                        known && !name.starts_with("capacity-") && !name.contains('_'),
                        "{lang}: input {} of {} has no name ({name})",
                        i.key,
                        f.key
                    );
                    let source = known_word(&t, "capacity-source", &i.source, SOURCES);
                    assert!(
                        SOURCES.contains(&i.source.as_str()) && !source.starts_with("capacity-"),
                        "{lang}: source {} of {} has no name",
                        i.source,
                        i.key
                    );
                }
            }
        }
        // no table holds a key the model no longer produces
        let produced = |k: &&str| {
            needs.figures.iter().any(|f| {
                f.key == *k
                    || f.inputs
                        .iter()
                        .any(|i| i.key == *k && FIELDS.iter().all(|field| field.key != *k))
            })
        };
        let stale: Vec<_> = FIGURES
            .iter()
            .chain(INPUTS)
            .filter(|k| !produced(k))
            .collect();
        assert!(
            stale.is_empty(),
            "keys the model does not produce: {stale:?}"
        );

        // a German admin reads every formula without a raw key
        let de = Tr::new(Language::De);
        for f in &needs.figures {
            let text = formula_text(&de, &f.formula, &f.inputs);
            assert!(!text.contains('_'), "{}: {text}", f.key);
        }
        let write = needs.get("disk_write_rate").unwrap();
        assert_eq!(
            formula_text(&de, &write.formula, &write.inputs),
            "Datenzuwachs je Tag × Anteil der Tagesdaten in der vollsten Stunde ÷ 3.600"
        );
    }

    /// The form's ranges are `Profile::check`'s: each end is allowed, just beyond it is not.
    #[test]
    fn the_forms_ranges_are_the_profiles() {
        for f in FIELDS {
            let with = |shown: f64| {
                let mut m = HashMap::new();
                m.insert(f.key.to_string(), input_number_exact(shown));
                profile_from_form(&m)
            };
            let (lo, hi) = (f.lo / f.scale, f.hi / f.scale);
            assert!(with(lo).is_ok(), "{}: {lo} is allowed", f.key);
            assert!(with(hi).is_ok(), "{}: {hi} is allowed", f.key);
            let span = (hi - lo).max(1.0);
            for beyond in [lo - span * 0.01, hi + span * 0.01] {
                match with(beyond) {
                    Err(FormProblem::OutOfRange { key, .. }) => assert_eq!(key, f.key),
                    other => panic!("{}: {beyond} gives {other:?}", f.key),
                }
            }
        }
        // every field of the profile is on the form
        assert_eq!(profile_values(&Profile::default()).len(), FIELDS.len());
    }

    fn input_number_exact(v: f64) -> String {
        format!("{v}")
    }

    #[test]
    fn the_form_reads_percent_and_empty_fields() {
        let mut m = HashMap::new();
        m.insert("students_online".to_string(), "50".to_string());
        m.insert("uplink_bits".to_string(), "250".to_string());
        m.insert("mail_size".to_string(), "".to_string());
        let p = profile_from_form(&m).unwrap();
        assert_eq!(p.students_online, 0.5);
        assert_eq!(p.uplink_bits, Some(250e6));
        assert_eq!(
            p.mail_size,
            Profile::default().mail_size,
            "empty is the default"
        );
        m.insert("uplink_bits".to_string(), " ".to_string());
        assert_eq!(profile_from_form(&m).unwrap().uplink_bits, None);
        m.insert("students_online".to_string(), "150".to_string());
        let e = profile_from_form(&m).unwrap_err();
        assert_eq!(
            e.text(&Tr::new(Language::En)),
            "Students online at the peak: 150 % is out of range. Allowed: 0 % to 100 %. Nothing was saved."
        );
        m.insert("students_online".to_string(), "viele".to_string());
        assert!(matches!(
            profile_from_form(&m),
            Err(FormProblem::NotANumber { .. })
        ));
        assert_eq!(input_number(0.95 / 0.01), "95");
    }
}
