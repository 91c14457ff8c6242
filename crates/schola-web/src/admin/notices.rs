//! Notices: the admin writes short messages for everyone's start page (or only students',
//! teachers' or staff's), with an optional last day, sees the current ones and removes them.
//! The core (`schola_core::notices`) validates and stores them and writes the audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{MAX_NAME_CHARS, Role};
use schola_core::notices::{MAX_BODY_CHARS, NewNotice, Notice};
use schola_core::session::Session;
use serde::Deserialize;
use time::{Date, Month};

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, capitalise, gate, html, redirect};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/notices", web::get().to(page))
        .route("/admin/notices", web::post().to(add))
        .route("/admin/notices/{id}/remove", web::post().to(remove));
}

/// The audiences a notice can have: the form's value, the core's role, the label's key.
const AUDIENCES: [(&str, Option<Role>, &str); 4] = [
    ("all", None, "notices-audience-all"),
    ("student", Some(Role::Student), "notices-audience-students"),
    ("teacher", Some(Role::Teacher), "notices-audience-teachers"),
    ("staff", Some(Role::Staff), "notices-audience-staff"),
];

fn audience_key(a: Option<Role>) -> &'static str {
    AUDIENCES
        .iter()
        .find(|(_, r, _)| *r == a)
        .map_or("notices-audience-all", |(_, _, k)| k)
}

const SECS_PER_DAY: i64 = 86_400;

/// A day written `YYYY-MM-DD` (what `<input type="date">` sends) as the Unix time of its
/// midnight, UTC (the appliance shows times in UTC until it has a time-zone setting).
pub(crate) fn parse_day(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// A Unix time as the `YYYY-MM-DD` of its day (UTC), for a date field's value.
fn day_value(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin_notices.html")]
struct NoticesPage {
    layout: Layout,
    notices: Vec<NoticeRow>,
    form: NoticeForm,
    audiences: Vec<(&'static str, String)>,
    /// The earliest last day the date field offers: today.
    today: String,
    max_title: usize,
    max_body: usize,
    /// The body's limit written the way the reader's language writes numbers.
    max_body_text: String,
    saved: Option<String>,
    error: Option<String>,
}

struct NoticeRow {
    id: i64,
    title: String,
    body: String,
    audience: String,
    byline: String,
    expiry: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct NoticeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    expires: String,
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

type Message = Box<dyn FnOnce(&Tr) -> String>;

async fn render(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    form: NoticeForm,
    saved: Option<&'static str>,
    error: Option<Message>,
) -> PageResult {
    let st = state.clone();
    let (school, notices) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.notices(None)?))
    })
    .await??;
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let rows = notices
        .into_iter()
        .map(|n: Notice| NoticeRow {
            id: n.id,
            audience: t.t(audience_key(n.audience)),
            byline: t.targs(
                "notices-byline",
                &[
                    ("who", n.created_by.clone()),
                    ("when", t.date(n.created_at)),
                ],
            ),
            expiry: match n.expires_at {
                // the stored time is the midnight after the last day
                Some(at) => t.t1("notices-shown-until", "day", &t.date(at - SECS_PER_DAY)),
                None => t.t("notices-no-expiry"),
            },
            title: n.title,
            body: n.body,
        })
        .collect();
    let page = NoticesPage {
        notices: rows,
        form,
        audiences: AUDIENCES.iter().map(|(v, _, k)| (*v, t.t(k))).collect(),
        today: day_value(state.store.now()),
        max_title: MAX_NAME_CHARS,
        max_body: MAX_BODY_CHARS,
        max_body_text: t.number(MAX_BODY_CHARS as i64),
        saved: saved.map(|k| t.t(k)),
        error: error.map(|f| f(&t)),
        layout,
    };
    Ok(html(status, page.render()?))
}

async fn page(req: HttpRequest, state: Data, q: web::Query<Saved>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let saved = match q.saved.as_str() {
        "added" => Some("notices-added"),
        "removed" => Some("notices-removed"),
        _ => None,
    };
    let form = NoticeForm {
        audience: "all".into(),
        ..Default::default()
    };
    render(&req, &state, &s, StatusCode::OK, form, saved, None).await
}

