//! Cost of the per-query wire work: encoding a question, and validating and
//! decoding its answer — by hand (the scan path) and with hickory-proto (the
//! reference the tests hold the hand decoder to), for comparison. Every
//! benchmark reports allocations per operation (divan's `AllocProfiler`):
//! the hand-written path must show none.
//!
//! Answers are what a resolver sends for the scanner's usual questions,
//! encoded by hickory with name compression and an OPT record: a PTR answer,
//! an A answer behind a CNAME, and NXDOMAIN with its SOA.

#[path = "../tests/support/hickory.rs"]
mod hickory;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use divan::{Bencher, black_box};
use hickory::{name, record};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, CNAME, PTR};
use hickory_proto::rr::{RData, RecordType};
use ptrscan::lookup::MAX_CNAME_HOPS;
use ptrscan::validate::{Expected, check_response};
use ptrscan::wire::{
    AnswerData, DecodedResponse, MAX_QUERY_LEN, QType, WireName, decode_response,
    decode_response_reference, encode_query, follow_chain,
};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const RESOLVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53);

#[divan::bench(args = ["ptr_v4", "ptr_v6", "a"])]
fn encode(bencher: Bencher, question: &str) {
    let (name, qtype) = match question {
        "ptr_v4" => (WireName::reverse([198, 51, 100, 20].into()), QType::Ptr),
        "ptr_v6" => (
            WireName::reverse("2001:db8::25".parse().expect("address")),
            QType::Ptr,
        ),
        _ => (
            WireName::from_ascii("mail.example.com").expect("name"),
            QType::A,
        ),
    };
    let mut buf = [0u8; MAX_QUERY_LEN];
    bencher.bench_local(|| encode_query(black_box(0x1234), black_box(&name), qtype, &mut buf));
}

/// A realistic answer and the question it answers.
struct Sample {
    bytes: Vec<u8>,
    qname: WireName,
    qtype: QType,
}

fn sample(kind: &str) -> Sample {
    let (qname, qtype, rcode, answers) = match kind {
        "ptr" => (
            "20.100.51.198.in-addr.arpa.",
            QType::Ptr,
            ResponseCode::NoError,
            vec![record(
                "20.100.51.198.in-addr.arpa.",
                RData::PTR(PTR(name("mail.example.com."))),
            )],
        ),
        "a_via_cname" => (
            "relay.example.org.",
            QType::A,
            ResponseCode::NoError,
            vec![
                record(
                    "relay.example.org.",
                    RData::CNAME(CNAME(name("out.example.org."))),
                ),
                record(
                    "out.example.org.",
                    RData::A(A(Ipv4Addr::new(198, 51, 100, 18))),
                ),
            ],
        ),
        _ => (
            "99.100.51.198.in-addr.arpa.",
            QType::Ptr,
            ResponseCode::NXDomain,
            vec![],
        ),
    };
    Sample {
        bytes: hickory::response(
            0x1234,
            qname,
            RecordType::from(qtype.code()),
            rcode,
            answers,
        ),
        qname: WireName::from_ascii(qname).expect("question"),
        qtype,
    }
}

const ANSWERS: [&str; 3] = ["ptr", "a_via_cname", "nxdomain"];

/// What the engine and a lookup do with every answer, by hand: the source,
/// ID and question checks, decoding into the reused buffer, the CNAME walk
/// and reading the records.
#[divan::bench(args = ANSWERS)]
fn validate_decode_walk(bencher: Bencher, kind: &str) {
    let sample = sample(kind);
    let mut response = DecodedResponse::with_typical_capacity();
    bencher.bench_local(|| {
        let expected = Expected {
            resolver: RESOLVER,
            qname: &sample.qname,
            qtype: sample.qtype,
        };
        let bytes = black_box(sample.bytes.as_slice());
        check_response(bytes, RESOLVER, &expected).expect("matches");
        decode_response(bytes, &mut response).expect("decodes");
        let chain = follow_chain(response.question(), &response, sample.qtype, MAX_CNAME_HOPS);
        chain.records().fold(0usize, |sum, data| match data {
            AnswerData::Ptr(name) => sum + name.len(),
            _ => sum + 1,
        })
    });
}

/// Decoding alone, by hand, into the reused buffer.
#[divan::bench(args = ANSWERS)]
fn decode_hand(bencher: Bencher, kind: &str) {
    let sample = sample(kind);
    let mut response = DecodedResponse::with_typical_capacity();
    bencher.bench_local(|| decode_response(black_box(&sample.bytes), &mut response).is_ok());
}

/// Decoding alone with the reference (hickory-proto `Message::from_vec`,
/// flattened into the same buffer): what the scan path did before.
#[divan::bench(args = ANSWERS)]
fn decode_reference(bencher: Bencher, kind: &str) {
    let sample = sample(kind);
    let mut response = DecodedResponse::with_typical_capacity();
    bencher
        .bench_local(|| decode_response_reference(black_box(&sample.bytes), &mut response).is_ok());
}
