//! Limits derived from the machine (cores, memory) unless the config sets them. These are what
//! turn the 8:00 storm into a queue rather than an outage: a bounded number of connections,
//! a bounded queue of sign-ins waiting for a password check, and short timeouts for clients that
//! send slowly.

use std::time::Duration;

use schola_core::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub workers: usize,
    /// Across all workers.
    pub max_connections: usize,
    /// TLS handshakes in progress per worker.
    pub max_handshakes_per_worker: usize,
    pub hash_threads: usize,
    pub signins_waiting: usize,
    /// Requests worked on at once; more get the waiting room (503 with Retry-After).
    pub in_flight: usize,
    /// A client must send its request headers within this time (slow-loris defence).
    pub request_timeout: Duration,
    pub handshake_timeout: Duration,
    pub keep_alive: Duration,
}

/// Memory we allow ourselves per open connection, for the derived connection limit.
const BYTES_PER_CONNECTION: u64 = 64 * 1024;

/// Total memory in bytes, from /proc/meminfo.
pub fn memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl Limits {
    pub fn derive(cfg: &Config) -> Limits {
        Self::derive_for(cfg, Config::cores(), memory_bytes().unwrap_or(2 << 30))
    }

    pub fn derive_for(cfg: &Config, cores: usize, memory: u64) -> Limits {
        let workers = if cfg.web.workers == 0 {
            cores.max(1)
        } else {
            cfg.web.workers
        };
        // a quarter of the memory for connection buffers, within sane bounds
        let by_memory = (memory / 4 / BYTES_PER_CONNECTION) as usize;
        let max_connections = if cfg.web.max_connections == 0 {
            by_memory.clamp(1_024, 50_000)
        } else {
            cfg.web.max_connections
        };
        let hash_threads = cfg.hash_threads();
        // about five seconds of sign-ins at ~40 verifies per core per second
        let signins_waiting = if cfg.web.max_signins_waiting == 0 {
            (hash_threads * 200).max(64)
        } else {
            cfg.web.max_signins_waiting
        };
        // enough to keep every core busy with page loads while sign-ins wait for their hash,
        // few enough that an admitted request never waits long behind the others
        let in_flight = if cfg.web.max_in_flight == 0 {
            (cores * 256).clamp(256, 4_096)
        } else {
            cfg.web.max_in_flight
        };
        Limits {
            workers,
            in_flight,
            max_connections,
            max_handshakes_per_worker: 256,
            hash_threads,
            signins_waiting,
            request_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(30),
        }
    }

    pub fn connections_per_worker(&self) -> usize {
        self.max_connections.div_ceil(self.workers.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_from_the_machine_and_overridable() {
        let cfg = Config::default();
        let small = Limits::derive_for(&cfg, 2, 4 << 30);
        assert_eq!(small.workers, 2);
        assert_eq!(small.max_connections, 16_384);
        assert_eq!(small.in_flight, 512);
        let tiny = Limits::derive_for(&cfg, 1, 256 << 20);
        assert_eq!(tiny.max_connections, 1_024);
        let mut cfg = Config::default();
        cfg.web.max_connections = 500;
        cfg.web.workers = 3;
        let set = Limits::derive_for(&cfg, 8, 32 << 30);
        assert_eq!(
            (
                set.workers,
                set.max_connections,
                set.connections_per_worker()
            ),
            (3, 500, 167)
        );
    }
}
