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

/// Active ISO 4217 codes with their minor unit (digits after the decimal point),
/// sorted by code.
///
/// Taken from ISO 4217 List One as maintained by SIX in 2025. Left out: withdrawn
/// codes (HRK, SLL, ZWL, CUC, ANG, replaced by XCG), codes without a minor unit
/// (XAU, XAG, XPT, XPD, XDR, XBA to XBD, XSU, XUA, XTS, XXX) and everything that is
/// not an ISO 4217 code at all, such as CNH, the market name of offshore yuan.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// The active ISO 4217 currency with this code (capitals), if there is one.
    pub fn parse(code: &str) -> Option<Self> {
        CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .and_then(|i| CURRENCIES.get(i))
            .map(|&(code, exponent)| Currency { code, exponent })
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
    let currency = Currency::parse(code).ok_or_else(|| {
        let why = if code == "CNH" {
            "\"CNH\" is a market name for offshore yuan, not an ISO 4217 code; use CNY".to_string()
        } else {
            format!("{code:?} is not an active ISO 4217 currency code with a minor unit")
        };
        Refusal::new(rules::ISO4217_CURRENCY, obj.field("currency"), why)
    })?;

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
    fn table_is_sorted_and_well_formed() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CURRENCIES
            .iter()
            .all(|(c, e)| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) && *e <= 4));
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
