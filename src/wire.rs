//! DNS wire format for the scanner's hot path.
//!
//! Queries are encoded by hand into a caller-owned buffer because every query
//! the scanner sends has the same shape (one question, RD=1, one OPT record)
//! and only the ID and the question change; a property test proves the bytes
//! identical to what hickory-proto emits for the same message. Responses are
//! decoded by hand too, into a [`DecodedResponse`] the caller owns and reuses
//! (names as ranges of one reused `String`), so the steady state allocates
//! nothing per datagram; hickory-proto stays as the reference decoder
//! ([`decode_response_reference`]) that the tests hold the hand decoder to.

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
    // Nearly every label needs no escape: lower-case it through a table
    // into a stack buffer and append it whole, instead of testing and
    // pushing a `char` at a time (this runs for every name of every answer).
    let mut lowered = [0u8; 64];
    let Some(slot) = lowered.get_mut(..label.len()) else {
        push_label_escaped(label, text);
        return;
    };
    let mut plain = true;
    for (out, &byte) in slot.iter_mut().zip(label) {
        let mapped = PLAIN_LOWER[usize::from(byte)];
        plain &= mapped != 0;
        *out = mapped;
    }
    match std::str::from_utf8(slot) {
        Ok(lower) if plain => text.push_str(lower),
        _ => push_label_escaped(label, text),
    }
}

/// Each byte's lowercase form if it appears in a label unescaped
/// (letters, digits, `-`, `_`, `*`), else 0.
const PLAIN_LOWER: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0usize;
    while byte < 256 {
        let lower = (byte as u8).to_ascii_lowercase();
        if matches!(lower, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'*') {
            table[byte] = lower;
        }
        byte += 1;
    }
    table
};

/// [`push_label`] a byte at a time, escaping what needs it.
fn push_label_escaped(label: &[u8], text: &mut String) {
    for &byte in label {
        let byte = byte.to_ascii_lowercase();
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'*' => text.push(byte as char),
            0x21..=0x7e => {
                text.push('\\');
                text.push(byte as char);
            }
            _ => {
                text.push('\\');
                text.push(char::from(b'0' + byte / 100));
                text.push(char::from(b'0' + byte / 10 % 10));
                text.push(char::from(b'0' + byte % 10));
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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

/// One answer-section record as the lookups see it; names borrow from the
/// [`DecodedResponse`] they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer<'r> {
    /// Owner name, lowercase presentation form, no trailing dot.
    pub owner: &'r str,
    pub data: AnswerData<'r>,
}

/// The record data the lookups read; names in lowercase presentation form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerData<'r> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(&'r str),
    Ptr(&'r str),
    Mx {
        preference: u16,
        exchange: &'r str,
    },
    /// Any other type: kept only so answer counts stay honest.
    Other(u16),
}

/// Byte range of a name in [`DecodedResponse::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct NameSpan {
    start: u32,
    end: u32,
}

/// [`AnswerData`] with names as spans of the response's name arena.
#[derive(Debug, Clone, Copy)]
enum StoredData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(NameSpan),
    Ptr(NameSpan),
    Mx(u16, NameSpan),
    Other(u16),
}

#[derive(Debug, Clone, Copy)]
struct StoredAnswer {
    owner: NameSpan,
    data: StoredData,
}

/// A decoded response, reduced to what the lookups use, in storage the
/// caller keeps and reuses: [`decode_response`] clears it and refills it, so
/// once its buffers have grown to the largest response seen, decoding
/// allocates nothing. Names live once in one `String` (presentation form,
/// lowercase, escaped as [`WireName::to_presentation`] escapes them); answers
/// refer to them by range.
#[derive(Clone, Default)]
pub struct DecodedResponse {
    id: u16,
    rcode: Rcode,
    truncated: bool,
    question: NameSpan,
    answers: Vec<StoredAnswer>,
    names: String,
}

impl DecodedResponse {
    /// Room for a typical response up front (a few answers, a few names), so
    /// a scan's first answers do not grow the buffers one by one.
    pub fn with_typical_capacity() -> Self {
        DecodedResponse {
            answers: Vec::with_capacity(16),
            names: String::with_capacity(1024),
            ..DecodedResponse::default()
        }
    }

