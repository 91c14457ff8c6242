//! Groups and classes: the list with a form for a new one, and a group's page with its members
//! and owners, adding and removing people, and bulk actions on the chosen members (disable,
//! enable, reset passwords with a printable list, remove), each in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::directory::{Group, GroupKind, MemberRole, NewGroup, Person, Status};
use schola_core::directory_admin::generate_password;
use schola_core::session::Session;
use serde::Deserialize;

use super::people::{Msg, Opt, actor, bad_choice, expired, form_ok, not_found, refusal};
use crate::guard::Need;
use crate::pages::{Layout, PageResult, gate, html, kind_key, redirect, school, urlencode};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/groups", web::get().to(list))
        .route("/admin/groups", web::post().to(create))
        .route("/admin/groups/{name}", web::get().to(group_page))
        .route("/admin/groups/{name}/members", web::post().to(add))
        .route("/admin/groups/{name}/remove", web::post().to(remove))
        .route("/admin/groups/{name}/bulk", web::post().to(bulk));
}

// ---- the list ----

#[derive(Default)]
struct NewValues {
    name: String,
    display_name: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    layout: Layout,
    groups: Vec<Group>,
    kinds: Vec<Opt>,
    v: NewValues,
    error: Option<String>,
}

async fn render_list(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    v: NewValues,
    error: Option<Msg>,
) -> PageResult {
    let st = state.clone();
    let (school, groups) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.list_groups(None)?))
    })
    .await??;
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let page = GroupsPage {
        kinds: GroupKind::ALL
            .iter()
            .map(|k| Opt {
                value: k.as_str().into(),
                label: t.t(kind_key(*k)),
                selected: k.as_str() == v.kind,
            })
            .collect(),
        groups,
        v,
        error: error.map(|e| e.show(&t)),
        layout,
    };
    Ok(html(status, page.render()?))
}

async fn list(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let v = NewValues {
        kind: GroupKind::Class.as_str().into(),
        ..Default::default()
    };
    render_list(&req, &state, &s, StatusCode::OK, v, None).await
}

#[derive(Deserialize)]
pub struct NewForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    kind: String,
}

async fn create(req: HttpRequest, state: Data, form: web::Form<NewForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    if !form_ok(&req, &s, &f.csrf) {
        return expired(&req, &state, &s).await;
    }
    let v = NewValues {
        name: f.name.trim().to_string(),
        display_name: f.display_name,
        kind: f.kind,
    };
    let Ok(kind) = v.kind.parse::<GroupKind>() else {
        let (status, msg) = bad_choice();
        return render_list(&req, &state, &s, status, v, Some(msg)).await;
    };
    let new = NewGroup {
        name: v.name.clone(),
        display_name: Some(v.display_name.trim().to_string()).filter(|d| !d.is_empty()),
        kind,
        external_id: None,
    };
    let st = state.clone();
    let who = actor(&req, &s);
    match web::block(move || st.store.create_group(&who, new)).await? {
        Ok(g) => Ok(redirect(&format!("{}?saved=created", group_url(&g.name)))),
        Err(e) => {
            let (status, msg) = refusal(e)?;
            render_list(&req, &state, &s, status, v, Some(msg)).await
        }
    }
}

// ---- a group's page ----

#[derive(Template)]
#[template(path = "admin_groups_group.html")]
struct GroupPage {
    layout: Layout,
    group: Group,
    members: Vec<Person>,
    owners: Vec<Person>,
    add_login: String,
    notice: Option<String>,
    error: Option<String>,
}

fn group_url(name: &str) -> String {
    format!("/admin/groups/{}", urlencode(name))
}

enum Outcome {
    None,
    Notice(Msg),
    Refused(Msg),
}

async fn render_group(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    name: String,
    status: StatusCode,
    outcome: Outcome,
    add_login: String,
) -> PageResult {
    let st = state.clone();
    let found = web::block(move || -> schola_core::Result<_> {
        let Some(g) = st.store.group(&name)? else {
            return Ok(None);
        };
        Ok(Some((
            st.store.school()?,
            st.store.group_members(&name)?,
            g,
        )))
    })
    .await??;
    let Some((school, people, group)) = found else {
        return not_found(req, state, s).await;
    };
    let (owners, members): (Vec<_>, Vec<_>) = people
        .into_iter()
        .partition(|(_, r)| *r == MemberRole::Owner);
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let (notice, error) = match outcome {
        Outcome::None => (None, None),
        Outcome::Notice(m) => (Some(m.show(&t)), None),
        Outcome::Refused(m) => (None, Some(m.show(&t))),
    };
    let page = GroupPage {
        group,
        members: members.into_iter().map(|(p, _)| p).collect(),
        owners: owners.into_iter().map(|(p, _)| p).collect(),
        add_login,
        notice,
        error,
        layout,
    };
    Ok(html(status, page.render()?))
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    n: String,
}

