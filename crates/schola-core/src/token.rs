//! Random tokens (session ids, CSRF tokens, setup codes) and readable initial passwords.

use base64::Engine as _;
use rand::Rng as _;
use rand::seq::IndexedRandom as _;

/// A URL-safe token carrying `bytes` bytes of OS randomness (32 bytes = 256 bits).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Letters and digits that cannot be mistaken for each other on a printed slip:
/// no 0/O/o, 1/l/I.
const READABLE: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A readable initial password such as `kx7m-p3qa-9dtn` (12 symbols of 32, 60 bits).
pub fn readable_password() -> String {
    readable_groups(3)
}

/// A backup's passphrase such as `kx7m-p3qa-9dtn-4wzr-h8ce-tu2b` (24 symbols of 32, 120 bits):
/// out of reach of guessing even offline, and still typed from a printed sheet without a
/// mistake.
pub fn backup_passphrase() -> String {
    readable_groups(6)
}

fn readable_groups(groups: usize) -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(groups * 5);
    for group in 0..groups {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..4 {
            out.push(*READABLE.choose(&mut rng).unwrap_or(&b'x') as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_passwords_avoid_confusable_symbols() {
        for _ in 0..200 {
            let p = readable_password();
            assert_eq!(p.len(), 14);
            assert!(!p.contains(['0', 'O', 'o', '1', 'l', 'I']), "{p}");
        }
        let b = backup_passphrase();
        assert_eq!(b.len(), 29);
        assert_eq!(b.split('-').count(), 6);
        assert_ne!(b, backup_passphrase());
    }

    #[test]
    fn tokens_are_distinct_and_long() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
