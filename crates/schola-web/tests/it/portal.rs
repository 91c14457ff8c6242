//! The portal: pages in the reader's language, the profile's language choice and password
//! change, and the admin's notices on the start page.

use schola_core::audit::Actor;
use schola_core::directory::Role;
use schola_core::notices::NewNotice;

use crate::kit::*;

async fn get_in(s: &Server, c: &reqwest::Client, path: &str, accept: &str) -> String {
    c.get(s.url(path))
        .header("accept-language", accept)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_speak_the_browsers_language_until_the_person_chooses_one() {
    let s = Server::start("");
    let c = s.client();
    let nl = get_in(&s, &c, "/login", "nl-BE,nl;q=0.9,en;q=0.5").await;
    assert!(
        nl.contains("<html lang=\"nl\">") && nl.contains("Gebruikersnaam"),
        "{nl}"
    );
    let de = get_in(&s, &c, "/login", "de-AT").await;
    assert!(
        de.contains("<html lang=\"de\">") && de.contains("Passwort"),
        "{de}"
    );
    let other = get_in(&s, &c, "/login", "es-ES, it;q=0.8").await;
    assert!(
        other.contains("<html lang=\"en\">") && other.contains("Password"),
        "{other}"
    );

    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let home = get_in(&s, &c, "/", "de").await;
    assert!(home.contains("Willkommen, Jörg Müller"), "{home}");
    assert!(home.contains("Abmelden"), "{home}");

    // the student picks French: it wins over the browser from now on
    let csrf = hidden_csrf(&get_in(&s, &c, "/profile", "de").await).unwrap();
    let r = c
        .post(s.url("/profile/language"))
        .header("accept-language", "de")
        .form(&[("csrf", csrf.as_str()), ("language", "fr")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/profile?saved=language".into())
    );
    let saved = get_in(&s, &c, "/profile?saved=language", "de").await;
    assert!(saved.contains("La langue a été enregistrée."), "{saved}");
    let home = get_in(&s, &c, "/", "de").await;
    assert!(
        home.contains("Bienvenue, Jörg Müller") && home.contains("lang=\"fr\""),
        "{home}"
    );

    // a forged form changes nothing
    let r = c
        .post(s.url("/profile/language"))
        .form(&[("csrf", "forged"), ("language", "nl")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // an unknown language is refused, the choice kept
    let r = c
        .post(s.url("/profile/language"))
        .form(&[("csrf", csrf.as_str()), ("language", "xx")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(get_in(&s, &c, "/", "de").await.contains("Bienvenue"));

    // back to "as my browser asks"
    let r = c
        .post(s.url("/profile/language"))
        .form(&[("csrf", csrf.as_str()), ("language", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        get_in(&s, &c, "/", "nl")
            .await
            .contains("Welkom, Jörg Müller")
    );
    let p = s.store().require_person("joerg.mueller").unwrap();
    assert_eq!(p.language, None);
}

#[tokio::test]
async fn a_person_changes_their_own_password_and_other_sessions_end() {
    let s = Server::start("");
    let phone = s.client();
    assert_eq!(
        s.sign_in(&phone, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let csrf = s.csrf(&c, "/profile").await;
    let change = async |current: &str, new: &str, confirm: &str| {
        c.post(s.url("/profile/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new_password", new),
                ("confirm", confirm),
            ])
            .send()
            .await
            .unwrap()
    };
    let r = change("not-my-password", "Regenbogen-2027", "Regenbogen-2027").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The current password is wrong.")
    );
    let r = change(STUDENT_PW, "Regenbogen-2027", "Regenbogen-2028").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The two new passwords differ.")
    );
    let r = change(STUDENT_PW, "kurz", "kurz").await;
    let body = r.text().await.unwrap();
    assert!(body.contains("at least 8 characters (it has 4)"), "{body}");

    let r = change(STUDENT_PW, "Regenbogen-2027", "Regenbogen-2027").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/profile?saved=password".into())
    );
    // this browser stays signed in, with a new session
    let page = s.page(&c, "/profile?saved=password").await;
    assert!(page.contains("Your password was changed."), "{page}");
    // the phone's session ended with the old password
    let r = phone.get(s.url("/")).send().await.unwrap();
    assert_eq!(location(&r), "/login");
    // only the new password signs in
    let other = s.client();
    assert_eq!(
        s.sign_in(&other, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        401
    );
    assert_eq!(
        s.sign_in(&other, "joerg.mueller", "Regenbogen-2027")
            .await
            .status(),
        303
    );
    let audit = s.store().audit_log(Some("person.password"), 10, 0).unwrap();
    assert_eq!(audit[0].actor, "joerg.mueller");
}

#[tokio::test]
async fn notices_reach_the_start_page_of_their_audience_escaped() {
    let s = Server::start("");
    let store = s.store();
    let admin = Actor::person("admin", None);
    store
        .add_notice(
            &admin,
            &NewNotice {
                title: "Sports day <b>moved</b>".into(),
                body: "Now on Friday.\n\n<script>alert(1)</script>".into(),
                ..Default::default()
            },
        )
        .unwrap();
    store
        .add_notice(
            &admin,
            &NewNotice {
                title: "Staff meeting".into(),
                body: "Room 12".into(),
                audience: Some(Role::Teacher),
                expires_at: None,
            },
        )
        .unwrap();
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let home = s.page(&c, "/").await;
    assert!(
        home.contains("Sports day &#60;b&#62;moved&#60;/b&#62;"),
        "{home}"
    );
    assert!(
        home.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{home}"
    );
    assert!(!home.contains("<script>alert(1)"), "{home}");
    assert!(
        !home.contains("Staff meeting"),
        "a teachers' notice is not shown to students"
    );
    let t = s.client();
    assert_eq!(
        s.sign_in(&t, "anke.lehmann", "Tafelkreide-7")
            .await
            .status(),
        303
    );
    assert!(s.page(&t, "/").await.contains("Staff meeting"));
}
