//! The status page at `/`: server-rendered HTML, no script and no build
//! step, refreshing itself every five seconds. It shows the networks (each
//! chain the relayer follows), each path's backlog, throughput over the last
//! minute and latency, every ledger's clients with their lag and expiry,
//! and the packets delivered last.

use std::collections::BTreeMap;
use std::fmt::Write;

use light_clients::ChainId;

use crate::relay::engine::{now, Engine};
use crate::relay::stats::Recent;

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

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2a38;background:#f6f8fa}\
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}\
table{border-collapse:collapse;background:#fff;min-width:40rem}\
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;font-size:.9rem}\
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.bad{color:#b42318;font-weight:600}.ok{color:#067647}.muted{color:#57606a}";

/// Renders the page.
pub async fn render(engine: &Engine) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>portrelay status</title>\
         <style>{STYLE}</style></head><body>\
         <h1>portrelay</h1><p class=\"muted\">Relay between port-network ledgers; this page refreshes every 5 s. \
         Metrics at <a href=\"/metrics\">/metrics</a>, JSON at <a href=\"/v1/status\">/v1/status</a>.</p>"
    );
    let ids = engine.chain_ids();
    let follow = engine.follow_states();

    h.push_str("<h2>Networks</h2><table id=\"networks\"><tr><th>chain</th><th>family</th><th>verified height</th><th>next scan</th><th>state</th></tr>");
    for id in &ids {
        let Some(chain) = engine.chain(id) else {
            continue;
        };
        let f = follow.get(id).cloned().unwrap_or_default();
        let state = match (&f.frozen, &f.last_error) {
            (Some(e), _) => format!("<span class=\"bad\">frozen: {}</span>", esc(e)),
            (None, Some(e)) => format!("<span class=\"bad\">{}</span>", esc(e)),
            (None, None) => "<span class=\"ok\">following</span>".to_string(),
        };
        let _ = write!(
            h,
            "<tr class=\"network\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{state}</td></tr>",
            esc(id.as_str()),
            chain.adapter.family().as_str(),
            f.verified_height,
            f.next_scan
        );
    }
    h.push_str("</table>");

    // Paths: backlog now; throughput and latency over the last minute.
    let mut backlog: BTreeMap<(ChainId, ChainId), usize> = BTreeMap::new();
    // Redis away: the page still renders, with no backlog figures.
    for (lane, n) in engine.queue.backlog().await.unwrap_or_default() {
        *backlog
            .entry((lane.channel.source, lane.channel.destination))
            .or_default() += n;
    }
    let recent = engine.metrics.samples.recent();
    let minute_ago = now().unix_nanos().saturating_sub(60_000_000_000);
    let mut per_path: BTreeMap<(ChainId, ChainId), Vec<&Recent>> = BTreeMap::new();
    for r in recent
        .iter()
        .filter(|r| r.confirmed.unix_nanos() >= minute_ago)
    {
        per_path
            .entry((
                r.id.channel.source.clone(),
                r.id.channel.destination.clone(),
            ))
            .or_default()
            .push(r);
    }
    let totals = engine.metrics.path_counts();
    h.push_str("<h2>Paths</h2><table id=\"paths\"><tr><th>path</th><th>backlog</th><th>delivered</th><th>packets/s (last minute)</th><th>latency p50</th><th>latency p99</th></tr>");
    for s in &ids {
        for d in &ids {
            if s == d {
                continue;
            }
            let key = (s.clone(), d.clone());
            let last = per_path.get(&key).map(Vec::as_slice).unwrap_or_default();
            let mut lat: Vec<f64> = last.iter().filter_map(|r| r.latency_ms).collect();
            lat.sort_by(f64::total_cmp);
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0} ms"));
            let delivered: u64 = totals
                .iter()
                .filter(|((a, b, _), _)| a == s && b == d)
                .map(|(_, c)| c.delivered)
                .sum();
            let _ = write!(
                h,
                "<tr class=\"path\"><td>{} &rarr; {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(s.as_str()),
                esc(d.as_str()),
                backlog.get(&key).copied().unwrap_or(0),
                delivered,
                last.len() as f64 / 60.0,
                ms(percentile(&lat, 50.0)),
                ms(percentile(&lat, 99.0)),
            );
        }
    }
    h.push_str("</table>");

    h.push_str("<h2>Clients</h2><table id=\"clients\"><tr><th>on ledger</th><th>client of</th><th>height</th><th>lag (blocks)</th><th>expires in</th><th>status</th></tr>");
    let now_s = now().unix_nanos() as f64 / 1e9;
    for host in &ids {
        let Some(c) = engine.chain(host) else {
            continue;
        };
        match c.adapter.clients().await {
            Ok(clients) => {
                for info in clients {
                    let lag = engine
                        .latest_verified(&info.chain)
                        .map_or("-".to_string(), |h| {
                            h.saturating_sub(info.latest_height).to_string()
                        });
                    let left = info.expires_at.unix_nanos() as f64 / 1e9 - now_s;
                    let status = match info.status {
                        light_clients::client::Status::Active => "<span class=\"ok\">active</span>",
                        light_clients::client::Status::Expired => {
                            "<span class=\"bad\">expired</span>"
                        }
                        light_clients::client::Status::Frozen => {
                            "<span class=\"bad\">frozen</span>"
                        }
                    };
                    let _ = write!(
                        h,
                        "<tr class=\"client\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{lag}</td><td class=\"n\">{}</td><td>{status}</td></tr>",
                        esc(host.as_str()),
                        esc(info.chain.as_str()),
                        info.latest_height,
                        humantime::format_duration(std::time::Duration::from_secs(left.max(0.0) as u64)),
                    );
                }
            }
            Err(e) => {
                let _ = write!(
                    h,
                    "<tr class=\"client\"><td>{}</td><td colspan=\"5\" class=\"bad\">{}</td></tr>",
                    esc(host.as_str()),
                    esc(&e.to_string())
                );
            }
        }
    }
    h.push_str("</table>");

    h.push_str("<h2>Recent packets</h2><table id=\"recent\"><tr><th>packet</th><th>ack</th><th>latency</th><th>confirmed</th></tr>");
    for r in recent.iter().rev().take(20) {
        let _ = write!(
            h,
            "<tr class=\"packet\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&format!("{}#{}", r.id.channel, r.id.sequence)),
            r.outcome,
            r.latency_ms
                .map_or("-".to_string(), |x| format!("{x:.0} ms")),
            esc(&r.confirmed.to_string()),
        );
    }
    if recent.is_empty() {
        h.push_str("<tr><td colspan=\"4\" class=\"muted\">none yet</td></tr>");
    }
    h.push_str("</table></body></html>");
    h
}
