//! The upstream sync against a real OpenLDAP slapd (Debian packages `slapd` and `ldap-utils`),
//! started per test by `schola_dirsync::ldap::testing` on loopback with a test CA.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};

use schola_core::config::Ldap;
use schola_core::directory::Role;
use schola_core::imports::Source;
use schola_dirsync::ldap::testing::{
    self, SchemaKind, Slapd, class_group_dn, class_of, guid_of, login_of, password_of, person_dn,
    role_of,
};
use schola_dirsync::ldap::{fetch, normalize_dn, verify_password};
use schola_dirsync::roster::{Roster, SourcePerson};

fn start(dir: &tempfile::TempDir, schema: SchemaKind, n: usize) -> Slapd {
    Slapd::start_with(dir.path(), schema, &testing::people_ldif(n, schema))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

async fn fetched(slapd: &Slapd, cfg: &Ldap) -> Roster {
    fetch(cfg).await.unwrap_or_else(|e| {
        panic!(
            "fetch from {}: {e}\n(slapd log: {})",
            cfg.url,
            slapd.log_path.display()
        )
    })
}

fn by_login(r: &Roster) -> BTreeMap<String, &SourcePerson> {
    r.people
        .iter()
        .map(|p| {
            (
                p.login.clone().expect("every generated person has a login"),
                p,
            )
        })
        .collect()
}

/// Searches of the people subtree with `filter` that the log shows (one per page).
fn searches(slapd: &Slapd, filter: &str) -> usize {
    slapd
        .log()
        .lines()
        .filter(|l| {
            l.contains(" SRCH base=\"ou=people,dc=school,dc=test\"")
                && l.contains(&format!("filter=\"{filter}\""))
        })
        .count()
}

#[tokio::test]
async fn a_school_of_2000_is_read_in_pages_with_roles_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::OpenLdap, 2000);

    // The service account cannot read the tree in one search: only paging reads everyone.
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&slapd.ldap_url).await.unwrap();
    ldap3::drive!(conn);
    let password = std::fs::read_to_string(&slapd.reader_password_file).unwrap();
    ldap.simple_bind(&slapd.reader_dn, password.trim_end())
        .await
        .unwrap()
        .success()
        .unwrap();
    let unpaged = ldap
        .search(
            &slapd.people_dn,
            ldap3::Scope::Subtree,
            "(uid=*)",
            vec!["1.1"],
        )
        .await
        .unwrap();
    assert_eq!(unpaged.1.rc, 4, "sizeLimitExceeded: {:?}", unpaged.1);
    assert_eq!(unpaged.0.len(), testing::SIZE_LIMIT);
    ldap.unbind().await.unwrap();

    let cfg = slapd.config();
    assert_eq!(cfg.page_size, 500);
    let t = std::time::Instant::now();
    let r = fetched(&slapd, &cfg).await;
    eprintln!("fetched {} people in {:?}", r.people.len(), t.elapsed());
    assert_eq!(
        searches(&slapd, "(objectClass=inetOrgPerson)"),
        2000 / 500,
        "four pages of 500"
    );

    assert_eq!(r.source, Source::Ldap);
    assert_eq!(r.origin, slapd.ldaps_url);
    assert_eq!(r.profile, "ldap");
    assert_eq!(r.roles, vec![Role::Student, Role::Teacher, Role::Staff]);
    assert!(r.rejected.is_empty(), "{:#?}", r.rejected);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    assert_eq!(r.people.len(), 2000);
    let count = |role| r.people.iter().filter(|p| p.role == role).count();
    assert_eq!(
        (
            count(Role::Teacher),
            count(Role::Staff),
            count(Role::Student)
        ),
        (100, 40, 1860)
    );
    let people = by_login(&r);
    for i in 0..2000 {
        let p = people[&login_of(i)];
        assert_eq!(p.role, role_of(i), "{}", login_of(i));
        assert_eq!(
            p.classes,
            class_of(i).map(|c| vec![c.to_string()]).unwrap_or_default(),
            "{}",
            login_of(i)
        );
        assert_eq!(
            p.upstream_dn.as_deref(),
            Some(person_dn(SchemaKind::OpenLdap, i).as_str())
        );
    }
    let p = people["u00021"];
    assert_eq!(
        (p.given_name.as_str(), p.family_name.as_str()),
        ("Ben", "Müller")
    );
    assert_eq!(p.mail.as_deref(), Some("u00021@school.test"));
    // entryUUID, as slapadd made it
    assert_eq!(p.external_id.len(), 36, "{}", p.external_id);
    let ids: HashSet<&str> = r.people.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(ids.len(), 2000);
}

