//! Parser hardening: real responses (encoded by hickory, and captured from
//! the in-process server) mutated every way a hostile or broken peer could —
//! flipped bytes, truncation, splices, inflated counts, compression-pointer
//! loops, over-long names — must never panic the validate + decode path, and
//! whatever decodes must stay within the bounds the scanner relies on.
//!
//! The hand-written decoder (`wire::decode_response`) is held to the
//! reference (`wire::decode_response_reference`, hickory-proto): on responses
//! hickory generates they give exactly the same result; on mutated ones,
//! whatever the reference accepts the hand decoder accepts with the same
//! result. The hand decoder may accept more: it frames the RDATA of types the
//! scanner does not read (SOA, TXT, OPT options, …) by RDLENGTH instead of
//! parsing it. (`fuzz/` runs the same path under libFuzzer on nightly.)

#[path = "support/hickory.rs"]
mod hickory;
mod support;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::OnceLock;
use std::time::Duration;

use hickory::{name, record};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use proptest::prelude::*;
use ptrscan::lookup::MAX_CNAME_HOPS;
use ptrscan::validate::{Expected, check_response};
use ptrscan::wire::{
    Answer, AnswerData, DecodeError, DecodedResponse, MAX_ANSWERS, MAX_QUERY_LEN, QType, Rcode,
    WireName, decode_response, decode_response_reference, encode_query, follow_chain,
};
use ptrscan::zoneserver::{ZoneServer, ZoneText};

/// A real response and the question it answers.
#[derive(Debug, Clone)]
struct Sample {
    bytes: Vec<u8>,
    qname: String,
    qtype: QType,
}

fn hickory_response(
    qname: &str,
    qtype: QType,
    rcode: ResponseCode,
    answers: Vec<Record>,
) -> Sample {
    Sample {
        bytes: hickory::response(
            0x1234,
            qname,
            RecordType::from(qtype.code()),
            rcode,
            answers,
        ),
        qname: qname.trim_end_matches('.').to_owned(),
        qtype,
    }
}

/// Responses hickory encodes (with name compression) for the shapes the
/// scanner meets: PTR, several PTRs, A, AAAA, CNAME chains, NXDOMAIN, MX.
fn encoded_samples() -> Vec<Sample> {
    let reverse = "10.100.51.198.in-addr.arpa.";
    let ptr = |target: &str| RData::PTR(PTR(name(target)));
    vec![
        hickory_response(
            reverse,
            QType::Ptr,
            ResponseCode::NoError,
            vec![record(reverse, ptr("mail.example.com."))],
        ),
        hickory_response(
            reverse,
            QType::Ptr,
            ResponseCode::NoError,
            vec![
                record(reverse, ptr("mail2.example.com.")),
                record(reverse, ptr("mx.example.org.")),
            ],
        ),
        hickory_response(
            "mail.example.com.",
            QType::A,
            ResponseCode::NoError,
            (1..=3)
                .map(|i| {
                    record(
                        "mail.example.com.",
                        RData::A(A(Ipv4Addr::new(198, 51, 100, i))),
                    )
                })
                .collect(),
        ),
        hickory_response(
            "mail6.example.com.",
            QType::Aaaa,
            ResponseCode::NoError,
            vec![record(
                "mail6.example.com.",
                RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0x25, 0, 0, 0, 0, 1))),
            )],
        ),
        // RFC 2317 classless delegation, both records in one answer.
        hickory_response(
            "70.113.0.203.in-addr.arpa.",
            QType::Ptr,
            ResponseCode::NoError,
            vec![
                record(
                    "70.113.0.203.in-addr.arpa.",
                    RData::CNAME(CNAME(name("70.64-79.113.0.203.in-addr.arpa."))),
                ),
                record("70.64-79.113.0.203.in-addr.arpa.", ptr("mail.example.net.")),
            ],
        ),
        // A forward CNAME chain.
        hickory_response(
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
                    RData::CNAME(CNAME(name("mx.example.org."))),
                ),
                record(
                    "mx.example.org.",
                    RData::A(A(Ipv4Addr::new(198, 51, 100, 18))),
                ),
            ],
        ),
        hickory_response(
            "99.100.51.198.in-addr.arpa.",
            QType::Ptr,
            ResponseCode::NXDomain,
            vec![],
        ),
        hickory_response(
            "example.com.",
            QType::Mx,
            ResponseCode::NoError,
            vec![record(
                "example.com.",
                RData::MX(MX::new(10, name("mail.example.com."))),
            )],
        ),
    ]
}

