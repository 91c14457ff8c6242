//! Disaster recovery end to end: a school backed up with restic (schola-backup), restored onto a
//! fresh machine with `restore_server`, and the real schola-web on the restored state signs the
//! student in over HTTPS with the old password.

use schola_backup::{Layout, Restic, ServerOptions, Target};
use schola_core::Config;

use super::kit::*;

#[tokio::test]
async fn a_restored_school_signs_its_student_in_over_https() {
    let (old_dir, old_config) = school_dir("[mail]\nvmail_dir = \"vmail\"\n");
    let store = open_store(&old_config);
    populate(&store);
    let pass = old_dir.path().join("backup.pass");
    std::fs::write(&pass, "a long school passphrase\n").unwrap();
    let restic = Restic::new(Target {
        repo: old_dir.path().join("repo").to_string_lossy().into_owned(),
        password_file: pass,
    })
    .with_cache_dir(old_dir.path().join("cache"));
    restic.init().unwrap();
    let mut layout = Layout::of(&Config::load(&old_config).unwrap());
    layout.samba_passdb = old_dir.path().join("no-samba/passdb.tdb");
    schola_backup::back_up(&restic, &store, &layout).unwrap();
    drop(store);

    let (new_dir, new_config) = school_dir("[mail]\nvmail_dir = \"vmail\"\n");
    let mut target = Layout::of(&Config::load(&new_config).unwrap());
    target.samba_passdb = new_dir.path().join("no-samba/passdb.tdb");
    let done = schola_backup::restore_server(&restic, "latest", &target, ServerOptions::default())
        .unwrap();
    assert_eq!(done.people, 3, "{done:?}");

    let s = Server::start_in(new_dir, new_config);
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let home = s.page(&c, "/").await;
    assert!(home.contains("Jörg Müller"), "{home}");
    let other = s.client();
    assert_eq!(
        s.sign_in(&other, "joerg.mueller", "Sonnenblume-43")
            .await
            .status(),
        401,
        "a wrong password is still refused"
    );
}
