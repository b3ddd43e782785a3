//! The report's figures, gathered in one streaming pass: totals, per /24
//! (IPv4) and per /64 (IPv6) counts, per PTR zone counts, finding counts,
//! and the worst problem rows up to a cap. Memory is bounded by the caps,
//! whatever the number of rows: counts of networks and zones past them are
//! summed as "other", and the problem table keeps the most severe rows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::net::IpAddr;

use crate::classify::PtrClass;
use crate::findings::{Finding, Severity};
use crate::record::Fcrdns;

use super::input::{AuditKind, AuditRow};

/// Problem rows kept for the per-address table; the counts stay complete.
pub const PROBLEM_ROWS: usize = 100_000;
/// IPv4 /24 networks counted one by one (216 bytes each: 54 MiB at most);
/// rows of further networks are summed as "other networks".
pub const MAX_V4_NETWORKS: usize = 1 << 18;
/// IPv6 /64 networks counted one by one.
pub const MAX_V6_NETWORKS: usize = 1 << 16;
/// PTR zones counted one by one.
pub const MAX_ZONES: usize = 1 << 17;
/// `mx` rows kept for the per-domain table.
pub const MX_ROWS: usize = 100_000;

/// Severity slots: `high`, `medium`, `low`, none.
pub const SEVERITY_SLOTS: [Option<Severity>; 4] = [
    Some(Severity::High),
    Some(Severity::Medium),
    Some(Severity::Low),
    None,
];

pub fn severity_slot(severity: Option<Severity>) -> usize {
    match severity {
        Some(Severity::High) => 0,
        Some(Severity::Medium) => 1,
        Some(Severity::Low) => 2,
        None => 3,
    }
}

pub fn fcrdns_slot(fcrdns: Fcrdns) -> usize {
    Fcrdns::ALL
        .iter()
        .position(|value| *value == fcrdns)
        .unwrap_or(0)
}

pub fn class_slot(class: PtrClass) -> usize {
    PtrClass::ALL
        .iter()
        .position(|value| *value == class)
        .unwrap_or(0)
}

/// Counts over address rows (the whole audit, a network).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows: u64,
    /// Rows with at least one PTR name.
    pub with_ptr: u64,
    /// By `fcrdns`, in [`Fcrdns::ALL`] order.
    pub fcrdns: [u64; 6],
    /// Rows whose `generic` is true.
    pub generic: u64,
    /// By `ptr_class`, in [`PtrClass::ALL`] order.
    pub class: [u64; 6],
    /// By `severity`, in [`SEVERITY_SLOTS`] order.
    pub severity: [u64; 4],
    /// Rows with each finding, in [`Finding::ALL`] order.
    pub findings: [u64; 6],
    pub score_sum: u64,
    /// Rows with a score.
    pub scored: u64,
}

impl Counts {
    /// Counts an address row (one with an `ip`).
    pub fn add(&mut self, row: &AuditRow) {
        self.rows += 1;
        self.with_ptr += u64::from(row.has_ptr());
        if let Some(fcrdns) = row.fcrdns {
            self.fcrdns[fcrdns_slot(fcrdns)] += 1;
        }
        self.generic += u64::from(row.generic == Some(true));
        if let Some(class) = row.class {
            self.class[class_slot(class)] += 1;
        }
        self.severity[severity_slot(row.severity)] += 1;
        for (slot, count) in self.findings.iter_mut().enumerate() {
            *count += u64::from(row.findings & (1 << slot) != 0);
        }
        if let Some(score) = row.score {
            self.score_sum += u64::from(score);
            self.scored += 1;
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.rows += other.rows;
        self.with_ptr += other.with_ptr;
        self.generic += other.generic;
        self.score_sum += other.score_sum;
        self.scored += other.scored;
        for (into, from) in [
            (&mut self.fcrdns[..], &other.fcrdns[..]),
            (&mut self.class[..], &other.class[..]),
            (&mut self.severity[..], &other.severity[..]),
            (&mut self.findings[..], &other.findings[..]),
        ] {
            for (a, b) in into.iter_mut().zip(from) {
                *a += b;
            }
        }
    }

    pub fn mean_score(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum as f64 / self.scored as f64)
    }

    pub fn count(&self, fcrdns: Fcrdns) -> u64 {
        self.fcrdns[fcrdns_slot(fcrdns)]
    }

