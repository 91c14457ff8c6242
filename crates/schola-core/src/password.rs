//! Passwords: argon2id hashes in PHC string format (the same string Dovecot's `{ARGON2ID}`
//! scheme verifies), checked on a bounded pool of threads off the async executor, and the
//! password policy.
//!
//! At 8:00 hundreds of sign-ins arrive at once and each costs ~20 ms of one core. The pool has
//! one thread per core and a bounded queue: sign-ins wait their turn in order, and once the queue
//! is full new ones are turned away at once (the web edge answers 503 with Retry-After) instead of
//! piling up until everything times out. Nothing else in the daemon waits behind a hash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use std::cell::RefCell;

use argon2::password_hash::phc::Output;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};

use crate::config::Argon2Config;
use crate::error::{Error, Result};

fn hasher(cfg: Argon2Config) -> Result<Argon2<'static>> {
    let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
        .map_err(|e| Error::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(cfg: Argon2Config, password: &str) -> Result<String> {
    let h = hasher(cfg)?
        .hash_password(password.as_bytes())
        .map_err(|e| Error::Hash(e.to_string()))?;
    Ok(h.to_string())
}

/// A password as it is stored: the argon2id PHC string every Schola sign-in checks, and the NT
/// hash Samba's passdb needs for SMB (NTLM/NTLMv2 sign-in cannot use anything else). Both are
/// made from the same plaintext at the same moment and stored in the same transaction.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Hashed {
    /// argon2id PHC string (`$argon2id$v=19$…`).
    pub phc: String,
    /// NT hash: MD4 of the UTF-16LE password, 32 upper-case hex digits (what `pdbedit
    /// --set-nt-hash` takes and `pdbedit -L -w` prints).
    pub nt: String,
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the NT hash is password-equivalent for SMB: never in a log
        f.debug_struct("Hashed")
            .field("phc", &self.phc)
            .field("nt", &"<hidden>")
            .finish()
    }
}

/// The NT hash of `password`: MD4 over its UTF-16LE encoding, as 32 upper-case hex digits.
pub fn nt_hash(password: &str) -> String {
    use md4::{Digest as _, Md4};
    let mut h = Md4::new();
    for unit in password.encode_utf16() {
        h.update(unit.to_le_bytes());
    }
    hex::encode_upper(h.finalize())
}

/// Hashes a password for storing as a person's password: argon2id PHC string plus NT hash.
pub fn hash_password_for(cfg: Argon2Config, password: &str) -> Result<Hashed> {
    Ok(Hashed {
        phc: hash_password(cfg, password)?,
        nt: nt_hash(password),
    })
}

/// True if `password` matches the PHC string. The parameters come from the string itself, so
/// hashes made with older settings keep working.
///
/// The argon2 working memory (19 MiB with the default settings) is kept per thread and reused
/// for the next check instead of being allocated and freed each time: freed blocks of that size
/// stay in the allocator's per-thread arenas, and at 8:00 the web server grew by hundreds of MiB
/// that way. The hash threads are few and long-lived, so this is a fixed cost per thread.
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = WORKING_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        let result = argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut memory[..blocks],
        );
        if memory.len() > KEEP_BLOCKS {
            *memory = Vec::new();
        }
        result
    });
    // `Output`'s comparison takes the same time wherever the first difference is
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
}

