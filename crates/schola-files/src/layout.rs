//! Where things live on disk below the data root (`cfg.paths.data_dir`, `/srv/schola`):
//! `home/<login>/`, `groups/<group>/`, `exchange/`, `trash/<login>/<id>/`, `handouts/<id>.json`,
//! `.uploads/` (temporary files of uploads in progress, on the same filesystem so the final
//! rename is atomic) and `archive/<login>-<unix time>/` (homes of purged people).

use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }
    pub fn homes(&self) -> PathBuf {
        self.root.join("home")
    }
    pub fn home(&self, login: &str) -> PathBuf {
        self.homes().join(login)
    }
    pub fn groups(&self) -> PathBuf {
        self.root.join("groups")
    }
    pub fn group(&self, name: &str) -> PathBuf {
        self.groups().join(name)
    }
    pub fn exchange(&self) -> PathBuf {
        self.root.join("exchange")
    }
    pub fn trash(&self, login: &str) -> PathBuf {
        self.root.join("trash").join(login)
    }
    pub fn trash_root(&self) -> PathBuf {
        self.root.join("trash")
    }
    pub fn handouts(&self) -> PathBuf {
        self.root.join("handouts")
    }
    pub fn uploads(&self) -> PathBuf {
        self.root.join(".uploads")
    }
    pub fn archive(&self) -> PathBuf {
        self.root.join("archive")
    }

    /// Creates the top-level directories (idempotent).
    pub fn create(&self) -> std::io::Result<()> {
        for d in [
            self.homes(),
            self.groups(),
            self.exchange(),
            self.trash_root(),
            self.handouts(),
            self.uploads(),
            self.archive(),
        ] {
            std::fs::create_dir_all(&d).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot create {}: {e}", d.display()))
            })?;
        }
        Ok(())
    }
}
