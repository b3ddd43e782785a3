//! Per-resolver send pacing by absolute deadlines.
//!
//! Query i may leave at `start + i / rate`, not "sleep 1/rate after each
//! send": deadlines do not drift with loop latency, and the rate holds over
//! any window. A small catch-up allowance absorbs scheduling jitter without
//! letting an idle period turn into a burst.

use std::time::{Duration, Instant};

/// How far behind schedule the pacer may fall before it forgets the debt.
///
/// Slot i is due at `start + i × interval`, and a slot that is more than
/// this late is moved up to `now − MAX_CATCH_UP`. So the sends in any span
/// of time T number at most `(T + MAX_CATCH_UP) / interval + 1`: a 100 ms
/// window exceeds the rate by at most 5 % plus one query, however the loop
/// was scheduled before it. Catching up a longer stall would be a burst;
/// the time is lost instead (the engine's window is sized so that only a
/// stall of the scanner itself can cause one, see `resolvers::PACED_PAUSE`).
/// 5 ms also covers the loop's coarsest wake-up (`poll` rounds up to 1 ms).
pub const MAX_CATCH_UP: Duration = Duration::from_millis(5);

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
                // Not `MAX_CATCH_UP.max(interval)`: below 200 q/s that let
                // two queries go together after any pause.
                let floor = now.checked_sub(MAX_CATCH_UP).unwrap_or(now);
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
        assert_eq!(burst, 1, "burst of {burst} after idling");
    }

    /// Most sends in any window of `width` (windows starting at a send).
    fn busiest(sent: &[Instant], width: Duration) -> usize {
        let mut most = 0;
        let mut end = 0;
        for (start, &t) in sent.iter().enumerate() {
            while end < sent.len() && sent[end] < t + width {
                end += 1;
            }
            most = most.max(end - start);
        }
        most
    }

    /// Issue 4: the loop stalls (a busy machine, a long receive batch) and
    /// then polls eagerly. What was missed beyond the catch-up allowance is
    /// lost, not sent in a burst.
    #[test]
    fn a_stall_is_not_caught_up_with_a_burst() {
        let rate = 20_000.0;
        let interval = Duration::from_secs_f64(1.0 / rate);
        let catch_up_slots = (MAX_CATCH_UP.as_secs_f64() * rate) as usize;
        for stall in [3, 5, 20, 50, 300].map(Duration::from_millis) {
            let mut pacer = Pacer::new(Some(rate));
            let start = Instant::now();
            let mut sent = Vec::new();
            let mut now = start;
            // 100 ms on schedule, polled every 10 µs.
            while now < start + Duration::from_millis(100) {
                while pacer.try_take(now) {
                    sent.push(now);
                }
                now += Duration::from_micros(10);
            }
            let before = sent.len();
            now += stall;
            let resumed = now;
            while now < resumed + Duration::from_millis(200) {
                while pacer.try_take(now) {
                    sent.push(now);
                }
                now += Duration::from_micros(10);
            }
            let burst = sent[before..].iter().filter(|t| **t == resumed).count();
            let missed = (stall.as_secs_f64() * rate) as usize;
            assert!(
                burst <= missed.min(catch_up_slots) + 1,
                "stall {stall:?}: {burst} at once"
            );
            let window = busiest(&sent, Duration::from_millis(100));
            assert!(
                window <= catch_up_slots + 2000 + 1,
                "stall {stall:?}: {window} in 100 ms"
            );
            // Afterwards the schedule holds again: one slot per interval.
            let tail = sent
                .iter()
                .filter(|t| **t >= resumed + MAX_CATCH_UP)
                .count();
            let expected =
                (Duration::from_millis(195).as_secs_f64() / interval.as_secs_f64()) as usize;
            assert!(
                tail.abs_diff(expected) <= 2,
                "stall {stall:?}: {tail} after, {expected} due"
            );
        }
    }

    /// Many short stalls in a row: the catch-up allowance is per span of
    /// time, not per stall, so they cannot add up to a burst either.
    #[test]
    fn repeated_stalls_never_exceed_the_window_bound() {
        let rate = 2_000.0;
        let mut pacer = Pacer::new(Some(rate));
        let start = Instant::now();
        let mut now = start;
        let mut sent = Vec::new();
        let mut turn = 0u32;
        while now < start + Duration::from_secs(2) {
            while pacer.try_take(now) {
                sent.push(now);
            }
            turn += 1;
            // Mostly 200 µs turns, every 7th turn a stall of 4–12 ms.
            now += if turn.is_multiple_of(7) {
                Duration::from_millis(u64::from(4 + turn % 9))
            } else {
                Duration::from_micros(200)
            };
        }
        let window = busiest(&sent, Duration::from_millis(100));
        let bound = (0.105 * rate) as usize + 1;
        assert!(window <= bound, "{window} in 100 ms, bound {bound}");
    }

    #[test]
    fn unpaced_always_allows() {
        let mut pacer = Pacer::new(None);
        let now = Instant::now();
        assert!((0..10_000).all(|_| pacer.try_take(now)));
        assert_eq!(pacer.next_slot(now), None);
    }
}
