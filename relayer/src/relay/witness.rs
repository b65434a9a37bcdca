//! Witnesses: each endpoint of a chain is asked, on its own, for the headers
//! the follower verified. A different header that is itself valid (signed by
//! the trusted validators) is a fork: the relayer stops following the chain
//! and submits the two headers as misbehaviour evidence to every host that
//! has a client of it, which freezes those clients. A different header that
//! is not valid only marks the endpoint as faulty.

use std::sync::Arc;
use std::time::Duration;

use light_clients::any::{AnyClient, AnyHeader, AnyMisbehaviour};
use light_clients::client::UpdateOutcome;
use light_clients::host::RelayMsg;
use light_clients::ChainId;
use tokio_util::sync::CancellationToken;

use super::engine::{now, Control, Engine, MisbehaviourReport, WitnessState};
use super::follower::FollowerHandle;

/// How long to wait after a witness could not answer.
const WITNESS_BACKOFF: Duration = Duration::from_secs(1);

/// What comparing one witness header showed.
enum Verdict {
    Agrees,
    /// Valid and conflicting: evidence for the hosts.
    Fork {
        evidence: String,
        msgs: Vec<RelayMsg>,
    },
    /// Different but not valid: the endpoint is faulty, not the chain.
    Invalid(String),
}

impl Engine {
    /// Compares `endpoint`'s headers of `chain` with the follower's, height by height.
    pub(super) async fn witness(
        self: Arc<Self>,
        chain: ChainId,
        endpoint: String,
        follower: FollowerHandle,
        stop: CancellationToken,
    ) {
        let Some(witness) = self.chain(&chain).and_then(|c| {
            c.witnesses
                .iter()
                .find(|(e, _)| e == &endpoint)
                .map(|(_, a)| a.clone())
        }) else {
            return;
        };
        let mut height = 0u64;
        let mut verified = follower.subscribe();
        loop {
            if stop.is_cancelled() || follower.is_frozen() {
                return;
            }
            // The next height the follower verified and we have not compared.
            let lowest = follower.lowest().unwrap_or(0);
            // Above the lowest kept, so the header below it is there to judge from.
            height = height.max(lowest + 1);
            let Some(ours) = follower.header(height).await else {
                // Not verified yet: wait for the follower to publish a change
                // (a second at most, as a guard against a missed one).
                verified.borrow_and_update();
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = verified.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            };
            let theirs = tokio::select! {
                _ = stop.cancelled() => return,
                r = witness.header(height) => r,
            };
            let theirs = match theirs {
                Ok(h) => h,
                Err(e) => {
                    tracing::debug!(%chain, %endpoint, height, error = %e, "witness did not answer");
                    follower
                        .witness(endpoint.clone(), WitnessState::failed(e.to_string()))
                        .await;
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(WITNESS_BACKOFF) => {}
                    }
                    continue;
                }
            };
            let below = follower.header(height - 1).await;
            match self.judge(&chain, height, below, &ours, theirs) {
                Verdict::Agrees => {
                    let agreed = WitnessState {
                        agreed_height: height,
                        last_error: None,
                    };
                    follower.witness(endpoint.clone(), agreed).await;
                    height += 1;
                }
                Verdict::Invalid(reason) => {
                    tracing::warn!(%chain, %endpoint, height, %reason, "witness served an invalid header");
                    let failed =
                        WitnessState::failed(format!("invalid header at {height}: {reason}"));
                    follower.witness(endpoint.clone(), failed).await;
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(WITNESS_BACKOFF) => {}
                    }
                }
                Verdict::Fork { evidence, msgs } => {
                    self.metrics
                        .misbehaviour
                        .with_label_values(&[chain.as_str()])
                        .inc();
                    tracing::error!(%chain, %endpoint, height, %evidence, "misbehaviour: a witness served a conflicting valid header; following stops and evidence goes to every host");
                    follower
                        .fork(MisbehaviourReport {
                            height,
                            evidence: evidence.clone(),
                            witness: endpoint.clone(),
                            submitted: Default::default(),
                        })
                        .await;
                    for host in self.chain_ids() {
                        if host != chain {
                            self.push_control(
                                &host,
                                Control::Misbehaviour {
                                    source: chain.clone(),
                                    height,
                                    msgs: msgs.clone(),
                                },
                            )
                            .await;
                        }
                    }
                    return;
                }
            }
        }
    }

    /// Compares a witness header with the follower's at `height`, judging it
    /// with a client started from the follower's header below.
    fn judge(
        &self,
        chain: &ChainId,
        height: u64,
        below: Option<AnyHeader>,
        ours: &AnyHeader,
        theirs: AnyHeader,
    ) -> Verdict {
        let same = match (ours.summary(), theirs.summary()) {
            (Ok(a), Ok(b)) => a.hash == b.hash,
            (_, Err(e)) => return Verdict::Invalid(format!("{}: {e}", e.check())),
            (Err(_), _) => false,
        };
        if same {
            return Verdict::Agrees;
        }
        let Some(below) = below else {
            return Verdict::Invalid(format!(
                "no verified header at {} to judge from",
                height - 1
            ));
        };
        let mut client = match AnyClient::create(&below.trust_root(), self.options.trust) {
            Ok(c) => c,
            Err(e) => return Verdict::Invalid(format!("{}: {e}", e.check())),
        };
        if let Err(e) = client.update(ours, now()) {
            return Verdict::Invalid(format!("our header no longer verifies: {}: {e}", e.check()));
        }
        match client.update(&theirs, now()) {
            Ok(UpdateOutcome::Frozen(evidence)) => {
                let m = match AnyMisbehaviour::from_headers(
                    ours.clone(),
                    height - 1,
                    theirs,
                    height - 1,
                ) {
                    Ok(m) => m,
                    Err(e) => return Verdict::Invalid(e.to_string()),
                };
                let msgs = vec![
                    // Gives every host a consensus state at the evidence's trusted height.
                    RelayMsg::UpdateClient {
                        chain: chain.clone(),
                        header: below,
                    },
                    RelayMsg::SubmitMisbehaviour {
                        chain: chain.clone(),
                        evidence: m,
                    },
                ];
                Verdict::Fork {
                    evidence: evidence.to_string(),
                    msgs,
                }
            }
            Ok(_) => Verdict::Agrees,
            Err(e) => Verdict::Invalid(format!("{}: {e}", e.check())),
        }
    }
}
