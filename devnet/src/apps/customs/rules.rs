//! A port's customs rule set (`portledger --customs-rules FILE`, TOML):
//! the weight tolerance, the sensitive HS chapters and codes, IMDG classes,
//! the screening list (a file of party names and USCIs) and the webhooks
//! warnings go to. Read and validated once at start; every error names the
//! key (or the screening list's line) that is wrong.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why a rule file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The rule file (or the screening list it names) cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not TOML of the rule file's shape (toml names the key).
    #[error("{}: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    /// A key holds a value out of its range.
    #[error("{}: {key}: {message}", .path.display())]
    Key {
        path: PathBuf,
        key: String,
        message: String,
    },
}

impl RulesError {
    /// The key at fault, when one is.
    pub fn key(&self) -> Option<&str> {
        match self {
            RulesError::Key { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The rule file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    weight: WeightFile,
    #[serde(default)]
    sensitive: SensitiveFile,
    #[serde(default)]
    webhooks: Option<WebhooksFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightFile {
    tolerance_percent: Option<f64>,
    tolerance_kg: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitiveFile {
    #[serde(default)]
    hs_chapters: Vec<String>,
    #[serde(default)]
    hs_codes: Vec<String>,
    #[serde(default)]
    imdg_classes: Vec<String>,
    screening_list: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksFile {
    urls: Vec<String>,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
}

/// Where warnings are posted, and how they are signed and retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhooks {
    /// `http://` URLs (each receives every warning, in order).
    pub urls: Vec<String>,
    /// The HMAC-SHA256 key of the `X-Portrelay-Signature` header.
    pub secret: Vec<u8>,
    /// The first retry's delay; doubled after each failure up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

/// A port's validated customs rules.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomsRules {
    /// A verified gross mass passes within `max(tolerance_kg, declared *
    /// tolerance_percent / 100)` of the declared gross weight.
    pub tolerance_percent: f64,
    pub tolerance_kg: f64,
    /// Two-digit HS chapters whose goods raise `sensitive_hs`.
    pub hs_chapters: BTreeSet<String>,
    /// HS codes (6 to 10 digits; a shorter one matches as a prefix).
    pub hs_codes: BTreeSet<String>,
    /// IMDG classes or divisions (`1.1`, `7` ...) that raise `sensitive_imdg`.
    pub imdg_classes: BTreeSet<String>,
    /// Party names (upper case, spaces collapsed) and USCIs on the screening list.
    pub screened: BTreeSet<String>,
    pub webhooks: Option<Webhooks>,
}

/// The IMDG classes and divisions a rule file may name.
pub const IMDG_CLASSES: [&str; 20] = [
    "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5.1",
    "5.2", "6.1", "6.2", "7", "8", "9",
];

impl Default for CustomsRules {
    /// No rule file: 5 % or 100 kg, nothing sensitive, no webhooks.
    fn default() -> Self {
        CustomsRules {
            tolerance_percent: 5.0,
            tolerance_kg: 100.0,
            hs_chapters: BTreeSet::new(),
            hs_codes: BTreeSet::new(),
            imdg_classes: BTreeSet::new(),
            screened: BTreeSet::new(),
            webhooks: None,
        }
    }
}

/// How a party's name is compared with the screening list.
pub fn screening_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

impl CustomsRules {
    /// Reads and validates a rule file; paths in it are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Validates a rule file's text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let key = |key: &str, message: String| RulesError::Key {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let mut rules = CustomsRules::default();
        if let Some(p) = file.weight.tolerance_percent {
            if !(0.0..=100.0).contains(&p) {
                return Err(key(
                    "weight.tolerance_percent",
                    format!("{p} is not a percentage from 0 to 100"),
                ));
            }
            rules.tolerance_percent = p;
        }
        if let Some(kg) = file.weight.tolerance_kg {
            if !(0.0..=100_000.0).contains(&kg) {
                return Err(key(
                    "weight.tolerance_kg",
                    format!("{kg} is not a weight from 0 to 100000 kg"),
                ));
            }
            rules.tolerance_kg = kg;
        }
        for (i, c) in file.sensitive.hs_chapters.iter().enumerate() {
            let chapter_ok = c.len() == 2
                && c.bytes().all(|b| b.is_ascii_digit())
                && (1..=97).contains(&c.parse::<u8>().unwrap_or(0))
                && c != "77";
            if !chapter_ok {
                return Err(key(
                    &format!("sensitive.hs_chapters[{i}]"),
                    format!("{c:?} is not an HS chapter (two digits, 01 to 97, not 77)"),
                ));
            }
            rules.hs_chapters.insert(c.clone());
        }
        for (i, c) in file.sensitive.hs_codes.iter().enumerate() {
            if !(4..=10).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) {
                return Err(key(
                    &format!("sensitive.hs_codes[{i}]"),
                    format!("{c:?} is not an HS heading or code (4 to 10 digits)"),
                ));
            }
            rules.hs_codes.insert(c.clone());
        }
        for (i, c) in file.sensitive.imdg_classes.iter().enumerate() {
            if !IMDG_CLASSES.contains(&c.as_str()) {
                return Err(key(
                    &format!("sensitive.imdg_classes[{i}]"),
                    format!("{c:?} is not an IMDG class or division (1.1 .. 9)"),
                ));
            }
            rules.imdg_classes.insert(c.clone());
        }
        if let Some(list) = &file.sensitive.screening_list {
            let list = base.join(list);
            let text = std::fs::read_to_string(&list).map_err(|e| {
                key(
                    "sensitive.screening_list",
                    format!("cannot read {}: {e}", list.display()),
                )
            })?;
            for (n, line) in text.lines().enumerate() {
                let entry = line.split('#').next().unwrap_or("").trim();
                if entry.is_empty() {
                    continue;
                }
                if entry.chars().count() > 200 {
                    return Err(key(
                        "sensitive.screening_list",
                        format!(
                            "{} line {}: longer than 200 characters",
                            list.display(),
                            n + 1
                        ),
                    ));
                }
                rules.screened.insert(screening_key(entry));
            }
        }
        if let Some(w) = file.webhooks {
            if w.urls.is_empty() {
                return Err(key("webhooks.urls", "names no URL".into()));
            }
            for (i, u) in w.urls.iter().enumerate() {
                let ok = u
                    .strip_prefix("http://")
                    .is_some_and(|rest| !rest.is_empty() && u.parse::<axum::http::Uri>().is_ok());
                if !ok {
                    return Err(key(
                        &format!("webhooks.urls[{i}]"),
                        format!("{u:?} is not an http:// URL"),
                    ));
                }
            }
            let secret = match (w.secret, w.secret_file) {
                (Some(s), None) => s.into_bytes(),
                (None, Some(f)) => {
                    let f = base.join(f);
                    std::fs::read_to_string(&f)
                        .map_err(|e| {
                            key(
                                "webhooks.secret_file",
                                format!("cannot read {}: {e}", f.display()),
                            )
                        })?
                        .trim()
                        .as_bytes()
                        .to_vec()
                }
                (Some(_), Some(_)) => {
                    return Err(key(
                        "webhooks.secret",
                        "give secret or secret_file, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(key(
                        "webhooks.secret",
                        "webhooks are signed: give secret or secret_file".into(),
                    ))
                }
            };
            if secret.len() < 16 {
                return Err(key(
                    "webhooks.secret",
                    format!("{} bytes; at least 16 are needed", secret.len()),
                ));
            }
            let initial = w.initial_backoff_ms.unwrap_or(200);
            let max = w.max_backoff_ms.unwrap_or(30_000);
            if !(1..=60_000).contains(&initial) {
                return Err(key(
                    "webhooks.initial_backoff_ms",
                    format!("{initial} is not from 1 to 60000"),
                ));
            }
            if max < initial || max > 3_600_000 {
                return Err(key(
                    "webhooks.max_backoff_ms",
                    format!("{max} is not from initial_backoff_ms ({initial}) to 3600000"),
                ));
            }
            rules.webhooks = Some(Webhooks {
                urls: w.urls,
                secret,
                initial_backoff: Duration::from_millis(initial),
                max_backoff: Duration::from_millis(max),
            });
        }
        Ok(rules)
    }

    /// Whether an HS code is sensitive here: its chapter or a configured code
    /// (a configured heading matches the codes under it).
    pub fn sensitive_hs(&self, code: &str) -> Option<String> {
        let chapter = code.get(..2)?;
        if self.hs_chapters.contains(chapter) {
            return Some(format!("chapter {chapter}"));
        }
        self.hs_codes
            .iter()
            .find(|c| code.starts_with(c.as_str()))
            .map(|c| format!("code {c}"))
    }
}
