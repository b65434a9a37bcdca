//! Confidential paths: what a destination asks of a (source, app) path (the
//! full packet with a Merkle proof, or Groth16 disclosure proofs), the
//! disclosure a relayer carries, and how a packet's record is identified.
//!
//! On a `groth16` path the source sends, as the packet's payload, the
//! Poseidon leaf of the event's salted record (a commitment that reveals
//! nothing), and commits the leaf in its block's `zk_root`. The destination
//! receives the packet (so sequences, receipts and acks work as on any
//! channel) with a [`Disclosure`]: a Groth16 proof that records with these
//! packet ids are under the `zk_root` of a header its client verified, that
//! the disclosed fields have these values, and that the predicates hold. The
//! rules must be exactly the ones the destination's [`PathPolicy`] asks for
//! the record's kind, so no field the destination did not ask for reaches it.

use std::collections::BTreeMap;

use circuits::encode;
use circuits::{Fr, Rule};
use serde::{Deserialize, Serialize};

use crate::hash::{sha256, Hash32};
use crate::packet::PacketId;

/// A channel whose version ends with this carries record commitments, not
/// events: the source sends each packet's record leaf as its payload.
pub const CONFIDENTIAL_VERSION_SUFFIX: &str = "+groth16";

/// The payload of a packet on a confidential channel: its record's leaf.
pub const COMMITMENT_BYTES: usize = 32;

/// The default depth of a block's `zk_root` tree (2^16 records).
pub const DEFAULT_ZK_DEPTH: u32 = circuits::tree::DEFAULT_DEPTH;

/// Whether a channel of this version carries record commitments.
pub fn is_confidential(version: &str) -> bool {
    version.ends_with(CONFIDENTIAL_VERSION_SUFFIX)
}

/// The field element that stands for a packet in its record and in a
/// statement: the first 31 bytes of SHA-256 of the id's canonical encoding.
pub fn packet_id_field(id: &PacketId) -> Fr {
    encode::digest(sha256(&[&PacketIdBytes(id).bytes()]).as_bytes())
}

/// The canonical bytes of a packet id (the salt context of its record, too).
pub fn packet_id_bytes(id: &PacketId) -> Vec<u8> {
    PacketIdBytes(id).bytes()
}

struct PacketIdBytes<'a>(&'a PacketId);

impl PacketIdBytes<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut out = b"portrelay.packet-id.v1".to_vec();
        // Borsh into a Vec does not fail.
        let _ = borsh::to_writer(&mut out, self.0);
        out
    }
}

/// A field element as the 32 big-endian bytes a header holds.
pub fn fr_hash(x: &Fr) -> Hash32 {
    Hash32(encode::fr_to_bytes(x))
}

/// What a destination asks of one field of a record on a `groth16` path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    /// Nothing about the field reaches the destination.
    Hidden,
    /// The field's value is disclosed.
    Disclose,
    /// An amount of at least this many minor units (the value stays hidden).
    AtLeast(u64),
    /// An amount of at most this many minor units (the value stays hidden).
    AtMost(u64),
}

impl FieldRule {
    /// Whether a statement's rule is this one (`Disclose` takes any value).
    pub fn admits(&self, rule: &Rule) -> bool {
        matches!(
            (self, rule),
            (FieldRule::Hidden, Rule::Hidden) | (FieldRule::Disclose, Rule::Equals(_))
        ) || matches!((self, rule), (FieldRule::AtLeast(a), Rule::AtLeast(b)) if a == b)
            || matches!((self, rule), (FieldRule::AtMost(a), Rule::AtMost(b)) if a == b)
    }
}

/// How a destination takes packets of one (source, app): `merkle` (the
/// default: the full packet with its inclusion proof) or `groth16`
/// (commitments with disclosure proofs). Under `groth16`, `kinds` maps a
/// record kind (field 0 of every record, a code such as `SETTLEMENT`) to the
/// rules for fields 1, 2, ... (missing trailing rules are `hidden`); a kind
/// not listed discloses its kind only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum PathPolicy {
    #[default]
    Merkle,
    Groth16 {
        #[serde(default)]
        kinds: BTreeMap<String, Vec<FieldRule>>,
    },
}

