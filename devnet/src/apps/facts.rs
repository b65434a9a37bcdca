//! Facts: what a `groth16` path proved to this ledger about a packet's
//! record, kept by the document it is about.

use std::collections::BTreeMap;

use light_clients::{Packet, PacketId};
use serde::{Deserialize, Serialize};

use super::PortApps;

/// What a `groth16` path proved to this ledger about one packet's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub packet: PacketId,
    /// The record's kind (`PAYMENT_SETTLEMENT` ...).
    pub kind: String,
    /// By field name (`adapters::records`): `= value` for a disclosed field,
    /// `>= x` / `<= x` for a proven bound; hidden fields are absent.
    pub fields: BTreeMap<String, String>,
}

/// Why the facts of a disclosed record were refused on arrival.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FactRefusal {
    /// The rules do not disclose the record's kind (field 0).
    #[error("the record's kind is not disclosed")]
    KindHidden,
    /// The disclosed kind is none of the record layouts.
    #[error("unknown record kind {0}")]
    UnknownKind(String),
    /// An eBL transfer: a title moves only with its platform's signed
    /// envelope, so the source reclaims it rather than losing it.
    #[error("an eBL title cannot move as a disclosure")]
    EblTitle,
    /// The kind has no record layout.
    #[error("no layout for {0}")]
    NoLayout(String),
    /// The rules are not one per field of the kind's layout.
    #[error("{rules} rules for a {kind} record of {fields} fields")]
    RuleCount {
        rules: usize,
        kind: String,
        fields: usize,
    },
}

impl FactRefusal {
    /// A stable code for the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            FactRefusal::KindHidden => "kind_hidden",
            FactRefusal::UnknownKind(_) => "unknown_kind",
            FactRefusal::EblTitle => "ebl_title",
            FactRefusal::NoLayout(_) => "no_layout",
            FactRefusal::RuleCount { .. } => "rule_count",
        }
    }
}

impl PortApps {
    /// Records what a disclosure proved about `packet`'s record: each
    /// disclosed field and proven bound, by field name.
    pub(super) fn record_fact(
        &mut self,
        packet: &Packet,
        rules: &[circuits::Rule],
    ) -> Result<(), FactRefusal> {
        use adapters::records::{self, Encoding};
        use circuits::Rule;
        let Some(Rule::Equals(kind)) = rules.first() else {
            return Err(FactRefusal::KindHidden);
        };
        let kind =
            records::kind_of(kind).ok_or_else(|| FactRefusal::UnknownKind(records::show(kind)))?;
        if kind == "EBL_TRANSFER" {
            // A title moves only with the platform's signed envelope: refused,
            // so the source reclaims it rather than losing it.
            return Err(FactRefusal::EblTitle);
        }
        let layout =
            records::layout(kind).ok_or_else(|| FactRefusal::NoLayout(kind.to_string()))?;
        if rules.len() != layout.len() {
            return Err(FactRefusal::RuleCount {
                rules: rules.len(),
                kind: kind.to_string(),
                fields: layout.len(),
            });
        }
        let mut fields = BTreeMap::new();
        for (spec, rule) in layout.iter().zip(rules).skip(1) {
            let text = match rule {
                Rule::Hidden => continue,
                Rule::Equals(v) => match spec.encoding {
                    Encoding::Amount => format!(
                        "= {}",
                        circuits::disclosure::as_u64(*v)
                            .map_or_else(|| records::show(v), |x| x.to_string())
                    ),
                    Encoding::Digest => format!("= {}", circuits::encode::fr_to_hex(v)),
                    _ => format!("= {}", records::show(v)),
                },
                Rule::AtLeast(x) => format!(">= {x}"),
                Rule::AtMost(x) => format!("<= {x}"),
            };
            fields.insert(spec.name.to_string(), text);
        }
        let about = [
            "transportDocumentReference",
            "equipmentReference",
            "documentID",
        ]
        .iter()
        .find_map(|name| fields.get(*name))
        .and_then(|v| v.strip_prefix("= "))
        .unwrap_or("undisclosed")
        .to_string();
        self.facts.entry(about).or_default().push(Fact {
            packet: packet.id.clone(),
            kind: kind.to_string(),
            fields,
        });
        Ok(())
    }
}
