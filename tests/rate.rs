//! `--rate R` (issue 4): the achieved rate is within ±3 % of R, and smooth:
//! no 100 ms window carries more than 1.2 × R × 0.1 s queries.
//!
//! A real scan with the command line's defaults (adaptive window, 5
//! retries) through the in-process DNS server, with a relay in front of it
//! that records the kernel's receive time of every query (see
//! `support::relay`): what is measured is when the scanner's datagrams hit
//! the loopback, whatever the relay's own thread was doing then.
//!
//! Why it holds on a loaded 2-core machine: no pacing slot may be more than
//! `pacing::MAX_CATCH_UP` (5 ms) late, so however the scan loop is
//! scheduled a 100 ms window carries at most 1.05 × its share plus one
//! query, and a longer stall of the scanner costs its slots rather than
//! turning into a burst. A paced resolver's window covers a 100 ms pause of
//! the server (`resolvers::PACED_PAUSE`), so a server slowed down by the
//! same load does not stop the flow either: with three busy loops on the
//! two cores these scans stay within 0.3 % of R; with the window left to
//! the unpaced controller they fell 11–21 % short at 20,000 q/s.

mod support;

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};

use ptrscan::scan;
use ptrscan::targets::TargetSet;
use ptrscan::zoneserver::{ZoneServer, ZoneText};
use support::relay::TimestampRelay;

/// One paced scan at a time: two side by side on a 2-core machine would
/// measure each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 198.18.0.0/16 without a single PTR: every address is one question with
/// a final answer (NXDOMAIN), so the query count is the target count.
const REVERSE_ZONE: &str = "$TTL 300
@ IN SOA ns.rate.test. hostmaster.rate.test. 1 3600 600 86400 300
@ IN NS ns.rate.test.
";

/// What the relay saw of one scan.
struct Traffic {
    /// Kernel receive times, nanoseconds, sorted.
    arrivals: Vec<i128>,
    dropped_by_relay: u32,
    targets: u64,
}

impl Traffic {
    /// Queries per second from the first arrival to the last. N arrivals
    /// span N − 1 intervals of the pacer's schedule (`start + i / R`), so
    /// the count is N − 1: the first query opens the measurement, it does
    /// not need a slot of its own. Retransmissions count like any query:
    /// the pacer spends its slots on them too, and the resolver sees them.
    fn achieved_rate(&self) -> f64 {
        let n = self.arrivals.len();
        let span = (self.arrivals[n - 1] - self.arrivals[0]) as f64 / 1e9;
        (n - 1) as f64 / span
    }

    /// The longest pauses between two queries, milliseconds, longest first:
    /// what a failure has to explain (a stall of the scanner, or a window
    /// that filled while the server was slow).
    fn longest_pauses(&self, count: usize) -> Vec<f64> {
        let mut gaps: Vec<i128> = self.arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable_by(|a, b| b.cmp(a));
        gaps.iter()
            .take(count)
            .map(|&gap| gap as f64 / 1e6)
            .collect()
    }

    /// Most queries in any window of `width_ns` (every window that starts
    /// at an arrival: the busiest window always does).
    fn busiest_window(&self, width_ns: i128) -> usize {
        let mut most = 0;
        let mut end = 0;
        for (start, &t) in self.arrivals.iter().enumerate() {
            while end < self.arrivals.len() && self.arrivals[end] < t + width_ns {
                end += 1;
            }
            most = most.max(end - start);
        }
        most
    }
}

fn paced_scan(rate: f64, prefixes: &[&str]) -> Traffic {
    let server = ZoneServer::start(&[ZoneText {
        origin: "18.198.in-addr.arpa.",
        text: REVERSE_ZONE,
    }])
    .expect("server starts");
    let relay = TimestampRelay::start(server.addr());
    let targets = TargetSet::from_nets(
        prefixes
            .iter()
            .map(|prefix| prefix.parse().expect("test prefix")),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::scan_config(
        vec![relay.addr],
        targets,
        5,
        Some(rate),
        &dir.path().join("rows.csv"),
    );
    let stop = AtomicBool::new(false);
    let report = scan::run(&config, &stop, false).expect("scan runs");
    assert!(report.failure.is_none() && !report.interrupted);
    let mut arrivals = relay.arrivals();
    arrivals.sort_unstable();
    Traffic {
        arrivals,
        dropped_by_relay: relay.dropped(),
        targets: report.tally.rows,
    }
}

fn assert_paced(rate: f64, prefixes: &[&str]) {
    let _guard = one_at_a_time();
    let traffic = paced_scan(rate, prefixes);
    let n = traffic.arrivals.len();
    assert_eq!(
        traffic.dropped_by_relay, 0,
        "the relay's socket overflowed: the record has gaps (machine overloaded?)"
    );
    assert!(
        n as u64 >= traffic.targets,
        "{n} queries for {} targets",
        traffic.targets
    );
    let achieved = traffic.achieved_rate();
    let window_limit = 1.2 * rate * 0.1;
    let busiest = traffic.busiest_window(100_000_000);
    eprintln!(
        "--rate {rate}: {n} queries for {} targets, achieved {achieved:.0} q/s ({:+.2} %), \
         busiest 100 ms window {busiest} queries ({:.3} x R x 0.1 s)",
        traffic.targets,
        (achieved / rate - 1.0) * 100.0,
        busiest as f64 / (rate * 0.1)
    );
    assert!(
        (achieved - rate).abs() <= 0.03 * rate,
        "achieved {achieved:.0} q/s for --rate {rate}; longest pauses (ms): {:?}",
        traffic.longest_pauses(8)
    );
    assert!(
        busiest as f64 <= window_limit,
        "a 100 ms window carried {busiest} queries (limit {window_limit:.0}) at --rate {rate}"
    );
}

/// 4,096 queries at 2,000 q/s: about 2 s.
#[test]
fn rate_2000_is_accurate_and_smooth() {
    assert_paced(2_000.0, &["198.18.16.0/20"]);
}

/// 40,960 queries at 20,000 q/s: about 2 s.
#[test]
fn rate_20000_is_accurate_and_smooth() {
    assert_paced(20_000.0, &["198.18.0.0/17", "198.18.128.0/19"]);
}
