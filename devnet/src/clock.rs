//! The node's two reads of the outside world besides its files and
//! sockets: the wall clock and the OS's randomness. Everything else in the
//! crate takes time and entropy as arguments.

use light_clients::Timestamp;

/// The current wall-clock time (before 1970 reads as 0, after 2554 as the
/// largest timestamp).
pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp::from_unix_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Fresh secret bytes for a new ledger's keys and tokens, and proofs' randomness.
pub fn entropy<const N: usize>() -> std::io::Result<[u8; N]> {
    use std::io::Read;
    let mut out = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut out)?;
    Ok(out)
}
