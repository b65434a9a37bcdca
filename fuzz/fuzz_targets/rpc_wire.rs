//! The ledgers' RPC messages as the relayer reads them, and the bodies the
//! ledger and the relayer's API take.
#![no_main]

use adapters::wire::{
    BlockEvents, BlockState, DiscloseRequest, HeaderResponse, NodeStatus, SubmitEvent,
    SubmittedEvents, TxResponse,
};
use libfuzzer_sys::fuzz_target;

fn read<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = light_clients::json::from_slice::<T>(data);
}

fuzz_target!(|data: &[u8]| {
    read::<NodeStatus>(data);
    read::<HeaderResponse>(data);
    read::<BlockEvents>(data);
    read::<BlockState>(data);
    read::<TxResponse>(data);
    read::<SubmitEvent>(data);
    read::<SubmittedEvents>(data);
    read::<DiscloseRequest>(data);
    read::<relayer::api::RegisterAdapter>(data);
});
