//! Counters written by the engine and lookups, read by the progress bar and
//! the summary. Relaxed atomics: each counter is independent, and a reader
//! that sees a value a few microseconds old is fine.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::validate::Reject;

#[derive(Debug, Default)]
pub struct Stats {
    pub targets_total: AtomicU64,
    pub rows_done: AtomicU64,
    pub queries_sent: AtomicU64,
    pub retransmissions: AtomicU64,
    pub answers: AtomicU64,
    pub timeouts: AtomicU64,
    pub server_failures: AtomicU64,
    pub retries: AtomicU64,
    pub tcp_fallbacks: AtomicU64,
    pub tcp_failures: AtomicU64,
    pub send_errors: AtomicU64,
    pub recv_errors: AtomicU64,
    pub in_flight: AtomicU64,
    pub forward_cache_hits: AtomicU64,
    rejects: [AtomicU64; Reject::ALL.len()],
}

/// A point-in-time copy, for display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub targets_total: u64,
    pub rows_done: u64,
    pub queries_sent: u64,
    pub retransmissions: u64,
    pub answers: u64,
    pub timeouts: u64,
    pub server_failures: u64,
    pub retries: u64,
    pub tcp_fallbacks: u64,
    pub tcp_failures: u64,
    pub send_errors: u64,
    pub recv_errors: u64,
    pub in_flight: u64,
    pub forward_cache_hits: u64,
    pub rejects: Vec<(Reject, u64)>,
}

impl Stats {
    pub fn count_sent(&self, retransmission: bool) {
        self.queries_sent.fetch_add(1, Relaxed);
        if retransmission {
            self.retransmissions.fetch_add(1, Relaxed);
        }
    }
    pub fn count_answer(&self) {
        self.answers.fetch_add(1, Relaxed);
    }
    pub fn count_timeout(&self) {
        self.timeouts.fetch_add(1, Relaxed);
    }
    pub fn count_server_failure(&self) {
        self.server_failures.fetch_add(1, Relaxed);
    }
    pub fn count_retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub fn count_tcp_fallback(&self) {
        self.tcp_fallbacks.fetch_add(1, Relaxed);
    }
    pub fn count_tcp_failure(&self) {
        self.tcp_failures.fetch_add(1, Relaxed);
    }
    pub fn count_send_error(&self) {
        self.send_errors.fetch_add(1, Relaxed);
    }
    pub fn count_recv_error(&self) {
        self.recv_errors.fetch_add(1, Relaxed);
    }
    pub fn count_reject(&self, reason: Reject) {
        self.rejects[reason.index()].fetch_add(1, Relaxed);
    }
    pub fn count_row(&self) {
        self.rows_done.fetch_add(1, Relaxed);
    }
    pub fn count_forward_cache_hit(&self) {
        self.forward_cache_hits.fetch_add(1, Relaxed);
    }
    pub fn set_in_flight(&self, value: u64) {
        self.in_flight.store(value, Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            targets_total: self.targets_total.load(Relaxed),
            rows_done: self.rows_done.load(Relaxed),
            queries_sent: self.queries_sent.load(Relaxed),
            retransmissions: self.retransmissions.load(Relaxed),
            answers: self.answers.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            server_failures: self.server_failures.load(Relaxed),
            retries: self.retries.load(Relaxed),
            tcp_fallbacks: self.tcp_fallbacks.load(Relaxed),
            tcp_failures: self.tcp_failures.load(Relaxed),
            send_errors: self.send_errors.load(Relaxed),
            recv_errors: self.recv_errors.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            forward_cache_hits: self.forward_cache_hits.load(Relaxed),
            rejects: Reject::ALL
                .iter()
                .map(|r| (*r, self.rejects[r.index()].load(Relaxed)))
                .collect(),
        }
    }
}
