//! Checks of the module against brute force, and of its memory use.
//!
//! The unit tests beside each part pin specific cases; these compare the whole
//! pipeline (nets → set → permutation → shards → stream) with the obvious
//! expand-everything answer on random small inputs, where expanding is cheap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use super::{Permutation, Shard, TargetSet, TargetStream};

/// Counts allocations made by the current thread, so a test can assert that
/// iterating a stream allocates nothing, without being disturbed by tests
/// running on other threads. Otherwise it is the system allocator.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS_ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a const-initialised thread-local without a destructor, so
// touching it neither allocates nor re-enters the allocator.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS_ON_THIS_THREAD.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System.alloc` with this layout.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations_on_this_thread() -> u64 {
    ALLOCATIONS_ON_THIS_THREAD.with(Cell::get)
}

#[test]
fn a_slash_8_stream_runs_in_constant_memory() {
    let slash_8: IpNet = "10.0.0.0/8".parse().expect("literal");
    let set = TargetSet::from_nets([slash_8, slash_8, "10.1.0.0/16".parse().expect("literal")]);
    assert_eq!(set.range_count(), 1, "a /8 is one range, never a list");
    let mut stream = TargetStream::new(set, 1234, Shard::ALL).expect("2^24 fits");
    assert_eq!(stream.total(), 1 << 24);
    let mut seen = vec![false; 1 << 24];

    let before = allocations_on_this_thread();
    for _ in 0..1_000_000 {
        let Some(IpAddr::V4(address)) = stream.next() else {
            panic!("the stream of a /8 ended early or left IPv4");
        };
        let [first_octet, ..] = address.octets();
        assert_eq!(first_octet, 10);
        let index = (u32::from(address) & 0x00FF_FFFF) as usize;
        assert!(!seen[index], "{address} yielded twice");
        seen[index] = true;
    }
    let after = allocations_on_this_thread();

    assert_eq!(after - before, 0, "iterating allocated");
    assert_eq!(stream.set().range_count(), 1);
    assert_eq!(stream.yielded(), 1_000_000);
}

/// Every address of `nets`, the slow way.
fn expand(nets: &[IpNet]) -> BTreeSet<IpAddr> {
    let mut addresses = BTreeSet::new();
    for net in nets {
        match net {
            IpNet::V4(net) => {
                let first = u32::from(net.network());
                let last = first | u32::from(net.hostmask());
                addresses.extend((first..=last).map(|bits| IpAddr::V4(Ipv4Addr::from(bits))));
            }
            IpNet::V6(net) => {
                let first = u128::from(net.network());
                let last = first | u128::from(net.hostmask());
                addresses.extend((first..=last).map(|bits| IpAddr::V6(Ipv6Addr::from(bits))));
            }
        }
    }
    addresses
}

/// Small prefixes (/20–/32, /116–/128) crowded into a few small regions so
/// that they overlap, nest and touch often, including at the very top and
/// bottom of each address space where off-by-one and overflow bugs live.
fn small_prefix() -> impl Strategy<Value = IpNet> {
    let v4 = (
        prop_oneof![Just(0u32), Just(0x0A00_0000), Just(0xFFFF_0000)],
        0u32..(1 << 16),
        20u8..=32,
    )
        .prop_map(|(region, offset, prefix_len)| {
            let network = Ipv4Addr::from(region | offset);
            IpNet::V4(
                Ipv4Net::new(network, prefix_len)
                    .expect("generated prefix length is in range")
                    .trunc(),
            )
        });
    let v6 = (
        prop_oneof![
            Just(0u128),
            Just(0x2001_0db8_u128 << 96),
            Just(u128::MAX << 16)
        ],
        0u128..(1 << 16),
        116u8..=128,
    )
        .prop_map(|(region, offset, prefix_len)| {
            let network = Ipv6Addr::from(region | offset);
            IpNet::V6(
                Ipv6Net::new(network, prefix_len)
                    .expect("generated prefix length is in range")
                    .trunc(),
            )
        });
    prop_oneof![v4, v6]
}

