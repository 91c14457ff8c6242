//! People: the list (search, filter, pages) and, as they land, create, edit, disable, reset
//! password and bulk actions per class.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::directory::{Group, Person, PersonFilter, Role};
use serde::Deserialize;

use crate::guard::Need;
use crate::pages::{Layout, PageResult, gate, html, role_key, urlencode};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(admin));
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    counts: Vec<(String, String)>,
    q: String,
    role: String,
    roles: Vec<(&'static str, String)>,
    people: Vec<Person>,
    total: i64,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    groups: Vec<Group>,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    page: Option<usize>,
}

const PAGE_SIZE: usize = 50;

pub(crate) async fn admin(
    req: HttpRequest,
    state: Data,
    query: web::Query<AdminQuery>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let q = query.into_inner();
    let role: Option<Role> = q.role.parse().ok();
    let page = q.page.unwrap_or(1).max(1);
    let filter = PersonFilter {
        role,
        query: Some(q.q.clone()).filter(|x| !x.trim().is_empty()),
        ..Default::default()
    };
    let st = state.clone();
    let (school, (people, total), groups, counts) =
        web::block(move || -> schola_core::Result<_> {
            let counts: Vec<(Role, usize)> = Role::ALL
                .iter()
                .map(|r| st.store.count_people(Some(*r)).map(|n| (*r, n)))
                .collect::<Result<_, _>>()?;
            Ok((
                st.store.school()?,
                st.store
                    .list_people(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)?,
                st.store.list_groups(None)?,
                counts,
            ))
        })
        .await??;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| {
        let mut url = format!("/admin?page={p}");
        if !q.q.is_empty() {
            url.push_str(&format!("&q={}", urlencode(&q.q)));
        }
        if let Some(r) = role {
            url.push_str(&format!("&role={r}"));
        }
        url
    };
    let layout = Layout::for_session(&school, &s, &req);
    let t = layout.t;
    let page_view = AdminPage {
        counts: counts
            .iter()
            .map(|(r, n)| (t.t(role_key(*r)), t.number(*n as i64)))
            .collect(),
        layout,
        q: q.q.clone(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), t.t(role_key(*r))))
            .collect(),
        total: total as i64,
        people,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        groups,
    };
    Ok(html(StatusCode::OK, page_view.render()?))
}