/// Responses captured from the in-process server (hickory-server) for the
/// sample world: what a real authoritative server sends the scanner.
fn captured_samples() -> Vec<Sample> {
    let server = ZoneServer::start(ptrscan::demo::SAMPLE_ZONES).expect("sample world");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let questions = [
        ("10.100.51.198.in-addr.arpa", QType::Ptr),
        ("16.100.51.198.in-addr.arpa", QType::Ptr),
        ("70.113.0.203.in-addr.arpa", QType::Ptr),
        ("99.100.51.198.in-addr.arpa", QType::Ptr),
        ("relay.example.org", QType::A),
        ("mail6.example.com", QType::Aaaa),
        (
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.2.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            QType::Ptr,
        ),
    ];
    let mut samples = Vec::new();
    for (id, (qname, qtype)) in questions.into_iter().enumerate() {
        let wire = WireName::from_ascii(qname).expect("question");
        let mut query = [0u8; MAX_QUERY_LEN];
        let len = encode_query(id as u16, &wire, qtype, &mut query);
        let mut answer = [0u8; 4096];
        // Loopback UDP does not lose datagrams, but be patient with a slow start.
        let received = (0..3).find_map(|_| {
            socket.send_to(&query[..len], server.addr()).ok()?;
            socket.recv(&mut answer).ok()
        });
        let n = received.unwrap_or_else(|| panic!("no answer for {qname}"));
        samples.push(Sample {
            bytes: answer[..n].to_vec(),
            qname: qname.to_owned(),
            qtype,
        });
    }
    samples
}

fn samples() -> &'static [Sample] {
    static SAMPLES: OnceLock<Vec<Sample>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let mut all = encoded_samples();
        all.extend(captured_samples());
        all
    })
}

const RESOLVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 53);

/// A decoded name must come back to at most 255 wire bytes, labels of at
/// most 63: it is what the lookups ask next.
fn assert_name_bounded(name: &str) -> Result<(), TestCaseError> {
    match WireName::from_ascii(name) {
        Ok(wire) => {
            prop_assert!(wire.as_bytes().len() <= 255);
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(format!(
            "decoded name {name:?} is not a name: {e}"
        ))),
    }
}

fn decode(bytes: &[u8]) -> Result<DecodedResponse, DecodeError> {
    let mut out = DecodedResponse::default();
    decode_response(bytes, &mut out).map(|()| out)
}

fn decode_reference(bytes: &[u8]) -> Result<DecodedResponse, DecodeError> {
    let mut out = DecodedResponse::default();
    decode_response_reference(bytes, &mut out).map(|()| out)
}

/// The hand decoder against the reference on one datagram: whatever the
/// reference accepts, the hand decoder accepts with the same result, also
/// when it decodes into a buffer that still holds an earlier response.
fn check_against_reference(bytes: &[u8]) -> Result<Option<DecodedResponse>, TestCaseError> {
    let ours = decode(bytes);
    let mut reused = decode(&samples()[1].bytes).expect("a real response decodes");
    let reused_result = decode_response(bytes, &mut reused);
    match (&ours, &reused_result) {
        (Ok(fresh), Ok(())) => prop_assert_eq!(fresh, &reused),
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        _ => return Err(TestCaseError::fail("a reused buffer changed the result")),
    }
    match (ours, decode_reference(bytes)) {
        (Ok(ours), Ok(reference)) => {
            prop_assert_eq!(&ours, &reference);
            Ok(Some(ours))
        }
        (Err(error), Ok(reference)) => Err(TestCaseError::fail(format!(
            "the hand decoder refused ({error}) what the reference read: {reference:?}"
        ))),
        (Ok(ours), Err(_)) => Ok(Some(ours)),
        (Err(_), Err(_)) => Ok(None),
    }
}

