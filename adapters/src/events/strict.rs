//! Strict JSON at the edge: a parse that refuses duplicate keys by name, and the
//! characters no string of an event may hold.
//!
//! `serde_json` keeps the last of two equal keys, so `{"eventID": "a", "eventID":
//! "b"}` would reach validation as `b` while a reader of the bytes sees `a`.
//! [`parse`] reads the same grammar but refuses the second key, naming it and its
//! path. Every place that takes an event from outside (the `events validate`
//! command, a ledger's `POST /v1/events` and `/v1/events/batch`) parses with it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::{index, join};
use super::{rules, Refusal};

/// Why a text is not strict JSON: its syntax, or a key written twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrictJsonError {
    /// A key appears twice in one object (rule `json.duplicate_key`).
    #[error("json.duplicate_key: {message}")]
    DuplicateKey {
        /// The key, its path and where it is, in words.
        message: String,
    },
    /// Not JSON at all.
    #[error("{0}")]
    Syntax(serde_json::Error),
}

impl StrictJsonError {
    /// The stable rule identifier of a duplicate key, `None` for other faults.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            StrictJsonError::DuplicateKey { .. } => Some(rules::JSON_DUPLICATE_KEY),
            StrictJsonError::Syntax(_) => None,
        }
    }
}

/// How a duplicate key's serde error starts, so that it is told apart from other
/// serde errors here and, through `axum`'s JSON rejection, at a ledger's RPC.
const DUPLICATE: &str = "json.duplicate_key: ";

/// For `#[serde(deserialize_with)]`: a [`Value`] read refusing duplicate keys.
pub fn deserialize_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    ValueSeed {
        path: String::new(),
    }
    .deserialize(deserializer)
}

/// Parses one JSON value, refusing any object that repeats a key.
pub fn parse(text: &str) -> Result<Value, StrictJsonError> {
    from_deserializer(&mut serde_json::Deserializer::from_str(text))
}

/// [`parse`] over bytes.
pub fn parse_slice(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    from_deserializer(&mut serde_json::Deserializer::from_slice(bytes))
}

/// Parses strict JSON into `T` (e.g. a request body): duplicate keys refused
/// first, then `T`'s own deserialisation.
pub fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StrictJsonError> {
    let value = parse_slice(bytes)?;
    serde_json::from_value(value).map_err(StrictJsonError::Syntax)
}

fn from_deserializer<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
) -> Result<Value, StrictJsonError> {
    let value = ValueSeed {
        path: String::new(),
    }
    .deserialize(&mut *de)
    .and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(DUPLICATE) {
            Some(rest) => StrictJsonError::DuplicateKey {
                message: rest.to_string(),
            },
            None => StrictJsonError::Syntax(e),
        }
    })
}

/// Builds a [`Value`] like serde_json's own, refusing repeated keys.
struct ValueSeed {
    path: String,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed {
            path: index(&self.path, items.len()),
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            if out.contains_key(&key) {
                let at = if self.path.is_empty() {
                    "the top level".to_string()
                } else {
                    self.path.clone()
                };
                return Err(de::Error::custom(format!(
                    "{DUPLICATE}key {key:?} appears twice in the object at {at}; JSON readers disagree on which one counts"
                )));
            }
            let value = map.next_value_seed(ValueSeed { path })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ValueSeed {
            path: String::new(),
        }
        .deserialize(deserializer)
        .map(StrictValue)
    }
}

/// A JSON value that was read refusing duplicate keys; for `serde` fields that
/// take an event from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct StrictValue(pub Value);

/// Why a character is refused in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadChar {
    /// A C0 or C1 control character (tab and newline included).
    Control(char),
    /// A bidirectional embedding, override or isolate (U+202A–U+202E, U+2066–U+2069).
    Bidi(char),
    /// The line or paragraph separator (U+2028, U+2029).
    Separator(char),
}

impl fmt::Display for BadChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadChar::Control(c) => write!(f, "control character U+{:04X}", u32::from(*c)),
            BadChar::Bidi(c) => write!(
                f,
                "bidirectional control U+{:04X} (it can make text display other than it reads)",
                u32::from(*c)
            ),
            BadChar::Separator(c) => write!(
                f,
                "{} separator U+{:04X}",
                if *c == '\u{2028}' {
                    "line"
                } else {
                    "paragraph"
                },
                u32::from(*c)
            ),
        }
    }
}

