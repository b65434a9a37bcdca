//! `portrelay events validate [--strict] [--dcsa-version V] FILE...`: checks files of
//! port events against the rules of `shared/STANDARDS.md` and prints one verdict line
//! per event. It calls `adapters::events::check`, the function a ledger calls on
//! `POST /v1/events`, so both give the same verdicts for the same options.
//!
//! Input: each FILE is a JSON array of events, a DCSA T&T 3.0 feed (`{"events":
//! [...]}`, the body of its `POST /events` and `GET /events`), NDJSON (one event per
//! line; blank lines are skipped) or a single JSON event (which may span lines); `-`
//! reads stdin. The format is detected: a file whose first non-blank character is `[`
//! is an array, anything else is a single event (or a feed) if it parses as one JSON
//! value, and NDJSON otherwise. DCSA T&T 2.x and 3.0 events may be mixed; each is
//! read by its shape. JSON is read strictly: an object that repeats a key makes the
//! file unreadable, naming the rule (`json.duplicate_key`), the key and where.
//!
//! Output, on stdout, one line per event:
//!
//! ```text
//! journey.json:3: ok (TRANSPORT/DEPA)
//! tnt22.json:2: ok (SHIPMENT/SHI/DRFT); warning: dcsa.shipment.event_date_time at eventDateTime: ...
//! refused.ndjson:2: refused: iso4217.currency at amount.currency: "CNH" is a market name ...
//! ```
//!
//! `--strict` refuses what is otherwise accepted with a warning that strict mode
//! refuses (`dcsa.shipment.event_date_time`), as a ledger started with
//! `--strict-events` does; `--dcsa-version 2.3` reads flat events as T&T 2.3.
//!
//! `<n>` is the event's position: its line for NDJSON and single events, its index
//! from 1 in an array.
//!
//! A file that cannot be read, is not UTF-8 or is not JSON is reported on stderr
//! (`error: <file>: <reason>`) and none of its events are printed, since a file is
//! parsed whole before its verdicts are written; the other files are still checked.
//! A count of files and verdicts goes to stderr at the end.
//!
//! Exit code: [`UNREADABLE`] (2) if any input could not be read or parsed (or stdout
//! could not be written), else [`REFUSED`] (1) if any event was refused, else
//! [`ACCEPTED`] (0).

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use adapters::events::{check, strict, Options};
use serde_json::Value;

/// Exit code: every event of every file was accepted.
pub const ACCEPTED: u8 = 0;
/// Exit code: at least one event was refused, and every input was read.
pub const REFUSED: u8 = 1;
/// Exit code: an input could not be read or is not JSON (or stdout failed).
pub use super::UNREADABLE;

/// The events of one input, each with its position (line or array index, from 1).
type Events = Vec<(usize, Value)>;

/// Validates every event of every file in `paths` (`-` is `stdin`), writes one
/// verdict line per event to `out` and problems with inputs to `err`, and returns
/// the exit code ([`ACCEPTED`], [`REFUSED`] or [`UNREADABLE`]).
pub fn validate_files(
    paths: &[PathBuf],
    options: &Options,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut out = BufWriter::new(out);
    let mut code = ACCEPTED;
    let (mut accepted, mut refused, mut unreadable) = (0usize, 0usize, 0usize);
    for path in paths {
        let name = display_name(path);
        let events = match read(path, stdin).and_then(|text| parse(&text)) {
            Ok(events) => events,
            Err(reason) => {
                // Stderr is best effort: the exit code carries the outcome.
                let _ = writeln!(
                    err,
                    "error: {}: {}",
                    one_line(&name),
                    one_line(&reason.to_string())
                );
                unreadable += 1;
                code = UNREADABLE;
                continue;
            }
        };
        if events.is_empty() {
            let _ = writeln!(err, "note: {}: no events", one_line(&name));
        }
        for (n, event) in &events {
            let verdict = match check(event, options) {
                Ok(checked) => {
                    accepted += 1;
                    let mut line = format!("ok ({})", checked.event.kind_label());
                    for warning in &checked.warnings {
                        line.push_str("; ");
                        line.push_str(&warning.to_string());
                    }
                    line
                }
                Err(refusal) => {
                    refused += 1;
                    code = code.max(REFUSED);
                    refusal.to_string()
                }
            };
            if let Err(e) = writeln!(out, "{}:{n}: {}", one_line(&name), one_line(&verdict)) {
                let _ = writeln!(err, "error: cannot write the results: {e}");
                return UNREADABLE;
            }
        }
    }
    if let Err(e) = out.flush() {
        let _ = writeln!(err, "error: cannot write the results: {e}");
        return UNREADABLE;
    }
    let _ = writeln!(
        err,
        "{} file(s): {accepted} accepted, {refused} refused, {unreadable} unreadable",
        paths.len()
    );
    code
}

