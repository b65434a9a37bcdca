//! The cross-validation rules: each a pure function of the declaration's
//! facts and what a cargo event shows, answering pass or fail with the
//! reason in words. `mod.rs` decides when each runs and records it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::rules::CustomsRules;

/// Every declared container shows up at the linked port (checked when the
/// declaration is completed there, CUS CMPL).
pub const EVERY_CONTAINER_ARRIVES: &str = "every_container_arrives";
/// A container that arrives under a declared transport document is on the declaration.
pub const NO_UNDECLARED_CONTAINER: &str = "no_undeclared_container";
/// The seals an event reports are the declared ones.
pub const SEALS_EQUAL: &str = "seals_equal";
/// The verified gross mass is the declared gross weight, within the port's tolerance.
pub const WEIGHT_WITHIN_TOLERANCE: &str = "weight_within_tolerance";
/// The container shows up at a port of the declared route.
pub const ROUTE_CONSISTENT: &str = "route_consistent";
/// The declaration is neither expired, revoked nor held when the container moves.
pub const DECLARATION_VALID: &str = "declaration_valid";
/// A CUS HOLD was recorded for a declaration.
pub const CUSTOMS_HOLD: &str = "customs_hold";
/// A goods line's HS chapter or code is on the port's sensitive list.
pub const SENSITIVE_HS: &str = "sensitive_hs";
/// A goods line's IMDG class is on the port's sensitive list.
pub const SENSITIVE_IMDG: &str = "sensitive_imdg";
/// A party of the declaration is on the port's screening list.
pub const SCREENED_PARTY: &str = "screened_party";
/// A declaration already presented at this port was presented again.
pub const DECLARATION_REUSED: &str = "declaration_reused";

/// Every rule a warning can name (the bounded label set of the metrics).
pub const RULES: [&str; 11] = [
    EVERY_CONTAINER_ARRIVES,
    NO_UNDECLARED_CONTAINER,
    SEALS_EQUAL,
    WEIGHT_WITHIN_TOLERANCE,
    ROUTE_CONSISTENT,
    DECLARATION_VALID,
    CUSTOMS_HOLD,
    SENSITIVE_HS,
    SENSITIVE_IMDG,
    SCREENED_PARTY,
    DECLARATION_REUSED,
];

/// How urgently a warning needs an officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look (sensitive goods declared as such).
    Low,
    /// A discrepancy that may be innocent (weight, route).
    Medium,
    /// Stop the box: seals, an undeclared or missing container, a held,
    /// revoked, expired or reused declaration, a screened party.
    High,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// The severity of a failure of `rule`.
    pub fn of(rule: &str) -> Severity {
        match rule {
            WEIGHT_WITHIN_TOLERANCE | ROUTE_CONSISTENT | SENSITIVE_IMDG => Severity::Medium,
            SENSITIVE_HS => Severity::Low,
            _ => Severity::High,
        }
    }
}

/// One rule's verdict on one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub passed: bool,
    /// What was compared, in words.
    pub detail: String,
}

fn finding(rule: &'static str, passed: bool, detail: String) -> Finding {
    Finding {
        rule,
        passed,
        detail,
    }
}

/// [`SEALS_EQUAL`]: the same set of seal numbers (order and case of letters aside).
pub fn seals_equal(declared: &[String], observed: &[String]) -> Finding {
    let norm = |v: &[String]| {
        let mut s: Vec<String> = v.iter().map(|x| x.trim().to_uppercase()).collect();
        s.sort();
        s.dedup();
        s
    };
    let (d, o) = (norm(declared), norm(observed));
    let passed = d == o;
    finding(
        SEALS_EQUAL,
        passed,
        format!(
            "declared seals [{}], observed [{}]",
            d.join(", "),
            o.join(", ")
        ),
    )
}

/// [`WEIGHT_WITHIN_TOLERANCE`]: `|observed - declared| <= max(kg, declared * percent / 100)`.
pub fn weight_within(declared_kg: f64, observed_kg: f64, rules: &CustomsRules) -> Finding {
    let tolerance = rules
        .tolerance_kg
        .max(declared_kg * rules.tolerance_percent / 100.0);
    let diff = (observed_kg - declared_kg).abs();
    finding(
        WEIGHT_WITHIN_TOLERANCE,
        diff <= tolerance,
        format!(
            "declared {declared_kg} kg, verified gross mass {observed_kg} kg: {diff} kg apart, tolerance {tolerance} kg"
        ),
    )
}

/// [`ROUTE_CONSISTENT`]: one of the event's ports is a port of the route.
pub fn route_consistent(route: &[String], observed: &[String]) -> Finding {
    let passed = observed.iter().any(|p| route.contains(p));
    finding(
        ROUTE_CONSISTENT,
        passed,
        format!(
            "observed at [{}], declared route [{}]",
            observed.join(", "),
            route.join(", ")
        ),
    )
}

/// Where a declaration stands in its lifecycle (the latest CUS event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standing {
    /// Declared; no customs decision recorded yet.
    Declared,
    /// REQS.
    Requested,
    /// HOLD.
    Held,
    /// RELS.
    Released,
    /// CMPL.
    Completed,
    /// CANC or VOID.
    Revoked,
}

