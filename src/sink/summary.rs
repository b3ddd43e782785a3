//! The end-of-run summary: counts per verdict, error, PTR class and
//! severity from the rows that were written (optionally per network), and
//! the engine's counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use crate::classify::PtrClass;
use crate::findings::Severity;
use crate::record::{ErrorKind, Fcrdns, Row};
use crate::stats::StatsSnapshot;

/// Prefix lengths that group addresses into networks for `--summary-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    pub v4: u8,
    pub v6: u8,
}

impl Grouping {
    /// The network an address belongs to.
    pub fn network(self, ip: IpAddr) -> IpNet {
        let length = match ip {
            IpAddr::V4(_) => self.v4.min(32),
            IpAddr::V6(_) => self.v6.min(128),
        };
        // A length within the family's bounds cannot fail; fall back to the host.
        IpNet::new(ip, length).map_or(IpNet::from(ip), |net| net.trunc())
    }
}

/// Networks counted one by one at most; the rest are summed as "other".
/// A network costs ~140 bytes here, so this is ~9 MiB: a /8 grouped by /24
/// fits exactly, and a /8 grouped by /32 stays within the memory budget
/// (at 2^20 networks a /12 by /32 peaked at 163 MiB, issue 7).
pub const MAX_NETWORKS: usize = 1 << 16;

/// Per-network counts for `--summary-by`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkCounts {
    pub rows: u64,
    pub with_ptr: u64,
    pub confirmed: u64,
    pub generic: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub score_sum: u64,
}

impl NetworkCounts {
    fn add(&mut self, row: &Row) {
        self.rows += 1;
        self.with_ptr += u64::from(!row.ptr.is_empty());
        self.confirmed += u64::from(row.fcrdns == Fcrdns::Confirmed);
        self.generic += u64::from(row.audit.generic == Some(true));
        match row.audit.severity {
            Some(Severity::High) => self.high += 1,
            Some(Severity::Medium) => self.medium += 1,
            Some(Severity::Low) => self.low += 1,
            None => {}
        }
        self.score_sum += u64::from(row.audit.score);
    }

    pub fn mean_score(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.score_sum as f64 / self.rows as f64
        }
    }
}

/// Counts over written rows (kept by the writer thread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub rows: u64,
    pub by_fcrdns: BTreeMap<Fcrdns, u64>,
    pub by_error: BTreeMap<ErrorKind, u64>,
    pub multi_ptr: u64,
    /// Rows with a PTR name, by the class of that name.
    pub by_class: BTreeMap<PtrClass, u64>,
    /// Rows by their highest severity; `None` counts rows without findings.
    pub by_severity: BTreeMap<Option<Severity>, u64>,
    pub score_sum: u64,
    pub grouping: Option<Grouping>,
    pub networks: BTreeMap<IpNet, NetworkCounts>,
    /// Rows of networks past [`MAX_NETWORKS`].
    pub other_networks: NetworkCounts,
}

impl Tally {
    pub fn new(grouping: Option<Grouping>) -> Self {
        Tally {
            grouping,
            ..Tally::default()
        }
    }

    pub fn add(&mut self, row: &Row) {
        self.rows += 1;
        *self.by_fcrdns.entry(row.fcrdns).or_default() += 1;
        if let Some(error) = row.error {
            *self.by_error.entry(error).or_default() += 1;
        }
        if row.ptr.len() > 1 {
            self.multi_ptr += 1;
        }
        if let Some(class) = row.audit.ptr_class {
            *self.by_class.entry(class).or_default() += 1;
        }
        *self.by_severity.entry(row.audit.severity).or_default() += 1;
        self.score_sum += u64::from(row.audit.score);
        if let Some(grouping) = self.grouping {
            let network = grouping.network(row.ip);
            let full = self.networks.len() >= MAX_NETWORKS;
            match self.networks.get_mut(&network) {
                Some(counts) => counts.add(row),
                None if full => self.other_networks.add(row),
                None => self.networks.entry(network).or_default().add(row),
            }
        }
    }

