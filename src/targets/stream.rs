//! The addresses one scanner sends queries to, in the order it sends them.
//!
//! Combines the set (which address has which number), the permutation (which
//! number comes at which position) and the shard (which positions are ours)
//! into a lazy iterator whose only state is a counter, so a sweep of 2^32
//! addresses needs no more memory than a sweep of ten, and an interrupted
//! sweep resumes by setting that counter.

use std::iter::FusedIterator;
use std::net::IpAddr;
use std::sync::Arc;

use super::{Permutation, Shard, TargetError, TargetSet};

/// Every address of a [`TargetSet`] that belongs to one [`Shard`], each once,
/// in the seeded pseudo-random order of a [`Permutation`].
///
/// The n-th address yielded is a pure function of (set, seed, shard, n), so
/// a scan that recorded how many addresses it had yielded can resume with
/// [`skip_to`](Self::skip_to).
#[derive(Debug, Clone)]
pub struct TargetStream {
    set: Arc<TargetSet>,
    permutation: Permutation,
    shard: Shard,
    total: u64,
    yielded: u64,
}

impl TargetStream {
    /// The stream of `shard`'s part of `set`, ordered by `seed`.
    ///
    /// Fails if the set has more than `u64::MAX` addresses (an IPv6 /64 alone
    /// has 2^64) or if `shard` was built by hand with a zero count or an index
    /// past the count.
    pub fn new(set: TargetSet, seed: u64, shard: Shard) -> Result<Self, TargetError> {
        Self::with_shared_set(Arc::new(set), seed, shard)
    }

    /// Like [`new`](Self::new), for callers that keep the set too (e.g. to
    /// check that responses belong to it) without a copy.
    pub fn with_shared_set(
        set: Arc<TargetSet>,
        seed: u64,
        shard: Shard,
    ) -> Result<Self, TargetError> {
        shard.validate()?;
        let len = set.len();
        let n = u64::try_from(len).map_err(|_| TargetError::TooManyAddresses { count: len })?;
        Ok(Self {
            set,
            permutation: Permutation::new(n, seed),
            total: shard.positions_in(n),
            shard,
            yielded: 0,
        })
    }

    /// How many addresses this shard yields in all, from the start (exact).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many addresses have been yielded so far (the resume point).
    pub fn yielded(&self) -> u64 {
        self.yielded
    }

    /// How many addresses are still to come.
    pub fn remaining(&self) -> u64 {
        self.total - self.yielded
    }

    /// Continues as if `yielded` addresses had already been taken from a fresh
    /// stream: the next address is the one a fresh stream would yield at that
    /// point. O(1). Values past [`total`](Self::total) end the stream;
    /// smaller values than the current count rewind.
    pub fn skip_to(&mut self, yielded: u64) {
        self.yielded = yielded.min(self.total);
    }

    /// The shard this stream covers.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// The full target set (all shards).
    pub fn set(&self) -> &Arc<TargetSet> {
        &self.set
    }
}

impl TargetStream {
    /// The address a fresh stream yields as its `yielded`-th (0-based), or
    /// `None` past the end. O(1): how a resume re-asks single targets.
    #[inline]
    pub fn at(&self, yielded: u64) -> Option<IpAddr> {
        if yielded >= self.total {
            return None;
        }
        // yielded < total means this position is below n, so no overflow.
        let position = self.shard.index + yielded * self.shard.count;
        self.set.get(self.permutation.at(position))
    }
}

impl Iterator for TargetStream {
    type Item = IpAddr;

    #[inline]
    fn next(&mut self) -> Option<IpAddr> {
        let address = self.at(self.yielded)?;
        self.yielded += 1;
        Some(address)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.remaining();
        (
            usize::try_from(remaining).unwrap_or(usize::MAX),
            usize::try_from(remaining).ok(),
        )
    }