impl Standing {
    /// The standing a CUS `shipmentEventTypeCode` moves a declaration to.
    pub fn of_code(code: &str) -> Option<Standing> {
        Some(match code {
            "REQS" => Standing::Requested,
            "HOLD" => Standing::Held,
            "RELS" => Standing::Released,
            "CMPL" => Standing::Completed,
            "CANC" | "VOID" => Standing::Revoked,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Declared => "declared",
            Standing::Requested => "requested",
            Standing::Held => "held",
            Standing::Released => "released",
            Standing::Completed => "completed",
            Standing::Revoked => "revoked",
        }
    }
}

/// [`DECLARATION_VALID`]: not revoked, not held, and `at` (the event's
/// time) not after `valid_until`.
pub fn declaration_valid(
    standing: Standing,
    valid_until: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> Finding {
    let fault = match standing {
        Standing::Revoked => Some("revoked (CUS CANC/VOID)".to_string()),
        Standing::Held => Some("held by customs (CUS HOLD)".to_string()),
        _ => match valid_until {
            Some(until) if at > until => {
                Some(format!("expired: valid until {until}, used at {at}"))
            }
            _ => None,
        },
    };
    match fault {
        Some(f) => finding(DECLARATION_VALID, false, f),
        None => finding(
            DECLARATION_VALID,
            true,
            format!("{} and in force at {at}", standing.as_str()),
        ),
    }
}

/// [`NO_UNDECLARED_CONTAINER`]: the container is on the declaration.
pub fn container_declared(declared: &[String], container: &str, declaration: &str) -> Finding {
    let passed = declared.iter().any(|c| c == container);
    finding(
        NO_UNDECLARED_CONTAINER,
        passed,
        if passed {
            format!("{container} is on declaration {declaration}")
        } else {
            format!(
                "{container} is not on declaration {declaration} (which lists {})",
                declared.join(", ")
            )
        },
    )
}

/// [`EVERY_CONTAINER_ARRIVES`]: the container was seen at this port.
pub fn arrived(container: &str, seen: bool, port: &str) -> Finding {
    finding(
        EVERY_CONTAINER_ARRIVES,
        seen,
        if seen {
            format!("{container} arrived at {port}")
        } else {
            format!("{container} was declared but never arrived at {port}")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn seals_equal_as_sets_and_differ_by_name() {
        assert!(seals_equal(&s(&["CN1234567", "A1"]), &s(&["a1", "CN1234567"])).passed);
        let f = seals_equal(&s(&["CN1234567"]), &s(&["CN7654321"]));
        assert!(!f.passed);
        assert_eq!(f.rule, SEALS_EQUAL);
        assert!(f.detail.contains("CN7654321"), "{}", f.detail);
        assert!(!seals_equal(&s(&["A"]), &s(&["A", "B"])).passed);
        assert!(!seals_equal(&s(&["A"]), &[]).passed);
    }

    #[test]
    fn weight_within_the_larger_of_kg_and_percent() {
        let rules = CustomsRules {
            tolerance_percent: 5.0,
            tolerance_kg: 100.0,
            ..CustomsRules::default()
        };
        // 5 % of 6200 is 310 kg.
        assert!(weight_within(6200.0, 6500.0, &rules).passed);
        assert!(weight_within(6200.0, 5890.0, &rules).passed);
        let f = weight_within(6200.0, 6520.0, &rules);
        assert!(!f.passed);
        assert_eq!(f.rule, WEIGHT_WITHIN_TOLERANCE);
        // A light box: the kg floor applies.
        assert!(weight_within(1000.0, 1090.0, &rules).passed);
        assert!(!weight_within(1000.0, 1101.0, &rules).passed);
    }

    #[test]
    fn route_consistent_when_a_port_is_on_the_route() {
        let route = s(&["CNSUD", "CNSHK", "NLRTM"]);
        assert!(route_consistent(&route, &s(&["CNSHK"])).passed);
        assert!(route_consistent(&route, &s(&["CNYTN", "NLRTM"])).passed);
        let f = route_consistent(&route, &s(&["CNYTN"]));
        assert!(!f.passed);
        assert_eq!(f.rule, ROUTE_CONSISTENT);
        assert!(!route_consistent(&route, &[]).passed);
    }

    #[test]
    fn declaration_valid_unless_revoked_held_or_expired() {
        let until = Some(datetime!(2027-02-15 00:00 UTC));
        let before = datetime!(2027-01-20 10:00 UTC);
        let after = datetime!(2027-02-16 10:00 UTC);
        assert!(declaration_valid(Standing::Released, until, before).passed);
        assert!(declaration_valid(Standing::Released, None, after).passed);
        for (standing, at, says) in [
            (Standing::Revoked, before, "revoked"),
            (Standing::Held, before, "held"),
            (Standing::Released, after, "expired"),
        ] {
            let f = declaration_valid(standing, until, at);
            assert!(!f.passed, "{standing:?}");
            assert_eq!(f.rule, DECLARATION_VALID);
            assert!(f.detail.contains(says), "{}", f.detail);
        }
    }

    #[test]
    fn container_declared_and_arrived() {
        let declared = s(&["CSQU3054383", "MSKU1234565"]);
        assert!(container_declared(&declared, "MSKU1234565", "N").passed);
        let f = container_declared(&declared, "TGHU0000006", "N");
        assert!(!f.passed);
        assert_eq!(f.rule, NO_UNDECLARED_CONTAINER);
        assert!(arrived("CSQU3054383", true, "cmport-1").passed);
        let f = arrived("CSQU3054383", false, "cmport-1");
        assert!(!f.passed);
        assert_eq!(f.rule, EVERY_CONTAINER_ARRIVES);
    }

    #[test]
    fn severities_are_bounded_and_named() {
        assert_eq!(Severity::of(SEALS_EQUAL), Severity::High);
        assert_eq!(Severity::of(WEIGHT_WITHIN_TOLERANCE), Severity::Medium);
        assert_eq!(Severity::of(SENSITIVE_HS), Severity::Low);
        for rule in RULES {
            assert!(Severity::ALL.contains(&Severity::of(rule)));
        }
    }
}
