//! Scans of the sample world through a real DNS server, directly and through
//! faults: every faulty path must produce exactly the rows of the clean scan.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::{Fault, FaultProxy, sample_server, sample_targets, scan_with, verdicts};

fn clean_scan(server: SocketAddr) -> support::ScanResult {
    let dir = tempfile::tempdir().expect("tempdir");
    scan_with(vec![server], sample_targets(), 3, dir.path())
}

#[test]
fn clean_scan_matches_the_zone_truth() {
    let server = sample_server();
    let result = clean_scan(server.addr());
    assert_eq!(result.row_count, 528, "one row per distinct address");
    assert_eq!(result.rows.len(), 528);
    let row = |ip: &str| {
        result
            .rows
            .get(ip)
            .unwrap_or_else(|| panic!("no row for {ip}"))
            .clone()
    };
    let expect = |ip: &str, ptr: &str, fcrdns: &str| {
        let r = row(ip);
        assert_eq!((r.ptr.as_str(), r.fcrdns.as_str()), (ptr, fcrdns), "{ip}");
        assert_eq!(r.error, "", "{ip}");
    };
    expect("198.51.100.10", "mail.example.com", "confirmed");
    expect("198.51.100.12", "www.example.com", "mismatch");
    expect("198.51.100.13", "ghost.example.com", "no_forward");
    expect(
        "198.51.100.16",
        "mail2.example.com|mx.example.org",
        "confirmed",
    );
    expect("198.51.100.18", "relay.example.org", "confirmed");
    expect(
        "198.51.100.19",
        "unassigned.example-broadband.net",
        "no_forward",
    );
    expect("198.51.100.40", "mx1.example.com", "confirmed");
    expect("198.51.100.99", "", "no_ptr");
    // RFC 2317: the PTR lives behind a CNAME in another zone.
    expect("203.0.113.70", "mail.example.net", "confirmed");
    expect("203.0.113.71", "customer-71.example.net", "no_forward");
    expect("203.0.113.72", "mail.example.com", "mismatch");
    expect("203.0.113.65", "", "no_ptr");
    assert_eq!(row("203.0.113.70").attempts, 2, "CNAME follow-up counted");
    // IPv6: AAAA, not A, confirms.
    expect("2001:db8:25::1", "mail6.example.com", "confirmed");
    expect("2001:db8:25::2", "mail.example.com", "no_forward");
    expect(
        "2001:db8:25::3",
        "2001-db8-25--3.dyn6.example-broadband.net",
        "confirmed",
    );
    expect("2001:db8:25::4", "mx6.example.org", "mismatch");
    assert_eq!(row("198.51.100.16").forward, "192.0.2.99|198.51.100.16");
    assert!(!result.report.interrupted);
}

#[test]
fn forged_replies_are_dropped_and_counted() {
    let server = sample_server();
    let clean = clean_scan(server.addr());
    let proxy = FaultProxy::start(server.addr(), Fault::Forge);
    let dir = tempfile::tempdir().expect("tempdir");
    let forged = scan_with(vec![proxy.addr], sample_targets(), 3, dir.path());
    assert_eq!(forged.row_count, 528);
    assert_eq!(verdicts(&forged), verdicts(&clean));
    assert!(
        forged.rows.values().all(|r| !r.ptr.contains("attacker")),
        "a forged name reached the output"
    );
    let summary = &forged.report.summary;
    for reason in ["wrong_source", "wrong_question", "too_short"] {
        assert!(
            summary.contains(reason),
            "summary does not count {reason}:\n{summary}"
        );
    }
}

#[test]
fn servfail_on_one_resolver_is_retried_on_the_other() {
    let server = sample_server();
    let clean = clean_scan(server.addr());
    let failing = FaultProxy::start(server.addr(), Fault::Servfail);
    let dir = tempfile::tempdir().expect("tempdir");
    let result = scan_with(
        vec![failing.addr, server.addr()],
        sample_targets(),
        3,
        dir.path(),
    );
    assert_eq!(result.row_count, 528);
    assert_eq!(verdicts(&result), verdicts(&clean));
    assert!(
        result.report.summary.contains("servfail"),
        "{}",
        result.report.summary
    );
}

#[test]
fn truncated_answers_are_retried_over_tcp() {
    let server = sample_server();
    let clean = clean_scan(server.addr());
    let truncating = FaultProxy::start(server.addr(), Fault::Truncate);
    let dir = tempfile::tempdir().expect("tempdir");
    let result = scan_with(vec![truncating.addr], sample_targets(), 3, dir.path());
    assert_eq!(verdicts(&result), verdicts(&clean));
    let summary = &result.report.summary;
    assert!(
        !summary.contains("tcp 0)"),
        "no TCP fallback counted:\n{summary}"
    );
}

#[test]
fn dead_resolver_gives_error_rows_within_the_retry_budget() {
    let dead = FaultProxy::start("127.0.0.1:9".parse().expect("addr"), Fault::Dead);
    let targets = ptrscan::targets::TargetSet::from_nets(["198.51.100.0/30".parse().expect("net")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let result = scan_with(vec![dead.addr], targets, 1, dir.path());
    // Initial RTO 1 s, one retry at 2 s: about 3 s, never a hang.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(result.row_count, 4);
    for row in result.rows.values() {
        assert_eq!(
            (row.fcrdns.as_str(), row.error.as_str()),
            ("error", "timeout")
        );
        assert_eq!(row.attempts, 2);
    }
}

#[test]
fn pool_with_a_dead_and_a_servfail_resolver_still_gives_exact_rows() {
    let server = sample_server();
    let clean = clean_scan(server.addr());
    let dead = FaultProxy::start(server.addr(), Fault::Dead);
    let failing = FaultProxy::start(server.addr(), Fault::Servfail);
    let dir = tempfile::tempdir().expect("tempdir");
    let result = scan_with(
        vec![dead.addr, failing.addr, server.addr()],
        sample_targets(),
        3,
        dir.path(),
    );
    assert_eq!(result.row_count, 528);
    assert_eq!(verdicts(&result), verdicts(&clean));
}
