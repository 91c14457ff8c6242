//! Limits derived from the machine (cores, memory) unless the config sets them. These are what
//! turn the 8:00 storm into a queue rather than an outage: a bounded number of connections,
//! a bounded queue of sign-ins waiting for a password check, and short timeouts for clients that
//! send slowly.

use std::time::Duration;

use crate::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub workers: usize,
    /// Across all workers.
    pub max_connections: usize,
    /// Threads per worker for database work (`web::block`). The store keeps 16 connections
    /// open for reuse; far more threads than that only wait for SQLite and each costs memory.
    pub blocking_threads_per_worker: usize,
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
    /// Open connections one client address may hold (an IPv6 address counts by its /64).
    pub max_connections_per_client: usize,
    /// TLS handshakes one client address may have in progress: a client that opens connections
    /// and sends nothing must not take the handshake slots of the others.
    pub handshakes_per_client: usize,
    /// Connections past `max_connections_per_client` that are still answered (503, then closed)
    /// with short timeouts; beyond these a client's new connections are closed at once.
    pub busy_answers_per_client: usize,
    /// Handshake and request-head timeout of such a busy answer.
    pub busy_timeout: Duration,
    /// The longest pause in a request body before the request gets 408 and the connection is
    /// closed.
    pub body_timeout: Duration,
    /// The body must also arrive at this many bytes per second on average (over and above
    /// `body_timeout`), so a client cannot hold a request by trickling a byte at a time.
    pub body_min_rate: u64,
}

/// Connections one browser opens to a site over HTTP/1.1 at most.
pub const CONNECTIONS_PER_PERSON: usize = 6;

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
    /// The limits for this machine and a school of `people` (read at start).
    pub fn derive(cfg: &Config, people: usize) -> Limits {
        Self::derive_for(
            cfg,
            Config::cores(),
            memory_bytes().unwrap_or(2 << 30),
            people,
        )
    }

    pub fn derive_for(cfg: &Config, cores: usize, memory: u64, people: usize) -> Limits {
        // actix-server takes 1 to 512 workers
        let workers = if cfg.web.workers == 0 {
            cores
        } else {
            cfg.web.workers
        }
        .clamp(1, 512);
        // What the school needs at 8:00: every person's browser with its 6 connections (HTTP/1.1)
        // open at once, plus room for the rest. What the machine holds: a quarter of the memory
        // for connection buffers. The smaller of the two, so a small school on a big machine
        // offers a flood no more than it needs, and a big school on a small machine is told by
        // the capacity check rather than running out of memory.
        let by_memory = ((memory / 4 / BYTES_PER_CONNECTION) as usize).clamp(1_024, 50_000);
        let by_school = (people.saturating_mul(CONNECTIONS_PER_PERSON) + 1_024).max(4_096);
        let max_connections = if cfg.web.max_connections == 0 {
            by_school.min(by_memory)
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
        // A computer room of 30 browsers behind one NAT address opens about 180 connections;
        // a quarter of the server still leaves the rest for everyone else.
        let max_connections_per_client = if cfg.web.max_connections_per_client == 0 {
            (max_connections / 4).max(256)
        } else {
            cfg.web.max_connections_per_client
        }
        .min(max_connections);
        let max_handshakes_per_worker = 256;
        // handshakes take milliseconds, so even a busy NAT has few in progress at once; a
        // quarter of all handshake slots is far more than that and far less than all of them
        let handshakes_per_client = (max_handshakes_per_worker * workers / 4).max(16);
        let body_timeout = Duration::from_secs(match cfg.web.body_timeout_secs {
            0 => 10,
            n => n,
        });
        Limits {
            workers,
            blocking_threads_per_worker: 8,
            max_connections_per_client,
            handshakes_per_client,
            busy_answers_per_client: 8,
            busy_timeout: Duration::from_secs(3),
            body_timeout,
            body_min_rate: 500,
            in_flight,
            max_connections,
            max_handshakes_per_worker,
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
        let small = Limits::derive_for(&cfg, 2, 4 << 30, 5_000);
        assert_eq!(small.workers, 2);
        // 5,000 people need 31,024 connections; 4 GiB hold 16,384
        assert_eq!(small.max_connections, 16_384);
        // a school of 300 on the same machine: what it needs, not what the memory would hold
        assert_eq!(
            Limits::derive_for(&cfg, 2, 4 << 30, 300).max_connections,
            4_096
        );
        assert_eq!(
            Limits::derive_for(&cfg, 2, 4 << 30, 1_500).max_connections,
            10_024
        );
        assert_eq!(small.in_flight, 512);
        assert_eq!(small.max_connections_per_client, 4_096);
        assert_eq!(small.handshakes_per_client, 128);
        assert_eq!(small.body_timeout, Duration::from_secs(10));
        let tiny = Limits::derive_for(&cfg, 1, 256 << 20, 5_000);
        assert_eq!(tiny.max_connections, 1_024);
        assert_eq!(
            tiny.max_connections_per_client, 256,
            "a NAT'd computer room fits"
        );
        let mut cfg = Config::default();
        cfg.web.max_connections = 500;
        cfg.web.workers = 3;
        let set = Limits::derive_for(&cfg, 8, 32 << 30, 1_000);
        assert_eq!(
            (
                set.workers,
                set.max_connections,
                set.connections_per_worker()
            ),
            (3, 500, 167)
        );
        assert_eq!(set.max_connections_per_client, 256, "at least 256");
        cfg.web.max_connections = 100;
        let set = Limits::derive_for(&cfg, 8, 32 << 30, 1_000);
        assert_eq!(
            set.max_connections_per_client, 100,
            "never more than the whole server"
        );
        cfg.web.max_connections_per_client = 20;
        cfg.web.body_timeout_secs = 2;
        cfg.web.workers = 9_999;
        let set = Limits::derive_for(&cfg, 8, 32 << 30, 1_000);
        assert_eq!(set.max_connections_per_client, 20);
        assert_eq!(set.body_timeout, Duration::from_secs(2));
        assert_eq!(set.workers, 512, "actix-server's maximum");
    }
}
