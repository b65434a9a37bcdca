//! PINT unit tests: checksums, the chain's links, signatures, and the three calls.

use super::*;
use light_clients::ChainId;
use serde_json::{json, Value};

/// A test platform: its code and Ed25519 key.
struct Platform {
    code: &'static str,
    key: ed25519_consensus::SigningKey,
}

fn platform(code: &'static str, seed: u8) -> Platform {
    Platform {
        code,
        key: ed25519_consensus::SigningKey::from([seed; 32]),
    }
}

const CARRIER: &str = "China Merchants Shipping Container Line";
const SHIPPER: &str = "Shenzhen Bright Furniture Co., Ltd.";

fn party(name: &str, platform: &str) -> Value {
    json!({"partyName": name, "eblPlatform": platform,
           "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": name}]})
}

fn td() -> Value {
    json!({"transportDocumentReference": "CMPPINT0001", "transportDocumentStatus": "ISSUED",
           "carrierCode": "CMSL", "carrierCodeListProvider": "SMDG", "isToOrder": false})
}

fn tx(action: &str, actor: Value, recipient: Option<Value>) -> Value {
    let mut t =
        json!({"actionCode": action, "actor": actor, "actionDateTime": "2024-04-17T07:11:19.531Z"});
    if let Some(r) = recipient {
        t["recipient"] = r;
    }
    t
}

fn jws(payload: &Value, p: &Platform) -> String {
    sign(payload, &p.key).unwrap()
}

/// An envelope of `entries` (platform, transactions), each linked to the
/// one before, the first with the carrier's issuance manifest.
fn envelope(td: &Value, entries: &[(&Platform, Vec<Value>)], docs: &[(&str, &[u8])]) -> Value {
    let checksum = document_checksum(td);
    let mut chain: Vec<String> = Vec::new();
    for (i, (p, txs)) in entries.iter().enumerate() {
        let mut e = json!({"eblPlatform": p.code, "transportDocumentChecksum": checksum, "transactions": txs});
        if i == 0 {
            let issuance =
                json!({"documentChecksum": checksum, "issueToChecksum": sha256_hex(b"issueTo")});
            e["issuanceManifestSignedContent"] = json!(jws(&issuance, p));
        } else {
            e["previousEnvelopeTransferChainEntrySignedContentChecksum"] =
                json!(sha256_hex(chain[i - 1].as_bytes()));
        }
        chain.push(jws(&e, p));
    }
    let sender = entries.last().unwrap().0;
    let mut manifest = json!({
        "transportDocumentChecksum": checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": sha256_hex(chain.last().unwrap().as_bytes()),
    });
    if !docs.is_empty() {
        manifest["supportingDocuments"] = docs
            .iter()
            .map(|(name, bytes)| json!({"name": name, "size": bytes.len(), "mediaType": "application/pdf", "documentChecksum": sha256_hex(bytes)}))
            .collect();
    }
    json!({"transportDocument": td, "envelopeManifestSignedContent": jws(&manifest, sender), "envelopeTransferChain": chain})
}

/// The receiving ledger (platform code CMPO) with WAVE's and BOLE's keys registered.
fn ledger(wave: &Platform, bole: &Platform) -> PortApps {
    let mut l = PortApps::new(ChainId::new("cmport-1").unwrap());
    assert_eq!(l.pint_code(), "CMPO");
    l.register_pint_platform(wave.code, &public_jwk(&wave.key))
        .unwrap();
    l.register_pint_platform(bole.code, &public_jwk(&bole.key))
        .unwrap();
    l
}

fn code(a: &Answer) -> String {
    match &a.reply {
        Reply::Signed(r) => r.response_code.clone(),
        other => format!("{other:?}"),
    }
}

/// Issued on WAVE to the shipper on BOLE, who transfers to a party on this ledger.
fn two_hops<'a>(wave: &'a Platform, bole: &'a Platform) -> Vec<(&'a Platform, Vec<Value>)> {
    vec![
        (
            wave,
            vec![tx(
                "ISSUE",
                party(CARRIER, "WAVE"),
                Some(party(SHIPPER, "BOLE")),
            )],
        ),
        (
            bole,
            vec![tx(
                "TRANSFER",
                party(SHIPPER, "BOLE"),
                Some(party("Rotterdam Home Goods B.V.", "CMPO")),
            )],
        ),
    ]
}

