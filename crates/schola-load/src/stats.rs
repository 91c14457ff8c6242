//! Counting what a load run saw: nearest-rank latency percentiles and failures tallied by cause
//! with an example each, shared by the storm and the benchmarks' own phases.

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

    /// Up to `max` causes, the most frequent first, each as `cause (n×): example`.
    pub fn examples(&self, max: usize) -> Vec<String> {
        let mut all: Vec<(&String, &(u64, String))> = self.causes.iter().collect();
        // stable: equal counts keep the causes' alphabetical order
        all.sort_by_key(|c| std::cmp::Reverse(c.1.0));
        all.into_iter()
            .take(max)
            .map(|(cause, (n, example))| format!("{cause} ({n}×): {example}"))
            .collect()
    }
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
    fn tallies_merge_and_give_the_most_frequent_examples_first() {
        let mut a = Tally::default();
        a.add("connect", "refused");
        let mut b = Tally::default();
        b.add("connect", "reset");
        b.add("timeout", "30 s");
        a.merge(b);
        a.add(
            "POST /login -> 500",
            "POST /login answered 500 Internal Server Error",
        );
        assert_eq!(a.total(), 4);
        assert_eq!(
            a.lines(),
            "    POST /login -> 500: 1  (e.g. POST /login answered 500 Internal Server Error)\n    connect: 2  (e.g. refused)\n    timeout: 1  (e.g. 30 s)\n"
        );
        assert_eq!(
            a.examples(2),
            vec![
                "connect (2×): refused".to_string(),
                "POST /login -> 500 (1×): POST /login answered 500 Internal Server Error"
                    .to_string()
            ]
        );
        assert!(Tally::default().examples(5).is_empty());
    }
}