/// How an input is named in the output: its path as given, `-` for stdin.
fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// Escapes control characters so that every verdict stays on one line, whatever
/// the event's keys or the file's name contain.
fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The text of `path`, or of `stdin` for `-`.
fn read(path: &Path, stdin: &mut dyn Read) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        stdin
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read: {e}"))?;
    }
    let text = String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("not UTF-8 text: {e}"))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Splits an input into events: a JSON array, a single JSON value, or NDJSON.
fn parse(text: &str) -> anyhow::Result<Events> {
    let Some(start) = text.find(|c: char| !c.is_whitespace()) else {
        return Ok(Vec::new());
    };
    let numbered = |items: Vec<Value>| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i + 1, v))
            .collect()
    };
    if text[start..].starts_with('[') {
        return match strict::parse(text) {
            Ok(Value::Array(items)) => Ok(numbered(items)),
            Ok(_) => Err(anyhow::anyhow!("not a JSON array")),
            Err(e) => Err(not_json(e)),
        };
    }
    match strict::parse(text) {
        Ok(Value::Object(map))
            if map.len() == 1 && matches!(map.get("events"), Some(Value::Array(_))) =>
        {
            // A DCSA T&T 3.0 feed: `{"events": [...]}`.
            let Some(Value::Array(items)) = map.into_iter().next().map(|(_, v)| v) else {
                return Ok(Vec::new());
            };
            return Ok(numbered(items));
        }
        Ok(value) => {
            let line = text[..start].matches('\n').count() + 1;
            return Ok(vec![(line, value)]);
        }
        // One JSON document with a key written twice: named as such.
        Err(e @ strict::StrictJsonError::DuplicateKey { .. })
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() =>
        {
            return Err(not_json(e));
        }
        Err(_) => {}
    }
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value =
            strict::parse(line).map_err(|e| anyhow::anyhow!("line {}: {}", i + 1, not_json(e)))?;
        events.push((i + 1, value));
    }
    Ok(events)
}

