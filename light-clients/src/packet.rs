//! Packets, acknowledgements, channel state and the roots a header commits.
//!
//! What goes into a block's `events_root` is an [`EventLeaf`]: the kind
//! (packet or ack) and the SHA-256 commitment of the packet's or ack's
//! canonical encoding. Commitments are SHA-256 on every family so that source
//! and destination compute the same value; the tree over them uses the
//! family's own hash. `state_root` is a tree of [`StateLeaf`]s: every
//! channel's [`ChannelState`] in ascending channel order, then every
//! counterparty client's [`ClientSummary`] in ascending chain order.

use core::fmt;
use core::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::Canonical;
use crate::hash::{sha256, Hash32};
use crate::merkle::MerkleCommitment;
use crate::time::Timestamp;

/// Largest packet payload, in bytes (a port event is a few kilobytes).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Largest error reason carried in an ack, in bytes.
pub const MAX_ACK_REASON_BYTES: usize = 512;
/// Longest chain id.
pub const MAX_CHAIN_ID_LEN: usize = 50;

/// A ledger's chain id: 1 to 50 of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize)]
pub struct ChainId(String);

impl ChainId {
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        check_chain_id(&s)?;
        Ok(ChainId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_chain_id(s: &str) -> Result<(), String> {
    let ok_len = !s.is_empty() && s.len() <= MAX_CHAIN_ID_LEN;
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let ok_first = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok_len && ok_chars && ok_first {
        Ok(())
    } else {
        Err(format!(
            "chain id {s:?} must be 1 to {MAX_CHAIN_ID_LEN} of a-z 0-9 . _ - starting with a letter or digit"
        ))
    }
}

impl BorshDeserialize for ChainId {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let s = String::deserialize_reader(reader)?;
        check_chain_id(&s)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e))?;
        Ok(ChainId(s))
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", self.0)
    }
}

impl FromStr for ChainId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ChainId::new(s)
    }
}

impl Serialize for ChainId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ChainId::new(<String as Deserialize>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The application a channel carries.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(rename_all = "lowercase")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum App {
    /// DCSA track-and-trace and customs events.
    Cargo = 0,
    /// Letters of credit, freight invoices, settlements.
    Payment = 1,
    /// Electronic bill of lading title transfer.
    Ebl = 2,
}

impl App {
    pub const ALL: [App; 3] = [App::Cargo, App::Payment, App::Ebl];

    pub fn as_str(self) -> &'static str {
        match self {
            App::Cargo => "cargo",
            App::Payment => "payment",
            App::Ebl => "ebl",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for App {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        App::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown app {s:?} (expected cargo, payment or ebl)"))
    }
}

/// An ordered channel: one (source, destination, app).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct ChannelId {
    pub source: ChainId,
    pub destination: ChainId,
    pub app: App,
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}/{}", self.source, self.destination, self.app)
    }
}

/// Where a packet belongs: its channel and its sequence on it.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct PacketId {
    pub channel: ChannelId,
    pub sequence: u64,
}

impl ChannelId {
    fn validate(&self) -> Result<(), String> {
        if self.source == self.destination {
            return Err(format!("source and destination are both {}", self.source));
        }
        Ok(())
    }
}

impl PacketId {
    fn validate(&self) -> Result<(), String> {
        self.channel.validate()?;
        if self.sequence == 0 {
            return Err("sequence starts at 1".into());
        }
        Ok(())
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.channel, self.sequence)
    }
}

/// When a packet stops being deliverable, judged by the destination against
/// the block it is building: at or after `time`, or at or after `height` if set.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    pub time: Timestamp,
    pub height: Option<u64>,
}

impl Timeout {
    pub fn has_passed(&self, block_time: Timestamp, block_height: u64) -> bool {
        block_time >= self.time || self.height.is_some_and(|h| block_height >= h)
    }
}

/// A cross-ledger packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Packet {
    pub id: PacketId,
    pub timeout: Timeout,
    #[serde(with = "hex_bytes")]
    pub payload: Vec<u8>,
}

