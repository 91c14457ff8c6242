//! The admin UI's people pages: the list (filters, search script, 5,000 people in pages),
//! creating a person with an initial password shown once, editing, classes, disable/enable and
//! password reset; and that students, forged forms and bad input change nothing.

use schola_core::audit::Actor;
use schola_core::directory::{MemberRole, NewPerson, Person, PersonFilter, Role, Status};

use crate::kit::*;

/// A refused form: its fields (besides the token), the status and what the page says.
pub type Refused<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
type Form = Vec<(&'static str, String)>;

/// A client signed in as the admin, and the session's CSRF token.
pub async fn admin(s: &Server) -> (reqwest::Client, String) {
    let c = s.client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let csrf = s.csrf(&c, "/admin").await;
    (c, csrf)
}

/// Posts a form and returns the status, the `Location` and the body.
pub async fn post(
    s: &Server,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let r = c.post(s.url(path)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let loc = location(&r);
    (status, loc, r.text().await.unwrap())
}

pub async fn get(s: &Server, c: &reqwest::Client, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The password a result page shows (`<code class="secret" id="new-password">`).
pub fn shown_password(body: &str) -> String {
    let start = body
        .find("id=\"new-password\">")
        .unwrap_or_else(|| panic!("no password on the page:\n{body}"))
        + "id=\"new-password\">".len();
    body[start..].split('<').next().unwrap().to_string()
}

/// Everything that a refused request must leave alone.
pub fn snapshot(s: &Server) -> (Vec<Person>, i64, usize) {
    let store = s.store();
    let (people, _) = store
        .list_people(&PersonFilter::default(), 10_000, 0)
        .unwrap();
    (
        people,
        store.journal_head().unwrap(),
        store.list_groups(None).unwrap().len(),
    )
}

fn logins_in_table(body: &str) -> Vec<String> {
    let table = body.split("<table id=\"people\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    table
        .split("<a href=\"/admin/people/")
        .skip(1)
        .map(|part| part.split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_list_filters_by_class_and_status_and_searches_as_you_type() {
    let s = Server::start("");
    let store = s.store();
    let scheme = schola_core::login::LoginScheme::default();
    let actor = Actor::system("test");
    for (g, f) in [("Mia", "Wolf"), ("Tom", "Wolf")] {
        let p = store
            .create_person(
                &actor,
                NewPerson {
                    given_name: g.into(),
                    family_name: f.into(),
                    ..Default::default()
                },
                &scheme,
            )
            .unwrap();
        store
            .add_member(&actor, "4b", &p.login, MemberRole::Member)
            .unwrap();
    }
    store.disable_person(&actor, "tom.wolf", 90).unwrap();
    let (c, _) = admin(&s).await;

    let (_, page) = get(&s, &c, "/admin?class=4b").await;
    let mut in_class = logins_in_table(&page);
    in_class.sort();
    assert_eq!(
        in_class,
        ["anke.lehmann", "joerg.mueller", "mia.wolf", "tom.wolf"],
        "members and owners of 4b"
    );
    assert!(page.contains("4 people match"), "{page}");
    assert!(
        page.contains("<option value=\"4b\" selected>Klasse 4b (4b)</option>"),
        "the chosen class stays chosen: {page}"
    );
    let (_, page) = get(&s, &c, "/admin?class=4b&status=disabled").await;
    assert_eq!(logins_in_table(&page), ["tom.wolf"]);
    let (_, page) = get(&s, &c, "/admin?class=4b&status=active&role=student&q=wol").await;
    assert_eq!(logins_in_table(&page), ["mia.wolf"]);
    let (_, page) = get(&s, &c, "/admin?q=nobody-is-called-this").await;
    assert!(page.contains("0 people match") && logins_in_table(&page).is_empty());

    // a filtered list pages with its filters
    let (_, page) = get(&s, &c, "/admin?status=active&class=4b&page=abc").await;
    assert!(page.contains("Page 1 of 1"), "a bad page number is page 1");

    // search as you type is a small script on top of an ordinary GET form
    assert!(page.contains("<form method=\"get\" action=\"/admin\""));
    assert!(page.contains("<script src=\"/static/people.js?v="));
    let r = c.get(s.url("/static/people.js")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = r.text().await.unwrap();
    assert!(js.contains("people-results") && js.contains("setTimeout"));
}

/// 5,000 people through the list 50 at a time: every person on exactly one page, the count
/// right, and the next links lead through all the pages (with a filter, too).
#[tokio::test]
async fn five_thousand_people_page_through_the_list() {
    let s = Server::start("");
    let scheme = schola_core::login::LoginScheme::default();
    s.store()
        .batch(&Actor::system("test"), |b| {
            for i in 0..5000 {
                let (_, login) = b.create_person(
                    &NewPerson {
                        given_name: format!("Kind{i:04}"),
                        family_name: ["Özdemir", "Ziegler", "Adam", "Çelik"][i % 4].into(),
                        ..Default::default()
                    },
                    &scheme,
                )?;
                if i % 10 == 0 {
                    b.add_member("4b", &login, MemberRole::Member)?;
                }
            }
            Ok(())
        })
        .unwrap();
    let (c, _) = admin(&s).await;

    let walk = async |start: &str| {
        let mut seen = std::collections::BTreeMap::new();
        let mut pages = 0;
        let mut next = Some(start.to_string());
        while let Some(url) = next {
            let (status, page) = get(&s, &c, &url).await;
            assert_eq!(status, 200, "{url}");
            pages += 1;
            let logins = logins_in_table(&page);
            assert!(logins.len() <= 50);
            for l in logins {
                if let Some(first) = seen.insert(l.clone(), url.clone()) {
                    panic!("{l} on {first} and {url}:\n{page}");
                }
            }
            next = page
                .split("\" rel=\"next\"")
                .next()
                .filter(|before| before.len() < page.len())
                .map(|before| {
                    before
                        .rsplit("href=\"")
                        .next()
                        .unwrap()
                        .replace("&amp;", "&")
                        .replace("&#38;", "&")
                });
            if next.is_none() {
                assert!(page.contains(&format!("Page {pages} of {pages}")), "{page}");
            }
        }
        (seen.len(), pages)
    };
    let (_, first) = get(&s, &c, "/admin").await;
    assert!(first.contains("5,003 people match"), "{first}");
    assert_eq!(walk("/admin").await, (5003, 101));
    // 500 new members of 4b, Jörg and Anke
    assert_eq!(walk("/admin?class=4b").await, (502, 11));
    // the last page when asked for one past it
    let (_, past) = get(&s, &c, "/admin?page=500").await;
    assert!(past.contains("Page 101 of 101"), "{past}");
    assert_eq!(logins_in_table(&past).len(), 3);
}

#[tokio::test]
async fn an_admin_creates_a_person_in_a_class_and_sees_the_password_once() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let (status, form) = get(&s, &c, "/admin/people/new?class=4b").await;
    assert_eq!(status, 200);
    for field in [
        "given_name",
        "family_name",
        "role",
        "class",
        "login",
        "mail",
    ] {
        assert!(
            form.contains(&format!("<label for=\"{field}\">")),
            "{field} has a label"
        );
    }
    assert!(form.contains("<option value=\"4b\" selected>"), "{form}");

    let (status, _, page) = post(
        &s,
        &c,
        "/admin/people/new",
        &[
            ("csrf", &csrf),
            ("given_name", " Lena "),
            ("family_name", "Schmidt"),
            ("role", "student"),
            ("class", "4b"),
            ("login", ""),
            ("mail", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Person created") && page.contains("lena.schmidt"));
    assert!(page.contains("shown only this once"));
    let password = shown_password(&page);
    assert!(password.len() >= 14, "{password}");
    let store = s.store();
    let lena = store.require_person("lena.schmidt").unwrap();
    assert_eq!(lena.display_name, "Lena Schmidt");
    assert_eq!(
        lena.mail.as_deref(),
        Some("lena.schmidt@see.schule.example")
    );
    let members = store.group_members("4b").unwrap();
    assert!(
        members
            .iter()
            .any(|(p, r)| p.login == "lena.schmidt" && *r == MemberRole::Member)
    );
    let audit = store.audit_log(Some("person.create"), 10, 0).unwrap();
    assert_eq!(audit[0].actor, "admin");
    assert_eq!(audit[0].target.as_deref(), Some("lena.schmidt"));
    assert_eq!(audit[0].client_addr.as_deref(), Some("127.0.0.1"));

    // the password is nowhere to be seen again
    let (_, again) = get(&s, &c, "/admin/people/lena.schmidt").await;
    assert!(!again.contains(&password));
    // and it works
    let lena_c = s.client();
    assert_eq!(
        s.sign_in(&lena_c, "lena.schmidt", &password).await.status(),
        303
    );

    // an explicit login, mail address and role, without a class
    let (status, _, page) = post(
        &s,
        &c,
        "/admin/people/new",
        &[
            ("csrf", &csrf),
            ("given_name", "Lena"),
            ("family_name", "Schmidt"),
            ("role", "teacher"),
            ("class", ""),
            ("login", "schmidt"),
            ("mail", "L.Schmidt@Example.org"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let t = store.require_person("schmidt").unwrap();
    assert_eq!(t.role, Role::Teacher);
    assert_eq!(t.mail.as_deref(), Some("l.schmidt@example.org"));
    assert!(store.groups_of(t.id).unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_for_a_new_person_changes_nothing() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let before = snapshot(&s);
    let cases: &[Refused] = &[
        (
            &[("given_name", "  "), ("family_name", "Schmidt")],
            422,
            "The given name is empty.",
        ),
        (
            &[("given_name", "Lena"), ("family_name", "")],
            422,
            "The family name is empty.",
        ),
        (
            &[
                ("given_name", "Lena"),
                ("family_name", "Schmidt"),
                ("class", "9z"),
            ],
            422,
            "Group &#39;9z&#39; not found.",
        ),
        (
            &[
                ("given_name", "Jörg"),
                ("family_name", "Müller"),
                ("login", "joerg.mueller"),
            ],
            409,
            "The login &#39;joerg.mueller&#39; already exists.",
        ),
        (
            &[
                ("given_name", "Lena"),
                ("family_name", "Schmidt"),
                ("login", "Lena S"),
            ],
            422,
            "Lena S",
        ),
        (
            &[
                ("given_name", "Lena"),
                ("family_name", "Schmidt"),
                ("mail", "lena@"),
            ],
            422,
            "is not a mail address",
        ),
        (
            &[
                ("given_name", "Lena"),
                ("family_name", "Schmidt"),
                ("role", "wizard"),
            ],
            422,
            "The form sent a choice it does not offer.",
        ),
    ];
    for (fields, want_status, want_text) in cases {
        let mut form = vec![("csrf", csrf.as_str()), ("role", "student")];
        form.retain(|(k, _)| !fields.iter().any(|(f, _)| f == k));
        form.extend_from_slice(fields);
        let (status, _, page) = post(&s, &c, "/admin/people/new", &form).await;
        let page = page.replace("&#x27;", "&#39;");
        assert_eq!(status, *want_status, "{fields:?}: {page}");
        assert!(
            page.contains(want_text) && page.contains("role=\"alert\""),
            "{fields:?}: {page}"
        );
        // what was typed is still in the form
        let given = fields.iter().find(|(k, _)| *k == "given_name").unwrap().1;
        assert!(
            page.contains(&format!("name=\"given_name\" value=\"{given}\"")),
            "{page}"
        );
    }
    assert_eq!(snapshot(&s), before, "nothing was stored");
}

#[tokio::test]
async fn forged_forms_are_refused_and_change_nothing() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let before = snapshot(&s);
    let posts: &[(&str, &[(&str, &str)])] = &[
        (
            "/admin/people/new",
            &[
                ("given_name", "Eve"),
                ("family_name", "Forger"),
                ("role", "admin"),
            ],
        ),
        (
            "/admin/people/joerg.mueller",
            &[
                ("given_name", "Jörg"),
                ("family_name", "Müller"),
                ("role", "admin"),
            ],
        ),
        (
            "/admin/people/joerg.mueller/status",
            &[("action", "disable")],
        ),
        ("/admin/people/joerg.mueller/password", &[]),
        (
            "/admin/people/joerg.mueller/groups",
            &[("op", "remove"), ("group", "4b"), ("role", "member")],
        ),
    ];
    for (path, fields) in posts {
        for token in ["", "forged-token"] {
            let mut form = vec![("csrf", token)];
            form.extend_from_slice(fields);
            let (status, _, page) = post(&s, &c, path, &form).await;
            assert_eq!(status, 403, "{path} with {token:?}");
            assert!(page.contains("The form had expired"), "{page}");
        }
        // the right token from another site's page
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = c
            .post(s.url(path))
            .header("origin", "https://evil.example")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path} from another origin");
    }
    assert_eq!(snapshot(&s), before);
    // the admin's session still works
    assert_eq!(get(&s, &c, "/admin").await.0, 200);
}

#[tokio::test]
async fn students_get_403_on_every_people_page_and_action() {
    let s = Server::start("");
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let csrf = s.csrf(&c, "/profile").await;
    let before = snapshot(&s);
    for path in [
        "/admin",
        "/admin?class=4b",
        "/admin/people/new",
        "/admin/people/joerg.mueller",
        "/admin/people/admin",
    ] {
        let (status, page) = get(&s, &c, path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("This page is for the school"), "{page}");
    }
    let posts: &[(&str, &[(&str, &str)])] = &[
        (
            "/admin/people/new",
            &[
                ("given_name", "Jörg"),
                ("family_name", "Admin"),
                ("role", "admin"),
            ],
        ),
        (
            "/admin/people/joerg.mueller",
            &[
                ("given_name", "Jörg"),
                ("family_name", "Müller"),
                ("role", "admin"),
            ],
        ),
        ("/admin/people/admin/status", &[("action", "disable")]),
        ("/admin/people/admin/password", &[]),
        (
            "/admin/people/joerg.mueller/groups",
            &[("op", "add"), ("group", "4b"), ("role", "owner")],
        ),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let (status, _, _) = post(&s, &c, path, &form).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(snapshot(&s), before);
    // signed out: the sign-in page
    let anon = s.client();
    for path in ["/admin/people/new", "/admin/people/joerg.mueller"] {
        let r = anon.get(s.url(path)).send().await.unwrap();
        assert_eq!(location(&r), "/login", "{path}");
    }
}

#[tokio::test]
async fn the_person_page_edits_details_and_classes() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let (status, page) = get(&s, &c, "/admin/people/joerg.mueller").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Jörg Müller</h1>") && page.contains("Klasse 4b"));
    assert!(page.contains("value=\"joerg.mueller@see.schule.example\""));

    let edit = |display: &'static str, mail: &'static str, quota: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("given_name", "Jörg".to_string()),
            ("family_name", "Müller-Lüdenscheidt".to_string()),
            ("display_name", display.to_string()),
            ("role", "student".to_string()),
            ("mail", mail.to_string()),
            ("quota_mb", quota.to_string()),
        ]
    };
    let form = edit("", "jm@see.schule.example", "500");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, loc, _) = post(&s, &c, "/admin/people/joerg.mueller", &form).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/people/joerg.mueller?saved=edit")
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("Saved."), "{page}");
    assert!(page.contains("<h1>Jörg Müller-Lüdenscheidt</h1>"));
    let p = s.store().require_person("joerg.mueller").unwrap();
    assert_eq!(
        (p.mail.as_deref(), p.quota_mb),
        (Some("jm@see.schule.example"), Some(500))
    );
    let audit = s.store().audit_log(Some("person.update"), 5, 0).unwrap();
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].target.as_deref()),
        ("admin", Some("joerg.mueller"))
    );

    // refused edits: a message, the typed values kept, the person unchanged
    let before = snapshot(&s);
    let anke_mail = "anke.lehmann@see.schule.example";
    let bad: Vec<(Form, u16, &str)> = vec![
        (
            {
                let mut f = edit("", "jm@see.schule.example", "500");
                f[2].1 = " ".into();
                f
            },
            422,
            "The family name is empty.",
        ),
        (edit("", anke_mail, ""), 409, "already exists"),
        (
            edit("", "jm@see.schule.example", "-5"),
            422,
            "whole number of megabytes",
        ),
        (
            edit("", "jm@see.schule.example", "viel"),
            422,
            "whole number of megabytes",
        ),
        (
            {
                let mut f = edit("Typed Name", "x", "");
                f[4].1 = "overlord".into();
                f
            },
            422,
            "does not offer",
        ),
    ];
    for (form, want_status, want) in &bad {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = post(&s, &c, "/admin/people/joerg.mueller", &form).await;
        assert_eq!(status, *want_status, "{form:?}: {page}");
        assert!(page.contains(want), "{want}: {page}");
        let mail = form.iter().find(|(k, _)| *k == "mail").unwrap().1;
        assert!(
            page.contains(&format!("name=\"mail\" type=\"email\" value=\"{mail}\"")),
            "the typed mail is kept: {page}"
        );
    }
    assert_eq!(snapshot(&s), before);
    // an unknown person
    assert_eq!(get(&s, &c, "/admin/people/nobody").await.0, 404);
    let form = edit("", "", "");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&s, &c, "/admin/people/nobody", &form).await.0, 404);

    // classes and groups: add as owner, remove, refuse an unknown group
    let store = s.store();
    store
        .create_group(
            &Actor::system("test"),
            schola_core::directory::NewGroup {
                name: "chor".into(),
                display_name: Some("Schulchor".into()),
                kind: schola_core::directory::GroupKind::Custom,
                external_id: None,
            },
        )
        .unwrap();
    let path = "/admin/people/joerg.mueller/groups";
    let (status, loc, _) = post(
        &s,
        &c,
        path,
        &[
            ("csrf", &csrf),
            ("op", "add"),
            ("group", "chor"),
            ("role", "owner"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/people/joerg.mueller?saved=group-added")
    );
    let (_, page) = get(&s, &c, &loc).await;
    let table = page.split("<table id=\"memberships\">").nth(1).unwrap();
    let row = table
        .split("<tr>")
        .find(|r| r.contains("Schulchor"))
        .unwrap_or_else(|| panic!("{page}"));
    assert!(row.contains("owner (leads the group)"), "{row}");
    let (status, _, _) = post(
        &s,
        &c,
        path,
        &[
            ("csrf", &csrf),
            ("op", "remove"),
            ("group", "4b"),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let groups: Vec<String> = store
        .groups_of(p.id)
        .unwrap()
        .into_iter()
        .map(|(g, _)| g.name)
        .collect();
    assert_eq!(groups, ["chor"]);
    let before = snapshot(&s);
    let (status, _, page) = post(
        &s,
        &c,
        path,
        &[
            ("csrf", &csrf),
            ("op", "add"),
            ("group", "nope"),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.replace("&#x27;", "&#39;")
            .contains("Group &#39;nope&#39; not found.")
    );
    let (status, _, _) = post(
        &s,
        &c,
        path,
        &[
            ("csrf", &csrf),
            ("op", "steal"),
            ("group", "chor"),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(snapshot(&s), before);
}

#[tokio::test]
async fn disabling_signs_out_and_waits_the_grace_period_enabling_lets_back_in() {
    let s = Server::start("[directory]\npurge_grace_days = 30\n");
    let (c, csrf) = admin(&s).await;
    let student = s.client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let page = s.page(&c, "/admin/people/joerg.mueller").await;
    assert!(page.contains("after 30 days"), "{page}");

    let path = "/admin/people/joerg.mueller/status";
    let (status, loc, _) = post(&s, &c, path, &[("csrf", &csrf), ("action", "disable")]).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/people/joerg.mueller?saved=disabled")
    );
    let p = s.store().require_person("joerg.mueller").unwrap();
    assert_eq!(p.status, Status::Disabled);
    let in_30_days = s.store().now() + 30 * 86_400;
    assert!(
        (in_30_days - 60..=in_30_days).contains(&p.purge_at.unwrap()),
        "{:?}",
        p.purge_at
    );
    let (_, page) = get(&s, &c, &loc).await;
    assert!(page.contains("The account is disabled.") && page.contains("Deleted for good on"));
    assert_eq!(
        location(&student.get(s.url("/")).send().await.unwrap()),
        "/login",
        "the student's session ended"
    );
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        401
    );
    let audit = s.store().audit_log(Some("person.disabled"), 5, 0).unwrap();
    assert_eq!(audit[0].actor, "admin");

    let (status, loc, _) = post(&s, &c, path, &[("csrf", &csrf), ("action", "enable")]).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/people/joerg.mueller?saved=enabled")
    );
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );

    // the last admin cannot be disabled, and a made-up action is refused
    let before = snapshot(&s);
    let (status, _, page) = post(
        &s,
        &c,
        "/admin/people/admin/status",
        &[("csrf", &csrf), ("action", "disable")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("last active admin"), "{page}");
    let (status, _, _) = post(&s, &c, path, &[("csrf", &csrf), ("action", "purge")]).await;
    assert_eq!(status, 422);
    assert_eq!(
        post(
            &s,
            &c,
            "/admin/people/nobody/status",
            &[("csrf", &csrf), ("action", "disable")]
        )
        .await
        .0,
        404
    );
    assert_eq!(snapshot(&s), before);
    assert_eq!(get(&s, &c, "/admin").await.0, 200, "the admin is still in");
}

#[tokio::test]
async fn a_password_reset_shows_the_new_one_once_and_ends_the_sessions() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let student = s.client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let (status, _, page) = post(
        &s,
        &c,
        "/admin/people/joerg.mueller/password",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("New password") && page.contains("signed out everywhere"));
    let password = shown_password(&page);
    assert!(
        !password.contains(['0', 'O', 'o', '1', 'l', 'I']),
        "{password}"
    );
    assert_eq!(
        location(&student.get(s.url("/")).send().await.unwrap()),
        "/login"
    );
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        401
    );
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", &password)
            .await
            .status(),
        303
    );
    let audit = s.store().audit_log(Some("person.password"), 5, 0).unwrap();
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].target.as_deref()),
        ("admin", Some("joerg.mueller"))
    );
    assert_eq!(
        post(&s, &c, "/admin/people/nobody/password", &[("csrf", &csrf)])
            .await
            .0,
        404
    );

    // an admin resetting their own password stays signed in here
    let (status, _, page) = post(&s, &c, "/admin/people/admin/password", &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    let mine = shown_password(&page);
    assert_eq!(get(&s, &c, "/admin").await.0, 200);
    let other = s.client();
    assert_eq!(s.sign_in(&other, "admin", &mine).await.status(), 303);
}
