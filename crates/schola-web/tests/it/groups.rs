//! The admin UI's groups and classes: the list and a new group, members and owners, and the
//! bulk actions on a class's members (each all or nothing); students, forged forms and bad
//! input change nothing.

use schola_core::audit::Actor;
use schola_core::directory::{GroupKind, MemberRole, NewPerson, Status};

use crate::kit::*;
use crate::people::{Refused, admin, get, post, snapshot};

fn table<'a>(page: &'a str, id: &str) -> &'a str {
    let start = format!("<table id=\"{id}\"");
    page.split(start.as_str())
        .nth(1)
        .unwrap_or_else(|| panic!("no table {id}:\n{page}"))
        .split("</table>")
        .next()
        .unwrap()
}

/// Three more students in 4b (`ina.berg`, `ole.berg`, `uwe.berg`, password `Kreide-<given>-9`).
fn more_students(s: &Server) {
    let scheme = schola_core::login::LoginScheme::default();
    s.store()
        .batch(&Actor::system("test"), |b| {
            for given in ["Ina", "Ole", "Uwe"] {
                let hash =
                    schola_core::password::hash_password_for(FAST, &format!("Kreide-{given}-9"))?;
                let (_, login) = b.create_person(
                    &NewPerson {
                        given_name: given.into(),
                        family_name: "Berg".into(),
                        password_hash: Some(hash),
                        ..Default::default()
                    },
                    &scheme,
                )?;
                b.add_member("4b", &login, MemberRole::Member)?;
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn the_groups_list_shows_counts_and_makes_new_groups() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let (status, page) = get(&s, &c, "/admin/groups").await;
    assert_eq!(status, 200);
    let groups = table(&page, "groups");
    assert!(
        groups.contains("<a href=\"/admin/groups/4b\">Klasse 4b</a>")
            && groups.contains("<td>class</td><td>1</td><td>1</td>"),
        "{groups}"
    );
    for field in ["name", "display_name", "kind"] {
        assert!(page.contains(&format!("<label for=\"{field}\">")));
    }

    let (status, loc, _) = post(
        &s,
        &c,
        "/admin/groups",
        &[
            ("csrf", &csrf),
            ("name", " 5a "),
            ("display_name", "Klasse 5a"),
            ("kind", "class"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/5a?saved=created")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("<h1>Klasse 5a</h1>") && page.contains("The group was created."));
    let g = s.store().group("5a").unwrap().unwrap();
    assert_eq!(g.kind, GroupKind::Class);
    let audit = s.store().audit_log(Some("group.create"), 5, 0).unwrap();
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].target.as_deref()),
        ("admin", Some("5a"))
    );

    // refused: a duplicate, bad names, a made-up kind; each says why and keeps what was typed
    let before = snapshot(&s);
    let cases: &[(&str, &str, u16, &str)] = &[
        ("4b", "class", 409, "The group &#39;4b&#39; already exists."),
        ("", "class", 422, "is not allowed"),
        ("5 A", "class", 422, "is not allowed"),
        ("x".repeat(33).leak(), "class", 422, "is not allowed"),
        ("6c", "tribe", 422, "does not offer"),
    ];
    for (name, kind, want_status, want) in cases {
        let (status, _, page) = post(
            &s,
            &c,
            "/admin/groups",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("display_name", "Typed"),
                ("kind", kind),
            ],
        )
        .await;
        let page = page.replace("&#x27;", "&#39;");
        assert_eq!(status, *want_status, "{name}: {page}");
        assert!(
            page.contains(want) && page.contains("role=\"alert\""),
            "{name}: {page}"
        );
        assert!(page.contains("value=\"Typed\""), "{page}");
    }
    assert_eq!(snapshot(&s), before);
}

#[tokio::test]
async fn members_and_owners_are_added_and_removed() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let (_, page) = get(&s, &c, "/admin/groups/4b").await;
    assert!(table(&page, "members").contains("joerg.mueller"));
    assert!(table(&page, "owners").contains("anke.lehmann"));
    assert!(!table(&page, "members").contains("anke.lehmann"));

    let add = |login: &'static str, role: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("login", login.into()),
            ("role", role.into()),
        ]
    };
    let send = async |path: &str, form: Vec<(&str, String)>| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(&s, &c, path, &form).await
    };
    let (status, loc, _) = send("/admin/groups/4b/members", add(" Admin ", "owner")).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/4b?saved=added")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("Added."));
    assert!(table(&page, "owners").contains("/admin/people/admin"));
    let (status, loc, _) = send("/admin/groups/4b/remove", add("anke.lehmann", "owner")).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/4b?saved=removed")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(!page.contains("anke.lehmann"), "{page}");
    let audit = s
        .store()
        .audit_log(Some("group.member_removed"), 5, 0)
        .unwrap();
    assert_eq!(audit[0].actor, "admin");

    let before = snapshot(&s);
    let (status, _, page) = send("/admin/groups/4b/members", add("nobody", "member")).await;
    assert_eq!(status, 422);
    let page = page.replace("&#x27;", "&#39;");
    assert!(
        page.contains("Person &#39;nobody&#39; not found."),
        "{page}"
    );
    assert!(
        page.contains("id=\"add-login\" name=\"login\" value=\"nobody\""),
        "{page}"
    );
    let (status, _, _) = send("/admin/groups/4b/members", add("anke.lehmann", "boss")).await;
    assert_eq!(status, 422);
    let (status, _, page) = send("/admin/groups/9z/members", add("anke.lehmann", "member")).await;
    assert_eq!(status, 404, "{page}");
    assert_eq!(get(&s, &c, "/admin/groups/9z").await.0, 404);
    assert_eq!(snapshot(&s), before);
}

