//! `groth16` paths: each (source, app) path's policy and verifying key (the
//! operator's word), the batch verification of a transaction's disclosure
//! proofs, and the delivery of a disclosed packet.

use std::collections::BTreeMap;

use crate::codec::Canonical;
use crate::packet::{App, ChainId, ChannelId, EventLeaf, Packet, PacketId};
use crate::zk::{self, Disclosure, PathPolicy, VerifyingKeyBytes};

use super::channels::End;
use super::{Apps, BlockContext, EventProof, Host, HostError, Outcome, RelayMsg};

impl Host {
    /// How this ledger takes packets from `source` for `app`.
    pub fn path_policy(&self, source: &ChainId, app: App) -> PathPolicy {
        self.policies
            .get(&(source.clone(), app))
            .cloned()
            .unwrap_or_default()
    }

    /// The verifying key registered for (`source`, `app`).
    pub fn verifying_key(&self, source: &ChainId, app: App) -> Option<&VerifyingKeyBytes> {
        self.zk_keys.get(&(source.clone(), app))
    }

    /// Whether packets sent on `channel` carry record commitments.
    pub fn is_confidential(&self, channel: &ChannelId) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|c| zk::is_confidential(&c.version))
    }

    pub(super) fn set_path_policy(
        &mut self,
        source: &ChainId,
        app: &App,
        policy: &PathPolicy,
    ) -> Result<Outcome, HostError> {
        if *source == self.chain_id {
            return Err(HostError::Invalid {
                what: "path policy",
                reason: "a path comes from another ledger".into(),
            });
        }
        policy.validate().map_err(|reason| HostError::Invalid {
            what: "path policy",
            reason,
        })?;
        self.policies.insert((source.clone(), *app), policy.clone());
        Ok(Outcome::PathPolicySet {
            source: source.clone(),
            app: *app,
            mode: policy.mode().to_string(),
        })
    }

    pub(super) fn register_verifying_key(
        &mut self,
        source: &ChainId,
        app: &App,
        key: &VerifyingKeyBytes,
    ) -> Result<Outcome, HostError> {
        let vk =
            circuits::groth16::vk_from_bytes(&key.0).map_err(|e| HostError::BadVerifyingKey {
                reason: e.to_string(),
            })?;
        let path = (source.clone(), *app);
        self.prepared.insert(path.clone(), vk.prepare());
        self.zk_keys.insert(path, key.clone());
        Ok(Outcome::VerifyingKeyRegistered {
            source: source.clone(),
            app: *app,
            shape: vk.params.to_string(),
        })
    }

    /// The prepared key of a path, preparing it from the registered bytes
    /// the first time after a load.
    fn prepared_key(
        &mut self,
        source: &ChainId,
        app: App,
    ) -> Result<&circuits::PreparedVerifyingKey, HostError> {
        let path = (source.clone(), app);
        if !self.prepared.contains_key(&path) {
            let bytes = self
                .zk_keys
                .get(&path)
                .ok_or_else(|| HostError::NoVerifyingKey {
                    from: source.clone(),
                    app,
                })?;
            let vk = circuits::groth16::vk_from_bytes(&bytes.0).map_err(|e| {
                HostError::BadVerifyingKey {
                    reason: e.to_string(),
                }
            })?;
            self.prepared.insert(path.clone(), vk.prepare());
        }
        self.prepared
            .get(&path)
            .ok_or_else(|| HostError::NoVerifyingKey {
                from: source.clone(),
                app,
            })
    }

    /// The Groth16 verdict of each `RecvDisclosed` message (`None` for the
    /// others): its statement is built with the path's key shape, and the
    /// distinct (statement, proof) pairs of a path are batch-verified.
    pub(super) fn check_proofs(&mut self, msgs: &[RelayMsg]) -> Vec<Option<Result<(), HostError>>> {
        type Item = (circuits::Statement, circuits::Proof);
        /// A path's distinct items, and (message, item) for each message using one.
        type Group = (Vec<Item>, Vec<(usize, usize)>);
        let mut verdicts: Vec<Option<Result<(), HostError>>> = vec![None; msgs.len()];
        let mut groups: BTreeMap<(ChainId, App), Group> = BTreeMap::new();
        for (i, msg) in msgs.iter().enumerate() {
            let RelayMsg::RecvDisclosed {
                packet, disclosure, ..
            } = msg
            else {
                continue;
            };
            let source = packet.id.channel.source.clone();
            let app = packet.id.channel.app;
            let item = self.prepared_key(&source, app).and_then(|pvk| {
                let statement = disclosure
                    .statement(pvk.params)
                    .map_err(|reason| HostError::Disclosure { reason })?;
                let proof = circuits::groth16::proof_from_bytes(&disclosure.proof)
                    .map_err(|source| HostError::Groth16 { source })?;
                Ok((statement, proof))
            });
            match item {
                Err(e) => verdicts[i] = Some(Err(e)),
                Ok(item) => {
                    let (items, users) = groups.entry((source, app)).or_default();
                    let at = match items.iter().position(|x| *x == item) {
                        Some(at) => at,
                        None => {
                            items.push(item);
                            items.len() - 1
                        }
                    };
                    users.push((i, at));
                }
            }
        }
        for ((source, app), (items, users)) in groups {
            let results: Vec<Result<(), HostError>> = match self.prepared_key(&source, app) {
                Err(e) => vec![Err(e); items.len()],
                Ok(pvk) => verify_items(pvk, &items),
            };
            for (i, at) in users {
                verdicts[i] = results.get(at).cloned();
            }
        }
        verdicts
    }

    pub(super) fn recv_disclosed(
        &mut self,
        packet: &Packet,
        proof: &EventProof,
        disclosure: &Disclosure,
        checked: Result<(), HostError>,
        apps: &mut dyn Apps,
        ctx: &BlockContext,
    ) -> Result<Outcome, HostError> {
        packet.validate().map_err(|reason| HostError::Invalid {
            what: "packet",
            reason,
        })?;
        let channel_id = &packet.id.channel;
        self.channel_end(channel_id, End::Destination, true)?;
        let (source, app) = (&channel_id.source, channel_id.app);
        let policy = self.path_policy(source, app);
        if policy == PathPolicy::Merkle {
            return Err(HostError::PathPolicy {
                from: source.clone(),
                app,
                policy: policy.mode(),
                got: "groth16",
            });
        }
        // Whatever the proofs say, a full event must not be taken here.
        if packet.payload.len() != zk::COMMITMENT_BYTES {
            return Err(HostError::Disclosure {
                reason: format!(
                    "the payload is {} bytes, a record commitment is {}: the source's channel is not confidential",
                    packet.payload.len(),
                    zk::COMMITMENT_BYTES
                ),
            });
        }
        let leaf = EventLeaf::from(packet);
        self.verify(source, &leaf, proof, ctx)?;
        let index = disclosure
            .index_of(&packet.id)
            .map_err(|reason| HostError::Disclosure { reason })?;
        let width = self.prepared_key(source, app)?.params.width;
        let rules = disclosure.records[index]
            .rules
            .iter()
            .map(zk::DisclosedRule::to_rule)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|reason| HostError::Disclosure { reason })?;
        check_against_policy(&policy, &packet.id, &rules, width)?;
        let roots = self
            .client_of(source)?
            .roots_at(proof.height, ctx.time, proof.opening.as_ref())
            .map_err(|e| HostError::Client {
                chain: source.clone(),
                source: e.into(),
            })?;
        if roots.zk_root != disclosure.zk_root {
            return Err(HostError::ZkRootMismatch {
                height: proof.height,
                claimed: disclosure.zk_root,
                committed: roots.zk_root,
            });
        }
        checked?;
        self.deliver(
            packet,
            leaf,
            ctx,
            |apps, packet, ctx| apps.on_recv_disclosed(packet, &rules, ctx),
            apps,
        )
    }
}

