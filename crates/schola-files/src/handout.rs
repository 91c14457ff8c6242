//! Hand-out and collect. A teacher hands out a folder to a group: every student member gets a
//! copy in `/home/Handouts/<title>/`, with a deadline. Collecting copies each student's folder
//! into the teacher's `/home/Collected/<title>/<login>/`; when the newest change in a student's
//! copy is after the deadline, the folder is named `<login> (late)` and listed as late. Records
//! live in `handouts/<id>.json`.

use serde::{Deserialize, Serialize};

use crate::fsops::{self, FsErr};
use crate::layout::Layout;
use crate::names::{VPath, check_name};
use crate::policy::{self, Actor, Area, Op, QuotaOwner};
use crate::quota::Quotas;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Handout {
    pub id: String,
    pub teacher_id: i64,
    pub teacher_login: String,
    pub group: String,
    pub source: String,
    pub title: String,
    pub deadline: i64,
    pub created_at: i64,
    /// Students who got a copy.
    pub students: Vec<String>,
    /// Students who did not (their quota was full), with the reason.
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Collected {
    pub collected: Vec<String>,
    pub late: Vec<String>,
    /// Students whose folder was gone.
    pub missing: Vec<String>,
}

fn err(e: impl std::fmt::Display) -> FsErr {
    FsErr::Invalid(e.to_string())
}

fn path_of(layout: &Layout, id: &str) -> Result<std::path::PathBuf, FsErr> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FsErr::NotFound(format!("hand-out {id}")));
    }
    Ok(layout.handouts().join(format!("{id}.json")))
}

pub fn load(layout: &Layout, id: &str) -> Result<Handout, FsErr> {
    let p = path_of(layout, id)?;
    let b = std::fs::read(&p).map_err(|_| FsErr::NotFound(format!("hand-out {id}")))?;
    serde_json::from_slice(&b).map_err(|e| err(format!("{}: {e}", p.display())))
}

fn save(layout: &Layout, h: &Handout) -> Result<(), FsErr> {
    let p = path_of(layout, &h.id)?;
    std::fs::create_dir_all(layout.handouts()).map_err(err)?;
    let tmp = layout.handouts().join(format!(".{}.tmp", h.id));
    std::fs::write(&tmp, serde_json::to_vec_pretty(h).map_err(err)?).map_err(err)?;
    std::fs::rename(&tmp, &p).map_err(err)
}

/// All hand-outs by this teacher, newest first.
pub fn list(layout: &Layout, teacher_id: i64) -> Vec<Handout> {
    let mut v: Vec<Handout> = std::fs::read_dir(layout.handouts())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Handout>(&b).ok())
        .filter(|h| h.teacher_id == teacher_id)
        .collect();
    v.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    v
}

/// Hands out `source` (a folder the teacher may read) to the `students` (id, login) of `group`,
/// which the teacher must be allowed to write to.
#[allow(clippy::too_many_arguments)]
pub fn handout(
    layout: &Layout,
    quotas: &Quotas,
    teacher: &Actor,
    group: &str,
    students: &[(i64, String)],
    source: &VPath,
    title: &str,
    deadline: i64,
    now: i64,
) -> Result<Handout, FsErr> {
    let title = check_name(title).map_err(err)?;
    if !policy::may(teacher, &Area::Group(group.to_string()), Op::Write) {
        return Err(err(format!("you may not hand out to the group {group}")));
    }
    let src = policy::resolve(layout, teacher, source, Op::Read).map_err(err)?;
    if !fsops::existing(&src)?.is_dir() {
        return Err(err(format!("{} is not a folder", src.display())));
    }
    let size = fsops::size_of(&src.real);
    let mut h = Handout {
        id: format!("{now}-{:08x}", rand::random::<u32>()),
        teacher_id: teacher.id,
        teacher_login: teacher.login.clone(),
        group: group.to_string(),
        source: src.display(),
        title: title.clone(),
        deadline,
        created_at: now,
        students: vec![],
        skipped: vec![],
    };
    for (id, login) in students {
        let home = layout.home(login);
        let dir = home.join("Handouts");
        let owner = QuotaOwner::Person {
            id: *id,
            login: login.clone(),
        };
        let r = (|| -> Result<(), FsErr> {
            std::fs::create_dir_all(&dir).map_err(err)?;
            let dest = dir.join(&title);
            if dest.symlink_metadata().is_ok() {
                return Err(FsErr::Exists(format!("/home/Handouts/{title}")));
            }
            let _res = quotas.reserve(&owner, quotas.limit_of(&owner), size)?;
            fsops::copy_into_place(layout, &src.real, &dest).map_err(err)?;
            quotas.charge(&owner, size as i64);
            Ok(())
        })();
        match r {
            Ok(()) => h.students.push(login.clone()),
            Err(e) => h.skipped.push((login.clone(), e.to_string())),
        }
    }
    save(layout, &h)?;
    Ok(h)
}

/// Copies every student's folder into the teacher's `/home/Collected/<title>/`, replacing
/// an earlier collection; marks late ones.
pub fn collect(layout: &Layout, quotas: &Quotas, id: &str, now: i64) -> Result<Collected, FsErr> {
    let _ = now;
    let h = load(layout, id)?;
    let base = layout
        .home(&h.teacher_login)
        .join("Collected")
        .join(&h.title);
    std::fs::create_dir_all(&base).map_err(err)?;
    let teacher = QuotaOwner::Person {
        id: h.teacher_id,
        login: h.teacher_login.clone(),
    };
    let mut out = Collected::default();
    for login in &h.students {
        let src = layout.home(login).join("Handouts").join(&h.title);
        match src.symlink_metadata() {
            Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {}
            _ => {
                out.missing.push(login.clone());
                continue;
            }
        }
        let late = fsops::newest_mtime(&src) > h.deadline;
        let name = if late {
            format!("{login} (late)")
        } else {
            login.clone()
        };
        for old in [login.clone(), format!("{login} (late)")] {
            let p = base.join(&old);
            if p.symlink_metadata().is_ok() {
                let s = fsops::size_of(&p);
                std::fs::remove_dir_all(&p).map_err(err)?;
                quotas.charge(&teacher, -(s as i64));
            }
        }
        let size = fsops::size_of(&src);
        let _res = quotas.reserve(&teacher, quotas.limit_of(&teacher), size)?;
        fsops::copy_into_place(layout, &src, &base.join(&name)).map_err(err)?;
        quotas.charge(&teacher, size as i64);
        out.collected.push(login.clone());
        if late {
            out.late.push(login.clone());
        }
    }
    Ok(out)
}
