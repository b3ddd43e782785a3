//! DNS wire format for the scanner's hot path.
//!
//! Queries are encoded by hand into a caller-owned buffer because every query
//! the scanner sends has the same shape (one question, RD=1, one OPT record)
//! and only the ID and the question change; a property test proves the bytes
//! identical to what hickory-proto emits for the same message. Responses are
//! decoded with hickory-proto, then flattened into [`Response`], the small
//! owned view the lookups need.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::RData;

/// EDNS(0) UDP payload size: the DNS Flag Day 2020 value, small enough to
/// avoid IP fragmentation on any path.
pub const EDNS_UDP_SIZE: u16 = 1232;

/// Longest query we ever build: header 12 + name 255 + type/class 4 + OPT 11.
pub const MAX_QUERY_LEN: usize = 12 + 255 + 4 + 11;

/// RFC 1035 §4.1.2: QCLASS IN.
pub const CLASS_IN: u16 = 1;

/// Record types the scanner asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QType {
    A,
    Aaaa,
    Ptr,
    Mx,
    Cname,
}

impl QType {
    pub const fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Cname => 5,
            QType::Ptr => 12,
            QType::Mx => 15,
            QType::Aaaa => 28,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            QType::A => "A",
            QType::Aaaa => "AAAA",
            QType::Ptr => "PTR",
            QType::Mx => "MX",
            QType::Cname => "CNAME",
        }
    }

    /// The address record that forward-confirms a PTR name for this address family.
    pub fn forward_for(ip: IpAddr) -> QType {
        match ip {
            IpAddr::V4(_) => QType::A,
            IpAddr::V6(_) => QType::Aaaa,
        }
    }
}

/// Errors building a query name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("domain name {name:?} is empty or has an empty label")]
    EmptyLabel { name: String },
    #[error("domain name {name:?} has a label longer than 63 bytes")]
    LabelTooLong { name: String },
    #[error("domain name {name:?} is longer than 255 bytes in wire format")]
    NameTooLong { name: String },
    #[error("domain name {name:?} has a backslash that escapes nothing or a value over 255")]
    BadEscape { name: String },
}

/// A domain name in uncompressed wire format (length-prefixed labels, root
/// label included), stored inline so queries and retries never allocate.
#[derive(Clone, Copy)]
pub struct WireName {
    len: u8,
    bytes: [u8; 255],
}

impl WireName {
    /// Builds a wire name from presentation format (`mail.example.com`, with or
    /// without the trailing dot). `\X` stands for the byte X and `\DDD` for
    /// the byte with decimal value DDD (RFC 1035 §5.1), so every name
    /// [`decode_response`] presents comes back to the same wire bytes (an RFC
    /// 2317 zone named `0/26` is presented `0\/26`).
    pub fn from_ascii(name: &str) -> Result<Self, WireError> {
        // A final dot ends the name unless a backslash escapes it.
        let trimmed = match name.strip_suffix('.') {
            Some(rest) if rest.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 0 => rest,
            _ => name,
        };
        let mut out = WireName {
            len: 0,
            bytes: [0; 255],
        };
        let text = trimmed.as_bytes();
        // Position of the current label's length byte; its bytes follow.
        let mut start = 0usize;
        let mut label = 0usize;
        let mut i = 0usize;
        while i < text.len() || (!text.is_empty() && i == text.len()) {
            let byte = match text.get(i) {
                None | Some(b'.') => {
                    if label == 0 {
                        return Err(WireError::EmptyLabel { name: name.into() });
                    }
                    out.bytes[start] = label as u8;
                    start += 1 + label;
                    label = 0;
                    i += 1;
                    continue;
                }
                Some(b'\\') => {
                    let digits = text
                        .get(i + 1..i + 4)
                        .filter(|d| d.iter().all(u8::is_ascii_digit));
                    if let Some(digits) = digits {
                        let value = digits
                            .iter()
                            .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
                        i += 4;
                        u8::try_from(value)
                            .map_err(|_| WireError::BadEscape { name: name.into() })?
                    } else {
                        let escaped = *text
                            .get(i + 1)
                            .ok_or_else(|| WireError::BadEscape { name: name.into() })?;
                        i += 2;
                        escaped
                    }
                }
                Some(&plain) => {
                    i += 1;
                    plain
                }
            };
            if label == 63 {
                return Err(WireError::LabelTooLong { name: name.into() });
            }
            // Room for this byte and the root label after it.
            if start + 1 + label + 1 >= 255 {
                return Err(WireError::NameTooLong { name: name.into() });
            }
            label += 1;
            out.bytes[start + label] = byte;
        }
        out.bytes[start] = 0;
        out.len = (start + 1) as u8;
        Ok(out)
    }

