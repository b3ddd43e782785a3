//! The end-of-run summary: counts per verdict and error, from the rows that
//! were written, and the engine's counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::record::{ErrorKind, Fcrdns, Row};
use crate::stats::StatsSnapshot;

/// Counts over written rows (kept by the writer thread).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: u64,
    pub by_fcrdns: BTreeMap<Fcrdns, u64>,
    pub by_error: BTreeMap<ErrorKind, u64>,
    pub multi_ptr: u64,
}

impl Tally {
    pub fn add(&mut self, row: &Row) {
        self.rows += 1;
        *self.by_fcrdns.entry(row.fcrdns).or_default() += 1;
        if let Some(error) = row.error {
            *self.by_error.entry(error).or_default() += 1;
        }
        if row.ptr.len() > 1 {
            self.multi_ptr += 1;
        }
    }
}

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
