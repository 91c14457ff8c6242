//! Administration › Settings: every setting applies at once, every bad input is refused with a
//! message and changes nothing, students are turned away, forged forms too. Also the helpers the
//! wizard tests share: forms with files, certificates, and reading the served certificate.

use sha2::{Digest as _, Sha256};

use crate::kit::*;

/// A 16×16 PNG (a blue and yellow checkerboard).
pub const PNG: &str = "89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61000000274944415478da6310895afb1f197fddcc888209c9330c030348d5802e3f1c0c184d07a3e9008801b47c611fc9a948fc0000000049454e44ae426082";

pub fn png() -> Vec<u8> {
    hex::decode(PNG).unwrap()
}

/// One part of a `multipart/form-data` body.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, Vec<u8>),
}

/// A `multipart/form-data` body as a browser sends it; returns the content type and the body.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----scholaTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(name, filename, data) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn post_multipart(
    s: &Server,
    c: &reqwest::Client,
    path: &str,
    parts: &[Part<'_>],
) -> reqwest::Response {
    let (ct, body) = multipart(parts);
    c.post(s.url(path))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A browser-like client that accepts whatever certificate the server shows (the tests here
/// change it) and asks for English pages (they change the school's default language too).
pub fn any_cert_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("en"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The SHA-256 fingerprint (`AB:CD:…`) of the certificate a new TLS connection gets.
pub async fn served_fingerprint(s: &Server) -> String {
    let c = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .tls_info(true)
        .build()
        .unwrap();
    let r = c.get(s.url("/healthz")).send().await.unwrap();
    let der = r
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .unwrap()
        .peer_certificate()
        .unwrap()
        .to_vec();
    fingerprint(&der)
}

pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A certificate for `name` (and 127.0.0.1) valid from `from_days` to `until_days` from now:
/// its PEM, its key's PEM and its fingerprint.
pub fn make_cert(name: &str, from_days: i64, until_days: i64) -> (String, String, String) {
    let mut p =
        rcgen::CertificateParams::new(vec![name.to_string(), "127.0.0.1".to_string()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, name.to_string());
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "Testschule Am See");
    let t = |days: i64| time::OffsetDateTime::from_unix_timestamp(now() + days * 86_400).unwrap();
    p.not_before = t(from_days);
    p.not_after = t(until_days);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    let fp = fingerprint(cert.der());
    (cert.pem(), key.serialize_pem(), fp)
}

/// Signs in the admin with a client that accepts any certificate.
async fn admin(s: &Server) -> (reqwest::Client, String) {
    let c = any_cert_client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let csrf = s.csrf(&c, "/admin/settings").await;
    (c, csrf)
}

async fn post_form(
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

#[tokio::test]
async fn school_settings_apply_at_once_and_bad_input_changes_nothing() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let page = s.page(&c, "/admin/settings").await;
    assert!(
        page.contains("value=\"Testschule Am See\"")
            && page.contains("value=\"see.schule.example\""),
        "{page}"
    );

    let (status, loc, _) = post_form(
        &s,
        &c,
        "/admin/settings/school",
        &[
            ("csrf", &csrf),
            ("school_name", "  Gesamtschule Am See "),
            ("mail_domain", "GS-See.Example"),
            ("default_language", "de"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/settings?saved=school#school")
    );
    let page = s.page(&c, "/admin/settings?saved=school").await;
    assert!(
        page.contains("The school&#x27;s settings were saved.")
            || page.contains("The school&#39;s settings were saved."),
        "{page}"
    );
    assert!(
        page.contains("class=\"brand\" href=\"/\">Gesamtschule Am See</a>"),
        "the header shows the new name at once: {page}"
    );
    let school = s.store().school().unwrap();
    assert_eq!(school.mail_domain, "gs-see.example");
    assert_eq!(
        school.default_language,
        Some(schola_core::directory::Language::De)
    );
    // the default language applies to a visitor whose browser asks for none of ours
    let visitor = any_cert_client();
    let login = visitor
        .get(s.url("/login"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("<html lang=\"de\">"), "{login}");

    for (name, domain, lang, says) in [
        ("", "gs-see.example", "de", "The school's name is empty."),
        (
            "Gesamtschule\u{7}",
            "gs-see.example",
            "de",
            "control character",
        ),
        (
            &"x".repeat(101) as &str,
            "gs-see.example",
            "de",
            "at most 100",
        ),
        ("Gesamtschule", "gs-see", "de", "is not a mail domain"),
        (
            "Gesamtschule",
            "gs see.example",
            "de",
            "is not a mail domain",
        ),
        (
            "Gesamtschule",
            "gs-see.example",
            "xx",
            "Choose one of the languages in the list.",
        ),
    ] {
        let (status, _, body) = post_form(
            &s,
            &c,
            "/admin/settings/school",
            &[
                ("csrf", &csrf),
                ("school_name", name),
                ("mail_domain", domain),
                ("default_language", lang),
            ],
        )
        .await;
        let body = body.replace("&#x27;", "'").replace("&#39;", "'");
        assert_eq!(status, 422, "{name:?} {domain:?} {lang:?}");
        assert!(
            body.contains("role=\"alert\"") && body.contains(says),
            "{says}: {body}"
        );
        assert!(
            body.contains(&format!("value=\"{domain}\"").replace(' ', " ")),
            "what was typed is kept"
        );
    }
    // forged or foreign forms
    let (status, _, _) = post_form(
        &s,
        &c,
        "/admin/settings/school",
        &[
            ("csrf", "forged"),
            ("school_name", "Forged"),
            ("mail_domain", "forged.example"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let r = c
        .post(s.url("/admin/settings/school"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("school_name", "Evil"),
            ("mail_domain", "evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(s.store().school().unwrap(), school, "nothing changed");
    let log = s
        .store()
        .audit_log(Some("settings.changed"), 50, 0)
        .unwrap();
    assert_eq!(
        log.len(),
        3,
        "name, domain and language changed once: {log:?}"
    );
    assert_eq!(log[0].actor, "admin");
}

#[tokio::test]
async fn a_new_minimum_length_refuses_a_short_password_at_once() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    let page = s.page(&c, "/admin/settings").await;
    assert!(
        page.contains("{given}") && page.contains("{family}"),
        "the scheme's placeholders are explained: {page}"
    );

    let (status, loc, _) = post_form(
        &s,
        &c,
        "/admin/settings/accounts",
        &[
            ("csrf", &csrf),
            ("login_scheme", "{g}{family}"),
            ("password_min_length", "14"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/settings?saved=accounts#accounts")
    );
    let overrides = s.store().policy_overrides().unwrap();
    assert_eq!(overrides.login_scheme.as_deref(), Some("{g}{family}"));
    assert_eq!(overrides.password_min_length, Some(14));
    let page = s.page(&c, "/admin/settings").await;
    assert!(
        page.contains("value=\"{g}{family}\"") && page.contains("value=\"14\""),
        "{page}"
    );

    // a student's new password of 13 characters is now too short
    let student = any_cert_client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let profile = s.page(&student, "/profile").await;
    assert!(profile.contains("At least 14 characters."), "{profile}");
    let scsrf = hidden_csrf(&profile).unwrap();
    let change = async |new: &str| {
        student
            .post(s.url("/profile/password"))
            .form(&[
                ("csrf", scsrf.as_str()),
                ("current", STUDENT_PW),
                ("new_password", new),
                ("confirm", new),
            ])
            .send()
            .await
            .unwrap()
    };
    let r = change("Regenbogen-7x").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("at least 14 characters (it has 13)")
    );

    // bad values are refused and change nothing
    for (scheme, min, says) in [
        ("{given}.{family}", "5", "whole number between 6 and 128"),
        ("{given}.{family}", "129", "whole number between 6 and 128"),
        (
            "{given}.{family}",
            "zwölf",
            "whole number between 6 and 128",
        ),
        ("{nickname}", "10", "not valid: unknown placeholder"),
        ("{given}+{family}", "10", "not valid: '+' is not allowed"),
    ] {
        let (status, _, body) = post_form(
            &s,
            &c,
            "/admin/settings/accounts",
            &[
                ("csrf", &csrf),
                ("login_scheme", scheme),
                ("password_min_length", min),
            ],
        )
        .await;
        let body = body.replace("&#x27;", "'").replace("&#39;", "'");
        assert_eq!(status, 422, "{scheme} {min}");
        assert!(body.contains(says), "{says}: {body}");
    }
    let (status, _, _) = post_form(
        &s,
        &c,
        "/admin/settings/accounts",
        &[
            ("csrf", "forged"),
            ("login_scheme", ""),
            ("password_min_length", "6"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        s.store().policy_overrides().unwrap(),
        overrides,
        "nothing changed"
    );
    assert_eq!(change("Regenbogen-7x").await.status(), 422, "still 14");

    // empty fields give the config file's values back, at once
    let (status, _, _) = post_form(
        &s,
        &c,
        "/admin/settings/accounts",
        &[
            ("csrf", &csrf),
            ("login_scheme", ""),
            ("password_min_length", ""),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(s.store().policy_overrides().unwrap(), Default::default());
    let r = change("Regenbogen-7x").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/profile?saved=password".into())
    );
}

#[tokio::test]
async fn the_logo_is_served_with_its_type_and_a_long_cache() {
    let s = Server::start("");
    let (c, csrf) = admin(&s).await;
    assert!(
        !s.page(&c, "/admin/settings")
            .await
            .contains("/branding/logo")
    );
    assert_eq!(
        c.get(s.url("/branding/logo"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let r = post_multipart(
        &s,
        &c,
        "/admin/settings/logo",
        &[
            Part::Text("csrf", &csrf),
            Part::File("logo", "wappen.png", png()),
        ],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/admin/settings?saved=logo#logo".into())
    );
    let page = s.page(&c, "/admin/settings?saved=logo").await;
    let src = page
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(src.starts_with("/branding/logo?v="), "{src}");
    assert!(
        page.contains(&format!(
            "<img src=\"{src}\" alt=\"Testschule Am See\" class=\"logo\">"
        )),
        "the header shows the logo: {page}"
    );

    let r = c.get(s.url(&src)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header =
        |r: &reqwest::Response, h: &str| r.headers().get(h).unwrap().to_str().unwrap().to_string();
    assert_eq!(header(&r, "content-type"), "image/png");
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let etag = header(&r, "etag");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let r = c
        .get(s.url(&src))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // the start page of a student and the sign-in page show it too
    let student = any_cert_client();
    assert!(s.page(&student, "/login").await.contains(&src));
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    let home = s.page(&student, "/").await;
    assert!(
        home.contains(&format!(
            "<p class=\"home-logo\"><img src=\"{src}\" alt=\"Testschule Am See\"></p>"
        )),
        "{home}"
    );

    // bad files change nothing
    let mut big = png();
    big.resize(512 * 1024 + 1, 0);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    for (file, says) in [
        (svg, "must be a PNG or JPEG image"),
        (b"GIF89a....".to_vec(), "must be a PNG or JPEG image"),
        (big, "too big: at most 512 KiB"),
        (Vec::new(), "Choose a logo file."),
    ] {
        let r = post_multipart(
            &s,
            &c,
            "/admin/settings/logo",
            &[
                Part::Text("csrf", &csrf),
                Part::File("logo", "logo.png", file),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains(says), "{says}");
    }
    let r = post_multipart(
        &s,
        &c,
        "/admin/settings/logo",
        &[
            Part::Text("csrf", "forged"),
            Part::File("logo", "x.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 7]),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        s.page(&c, "/admin/settings").await.contains(&src),
        "the logo is the same"
    );

    // a JPEG replaces it under a new address; the old one must be asked again
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];
    let r = post_multipart(
        &s,
        &c,
        "/admin/settings/logo",
        &[
            Part::Text("csrf", &csrf),
            Part::File("logo", "logo.jpeg", jpeg.clone()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = s.page(&c, "/admin/settings").await;
    let new_src = page
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new_src, src);
    let r = c.get(s.url(&new_src)).send().await.unwrap();
    assert_eq!(header(&r, "content-type"), "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    let r = c.get(s.url(&src)).send().await.unwrap();
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert!(s.dir.path().join("state/branding/logo.jpg").exists());
    assert!(!s.dir.path().join("state/branding/logo.png").exists());

    // removed
    let (status, loc, _) =
        post_form(&s, &c, "/admin/settings/logo/remove", &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/admin/settings?saved=logo-removed#logo")
    );
    assert_eq!(c.get(s.url(&new_src)).send().await.unwrap().status(), 404);
    assert!(
        !s.page(&c, "/admin/settings")
            .await
            .contains("/branding/logo")
    );
    assert_eq!(
        s.store()
            .audit_log(Some("settings.logo"), 10, 0)
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn an_uploaded_certificate_is_served_to_new_connections() {
    let s = Server::start("");
    let first = served_fingerprint(&s).await;
    let (c, csrf) = admin(&s).await;
    let page = s.page(&c, "/admin/settings").await;
    assert!(
        page.contains(&first) && page.contains("self-signed"),
        "the current certificate is shown: {page}"
    );

    let (cert, key, fp) = make_cert("schule.example", -1, 90);
    let (_, other_key, _) = make_cert("other.example", -1, 90);
    let (old_cert, old_key, _) = make_cert("old.example", -100, -1);
    let upload = async |cert: &str, key: &str, csrf: &str| {
        post_multipart(
            &s,
            &c,
            "/admin/settings/certificate",
            &[
                Part::Text("csrf", csrf),
                Part::File("certificate", "fullchain.pem", cert.as_bytes().to_vec()),
                Part::File("key", "privkey.pem", key.as_bytes().to_vec()),
            ],
        )
        .await
    };
    let big = format!("{cert}{}", "x".repeat(64 * 1024));
    let der = "\u{30}\u{82}\u{1}\u{a}not pem at all";
    for (cert, key, says) in [
        (
            cert.as_str(),
            other_key.as_str(),
            "The private key does not belong to this certificate.",
        ),
        (
            old_cert.as_str(),
            old_key.as_str(),
            "This certificate expired on",
        ),
        (der, key.as_str(), "The certificate file is not PEM text"),
        (cert.as_str(), "not a key", "The key file is not PEM text"),
        (key.as_str(), key.as_str(), "holds no certificate"),
        (
            big.as_str(),
            key.as_str(),
            "The certificate file is too big: at most 64 KiB",
        ),
        ("", key.as_str(), "Choose the certificate file."),
    ] {
        let r = upload(cert, key, &csrf).await;
        assert_eq!(r.status(), 422, "{says}");
        assert!(r.text().await.unwrap().contains(says), "{says}");
        assert_eq!(
            served_fingerprint(&s).await,
            first,
            "{says}: the certificate is unchanged"
        );
    }
    assert_eq!(upload(&cert, &key, "forged").await.status(), 403);
    assert_eq!(served_fingerprint(&s).await, first);

    let r = upload(&cert, &key, &csrf).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/admin/settings?saved=certificate#certificate".into())
    );
    assert_eq!(
        served_fingerprint(&s).await,
        fp,
        "a new connection gets the new certificate"
    );
    let page = s.page(&c, "/admin/settings?saved=certificate").await;
    assert!(
        page.contains("The new certificate is served to new connections."),
        "{page}"
    );
    for shown in [
        fp.as_str(),
        "CN=schule.example",
        "schule.example, 127.0.0.1",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    let tls = s.dir.path().join("state/tls");
    assert_eq!(
        fingerprint(&pem_der(
            &std::fs::read_to_string(tls.join("cert.pem.bak")).unwrap()
        )),
        first,
        "the previous certificate is kept"
    );
    assert!(tls.join("key.pem.bak").exists());
    assert_eq!(
        s.store()
            .audit_log(Some("settings.certificate"), 10, 0)
            .unwrap()
            .len(),
        1
    );
}

/// The DER of the first certificate in a PEM text.
fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[tokio::test]
async fn a_student_gets_403_for_every_settings_page() {
    let s = Server::start("");
    let c = any_cert_client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let csrf = hidden_csrf(&s.page(&c, "/profile").await).unwrap();
    let r = c.get(s.url("/admin/settings")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    for path in [
        "/admin/settings/school",
        "/admin/settings/accounts",
        "/admin/settings/logo/remove",
    ] {
        let (status, _, _) = post_form(
            &s,
            &c,
            path,
            &[
                ("csrf", &csrf),
                ("school_name", "Hacked"),
                ("mail_domain", "hacked.example"),
                ("password_min_length", "6"),
            ],
        )
        .await;
        assert_eq!(status, 403, "{path}");
    }
    let (cert, key, _) = make_cert("evil.example", -1, 9);
    for path in ["/admin/settings/logo", "/admin/settings/certificate"] {
        let r = post_multipart(
            &s,
            &c,
            path,
            &[
                Part::Text("csrf", &csrf),
                Part::File("logo", "x.png", png()),
                Part::File("certificate", "c.pem", cert.clone().into_bytes()),
                Part::File("key", "k.pem", key.clone().into_bytes()),
            ],
        )
        .await;
        assert_eq!(r.status(), 403, "{path}");
    }
    assert_eq!(s.store().school().unwrap().name, "Testschule Am See");
    assert_eq!(s.store().policy_overrides().unwrap(), Default::default());
    assert_eq!(
        c.get(s.url("/branding/logo"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(!s.dir.path().join("state/tls/cert.pem.bak").exists());
    // and someone signed out is sent to sign in
    let r = any_cert_client()
        .get(s.url("/admin/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
}
