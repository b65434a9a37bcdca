//! The transactions of a gba ledger running as an ABCI application under
//! CometBFT (`docs/cometbft.md`, "ABCI contract"): what `broadcast_tx_sync`
//! carries, and the answers' codes.
//!
//! A transaction is one ledger input, [`AbciTx`], encoded with the
//! workspace's canonical codec: a version byte, then borsh of a tagged
//! union whose payload is the input's JSON (the same JSON the embedded
//! ledger's RPC takes: a `SignedTx`, a `SubmitEvent`), read strictly (a
//! repeated key is refused). Admin calls the embedded ledger takes over
//! HTTP with its bearer token travel here as [`AdminTx`], signed by the
//! ledger's operator key with their own nonce.

use borsh::{BorshDeserialize, BorshSerialize};
use light_clients::codec::{Canonical, DecodeError};
use light_clients::host::{RelayerKey, SignedTx};
use light_clients::ChainId;
use serde::{Deserialize, Serialize};

use crate::wire::SubmitEvent;

/// The codespace of every refusal the application answers.
pub const CODESPACE: &str = "portrelay";

/// One ledger input, as CometBFT carries it.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per transaction
pub enum AbciTx {
    /// A relayer's (or the operator's host) transaction: relay messages,
    /// or the operator's clients, channels and relayer keys.
    Signed(SignedTx),
    /// A port event a port submits (`POST /v1/events` of the embedded ledger).
    Event(SubmitEvent),
    /// An admin call signed by the operator key.
    Admin(AdminTx),
}

/// The byte form: a version byte, then borsh of this (each payload JSON).
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
enum Envelope {
    Signed(String),
    Event(String),
    Admin(String),
}

impl Canonical for Envelope {
    const WHAT: &'static str = "abci transaction";
    const VERSION: u8 = 1;
    const MAX_BYTES: usize = light_clients::host::MAX_TX_BODY_BYTES + 64 * 1024;
}

/// Why bytes are not an [`AbciTx`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbciTxError {
    /// The envelope does not decode (version, length, borsh).
    #[error(transparent)]
    Envelope(#[from] DecodeError),
    /// The payload is not the JSON of its kind.
    #[error("abci transaction: the {kind} payload is not valid: {reason}")]
    Payload { kind: &'static str, reason: String },
}

impl AbciTxError {
    /// The stable code (`code` in the refusal's log).
    pub fn code(&self) -> &'static str {
        "malformed_tx"
    }
}

fn json<T: Serialize>(value: &T) -> String {
    // The wire types serialise to JSON without failing (string keys, no floats).
    serde_json::to_string(value).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(kind: &'static str, text: &str) -> Result<T, AbciTxError> {
    light_clients::json::from_str(text).map_err(|e| AbciTxError::Payload {
        kind,
        reason: e.to_string(),
    })
}

impl AbciTx {
    /// The bytes `broadcast_tx_sync` sends.
    pub fn encode(&self) -> Vec<u8> {
        let envelope = match self {
            AbciTx::Signed(tx) => Envelope::Signed(json(tx)),
            AbciTx::Event(e) => Envelope::Event(json(e)),
            AbciTx::Admin(a) => Envelope::Admin(json(a)),
        };
        envelope.encode()
    }

    /// Reads a transaction, strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbciTxError> {
        Ok(match Envelope::decode(bytes)? {
            Envelope::Signed(text) => AbciTx::Signed(parse("signed", &text)?),
            Envelope::Event(text) => AbciTx::Event(parse("event", &text)?),
            Envelope::Admin(text) => AbciTx::Admin(parse("admin", &text)?),
        })
    }
}

/// An admin call of the gba application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminCall {
    /// Registers a counterparty ledger's eBL platform key.
    EblPlatform { chain: ChainId, key: RelayerKey },
    /// Sets a CometBFT validator's voting power (0 removes it): returned in
    /// `FinalizeBlock`'s validator updates, in force two blocks later.
    Validator {
        /// The validator's Ed25519 public key.
        pub_key: RelayerKey,
        power: u64,
    },
}

/// An admin call signed by the ledger's operator key, with the admin nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminTx {
    pub chain_id: ChainId,
    /// The ledger's next admin nonce (0 first); one call per nonce.
    pub nonce: u64,
    pub call: AdminCall,
    /// Ed25519 over [`AdminTx::sign_bytes`], hex.
    pub signature: String,
}

impl AdminTx {
    /// What the operator signs.
    pub fn sign_bytes(chain_id: &ChainId, nonce: u64, call: &AdminCall) -> Vec<u8> {
        let mut out = b"portrelay/abci-admin/v1\0".to_vec();
        out.extend_from_slice(chain_id.as_str().as_bytes());
        out.push(0);
        out.extend_from_slice(&nonce.to_le_bytes());
        out.extend_from_slice(json(call).as_bytes());
        out
    }

    pub fn sign(
        key: &ed25519_consensus::SigningKey,
        chain_id: &ChainId,
        nonce: u64,
        call: AdminCall,
    ) -> Self {
        let signature = hex::encode(
            key.sign(&Self::sign_bytes(chain_id, nonce, &call))
                .to_bytes(),
        );
        AdminTx {
            chain_id: chain_id.clone(),
            nonce,
            call,
            signature,
        }
    }

    /// Whether `operator` signed this call.
    pub fn verify(&self, operator: &RelayerKey) -> bool {
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        ed25519_consensus::VerificationKey::try_from(operator.0)
            .and_then(|vk| {
                let sig = ed25519_consensus::Signature::try_from(sig.as_slice())?;
                vk.verify(
                    &sig,
                    &Self::sign_bytes(&self.chain_id, self.nonce, &self.call),
                )
            })
            .is_ok()
    }
}

/// The `log` of a refusal: JSON `{code, message}`.
pub fn refusal_log(code: &str, message: &str) -> String {
    json(&crate::wire::ErrorBody {
        code: code.to_string(),
        message: message.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_round_trip_and_signature() {
        let key = ed25519_consensus::SigningKey::from([7u8; 32]);
        let chain: ChainId = "gba-1".parse().unwrap();
        let tx = AdminTx::sign(
            &key,
            &chain,
            3,
            AdminCall::Validator {
                pub_key: RelayerKey([1; 32]),
                power: 10,
            },
        );
        let bytes = AbciTx::Admin(tx.clone()).encode();
        assert_eq!(bytes[0], 1);
        let AbciTx::Admin(back) = AbciTx::decode(&bytes).unwrap() else {
            panic!("not an admin tx");
        };
        assert_eq!(back, tx);
        assert!(back.verify(&RelayerKey(key.verification_key().to_bytes())));
        assert!(!back.verify(&RelayerKey([9; 32])));
    }

    #[test]
    fn refuses_bad_bytes_by_name() {
        assert!(matches!(
            AbciTx::decode(&[]),
            Err(AbciTxError::Envelope(DecodeError::Empty { .. }))
        ));
        assert!(matches!(
            AbciTx::decode(&[2, 0]),
            Err(AbciTxError::Envelope(
                DecodeError::UnsupportedVersion { .. }
            ))
        ));
        let bad = Envelope::Event("{\"version\":1,\"version\":1}".into()).encode();
        let e = AbciTx::decode(&bad).unwrap_err();
        assert!(e.to_string().contains("event payload"), "{e}");
    }
}
