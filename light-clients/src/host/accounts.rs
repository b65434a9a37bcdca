//! Relayer accounts: registration, retirement, nonces, and the
//! authentication of a signed transaction's envelope.

use serde::{Deserialize, Serialize};

use super::{
    Host, HostError, Outcome, RelayerKey, SignedTx, TxBody, MAX_TX_BODY_BYTES, TX_VERSION,
};

/// Which nonces an envelope check accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRule {
    /// The signer's next nonce exactly (executing the transaction).
    Exact,
    /// The next nonce or a later one (admitting it to a mempool, where the
    /// signer's earlier transactions may still wait for their block).
    AtLeast,
}

/// A relayer account: its next nonce, and whether it was retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub next_nonce: u64,
    pub retired: bool,
}

impl Host {
    pub fn account(&self, key: &RelayerKey) -> Option<&Account> {
        self.relayers.get(key)
    }

    /// The nonce `key` must use next.
    pub fn next_nonce(&self, key: &RelayerKey) -> Option<u64> {
        if *key == self.operator {
            return Some(self.operator_nonce);
        }
        self.relayers
            .get(key)
            .filter(|a| !a.retired)
            .map(|a| a.next_nonce)
    }

    /// Checks a transaction's envelope (version, chain, signer, signature,
    /// nonce as `nonce` says, an operator body only from the operator) and
    /// returns its body, changing nothing: what `authenticate` does before
    /// it consumes the nonce, and what a mempool's admission (CometBFT's
    /// CheckTx) asks with [`NonceRule::AtLeast`].
    pub fn check_envelope(&self, tx: &SignedTx, nonce: NonceRule) -> Result<TxBody, HostError> {
        if tx.version != TX_VERSION {
            return Err(HostError::UnsupportedVersion { found: tx.version });
        }
        if tx.chain_id != self.chain_id {
            return Err(HostError::WrongChain {
                expected: self.chain_id.clone(),
                found: tx.chain_id.clone(),
            });
        }
        if tx.body.len() > MAX_TX_BODY_BYTES {
            return Err(HostError::MalformedBody {
                reason: format!("{} bytes, at most {MAX_TX_BODY_BYTES}", tx.body.len()),
            });
        }
        let key = tx.signer;
        let expected = if key == self.operator {
            self.operator_nonce
        } else {
            match self.relayers.get(&key) {
                None => return Err(HostError::UnregisteredKey { key }),
                Some(a) if a.retired => return Err(HostError::RetiredKey { key }),
                Some(a) => a.next_nonce,
            }
        };
        let verified = ed25519_consensus::VerificationKey::try_from(key.0)
            .and_then(|vk| {
                let sig = ed25519_consensus::Signature::try_from(tx.signature.as_slice())?;
                vk.verify(
                    &sig,
                    &SignedTx::sign_bytes(&tx.chain_id, tx.nonce, &tx.body),
                )
            })
            .is_ok();
        if !verified {
            return Err(HostError::BadSignature { key });
        }
        let fits = match nonce {
            NonceRule::Exact => tx.nonce == expected,
            NonceRule::AtLeast => tx.nonce >= expected,
        };
        if !fits {
            return Err(HostError::WrongNonce {
                key,
                expected,
                got: tx.nonce,
            });
        }
        let body: TxBody =
            serde_json::from_str(&tx.body).map_err(|e| HostError::MalformedBody {
                reason: e.to_string(),
            })?;
        if matches!(body, TxBody::Operator(_)) && key != self.operator {
            return Err(HostError::NotOperator { key });
        }
        Ok(body)
    }

    /// Checks a transaction's envelope (version, chain, signer, signature,
    /// nonce), consumes the nonce, and returns its body. Nothing changes when
    /// it fails.
    pub fn authenticate(&mut self, tx: &SignedTx) -> Result<TxBody, HostError> {
        let body = self.check_envelope(tx, NonceRule::Exact)?;
        let key = tx.signer;
        // The nonce is consumed once the envelope is good, whatever the messages do.
        if key == self.operator {
            self.operator_nonce = self.operator_nonce.saturating_add(1);
        } else if let Some(a) = self.relayers.get_mut(&key) {
            a.next_nonce = a.next_nonce.saturating_add(1);
        }
        Ok(body)
    }

    pub(super) fn register_relayer(&mut self, key: &RelayerKey) -> Result<Outcome, HostError> {
        if *key == self.operator {
            return Err(HostError::Invalid {
                what: "relayer key",
                reason: "the operator key cannot be a relayer key".into(),
            });
        }
        match self.relayers.get_mut(key) {
            Some(a) if !a.retired => {}
            // A retired key may come back; its nonce carries on, so old transactions stay spent.
            Some(a) => a.retired = false,
            None => {
                self.relayers.insert(
                    *key,
                    Account {
                        next_nonce: 0,
                        retired: false,
                    },
                );
            }
        }
        Ok(Outcome::RelayerRegistered { key: *key })
    }

    pub(super) fn retire_relayer(&mut self, key: &RelayerKey) -> Result<Outcome, HostError> {
        let a = self
            .relayers
            .get_mut(key)
            .ok_or(HostError::UnregisteredKey { key: *key })?;
        a.retired = true;
        Ok(Outcome::RelayerRetired { key: *key })
    }
}
