//! The project's payment events: LETTER_OF_CREDIT (MT700), FREIGHT_INVOICE and
//! PAYMENT_SETTLEMENT (pacs.008 / pacs.002).
//!
//! They follow DCSA's style (camelCase, `eventID`, `eventCreatedDateTime`,
//! `eventDateTime`) and, unlike DCSA events, refuse fields they do not define.

use serde_json::Value;
use time::Date;
use uuid::Uuid;

use super::codes::{ChargeBearer, LetterOfCreditKind, PaymentStatus};
use super::dcsa::{required_transport_document_reference, transport_document_reference, unlocode};
use super::json::Obj;
use super::money::{self, Money};
use super::unlocode::UnLocode;
use super::{project_header, rules, EventHeader, Refusal};

/// A LETTER_OF_CREDIT event: a documentary credit issued or moved along its life (SWIFT MT700 fields).
///
/// ```json
/// {"eventType": "LETTER_OF_CREDIT", "eventID": "…", "eventCreatedDateTime": "…", "eventDateTime": "…",
///  "creditNumber": "LC24SZX000123", "kind": "ISSUED", "issueDate": "2024-05-02",
///  "expiryDate": "2024-08-31", "expiryPlace": "SHENZHEN",
///  "amount": {"currency": "USD", "value": 18500000, "exponent": 2},
///  "applicant": "…", "beneficiary": "…",
///  "portOfLoading": "CNSHK", "portOfDischarge": "NLRTM", "transportDocumentReference": "…"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LetterOfCredit {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (when the credit reached `kind`).
    pub header: EventHeader,
    /// `creditNumber`: the documentary credit number, MT700 field 20 (1 to 16 SWIFT x characters).
    pub credit_number: String,
    /// `kind`: what happened to the credit.
    pub kind: LetterOfCreditKind,
    /// `issueDate`: MT700 field 31C, `YYYY-MM-DD`.
    pub issue_date: Date,
    /// `expiryDate`: the date of MT700 field 31D, after `issueDate`.
    pub expiry_date: Date,
    /// `expiryPlace`: the place of MT700 field 31D, free text of at most 29 characters
    /// (e.g. "HONG KONG"); not a UN/LOCODE, since banks write a city or a counter.
    pub expiry_place: String,
    /// `amount`: MT700 field 32B, currency and amount in minor units.
    pub amount: Money,
    /// `applicant`: MT700 field 50, name and address, at most 140 characters (4 lines of 35).
    pub applicant: String,
    /// `beneficiary`: MT700 field 59, name and address, at most 140 characters.
    pub beneficiary: String,
    /// `portOfLoading`: MT700 field 44E as a UN/LOCODE, if given.
    pub port_of_loading: Option<UnLocode>,
    /// `portOfDischarge`: MT700 field 44F as a UN/LOCODE, if given.
    pub port_of_discharge: Option<UnLocode>,
    /// `transportDocumentReference`: the bill of lading presented under the credit, if known (at most 20 characters).
    pub transport_document_reference: Option<String>,
    /// The event as received.
    pub json: Value,
}

/// A FREIGHT_INVOICE event: a carrier or terminal invoiced freight for a transport document.
///
/// ```json
/// {"eventType": "FREIGHT_INVOICE", "eventID": "…", "eventCreatedDateTime": "…", "eventDateTime": "…",
///  "invoiceNumber": "INV-2024-000871", "transportDocumentReference": "…",
///  "amount": {"currency": "USD", "value": 245000}, "issueDate": "2024-05-10", "dueDate": "2024-06-09",
///  "payerName": "…", "payeeName": "…"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FreightInvoice {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (when the invoice was issued).
    pub header: EventHeader,
    /// `invoiceNumber`: the issuer's invoice number, 1 to 35 characters.
    pub invoice_number: String,
    /// `transportDocumentReference`: the bill of lading the freight is for (at most 20 characters).
    pub transport_document_reference: String,
    /// `amount`: the invoiced amount.
    pub amount: Money,
    /// `issueDate`: `YYYY-MM-DD`.
    pub issue_date: Date,
    /// `dueDate`: `YYYY-MM-DD`, not before `issueDate`.
    pub due_date: Date,
    /// `payerName`: who pays, at most 140 characters (ISO 20022 `Max140Text`).
    pub payer_name: String,
    /// `payeeName`: who is paid, at most 140 characters.
    pub payee_name: String,
    /// The event as received.
    pub json: Value,
}

