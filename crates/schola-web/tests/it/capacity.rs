//! Administration › Capacity: the latest stored check with its verdicts and actions, the banner
//! on every admin page, the profile form (refusals change nothing), the one-button fix that
//! takes nothing from the form on trust, and the readiness report as HTML and PDF.

use schola_capacity::{Check, Profile};
use serde_json::json;

use crate::kit::*;

const GIB: u64 = 1 << 30;

/// A check of a school of 1,942 people on a 4-core machine with 4 GiB: too few connections
/// allowed (FAIL, fixable), too little RAM (WARN), sign-in CPU fine, the disk 93 % full (WARN).
fn fixture(at: i64) -> serde_json::Value {
    let count = |v: f64| json!({"value": v, "unit": "count"});
    json!({
        "at": at,
        "version": "0.1.0",
        "school_name": "Testschule Am See",
        "school": {"students": 1800, "teachers": 120, "staff": 20, "admins": 2},
        "profile": Profile::default(),
        "machine": {
            "hostname": "schulserver",
            "cpu_model": "Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz",
            "cores": 4,
            "argon2": {"memory_kib": 19456, "iterations": 2, "parallelism": 1,
                       "verifies_per_sec": 42.5, "verify_ms": 90.0, "threads": 4, "seconds": 2.0},
            "memory": {"total": 4 * GIB, "available": 2 * GIB, "swap_total": GIB,
                       "swap_free": GIB, "cgroup_limited": false},
            "filesystems": [{
                "role": "files", "path": "/srv/schola", "mount_point": "/srv", "fs_type": "ext4",
                "size": 500 * GIB, "free": 35 * GIB, "used": 465 * GIB,
                "bench": {"seq_write": 150e6, "fsyncs_per_sec": 800.0, "read_iops": 5000.0,
                          "write_iops": 3000.0, "bytes_written": 64_000_000u64, "seconds": 3.0}
            }],
            "nics": [{"name": "eno1", "speed_mbit": 1000, "up": true}],
            "open_files": {"soft": 1024, "hard": 524288, "system_max": 1_000_000u64, "web": 65536},
            "limits": {"web_workers": 4, "web_max_connections": 512,
                       "web_max_connections_per_client": 64, "web_in_flight": 64,
                       "web_signins_waiting": 256, "web_hash_threads": 4,
                       "all": [{"key": "web.max_connections", "value": 512, "source": "derived"}]},
            "oom_kills": 0,
            "uptime_secs": 86400
        },
        "needs": {"figures": [
            {"key": "connections", "value": count(1900.0),
             "formula": "people × students_online × connections_per_browser",
             "inputs": [
                {"key": "people", "value": count(1942.0), "source": "directory"},
                {"key": "students_online", "value": {"value": 0.95, "unit": "share"}, "source": "profile"},
                {"key": "connections_per_browser", "value": count(6.0), "source": "profile"}
             ]},
            {"key": "disk_growth_per_day", "value": {"value": 6.0 * GIB as f64, "unit": "bytes_per_day"},
             "formula": "teachers × upload_per_teacher + students × upload_per_student",
             "inputs": []}
        ]},
        "verdicts": [
            {"resource": "connections", "level": "fail", "needed": count(1900.0),
             "have": count(512.0), "headroom_pct": -73.05, "figure": "connections",
             "measured": false,
             "action": {"kind": "set_config", "section": "web", "key": "max_connections", "value": 4000}},
            {"resource": "memory", "level": "warn",
             "needed": {"value": 9.5 * GIB as f64, "unit": "bytes"},
             "have": {"value": 4.0 * GIB as f64, "unit": "bytes"}, "headroom_pct": -57.9,
             "figure": "memory", "measured": false,
             "action": {"kind": "add_memory", "bytes": 8 * GIB}},
            {"resource": "signin_cpu", "level": "ok",
             "needed": {"value": 2.6, "unit": "cores"}, "have": {"value": 4.0, "unit": "cores"},
             "headroom_pct": 53.8, "figure": "signin_cpu", "measured": false, "action": null}
        ],
        "health": [
            {"key": "disk-free", "level": "warn", "value": {"value": 0.93, "unit": "share"},
             "threshold": {"value": 0.9, "unit": "share"}, "detail": "/srv is 93 % full",
             "action": null}
        ],
        "storm": null,
        "largest_school": 620,
        "level": "fail"
    })
}

/// Stores the fixture as the latest check, made `ago` seconds before now.
fn store_check(s: &Server, ago: i64) {
    let store = s.store();
    let at = store.now() - ago;
    let value = fixture(at);
    // the fixture is a real check: the types the other parts write must read it
    let _: Check = serde_json::from_value(value.clone()).expect("the fixture is a Check");
    store
        .save_check(at, "fail", "timer", &value.to_string())
        .unwrap();
}

