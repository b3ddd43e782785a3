//! Untrusted datagram → the checks every datagram meets (`validate`), then
//! `wire::decode_response` and the CNAME-chain walk the lookups do, with the
//! bounds the scanner relies on asserted.
//!
//! Run (nightly): `cargo +nightly fuzz run decode_response`.

#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use ptrscan::validate::{Expected, check_response, datagram_id};
use ptrscan::wire::{MAX_ANSWERS, QType, WireName, decode_response, follow_chain};

const MAX_HOPS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let resolver: SocketAddr = ([127, 0, 0, 1], 53).into();
    let qname = WireName::reverse([198, 51, 100, 10].into());
    for qtype in [QType::Ptr, QType::A] {
        let expected = Expected {
            resolver,
            qname: &qname,
            qtype,
        };
        let _ = check_response(data, resolver, &expected);
    }
    let _ = datagram_id(data);

    let Ok(response) = decode_response(data) else {
        return;
    };
    // Every record takes at least 11 bytes (root owner, type, class, TTL, RDLENGTH).
    assert!(response.answers.len() <= MAX_ANSWERS);
    assert!(response.answers.len() <= data.len().saturating_sub(12) / 11);
    let mut starts: Vec<&str> = response.answers.iter().map(|a| a.owner.as_str()).collect();
    starts.push("10.100.51.198.in-addr.arpa");
    starts.truncate(8);
    for start in starts {
        for want in [QType::Ptr, QType::A, QType::Aaaa] {
            let chain = follow_chain(start, &response.answers, want, MAX_HOPS);
            assert!(chain.cname_hops <= MAX_HOPS);
            assert!(chain.records.len() <= response.answers.len());
            // What a lookup would ask next must be a name we can encode, or be refused.
            let _ = WireName::from_ascii(&chain.final_name);
        }
    }
});
