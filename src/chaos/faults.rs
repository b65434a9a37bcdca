//! The seeded fault schedule: which fault, on which process, for how long.
//! The same seed gives the same schedule, so a failing run can be replayed.

use std::fmt;
use std::time::Duration;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The kinds of fault a run injects; every kind appears once in the first
/// seven faults of a schedule, in a seeded order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// One fleet member SIGKILLed, started again after the hold.
    KillMember,
    /// Every fleet member SIGKILLed, all started again after the hold.
    KillAllMembers,
    /// One member SIGSTOPped for longer than its lease, then SIGCONTed.
    PauseMember,
    /// Redis SIGKILLed, started again on its append-only file.
    KillRedis,
    /// One ledger SIGTERMed (a clean stop), started again.
    StopLedger,
    /// One ledger SIGKILLed, started again from its store.
    KillLedger,
    /// One member cut off from one ledger (its proxy drops and refuses
    /// connections), then healed.
    CutMember,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::KillMember,
        FaultKind::KillAllMembers,
        FaultKind::PauseMember,
        FaultKind::KillRedis,
        FaultKind::StopLedger,
        FaultKind::KillLedger,
        FaultKind::CutMember,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillMember => "kill-member",
            FaultKind::KillAllMembers => "kill-all-members",
            FaultKind::PauseMember => "pause-member",
            FaultKind::KillRedis => "kill-redis",
            FaultKind::StopLedger => "stop-ledger",
            FaultKind::KillLedger => "kill-ledger",
            FaultKind::CutMember => "cut-member",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One scheduled fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// The member (member faults) or the ledger (ledger faults).
    pub target: usize,
    /// For a cut, the ledger the member loses.
    pub ledger: usize,
    /// How long the fault lasts before it is healed.
    pub hold: Duration,
    /// Quiet time before the fault.
    pub gap: Duration,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FaultKind::KillAllMembers | FaultKind::KillRedis => write!(f, "{}", self.kind)?,
            FaultKind::StopLedger | FaultKind::KillLedger => {
                write!(f, "{} ledger {}", self.kind, self.target)?
            }
            FaultKind::CutMember => write!(
                f,
                "{} member {} from ledger {}",
                self.kind, self.target, self.ledger
            )?,
            _ => write!(f, "{} member {}", self.kind, self.target)?,
        }
        write!(f, " for {} ms", self.hold.as_millis())
    }
}

fn between(rng: &mut ChaCha8Rng, low: Duration, high: Duration) -> Duration {
    let span = (high - low).as_millis() as u64;
    low + Duration::from_millis(rng.next_u64() % (span + 1))
}

/// `count` faults for `members` members and `ledgers` ledgers; a pause
/// outlasts `lease` by 1 to 3 seconds.
pub fn schedule(
    seed: u64,
    count: usize,
    members: usize,
    ledgers: usize,
    lease: Duration,
) -> Vec<Fault> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut kinds = Vec::new();
    while kinds.len() < count {
        // Each round of seven holds every kind once, shuffled (Fisher–Yates).
        let mut round = FaultKind::ALL;
        for i in (1..round.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            round.swap(i, j);
        }
        kinds.extend(round);
    }
    kinds.truncate(count);
    kinds
        .into_iter()
        .map(|kind| {
            let s = Duration::from_secs;
            let hold = match kind {
                FaultKind::PauseMember => between(&mut rng, lease + s(1), lease + s(3)),
                FaultKind::CutMember => between(&mut rng, s(2), s(6)),
                _ => between(&mut rng, Duration::from_millis(500), s(4)),
            };
            let on_ledger = matches!(kind, FaultKind::StopLedger | FaultKind::KillLedger);
            Fault {
                kind,
                target: (rng.next_u64() % if on_ledger { ledgers } else { members } as u64)
                    as usize,
                ledger: (rng.next_u64() % ledgers as u64) as usize,
                hold,
                gap: between(&mut rng, Duration::from_millis(500), s(3)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_and_every_kind_in_each_round_of_seven() {
        let lease = Duration::from_secs(3);
        let a = schedule(7, 14, 3, 3, lease);
        assert_eq!(a, schedule(7, 14, 3, 3, lease));
        assert_ne!(a, schedule(8, 14, 3, 3, lease));
        for round in a.chunks(7) {
            let mut kinds: Vec<FaultKind> = round.iter().map(|f| f.kind).collect();
            kinds.sort();
            assert_eq!(kinds, FaultKind::ALL.to_vec());
        }
        for f in &a {
            assert!(f.target < 3 && f.ledger < 3, "{f}");
            if f.kind == FaultKind::PauseMember {
                assert!(f.hold > lease, "a pause outlasts the lease: {f}");
            }
        }
    }
}