async fn admin(s: &Server) -> reqwest::Client {
    let c = s.client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    c
}

#[tokio::test]
async fn the_page_shows_the_latest_verdicts_with_their_actions_and_the_banner_follows_it() {
    let s = Server::start("");
    let c = admin(&s).await;

    // no check yet: the page says how to get one, and no banner
    let page = s.page(&c, "/admin/capacity").await;
    assert!(page.contains("No capacity check yet"), "{page}");
    assert!(page.contains("scholactl check"), "{page}");
    assert!(!s.page(&c, "/admin").await.contains("capacity-banner"));

    store_check(&s, 3600);
    let page = s.page(&c, "/admin/capacity").await;
    for text in [
        "Overall: Failure",
        "(daily check)",
        "The largest school this machine holds at 8:00: 620 people (this school: 1,942).",
        "Concurrent connections",
        "needed 1,900, have 512, headroom -73 %",
        "Set [web] max_connections = 4000.",
        "Memory (RAM)",
        "needed 9.5 GiB, have 4 GiB, headroom -58 %",
        "Add 8 GiB of RAM.",
        "from the model",
        // the health check: the translated name beside the library's English detail
        "Free disk space",
        "/srv is 93 % full",
        // how we got this: input keys become names
        "people × Students online at the peak × Connections per browser",
        "Disk growth forecast",
    ] {
        assert!(page.contains(text), "{text:?} missing:\n{page}");
    }
    // every level is a word, not a colour only
    assert!(
        page.contains(">Failure</span>")
            && page.contains(">Warning</span>")
            && page.contains(">OK</span>")
    );
    assert!(page.contains("<svg"), "the need bars are inline SVG");
    // this test server is no appliance: the fix is a console command, not a button
    assert!(page.contains("scholactl check --fix"), "{page}");
    assert!(!page.contains("action=\"/admin/capacity/fix\""));

    // the banner on every admin page, counting verdicts and health checks
    for path in ["/admin", "/admin/groups", "/admin/settings"] {
        let p = s.page(&c, path).await;
        assert!(
            p.contains("Capacity check: 2 warnings, 1 failure — see Capacity"),
            "{path}: {p}"
        );
        assert!(p.contains("href=\"/admin/capacity\""));
    }
    // in the admin's language
    let de = c
        .get(s.url("/admin"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        de.contains("Kapazitätsprüfung: 2 Warnungen, 1 Fehler — siehe Kapazität"),
        "{de}"
    );
}

#[tokio::test]
async fn only_admins_see_capacity() {
    let s = Server::start("");
    store_check(&s, 60);
    let anon = s.client();
    for path in [
        "/admin/capacity",
        "/admin/capacity/report",
        "/admin/capacity/report.pdf",
    ] {
        let r = anon.get(s.url(path)).send().await.unwrap();
        assert_eq!(location(&r), "/login", "{path}");
    }
    let student = s.client();
    assert_eq!(
        s.sign_in(&student, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        303
    );
    for path in [
        "/admin/capacity",
        "/admin/capacity/report",
        "/admin/capacity/report.pdf",
    ] {
        let r = student.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("max_connections"), "{path}: {body}");
    }
    let page = s.page(&student, "/").await;
    assert!(!page.contains("capacity-banner"), "no banner for a student");
}

#[tokio::test]
async fn the_profile_form_refuses_out_of_range_values_and_saves_good_ones() {
    let s = Server::start("");
    let c = admin(&s).await;
    let csrf = s.csrf(&c, "/admin/capacity").await;
    let form = |online: &str, uplink: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("students_online", online.to_string()),
            ("staff_online", "100".into()),
            ("storm_share", "80".into()),
            ("storm_window_secs", "600".into()),
            ("uplink_bits", uplink.to_string()),
        ]
    };
    let r = c
        .post(s.url("/admin/capacity/profile"))
        .form(&form("150", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            "Students online at the peak: 150 % is out of range. Allowed: 0 % to 100 %. Nothing was saved."
        ),
        "{body}"
    );
    assert!(
        body.contains("value=\"150\""),
        "the form shows what was sent"
    );
    assert_eq!(
        s.store().capacity_profile().unwrap(),
        None,
        "nothing stored"
    );

    // a forged form changes nothing either
    let mut forged = form("50", "");
    forged[0].1 = "forged".into();
    let r = c
        .post(s.url("/admin/capacity/profile"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(s.store().capacity_profile().unwrap(), None);

    let r = c
        .post(s.url("/admin/capacity/profile"))
        .form(&form("50", "250"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/admin/capacity?done=profile#profile");
    let stored = Profile::from_json(&s.store().capacity_profile().unwrap().unwrap()).unwrap();
    assert_eq!(stored.students_online, 0.5);
    assert_eq!(stored.uplink_bits, Some(250e6), "Mbit/s on the form");
    assert_eq!(
        stored.mail_size,
        Profile::default().mail_size,
        "empty is the default"
    );
    let audit = s.store().audit_log(Some("capacity.profile"), 5, 0).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "admin");

    let page = s.page(&c, "/admin/capacity?done=profile").await;
    assert!(
        page.contains("The profile has been saved. The next check uses it."),
        "{page}"
    );
    assert!(page.contains("id=\"pf-students_online\" name=\"students_online\""));
    assert!(
        page.contains("value=\"50\""),
        "the stored value is shown: {page}"
    );
}

#[tokio::test]
async fn a_fix_is_taken_from_the_last_check_never_from_the_form() {
    let (dir, path) = school_dir("");
    // the package makes this directory on an appliance; its helpers take the requests
    let requests = dir.path().join("state/capacity-request");
    std::fs::create_dir_all(&requests).unwrap();
    populate(&open_store(&path));
    let s = Server::start_in(dir, path);
    store_check(&s, 60);
    let c = admin(&s).await;

    let page = s.page(&c, "/admin/capacity").await;
    assert!(
        page.contains("Apply: set [web] max_connections = 4000"),
        "{page}"
    );
    assert!(
        page.contains("id=\"check-now\""),
        "an appliance gets the button"
    );
    let csrf = hidden_csrf(&page).unwrap();
    let fix = |value: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("resource", "connections".to_string()),
            ("section", "web".to_string()),
            ("key", "max_connections".to_string()),
            ("value", value.to_string()),
        ]
    };

    // a value the check did not propose (though within the fix helper's range)
    let r = c
        .post(s.url("/admin/capacity/fix"))
        .form(&fix("100000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This change is not what the last check proposes.")
    );
    // another key for the same resource
    let mut other = fix("4000");
    other[3].1 = "max_in_flight".into();
    let r = c
        .post(s.url("/admin/capacity/fix"))
        .form(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        !requests.join("fix").exists(),
        "nothing left for the helper"
    );
    assert!(
        s.store()
            .audit_log(Some("capacity.fix"), 5, 0)
            .unwrap()
            .is_empty()
    );

    let r = c
        .post(s.url("/admin/capacity/fix"))
        .form(&fix("4000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        std::fs::read_to_string(requests.join("fix")).unwrap(),
        "web.max_connections=4000\n"
    );
    let audit = s.store().audit_log(Some("capacity.fix"), 5, 0).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].target.as_deref(), Some("[web] max_connections"));
    let page = s.page(&c, &location(&r)).await;
    assert!(
        page.contains("The change [web] max_connections = 4000 has been requested.")
            && page.contains("restarts the web server within a minute"),
        "{page}"
    );

    let r = c
        .post(s.url("/admin/capacity/check"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        std::fs::read_to_string(requests.join("check")).unwrap(),
        "check\n"
    );
    let page = s.page(&c, &location(&r)).await;
    assert!(page.contains("The check has been requested."), "{page}");
}

