//! A short-lived cache of verified credentials, for protocols that send the password with every
//! request (WebDAV, IMAP through the web front). Without it, a WebDAV client listing a folder
//! would cost one argon2 verify per request and a class of 30 would saturate the machine.
//!
//! Entries are keyed by an HMAC of login and password under a per-process random key (the cache
//! never holds a password or a fast hash of one), expire after a short TTL, and are bound to the
//! stored hash: once the password changes, the stored hash differs and the entry is dropped.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::clock::UnixTime;

type Key = [u8; 32];

#[derive(Debug)]
struct Entry {
    person_id: i64,
    stored_hash: Key,
    expires: UnixTime,
}

#[derive(Debug)]
pub struct CredentialCache {
    secret: Key,
    ttl: i64,
    max_entries: usize,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl CredentialCache {
    pub fn new(ttl_secs: i64, max_entries: usize) -> Self {
        let mut secret = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut secret[..]);
        CredentialCache {
            secret,
            ttl: ttl_secs,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, login: &str, password: &str) -> Key {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            return [0; 32];
        };
        mac.update(&(login.len() as u64).to_le_bytes());
        mac.update(login.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn fingerprint(stored_hash: &str) -> Key {
        Sha256::digest(stored_hash.as_bytes()).into()
    }

    /// True if this login and password were verified against `stored_hash` within the TTL.
    pub fn check(
        &self,
        login: &str,
        password: &str,
        person_id: i64,
        stored_hash: &str,
        now: UnixTime,
    ) -> bool {
        let key = self.key(login, password);
        let Ok(mut entries) = self.entries.lock() else {
            return false;
        };
        match entries.get(&key) {
            Some(e)
                if e.person_id == person_id
                    && e.stored_hash == Self::fingerprint(stored_hash)
                    && e.expires > now =>
            {
                true
            }
            Some(_) => {
                entries.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Remembers a successful verification.
    pub fn remember(
        &self,
        login: &str,
        password: &str,
        person_id: i64,
        stored_hash: &str,
        now: UnixTime,
    ) {
        let key = self.key(login, password);
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.max_entries {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                person_id,
                stored_hash: Self::fingerprint(stored_hash),
                expires: now + self.ttl,
            },
        );
    }

    /// Drops every entry of a person (password changed, account disabled).
    pub fn forget_person(&self, person_id: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.person_id != person_id);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_within_ttl_for_same_password_and_hash_only() {
        let c = CredentialCache::new(300, 100);
        c.remember("anna", "pw-1", 7, "$argon2id$old", 1000);
        assert!(c.check("anna", "pw-1", 7, "$argon2id$old", 1200));
        assert!(
            !c.check("anna", "pw-2", 7, "$argon2id$old", 1200),
            "other password"
        );
        assert!(
            !c.check("anna", "pw-1", 7, "$argon2id$old", 1300),
            "expired"
        );
    }

    #[test]
    fn password_change_drops_the_entry() {
        let c = CredentialCache::new(300, 100);
        c.remember("anna", "pw-1", 7, "$argon2id$old", 1000);
        assert!(!c.check("anna", "pw-1", 7, "$argon2id$new", 1001));
        assert!(c.is_empty(), "the stale entry is gone");
        c.remember("anna", "pw-1", 7, "$argon2id$old", 1000);
        c.forget_person(7);
        assert!(!c.check("anna", "pw-1", 7, "$argon2id$old", 1001));
    }

    #[test]
    fn login_and_password_boundary_is_unambiguous() {
        let c = CredentialCache::new(300, 100);
        c.remember("ab", "c", 1, "h", 0);
        assert!(!c.check("a", "bc", 1, "h", 1));
    }
}
