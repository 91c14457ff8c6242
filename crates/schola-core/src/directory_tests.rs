//! Tests of the directory, its journal and audit trail, on a real SQLite file.

use super::*;
use crate::Clock as _;
use crate::session::SessionPolicy;
use crate::store::testing;

fn actor() -> Actor {
    Actor::person("admin", Some("10.0.0.5".into()))
}

fn person(given: &str, family: &str) -> NewPerson {
    NewPerson {
        given_name: given.into(),
        family_name: family.into(),
        ..Default::default()
    }
}

fn scheme() -> LoginScheme {
    LoginScheme::default()
}

#[test]
fn clashing_names_get_a_counter() {
    let (store, _, _d) = testing::store();
    let a = store
        .create_person(&actor(), person("Anna", "Müller"), &scheme())
        .unwrap();
    let b = store
        .create_person(&actor(), person("Anna", "Mueller"), &scheme())
        .unwrap();
    let c = store
        .create_person(&actor(), person("ANNA", "MÜLLER"), &scheme())
        .unwrap();
    assert_eq!(
        [a.login, b.login, c.login],
        ["anna.mueller", "anna.mueller2", "anna.mueller3"]
    );
    assert_eq!(b.display_name, "Anna Mueller");
    assert_eq!(b.role, Role::Student);
}

#[test]
fn purged_login_is_not_reused_within_the_period() {
    let (store, clock, _d) = testing::store();
    store
        .create_person(&actor(), person("Ben", "Schulz"), &scheme())
        .unwrap();
    store
        .create_person(&actor(), person("Admin", "One"), &scheme())
        .unwrap();
    store.disable_person(&actor(), "ben.schulz", 90).unwrap();
    store.purge_person(&actor(), "ben.schulz", 365).unwrap();
    let again = store
        .create_person(&actor(), person("Ben", "Schulz"), &scheme())
        .unwrap();
    assert_eq!(again.login, "ben.schulz2", "the old login is reserved");
    let explicit = NewPerson {
        login: Some("ben.schulz".into()),
        ..person("Ben", "Schulz")
    };
    let e = store
        .create_person(&actor(), explicit.clone(), &scheme())
        .unwrap_err();
    assert!(matches!(e, Error::Duplicate(_)), "{e}");
    clock.advance(366 * 86_400);
    assert_eq!(
        store
            .create_person(&actor(), explicit, &scheme())
            .unwrap()
            .login,
        "ben.schulz"
    );
}

#[test]
fn active_people_cannot_be_purged() {
    let (store, _, _d) = testing::store();
    store
        .create_person(&actor(), person("Cem", "Yıldız"), &scheme())
        .unwrap();
    let e = store
        .purge_person(&actor(), "cem.yildiz", 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("disable the account"), "{e}");
}

#[test]
fn bad_names_are_refused_and_nothing_is_stored() {
    let (store, _, _d) = testing::store();
    let head = store.journal_head().unwrap();
    let cases = [
        (person("", "Müller"), "the given name is empty"),
        (person("   ", "Müller"), "the given name is empty"),
        (
            person("Anna\u{7}", "Müller"),
            "the given name contains a control character (U+0007) at position 5",
        ),
        (
            person("Anna", &"x".repeat(101)),
            "the family name is 101 characters long; at most 100 are allowed",
        ),
        (
            NewPerson {
                login: Some("Anna!".into()),
                ..person("Anna", "B")
            },
            "must start with a lower-case letter",
        ),
        (
            NewPerson {
                mail: Some("not-mail".into()),
                ..person("Anna", "B")
            },
            "is not a mail address",
        ),
    ];
    for (p, msg) in cases {
        let e = store
            .create_person(&actor(), p, &scheme())
            .unwrap_err()
            .to_string();
        assert!(e.contains(msg), "{e:?} should contain {msg:?}");
    }
    assert_eq!(store.count_people(None).unwrap(), 0);
    assert_eq!(store.journal_head().unwrap(), head);
    assert!(store.audit_log(None, 10, 0).unwrap().is_empty());
}

#[test]
fn names_are_normalised_and_trimmed() {
    let (store, _, _d) = testing::store();
    // "Zoe" + combining diaeresis, with stray spaces
    let p = store
        .create_person(
            &actor(),
            person(" Zoe\u{308} ", "Lefe\u{300}vre"),
            &scheme(),
        )
        .unwrap();
    assert_eq!(p.given_name, "Zoë");
    assert_eq!(p.family_name, "Lefèvre");
    assert_eq!(p.login, "zoe.lefevre");
}

