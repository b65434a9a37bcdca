//! The project's EBL_TRANSFER event: one step of an electronic bill of lading's title
//! chain, with DCSA eBL 3.0 document states and PINT transfer actions.

use serde_json::Value;

use super::codes::{EblAction, TransportDocumentStatus};
use super::dcsa::required_transport_document_reference;
use super::json::{index, Obj};
use super::{project_header, rules, EventHeader, Refusal};

/// An EBL_TRANSFER event: the title to a bill of lading moved, or its state changed.
///
/// ```json
/// {"eventType": "EBL_TRANSFER", "eventID": "…", "eventCreatedDateTime": "…", "eventDateTime": "…",
///  "transportDocumentReference": "CMPSHK24000381", "action": "TRANSFER",
///  "transportDocumentStatus": "ISSUED",
///  "sender": {"partyName": "…", "eblPlatform": "WAVE",
///             "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "…", "codeListName": "LEI"}]},
///  "recipient": {"partyName": "…", "eblPlatform": "BOLE", "identifyingCodes": […]},
///  "transferChain": ["ISSUE"]}
/// ```
///
/// Parties have PINT 3.0's shape (`partyName`, `eblPlatform`,
/// `identifyingCodes`, optional `taxLegalReferences` and `representedParty`).
/// `recipient` is there only where the action has one: SIGN and
/// BLANK_ENDORSE have none, SACC and SREJ may name the surrendering party,
/// every other action names its recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct EblTransfer {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (when the action took place).
    pub header: EventHeader,
    /// `transportDocumentReference`: the bill of lading, 1 to 20 characters.
    pub transport_document_reference: String,
    /// `action`: the PINT action this event records.
    pub action: EblAction,
    /// `transportDocumentStatus`: the document's eBL 3.0 state after the action.
    pub transport_document_status: TransportDocumentStatus,
    /// `sender`: the party that performed the action (PINT `actor`).
    pub sender: EblParty,
    /// `recipient`: the party that receives the document or the request, for
    /// the actions that have one (see [`recipient_rule`]).
    pub recipient: Option<EblParty>,
    /// `transferChain`: the actions before this one, oldest first, when the sender
    /// supplies them. With it the chain rules are checked: it starts with ISSUE and
    /// nothing follows SACC. Without it only this action is known.
    pub transfer_chain: Option<Vec<EblAction>>,
    /// The event as received.
    pub json: Value,
}

/// A PINT transaction party: who acts or receives, on which eBL platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EblParty {
    /// `partyName`: at most 70 characters (PINT 3.0).
    pub party_name: String,
    /// `eblPlatform`: the platform's code, e.g. WAVE, BOLE, CARX (no spaces, at most 4 characters).
    pub ebl_platform: String,
    /// `identifyingCodes`: at least one code identifying the party.
    pub identifying_codes: Vec<IdentifyingCode>,
    /// `taxLegalReferences`: the party's tax or legal registrations, if given.
    pub tax_legal_references: Vec<TaxLegalReference>,
    /// `representedParty`: the party this one acts on behalf of, if any.
    pub represented_party: Option<RepresentedParty>,
}

/// A PINT tax or legal reference of a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLegalReference {
    /// `type`: e.g. CVR, EORI (at most 50 characters).
    pub kind: String,
    /// `countryCode`: ISO 3166-1 alpha-2, `ZZ` when unknown.
    pub country_code: String,
    /// `value`: the reference (at most 35 characters).
    pub value: String,
}

/// A PINT represented party: whom an actor or recipient acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepresentedParty {
    /// `partyName`: at most 70 characters.
    pub party_name: String,
    /// `identifyingCodes`: optional, possibly empty.
    pub identifying_codes: Vec<IdentifyingCode>,
}

/// Whether an action has a recipient: `Some(true)` it must, `Some(false)` it
/// must not, `None` it may. PINT 3.0 makes `recipient` optional in the
/// schema; SIGN and BLANK_ENDORSE have none, SACC and SREJ are addressed to
/// the surrendering party, and a surrender must be addressed to the carrier
/// (which cannot be checked without a recipient, so it is required here).
pub fn recipient_rule(action: EblAction) -> Option<bool> {
    match action {
        EblAction::Sign | EblAction::BlankEndorse => Some(false),
        EblAction::Sacc | EblAction::Srej => None,
        EblAction::Issue
        | EblAction::Transfer
        | EblAction::Endorse
        | EblAction::EndorseToOrder
        | EblAction::SurrenderForDelivery
        | EblAction::SurrenderForAmendment => Some(true),
    }
}