impl PathPolicy {
    pub fn mode(&self) -> &'static str {
        match self {
            PathPolicy::Merkle => "merkle",
            PathPolicy::Groth16 { .. } => "groth16",
        }
    }

    /// Checks the policy itself: kinds are codes, at most 13 rules (a
    /// record has at most 14 fields, the first being its kind).
    pub fn validate(&self) -> Result<(), String> {
        let PathPolicy::Groth16 { kinds } = self else {
            return Ok(());
        };
        for (kind, rules) in kinds {
            encode::code(kind).map_err(|e| format!("kind {kind:?}: {e}"))?;
            if rules.len() >= circuits::record::MAX_FIELDS {
                return Err(format!(
                    "kind {kind}: {} rules, a record has at most {} fields after its kind",
                    rules.len(),
                    circuits::record::MAX_FIELDS - 1
                ));
            }
        }
        Ok(())
    }

    /// The rules a record of `kind` must be proven with, for a circuit of
    /// `width` fields: `equals kind`, then the policy's rules padded with
    /// `hidden`. `None` on a `merkle` policy or a policy longer than `width`.
    pub fn expected(&self, kind: Fr, width: usize) -> Option<Vec<FieldRule>> {
        let PathPolicy::Groth16 { kinds } = self else {
            return None;
        };
        let listed = kinds
            .iter()
            .find(|(k, _)| encode::code(k).ok() == Some(kind))
            .map(|(_, r)| r.as_slice())
            .unwrap_or_default();
        if listed.len() + 1 > width {
            return None;
        }
        let mut rules = vec![FieldRule::Disclose];
        rules.extend_from_slice(listed);
        rules.resize(width, FieldRule::Hidden);
        Some(rules)
    }

    /// The statement rules that satisfy this policy for a record whose
    /// fields are `fields` (field 0 its kind): what a source's prover proves.
    pub fn rules_for(&self, fields: &[Fr]) -> Option<Vec<Rule>> {
        let kind = *fields.first()?;
        let expected = self.expected(kind, fields.len())?;
        Some(
            expected
                .iter()
                .zip(fields)
                .map(|(want, f)| match want {
                    FieldRule::Hidden => Rule::Hidden,
                    FieldRule::Disclose => Rule::Equals(*f),
                    FieldRule::AtLeast(x) => Rule::AtLeast(*x),
                    FieldRule::AtMost(x) => Rule::AtMost(*x),
                })
                .collect(),
        )
    }
}

/// One rule of a statement as it travels: `hidden`, `{"equals": "<64 hex>"}`,
/// `{"at_least": n}`, `{"at_most": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosedRule {
    Hidden,
    Equals(Hash32),
    AtLeast(u64),
    AtMost(u64),
}

impl DisclosedRule {
    /// The circuit's rule; an `equals` value must be a canonical field element.
    pub fn to_rule(&self) -> Result<Rule, String> {
        Ok(match self {
            DisclosedRule::Hidden => Rule::Hidden,
            DisclosedRule::Equals(h) => Rule::Equals(
                encode::fr_from_bytes(h.as_bytes()).map_err(|e| format!("equals value: {e}"))?,
            ),
            DisclosedRule::AtLeast(x) => Rule::AtLeast(*x),
            DisclosedRule::AtMost(x) => Rule::AtMost(*x),
        })
    }

    pub fn from_rule(rule: &Rule) -> Self {
        match rule {
            Rule::Hidden => DisclosedRule::Hidden,
            Rule::Equals(v) => DisclosedRule::Equals(fr_hash(v)),
            Rule::AtLeast(x) => DisclosedRule::AtLeast(*x),
            Rule::AtMost(x) => DisclosedRule::AtMost(*x),
        }
    }
}

/// The statement about one record: its packet and one rule per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosedRecord {
    pub packet: PacketId,
    pub rules: Vec<DisclosedRule>,
}

/// A Groth16 disclosure proof over up to K records of one source block, as
/// a relayer carries it with each of those packets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// The `zk_root` the proof is against; the destination checks it is the
    /// one of the verified header that proves the packet.
    pub zk_root: Hash32,
    /// The statement's records, in the order proven.
    pub records: Vec<DisclosedRecord>,
    /// The proof, 128 compressed bytes.
    #[serde(with = "crate::packet::hex_bytes")]
    pub proof: Vec<u8>,
}

