//! Small numeric and reporting helpers shared by the benchmarks: latency percentiles, failure
//! tallies, and readings of the machine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Nearest-rank percentile (`p` in 0..=1) of `sorted`, which must be sorted ascending.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
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

/// Failures counted by cause, each with the first message seen as an example.
#[derive(Debug, Default)]
pub struct Tally {
    causes: BTreeMap<String, (u64, String)>,
}

impl Tally {
    pub fn add(&mut self, cause: impl Into<String>, example: impl Into<String>) {
        self.causes
            .entry(cause.into())
            .or_insert_with(|| (0, example.into()))
            .0 += 1;
    }

    pub fn merge(&mut self, other: Tally) {
        for (cause, (n, example)) in other.causes {
            self.causes.entry(cause).or_insert((0, example)).0 += n;
        }
    }

    pub fn total(&self) -> u64 {
        self.causes.values().map(|(n, _)| n).sum()
    }

    /// One indented line per cause: `cause: n  (e.g. example)`.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for (cause, (n, example)) in &self.causes {
            let _ = writeln!(out, "    {cause}: {n}  (e.g. {example})");
        }
        out
    }
}

/// The one-minute load average (Linux), to warn about a busy machine.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.50), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&d, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&d, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&d, 0.0), Some(Duration::from_millis(1)));
        let one = [Duration::from_millis(7)];
        assert_eq!(percentile(&one, 0.99), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(human(Duration::from_millis(812)), "812 ms");
        assert_eq!(human(Duration::from_millis(1320)), "1.3 s");
        assert_eq!(human(Duration::from_micros(420)), "0.4 ms");
    }

    #[test]
    fn tallies_count_by_cause() {
        let mut a = Tally::default();
        a.add("connect", "refused");
        let mut b = Tally::default();
        b.add("connect", "reset");
        b.add("timeout", "30 s");
        a.merge(b);
        assert_eq!(a.total(), 3);
        assert_eq!(
            a.lines(),
            "    connect: 2  (e.g. refused)\n    timeout: 1  (e.g. 30 s)\n"
        );
    }
}
