//! The audit log: who did what, when and from where, newest first; searchable by text over
//! action, actor and target, by action and by a range of days; paged. The search itself is
//! `Store::search_audit` in schola-core.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::AuditEntry;
use schola_core::audit_search::AuditFilter;
use serde::Deserialize;

use crate::admin::notices::parse_day;
use crate::guard::Need;
use crate::pages::{Layout, PageResult, gate, html, urlencode};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(page));
}

const PAGE_SIZE: usize = 50;
/// The longest search text taken; the rest is cut off.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    q: String,
    action: String,
    actions: Vec<String>,
    from: String,
    to: String,
    rows: Vec<Row>,
    total: i64,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    errors: Vec<String>,
}

/// One entry as the table shows it.
struct Row {
    when: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`, for `<time datetime>`.
    when_iso: String,
    actor: String,
    addr: String,
    action: String,
    target: String,
    detail: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<usize>,
}

/// The detail JSON as `key: value` pairs: strings as they are, everything else as compact
/// JSON. Something that is not a JSON object is shown whole under an empty key.
fn detail_pairs(detail: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => "—".to_string(),
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        _ if detail.trim().is_empty() => Vec::new(),
        _ => vec![(String::new(), detail.to_string())],
    }
}

fn iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

async fn page(req: HttpRequest, state: Data, query: web::Query<AuditQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let q = query.into_inner();
    let text: String = q.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let page = q.page.unwrap_or(1).max(1);
    // a day that does not parse is reported and left out of the search
    let from = Some(q.from.trim()).filter(|d| !d.is_empty());
    let to = Some(q.to.trim()).filter(|d| !d.is_empty());
    let since = from.and_then(parse_day);
    let until = to.and_then(parse_day);
    let mut bad_days = Vec::new();
    if from.is_some() && since.is_none() {
        bad_days.push(q.from.clone());
    }
    if to.is_some() && until.is_none() {
        bad_days.push(q.to.clone());
    }
    let filter = AuditFilter {
        text: Some(text.clone()).filter(|t| !t.is_empty()),
        action: Some(q.action.clone()).filter(|a| !a.is_empty()),
        since,
        // the whole of the last day
        before: until.map(|d| d + 86_400),
    };
    let st = state.clone();
    let (school, (entries, total), actions) = web::block(move || -> schola_core::Result<_> {
        Ok((
            st.store.school()?,
            st.store
                .search_audit(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)?,
            st.store.audit_actions()?,
        ))
    })
    .await??;
    let layout = Layout::for_session(&school, &s, &req);
    let t = layout.t;
    let mut errors: Vec<String> = bad_days
        .iter()
        .map(|d| t.t1("audit-day-malformed", "value", d))
        .collect();
    if let (Some(a), Some(b)) = (since, until)
        && b < a
    {
        errors.push(t.t("audit-days-reversed"));
    }
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| {
        let mut url = format!("/admin/audit?page={p}");
        for (key, value) in [
            ("q", &text),
            ("action", &q.action),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if !value.is_empty() {
                url.push_str(&format!("&{key}={}", urlencode(value)));
            }
        }
        url
    };
    let rows = entries
        .into_iter()
        .map(|e: AuditEntry| Row {
            when: t.datetime(e.at),
            when_iso: iso(e.at),
            addr: e.client_addr.unwrap_or_default(),
            actor: e.actor,
            action: e.action,
            target: e.target.unwrap_or_default(),
            detail: detail_pairs(&e.detail),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let view = AuditPage {
        layout,
        q: text.clone(),
        action: q.action.clone(),
        actions,
        from: q.from.clone(),
        to: q.to.clone(),
        rows,
        total: total as i64,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        errors,
    };
    Ok(html(status, view.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_json_becomes_readable_pairs() {
        assert_eq!(
            detail_pairs(r#"{"role":"student","external_id":null,"n":3,"tags":["a"]}"#),
            [
                ("external_id".to_string(), "—".to_string()),
                ("n".into(), "3".into()),
                ("role".into(), "student".into()),
                ("tags".into(), r#"["a"]"#.into()),
            ]
        );
        assert!(detail_pairs("{}").is_empty());
        assert_eq!(
            detail_pairs("not json"),
            [(String::new(), "not json".into())]
        );
        assert_eq!(iso(1_795_421_100), "2026-11-23T08:05:00Z");
    }
}