    /// Empties the response and sets its header fields and question name
    /// (for the reference decoder and for responses built in tests).
    pub fn reset(&mut self, id: u16, rcode: Rcode, truncated: bool, question: &str) {
        self.clear();
        self.id = id;
        self.rcode = rcode;
        self.truncated = truncated;
        self.question = self.push_name(question);
    }

    fn clear(&mut self) {
        self.id = 0;
        self.rcode = Rcode::NOERROR;
        self.truncated = false;
        self.question = NameSpan::default();
        self.answers.clear();
        self.names.clear();
    }

    /// Appends an answer record; past [`MAX_ANSWERS`] records it is ignored,
    /// as the decoder ignores them.
    pub fn push_answer(&mut self, answer: Answer<'_>) {
        if self.answers.len() >= MAX_ANSWERS {
            return;
        }
        let owner = self.push_name(answer.owner);
        let data = match answer.data {
            AnswerData::A(v4) => StoredData::A(v4),
            AnswerData::Aaaa(v6) => StoredData::Aaaa(v6),
            AnswerData::Cname(name) => StoredData::Cname(self.push_name(name)),
            AnswerData::Ptr(name) => StoredData::Ptr(self.push_name(name)),
            AnswerData::Mx {
                preference,
                exchange,
            } => StoredData::Mx(preference, self.push_name(exchange)),
            AnswerData::Other(code) => StoredData::Other(code),
        };
        self.answers.push(StoredAnswer { owner, data });
    }

    fn push_name(&mut self, name: &str) -> NameSpan {
        let start = self.names.len() as u32;
        self.names.push_str(name);
        NameSpan {
            start,
            end: self.names.len() as u32,
        }
    }

    fn name(&self, span: NameSpan) -> &str {
        // Spans are only ever made by `push_name` and the decoder, over ASCII.
        self.names
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    /// The response code, EDNS extended bits included (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> Rcode {
        self.rcode
    }

    /// TC=1: the answer did not fit (RFC 1035 §4.1.1); ask again over TCP.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The (first) question's name in presentation form, lowercase; "" when
    /// there is no question. For an answer that passed
    /// [`crate::validate::check_response`] it is the name that was asked.
    pub fn question(&self) -> &str {
        self.name(self.question)
    }

    /// The answer records, in message order, at most [`MAX_ANSWERS`].
    pub fn answers(&self) -> impl ExactSizeIterator<Item = Answer<'_>> + Clone + '_ {
        self.answers.iter().map(|stored| Answer {
            owner: self.name(stored.owner),
            data: match stored.data {
                StoredData::A(v4) => AnswerData::A(v4),
                StoredData::Aaaa(v6) => AnswerData::Aaaa(v6),
                StoredData::Cname(span) => AnswerData::Cname(self.name(span)),
                StoredData::Ptr(span) => AnswerData::Ptr(self.name(span)),
                StoredData::Mx(preference, span) => AnswerData::Mx {
                    preference,
                    exchange: self.name(span),
                },
                StoredData::Other(code) => AnswerData::Other(code),
            },
        })
    }
}

/// Two responses are equal when they say the same thing, whatever their
/// buffers' capacities or the order names were stored in.
impl PartialEq for DecodedResponse {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.rcode == other.rcode
            && self.truncated == other.truncated
            && self.question() == other.question()
            && self.answers().eq(other.answers())
    }
}

impl Eq for DecodedResponse {}

impl std::fmt::Debug for DecodedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedResponse")
            .field("id", &self.id)
            .field("rcode", &self.rcode)
            .field("truncated", &self.truncated)
            .field("question", &self.question())
            .field("answers", &self.answers().collect::<Vec<_>>())
            .finish()
    }
}

/// Message sections after the question (RFC 1035 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

