//! The resolver pool: who gets the next query, how long to wait for it, and
//! how many may be outstanding.
//!
//! Three small controllers per resolver, each pure and tested on its own:
//! - [`RttEstimator`]: RFC 6298 smoothed RTT and variance → retransmission
//!   timeout, so a lost packet on loopback costs milliseconds and a slow
//!   recursive resolver is not flooded with early retransmissions;
//! - [`ConcurrencyLimit`]: how many queries may be in flight, grown while the
//!   resolver keeps up and cut when it starts queueing or dropping — random
//!   loss alone does not shrink it, so 5 % loss does not collapse the rate;
//! - [`Health`]: a resolver that fails everything (dead, or SERVFAIL/REFUSED
//!   to all) is quarantined with exponential backoff, then probed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::pacing::Pacer;

/// RFC 6298 §2.1 starts at 1 s; we know nothing about the resolver yet.
pub const INITIAL_RTO: Duration = Duration::from_secs(1);
/// Floor for the timeout: loopback RTTs are microseconds, but a loaded
/// server's queue can hold a few milliseconds of answers; retransmitting
/// earlier would only add load.
pub const MIN_RTO: Duration = Duration::from_millis(50);
/// Ceiling for one attempt's timeout, after backoff.
pub const MAX_RTO: Duration = Duration::from_secs(5);

/// Smoothed round-trip time and variance (RFC 6298 §2).
#[derive(Debug, Clone, Default)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
}

impl RttEstimator {
    pub fn observe(&mut self, sample: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(sample);
                self.rttvar = sample / 2;
            }
            Some(srtt) => {
                // RFC 6298 §2.3: beta = 1/4, alpha = 1/8.
                let delta = srtt.abs_diff(sample);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + sample) / 8);
            }
        }
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Timeout for the first attempt; the engine doubles it per retry.
    pub fn rto(&self) -> Duration {
        match self.srtt {
            None => INITIAL_RTO,
            Some(srtt) => {
                (srtt + (self.rttvar * 4).max(Duration::from_millis(1))).clamp(MIN_RTO, MAX_RTO)
            }
        }
    }

    /// Timeout for attempt `attempt` (0-based) with exponential backoff (RFC 6298 §5.5).
    pub fn rto_for_attempt(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(6);
        (self.rto() * factor).min(MAX_RTO)
    }
}

/// Adaptive limit on queries in flight to one resolver.
///
/// Evaluated once per round (about `limit` completions): loss above 8 % of
/// a round or a queue that has grown the RTT to several
/// times its floor by several milliseconds cuts the limit; a round with
/// little loss and no queueing grows it by a quarter. Isolated loss is left
/// to retransmission: cutting on every timeout would turn 5 % random loss
/// into a crawl, as it does for TCP.
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit {
    limit: f64,
    min: f64,
    max: f64,
    round_completions: u32,
    round_losses: u32,
    round_rtt_sum: Duration,
    round_rtt_count: u32,
    /// Lowest RTT of the current and previous epoch: the floor moves if the
    /// path changes, but one quiet moment does not define it forever.
    epoch_min_rtt: Option<Duration>,
    previous_epoch_min_rtt: Option<Duration>,
    rounds_in_epoch: u32,
}

/// Loss above this in a round means the resolver (or its socket buffer) is
/// overloaded: measured on knotd, overshooting the knee costs 13-22 % loss,
/// while a lossy path drops a steady few percent that retransmission absorbs.
const HEAVY_LOSS: f64 = 0.08;
/// Growth only while nearly everything is answered.
const LIGHT_LOSS: f64 = 0.01;
const ROUNDS_PER_EPOCH: u32 = 16;

impl ConcurrencyLimit {
    pub fn new(initial: usize, min: usize, max: usize) -> Self {
        let min = min.max(1) as f64;
        let max = (max as f64).max(min);
        ConcurrencyLimit {
            limit: (initial as f64).clamp(min, max),
            min,
            max,
            round_completions: 0,
            round_losses: 0,
            round_rtt_sum: Duration::ZERO,
            round_rtt_count: 0,
            epoch_min_rtt: None,
            previous_epoch_min_rtt: None,
            rounds_in_epoch: 0,
        }
    }

    /// A fixed limit (the user asked for `--concurrency N`).
    pub fn fixed(limit: usize) -> Self {
        Self::new(limit, limit, limit)
    }

    pub fn current(&self) -> usize {
        self.limit as usize
    }

    pub fn on_answer(&mut self, rtt: Duration) {
        self.round_completions += 1;
        self.round_rtt_sum += rtt;
        self.round_rtt_count += 1;
        self.epoch_min_rtt = Some(self.epoch_min_rtt.map_or(rtt, |m| m.min(rtt)));
        self.maybe_end_round();
    }