/// A target list with some entries repeated, as users' lists have.
fn target_list() -> impl Strategy<Value = Vec<IpNet>> {
    (prop::collection::vec(small_prefix(), 0..8), 0usize..4).prop_map(|(mut nets, repeats)| {
        let duplicates: Vec<IpNet> = nets.iter().copied().take(repeats).collect();
        nets.extend(duplicates);
        nets
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn permutation_is_a_bijection(n in 0u64..=5000, seed in any::<u64>()) {
        let permutation = Permutation::new(n, seed);
        let mut seen = vec![false; n as usize];
        for position in 0..n {
            let index = permutation.at(position);
            prop_assert!(index < n, "at({position}) = {index} is out of range");
            prop_assert!(!seen[index as usize], "{index} reached twice");
            seen[index as usize] = true;
        }
    }

    #[test]
    fn stream_yields_the_union_each_address_once(nets in target_list(), seed in any::<u64>()) {
        let expected = expand(&nets);
        let stream = TargetStream::new(TargetSet::from_nets(nets.clone()), seed, Shard::ALL)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(stream.total(), expected.len() as u64);
        let yielded: Vec<IpAddr> = stream.collect();
        prop_assert_eq!(yielded.len(), expected.len());
        let distinct: BTreeSet<IpAddr> = yielded.into_iter().collect();
        prop_assert_eq!(distinct, expected);
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_set(
        nets in target_list(),
        seed in any::<u64>(),
        count in 1u64..8,
    ) {
        let expected = expand(&nets);
        let set = std::sync::Arc::new(TargetSet::from_nets(nets));
        let mut union = BTreeSet::new();
        let mut yielded_in_all = 0u64;
        for index in 0..count {
            let shard = Shard::new(index, count)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let stream = TargetStream::with_shared_set(set.clone(), seed, shard)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let total = stream.total();
            let mut yielded_by_shard = 0u64;
            for address in stream {
                prop_assert!(union.insert(address), "{address} is in two shards (or twice in {shard})");
                yielded_by_shard += 1;
            }
            prop_assert_eq!(yielded_by_shard, total, "shard {}", shard);
            yielded_in_all += yielded_by_shard;
        }
        prop_assert_eq!(yielded_in_all, expected.len() as u64);
        prop_assert_eq!(union, expected);
    }

    #[test]
    fn get_and_contains_agree_with_brute_force(nets in target_list()) {
        let expected: Vec<IpAddr> = expand(&nets).into_iter().collect();
        let set = TargetSet::from_nets(nets);
        prop_assert_eq!(set.len(), expected.len() as u128);
        prop_assert_eq!(set.is_empty(), expected.is_empty());
        let v4_count = expected.iter().filter(|address| address.is_ipv4()).count();
        prop_assert_eq!(set.v4_len(), v4_count as u64);
        prop_assert_eq!(set.v6_len(), (expected.len() - v4_count) as u128);
        for (index, &address) in expected.iter().enumerate() {
            prop_assert_eq!(set.get(index as u64), Some(address), "index {}", index);
            prop_assert!(set.contains(address));
        }
        prop_assert_eq!(set.get(expected.len() as u64), None);
        // The neighbours of every range edge are in the set exactly when
        // brute force says so.
        let lookup: BTreeSet<IpAddr> = expected.iter().copied().collect();
        for (first, last) in set.v4_ranges() {
            for bits in [u32::from(first).wrapping_sub(1), u32::from(last).wrapping_add(1)] {
                let neighbour = IpAddr::V4(Ipv4Addr::from(bits));
                prop_assert_eq!(set.contains(neighbour), lookup.contains(&neighbour));
            }
        }
        for (first, last) in set.v6_ranges() {
            for bits in [u128::from(first).wrapping_sub(1), u128::from(last).wrapping_add(1)] {
                let neighbour = IpAddr::V6(Ipv6Addr::from(bits));
                prop_assert_eq!(set.contains(neighbour), lookup.contains(&neighbour));
            }
        }
        // Merged ranges are sorted, disjoint and not even adjacent.
        let v4_ranges: Vec<_> = set.v4_ranges().map(|(f, l)| (u32::from(f), u32::from(l))).collect();
        for pair in v4_ranges.windows(2) {
            prop_assert!(u64::from(pair[0].1) + 1 < u64::from(pair[1].0), "{:?}", pair);
        }
        let v6_ranges: Vec<_> = set.v6_ranges().map(|(f, l)| (u128::from(f), u128::from(l))).collect();
        for pair in v6_ranges.windows(2) {
            prop_assert!(pair[0].1 < pair[1].0 && pair[1].0 - pair[0].1 > 1, "{:?}", pair);
        }
    }

    #[test]
    fn read_targets_round_trips_what_display_writes(nets in target_list()) {
        let list: String = nets.iter().map(|net| format!("{net}  # comment\n")).collect();
        let read = super::read_targets(list.as_bytes(), "generated.txt")
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(read, nets);
    }

    #[test]
    fn parse_target_never_panics(input in "\\PC{0,40}") {
        let _ = super::parse_target(&input);
        let _ = input.parse::<Shard>();
    }

    #[test]
    fn parse_target_never_panics_on_address_like_text(input in "[0-9a-fA-F:./%\\[\\] ]{0,45}") {
        if let Ok(net) = super::parse_target(&input) {
            // Whatever is accepted is a network that reads back as itself.
            prop_assert_eq!(super::parse_target(&net.to_string()).ok(), Some(net));
        }
    }
}
