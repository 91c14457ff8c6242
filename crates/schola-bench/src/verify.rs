//! The ceiling every sign-in benchmark is compared with: how many argon2id verifications of a
//! hash made with the configured parameters all cores of this machine do per second, measured in
//! the same run as the sign-ins.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use schola_core::config::Argon2Config;
use schola_core::password::verify_password;

/// Verifications done by `threads` threads in `elapsed`.
#[derive(Debug, Clone, Copy)]
pub struct VerifyRate {
    pub threads: usize,
    pub verifies: u64,
    pub elapsed: Duration,
    /// CPU time the threads got, all together; `None` where it cannot be read.
    pub cpu: Option<Duration>,
}

impl VerifyRate {
    pub fn rate(&self) -> f64 {
        self.verifies as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU time one verification costs.
    pub fn cpu_per_verify(&self) -> Option<Duration> {
        let cpu = self.cpu?;
        (self.verifies > 0).then(|| cpu / self.verifies.min(u64::from(u32::MAX)) as u32)
    }

    /// The share of the threads' wall time they were on a CPU: well below 1 means other
    /// processes were using the machine.
    pub fn cpu_share(&self) -> Option<f64> {
        let wall = self.elapsed.as_secs_f64() * self.threads as f64;
        Some(self.cpu?.as_secs_f64() / wall)
    }

    /// Two measurements as one (e.g. the halves before and after a phase).
    pub fn plus(self, other: VerifyRate) -> VerifyRate {
        VerifyRate {
            threads: self.threads,
            verifies: self.verifies + other.verifies,
            elapsed: self.elapsed + other.elapsed,
            cpu: self.cpu.zip(other.cpu).map(|(a, b)| a + b),
        }
    }
}

/// `threads` threads each verify `password` against `hash` in a loop for `duration`.
pub fn verify_rate(
    argon: Argon2Config,
    hash: &str,
    password: &str,
    threads: usize,
    duration: Duration,
) -> Result<VerifyRate> {
    // the server verifies hashes made with the configured parameters: so must we
    if !hash.contains(&format!(
        "m={},t={},p={}",
        argon.memory_kib, argon.iterations, argon.parallelism
    )) {
        bail!("the bench hash {hash} was not made with the configured parameters");
    }
    let start = Instant::now();
    let deadline = start + duration;
    let counts: Vec<Result<(u64, Option<Duration>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let cpu0 = thread_cpu();
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        if !verify_password(hash, password) {
                            bail!("the bench hash did not verify");
                        }
                        n += 1;
                    }
                    let cpu = thread_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
                    Ok((n, cpu))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a verify thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut verifies = 0;
    let mut cpu = Some(Duration::ZERO);
    for c in counts {
        let (n, t) = c?;
        verifies += n;
        cpu = cpu.zip(t).map(|(a, b)| a + b);
    }
    Ok(VerifyRate {
        threads,
        verifies,
        elapsed,
        cpu,
    })
}

/// CPU time (user and system) of the calling thread.
fn thread_cpu() -> Option<Duration> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_THREAD).ok()?;
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    Some(d(u.user_time()) + d(u.system_time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_figures() {
        let r = VerifyRate {
            threads: 2,
            verifies: 100,
            elapsed: Duration::from_secs(5),
            cpu: Some(Duration::from_secs(4)),
        };
        assert_eq!(r.rate(), 20.0);
        assert_eq!(r.cpu_per_verify(), Some(Duration::from_millis(40)));
        assert_eq!(r.cpu_share(), Some(0.4));
        let sum = r.plus(VerifyRate { cpu: None, ..r });
        assert_eq!((sum.verifies, sum.cpu), (200, None));
        let busy = thread_cpu().unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(30) {}
        assert!(thread_cpu().unwrap() > busy);
    }
}
