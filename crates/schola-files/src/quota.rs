//! Quotas: a limit per owner (a person's home by role or the person's own `quota_mb`, a group
//! share, the exchange) and the usage, walked once per owner and then kept up to date on every
//! write and delete that goes through schola-files ([`Quotas::forget`] makes the next use walk
//! again, for writes that bypass us such as SMB).
//!
//! Uploads reserve their announced size up front ([`Quotas::reserve`]): two parallel uploads
//! cannot both use the same free space. Messages speak MiB and GiB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use schola_core::config::Files;
use schola_core::directory::Role;

use crate::layout::Layout;
use crate::policy::QuotaOwner;

const MIB: u64 = 1024 * 1024;

/// Bytes as a person reads them: "300 MiB", "1.2 GiB".
pub fn human(bytes: u64) -> String {
    let f = |v: f64, unit: &str| {
        let s = format!("{v:.1}");
        let s = s.strip_suffix(".0").unwrap_or(&s);
        format!("{s} {unit}")
    };
    if bytes >= 1024 * MIB {
        f(bytes as f64 / (1024 * MIB) as f64, "GiB")
    } else if bytes >= MIB {
        f(bytes as f64 / MIB as f64, "MiB")
    } else if bytes >= 1024 {
        f(bytes as f64 / 1024.0, "KiB")
    } else {
        format!("{bytes} bytes")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this upload needs {} but only {} of the {} quota is free", human(*.needed), human(*.free), human(*.limit))]
pub struct QuotaError {
    pub needed: u64,
    pub free: u64,
    pub limit: u64,
}

#[derive(Debug, Default)]
struct Inner {
    usage: HashMap<QuotaOwner, u64>,
    reserved: HashMap<QuotaOwner, u64>,
    /// Limits of people seen recently (their role and own quota), by id.
    people: HashMap<i64, u64>,
}

/// Shared by every request (clones share the state).
#[derive(Clone, Debug)]
pub struct Quotas {
    layout: Layout,
    cfg: Arc<Files>,
    inner: Arc<Mutex<Inner>>,
}

/// Space set aside for an upload in progress; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    quotas: Quotas,
    owner: QuotaOwner,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Ok(mut i) = self.quotas.inner.lock()
            && let Some(r) = i.reserved.get_mut(&self.owner)
        {
            *r = r.saturating_sub(self.bytes);
        }
    }
}

