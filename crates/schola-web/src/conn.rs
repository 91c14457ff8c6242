//! Per-client connection accounting: what keeps one address (a flood, a slow-loris client) from
//! taking the server's connections and TLS handshake slots from everyone else.
//!
//! `listen.rs` asks the [`Gate`] at TCP accept, before any TLS work. A client under its cap gets
//! an ordinary connection; past it, a few more connections are answered 503 and closed (so a
//! browser behind a busy NAT sees the waiting room, not a reset); beyond those, new connections
//! are closed at once, which costs an accept and a close. Every permit is given back when the
//! connection ends, however it ends (drop).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher as _, RandomState};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::limits::Limits;

/// Whom a connection is counted against: an IPv4 address, or an IPv6 /64 (one host or home
/// usually has a whole /64, so counting single IPv6 addresses would cap nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(Ipv4Addr),
    V6Net(u64),
}

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(a) => ClientKey::V4(a),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4),
                None => ClientKey::V6Net((u128::from(a) >> 64) as u64),
            },
        }
    }
}

/// What a client may do with a new connection.
#[derive(Debug)]
pub enum Admit {
    /// Serve it.
    Serve(Permit),
    /// Over the cap: answer 503 with short timeouts, then close.
    Busy(Permit),
    /// Far over the cap: close it now.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Busy,
    Handshake,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    busy: usize,
    handshakes: usize,
}

impl Counts {
    fn get(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::Open => &mut self.open,
            Kind::Busy => &mut self.busy,
            Kind::Handshake => &mut self.handshakes,
        }
    }
}

/// Why a connection was not served normally (a metrics label).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    /// `busy` (answered 503), `closed` (closed at once), `handshakes` (too many handshakes).
    pub reason: &'static str,
}

/// Lock shards, so the accept paths of several workers rarely wait for each other.
const SHARDS: usize = 16;

/// The per-client counts, shared by all workers.
#[derive(Debug)]
pub struct Gate {
    shards: Vec<Mutex<HashMap<ClientKey, Counts>>>,
    hasher: RandomState,
    per_client: usize,
    busy_per_client: usize,
    handshakes_per_client: usize,
    open: AtomicUsize,
    busy: AtomicUsize,
    /// Connections turned away, by reason.
    pub refused: Family<RefusedLabels, Counter>,
    /// All of them, for the load history (`metrics::Minute`).
    pub refused_total: std::sync::atomic::AtomicU64,
}

/// A connection's (or a handshake's) place in its client's count, given back on drop.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<Gate>,
    key: ClientKey,
    kind: Kind,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release(self.key, self.kind);
    }
}

