//! Administration › Import: an uploaded list is only a diff until the admin applies it; the
//! diff shows every rejected row with its line; applying makes working accounts whose
//! passwords leave the server once, in the letters; files that cannot be imported are refused
//! with a message and leave nothing behind; students and forged forms are turned away.

use crate::kit::*;
use crate::settings::{Part, post_multipart};

/// Three students of a new class 5a (one repaired: a stray space), one teacher, and on line 4
/// a row without a given name.
const LIST: &str = "id,role,class,given_name,family_name\n\
                    1001,student,5a,Lena,Schäfer\n\
                    1002,student,5a,Mehmet ,Yıldız\n\
                    1003,student,5a,,Leer\n\
                    1004,teacher,,Ömer,Kaya\n\
                    1005,student,5a,Zoé,Dupont\n";

async fn upload(
    s: &Server,
    c: &reqwest::Client,
    csrf: &str,
    name: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    post_multipart(
        s,
        c,
        "/admin/import/upload",
        &[
            Part::Text("csrf", csrf),
            Part::Text("profile", "auto"),
            Part::File("file", name, data),
        ],
    )
    .await
}

async fn admin(s: &Server) -> (reqwest::Client, String) {
    let c = s.client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let csrf = s.csrf(&c, "/admin/import").await;
    (c, csrf)
}

/// The `href` of the first link to a letters file ending in `ext`.
fn letters_link(page: &str, ext: &str) -> String {
    let start = page
        .find("href=\"/admin/import/letters/")
        .unwrap_or_else(|| panic!("no letters link:\n{page}"))
        + "href=\"".len();
    let rest = &page[start..];
    let token = rest["/admin/import/letters/".len()..]
        .split('.')
        .next()
        .unwrap();
    format!("/admin/import/letters/{token}.{ext}")
}