impl Quotas {
    pub fn new(layout: Layout, files_cfg: Files) -> Quotas {
        Quotas {
            layout,
            cfg: Arc::new(files_cfg),
            inner: Arc::new(Mutex::new(Inner::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The limit in bytes. For a person, `person_quota_mb` (their own) wins over the role's.
    pub fn limit(
        &self,
        owner: &QuotaOwner,
        person_quota_mb: Option<i64>,
        role: Option<Role>,
    ) -> u64 {
        let mb = match owner {
            QuotaOwner::Person { .. } => match person_quota_mb {
                Some(q) if q >= 0 => q as u64,
                _ => match role {
                    Some(Role::Teacher) => self.cfg.teacher_quota_mb,
                    Some(Role::Staff) | Some(Role::Admin) => self.cfg.staff_quota_mb,
                    _ => self.cfg.student_quota_mb,
                },
            },
            QuotaOwner::Group(g) => self
                .cfg
                .group_quotas_mb
                .get(g)
                .copied()
                .unwrap_or(self.cfg.group_quota_mb),
            QuotaOwner::Exchange => self.cfg.exchange_quota_mb,
        };
        mb.saturating_mul(MIB)
    }

    /// Remembers a person's limit (called whenever a person is looked up).
    pub fn remember_person(&self, id: i64, login: &str, person_quota_mb: Option<i64>, role: Role) {
        let owner = QuotaOwner::Person {
            id,
            login: login.to_string(),
        };
        let l = self.limit(&owner, person_quota_mb, Some(role));
        self.lock().people.insert(id, l);
    }

    /// The limit of an owner, using what [`Quotas::remember_person`] recorded for people.
    pub fn limit_of(&self, owner: &QuotaOwner) -> u64 {
        match owner {
            QuotaOwner::Person { id, .. } => {
                let known = self.lock().people.get(id).copied();
                known.unwrap_or_else(|| self.limit(owner, None, None))
            }
            _ => self.limit(owner, None, None),
        }
    }

    fn root_of(&self, owner: &QuotaOwner) -> std::path::PathBuf {
        match owner {
            QuotaOwner::Person { login, .. } => self.layout.home(login),
            QuotaOwner::Group(g) => self.layout.group(g),
            QuotaOwner::Exchange => self.layout.exchange(),
        }
    }

    /// Whether the usage of `owner` is known without a walk.
    pub fn is_counted(&self, owner: &QuotaOwner) -> bool {
        self.lock().usage.contains_key(owner)
    }

    /// Bytes used (walks the tree on first use).
    pub fn usage(&self, owner: &QuotaOwner) -> u64 {
        if let Some(u) = self.lock().usage.get(owner) {
            return *u;
        }
        let walked = crate::fsops::size_of(&self.root_of(owner));
        *self.lock().usage.entry(owner.clone()).or_insert(walked)
    }

    /// What is still free: limit − usage − reservations of uploads in progress.
    pub fn free(&self, owner: &QuotaOwner) -> u64 {
        let used = self.usage(owner);
        let reserved = self.lock().reserved.get(owner).copied().unwrap_or(0);
        self.limit_of(owner)
            .saturating_sub(used)
            .saturating_sub(reserved)
    }

    /// Sets `bytes` aside, or says how much is missing.
    pub fn reserve(
        &self,
        owner: &QuotaOwner,
        limit: u64,
        bytes: u64,
    ) -> Result<Reservation, QuotaError> {
        let used = self.usage(owner);
        let mut i = self.lock();
        let reserved = i.reserved.get(owner).copied().unwrap_or(0);
        let free = limit.saturating_sub(used).saturating_sub(reserved);
        if bytes > free {
            return Err(QuotaError {
                needed: bytes,
                free,
                limit,
            });
        }
        *i.reserved.entry(owner.clone()).or_insert(0) += bytes;
        Ok(Reservation {
            quotas: self.clone(),
            owner: owner.clone(),
            bytes,
        })
    }

    /// Records a completed write (+) or delete (−). Nothing to do when the usage is not cached:
    /// the next walk sees the change on disk.
    pub fn charge(&self, owner: &QuotaOwner, delta: i64) {
        let mut i = self.lock();
        let Some(u) = i.usage.get_mut(owner) else {
            return;
        };
        *u = if delta < 0 {
            u.saturating_sub(delta.unsigned_abs())
        } else {
            u.saturating_add(delta as u64)
        };
    }

    /// Forgets the cached usage: the next use walks the tree again.
    pub fn forget(&self, owner: &QuotaOwner) {
        self.lock().usage.remove(owner);
    }

    /// Forgets every cached usage (hourly, so SMB writes are counted eventually).
    pub fn forget_all(&self) {
        self.lock().usage.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_and_limits() {
        assert_eq!(human(300 * MIB), "300 MiB");
        assert_eq!(human(1024 * MIB + 205 * MIB), "1.2 GiB");
        let e = QuotaError {
            needed: 1229 * MIB,
            free: 300 * MIB,
            limit: 1024 * MIB,
        };
        assert_eq!(
            e.to_string(),
            "this upload needs 1.2 GiB but only 300 MiB of the 1 GiB quota is free"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Files::default();
        cfg.group_quotas_mb.insert("5a".into(), 7);
        let q = Quotas::new(Layout::new(dir.path()), cfg);
        let p = QuotaOwner::Person {
            id: 1,
            login: "a".into(),
        };
        assert_eq!(q.limit(&p, None, Some(Role::Student)), 1024 * MIB);
        assert_eq!(q.limit(&p, None, Some(Role::Teacher)), 10 * 1024 * MIB);
        assert_eq!(q.limit(&p, Some(3), Some(Role::Teacher)), 3 * MIB);
        assert_eq!(
            q.limit(&QuotaOwner::Group("5a".into()), None, None),
            7 * MIB
        );
        let r = q.reserve(&p, 10, 6).unwrap();
        assert!(q.reserve(&p, 10, 5).is_err());
        drop(r);
        assert!(q.reserve(&p, 10, 10).is_ok());
        assert_eq!(q.usage(&p), 0);
        q.charge(&p, 4);
        assert_eq!(q.usage(&p), 4);
        q.charge(&p, -10);
        assert_eq!(q.usage(&p), 0);
    }
}
