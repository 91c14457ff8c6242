//! The diff and its application against a real store: what an admin sees in the diff is what
//! the directory gets, all at once or not at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use std::sync::Arc;

use schola_core::audit::Actor;
use schola_core::config::Argon2Config;
use schola_core::directory::{GroupKind, NewGroup, NewPerson, Role, Status};
use schola_core::imports::Source;
use schola_core::login::LoginScheme;
use schola_core::password::{PasswordPolicy, verify_password};
use schola_core::{ManualClock, Store};
use schola_dirsync::apply::{
    Outcome, Rules, apply, apply_import, diff, prepare, prepare_promotion,
};
use schola_dirsync::roster::{Rejected, Roster, SourcePerson};

const DAY: i64 = 86_400;

fn store() -> (Store, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_788_246_000);
    let (store, _) =
        Store::open_with_clock(&dir.path().join("schola.db"), Arc::new(clock.clone())).unwrap();
    (store, clock, dir)
}

fn rules() -> Rules {
    Rules {
        scheme: LoginScheme::parse("{given}.{family}").unwrap(),
        policy: PasswordPolicy { min_length: 10 },
        argon2: Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        hash_threads: 2,
        grace_days: 90,
        reuse_days: 365,
    }
}

fn student(line: u64, id: &str, given: &str, family: &str, class: &str) -> SourcePerson {
    SourcePerson {
        line: Some(line),
        external_id: id.into(),
        role: Role::Student,
        given_name: given.into(),
        family_name: family.into(),
        classes: vec![class.into()],
        login: None,
        mail: None,
        birth_date: None,
        upstream_dn: None,
    }
}

fn roster(people: Vec<SourcePerson>) -> Roster {
    let mut r = Roster::new(Source::Csv, "students.csv", "sophomorix");
    r.roles = vec![Role::Student];
    r.people = people;
    r.finish();
    r
}

fn admin() -> Actor {
    Actor::cli()
}

fn school_2025() -> Vec<SourcePerson> {
    vec![
        student(1, "100", "Anna", "Müller", "5a"),
        student(2, "101", "Anna", "Müller", "5a"),
        student(3, "102", "Jörg", "Groß", "7c"),
        student(4, "103", "Zoë", "O'Connor", "10a"),
        student(5, "104", "Ayşe", "Öztürk", "9b"),
    ]
}

#[test]
fn first_import_creates_people_classes_and_letters_with_working_passwords() {
    let (store, _clock, _dir) = store();
    let r = roster(school_2025());
    let plan = diff(&store, &r, &rules()).unwrap();
    let logins: Vec<&str> = plan.create.iter().map(|c| c.login.as_str()).collect();
    assert_eq!(
        logins,
        [
            "anna.mueller",
            "anna.mueller2",
            "joerg.gross",
            "zoe.oconnor",
            "ayse.oeztuerk"
        ]
    );
    assert_eq!(plan.new_classes, ["10a", "5a", "7c", "9b"]);
    assert!(plan.disable.is_empty() && plan.update.is_empty());
    let before = store.journal_head().unwrap();
    let applied = apply(&store, &admin(), &plan, None, &rules()).unwrap();
    assert_eq!(applied.summary.create, 5);
    assert_eq!(applied.letters.len(), 5);
    for l in &applied.letters {
        assert!(
            !l.password.contains(['0', 'O', 'o', '1', 'l', 'I']),
            "{}",
            l.password
        );
        let (p, hash) = store.credentials(&l.login).unwrap().unwrap();
        assert!(verify_password(&hash.unwrap(), &l.password), "{}", l.login);
        assert_eq!(p.status, Status::Active);
    }
    let members = store.group_members("5a").unwrap();
    assert_eq!(members.len(), 2);
    // mail and files learn about every new person from the journal
    let entries = store.journal_since(before, 1000).unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == "person.created")
            .count(),
        5
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == "group.member_added")
            .count(),
        5
    );
    // the same file again changes nothing
    let again = diff(&store, &r, &rules()).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 5);
}

