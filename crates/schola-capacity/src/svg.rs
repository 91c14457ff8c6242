//! Pictures, rendered server-side as SVG (no JavaScript): need-versus-capacity bars per
//! resource, the disk growth forecast and the morning peak per day.
//!
//! Each function returns one complete, standalone `<svg>` element for the admin pages (and the
//! HTML report). The caller passes every word already translated; this module writes numbers,
//! shapes and the texts it is given, nothing in a language of its own.
//!
//! Rules the pages depend on: the admin pages' CSP forbids inline style, so there is no `style`
//! attribute or element and no script, only presentation attributes (`fill`, `stroke`,
//! `font-size`) and `class` names (`cap-ok`, `cap-warn`, `cap-fail`, `cap-used`, …) the web CSS
//! may override; `viewBox` with `width="100%"` so a picture scales down to a phone;
//! `role="img"` with `<title>` and `<desc>` for screen readers; every text escaped; and the same
//! input gives the same bytes, so the output can be snapshot-tested.

use std::fmt::Write as _;

use schola_core::load_history::DailyPeak;

use crate::pdf::metrics::str_width;
use crate::{Level, format};

/// One resource's need against what the machine has.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The resource, e.g. "Sign-in CPU".
    pub label: String,
    /// Need and capacity in the resource's own unit; only their ratio is drawn.
    pub needed: f64,
    pub have: f64,
    pub level: Level,
    /// The formatted numbers, e.g. "1,900 connections".
    pub needed_text: String,
    pub have_text: String,
    /// The level as a word ("OK", "WARN", "FAIL" or their translation), drawn as a badge so the
    /// level reads without colour too.
    pub level_text: String,
}

/// Words for [`need_bars`].
#[derive(Debug, Clone, PartialEq)]
pub struct BarLabels {
    /// What the picture shows (for screen readers, and the PDF's caption).
    pub title: String,
    /// "needed" and "have" (capacity), in the legend and before each row's numbers.
    pub needed: String,
    pub have: String,
}

/// Used bytes on the data disk at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiskPoint {
    /// Unix time.
    pub at: i64,
    /// Bytes used.
    pub used: f64,
}

/// Words for [`disk_forecast`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastLabels {
    pub title: String,
    /// Legend entries: the measured line, the forecast, the disk's size.
    pub used: String,
    pub forecast: String,
    pub capacity: String,
    /// e.g. "full on 12 March", written where the forecast meets the disk's size.
    pub full_on: Option<String>,
}

/// Words for [`morning_peaks`].
#[derive(Debug, Clone, PartialEq)]
pub struct PeakLabels {
    pub title: String,
    /// Legend entries: sign-ins in the busiest minute, its p99 latency, days with waiting-room
    /// answers.
    pub signins: String,
    pub p99: String,
    pub waiting: String,
}

/// Text and bar colours per level; each has at least 4.5:1 contrast against white, so white
/// badge text on it and the bar against the page are both readable (WCAG 1.4.3 and 1.4.11).
pub(crate) fn level_rgb(level: Level) -> (u8, u8, u8) {
    match level {
        Level::Ok => (0x1a, 0x7f, 0x37),
        Level::Warn => (0x9a, 0x67, 0x00),
        Level::Fail => (0xcf, 0x22, 0x2e),
    }
}

fn level_hex(level: Level) -> String {
    let (r, g, b) = level_rgb(level);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Body text.
const INK: &str = "#1f2328";
/// Axis labels, legend text.
const MUTED: &str = "#59636e";
/// Grid lines and empty tracks: decoration only.
const GRID: &str = "#d0d7de";
const TRACK: &str = "#eaeef2";
/// The measured series (used space, sign-ins).
const SERIES: &str = "#0969da";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/// Escapes text for element content and attribute values alike.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 has no place for other control characters; a stray one would make the
            // whole page invalid XML for strict parsers
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal, no trailing `.0` and no `-0`: short, stable output.
fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 {
        return "0".into();
    }
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
    End,
}

/// A small SVG writer; writing to a `String` cannot fail, so `write!`'s result is ignored.
struct Svg {
    out: String,
}