#[test]
fn the_document_checksum_is_sha256_of_rfc_8785_json() {
    let a = json!({"b": 1, "a": "x", "c": [1.0, "é"]});
    let b: Value =
        serde_json::from_str(r#"{ "c" : [ 1, "\u00e9" ], "a":"x", "b" : 1.0 }"#).unwrap();
    assert_eq!(document_checksum(&a), document_checksum(&b));
    assert_eq!(
        document_checksum(&a),
        sha256_hex(r#"{"a":"x","b":1,"c":[1,"é"]}"#.as_bytes())
    );
    assert!(is_checksum(&document_checksum(&a)));
    assert!(!is_checksum(&document_checksum(&a).to_uppercase()));
}

#[test]
fn a_valid_envelope_is_received_and_its_resend_is_dupe() {
    let (wave, bole) = (platform("WAVE", 1), platform("BOLE", 2));
    let mut l = ledger(&wave, &bole);
    let env = envelope(&td(), &two_hops(&wave, &bole), &[]);
    let a = l.pint_start(&env);
    assert_eq!(
        (code(&a), a.reply.status(), a.changed),
        ("RECE".into(), 200, true)
    );
    let bill = &l.ebl.bills["CMPPINT0001"];
    assert_eq!(bill.holder, "Rotterdam Home Goods B.V.");
    assert_eq!(bill.actions, ["ISSUE", "TRANSFER"]);
    assert_eq!(bill.carrier.as_ref().unwrap().name, CARRIER);

    let again = l.pint_start(&env);
    assert_eq!(
        (code(&again), again.reply.status(), again.changed),
        ("DUPE".into(), 200, false)
    );
    let Reply::Signed(r) = &again.reply else {
        panic!()
    };
    let last = env["envelopeTransferChain"][1].as_str().unwrap();
    assert_eq!(
        r.duplicate_of_accepted_envelope_transfer_chain_entry_signed_content
            .as_deref(),
        Some(last)
    );
    assert_eq!(
        r.last_envelope_transfer_chain_entry_signed_content_checksum,
        sha256_hex(last.as_bytes())
    );
}

#[test]
fn broken_links_checksums_and_signatures_are_refused() {
    let (wave, bole) = (platform("WAVE", 1), platform("BOLE", 2));
    let entries = two_hops(&wave, &bole);
    let env = envelope(&td(), &entries, &[]);
    let fresh = || ledger(&wave, &bole);

    // A transport document changed after signing: BENV.
    let mut changed = env.clone();
    changed["transportDocument"]["carrierCode"] = json!("MSCU");
    let a = fresh().pint_start(&changed);
    assert_eq!(code(&a), "BENV");
    let Reply::Signed(r) = &a.reply else { panic!() };
    assert!(r.reason.as_deref().unwrap().contains("RFC 8785"), "{r:?}");

    // The second entry linked to something else: BENV (re-signed, so the signatures hold).
    let td = td();
    let checksum = document_checksum(&td);
    let first = env["envelopeTransferChain"][0]
        .as_str()
        .unwrap()
        .to_string();
    let bad_link = json!({"eblPlatform": "BOLE", "transportDocumentChecksum": checksum,
        "previousEnvelopeTransferChainEntrySignedContentChecksum": sha256_hex(b"another entry"),
        "transactions": entries[1].1});
    let second = jws(&bad_link, &bole);
    let manifest = json!({"transportDocumentChecksum": checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": sha256_hex(second.as_bytes())});
    let unlinked = json!({"transportDocument": td, "envelopeManifestSignedContent": jws(&manifest, &bole),
        "envelopeTransferChain": [first, second]});
    let a = fresh().pint_start(&unlinked);
    assert_eq!(code(&a), "BENV");
    let Reply::Signed(r) = &a.reply else { panic!() };
    assert!(r.reason.as_deref().unwrap().contains("links to"), "{r:?}");

    // The last entry signed by a key BOLE never registered: BSIG.
    let mallory = platform("BOLE", 9);
    let mut forged_entries = two_hops(&wave, &bole);
    forged_entries[1].0 = &mallory;
    let a = fresh().pint_start(&envelope(&td, &forged_entries, &[]));
    assert_eq!((code(&a), a.reply.status()), ("BSIG".into(), 422));

    // A platform with no key registered: BSIG.
    let mut l = PortApps::new(ChainId::new("cmport-1").unwrap());
    l.register_pint_platform("WAVE", &public_jwk(&wave.key))
        .unwrap();
    assert_eq!(code(&l.pint_start(&env)), "BSIG");

    // Addressed to another platform: BENV; nothing was kept of any refusal.
    let mut elsewhere = two_hops(&wave, &bole);
    elsewhere[1].1 = vec![tx(
        "TRANSFER",
        party(SHIPPER, "BOLE"),
        Some(party("X", "EDOX")),
    )];
    let mut l = fresh();
    assert_eq!(code(&l.pint_start(&envelope(&td, &elsewhere, &[]))), "BENV");
    assert!(l.ebl.bills.is_empty() && l.ebl.pint.transfers.is_empty());
}

#[test]
fn additional_documents_are_checked_then_the_transfer_finishes() {
    let (wave, bole) = (platform("WAVE", 1), platform("BOLE", 2));
    let mut l = ledger(&wave, &bole);
    let (invoice, packing): (&[u8], &[u8]) = (b"%PDF invoice", b"%PDF packing list");
    let env = envelope(
        &td(),
        &two_hops(&wave, &bole),
        &[("invoice.pdf", invoice), ("packing.pdf", packing)],
    );
    let a = l.pint_start(&env);
    let Reply::Started(started) = &a.reply else {
        panic!("{a:?}")
    };
    assert_eq!(a.reply.status(), 201);
    assert_eq!(started.missing_additional_document_checksums.len(), 2);
    let reference = started.envelope_reference.clone();
    assert!(l.ebl.bills.is_empty(), "not accepted before its documents");

    // Finish too early: MDOC, listing both.
    let a = l.pint_finish(&reference);
    assert_eq!((code(&a), a.reply.status()), ("MDOC".into(), 409));
    let Reply::Signed(r) = &a.reply else { panic!() };
    assert_eq!(
        r.missing_additional_document_checksums
            .as_ref()
            .map(Vec::len),
        Some(2)
    );

    // The wrong bytes under the invoice's checksum, a wrong size, an undeclared one: INCD.
    let (ci, cp) = (sha256_hex(invoice), sha256_hex(packing));
    let a = l.pint_document(
        &reference,
        &ci,
        Ok((sha256_hex(b"other"), invoice.len() as u64)),
    );
    assert_eq!((code(&a), a.reply.status()), ("INCD".into(), 409));
    let a = l.pint_document(&reference, &ci, Ok((ci.clone(), 3)));
    assert_eq!(code(&a), "INCD");
    let a = l.pint_document(&reference, &sha256_hex(b"x"), Ok((sha256_hex(b"x"), 1)));
    assert_eq!(code(&a), "INCD");
    assert!(matches!(
        l.pint_document("nope", &ci, Ok((ci.clone(), 1))).reply,
        Reply::Error { status: 404, .. }
    ));

    // The invoice right: 204; finish still MDOC, for the packing list alone.
    let a = l.pint_document(&reference, &ci, Ok((ci.clone(), invoice.len() as u64)));
    assert_eq!(a.reply, Reply::Received);
    let Reply::Signed(r) = l.pint_finish(&reference).reply else {
        panic!()
    };
    assert_eq!(
        r.missing_additional_document_checksums,
        Some(vec![cp.clone()])
    );

    // Both: RECE, listing both received; finish again: DUPE.
    l.pint_document(&reference, &cp, Ok((cp.clone(), packing.len() as u64)));
    let a = l.pint_finish(&reference);
    assert_eq!(code(&a), "RECE");
    let Reply::Signed(r) = &a.reply else { panic!() };
    let mut both = vec![ci, cp];
    both.sort();
    assert_eq!(
        r.received_additional_document_checksums.as_ref(),
        Some(&both)
    );
    assert_eq!(
        l.ebl.bills["CMPPINT0001"].holder,
        "Rotterdam Home Goods B.V."
    );
    assert_eq!(code(&l.pint_finish(&reference)), "DUPE");
}

#[test]
fn the_title_rules_hold_inside_an_envelope() {
    let (wave, bole) = (platform("WAVE", 1), platform("BOLE", 2));
    let wave_s = &wave;
    let issue = tx(
        "ISSUE",
        party(CARRIER, "WAVE"),
        Some(party(SHIPPER, "WAVE")),
    );
    // A surrender not addressed to the carrier: BENV.
    let astray = vec![(
        wave_s,
        vec![
            issue.clone(),
            tx(
                "SURRENDER_FOR_DELIVERY",
                party(SHIPPER, "WAVE"),
                Some(party("Agent", "CMPO")),
            ),
        ],
    )];
    let a = ledger(&wave, &bole).pint_start(&envelope(&td(), &astray, &[]));
    assert_eq!(code(&a), "BENV", "{a:?}");
    // Anything after SACC: BENV.
    let after = vec![(
        wave_s,
        vec![
            issue.clone(),
            tx(
                "SURRENDER_FOR_DELIVERY",
                party(SHIPPER, "WAVE"),
                Some(party(CARRIER, "WAVE")),
            ),
            tx("SACC", party(CARRIER, "WAVE"), None),
            tx("TRANSFER", party(CARRIER, "WAVE"), Some(party("Y", "CMPO"))),
        ],
    )];
    let a = ledger(&wave, &bole).pint_start(&envelope(&td(), &after, &[]));
    let Reply::Signed(r) = &a.reply else { panic!() };
    assert_eq!(r.response_code, "BENV");
    assert!(r.reason.as_deref().unwrap().contains("SACC"), "{r:?}");
    // A transfer by a party that does not hold the bill: BENV.
    let theft = vec![(
        wave_s,
        vec![
            issue,
            tx(
                "TRANSFER",
                party("Mallory", "WAVE"),
                Some(party("Y", "CMPO")),
            ),
        ],
    )];
    assert_eq!(
        code(&ledger(&wave, &bole).pint_start(&envelope(&td(), &theft, &[]))),
        "BENV"
    );
    // A bill this ledger knows already (here: received before, then a
    // different chain for it): DISE.
    let mut l = ledger(&wave, &bole);
    assert_eq!(
        code(&l.pint_start(&envelope(&td(), &two_hops(&wave, &bole), &[]))),
        "RECE"
    );
    let other = vec![(
        wave_s,
        vec![tx(
            "ISSUE",
            party(CARRIER, "WAVE"),
            Some(party("Z", "CMPO")),
        )],
    )];
    assert_eq!(code(&l.pint_start(&envelope(&td(), &other, &[]))), "DISE");
}

#[test]
fn registered_keys_are_public_and_of_a_signing_type() {
    let mut l = PortApps::new(ChainId::new("cmport-1").unwrap());
    let wave = platform("WAVE", 1);
    let mut private = public_jwk(&wave.key);
    private["d"] = json!("AAAA");
    assert!(l.register_pint_platform("WAVE", &private).is_err());
    assert!(l
        .register_pint_platform("WAVE", &json!({"kty": "oct", "k": "c2VjcmV0"}))
        .is_err());
    let mut short = public_jwk(&wave.key);
    short["x"] = json!("AAAA");
    assert!(l.register_pint_platform("WAVE", &short).is_err());
    assert!(l
        .register_pint_platform("WAVES", &public_jwk(&wave.key))
        .is_err());
    assert!(l.ebl.pint.platforms.is_empty());
}

#[test]
fn the_carriers_visualisation_travels_with_every_transfer() {
    let (wave, bole) = (platform("WAVE", 1), platform("BOLE", 2));
    let td = td();
    let checksum = document_checksum(&td);
    let pdf: &[u8] = b"%PDF the carrier's rendering";
    let issuance = json!({"documentChecksum": checksum, "issueToChecksum": checksum,
        "eBLVisualisationByCarrierChecksum": sha256_hex(pdf)});
    let entry = json!({"eblPlatform": "WAVE", "transportDocumentChecksum": checksum,
        "issuanceManifestSignedContent": jws(&issuance, &wave),
        "transactions": [tx("ISSUE", party(CARRIER, "WAVE"), Some(party(SHIPPER, "CMPO")))]});
    let entry = jws(&entry, &wave);
    let manifest = |visualisation: Option<&[u8]>| {
        let mut m = json!({"transportDocumentChecksum": checksum,
            "lastEnvelopeTransferChainEntrySignedContentChecksum": sha256_hex(entry.as_bytes())});
        if let Some(bytes) = visualisation {
            m["eBLVisualisationByCarrier"] = json!({"name": "ebl.pdf", "size": bytes.len(),
                "mediaType": "application/pdf", "documentChecksum": sha256_hex(bytes)});
        }
        json!({"transportDocument": td, "envelopeManifestSignedContent": jws(&m, &wave),
               "envelopeTransferChain": [entry]})
    };
    for wrong in [None, Some(&b"%PDF another rendering"[..])] {
        let a = ledger(&wave, &bole).pint_start(&manifest(wrong));
        assert_eq!(code(&a), "BENV", "{wrong:?}: {a:?}");
    }
    let mut l = ledger(&wave, &bole);
    let a = l.pint_start(&manifest(Some(pdf)));
    let Reply::Started(s) = &a.reply else {
        panic!("{a:?}")
    };
    assert_eq!(
        s.missing_additional_document_checksums,
        vec![sha256_hex(pdf)]
    );
}
