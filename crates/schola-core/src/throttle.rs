//! Sign-in back-off: exponential delays after failed sign-ins, per account and address pair,
//! per account and per client address. Not a hard lock: one classmate typing a friend's login
//! with wrong passwords slows down only that pair; the owner, from their own device, waits at
//! most [`ACCOUNT`]'s cap (15 s) even while someone hammers the account.
//!
//! Only verified failures count; attempts turned away by a running delay are not verified at
//! all, which is also what keeps a password guesser from costing the machine CPU.

use std::net::IpAddr;

use rusqlite::params;

use crate::clock::UnixTime;
use crate::error::Result;
use crate::store::{OptionalExt as _, Store};

/// One back-off rule: `free` failures cost nothing, then 2, 4, 8 … seconds up to `cap`;
/// the count starts again after `forget_after` seconds without a failure.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub free: i64,
    pub cap: i64,
    pub forget_after: i64,
}

/// The same login from the same address: the classic guesser.
pub const PAIR: Rule = Rule {
    free: 3,
    cap: 15 * 60,
    forget_after: 24 * 3600,
};
/// One login from anywhere: slows a guesser with many addresses, but never locks the owner out
/// for long.
pub const ACCOUNT: Rule = Rule {
    free: 5,
    cap: 15,
    forget_after: 3600,
};
/// One address trying many logins (password spraying). Computer rooms give every PC its own
/// address, so this is generous.
pub const ADDRESS: Rule = Rule {
    free: 30,
    cap: 5 * 60,
    forget_after: 3600,
};

impl Rule {
    pub fn delay(&self, failures: i64) -> i64 {
        if failures <= self.free {
            0
        } else {
            let exp = (failures - self.free).min(30) as u32;
            2i64.saturating_pow(exp).min(self.cap)
        }
    }
}

/// Whether a sign-in may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Try again in this many seconds.
    Wait(i64),
}

/// Groups IPv6 clients by /64, since one device can pick any address in its prefix.
pub fn address_key(addr: Option<IpAddr>) -> String {
    match addr {
        None => "unknown".into(),
        Some(IpAddr::V4(a)) => a.to_string(),
        Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn keys(login: &str, addr: &str) -> [(String, Rule); 3] {
    let login = login.to_lowercase();
    [
        (format!("pair:{login}|{addr}"), PAIR),
        (format!("account:{login}"), ACCOUNT),
        (format!("address:{addr}"), ADDRESS),
    ]
}

impl Store {
    /// Open, or how long this login from this address must wait.
    pub fn signin_gate(&self, login: &str, addr: &str) -> Result<Gate> {
        let now = self.now();
        let conn = self.conn()?;
        let mut wait = 0;
        for (key, _) in keys(login, addr) {
            let until: Option<i64> = conn
                .prepare_cached("SELECT blocked_until FROM throttle WHERE key = ?1")
                .and_then(|mut s| s.query_row([&key], |r| r.get(0)).optional())
                .map_err(|e| self.sqlite_err(e))?;
            wait = wait.max(until.unwrap_or(0) - now);
        }
        Ok(if wait > 0 {
            Gate::Wait(wait)
        } else {
            Gate::Open
        })
    }

    /// Counts a verified failure against the pair, the account and the address.
    pub fn record_signin_failure(&self, login: &str, addr: &str) -> Result<Gate> {
        let now: UnixTime = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let mut wait = 0;
            for (key, rule) in keys(login, addr) {
                let prev: Option<(i64, i64)> = tx
                    .query_row("SELECT failures, last_failure_at FROM throttle WHERE key = ?1", [&key], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(sql)?;
                let failures = match prev {
                    Some((n, last)) if now - last < rule.forget_after => n + 1,
                    _ => 1,
                };
                let delay = rule.delay(failures);
                wait = wait.max(delay);
                tx.execute(
                    "INSERT INTO throttle (key, failures, last_failure_at, blocked_until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                         last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until",
                    params![key, failures, now, now + delay],
                )
                .map_err(sql)?;
            }
            // Keep the table small: forget old, expired entries.
            tx.execute("DELETE FROM throttle WHERE last_failure_at < ?1 AND blocked_until < ?2", params![now - 86_400, now])
                .map_err(sql)?;
            Ok(if wait > 0 { Gate::Wait(wait) } else { Gate::Open })
        })
    }

    /// A successful sign-in clears the pair and account counters (not the address's: a
    /// sprayer who guesses one password right must not get a fresh budget).
    pub fn record_signin_success(&self, login: &str, addr: &str) -> Result<()> {
        let [(pair, _), (account, _), _] = keys(login, addr);
        // Skip the write entirely in the common case: nothing to clear.
        let conn = self.conn()?;
        let any: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM throttle WHERE key IN (?1, ?2))")
            .and_then(|mut s| s.query_row([&pair, &account], |r| r.get(0)))
            .map_err(|e| self.sqlite_err(e))?;
        drop(conn);
        if any {
            self.write(|tx| {
                tx.execute(
                    "DELETE FROM throttle WHERE key IN (?1, ?2)",
                    [&pair, &account],
                )
                .map_err(|e| self.sqlite_err(e))?;
                Ok(())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[test]
    fn delays_grow_exponentially_and_are_capped() {
        let d: Vec<i64> = (1..=8).map(|n| PAIR.delay(n)).collect();
        assert_eq!(d, [0, 0, 0, 2, 4, 8, 16, 32]);
        assert_eq!(PAIR.delay(100), 900);
        assert_eq!(ACCOUNT.delay(100), 15);
    }

    #[test]
    fn guesser_is_slowed_but_owner_elsewhere_waits_at_most_the_account_cap() {
        let (store, clock, _dir) = testing::store();
        let mut verified = 0;
        // 100 wrong passwords in a row, one per second, from the classroom PC
        for _ in 0..100 {
            if store.signin_gate("anna.mueller", "10.0.0.7").unwrap() == Gate::Open {
                store
                    .record_signin_failure("anna.mueller", "10.0.0.7")
                    .unwrap();
                verified += 1;
            }
            clock.advance(1);
        }
        assert!(
            verified < 15,
            "only {verified} of 100 guesses were even checked"
        );
        assert!(
            matches!(store.signin_gate("anna.mueller", "10.0.0.7").unwrap(), Gate::Wait(w) if w > 15)
        );
        // the owner at home
        match store.signin_gate("anna.mueller", "192.0.2.1").unwrap() {
            Gate::Open => {}
            Gate::Wait(w) => assert!(w <= ACCOUNT.cap, "owner waits {w}s"),
        }
        clock.advance(ACCOUNT.cap);
        assert_eq!(
            store.signin_gate("anna.mueller", "192.0.2.1").unwrap(),
            Gate::Open
        );
        store
            .record_signin_success("anna.mueller", "192.0.2.1")
            .unwrap();
        // a classmate at another PC is not affected at all
        assert_eq!(
            store.signin_gate("ben.schulz", "10.0.0.8").unwrap(),
            Gate::Open
        );
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_period() {
        let (store, clock, _dir) = testing::store();
        for _ in 0..3 {
            store.record_signin_failure("ben", "10.0.0.1").unwrap();
        }
        clock.advance(PAIR.forget_after + 1);
        assert_eq!(
            store.record_signin_failure("ben", "10.0.0.1").unwrap(),
            Gate::Open
        );
    }

    #[test]
    fn ipv6_clients_are_grouped_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        let m: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(address_key(Some(m)), "10.1.2.3");
    }
}
