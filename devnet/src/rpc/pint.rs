//! The DCSA PINT 3.0 routes of a ledger (`POST /v3/envelopes`, the
//! additional documents, finish transfer) and the platform key admin call.
//! Every `/v3` response carries `API-Version: 3.0.0`; signed answers are a
//! JSON string holding a compact JWS, with PINT's HTTP status for its code.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{authorize, rejected, ApiError};
use crate::apps::pint::{is_checksum, API_VERSION};
use crate::handle::NodeHandle;
use crate::ledger::PintReply;

/// The longest `envelopeReference` PINT allows.
const MAX_REFERENCE: usize = 100;

fn versioned(mut r: Response) -> Response {
    r.headers_mut()
        .insert("API-Version", HeaderValue::from_static(API_VERSION));
    r
}

fn reply(r: PintReply) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    versioned(match r.body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    })
}

fn refusal(e: ApiError) -> Response {
    versioned(e.into_response())
}

/// A request's `API-Version`, if sent, names the major version only: 3.
fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("API-Version").map(|v| v.to_str()) {
        None => Ok(()),
        Some(Ok("3")) => Ok(()),
        Some(other) => Err(ApiError::new(
            400,
            "api_version",
            format!("this ledger speaks PINT 3 (API-Version: 3), not {other:?}"),
        )),
    }
}

fn check_reference(reference: &str) -> Result<(), ApiError> {
    if reference.is_empty() || reference.len() > MAX_REFERENCE {
        return Err(ApiError::new(
            400,
            "envelope_reference",
            format!("an envelope reference is 1 to {MAX_REFERENCE} characters"),
        ));
    }
    Ok(())
}

/// `POST /v3/envelopes`: start a transfer.
pub(super) async fn start(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Response {
    let run = async {
        check_version(&headers)?;
        let Json(envelope) = body.map_err(rejected)?;
        Ok::<_, ApiError>(node.call(move |l| l.pint_start(envelope)).await?)
    };
    match run.await {
        Ok(r) => reply(r),
        Err(e) => refusal(e),
    }
}

/// `PUT /v3/envelopes/{reference}/additional-documents/{checksum}`: the
/// body is a JSON string, the document in Base64.
pub(super) async fn document(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path((reference, checksum)): Path<(String, String)>,
    body: Result<Json<String>, JsonRejection>,
) -> Response {
    let run = async {
        check_version(&headers)?;
        check_reference(&reference)?;
        if !is_checksum(&checksum) {
            return Err(ApiError::new(
                400,
                "document_checksum",
                format!("{checksum:?} is not a SHA-256 checksum (64 lowercase hex digits)"),
            ));
        }
        let Json(content) = body.map_err(rejected)?;
        Ok(node
            .call(move |l| l.pint_document(reference, checksum, &content))
            .await?)
    };
    match run.await {
        Ok(r) => reply(r),
        Err(e) => refusal(e),
    }
}

/// `PUT /v3/envelopes/{reference}/finish-transfer`.
pub(super) async fn finish(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Response {
    let run = async {
        check_version(&headers)?;
        check_reference(&reference)?;
        Ok::<_, ApiError>(node.call(move |l| l.pint_finish(reference)).await?)
    };
    match run.await {
        Ok(r) => reply(r),
        Err(e) => refusal(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlatformKey {
    /// The platform's code (`eblPlatform`, at most 4 characters).
    code: String,
    /// One of its public keys, as a JWK (OKP Ed25519, EC P-256 or P-384, RSA).
    jwk: serde_json::Value,
}

/// `POST /v1/admin/pint-platforms`: registers a public key of an eBL
/// platform (the ledger's admin token); 204, or 400 naming what is wrong.
pub(super) async fn register(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    body: Result<Json<PlatformKey>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    authorize(&node, &headers)?;
    let Json(req) = body.map_err(rejected)?;
    node.call(move |l| l.register_pint_platform(req.code, req.jwk))
        .await?
        .map_err(|e| ApiError::new(400, "bad_platform_key", e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/pint/platform`: this ledger's PINT platform code and public key
/// (what a sending platform verifies the signed answers with), and the
/// platforms registered here.
pub(super) async fn platform(
    State(node): State<NodeHandle>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(node.call(|l| l.pint_platform()).await?))
}
