use crate::kit::{DOMAIN, PASSWORD, School};

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_student_mails_a_teacher_and_the_teacher_mails_the_class() {
    let s = School::start(|_| {});
    let out = s.send(
        Some(("anna", PASSWORD)),
        &format!("anna@{DOMAIN}"),
        &[&format!("carla@{DOMAIN}")],
        "Hausaufgabe Mathe",
        &["--body", "Liebe Frau Weiss, anbei meine Hausaufgabe."],
    );
    assert!(out.status.success(), "anna's mail was refused:\n{}", text(&out));
    s.wait_for_subject("carla", "Hausaufgabe Mathe");

    let out = s.send(
        Some(("carla", PASSWORD)),
        &format!("carla@{DOMAIN}"),
        &[&format!("5a@{DOMAIN}")],
        "Wandertag am Freitag",
        &[],
    );
    assert!(out.status.success(), "carla's mail to 5a was refused:\n{}", text(&out));
    s.wait_for_subject("anna", "Wandertag am Freitag");
    s.wait_for_subject("ben", "Wandertag am Freitag");
}
