//! The zk records of sent packets (salted from `zk.secret`, kept with their
//! block) and the witness of a disclosure proof, rebuilt from them.

use light_clients::any::IntoAny;
use light_clients::sample::Signing;
use light_clients::zk::{self, DisclosedRecord, DisclosedRule, PathPolicy};
use light_clients::{Hash32, PacketId};
use serde::{Deserialize, Serialize};

use super::{Ledger, LedgerError};

/// A packet's disclosure record as its source keeps it: the fields in the
/// layout of `adapters::records`; the salt is derived again from the
/// ledger's secret when a proof needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZkRecord {
    pub packet: PacketId,
    pub fields: Vec<Hash32>,
}

/// What a prover needs for one disclosure proof: the statement, the
/// openings, and the disclosure as it will travel (proof still empty).
#[derive(Debug, Clone)]
pub struct Witness {
    pub statement: circuits::Statement,
    pub openings: Vec<circuits::Opening>,
    pub disclosure: zk::Disclosure,
}

pub(super) fn field_bytes(fields: &[circuits::Fr]) -> Vec<Hash32> {
    fields.iter().map(zk::fr_hash).collect()
}

impl<F: Signing + IntoAny> Ledger<F> {
    /// A packet's salted record.
    pub(super) fn record(
        &self,
        id: &PacketId,
        fields: Vec<circuits::Fr>,
    ) -> Result<circuits::Record, LedgerError> {
        circuits::Record::new(
            circuits::record::derive_salt(&self.zk_secret, &zk::packet_id_bytes(id)),
            zk::packet_id_field(id),
            fields,
        )
        .map_err(LedgerError::Record)
    }

    /// The witness of a disclosure proof of `packets` (all emitted by the
    /// block whose roots header `proof_height` commits) with the rules
    /// `policy` asks, for a circuit of `params`.
    pub fn witness(
        &self,
        proof_height: u64,
        packets: &[PacketId],
        policy: &PathPolicy,
        params: circuits::DisclosureParams,
    ) -> Result<Witness, LedgerError> {
        if packets.is_empty() || packets.len() > params.records {
            return Err(LedgerError::ProofPackets {
                max: params.records,
                asked: packets.len(),
            });
        }
        if params.depth != self.host.zk_depth() {
            return Err(LedgerError::ZkDepth {
                key: params.depth,
                ledger: self.host.zk_depth(),
            });
        }
        // The block whose roots the header at `proof_height` commits.
        let height = F::roots_height(proof_height);
        let block = self.stored(height)?;
        self.proof_point(height, block.roots)?;
        let mut records = Vec::with_capacity(block.records.len());
        for r in &block.records {
            let fields = r
                .fields
                .iter()
                .map(|h| circuits::encode::fr_from_bytes(h.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(LedgerError::RecordField)?;
            records.push(self.record(&r.packet, fields)?);
        }
        let leaves = records
            .iter()
            .map(circuits::Record::leaf)
            .collect::<Result<Vec<_>, _>>()
            .map_err(LedgerError::Record)?;
        let tree = circuits::Tree::new(params.depth, leaves).map_err(LedgerError::Record)?;
        if zk::fr_hash(&tree.root()) != block.roots.zk_root {
            return Err(LedgerError::ZkRoot { height });
        }
        let mut openings = Vec::with_capacity(packets.len());
        let mut statement = Vec::with_capacity(packets.len());
        let mut wire = Vec::with_capacity(packets.len());
        for id in packets {
            let index = block
                .records
                .iter()
                .position(|r| &r.packet == id)
                .ok_or_else(|| LedgerError::NoZkRecord {
                    height,
                    packet: id.clone(),
                })?;
            let record = records[index].clone();
            let rules = policy
                .rules_for(&record.fields)
                .ok_or(LedgerError::Policy {
                    fields: record.fields.len(),
                })?;
            let path = tree.path(index as u64).map_err(LedgerError::Record)?;
            statement.push(circuits::Disclosure {
                packet_id: record.packet_id,
                rules: rules.clone(),
            });
            wire.push(DisclosedRecord {
                packet: id.clone(),
                rules: rules.iter().map(DisclosedRule::from_rule).collect(),
            });
            openings.push(circuits::Opening { record, path });
        }
        let statement = circuits::Statement::new(params, tree.root(), statement)
            .map_err(LedgerError::Statement)?;
        Ok(Witness {
            statement,
            openings,
            disclosure: zk::Disclosure {
                zk_root: block.roots.zk_root,
                records: wire,
                proof: Vec::new(),
            },
        })
    }
}