impl Gate {
    pub fn new(limits: &Limits) -> Arc<Gate> {
        Arc::new(Gate {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            per_client: limits.max_connections_per_client.max(1),
            busy_per_client: limits.busy_answers_per_client,
            handshakes_per_client: limits.handshakes_per_client.max(1),
            open: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            refused: Family::default(),
            refused_total: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn shard(&self, key: &ClientKey) -> MutexGuard<'_, HashMap<ClientKey, Counts>> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        // the map holds plain counts, valid even if a holder panicked
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&RefusedLabels { reason }).inc();
        self.refused_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes a place for a new connection from `key`.
    pub fn connect(self: &Arc<Self>, key: ClientKey) -> Admit {
        let mut shard = self.shard(&key);
        let counts = shard.entry(key).or_default();
        let kind = if counts.open < self.per_client {
            Kind::Open
        } else if counts.busy < self.busy_per_client {
            Kind::Busy
        } else {
            drop(shard);
            self.refuse("closed");
            return Admit::Close;
        };
        *counts.get(kind) += 1;
        drop(shard);
        let permit = Permit {
            gate: Arc::clone(self),
            key,
            kind,
        };
        if kind == Kind::Open {
            self.open.fetch_add(1, Ordering::Relaxed);
            Admit::Serve(permit)
        } else {
            self.busy.fetch_add(1, Ordering::Relaxed);
            self.refuse("busy");
            Admit::Busy(permit)
        }
    }

    /// Takes a place for a TLS handshake of `key`; `None` when it has too many in progress.
    pub fn handshake(self: &Arc<Self>, key: ClientKey) -> Option<Permit> {
        let mut shard = self.shard(&key);
        let counts = shard.entry(key).or_default();
        if counts.handshakes >= self.handshakes_per_client {
            drop(shard);
            self.refuse("handshakes");
            return None;
        }
        counts.handshakes += 1;
        Some(Permit {
            gate: Arc::clone(self),
            key,
            kind: Kind::Handshake,
        })
    }

    fn release(&self, key: ClientKey, kind: Kind) {
        let mut shard = self.shard(&key);
        if let Entry::Occupied(mut e) = shard.entry(key) {
            let n = e.get_mut().get(kind);
            *n = n.saturating_sub(1);
            let c = e.get();
            if c.open == 0 && c.busy == 0 && c.handshakes == 0 {
                e.remove();
            }
        }
        drop(shard);
        match kind {
            Kind::Open => self.open.fetch_sub(1, Ordering::Relaxed),
            Kind::Busy => self.busy.fetch_sub(1, Ordering::Relaxed),
            Kind::Handshake => 0,
        };
    }

    /// Connections being served now (not counting busy answers).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections being answered 503 now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }

    /// Client addresses with a connection or handshake now.
    pub fn clients(&self) -> usize {
        (0..self.shards.len())
            .map(|i| {
                self.shards[i]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .len()
            })
            .sum()
    }

    /// The most connections any one client holds now (what to compare with the cap).
    pub fn most_by_one_client(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .values()
                    .map(|c| c.open)
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schola_core::Config;

    fn gate(per_client: usize) -> Arc<Gate> {
        let mut cfg = Config::default();
        cfg.web.max_connections = 100;
        cfg.web.max_connections_per_client = per_client;
        Gate::new(&Limits::derive_for(&cfg, 1, 1 << 30, 1_000))
    }

    #[test]
    fn one_client_is_capped_and_others_are_not() {
        let g = gate(2);
        let a = ClientKey::of("10.0.0.1".parse().unwrap());
        let b = ClientKey::of("10.0.0.2".parse().unwrap());
        let served: Vec<_> = (0..2).map(|_| g.connect(a)).collect();
        assert!(served.iter().all(|p| matches!(p, Admit::Serve(_))));
        let busy: Vec<_> = (0..8).map(|_| g.connect(a)).collect();
        assert!(busy.iter().all(|p| matches!(p, Admit::Busy(_))));
        assert!(matches!(g.connect(a), Admit::Close), "far over: closed");
        let other = g.connect(b);
        assert!(matches!(other, Admit::Serve(_)), "another address");
        assert_eq!((g.open(), g.busy(), g.clients()), (3, 8, 2));
        assert_eq!(g.most_by_one_client(), 2);
        drop(served);
        assert!(matches!(g.connect(a), Admit::Serve(_)), "places come back");
        drop((busy, other));
        assert_eq!(g.clients(), 0, "nothing is kept for a gone client");
        assert_eq!(
            g.refused
                .get_or_create(&RefusedLabels { reason: "busy" })
                .get(),
            8
        );
    }

    #[test]
    fn handshakes_are_capped_per_client() {
        let g = gate(1_000);
        let a = ClientKey::of("10.0.0.1".parse().unwrap());
        let held: Vec<_> = (0..64).map_while(|_| g.handshake(a)).collect();
        assert_eq!(held.len(), 64, "one worker: a quarter of 256");
        assert!(g.handshake(a).is_none());
        drop(held);
        assert!(g.handshake(a).is_some());
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_v4_as_v4() {
        let k = |s: &str| ClientKey::of(s.parse().unwrap());
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("::ffff:192.0.2.7"), k("192.0.2.7"));
    }
}