    /// The highest severity of any row; `None` when no row has a finding.
    pub fn worst_severity(&self) -> Option<Severity> {
        SEVERITY_SLOTS[..3]
            .iter()
            .zip(&self.severity)
            .find(|(_, count)| **count > 0)
            .and_then(|(severity, _)| *severity)
    }

    /// Rows whose PTR name does not point back (`mismatch`, `no_forward`).
    pub fn fcrdns_fail(&self) -> u64 {
        self.count(Fcrdns::Mismatch) + self.count(Fcrdns::NoForward)
    }
}

/// Counts per PTR zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneCounts {
    pub rows: u64,
    pub confirmed: u64,
    pub generic: u64,
    pub class: [u64; 6],
}

impl ZoneCounts {
    fn add(&mut self, row: &AuditRow) {
        self.rows += 1;
        self.confirmed += u64::from(row.fcrdns == Some(Fcrdns::Confirmed));
        self.generic += u64::from(row.generic == Some(true));
        if let Some(class) = row.class {
            self.class[class_slot(class)] += 1;
        }
    }
}

/// The zone a PTR name's range is named in: the name without its first
/// label (`198-51-100-7.dyn.example.net` → `dyn.example.net`), or the name
/// itself when it is a registrable domain or has at most two labels.
pub fn zone_of(name: &str) -> &str {
    match name.split_once('.') {
        Some((_, parent))
            if parent.contains('.') && crate::classify::registrable_domain(name) != Some(name) =>
        {
            parent
        }
        _ => name,
    }
}

/// One row of the per-address problem table.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `mx` only.
    pub domain: Box<str>,
    pub ip: IpAddr,
    /// PTR names joined by `|`.
    pub ptr: Box<str>,
    pub fcrdns: Fcrdns,
    pub class: Option<PtrClass>,
    pub severity: Severity,
    pub findings: u8,
    pub score: Option<u8>,
}

/// The most severe problem rows, up to a cap: rows of a severity displace
/// kept rows of a lower one once the table is full; within a severity the
/// first rows read are kept.
#[derive(Debug, Clone)]
pub struct ProblemTable {
    pub cap: usize,
    /// Kept rows by severity: high, medium, low.
    kept: [Vec<Problem>; 3],
    /// Every problem row read, kept or not.
    pub total: u64,
}

impl ProblemTable {
    pub fn new(cap: usize) -> Self {
        ProblemTable {
            cap,
            kept: [Vec::new(), Vec::new(), Vec::new()],
            total: 0,
        }
    }

    pub fn kept_count(&self) -> usize {
        self.kept.iter().map(Vec::len).sum()
    }

    fn add(&mut self, row: &AuditRow, ip: IpAddr, fcrdns: Fcrdns, severity: Severity) {
        self.total += 1;
        let slot = severity_slot(Some(severity));
        if self.kept_count() >= self.cap {
            // Make room by dropping a row of a lower severity, if any.
            match (slot + 1..3)
                .rev()
                .find(|lower| !self.kept[*lower].is_empty())
            {
                Some(lower) => {
                    self.kept[lower].pop();
                }
                None => return,
            }
        }
        self.kept[slot].push(Problem {
            domain: row.domain.as_str().into(),
            ip,
            ptr: row.ptr.as_str().into(),
            fcrdns,
            class: row.class,
            severity,
            findings: row.findings,
            score: row.score,
        });
    }

    /// The kept rows, worst first: severity, then score, then address.
    pub fn sorted(&self) -> Vec<&Problem> {
        let mut rows: Vec<&Problem> = self.kept.iter().flatten().collect();
        rows.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.score.cmp(&b.score))
                .then(a.ip.cmp(&b.ip))
                .then(a.domain.cmp(&b.domain))
        });
        rows
    }
}

/// One row of the `mx` per-domain table.
#[derive(Debug, Clone, PartialEq)]
pub struct MxEntry {
    pub domain: Box<str>,
    pub mx_status: Box<str>,
    pub mx_host: Box<str>,
    pub ip: Option<IpAddr>,
    pub fcrdns: Option<Fcrdns>,
    pub severity: Option<Severity>,
    pub findings: u8,
    pub score: Option<u8>,
}

/// What only `mx` outputs have.
#[derive(Debug, Clone, Default)]
pub struct MxTally {
    /// Hashes of the distinct domains (8 bytes each).
    domains: HashSet<u64>,
    pub by_status: BTreeMap<String, u64>,
    pub rows: Vec<MxEntry>,
    pub total_rows: u64,
}

impl MxTally {
    pub fn domains(&self) -> u64 {
        self.domains.len() as u64
    }

