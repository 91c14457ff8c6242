//! Small numeric and reporting helpers shared by the benchmarks: latency percentiles, failure
//! tallies, the result table with PASS/FAIL, and readings of the machine (load, memory).

use std::time::Duration;

pub use schola_load::stats::{Tally, percentile};

/// `p50 12 ms, p95 40 ms, p99 81 ms` of a sorted sample, or `-` when it is empty.
pub fn p50_95_99(sorted: &[Duration]) -> String {
    match (
        percentile(sorted, 0.50),
        percentile(sorted, 0.95),
        percentile(sorted, 0.99),
    ) {
        (Some(a), Some(b), Some(c)) => {
            format!("p50 {}, p95 {}, p99 {}", human(a), human(b), human(c))
        }
        _ => "-".into(),
    }
}

/// `812 ms`, `1.3 s`, or `0.4 ms` below a millisecond.
pub fn human(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// `1,500`: thousands separated, as the output is read by people.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether a row of a [`Table`] is a goal, and whether it was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A figure shown for information; no goal.
    Info,
    Pass,
    Fail,
}

impl Verdict {
    pub fn of(ok: bool) -> Verdict {
        if ok { Verdict::Pass } else { Verdict::Fail }
    }
}

/// A phase's results: one row per figure with the goal or peer it is compared with, the ratio
/// where there is one, and PASS/FAIL for the goals.
#[derive(Debug)]
pub struct Table {
    title: String,
    rows: Vec<[String; 4]>,
    verdicts: Vec<Verdict>,
    notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            rows: Vec::new(),
            verdicts: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A figure with no goal.
    pub fn info(&mut self, what: impl Into<String>, measured: impl Into<String>) {
        self.row(what, measured, "", "", Verdict::Info);
    }

    pub fn row(
        &mut self,
        what: impl Into<String>,
        measured: impl Into<String>,
        goal: impl Into<String>,
        ratio: impl Into<String>,
        verdict: Verdict,
    ) {
        self.rows
            .push([what.into(), measured.into(), goal.into(), ratio.into()]);
        self.verdicts.push(verdict);
    }

    /// A line printed under the table.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// True when no row failed.
    pub fn passed(&self) -> bool {
        !self.verdicts.contains(&Verdict::Fail)
    }

    pub fn render(&self) -> String {
        let mut w = [0usize; 4];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                w[i] = w[i].max(cell.chars().count());
            }
        }
        let mut out = format!("\n== {} ==\n", self.title);
        for (row, verdict) in self.rows.iter().zip(&self.verdicts) {
            let v = match verdict {
                Verdict::Info => "",
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
            };
            let line = format!(
                "  {:<w0$}  {:>w1$}  {:<w2$}  {:>w3$}  {v}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3],
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(n.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The one-minute load average (Linux), to warn about a busy machine.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Resident memory of a process now and at its peak, in KiB (`VmRSS`, `VmHWM` of
/// `/proc/<pid>/status`; `pid` "self" for this process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
    /// The anonymous part of `rss_kib` (heap, stacks), as opposed to mapped files.
    pub anon_kib: Option<u64>,
}

pub fn memory(pid: &str) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_memory(&text)
}

fn parse_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
        anon_kib: field("RssAnon:"),
    })
}

/// Threads of a process (`Threads:` of `/proc/<pid>/status`).
pub fn threads(pid: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}

/// CPU time (user and system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = parse_cpu_ticks(&text)?;
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .unwrap_or(100);
    Some(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// utime + stime (fields 14 and 15), counted after the command name, which may hold spaces
/// and parentheses.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state)
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Open file descriptors of a process (its sockets among them).
pub fn open_fds(pid: &str) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// `123.4 MiB`.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_percentiles_in_one_line() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(p50_95_99(&d), "p50 50 ms, p95 95 ms, p99 99 ms");
        assert_eq!(p50_95_99(&[]), "-");
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(human(Duration::from_millis(812)), "812 ms");
        assert_eq!(human(Duration::from_millis(1320)), "1.3 s");
        assert_eq!(human(Duration::from_micros(420)), "0.4 ms");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1500), "1,500");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(mib(2048), "2.0 MiB");
    }

    #[test]
    fn tables() {
        let mut t = Table::new("phase");
        t.info("people", "1,500");
        t.row("rate", "40.0 /s", ">= 32.0 /s", "0.90", Verdict::Pass);
        assert!(t.passed());
        t.row("errors", "1", "0", "", Verdict::Fail);
        assert!(!t.passed());
        assert_eq!(
            t.render(),
            "\n== phase ==\n  people    1,500\n  rate    40.0 /s  >= 32.0 /s  0.90  PASS\n  errors        1  0                 FAIL\n"
        );
    }

    #[test]
    fn reads_memory_from_proc_status() {
        let status = "Name:\tschola-web\nVmPeak:\t  900 kB\nVmHWM:\t  204800 kB\n\
                      VmRSS:\t  102400 kB\nRssAnon:\t   90000 kB\n";
        assert_eq!(
            parse_memory(status),
            Some(Memory {
                rss_kib: 102_400,
                hwm_kib: 204_800,
                anon_kib: Some(90_000),
            })
        );
        assert_eq!(parse_memory("Name: x\n"), None);
        assert!(memory("self").is_some_and(|m| m.rss_kib > 0));
        assert!(threads("self").is_some_and(|n| n >= 1));
        let stat = "4242 (schola web) (x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        assert!(cpu_time("self").is_some());
    }
}
