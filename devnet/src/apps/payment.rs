//! The payment ledger: letters of credit, freight invoices and settlements,
//! each with its status and event history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Tracked;

/// Letters of credit, invoices and settlements by their references.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PaymentLedger {
    pub letters_of_credit: BTreeMap<String, Tracked>,
    pub invoices: BTreeMap<String, Tracked>,
    /// By `endToEndId`.
    pub settlements: BTreeMap<String, Tracked>,
}
