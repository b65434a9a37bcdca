//! Compact JWS (RFC 7515 §7.1) as PINT 3.0 uses it, over `jsonwebtoken`:
//! platform keys registered as JWKs, signatures checked against the keys of
//! the platform that signed, and this ledger's own responses signed with its
//! Ed25519 platform key (EdDSA).

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

/// Why a JWS could not be read or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three base64url segments with a JSON header and a JSON object
    /// payload (PINT BENV).
    #[error("not a compact JWS: {0}")]
    Malformed(String),
    /// No key registered for the platform that signed (PINT BSIG).
    #[error("no key is registered for the eBL platform {0:?}")]
    UnknownPlatform(String),
    /// The signature is not by any of the platform's keys (PINT BSIG).
    #[error("not signed by a registered key of {platform}: {reason}")]
    BadSignature { platform: String, reason: String },
}

/// A platform public key that can be registered: what each JWK type may sign with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a JWK this crate reads.
    #[error("not a JWK: {0}")]
    NotJwk(String),
    /// A JWK that cannot identify a platform (private, symmetric, other curves).
    #[error("not a platform's public signing key: {0}")]
    Unsupported(String),
    /// A platform code is 1 to 4 characters without spaces.
    #[error("{0:?} is not an eBL platform code (1 to 4 characters, no spaces)")]
    Code(String),
}

/// The algorithms a registered key may sign with: Ed25519 EdDSA, P-256
/// ES256, P-384 ES384, RSA RS256/384/512 and PS256/384/512. A shared
/// secret (`oct`) is never a platform key.
pub fn algorithms(jwk: &Jwk) -> Result<Vec<Algorithm>, KeyError> {
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) => {
            if p.curve != EllipticCurve::Ed25519 {
                return Err(KeyError::Unsupported(format!(
                    "OKP curve {:?} (Ed25519 only)",
                    p.curve
                )));
            }
            let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&p.x)
                .map_err(|e| KeyError::NotJwk(format!("x: {e}")))?;
            if x.len() != 32 {
                return Err(KeyError::NotJwk(format!(
                    "an Ed25519 x is 32 bytes, not {}",
                    x.len()
                )));
            }
            Ok(vec![Algorithm::EdDSA])
        }
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Ok(vec![Algorithm::ES256]),
            EllipticCurve::P384 => Ok(vec![Algorithm::ES384]),
            ref c => Err(KeyError::Unsupported(format!("EC curve {c:?}"))),
        },
        AlgorithmParameters::RSA(_) => Ok(vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ]),
        AlgorithmParameters::OctetKey(_) => Err(KeyError::Unsupported(
            "a shared secret (kty oct) cannot identify a platform".into(),
        )),
        _ => Err(KeyError::Unsupported("unknown key type".into())),
    }
}

/// Reads a JWK as registered: a public key of a supported type (a JWK
/// holding a private part `d` is refused, so a private key is never stored).
pub fn read_jwk(value: &serde_json::Value) -> Result<Jwk, KeyError> {
    if value.get("d").is_some() {
        return Err(KeyError::Unsupported(
            "this JWK holds a private key (d); register the public half".into(),
        ));
    }
    let jwk: Jwk =
        serde_json::from_value(value.clone()).map_err(|e| KeyError::NotJwk(e.to_string()))?;
    algorithms(&jwk)?;
    DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::NotJwk(e.to_string()))?;
    Ok(jwk)
}

/// A compact JWS split, its header and payload decoded (nothing verified yet).
#[derive(Debug, Clone)]
pub struct Compact {
    pub header: Header,
    pub payload: serde_json::Value,
    protected: String,
    encoded_payload: String,
    signature: String,
}

/// Splits and decodes a compact JWS whose payload is a JSON object.
pub fn parse(jws: &str) -> Result<Compact, JwsError> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [protected, payload, signature] = parts[..] else {
        return Err(JwsError::Malformed(format!(
            "{} segments, not 3",
            parts.len()
        )));
    };
    let b64 = |what: &str, s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|e| JwsError::Malformed(format!("{what}: {e}")))
    };
    let header: Header = serde_json::from_slice(&b64("header", protected)?)
        .map_err(|e| JwsError::Malformed(format!("header: {e}")))?;
    let body: serde_json::Value = serde_json::from_slice(&b64("payload", payload)?)
        .map_err(|e| JwsError::Malformed(format!("payload: {e}")))?;
    if !body.is_object() {
        return Err(JwsError::Malformed(
            "the payload is not a JSON object".into(),
        ));
    }
    b64("signature", signature)?;
    Ok(Compact {
        header,
        payload: body,
        protected: protected.to_string(),
        encoded_payload: payload.to_string(),
        signature: signature.to_string(),
    })
}

impl Compact {
    /// Verifies the signature against the keys registered for `platform`
    /// (the one whose `kid` matches, when the header names one).
    pub fn verify(&self, platform: &str, keys: &[serde_json::Value]) -> Result<(), JwsError> {
        if keys.is_empty() {
            return Err(JwsError::UnknownPlatform(platform.to_string()));
        }
        let mut last = String::from("no key matches the header's kid");
        for value in keys {
            let Ok(jwk) = read_jwk(value) else { continue };
            if let (Some(want), Some(have)) = (&self.header.kid, &jwk.common.key_id) {
                if want != have {
                    continue;
                }
            }
            let Ok(algs) = algorithms(&jwk) else { continue };
            if !algs.contains(&self.header.alg) {
                last = format!("{:?} is not an algorithm of this key", self.header.alg);
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                continue;
            };
            let mut validation = Validation::new(self.header.alg);
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            validation.validate_nbf = false;
            validation.validate_aud = false;
            let jws = jsonwebtoken::jws::Jws::<serde_json::Value> {
                protected: self.protected.clone(),
                payload: self.encoded_payload.clone(),
                signature: self.signature.clone(),
                _pd: Default::default(),
            };
            match jsonwebtoken::jws::decode(&jws, &key, &validation) {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(JwsError::BadSignature {
            platform: platform.to_string(),
            reason: last,
        })
    }
}

/// The PKCS#8 DER of an Ed25519 private key from its 32-byte seed
/// (RFC 8410: the fixed prefix, then the seed).
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// This ledger's platform key as a public JWK, with its RFC 7638 thumbprint as `kid`.
pub fn public_jwk(key: &ed25519_consensus::SigningKey) -> serde_json::Value {
    let x =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verification_key().to_bytes());
    // RFC 7638: the required members in lexicographic order, no spaces.
    let thumbprint = {
        use sha2::Digest as _;
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(canonical.as_bytes()))
    };
    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "alg": "EdDSA", "use": "sig"})
}

/// Signs `payload` as a compact JWS with this ledger's platform key:
/// header `{"alg":"EdDSA","kid":<thumbprint>}`.
pub fn sign(
    payload: &serde_json::Value,
    key: &ed25519_consensus::SigningKey,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = None;
    header.kid = public_jwk(key)["kid"].as_str().map(str::to_string);
    let encoding = EncodingKey::from_ed_der(&ed25519_pkcs8(&key.to_bytes()));
    let jws = jsonwebtoken::jws::encode(&header, Some(payload), &encoding)?;
    Ok(format!(
        "{}.{}.{}",
        jws.protected, jws.payload, jws.signature
    ))
}