impl Canonical for Packet {
    const WHAT: &'static str = "packet";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = MAX_PAYLOAD_BYTES + 1024;

    fn validate(&self) -> Result<(), String> {
        self.id.validate()?;
        if self.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(format!(
                "payload of {} bytes is over {MAX_PAYLOAD_BYTES}",
                self.payload.len()
            ));
        }
        Ok(())
    }
}

impl Packet {
    /// SHA-256 of the canonical encoding.
    pub fn commitment(&self) -> Hash32 {
        sha256(&[&self.encode()])
    }
}

/// What the destination did with a packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
#[serde(deny_unknown_fields)]
pub enum AckResult {
    /// Applied.
    Ok,
    /// Refused by the destination app, with its reason.
    Error(String),
    /// Arrived after its timeout: not applied; the source reverts the send.
    Timeout,
}

/// The destination's acknowledgement of one packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    pub packet: PacketId,
    /// The commitment of the packet acknowledged, so an ack answers one packet only.
    pub packet_commitment: Hash32,
    pub result: AckResult,
}

impl Canonical for Ack {
    const WHAT: &'static str = "ack";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = 4096;

    fn validate(&self) -> Result<(), String> {
        self.packet.validate()?;
        match &self.result {
            AckResult::Error(reason)
                if reason.is_empty() || reason.len() > MAX_ACK_REASON_BYTES =>
            {
                Err(format!(
                    "error reason must be 1 to {MAX_ACK_REASON_BYTES} bytes"
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Ack {
    /// SHA-256 of the canonical encoding.
    pub fn commitment(&self) -> Hash32 {
        sha256(&[&self.encode()])
    }
}

/// The kind of an events-tree leaf.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "lowercase")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum EventKind {
    Packet = 0,
    Ack = 1,
}

/// One leaf of a block's events tree.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct EventLeaf {
    pub kind: EventKind,
    pub commitment: Hash32,
}

impl Canonical for EventLeaf {
    const WHAT: &'static str = "event leaf";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = 64;
}

impl From<&Packet> for EventLeaf {
    fn from(p: &Packet) -> Self {
        EventLeaf {
            kind: EventKind::Packet,
            commitment: p.commitment(),
        }
    }
}

impl From<&Ack> for EventLeaf {
    fn from(a: &Ack) -> Self {
        EventLeaf {
            kind: EventKind::Ack,
            commitment: a.commitment(),
        }
    }
}

/// The sequences of one channel on one ledger, a leaf of `state_root`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelState {
    pub channel: ChannelId,
    /// Next sequence this ledger will send (on the source side).
    pub next_send: u64,
    /// Next sequence this ledger will accept (on the destination side).
    pub next_recv: u64,
    /// Next sequence whose ack this ledger expects back (on the source side).
    pub next_ack: u64,
}

impl Canonical for ChannelState {
    const WHAT: &'static str = "channel state";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = 512;

    /// Sequences start at 1 and an ack never runs ahead of what was sent.
    fn validate(&self) -> Result<(), String> {
        self.channel.validate()?;
        if self.next_send == 0 || self.next_recv == 0 || self.next_ack == 0 {
            return Err("sequences start at 1".into());
        }
        if self.next_ack > self.next_send {
            return Err(format!(
                "next_ack {} is past next_send {}",
                self.next_ack, self.next_send
            ));
        }
        Ok(())
    }
}

/// A counterparty client as a ledger commits it: a leaf of `state_root`,
/// so another ledger can prove what this one trusts of a third.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSummary {
    pub chain: ChainId,
    pub latest_height: u64,
    /// Hash of the latest header the client verified.
    pub latest_hash: Hash32,
    pub frozen: bool,
}

/// One leaf of a block's state tree: a channel's sequences, or a client's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum StateLeaf {
    Channel(ChannelState),
    Client(ClientSummary),
}

impl Canonical for StateLeaf {
    const WHAT: &'static str = "state leaf";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = 512;

