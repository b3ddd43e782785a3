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
//! | `generic` | whether a PTR name is a provider's generic hostname; empty without a PTR |
//! | `ptr_class` | `dynamic`, `static-generic`, `hosting-cloud`, `esp-infra`, `custom-mail`, `custom-other` |
//! | `reasons` | the classifier's reason codes for that name (`ip-embedded:dashed`, `token:dyn`, …) |
//! | `severity` | the highest finding's severity: `high`, `medium`, `low`; empty without findings |
//! | `findings` | finding codes (`no-ptr`, `fcrdns-fail`, `generic-ptr`, `multiple-ptr`, `website-name`, `ehlo-mismatch`) |
//! | `next_steps` | one sentence per finding, in the same order |
//! | `score` | reverse-DNS score 0–25 (see `findings`) |
//!
//! When an address has several PTR names, `ptr_class` and `reasons` describe
//! the first generic one if any is generic, else the first name.

use std::net::{IpAddr, SocketAddr};

use smallvec::SmallVec;

use crate::classify::{Classifier, PtrClass};
use crate::engine::QueryError;
use crate::findings::{Findings, Severity, assess, finding_texts, normal_name};
use crate::sink::table::{Cell, Column, Kind, Record};
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

/// An address's PTR names, sorted and distinct.
pub type PtrNames = SmallVec<[String; 1]>;

/// The addresses the PTR names resolve to, sorted and distinct.
pub type ForwardAddresses = SmallVec<[IpAddr; 2]>;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ip: IpAddr,
    /// Inline for the usual one name and one or two addresses: a row is
    /// made per address, on the scan loop, and freed on the writer thread.
    pub ptr: PtrNames,
    pub forward: ForwardAddresses,
    pub fcrdns: Fcrdns,
    pub rcode: Option<Rcode>,
    pub error: Option<ErrorKind>,
    pub resolver: Option<SocketAddr>,
    pub attempts: u32,
    pub rtt_ms: Option<f64>,
    /// Classification and findings; filled in by the writer thread (see
    /// [`Audit::of`]) so the scan loop never spends time on them.
    pub audit: Audit,
    /// The target's position in the scan's target stream (`scan` only):
    /// what the checkpoint records. Not an output column.
    pub position: Option<u64>,
}

/// What the PTR names mean for mail: their class, the findings and the score.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// `None` when there is no PTR name to judge.
    pub generic: Option<bool>,
    pub ptr_class: Option<PtrClass>,
    pub reasons: Vec<&'static str>,
    pub findings: Findings,
    pub severity: Option<Severity>,
    pub score: u8,
}

impl Audit {
    /// Classifies every PTR name of the address and assesses the result.
    /// `ehlo_mismatch` is known only in `mx` mode with `--smtp`.
    pub fn of(
        classifier: &Classifier,
        ip: IpAddr,
        ptr: &[String],
        fcrdns: Fcrdns,
        ehlo_mismatch: Option<bool>,
    ) -> Audit {
        let mut deciding = None;
        for name in ptr {
            let classification = classifier.classify(name, Some(ip));
            let generic = classification.generic();
            if deciding.is_none() || generic {
                deciding = Some(classification);
            }
            if generic {
                break;
            }
        }
        let generic = deciding.as_ref().map(|c| c.generic());
        let assessment = assess(fcrdns, ptr, generic == Some(true), ehlo_mismatch);
        let (ptr_class, reasons) = match deciding {
            Some(classification) => (Some(classification.class), classification.reasons),
            None => (None, Vec::new()),
        };
        Audit {
            generic,
            ptr_class,
            reasons,
            findings: assessment.findings,
            severity: assessment.severity,
            score: assessment.score,
        }
    }

    /// The audit's cells, in [`AUDIT_COLUMNS`] order.
    pub fn cells(&self) -> [Cell<'_>; 7] {
        let (codes, next_steps) = finding_texts(&self.findings);
        [
            self.generic.map_or(Cell::Null, Cell::Bool),
            Cell::opt_text(self.ptr_class.map(PtrClass::as_str)),
            Cell::Codes(&self.reasons),
            Cell::opt_text(self.severity.map(Severity::as_str)),
            Cell::Codes(codes),
            Cell::Codes(next_steps),
            Cell::Int(i64::from(self.score)),
        ]
    }
}