#[tokio::test]
async fn changes_upstream_show_on_the_next_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::OpenLdap, 60);
    let cfg = slapd.config();
    let before = fetched(&slapd, &cfg).await;
    assert_eq!(before.people.len(), 60);
    let b = by_login(&before);
    assert_eq!(b["u00001"].classes, vec!["5b".to_string()]);
    assert_eq!(b["u00002"].classes, vec!["5c".to_string()]);

    let schema = SchemaKind::OpenLdap;
    slapd
        .ldapmodify(&format!(
            "dn: {u1}\nchangetype: modify\nreplace: sn\nsn: Neumann-Schmidt\n\n\
             dn: {from}\nchangetype: modify\ndelete: member\nmember: {u2}\n\n\
             dn: {to}\nchangetype: modify\nadd: member\nmember: {u2}\n\n\
             dn: {u3}\nchangetype: delete\n",
            u1 = person_dn(schema, 1),
            u2 = person_dn(schema, 2),
            u3 = person_dn(schema, 3),
            from = class_group_dn(schema, "5c"),
            to = class_group_dn(schema, "9d"),
        ))
        .unwrap();

    let after = fetched(&slapd, &cfg).await;
    let a = by_login(&after);
    assert_eq!(after.people.len(), 59);
    assert!(!a.contains_key("u00003"), "the deleted person is missing");
    assert_eq!(a["u00001"].family_name, "Neumann-Schmidt");
    assert_eq!(
        a["u00001"].external_id, b["u00001"].external_id,
        "a rename keeps the id"
    );
    assert_eq!(a["u00002"].classes, vec!["9d".to_string()]);
    assert_eq!(a["u00002"].external_id, b["u00002"].external_id);
    // the deleted entry is still a member of its class group (no referential integrity):
    // that must not bring it back or disturb anyone
    assert!(
        after.rejected.is_empty() && after.warnings.is_empty(),
        "{after:#?}"
    );
}

#[tokio::test]
async fn upstream_passwords_are_checked_by_binding() {
    let dir = tempfile::tempdir().unwrap();
    let mut slapd = start(&dir, SchemaKind::OpenLdap, 10);
    let cfg = slapd.config();
    let dn = person_dn(SchemaKind::OpenLdap, 4);
    assert!(verify_password(&cfg, &dn, &password_of(4)).await.unwrap());
    assert!(!verify_password(&cfg, &dn, "wrong").await.unwrap());
    assert!(!verify_password(&cfg, &dn, "").await.unwrap());
    let unknown = format!("uid=nobody,{}", slapd.people_dn);
    assert!(
        !verify_password(&cfg, &unknown, &password_of(4))
            .await
            .unwrap()
    );
    // the DN as the roster carries it
    let r = fetched(&slapd, &cfg).await;
    let p = by_login(&r)["u00005"];
    assert!(
        verify_password(&cfg, p.upstream_dn.as_deref().unwrap(), &password_of(5))
            .await
            .unwrap()
    );

    // a hung server: the timeout, naming the URL
    let quick = Ldap {
        timeout_secs: 1,
        ..cfg.clone()
    };
    slapd.pause().unwrap();
    let t = std::time::Instant::now();
    let err = verify_password(&quick, &dn, &password_of(4))
        .await
        .unwrap_err();
    slapd.resume().unwrap();
    let msg = err.to_string();
    eprintln!("error as shown: {msg}");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
    assert!(
        msg.contains(&slapd.ldaps_url) && msg.contains("within 1 s"),
        "{msg}"
    );

    slapd.stop();
    let err = verify_password(&cfg, &dn, &password_of(4))
        .await
        .unwrap_err();
    let msg = err.to_string();
    eprintln!("error as shown: {msg}");
    assert!(msg.contains(&slapd.ldaps_url), "{msg}");
    assert!(msg.contains("connection refused"), "{msg}");
    let msg = fetch(&cfg).await.unwrap_err().to_string();
    eprintln!("error as shown: {msg}");
    assert!(
        msg.contains(&slapd.ldaps_url) && msg.contains("refused"),
        "{msg}"
    );
}