#[test]
fn duplicates_name_what_clashed() {
    let (store, _, _d) = testing::store();
    let with_id = |id: &str| NewPerson {
        external_id: Some(id.into()),
        ..person("Dana", "Roth")
    };
    store
        .create_person(&actor(), with_id("S-1"), &scheme())
        .unwrap();
    let e = store
        .create_person(&actor(), with_id("S-1"), &scheme())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "a person with the external id 'S-1' already exists");
    store
        .create_group(
            &actor(),
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
    let e = store
        .create_group(
            &actor(),
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Course,
                external_id: None,
            },
        )
        .unwrap_err()
        .to_string();
    assert_eq!(e, "the group '5a' already exists");
    let e = store
        .create_group(
            &actor(),
            NewGroup {
                name: "5 A".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("group name '5 A' is not allowed"), "{e}");
}

#[test]
fn a_batch_is_all_or_nothing() {
    let (store, _, _d) = testing::store();
    let r = store.batch(&actor(), |b| {
        b.create_person(&person("Emil", "Weiß"), &scheme())?;
        b.create_person(&person("", "Broken"), &scheme())?;
        Ok(())
    });
    assert!(r.is_err());
    assert_eq!(store.count_people(None).unwrap(), 0);
    assert_eq!(store.journal_head().unwrap(), 0);
}

