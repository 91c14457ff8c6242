//! Sign-in with the upstream password: people synced from a real OpenLDAP slapd (started by
//! `schola_dirsync::ldap::testing`, LDAPS with its test CA) sign in to the real schola-web over
//! HTTPS with the password the upstream knows; the first success stores its argon2id hash, so
//! they still get in while the upstream is down.

use std::time::{Duration, Instant};

use schola_core::Config;
use schola_core::audit::Actor;
use schola_core::config::Ldap;
use schola_dirsync::apply::{Rules, apply, diff};
use schola_dirsync::ldap::testing::{
    SchemaKind, Slapd, family_name_of, given_name_of, login_of, password_of, people_ldif, person_dn,
};

use crate::kit::*;

const PEOPLE: usize = 50;
/// `[import.ldap] timeout_secs`: how long a sign-in may wait for an upstream that hangs.
const LDAP_TIMEOUT_SECS: u64 = 2;

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt_str(key: &str, v: Option<&str>) -> String {
    v.map(|v| format!("{key} = {}\n", toml_str(v)))
        .unwrap_or_default()
}

/// The `[import.ldap]` section an admin would write for `l`.
fn ldap_section(l: &Ldap) -> String {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    format!(
        "[import.ldap]\n\
         url = {url}\n\
         starttls = {starttls}\n\
         {ca_file}\
         bind_dn = {bind_dn}\n\
         {bind_password_file}\
         base_dn = {base_dn}\n\
         user_filter = {user_filter}\n\
         id_attribute = {id_attribute}\n\
         login_attribute = {login_attribute}\n\
         given_name_attribute = {given}\n\
         family_name_attribute = {family}\n\
         mail_attribute = {mail}\n\
         {teacher_filter}\
         {staff_filter}\
         {group_base_dn}\
         group_filter = {group_filter}\n\
         group_name_attribute = {group_name}\n\
         group_member_attribute = {group_member}\n\
         class_pattern = {class_pattern}\n\
         interval_minutes = {interval}\n\
         page_size = {page_size}\n\
         timeout_secs = {timeout}\n",
        url = toml_str(&l.url),
        starttls = l.starttls,
        ca_file = opt_str("ca_file", path(&l.ca_file).as_deref()),
        bind_dn = toml_str(&l.bind_dn),
        bind_password_file = opt_str("bind_password_file", path(&l.bind_password_file).as_deref()),
        base_dn = toml_str(&l.base_dn),
        user_filter = toml_str(&l.user_filter),
        id_attribute = toml_str(&l.id_attribute),
        login_attribute = toml_str(&l.login_attribute),
        given = toml_str(&l.given_name_attribute),
        family = toml_str(&l.family_name_attribute),
        mail = toml_str(&l.mail_attribute),
        teacher_filter = opt_str("teacher_filter", l.teacher_filter.as_deref()),
        staff_filter = opt_str("staff_filter", l.staff_filter.as_deref()),
        group_base_dn = opt_str("group_base_dn", l.group_base_dn.as_deref()),
        group_filter = toml_str(&l.group_filter),
        group_name = toml_str(&l.group_name_attribute),
        group_member = toml_str(&l.group_member_attribute),
        class_pattern = toml_str(&l.class_pattern),
        interval = l.interval_minutes,
        page_size = l.page_size,
        timeout = l.timeout_secs,
    )
}

/// Whether the response started a session (the session cookie is only set on success).
fn sets_session(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap_or("").contains("schola_session="))
}

fn stored_hash(s: &Server, login: &str) -> Option<String> {
    let (person, hash) = s.store().credentials(login).unwrap().unwrap();
    assert_eq!(person.login, login);
    hash
}

/// The connection numbers (`conn=1002`) of the slapd log's lines that `pred` picks.
fn conns_where(log: &str, pred: impl Fn(&str) -> bool) -> Vec<String> {
    log.lines()
        .filter(|l| pred(l))
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("conn="))
                .map(str::to_string)
        })
        .collect()
}

/// The connections slapd accepted on `port` that established TLS.
fn tls_connections_on(slapd: &Slapd, port: &str) -> Vec<String> {
    let log = slapd.log();
    let tls = conns_where(&log, |l| l.contains(" TLS established "));
    conns_where(&log, |l| {
        l.contains(" ACCEPT from ") && l.ends_with(&format!(":{port})"))
    })
    .into_iter()
    .filter(|c| tls.contains(c))
    .collect()
}

/// The connections on which someone bound (or tried to) as `dn`.
fn binds_as(slapd: &Slapd, dn: &str) -> Vec<String> {
    conns_where(&slapd.log(), |l| {
        l.contains(&format!(" BIND dn=\"{dn}\" method="))
    })
}