/// The notices a redirect after a change asks for (`?saved=…`): plain ones, then counted ones.
const NOTICES: &[(&str, &str)] = &[
    ("created", "groups-created"),
    ("added", "groups-added"),
    ("removed", "groups-removed"),
];
const COUNTED: &[(&str, &str)] = &[
    ("disabled", "groups-bulk-disabled"),
    ("enabled", "groups-bulk-enabled"),
    ("removed-many", "groups-bulk-removed"),
];

fn notice_for(done: &Done) -> Outcome {
    if let Some((_, key)) = NOTICES.iter().find(|(k, _)| *k == done.saved) {
        return Outcome::Notice(Msg::Key(key));
    }
    if let Some((_, key)) = COUNTED.iter().find(|(k, _)| *k == done.saved) {
        let n = done.n.parse::<i64>().unwrap_or(0).max(0);
        return Outcome::Notice(Msg::Count(key, n));
    }
    Outcome::None
}

async fn group_page(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    q: web::Query<Done>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let outcome = notice_for(&q);
    render_group(
        &req,
        &state,
        &s,
        path.into_inner(),
        StatusCode::OK,
        outcome,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct MemberForm {
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    role: String,
}

/// Adds a person (by login) as member or owner.
async fn add(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> PageResult {
    change(req, state, path.into_inner(), form.into_inner(), true).await
}

/// Removes a person as member or owner.
async fn remove(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> PageResult {
    change(req, state, path.into_inner(), form.into_inner(), false).await
}

async fn change(
    req: HttpRequest,
    state: Data,
    name: String,
    f: MemberForm,
    add: bool,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &f.csrf) {
        return expired(&req, &state, &s).await;
    }
    let login = f.login.trim().to_lowercase();
    let Ok(role) = f.role.parse::<MemberRole>() else {
        let (status, msg) = bad_choice();
        let outcome = Outcome::Refused(msg);
        return render_group(&req, &state, &s, name, status, outcome, login).await;
    };
    let st = state.clone();
    let who = actor(&req, &s);
    let (g, l) = (name.clone(), login.clone());
    let done = web::block(move || {
        if add {
            st.store.add_member(&who, &g, &l, role)
        } else {
            st.store.remove_member(&who, &g, &l, role)
        }
    })
    .await?;
    match done {
        Ok(_) => {
            let saved = if add { "added" } else { "removed" };
            Ok(redirect(&format!("{}?saved={saved}", group_url(&name))))
        }
        Err(e) => {
            let (status, msg) = refusal(e)?;
            let keep = if add { login } else { String::new() };
            render_group(&req, &state, &s, name, status, Outcome::Refused(msg), keep).await
        }
    }
}

// ---- bulk actions ----

#[derive(Template)]
#[template(path = "admin_groups_passwords.html")]
struct PasswordsPage {
    layout: Layout,
    group: Group,
    /// Display name, login, new password.
    rows: Vec<(String, String, String)>,
}

/// A bulk action on the chosen members (`login` once per ticked box, or `all`): disable,
/// enable, reset passwords or remove from the group. All or nothing, in one transaction.
async fn bulk(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let fields = form.into_inner();
    let field = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if !form_ok(&req, &s, field("csrf")) {
        return expired(&req, &state, &s).await;
    }
    let name = path.into_inner();
    let action = field("action").to_string();
    let all = !field("all").is_empty();
    let chosen: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "login")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let refuse = |status, msg| {
        render_group(
            &req,
            &state,
            &s,
            name.clone(),
            status,
            Outcome::Refused(msg),
            String::new(),
        )
    };
    if action.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Msg::Key("groups-bulk-no-action"),
        )
        .await;
    }
    if !["disable", "enable", "reset", "remove"].contains(&action.as_str()) {
        let (status, msg) = bad_choice();
        return refuse(status, msg).await;
    }
    let st = state.clone();
    let g = name.clone();
    let Some(members) = web::block(move || -> schola_core::Result<_> {
        if st.store.group(&g)?.is_none() {
            return Ok(None);
        }
        Ok(Some(st.store.group_members(&g)?))
    })
    .await??
    else {
        return not_found(&req, &state, &s).await;
    };
    let members: Vec<Person> = members
        .into_iter()
        .filter(|(_, r)| *r == MemberRole::Member)
        .map(|(p, _)| p)
        .collect();
    let logins: Vec<String> = if all {
        members.iter().map(|p| p.login.clone()).collect()
    } else {
        chosen
    };
    if logins.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Msg::Key("groups-bulk-none"),
        )
        .await;
    }
    let who = actor(&req, &s);
    let st = state.clone();
    let grace = state.cfg.directory.purge_grace_days;
    let g = name.clone();
    let done = match action.as_str() {
        "reset" => return reset_passwords(&req, &state, &s, name, members, logins).await,
        "remove" => {
            web::block(move || {
                st.store.batch(&who, |b| {
                    let mut n = 0;
                    for l in &logins {
                        if b.remove_member(&g, l, MemberRole::Member)? {
                            n += 1;
                        }
                    }
                    Ok(n)
                })
            })
            .await?
        }
        _ => {
            let status = if action == "disable" {
                Status::Disabled
            } else {
                Status::Active
            };
            web::block(move || {
                st.store
                    .set_members_status(&who, &g, &logins, status, grace)
            })
            .await?
        }
    };
    match done {
        Ok(n) => {
            let saved = match action.as_str() {
                "disable" => "disabled",
                "enable" => "enabled",
                _ => "removed-many",
            };
            tracing::info!(admin = %s.person.login, group = %name, action = %action, people = n, "bulk change");
            Ok(redirect(&format!(
                "{}?saved={saved}&n={n}",
                group_url(&name)
            )))
        }
        Err(e) => {
            let (status, msg) = refusal(e)?;
            refuse(status, msg).await
        }
    }
}