/// A PAYMENT_SETTLEMENT event: an interbank credit transfer (pacs.008) and its status (pacs.002).
///
/// ```json
/// {"eventType": "PAYMENT_SETTLEMENT", "eventID": "…", "eventCreatedDateTime": "…", "eventDateTime": "…",
///  "endToEndId": "INV-2024-000871", "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
///  "interbankSettlementAmount": {"currency": "USD", "value": 245000, "exponent": 2},
///  "interbankSettlementDate": "2024-06-07", "chargeBearer": "SHAR",
///  "debtorAgentBIC": "BKCHHKHHXXX", "creditorAgentBIC": "ABNANL2A",
///  "status": "ACSC", "transportDocumentReference": "…"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentSettlement {
    /// `eventID`, `eventCreatedDateTime`, `eventDateTime` (when the status was reported).
    pub header: EventHeader,
    /// `endToEndId`: pacs.008 `EndToEndId`, 1 to 35 characters.
    pub end_to_end_id: String,
    /// `uetr`: pacs.008 `UETR`, a lowercase UUID v4.
    pub uetr: Uuid,
    /// `interbankSettlementAmount`: pacs.008 `IntrBkSttlmAmt`.
    pub interbank_settlement_amount: Money,
    /// `interbankSettlementDate`: pacs.008 `IntrBkSttlmDt`, `YYYY-MM-DD`.
    pub interbank_settlement_date: Date,
    /// `chargeBearer`: DEBT, CRED, SHAR or SLEV.
    pub charge_bearer: ChargeBearer,
    /// `debtorAgentBIC`: the debtor's bank, ISO 9362:2014.
    pub debtor_agent_bic: String,
    /// `creditorAgentBIC`: the creditor's bank, ISO 9362:2014.
    pub creditor_agent_bic: String,
    /// `status`: pacs.002 transaction status; ACSC means settled.
    pub status: PaymentStatus,
    /// `statusReason`: an ISO 20022 status reason code (e.g. AC04); required when `status` is RJCT.
    pub status_reason: Option<String>,
    /// `transportDocumentReference`: the bill of lading the payment is for, if any (at most 20 characters).
    pub transport_document_reference: Option<String>,
    /// The event as received.
    pub json: Value,
}

/// A required code of a closed list: missing is `event.required`, off the list is `rule`.
fn code<T>(
    obj: &Obj<'_>,
    key: &str,
    rule: &'static str,
    parse: fn(&str) -> Option<T>,
    list: fn() -> String,
) -> Result<T, Refusal> {
    let s = obj.req_str(key, rules::EVENT_REQUIRED, rule)?;
    parse(s).ok_or_else(|| {
        Refusal::new(
            rule,
            obj.field(key),
            format!("{s:?} is not one of {}", list()),
        )
    })
}

