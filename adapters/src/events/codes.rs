//! The code lists of `shared/STANDARDS.md` as Rust enums: DCSA, ISO 20022, MT700, eBL and PINT.

use std::fmt;

/// Declares a closed code list: the enum, `ALL`, `as_str`, `parse` and `Display`.
macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every code of the list, in the order the standard lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code as the standard spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The code spelled exactly as the standard spells it (case matters).
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The codes joined with commas, for messages.
            #[allow(dead_code)] // not every list is named in a message
            pub(crate) fn list() -> String {
                Self::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_list! {
    /// DCSA `eventClassifierCode`.
    EventClassifier {
        /// Planned.
        Pln = "PLN",
        /// Actual.
        Act = "ACT",
        /// Estimated.
        Est = "EST",
    }
}

code_list! {
    /// DCSA `shipmentEventTypeCode`: the status of a document in its process.
    ShipmentEventTypeCode {
        /// Received.
        Rece = "RECE",
        /// Drafted.
        Drft = "DRFT",
        /// Pending approval.
        Pena = "PENA",
        /// Pending update.
        Penu = "PENU",
        /// Pending confirmation.
        Penc = "PENC",
        /// Confirmed.
        Conf = "CONF",
        /// Rejected.
        Reje = "REJE",
        /// Approved.
        Appr = "APPR",
        /// Issued.
        Issu = "ISSU",
        /// Surrendered.
        Surr = "SURR",
        /// Submitted.
        Subm = "SUBM",
        /// Void.
        Void = "VOID",
        /// Requested.
        Reqs = "REQS",
        /// Completed.
        Cmpl = "CMPL",
        /// On hold.
        Hold = "HOLD",
        /// Released.
        Rels = "RELS",
        /// Cancelled (T&T 2.3).
        Canc = "CANC",
        /// Amendment confirmed (T&T 3.0).
        Amcf = "AMCF",
        /// Amendment cancelled (T&T 3.0).
        Amcn = "AMCN",
        /// Amendment declined (T&T 3.0).
        Amdc = "AMDC",
        /// Amendment in progress (T&T 3.0).
        Ampr = "AMPR",
        /// Amendment received (T&T 3.0).
        Amre = "AMRE",
        /// Cancellation confirmed (T&T 3.0).
        Cacf = "CACF",
        /// Cancellation declined (T&T 3.0).
        Cadc = "CADC",
        /// Cancellation received (T&T 3.0).
        Care = "CARE",
        /// Declined (T&T 3.0).
        Decl = "DECL",
        /// Pending amendment (T&T 3.0).
        Penm = "PENM",
        /// Pending surrender for amendment (T&T 3.0).
        Psam = "PSAM",
        /// Pending surrender for delivery (T&T 3.0).
        Psdl = "PSDL",
        /// Surrendered for amendment (T&T 3.0).
        Suam = "SUAM",
        /// Surrendered for delivery (T&T 3.0).
        Sudl = "SUDL",
        /// Update confirmed (T&T 3.0).
        Upcf = "UPCF",
        /// Update cancelled (T&T 3.0).
        Upcn = "UPCN",
        /// Update declined (T&T 3.0).
        Updc = "UPDC",
        /// Update in progress (T&T 3.0).
        Updt = "UPDT",
        /// Update received (T&T 3.0).
        Upre = "UPRE",
    }
}

impl ShipmentEventTypeCode {
    /// Whether a customs event (`documentTypeCode` CUS) may carry this code: the
    /// clearance states REQS, HOLD, RELS, CMPL, and VOID or CANC (T&T 2.3) for a
    /// declaration revoked (`docs/customs.md`).
    pub const fn is_customs(self) -> bool {
        matches!(
            self,
            ShipmentEventTypeCode::Reqs
                | ShipmentEventTypeCode::Hold
                | ShipmentEventTypeCode::Rels
                | ShipmentEventTypeCode::Cmpl
                | ShipmentEventTypeCode::Void
                | ShipmentEventTypeCode::Canc
        )
    }
}

code_list! {
    /// DCSA `documentTypeCode` (2.x) and `DocumentReference.typeCode` (3.0): what a
    /// SHIPMENT event's document is.
    DocumentTypeCode {
        /// Carrier booking request reference.
        Cbr = "CBR",
        /// Booking.
        Bkg = "BKG",
        /// Shipping instruction.
        Shi = "SHI",
        /// Shipment release message.
        Srm = "SRM",
        /// Transport document.
        Trd = "TRD",
        /// Arrival notice.
        Arn = "ARN",
        /// Verified gross mass.
        Vgm = "VGM",
        /// Cargo survey.
        Cas = "CAS",
        /// Customs.
        Cus = "CUS",
        /// Dangerous goods declaration.
        Dgd = "DGD",
        /// Out of gauge.
        Oog = "OOG",
        /// Advance manifest filing (T&T 3.0).
        Amf = "AMF",
        /// Certificate of analysis (T&T 3.0).
        Cea = "CEA",
        /// Certificate of origin (T&T 3.0).
        Ceo = "CEO",
        /// Contract quotation (T&T 3.0).
        Cqu = "CQU",
        /// Container release order (T&T 3.0).
        Cro = "CRO",
        /// Customs clearance (T&T 3.0).
        Cuc = "CUC",
        /// Delivery instructions (T&T 3.0).
        Dei = "DEI",
        /// Delivery order (T&T 3.0).
        Deo = "DEO",
        /// Fumigation certificate (T&T 3.0).
        Fce = "FCE",
        /// Health certificate (T&T 3.0).
        Hce = "HCE",
        /// Inspection certificate (T&T 3.0).
        Ice = "ICE",
        /// Invoice (T&T 3.0).
        Inv = "INV",
        /// Phytosanitary certificate (T&T 3.0).
        Pce = "PCE",
        /// Proof of delivery (T&T 3.0).
        Pfd = "PFD",
        /// Transport order (T&T 3.0).
        Tro = "TRO",
        /// Veterinary certificate (T&T 3.0).
        Vce = "VCE",
    }
}

code_list! {
    /// DCSA `transportEventTypeCode`.
    TransportEventTypeCode {
        /// Arrived.
        Arri = "ARRI",
        /// Departed.
        Depa = "DEPA",
    }
}

code_list! {
    /// DCSA `equipmentEventTypeCode`: the 2.2 list and the codes 3.0 added.
    EquipmentEventTypeCode {
        /// Loaded.
        Load = "LOAD",
        /// Discharged.
        Disc = "DISC",
        /// Gated in.
        Gtin = "GTIN",
        /// Gated out.
        Gtot = "GTOT",
        /// Stuffed.
        Stuf = "STUF",
        /// Stripped.
        Strp = "STRP",
        /// Picked up.
        Pick = "PICK",
        /// Dropped off.
        Drop = "DROP",
        /// Inspected.
        Insp = "INSP",
        /// Resealed.
        Rsea = "RSEA",
        /// Removed.
        Rmvd = "RMVD",
        /// Available for drop-off (T&T 3.0).
        Avdo = "AVDO",
        /// Available for pick-up (T&T 3.0).
        Avpu = "AVPU",
        /// Crossed (T&T 3.0).
        Cros = "CROS",
        /// Customs selected for inspection (T&T 3.0).
        Cusi = "CUSI",
        /// Customs released (T&T 3.0).
        Cusr = "CUSR",
        /// Customs selected for scan (T&T 3.0).
        Cuss = "CUSS",
    }
}

code_list! {
    /// DCSA `emptyIndicatorCode`.
    EmptyIndicator {
        /// The equipment is empty.
        Empty = "EMPTY",
        /// The equipment is laden.
        Laden = "LADEN",
    }
}

code_list! {
    /// DCSA `modeOfTransport` of a transport call.
    ModeOfTransport {
        /// A vessel.
        Vessel = "VESSEL",
        /// Rail.
        Rail = "RAIL",
        /// A truck.
        Truck = "TRUCK",
        /// A barge.
        Barge = "BARGE",
        /// Multimodal (T&T 3.0).
        Multimodal = "MULTIMODAL",
    }
}

code_list! {
    /// T&T 3.0 `iotEventCode`: what an IoT device on the equipment reported.
    IotEventCode {
        /// Door closed.
        Drc = "DRC",
        /// Door opened.
        Dro = "DRO",
        /// Location update.
        Loc = "LOC",
    }
}

code_list! {
    /// T&T 3.0 `reeferEventTypeCode`.
    ReeferEventTypeCode {
        /// Measured.
        Meas = "MEAS",
        /// Adjusted.
        Adju = "ADJU",
    }
}

code_list! {
    /// The kind of a LETTER_OF_CREDIT event: where the credit is in its life.
    LetterOfCreditKind {
        /// Issued (MT700).
        Issued = "ISSUED",
        /// Amended (MT707).
        Amended = "AMENDED",
        /// Documents presented under the credit.
        DocsPresented = "DOCS_PRESENTED",
        /// The presentation was accepted.
        Accepted = "ACCEPTED",
        /// The presentation was found discrepant.
        Discrepant = "DISCREPANT",
        /// The credit was paid.
        Paid = "PAID",
        /// The credit expired.
        Expired = "EXPIRED",
        /// The credit was cancelled.
        Cancelled = "CANCELLED",
    }
}

code_list! {
    /// ISO 20022 `ChargeBearerType1Code`: who pays the charges of a transfer.
    ChargeBearer {
        /// Borne by the debtor.
        Debt = "DEBT",
        /// Borne by the creditor.
        Cred = "CRED",
        /// Shared.
        Shar = "SHAR",
        /// Following the service level.
        Slev = "SLEV",
    }
}

code_list! {
    /// ISO 20022 `ExternalPaymentTransactionStatus1Code`, as pacs.002 reports it.
    PaymentStatus {
        /// Accepted, settlement completed on the creditor's account.
        Accc = "ACCC",
        /// Accepted, customer profile checked.
        Accp = "ACCP",
        /// Accepted, settlement completed on the debtor's account: settled.
        Acsc = "ACSC",
        /// Accepted, settlement in process.
        Acsp = "ACSP",
        /// Accepted, technical validation passed.
        Actc = "ACTC",
        /// Accepted with change.
        Acwc = "ACWC",
        /// Accepted without posting.
        Acwp = "ACWP",
        /// Accepted, funds checked.
        Acfc = "ACFC",
        /// Blocked.
        Blck = "BLCK",
        /// Partially accepted, technical.
        Patc = "PATC",
        /// Pending.
        Pdng = "PDNG",
        /// Presented.
        Pres = "PRES",
        /// Received.
        Rcvd = "RCVD",
        /// Rejected; needs a reason.
        Rjct = "RJCT",
        /// Cancelled.
        Canc = "CANC",
    }
}

code_list! {
    /// DCSA eBL 3.0 `transportDocumentStatus`.
    TransportDocumentStatus {
        /// A draft.
        Draft = "DRAFT",
        /// Approved by the shipper.
        Approved = "APPROVED",
        /// Issued: a title document.
        Issued = "ISSUED",
        /// Surrender for amendment requested.
        PendingSurrenderForAmendment = "PENDING_SURRENDER_FOR_AMENDMENT",
        /// Surrendered for amendment.
        SurrenderedForAmendment = "SURRENDERED_FOR_AMENDMENT",
        /// Surrender for delivery requested.
        PendingSurrenderForDelivery = "PENDING_SURRENDER_FOR_DELIVERY",
        /// Surrendered for delivery.
        SurrenderedForDelivery = "SURRENDERED_FOR_DELIVERY",
        /// Voided.
        Voided = "VOIDED",
    }
}

code_list! {
    /// A PINT transfer action: one step of a bill of lading's title chain.
    EblAction {
        /// The carrier issues the document to its first holder.
        Issue = "ISSUE",
        /// Possession passes to another party.
        Transfer = "TRANSFER",
        /// Endorsed to a named endorsee.
        Endorse = "ENDORSE",
        /// Endorsed to order.
        EndorseToOrder = "ENDORSE_TO_ORDER",
        /// Endorsed in blank.
        BlankEndorse = "BLANK_ENDORSE",
        /// Signed.
        Sign = "SIGN",
        /// Surrendered to the carrier for delivery.
        SurrenderForDelivery = "SURRENDER_FOR_DELIVERY",
        /// Surrendered to the carrier for amendment.
        SurrenderForAmendment = "SURRENDER_FOR_AMENDMENT",
        /// The carrier accepted the surrender: the chain ends.
        Sacc = "SACC",
        /// The carrier rejected the surrender.
        Srej = "SREJ",
    }
}

code_list! {
    /// `declarationType` of a CUSTOMS_DECLARATION: which way the goods cross the border.
    DeclarationType {
        /// Goods leave the customs territory (import/export flag 0).
        Export = "EXPORT",
        /// Goods enter the customs territory (import/export flag 1).
        Import = "IMPORT",
        /// Goods pass through under customs control (either flag).
        Transit = "TRANSIT",
    }
}

code_list! {
    /// `parties[].role` of a CUSTOMS_DECLARATION.
    PartyRole {
        /// The shipper (China customs: the domestic consignor for export).
        Consignor = "CONSIGNOR",
        /// The receiver (China customs: the domestic consignee for import).
        Consignee = "CONSIGNEE",
        /// The party to notify on arrival.
        NotifyParty = "NOTIFY_PARTY",
        /// The maker of the goods.
        Manufacturer = "MANUFACTURER",
        /// The carrier.
        Carrier = "CARRIER",
        /// The freight forwarder.
        FreightForwarder = "FREIGHT_FORWARDER",
    }
}

code_list! {
    /// The IMDG Code's classes and divisions of dangerous goods (`dangerousGoods.imdgClass`).
    ImdgClass {
        /// Explosives with a mass explosion hazard.
        C1_1 = "1.1",
        /// Explosives with a projection hazard.
        C1_2 = "1.2",
        /// Explosives with a fire hazard and a minor blast or projection hazard.
        C1_3 = "1.3",
        /// Explosives with no significant hazard.
        C1_4 = "1.4",
        /// Very insensitive substances with a mass explosion hazard.
        C1_5 = "1.5",
        /// Extremely insensitive articles.
        C1_6 = "1.6",
        /// Flammable gases.
        C2_1 = "2.1",
        /// Non-flammable, non-toxic gases.
        C2_2 = "2.2",
        /// Toxic gases.
        C2_3 = "2.3",
        /// Flammable liquids.
        C3 = "3",
        /// Flammable solids, self-reactive substances, desensitized explosives.
        C4_1 = "4.1",
        /// Substances liable to spontaneous combustion.
        C4_2 = "4.2",
        /// Substances which, in contact with water, emit flammable gases.
        C4_3 = "4.3",
        /// Oxidizing substances.
        C5_1 = "5.1",
        /// Organic peroxides.
        C5_2 = "5.2",
        /// Toxic substances.
        C6_1 = "6.1",
        /// Infectious substances.
        C6_2 = "6.2",
        /// Radioactive material.
        C7 = "7",
        /// Corrosive substances.
        C8 = "8",
        /// Miscellaneous dangerous substances and articles.
        C9 = "9",
    }
}

impl ImdgClass {
    /// Whether this is a division of class 1 (explosives).
    pub const fn is_explosive(self) -> bool {
        matches!(
            self,
            ImdgClass::C1_1
                | ImdgClass::C1_2
                | ImdgClass::C1_3
                | ImdgClass::C1_4
                | ImdgClass::C1_5
                | ImdgClass::C1_6
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_itself() {
        for code in ShipmentEventTypeCode::ALL {
            assert_eq!(ShipmentEventTypeCode::parse(code.as_str()), Some(*code));
        }
        for code in EblAction::ALL {
            assert_eq!(EblAction::parse(code.as_str()), Some(*code));
        }
        // The union of 2.2, 2.3 and 3.0; which version has which is in tnt22.rs and tnt30.rs.
        assert_eq!(EquipmentEventTypeCode::ALL.len(), 17);
        assert_eq!(ShipmentEventTypeCode::ALL.len(), 36);
        assert_eq!(DocumentTypeCode::ALL.len(), 27);
        assert_eq!(TransportDocumentStatus::ALL.len(), 8);
        assert_eq!(EblAction::ALL.len(), 10);
    }

    #[test]
    fn codes_are_case_sensitive() {
        assert_eq!(EventClassifier::parse("act"), None);
        assert_eq!(EventClassifier::parse("ACT"), Some(EventClassifier::Act));
    }

    #[test]
    fn customs_codes() {
        let customs: Vec<_> = ShipmentEventTypeCode::ALL
            .iter()
            .filter(|c| c.is_customs())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(customs, ["VOID", "REQS", "CMPL", "HOLD", "RELS", "CANC"]);
    }
}
