//! The upstream sync end to end: a real slapd, the daemon's `sync_ldap` (fetch, diff, apply)
//! into a real store. First sync, a change upstream, resync, a removal, an AD-like tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use std::sync::Arc;

use schola_core::config::Config;
use schola_core::directory::{Role, Status};
use schola_core::{ManualClock, Store};
use schola_dirsync::daemon::sync_ldap;
use schola_dirsync::ldap::testing::{
    self, SchemaKind, Slapd, class_group_dn, class_of, guid_of, login_of, person_dn, role_of,
};

fn school(slapd: &Slapd) -> (Config, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "profile = \"dev\"\n\n[auth.argon2]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n";
    let path = dir.path().join("schola.toml");
    std::fs::write(&path, text).unwrap();
    let mut cfg = Config::from_str_at(&path, text).unwrap();
    cfg.import.ldap = Some(slapd.config());
    let (store, _) = Store::open_with_clock(
        &cfg.database_path(),
        Arc::new(ManualClock::new(1_788_246_000)),
    )
    .unwrap();
    (cfg, store, dir)
}

fn students_of(store: &Store, class: &str) -> Vec<String> {
    store
        .group_members(class)
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.login)
        .collect()
}

#[tokio::test]
async fn first_sync_change_resync_and_removal() {
    let dir = tempfile::tempdir().unwrap();
    let schema = SchemaKind::OpenLdap;
    let slapd = Slapd::start_with(dir.path(), schema, &testing::people_ldif(300, schema))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (cfg, store, _d) = school(&slapd);

    let (id, applied) = sync_ldap(&cfg, &store).await.unwrap().unwrap();
    assert!(
        applied,
        "import #{id} waits although the first sync is no mistake"
    );
    assert_eq!(store.count_people(None).unwrap(), 300);
    let p1 = store.require_person(&login_of(1)).unwrap();
    assert_eq!(p1.role, role_of(1));
    // synced people have no local password: they sign in with the upstream one
    assert!(
        store
            .credentials(&login_of(1))
            .unwrap()
            .unwrap()
            .1
            .is_none()
    );
    assert_eq!(
        store.upstream_dn(p1.id).unwrap().map(|d| d.to_lowercase()),
        Some(person_dn(schema, 1).to_lowercase())
    );
    let i2 = (2..300).find(|&i| class_of(i) == Some("5c")).unwrap();
    assert!(students_of(&store, "5c").contains(&login_of(i2)));

    // nothing changed upstream: nothing is stored
    assert!(sync_ldap(&cfg, &store).await.unwrap().is_none());

    // upstream: a rename, a class move, a removal
    let gone = (3..300)
        .find(|&i| role_of(i) == Role::Student && i != i2)
        .unwrap();
    slapd
        .ldapmodify(&format!(
            "dn: {u1}\nchangetype: modify\nreplace: sn\nsn: Neumann-Schmidt\n\n\
             dn: {from}\nchangetype: modify\ndelete: member\nmember: {u2}\n\n\
             dn: {to}\nchangetype: modify\nadd: member\nmember: {u2}\n\n\
             dn: {u3}\nchangetype: delete\n",
            u1 = person_dn(schema, 1),
            u2 = person_dn(schema, i2),
            u3 = person_dn(schema, gone),
            from = class_group_dn(schema, "5c"),
            to = class_group_dn(schema, "9d"),
        ))
        .unwrap();
    let (_, applied) = sync_ldap(&cfg, &store).await.unwrap().unwrap();
    assert!(applied);
    let p1 = store.require_person(&login_of(1)).unwrap();
    assert_eq!(p1.family_name, "Neumann-Schmidt");
    assert_eq!(p1.login, login_of(1), "a rename keeps the login");
    assert!(students_of(&store, "9d").contains(&login_of(i2)));
    assert!(!students_of(&store, "5c").contains(&login_of(i2)));
    let left = store.require_person(&login_of(gone)).unwrap();
    assert_eq!(
        left.status,
        Status::Disabled,
        "removed upstream: disabled, not deleted"
    );
    assert!(left.purge_at.is_some());
    assert_eq!(store.count_people(None).unwrap(), 299);
}

#[tokio::test]
async fn an_ad_like_tree_syncs_by_object_guid_and_a_mass_removal_waits() {
    let dir = tempfile::tempdir().unwrap();
    let schema = SchemaKind::AdLike;
    let slapd = Slapd::start_with(dir.path(), schema, &testing::people_ldif(40, schema))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (cfg, store, _d) = school(&slapd);
    sync_ldap(&cfg, &store).await.unwrap().unwrap();
    let p = store.require_person(&login_of(5)).unwrap();
    assert_eq!(p.external_id.as_deref(), Some(guid_of(5).as_str()));

    // most of the school vanishes upstream (a wrong filter, a broken OU): the change waits
    let mut ldif = String::new();
    for i in 0..30 {
        ldif.push_str(&format!(
            "dn: {}\nchangetype: delete\n\n",
            person_dn(schema, i)
        ));
    }
    slapd.ldapmodify(&ldif).unwrap();
    let (id, applied) = sync_ldap(&cfg, &store).await.unwrap().unwrap();
    assert!(
        !applied,
        "a sync that disables 30 of 40 must wait for approval"
    );
    assert_eq!(store.import_record(id).unwrap().unwrap().status, "pending");
    assert_eq!(store.count_people(None).unwrap(), 40);
    assert!(store.require_person(&login_of(0)).unwrap().is_active());
}
