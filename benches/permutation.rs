//! Cost of choosing the next target, which sits on the per-query hot path.
//!
//! A sweep issues hundreds of thousands of queries a second, so producing the
//! next address must stay far below the cost of sending a packet (target: well
//! under 50 ns). Sizes are a /16, a /8, and a size just above a power of four,
//! where cycle-walking needs the most cipher calls on average.

use std::net::IpAddr;

use divan::{Bencher, black_box};
use ptrscan::targets::{Permutation, Shard, TargetSet, TargetStream};

fn main() {
    divan::main();
}

/// Positions permuted: a /16, a /8, and 2^24 + 1 (cipher domain 2^26).
const SIZES: [u64; 3] = [1 << 16, 1 << 24, (1 << 24) + 1];

#[divan::bench(args = SIZES)]
fn permutation_at(bencher: Bencher, n: u64) {
    let permutation = Permutation::new(n, 0x5EED);
    let mut position = 0u64;
    bencher.bench_local(|| {
        position += 1;
        if position == n {
            position = 0;
        }
        permutation.at(black_box(position))
    });
}

fn stream_of(prefix: &str) -> TargetStream {
    let network = ptrscan::targets::parse_target(prefix).expect("benchmark prefix is valid");
    TargetStream::new(TargetSet::from_nets([network]), 0x5EED, Shard::ALL)
        .expect("benchmark set fits in u64")
}

#[divan::bench(args = ["10.0.0.0/16", "10.0.0.0/8", "2001:db8::/104"])]
fn target_stream_next(bencher: Bencher, prefix: &str) {
    let mut stream = stream_of(prefix);
    bencher.bench_local(|| -> Option<IpAddr> {
        // Start over rather than time an exhausted stream.
        match stream.next() {
            Some(address) => Some(address),
            None => {
                stream.skip_to(0);
                stream.next()
            }
        }
    });
}

/// A realistic list: 10 000 scattered /24s, so `get` binary-searches.
#[divan::bench]
fn target_stream_next_many_ranges(bencher: Bencher) {
    let networks = (0..10_000u32).map(|i| {
        let third_and_second = i * 2;
        let address = std::net::Ipv4Addr::from(0x0A00_0000 | (third_and_second << 8));
        ipnet::IpNet::V4(ipnet::Ipv4Net::new(address, 24).expect("/24 is valid"))
    });
    let mut stream = TargetStream::new(TargetSet::from_nets(networks), 0x5EED, Shard::ALL)
        .expect("benchmark set fits in u64");
    bencher.bench_local(|| match stream.next() {
        Some(address) => Some(address),
        None => {
            stream.skip_to(0);
            stream.next()
        }
    });
}
