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
