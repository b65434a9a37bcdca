//! The customs warnings routes: `GET /v1/customs/warnings` (a page of
//! them, after an id) and `GET /v1/customs/warnings/stream` (server-sent
//! events, one `warning` event per warning with its id as the event id,
//! resumable with `Last-Event-ID`). Only warnings of sealed blocks are
//! served: they are on disk, and a restart's replay gives them the same ids.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::apps::customs::Warning;
use crate::handle::NodeHandle;

/// The most warnings one page or one read of the stream holds.
const PAGE: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WarningsQuery {
    /// Warnings with a larger id than this (0: from the first).
    #[serde(default)]
    after: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// A page of warnings.
#[derive(Debug, Serialize)]
pub(super) struct WarningsPage {
    version: u8,
    warnings: Vec<Warning>,
}

pub(super) async fn list(
    State(node): State<NodeHandle>,
    Query(q): Query<WarningsQuery>,
) -> Result<Json<WarningsPage>, ApiError> {
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(PAGE).clamp(1, PAGE);
    let warnings = node.call(move |l| l.customs_warnings(after, limit)).await?;
    Ok(Json(WarningsPage {
        version: adapters::wire::WIRE_VERSION,
        warnings,
    }))
}

/// Where a stream resumes: `Last-Event-ID` (what an `EventSource`
/// reconnecting sends), else `?after=`, else the first warning.
fn resume_after(headers: &HeaderMap, q: &WarningsQuery) -> Result<u64, ApiError> {
    match headers.get("last-event-id") {
        Some(v) => {
            let text = v.to_str().unwrap_or("").trim();
            if text.is_empty() {
                return Ok(0);
            }
            text.parse().map_err(|_| {
                ApiError::new(
                    400,
                    "bad_last_event_id",
                    format!("Last-Event-ID {text:?} is not a warning id"),
                )
            })
        }
        None => Ok(q.after.unwrap_or(0)),
    }
}

struct Cursor {
    node: NodeHandle,
    after: u64,
    ready: VecDeque<Warning>,
}

fn event(w: &Warning) -> Event {
    let data = serde_json::to_string(w).unwrap_or_else(|e| {
        // A warning is plain data; this cannot fail, but if it did the
        // officer still gets the id and what went wrong.
        format!("{{\"id\":{},\"error\":\"{e}\"}}", w.id)
    });
    Event::default()
        .id(w.id.to_string())
        .event("warning")
        .data(data)
}

pub(super) async fn stream(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Query(q): Query<WarningsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let after = resume_after(&headers, &q)?;
    let cursor = Cursor {
        node,
        after,
        ready: VecDeque::new(),
    };
    let events = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(w) = c.ready.pop_front() {
                c.after = w.id;
                let e = event(&w);
                return Some((Ok(e), c));
            }
            // The height before the read: a block sealed after it wakes the wait.
            let seen = c.node.height();
            let after = c.after;
            match c.node.call(move |l| l.customs_warnings(after, PAGE)).await {
                Ok(ws) if !ws.is_empty() => {
                    c.ready.extend(ws);
                    continue;
                }
                Ok(_) => {}
                // The ledger stopped: the stream ends; the client resumes elsewhere.
                Err(_) => return None,
            }
            c.node.wait_above(seen, Duration::from_secs(5)).await;
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(5))))
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How many warnings the page shows, newest first.
const PAGE_ROWS: usize = 100;

/// `GET /customs`: the customs warnings panel of the ledger (server-rendered,
/// no script, refreshing every 5 s): counts by rule and severity, then the
/// latest warnings.
pub(super) async fn page(
    State(node): State<NodeHandle>,
) -> Result<axum::response::Html<String>, ApiError> {
    use std::fmt::Write;
    let (tallies, latest) = node
        .call(|l| {
            let tallies = l.customs_tallies();
            let raised: u64 = tallies.warnings.values().sum();
            let from = raised.saturating_sub(PAGE_ROWS as u64);
            (tallies, l.customs_warnings(from, PAGE_ROWS))
        })
        .await?;
    let chain = esc(node.chain_id.as_str());
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>{chain} customs warnings</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2a38;background:#f6f8fa}}\
         table{{border-collapse:collapse;background:#fff}}th,td{{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;font-size:.9rem}}\
         th{{background:#eef2f6}}.high{{color:#b42318;font-weight:600}}.medium{{color:#b54708}}.low{{color:#57606a}}</style></head><body>\
         <h1>Customs warnings on {chain}</h1><p>Live: <a href=\"/v1/customs/warnings/stream\">/v1/customs/warnings/stream</a> (server-sent events); \
         JSON: <a href=\"/v1/customs/warnings\">/v1/customs/warnings</a>. This page refreshes every 5 s.</p>\
         <h2>By rule</h2><table id=\"customs-tallies\"><tr><th>rule</th><th>severity</th><th>warnings</th></tr>"
    );
    for (key, n) in &tallies.warnings {
        let (rule, severity) = key.split_once('/').unwrap_or((key, ""));
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{n}</td></tr>",
            esc(rule),
            esc(severity),
            esc(severity)
        );
    }
    let _ = write!(
        h,
        "</table><h2>Latest</h2><table id=\"customs-warnings\"><tr><th>id</th><th>severity</th><th>rule</th>\
         <th>declaration</th><th>container</th><th>port</th><th>block</th><th>what</th></tr>"
    );
    for w in latest.iter().rev() {
        let sev = w.severity.as_str();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            w.id,
            esc(&w.rule),
            esc(w.declaration.as_deref().unwrap_or("")),
            esc(w.container.as_deref().unwrap_or("")),
            esc(w.port.as_deref().unwrap_or("")),
            w.height,
            esc(&w.message)
        );
    }
    if latest.is_empty() {
        h.push_str("<tr><td colspan=\"8\">no warnings</td></tr>");
    }
    h.push_str("</table></body></html>");
    Ok(axum::response::Html(h))
}