/// Columns every row type that audits an address ends with.
pub const AUDIT_COLUMNS: [Column; 7] = [
    Column::new("generic", Kind::Bool, true),
    Column::new("ptr_class", Kind::Text, true),
    Column::new("reasons", Kind::TextList, false),
    Column::new("severity", Kind::Text, true),
    Column::new("findings", Kind::TextList, false),
    Column::new("next_steps", Kind::TextList, false),
    Column::new("score", Kind::Int, false),
];

/// The `scan` columns, in output order.
pub const SCAN_COLUMNS: [Column; 17] = [
    Column::new("ip", Kind::Text, false).distinct(),
    Column::new("ptr", Kind::TextList, false).distinct(),
    Column::new("ptr_count", Kind::Int, false),
    Column::new("forward", Kind::TextList, false).distinct(),
    Column::new("fcrdns", Kind::Text, false),
    Column::new("rcode", Kind::Text, true),
    Column::new("error", Kind::Text, true),
    Column::new("resolver", Kind::Text, true),
    Column::new("attempts", Kind::Int, false),
    Column::new("rtt_ms", Kind::Float, true).distinct(),
    AUDIT_COLUMNS[0],
    AUDIT_COLUMNS[1],
    AUDIT_COLUMNS[2],
    AUDIT_COLUMNS[3],
    AUDIT_COLUMNS[4],
    AUDIT_COLUMNS[5],
    AUDIT_COLUMNS[6],
];

impl Row {
    /// The row's cells, in [`SCAN_COLUMNS`] order.
    pub fn scan_cells(&self) -> Vec<Cell<'_>> {
        let mut cells = Vec::with_capacity(SCAN_COLUMNS.len());
        cells.extend([
            Cell::Addr(self.ip),
            Cell::Names(&self.ptr),
            Cell::Int(self.ptr.len() as i64),
            Cell::Addrs(&self.forward),
            Cell::text(self.fcrdns.as_str()),
            Cell::opt_text(self.rcode.map(|rcode| rcode.name())),
            Cell::opt_text(self.error.map(ErrorKind::as_str)),
            self.resolver.map_or(Cell::Null, Cell::Endpoint),
            Cell::Int(i64::from(self.attempts)),
            self.rtt_ms.map_or(Cell::Null, Cell::Float),
        ]);
        cells.extend(self.audit.cells());
        cells
    }
}

impl Record for Row {
    fn columns() -> &'static [Column] {
        &SCAN_COLUMNS
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        self.scan_cells()
    }

    fn position(&self) -> Option<u64> {
        self.position
    }
}

impl Row {
    pub fn ptr_joined(&self) -> String {
        self.ptr.join("|")
    }

    pub fn forward_strings(&self) -> Vec<String> {
        self.forward.iter().map(ToString::to_string).collect()
    }
}

/// What the MX lookup of a domain found (the `mx_status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MxStatus {
    /// A mail host from the MX records, with this address.
    Ok,
    /// RFC 7505 null MX (`MX 0 .`): the domain accepts no mail.
    NullMx,
    /// No MX, but the domain has addresses: RFC 5321 §5.1 makes the domain
    /// itself the mail host.
    ImplicitMx,
    /// Neither MX nor address records.
    NoMx,
    /// The domain does not exist.
    Nxdomain,
    /// The MX target is a CNAME (RFC 2181 §10.3 forbids it); followed anyway.
    CnameMx,
    /// The mail host has no A or AAAA record.
    NoAddress,
    /// No definitive answer, or an invalid domain; `mx_error` says why.
    Error,
}

impl MxStatus {
    pub const ALL: [MxStatus; 8] = [
        MxStatus::Ok,
        MxStatus::CnameMx,
        MxStatus::ImplicitMx,
        MxStatus::NullMx,
        MxStatus::NoMx,
        MxStatus::NoAddress,
        MxStatus::Nxdomain,
        MxStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MxStatus::Ok => "ok",
            MxStatus::NullMx => "null_mx",
            MxStatus::ImplicitMx => "implicit_mx",
            MxStatus::NoMx => "no_mx",
            MxStatus::Nxdomain => "nxdomain",
            MxStatus::CnameMx => "cname_mx",
            MxStatus::NoAddress => "no_address",
            MxStatus::Error => "error",
        }
    }
}

