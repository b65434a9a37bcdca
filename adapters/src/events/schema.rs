//! DCSA's published schemas as tables, and the walk that holds an event to them.
//!
//! A [`Shape`] lists an object's properties as the OpenAPI schema gives them: type,
//! `maxLength`, `maxItems`, enumeration (each code with the versions that have it)
//! and the required ones. [`check`] walks an event against its shape: every
//! property the schema defines is held to it, and every property it does not define
//! is carried as it is but bounded ([`UNKNOWN_BOUNDS`]), so a feed cannot smuggle an
//! unbounded blob through fields nobody reads. The typed views in `dcsa.rs` and
//! `dcsa3.rs` then add the rules that span fields (ISO 6346, UN/LOCODE, customs).
//!
//! JSON `null` reads as absent, as DCSA publishers send it for optional fields.

use serde_json::Value;

use super::json::{index, join, parse_date, parse_date_time};
use super::{rules, DcsaVersion, Refusal};

/// A code of an enumeration and the versions that define it (inclusive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Code {
    pub code: &'static str,
    pub from: DcsaVersion,
    pub to: DcsaVersion,
}

/// A code that every version of the table's family has.
pub(crate) const fn c(code: &'static str) -> Code {
    Code {
        code,
        from: DcsaVersion::V2_2,
        to: DcsaVersion::V3_0,
    }
}

/// A code that arrived in T&T 2.3.
pub(crate) const fn since_2_3(code: &'static str) -> Code {
    Code {
        code,
        from: DcsaVersion::V2_3,
        to: DcsaVersion::V3_0,
    }
}

/// A code that only T&T 2.2 has (2.3 corrected it).
pub(crate) const fn only_2_2(code: &'static str) -> Code {
    Code {
        code,
        from: DcsaVersion::V2_2,
        to: DcsaVersion::V2_2,
    }
}

/// The type of a property.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A string of at most `max` characters (`None`: the schema gives no bound).
    Str(Option<usize>),
    /// A string from an enumeration, with the schema's `maxLength` if it gives one.
    Code(&'static [Code], Option<usize>),
    /// An RFC 3339 date-time with an offset (`format: date-time`), with the
    /// schema's `maxLength` if it gives one.
    DateTime(Option<usize>),
    /// A `YYYY-MM-DD` date (`format: date`).
    Date,
    /// A UUID in its hyphenated form (`format: uuid`).
    Uuid,
    /// A UN/LOCODE: the pattern, the ISO 3166-1 country and the code list
    /// (`unlocode.pattern`, `unlocode.country`, `unlocode.unknown`).
    UnLocode,
    /// A JSON integer.
    Int,
    /// A JSON number.
    Num,
    /// A JSON boolean.
    Bool,
    /// A nested object.
    Obj(&'static Shape),
    /// An array of items, with the schema's `maxItems` if it gives one.
    List(&'static Ty, Option<usize>),
}

/// One property of an object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prop {
    pub name: &'static str,
    pub ty: Ty,
    /// The rule a length or code fault is refused under; `None` for the generic
    /// `dcsa.length` / `dcsa.code`.
    pub rule: Option<&'static str>,
}

/// A property refused under the generic rules.
pub(crate) const fn p(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        rule: None,
    }
}

/// A property whose faults carry their own rule.
pub(crate) const fn pr(name: &'static str, ty: Ty, rule: &'static str) -> Prop {
    Prop {
        name,
        ty,
        rule: Some(rule),
    }
}

/// An object: its properties and which of them are required.
#[derive(Debug)]
pub(crate) struct Shape {
    pub props: &'static [Prop],
    pub required: &'static [&'static str],
}

/// The bounds on a property the schema does not define: carried as it is, but no
/// larger than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownBounds {
    /// Characters in a key.
    pub key_chars: usize,
    /// Characters in a string value.
    pub string_chars: usize,
    /// Items in an array, keys in an object.
    pub items: usize,
    /// Nesting below the unknown property.
    pub depth: usize,
}

