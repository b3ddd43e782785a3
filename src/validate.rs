//! Every inbound datagram is untrusted until it passes these checks.
//!
//! Off-path spoofing of a UDP DNS answer needs the right source address and
//! port, the right 16-bit ID and the right question (RFC 5452 §9.1). The
//! engine finds the in-flight query by (socket, ID); this module checks the
//! rest on the raw bytes, before anything is decoded, so a forged or stray
//! datagram costs a few comparisons and is counted by reason.

use std::net::SocketAddr;

use crate::wire::{CLASS_IN, QType, WireName};

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// Shorter than a DNS header.
    TooShort,
    /// QR=0 or an opcode other than QUERY.
    NotResponse,
    /// No query in flight with this ID on this socket (forged, or a late
    /// answer to a query that already completed).
    UnknownId,
    /// The ID matched but the datagram came from another address or port.
    WrongSource,
    /// The ID and source matched but the question did not.
    WrongQuestion,
    /// Passed the checks but hickory-proto could not decode it.
    Malformed,
}

impl Reject {
    pub const ALL: [Reject; 6] = [
        Reject::TooShort,
        Reject::NotResponse,
        Reject::UnknownId,
        Reject::WrongSource,
        Reject::WrongQuestion,
        Reject::Malformed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reject::TooShort => "too_short",
            Reject::NotResponse => "not_response",
            Reject::UnknownId => "unknown_id",
            Reject::WrongSource => "wrong_source",
            Reject::WrongQuestion => "wrong_question",
            Reject::Malformed => "malformed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The transaction ID of a datagram, if it is long enough to have one.
pub fn datagram_id(datagram: &[u8]) -> Result<u16, Reject> {
    if datagram.len() < 12 {
        return Err(Reject::TooShort);
    }
    Ok(u16::from_be_bytes([datagram[0], datagram[1]]))
}

/// What the in-flight query expects its answer to look like.
pub struct Expected<'a> {
    pub resolver: SocketAddr,
    pub qname: &'a WireName,
    pub qtype: QType,
}

/// Checks source, header and question of a datagram whose ID already matched.
pub fn check_response(
    datagram: &[u8],
    from: SocketAddr,
    expected: &Expected<'_>,
) -> Result<(), Reject> {
    if datagram.len() < 12 {
        return Err(Reject::TooShort);
    }
    if !same_endpoint(from, expected.resolver) {
        return Err(Reject::WrongSource);
    }
    let flags = datagram[2];
    let is_response = flags & 0x80 != 0;
    let opcode = (flags >> 3) & 0x0f;
    if !is_response || opcode != 0 {
        return Err(Reject::NotResponse);
    }
    let qdcount = u16::from_be_bytes([datagram[4], datagram[5]]);
    if qdcount != 1 {
        return Err(Reject::WrongQuestion);
    }
    // The question follows the header uncompressed: a pointer can only refer
    // backwards, and nothing precedes it but the header.
    let name = expected.qname.as_bytes();
    let question = &datagram[12..];
    if question.len() < name.len() + 4 {
        return Err(Reject::WrongQuestion);
    }
    if !names_equal_ignore_case(&question[..name.len()], name) {
        return Err(Reject::WrongQuestion);
    }
    let rest = &question[name.len()..];
    let qtype = u16::from_be_bytes([rest[0], rest[1]]);
    let qclass = u16::from_be_bytes([rest[2], rest[3]]);
    if qtype != expected.qtype.code() || qclass != CLASS_IN {
        return Err(Reject::WrongQuestion);
    }
    Ok(())
}

/// Wire names compare label by label; only ASCII letters fold (RFC 4343).
/// Length bytes are < 64 and never letters, so folding the whole slice is safe.
fn names_equal_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// IPv4-mapped IPv6 sources (dual-stack sockets) count as their IPv4 address.
fn same_endpoint(from: SocketAddr, resolver: SocketAddr) -> bool {
    if from.port() != resolver.port() {
        return false;
    }
    canonical(from.ip()) == canonical(resolver.ip())
}

fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(std::net::IpAddr::V4)
            .unwrap_or(std::net::IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{MAX_QUERY_LEN, encode_query};

    fn response_for(id: u16, name: &WireName, qtype: QType) -> Vec<u8> {
        let mut buf = [0u8; MAX_QUERY_LEN];
        let len = encode_query(id, name, qtype, &mut buf);
        let mut bytes = buf[..len].to_vec();
        bytes[2] |= 0x80;
        bytes
    }

    fn resolver() -> SocketAddr {
        "127.0.0.1:5300".parse().unwrap()
    }

    #[test]
    fn accepts_matching_answer_with_different_case() {
        let name = WireName::from_ascii("20.100.51.198.in-addr.arpa").unwrap();
        let upper = WireName::from_ascii("20.100.51.198.IN-ADDR.ARPA").unwrap();
        let datagram = response_for(7, &upper, QType::Ptr);
        let expected = Expected {
            resolver: resolver(),
            qname: &name,
            qtype: QType::Ptr,
        };
        assert_eq!(check_response(&datagram, resolver(), &expected), Ok(()));
    }

    #[test]
    fn rejects_each_forgery_by_reason() {
        let name = WireName::from_ascii("20.100.51.198.in-addr.arpa").unwrap();
        let expected = Expected {
            resolver: resolver(),
            qname: &name,
            qtype: QType::Ptr,
        };
        let good = response_for(7, &name, QType::Ptr);
        let other_port: SocketAddr = "127.0.0.1:5301".parse().unwrap();
        assert_eq!(
            check_response(&good, other_port, &expected),
            Err(Reject::WrongSource)
        );
        let other_name = WireName::from_ascii("21.100.51.198.in-addr.arpa").unwrap();
        let wrong_q = response_for(7, &other_name, QType::Ptr);
        assert_eq!(
            check_response(&wrong_q, resolver(), &expected),
            Err(Reject::WrongQuestion)
        );
        let wrong_type = response_for(7, &name, QType::A);
        assert_eq!(
            check_response(&wrong_type, resolver(), &expected),
            Err(Reject::WrongQuestion)
        );
        let mut query = good.clone();
        query[2] &= 0x7f;
        assert_eq!(
            check_response(&query, resolver(), &expected),
            Err(Reject::NotResponse)
        );
        assert_eq!(
            check_response(&good[..11], resolver(), &expected),
            Err(Reject::TooShort)
        );
        assert_eq!(
            check_response(&good[..20], resolver(), &expected),
            Err(Reject::WrongQuestion)
        );
    }

    #[test]
    fn mapped_ipv4_source_is_the_same_endpoint() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5300".parse().unwrap();
        assert!(same_endpoint(mapped, resolver()));
    }
}
