//! Amounts of money: an ISO 4217 currency and an integer count of its minor units.
//!
//! JSON shape: `{"currency": "USD", "value": 1250000, "exponent": 2}` is USD 12,500.00.
//! `value` is a JSON integer of minor units, never a float or a string; `exponent`
//! is optional and, when given, must equal the currency's ISO 4217 minor unit, so a
//! sender that scales JPY by 100 or KWD by 100 is caught (`iso4217.precision`).
//!
//! Currencies and minor units come from the `iso_currency` crate; withdrawals
//! and their dates from ISO 4217 list three ([`ISO4217_LIST_THREE`]), shipped as
//! `adapters/data/iso4217-withdrawn.tsv` (written by `scripts/iso4217-data`). A
//! withdrawn code is accepted for an event dated before the month list three
//! gives for its withdrawal, and refused from the first day of that month on.

use std::fmt;

use serde_json::Value;
use time::{Date, Month, UtcOffset};

use super::json::Obj;
use super::rules;
use super::{EventHeader, Refusal};

/// An ISO 4217 currency that has a minor unit (current, or not yet withdrawn on the date it was judged on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// The edition (publication date) of ISO 4217 list three the withdrawals come from.
pub const ISO4217_LIST_THREE: &str = "2026-01-01";

/// The codes of list three that list one no longer has: a `#` header, then
/// `CODE<TAB>date` lines, the date as list three writes it (`YYYY-MM` for every
/// code `iso_currency` knows).
const WITHDRAWN: &str = include_str!("../../data/iso4217-withdrawn.tsv");

/// The withdrawal date ISO 4217 list three gives `code` (as written there, e.g.
/// `2023-01`), if the code is withdrawn: on list three and not on list one.
pub fn withdrawal(code: &str) -> Option<&'static str> {
    WITHDRAWN
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (c, date) = line.split_once('\t')?;
            (c == code).then_some(date)
        })
}

/// The first day of a `YYYY-MM` month; `None` for any other form.
fn month_start(date: &str) -> Option<Date> {
    let (year, month) = date.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.parse().ok()?, month, 1).ok()
}

/// The date an event's amounts are judged on: its `eventDateTime`, in UTC.
pub(crate) fn dated(header: &EventHeader) -> Date {
    header.event_date_time.to_offset(UtcOffset::UTC).date()
}

impl Currency {
    /// The ISO 4217 currency with this code (capitals), if it is current: on the
    /// `iso_currency` crate's list, with a minor unit, and not withdrawn.
    ///
    /// The list is the `iso_currency` crate's (ISO 4217 as published, new codes such
    /// as XCG and ZWG included); withdrawn codes (list three: HRK, SLL, ZWL, BGN,
    /// CUC...), codes without a minor unit (XAU, XDR, XXX...) and names that are
    /// not ISO 4217 codes at all (CNH) are not currencies here. See
    /// [`Currency::parse_on`] for a code judged on a date.
    pub fn parse(code: &str) -> Option<Self> {
        Self::lookup(code, None).ok()
    }

    /// As [`Currency::parse`], for an event dated `on`: a withdrawn code is
    /// accepted before the month of its withdrawal.
    pub fn parse_on(code: &str, on: Date) -> Option<Self> {
        Self::lookup(code, Some(on)).ok()
    }

    /// As [`Currency::parse_on`] (`None`: as of the shipped list three), with why a
    /// code is refused.
    pub(crate) fn lookup(code: &str, on: Option<Date>) -> Result<Self, String> {
        let withdrawn = withdrawal(code);
        let Some(found) = iso_currency::Currency::from_code(code) else {
            return Err(if code == "CNH" {
                "\"CNH\" is a market name for offshore yuan, not an ISO 4217 code; use CNY"
                    .to_string()
            } else if let Some(date) = withdrawn {
                format!(
                    "{code:?} was withdrawn from ISO 4217 in {date} (list three, {ISO4217_LIST_THREE}) and its minor unit is not known here"
                )
            } else {
                format!("{code:?} is not an ISO 4217 currency code")
            });
        };
        // `iso_currency` marks some codes superseded that list one still has (VES,
        // beside VED since 2021): list three decides, not the crate's flag.
        if let Some(date) = withdrawn {
            let before = match (on, month_start(date)) {
                (Some(on), Some(start)) => on < start,
                _ => false,
            };
            if !before {
                let dated = on.map_or(String::new(), |on| format!(", the event is dated {on}"));
                let successor = found
                    .is_superseded()
                    .map_or(String::new(), |s| format!("; use {}", s.code()));
                return Err(format!(
                    "{code:?} was withdrawn from ISO 4217 in {date} (list three, {ISO4217_LIST_THREE}){dated}{successor}"
                ));
            }
        }
        let exponent = found
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or_else(|| {
                format!("{code:?} has no minor unit (a precious metal, fund or test code)")
            })?;
        Ok(Currency {
            code: found.code(),
            exponent,
        })
    }