#[test]
fn rename_move_leave_return_and_purge_after_the_grace_period() {
    let (store, clock, _dir) = store();
    let plan = diff(&store, &roster(school_2025()), &rules()).unwrap();
    apply(&store, &admin(), &plan, None, &rules()).unwrap();

    // next year: 100 renamed, 101 moved, 103 left, 104 moved and renamed
    let mut next = school_2025();
    next[0].family_name = "Schmidt".into();
    next[1].classes = vec!["5b".into()];
    next.remove(3);
    next[3].classes = vec!["10b".into()];
    next[3].given_name = "Ayse".into();
    let plan = diff(&store, &roster(next.clone()), &rules()).unwrap();
    assert_eq!(plan.update.len(), 2, "{:?}", plan.update);
    let rename = &plan.update[0];
    assert_eq!(rename.login, "anna.mueller");
    assert_eq!(rename.changes[0].field, "family_name");
    assert_eq!(rename.changes[0].to, "Schmidt");
    assert_eq!(plan.moves.len(), 2);
    assert_eq!(plan.moves[0].from, ["5a"]);
    assert_eq!(plan.moves[0].to, ["5b"]);
    assert_eq!(plan.disable.len(), 1);
    assert_eq!(plan.disable[0].login, "zoe.oconnor");
    assert_eq!(plan.new_classes, ["10b", "5b"]);
    apply(&store, &admin(), &plan, None, &rules()).unwrap();

    let anna = store.require_person("anna.mueller").unwrap();
    assert_eq!(anna.family_name, "Schmidt");
    assert_eq!(anna.display_name, "Anna Schmidt");
    let zoe = store.require_person("zoe.oconnor").unwrap();
    assert_eq!(
        zoe.status,
        Status::Disabled,
        "leavers are disabled, not deleted"
    );
    assert_eq!(zoe.purge_at, Some(store.now() + 90 * DAY));
    assert!(
        store
            .group_members("5b")
            .unwrap()
            .iter()
            .any(|(p, _)| p.login == "anna.mueller2")
    );
    assert!(
        !store
            .group_members("5a")
            .unwrap()
            .iter()
            .any(|(p, _)| p.login == "anna.mueller2")
    );

    // Zoë comes back a month later: re-enabled with her old account
    clock.advance(30 * DAY);
    let mut back = next.clone();
    back.push(student(9, "103", "Zoë", "O'Connor", "10a"));
    let plan = diff(&store, &roster(back), &rules()).unwrap();
    assert_eq!(plan.enable.len(), 1);
    assert!(plan.create.is_empty());
    apply(&store, &admin(), &plan, None, &rules()).unwrap();
    assert!(store.require_person("zoe.oconnor").unwrap().is_active());

    // she leaves again; 89 days later she is still there, after 90 she is purged
    let plan = diff(&store, &roster(next.clone()), &rules()).unwrap();
    apply(&store, &admin(), &plan, None, &rules()).unwrap();
    clock.advance(89 * DAY);
    assert!(
        diff(&store, &roster(next.clone()), &rules())
            .unwrap()
            .purge
            .is_empty()
    );
    clock.advance(DAY);
    let plan = diff(&store, &roster(next.clone()), &rules()).unwrap();
    assert_eq!(plan.purge.len(), 1);
    let head = store.journal_head().unwrap();
    apply(&store, &admin(), &plan, None, &rules()).unwrap();
    assert!(store.person_by_login("zoe.oconnor").unwrap().is_none());
    let purged = store.journal_since(head, 10).unwrap();
    assert!(purged.iter().any(|e| e.kind == "person.purged"));
    // the login is not given to a newcomer of the same name while it is reserved
    let mut newcomer = next;
    newcomer.push(student(10, "200", "Zoë", "O'Connor", "5a"));
    let plan = diff(&store, &roster(newcomer), &rules()).unwrap();
    assert_eq!(plan.create[0].login, "zoe.oconnor2");
}

