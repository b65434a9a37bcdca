//! ISO 6346 container numbers: owner code, category, serial number and check digit.

use std::fmt;

/// A container number that passed every ISO 6346 check, e.g. `CSQU3054383`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerNumber([u8; 11]);

/// Why a string is not an ISO 6346 container number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerNumberError {
    /// The shape is wrong: length, owner code, category letter or digits.
    #[error("{0}")]
    Format(String),
    /// The shape is right but the last digit is not the check digit of the first ten characters.
    #[error("check digit is {found}, ISO 6346 gives {expected}")]
    CheckDigit {
        /// The check digit the first ten characters give.
        expected: u8,
        /// The check digit written.
        found: u8,
    },
}

/// The ISO 6346 value of an owner-code or category letter: A=10 upward, skipping the
/// multiples of 11 (11, 22, 33).
const fn letter_value(letter: u8) -> Option<u32> {
    let v = match letter {
        b'A' => 10,
        b'B'..=b'K' => 12 + (letter - b'B') as u32,
        b'L'..=b'U' => 23 + (letter - b'L') as u32,
        b'V'..=b'Z' => 34 + (letter - b'V') as u32,
        _ => return None,
    };
    Some(v)
}

/// The check digit of the first ten characters (owner code, category, serial), or
/// `None` when one of them has no ISO 6346 value.
///
/// Each character's value is weighted by 2^position; the sum modulo 11 is the check
/// digit, except that a remainder of 10 becomes 0.
pub fn check_digit(first_ten: &[u8]) -> Option<u8> {
    if first_ten.len() != 10 {
        return None;
    }
    let mut sum: u32 = 0;
    for (i, &c) in first_ten.iter().enumerate() {
        let value = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            letter_value(c)?
        };
        // At most 38 * 2^9 per term and ten terms: far below u32::MAX.
        sum += value << i;
    }
    // The remainder is below 11, so it fits a u8.
    Some((sum % 11 % 10) as u8)
}

impl ContainerNumber {
    /// Parses and checks a container number written without spaces, in capitals.
    pub fn parse(s: &str) -> Result<Self, ContainerNumberError> {
        let format = |why: &str| Err(ContainerNumberError::Format(why.to_string()));
        let b = s.as_bytes();
        if b.len() != 11 {
            return format(&format!(
                "{s:?} has {} characters; a container number has 11 (e.g. CSQU3054383)",
                s.chars().count()
            ));
        }
        if !b[..3].iter().all(u8::is_ascii_uppercase) {
            return format(&format!("{s:?}: the owner code is 3 capital letters"));
        }
        if !matches!(b[3], b'U' | b'J' | b'Z') {
            return format(&format!("{s:?}: the category letter is U, J or Z"));
        }
        if !b[4..].iter().all(u8::is_ascii_digit) {
            return format(&format!(
                "{s:?}: a 6-digit serial number and a check digit follow the category"
            ));
        }
        let expected = check_digit(&b[..10]).ok_or_else(|| {
            ContainerNumberError::Format(format!("{s:?} has a character without ISO 6346 value"))
        })?;
        let found = b[10] - b'0';
        if found != expected {
            return Err(ContainerNumberError::CheckDigit { expected, found });
        }
        let mut bytes = [0u8; 11];
        bytes.copy_from_slice(b);
        Ok(ContainerNumber(bytes))
    }

    /// The number as written, e.g. `CSQU3054383`.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals and digits get past `parse`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The owner code and category letter, e.g. `CSQU` (the BIC code).
    pub fn prefix(&self) -> &str {
        self.as_str().get(..4).unwrap_or_default()
    }

    /// The category letter: U (freight container), J (detachable equipment) or Z (trailer, chassis).
    pub fn category(&self) -> char {
        char::from(self.0[3])
    }
}

impl fmt::Display for ContainerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 6] = [
        "CSQU3054383",
        "TCNU7200794",
        "TOLU4734787",
        "APZU4812090",
        "NARU3472484",
        "GYOU4047990",
    ];

    #[test]
    fn the_standards_vectors() {
        for s in VALID {
            assert_eq!(
                ContainerNumber::parse(s).map(|c| c.to_string()),
                Ok(s.to_string())
            );
        }
        assert_eq!(
            ContainerNumber::parse("CSQU3054384"),
            Err(ContainerNumberError::CheckDigit {
                expected: 3,
                found: 4
            })
        );
    }

    #[test]
    fn remainder_ten_becomes_zero() {
        // GYOU404799 sums to a multiple of 11 plus 10.
        assert_eq!(check_digit(b"GYOU404799"), Some(0));
    }

    #[test]
    fn letter_values_skip_multiples_of_eleven() {
        let values: Vec<u32> = (b'A'..=b'Z').filter_map(letter_value).collect();
        assert_eq!(values.len(), 26);
        assert_eq!(values[0], 10);
        assert_eq!(values[25], 38);
        assert!(values.iter().all(|v| v % 11 != 0));
        assert!(values.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn shapes_are_refused_as_format() {
        for bad in [
            "CSQU305438",
            "CSQU30543833",
            "csqu3054383",
            "CSQX3054383",
            "CSQU30543A3",
            "CS1U3054383",
            "CSQU 3054383",
        ] {
            assert!(
                matches!(
                    ContainerNumber::parse(bad),
                    Err(ContainerNumberError::Format(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn parts() {
        let c = ContainerNumber::parse("APZU4812090").unwrap();
        assert_eq!(c.prefix(), "APZU");
        assert_eq!(c.category(), 'U');
    }

    fn any_valid() -> impl Strategy<Value = String> {
        ("[A-Z]{3}", "[UJZ]", "[0-9]{6}").prop_map(|(owner, cat, serial)| {
            let first = format!("{owner}{cat}{serial}");
            let digit = check_digit(first.as_bytes()).unwrap();
            format!("{first}{digit}")
        })
    }

    proptest! {
        #[test]
        fn generated_numbers_are_valid(s in any_valid()) {
            prop_assert!(ContainerNumber::parse(&s).is_ok());
        }

        #[test]
        fn any_other_check_digit_is_refused(s in any_valid(), other in 0u8..10) {
            let right = s.as_bytes()[10] - b'0';
            prop_assume!(other != right);
            let changed = format!("{}{other}", &s[..10]);
            prop_assert_eq!(
                ContainerNumber::parse(&changed),
                Err(ContainerNumberError::CheckDigit { expected: right, found: other })
            );
        }

        #[test]
        fn the_standards_vectors_refuse_every_other_digit(i in 0usize..6, other in 0u8..10) {
            let s = VALID[i];
            let right = s.as_bytes()[10] - b'0';
            prop_assume!(other != right);
            let changed = format!("{}{other}", &s[..10]);
            let refused = matches!(
                ContainerNumber::parse(&changed),
                Err(ContainerNumberError::CheckDigit { .. })
            );
            prop_assert!(refused, "{} was accepted", changed);
        }
    }
}