    /// The three-letter code, e.g. `USD`.
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// The minor unit: digits after the decimal point (USD 2, JPY 0, KWD 3).
    pub const fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// The largest value: 18 digits.
pub const MAX_VALUE: u64 = 999_999_999_999_999_999;

/// An amount: a currency and a non-negative count of its minor units (at most 18 digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The currency.
    pub currency: Currency,
    /// The amount in minor units: USD 12.50 is 1250, JPY 1250 is 1250.
    pub value: u64,
}

impl fmt::Display for Money {
    /// `USD 12500.00`, `JPY 1250`, `KWD 1.250`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = u32::from(self.currency.exponent);
        let scale = 10u64.pow(exponent);
        let (whole, fraction) = (self.value / scale, self.value % scale);
        if exponent == 0 {
            write!(f, "{} {whole}", self.currency)
        } else {
            let width = exponent as usize;
            write!(f, "{} {whole}.{fraction:0width$}", self.currency)
        }
    }
}

/// Reads an amount object at `key` (required) and checks every money rule.
///
/// `on` is the event's date ([`dated`]): a withdrawn currency is accepted for an
/// event dated before its withdrawal.
pub(crate) fn read(parent: &Obj<'_>, key: &str, on: Date) -> Result<Money, Refusal> {
    let obj = parent.req_obj(key, rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    obj.deny_unknown(&["currency", "value", "exponent"])?;

    let code = obj.req_str("currency", rules::EVENT_REQUIRED, rules::ISO4217_CURRENCY)?;
    let currency = Currency::lookup(code, Some(on))
        .map_err(|why| Refusal::new(rules::ISO4217_CURRENCY, obj.field("currency"), why))?;

    let value = match obj.get("value") {
        None => {
            return Err(Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field("value"),
                "missing required field",
            ))
        }
        Some(value) => integer_value(value)
            .map_err(|(rule, why)| Refusal::new(rule, obj.field("value"), why))?,
    };

    if let Some(stated) = obj.get("exponent") {
        let field = obj.field("exponent");
        let stated = stated.as_u64().ok_or_else(|| {
            Refusal::new(
                rules::ISO4217_PRECISION,
                field.clone(),
                "expected a small non-negative integer",
            )
        })?;
        if stated != u64::from(currency.exponent) {
            return Err(Refusal::new(
                rules::ISO4217_PRECISION,
                field,
                format!(
                    "the ISO 4217 minor unit of {code} is {}, the amount states {stated}",
                    currency.exponent
                ),
            ));
        }
    }
    Ok(Money { currency, value })
}

