//! Lane selection, written once for both backends and free of I/O: which
//! leases of a kind a fleet member should hold (its fair share of the live
//! members), and how many jobs a submitter takes from each lane.

use std::collections::{BTreeMap, BTreeSet};

use light_clients::ChainId;

use super::{Lane, PathMax};

/// What a member does about one kind of lease (lanes, scanners, the
/// clearer) in a round: give up a surplus, or try to acquire up to its share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShareDecision<N> {
    /// Held beyond the share and idle: give these up (when members joined).
    pub release: Vec<N>,
    /// Not held: try these in order until `want` more are held (another
    /// member may hold some of them).
    pub acquire: Vec<N>,
    /// How many more leases make up this member's share.
    pub want: usize,
}

/// This member's fair share of `leases` (all of one kind): up to
/// `ceil(leases / members)` of them. `held` is what it holds now and
/// `busy` what it must not give up (a lane with jobs in flight). Each
/// member starts looking at a place of its own (from `instance`), so the
/// members do not all race for the same leases.
pub(crate) fn fair_share<N: Ord + Clone>(
    leases: &[N],
    members: usize,
    instance: &str,
    held: &BTreeSet<N>,
    busy: &BTreeSet<N>,
) -> ShareDecision<N> {
    let mut decision = ShareDecision {
        release: Vec::new(),
        acquire: Vec::new(),
        want: 0,
    };
    if leases.is_empty() {
        return decision;
    }
    let share = leases.len().div_ceil(members.max(1));
    let mine: Vec<&N> = leases.iter().filter(|n| held.contains(*n)).collect();
    if mine.len() > share {
        decision.release = mine
            .iter()
            .rev()
            .filter(|n| !busy.contains(**n))
            .take(mine.len() - share)
            .map(|n| (*n).clone())
            .collect();
        return decision;
    }
    decision.want = share - mine.len();
    if decision.want == 0 {
        return decision;
    }
    let offset = instance.bytes().fold(0usize, |a, b| {
        a.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let start = offset % leases.len();
    decision.acquire = (0..leases.len())
        .map(|i| &leases[(start + i) % leases.len()])
        .filter(|n| !held.contains(*n))
        .cloned()
        .collect();
    decision
}

/// Leases a member gave up for a while (it stepped back from a stalled
/// lane so another can try; `markers` says who, by lease), sorted for
/// `instance`: the leases shared fairly (no marker), and those it takes
/// beyond its share, standing in for the member that stepped back. The
/// ones it stepped back from itself are in neither: it does not take them
/// back until the marker is gone or another member stepped back from them.
pub(crate) fn stepped_back<N: Ord + Clone>(
    leases: &[N],
    markers: &BTreeMap<N, String>,
    instance: &str,
) -> (Vec<N>, Vec<N>) {
    let mut shared = Vec::new();
    let mut stand_in = Vec::new();
    for n in leases {
        match markers.get(n) {
            None => shared.push(n.clone()),
            Some(who) if who != instance => stand_in.push(n.clone()),
            Some(_) => {}
        }
    }
    (shared, stand_in)
}

/// How many jobs to take from each lane for `target`: up to `max` in all,
/// lanes in the order given, each lane's waiting jobs from its front, and at
/// most `path_max(source, destination)` of one path. `lanes` are the lanes
/// with how many jobs wait in each; those to other chains are skipped.
pub(crate) fn plan_take<'l>(
    lanes: impl IntoIterator<Item = (&'l Lane, usize)>,
    target: &ChainId,
    max: usize,
    path_max: &PathMax<'_>,
) -> Vec<(Lane, usize)> {
    let mut out = Vec::new();
    let mut left = max;
    let mut per_path: BTreeMap<(&ChainId, &ChainId), usize> = BTreeMap::new();
    for (lane, waiting) in lanes {
        if lane.target() != target {
            continue;
        }
        let (src, dst) = (&lane.channel.source, &lane.channel.destination);
        let taken = per_path.entry((src, dst)).or_default();
        let n = waiting
            .min(left)
            .min(path_max(src, dst).saturating_sub(*taken));
        if n > 0 {
            *taken += n;
            left -= n;
            out.push((lane.clone(), n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use light_clients::{App, ChannelId};

    use super::super::JobKind;
    use super::*;

    fn set(names: &[&'static str]) -> BTreeSet<&'static str> {
        names.iter().copied().collect()
    }

    const SEVEN: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

    #[test]
    fn a_lone_member_takes_every_lease() {
        let d = fair_share(&SEVEN, 1, "solo", &set(&[]), &set(&[]));
        assert_eq!(d.want, 7);
        assert_eq!(d.acquire.len(), 7);
        assert!(d.release.is_empty());
        // No live member counted yet (its own heartbeat not seen): still one.
        assert_eq!(fair_share(&SEVEN, 0, "solo", &set(&[]), &set(&[])).want, 7);
    }

    #[test]
    fn a_member_takes_up_to_its_share_of_what_it_does_not_hold() {
        // Seven lanes over three members: at most three each.
        let d = fair_share(&SEVEN, 3, "relayer-a", &set(&["c"]), &set(&[]));
        assert_eq!(d.want, 2);
        assert!(d.release.is_empty());
        assert_eq!(
            d.acquire.len(),
            6,
            "every lane it does not hold, to try in turn"
        );
        assert!(!d.acquire.contains(&"c"));
        // At its share: nothing to do.
        let d = fair_share(&SEVEN, 3, "relayer-a", &set(&["a", "b", "c"]), &set(&[]));
        assert_eq!((d.want, d.acquire.len(), d.release.len()), (0, 0, 0));
    }

    #[test]
    fn members_start_at_places_of_their_own() {
        let start = |instance| fair_share(&SEVEN, 3, instance, &set(&[]), &set(&[])).acquire;
        let (a, b) = (start("relayer-a"), start("relayer-b"));
        assert_ne!(a[0], b[0], "they would race for the same lease first");
        // Each is a rotation of the same leases, and stable between rounds.
        assert_eq!(a, start("relayer-a"));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, SEVEN.to_vec());
        let at = SEVEN.iter().position(|n| *n == a[0]).expect("a lease");
        assert_eq!(a, [&SEVEN[at..], &SEVEN[..at]].concat());
    }

    #[test]
    fn a_surplus_is_given_up_from_the_last_idle_leases() {
        // Held all seven alone; two members joined: the share is three.
        let all = set(&SEVEN);
        let d = fair_share(&SEVEN, 3, "relayer-a", &all, &set(&[]));
        assert_eq!(d.release, vec!["g", "f", "e", "d"]);
        assert_eq!((d.want, d.acquire.len()), (0, 0));
        // A lane with jobs in flight is kept this round.
        let d = fair_share(&SEVEN, 3, "relayer-a", &all, &set(&["g", "e"]));
        assert_eq!(d.release, vec!["f", "d", "c", "b"]);
        // Leases of other kinds held do not count toward this kind.
        let d = fair_share(&SEVEN[..2], 1, "relayer-a", &all, &set(&[]));
        assert_eq!((d.want, d.release.len()), (0, 0));
    }

    #[test]
    fn a_lane_stepped_back_from_is_taken_by_the_others_beyond_their_share_not_by_its_member() {
        let markers: BTreeMap<&str, String> = [("b", "relayer-a".to_string())].into();
        let (shared, stand_in) = stepped_back(&SEVEN, &markers, "relayer-b");
        assert_eq!(stand_in, ["b"], "another member's stall: standing in");
        assert!(!shared.contains(&"b"), "not counted toward the fair share");
        assert_eq!(shared.len(), 6);
        let (shared, stand_in) = stepped_back(&SEVEN, &markers, "relayer-a");
        assert!(
            stand_in.is_empty() && !shared.contains(&"b"),
            "not taken back by its member"
        );
        // The others at their share still take it: it is not in the pool they share.
        let d = fair_share(&shared, 2, "relayer-b", &set(&["a", "c", "d"]), &set(&[]));
        assert_eq!(d.want, 0);
        assert!(d.release.is_empty(), "a lane stood in for is not a surplus");
        // Once the marker is gone it is shared again.
        let (shared, stand_in) = stepped_back(&SEVEN, &BTreeMap::new(), "relayer-a");
        assert_eq!((shared.len(), stand_in.len()), (7, 0));
    }

    #[test]
    fn no_leases_of_a_kind_nothing_to_do() {
        let none: [&str; 0] = [];
        let d = fair_share(&none, 3, "relayer-a", &set(&["a"]), &set(&[]));
        assert_eq!((d.want, d.acquire.len(), d.release.len()), (0, 0, 0));
    }

    fn lane(src: &str, dst: &str, app: App, kind: JobKind) -> Lane {
        let id = |s: &str| ChainId::new(s).expect("chain id");
        Lane {
            channel: ChannelId {
                source: id(src),
                destination: id(dst),
                app,
            },
            kind,
        }
    }

    #[test]
    fn a_take_serves_lanes_to_the_target_in_order_within_the_limits() {
        let cosco = ChainId::new("cosco-1").expect("chain id");
        let cargo = lane("cmport-1", "cosco-1", App::Cargo, JobKind::Packet);
        let payment = lane("cmport-1", "cosco-1", App::Payment, JobKind::Packet);
        // Acks of cosco's own channel go back to cosco.
        let acks = lane("cosco-1", "gba-1", App::Cargo, JobKind::Ack);
        // Packets to gba are not cosco's.
        let elsewhere = lane("cosco-1", "gba-1", App::Cargo, JobKind::Packet);
        let mut lanes = [
            (cargo.clone(), 5),
            (payment.clone(), 5),
            (acks.clone(), 2),
            (elsewhere, 9),
        ];
        lanes.sort();
        let waiting = || lanes.iter().map(|(l, n)| (l, *n));
        let any = |_: &ChainId, _: &ChainId| usize::MAX;
        let mut plan = plan_take(waiting(), &cosco, 100, &any);
        plan.sort();
        let mut expected = vec![(cargo.clone(), 5), (payment.clone(), 5), (acks.clone(), 2)];
        expected.sort();
        assert_eq!(plan, expected);
        // At most `max` in all, lanes in order.
        let plan = plan_take(waiting(), &cosco, 7, &any);
        assert_eq!(plan.iter().map(|(_, n)| n).sum::<usize>(), 7);
        assert_eq!(plan.first().map(|(l, _)| l), lanes.first().map(|(l, _)| l));
        // At most three of the cmport -> cosco path, over both of its lanes.
        let three = |s: &ChainId, _: &ChainId| if s.as_str() == "cmport-1" { 3 } else { 1 };
        let plan = plan_take(waiting(), &cosco, 100, &three);
        let from_cmport: usize = plan
            .iter()
            .filter(|(l, _)| l.channel.source.as_str() == "cmport-1")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(from_cmport, 3);
        assert!(plan.contains(&(acks, 1)));
        // A path the relayer does not serve: nothing from it.
        let none = |_: &ChainId, _: &ChainId| 0;
        assert!(plan_take(waiting(), &cosco, 100, &none).is_empty());
    }
}