/// Why a datagram is not a response we can read. Carries offsets, never
/// the bytes: decoding must not allocate, even to fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message is a query, not a response")]
    NotResponse,
    #[error("message ends at {len} bytes, inside the {section:?} section")]
    Truncated { section: Section, len: usize },
    #[error("label type {byte:#04x} at offset {at} is reserved (RFC 1035 §4.1.4)")]
    ReservedLabelType { at: usize, byte: u8 },
    #[error("compression pointer at offset {at} does not point before its name")]
    PointerNotBackwards { at: usize },
    #[error("name at offset {at} runs into the name that points to it")]
    PointerOverlap { at: usize },
    #[error("name at offset {at} follows more than {MAX_POINTER_HOPS} compression pointers")]
    TooManyPointers { at: usize },
    #[error("name at offset {at} is longer than 255 bytes")]
    NameTooLong { at: usize },
    #[error("record of type {rtype} at offset {at}: RDATA does not match RDLENGTH {rdlength}")]
    RdataLength {
        at: usize,
        rtype: u16,
        rdlength: u16,
    },
    #[error("name at offset {at} does not end where its RDATA ends")]
    RdataNameLength { at: usize },
    #[error("record of type {rtype} at offset {at} has no RDATA")]
    EmptyRdata { at: usize, rtype: u16 },
    #[error("record at offset {at} has the meta type {rtype}, which only a question may ask")]
    MetaType { at: usize, rtype: u16 },
    #[error("record of type {rtype} at offset {at} is only allowed in the additional section")]
    NotInAdditional { at: usize, rtype: u16 },
    #[error("OPT record at offset {at} is not owned by the root")]
    OptOwnerNotRoot { at: usize },
    #[error("second OPT record at offset {at}")]
    DuplicateOpt { at: usize },
    /// Only from [`decode_response_reference`]: hickory-proto's own message.
    #[error("malformed DNS message (reference decoder): {0}")]
    Reference(String),
}

/// Upper bound on answer records we look at: more is either an attack or a
/// misconfiguration, and no PTR/A/MX answer we care about needs it.
pub const MAX_ANSWERS: usize = 256;

/// Compression pointers one name may follow. Pointers must point backwards
/// (RFC 1035 §4.1.4, and see [`read_name`]), so a loop is impossible anyway;
/// this bounds the work on a chain of pointers to pointers, which no encoder
/// writes: every pointer of a real name is preceded by at least one label,
/// and a name has at most 127.
pub const MAX_POINTER_HOPS: usize = 128;

/// RFC 1035 §3.2.2 / RFC 6891 §6.1.1 type codes the decoder treats specially.
mod rtype {
    pub const A: u16 = 1;
    pub const CNAME: u16 = 5;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const SIG: u16 = 24;
    pub const AAAA: u16 = 28;
    pub const OPT: u16 = 41;
    pub const TSIG: u16 = 250;
    /// Meta types (RFC 6895 §3.1): a record can never carry them.
    pub const ZERO: u16 = 0;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const ANY: u16 = 255;
}

/// RFC 2136 §2.2: UPDATE, the one opcode whose records may have no RDATA.
const OPCODE_UPDATE: u8 = 5;

/// Decodes a response into `out` (cleared first), by hand: the scanner's
/// hot path, which must not allocate per datagram once `out` has grown.
/// The caller has already matched ID, source and question (see `validate`).
///
/// It accepts and refuses what [`decode_response_reference`] (hickory-proto)
/// does, and gives the same result — `tests/parser_fuzz.rs` checks both on
/// generated and mutated messages — with one deliberate difference: the
/// RDATA of types the scanner does not read (SOA, TXT, OPT options, …) is
/// only framed by its RDLENGTH, not parsed, so a response with a garbled
/// record of such a type is read rather than refused.
pub fn decode_response(datagram: &[u8], out: &mut DecodedResponse) -> Result<(), DecodeError> {
    out.clear();
    let header = datagram.get(..12).ok_or(DecodeError::Truncated {
        section: Section::Question,
        len: datagram.len(),
    })?;
    if header[2] & 0x80 == 0 {
        return Err(DecodeError::NotResponse);
    }
    let update = (header[2] >> 3) & 0x0f == OPCODE_UPDATE;
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    let (questions, answers, authorities, additionals) = (count(4), count(6), count(8), count(10));
    out.id = u16::from_be_bytes([header[0], header[1]]);
    out.truncated = header[2] & 0x02 != 0;
    let rcode_low = u16::from(header[3] & 0x0f);

    let mut reader = Reader {
        message: datagram,
        section: Section::Question,
        seen: [SeenName::default(); SEEN_NAMES],
        seen_next: 0,
    };
    let mut pos = 12;
    for index in 0..questions {
        let (end, span) = reader.name(pos, (index == 0).then_some(&mut out.names))?;
        if index == 0 {
            out.question = span;
        }
        pos = end;
        // QTYPE and QCLASS: any values.
        pos = reader.skip(pos, 4)?;
    }

    let mut rcode_high: Option<u8> = None;
    for (section, count) in [
        (Section::Answer, answers),
        (Section::Authority, authorities),
        (Section::Additional, additionals),
    ] {
        reader.section = section;
        for _ in 0..count {
            let keep = section == Section::Answer && out.answers.len() < MAX_ANSWERS;
            pos = reader.record(pos, keep, update, out, &mut rcode_high)?;
        }
    }
    // RFC 6891 §6.1.3: the OPT TTL's top byte holds the upper 8 bits of a
    // 12-bit RCODE whose lower 4 are in the header.
    out.rcode = Rcode(match rcode_high {
        Some(high) => (u16::from(high) << 4) | rcode_low,
        None => rcode_low,
    });
    // Bytes after the last record are ignored, as hickory-proto does.
    Ok(())
}