#[test]
fn people_made_by_hand_and_other_roles_are_left_alone() {
    let (store, _clock, _dir) = store();
    let scheme = rules().scheme;
    store
        .create_person(
            &admin(),
            NewPerson {
                given_name: "Hand".into(),
                family_name: "Made".into(),
                role: Some(Role::Student),
                ..Default::default()
            },
            &scheme,
        )
        .unwrap();
    let mut teachers = Roster::new(Source::Csv, "teachers.csv", "untis-teachers");
    teachers.roles = vec![Role::Teacher];
    teachers.people = vec![SourcePerson {
        role: Role::Teacher,
        classes: vec![],
        ..student(2, "MÜL", "Jürgen", "Müller", "")
    }];
    teachers.finish();
    apply(
        &store,
        &admin(),
        &diff(&store, &teachers, &rules()).unwrap(),
        None,
        &rules(),
    )
    .unwrap();
    // a students' file disables neither the hand-made student nor the teacher
    let plan = diff(&store, &roster(school_2025()), &rules()).unwrap();
    assert!(plan.disable.is_empty(), "{:?}", plan.disable);
    apply(&store, &admin(), &plan, None, &rules()).unwrap();
    let plan = diff(&store, &roster(vec![]), &rules()).unwrap();
    assert_eq!(plan.disable.len(), 5);
    assert!(
        plan.warnings[0].message.contains("is this the right file"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn a_rejected_row_of_a_known_person_does_not_make_them_a_leaver() {
    let (store, _clock, _dir) = store();
    apply(
        &store,
        &admin(),
        &diff(&store, &roster(school_2025()), &rules()).unwrap(),
        None,
        &rules(),
    )
    .unwrap();
    let mut r = roster(school_2025()[..4].to_vec());
    r.rejected.push(Rejected {
        line: Some(5),
        at: "Ayşe".into(),
        reason: "the family name is empty".into(),
        external_id: Some("104".into()),
    });
    let plan = diff(&store, &r, &rules()).unwrap();
    assert!(plan.disable.is_empty(), "{:?}", plan.disable);
}

#[test]
fn a_failing_change_leaves_the_directory_as_it_was() {
    let (store, _clock, _dir) = store();
    // a group that is not a class, named like a class in the file
    store
        .create_group(
            &admin(),
            NewGroup {
                name: "chor".into(),
                display_name: None,
                kind: GroupKind::Custom,
                external_id: None,
            },
        )
        .unwrap();
    let mut people = school_2025();
    people[2].classes = vec!["chor".into()];
    let plan = diff(&store, &roster(people), &rules()).unwrap();
    assert_eq!(plan.rejected.len(), 1);
    assert_eq!(plan.rejected[0].line, Some(3));
    assert!(plan.rejected[0].reason.contains("chor"));
    // a plan made stale by hand (the login was taken since): nothing of it is written
    let mut plan = diff(&store, &roster(school_2025()), &rules()).unwrap();
    let head = store.journal_head().unwrap();
    plan.create[4].login = plan.create[0].login.clone();
    let err = apply(&store, &admin(), &plan, None, &rules()).unwrap_err();
    assert!(err.to_string().contains("anna.mueller"), "{err}");
    assert_eq!(store.journal_head().unwrap(), head);
    assert!(store.person_by_login("anna.mueller").unwrap().is_none());
    assert!(store.group("5a").unwrap().is_none());
}

#[test]
fn a_stored_import_is_applied_only_as_reviewed() {
    let (store, _clock, _dir) = store();
    let (id, plan) = prepare(&store, &admin(), &roster(school_2025()), &rules()).unwrap();
    assert_eq!(plan.create.len(), 5);
    // someone takes a login the diff promised before the admin approves
    store
        .create_person(
            &admin(),
            NewPerson {
                given_name: "Anna".into(),
                family_name: "Müller".into(),
                ..Default::default()
            },
            &rules().scheme,
        )
        .unwrap();
    let Outcome::Changed(new) = apply_import(&store, &admin(), id, &rules()).unwrap() else {
        panic!("a stale diff was applied");
    };
    assert_eq!(new.create[0].login, "anna.mueller2");
    assert_eq!(store.count_people(Some(Role::Student)).unwrap(), 1);
    let Outcome::Applied(done) = apply_import(&store, &admin(), id, &rules()).unwrap() else {
        panic!("the reviewed diff was not applied");
    };
    assert_eq!(done.summary.create, 5);
    assert_eq!(store.import_record(id).unwrap().unwrap().status, "applied");
    let err = apply_import(&store, &admin(), id, &rules()).unwrap_err();
    assert!(err.to_string().contains("applied"), "{err}");
}

#[test]
fn the_changeover_promotes_classes_and_the_last_grade_leaves() {
    let (store, _clock, _dir) = store();
    apply(
        &store,
        &admin(),
        &diff(&store, &roster(school_2025()), &rules()).unwrap(),
        None,
        &rules(),
    )
    .unwrap();
    let (id, plan) = prepare_promotion(&store, &admin(), 10).unwrap();
    let flows: Vec<String> = plan
        .class_flows
        .iter()
        .map(|f| format!("{}→{}:{}", f.from, f.to, f.people))
        .collect();
    assert_eq!(flows, ["5a→6a:2", "7c→8c:1", "9b→10b:1"]);
    assert_eq!(plan.disable.len(), 1);
    assert_eq!(plan.disable[0].login, "zoe.oconnor");
    // a dry run writes nothing
    assert!(store.group("6a").unwrap().is_none());
    let Outcome::Applied(_) = apply_import(&store, &admin(), id, &rules()).unwrap() else {
        panic!("not applied");
    };
    assert_eq!(store.group_members("6a").unwrap().len(), 2);
    assert!(!store.require_person("zoe.oconnor").unwrap().is_active());
}