#[tokio::test]
async fn tls_trusts_the_configured_ca_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::OpenLdap, 30);
    let ldaps = slapd.config();
    assert_eq!(fetched(&slapd, &ldaps).await.people.len(), 30);
    assert!(
        verify_password(&ldaps, &person_dn(SchemaKind::OpenLdap, 1), &password_of(1))
            .await
            .unwrap()
    );

    // StartTLS on the ldap:// port, with the same CA
    let starttls = Ldap {
        url: slapd.ldap_url.clone(),
        starttls: true,
        ..ldaps.clone()
    };
    assert_eq!(fetched(&slapd, &starttls).await.people.len(), 30);
    assert!(
        verify_password(
            &starttls,
            &person_dn(SchemaKind::OpenLdap, 1),
            &password_of(1)
        )
        .await
        .unwrap()
    );
    assert!(slapd.log().contains("STARTTLS"), "StartTLS was used");

    // the system's roots do not know the test CA
    let system = Ldap {
        ca_file: None,
        ..ldaps.clone()
    };
    let msg = fetch(&system).await.unwrap_err().to_string();
    eprintln!("error as shown: {msg}");
    assert!(msg.contains(&slapd.ldaps_url), "{msg}");
    assert!(
        msg.contains("not trusted") && msg.contains("system"),
        "{msg}"
    );
    let msg = verify_password(
        &system,
        &person_dn(SchemaKind::OpenLdap, 1),
        &password_of(1),
    )
    .await
    .unwrap_err()
    .to_string();
    eprintln!("error as shown: {msg}");
    assert!(msg.contains("not trusted"), "{msg}");
    let msg = fetch(&Ldap {
        ca_file: None,
        ..starttls.clone()
    })
    .await
    .unwrap_err()
    .to_string();
    eprintln!("error as shown: {msg}");
    assert!(
        msg.contains("not trusted") && msg.contains(&slapd.ldap_url),
        "{msg}"
    );

    // a CA file with many certificates, none of them ours: named in the message
    let bundle = std::path::PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    if bundle.exists() {
        let msg = fetch(&Ldap {
            ca_file: Some(bundle),
            ..ldaps.clone()
        })
        .await
        .unwrap_err()
        .to_string();
        eprintln!("error as shown: {msg}");
        assert!(
            msg.contains("not trusted") && msg.contains("ca-certificates.crt"),
            "{msg}"
        );
    }

    // a CA file that is not there
    let msg = fetch(&Ldap {
        ca_file: Some(dir.path().join("missing-ca.pem")),
        ..ldaps.clone()
    })
    .await
    .unwrap_err()
    .to_string();
    eprintln!("error as shown: {msg}");
    assert!(msg.contains("missing-ca.pem"), "{msg}");

    // plain LDAP only to loopback: here it is loopback, so it works
    let plain = Ldap {
        url: slapd.ldap_url.clone(),
        starttls: false,
        ..ldaps.clone()
    };
    assert_eq!(fetched(&slapd, &plain).await.people.len(), 30);
    let msg = fetch(&Ldap {
        url: slapd.ldap_url.replace("127.0.0.1", "school-dc.invalid"),
        ..plain
    })
    .await
    .unwrap_err()
    .to_string();
    eprintln!("error as shown: {msg}");
    assert!(
        msg.contains("unencrypted") && msg.contains("school-dc.invalid"),
        "{msg}"
    );

    // a wrong service account password is the bind's fault, named with the DN
    let wrong = dir.path().join("wrong.password");
    std::fs::write(&wrong, "nope\n").unwrap();
    let msg = fetch(&Ldap {
        bind_password_file: Some(wrong),
        ..ldaps.clone()
    })
    .await
    .unwrap_err()
    .to_string();
    eprintln!("error as shown: {msg}");
    assert!(
        msg.contains(&slapd.reader_dn) && msg.contains("invalid credentials"),
        "{msg}"
    );
}