/// A cursor-free reader over one message: every method takes the offset to
/// read at and returns the offset after what it read.
struct Reader<'m> {
    message: &'m [u8],
    section: Section,
    /// Names already presented, by the offset they start at (a ring).
    seen: [SeenName; SEEN_NAMES],
    seen_next: usize,
}

/// How many presented names the reader remembers: the question and the
/// names of the last few records are what later records point to.
const SEEN_NAMES: usize = 8;

/// A name presented earlier in this message.
#[derive(Clone, Copy, Default)]
struct SeenName {
    /// Offset the name starts at; 0 (the header) for an unused entry.
    at: usize,
    span: NameSpan,
    /// Compression pointers followed from `at` to the name's end.
    hops: usize,
}

impl Reader<'_> {
    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            section: self.section,
            len: self.message.len(),
        }
    }

    fn bytes(&self, at: usize, len: usize) -> Result<&[u8], DecodeError> {
        self.message
            .get(at..at.saturating_add(len))
            .ok_or_else(|| self.truncated())
    }

    fn skip(&self, at: usize, len: usize) -> Result<usize, DecodeError> {
        self.bytes(at, len).map(|_| at + len)
    }

    /// Reads the name at `at`; with `names`, its presentation is in that
    /// arena and its span returned (otherwise the span is empty). Returns
    /// the offset after the name's bytes in place.
    ///
    /// A name that is only a pointer to a name presented before (the usual
    /// owner `C0 0C`, pointing at the question) shares that name's text
    /// instead of presenting it again. It would be read exactly the same
    /// way: the earlier name ends before this one starts, so it meets this
    /// pointer's overlap rule, and everything after its first run is
    /// checked from its own offsets either way.
    fn name(
        &mut self,
        at: usize,
        names: Option<&mut String>,
    ) -> Result<(usize, NameSpan), DecodeError> {
        if let [first, low] = *self.bytes(at, 2).unwrap_or_default()
            && first & 0xc0 == 0xc0
        {
            let target = usize::from(u16::from_be_bytes([first & 0x3f, low]));
            let seen = self
                .seen
                .iter()
                .find(|seen| seen.at == target && target != 0);
            if let Some(seen) = seen
                && target < at
                && seen.hops < MAX_POINTER_HOPS
            {
                return Ok((at + 2, seen.span));
            }
        }
        let Some(names) = names else {
            return self
                .walk_name(at, None)
                .map(|(end, _)| (end, NameSpan::default()));
        };
        let start = names.len() as u32;
        let (end, hops) = self.walk_name(at, Some(names))?;
        let span = NameSpan {
            start,
            end: names.len() as u32,
        };
        self.seen[self.seen_next] = SeenName { at, span, hops };
        self.seen_next = (self.seen_next + 1) % SEEN_NAMES;
        Ok((end, span))
    }

    /// Walks the name at `at`, appending its presentation form to `present`
    /// when given; returns the offset after the name's bytes in place and
    /// the number of compression pointers followed.
    ///
    /// Compression (RFC 1035 §4.1.4): a pointer may only point before the
    /// start of the run of labels it ends, and that earlier run must end
    /// (in a zero byte or another pointer) before the run that pointed to
    /// it starts. hickory-proto enforces exactly this; it makes every chain
    /// strictly backwards, so loops cannot happen, and [`MAX_POINTER_HOPS`]
    /// bounds the chain. The whole name, length bytes and root included,
    /// is at most 255 bytes (RFC 1035 §3.1); labels are at most 63 bytes by
    /// construction (the two high bits of a length byte are 00).
    fn walk_name(
        &self,
        at: usize,
        mut present: Option<&mut String>,
    ) -> Result<(usize, usize), DecodeError> {
        let mut pos = at;
        // Start of the run of labels being read, and the offset it must stay below.
        let mut run_start = at;
        let mut run_limit = usize::MAX;
        let mut end_in_place = None;
        let mut wire_len = 1usize;
        let mut hops = 0usize;
        let mut first_label = true;
        loop {
            if pos >= run_limit {
                return Err(DecodeError::PointerOverlap { at });
            }
            let length = *self.message.get(pos).ok_or_else(|| self.truncated())?;
            match length & 0xc0 {
                0x00 if length == 0 => {
                    return Ok((end_in_place.unwrap_or(pos + 1), hops));
                }
                0x00 => {
                    let label = self.bytes(pos + 1, usize::from(length))?;
                    wire_len += 1 + label.len();
                    if wire_len > 255 {
                        return Err(DecodeError::NameTooLong { at });
                    }
                    if let Some(text) = present.as_deref_mut() {
                        if !first_label {
                            text.push('.');
                        }
                        push_label(label, text);
                    }
                    first_label = false;
                    pos += 1 + label.len();
                }
                0xc0 => {
                    let low = *self.message.get(pos + 1).ok_or_else(|| self.truncated())?;
                    let target = usize::from(u16::from_be_bytes([length & 0x3f, low]));
                    if target >= run_start {
                        return Err(DecodeError::PointerNotBackwards { at: pos });
                    }
                    hops += 1;
                    if hops > MAX_POINTER_HOPS {
                        return Err(DecodeError::TooManyPointers { at });
                    }
                    end_in_place.get_or_insert(pos + 2);
                    run_limit = run_start;
                    run_start = target;
                    pos = target;
                }
                // 01 and 10: extended label types (RFC 6891 §5), none in use.
                _ => {
                    return Err(DecodeError::ReservedLabelType {
                        at: pos,
                        byte: length,
                    });
                }
            }
        }
    }

    /// Reads one resource record (RFC 1035 §4.1.3) at `at`; stores it in
    /// `out` when `keep`. Checks what hickory-proto checks for the types the
    /// scanner reads, and frames every other type by RDLENGTH.
    fn record(
        &mut self,
        at: usize,
        keep: bool,
        update: bool,
        out: &mut DecodedResponse,
        rcode_high: &mut Option<u8>,
    ) -> Result<usize, DecodeError> {
        let (after_owner, owner) = self.name(at, keep.then_some(&mut out.names))?;
        let fixed = self.bytes(after_owner, 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdlength = u16::from_be_bytes([fixed[8], fixed[9]]);
        let rdata_start = after_owner + 10;
        let rdata = self.bytes(rdata_start, usize::from(rdlength))?;
        let rdata_end = rdata_start + rdata.len();
        let rdata_error = || DecodeError::RdataLength {
            at,
            rtype,
            rdlength,
        };
        if matches!(rtype, rtype::OPT | rtype::SIG | rtype::TSIG)
            && self.section != Section::Additional
        {
            return Err(DecodeError::NotInAdditional { at, rtype });
        }
        if rtype == rtype::OPT {
            // RFC 6891 §6.1.2: the owner is the root, there is one OPT at most.
            if after_owner != at + 1 {
                return Err(DecodeError::OptOwnerNotRoot { at });
            }
            if rcode_high.is_some() {
                return Err(DecodeError::DuplicateOpt { at });
            }
            *rcode_high = Some((ttl >> 24) as u8);
            return Ok(rdata_end);
        }
        let data = if rdlength == 0 {
            // RFC 2136 §2.4: only UPDATE prerequisites have empty RDATA.
            if !update {
                return Err(DecodeError::EmptyRdata { at, rtype });
            }
            StoredData::Other(rtype)
        } else {
            match rtype {
                rtype::A => StoredData::A(Ipv4Addr::from(
                    <[u8; 4]>::try_from(rdata).map_err(|_| rdata_error())?,
                )),
                rtype::AAAA => StoredData::Aaaa(Ipv6Addr::from(
                    <[u8; 16]>::try_from(rdata).map_err(|_| rdata_error())?,
                )),
                rtype::CNAME | rtype::PTR => {
                    let span = self.rdata_name(rdata_start, rdata_end, keep, out)?;
                    if rtype == rtype::CNAME {
                        StoredData::Cname(span)
                    } else {
                        StoredData::Ptr(span)
                    }
                }
                rtype::MX => {
                    let [high, low, ..] = *rdata else {
                        return Err(rdata_error());
                    };
                    let preference = u16::from_be_bytes([high, low]);
                    let span = self.rdata_name(rdata_start + 2, rdata_end, keep, out)?;
                    StoredData::Mx(preference, span)
                }
                rtype::ZERO | rtype::IXFR | rtype::AXFR | rtype::ANY => {
                    return Err(DecodeError::MetaType { at, rtype });
                }
                other => StoredData::Other(other),
            }
        };
        if keep {
            out.answers.push(StoredAnswer { owner, data });
        }
        Ok(rdata_end)
    }

    /// A name that must end exactly where the RDATA ends (RFC 1035 §3.3:
    /// CNAME, PTR, and MX after its preference); its labels may be compressed.
    fn rdata_name(
        &mut self,
        at: usize,
        rdata_end: usize,
        keep: bool,
        out: &mut DecodedResponse,
    ) -> Result<NameSpan, DecodeError> {
        let (end, span) = self.name(at, keep.then_some(&mut out.names))?;
        if end != rdata_end {
            return Err(DecodeError::RdataNameLength { at });
        }
        Ok(span)
    }
}