/// What a property the schema does not define may hold.
pub const UNKNOWN_BOUNDS: UnknownBounds = UnknownBounds {
    key_chars: 100,
    string_chars: 1000,
    items: 100,
    depth: 8,
};

/// Checks `value` (an object at `path`) against `shape` for `version`.
pub(crate) fn check(
    value: &Value,
    shape: &Shape,
    path: &str,
    version: DcsaVersion,
) -> Result<(), Refusal> {
    let Value::Object(map) = value else {
        return Err(wrong_type(path, "an object", value));
    };
    for name in shape.required {
        match map.get(*name) {
            None | Some(Value::Null) => {
                return Err(Refusal::new(
                    rules::DCSA_REQUIRED,
                    field(path, name),
                    format!("missing; DCSA T&T {version} requires it"),
                ))
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(Refusal::new(
                    rules::DCSA_REQUIRED,
                    field(path, name),
                    "must not be empty",
                ))
            }
            Some(_) => {}
        }
    }
    for (key, item) in map {
        let at = join(path, key);
        match shape.props.iter().find(|prop| prop.name == key) {
            Some(prop) => {
                if !item.is_null() {
                    check_ty(item, &prop.ty, prop.rule, &at, version)?;
                }
            }
            None => check_unknown(key, item, &at, 0)?,
        }
    }
    Ok(())
}

fn field(path: &str, key: &str) -> String {
    join(path, key)
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "$"
    } else {
        path
    }
}

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

fn wrong_type(path: &str, expected: &str, found: &Value) -> Refusal {
    Refusal::new(
        rules::EVENT_FIELD_TYPE,
        shown(path),
        format!("expected {expected}, found {}", type_name(found)),
    )
}

fn string<'v>(
    value: &'v Value,
    path: &str,
    rule: Option<&'static str>,
) -> Result<&'v str, Refusal> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(Refusal::new(
            rule.unwrap_or(rules::EVENT_FIELD_TYPE),
            shown(path),
            format!("expected a string, found {}", type_name(other)),
        )),
    }
}

fn bounded(
    s: &str,
    max: Option<usize>,
    path: &str,
    rule: Option<&'static str>,
) -> Result<(), Refusal> {
    if let Some(max) = max {
        let chars = s.chars().count();
        if chars > max {
            return Err(Refusal::new(
                rule.unwrap_or(rules::DCSA_LENGTH),
                shown(path),
                format!("{chars} characters, the schema allows at most {max}"),
            ));
        }
    }
    Ok(())
}

fn check_ty(
    value: &Value,
    ty: &Ty,
    rule: Option<&'static str>,
    path: &str,
    version: DcsaVersion,
) -> Result<(), Refusal> {
    match ty {
        Ty::Str(max) => bounded(string(value, path, rule)?, *max, path, rule),
        Ty::UnLocode => {
            let s = string(value, path, Some(rules::UNLOCODE_PATTERN))?;
            super::unlocode::check(s)
                .map(|_| ())
                .map_err(|(rule, why)| Refusal::new(rule, shown(path), why))
        }
        Ty::Code(codes, max) => {
            let s = string(value, path, rule)?;
            bounded(s, *max, path, rule)?;
            check_code(s, codes, path, rule, version)
        }
        Ty::DateTime(max) => {
            let s = string(value, path, Some(rules::EVENT_DATE_TIME))?;
            bounded(s, *max, path, None)?;
            match parse_date_time(s) {
                Some(_) => Ok(()),
                None => Err(Refusal::new(
                    rules::EVENT_DATE_TIME,
                    shown(path),
                    format!("{s:?} is not an RFC 3339 date-time with a UTC offset, like 2024-05-01T08:30:00+08:00"),
                )),
            }
        }
        Ty::Date => {
            let s = string(value, path, Some(rules::EVENT_DATE))?;
            match parse_date(s) {
                Some(_) => Ok(()),
                None => Err(Refusal::new(
                    rules::EVENT_DATE,
                    shown(path),
                    format!("{s:?} is not a calendar date written YYYY-MM-DD"),
                )),
            }
        }
        Ty::Uuid => {
            let s = string(value, path, Some(rules::EVENT_ID_UUID))?;
            match parse_uuid(s) {
                Some(_) => Ok(()),
                None => Err(Refusal::new(
                    rules::EVENT_ID_UUID,
                    shown(path),
                    format!("{s:?} is not a UUID like 3cecb101-7a1a-43a4-9d62-e88a131651e2"),
                )),
            }
        }
        Ty::Int => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            other => Err(wrong_type(path, "an integer", other)),
        },
        Ty::Num => match value {
            Value::Number(_) => Ok(()),
            other => Err(wrong_type(path, "a number", other)),
        },
        Ty::Bool => match value {
            Value::Bool(_) => Ok(()),
            other => Err(wrong_type(path, "a boolean", other)),
        },
        Ty::Obj(shape) => check(value, shape, path, version),
        Ty::List(item, max) => {
            let Value::Array(items) = value else {
                return Err(wrong_type(path, "an array", value));
            };
            if let Some(max) = max {
                if items.len() > *max {
                    return Err(Refusal::new(
                        rules::DCSA_LENGTH,
                        shown(path),
                        format!("{} items, the schema allows at most {max}", items.len()),
                    ));
                }
            }
            for (i, value) in items.iter().enumerate() {
                if !value.is_null() {
                    check_ty(value, item, rule, &index(path, i), version)?;
                }
            }
            Ok(())
        }
    }
}