/// The verdict on each distinct (statement, proof) of one key: one batch,
/// or a single verification for one item.
fn verify_items(
    pvk: &circuits::PreparedVerifyingKey,
    items: &[(circuits::Statement, circuits::Proof)],
) -> Vec<Result<(), HostError>> {
    let groth16 = |source| HostError::Groth16 { source };
    if let [(statement, proof)] = items {
        return vec![circuits::verify(pvk, statement, proof).map_err(groth16)];
    }
    let refs: Vec<(&circuits::Statement, &circuits::Proof)> =
        items.iter().map(|(s, p)| (s, p)).collect();
    match circuits::verify_batch(pvk, &refs) {
        Ok(()) => vec![Ok(()); items.len()],
        Err(circuits::VerifyError::Batch { bad }) => (0..items.len())
            .map(|i| {
                if bad.contains(&i) {
                    Err(groth16(circuits::VerifyError::Pairing))
                } else {
                    Ok(())
                }
            })
            .collect(),
        Err(e) => vec![Err(groth16(e)); items.len()],
    }
}

/// Checks a record's proven rules against what the policy asks for its
/// kind: field 0 disclosed (the kind), then exactly the policy's rules.
fn check_against_policy(
    policy: &PathPolicy,
    packet: &PacketId,
    rules: &[circuits::Rule],
    width: usize,
) -> Result<(), HostError> {
    let refuse = |reason: String| HostError::DisclosurePolicy {
        packet: packet.clone(),
        reason,
    };
    let Some(circuits::Rule::Equals(kind)) = rules.first() else {
        return Err(refuse("field 0 (the kind) must be disclosed".into()));
    };
    let expected = policy.expected(*kind, width).ok_or_else(|| {
        refuse(format!(
            "the policy for this kind is wider than the key's {width} fields"
        ))
    })?;
    if rules.len() != expected.len() {
        return Err(refuse(format!(
            "{} rules, the key's records have {} fields",
            rules.len(),
            expected.len()
        )));
    }
    for (i, (want, got)) in expected.iter().zip(rules).enumerate() {
        if !want.admits(got) {
            return Err(refuse(format!("field {i}: asked {want:?}, proven {got}")));
        }
    }
    Ok(())
}