fn actor_of(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

/// Checks the form and turns it into a notice, or says what is wrong with it.
fn parse_form(form: &NoticeForm, now: i64) -> Result<NewNotice, Message> {
    if form.title.trim().is_empty() {
        return Err(Box::new(|t: &Tr| t.t("notices-title-missing")));
    }
    let Some((_, audience, _)) = AUDIENCES.iter().find(|(v, _, _)| *v == form.audience) else {
        return Err(Box::new(|t: &Tr| t.t("notices-audience-unknown")));
    };
    let expires_at = match form.expires.trim() {
        "" => None,
        text => {
            let Some(day) = parse_day(text) else {
                let text = text.to_string();
                return Err(Box::new(move |t: &Tr| {
                    t.t1("notices-expiry-malformed", "value", &text)
                }));
            };
            let today = now.div_euclid(SECS_PER_DAY) * SECS_PER_DAY;
            if day < today {
                return Err(Box::new(move |t: &Tr| {
                    t.t1("notices-expiry-past", "day", &t.date(day))
                }));
            }
            // shown through the whole of the last day
            Some(day + SECS_PER_DAY)
        }
    };
    Ok(NewNotice {
        title: form.title.clone(),
        body: form.body.clone(),
        audience: *audience,
        expires_at,
    })
}

async fn add(req: HttpRequest, state: Data, form: web::Form<NoticeForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let form = form.into_inner();
    if !guard::eq(&form.csrf, &s.csrf) || !guard::same_origin(&req) {
        let msg: Message = Box::new(|t| t.t("form-expired"));
        return render(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            form,
            None,
            Some(msg),
        )
        .await;
    }
    let new = match parse_form(&form, state.store.now()) {
        Ok(n) => n,
        Err(msg) => {
            return render(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                None,
                Some(msg),
            )
            .await;
        }
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    match web::block(move || st.store.add_notice(&actor, &new)).await? {
        Ok(n) => {
            tracing::info!(login = %s.person.login, notice = n.id, "notice added");
            Ok(redirect("/admin/notices?saved=added"))
        }
        Err(e @ schola_core::Error::Invalid(_)) => {
            let text = capitalise(&e.to_string());
            let msg: Message = Box::new(move |_| text);
            render(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                None,
                Some(msg),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn remove(
    req: HttpRequest,
    state: Data,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let blank = NoticeForm {
        audience: "all".into(),
        ..Default::default()
    };
    if !guard::eq(&form.csrf, &s.csrf) || !guard::same_origin(&req) {
        let msg: Message = Box::new(|t| t.t("form-expired"));
        return render(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            blank,
            None,
            Some(msg),
        )
        .await;
    }
    let Ok(id) = id.parse::<i64>() else {
        let msg: Message = Box::new(|t| t.t("notices-unknown"));
        return render(
            &req,
            &state,
            &s,
            StatusCode::NOT_FOUND,
            blank,
            None,
            Some(msg),
        )
        .await;
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    match web::block(move || st.store.remove_notice(&actor, id)).await? {
        Ok(()) => {
            tracing::info!(login = %s.person.login, notice = id, "notice removed");
            Ok(redirect("/admin/notices?saved=removed"))
        }
        Err(schola_core::Error::NotFound(_)) => {
            let msg: Message = Box::new(|t| t.t("notices-unknown"));
            render(
                &req,
                &state,
                &s,
                StatusCode::NOT_FOUND,
                blank,
                None,
                Some(msg),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audience_has_a_label() {
        for lang in schola_core::directory::Language::ALL {
            let t = Tr::new(*lang);
            for (_, role, key) in AUDIENCES {
                assert_ne!(t.t(key), key, "{lang}");
                assert_eq!(audience_key(role), key);
            }
        }
    }

    #[test]
    fn days_are_parsed_strictly() {
        // 2026-11-23 00:00 UTC
        assert_eq!(parse_day("2026-11-23"), Some(1_795_392_000));
        assert_eq!(parse_day(" 2026-11-23 "), Some(1_795_392_000));
        for bad in [
            "2026-02-30",
            "23.11.2026",
            "2026-1-5",
            "2026-11-23x",
            "",
            "tomorrow",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        assert_eq!(day_value(1_795_421_100), "2026-11-23");
    }

    #[test]
    fn the_form_is_checked_before_anything_is_stored() {
        let now = 1_795_421_100; // 2026-11-23 08:05 UTC
        let form = |title: &str, audience: &str, expires: &str| NoticeForm {
            title: title.into(),
            audience: audience.into(),
            expires: expires.into(),
            ..Default::default()
        };
        let t = Tr::default();
        let err = |f: NoticeForm| parse_form(&f, now).err().map(|m| m(&t));
        assert_eq!(
            err(form("  ", "all", "")).as_deref(),
            Some(t.t("notices-title-missing").as_str())
        );
        assert!(err(form("x", "admin", "")).is_some());
        assert!(
            err(form("x", "all", "2026-11-22"))
                .unwrap()
                .contains("22 Nov 2026")
        );
        assert!(
            err(form("x", "all", "next week"))
                .unwrap()
                .contains("next week")
        );
        let today = parse_form(&form("x", "teacher", "2026-11-23"), now)
            .ok()
            .unwrap();
        assert_eq!(today.audience, Some(Role::Teacher));
        assert_eq!(today.expires_at, Some(1_795_392_000 + SECS_PER_DAY));
    }
}
