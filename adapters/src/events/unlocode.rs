//! UN/LOCODE location codes, with the explicit alias table of the ports the relay serves.
//!
//! A code is checked for its form (the pattern), its country part (ISO 3166-1,
//! [`UnLocode::has_iso_country`]) and then against the UN/LOCODE code list
//! ([`UnLocode::is_listed`]): UNECE's edition [`UNLOCODE_EDITION`], shipped as
//! `adapters/data/unlocode-2023-1.txt` (written by `scripts/unlocode-data` from the
//! CSV files UNECE publishes, as the PyPI package pyunlocode 0.1.0 carries them),
//! without the entries UNECE marks for deletion. The codes of the alias table are
//! accepted whether or not the list has them. Nothing here infers that a code is a
//! seaport.

use std::fmt;

use super::rules;

/// Checks a UN/LOCODE as written: the pattern (`unlocode.pattern`), the country
/// (`unlocode.country`), then the code list (`unlocode.unknown`); the rule and why
/// otherwise. Every UN/LOCODE field of every event kind goes through here.
pub(crate) fn check(s: &str) -> Result<UnLocode, (&'static str, String)> {
    let code = UnLocode::parse(s).ok_or_else(|| {
        (
            rules::UNLOCODE_PATTERN,
            format!("{s:?} does not match ^[A-Z]{{2}}[A-Z2-9]{{3}}$"),
        )
    })?;
    if !code.has_iso_country() {
        return Err((
            rules::UNLOCODE_COUNTRY,
            format!(
                "{s:?}: {:?} is not an ISO 3166-1 alpha-2 country code",
                code.country()
            ),
        ));
    }
    if !code.is_listed() {
        return Err((
            rules::UNLOCODE_UNKNOWN,
            format!(
                "{s:?} is not on the UN/LOCODE {UNLOCODE_EDITION} code list (nor in the alias table)"
            ),
        ));
    }
    Ok(code)
}

/// A code matching `^[A-Z]{2}[A-Z2-9]{3}$`: a country code and three characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnLocode([u8; 5]);

impl UnLocode {
    /// Parses a code written exactly as the pattern requires (capitals, no spaces).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 5 {
            return None;
        }
        let country = b[..2].iter().all(u8::is_ascii_uppercase);
        let place = b[2..]
            .iter()
            .all(|&c| c.is_ascii_uppercase() || (b'2'..=b'9').contains(&c));
        if !(country && place) {
            return None;
        }
        let mut bytes = [0u8; 5];
        bytes.copy_from_slice(b);
        Some(UnLocode(bytes))
    }

    /// The code, e.g. `CNSHK`.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals and digits get past `parse`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The ISO 3166 country part, e.g. `CN`.
    pub fn country(&self) -> &str {
        self.as_str().get(..2).unwrap_or_default()
    }

    /// Whether the country part is an ISO 3166-1 alpha-2 code (from the `celes`
    /// crate's ISO 3166-1 table), or `XZ`, UN/LOCODE's own code for installations in
    /// international waters.
    pub fn has_iso_country(&self) -> bool {
        let country = self.country();
        // celes also knows XK (Kosovo), which ISO 3166-1 has not assigned.
        country == "XZ" || (country != "XK" && celes::Country::from_alpha2(country).is_ok())
    }

    /// Whether the code is on the shipped UN/LOCODE code list ([`UNLOCODE_EDITION`],
    /// without entries marked for deletion) or in the alias table.
    pub fn is_listed(&self) -> bool {
        in_list(self.as_str()) || UNLOCODE_ALIASES.iter().any(|a| a.code == self.as_str())
    }

    /// The code the relay uses for this place: the alias table's target, or the code itself.
    pub fn normalized(self) -> UnLocode {
        UNLOCODE_ALIASES
            .iter()
            .find(|alias| alias.code == self.as_str())
            .and_then(|alias| UnLocode::parse(alias.canonical))
            .unwrap_or(self)
    }
}

impl fmt::Display for UnLocode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The edition of the UN/LOCODE code list the relay ships.
pub const UNLOCODE_EDITION: &str = "2023-1";

/// The code list: a `#` header, then the codes sorted, one a line (6 bytes each).
const LIST: &str = include_str!("../../data/unlocode-2023-1.txt");

/// The codes of [`LIST`] after its header: `ADALV\nADCAN\n...`.
fn list_body() -> &'static str {
    let mut start = 0;
    while LIST[start..].starts_with('#') {
        match LIST[start..].find('\n') {
            Some(end) => start += end + 1,
            None => return "",
        }
    }
    &LIST[start..]
}

