//! The canonical codec (`version || borsh`): any bytes decode to a value
//! or a `DecodeError`, and a value that decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use light_clients::{Ack, Canonical, ChannelState, EventLeaf, Packet, Roots, StateLeaf};

fn round_trip<T: Canonical>(data: &[u8]) {
    if let Ok(v) = T::decode(data) {
        assert_eq!(v.encode(), data, "{} re-encodes differently", T::WHAT);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Packet>(data);
    round_trip::<Ack>(data);
    round_trip::<EventLeaf>(data);
    round_trip::<ChannelState>(data);
    round_trip::<StateLeaf>(data);
    round_trip::<Roots>(data);
});