/// A `value`: a JSON integer from 0 to [`MAX_VALUE`]; the rule and reason otherwise.
fn integer_value(value: &Value) -> Result<u64, (&'static str, String)> {
    let number = match value {
        Value::Number(n) => n,
        Value::String(s) => {
            return Err((
                rules::MONEY_NOT_INTEGER,
                format!("expected a JSON integer of minor units, found the string {s:?}"),
            ))
        }
        _ => {
            return Err((
                rules::MONEY_NOT_INTEGER,
                "expected a JSON integer of minor units".to_string(),
            ))
        }
    };
    if let Some(v) = number.as_u64() {
        if v > MAX_VALUE {
            return Err((rules::MONEY_DIGITS, format!("{v} has more than 18 digits")));
        }
        return Ok(v);
    }
    if let Some(v) = number.as_i64() {
        return Err((rules::MONEY_NEGATIVE, format!("{v} is negative")));
    }
    // A float: written with a fraction or exponent, or an integer too large for 64 bits.
    let f = number.as_f64().unwrap_or(f64::NAN);
    if f.is_finite() && f.fract() == 0.0 && f.abs() > MAX_VALUE as f64 {
        return Err((
            rules::MONEY_DIGITS,
            format!("{number} has more than 18 digits"),
        ));
    }
    Err((
        rules::MONEY_NOT_INTEGER,
        format!("{number} is not an integer count of minor units (amounts are never floats)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_codes_are_accepted_and_withdrawn_ones_refused_with_their_successor() {
        // XCG (Caribbean guilder, 2025) and ZWG (Zimbabwe Gold, 2024) are new.
        for new in ["XCG", "ZWG", "SLE", "VED", "VES"] {
            assert!(Currency::parse(new).is_some(), "{new}");
        }
        for (old, successor) in [
            ("HRK", "EUR"),
            ("SLL", "SLE"),
            ("ZWL", "ZWG"),
            ("CUC", "CUP"),
        ] {
            let why = Currency::lookup(old, None).unwrap_err();
            assert!(
                why.contains("withdrawn") && why.contains(successor),
                "{old}: {why}"
            );
        }
        assert!(Currency::lookup("XDR", None)
            .unwrap_err()
            .contains("no minor unit"));
        assert!(Currency::lookup("CNH", None)
            .unwrap_err()
            .contains("use CNY"));
    }

    fn day(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn withdrawn_codes_are_accepted_before_their_withdrawal_and_refused_from_it() {
        // (code, list three's month, last day before it, first day of it, successor)
        for (code, month, successor) in [
            ("HRK", "2023-01", "EUR"),
            ("CUC", "2021-06", "CUP"),
            ("SLL", "2023-12", "SLE"),
            ("ZWL", "2024-09", "ZWG"),
            ("BGN", "2026-01", "EUR"),
        ] {
            assert_eq!(withdrawal(code), Some(month), "{code}");
            let start = month_start(month).unwrap();
            let before = start.previous_day().unwrap();
            assert_eq!(
                Currency::parse_on(code, before).map(|c| c.code()),
                Some(code),
                "{code} on {before}"
            );
            let why = Currency::lookup(code, Some(start)).unwrap_err();
            assert!(
                why.contains("withdrawn") && why.contains(month) && why.contains(successor),
                "{code}: {why}"
            );
            assert_eq!(Currency::parse_on(code, day(2030, 1, 1)), None, "{code}");
            assert_eq!(Currency::parse(code), None, "{code} as of the list");
        }
        // ANG (2025-03) and DEM (2002-03) are on list three but not in iso_currency
        // 0.7.1, which gives no minor unit for them: refused on any date, named.
        for (code, month) in [("ANG", "2025-03"), ("DEM", "2002-03")] {
            let why = Currency::lookup(code, Some(day(1990, 1, 1))).unwrap_err();
            assert!(why.contains("withdrawn") && why.contains(month), "{why}");
        }
        // VES: the crate marks it superseded, but list one still has it.
        assert_eq!(withdrawal("VES"), None);
        assert!(Currency::parse_on("VES", day(2030, 1, 1)).is_some());
        assert_eq!(
            Currency::parse_on("USD", day(1990, 1, 1)).map(|c| c.code()),
            Some("USD")
        );
    }

    #[test]
    fn the_shipped_withdrawals_are_well_formed() {
        assert!(WITHDRAWN.starts_with("# ISO 4217 list three, published 2026-01-01"));
        let rows: Vec<(&str, &str)> = WITHDRAWN
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_once('\t').unwrap())
            .collect();
        assert!(rows.len() > 100, "{} rows", rows.len());
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "sorted by code");
        for (code, date) in rows {
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
            // Every code the crate knows has a month, so its date can be judged.
            if iso_currency::Currency::from_code(code).is_some() {
                assert!(month_start(date).is_some(), "{code} {date}");
            }
        }
    }

    #[test]
    fn the_standards_exponents() {
        for (code, exponent) in [
            ("CNY", 2),
            ("HKD", 2),
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("SGD", 2),
            ("JPY", 0),
            ("KWD", 3),
            ("BHD", 3),
        ] {
            assert_eq!(
                Currency::parse(code).map(|c| c.exponent()),
                Some(exponent),
                "{code}"
            );
        }
        for not in ["CNH", "usd", "HRK", "XAU", "US", "USDD", ""] {
            assert_eq!(Currency::parse(not), None, "{not}");
        }
    }

    #[test]
    fn display() {
        let m = |code, value| {
            Money {
                currency: Currency::parse(code).unwrap(),
                value,
            }
            .to_string()
        };
        assert_eq!(m("USD", 1_250_000), "USD 12500.00");
        assert_eq!(m("USD", 5), "USD 0.05");
        assert_eq!(m("JPY", 1250), "JPY 1250");
        assert_eq!(m("KWD", 1250), "KWD 1.250");
        assert_eq!(m("EUR", MAX_VALUE), "EUR 9999999999999999.99");
    }

    #[test]
    fn values() {
        let v =
            |s: &str| integer_value(&serde_json::from_str(s).unwrap()).map_err(|(rule, _)| rule);
        assert_eq!(v("0"), Ok(0));
        assert_eq!(v("999999999999999999"), Ok(MAX_VALUE));
        assert_eq!(v("1000000000000000000"), Err(rules::MONEY_DIGITS));
        assert_eq!(v("100000000000000000000"), Err(rules::MONEY_DIGITS));
        assert_eq!(v("-1"), Err(rules::MONEY_NEGATIVE));
        assert_eq!(v("12.5"), Err(rules::MONEY_NOT_INTEGER));
        assert_eq!(v("12.0"), Err(rules::MONEY_NOT_INTEGER));
        assert_eq!(v("1e3"), Err(rules::MONEY_NOT_INTEGER));
        assert_eq!(v("\"1250\""), Err(rules::MONEY_NOT_INTEGER));
        assert_eq!(v("true"), Err(rules::MONEY_NOT_INTEGER));
    }
}