    /// The reverse-lookup name of an address: `d.c.b.a.in-addr.arpa` (RFC 1035
    /// §3.5) or the 32 reversed nibbles under `ip6.arpa` (RFC 3596 §2.5).
    pub fn reverse(ip: IpAddr) -> Self {
        let mut out = WireName {
            len: 0,
            bytes: [0; 255],
        };
        let mut pos = 0usize;
        let mut push_label = |label: &[u8], pos: &mut usize| {
            out.bytes[*pos] = label.len() as u8;
            out.bytes[*pos + 1..*pos + 1 + label.len()].copy_from_slice(label);
            *pos += 1 + label.len();
        };
        match ip {
            IpAddr::V4(v4) => {
                for octet in v4.octets().iter().rev() {
                    let mut digits = [0u8; 3];
                    let text = decimal_u8(*octet, &mut digits);
                    push_label(text, &mut pos);
                }
                push_label(b"in-addr", &mut pos);
            }
            IpAddr::V6(v6) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for byte in v6.octets().iter().rev() {
                    push_label(&[HEX[(byte & 0x0f) as usize]], &mut pos);
                    push_label(&[HEX[(byte >> 4) as usize]], &mut pos);
                }
                push_label(b"ip6", &mut pos);
            }
        }
        push_label(b"arpa", &mut pos);
        out.bytes[pos] = 0;
        out.len = (pos + 1) as u8;
        out
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Presentation format, lowercase, without the trailing dot (the form the
    /// output columns use), escaped as [`decode_response`] presents names.
    pub fn to_presentation(&self) -> String {
        let mut text = String::with_capacity(self.len as usize);
        let bytes = self.as_bytes();
        let mut pos = 0usize;
        while pos < bytes.len() {
            let len = bytes[pos] as usize;
            if len == 0 {
                break;
            }
            if !text.is_empty() {
                text.push('.');
            }
            push_label(&bytes[pos + 1..pos + 1 + len], &mut text);
            pos += 1 + len;
        }
        text
    }
}

/// One label in presentation format, lowercase: letters, digits, `-`, `_`
/// and `*` as they are, other printable ASCII as `\X`, anything else as
/// `\DDD` in decimal (RFC 1035 §5.1). [`WireName::from_ascii`] reverses it.
fn push_label(label: &[u8], text: &mut String) {
    for &byte in label {
        let byte = byte.to_ascii_lowercase();
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'*' => text.push(byte as char),
            0x21..=0x7e => {
                text.push('\\');
                text.push(byte as char);
            }
            _ => {
                let _ = write!(text, "\\{byte:03}");
            }
        }
    }
}

impl std::fmt::Debug for WireName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WireName({})", self.to_presentation())
    }
}

fn decimal_u8(value: u8, buf: &mut [u8; 3]) -> &[u8] {
    if value >= 100 {
        buf[0] = b'0' + value / 100;
        buf[1] = b'0' + (value / 10) % 10;
        buf[2] = b'0' + value % 10;
        &buf[..3]
    } else if value >= 10 {
        buf[0] = b'0' + value / 10;
        buf[1] = b'0' + value % 10;
        &buf[..2]
    } else {
        buf[0] = b'0' + value;
        &buf[..1]
    }
}

/// Writes a query into `out` and returns its length: header with RD=1,
/// one question (class IN), and an OPT pseudo-record advertising
/// [`EDNS_UDP_SIZE`] (RFC 6891 §6.1.2). `out` must hold [`MAX_QUERY_LEN`] bytes.
pub fn encode_query(id: u16, name: &WireName, qtype: QType, out: &mut [u8]) -> usize {
    let name = name.as_bytes();
    let total = 12 + name.len() + 4 + 11;
    let out = &mut out[..total];
    out[0..2].copy_from_slice(&id.to_be_bytes());
    // QR=0, OPCODE=QUERY, RD=1; everything else clear.
    out[2] = 0x01;
    out[3] = 0x00;
    out[4..6].copy_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out[6..8].copy_from_slice(&0u16.to_be_bytes()); // ANCOUNT
    out[8..10].copy_from_slice(&0u16.to_be_bytes()); // NSCOUNT
    out[10..12].copy_from_slice(&1u16.to_be_bytes()); // ARCOUNT: the OPT record
    let mut pos = 12;
    out[pos..pos + name.len()].copy_from_slice(name);
    pos += name.len();
    out[pos..pos + 2].copy_from_slice(&qtype.code().to_be_bytes());
    out[pos + 2..pos + 4].copy_from_slice(&CLASS_IN.to_be_bytes());
    pos += 4;
    // OPT: root owner, TYPE 41, CLASS = UDP payload size, TTL = ext-rcode/version/flags 0, RDLEN 0.
    out[pos] = 0;
    out[pos + 1..pos + 3].copy_from_slice(&41u16.to_be_bytes());
    out[pos + 3..pos + 5].copy_from_slice(&EDNS_UDP_SIZE.to_be_bytes());
    out[pos + 5..pos + 9].copy_from_slice(&0u32.to_be_bytes());
    out[pos + 9..pos + 11].copy_from_slice(&0u16.to_be_bytes());
    total
}