    fn validate(&self) -> Result<(), String> {
        match self {
            StateLeaf::Channel(c) => c.validate(),
            StateLeaf::Client(_) => Ok(()),
        }
    }
}

/// The interop roots every header commits (directly, or through `app_hash` for gba).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Roots {
    /// Packets and acks the block emits.
    pub events: MerkleCommitment,
    /// Channel sequences after the block.
    pub state: MerkleCommitment,
    /// Poseidon root of the block's disclosure records; all zero until used.
    pub zk_root: Hash32,
}

impl Canonical for Roots {
    const WHAT: &'static str = "roots";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = 256;
}

impl Roots {
    /// The roots of a block that emits nothing and holds no channel state:
    /// both trees empty (`H("")`, count 0), `zk_root` zero.
    pub fn empty(alg: crate::hash::HashAlgorithm) -> Self {
        let empty = MerkleCommitment {
            root: crate::merkle::empty_root(alg),
            count: 0,
        };
        Roots {
            events: empty,
            state: empty,
            zk_root: Hash32::ZERO,
        }
    }

    /// The `app_hash` a gba ledger commits for these roots: SHA-256 of the encoding.
    pub fn app_hash(&self) -> Hash32 {
        sha256(&[&self.encode()])
    }
}

pub(crate) mod hex_bytes {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hash::hex_string(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Digits;
        impl serde::de::Visitor<'_> for Digits {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Vec<u8>, E> {
                hex::decode(s).map_err(|e| E::custom(format!("expected hex: {e}")))
            }
        }
        d.deserialize_str(Digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::DecodeError;
    use proptest::prelude::*;

    fn chain(s: &str) -> ChainId {
        ChainId::new(s).unwrap()
    }

    fn packet(seq: u64, payload: Vec<u8>) -> Packet {
        Packet {
            id: PacketId {
                channel: ChannelId {
                    source: chain("cosco-1"),
                    destination: chain("cmport-1"),
                    app: App::Cargo,
                },
                sequence: seq,
            },
            timeout: Timeout {
                time: Timestamp::from_unix_secs(1_800_000_000),
                height: Some(90),
            },
            payload,
        }
    }

    #[test]
    fn the_encoding_is_documented_byte_for_byte() {
        let p = packet(7, b"hi".to_vec());
        let bytes = p.encode();
        let mut expected = vec![1u8]; // version
        expected.extend(7u32.to_le_bytes());
        expected.extend(b"cosco-1");
        expected.extend(8u32.to_le_bytes());
        expected.extend(b"cmport-1");
        expected.push(0); // app cargo
        expected.extend(7u64.to_le_bytes());
        expected.extend(1_800_000_000_000_000_000u64.to_le_bytes());
        expected.push(1); // Some(height)
        expected.extend(90u64.to_le_bytes());
        expected.extend(2u32.to_le_bytes());
        expected.extend(b"hi");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn decoding_refuses_what_is_not_canonical() {
        let bytes = packet(1, vec![1, 2, 3]).encode();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            Packet::decode(&trailing),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            Packet::decode(&bytes[..bytes.len() - 1]),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            Packet::decode(&[]),
            Err(DecodeError::Empty { .. })
        ));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            Packet::decode(&v2),
            Err(DecodeError::UnsupportedVersion {
                what: "packet",
                found: 2,
                supported: 1
            })
        );
        // Option tag 2 is not a bool.
        let mut bad_tag = bytes.clone();
        let tag_at = 1 + 4 + 7 + 4 + 8 + 1 + 8 + 8;
        assert_eq!(bad_tag[tag_at], 1);
        bad_tag[tag_at] = 2;
        assert!(matches!(
            Packet::decode(&bad_tag),
            Err(DecodeError::Malformed { .. })
        ));
        // An upper-case chain id is not a chain id.
        let mut upper = bytes.clone();
        upper[5] = b'C';
        assert!(matches!(
            Packet::decode(&upper),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            Packet::decode(&packet(0, vec![]).encode()),
            Err(DecodeError::Invalid { .. })
        ));
        let huge = vec![0u8; Packet::MAX_BYTES + 1];
        assert!(matches!(
            Packet::decode(&huge),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn ack_reasons_are_bounded() {
        let p = packet(3, vec![]);
        let ack = |result| Ack {
            packet: p.id.clone(),
            packet_commitment: p.commitment(),
            result,
        };
        assert!(Ack::decode(&ack(AckResult::Ok).encode()).is_ok());
        assert!(Ack::decode(&ack(AckResult::Error(String::new())).encode()).is_err());
        assert!(Ack::decode(&ack(AckResult::Error("x".repeat(513))).encode()).is_err());
        assert_ne!(
            ack(AckResult::Ok).commitment(),
            ack(AckResult::Timeout).commitment()
        );
    }

    #[test]
    fn chain_ids_are_checked() {
        for ok in ["cmport-1", "gba.shekou", "a", "cosco_2"] {
            assert!(ChainId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "CMPORT", "a b", &"x".repeat(51)] {
            assert!(ChainId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeouts_use_time_or_height() {
        let t = Timeout {
            time: Timestamp::from_unix_secs(100),
            height: Some(10),
        };
        assert!(!t.has_passed(Timestamp::from_unix_secs(99), 9));
        assert!(t.has_passed(Timestamp::from_unix_secs(100), 9));
        assert!(t.has_passed(Timestamp::from_unix_secs(99), 10));
        let no_height = Timeout { height: None, ..t };
        assert!(!no_height.has_passed(Timestamp::from_unix_secs(99), u64::MAX));
    }

    fn arb_packet() -> impl Strategy<Value = Packet> {
        (
            "[a-z0-9][a-z0-9._-]{0,20}",
            "[a-z0-9][a-z0-9._-]{0,20}",
            0usize..3,
            1u64..,
            any::<u64>(),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_filter("distinct chains", |(s, d, ..)| s != d)
            .prop_map(|(s, d, app, seq, time, height, payload)| Packet {
                id: PacketId {
                    channel: ChannelId {
                        source: chain(&s),
                        destination: chain(&d),
                        app: App::ALL[app],
                    },
                    sequence: seq,
                },
                timeout: Timeout {
                    time: Timestamp::from_unix_nanos(time),
                    height,
                },
                payload,
            })
    }

    proptest! {
        #[test]
        fn packets_round_trip_and_any_byte_change_is_seen(p in arb_packet(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let bytes = p.encode();
            prop_assert_eq!(Packet::decode(&bytes).unwrap(), p.clone());
            prop_assert_eq!(p.encode(), bytes.clone());
            let mut changed = bytes.clone();
            changed[at.index(bytes.len())] ^= 1 << bit;
            // A changed byte string either fails to decode or decodes to another packet
            // with another commitment: it can never stand for the same packet.
            if let Ok(other) = Packet::decode(&changed) {
                prop_assert_ne!(other.commitment(), p.commitment());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Packet::decode(&bytes);
            let _ = Ack::decode(&bytes);
            let _ = ChannelState::decode(&bytes);
            let _ = Roots::decode(&bytes);
        }

        #[test]
        fn acks_and_channel_states_round_trip(seq in 1u64.., reason in "[ -~]{1,100}", a in any::<u64>(), b in any::<u64>()) {
            let p = packet(seq, vec![]);
            let ack = Ack { packet: p.id.clone(), packet_commitment: p.commitment(), result: AckResult::Error(reason) };
            prop_assert_eq!(Ack::decode(&ack.encode()).unwrap(), ack);
            let (a, b) = (a.max(seq).max(1), b.max(1));
            let st = ChannelState { channel: p.id.channel.clone(), next_send: a, next_recv: b, next_ack: seq };
            prop_assert_eq!(ChannelState::decode(&st.encode()).unwrap(), st);
        }
    }
}