    fn nth(&mut self, skipped: usize) -> Option<IpAddr> {
        let skipped = u64::try_from(skipped).unwrap_or(u64::MAX);
        self.skip_to(self.yielded.saturating_add(skipped));
        self.next()
    }
}

impl FusedIterator for TargetStream {}

/// Addresses with their stream positions (what checkpoints record). A
/// resumed scan first re-asks the positions its checkpoint lists as
/// missing, then continues the stream where it had got to.
#[derive(Debug, Clone)]
pub struct Positioned {
    stream: TargetStream,
    redo: std::vec::IntoIter<u64>,
}

impl Positioned {
    pub fn new(stream: TargetStream) -> Self {
        Self::resume(stream, 0, Vec::new())
    }

    /// Positions in `redo`, then everything from `from` on.
    pub fn resume(mut stream: TargetStream, from: u64, redo: Vec<u64>) -> Self {
        stream.skip_to(from);
        Positioned {
            stream,
            redo: redo.into_iter(),
        }
    }
}

impl Iterator for Positioned {
    type Item = (u64, IpAddr);

    fn next(&mut self) -> Option<(u64, IpAddr)> {
        for position in self.redo.by_ref() {
            if let Some(address) = self.stream.at(position) {
                return Some((position, address));
            }
        }
        let position = self.stream.yielded();
        self.stream.next().map(|address| (position, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipnet::IpNet;

    fn set(nets: &[&str]) -> TargetSet {
        TargetSet::from_nets(
            nets.iter()
                .map(|text| text.parse::<IpNet>().expect("test literal is a network")),
        )
    }

    #[test]
    fn positioned_resume_gives_each_remaining_address_once() {
        let stream = TargetStream::new(set(&["192.0.2.0/24"]), 9, Shard::ALL).expect("small set");
        let full: Vec<(u64, IpAddr)> = Positioned::new(stream.clone()).collect();
        assert_eq!(full.len(), 256);
        assert!(full.iter().enumerate().all(|(i, (p, _))| *p == i as u64));
        let resumed: Vec<(u64, IpAddr)> =
            Positioned::resume(stream, 200, vec![3, 150, 199]).collect();
        let mut want = vec![full[3], full[150], full[199]];
        want.extend_from_slice(&full[200..]);
        assert_eq!(resumed, want);
    }

    #[test]
    fn yields_every_address_once() {
        let stream = TargetStream::new(set(&["192.0.2.0/24", "2001:db8::/120"]), 5, Shard::ALL)
            .expect("small set");
        assert_eq!(stream.total(), 512);
        let all: Vec<IpAddr> = stream.collect();
        let distinct: std::collections::BTreeSet<IpAddr> = all.iter().copied().collect();
        assert_eq!(all.len(), 512);
        assert_eq!(distinct.len(), 512);
        let expected = set(&["192.0.2.0/24", "2001:db8::/120"]);
        assert!(all.iter().all(|&address| expected.contains(address)));
    }

    #[test]
    fn skip_to_resumes_where_a_fresh_stream_would_be() {
        let make = || {
            TargetStream::new(
                set(&["10.0.0.0/20", "2001:db8::/124"]),
                77,
                Shard::new(1, 3)?,
            )
        };
        let full: Vec<IpAddr> = make().expect("valid").collect();
        let mut resumed = make().expect("valid");
        resumed.skip_to(1000);
        assert_eq!(resumed.yielded(), 1000);
        assert_eq!(resumed.remaining(), resumed.total() - 1000);
        let tail: Vec<IpAddr> = resumed.by_ref().collect();
        assert_eq!(tail, full[1000..]);
        assert_eq!(resumed.next(), None, "stays exhausted");
        resumed.skip_to(u64::MAX);
        assert_eq!(resumed.next(), None);
        resumed.skip_to(0);
        assert_eq!(resumed.next(), full.first().copied(), "rewinds");

        let mut nth = make().expect("valid");
        assert_eq!(nth.nth(10), full.get(10).copied());
        assert_eq!(nth.size_hint(), (full.len() - 11, Some(full.len() - 11)));
    }

    #[test]
    fn an_empty_set_yields_nothing() {
        let mut stream = TargetStream::new(TargetSet::default(), 1, Shard::ALL).expect("empty");
        assert_eq!(stream.total(), 0);
        assert_eq!(stream.next(), None);
        // More shards than addresses: the late shards are empty, not errors.
        let mut late = TargetStream::new(set(&["192.0.2.1/32"]), 1, Shard::new(3, 4).expect("3<4"))
            .expect("one address");
        assert_eq!(late.total(), 0);
        assert_eq!(late.next(), None);
    }

    #[test]
    fn refuses_sets_beyond_u64_and_hand_built_bad_shards() {
        let slash_64 = set(&["2001:db8::/64"]);
        assert_eq!(slash_64.len(), 1 << 64);
        let too_big = TargetStream::new(slash_64, 0, Shard::ALL);
        let message = too_big.as_ref().err().map(ToString::to_string);
        assert!(matches!(
            too_big,
            Err(TargetError::TooManyAddresses { count }) if count == 1 << 64
        ));
        assert_eq!(
            message.as_deref(),
            Some(
                "the targets cover 18446744073709551616 addresses, more than the 2^64-1 one sweep \
                 can enumerate: scan smaller prefixes (an IPv6 /64 alone is already 2^64 addresses)"
            )
        );
        let message = TargetStream::new(set(&["::/0"]), 0, Shard::ALL)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("cover 2^128 or more addresses"),
            "{message}"
        );

        // One /65 is 2^63 addresses, two are 2^64: one too many for u64.
        let just_fits = set(&["2001:db8::/65", "10.0.0.0/8"]);
        let stream = TargetStream::new(just_fits, 0, Shard::ALL).expect("fits in u64");
        assert_eq!(stream.total(), (1 << 63) + (1 << 24));
        assert!(
            TargetStream::new(set(&["2001:db8::/65", "2001:db9::/65"]), 0, Shard::ALL).is_err()
        );

        for (index, count) in [(0, 0), (3, 3), (9, 2)] {
            let bad = TargetStream::new(set(&["192.0.2.0/24"]), 0, Shard { index, count });
            assert!(
                matches!(bad, Err(TargetError::InvalidShard { .. })),
                "shard {index}/{count}"
            );
        }
    }

    #[test]
    fn a_u64_max_stream_reaches_its_last_addresses() {
        // A /65, a /66, …, a /128, each in its own /64: 2^63 + … + 2^0
        // = 2^64 - 1 addresses, the largest stream there is.
        let largest = TargetSet::from_nets((65..=128u8).map(|prefix_len| {
            let network =
                std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, u16::from(prefix_len), 0, 0, 0, 0);
            IpNet::V6(ipnet::Ipv6Net::new(network, prefix_len).expect("prefix length <= 128"))
        }));
        assert_eq!(largest.len(), u128::from(u64::MAX));
        let mut stream = TargetStream::new(largest.clone(), 9, Shard::ALL).expect("fits in u64");
        assert_eq!(stream.total(), u64::MAX);
        let head: Vec<IpAddr> = stream.by_ref().take(3).collect();
        stream.skip_to(u64::MAX - 3);
        let tail: Vec<IpAddr> = stream.by_ref().collect();
        assert_eq!(tail.len(), 3);
        assert_eq!(stream.next(), None);
        assert!(
            head.iter()
                .chain(&tail)
                .all(|&address| largest.contains(address))
        );

        let mut last_shard = TargetStream::new(
            largest,
            9,
            Shard::new(u64::MAX - 1, u64::MAX).expect("valid"),
        )
        .expect("fits in u64");
        assert_eq!(last_shard.total(), 1);
        assert!(last_shard.next().is_some());
        assert_eq!(last_shard.next(), None);
    }
}
