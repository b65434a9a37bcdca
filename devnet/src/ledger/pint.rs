//! DCSA PINT 3.0 calls on the ledger: each runs in the block being built,
//! is logged as an input when it changed the eBL app (so a restart replays
//! it), and its signed answers are signed with this ledger's platform key.

use base64::Engine as _;
use light_clients::any::IntoAny;
use light_clients::sample::Signing;

use super::inputs::Input;
use super::Ledger;
use crate::apps::pint::{self, PintCall, Reply};

/// A PINT answer as it goes out: the HTTP status and the JSON body (a
/// compact JWS string for the signed answers; none for 204).
#[derive(Debug, Clone, PartialEq)]
pub struct PintReply {
    pub status: u16,
    pub body: Option<serde_json::Value>,
}

impl<F: Signing + IntoAny> Ledger<F> {
    fn pint_call(&mut self, call: PintCall) -> PintReply {
        let answer = self.apps.pint(&call);
        if answer.changed {
            self.pending_events = true;
            self.block_inputs.push(Input::Pint { call });
        }
        let status = answer.reply.status();
        let body = match answer.reply {
            Reply::Signed(response) => {
                let payload = serde_json::to_value(&response).unwrap_or_default();
                match pint::sign(&payload, &self.platform_key) {
                    Ok(jws) => Some(serde_json::Value::String(jws)),
                    Err(e) => {
                        return PintReply {
                            status: 500,
                            body: Some(
                                serde_json::json!({"code": "signing", "message": e.to_string()}),
                            ),
                        }
                    }
                }
            }
            Reply::Started(started) => serde_json::to_value(&started).ok(),
            Reply::Received => None,
            Reply::Error { code, message, .. } => {
                Some(serde_json::json!({"code": code, "message": message}))
            }
        };
        PintReply { status, body }
    }

    /// `POST /v3/envelopes`.
    pub fn pint_start(&mut self, envelope: serde_json::Value) -> PintReply {
        self.pint_call(PintCall::Start { envelope })
    }

    /// `PUT /v3/envelopes/{reference}/additional-documents/{checksum}`:
    /// `body` is the document in Base64 (the JSON string's content).
    pub fn pint_document(&mut self, reference: String, checksum: String, body: &str) -> PintReply {
        let content = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map(|bytes| (pint::sha256_hex(&bytes), bytes.len() as u64))
            .map_err(|e| e.to_string());
        self.pint_call(PintCall::Document {
            reference,
            checksum,
            content,
        })
    }

    /// `PUT /v3/envelopes/{reference}/finish-transfer`.
    pub fn pint_finish(&mut self, reference: String) -> PintReply {
        self.pint_call(PintCall::Finish { reference })
    }

    /// Registers a public key (JWK) of the eBL platform `code` (an admin
    /// call, or `portledger --pint-platform` at start); a key registered
    /// already is not logged again.
    pub fn register_pint_platform(
        &mut self,
        code: String,
        jwk: serde_json::Value,
    ) -> Result<(), pint::KeyError> {
        if self.apps.register_pint_platform(&code, &jwk)? {
            self.pending_events = true;
            self.block_inputs.push(Input::Pint {
                call: PintCall::Platform { code, jwk },
            });
        }
        Ok(())
    }

    /// This ledger's PINT platform: its code and public key (JWK).
    pub fn pint_platform(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.apps.pint_code(),
            "jwk": pint::public_jwk(&self.platform_key),
            "platforms": self.apps.ebl.pint.platforms,
        })
    }
}
