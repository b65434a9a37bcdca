//! Strict JSON: a document whose objects name a key twice is refused by
//! name, whatever type it is read into. serde's derived structs refuse a
//! repeated field already, but maps, `serde_json::Value`, flattened and
//! untagged shapes keep the last value silently; a verifier must not read
//! a value other than the one a signer or an operator meant, so every fixed
//! shape the project reads goes through [`from_slice`] or [`from_str`]
//! (or [`check_unique_keys`] first, where a library reads the text itself).
//!
//! Unknown fields are the other half of strictness and are refused where
//! the types are declared (`#[serde(deny_unknown_fields)]`).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Why a strict JSON document was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// An object names `key` twice (line and column of the second one).
    #[error("duplicate key {key:?} at line {line} column {column}")]
    DuplicateKey {
        key: String,
        line: usize,
        column: usize,
    },
    /// A base64 field (`value` of a public key, `signature`) whose padding
    /// is malformed: an `=` opening the last, incomplete group. Refused here
    /// because tendermint's decoder (subtle-encoding 0.5.1) panics on it.
    #[error("malformed base64 {value:?} at line {line} column {column}: '=' opens its last group")]
    MalformedBase64 {
        value: String,
        line: usize,
        column: usize,
    },
    /// The text is not JSON, or not the shape expected (serde_json's words).
    #[error("{0}")]
    Malformed(serde_json::Error),
}

impl JsonError {
    /// The stable name of the refusal.
    pub fn check(&self) -> &'static str {
        match self {
            JsonError::DuplicateKey { .. } => "duplicate_key",
            JsonError::MalformedBase64 { .. } => "malformed_base64",
            JsonError::Malformed(_) => "malformed_json",
        }
    }
}

/// What the walk refused, left in its cell.
enum Refusal {
    Duplicate(String),
    Base64(String),
}

/// Keys whose string values tendermint decodes as base64.
const BASE64_KEYS: [&str; 2] = ["value", "signature"];

/// Whether `s` has a padding shape subtle-encoding 0.5.1 cannot survive:
/// a length not a multiple of 4 whose last group opens with `=`, or an `=`
/// anywhere but in the padding at the end.
fn breaks_base64_decoder(s: &str) -> bool {
    let tail = s.len() % 4;
    let opens_tail = tail != 0 && s.as_bytes()[s.len() - tail] == b'=';
    // An '=' with something else after it: the decoder's length check
    // fails (a debug assertion, so a panic in debug builds; fuzz finding).
    let inside = s.trim_end_matches('=').contains('=');
    opens_tail || inside
}

/// Refuses a document in which any object names a key twice (or a base64
/// field has the padding tendermint's decoder panics on); says nothing of
/// its shape beyond being JSON.
pub fn check_unique_keys(bytes: &[u8]) -> Result<(), JsonError> {
    let refused = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    UniqueKeys {
        refused: &refused,
        base64: false,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| {
        let refusal = refused.take();
        // The walk stops at the first refusal: text that is not JSON past
        // that point is malformed, not a document with a repeated key (a
        // fuzz finding: `{"a":1,"a":2}` then bytes that are not JSON).
        if refusal.is_some() {
            if let Err(malformed) = serde_json::from_slice::<serde_json::Value>(bytes) {
                return JsonError::Malformed(malformed);
            }
        }
        refusal_error(refusal, e)
    })
}

/// The error for what the walk refused (or for malformed text).
fn refusal_error(refusal: Option<Refusal>, e: serde_json::Error) -> JsonError {
    match refusal {
        Some(Refusal::Duplicate(key)) => JsonError::DuplicateKey {
            key,
            line: e.line(),
            column: e.column(),
        },
        Some(Refusal::Base64(value)) => JsonError::MalformedBase64 {
            value,
            line: e.line(),
            column: e.column(),
        },
        None => JsonError::Malformed(e),
    }
}

/// Reads `T` from `bytes`, refusing a repeated key anywhere in them.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    check_unique_keys(bytes)?;
    serde_json::from_slice(bytes).map_err(JsonError::Malformed)
}

/// [`from_slice`] over text.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_slice(text.as_bytes())
}

/// Walks any JSON value, keeping nothing but the keys of the object being
/// read; the first refusal is left in the cell.
#[derive(Clone, Copy)]
struct UniqueKeys<'a> {
    refused: &'a RefCell<Option<Refusal>>,
    /// The value being read is a base64 field's.
    base64: bool,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.base64 && breaks_base64_decoder(v) {
            *self.refused.borrow_mut() = Some(Refusal::Base64(v.chars().take(64).collect()));
            return Err(E::custom("malformed base64"));
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = UniqueKeys {
            base64: false,
            ..self
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                let e = de::Error::custom(format_args!("duplicate key {key:?}"));
                *self.refused.borrow_mut() = Some(Refusal::Duplicate(key));
                return Err(e);
            }
            map.next_value_seed(UniqueKeys {
                refused: self.refused,
                base64: BASE64_KEYS.contains(&key.as_str()),
            })?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_repeated_key_is_refused_by_name_at_any_depth() {
        for (text, key) in [
            (r#"{"a":1,"a":2}"#, "a"),
            (r#"{"x":{"b":[1,{"c":1,"c":1}]}}"#, "c"),
            (r#"[{"k":null},{"k":1,"z":0,"k":2}]"#, "k"),
            (r#"{"\u0061":1,"a":2}"#, "a"),
            (r#"{"q\"uote":1,"q\"uote":2}"#, "q\"uote"),
        ] {
            match check_unique_keys(text.as_bytes()) {
                Err(JsonError::DuplicateKey { key: k, line, .. }) => {
                    assert_eq!(k, key, "{text}");
                    assert_eq!(line, 1);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_same_key_in_sibling_objects_is_not_a_repeat() {
        check_unique_keys(br#"{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}"#).unwrap();
        check_unique_keys(b"  \n[1, 2.5, -3, \"s\", true, null]\n").unwrap();
    }

    #[test]
    fn maps_that_serde_would_overwrite_are_refused() {
        let text = r#"{"validators":1,"validators":2}"#;
        // What the check is for: serde_json keeps the last value of a map.
        let lenient: BTreeMap<String, u32> = serde_json::from_str(text).unwrap();
        assert_eq!(lenient["validators"], 2);
        let e = from_str::<BTreeMap<String, u32>>(text).unwrap_err();
        assert_eq!(e.check(), "duplicate_key");
        assert!(e.to_string().contains("\"validators\""), "{e}");
    }

    #[test]
    fn malformed_text_and_trailing_bytes_are_malformed() {
        for text in ["", "{", "{\"a\":1} x", "{\"a\" 1}", "[1,]"] {
            let e = check_unique_keys(text.as_bytes()).unwrap_err();
            assert_eq!(e.check(), "malformed_json", "{text:?}");
        }
        // A key that reads like the refusal is still an ordinary key.
        let e = from_str::<u8>(r#"{"duplicate key \"a\" at line 1":1}"#).unwrap_err();
        assert_eq!(e.check(), "malformed_json");
    }
}