#[tokio::test]
async fn active_directory_guids_become_stable_id_strings() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::AdLike, 50);
    let cfg = slapd.config();
    assert_eq!(cfg.id_attribute, "objectGUID");
    assert_eq!(cfg.login_attribute, "sAMAccountName");
    let first = fetched(&slapd, &cfg).await;
    assert!(
        first.rejected.is_empty() && first.warnings.is_empty(),
        "{first:#?}"
    );
    assert_eq!(first.people.len(), 50);
    let people = by_login(&first);
    assert_eq!(
        people["u00000"].external_id,
        "3f2504e0-4f89-41d3-9a0c-000000000000"
    );
    for i in 0..50 {
        let p = people[&login_of(i)];
        assert_eq!(p.external_id, guid_of(i));
        assert_eq!(p.role, role_of(i));
        assert_eq!(
            p.classes,
            class_of(i).map(|c| vec![c.to_string()]).unwrap_or_default()
        );
        // slapd spells attribute types its own way (`cn=u00000,ou=People,...`): the same DN
        assert_eq!(
            p.upstream_dn.as_deref().map(normalize_dn),
            Some(normalize_dn(&person_dn(SchemaKind::AdLike, i)))
        );
    }
    let second = fetched(&slapd, &cfg).await;
    let ids = |r: &Roster| -> BTreeMap<String, String> {
        r.people
            .iter()
            .map(|p| (p.login.clone().unwrap(), p.external_id.clone()))
            .collect()
    };
    assert_eq!(ids(&first), ids(&second), "ids are stable across fetches");
    assert!(
        verify_password(&cfg, &person_dn(SchemaKind::AdLike, 7), &password_of(7))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn entries_without_an_id_or_a_surname_are_rejected_naming_the_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::AdLike, 5);
    let people = &slapd.people_dn;
    slapd
        .ldapadd(&format!(
            "dn: CN=noguid,{people}\nobjectClass: user\ncn: noguid\nsAMAccountName: noguid\n\
             givenName: Nora\nsn: Ohneid\n\n\
             dn: CN=nosn,{people}\nobjectClass: user\ncn: nosn\nsAMAccountName: nosn\n\
             objectGUID:: AAECAwQFBgcICQoLDA0ODw==\ngivenName: Nils\n\n\
             dn: CN=badlogin,{people}\nobjectClass: user\ncn: badlogin\n\
             sAMAccountName: 9 Leben\nobjectGUID:: EBESExQVFhcYGRobHB0eHw==\n\
             givenName: Kim\nsn: Katz\n"
        ))
        .unwrap();
    let r = fetched(&slapd, &slapd.config()).await;
    let reason = |cn: &str| {
        r.rejected
            .iter()
            .find(|x| normalize_dn(&x.at) == normalize_dn(&format!("CN={cn},{people}")))
            .map(|x| x.reason.clone())
            .unwrap_or_else(|| panic!("CN={cn} is not rejected: {:#?}", r.rejected))
    };
    assert!(
        reason("noguid").contains("objectGUID"),
        "{}",
        reason("noguid")
    );
    assert!(reason("nosn").contains("sn"), "{}", reason("nosn"));
    assert_eq!(r.rejected.len(), 2, "{:#?}", r.rejected);
    assert!(r.rejected.iter().all(|x| x.line.is_none()));
    // a login Schola cannot use is dropped with a warning; the person stays
    assert_eq!(r.people.len(), 6);
    let kim = r
        .people
        .iter()
        .find(|p| p.given_name == "Kim")
        .expect("Kim is kept");
    assert_eq!(kim.login, None);
    assert_eq!(kim.external_id, "13121110-1514-1716-1819-1a1b1c1d1e1f");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("=badlogin,") && w.message.contains("derives a login")),
        "{:#?}",
        r.warnings
    );
}

#[tokio::test]
async fn posix_groups_give_classes_by_member_uid() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = start(&dir, SchemaKind::OpenLdap, 5);
    slapd
        .ldapadd(&format!(
            "dn: cn=class-7z,{groups}\nobjectClass: posixGroup\ncn: class-7z\ngidNumber: 7007\n\
             memberUid: u00001\nmemberUid: U00003\n",
            groups = slapd.groups_dn
        ))
        .unwrap();
    let cfg = Ldap {
        group_filter: "objectClass=posixGroup".into(),
        group_member_attribute: "memberUid".into(),
        ..slapd.config()
    };
    let r = fetched(&slapd, &cfg).await;
    let p = by_login(&r);
    assert_eq!(p["u00001"].classes, vec!["7z".to_string()]);
    assert_eq!(p["u00003"].classes, vec!["7z".to_string()]);
    assert!(p["u00002"].classes.is_empty());
}
