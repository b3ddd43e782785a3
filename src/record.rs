//! One [`Row`] per distinct input address, whatever happened to it: the
//! output schema, defined once and shared by every sink.
//!
//! | column | meaning |
//! |---|---|
//! | `ip` | the address scanned |
//! | `ptr` | PTR names, lowercase, no trailing dot, sorted (CSV: joined by `\|`) |
//! | `ptr_count` | number of PTR names |
//! | `forward` | addresses the PTR names resolve to (A for IPv4, AAAA for IPv6), sorted |
//! | `fcrdns` | `confirmed`, `mismatch`, `no_forward`, `no_ptr`, `error`, `unchecked` |
//! | `rcode` | rcode of the final PTR answer (`NOERROR`, `NXDOMAIN`, …), empty after a timeout |
//! | `error` | why `fcrdns` is `error`: `timeout`, `servfail`, `refused`, `malformed`, `cname_chain`, … |
//! | `resolver` | resolver that gave the final PTR answer (or was asked last) |
//! | `attempts` | PTR transmissions for this address, CNAME follow-ups included |
//! | `rtt_ms` | round-trip time of the accepted PTR answer over UDP |

use std::net::{IpAddr, SocketAddr};

use crate::engine::QueryError;
use crate::wire::Rcode;

/// Forward-confirmed reverse DNS verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fcrdns {
    /// Some PTR name resolves to this address.
    Confirmed,
    /// PTR names resolve, but none to this address.
    Mismatch,
    /// No PTR name resolves to any address.
    NoForward,
    /// NXDOMAIN or no PTR record.
    NoPtr,
    /// No definitive answer after retries; see `error`.
    Error,
    /// `--ptr-only`: forward lookups were skipped.
    Unchecked,
}

impl Fcrdns {
    pub const ALL: [Fcrdns; 6] = [
        Fcrdns::Confirmed,
        Fcrdns::Mismatch,
        Fcrdns::NoForward,
        Fcrdns::NoPtr,
        Fcrdns::Error,
        Fcrdns::Unchecked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fcrdns::Confirmed => "confirmed",
            Fcrdns::Mismatch => "mismatch",
            Fcrdns::NoForward => "no_forward",
            Fcrdns::NoPtr => "no_ptr",
            Fcrdns::Error => "error",
            Fcrdns::Unchecked => "unchecked",
        }
    }

    /// Whether the check ran to a definite answer.
    pub fn is_known(self) -> bool {
        !matches!(self, Fcrdns::Error | Fcrdns::Unchecked)
    }
}

impl std::fmt::Display for Fcrdns {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a lookup gave no definitive answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    Timeout,
    Servfail,
    Refused,
    Malformed,
    /// Another error rcode (FORMERR, NOTIMP, …); the rcode column has it.
    OtherRcode,
    /// CNAME chain longer than the bound, or a loop.
    CnameChain,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Servfail => "servfail",
            ErrorKind::Refused => "refused",
            ErrorKind::Malformed => "malformed",
            ErrorKind::OtherRcode => "rcode",
            ErrorKind::CnameChain => "cname_chain",
        }
    }
}

impl From<QueryError> for ErrorKind {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::Timeout => ErrorKind::Timeout,
            QueryError::Servfail => ErrorKind::Servfail,
            QueryError::Refused => ErrorKind::Refused,
            QueryError::Malformed => ErrorKind::Malformed,
            QueryError::Rcode(_) => ErrorKind::OtherRcode,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ip: IpAddr,
    pub ptr: Vec<String>,
    pub forward: Vec<IpAddr>,
    pub fcrdns: Fcrdns,
    pub rcode: Option<Rcode>,
    pub error: Option<ErrorKind>,
    pub resolver: Option<SocketAddr>,
    pub attempts: u32,
    pub rtt_ms: Option<f64>,
}

impl Row {
    pub fn ptr_joined(&self) -> String {
        self.ptr.join("|")
    }

    pub fn forward_strings(&self) -> Vec<String> {
        self.forward.iter().map(ToString::to_string).collect()
    }
}