/// A PINT identifying code: a party's code in some provider's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyingCode {
    /// `codeListProvider`: e.g. GLEIF, W3C, WAVE (at most 100 characters).
    pub code_list_provider: String,
    /// `partyCode`: the party's code in that list (at most 150 characters).
    pub party_code: String,
    /// `codeListName`: e.g. LEI, DID (at most 100 characters), if given.
    pub code_list_name: Option<String>,
}

fn party(parent: &Obj<'_>, key: &str) -> Result<EblParty, Refusal> {
    let obj = parent.req_obj(key, rules::EVENT_REQUIRED, rules::EBL_PARTY)?;
    obj.deny_unknown(&[
        "partyName",
        "eblPlatform",
        "identifyingCodes",
        "taxLegalReferences",
        "representedParty",
    ])?;
    let party_name = obj.text("partyName", 70)?.to_string();
    let platform = obj.req_str("eblPlatform", rules::EVENT_REQUIRED, rules::EBL_PARTY)?;
    if platform.is_empty()
        || platform.chars().count() > 4
        || platform.chars().any(char::is_whitespace)
    {
        return Err(Refusal::new(
            rules::EBL_PARTY,
            obj.field("eblPlatform"),
            format!("{platform:?} is not an eBL platform code (1 to 4 characters, no spaces)"),
        ));
    }
    let Some((items, path)) = obj.opt_array("identifyingCodes", rules::EBL_PARTY)? else {
        return Err(Refusal::new(
            rules::EVENT_REQUIRED,
            obj.field("identifyingCodes"),
            "missing required field",
        ));
    };
    if items.is_empty() {
        return Err(Refusal::new(
            rules::EBL_PARTY,
            path,
            "a party has at least one identifying code",
        ));
    }
    let identifying_codes = codes(items, &path)?;
    let mut tax_legal_references = Vec::new();
    if let Some((items, path)) = obj.opt_array("taxLegalReferences", rules::EBL_PARTY)? {
        for (i, item) in items.iter().enumerate() {
            let r = Obj::new(item, index(&path, i), rules::EBL_PARTY)?;
            r.deny_unknown(&["type", "countryCode", "value"])?;
            let country = r.text("countryCode", 2)?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Refusal::new(
                    rules::EBL_PARTY,
                    r.field("countryCode"),
                    format!("{country:?} is not a two-letter country code (ZZ when unknown)"),
                ));
            }
            tax_legal_references.push(TaxLegalReference {
                kind: r.text("type", 50)?.to_string(),
                country_code: country.to_string(),
                value: r.text("value", 35)?.to_string(),
            });
        }
    }
    let represented_party = match obj.opt_obj("representedParty", rules::EBL_PARTY)? {
        None => None,
        Some(r) => {
            r.deny_unknown(&["partyName", "identifyingCodes"])?;
            let identifying_codes = match r.opt_array("identifyingCodes", rules::EBL_PARTY)? {
                Some((items, path)) => codes(items, &path)?,
                None => Vec::new(),
            };
            Some(RepresentedParty {
                party_name: r.text("partyName", 70)?.to_string(),
                identifying_codes,
            })
        }
    };
    Ok(EblParty {
        party_name,
        ebl_platform: platform.to_string(),
        identifying_codes,
        tax_legal_references,
        represented_party,
    })
}

fn codes(items: &[Value], path: &str) -> Result<Vec<IdentifyingCode>, Refusal> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let code = Obj::new(item, index(path, i), rules::EBL_PARTY)?;
        code.deny_unknown(&["codeListProvider", "partyCode", "codeListName"])?;
        out.push(IdentifyingCode {
            code_list_provider: code.text("codeListProvider", 100)?.to_string(),
            party_code: code.text("partyCode", 150)?.to_string(),
            code_list_name: code.opt_text("codeListName", 100)?.map(str::to_string),
        });
    }
    Ok(out)
}