/// The reference decoder: hickory-proto's `Message::from_vec`, flattened
/// into the same [`DecodedResponse`]. This is what the scanner used before
/// [`decode_response`]; the tests hold the hand decoder to it and the
/// benchmarks compare the two. Not on the scan path: it allocates per call.
pub fn decode_response_reference(
    datagram: &[u8],
    out: &mut DecodedResponse,
) -> Result<(), DecodeError> {
    out.clear();
    let message = Message::from_vec(datagram).map_err(|e| DecodeError::Reference(e.to_string()))?;
    if message.metadata.message_type != MessageType::Response {
        return Err(DecodeError::NotResponse);
    }
    let question = message
        .queries
        .first()
        .map(|query| presentation(&query.name))
        .unwrap_or_default();
    out.reset(
        message.metadata.id,
        Rcode(u16::from(message.metadata.response_code)),
        message.metadata.truncation,
        &question,
    );
    for record in message.answers.iter().take(MAX_ANSWERS) {
        let owner = presentation(&record.name);
        let (name, preference) = match &record.data {
            RData::CNAME(cname) => (presentation(&cname.0), 0),
            RData::PTR(ptr) => (presentation(&ptr.0), 0),
            RData::MX(mx) => (presentation(&mx.exchange), mx.preference),
            _ => (String::new(), 0),
        };
        let data = match &record.data {
            RData::A(a) => AnswerData::A(a.0),
            RData::AAAA(aaaa) => AnswerData::Aaaa(aaaa.0),
            RData::CNAME(_) => AnswerData::Cname(&name),
            RData::PTR(_) => AnswerData::Ptr(&name),
            RData::MX(_) => AnswerData::Mx {
                preference,
                exchange: &name,
            },
            other => AnswerData::Other(u16::from(other.record_type())),
        };
        out.push_answer(Answer {
            owner: &owner,
            data,
        });
    }
    Ok(())
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

/// Where a CNAME chain inside one answer section ends (see [`follow_chain`]).
#[derive(Debug, Clone, Copy)]
pub struct Chain<'r> {
    response: &'r DecodedResponse,
    want: QType,
    /// Owner name where the chain ended (the query name when there was no CNAME).
    pub final_name: &'r str,
    pub cname_hops: usize,
    found: bool,
}