#[tokio::test]
async fn an_uploaded_list_is_reviewed_applied_and_its_people_sign_in_with_their_letters() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let store = s.store();

    let r = upload(&s, &c, &csrf, "schueler.csv", LIST.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let diff_url = location(&r);
    let id: i64 = diff_url
        .strip_prefix("/admin/import/")
        .unwrap()
        .parse()
        .unwrap();
    // a diff only: nobody is made before the admin applies it
    assert!(store.person_by_login("lena.schaefer").unwrap().is_none());
    assert!(store.group("5a").unwrap().is_none());

    let page = s.page(&c, &diff_url).await;
    for shown in [
        "schueler.csv",
        "<td>Lena Schäfer</td><td>lena.schaefer</td><td>Student</td><td>5a</td>",
        "<td>Mehmet Yıldız</td><td>mehmet.yildiz</td>",
        "<td>Ömer Kaya</td><td>oemer.kaya</td><td>Teacher</td>",
        "<td>Zoé Dupont</td><td>zoe.dupont</td>",
        // the rejected row with its line and reason
        "<td>4</td><td>Leer</td><td>the given name is empty</td>",
        // the repair with its line
        "<td>3</td><td>given name &#39;Mehmet &#39;: removed stray spaces",
        "id=\"count-create\">4<",
        "id=\"count-rejected\">1<",
        "action=\"/admin/import/",
    ] {
        let shown = shown.replace("&#39;", "'");
        let alt = shown.replace('\'', "&#39;");
        let alt2 = shown.replace('\'', "&#x27;");
        assert!(
            page.contains(&shown) || page.contains(&alt) || page.contains(&alt2),
            "{shown} missing:\n{page}"
        );
    }
    // it waits on the overview
    let overview = s.page(&c, "/admin/import").await;
    assert!(
        overview.contains(&format!("href=\"/admin/import/{id}\"")),
        "{overview}"
    );

    let r = c
        .post(s.url(&format!("/admin/import/{id}/apply")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = r.text().await.unwrap();
    assert!(
        done.contains("id=\"count-create\">4<") && done.contains("once"),
        "{done}"
    );
    let lena = store.require_person("lena.schaefer").unwrap();
    assert!(lena.is_active());
    assert_eq!(store.group_members("5a").unwrap().len(), 3);
    assert_eq!(store.import_record(id).unwrap().unwrap().status, "applied");

    // the password list, once
    let csv_url = letters_link(&done, "csv");
    let r = c.get(s.url(&csv_url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header = |r: &reqwest::Response, h: &str| {
        r.headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header(&r, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(header(&r, "cache-control"), "no-store");
    let disposition = header(&r, "content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"password-letters-20")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let list = r.text().await.unwrap();
    // class;name;login;password;mail
    let password = list
        .lines()
        .map(|l| l.split(';').collect::<Vec<_>>())
        .find(|cells| cells.get(2) == Some(&"lena.schaefer"))
        .unwrap_or_else(|| panic!("lena is not in the letters:\n{list}"))[3]
        .to_string();
    assert_eq!(
        list.lines().count(),
        5,
        "a header and four letters:\n{list}"
    );
    let r = c.get(s.url(&csv_url)).send().await.unwrap();
    assert_eq!(r.status(), 410);
    let gone = r.text().await.unwrap();
    assert!(
        gone.contains("downloaded only once") && gone.contains("reset passwords"),
        "{gone}"
    );
    // the letters to print, once
    let pdf_url = letters_link(&done, "pdf");
    let r = c.get(s.url(&pdf_url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(c.get(s.url(&pdf_url)).send().await.unwrap().status(), 410);
    let downloads = store
        .audit_log(Some("import.letters_downloaded"), 10, 0)
        .unwrap();
    assert_eq!(downloads.len(), 2, "each download is in the audit log");
    assert_eq!(downloads[0].actor, "admin");

    // Lena signs in with the password from her letter
    let lena_c = s.client();
    assert_eq!(
        s.sign_in(&lena_c, "lena.schaefer", &password)
            .await
            .status(),
        303
    );
    assert!(s.page(&lena_c, "/").await.contains("Lena Schäfer"));

    // the applied import is a record now: no buttons, and it cannot be applied again
    let page = s.page(&c, &diff_url).await;
    assert!(
        !page.contains(&format!("/admin/import/{id}/apply")),
        "{page}"
    );
    let r = c
        .post(s.url(&format!("/admin/import/{id}/apply")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("cannot be applied again"));
    assert_eq!(store.group_members("5a").unwrap().len(), 3);
}

#[tokio::test]
async fn a_diff_made_stale_is_shown_again_and_a_discarded_import_changes_nothing() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let store = s.store();
    let r = upload(&s, &c, &csrf, "a.csv", LIST.as_bytes().to_vec()).await;
    let diff_url = location(&r);
    let id: i64 = diff_url.rsplit('/').next().unwrap().parse().unwrap();

    // someone takes a login the diff promised before the admin applies it
    store
        .create_person(
            &schola_core::audit::Actor::system("test"),
            schola_core::directory::NewPerson {
                given_name: "Lena".into(),
                family_name: "Schäfer".into(),
                ..Default::default()
            },
            &schola_core::login::LoginScheme::default(),
        )
        .unwrap();
    let r = c
        .post(s.url(&format!("/admin/import/{id}/apply")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), format!("{diff_url}?changed=1"));
    let page = s.page(&c, &location(&r)).await;
    assert!(
        page.contains("review it and apply again") && page.contains("lena.schaefer2"),
        "{page}"
    );
    assert_eq!(
        store
            .count_people(Some(schola_core::directory::Role::Teacher))
            .unwrap(),
        1
    );

    let r = c
        .post(s.url(&format!("/admin/import/{id}/discard")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/import?done=discarded");
    assert!(
        s.page(&c, &location(&r))
            .await
            .contains("The import was discarded")
    );
    assert_eq!(
        store.import_record(id).unwrap().unwrap().status,
        "discarded"
    );
    assert!(store.person_by_login("oemer.kaya").unwrap().is_none());
    let r = c
        .post(s.url(&format!("/admin/import/{id}/apply")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a discarded import cannot be applied");
    assert!(store.person_by_login("oemer.kaya").unwrap().is_none());
}

#[tokio::test]
async fn students_and_forged_forms_are_turned_away() {
    let s = Server::start("");
    let student = s.client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let r = student.get(s.url("/admin/import")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let student_csrf = hidden_csrf(&s.page(&student, "/profile").await).unwrap();
    let r = upload(&s, &student, &student_csrf, "x.csv", LIST.into()).await;
    assert_eq!(r.status(), 403);

    let (c, _) = admin(&s).await;
    for csrf in ["", "forged"] {
        let parts = if csrf.is_empty() {
            vec![Part::File("file", "x.csv", LIST.into())]
        } else {
            vec![
                Part::Text("csrf", csrf),
                Part::File("file", "x.csv", LIST.into()),
            ]
        };
        let r = post_multipart(&s, &c, "/admin/import/upload", &parts).await;
        assert_eq!(r.status(), 403, "csrf {csrf:?}");
    }
    let r = c
        .get(s.url("/admin/import/letters/nothing.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert!(s.store().list_imports(None, 10).unwrap().is_empty());
    assert!(
        s.store()
            .person_by_login("lena.schaefer")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn empty_oversized_and_unreadable_files_are_refused_with_a_message_and_store_nothing() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;

    let r = upload(&s, &c, &csrf, "leer.csv", Vec::new()).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("leer.csv") && page.contains("is empty"),
        "{page}"
    );

    let r = upload(
        &s,
        &c,
        &csrf,
        "bild.csv",
        b"\x89PNG\r\n\x1a\n\xff\xfe".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("bild.csv")
            && page.contains("cannot be imported")
            && page.contains("Nothing was stored"),
        "{page}"
    );

    let big = vec![b'x'; schola_dirsync::csv::MAX_FILE_BYTES + 1];
    let r = upload(&s, &c, &csrf, "riesig.csv", big).await;
    assert_eq!(r.status(), 413);
    let page = r.text().await.unwrap();
    assert!(page.contains("larger than 32 MiB"), "{page}");

    // the connection and the session still work, and nothing was stored
    assert_eq!(
        c.get(s.url("/admin/import")).send().await.unwrap().status(),
        200
    );
    assert!(s.store().list_imports(None, 10).unwrap().is_empty());
}
