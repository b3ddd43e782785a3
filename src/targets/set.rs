//! The distinct addresses of a sweep, kept as merged ranges.
//!
//! Users pass overlapping, nested and repeated prefixes, and a single /8 has
//! 16.7 million addresses (an IPv6 /64 has 2^64), so addresses are never
//! listed one by one: the set is a sorted list of disjoint inclusive ranges per
//! family, and the n-th address is found by binary search over the number of
//! addresses before each range. That numbering (all IPv4 ranges in address
//! order, then all IPv6) is what the permutation shuffles.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The distinct addresses covered by a collection of networks.
///
/// Memory is proportional to the number of disjoint ranges left after merging
/// (a /8 is one range; a million scattered single addresses are at most a
/// million ranges), never to the number of addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetSet {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

impl TargetSet {
    /// Builds the set from any networks: order, overlaps, duplicates and
    /// nesting do not matter, and adjacent networks merge into one range.
    pub fn from_nets(nets: impl IntoIterator<Item = IpNet>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for net in nets {
            match net {
                IpNet::V4(net) => v4.push(Span {
                    first: u32::from(net.network()),
                    last: u32::from(net.network()) | u32::from(net.hostmask()),
                }),
                IpNet::V6(net) => v6.push(Span {
                    first: u128::from(net.network()),
                    last: u128::from(net.network()) | u128::from(net.hostmask()),
                }),
            }
        }
        Self {
            v4: Ranges::from_spans(v4),
            v6: Ranges::from_spans(v6),
        }
    }

    /// Number of distinct addresses, IPv4 and IPv6 together; this is the
    /// number to check against a `--max-addresses` limit and to show the user.
    /// Exact, except that a set holding all of IPv6 (2^128 addresses, one more
    /// than a `u128` holds) reports `u128::MAX`, which still compares as
    /// larger than any limit.
    pub fn len(&self) -> u128 {
        self.v4.len.saturating_add(self.v6.len)
    }

    /// Whether the set holds no address at all.
    pub fn is_empty(&self) -> bool {
        self.v4.spans.is_empty() && self.v6.spans.is_empty()
    }

    /// Number of distinct IPv4 addresses (at most 2^32).
    pub fn v4_len(&self) -> u64 {
        // At most 2^32, which always fits.
        u64::try_from(self.v4.len).unwrap_or(u64::MAX)
    }

    /// Number of distinct IPv6 addresses, saturating at `u128::MAX` when the
    /// set holds all 2^128 of them.
    pub fn v6_len(&self) -> u128 {
        self.v6.len
    }

    /// The address at `index` in the set's order: all IPv4 addresses
    /// ascending, then all IPv6 addresses ascending. `None` past the end.
    /// O(log ranges).
    pub fn get(&self, index: u64) -> Option<IpAddr> {
        let index = u128::from(index);
        if index < self.v4.len {
            return self
                .v4
                .get(index)
                .map(|address| IpAddr::V4(Ipv4Addr::from(address)));
        }
        self.v6
            .get(index - self.v4.len)
            .map(|address| IpAddr::V6(Ipv6Addr::from(address)))
    }

    /// Whether `address` is in the set. O(log ranges).
    pub fn contains(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(v4) => self.v4.contains(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.contains(u128::from(v6)),
        }
    }

    /// Number of disjoint ranges stored, i.e. the memory the set uses.
    pub fn range_count(&self) -> usize {
        self.v4.spans.len() + self.v6.spans.len()
    }

    /// The merged IPv4 ranges, ascending, as (first, last) inclusive.
    pub fn v4_ranges(&self) -> impl ExactSizeIterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        self.v4
            .spans
            .iter()
            .map(|span| (Ipv4Addr::from(span.first), Ipv4Addr::from(span.last)))
    }

    /// The merged IPv6 ranges, ascending, as (first, last) inclusive.
    pub fn v6_ranges(&self) -> impl ExactSizeIterator<Item = (Ipv6Addr, Ipv6Addr)> + '_ {
        self.v6
            .spans
            .iter()
            .map(|span| (Ipv6Addr::from(span.first), Ipv6Addr::from(span.last)))
    }
}

impl FromIterator<IpNet> for TargetSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(nets: I) -> Self {
        Self::from_nets(nets)
    }
}