impl<'r> Chain<'r> {
    /// Whether the answer has records of the wanted type at the end of the chain.
    pub fn has_records(&self) -> bool {
        self.found
    }

    /// The records of the wanted type owned by [`Chain::final_name`], in
    /// message order.
    pub fn records(&self) -> impl Iterator<Item = AnswerData<'r>> + 'r {
        let (final_name, want) = (self.final_name, self.want);
        self.response
            .answers()
            .filter(move |a| {
                a.owner.eq_ignore_ascii_case(final_name) && matches_type(&a.data, want)
            })
            .map(|a| a.data)
    }
}

/// Follows CNAMEs inside one answer section (RFC 1034 §3.6.2, RFC 2317
/// classless delegation) from `qname` (compared ignoring ASCII case, RFC
/// 4343) to the records of type `want`. Loops and chains longer than
/// `max_hops` stop at the last name reached. Allocates nothing: the records
/// are read from the response through [`Chain::records`].
pub fn follow_chain<'r>(
    qname: &'r str,
    response: &'r DecodedResponse,
    want: QType,
    max_hops: usize,
) -> Chain<'r> {
    let mut current = qname;
    let mut hops = 0usize;
    loop {
        let mut found = false;
        let mut next = None;
        for answer in response.answers() {
            if !answer.owner.eq_ignore_ascii_case(current) {
                continue;
            }
            if matches_type(&answer.data, want) {
                found = true;
                break;
            }
            if let (None, AnswerData::Cname(target)) = (next, answer.data) {
                next = Some(target);
            }
        }
        let chain = Chain {
            response,
            want,
            final_name: current,
            cname_hops: hops,
            found,
        };
        if found {
            return chain;
        }
        match next {
            Some(target) if hops < max_hops && !target.eq_ignore_ascii_case(current) => {
                current = target;
                hops += 1;
            }
            _ => return chain,
        }
    }
}