    pub fn on_loss(&mut self) {
        self.round_completions += 1;
        self.round_losses += 1;
        self.maybe_end_round();
    }

    fn floor_rtt(&self) -> Option<Duration> {
        match (self.epoch_min_rtt, self.previous_epoch_min_rtt) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn maybe_end_round(&mut self) {
        let round_size = (self.limit as u32).clamp(16, 4096);
        if self.round_completions < round_size {
            return;
        }
        let loss = f64::from(self.round_losses) / f64::from(self.round_completions);
        let queueing = match (self.floor_rtt(), self.round_rtt_count) {
            (Some(floor), n) if n > 0 => {
                let average = self.round_rtt_sum / n;
                let ratio = average.as_secs_f64() / floor.as_secs_f64().max(1e-6);
                let excess = average.saturating_sub(floor);
                if ratio > 4.0 && excess > Duration::from_millis(5) {
                    Queueing::Heavy
                } else if ratio > 2.0 && excess > Duration::from_millis(2) {
                    Queueing::Some
                } else {
                    Queueing::None
                }
            }
            _ => Queueing::None,
        };
        if loss > HEAVY_LOSS {
            self.limit *= 0.7;
        } else if queueing == Queueing::Heavy {
            self.limit *= 0.85;
        } else if loss < LIGHT_LOSS && queueing == Queueing::None {
            self.limit += (self.limit * 0.25).max(4.0);
        }
        self.limit = self.limit.clamp(self.min, self.max);
        self.round_completions = 0;
        self.round_losses = 0;
        self.round_rtt_sum = Duration::ZERO;
        self.round_rtt_count = 0;
        self.rounds_in_epoch += 1;
        if self.rounds_in_epoch >= ROUNDS_PER_EPOCH {
            self.previous_epoch_min_rtt = self.epoch_min_rtt.take();
            self.rounds_in_epoch = 0;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queueing {
    None,
    Some,
    Heavy,
}

/// Consecutive failures before a resolver is set aside. High enough that a
/// run of broken reverse zones (which SERVFAIL on any resolver) does not
/// quarantine a good resolver; any definitive answer resets it.
const QUARANTINE_AFTER: u32 = 32;
const ALIVE_WINDOW: Duration = Duration::from_secs(1);
const FIRST_QUARANTINE: Duration = Duration::from_millis(500);
const MAX_QUARANTINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct Health {
    consecutive_failures: u32,
    last_success: Option<Instant>,
    quarantined_until: Option<Instant>,
    next_backoff: Option<Duration>,
    /// Times this resolver was quarantined in this run.
    pub quarantines: u32,
}

impl Health {
    pub fn on_success(&mut self, now: Instant) {
        self.last_success = Some(now);
        self.consecutive_failures = 0;
        self.next_backoff = None;
        self.quarantined_until = None;
    }

    pub fn on_failure(&mut self, now: Instant) {
        self.consecutive_failures += 1;
        // A resolver that answered anything within the last second is alive
        // (merely overloaded, which the concurrency limit handles).
        let recently_alive = self
            .last_success
            .is_some_and(|t| now.saturating_duration_since(t) < ALIVE_WINDOW);
        if self.consecutive_failures >= QUARANTINE_AFTER
            && !recently_alive
            && !self.is_quarantined(now)
        {
            let backoff = self.next_backoff.unwrap_or(FIRST_QUARANTINE);
            self.quarantined_until = Some(now + backoff);
            self.next_backoff = Some((backoff * 2).min(MAX_QUARANTINE));
            self.quarantines += 1;
            // After the quarantine one probe decides: a failure re-quarantines at once.
            self.consecutive_failures = QUARANTINE_AFTER - 1;
        }
    }

    pub fn is_quarantined(&self, now: Instant) -> bool {
        self.quarantined_until.is_some_and(|until| now < until)
    }

    pub fn quarantined_until(&self) -> Option<Instant> {
        self.quarantined_until
    }

    /// On probation: just out of quarantine, no success yet. Such a resolver
    /// gets one query at a time until it answers.
    pub fn on_probation(&self, now: Instant) -> bool {
        self.quarantined_until.is_some_and(|until| now >= until)
    }
}

/// Counters per resolver for the summary.
#[derive(Debug, Clone, Default)]
pub struct ResolverCounters {
    pub sent: u64,
    pub answered: u64,
    pub timeouts: u64,
    pub servfail: u64,
    pub refused: u64,
}

pub struct Resolver {
    pub addr: SocketAddr,
    pub pacer: Pacer,
    pub rtt: RttEstimator,
    pub limit: ConcurrencyLimit,
    pub health: Health,
    pub in_flight: usize,
    pub counters: ResolverCounters,
}

impl Resolver {
    fn capacity(&self, now: Instant) -> usize {
        if self.health.is_quarantined(now) {
            return 0;
        }
        let limit = if self.health.on_probation(now) {
            1
        } else {
            self.limit.current()
        };
        limit.saturating_sub(self.in_flight)
    }
}

/// How the pool sizes its concurrency.
#[derive(Debug, Clone, Copy)]
pub enum ConcurrencyPolicy {
    Adaptive,
    Fixed(usize),
}

/// Default ceilings: a loopback resolver is ours to saturate; a remote one
/// (often a shared recursive resolver with ~1000 query slots per thread)
/// gets a polite ceiling.
const LOOPBACK_MAX_IN_FLIGHT: usize = 8192;
const REMOTE_MAX_IN_FLIGHT: usize = 512;
const INITIAL_IN_FLIGHT: usize = 64;

pub struct ResolverPool {
    resolvers: Vec<Resolver>,
    cursor: usize,
}

impl ResolverPool {
    pub fn new(addrs: &[SocketAddr], rate: Option<f64>, policy: ConcurrencyPolicy) -> Self {
        let resolvers = addrs
            .iter()
            .map(|&addr| {
                let limit = match policy {
                    ConcurrencyPolicy::Fixed(n) => ConcurrencyLimit::fixed(n),
                    ConcurrencyPolicy::Adaptive => {
                        let max = if crate::net::is_loopback(addr.ip()) {
                            LOOPBACK_MAX_IN_FLIGHT
                        } else {
                            REMOTE_MAX_IN_FLIGHT
                        };
                        ConcurrencyLimit::new(INITIAL_IN_FLIGHT, 8, max)
                    }
                };
                Resolver {
                    addr,
                    pacer: Pacer::new(rate),
                    rtt: RttEstimator::default(),
                    limit,
                    health: Health::default(),
                    in_flight: 0,
                    counters: ResolverCounters::default(),
                }
            })
            .collect();
        ResolverPool {
            resolvers,
            cursor: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.resolvers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resolvers.is_empty()
    }

    pub fn get(&self, index: usize) -> &Resolver {
        &self.resolvers[index]
    }

    pub fn get_mut(&mut self, index: usize) -> &mut Resolver {
        &mut self.resolvers[index]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Resolver> {
        self.resolvers.iter()
    }

    /// Total queries the pool would take now.
    pub fn capacity(&self, now: Instant) -> usize {
        self.resolvers.iter().map(|r| r.capacity(now)).sum()
    }

    /// Whether [`pick`](Self::pick) would find a resolver now.
    pub fn can_take(&self, now: Instant) -> bool {
        self.capacity(now) > 0 || self.all_quarantined_fallback(now).is_some()
    }

    /// When every resolver is quarantined, the one released soonest still gets
    /// one question at a time: the scan must finish, with error rows if need be.
    fn all_quarantined_fallback(&self, now: Instant) -> Option<usize> {
        if self.resolvers.is_empty() || !self.resolvers.iter().all(|r| r.health.is_quarantined(now))
        {
            return None;
        }
        let soonest = (0..self.resolvers.len())
            .min_by_key(|&i| self.resolvers[i].health.quarantined_until())?;
        (self.resolvers[soonest].in_flight == 0).then_some(soonest)
    }

    /// Picks a resolver with room, round-robin, preferring ones whose bit is
    /// not in `tried` (a retry goes elsewhere when it can). When every
    /// resolver is quarantined, see `all_quarantined_fallback`.
    pub fn pick(&mut self, now: Instant, tried: u64) -> Option<usize> {
        let n = self.resolvers.len();
        if n == 0 {
            return None;
        }
        let mut fallback = None;
        for step in 0..n {
            let index = (self.cursor + step) % n;
            if self.resolvers[index].capacity(now) == 0 {
                continue;
            }
            if tried & (1u64 << (index % 64)) == 0 {
                self.cursor = (index + 1) % n;
                return Some(index);
            }
            fallback.get_or_insert(index);
        }
        fallback.or_else(|| self.all_quarantined_fallback(now))
    }

    /// Quarantined resolvers' count, for the summary.
    pub fn quarantines(&self) -> u32 {
        self.resolvers.iter().map(|r| r.health.quarantines).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_follows_rfc_6298() {
        let mut rtt = RttEstimator::default();
        assert_eq!(rtt.rto(), INITIAL_RTO);
        rtt.observe(Duration::from_millis(100));
        // srtt = 100, rttvar = 50 → rto = 100 + 200 = 300 ms.
        assert_eq!(rtt.rto(), Duration::from_millis(300));
        for _ in 0..50 {
            rtt.observe(Duration::from_millis(100));
        }
        assert!(rtt.rto() < Duration::from_millis(110));
        assert_eq!(rtt.rto_for_attempt(1), rtt.rto() * 2);
        assert_eq!(rtt.rto_for_attempt(20), MAX_RTO);
    }

    #[test]
    fn rto_has_a_floor_for_loopback() {
        let mut rtt = RttEstimator::default();
        for _ in 0..20 {
            rtt.observe(Duration::from_micros(40));
        }
        assert_eq!(rtt.rto(), MIN_RTO);
    }

    fn run_rounds(
        limit: &mut ConcurrencyLimit,
        rounds: usize,
        rtt: Duration,
        loss_every: Option<usize>,
    ) {
        for _ in 0..rounds {
            let n = limit.current().max(16);
            for i in 0..n {
                match loss_every {
                    Some(k) if i % k == 0 => limit.on_loss(),
                    _ => limit.on_answer(rtt),
                }
            }
        }
    }

    #[test]
    fn limit_grows_when_the_resolver_keeps_up() {
        let mut limit = ConcurrencyLimit::new(64, 8, 8192);
        run_rounds(&mut limit, 20, Duration::from_micros(200), None);
        assert!(limit.current() > 1000, "limit {}", limit.current());
    }

    #[test]
    fn random_loss_of_five_percent_does_not_shrink_the_limit() {
        let mut limit = ConcurrencyLimit::new(512, 8, 8192);
        run_rounds(&mut limit, 10, Duration::from_micros(200), Some(20));
        assert!(limit.current() >= 512, "limit {}", limit.current());
    }

    #[test]
    fn heavy_loss_cuts_the_limit() {
        let mut limit = ConcurrencyLimit::new(1024, 8, 8192);
        run_rounds(&mut limit, 5, Duration::from_micros(200), Some(3));
        assert!(limit.current() < 400, "limit {}", limit.current());
    }

    #[test]
    fn queueing_delay_cuts_the_limit() {
        let mut limit = ConcurrencyLimit::new(1024, 8, 8192);
        run_rounds(&mut limit, 1, Duration::from_millis(1), None);
        let before = limit.current();
        run_rounds(&mut limit, 5, Duration::from_millis(20), None);
        assert!(limit.current() < before, "{} !< {before}", limit.current());
    }

    #[test]
    fn quarantine_backs_off_and_recovers() {
        let start = Instant::now();
        let mut health = Health::default();
        for _ in 0..QUARANTINE_AFTER {
            health.on_failure(start);
        }
        assert!(health.is_quarantined(start));
        let after = start + FIRST_QUARANTINE;
        assert!(!health.is_quarantined(after));
        assert!(health.on_probation(after));
        // The probe fails: straight back in, for twice as long.
        health.on_failure(after);
        assert!(health.is_quarantined(after + FIRST_QUARANTINE * 2 - Duration::from_millis(1)));
        assert_eq!(health.quarantines, 2);
        health.on_success(after);
        assert!(!health.is_quarantined(after));
        assert!(!health.on_probation(after));
    }

    #[test]
    fn a_resolver_that_answers_is_never_quarantined_for_bursts_of_loss() {
        let start = Instant::now();
        let mut health = Health::default();
        health.on_success(start);
        for _ in 0..1000 {
            health.on_failure(start + Duration::from_millis(500));
        }
        assert!(!health.is_quarantined(start + Duration::from_millis(500)));
    }

    #[test]
    fn retries_prefer_an_untried_resolver() {
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.2:1".parse().unwrap(),
        ];
        let mut pool = ResolverPool::new(&addrs, None, ConcurrencyPolicy::Adaptive);
        let now = Instant::now();
        for _ in 0..4 {
            assert_eq!(pool.pick(now, 0b01), Some(1));
            assert_eq!(pool.pick(now, 0b10), Some(0));
        }
    }

    #[test]
    fn quarantined_resolver_is_skipped_while_another_is_healthy() {
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.2:1".parse().unwrap(),
        ];
        let mut pool = ResolverPool::new(&addrs, None, ConcurrencyPolicy::Adaptive);
        let now = Instant::now();
        for _ in 0..QUARANTINE_AFTER {
            pool.get_mut(0).health.on_failure(now);
        }
        assert!((0..10).all(|_| pool.pick(now, 0) == Some(1)));
    }
}