/// New passwords for the chosen members, stored in one transaction and shown once as a
/// printable list.
async fn reset_passwords(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    name: String,
    members: Vec<Person>,
    logins: Vec<String>,
) -> PageResult {
    // refused before any hashing: a login that is not a member of this group
    if let Some(stranger) = logins
        .iter()
        .find(|l| !members.iter().any(|p| &p.login == *l))
    {
        let msg = Msg::Text(crate::pages::capitalise(&format!(
            "'{stranger}' is not a member of the group '{name}'"
        )));
        return render_group(
            req,
            state,
            s,
            name,
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome::Refused(msg),
            String::new(),
        )
        .await;
    }
    let mut rows = Vec::new();
    let mut hashes = Vec::new();
    for p in members.iter().filter(|p| logins.contains(&p.login)) {
        let password = generate_password(&state.password_policy(), &p.login)?;
        hashes.push((p.login.clone(), state.pool.hash(password.clone()).await?));
        rows.push((p.display_name.clone(), p.login.clone(), password));
    }
    let st = state.clone();
    let who = actor(req, s);
    let g = name.clone();
    let stored = web::block(move || -> schola_core::Result<_> {
        st.store.set_members_passwords(&who, &g, &hashes)?;
        st.store.group(&g)
    })
    .await?;
    let group = match stored {
        Ok(Some(group)) => group,
        Ok(None) => return not_found(req, state, s).await,
        Err(e) => {
            let (status, msg) = refusal(e)?;
            let outcome = Outcome::Refused(msg);
            return render_group(req, state, s, name, status, outcome, String::new()).await;
        }
    };
    tracing::info!(admin = %s.person.login, group = %name, people = rows.len(), "passwords reset");
    let page = PasswordsPage {
        layout: Layout::for_session(&school(state).await?, s, req),
        group,
        rows,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

#[cfg(test)]
mod tests {
    use schola_core::directory::Language;

    use super::*;
    use crate::i18n::Tr;

    #[test]
    fn the_notices_after_a_change_are_translated() {
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for (_, key) in NOTICES {
                assert_ne!(t.t(key), *key, "{lang}: {key}");
            }
            for (_, key) in COUNTED {
                let text = t.tn(key, 3);
                assert!(
                    text.starts_with('3') && text != *key,
                    "{lang}: {key}: {text}"
                );
            }
        }
    }
}