fn matches_type(data: &AnswerData<'_>, want: QType) -> bool {
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

    /// A response to `question` with these answers, as the decoder would give it.
    fn response(question: &str, answers: &[(&str, AnswerData<'_>)]) -> DecodedResponse {
        let mut response = DecodedResponse::default();
        response.reset(1, Rcode::NOERROR, false, question);
        for &(owner, data) in answers {
            response.push_answer(Answer { owner, data });
        }
        response
    }

    #[test]
    fn chain_follows_classless_delegation() {
        let answers = response(
            "70.113.0.203.in-addr.arpa",
            &[
                (
                    "70.113.0.203.in-addr.arpa",
                    AnswerData::Cname("70.64-127.113.0.203.in-addr.arpa"),
                ),
                (
                    "70.64-127.113.0.203.in-addr.arpa",
                    AnswerData::Ptr("mail.example.net"),
                ),
            ],
        );
        let chain = follow_chain(answers.question(), &answers, QType::Ptr, 8);
        assert!(chain.has_records());
        assert_eq!(
            chain.records().collect::<Vec<_>>(),
            vec![AnswerData::Ptr("mail.example.net")]
        );
        assert_eq!(chain.cname_hops, 1);
    }

    #[test]
    fn chain_stops_on_loops_and_reports_dangling_target() {
        let looped = response(
            "a.example",
            &[
                ("a.example", AnswerData::Cname("b.example")),
                ("b.example", AnswerData::Cname("a.example")),
            ],
        );
        let chain = follow_chain("a.example", &looped, QType::A, 8);
        assert!(!chain.has_records());
        assert_eq!(chain.records().count(), 0);
        assert!(chain.cname_hops <= 8);
        let dangling = response(
            "a.example",
            &[("a.example", AnswerData::Cname("c.example"))],
        );
        let chain = follow_chain("A.example", &dangling, QType::A, 8);
        assert_eq!(chain.final_name, "c.example");
        assert_eq!(chain.cname_hops, 1);
    }

    #[test]
    fn answers_past_the_cap_are_dropped_and_equality_ignores_storage() {
        let mut built = response("x", &[]);
        for i in 0..MAX_ANSWERS as u32 + 5 {
            built.push_answer(Answer {
                owner: "x",
                data: AnswerData::A(Ipv4Addr::from(i)),
            });
        }
        assert_eq!(built.answers().len(), MAX_ANSWERS);
        let mut other = DecodedResponse::with_typical_capacity();
        other.reset(1, Rcode::NOERROR, false, "x");
        for answer in built.answers() {
            other.push_answer(answer);
        }
        assert_eq!(built, other);
    }

    /// The name rules of RFC 1035 §4.1.4 as hickory-proto applies them, on
    /// hand-made messages: one PTR answer whose RDATA is `rdata`, after a
    /// question for `a.example` at offset 12.
    fn ptr_message(rdata: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        bytes.extend_from_slice(b"\x01a\x07example\x00\x00\x0c\x00\x01");
        bytes.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 1, 44]);
        bytes.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        bytes.extend_from_slice(rdata);
        bytes
    }

    #[test]
    fn compression_rules_follow_rfc_1035_and_the_reference() {
        let decode = |bytes: &[u8]| {
            let mut out = DecodedResponse::default();
            decode_response(bytes, &mut out).map(|()| out)
        };
        // A label, then a pointer back to "example" in the question.
        let ok = decode(&ptr_message(b"\x04mail\xc0\x0e")).unwrap();
        let ptr: Vec<_> = ok.answers().map(|a| a.data).collect();
        assert_eq!(ptr, vec![AnswerData::Ptr("mail.example")]);
        assert_eq!(ok.question(), "a.example");
        // A pointer to itself, and one forward past the RDATA.
        let at = ptr_message(&[]).len();
        assert!(matches!(
            decode(&ptr_message(&[0xc0, at as u8])),
            Err(DecodeError::PointerNotBackwards { .. })
        ));
        assert!(matches!(
            decode(&ptr_message(&[0xc0, (at + 2) as u8])),
            Err(DecodeError::PointerNotBackwards { .. })
        ));
        // Reserved label types 01 and 10.
        for byte in [0x40, 0x80] {
            assert!(matches!(
                decode(&ptr_message(&[byte, 0])),
                Err(DecodeError::ReservedLabelType { .. })
            ));
        }
        // The RDATA must hold the name exactly.
        assert!(matches!(
            decode(&ptr_message(b"\x01a\x00\x00")),
            Err(DecodeError::RdataNameLength { .. })
        ));
        // A chain of pointers to pointers is cut at MAX_POINTER_HOPS (the
        // reference follows it): questions whose names each point at the
        // previous one, the first being the root.
        let mut chain = vec![0x12, 0x34, 0x84, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        chain.extend_from_slice(&[0, 0, 12, 0, 1]);
        let mut previous = 12usize;
        for _ in 0..=MAX_POINTER_HOPS {
            let here = chain.len();
            chain.extend_from_slice(&(0xc000 | previous as u16).to_be_bytes());
            chain.extend_from_slice(&[0, 12, 0, 1]);
            previous = here;
        }
        let questions = MAX_POINTER_HOPS as u16 + 2;
        chain[4..6].copy_from_slice(&questions.to_be_bytes());
        assert!(matches!(
            decode(&chain),
            Err(DecodeError::TooManyPointers { .. })
        ));
        assert!(decode_response_reference(&chain, &mut DecodedResponse::default()).is_ok());
        // Empty RDATA outside UPDATE, and meta types, are refused.
        assert!(matches!(
            decode(&ptr_message(&[])),
            Err(DecodeError::EmptyRdata { .. })
        ));
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
        /// The whole-label fast path spells labels as the escaping loop does.
        #[test]
        fn labels_are_presented_as_the_escaping_loop_does(
            label in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..63),
                "[a-zA-Z0-9_*-]{0,63}".prop_map(String::into_bytes),
            ]
        ) {
            let (mut fast, mut slow) = (String::from("x."), String::from("x."));
            push_label(&label, &mut fast);
            push_label_escaped(&label, &mut slow);
            prop_assert_eq!(fast, slow);
        }

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
            let mut out = DecodedResponse::default();
            let _ = decode_response(&bytes, &mut out);
        }
    }
}
