//! DNS responses encoded by hickory-proto, the reference the hand-written
//! decoder is held to: what a resolver sends (name compression, an OPT
//! record with a 1232-byte payload, the SOA in the authority section of a
//! negative answer). Shared by the tests and the wire benchmarks, included
//! with `#[path]` because benches cannot `mod support`.

#![allow(dead_code)]

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test name")
}

/// A record with a 300 s TTL.
pub fn record(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

/// The encoded response with `id` to `qname`/`qtype`.
pub fn response(
    id: u16,
    qname: &str,
    qtype: RecordType,
    rcode: ResponseCode,
    answers: Vec<Record>,
) -> Vec<u8> {
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.metadata.recursion_available = true;
    message.metadata.authoritative = true;
    message.metadata.response_code = rcode;
    message.add_query(Query::query(name(qname), qtype));
    message.add_answers(answers);
    if rcode == ResponseCode::NXDomain {
        let soa = SOA::new(
            name("ns.example.com."),
            name("hostmaster.example.com."),
            1,
            3600,
            600,
            86400,
            300,
        );
        message.add_authority(record("example.com.", RData::SOA(soa)));
    }
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.set_edns(edns);
    message.to_vec().expect("hickory encodes")
}