/// Binary search of the sorted, fixed-width list.
fn in_list(code: &str) -> bool {
    let body = list_body().as_bytes();
    let (mut lo, mut hi) = (0, body.len() / 6);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match body[mid * 6..mid * 6 + 5].cmp(code.as_bytes()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

/// Parses a UN/LOCODE and maps it through [`UNLOCODE_ALIASES`]; `None` when `code`
/// does not match `^[A-Z]{2}[A-Z2-9]{3}$`.
///
/// `normalize_unlocode("CNCWN")` is `CNSHK` (Chiwan merged into Shekou); the
/// shipping-practice codes CNSHA, CNSZX, CNTAO and CNNGB stay as they are.
pub fn normalize_unlocode(code: &str) -> Option<UnLocode> {
    UnLocode::parse(code).map(UnLocode::normalized)
}

/// One entry of the alias table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnLocodeAlias {
    /// The code as it may appear in an event.
    pub code: &'static str,
    /// The code the relay uses for the place (the same code when it is kept).
    pub canonical: &'static str,
    /// The place.
    pub name: &'static str,
    /// Why the entry is here.
    pub note: &'static str,
}

/// The explicit alias table: codes that map to another, and shipping-practice codes
/// kept as they are although recent UN/LOCODE editions list other codes around them.
pub const UNLOCODE_ALIASES: &[UnLocodeAlias] = &[
    UnLocodeAlias {
        code: "CNCWN",
        canonical: "CNSHK",
        name: "Chiwan",
        note: "merged into Shekou",
    },
    UnLocodeAlias {
        code: "CNSHA",
        canonical: "CNSHA",
        name: "Shanghai",
        note: "shipping practice; kept as it is",
    },
    UnLocodeAlias {
        code: "CNSZX",
        canonical: "CNSZX",
        name: "Shenzhen",
        note: "shipping practice; kept as it is",
    },
    UnLocodeAlias {
        code: "CNTAO",
        canonical: "CNTAO",
        name: "Qingdao",
        note: "shipping practice; kept as it is",
    },
    UnLocodeAlias {
        code: "CNNGB",
        canonical: "CNNGB",
        name: "Ningbo",
        note: "shipping practice; kept as it is",
    },
];

/// The ports of the three networks and their partners, by canonical code.
pub const NETWORK_PORTS: &[(&str, &str)] = &[
    ("CNSHK", "Shekou"),
    ("CNSUD", "Shunde"),
    ("CNYTN", "Yantian"),
    ("HKHKG", "Hong Kong"),
    ("NLRTM", "Rotterdam"),
    ("GRPIR", "Piraeus"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern() {
        for ok in ["CNSHK", "NLRTM", "GRPIR", "USNY2", "DEHA9"] {
            assert!(UnLocode::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "CNSH", "CNSHKK", "cnshk", "CN SHK", "1NSHK", "CNSH1", "CNSH0", "CNSHÉ",
        ] {
            assert!(UnLocode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn aliases() {
        let n = |c: &str| normalize_unlocode(c).map(|u| u.to_string());
        assert_eq!(n("CNCWN").as_deref(), Some("CNSHK"));
        for kept in [
            "CNSHA", "CNSZX", "CNTAO", "CNNGB", "CNSHK", "NLRTM", "XXZZZ",
        ] {
            assert_eq!(n(kept).as_deref(), Some(kept));
        }
        assert_eq!(n("cncwn"), None);
    }

    #[test]
    fn tables_hold_valid_codes() {
        for alias in UNLOCODE_ALIASES {
            assert!(UnLocode::parse(alias.code).is_some());
            assert!(UnLocode::parse(alias.canonical).is_some());
        }
        for (code, _) in NETWORK_PORTS {
            let parsed = UnLocode::parse(code).unwrap();
            assert_eq!(
                parsed.normalized(),
                parsed,
                "network ports use canonical codes"
            );
        }
        assert_eq!(UnLocode::parse("HKHKG").unwrap().country(), "HK");
    }

    #[test]
    fn the_shipped_list_is_sorted_fixed_width_and_of_valid_codes() {
        let body = list_body();
        assert!(LIST.starts_with("# UN/LOCODE 2023-1"));
        assert_eq!(body.len() % 6, 0);
        let codes: Vec<&str> = body.lines().collect();
        assert_eq!(codes.len(), body.len() / 6);
        assert!(codes.len() > 100_000, "{} codes", codes.len());
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        for code in &codes {
            let b = code.as_bytes();
            assert!(
                b.len() == 5 && b[..2].iter().all(u8::is_ascii_uppercase),
                "{code}"
            );
            assert!(
                b.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "{code}"
            );
        }
        // UNECE's list holds three codes with a 0, which the pattern refuses anyway.
        let off_pattern: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| UnLocode::parse(c).is_none())
            .collect();
        assert_eq!(off_pattern, ["DE9B0", "DEB90", "IT940"]);
        // First, last, and absent at both ends.
        assert!(in_list(codes[0]) && in_list(codes[codes.len() - 1]));
        assert!(!in_list("AAAAA") && !in_list("ZZZZZ"));
    }

    #[test]
    fn locations_are_checked_against_the_code_list() {
        let listed = |c: &str| UnLocode::parse(c).unwrap().is_listed();
        // Real codes of the 2023-1 edition, the network ports among them.
        for ok in [
            "CNSHK", "CNSUD", "CNYTN", "HKHKG", "NLRTM", "GRPIR", "DEHAM", "USNYC", "FRPAR",
            "GBLON",
        ] {
            assert!(listed(ok), "{ok}");
        }
        for (code, _) in NETWORK_PORTS {
            assert!(listed(code), "{code}");
        }
        // Well-formed, of a real country, not on the list.
        for unknown in ["CNQXZ", "NLRT2", "GBXQ9"] {
            assert!(UnLocode::parse(unknown).unwrap().has_iso_country());
            assert!(!listed(unknown), "{unknown}");
        }
        // Marked for deletion ("X") in 2023-1: General-Toshevo, Vulcanesti, Fürth.
        for deleted in ["BGGTB", "MDVLC", "DEFUH"] {
            assert!(!listed(deleted), "{deleted}");
        }
        // Every alias is accepted, listed or not.
        for alias in UNLOCODE_ALIASES {
            assert!(listed(alias.code), "{}", alias.code);
        }
    }

    #[test]
    fn countries_are_iso_3166() {
        for ok in [
            "CNSHK", "NLRTM", "GRPIR", "HKHKG", "DEHAM", "USNYC", "XZAAA",
        ] {
            assert!(UnLocode::parse(ok).unwrap().has_iso_country(), "{ok}");
        }
        // XY is the country of DCSA's conformance examples of wrong attribute values.
        for bad in ["XYABC", "AAAAA", "XKPRN", "UKLON"] {
            assert!(!UnLocode::parse(bad).unwrap().has_iso_country(), "{bad}");
        }
    }
}