thread_local! {
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Working memory above this many 1 KiB blocks (256 MiB) is freed after the check rather than
/// kept for the next one.
const KEEP_BLOCKS: usize = 256 * 1024;

/// A hash of a password nobody has, verified when a login does not exist so that an unknown
/// login costs the same time as a wrong password and logins cannot be guessed by timing.
fn dummy_hash(cfg: Argon2Config) -> String {
    hash_password(cfg, &crate::token::random_token(16)).unwrap_or_default()
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Threads that hash and verify passwords, with a bounded queue in front.
#[derive(Debug)]
pub struct PasswordPool {
    tx: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    threads: usize,
    capacity: usize,
    cfg: Argon2Config,
    dummy: String,
}

impl PasswordPool {
    /// `threads` workers (normally one per core) and room for `capacity` waiting jobs.
    pub fn new(threads: usize, capacity: usize, cfg: Argon2Config) -> Result<Arc<PasswordPool>> {
        let threads = threads.max(1);
        let (tx, rx) = sync_channel::<Job>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx: Arc<Mutex<Receiver<Job>>> = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("schola-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| Error::io("cannot start a password hashing thread", e))?;
        }
        Ok(Arc::new(PasswordPool {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            threads,
            capacity,
            cfg,
            dummy: dummy_hash(cfg),
        }))
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Jobs waiting or running right now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, wait) = tokio::sync::oneshot::channel();
        let queued = Arc::clone(&self.queued);
        queued.fetch_add(1, Ordering::Relaxed);
        let job: Job = Box::new(move || {
            let out = f();
            queued.fetch_sub(1, Ordering::Relaxed);
            let _ = done.send(out);
        });
        match self.tx.try_send(job) {
            Ok(()) => wait
                .await
                .map_err(|_| Error::Hash("the hashing thread stopped".into())),
            Err(TrySendError::Full(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(Error::Overloaded)
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(Error::Hash("the hashing threads stopped".into()))
            }
        }
    }

    /// Verifies `password` against `phc`; with `None` (unknown login, no password set) it
    /// spends the same time and answers false.
    pub async fn verify(&self, phc: Option<String>, password: String) -> Result<bool> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.clone());
        let ok = self.run(move || verify_password(&phc, &password)).await?;
        Ok(ok && known)
    }

    /// Hashes a new password on the pool: the argon2id PHC string and the NT hash.
    pub async fn hash(&self, password: String) -> Result<Hashed> {
        let cfg = self.cfg;
        self.run(move || hash_password_for(cfg, &password)).await?
    }
}

/// What a new password must satisfy.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

/// Longest password accepted (in characters); longer input is refused before hashing.
pub const MAX_PASSWORD_CHARS: usize = 256;

const COMMON: &[&str] = &[
    "123456",
    "12345678",
    "123456789",
    "1234567890",
    "password",
    "passwort",
    "wachtwoord",
    "motdepasse",
    "qwertz",
    "qwerty",
    "azerty",
    "hallo123",
    "schule",
    "schule123",
    "school",
    "ecole",
    "iloveyou",
    "abc123",
    "111111",
    "000000",
    "letmein",
    "welcome",
    "willkommen",
    "bienvenue",
    "passwort1",
    "password1",
];

impl PasswordPolicy {
    /// Explains what is wrong with `password` for `login`, or accepts it.
    pub fn check(&self, login: &str, password: &str) -> Result<(), PolicyError> {
        let n = password.chars().count();
        if n < self.min_length {
            return Err(PolicyError::TooShort {
                min: self.min_length,
                has: n,
            });
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(PolicyError::TooLong {
                max: MAX_PASSWORD_CHARS,
            });
        }
        if password.chars().any(char::is_control) {
            return Err(PolicyError::ControlCharacter);
        }
        let lower = password.to_lowercase();
        if !login.is_empty() && lower.contains(&login.to_lowercase()) {
            return Err(PolicyError::ContainsLogin);
        }
        if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
            return Err(PolicyError::TooEasy);
        }
        Ok(())
    }
}

