//! Untrusted datagram → the checks every datagram meets (`validate`), then
//! `wire::decode_response` (the hand decoder, into a reused buffer) and the
//! CNAME-chain walk the lookups do, with the bounds the scanner relies on
//! asserted; whatever the reference decoder (hickory-proto) reads, the hand
//! decoder must read the same.
//!
//! Run (nightly): `cargo +nightly fuzz run decode_response`.

#![no_main]

use std::cell::RefCell;
use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use ptrscan::validate::{Expected, check_response, datagram_id};
use ptrscan::wire::{
    DecodedResponse, MAX_ANSWERS, QType, WireName, decode_response, decode_response_reference,
    follow_chain,
};

const MAX_HOPS: usize = 8;

thread_local! {
    /// Reused across inputs, as the engine reuses its buffer.
    static RESPONSE: RefCell<DecodedResponse> = RefCell::new(DecodedResponse::default());
}

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

    RESPONSE.with_borrow_mut(|response| {
        let decoded = decode_response(data, response);
        let mut reference = DecodedResponse::default();
        if decode_response_reference(data, &mut reference).is_ok() {
            assert!(decoded.is_ok(), "the hand decoder refused what hickory read");
            assert_eq!(*response, reference);
        }
        if decoded.is_err() {
            return;
        }
        let answers = response.answers().len();
        // Every record takes at least 11 bytes (root owner, type, class, TTL, RDLENGTH).
        assert!(answers <= MAX_ANSWERS);
        assert!(answers <= data.len().saturating_sub(12) / 11);
        let mut starts: Vec<&str> = response.answers().map(|a| a.owner).collect();
        starts.push("10.100.51.198.in-addr.arpa");
        starts.push(response.question());
        starts.truncate(8);
        for start in starts {
            for want in [QType::Ptr, QType::A, QType::Aaaa] {
                let chain = follow_chain(start, response, want, MAX_HOPS);
                assert!(chain.cname_hops <= MAX_HOPS);
                assert!(chain.records().count() <= answers);
                // What a lookup would ask next must be a name we can encode, or be refused.
                let _ = WireName::from_ascii(chain.final_name);
            }
        }
    });
});