impl Svg {
    fn open(width: f64, height: f64, class: &str, title: &str, desc: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" \
             role=\"img\" aria-label=\"{}\" class=\"cap-chart {}\" font-family=\"{}\">\
             <title>{}</title><desc>{}</desc>",
            n(width),
            n(height),
            esc(title),
            class,
            esc(FONT),
            esc(title),
            esc(desc),
        );
        Svg { out }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        bold: bool,
        fill: &str,
        class: &str,
        s: &str,
    ) {
        let anchor = match anchor {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        };
        let weight = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{anchor}{weight} fill=\"{fill}\" class=\"{class}\">{}</text>",
            n(x),
            n(y),
            n(size),
            esc(s)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, class: &str) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" class=\"{class}\"/>",
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0))
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64, class: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\" class=\"{class}\"/>",
            n(x1),
            n(y1),
            n(x2),
            n(y2),
            n(width)
        );
    }

    fn polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: &str,
        width: f64,
        dash: bool,
        class: &str,
    ) {
        if points.len() < 2 {
            return;
        }
        let pts: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{},{}", n(x), n(y)))
            .collect();
        let dash = if dash {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = write!(
            self.out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash} \
             stroke-linejoin=\"round\" class=\"{class}\"/>",
            pts.join(" "),
            n(width)
        );
    }

    fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str, class: &str) {
        let _ = write!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" class=\"{class}\"/>",
            n(x),
            n(y),
            n(r)
        );
    }

    /// A small triangle pointing down at (x, y): the waiting-room mark, a shape as well as a
    /// colour.
    fn triangle(&mut self, x: f64, y: f64, size: f64, fill: &str, class: &str) {
        let h = size * 0.9;
        let _ = write!(
            self.out,
            "<path d=\"M{} {}L{} {}L{} {}Z\" fill=\"{fill}\" class=\"{class}\"/>",
            n(x - size / 2.0),
            n(y - h),
            n(x + size / 2.0),
            n(y - h),
            n(x),
            n(y)
        );
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// What a legend entry's swatch looks like.
#[derive(Clone, Copy)]
enum Swatch<'a> {
    Block(&'a str, &'a str),
    Line(&'a str, bool, &'a str),
    Marker(&'a str, &'a str),
}

const LEGEND_SIZE: f64 = 13.0;
const LEGEND_ROW: f64 = 20.0;