#[test]
fn mail_address_follows_the_login_once_a_domain_is_set() {
    let (store, _, _d) = testing::store();
    let admin = NewPerson {
        login: Some("admin".into()),
        ..person("Ada", "Admin")
    };
    store
        .setup_school(
            &actor(),
            &School {
                name: "Schule".into(),
                mail_domain: "Schule.Example".into(),
                default_language: Some(Language::De),
            },
            admin,
            &scheme(),
        )
        .unwrap();
    let p = store
        .create_person(&actor(), person("Fritz", "Groß"), &scheme())
        .unwrap();
    assert_eq!(p.mail.as_deref(), Some("fritz.gross@schule.example"));
    assert_eq!(store.school().unwrap().default_language, Some(Language::De));
    assert_eq!(p.language, None);
    store
        .set_person_language(&actor(), p.id, Some(Language::Nl))
        .unwrap();
    assert_eq!(
        store.person(p.id).unwrap().unwrap().language,
        Some(Language::Nl)
    );
    store.set_person_language(&actor(), p.id, None).unwrap();
    assert_eq!(store.person(p.id).unwrap().unwrap().language, None);
    assert_eq!(Language::from_tag("nl-BE"), Some(Language::Nl));
    assert_eq!(Language::from_tag("FR_ch"), Some(Language::Fr));
    assert_eq!(Language::from_tag("es"), None);
    let e = store
        .setup_school(
            &actor(),
            &School {
                name: "Again".into(),
                mail_domain: "x.example".into(),
                default_language: None,
            },
            person("A", "B"),
            &scheme(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("already set up"), "{e}");
    assert_eq!(store.school().unwrap().name, "Schule");
}

#[test]
fn the_last_admin_cannot_be_disabled() {
    let (store, _, _d) = testing::store();
    let admin = NewPerson {
        login: Some("admin".into()),
        ..person("Ada", "Admin")
    };
    store
        .setup_school(
            &actor(),
            &School {
                name: "S".into(),
                mail_domain: "s.example".into(),
                default_language: None,
            },
            admin,
            &scheme(),
        )
        .unwrap();
    let e = store
        .disable_person(&actor(), "admin", 90)
        .unwrap_err()
        .to_string();
    assert!(e.contains("last active admin"), "{e}");
}

#[test]
fn every_change_is_journaled_in_order_and_followers_resume_from_their_cursor() {
    let (store, _, _d) = testing::store();
    let p = store
        .create_person(&actor(), person("Greta", "Šimić"), &scheme())
        .unwrap();
    store
        .create_group(
            &actor(),
            NewGroup {
                name: "7c".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
    assert!(
        store
            .add_member(&actor(), "7c", &p.login, MemberRole::Member)
            .unwrap()
    );
    assert!(
        !store
            .add_member(&actor(), "7c", &p.login, MemberRole::Member)
            .unwrap(),
        "second add is a no-op"
    );
    store
        .set_password_hash(
            &actor(),
            p.id,
            &crate::password::Hashed {
                phc: "$argon2id$x".into(),
                nt: "00".into(),
            },
        )
        .unwrap();

    let mut seen = Vec::new();
    let n = store.follow_journal("mail", 2, |e| {
        seen.push(e.kind.clone());
        Ok(())
    });
    assert_eq!(n.unwrap(), 4);
    assert_eq!(
        seen,
        [
            "person.created",
            "group.created",
            "group.member_added",
            "person.password_changed"
        ]
    );
    assert_eq!(
        store.journal_cursor("mail").unwrap(),
        store.journal_head().unwrap()
    );

    store.disable_person(&actor(), &p.login, 90).unwrap();
    let mut later = Vec::new();
    store
        .follow_journal("mail", 100, |e| {
            later.push((
                e.kind.clone(),
                e.data["login"].as_str().unwrap_or("").to_string(),
            ));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        later,
        [("person.disabled".to_string(), "greta.simic".to_string())]
    );
    // another consumer has its own cursor
    assert_eq!(store.follow_journal("files", 100, |_| Ok(())).unwrap(), 5);
    // a cursor never moves back
    store.advance_journal_cursor("mail", 1).unwrap();
    assert_eq!(store.journal_cursor("mail").unwrap(), 5);
}

#[test]
fn a_failing_consumer_sees_the_unfinished_batch_again() {
    let (store, _, _d) = testing::store();
    for i in 0..3 {
        store
            .create_person(&actor(), person("Kim", &format!("Lee{i}")), &scheme())
            .unwrap();
    }
    let r = store.follow_journal("samba", 10, |e| {
        if e.seq == 2 {
            Err(Error::Invalid("samba down".into()))
        } else {
            Ok(())
        }
    });
    assert!(r.is_err());
    let mut again = Vec::new();
    store
        .follow_journal("samba", 10, |e| {
            again.push(e.seq);
            Ok(())
        })
        .unwrap();
    assert_eq!(again, [1, 2, 3]);
}

#[test]
fn the_journal_is_append_only() {
    let (store, _, _d) = testing::store();
    store
        .create_person(&actor(), person("Hanna", "Vogel"), &scheme())
        .unwrap();
    let conn = store.conn().unwrap();
    let e = conn
        .execute("UPDATE journal SET kind = 'x'", [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    let e = conn
        .execute("DELETE FROM journal", [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
}

#[test]
fn audit_names_actor_address_and_target() {
    let (store, clock, _d) = testing::store();
    store
        .create_person(&actor(), person("Ida", "Kraus"), &scheme())
        .unwrap();
    clock.advance(5);
    store
        .disable_person(&Actor::cli(), "ida.kraus", 30)
        .unwrap();
    let log = store.audit_log(None, 10, 0).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[1].actor.as_str(),
            log[1].client_addr.as_deref(),
            log[1].action.as_str()
        ),
        ("admin", Some("10.0.0.5"), "person.create")
    );
    assert_eq!(log[1].target.as_deref(), Some("ida.kraus"));
    assert_eq!(log[0].action, "person.disabled");
    assert!(log[0].actor.starts_with("scholactl:"));
    assert_eq!(log[0].at, log[1].at + 5);
    assert_eq!(store.audit_log(Some("disabled"), 10, 0).unwrap().len(), 1);
}

#[test]
fn disabling_schedules_the_purge_and_enabling_clears_it() {
    let (store, clock, _d) = testing::store();
    store
        .create_person(&actor(), person("Jan", "de Vries"), &scheme())
        .unwrap();
    let p = store.disable_person(&actor(), "jan.de-vries", 90).unwrap();
    assert_eq!(p.purge_at, Some(clock.now() + 90 * 86_400));
    let p = store.enable_person(&actor(), "jan.de-vries").unwrap();
    assert_eq!((p.status, p.purge_at), (Status::Active, None));
}

#[test]
fn filters_and_pagination() {
    let (store, _, _d) = testing::store();
    store
        .create_group(
            &actor(),
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
    store
        .batch(&actor(), |b| {
            for i in 0..30 {
                let (_, l) =
                    b.create_person(&person(&format!("Kind{i:02}"), "Nowak"), &scheme())?;
                if i % 3 == 0 {
                    b.add_member("5a", &l, MemberRole::Member)?;
                }
            }
            b.create_person(
                &NewPerson {
                    role: Some(Role::Teacher),
                    ..person("Lars", "Lehrer")
                },
                &scheme(),
            )?;
            Ok(())
        })
        .unwrap();
    let (page, total) = store
        .list_people(
            &PersonFilter {
                query: Some("nowak".into()),
                ..Default::default()
            },
            10,
            20,
        )
        .unwrap();
    assert_eq!((page.len(), total), (10, 30));
    assert_eq!(page[0].login, "kind20.nowak");
    let (_, total) = store
        .list_people(
            &PersonFilter {
                group: Some("5a".into()),
                ..Default::default()
            },
            100,
            0,
        )
        .unwrap();
    assert_eq!(total, 10);
    let (t, total) = store
        .list_people(
            &PersonFilter {
                role: Some(Role::Teacher),
                ..Default::default()
            },
            100,
            0,
        )
        .unwrap();
    assert_eq!((total, t[0].login.as_str()), (1, "lars.lehrer"));
    // LIKE wildcards in the query are literal
    let (_, total) = store
        .list_people(
            &PersonFilter {
                query: Some("%".into()),
                ..Default::default()
            },
            100,
            0,
        )
        .unwrap();
    assert_eq!(total, 0);
}

#[test]
fn sessions_expire_when_idle_or_too_old_and_end_when_disabled() {
    let (store, clock, _d) = testing::store();
    let p = store
        .create_person(&actor(), person("Mia", "Koch"), &scheme())
        .unwrap();
    let policy = SessionPolicy {
        idle_secs: 600,
        max_secs: 3600,
    };
    let s = store
        .create_session(p.id, Some("10.0.0.9"), Some("Firefox"))
        .unwrap();
    clock.advance(599);
    assert!(store.session(&s.token, policy).unwrap().is_some());
    // kept alive by use, but not beyond the absolute limit
    for _ in 0..5 {
        clock.advance(590);
        assert!(store.session(&s.token, policy).unwrap().is_some());
    }
    clock.advance(590);
    assert!(
        store.session(&s.token, policy).unwrap().is_none(),
        "older than an hour"
    );
    let s2 = store.create_session(p.id, None, None).unwrap();
    clock.advance(601);
    assert!(
        store.session(&s2.token, policy).unwrap().is_none(),
        "idle too long"
    );
    let s3 = store.create_session(p.id, None, None).unwrap();
    store.disable_person(&actor(), "mia.koch", 90).unwrap();
    assert!(store.session(&s3.token, policy).unwrap().is_none());
    assert_eq!(store.count_sessions().unwrap(), 0);
}

#[test]
fn full_disk_is_reported_and_nothing_half_written() {
    let (store, _, _d) = testing::store();
    store
        .create_person(&actor(), person("Nora", "Berg"), &scheme())
        .unwrap();
    {
        // SQLite reports a full disk when the file may not grow; cap it just above its size
        let conn = store.conn().unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.query_row(&format!("PRAGMA max_page_count = {}", pages + 1), [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    }
    let big = "x".repeat(90);
    let r = store.batch(&actor(), |b| {
        for i in 0..500 {
            b.create_person(
                &NewPerson {
                    display_name: Some(format!("{big}{i}")),
                    ..person("Olaf", &format!("Fuchs{i}"))
                },
                &scheme(),
            )?;
        }
        Ok(())
    });
    let e = r.unwrap_err();
    assert!(matches!(e, Error::DiskFull { .. }), "{e}");
    assert!(
        e.to_string().contains("is full; nothing was changed"),
        "{e}"
    );
    assert_eq!(store.count_people(None).unwrap(), 1);
}

#[test]
fn read_only_database_is_reported() {
    let (store, _, _d) = testing::store();
    {
        let conn = store.conn().unwrap();
        conn.execute_batch("PRAGMA query_only = 1").unwrap();
    }
    let e = store
        .create_person(&actor(), person("Pia", "Hahn"), &scheme())
        .unwrap_err();
    assert!(
        e.to_string().contains("is read-only; nothing was changed"),
        "{e}"
    );
}

#[test]
fn several_connections_write_concurrently_without_losing_anything() {
    let (store, _, dir) = testing::store();
    let path = dir.path().join("schola.db");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                // a separate Store = separate connections, as separate daemons have
                let (s, _) = Store::open(&path).unwrap();
                for i in 0..25 {
                    s.create_person(&actor(), person("Quinn", &format!("T{t}n{i}")), &scheme())
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.count_people(None).unwrap(), 100);
    assert_eq!(store.journal_head().unwrap(), 100);
}

#[test]
fn names_sort_as_people_read_them() {
    let (store, _, _d) = testing::store();
    for (g, f) in [
        ("Zeno", "Zimmer"),
        ("Ömer", "Özdemir"),
        ("Ada", "Ohm"),
        ("Şule", "Şahin"),
        ("Sam", "Sauer"),
    ] {
        store
            .create_person(&actor(), person(g, f), &scheme())
            .unwrap();
    }
    let (people, _) = store.list_people(&PersonFilter::default(), 10, 0).unwrap();
    let order: Vec<&str> = people.iter().map(|p| p.family_name.as_str()).collect();
    // as in German phone books (DIN 5007-2): Ö sorts as Oe
    assert_eq!(order, ["Özdemir", "Ohm", "Şahin", "Sauer", "Zimmer"]);
}