/// Why a text was not read: a duplicate key by its rule, anything else as "not JSON".
fn not_json(e: strict::StrictJsonError) -> anyhow::Error {
    match e {
        strict::StrictJsonError::Syntax(e) => anyhow::anyhow!("not JSON: {e}"),
        other => anyhow::anyhow!("{other}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn run(paths: &[&str], stdin: &str) -> (u8, String, String) {
        let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = validate_files(
            &paths,
            &Options::default(),
            &mut stdin.as_bytes(),
            &mut out,
            &mut err,
        );
        (
            code,
            String::from_utf8(out).unwrap_or_default(),
            String::from_utf8(err).unwrap_or_default(),
        )
    }

    const GATE_IN: &str = r#"{"eventID":"5e51e72c-d872-11ea-811c-0f8f10a32ea1","eventType":"EQUIPMENT","eventClassifierCode":"ACT","eventCreatedDateTime":"2024-05-01T14:02:00+08:00","eventDateTime":"2024-05-01T13:58:00+08:00","equipmentEventTypeCode":"GTIN","equipmentReference":"CSQU3054383","emptyIndicatorCode":"LADEN","eventLocation":{"UNLocationCode":"CNSHK"}}"#;

    #[test]
    fn formats_are_detected() {
        assert_eq!(parse("").map(|e| e.len()).ok(), Some(0));
        assert_eq!(
            parse(&format!("[{GATE_IN}, {GATE_IN}]"))
                .map(|e| e.len())
                .ok(),
            Some(2)
        );
        let ndjson = parse(&format!("{GATE_IN}\n\n{GATE_IN}\n")).unwrap();
        assert_eq!(ndjson.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 3]);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(GATE_IN).unwrap()).unwrap();
        assert_eq!(parse(&format!("\n{pretty}")).map(|e| e[0].0).ok(), Some(2));
        assert!(parse("{\"eventType\": ")
            .unwrap_err()
            .to_string()
            .starts_with("line 1: not JSON"));
        assert!(parse("[1, 2")
            .unwrap_err()
            .to_string()
            .starts_with("not JSON"));
    }

    #[test]
    fn stdin_verdicts_and_exit_codes() {
        let (code, out, _) = run(&["-"], GATE_IN);
        assert_eq!(
            (code, out.as_str()),
            (ACCEPTED, "-:1: ok (EQUIPMENT/GTIN)\n")
        );

        let bad = GATE_IN.replace("CSQU3054383", "CSQU3054384");
        let (code, out, _) = run(&["-"], &format!("{GATE_IN}\n{bad}\n"));
        assert_eq!(code, REFUSED);
        assert_eq!(
            out.lines().nth(1),
            Some("-:2: refused: iso6346.check_digit at equipmentReference: \"CSQU3054384\": check digit is 4, ISO 6346 gives 3")
        );
    }

    #[test]
    fn unreadable_input_wins_and_other_files_still_print() {
        let (code, out, err) = run(&["/nonexistent/portrelay-events.json", "-"], GATE_IN);
        assert_eq!(code, UNREADABLE);
        assert_eq!(out, "-:1: ok (EQUIPMENT/GTIN)\n");
        assert!(
            err.starts_with("error: /nonexistent/portrelay-events.json: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn verdicts_stay_on_one_line() {
        let odd_key = GATE_IN.replace(
            "\"eventType\":\"EQUIPMENT\"",
            "\"eventType\":\"LETTER_OF_CREDIT\",\"a\\nb\":1",
        );
        let (code, out, _) = run(&["-"], &odd_key);
        assert_eq!(code, REFUSED);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("a\\nb"), "{out}");
    }
}

// The `portrelay events` command line.

#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// Check events against shared/STANDARDS.md, one verdict line per event.
    ///
    /// Each FILE is a JSON array of events, NDJSON or a single event; `-` reads
    /// stdin. Prints `<file>:<n>: ok (<kind>)` or `<file>:<n>: refused: <rule> at
    /// <field>: <message>`. Exits 0 when every event is accepted, 1 when one is
    /// refused, 2 when an input cannot be read or is not JSON.
    Validate {
        /// Refuse what is otherwise accepted with a warning that strict mode refuses
        /// (a DCSA T&T 2.x SHIPMENT event whose eventDateTime is not its
        /// eventCreatedDateTime), as a ledger started with --strict-events does.
        #[arg(long)]
        strict: bool,
        /// The DCSA T&T version of the flat (2.x) events: 2.2 (the default) or 2.3;
        /// T&T 3.0 events are recognised by their shape.
        #[arg(long, value_name = "VERSION")]
        dcsa_version: Option<adapters::events::DcsaVersion>,
        /// Files of events (`-` for stdin).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: EventsCommand) -> std::process::ExitCode {
    let EventsCommand::Validate {
        strict,
        dcsa_version,
        files,
    } = cmd;
    let options = Options {
        strict,
        dcsa_version,
    };
    std::process::ExitCode::from(validate_files(
        &files,
        &options,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    ))
}