    fn add(&mut self, row: &AuditRow, cap: usize) {
        let hash =
            foldhash::fast::FixedState::with_seed(0x5eed).hash_one(row.domain.to_ascii_lowercase());
        self.domains.insert(hash);
        match self.by_status.get_mut(row.mx_status.as_str()) {
            Some(count) => *count += 1,
            None => {
                self.by_status.insert(row.mx_status.clone(), 1);
            }
        }
        self.total_rows += 1;
        if self.rows.len() < cap {
            self.rows.push(MxEntry {
                domain: row.domain.as_str().into(),
                mx_status: row.mx_status.as_str().into(),
                mx_host: row.mx_host.as_str().into(),
                ip: row.ip,
                fcrdns: row.fcrdns,
                severity: row.severity,
                findings: row.findings,
                score: row.score,
            });
        }
    }
}

/// Limits of what is kept one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub problem_rows: usize,
    pub v4_networks: usize,
    pub v6_networks: usize,
    pub zones: usize,
    pub mx_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            problem_rows: PROBLEM_ROWS,
            v4_networks: MAX_V4_NETWORKS,
            v6_networks: MAX_V6_NETWORKS,
            zones: MAX_ZONES,
            mx_rows: MX_ROWS,
        }
    }
}

/// Everything a report shows, gathered row by row.
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub kind: AuditKind,
    pub limits: Limits,
    /// Every row read (an `mx` domain without an address included).
    pub input_rows: u64,
    /// Rows with an address.
    pub totals: Counts,
    /// Address rows by score, 0 to 25.
    pub score_histogram: [u64; 26],
    pub v4_rows: u64,
    pub v6_rows: u64,
    /// IPv4 /24 networks by their first 24 bits.
    pub v4: HashMap<u32, Counts, foldhash::fast::RandomState>,
    pub v4_other: Counts,
    /// IPv6 /64 networks by their first 64 bits.
    pub v6: HashMap<u64, Counts, foldhash::fast::RandomState>,
    pub v6_other: Counts,
    /// Rows with a PTR name by the zone of their first name.
    pub zones: HashMap<Box<str>, ZoneCounts, foldhash::fast::RandomState>,
    pub zones_other: ZoneCounts,
    pub problems: ProblemTable,
    pub mx: Option<MxTally>,
}

impl Aggregate {
    pub fn new(kind: AuditKind, limits: Limits) -> Self {
        Aggregate {
            kind,
            limits,
            input_rows: 0,
            totals: Counts::default(),
            score_histogram: [0; 26],
            v4_rows: 0,
            v6_rows: 0,
            v4: HashMap::default(),
            v4_other: Counts::default(),
            v6: HashMap::default(),
            v6_other: Counts::default(),
            zones: HashMap::default(),
            zones_other: ZoneCounts::default(),
            problems: ProblemTable::new(limits.problem_rows),
            mx: (kind == AuditKind::Mx).then(MxTally::default),
        }
    }

    pub fn add(&mut self, row: &AuditRow) {
        self.input_rows += 1;
        if let Some(mx) = &mut self.mx {
            mx.add(row, self.limits.mx_rows);
        }
        let (Some(ip), Some(fcrdns)) = (row.ip, row.fcrdns) else {
            return;
        };
        self.totals.add(row);
        if let Some(score) = row.score {
            self.score_histogram[usize::from(score.min(25))] += 1;
        }
        match ip {
            IpAddr::V4(v4) => {
                self.v4_rows += 1;
                let key = u32::from(v4) >> 8;
                let full = self.v4.len() >= self.limits.v4_networks;
                match self.v4.get_mut(&key) {
                    Some(counts) => counts.add(row),
                    None if full => self.v4_other.add(row),
                    None => self.v4.entry(key).or_default().add(row),
                }
            }
            IpAddr::V6(v6) => {
                self.v6_rows += 1;
                let key = (u128::from(v6) >> 64) as u64;
                let full = self.v6.len() >= self.limits.v6_networks;
                match self.v6.get_mut(&key) {
                    Some(counts) => counts.add(row),
                    None if full => self.v6_other.add(row),
                    None => self.v6.entry(key).or_default().add(row),
                }
            }
        }
        if let Some(first) = row.ptr_names().next() {
            let zone = zone_of(first);
            let full = self.zones.len() >= self.limits.zones;
            match self.zones.get_mut(zone) {
                Some(counts) => counts.add(row),
                None if full => self.zones_other.add(row),
                None => self.zones.entry(zone.into()).or_default().add(row),
            }
        }
        if let Some(severity) = row.severity {
            self.problems.add(row, ip, fcrdns, severity);
        }
    }