/// An address family's integer, generic so both families share one merge and
/// lookup implementation.
trait AddressBits: Copy + Ord + Default + std::fmt::Debug {
    const MAX: Self;
    fn widen(self) -> u128;
    /// Inverse of `widen` for values known to fit.
    fn narrow(value: u128) -> Option<Self>;
}

impl AddressBits for u32 {
    const MAX: Self = u32::MAX;
    fn widen(self) -> u128 {
        u128::from(self)
    }
    fn narrow(value: u128) -> Option<Self> {
        u32::try_from(value).ok()
    }
}

impl AddressBits for u128 {
    const MAX: Self = u128::MAX;
    fn widen(self) -> u128 {
        self
    }
    fn narrow(value: u128) -> Option<Self> {
        Some(value)
    }
}

/// Inclusive, so that the range ending at the top address needs no
/// one-past-the-end value that would overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Span<T> {
    first: T,
    last: T,
}

impl<T: AddressBits> Span<T> {
    /// Saturates only for the full IPv6 space (2^128 addresses).
    fn count(&self) -> u128 {
        (self.last.widen() - self.first.widen()).saturating_add(1)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges<T> {
    spans: Vec<Span<T>>,
    /// `addresses_before[i]` = addresses in `spans[..i]`, the index of
    /// `spans[i].first`; kept beside `spans` so `get` is a binary search.
    addresses_before: Vec<u128>,
    len: u128,
}

impl<T: AddressBits> Ranges<T> {
    fn from_spans(mut spans: Vec<Span<T>>) -> Self {
        spans.sort_unstable();
        let mut merged: Vec<Span<T>> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                // Overlapping or directly adjacent: one range. The top address
                // has no successor, and everything after it is already inside.
                Some(previous)
                    if previous.last == T::MAX
                        || span.first.widen() <= previous.last.widen() + 1 =>
                {
                    previous.last = previous.last.max(span.last);
                }
                _ => merged.push(span),
            }
        }
        merged.shrink_to_fit();
        let mut addresses_before = Vec::with_capacity(merged.len());
        let mut len: u128 = 0;
        for span in &merged {
            addresses_before.push(len);
            len = len.saturating_add(span.count());
        }
        Self {
            spans: merged,
            addresses_before,
            len,
        }
    }

    fn get(&self, index: u128) -> Option<T> {
        if index >= self.len {
            return None;
        }
        let range = self
            .addresses_before
            .partition_point(|&before| before <= index)
            .checked_sub(1)?;
        let span = self.spans.get(range)?;
        let before = self.addresses_before.get(range)?;
        T::narrow(span.first.widen() + (index - before))
    }

    fn contains(&self, address: T) -> bool {
        let range = self.spans.partition_point(|span| span.last < address);
        self.spans
            .get(range)
            .is_some_and(|span| span.first <= address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(nets: &[&str]) -> TargetSet {
        TargetSet::from_nets(
            nets.iter()
                .map(|text| super::super::parse_target(text).expect("test literal is a target")),
        )
    }

    fn v4(text: &str) -> IpAddr {
        IpAddr::V4(text.parse().expect("test literal is an IPv4 address"))
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse().expect("test literal is an IPv6 address"))
    }

    #[test]
    fn an_empty_set_is_empty() {
        let empty = TargetSet::from_nets([]);
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.get(0), None);
        assert!(!empty.contains(v4("0.0.0.0")));
        assert_eq!(empty, TargetSet::default());
    }

    #[test]
    fn overlaps_duplicates_nesting_and_adjacency_merge() {
        let merged = set(&[
            "192.0.2.128/25",
            "192.0.2.0/24",
            "192.0.2.0/24",
            "192.0.2.7",
            "192.0.3.0/24", // adjacent to 192.0.2.0/24
            "198.51.100.1",
            "198.51.100.2", // adjacent single addresses
            "198.51.100.4",
        ]);
        let ranges: Vec<_> = merged.v4_ranges().collect();
        let expected: Vec<(Ipv4Addr, Ipv4Addr)> = [
            ("192.0.2.0", "192.0.3.255"),
            ("198.51.100.1", "198.51.100.2"),
            ("198.51.100.4", "198.51.100.4"),
        ]
        .iter()
        .map(|(first, last)| {
            (
                first.parse().expect("literal"),
                last.parse().expect("literal"),
            )
        })
        .collect();
        assert_eq!(ranges, expected);
        assert_eq!(merged.len(), 512 + 2 + 1);
        assert_eq!(merged.v6_len(), 0);
    }