/// The first character of `s` no free text may hold.
pub(crate) fn bad_char(s: &str) -> Option<BadChar> {
    s.chars().find_map(|c| match c {
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(BadChar::Bidi(c)),
        '\u{2028}' | '\u{2029}' => Some(BadChar::Separator(c)),
        c if c.is_control() => Some(BadChar::Control(c)),
        _ => None,
    })
}

/// Refuses the first key or string anywhere in `value` that holds a control
/// character, a bidirectional control or a line/paragraph separator
/// (`json.characters`).
pub(crate) fn check_characters(value: &Value) -> Result<(), Refusal> {
    walk(value, "")
}

fn walk(value: &Value, path: &str) -> Result<(), Refusal> {
    match value {
        Value::String(s) => match bad_char(s) {
            None => Ok(()),
            Some(bad) => Err(Refusal::new(
                rules::JSON_CHARACTERS,
                if path.is_empty() { "$" } else { path },
                format!("holds a {bad}"),
            )),
        },
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| walk(item, &index(path, i))),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let at = join(path, key);
            if let Some(bad) = bad_char(key) {
                return Err(Refusal::new(
                    rules::JSON_CHARACTERS,
                    at.escape_default().to_string(),
                    format!("the key holds a {bad}"),
                ));
            }
            walk(item, &at)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_by_name_and_path() {
        let e = parse(r#"{"a": 1, "b": {"c": 1, "c": 2}}"#).unwrap_err();
        assert_eq!(e.rule(), Some("json.duplicate_key"));
        let text = e.to_string();
        assert!(
            text.starts_with("json.duplicate_key: key \"c\" appears twice in the object at b"),
            "{text}"
        );
        assert!(text.contains("line 1"), "{text}");
        let e = parse(r#"{"eventID": "x", "eventID": "y"}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"eventID\" appears twice in the object at the top level"),
            "{e}"
        );
        let e = parse(r#"[{}, {"k": [ {"x": 1, "x": 1} ]}]"#).unwrap_err();
        assert!(e.to_string().contains("at [1].k[0]"), "{e}");
    }

    #[test]
    fn everything_else_reads_as_serde_json_reads_it() {
        for text in [
            r#"{"a": [1, -2, 3.5, true, null, "x\u00e9"], "b": {"c": {}}}"#,
            "[]",
            "\"s\"",
            "18446744073709551615",
        ] {
            assert_eq!(
                parse(text).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
        assert!(matches!(
            parse("{\"a\": 1,}"),
            Err(StrictJsonError::Syntax(_))
        ));
        assert!(matches!(parse("{} {}"), Err(StrictJsonError::Syntax(_))));
    }

    #[test]
    fn bad_characters_are_named() {
        assert_eq!(bad_char("Rotterdam"), None);
        assert_eq!(bad_char("a\u{202E}b"), Some(BadChar::Bidi('\u{202E}')));
        assert_eq!(bad_char("a\u{2066}b"), Some(BadChar::Bidi('\u{2066}')));
        assert_eq!(bad_char("a\u{2028}b"), Some(BadChar::Separator('\u{2028}')));
        assert_eq!(bad_char("a\u{2029}b"), Some(BadChar::Separator('\u{2029}')));
        assert_eq!(bad_char("a\tb"), Some(BadChar::Control('\t')));
        assert_eq!(bad_char("a\u{85}b"), Some(BadChar::Control('\u{85}')));
        // Arabic and Hebrew text itself is fine; only the invisible controls are not.
        assert_eq!(bad_char("ميناء"), None);
        assert_eq!(bad_char("נמל"), None);
    }

    #[test]
    fn strict_values_deserialise_inside_requests() {
        #[derive(Deserialize)]
        struct Request {
            event: StrictValue,
        }
        let ok: Request = serde_json::from_str(r#"{"event": {"a": 1}}"#).unwrap();
        assert_eq!(ok.event.0["a"], 1);
        let err = serde_json::from_str::<Request>(r#"{"event": {"a": 1, "a": 2}}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"a\" appears twice"), "{err}");
    }
}