/// A UUID in its 36-character hyphenated form, any case.
pub(crate) fn parse_uuid(s: &str) -> Option<uuid::Uuid> {
    if s.len() == 36 {
        uuid::Uuid::try_parse(s).ok()
    } else {
        None
    }
}

fn check_code(
    s: &str,
    codes: &[Code],
    path: &str,
    rule: Option<&'static str>,
    version: DcsaVersion,
) -> Result<(), Refusal> {
    let in_version = |c: &&Code| c.from <= version && version <= c.to;
    if codes.iter().filter(in_version).any(|c| c.code == s) {
        return Ok(());
    }
    if let Some(other) = codes.iter().find(|c| c.code == s) {
        let when = if other.from > version {
            format!("arrived in T&T {}", other.from)
        } else {
            format!("was replaced after T&T {}", other.to)
        };
        return Err(Refusal::new(
            rules::DCSA_CODE_VERSION,
            shown(path),
            format!("{s:?} {when}; this event is read as T&T {version}"),
        ));
    }
    let listed: Vec<&str> = codes.iter().filter(in_version).map(|c| c.code).collect();
    Err(Refusal::new(
        rule.unwrap_or(rules::DCSA_CODE),
        shown(path),
        format!("{s:?} is not one of {}", listed.join(", ")),
    ))
}

/// Holds a property the schema does not define to [`UNKNOWN_BOUNDS`].
fn check_unknown(key: &str, value: &Value, path: &str, depth: usize) -> Result<(), Refusal> {
    let b = UNKNOWN_BOUNDS;
    let refuse = |why: String| Err(Refusal::new(rules::DCSA_UNKNOWN_FIELD, shown(path), why));
    if key.chars().count() > b.key_chars {
        return refuse(format!(
            "a field DCSA does not define has a name longer than {} characters",
            b.key_chars
        ));
    }
    if depth > b.depth {
        return refuse(format!(
            "a field DCSA does not define nests deeper than {} levels",
            b.depth
        ));
    }
    match value {
        Value::String(s) if s.chars().count() > b.string_chars => refuse(format!(
            "a field DCSA does not define holds more than {} characters",
            b.string_chars
        )),
        Value::Array(items) => {
            if items.len() > b.items {
                return refuse(format!(
                    "a field DCSA does not define holds more than {} items",
                    b.items
                ));
            }
            for (i, item) in items.iter().enumerate() {
                check_unknown("", item, &index(path, i), depth + 1)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            if map.len() > b.items {
                return refuse(format!(
                    "a field DCSA does not define holds more than {} keys",
                    b.items
                ));
            }
            for (k, item) in map {
                check_unknown(k, item, &join(path, k), depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