    pub fn mean_score(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.score_sum as f64 / self.rows as f64
        }
    }
}

/// Networks listed in the printed summary, worst first; the rest are counted.
pub const NETWORKS_SHOWN: usize = 40;

/// Everything the summary shows besides the tally.
pub struct RunFacts<'a> {
    pub stats: &'a StatsSnapshot,
    pub elapsed: Duration,
    pub resolvers: Vec<ResolverLine>,
    pub interrupted: bool,
}

pub struct ResolverLine {
    pub addr: String,
    pub sent: u64,
    pub answered: u64,
    pub timeouts: u64,
    pub servfail: u64,
    pub refused: u64,
    pub quarantines: u32,
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn render_audit(out: &mut String, tally: &Tally) {
    let with_ptr: u64 = tally.by_class.values().sum();
    if with_ptr > 0 {
        let _ = writeln!(out, "  {:<15} {:>7} {:>7}", "ptr_class", "rows", "share");
        for class in PtrClass::ALL {
            let count = tally.by_class.get(&class).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "  {:<15} {:>7} {:>7}",
                class.as_str(),
                count,
                percent(count, with_ptr)
            );
        }
    }
    let severities: Vec<String> = [
        Some(Severity::High),
        Some(Severity::Medium),
        Some(Severity::Low),
        None,
    ]
    .into_iter()
    .map(|severity| {
        let count = tally.by_severity.get(&severity).copied().unwrap_or(0);
        format!("{} {count}", severity.map_or("none", Severity::as_str))
    })
    .collect();
    let _ = writeln!(
        out,
        "  severity: {}; mean score {:.1}/25",
        severities.join(", "),
        tally.mean_score()
    );
    if let Some(grouping) = tally.grouping {
        render_networks(out, tally, grouping);
    }
}

fn render_networks(out: &mut String, tally: &Tally, grouping: Grouping) {
    let _ = writeln!(
        out,
        "  per network (IPv4 /{}, IPv6 /{}; {} networks, worst first):",
        grouping.v4,
        grouping.v6,
        tally.networks.len()
    );
    let _ = writeln!(
        out,
        "  {:<24} {:>7} {:>7} {:>9} {:>7} {:>6} {:>6} {:>6} {:>6}",
        "network", "rows", "ptr", "confirmed", "generic", "high", "medium", "low", "score"
    );
    let mut ranked: Vec<(&IpNet, &NetworkCounts)> = tally.networks.iter().collect();
    // Worst first: most high-severity rows, then most medium, then lowest
    // score; ties by address so the order is stable.
    ranked.sort_by(|(net_a, a), (net_b, b)| {
        b.high
            .cmp(&a.high)
            .then(b.medium.cmp(&a.medium))
            .then(a.mean_score().total_cmp(&b.mean_score()))
            .then(net_a.cmp(net_b))
    });
    let line = |out: &mut String, label: &str, counts: &NetworkCounts| {
        let _ = writeln!(
            out,
            "  {:<24} {:>7} {:>7} {:>9} {:>7} {:>6} {:>6} {:>6} {:>6.1}",
            label,
            counts.rows,
            counts.with_ptr,
            counts.confirmed,
            counts.generic,
            counts.high,
            counts.medium,
            counts.low,
            counts.mean_score()
        );
    };
    for (network, counts) in ranked.iter().take(NETWORKS_SHOWN) {
        line(out, &network.to_string(), counts);
    }
    if ranked.len() > NETWORKS_SHOWN {
        let _ = writeln!(
            out,
            "  … {} more networks (the output file has every row: group it by network for the full view)",
            ranked.len() - NETWORKS_SHOWN
        );
    }
    if tally.other_networks.rows > 0 {
        line(out, "(other networks)", &tally.other_networks);
    }
}