impl Disclosure {
    /// The circuit's statement for a key of shape `params`.
    pub fn statement(
        &self,
        params: circuits::DisclosureParams,
    ) -> Result<circuits::Statement, String> {
        let root =
            encode::fr_from_bytes(self.zk_root.as_bytes()).map_err(|e| format!("zk_root: {e}"))?;
        let records = self
            .records
            .iter()
            .map(|r| {
                Ok(circuits::Disclosure {
                    packet_id: packet_id_field(&r.packet),
                    rules: r
                        .rules
                        .iter()
                        .map(DisclosedRule::to_rule)
                        .collect::<Result<_, String>>()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        circuits::Statement::new(params, root, records).map_err(|e| e.to_string())
    }

    /// The position of `packet` among the records: it must appear once.
    pub fn index_of(&self, packet: &PacketId) -> Result<usize, String> {
        let mut at = self
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| &r.packet == packet)
            .map(|(i, _)| i);
        match (at.next(), at.next()) {
            (Some(i), None) => Ok(i),
            (None, _) => Err(format!("the disclosure does not cover {packet}")),
            (Some(_), Some(_)) => Err(format!("the disclosure covers {packet} twice")),
        }
    }
}

/// A verifying key registered for a path: `circuits::groth16::vk_to_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyingKeyBytes(#[serde(with = "crate::packet::hex_bytes")] pub Vec<u8>);

/// The leaf bytes a confidential packet carries as its payload.
pub fn commitment_payload(leaf: &Fr) -> Vec<u8> {
    // `fr_to_bytes` is COMMITMENT_BYTES long.
    encode::fr_to_bytes(leaf).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{App, ChainId, ChannelId};

    fn id(seq: u64) -> PacketId {
        PacketId {
            channel: ChannelId {
                source: ChainId::new("cosco-1").unwrap(),
                destination: ChainId::new("cmport-1").unwrap(),
                app: App::Payment,
            },
            sequence: seq,
        }
    }

    /// Golden values of docs/profiles/cmport.md section 6a.
    #[test]
    fn zk_root_golden_values() {
        assert_eq!(
            crate::host::zk_root(DEFAULT_ZK_DEPTH, &[]).to_string(),
            "2a7c7c9b6ce5880b9f6f228d72bf6a575a526f29c66ecceef8b753d38bba7323"
        );
        assert_eq!(
            crate::host::zk_root(DEFAULT_ZK_DEPTH, &[fr_hash(&Fr::from(1u64))]).to_string(),
            "23d73fb608e096c75d493703b5ac3140f585ce8b1ef1eaa35518c2760f21def5"
        );
        let id = id(1);
        assert_eq!(
            hex::encode(packet_id_bytes(&id)),
            "706f727472656c61792e7061636b65742d69642e763107000000636f73636f2d31\
             08000000636d706f72742d31010100000000000000"
        );
        assert_eq!(
            fr_hash(&packet_id_field(&id)).to_string(),
            "00c2fb0eab796e5b7536e4054833b237db7cb3c3a7692936aa556c9bea11f1ff"
        );
    }

    #[test]
    fn packet_ids_map_to_distinct_fields() {
        assert_ne!(packet_id_field(&id(1)), packet_id_field(&id(2)));
        assert_eq!(packet_id_field(&id(1)), packet_id_field(&id(1)));
    }

    #[test]
    fn a_policy_discloses_the_kind_and_pads_with_hidden() {
        let policy = PathPolicy::Groth16 {
            kinds: [(
                "SETTLEMENT".to_string(),
                vec![FieldRule::Disclose, FieldRule::AtLeast(100)],
            )]
            .into(),
        };
        let kind = encode::code("SETTLEMENT").unwrap();
        let fields = [kind, Fr::from(7u64), Fr::from(150u64), Fr::from(9u64)];
        let rules = policy.rules_for(&fields).unwrap();
        assert_eq!(
            rules,
            vec![
                Rule::Equals(kind),
                Rule::Equals(Fr::from(7u64)),
                Rule::AtLeast(100),
                Rule::Hidden
            ]
        );
        // A kind the policy does not list discloses its kind only.
        let other = encode::code("INVOICE").unwrap();
        let rules = policy.rules_for(&[other, Fr::from(1u64)]).unwrap();
        assert_eq!(rules, vec![Rule::Equals(other), Rule::Hidden]);
        assert_eq!(PathPolicy::Merkle.rules_for(&fields), None);
    }

    #[test]
    fn policies_round_trip_as_json_and_bad_kinds_are_refused() {
        let policy = PathPolicy::Groth16 {
            kinds: [("SETTLEMENT".to_string(), vec![FieldRule::AtMost(5)])].into(),
        };
        let text = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            text,
            r#"{"mode":"groth16","kinds":{"SETTLEMENT":[{"at_most":5}]}}"#
        );
        assert_eq!(serde_json::from_str::<PathPolicy>(&text).unwrap(), policy);
        let bad = PathPolicy::Groth16 {
            kinds: [(String::new(), vec![])].into(),
        };
        assert!(bad.validate().is_err());
        let long = PathPolicy::Groth16 {
            kinds: [("X".to_string(), vec![FieldRule::Hidden; 14])].into(),
        };
        assert!(long.validate().unwrap_err().contains("at most 13"));
    }
}