/// The whole validate + decode + chain path on one datagram, with the bounds
/// the scanner relies on.
fn check_datagram(bytes: &[u8], sample: &Sample) -> Result<(), TestCaseError> {
    let qname = WireName::from_ascii(&sample.qname).expect("sample question");
    let expected = Expected {
        resolver: RESOLVER,
        qname: &qname,
        qtype: sample.qtype,
    };
    let _ = check_response(bytes, RESOLVER, &expected);
    let Some(response) = check_against_reference(bytes)? else {
        return Ok(());
    };
    let answers = response.answers().len();
    prop_assert!(answers <= MAX_ANSWERS);
    // Each record takes at least 11 bytes: root owner, type, class, TTL, RDLENGTH.
    prop_assert!(
        answers <= bytes.len().saturating_sub(12) / 11,
        "{} answers from {} bytes",
        answers,
        bytes.len()
    );
    assert_name_bounded(response.question())?;
    for answer in response.answers() {
        assert_name_bounded(answer.owner)?;
        let data_name = match answer.data {
            AnswerData::Cname(n) | AnswerData::Ptr(n) => Some(n),
            AnswerData::Mx { exchange, .. } => Some(exchange),
            _ => None,
        };
        if let Some(n) = data_name {
            assert_name_bounded(n)?;
        }
    }
    for want in [QType::Ptr, QType::A, QType::Aaaa] {
        let chain = follow_chain(&sample.qname, &response, want, MAX_CNAME_HOPS);
        prop_assert!(chain.cname_hops <= MAX_CNAME_HOPS);
        prop_assert!(chain.records().count() <= answers);
        prop_assert_eq!(chain.has_records(), chain.records().count() > 0);
        assert_name_bounded(chain.final_name)?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (position taken modulo the length).
    Flip {
        at: usize,
        xor: u8,
    },
    Truncate {
        at: usize,
    },
    /// Copy a range of another sample over or into this one.
    Splice {
        from: usize,
        start: usize,
        len: usize,
        at: usize,
        overwrite: bool,
    },
    /// Set QDCOUNT, ANCOUNT, NSCOUNT or ARCOUNT.
    Count {
        which: usize,
        value: u16,
    },
    /// A compression pointer at a name position: to itself, forward, or a
    /// pair pointing at each other.
    Pointer {
        at: usize,
        kind: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (
            any::<usize>(),
            any::<usize>(),
            1..64usize,
            any::<usize>(),
            any::<bool>()
        )
            .prop_map(|(from, start, len, at, overwrite)| Mutation::Splice {
                from,
                start,
                len,
                at,
                overwrite
            }),
        (
            0..4usize,
            prop_oneof![
                Just(0u16),
                Just(1),
                Just(2),
                Just(255),
                Just(257),
                any::<u16>()
            ]
        )
            .prop_map(|(which, value)| Mutation::Count { which, value }),
        (any::<usize>(), 0..3u8).prop_map(|(at, kind)| Mutation::Pointer { at, kind }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..32)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

/// Offsets where a name starts: the question, and every compression pointer
/// (they sit where an answer's owner or data name begins or ends).
fn name_positions(bytes: &[u8]) -> Vec<usize> {
    let mut positions = vec![12];
    positions.extend(
        (13..bytes.len().saturating_sub(1))
            .filter(|&i| bytes[i] & 0xc0 == 0xc0 && bytes[i] != 0xff),
    );
    positions
}

fn pointer_to(offset: usize) -> [u8; 2] {
    let offset = (offset & 0x3fff) as u16;
    (0xc000 | offset).to_be_bytes()
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, all: &[Sample]) {
    let len = bytes.len();
    match *mutation {
        Mutation::Flip { at, xor } => {
            if len > 0 {
                bytes[at % len] ^= xor;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
        Mutation::Splice {
            from,
            start,
            len: take,
            at,
            overwrite,
        } => {
            let source = &all[from % all.len()].bytes;
            let start = start % source.len().max(1);
            let piece = &source[start..(start + take).min(source.len())];
            let at = at % (len + 1);
            if overwrite {
                let end = (at + piece.len()).min(len);
                bytes.splice(at..end, piece.iter().copied());
            } else {
                bytes.splice(at..at, piece.iter().copied());
            }
        }
        Mutation::Count { which, value } => {
            let at = 4 + 2 * which;
            if len >= at + 2 {
                bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
            }
        }
        Mutation::Pointer { at, kind } => {
            let positions = name_positions(bytes);
            let p = positions[at % positions.len()];
            if p + 2 > len {
                return;
            }
            match kind {
                // To itself.
                0 => bytes[p..p + 2].copy_from_slice(&pointer_to(p)),
                // Forward, past itself.
                1 => bytes[p..p + 2].copy_from_slice(&pointer_to(p + 2)),
                // Two pointers at each other.
                _ => {
                    let q = positions[(at / 7 + 1) % positions.len()];
                    if q + 2 <= len && q != p {
                        bytes[p..p + 2].copy_from_slice(&pointer_to(q));
                        bytes[q..q + 2].copy_from_slice(&pointer_to(p));
                    }
                }
            }
        }
        Mutation::Insert {
            at,
            bytes: ref extra,
        } => {
            let at = at % (len + 1);
            bytes.splice(at..at, extra.iter().copied());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_responses_never_panic_and_stay_bounded(
        pick in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let all = samples();
        let sample = &all[pick % all.len()];
        let mut bytes = sample.bytes.clone();
        for m in &mutations {
            apply(&mut bytes, m, all);
        }
        check_datagram(&bytes, sample)?;
    }

    /// Names built label by label: anything over 255 bytes on the wire must
    /// be refused, whether spelled out or assembled through pointers.
    #[test]
    fn over_long_names_are_refused(
        labels in proptest::collection::vec(1..=63usize, 1..12),
        split in any::<usize>(),
    ) {
        let wire: usize = labels.iter().map(|l| l + 1).sum::<usize>() + 1;
        let split = split % (labels.len() + 1);
        let bytes = message_with_ptr_name(&labels, split);
        match decode(&bytes) {
            Ok(response) => {
                prop_assert!(wire <= 255, "a {wire}-byte name was accepted");
                prop_assert_eq!(response.answers().len(), 1);
            }
            Err(_) => prop_assert!(wire > 255, "a {}-byte name was refused", wire),
        }
        let sample = &samples()[0];
        check_datagram(&bytes, sample)?;
    }

    /// Any CNAME graph in one answer: the walk ends within the bound, and
    /// what it returns is owned by where it stopped.
    #[test]
    fn cname_walk_is_bounded_on_any_graph(
        edges in proptest::collection::vec((0..12usize, 0..12usize), 0..40),
        leaves in proptest::collection::vec(0..12usize, 0..4),
        start in 0..12usize,
    ) {
        let n = |i: usize| format!("n{i}.example");
        let mut response = DecodedResponse::default();
        response.reset(1, Rcode::NOERROR, false, &n(start));
        for &(a, b) in &edges {
            response.push_answer(Answer { owner: &n(a), data: AnswerData::Cname(&n(b)) });
        }
        for &i in &leaves {
            let host = format!("host{i}.example");
            response.push_answer(Answer { owner: &n(i), data: AnswerData::Ptr(&host) });
        }
        let chain = follow_chain(response.question(), &response, QType::Ptr, MAX_CNAME_HOPS);
        prop_assert!(chain.cname_hops <= MAX_CNAME_HOPS);
        for record in chain.records() {
            prop_assert!(response.answers().any(|a| a.owner == chain.final_name && a.data == record));
        }
    }
}

/// A PTR response whose data is a name of `labels` (their lengths): the
/// first `split` labels spelled in the RDATA, the rest reached through a
/// compression pointer to the question, which spells them (a pointer must
/// point backwards). The answer's owner is a pointer to the question too.
fn message_with_ptr_name(labels: &[usize], split: usize) -> Vec<u8> {
    let encode = |labels: &[usize], offset: usize, out: &mut Vec<u8>| {
        for (i, &l) in labels.iter().enumerate() {
            out.push(l as u8);
            out.extend(std::iter::repeat_n(b'a' + ((offset + i) % 26) as u8, l));
        }
    };
    let (head, tail) = labels.split_at(split);
    // Header: QR=1 AA=1, one question, one answer.
    let mut bytes = vec![0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
    encode(tail, split, &mut bytes);
    bytes.push(0);
    bytes.extend_from_slice(&[0, 12, 0, 1]);
    bytes.extend_from_slice(&pointer_to(12));
    // TYPE PTR, CLASS IN, TTL 300, RDLENGTH (filled below).
    bytes.extend_from_slice(&[0, 12, 0, 1, 0, 0, 1, 44, 0, 0]);
    let rdata_start = bytes.len();
    encode(head, 0, &mut bytes);
    if tail.is_empty() {
        bytes.push(0);
    } else {
        bytes.extend_from_slice(&pointer_to(12));
    }
    let rdlength = (bytes.len() - rdata_start) as u16;
    bytes[rdata_start - 2..rdata_start].copy_from_slice(&rdlength.to_be_bytes());
    bytes
}

/// The chain bound end to end: CNAME loops and long chains served by a real
/// server, in one zone (one answer) or across zones (one follow-up per hop),
/// end as `cname_chain` rows after a bounded number of questions; a short
/// chain still confirms.
#[test]
fn cname_chains_are_bounded_end_to_end() {
    const HEADER: &str = "$TTL 300\n@ IN SOA ns.chain.test. h.chain.test. 1 3600 600 86400 300\n@ IN NS ns.chain.test.\n";
    let mut zones: Vec<(String, String)> = Vec::new();
    let reverse = format!(
        "{HEADER}1 CNAME loop-a.chain.test.\n2 CNAME c0.chain.test.\n3 CNAME h0.z0.test.\n4 CNAME s0.z0.test.\n5 PTR fwdloop.chain.test.\n"
    );
    zones.push(("99.18.198.in-addr.arpa".into(), reverse));
    let mut chain = format!(
        "{HEADER}loop-a CNAME loop-b\nloop-b CNAME loop-a\nfwdloop CNAME fwdloop2\nfwdloop2 CNAME fwdloop\nmail A 198.18.99.4\nhost A 198.18.99.2\n"
    );
    for i in 0..20 {
        chain.push_str(&format!("c{i} CNAME c{}\n", i + 1));
    }
    chain.push_str("c20 PTR host.chain.test.\n");
    zones.push(("chain.test".into(), chain));
    for z in 0..12 {
        let mut text = format!("{HEADER}h{z} CNAME h{}.z{}.test.\n", z + 1, z + 1);
        if z < 2 {
            text.push_str(&format!("s{z} CNAME s{}.z{}.test.\n", z + 1, z + 1));
        }
        if z == 2 {
            text.push_str("s2 PTR mail.chain.test.\n");
        }
        zones.push((format!("z{z}.test"), text));
    }
    let texts: Vec<ZoneText<'_>> = zones
        .iter()
        .map(|(origin, text)| ZoneText { origin, text })
        .collect();
    let server = ZoneServer::start(&texts).expect("chain world starts");
    let targets = ptrscan::targets::TargetSet::from_nets(["198.18.99.0/29".parse().expect("net")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let started = std::time::Instant::now();
    let result = support::scan_with(vec![server.addr()], targets, 1, dir.path());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(result.row_count, 8);
    let row = |ip: &str| {
        result
            .rows
            .get(ip)
            .unwrap_or_else(|| panic!("no row for {ip}"))
    };
    for ip in ["198.18.99.1", "198.18.99.2", "198.18.99.3"] {
        let r = row(ip);
        assert_eq!(
            (r.fcrdns.as_str(), r.error.as_str()),
            ("error", "cname_chain"),
            "{ip}: {r:?}"
        );
        // The first question and at most one follow-up per allowed hop,
        // each sent at most twice (one retry; a loaded machine may cause a
        // spurious one).
        assert!(
            r.attempts as usize <= (MAX_CNAME_HOPS + 1) * 2,
            "{ip}: {r:?}"
        );
    }
    let short = row("198.18.99.4");
    assert_eq!(
        (short.ptr.as_str(), short.fcrdns.as_str()),
        ("mail.chain.test", "confirmed")
    );
    // Three hops across zones: three follow-ups (more only if a loaded
    // machine made a retransmission necessary).
    assert!(short.attempts >= 4, "{short:?}");
    let forward_loop = row("198.18.99.5");
    assert_eq!(
        (forward_loop.fcrdns.as_str(), forward_loop.error.as_str()),
        ("error", "cname_chain"),
        "{forward_loop:?}"
    );
}

/// The corpus is what it claims (real answers that pass the checks), and
/// the crudest mutations of each are refused outright.
#[test]
fn real_responses_pass_and_their_crude_mutations_are_refused() {
    let all = samples();
    assert_eq!(all.len(), 15);
    for sample in all {
        let qname = WireName::from_ascii(&sample.qname).expect("question");
        let expected = Expected {
            resolver: RESOLVER,
            qname: &qname,
            qtype: sample.qtype,
        };
        assert_eq!(
            check_response(&sample.bytes, RESOLVER, &expected),
            Ok(()),
            "{sample:?}"
        );
        let response = decode(&sample.bytes).expect("real response decodes");
        assert_eq!(Ok(&response), decode_reference(&sample.bytes).as_ref());
        assert_eq!(response.question(), sample.qname);
        let nxdomain = response.rcode() == Rcode::NXDOMAIN;
        assert_eq!(response.answers().len() == 0, nxdomain, "{sample:?}");
        // Every strict prefix is refused: the OPT record is always last.
        for cut in 0..sample.bytes.len() {
            assert!(
                decode(&sample.bytes[..cut]).is_err(),
                "{cut} bytes of {sample:?}"
            );
        }
        // A count the bytes cannot hold.
        for which in 0..4 {
            let mut inflated = sample.bytes.clone();
            inflated[4 + 2 * which..6 + 2 * which].copy_from_slice(&u16::MAX.to_be_bytes());
            assert!(decode(&inflated).is_err(), "count {which} of {sample:?}");
        }
        // The question's name pointing at itself.
        let mut looped = sample.bytes.clone();
        looped[12..14].copy_from_slice(&pointer_to(12));
        assert!(decode(&looped).is_err());
    }
}

/// More answers than the scanner looks at: decoded, but capped.
#[test]
fn answer_count_is_capped() {
    let owner = "mail.example.com.";
    let answers: Vec<Record> = (0..300u32)
        .map(|i| record(owner, RData::A(A(Ipv4Addr::from(0xc633_6400 + i)))))
        .collect();
    let sample = hickory_response(owner, QType::A, ResponseCode::NoError, answers);
    let response = decode(&sample.bytes).expect("decodes");
    assert_eq!(response.answers().len(), MAX_ANSWERS);
    assert_eq!(Ok(response), decode_reference(&sample.bytes));
}

// ---------------------------------------------------------------------------
// The hand decoder against the reference on responses hickory generates
// ---------------------------------------------------------------------------

/// One label: host-name style, upper case, or any bytes at all (dots,
/// backslashes, spaces, non-ASCII: everything presentation must escape).
fn any_label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?".prop_map(String::into_bytes),
        "[A-Za-z0-9_*]{1,8}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 1..12),
        Just(vec![b'x'; 63]),
    ]
}

/// Four names sharing suffixes, so the encoder compresses them into one
/// another (RFC 1035 §4.1.4).
fn name_pool() -> impl Strategy<Value = Vec<Name>> {
    (
        proptest::collection::vec(any_label(), 1..4),
        proptest::collection::vec(proptest::collection::vec(any_label(), 0..3), 4),
    )
        .prop_map(|(suffix, prefixes)| {
            prefixes
                .iter()
                .map(|prefix| {
                    let labels = prefix.iter().chain(&suffix).map(Vec::as_slice);
                    // Over 255 bytes: fall back to the suffix alone.
                    Name::from_labels(labels)
                        .or_else(|_| Name::from_labels(suffix.iter().map(Vec::as_slice)))
                        .map(|mut name| {
                            name.set_fqdn(true);
                            name
                        })
                        .unwrap_or_else(|_| Name::root())
                })
                .collect()
        })
}

#[derive(Debug, Clone)]
enum RecordSpec {
    A(u32),
    Aaaa(u128),
    Cname(usize),
    Ptr(usize),
    Mx(u16, usize),
    Ns(usize),
    Txt(String),
}

fn record_spec() -> impl Strategy<Value = (usize, RecordSpec)> {
    let data = prop_oneof![
        any::<u32>().prop_map(RecordSpec::A),
        any::<u128>().prop_map(RecordSpec::Aaaa),
        (0..4usize).prop_map(RecordSpec::Cname),
        (0..4usize).prop_map(RecordSpec::Ptr),
        (any::<u16>(), 0..4usize).prop_map(|(p, n)| RecordSpec::Mx(p, n)),
        (0..4usize).prop_map(RecordSpec::Ns),
        "[ -~]{0,20}".prop_map(RecordSpec::Txt),
    ];
    (0..4usize, data)
}

fn build_record(names: &[Name], (owner, spec): &(usize, RecordSpec)) -> Record {
    let data = match spec {
        RecordSpec::A(v4) => RData::A(A(Ipv4Addr::from(*v4))),
        RecordSpec::Aaaa(v6) => RData::AAAA(AAAA(Ipv6Addr::from(*v6))),
        RecordSpec::Cname(n) => RData::CNAME(CNAME(names[*n].clone())),
        RecordSpec::Ptr(n) => RData::PTR(PTR(names[*n].clone())),
        RecordSpec::Mx(preference, n) => RData::MX(MX::new(*preference, names[*n].clone())),
        RecordSpec::Ns(n) => RData::NS(NS(names[*n].clone())),
        RecordSpec::Txt(text) => RData::TXT(TXT::new(vec![text.clone()])),
    };
    Record::from_rdata(names[*owner].clone(), 300, data)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Whatever hickory encodes — compressed names with any bytes, CNAME
    /// chains, every record type the scanner reads and some it does not,
    /// extended rcodes with and without EDNS, TC — both decoders read the
    /// same response.
    #[test]
    fn hand_decoder_matches_the_reference_on_generated_responses(
        names in name_pool(),
        id in any::<u16>(),
        rcode in prop_oneof![Just(0u16), Just(2), Just(3), Just(5), Just(16), 0..4096u16],
        truncated in any::<bool>(),
        edns in any::<bool>(),
        qtype in prop_oneof![Just(RecordType::PTR), Just(RecordType::A), Just(RecordType::AAAA), Just(RecordType::MX)],
        answers in proptest::collection::vec(record_spec(), 0..10),
        authority_soa in any::<bool>(),
        glue in proptest::collection::vec(record_spec(), 0..3),
    ) {
        let mut message = Message::new(id, MessageType::Response, OpCode::Query);
        message.metadata.response_code = <ResponseCode as From<u16>>::from(rcode);
        message.metadata.truncation = truncated;
        message.add_query(Query::query(names[0].clone(), qtype));
        message.add_answers(answers.iter().map(|r| build_record(&names, r)));
        if authority_soa {
            let soa = SOA::new(names[1].clone(), names[2].clone(), 1, 3600, 600, 86400, 300);
            message.add_authority(Record::from_rdata(names[3].clone(), 300, RData::SOA(soa)));
        }
        message.add_additionals(glue.iter().map(|r| build_record(&names, r)));
        if edns {
            let mut edns = Edns::new();
            edns.set_max_payload(1232);
            message.set_edns(edns);
        }
        let bytes = message.to_vec().expect("hickory encodes");
        let reference = decode_reference(&bytes).expect("hickory reads what it wrote");
        let ours = decode(&bytes);
        prop_assert_eq!(ours.as_ref(), Ok(&reference));
        prop_assert_eq!(reference.answers().len(), answers.len());
        // And a truncated copy: refused by both, or read the same by both.
        for cut in [bytes.len() / 2, bytes.len().saturating_sub(1)] {
            check_against_reference(&bytes[..cut])?;
        }
    }
}

/// The deliberate difference: RDATA of a type the scanner does not read is
/// framed, not parsed. A SOA whose RDATA is garbage (but fills its RDLENGTH)
/// in the authority section is refused by hickory and read by us.
#[test]
fn rdata_of_unread_types_is_only_framed() {
    let sample = &samples()[6];
    assert_eq!(
        decode(&sample.bytes).map(|r| r.rcode()),
        Ok(Rcode::NXDOMAIN)
    );
    // The SOA is the authority record; its RDATA starts with the primary name.
    let mut garbled = sample.bytes.clone();
    let soa_type = garbled
        .windows(4)
        .position(|w| w == [0, 6, 0, 1])
        .expect("the SOA record");
    let rdata = soa_type + 10;
    garbled[rdata] = 0x80; // a reserved label type
    assert!(decode_reference(&garbled).is_err());
    let ours = decode(&garbled).expect("framed by RDLENGTH");
    assert_eq!(ours.rcode(), Rcode::NXDOMAIN);
}