/// Why the password policy refuses a password; the web pages show each in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the password must have at least {min} characters (it has {has})")]
    TooShort { min: usize, has: usize },
    #[error("the password must have at most {max} characters")]
    TooLong { max: usize },
    #[error("the password contains a control character")]
    ControlCharacter,
    #[error("the password must not contain the login name")]
    ContainsLogin,
    #[error("this password is too easy to guess")]
    TooEasy,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small parameters keep unit tests fast; the format is the same.
    const FAST: Argon2Config = Argon2Config {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn nt_hash_matches_known_values() {
        // published NTLM test values (also what `pdbedit -L -w` shows for these passwords)
        assert_eq!(nt_hash(""), "31D6CFE0D16AE931B73C59D7E0C089C0");
        assert_eq!(nt_hash("password"), "8846F7EAEE8FB117AD06BDD830B7586C");
        // UTF-16LE, not UTF-8: a non-ASCII password hashes its code units
        assert_ne!(nt_hash("Grüße-7"), nt_hash("GrÃ¼ÃŸe-7"));
        let h = hash_password_for(FAST, "password").unwrap();
        assert!(verify_password(&h.phc, "password"));
        assert_eq!(h.nt, nt_hash("password"));
        assert!(
            !format!("{h:?}").contains(&h.nt),
            "the NT hash stays out of logs"
        );
    }

    #[test]
    fn hash_is_a_phc_string_that_verifies() {
        let h = hash_password(FAST, "Korrekt-Pferd-9").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert!(verify_password(&h, "Korrekt-Pferd-9"));
        assert!(!verify_password(&h, "korrekt-pferd-9"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[tokio::test]
    async fn pool_verifies_and_treats_unknown_logins_as_wrong() {
        let pool = PasswordPool::new(2, 8, FAST).unwrap();
        let h = pool.hash("Lehrerzimmer-42".into()).await.unwrap();
        assert_eq!(h.nt, nt_hash("Lehrerzimmer-42"));
        let h = h.phc;
        assert!(
            pool.verify(Some(h.clone()), "Lehrerzimmer-42".into())
                .await
                .unwrap()
        );
        assert!(!pool.verify(Some(h), "wrong".into()).await.unwrap());
        assert!(!pool.verify(None, "Lehrerzimmer-42".into()).await.unwrap());
    }

    #[tokio::test]
    async fn full_queue_turns_new_work_away_instead_of_piling_up() {
        // one thread, room for one waiting job: a hash with the default parameters makes each
        // verify slow enough (~20 ms) that the later of four simultaneous verifies find the
        // queue full
        let pool = PasswordPool::new(1, 1, FAST).unwrap();
        let h = hash_password(Argon2Config::default(), "x").unwrap();
        let jobs: Vec<_> = (0..4)
            .map(|_| pool.verify(Some(h.clone()), "x".into()))
            .collect();
        let results = futures_join_all(jobs).await;
        assert!(
            results.iter().any(|r| matches!(r, Err(Error::Overloaded))),
            "{results:?}"
        );
        assert!(results.iter().any(|r| matches!(r, Ok(true))), "{results:?}");
        assert_eq!(pool.queued(), 0);
    }

    async fn futures_join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
        // polled together on one task so all four are submitted before any finishes
        let mut fs: Vec<_> = fs.into_iter().map(Box::pin).collect();
        let mut out: Vec<Option<F::Output>> = fs.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (f, o) in fs.iter_mut().zip(out.iter_mut()) {
                if o.is_none() {
                    match f.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => *o = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.into_iter().map(|o| o.unwrap()).collect()
    }

    #[test]
    fn one_threads_working_memory_serves_hashes_of_any_size() {
        let small = Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let big = Argon2Config {
            memory_kib: 4096,
            iterations: 1,
            parallelism: 2,
        };
        let a = hash_password(small, "erste Lösung").unwrap();
        let b = hash_password(big, "zweite Lösung").unwrap();
        // in turn on one thread: the memory grows for the big one and serves the small one after
        for _ in 0..2 {
            assert!(verify_password(&a, "erste Lösung"));
            assert!(!verify_password(&a, "zweite Lösung"));
            assert!(verify_password(&b, "zweite Lösung"));
            assert!(!verify_password(&b, "erste Lösung"));
        }
        assert!(!verify_password(
            "$argon2id$v=19$m=64,t=1,p=1$bm9zYWx0$",
            "x"
        ));
        assert!(!verify_password("not a hash", "x"));
        // a hash from elsewhere (argon2i, as some tools still make) verifies too
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"dritte")
        .unwrap()
        .to_string();
        assert!(verify_password(&argon2i, "dritte"));
        assert!(!verify_password(&argon2i, "vierte"));
    }

    #[test]
    fn policy_explains_refusals() {
        let p = PasswordPolicy { min_length: 8 };
        assert!(p.check("anna.mueller", "Sonnenblume-7").is_ok());
        assert!(
            p.check("anna.mueller", "kurz")
                .unwrap_err()
                .to_string()
                .contains("at least 8")
        );
        assert!(
            p.check("anna.mueller", "xxANNA.MUELLERxx")
                .unwrap_err()
                .to_string()
                .contains("login")
        );
        assert!(
            p.check("anna.mueller", "passwort")
                .unwrap_err()
                .to_string()
                .contains("guess")
        );
        assert!(
            p.check("anna.mueller", "aaaaaaaaaa")
                .unwrap_err()
                .to_string()
                .contains("guess")
        );
        assert!(
            p.check("anna.mueller", "abc\u{7}defghij")
                .unwrap_err()
                .to_string()
                .contains("control")
        );
    }
}