#[tokio::test]
async fn the_readiness_report_is_a_page_and_a_pdf_in_the_viewers_language() {
    let s = Server::start("");
    let c = admin(&s).await;
    let r = c
        .get(s.url("/admin/capacity/report.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no check, no report");
    store_check(&s, 60);

    let page = s.page(&c, "/admin/capacity/report").await;
    for text in [
        "Readiness report: Testschule Am See",
        "Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz",
        "1,800",
        "Set [web] max_connections = 4000.",
        "Recommended upgrade",
        "Memory (RAM): Add 8 GiB of RAM.",
        "43/s",
    ] {
        assert!(page.contains(text), "{text:?} missing:\n{page}");
    }
    assert!(
        !page.contains("class=\"subnav\""),
        "no navigation on the printable page"
    );

    let r = c
        .get(s.url("/admin/capacity/report.pdf"))
        .header("accept-language", "de-DE")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"schola-readiness-20")
            && disposition.ends_with(".pdf\""),
        "{disposition}"
    );
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let file = s.dir.path().join("report.pdf");
    std::fs::write(&file, &pdf).unwrap();
    // poppler-utils' pdftotext reads it as a reader would; without it this test fails
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext is needed (Debian package poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for t in [
        "Bereitschaftsbericht: Testschule Am See",
        "Gleichzeitige Verbindungen",
        "max_connections = 4000",
        "8 GiB Arbeitsspeicher hinzufügen.",
    ] {
        assert!(text.contains(t), "{t:?} missing from the PDF:\n{text}");
    }
}