fn action(s: &str, field: String) -> Result<EblAction, Refusal> {
    EblAction::parse(s).ok_or_else(|| {
        Refusal::new(
            rules::EBL_ACTION,
            field,
            format!("{s:?} is not one of {}", EblAction::list()),
        )
    })
}

/// Checks the chain rules over `prior` followed by `current`; each entry comes with its path.
fn check_chain(entries: &[(EblAction, String)]) -> Result<(), Refusal> {
    let mut after_sacc = false;
    for (position, (action, field)) in entries.iter().enumerate() {
        if after_sacc {
            return Err(Refusal::new(
                rules::EBL_AFTER_SACC,
                field.clone(),
                format!("nothing follows SACC, which ends the chain; found {action}"),
            ));
        }
        match (position, action) {
            (0, EblAction::Issue) => {}
            (0, other) => {
                return Err(Refusal::new(
                    rules::EBL_CHAIN_START,
                    field.clone(),
                    format!("the transfer chain starts with ISSUE, found {other}"),
                ))
            }
            (_, EblAction::Issue) => {
                return Err(Refusal::new(
                    rules::EBL_CHAIN_START,
                    field.clone(),
                    "the transfer chain has ISSUE only at its start",
                ))
            }
            _ => {}
        }
        after_sacc = *action == EblAction::Sacc;
    }
    Ok(())
}

pub(crate) fn ebl_transfer(obj: &Obj<'_>, json: &Value) -> Result<EblTransfer, Refusal> {
    obj.deny_unknown(&[
        "eventType",
        "eventID",
        "eventCreatedDateTime",
        "eventDateTime",
        "transportDocumentReference",
        "action",
        "transportDocumentStatus",
        "sender",
        "recipient",
        "transferChain",
    ])?;
    let header = project_header(obj)?;
    let transport_document_reference = required_transport_document_reference(obj)?;
    let action_text = obj.req_str("action", rules::EVENT_REQUIRED, rules::EBL_ACTION)?;
    let current = action(action_text, obj.field("action"))?;

    let status = obj.req_str(
        "transportDocumentStatus",
        rules::EVENT_REQUIRED,
        rules::EBL_DOCUMENT_STATUS,
    )?;
    let transport_document_status = TransportDocumentStatus::parse(status).ok_or_else(|| {
        let hint = match status {
            "SURRENDER_FOR_AMENDMENT" | "SURRENDER_FOR_DELIVERY" | "VOID" => {
                " (that is a notification's short name; events use the eBL 3.0 state)"
            }
            _ => "",
        };
        Refusal::new(
            rules::EBL_DOCUMENT_STATUS,
            obj.field("transportDocumentStatus"),
            format!(
                "{status:?} is not one of {}{hint}",
                TransportDocumentStatus::list()
            ),
        )
    })?;
    let sender = party(obj, "sender")?;
    let recipient = match (recipient_rule(current), obj.get("recipient").is_some()) {
        (Some(false), true) => {
            return Err(Refusal::new(
                rules::EBL_RECIPIENT,
                obj.field("recipient"),
                format!("the action {current} has no recipient"),
            ))
        }
        (Some(true), false) => {
            return Err(Refusal::new(
                rules::EBL_RECIPIENT,
                obj.field("recipient"),
                format!("the action {current} is addressed to a recipient"),
            ))
        }
        (_, true) => Some(party(obj, "recipient")?),
        (_, false) => None,
    };

    let transfer_chain = match obj.opt_array("transferChain", rules::EVENT_FIELD_TYPE)? {
        None => None,
        Some((items, path)) => {
            let mut entries = Vec::with_capacity(items.len() + 1);
            for (i, item) in items.iter().enumerate() {
                let field = index(&path, i);
                let Value::String(s) = item else {
                    return Err(Refusal::new(
                        rules::EBL_ACTION,
                        field,
                        "expected an action code string",
                    ));
                };
                entries.push((action(s, field.clone())?, field));
            }
            entries.push((current, obj.field("action")));
            check_chain(&entries)?;
            entries.pop();
            Some(entries.into_iter().map(|(a, _)| a).collect())
        }
    };
    Ok(EblTransfer {
        header,
        transport_document_reference,
        action: current,
        transport_document_status,
        sender,
        recipient,
        transfer_chain,
        json: json.clone(),
    })
}