/// Renders the summary table (plain text, fixed column widths).
pub fn render(tally: &Tally, facts: &RunFacts<'_>) -> String {
    let mut out = String::new();
    let title = if facts.interrupted {
        "ptrscan summary (interrupted: rows cover the addresses finished so far)"
    } else {
        "ptrscan summary"
    };
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "  {:<12} {:>10} {:>7}", "fcrdns", "rows", "share");
    for status in Fcrdns::ALL {
        let count = tally.by_fcrdns.get(&status).copied().unwrap_or(0);
        if count == 0 && matches!(status, Fcrdns::Unchecked) {
            continue;
        }
        let _ = writeln!(
            out,
            "  {:<12} {:>10} {:>7}",
            status.as_str(),
            count,
            percent(count, tally.rows)
        );
    }
    let _ = writeln!(out, "  {:<12} {:>10}", "total", tally.rows);
    if tally.multi_ptr > 0 {
        let _ = writeln!(
            out,
            "  addresses with several PTR names: {}",
            tally.multi_ptr
        );
    }
    render_audit(&mut out, tally);
    if !tally.by_error.is_empty() {
        let errors: Vec<String> = tally
            .by_error
            .iter()
            .map(|(kind, n)| format!("{} {n}", kind.as_str()))
            .collect();
        let _ = writeln!(out, "  errors: {}", errors.join(", "));
    }
    let stats = facts.stats;
    let seconds = facts.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "  queries {} (retransmissions {}, tcp {}), answers {}, timeouts {}, server failures {}",
        stats.queries_sent,
        stats.retransmissions,
        stats.tcp_fallbacks,
        stats.answers,
        stats.timeouts,
        stats.server_failures
    );
    let dropped: Vec<String> = stats
        .rejects
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(reason, n)| format!("{} {n}", reason.as_str()))
        .collect();
    if !dropped.is_empty() {
        let _ = writeln!(out, "  datagrams dropped: {}", dropped.join(", "));
    }
    if stats.send_errors > 0 {
        let _ = writeln!(out, "  send errors: {}", stats.send_errors);
    }
    for resolver in &facts.resolvers {
        let mut line = format!(
            "  resolver {}: sent {}, answered {}, timeouts {}, servfail {}, refused {}",
            resolver.addr,
            resolver.sent,
            resolver.answered,
            resolver.timeouts,
            resolver.servfail,
            resolver.refused
        );
        if resolver.quarantines > 0 {
            let _ = write!(line, ", quarantined {}x", resolver.quarantines);
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "  elapsed {:.2}s, {:.0} addresses/s, {:.0} queries/s",
        facts.elapsed.as_secs_f64(),
        tally.rows as f64 / seconds,
        stats.queries_sent as f64 / seconds
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Audit, Fcrdns};
    use std::net::Ipv4Addr;

    fn row(ip: Ipv4Addr) -> Row {
        Row {
            ip: IpAddr::V4(ip),
            ptr: Default::default(),
            forward: Default::default(),
            fcrdns: Fcrdns::NoPtr,
            rcode: None,
            error: None,
            resolver: None,
            attempts: 1,
            rtt_ms: None,
            audit: Audit::default(),
            position: None,
        }
    }

    #[test]
    fn networks_past_the_cap_are_counted_as_other() {
        let mut tally = Tally::new(Some(Grouping { v4: 32, v6: 128 }));
        let extra = 10;
        for i in 0..(MAX_NETWORKS + extra) as u32 {
            tally.add(&row(Ipv4Addr::from(0x0a00_0000 + i)));
        }
        // The first address again still counts in its own network.
        tally.add(&row(Ipv4Addr::new(10, 0, 0, 0)));
        assert_eq!(tally.networks.len(), MAX_NETWORKS);
        assert_eq!(tally.other_networks.rows, extra as u64);
        assert_eq!(tally.rows, (MAX_NETWORKS + extra + 1) as u64);
        let first = IpNet::from(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)));
        assert_eq!(tally.networks[&first].rows, 2);
    }
}