/// Lays out legend entries left to right, wrapping to a new row when a translation is long;
/// returns the height used.
fn legend_height(entries: &[(Swatch<'_>, &str)], width: f64) -> f64 {
    legend_positions(entries, width)
        .last()
        .map_or(0.0, |&(_, row)| (row + 1) as f64 * LEGEND_ROW)
}

fn legend_positions(entries: &[(Swatch<'_>, &str)], width: f64) -> Vec<(f64, usize)> {
    let mut x = 0.0;
    let mut row = 0;
    let mut out = Vec::new();
    for (_, label) in entries {
        // the browser's sans-serif may run wider than Helvetica (DejaVu Sans does by ~12 %)
        let w = 22.0 + 1.15 * str_width(label, false, LEGEND_SIZE) + 20.0;
        if x > 0.0 && x + w > width {
            x = 0.0;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    out
}

fn legend(svg: &mut Svg, entries: &[(Swatch<'_>, &str)], width: f64) {
    for ((swatch, label), (x, row)) in entries.iter().zip(legend_positions(entries, width)) {
        let mid = row as f64 * LEGEND_ROW + 10.0;
        // a swatch carries its series' class too, so CSS that restyles a series restyles its
        // legend
        match *swatch {
            Swatch::Block(fill, class) => {
                let class = format!("cap-swatch {class}");
                svg.rect(x, mid - 6.0, 16.0, 12.0, fill, &class);
            }
            Swatch::Line(stroke, dash, class) => {
                let class = format!("cap-swatch {class}");
                svg.polyline(&[(x, mid), (x + 16.0, mid)], stroke, 2.5, dash, &class);
            }
            Swatch::Marker(fill, class) => {
                let class = format!("cap-swatch {class}");
                svg.triangle(x + 8.0, mid + 5.0, 11.0, fill, &class);
            }
        }
        svg.text(
            x + 22.0,
            mid + 4.5,
            LEGEND_SIZE,
            Anchor::Start,
            false,
            MUTED,
            "cap-legend",
            label,
        );
    }
}

/// `v` as a share of `max`, clamped to 0..=1; an infinite capacity fills its track.
fn share(v: f64, max: f64) -> f64 {
    if v.is_nan() || max <= 0.0 {
        0.0
    } else if v.is_infinite() {
        if v > 0.0 { 1.0 } else { 0.0 }
    } else {
        (v / max).clamp(0.0, 1.0)
    }
}

const BARS_WIDTH: f64 = 560.0;
const BAR_ROW: f64 = 72.0;

/// One row per resource: a bar for what the machine has, a black marker at what is needed,
/// each row scaled to its own larger value (every resource has its own unit), coloured and
/// badged by level.
pub fn need_bars(bars: &[Bar], labels: &BarLabels) -> String {
    let w = BARS_WIDTH;
    let entries = [
        (Swatch::Block("#6e7781", "cap-have"), labels.have.as_str()),
        (
            Swatch::Line(INK, false, "cap-needed"),
            labels.needed.as_str(),
        ),
    ];
    let top = legend_height(&entries, w) + 12.0;
    let height = top + bars.len() as f64 * BAR_ROW;

    let desc: Vec<String> = bars
        .iter()
        .map(|b| {
            format!(
                "{}: {} {}, {} {}, {}.",
                b.label, labels.needed, b.needed_text, labels.have, b.have_text, b.level_text
            )
        })
        .collect();
    let mut svg = Svg::open(w, height, "cap-bars", &labels.title, &desc.join(" "));
    legend(&mut svg, &entries, w);

    for (i, b) in bars.iter().enumerate() {
        let y = top + i as f64 * BAR_ROW;
        let level = format!("cap-{}", b.level.as_str());
        let colour = level_hex(b.level);
        let badge_w = str_width(&b.level_text, true, 12.0) + 14.0;
        svg.rect(
            w - badge_w,
            y,
            badge_w,
            19.0,
            &colour,
            &format!("cap-badge {level}"),
        );
        svg.text(
            w - badge_w / 2.0,
            y + 14.0,
            12.0,
            Anchor::Middle,
            true,
            "#ffffff",
            "cap-badge-text",
            &b.level_text,
        );
        svg.text(
            0.0,
            y + 14.0,
            15.0,
            Anchor::Start,
            true,
            INK,
            "cap-label",
            &b.label,
        );

        let max = [b.needed, b.have]
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let track_y = y + 25.0;
        svg.rect(0.0, track_y, w, 14.0, TRACK, "cap-track");
        let have_w = share(b.have, max) * w;
        svg.rect(
            0.0,
            track_y,
            have_w,
            14.0,
            &colour,
            &format!("cap-have {level}"),
        );
        // the marker is drawn inside the track at both ends, so it never sits half outside
        let needed_x = (share(b.needed, max) * w).clamp(1.5, w - 1.5);
        svg.line(
            needed_x,
            track_y - 4.0,
            needed_x,
            track_y + 18.0,
            INK,
            3.0,
            "cap-needed",
        );

        let values_y = y + 55.0;
        svg.text(
            0.0,
            values_y,
            13.0,
            Anchor::Start,
            false,
            INK,
            "cap-value",
            &format!("{}: {}", labels.needed, b.needed_text),
        );
        svg.text(
            w,
            values_y,
            13.0,
            Anchor::End,
            false,
            INK,
            "cap-value",
            &format!("{}: {}", labels.have, b.have_text),
        );
    }
    svg.finish()
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` steps up to `max`.
fn nice_step(max: f64, target: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let raw = max / target;
    let mag = 10_f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values 0, step, … up to the first one at or above `max`.
fn ticks(max: f64, step: f64) -> Vec<f64> {
    let count = (max / step).ceil().clamp(1.0, 20.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Byte ticks on whole binary units (0, 250 GiB, 500 GiB …) so the labels read as round numbers.
fn byte_ticks(max: f64) -> Vec<f64> {
    let mut unit = 1.0;
    while max / unit >= 1024.0 && unit < 1024_f64.powi(5) {
        unit *= 1024.0;
    }
    let step = nice_step(max / unit, 4.0).max(if unit > 1.0 { 0.1 } else { 1.0 }) * unit;
    ticks(max, step)
}

/// Count ticks on whole numbers.
fn count_ticks(max: f64) -> Vec<f64> {
    ticks(max.max(1.0), nice_step(max.max(1.0), 4.0).max(1.0))
}

const DAY: i64 = 86_400;

/// Day ticks between `t0` and `t1` (Unix times), at midnight UTC, at most about six.
fn day_ticks(t0: i64, t1: i64) -> Vec<i64> {
    let span_days = ((t1 - t0) as f64 / DAY as f64).max(1.0);
    let step = [1, 2, 7, 14, 30, 61, 91, 182, 365, 730]
        .into_iter()
        .find(|s| span_days / *s as f64 <= 6.0)
        .unwrap_or(730)
        * DAY;
    let mut t = t0.div_euclid(step) * step;
    if t < t0 {
        t += step;
    }
    let mut out = Vec::new();
    while t <= t1 && out.len() < 12 {
        out.push(t);
        t += step;
    }
    out
}

/// The rectangle a chart plots into.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Plot {
    fn x(&self, t: f64, t0: f64, t1: f64) -> f64 {
        let span = if t1 > t0 { t1 - t0 } else { 1.0 };
        self.left + (t - t0) / span * (self.right - self.left)
    }

    fn y(&self, v: f64, max: f64) -> f64 {
        self.bottom - share(v, max) * (self.bottom - self.top)
    }
}

const CHART_WIDTH: f64 = 640.0;
const CHART_HEIGHT: f64 = 320.0;
const TICK_SIZE: f64 = 12.0;

/// Horizontal grid lines with labels on the left (or right) axis.
fn y_axis(
    svg: &mut Svg,
    plot: &Plot,
    values: &[f64],
    max: f64,
    right: bool,
    label: &dyn Fn(f64) -> String,
) {
    for &v in values {
        let y = plot.y(v, max);
        if !right {
            svg.line(plot.left, y, plot.right, y, GRID, 1.0, "cap-grid");
        }
        let (x, anchor) = if right {
            (plot.right + 6.0, Anchor::Start)
        } else {
            (plot.left - 6.0, Anchor::End)
        };
        svg.text(
            x,
            y + 4.0,
            TICK_SIZE,
            anchor,
            false,
            MUTED,
            "cap-tick",
            &label(v),
        );
    }
}

fn x_axis(svg: &mut Svg, plot: &Plot, ticks: &[(f64, String)]) {
    svg.line(
        plot.left,
        plot.bottom,
        plot.right,
        plot.bottom,
        MUTED,
        1.0,
        "cap-axis",
    );
    for (x, label) in ticks {
        svg.line(
            *x,
            plot.bottom,
            *x,
            plot.bottom + 4.0,
            MUTED,
            1.0,
            "cap-axis",
        );
        // labels at the edges stay inside the picture
        let anchor = if *x - plot.left < 30.0 {
            Anchor::Start
        } else if CHART_WIDTH - *x < 40.0 {
            Anchor::End
        } else {
            Anchor::Middle
        };
        svg.text(
            *x,
            plot.bottom + 18.0,
            TICK_SIZE,
            anchor,
            false,
            MUTED,
            "cap-tick",
            label,
        );
    }
}

/// Used space over time, a dashed forecast from `now` at `growth_per_day` bytes per day for
/// `days_ahead` days, and the disk's `size` as a horizontal line; the forecast stops at the top
/// of the picture, and where it meets the size `labels.full_on` is written.
pub fn disk_forecast(
    history: &[DiskPoint],
    size: f64,
    growth_per_day: f64,
    now: i64,
    days_ahead: u32,
    labels: &ForecastLabels,
    date: &dyn Fn(i64) -> String,
) -> String {
    let mut points: Vec<DiskPoint> = history
        .iter()
        .copied()
        .filter(|p| p.used.is_finite())
        .collect();
    points.sort_by_key(|p| p.at);
    let size = if size.is_finite() && size > 0.0 {
        size
    } else {
        0.0
    };
    let growth = if growth_per_day.is_finite() {
        growth_per_day
    } else {
        0.0
    };

    let t0 = points.first().map_or(now, |p| p.at.min(now));
    let mut t1 = now.saturating_add(i64::from(days_ahead) * DAY);
    if t1 <= t0 {
        t1 = t0 + DAY;
    }
    let last = points.last().copied();
    let forecast_end = last.map(|p| p.used + growth * (t1 - now) as f64 / DAY as f64);
    let max_used = points.iter().map(|p| p.used).fold(0.0_f64, f64::max);
    // a forecast far past the disk's size would flatten everything else: stop it at 1.25×
    let shown_end = match forecast_end {
        Some(e) if size > 0.0 => e.min(size * 1.25),
        Some(e) => e,
        None => 0.0,
    };
    let top_value = max_used.max(size).max(shown_end).max(1.0);
    let y_ticks = byte_ticks(top_value);
    let y_max = y_ticks.last().copied().unwrap_or(top_value);

    let fail = level_hex(Level::Fail);
    let entries = [
        (
            Swatch::Line(SERIES, false, "cap-used"),
            labels.used.as_str(),
        ),
        (
            Swatch::Line(SERIES, true, "cap-forecast"),
            labels.forecast.as_str(),
        ),
        (
            Swatch::Line(&fail, false, "cap-capacity"),
            labels.capacity.as_str(),
        ),
    ];
    let legend_h = legend_height(&entries, CHART_WIDTH);
    let plot = Plot {
        left: 76.0,
        right: CHART_WIDTH - 12.0,
        top: legend_h + 16.0,
        bottom: CHART_HEIGHT - 28.0,
    };
    let (f0, f1) = (t0 as f64, t1 as f64);

    // where the forecast meets the size, if it does within the picture
    let full_at = match last {
        Some(p) if size > 0.0 && growth > 0.0 && p.used < size => {
            let t = now as f64 + (size - p.used) / growth * DAY as f64;
            (t <= f1).then_some(t)
        }
        Some(p) if size > 0.0 && p.used >= size => Some(now as f64),
        _ => None,
    };

    let mut desc = vec![format!("{}: {}", labels.capacity, format::bytes(size))];
    if let Some(p) = last {
        desc.push(format!(
            "{} ({}): {}",
            labels.used,
            date(p.at),
            format::bytes(p.used)
        ));
    }
    if let Some(full) = &labels.full_on {
        desc.push(full.clone());
    }
    let mut svg = Svg::open(
        CHART_WIDTH,
        CHART_HEIGHT,
        "cap-forecast-chart",
        &labels.title,
        &desc.join(". "),
    );
    legend(&mut svg, &entries, CHART_WIDTH);
    y_axis(&mut svg, &plot, &y_ticks, y_max, false, &format::bytes);
    let x_ticks: Vec<(f64, String)> = day_ticks(t0, t1)
        .into_iter()
        .map(|t| (plot.x(t as f64, f0, f1), date(t)))
        .collect();
    x_axis(&mut svg, &plot, &x_ticks);

    if size > 0.0 {
        let y = plot.y(size, y_max);
        svg.line(plot.left, y, plot.right, y, &fail, 2.0, "cap-capacity");
    }
    let used: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (plot.x(p.at as f64, f0, f1), plot.y(p.used, y_max)))
        .collect();
    svg.polyline(&used, SERIES, 2.5, false, "cap-used");
    if let Some(p) = last {
        // the forecast starts now from the newest measurement, and is cut at the top
        let start = (plot.x(now as f64, f0, f1), plot.y(p.used, y_max));
        let mut end_t = f1;
        if growth > 0.0 && p.used + growth * (f1 - now as f64) / DAY as f64 > y_max {
            end_t = now as f64 + (y_max - p.used).max(0.0) / growth * DAY as f64;
        }
        let end_v = p.used + growth * (end_t - now as f64) / DAY as f64;
        let end = (plot.x(end_t, f0, f1), plot.y(end_v, y_max));
        svg.polyline(&[start, end], SERIES, 2.5, true, "cap-forecast");
        svg.circle(start.0, start.1, 4.0, SERIES, "cap-used");
    }
    if let Some(text) = &labels.full_on {
        let cap_y = plot.y(size, y_max);
        let x = match full_at {
            Some(t) => {
                let x = plot.x(t, f0, f1);
                svg.circle(x, cap_y, 5.0, &fail, "cap-full");
                x
            }
            None => plot.right,
        };
        let anchor = if x > (plot.left + plot.right) / 2.0 {
            Anchor::End
        } else {
            Anchor::Start
        };
        svg.text(x, cap_y - 9.0, 13.0, anchor, true, &fail, "cap-full", text);
    }
    svg.finish()
}

/// One bar per day for the busiest minute's sign-ins (left axis), the p99 latency of that minute
/// as a line with dots (right axis, milliseconds), and a mark over each day that had
/// waiting-room answers.
pub fn morning_peaks(
    peaks: &[DailyPeak],
    labels: &PeakLabels,
    date: &dyn Fn(i64) -> String,
) -> String {
    let mut days: Vec<DailyPeak> = peaks.to_vec();
    days.sort_by_key(|p| p.day);
    let warn = level_hex(Level::Warn);
    let entries = [
        (
            Swatch::Block(SERIES, "cap-signins"),
            labels.signins.as_str(),
        ),
        (Swatch::Line(INK, false, "cap-p99"), labels.p99.as_str()),
        (
            Swatch::Marker(&warn, "cap-waiting"),
            labels.waiting.as_str(),
        ),
    ];
    let legend_h = legend_height(&entries, CHART_WIDTH);
    let plot = Plot {
        left: 56.0,
        right: CHART_WIDTH - 64.0,
        top: legend_h + 22.0,
        bottom: CHART_HEIGHT - 28.0,
    };

    let d0 = days.first().map_or(0, |p| p.day);
    let d1 = days.last().map_or(DAY, |p| p.day + DAY);
    let (f0, f1) = (d0 as f64, d1 as f64);
    let slot = (plot.right - plot.left) / (((d1 - d0) / DAY).max(1) as f64);

    let max_signins = days
        .iter()
        .map(|p| p.signins_per_minute as f64)
        .fold(0.0, f64::max);
    let s_ticks = count_ticks(max_signins);
    let s_max = s_ticks.last().copied().unwrap_or(1.0);
    let max_p99 = days
        .iter()
        .filter_map(|p| p.p99_ms)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let p_ticks = count_ticks(max_p99);
    let p_max = p_ticks.last().copied().unwrap_or(1.0);

    // a screen reader gets the newest month, not 400 days
    let desc: Vec<String> = days
        .iter()
        .rev()
        .take(31)
        .rev()
        .map(|p| {
            let mut s = format!(
                "{}: {} {}",
                date(p.day),
                labels.signins,
                format::number(p.signins_per_minute as f64)
            );
            if let Some(ms) = p.p99_ms {
                let _ = write!(s, ", {} {} ms", labels.p99, format::number(ms));
            }
            if p.waiting_room > 0 {
                let _ = write!(
                    s,
                    ", {} {}",
                    labels.waiting,
                    format::number(p.waiting_room as f64)
                );
            }
            s
        })
        .collect();
    let mut svg = Svg::open(
        CHART_WIDTH,
        CHART_HEIGHT,
        "cap-peaks-chart",
        &labels.title,
        &desc.join(". "),
    );
    legend(&mut svg, &entries, CHART_WIDTH);
    y_axis(&mut svg, &plot, &s_ticks, s_max, false, &format::number);
    if max_p99 > 0.0 {
        y_axis(&mut svg, &plot, &p_ticks, p_max, true, &|v| {
            format!("{} ms", format::number(v))
        });
    }
    let x_ticks: Vec<(f64, String)> = day_ticks(d0, d1 - DAY)
        .into_iter()
        .map(|t| (plot.x(t as f64, f0, f1) + slot / 2.0, date(t)))
        .collect();

    let bar_w = (slot * 0.7).max(0.6);
    let mut line: Vec<(f64, f64)> = Vec::new();
    let dots = days.len() <= 62;
    let mut p99_points = Vec::new();
    for p in &days {
        let cx = plot.x(p.day as f64, f0, f1) + slot / 2.0;
        let y = plot.y(p.signins_per_minute as f64, s_max);
        let waiting = p.waiting_room > 0;
        let (fill, class) = if waiting {
            (warn.as_str(), "cap-signins cap-waiting")
        } else {
            (SERIES, "cap-signins")
        };
        svg.rect(cx - bar_w / 2.0, y, bar_w, plot.bottom - y, fill, class);
        if waiting {
            svg.triangle(cx, y - 2.0, slot.clamp(5.0, 10.0), &warn, "cap-waiting");
        }
        match p.p99_ms.filter(|v| v.is_finite()) {
            Some(ms) => {
                let pt = (cx, plot.y(ms, p_max));
                line.push(pt);
                p99_points.push(pt);
            }
            // a day without a latency breaks the line instead of drawing across it
            None => {
                svg.polyline(&line, INK, 1.5, false, "cap-p99");
                line.clear();
            }
        }
    }
    svg.polyline(&line, INK, 1.5, false, "cap-p99");
    if dots {
        for (x, y) in p99_points {
            svg.circle(x, y, 2.5, INK, "cap-p99");
        }
    }
    x_axis(&mut svg, &plot, &x_ticks);
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short_and_stable() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.34), "12.3");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(f64::NAN), "0");
    }

    #[test]
    fn byte_ticks_are_round() {
        let gib = 1024.0_f64.powi(3);
        let t = byte_ticks(900.0 * gib);
        let labels: Vec<String> = t.iter().map(|v| format::bytes(*v)).collect();
        assert_eq!(
            labels,
            ["0 B", "250 GiB", "500 GiB", "750 GiB", "1,000 GiB"]
        );
    }

    #[test]
    fn day_ticks_stay_few() {
        assert!(day_ticks(0, 400 * DAY).len() <= 7);
        assert_eq!(day_ticks(DAY, 3 * DAY), [DAY, 2 * DAY, 3 * DAY]);
    }
}