/// Whether `c` is in SWIFT's `x` character set.
fn is_swift_x(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

fn credit_number(obj: &Obj<'_>) -> Result<String, Refusal> {
    let key = "creditNumber";
    let s = obj.req_str(key, rules::EVENT_REQUIRED, rules::MT700_CREDIT_NUMBER)?;
    let chars = s.chars().count();
    let why = if chars == 0 || chars > 16 {
        Some(format!("{chars} characters, MT700 field 20 holds 1 to 16"))
    } else if let Some(c) = s.chars().find(|&c| !is_swift_x(c)) {
        Some(format!("{c:?} is not a SWIFT x character"))
    } else if s.starts_with('/') || s.ends_with('/') || s.contains("//") {
        Some("must not start or end with '/' nor contain '//'".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Refusal::new(
            rules::MT700_CREDIT_NUMBER,
            obj.field(key),
            why,
        )),
        None => Ok(s.to_string()),
    }
}

/// Whether `s` is a BIC: `^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`.
pub fn is_bic(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b[..4].iter().all(alnum)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(alnum)
}

/// Whether `s` is a UETR: `^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$`.
pub fn is_uetr(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            14 => c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

fn bic(obj: &Obj<'_>, key: &str) -> Result<String, Refusal> {
    let s = obj.req_str(key, rules::EVENT_REQUIRED, rules::ISO20022_BIC)?;
    if !is_bic(s) {
        return Err(Refusal::new(
            rules::ISO20022_BIC,
            obj.field(key),
            format!("{s:?} is not a BIC (8 or 11 capitals and digits, country letters at 5 and 6)"),
        ));
    }
    Ok(s.to_string())
}

pub(crate) fn letter_of_credit(obj: &Obj<'_>, json: &Value) -> Result<LetterOfCredit, Refusal> {
    obj.deny_unknown(&[
        "eventType",
        "eventID",
        "eventCreatedDateTime",
        "eventDateTime",
        "creditNumber",
        "kind",
        "issueDate",
        "expiryDate",
        "expiryPlace",
        "amount",
        "applicant",
        "beneficiary",
        "portOfLoading",
        "portOfDischarge",
        "transportDocumentReference",
    ])?;
    let header = project_header(obj)?;
    let credit_number = credit_number(obj)?;
    let kind = code(
        obj,
        "kind",
        rules::MT700_KIND,
        LetterOfCreditKind::parse,
        LetterOfCreditKind::list,
    )?;
    let issue_date = obj.date("issueDate")?;
    let expiry_date = obj.date("expiryDate")?;
    if expiry_date <= issue_date {
        return Err(Refusal::new(
            rules::MT700_EXPIRY_AFTER_ISSUE,
            obj.field("expiryDate"),
            format!("expiry {expiry_date} is not after issue {issue_date}"),
        ));
    }
    let expiry_place = obj.text("expiryPlace", 29)?.to_string();
    let amount = money::read(obj, "amount", money::dated(&header))?;
    let applicant = obj.text("applicant", 140)?.to_string();
    let beneficiary = obj.text("beneficiary", 140)?.to_string();
    let port_of_loading = unlocode(obj, "portOfLoading")?;
    let port_of_discharge = unlocode(obj, "portOfDischarge")?;
    let transport_document_reference =
        transport_document_reference(obj, "transportDocumentReference")?;
    Ok(LetterOfCredit {
        header,
        credit_number,
        kind,
        issue_date,
        expiry_date,
        expiry_place,
        amount,
        applicant,
        beneficiary,
        port_of_loading,
        port_of_discharge,
        transport_document_reference,
        json: json.clone(),
    })
}

pub(crate) fn freight_invoice(obj: &Obj<'_>, json: &Value) -> Result<FreightInvoice, Refusal> {
    obj.deny_unknown(&[
        "eventType",
        "eventID",
        "eventCreatedDateTime",
        "eventDateTime",
        "invoiceNumber",
        "transportDocumentReference",
        "amount",
        "issueDate",
        "dueDate",
        "payerName",
        "payeeName",
    ])?;
    let header = project_header(obj)?;
    let invoice_number = obj.text("invoiceNumber", 35)?.to_string();
    let transport_document_reference = required_transport_document_reference(obj)?;
    let amount = money::read(obj, "amount", money::dated(&header))?;
    let issue_date = obj.date("issueDate")?;
    let due_date = obj.date("dueDate")?;
    if due_date < issue_date {
        return Err(Refusal::new(
            rules::INVOICE_DUE_DATE,
            obj.field("dueDate"),
            format!("due {due_date} is before issue {issue_date}"),
        ));
    }
    let payer_name = obj.text("payerName", 140)?.to_string();
    let payee_name = obj.text("payeeName", 140)?.to_string();
    Ok(FreightInvoice {
        header,
        invoice_number,
        transport_document_reference,
        amount,
        issue_date,
        due_date,
        payer_name,
        payee_name,
        json: json.clone(),
    })
}

pub(crate) fn payment_settlement(
    obj: &Obj<'_>,
    json: &Value,
) -> Result<PaymentSettlement, Refusal> {
    obj.deny_unknown(&[
        "eventType",
        "eventID",
        "eventCreatedDateTime",
        "eventDateTime",
        "endToEndId",
        "uetr",
        "interbankSettlementAmount",
        "interbankSettlementDate",
        "chargeBearer",
        "debtorAgentBIC",
        "creditorAgentBIC",
        "status",
        "statusReason",
        "transportDocumentReference",
    ])?;
    let header = project_header(obj)?;

    let end_to_end_id = obj.req_str(
        "endToEndId",
        rules::EVENT_REQUIRED,
        rules::ISO20022_END_TO_END_ID,
    )?;
    let chars = end_to_end_id.chars().count();
    if end_to_end_id.trim().is_empty() || chars > 35 {
        return Err(Refusal::new(
            rules::ISO20022_END_TO_END_ID,
            obj.field("endToEndId"),
            format!("{chars} characters (blank or too long), pacs.008 EndToEndId holds 1 to 35"),
        ));
    }

    let uetr_text = obj.req_str("uetr", rules::EVENT_REQUIRED, rules::ISO20022_UETR)?;
    let uetr = Some(uetr_text)
        .filter(|s| is_uetr(s))
        .and_then(|s| Uuid::try_parse(s).ok())
        .ok_or_else(|| {
            Refusal::new(
                rules::ISO20022_UETR,
                obj.field("uetr"),
                format!("{uetr_text:?} is not a lowercase UUID v4"),
            )
        })?;

    let interbank_settlement_amount =
        money::read(obj, "interbankSettlementAmount", money::dated(&header))?;
    let interbank_settlement_date = obj.date("interbankSettlementDate")?;
    let charge_bearer = code(
        obj,
        "chargeBearer",
        rules::ISO20022_CHARGE_BEARER,
        ChargeBearer::parse,
        ChargeBearer::list,
    )?;
    let debtor_agent_bic = bic(obj, "debtorAgentBIC")?;
    let creditor_agent_bic = bic(obj, "creditorAgentBIC")?;
    let status = code(
        obj,
        "status",
        rules::ISO20022_STATUS,
        PaymentStatus::parse,
        PaymentStatus::list,
    )?;

    let status_reason = obj.opt_str("statusReason", rules::ISO20022_REJECTION_REASON)?;
    if let Some(reason) = status_reason {
        let ok = (1..=4).contains(&reason.len())
            && reason
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            return Err(Refusal::new(
                rules::ISO20022_REJECTION_REASON,
                obj.field("statusReason"),
                format!("{reason:?} is not an ISO 20022 status reason code (1 to 4 capitals or digits, e.g. AC04)"),
            ));
        }
    }
    if status == PaymentStatus::Rjct && status_reason.is_none() {
        return Err(Refusal::new(
            rules::ISO20022_REJECTION_REASON,
            obj.field("statusReason"),
            "a rejected payment (RJCT) carries its reason",
        ));
    }
    let transport_document_reference =
        transport_document_reference(obj, "transportDocumentReference")?;
    Ok(PaymentSettlement {
        header,
        end_to_end_id: end_to_end_id.to_string(),
        uetr,
        interbank_settlement_amount,
        interbank_settlement_date,
        charge_bearer,
        debtor_agent_bic,
        creditor_agent_bic,
        status,
        status_reason: status_reason.map(str::to_string),
        transport_document_reference,
        json: json.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bics() {
        for ok in ["BKCHHKHHXXX", "ABNANL2A", "DEUTDEFF500", "ICBKCNBJ"] {
            assert!(is_bic(ok), "{ok}");
        }
        for bad in [
            "BKCHHKHHXX",
            "abnanl2a",
            "ABNA1L2A",
            "ABNANL2A1234",
            "",
            "ABNANL2-",
        ] {
            assert!(!is_bic(bad), "{bad}");
        }
    }

    #[test]
    fn uetrs() {
        assert!(is_uetr("eb6305c9-1f7f-49de-aed0-16487c27b42d"));
        assert!(
            !is_uetr("EB6305C9-1F7F-49DE-AED0-16487C27B42D"),
            "uppercase"
        );
        assert!(
            !is_uetr("eb6305c9-1f7f-19de-aed0-16487c27b42d"),
            "version 1"
        );
        assert!(!is_uetr("eb6305c9-1f7f-49de-ced0-16487c27b42d"), "variant");
        assert!(!is_uetr("eb6305c91f7f49deaed016487c27b42d"), "no hyphens");
    }

    #[test]
    fn swift_x() {
        assert!("LC/24-001 (A).,'+?:".chars().all(is_swift_x));
        assert!(!is_swift_x('_'));
        assert!(!is_swift_x('é'));
    }
}