/// What the SMTP identity check saw at one mail-host address (`--smtp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmtpIdentity {
    /// First word after `220` in the greeting.
    pub banner_host: Option<String>,
    /// First word of the `250` reply to EHLO.
    pub ehlo_host: Option<String>,
    /// Why the check did not complete (`timeout`, `refused`, `closed`, `garbage`, …).
    pub error: Option<String>,
}

impl SmtpIdentity {
    /// `Some(true)` when a name was seen and neither the banner nor the EHLO
    /// name is one of the address's PTR names; `None` when nothing was seen.
    pub fn mismatch(&self, ptr: &[String]) -> Option<bool> {
        let seen: Vec<&str> = [&self.banner_host, &self.ehlo_host]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if seen.is_empty() {
            return None;
        }
        let matches = seen.iter().any(|host| {
            ptr.iter()
                .any(|name| normal_name(name) == normal_name(host))
        });
        Some(!matches)
    }
}

/// One `mx` row: a (domain, mail-host address) pair, or the domain alone
/// when it has no mail-host address.
#[derive(Debug, Clone, PartialEq)]
pub struct MxRow {
    pub domain: String,
    pub mx_status: MxStatus,
    pub mx_error: Option<String>,
    pub mx_host: Option<String>,
    pub mx_pref: Option<u16>,
    /// The address's PTR/FCrDNS row, exactly as `scan` gives it.
    pub address: Option<Row>,
    /// `mx_host` is a primary MX (lowest preference) or the implicit MX:
    /// the hosts `--smtp` talks to. Not an output column.
    pub primary: bool,
    pub smtp: Option<SmtpIdentity>,
}

const MX_OWN_COLUMNS: [Column; 5] = [
    Column::new("domain", Kind::Text, false).distinct(),
    Column::new("mx_status", Kind::Text, false),
    Column::new("mx_error", Kind::Text, true),
    Column::new("mx_host", Kind::Text, true),
    Column::new("mx_pref", Kind::Int, true),
];

const SMTP_COLUMNS: [Column; 3] = [
    Column::new("banner_host", Kind::Text, true),
    Column::new("ehlo_host", Kind::Text, true),
    Column::new("smtp_error", Kind::Text, true),
];

/// `domain, mx_status, mx_error, mx_host, mx_pref`, every `scan` column
/// (empty when the domain has no address), then the SMTP columns.
pub static MX_COLUMNS: std::sync::LazyLock<Vec<Column>> = std::sync::LazyLock::new(|| {
    let mut columns = MX_OWN_COLUMNS.to_vec();
    columns.extend(crate::sink::table::all_nullable(&SCAN_COLUMNS));
    columns.extend(SMTP_COLUMNS);
    columns
});

impl Record for MxRow {
    fn columns() -> &'static [Column] {
        &MX_COLUMNS
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        let mut cells = Vec::with_capacity(MX_COLUMNS.len());
        cells.extend([
            Cell::text(self.domain.as_str()),
            Cell::text(self.mx_status.as_str()),
            Cell::opt_text(self.mx_error.as_deref()),
            Cell::opt_text(self.mx_host.as_deref()),
            self.mx_pref
                .map_or(Cell::Null, |pref| Cell::Int(i64::from(pref))),
        ]);
        match &self.address {
            Some(row) => cells.extend(row.scan_cells()),
            None => cells.extend(SCAN_COLUMNS.iter().map(|column| match column.kind {
                Kind::TextList => Cell::List(Vec::new()),
                _ => Cell::Null,
            })),
        }
        let smtp = self.smtp.as_ref();
        cells.extend([
            Cell::opt_text(smtp.and_then(|s| s.banner_host.as_deref())),
            Cell::opt_text(smtp.and_then(|s| s.ehlo_host.as_deref())),
            Cell::opt_text(smtp.and_then(|s| s.error.as_deref())),
        ]);
        cells
    }
}
