//! Per-resolver send pacing by absolute deadlines.
//!
//! Query i may leave at `start + i / rate`, not "sleep 1/rate after each
//! send": deadlines do not drift with loop latency, and the rate holds over
//! any window. A small catch-up allowance absorbs scheduling jitter without
//! letting an idle period turn into a burst.

use std::time::{Duration, Instant};

/// How far behind schedule the pacer may fall before it forgets the debt.
/// 5 ms at most: a 100 ms window can then exceed the rate by at most 5 %.
const MAX_CATCH_UP: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Pacer {
    /// `rate` in queries per second; `None` means unpaced.
    pub fn new(rate: Option<f64>) -> Self {
        let interval = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Pacer {
            interval,
            next: None,
        }
    }

    pub fn is_paced(&self) -> bool {
        self.interval.is_some()
    }

    /// Takes one send slot if the schedule allows it at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        let due = match self.next {
            None => now,
            Some(next) if next > now => return false,
            Some(next) => {
                let floor = now.checked_sub(MAX_CATCH_UP.max(interval)).unwrap_or(now);
                next.max(floor)
            }
        };
        self.next = Some(due + interval);
        true
    }

    /// When the next slot opens; `None` if one is open now or unpaced.
    pub fn next_slot(&self, now: Instant) -> Option<Instant> {
        match (self.interval, self.next) {
            (Some(_), Some(next)) if next > now => Some(next),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the pacer with a simulated clock that polls every `tick`.
    fn simulate(rate: f64, tick: Duration, total: Duration) -> Vec<Instant> {
        let mut pacer = Pacer::new(Some(rate));
        let start = Instant::now();
        let mut now = start;
        let mut sent = Vec::new();
        while now < start + total {
            while pacer.try_take(now) {
                sent.push(now);
            }
            now += tick;
        }
        sent
    }

    #[test]
    fn holds_the_rate_and_never_bursts() {
        let rate = 1000.0;
        let sent = simulate(rate, Duration::from_micros(300), Duration::from_secs(2));
        let achieved = sent.len() as f64 / 2.0;
        assert!((achieved - rate).abs() / rate < 0.03, "achieved {achieved}");
        // No 100 ms window carries more than 1.2 x its share.
        let start = sent[0];
        for window in 0..19 {
            let lo = start + Duration::from_millis(window * 100);
            let hi = lo + Duration::from_millis(100);
            let n = sent.iter().filter(|t| **t >= lo && **t < hi).count();
            assert!(n as f64 <= 1.2 * rate / 10.0, "window {window}: {n}");
        }
    }

    #[test]
    fn coarse_polling_still_reaches_the_rate() {
        // The loop may only look every 4 ms; the catch-up allowance keeps the rate.
        let sent = simulate(2000.0, Duration::from_millis(4), Duration::from_secs(1));
        assert!(sent.len() >= 1940, "sent {}", sent.len());
    }

    #[test]
    fn idle_time_is_not_banked_into_a_burst() {
        let mut pacer = Pacer::new(Some(100.0));
        let start = Instant::now();
        assert!(pacer.try_take(start));
        let later = start + Duration::from_secs(10);
        let mut burst = 0;
        while pacer.try_take(later) {
            burst += 1;
        }
        assert!(burst <= 2, "burst of {burst} after idling");
    }

    #[test]
    fn unpaced_always_allows() {
        let mut pacer = Pacer::new(None);
        let now = Instant::now();
        assert!((0..10_000).all(|_| pacer.try_take(now)));
        assert_eq!(pacer.next_slot(now), None);
    }
}