    #[test]
    fn get_numbers_ipv4_then_ipv6_in_address_order() {
        let mixed = set(&["2001:db8::/127", "198.51.100.0/31", "192.0.2.9"]);
        let all: Vec<_> = (0..6).map(|index| mixed.get(index)).collect();
        assert_eq!(
            all,
            vec![
                Some(v4("192.0.2.9")),
                Some(v4("198.51.100.0")),
                Some(v4("198.51.100.1")),
                Some(v6("2001:db8::")),
                Some(v6("2001:db8::1")),
                None,
            ]
        );
        assert_eq!(mixed.v4_len(), 3);
        assert_eq!(mixed.v6_len(), 2);
        assert_eq!(mixed.get(u64::MAX), None);
    }

    #[test]
    fn contains_checks_range_edges() {
        let ranges = set(&["192.0.2.0/24", "2001:db8::/120"]);
        assert!(ranges.contains(v4("192.0.2.0")));
        assert!(ranges.contains(v4("192.0.2.255")));
        assert!(!ranges.contains(v4("192.0.1.255")));
        assert!(!ranges.contains(v4("192.0.3.0")));
        assert!(ranges.contains(v6("2001:db8::ff")));
        assert!(!ranges.contains(v6("2001:db8::100")));
        // The same bits in the other family are a different address.
        assert!(!ranges.contains(v6("::c000:200")));
    }

    #[test]
    fn whole_address_spaces_do_not_overflow() {
        let everything_v4 = set(&["0.0.0.0/0", "10.0.0.0/8", "255.255.255.255"]);
        assert_eq!(everything_v4.range_count(), 1);
        assert_eq!(everything_v4.len(), 1 << 32);
        assert_eq!(everything_v4.v4_len(), 1 << 32);
        assert_eq!(everything_v4.get(0), Some(v4("0.0.0.0")));
        assert_eq!(
            everything_v4.get(u64::from(u32::MAX)),
            Some(v4("255.255.255.255"))
        );
        assert_eq!(everything_v4.get(1 << 32), None);
        assert!(everything_v4.contains(v4("255.255.255.255")));

        let everything_v6 = set(&["::/0", "ffff::/16", "::/1", "1.2.3.4"]);
        assert_eq!(everything_v6.range_count(), 2);
        assert_eq!(everything_v6.v6_len(), u128::MAX, "2^128 saturates");
        assert_eq!(everything_v6.len(), u128::MAX);
        assert_eq!(everything_v6.get(0), Some(v4("1.2.3.4")));
        assert_eq!(everything_v6.get(1), Some(v6("::")));
        assert_eq!(
            everything_v6.get(u64::MAX),
            Some(v6("::ffff:ffff:ffff:fffe"))
        );
        assert!(everything_v6.contains(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));

        let top_half = set(&["8000::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]);
        assert_eq!(top_half.v6_len(), 1 << 127);
        assert_eq!(top_half.range_count(), 1);
    }

    #[test]
    fn a_slash_8_is_one_range() {
        let slash_8 = set(&["10.0.0.0/8"]);
        assert_eq!(slash_8.range_count(), 1);
        assert_eq!(slash_8.len(), 1 << 24);
        assert_eq!(slash_8.get((1 << 24) - 1), Some(v4("10.255.255.255")));
    }

    #[test]
    fn many_scattered_addresses_stay_one_range_each() {
        // Every other address: nothing is adjacent, so nothing merges.
        let scattered = TargetSet::from_nets(
            (0..100_000u32).map(|i| IpNet::from(IpAddr::V4(Ipv4Addr::from(i * 2)))),
        );
        assert_eq!(scattered.range_count(), 100_000);
        assert_eq!(scattered.get(99_999), Some(v4("0.3.13.62")));
        // Filling the gaps merges everything into one range.
        let filled = TargetSet::from_nets(
            (0..200_000u32).map(|i| IpNet::from(IpAddr::V4(Ipv4Addr::from(i)))),
        );
        assert_eq!(filled.range_count(), 1);
    }
}
