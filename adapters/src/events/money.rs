//! Amounts of money: an ISO 4217 currency and an integer count of its minor units.
//!
//! JSON shape: `{"currency": "USD", "value": 1250000, "exponent": 2}` is USD 12,500.00.
//! `value` is a JSON integer of minor units, never a float or a string; `exponent`
//! is optional and, when given, must equal the currency's ISO 4217 minor unit, so a
//! sender that scales JPY by 100 or KWD by 100 is caught (`iso4217.precision`).

use std::fmt;

use serde_json::Value;

use super::json::Obj;
use super::rules;
use super::Refusal;

/// An active ISO 4217 currency that has a minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// ISO 4217 codes that `iso_currency` marks superseded but ISO 4217 List One (as
/// SIX maintains it) still lists as active: accepted.
const STILL_ACTIVE: &[&str] = &[
    // VED was added beside VES in 2021; both are on List One.
    "VES",
];

impl Currency {
    /// The active ISO 4217 currency with this code (capitals), if there is one.
    ///
    /// The list is the `iso_currency` crate's (ISO 4217 as published, new codes such
    /// as XCG and ZWG included); withdrawn codes (those it marks superseded, such as
    /// HRK, SLL, ZWL, BGN), codes without a minor unit (XAU, XDR, XXX...) and names
    /// that are not ISO 4217 codes at all (CNH) are not currencies here.
    pub fn parse(code: &str) -> Option<Self> {
        Self::lookup(code).ok()
    }

    /// As [`Currency::parse`], with why a code is refused.
    pub(crate) fn lookup(code: &str) -> Result<Self, String> {
        let Some(found) = iso_currency::Currency::from_code(code) else {
            return Err(if code == "CNH" {
                "\"CNH\" is a market name for offshore yuan, not an ISO 4217 code; use CNY"
                    .to_string()
            } else {
                format!("{code:?} is not an ISO 4217 currency code")
            });
        };
        if let Some(successor) = found.is_superseded() {
            if !STILL_ACTIVE.contains(&code) {
                return Err(format!(
                    "{code:?} was withdrawn from ISO 4217; use {}",
                    successor.code()
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
pub(crate) fn read(parent: &Obj<'_>, key: &str) -> Result<Money, Refusal> {
    let obj = parent.req_obj(key, rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    obj.deny_unknown(&["currency", "value", "exponent"])?;

    let code = obj.req_str("currency", rules::EVENT_REQUIRED, rules::ISO4217_CURRENCY)?;
    let currency = Currency::lookup(code)
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
            let why = Currency::lookup(old).unwrap_err();
            assert!(
                why.contains("withdrawn") && why.contains(successor),
                "{old}: {why}"
            );
        }
        assert!(Currency::lookup("XDR")
            .unwrap_err()
            .contains("no minor unit"));
        assert!(Currency::lookup("CNH").unwrap_err().contains("use CNY"));
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