/// Response codes, including the EDNS extended range (RFC 6891 §6.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    pub const NOERROR: Rcode = Rcode(0);
    pub const FORMERR: Rcode = Rcode(1);
    pub const SERVFAIL: Rcode = Rcode(2);
    pub const NXDOMAIN: Rcode = Rcode(3);
    pub const NOTIMP: Rcode = Rcode(4);
    pub const REFUSED: Rcode = Rcode(5);

    /// The IANA mnemonic, as `dig` prints it.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        let known = match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            16 => "BADVERS",
            other => return std::borrow::Cow::Owned(format!("RCODE{other}")),
        };
        std::borrow::Cow::Borrowed(known)
    }
}

/// One answer-section record, reduced to what the lookups use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Owner name, lowercase, no trailing dot.
    pub owner: String,
    pub data: AnswerData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ptr(String),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// Any other type: kept only so answer counts stay honest.
    Other(u16),
}

/// A decoded response, reduced to what the lookups use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub id: u16,
    pub rcode: Rcode,
    pub truncated: bool,
    pub answers: Vec<Answer>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed DNS message: {0}")]
    Malformed(String),
    #[error("message is a query, not a response")]
    NotResponse,
}

/// Upper bound on answer records we look at: more is either an attack or a
/// misconfiguration, and no PTR/A/MX answer we care about needs it.
pub const MAX_ANSWERS: usize = 256;

/// Decodes a response with hickory-proto. The caller has already matched
/// ID, source and question (see `validate`).
pub fn decode_response(datagram: &[u8]) -> Result<Response, DecodeError> {
    let message = Message::from_vec(datagram).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if message.metadata.message_type != MessageType::Response {
        return Err(DecodeError::NotResponse);
    }
    let rcode = Rcode(u16::from(message.metadata.response_code));
    let mut answers = Vec::with_capacity(message.answers.len().min(MAX_ANSWERS));
    for record in message.answers.iter().take(MAX_ANSWERS) {
        let data = match &record.data {
            RData::A(a) => AnswerData::A(a.0),
            RData::AAAA(aaaa) => AnswerData::Aaaa(aaaa.0),
            RData::CNAME(cname) => AnswerData::Cname(presentation(&cname.0)),
            RData::PTR(ptr) => AnswerData::Ptr(presentation(&ptr.0)),
            RData::MX(mx) => AnswerData::Mx {
                preference: mx.preference,
                exchange: presentation(&mx.exchange),
            },
            other => AnswerData::Other(u16::from(other.record_type())),
        };
        answers.push(Answer {
            owner: presentation(&record.name),
            data,
        });
    }
    Ok(Response {
        id: message.metadata.id,
        rcode,
        truncated: message.metadata.truncation,
        answers,
    })
}

/// Lowercase presentation form without the trailing dot; the root is "".
/// Escaped like [`WireName::to_presentation`], so a name taken from an answer
/// is asked next under exactly the name the answer gave.
fn presentation(name: &hickory_proto::rr::Name) -> String {
    let mut text = String::with_capacity(name.len());
    for label in name.iter() {
        if !text.is_empty() {
            text.push('.');
        }
        push_label(label, &mut text);
    }
    text
}

/// What an answer section says about `qname` and `want`: the records of that
/// type at the end of the CNAME chain that starts at `qname`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainResult {
    pub records: Vec<AnswerData>,
    /// Owner name where the chain ended (qname when there was no CNAME).
    pub final_name: String,
    pub cname_hops: usize,
}