    /// The share of address rows with this verdict, in percent.
    pub fn percent(&self, count: u64) -> f64 {
        percent(count, self.totals.rows)
    }
}

pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The findings, in report order, with their count.
pub fn finding_counts(counts: &Counts) -> Vec<(Finding, u64)> {
    Finding::ALL.into_iter().zip(counts.findings).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        ip: &str,
        ptr: &str,
        fcrdns: Fcrdns,
        class: Option<PtrClass>,
        findings: &[Finding],
        score: u8,
    ) -> AuditRow {
        let mut bits = 0;
        for finding in findings {
            bits |= super::super::input::finding_bit(finding.code());
        }
        AuditRow {
            ip: Some(ip.parse().expect("address")),
            ptr: ptr.into(),
            fcrdns: Some(fcrdns),
            generic: if ptr.is_empty() {
                None
            } else {
                Some(class.is_some_and(PtrClass::is_generic))
            },
            class,
            severity: findings.iter().map(|f| f.severity()).max(),
            findings: bits,
            score: Some(score),
            ..AuditRow::default()
        }
    }

    /// Ten rows over two /24s, one /16 apart, and an IPv6 /64, against
    /// counts worked out by hand.
    fn table() -> Vec<AuditRow> {
        use Fcrdns::{Confirmed, Error, Mismatch, NoForward};
        use Finding::{GenericPtr, MultiplePtr, NotForwardConfirmed, WebsiteStyleName};
        use PtrClass::*;
        const NO_PTR: Fcrdns = Fcrdns::NoPtr;
        const NO_PTR_FINDING: Finding = Finding::NoPtr;
        vec![
            row(
                "198.51.100.1",
                "mail.example.com",
                Confirmed,
                Some(CustomMail),
                &[],
                25,
            ),
            row(
                "198.51.100.2",
                "1-2.dyn.isp.example.net",
                Confirmed,
                Some(Dynamic),
                &[GenericPtr],
                15,
            ),
            row(
                "198.51.100.3",
                "3.dyn.isp.example.net",
                Mismatch,
                Some(Dynamic),
                &[NotForwardConfirmed, GenericPtr],
                5,
            ),
            row("198.51.100.4", "", NO_PTR, None, &[NO_PTR_FINDING], 0),
            row(
                "198.51.100.5",
                "www.example.com|mx.example.com",
                Confirmed,
                Some(CustomOther),
                &[MultiplePtr, WebsiteStyleName],
                20,
            ),
            row("198.51.101.9", "", NO_PTR, None, &[NO_PTR_FINDING], 0),
            row("198.51.101.10", "", Error, None, &[], 0),
            row(
                "198.51.101.11",
                "ghost.example.org",
                NoForward,
                Some(CustomOther),
                &[NotForwardConfirmed],
                10,
            ),
            row(
                "2001:db8::1",
                "mail.example.com",
                Confirmed,
                Some(CustomMail),
                &[],
                25,
            ),
            row(
                "2001:db8::2",
                "example.com",
                Confirmed,
                Some(CustomOther),
                &[WebsiteStyleName],
                23,
            ),
        ]
    }

    #[test]
    fn totals_match_the_hand_count() {
        let mut aggregate = Aggregate::new(AuditKind::Scan, Limits::default());
        for row in table() {
            aggregate.add(&row);
        }
        let totals = aggregate.totals;
        assert_eq!(totals.rows, 10);
        assert_eq!(totals.with_ptr, 7);
        // confirmed, mismatch, no_forward, no_ptr, error, unchecked
        assert_eq!(totals.fcrdns, [5, 1, 1, 2, 1, 0]);
        assert_eq!(totals.generic, 2);
        // dynamic, static-generic, hosting-cloud, esp-infra, custom-mail, custom-other
        assert_eq!(totals.class, [2, 0, 0, 0, 2, 3]);
        // high, medium, low, none
        assert_eq!(totals.severity, [4, 2, 1, 3]);
        // no-ptr, fcrdns-fail, generic-ptr, multiple-ptr, website-name, ehlo-mismatch
        assert_eq!(totals.findings, [2, 2, 2, 1, 2, 0]);
        assert_eq!(totals.score_sum, 123);
        assert_eq!(totals.scored, 10);
        assert_eq!(totals.mean_score(), Some(12.3));
        assert_eq!(totals.fcrdns_fail(), 2);
        assert_eq!(aggregate.score_histogram[0], 3);
        assert_eq!(aggregate.score_histogram[25], 2);
        assert_eq!(aggregate.score_histogram.iter().sum::<u64>(), 10);
        assert_eq!((aggregate.v4_rows, aggregate.v6_rows), (8, 2));

        // Per /24.
        let first = aggregate.v4[&(u32::from_be_bytes([198, 51, 100, 0]) >> 8)];
        assert_eq!(first.rows, 5);
        assert_eq!(first.fcrdns, [3, 1, 0, 1, 0, 0]);
        assert_eq!(first.severity, [2, 2, 0, 1]);
        assert_eq!(first.score_sum, 65);
        assert_eq!(first.worst_severity(), Some(Severity::High));
        let second = aggregate.v4[&(u32::from_be_bytes([198, 51, 101, 0]) >> 8)];
        assert_eq!(second.rows, 3);
        assert_eq!(second.fcrdns, [0, 0, 1, 1, 1, 0]);
        assert_eq!(second.severity, [2, 0, 0, 1]);
        assert_eq!(second.score_sum, 10);
        assert_eq!(aggregate.v4.len(), 2);
        let v6 = aggregate.v6[&0x2001_0db8_0000_0000];
        assert_eq!(v6.rows, 2);
        assert_eq!(v6.severity, [0, 0, 1, 1]);
        assert_eq!(v6.worst_severity(), Some(Severity::Low));

        // Zones: the first PTR name's parent, or the name when it is a
        // registrable domain.
        let zone = |name: &str| aggregate.zones.get(name).copied().unwrap_or_default();
        assert_eq!(zone("example.com").rows, 4);
        assert_eq!(zone("example.com").confirmed, 4);
        assert_eq!(zone("example.com").class, [0, 0, 0, 0, 2, 2]);
        assert_eq!(zone("dyn.isp.example.net").rows, 2);
        assert_eq!(zone("dyn.isp.example.net").generic, 2);
        assert_eq!(zone("dyn.isp.example.net").confirmed, 1);
        assert_eq!(zone("example.org").rows, 1);
        assert_eq!(aggregate.zones.len(), 3);

        // Problems: every row with a finding, worst first.
        assert_eq!(aggregate.problems.total, 7);
        let problems: Vec<String> = aggregate
            .problems
            .sorted()
            .iter()
            .map(|problem| problem.ip.to_string())
            .collect();
        assert_eq!(
            problems,
            [
                "198.51.100.4",
                "198.51.101.9",
                "198.51.100.3",
                "198.51.101.11",
                "198.51.100.2",
                "198.51.100.5",
                "2001:db8::2",
            ]
        );
    }

    #[test]
    fn caps_keep_counts_complete() {
        let limits = Limits {
            problem_rows: 3,
            v4_networks: 1,
            v6_networks: 1,
            zones: 1,
            mx_rows: 1,
        };
        let mut aggregate = Aggregate::new(AuditKind::Scan, limits);
        for row in table() {
            aggregate.add(&row);
        }
        assert_eq!(aggregate.totals.rows, 10);
        // The first /24 is kept; the second's three rows are "other".
        assert_eq!(aggregate.v4.len(), 1);
        assert_eq!(aggregate.v4_other.rows, 3);
        assert_eq!(aggregate.v6_other.rows, 0);
        assert_eq!(aggregate.zones.len(), 1);
        assert_eq!(
            aggregate.zones.values().map(|z| z.rows).sum::<u64>() + aggregate.zones_other.rows,
            7
        );
        // The three high rows displace the medium and low ones.
        assert_eq!(aggregate.problems.total, 7);
        let kept: Vec<Severity> = aggregate
            .problems
            .sorted()
            .iter()
            .map(|problem| problem.severity)
            .collect();
        assert_eq!(kept, [Severity::High; 3]);
    }

    #[test]
    fn zones() {
        assert_eq!(zone_of("198-51-100-7.dyn.example.net"), "dyn.example.net");
        assert_eq!(zone_of("mail.example.com"), "example.com");
        assert_eq!(zone_of("example.com"), "example.com");
        assert_eq!(zone_of("example.co.uk"), "example.co.uk");
        assert_eq!(zone_of("mail.example.co.uk"), "example.co.uk");
        assert_eq!(zone_of("localhost"), "localhost");
    }
}