#[tokio::test]
async fn upstream_people_sign_in_with_their_upstream_password_and_keep_it_when_it_is_down() {
    let t0 = Instant::now();
    let ldap_dir = tempfile::tempdir().unwrap();
    let mut slapd = Slapd::start_with(
        ldap_dir.path(),
        SchemaKind::OpenLdap,
        &people_ldif(PEOPLE, SchemaKind::OpenLdap),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let want = Ldap {
        timeout_secs: LDAP_TIMEOUT_SECS,
        ..slapd.config()
    };
    // 5. LDAPS with the test CA, as the harness's configuration has it
    assert!(want.url.starts_with("ldaps://") && want.url == slapd.ldaps_url);
    assert!(!want.starttls);
    assert_eq!(want.ca_file.as_deref(), Some(slapd.ca_pem_path.as_path()));

    let (dir, path) = school_dir(&ldap_section(&want));
    let cfg = Config::load(&path).unwrap();
    assert_eq!(
        cfg.import.ldap.as_ref(),
        Some(&want),
        "the [import.ldap] section reads back as the harness's configuration"
    );

    // the school, then everyone from the upstream, before schola-web starts
    let store = open_store(&path);
    populate(&store);
    let roster = schola_dirsync::ldap::fetch(&want)
        .await
        .unwrap_or_else(|e| panic!("{e}\n(slapd log: {})", slapd.log_path.display()));
    assert_eq!(roster.people.len(), PEOPLE, "{:#?}", roster.rejected);
    let rules = Rules::in_force(&cfg, &store).unwrap();
    let plan = diff(&store, &roster, &rules).unwrap();
    assert_eq!(plan.create.len(), PEOPLE, "{:#?}", plan.rejected);
    let applied = apply(&store, &Actor::system("test"), &plan, None, &rules).unwrap();
    assert_eq!(applied.summary.create, PEOPLE);
    assert!(
        applied.letters.is_empty(),
        "upstream people get no password"
    );
    for i in 0..PEOPLE {
        let (p, hash) = store.credentials(&login_of(i)).unwrap().unwrap();
        assert!(hash.is_none(), "{}: no local password yet", p.login);
        assert_eq!(
            store.upstream_dn(p.id).unwrap().as_deref(),
            Some(person_dn(SchemaKind::OpenLdap, i).as_str())
        );
    }
    drop(store);
    eprintln!("slapd up and {PEOPLE} people synced in {:?}", t0.elapsed());

    let s = Server::start_in(dir, path);

    // 1. the upstream password lets an upstream person in, and its hash is kept
    let (ben, ben_name) = (1, format!("{} {}", given_name_of(1), family_name_of(1)));
    let c = s.client();
    let r = s.sign_in(&c, &login_of(ben), &password_of(ben)).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), "/");
    assert!(sets_session(&r));
    let page = s.page(&c, "/").await;
    assert!(page.contains(&format!("Welcome, {ben_name}")), "{page}");
    let first_hash = stored_hash(&s, &login_of(ben)).expect("the upstream password is stored");
    assert!(first_hash.starts_with("$argon2id$"), "{first_hash}");
    assert!(
        schola_core::password::verify_password(&first_hash, &password_of(ben)),
        "the stored hash is the upstream password's"
    );
    // 5. and the check went to the LDAPS port
    let ldaps_port = slapd.ldaps_url.rsplit(':').next().unwrap().to_string();
    let on_ldaps = tls_connections_on(&slapd, &ldaps_port);
    let ben_binds = binds_as(&slapd, &person_dn(SchemaKind::OpenLdap, ben));
    assert_eq!(ben_binds.len(), 1, "one upstream bind as Ben");
    assert!(
        on_ldaps.contains(&ben_binds[0]),
        "Ben's bind ({}) came over TLS on the LDAPS port {ldaps_port} ({on_ldaps:?})\n{}",
        ben_binds[0],
        slapd.log()
    );
    // the next sign-in needs no upstream
    let c2 = s.client();
    assert_eq!(
        s.sign_in(&c2, &login_of(ben), &password_of(ben))
            .await
            .status(),
        303
    );
    assert_eq!(
        binds_as(&slapd, &person_dn(SchemaKind::OpenLdap, ben)).len(),
        1,
        "the stored hash answered"
    );

    // 2. a wrong password: 401, no session
    let mallory = s.client();
    let r = s.sign_in(&mallory, &login_of(2), "Pw-u00001-secret").await;
    assert_eq!(r.status(), 401);
    assert!(!sets_session(&r));
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The login or the password is wrong.")
    );
    assert_eq!(
        location(&mallory.get(s.url("/")).send().await.unwrap()),
        "/login"
    );
    assert!(
        stored_hash(&s, &login_of(2)).is_none(),
        "nothing stored for a wrong password"
    );

    // 4. a person disabled in Schola stays out, even with the right upstream password and
    //    whether or not their password was stored before; the upstream is not even asked
    let (dora, eve) = (5, 6);
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, &login_of(dora), &password_of(dora))
            .await
            .status(),
        303
    );
    let store = s.store();
    let system = Actor::system("test");
    store.disable_person(&system, &login_of(dora), 90).unwrap();
    store.disable_person(&system, &login_of(eve), 90).unwrap();
    let eve_binds = binds_as(&slapd, &person_dn(SchemaKind::OpenLdap, eve)).len();
    for i in [dora, eve] {
        let c = s.client();
        let r = s.sign_in(&c, &login_of(i), &password_of(i)).await;
        assert_eq!(r.status(), 401, "{} is disabled", login_of(i));
        assert!(!sets_session(&r));
    }
    assert_eq!(
        binds_as(&slapd, &person_dn(SchemaKind::OpenLdap, eve)).len(),
        eve_binds,
        "no upstream bind for a disabled person"
    );
    assert!(stored_hash(&s, &login_of(eve)).is_none());

    // 3. the upstream password changes: the new one works (upstream bind, hash replaced), the
    //    old one no longer does
    let new_pw = "Neu-im-Verzeichnis-2026";
    slapd
        .ldapmodify(&format!(
            "dn: {}\nchangetype: modify\nreplace: userPassword\nuserPassword: {new_pw}\n",
            person_dn(SchemaKind::OpenLdap, ben)
        ))
        .unwrap();
    let c = s.client();
    let r = s.sign_in(&c, &login_of(ben), new_pw).await;
    assert_eq!(r.status(), 303, "the new upstream password works");
    assert_eq!(
        binds_as(&slapd, &person_dn(SchemaKind::OpenLdap, ben)).len(),
        2,
        "checked upstream"
    );
    let new_hash = stored_hash(&s, &login_of(ben)).unwrap();
    assert_ne!(new_hash, first_hash);
    assert!(schola_core::password::verify_password(&new_hash, new_pw));
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, &login_of(ben), &password_of(ben))
            .await
            .status(),
        401,
        "the old password is refused once the new one is stored"
    );

    // the upstream hangs (SIGSTOP): sign-in with the stored hash works, a never-used person is
    // refused after at most the LDAP timeout, and the web server answers meanwhile
    slapd.pause().unwrap();
    let c = s.client();
    assert_eq!(s.sign_in(&c, &login_of(ben), new_pw).await.status(), 303);
    let (fresh, health) = tokio::join!(
        async {
            let c = s.client();
            let t = Instant::now();
            let r = s.sign_in(&c, &login_of(3), &password_of(3)).await;
            (r.status(), sets_session(&r), t.elapsed())
        },
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let t = Instant::now();
            let body = s.page(&s.client(), "/healthz").await;
            (body, t.elapsed())
        }
    );
    let (status, session, took) = fresh;
    assert_eq!(status, 401, "a never-used person while the upstream hangs");
    assert!(!session);
    let bound = Duration::from_secs(2 * LDAP_TIMEOUT_SECS + 2);
    assert!(
        took < bound,
        "the sign-in waited {took:?} for a hung upstream (bound {bound:?})"
    );
    eprintln!(
        "upstream hung: a never-used person refused after {took:?}, /healthz meanwhile in {:?}",
        health.1
    );
    assert_eq!(health.0, "ok");
    assert!(
        health.1 < Duration::from_secs(1),
        "the web server kept answering ({:?})",
        health.1
    );
    slapd.resume().unwrap();

    // the upstream is down (killed): the same
    slapd.stop();
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, &login_of(ben), new_pw).await.status(),
        303,
        "the stored hash needs no upstream"
    );
    let c = s.client();
    let t = Instant::now();
    let r = s.sign_in(&c, &login_of(4), &password_of(4)).await;
    assert_eq!(
        r.status(),
        401,
        "a never-used person while the upstream is down"
    );
    assert!(!sets_session(&r));
    let took = t.elapsed();
    eprintln!("upstream down: a never-used person refused after {took:?}");
    assert!(took < bound, "{took:?}");
    assert!(stored_hash(&s, &login_of(3)).is_none());
    assert!(stored_hash(&s, &login_of(4)).is_none());
    assert_eq!(s.page(&s.client(), "/healthz").await, "ok");
    assert!(
        s.log
            .lock()
            .unwrap()
            .contains("the upstream directory could not check a password"),
        "an unreachable upstream is logged"
    );
    eprintln!("upstream sign-in test took {:?}", t0.elapsed());
}
