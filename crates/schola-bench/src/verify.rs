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
}

impl VerifyRate {
    pub fn rate(&self) -> f64 {
        self.verifies as f64 / self.elapsed.as_secs_f64()
    }

    /// Two measurements as one (e.g. the halves before and after a phase).
    pub fn plus(self, other: VerifyRate) -> VerifyRate {
        VerifyRate {
            threads: self.threads,
            verifies: self.verifies + other.verifies,
            elapsed: self.elapsed + other.elapsed,
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
    let counts: Vec<Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        if !verify_password(hash, password) {
                            bail!("the bench hash did not verify");
                        }
                        n += 1;
                    }
                    Ok(n)
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
    for c in counts {
        verifies += c?;
    }
    Ok(VerifyRate {
        threads,
        verifies,
        elapsed,
    })
}
