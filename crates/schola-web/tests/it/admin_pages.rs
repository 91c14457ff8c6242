//! The admin's audit log, services and notices pages, used as an admin would use them.

use schola_core::audit::Actor;
use schola_core::directory::Role;

use crate::kit::*;

/// Signs in `login` on a new client and returns it.
async fn signed_in(s: &Server, login: &str, pw: &str) -> reqwest::Client {
    let c = s.client();
    assert_eq!(s.sign_in(&c, login, pw).await.status(), 303, "{login}");
    c
}

/// Sends the notice form as it is on the page (with the page's token) plus `fields`.
async fn post_notice(
    s: &Server,
    c: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = s.csrf(c, "/admin/notices").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    c.post(s.url("/admin/notices"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Today and yesterday as `YYYY-MM-DD` (UTC, as the server counts days).
fn days() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let ymd = |t: time::OffsetDateTime| {
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    };
    (ymd(now), ymd(now - time::Duration::days(1)))
}

/// The text of HTML with the escapes askama writes turned back into characters.
fn unescape(html: &str) -> String {
    [
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html.to_string(), |s, (from, to)| s.replace(from, to))
}

/// `raw` is on the page, but only escaped.
fn shown_escaped(html: &str, raw: &str) -> bool {
    !html.contains(raw) && unescape(html).contains(raw)
}

fn rows_of(page: &str, table: &str) -> String {
    let start = page.find(&format!("<table id=\"{table}\"")).unwrap();
    let end = start + page[start..].find("</table>").unwrap();
    page[start..end].to_string()
}

#[tokio::test]
async fn audit_log_finds_what_was_done_through_the_ui_and_escapes_hostile_values() {
    let s = Server::start("");
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let r = post_notice(
        &s,
        &c,
        &[
            ("title", "<script>alert(1)</script> Wandertag"),
            ("body", "Treffpunkt 8:00"),
            ("audience", "all"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    s.store()
        .record_event(
            &Actor::system("<img src=x onerror=alert(2)>"),
            "test.hostile",
            Some("\"quoted\" & <b>bold</b>"),
            serde_json::json!({"note": "<i>x</i>", "n": 7, "gone": null}),
        )
        .unwrap();

    let page = s.page(&c, "/admin/audit?q=WANDERTAG").await;
    let rows = rows_of(&page, "audit");
    assert!(page.contains("1 entry matches"), "{page}");
    assert!(rows.contains("notice.added"), "{rows}");
    assert!(
        rows.contains("from 127.0.0.1"),
        "the address is shown: {rows}"
    );
    assert!(
        rows.contains("<dt>id</dt>"),
        "the detail as key and value: {rows}"
    );
    assert!(
        !rows.contains("test.hostile"),
        "the filter left the rest out"
    );
    assert!(!page.contains("<script>alert(1)</script>"), "{page}");
    assert!(
        shown_escaped(&rows, "<script>alert(1)</script> Wandertag"),
        "{rows}"
    );

    // the hostile entry, found by its action, is escaped everywhere
    let page = s.page(&c, "/admin/audit?action=test.hostile").await;
    let rows = rows_of(&page, "audit");
    assert!(page.contains("1 entry matches"), "{page}");
    for raw in [
        "<img src=x onerror=alert(2)>",
        "\"quoted\" & <b>bold</b>",
        "<i>x</i>",
    ] {
        assert!(!page.contains(raw), "{raw} unescaped: {rows}");
        assert!(shown_escaped(&rows, raw), "{raw} not shown: {rows}");
    }
    assert!(rows.contains("<dd>—</dd>"), "null as a dash: {rows}");
    assert!(
        page.contains("<option value=\"test.hostile\" selected>"),
        "the action menu keeps the choice: {page}"
    );

    // newest first, and the days in the reader's language
    let page = c
        .get(s.url("/admin/audit"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = rows_of(&page, "audit");
    let (hostile, added) = (
        rows.find("test.hostile").unwrap(),
        rows.find("notice.added").unwrap(),
    );
    assert!(hostile < added, "newest first: {rows}");
    let (today, yesterday) = days();
    let german_today = format!("{}.{}.{}", &today[8..10], &today[5..7], &today[..4]);
    assert!(rows.contains(&german_today), "{german_today} in {rows}");

    // a range of days: today finds both, up to yesterday finds nothing
    let page = s
        .page(
            &c,
            &format!("/admin/audit?q=wandertag&from={today}&to={today}"),
        )
        .await;
    assert!(page.contains("1 entry matches"), "{page}");
    let page = s.page(&c, &format!("/admin/audit?to={yesterday}")).await;
    assert!(page.contains("0 entries match"), "{page}");
    // a malformed day is named and left out
    let r = c
        .get(s.url("/admin/audit?from=31.12.2025&q=wandertag"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("“31.12.2025” is not a date"), "{page}");
    assert!(page.contains("1 entry matches"), "{page}");
}

#[tokio::test]
async fn audit_log_pages_keep_the_filter() {
    let s = Server::start("");
    let store = s.store();
    for i in 0..60 {
        store
            .record_event(
                &Actor::system("test"),
                "test.bulk",
                Some(&format!("item {i}")),
                serde_json::json!({}),
            )
            .unwrap();
    }
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let page = s.page(&c, "/admin/audit?action=test.bulk&q=item").await;
    assert!(
        page.contains("60 entries match") && page.contains("Page 1 of 2"),
        "{page}"
    );
    assert!(
        page.contains("item 59") && !page.contains("item 9<"),
        "newest 50 first"
    );
    let next = page
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap();
    assert_eq!(
        unescape(next),
        "/admin/audit?page=2&q=item&action=test.bulk\" "
    );
    let page = s
        .page(&c, "/admin/audit?page=2&q=item&action=test.bulk")
        .await;
    assert!(
        page.contains("item 9<") && page.contains("Page 2 of 2"),
        "{page}"
    );
}

#[tokio::test]
async fn services_page_shows_schola_web_running_with_its_version_and_the_limits() {
    let (dir, path) = school_dir("[auth]\nhash_threads = 3\n");
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    std::fs::write(
        dir.path().join("conf.d/50-limits.toml"),
        "[web]\nmax_in_flight = 77\n",
    )
    .unwrap();
    populate(&open_store(&path));
    let s = Server::start_in(dir, path);
    let _student = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let r = c.get(s.url("/admin/services")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();

    let services = rows_of(&page, "services");
    let web = services.split("<tr id=\"svc-schola-web\">").nth(1).unwrap();
    let web = &web[..web.find("</tr>").unwrap()];
    assert!(web.contains("running"), "{web}");
    assert!(web.contains(schola_core::VERSION), "{web}");
    assert!(web.contains(" min, since "), "an uptime: {web}");
    if !std::path::Path::new("/run/systemd/system").exists() {
        assert!(
            page.contains("systemd is not running on this machine"),
            "{page}"
        );
        assert!(web.contains("as this process reports it"), "{web}");
    }
    // services not installed are off, with the command that would turn them on
    let mail = services
        .split("<tr id=\"svc-schola-mail\">")
        .nth(1)
        .unwrap();
    let mail = &mail[..mail.find("</tr>").unwrap()];
    // schola-mail is published: the command is offered without "not available yet"
    assert!(
        mail.contains("off (not installed)")
            && mail.contains("<code class=\"cmd\">apt install schola-mail</code>")
            && !mail.contains("not available yet"),
        "{mail}"
    );
    for name in [
        "schola-files",
        "schola-dirsync",
        "postfix",
        "dovecot",
        "samba",
    ] {
        assert!(
            services.contains(&format!("<tr id=\"svc-{name}\">")),
            "{name}"
        );
    }

    let limits = rows_of(&page, "limits");
    assert!(
        limits.contains("<th scope=\"row\">Requests worked on at once</th><td>77</td><td>set in the configuration: [web] max_in_flight</td>"),
        "{limits}"
    );
    assert!(
        limits.contains("<td>3</td><td>set in the configuration: [auth] hash_threads</td>"),
        "{limits}"
    );
    assert!(
        limits.contains("Worker threads") && limits.contains("one per core"),
        "{limits}"
    );
    assert!(
        limits.contains("the school&#39;s size (6 per person"),
        "{limits}"
    );

    let load = rows_of(&page, "load");
    assert!(
        load.contains("<th scope=\"row\">Sessions</th><td>2</td>"),
        "{load}"
    );
    assert!(
        load.contains("<td>1 of 77</td>"),
        "this request is in flight: {load}"
    );
}

#[tokio::test]
async fn notices_reach_their_audience_and_can_be_removed() {
    let s = Server::start("");
    let admin = signed_in(&s, "admin", ADMIN_PW).await;
    let (today, _) = days();
    let r = post_notice(
        &s,
        &admin,
        &[
            ("title", "Wandertag am Freitag"),
            (
                "body",
                "Treffpunkt 8:00 am Haupteingang.\n\nBitte Regenjacke mitbringen.",
            ),
            ("audience", "all"),
            ("expires", today.as_str()),
        ],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/admin/notices?saved=added".into())
    );
    let r = post_notice(
        &s,
        &admin,
        &[
            ("title", "Konferenz um 14 Uhr"),
            ("body", ""),
            ("audience", "teacher"),
            ("expires", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);

    let page = s.page(&admin, "/admin/notices?saved=added").await;
    assert!(page.contains("The notice was published."), "{page}");
    assert!(
        page.contains("Wandertag am Freitag") && page.contains("Konferenz um 14 Uhr"),
        "{page}"
    );
    assert!(
        page.contains("Teachers · by admin on") && page.contains("shown until removed"),
        "{page}"
    );

    let student = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    let home = s.page(&student, "/").await;
    assert!(
        home.contains("Wandertag am Freitag") && home.contains("Bitte Regenjacke mitbringen."),
        "{home}"
    );
    assert!(
        !home.contains("Konferenz"),
        "a teachers' notice is not for students: {home}"
    );
    let teacher = signed_in(&s, "anke.lehmann", "Tafelkreide-7").await;
    let home = s.page(&teacher, "/").await;
    assert!(
        home.contains("Wandertag") && home.contains("Konferenz um 14 Uhr"),
        "{home}"
    );

    // removal through the button on the list
    let id = s
        .store()
        .notices(None)
        .unwrap()
        .into_iter()
        .find(|n| n.title.starts_with("Wandertag"))
        .unwrap()
        .id;
    let csrf = s.csrf(&admin, "/admin/notices").await;
    let remove = format!("/admin/notices/{id}/remove");
    let r = admin
        .post(s.url(&remove))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/admin/notices?saved=removed".into())
    );
    assert!(!s.page(&student, "/").await.contains("Wandertag"));
    let page = s.page(&admin, "/admin/notices?saved=removed").await;
    assert!(
        page.contains("The notice was removed.") && !page.contains("Wandertag"),
        "{page}"
    );
    // a second time, and a made-up id, say so and change nothing
    for path in [remove.as_str(), "/admin/notices/abc/remove"] {
        let r = admin
            .post(s.url(path))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains("There is no such notice"));
    }
    assert_eq!(s.store().notices(None).unwrap().len(), 1);
    let audit = s.page(&admin, "/admin/audit?action=notice.removed").await;
    assert!(audit.contains("Wandertag am Freitag"), "{audit}");
}

#[tokio::test]
async fn notice_forms_refuse_forged_tokens_and_bad_input() {
    let s = Server::start("");
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let (_, yesterday) = days();
    let forged = c
        .post(s.url("/admin/notices"))
        .form(&[
            ("csrf", "forged"),
            ("title", "Gefälscht"),
            ("audience", "all"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("The form had expired")
    );
    let csrf = s.csrf(&c, "/admin/notices").await;
    let other_site = c
        .post(s.url("/admin/notices"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Von woanders"),
            ("audience", "all"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other_site.status(), 403);

    let long = "x".repeat(2_001);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("title", "   "), ("audience", "all")],
            "The notice needs a title.",
        ),
        (
            &[("body", "kein Titel"), ("audience", "all")],
            "The notice needs a title.",
        ),
        (
            &[
                ("title", "Alt"),
                ("audience", "all"),
                ("expires", yesterday.as_str()),
            ],
            "has already passed",
        ),
        (
            &[
                ("title", "Kaputt"),
                ("audience", "all"),
                ("expires", "2026-02-30"),
            ],
            "“2026-02-30” is not a date",
        ),
        (
            &[("title", "Für wen?"), ("audience", "admin")],
            "Choose who the notice is for",
        ),
        (
            &[
                ("title", "Zu lang"),
                ("audience", "all"),
                ("body", long.as_str()),
            ],
            "The notice is longer than 2000 characters.",
        ),
    ];
    for (fields, message) in cases {
        let r = post_notice(&s, &c, fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{message} for {fields:?}: {page}");
        assert!(page.contains("role=\"alert\""));
    }
    // the form keeps what was typed
    let r = post_notice(
        &s,
        &c,
        &[
            ("title", "Bleibt stehen"),
            ("audience", "staff"),
            ("expires", "morgen"),
        ],
    )
    .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("value=\"Bleibt stehen\"")
            && page.contains("<option value=\"staff\" selected>"),
        "{page}"
    );
    assert!(
        s.store().notices(None).unwrap().is_empty(),
        "nothing was stored"
    );

    // a removal with a forged token removes nothing
    let n = s
        .store()
        .add_notice(
            &Actor::system("test"),
            &schola_core::notices::NewNotice {
                title: "Bleibt".into(),
                audience: Some(Role::Staff),
                ..Default::default()
            },
        )
        .unwrap();
    let r = c
        .post(s.url(&format!("/admin/notices/{}/remove", n.id)))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(s.store().notices(None).unwrap().len(), 1);
}

#[tokio::test]
async fn a_student_may_open_none_of_the_admin_pages() {
    let s = Server::start("");
    let c = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    for path in ["/admin/audit", "/admin/services", "/admin/notices"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // not even with the student's own valid token
    let csrf = s.csrf(&c, "/profile").await;
    let r = c
        .post(s.url("/admin/notices"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Schulfrei!"),
            ("audience", "all"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let id = s
        .store()
        .add_notice(
            &Actor::system("test"),
            &schola_core::notices::NewNotice {
                title: "Echt".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .id;
    let r = c
        .post(s.url(&format!("/admin/notices/{id}/remove")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let titles: Vec<String> = s
        .store()
        .notices(None)
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(titles, ["Echt"]);
    // and signed out, the pages lead to the sign-in
    let anon = s.client();
    assert_eq!(
        location(&anon.get(s.url("/admin/audit")).send().await.unwrap()),
        "/login"
    );
}