/// Follows CNAMEs inside one answer section (RFC 1034 §3.6.2, RFC 2317
/// classless delegation). Loops and chains longer than `max_hops` stop at
/// the last name reached.
pub fn follow_chain(qname: &str, answers: &[Answer], want: QType, max_hops: usize) -> ChainResult {
    let mut current = qname.to_ascii_lowercase();
    let mut hops = 0usize;
    loop {
        let records: Vec<AnswerData> = answers
            .iter()
            .filter(|a| a.owner == current && matches_type(&a.data, want))
            .map(|a| a.data.clone())
            .collect();
        if !records.is_empty() {
            return ChainResult {
                records,
                final_name: current,
                cname_hops: hops,
            };
        }
        let next = answers.iter().find_map(|a| match &a.data {
            AnswerData::Cname(target) if a.owner == current => Some(target.clone()),
            _ => None,
        });
        match next {
            Some(target) if hops < max_hops && target != current => {
                current = target;
                hops += 1;
            }
            _ => {
                return ChainResult {
                    records: Vec::new(),
                    final_name: current,
                    cname_hops: hops,
                };
            }
        }
    }
}

fn matches_type(data: &AnswerData, want: QType) -> bool {
    matches!(
        (data, want),
        (AnswerData::A(_), QType::A)
            | (AnswerData::Aaaa(_), QType::Aaaa)
            | (AnswerData::Ptr(_), QType::Ptr)
            | (AnswerData::Mx { .. }, QType::Mx)
            | (AnswerData::Cname(_), QType::Cname)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    use proptest::prelude::*;

    fn hickory_query(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
        let mut message = Message::new(id, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        let fqdn = Name::from_ascii(name).expect("valid test name");
        message.add_query(Query::query(fqdn, qtype));
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_UDP_SIZE);
        message.set_edns(edns);
        message.to_vec().expect("hickory encodes")
    }

    fn record_type(qtype: QType) -> RecordType {
        RecordType::from(qtype.code())
    }

    #[test]
    fn reverse_names_follow_rfc_1035_and_3596() {
        let v4 = WireName::reverse("198.51.100.20".parse().unwrap());
        assert_eq!(v4.to_presentation(), "20.100.51.198.in-addr.arpa");
        let v6 = WireName::reverse("2001:db8::1".parse().unwrap());
        assert_eq!(
            v6.to_presentation(),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn name_errors_name_the_input() {
        assert!(matches!(
            WireName::from_ascii("a..b"),
            Err(WireError::EmptyLabel { .. })
        ));
        let long_label = "x".repeat(64);
        assert!(matches!(
            WireName::from_ascii(&long_label),
            Err(WireError::LabelTooLong { .. })
        ));
        let long_name = vec!["abcdefghij"; 30].join(".");
        let err = WireName::from_ascii(&long_name).unwrap_err();
        assert!(err.to_string().contains("abcdefghij"));
    }

    #[test]
    fn escapes_round_trip() {
        // RFC 2317 §4 zone names, and bytes that have no printable form.
        let name = WireName::from_ascii("1.0\\/26.2.0.192.in-addr.arpa.").unwrap();
        assert_eq!(&name.as_bytes()[..7], b"\x011\x040/26");
        assert_eq!(name.to_presentation(), "1.0\\/26.2.0.192.in-addr.arpa");
        let odd = WireName::from_ascii("Sp\\032ace\\.dot\\\\.x").unwrap();
        assert_eq!(odd.as_bytes(), b"\x0bSp ace.dot\\\x01x\x00");
        assert_eq!(odd.to_presentation(), "sp\\032ace\\.dot\\\\.x");
        assert_eq!(
            WireName::from_ascii("a\\.").unwrap().as_bytes(),
            b"\x02a.\x00"
        );
        assert!(matches!(
            WireName::from_ascii("a\\"),
            Err(WireError::BadEscape { .. })
        ));
        assert!(matches!(
            WireName::from_ascii("a\\256"),
            Err(WireError::BadEscape { .. })
        ));
        // 255 bytes on the wire is the limit, escapes counted as one byte.
        let label = "\\120".repeat(63);
        let longest = [label.as_str(), &label, &label, &"x".repeat(61)].join(".");
        assert_eq!(
            WireName::from_ascii(&longest).unwrap().as_bytes().len(),
            255
        );
        let too_long = [label.as_str(), &label, &label, &"x".repeat(62)].join(".");
        assert!(matches!(
            WireName::from_ascii(&too_long),
            Err(WireError::NameTooLong { .. })
        ));
        assert_eq!(WireName::from_ascii("").unwrap().as_bytes(), b"\x00");
        assert_eq!(WireName::from_ascii(".").unwrap().as_bytes(), b"\x00");
    }

    #[test]
    fn extended_rcode_names() {
        assert_eq!(Rcode::NXDOMAIN.name(), "NXDOMAIN");
        assert_eq!(Rcode(23).name(), "RCODE23");
    }

    fn answer(owner: &str, data: AnswerData) -> Answer {
        Answer {
            owner: owner.into(),
            data,
        }
    }

    #[test]
    fn chain_follows_classless_delegation() {
        let answers = vec![
            answer(
                "70.113.0.203.in-addr.arpa",
                AnswerData::Cname("70.64-127.113.0.203.in-addr.arpa".into()),
            ),
            answer(
                "70.64-127.113.0.203.in-addr.arpa",
                AnswerData::Ptr("mail.example.net".into()),
            ),
        ];
        let chain = follow_chain("70.113.0.203.in-addr.arpa", &answers, QType::Ptr, 8);
        assert_eq!(
            chain.records,
            vec![AnswerData::Ptr("mail.example.net".into())]
        );
        assert_eq!(chain.cname_hops, 1);
    }

    #[test]
    fn chain_stops_on_loops_and_reports_dangling_target() {
        let looped = vec![
            answer("a.example", AnswerData::Cname("b.example".into())),
            answer("b.example", AnswerData::Cname("a.example".into())),
        ];
        let chain = follow_chain("a.example", &looped, QType::A, 8);
        assert!(chain.records.is_empty());
        assert!(chain.cname_hops <= 8);
        let dangling = vec![answer("a.example", AnswerData::Cname("c.example".into()))];
        let chain = follow_chain("A.example", &dangling, QType::A, 8);
        assert_eq!(chain.final_name, "c.example");
        assert_eq!(chain.cname_hops, 1);
    }

    fn label_strategy() -> impl Strategy<Value = String> {
        // Host-name syntax (RFC 952/1123): hickory rejects a leading hyphen.
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,18}[a-zA-Z0-9])?"
    }

    fn qtype_strategy() -> impl Strategy<Value = QType> {
        prop_oneof![
            Just(QType::A),
            Just(QType::Aaaa),
            Just(QType::Ptr),
            Just(QType::Mx),
            Just(QType::Cname)
        ]
    }

    proptest! {
        #[test]
        fn encoder_matches_hickory_for_names(
            id in any::<u16>(),
            labels in proptest::collection::vec(label_strategy(), 1..8),
            qtype in qtype_strategy(),
        ) {
            let name = labels.join(".");
            let wire = WireName::from_ascii(&name).unwrap();
            let mut ours = [0u8; MAX_QUERY_LEN];
            let len = encode_query(id, &wire, qtype, &mut ours);
            prop_assert_eq!(&ours[..len], &hickory_query(id, &name, record_type(qtype))[..]);
        }

        #[test]
        fn encoder_matches_hickory_for_reverse_names(id in any::<u16>(), bits in any::<u128>(), v6 in any::<bool>()) {
            let ip: IpAddr = if v6 { IpAddr::V6(Ipv6Addr::from(bits)) } else { IpAddr::V4(Ipv4Addr::from(bits as u32)) };
            let wire = WireName::reverse(ip);
            let mut ours = [0u8; MAX_QUERY_LEN];
            let len = encode_query(id, &wire, QType::Ptr, &mut ours);
            let theirs = hickory_query(id, &wire.to_presentation(), RecordType::PTR);
            prop_assert_eq!(&ours[..len], &theirs[..]);
            // And hickory reads back the same question.
            let decoded = Message::from_vec(&ours[..len]).unwrap();
            prop_assert_eq!(decoded.queries[0].name.to_ascii(), format!("{}.", wire.to_presentation()));
        }

        /// Whatever bytes a name in an answer has, the name the lookups ask
        /// next (from its presentation) is that name, lowercased.
        #[test]
        fn decoded_names_are_asked_as_they_were_given(
            labels in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..20), 1..6),
        ) {
            let name = Name::from_labels(labels.iter().map(|l| l.as_slice())).unwrap();
            let text = presentation(&name);
            let wire = WireName::from_ascii(&text).unwrap();
            let mut expected: Vec<u8> = Vec::new();
            for label in &labels {
                expected.push(label.len() as u8);
                expected.extend(label.iter().map(u8::to_ascii_lowercase));
            }
            expected.push(0);
            prop_assert_eq!(wire.as_bytes(), &expected[..]);
            prop_assert_eq!(wire.to_presentation(), text);
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_response(&bytes);
        }
    }
}