#[tokio::test]
async fn bulk_actions_change_the_chosen_members_all_at_once() {
    let s = Server::start("");
    more_students(&s);
    let (c, csrf) = admin(&s).await;
    let (_, page) = get(&s, &c, "/admin/groups/4b").await;
    let members = table(&page, "members");
    assert!(members.contains("<label for=\"m-ina.berg\" class=\"plain\">Ina Berg</label>"));
    assert!(page.contains("<script src=\"/static/groups.js?v="));
    assert_eq!(get(&s, &c, "/static/groups.js").await.0, 200);

    // Ina and Ole are signed in somewhere
    let ina = s.client();
    assert_eq!(
        s.sign_in(&ina, "ina.berg", "Kreide-Ina-9").await.status(),
        303
    );
    let ole = s.client();
    assert_eq!(
        s.sign_in(&ole, "ole.berg", "Kreide-Ole-9").await.status(),
        303
    );

    let bulk = "/admin/groups/4b/bulk";
    let (status, loc, _) = post(
        &s,
        &c,
        bulk,
        &[
            ("csrf", &csrf),
            ("login", "ina.berg"),
            ("login", "ole.berg"),
            ("action", "disable"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/4b?saved=disabled&n=2")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("2 accounts disabled."), "{page}");
    let store = s.store();
    let status_of = |l: &str| store.require_person(l).unwrap().status;
    assert_eq!(
        [
            status_of("ina.berg"),
            status_of("ole.berg"),
            status_of("uwe.berg")
        ],
        [Status::Disabled, Status::Disabled, Status::Active]
    );
    assert_eq!(
        location(&ina.get(s.url("/")).send().await.unwrap()),
        "/login"
    );

    // "all" without JavaScript: every member, whatever boxes were ticked
    let (status, loc, _) = post(
        &s,
        &c,
        bulk,
        &[("csrf", &csrf), ("all", "1"), ("action", "enable")],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/4b?saved=enabled&n=2")
    );
    assert_eq!(status_of("ina.berg"), Status::Active);

    // new passwords for two: a printable list, shown once; old passwords and sessions end
    let (status, _, page) = post(
        &s,
        &c,
        bulk,
        &[
            ("csrf", &csrf),
            ("login", "ole.berg"),
            ("login", "uwe.berg"),
            ("action", "reset"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("New passwords: Klasse 4b") && page.contains("shown only this once"));
    let rows: Vec<(String, String)> = table(&page, "passwords")
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").collect();
            let login = cells[1].split('<').next().unwrap().to_string();
            let pw = cells[2]
                .split("\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap();
            (login, pw.to_string())
        })
        .collect();
    assert_eq!(
        rows.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        ["ole.berg", "uwe.berg"]
    );
    for (login, pw) in &rows {
        let who = s.client();
        assert_eq!(s.sign_in(&who, login, pw).await.status(), 303, "{login}");
    }
    assert_eq!(
        s.sign_in(&s.client(), "ina.berg", "Kreide-Ina-9")
            .await
            .status(),
        303
    );
    assert_eq!(
        s.sign_in(&s.client(), "uwe.berg", "Kreide-Uwe-9")
            .await
            .status(),
        401
    );
    assert_eq!(
        location(&ole.get(s.url("/")).send().await.unwrap()),
        "/login"
    );
    let audit = store.audit_log(Some("person.password"), 10, 0).unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e.actor == "admin"));

    // removing from the class
    let (status, loc, _) = post(
        &s,
        &c,
        bulk,
        &[("csrf", &csrf), ("login", "uwe.berg"), ("action", "remove")],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/groups/4b?saved=removed-many&n=1")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("1 person removed from the group."), "{page}");
    assert!(!table(&page, "members").contains("uwe.berg"));
}

#[tokio::test]
async fn a_refused_bulk_action_changes_nobody() {
    let s = Server::start("");
    more_students(&s);
    let (c, csrf) = admin(&s).await;
    // the admin is a member of 4b too, and the school's only admin
    s.store()
        .add_member(&Actor::system("test"), "4b", "admin", MemberRole::Member)
        .unwrap();
    let before = snapshot(&s);
    let bulk = "/admin/groups/4b/bulk";
    let cases: &[Refused] = &[
        (
            &[
                ("login", "ina.berg"),
                ("login", "admin"),
                ("action", "disable"),
            ],
            422,
            "last active admin",
        ),
        (
            &[
                ("login", "ina.berg"),
                ("login", "anke.lehmann"),
                ("action", "disable"),
            ],
            422,
            "is not a member of the group",
        ),
        (
            &[
                ("login", "ina.berg"),
                ("login", "anke.lehmann"),
                ("action", "reset"),
            ],
            422,
            "is not a member of the group",
        ),
        (
            &[
                ("login", "ina.berg"),
                ("login", "nobody"),
                ("action", "remove"),
            ],
            422,
            "not found",
        ),
        (&[("action", "disable")], 422, "Choose at least one member"),
        (
            &[("login", "ina.berg"), ("action", "purge")],
            422,
            "does not offer",
        ),
        (
            &[("login", "ina.berg")],
            422,
            "Choose what to do with the chosen members.",
        ),
    ];
    for (fields, want_status, want) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let (status, _, page) = post(&s, &c, bulk, &form).await;
        assert_eq!(status, *want_status, "{fields:?}: {page}");
        assert!(
            page.contains(want) && page.contains("role=\"alert\""),
            "{fields:?}: {page}"
        );
    }
    let mut form = vec![("csrf", csrf.as_str()), ("all", "1"), ("action", "disable")];
    assert_eq!(
        post(&s, &c, bulk, &form).await.0,
        422,
        "all includes the admin"
    );
    form[0].1 = "forged";
    assert_eq!(post(&s, &c, bulk, &form).await.0, 403);
    assert_eq!(
        post(
            &s,
            &c,
            "/admin/groups/9z/bulk",
            &[
                ("csrf", &csrf),
                ("login", "ina.berg"),
                ("action", "disable")
            ]
        )
        .await
        .0,
        404
    );
    assert_eq!(snapshot(&s), before, "nobody was changed");
}

#[tokio::test]
async fn students_and_forged_forms_cannot_touch_groups() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let student = s.client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let student_csrf = s.csrf(&student, "/profile").await;
    let before = snapshot(&s);
    for path in ["/admin/groups", "/admin/groups/4b", "/static/groups.js"] {
        let (status, _) = get(&s, &student, path).await;
        let want = if path.starts_with("/static") {
            200
        } else {
            403
        };
        assert_eq!(status, want, "{path}");
    }
    let posts: &[(&str, &[(&str, &str)])] = &[
        ("/admin/groups", &[("name", "hack"), ("kind", "custom")]),
        (
            "/admin/groups/4b/members",
            &[("login", "joerg.mueller"), ("role", "owner")],
        ),
        (
            "/admin/groups/4b/remove",
            &[("login", "anke.lehmann"), ("role", "owner")],
        ),
        (
            "/admin/groups/4b/bulk",
            &[("all", "1"), ("action", "reset")],
        ),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", student_csrf.as_str())];
        form.extend_from_slice(fields);
        assert_eq!(
            post(&s, &student, path, &form).await.0,
            403,
            "student: {path}"
        );
        for token in ["", "forged"] {
            let mut form = vec![("csrf", token)];
            form.extend_from_slice(fields);
            let (status, _, page) = post(&s, &c, path, &form).await;
            assert_eq!(status, 403, "admin with {token:?}: {path}");
            assert!(page.contains("The form had expired"));
        }
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = c
            .post(s.url(path))
            .header("origin", "https://evil.example")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "another origin: {path}");
    }
    assert_eq!(snapshot(&s), before);
}
