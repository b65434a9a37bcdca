//! Reading an event's JSON field by field, so that every fault names its rule and its path.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use super::rules;
use super::Refusal;

/// The JSON type names used in messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Joins a path and a key: `transportCall` + `vessel` is `transportCall.vessel`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The path of an array element: `transferChain` + 2 is `transferChain[2]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A JSON object being read, with its path from the event's root (empty at the root).
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object at `path`; anything else is refused under `rule`.
    pub(crate) fn new(value: &'a Value, path: String, rule: &'static str) -> Result<Self, Refusal> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => {
                let shown = if path.is_empty() { "$" } else { path.as_str() };
                Err(Refusal::new(
                    rule,
                    shown,
                    format!("expected an object, found {}", type_name(other)),
                ))
            }
        }
    }

    /// The path of `key` inside this object.
    pub(crate) fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key`; JSON `null` reads as absent, since DCSA publishers send
    /// `null` for optional fields they do not fill.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    fn wrong_type(&self, key: &str, rule: &'static str, expected: &str, found: &Value) -> Refusal {
        Refusal::new(
            rule,
            self.field(key),
            format!("expected {expected}, found {}", type_name(found)),
        )
    }

    fn missing(&self, key: &str, rule: &'static str) -> Refusal {
        Refusal::new(rule, self.field(key), "missing required field")
    }

    /// An optional string; another JSON type is refused under `rule`.
    pub(crate) fn opt_str(
        &self,
        key: &str,
        rule: &'static str,
    ) -> Result<Option<&'a str>, Refusal> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.wrong_type(key, rule, "a string", other)),
        }
    }

    /// A required string: absence is refused under `missing`, another JSON type under `rule`.
    pub(crate) fn req_str(
        &self,
        key: &str,
        missing: &'static str,
        rule: &'static str,
    ) -> Result<&'a str, Refusal> {
        self.opt_str(key, rule)?
            .ok_or_else(|| self.missing(key, missing))
    }

    /// A required string that must not be empty; emptiness is refused under `missing`.
    pub(crate) fn req_nonempty(
        &self,
        key: &str,
        missing: &'static str,
        rule: &'static str,
    ) -> Result<&'a str, Refusal> {
        let s = self.req_str(key, missing, rule)?;
        if s.trim().is_empty() {
            return Err(Refusal::new(missing, self.field(key), "must not be empty"));
        }
        Ok(s)
    }

    /// An optional nested object; another JSON type is refused under `rule`.
    pub(crate) fn opt_obj(
        &self,
        key: &str,
        rule: &'static str,
    ) -> Result<Option<Obj<'a>>, Refusal> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => Obj::new(value, self.field(key), rule).map(Some),
        }
    }

    /// A required nested object.
    pub(crate) fn req_obj(
        &self,
        key: &str,
        missing: &'static str,
        rule: &'static str,
    ) -> Result<Obj<'a>, Refusal> {
        self.opt_obj(key, rule)?
            .ok_or_else(|| self.missing(key, missing))
    }

    /// An optional array, with its path; another JSON type is refused under `rule`.
    pub(crate) fn opt_array(
        &self,
        key: &str,
        rule: &'static str,
    ) -> Result<Option<(&'a [Value], String)>, Refusal> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some((items.as_slice(), self.field(key)))),
            Some(other) => Err(self.wrong_type(key, rule, "an array", other)),
        }
    }

    /// Refuses the first key (in the map's order) that `allowed` does not list.
    pub(crate) fn deny_unknown(&self, allowed: &[&str]) -> Result<(), Refusal> {
        match self.map.keys().find(|key| !allowed.contains(&key.as_str())) {
            None => Ok(()),
            Some(key) => Err(Refusal::new(
                rules::EVENT_UNKNOWN_FIELD,
                self.field(key),
                format!("{key:?} is not a field of this object"),
            )),
        }
    }

    /// A required RFC 3339 date-time with a UTC offset.
    pub(crate) fn date_time(
        &self,
        key: &str,
        missing: &'static str,
    ) -> Result<OffsetDateTime, Refusal> {
        let s = self.req_str(key, missing, rules::EVENT_DATE_TIME)?;
        parse_date_time(s).ok_or_else(|| {
            Refusal::new(
                rules::EVENT_DATE_TIME,
                self.field(key),
                format!("{s:?} is not an RFC 3339 date-time with a UTC offset, like 2024-05-01T08:30:00+08:00"),
            )
        })
    }

    /// A required `YYYY-MM-DD` calendar date.
    pub(crate) fn date(&self, key: &str) -> Result<Date, Refusal> {
        let s = self.req_str(key, rules::EVENT_REQUIRED, rules::EVENT_DATE)?;
        parse_date(s).ok_or_else(|| {
            Refusal::new(
                rules::EVENT_DATE,
                self.field(key),
                format!("{s:?} is not a calendar date written YYYY-MM-DD"),
            )
        })
    }

    /// A required `eventID`: a UUID in its 36-character hyphenated form, any case.
    pub(crate) fn event_id(&self, missing: &'static str) -> Result<Uuid, Refusal> {
        let s = self.req_str("eventID", missing, rules::EVENT_ID_UUID)?;
        let parsed = if s.len() == 36 {
            Uuid::try_parse(s).ok()
        } else {
            None
        };
        parsed.ok_or_else(|| {
            Refusal::new(
                rules::EVENT_ID_UUID,
                self.field("eventID"),
                format!("{s:?} is not a UUID like 3cecb101-7a1a-43a4-9d62-e88a131651e2"),
            )
        })
    }

    /// Required free text of the project's own events: 1 to `max` characters, no control
    /// characters, bidirectional controls or line/paragraph separators.
    pub(crate) fn text(&self, key: &str, max: usize) -> Result<&'a str, Refusal> {
        let s = self.req_str(key, rules::EVENT_REQUIRED, rules::EVENT_TEXT)?;
        check_text(s, max)
            .map_err(|why| Refusal::new(rules::EVENT_TEXT, self.field(key), why.to_string()))?;
        Ok(s)
    }

    /// Optional free text, as [`Obj::text`].
    pub(crate) fn opt_text(&self, key: &str, max: usize) -> Result<Option<&'a str>, Refusal> {
        match self.opt_str(key, rules::EVENT_TEXT)? {
            None => Ok(None),
            Some(s) => {
                check_text(s, max).map_err(|why| {
                    Refusal::new(rules::EVENT_TEXT, self.field(key), why.to_string())
                })?;
                Ok(Some(s))
            }
        }
    }
}

/// Why a free text is refused (the message of an `EVENT_TEXT` refusal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TextFault {
    /// Empty, or only white space.
    #[error("must not be empty")]
    Empty,
    /// Longer than the field allows.
    #[error("{chars} characters, at most {max} allowed")]
    TooLong { chars: usize, max: usize },
    /// A control character, a bidirectional control or a line/paragraph separator.
    #[error("must not contain a {0}")]
    Character(super::strict::BadChar),
}

/// Whether `s` is acceptable free text of at most `max` characters; the fault if not.
pub(crate) fn check_text(s: &str, max: usize) -> Result<(), TextFault> {
    if s.trim().is_empty() {
        return Err(TextFault::Empty);
    }
    let chars = s.chars().count();
    if chars > max {
        return Err(TextFault::TooLong { chars, max });
    }
    if let Some(bad) = super::strict::bad_char(s) {
        return Err(TextFault::Character(bad));
    }
    Ok(())
}

/// Parses an RFC 3339 date-time; RFC 3339 always carries an offset (`Z` or `±hh:mm`).
pub(crate) fn parse_date_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Parses exactly `YYYY-MM-DD` into a date that exists.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_exactly_yyyy_mm_dd_and_exist() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "+024-01-01",
            "2024-01-1a",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn date_times_need_an_offset() {
        assert!(parse_date_time("2021-01-09T14:12:56+01:00").is_some());
        assert!(parse_date_time("2021-01-09T14:12:56Z").is_some());
        assert!(parse_date_time("2021-01-09T14:12:56.123Z").is_some());
        assert!(parse_date_time("2021-01-09T14:12:56").is_none());
        assert!(parse_date_time("2021-01-09").is_none());
    }

    #[test]
    fn text_bounds() {
        assert!(check_text("HONG KONG", 29).is_ok());
        assert!(check_text(" ", 29).is_err());
        assert!(check_text("a\u{0}b", 29).is_err());
        assert!(check_text("a\u{202E}b", 29).is_err());
        assert!(check_text("a\u{2028}b", 29).is_err());
        assert!(check_text(&"x".repeat(30), 29).is_err());
    }
}
