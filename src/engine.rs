//! The query engine: one thread, one loop, thousands of queries in flight.
//!
//! A [`Driver`] (the lookups) hands the engine questions and gets back one
//! [`Completion`] per question, whatever happened. Between the two the engine
//! owns everything that touches the network: picking a resolver, pacing,
//! random IDs over several source ports, batched sends and receives, the
//! checks every datagram must pass, timeouts from the resolver's measured
//! RTT, retries (to another resolver when there is one) and the TCP retry
//! after TC=1.
//!
//! Every transmission of a question gets its own (socket, ID) and stays
//! registered until the question completes, so a late answer to an earlier
//! transmission is still accepted, and the RTT sample of an answer is never
//! ambiguous (no Karn's-algorithm guesswork).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::net::tcp::{TcpFallback, TcpJob};
use crate::net::{NetError, RecvBatch, SendBatch, UdpEndpoint, wait_readable};
use crate::resolvers::{ConcurrencyPolicy, ResolverPool};
use crate::stats::Stats;
use crate::validate::{Expected, Reject, check_response, datagram_id};
use crate::wire::{
    DecodedResponse, MAX_QUERY_LEN, QType, Rcode, WireName, decode_response, encode_query,
};

/// Bit of a deadline's transmission number marking the check that comes
/// before the timeout (transmission numbers are < 16); see `Engine::recheck`.
const RECHECK_STAGE: u8 = 0x80;
/// Before a resolver's first answer its RTT is unknown and the timeout is
/// RFC 6298's initial 1 s; queries sent then are checked again this often,
/// so that once answers give an RTT, a lost one among them is retried after
/// that RTT's timeout and not after a second. (Measured: the first window's
/// few lost queries kept a 5 %-loss sweep of a /16 running until 1 s.)
const UNKNOWN_RTT_RECHECK: Duration = Duration::from_millis(10);

/// The next deadline of a transmission sent at `sent_at` whose timeout falls
/// at `timeout_at`: a check ([`RECHECK_STAGE`]) while the RTT is unknown or
/// before the point where the query is presumed lost, else the timeout.
fn next_deadline(
    rtt: &crate::resolvers::RttEstimator,
    sent_at: Instant,
    timeout_at: Instant,
    now: Instant,
) -> (Instant, u8) {
    let check = match rtt.presume_lost_after() {
        None => now + UNKNOWN_RTT_RECHECK,
        Some(after) => sent_at + after,
    };
    if now < check && check < timeout_at {
        (check, RECHECK_STAGE)
    } else {
        (timeout_at, 0)
    }
}

/// A question the driver wants answered. `token` comes back in the completion.
#[derive(Debug, Clone, Copy)]
pub struct QueryRequest {
    pub name: WireName,
    pub qtype: QType,
    pub token: u64,
}

/// Why a question ended without a definitive answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryError {
    Timeout,
    Servfail,
    Refused,
    Malformed,
    /// Another non-final rcode (FORMERR, NOTIMP, …).
    Rcode(Rcode),
}

/// How a question ended. An answer is lent, not given: the engine decodes
/// every datagram into one reused [`DecodedResponse`], and the driver copies
/// out what it keeps before `complete` returns.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'r> {
    /// NOERROR (with or without data) or NXDOMAIN: final answers.
    Answered(&'r DecodedResponse),
    Failed {
        error: QueryError,
        rcode: Option<Rcode>,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Completion<'r> {
    pub token: u64,
    pub outcome: Outcome<'r>,
    /// Resolver of the accepted answer, or of the last attempt.
    pub resolver: SocketAddr,
    pub attempts: u32,
    pub rtt: Option<Duration>,
}

/// Whether an answer with this rcode ends the question (zdns-style: one small
/// pure function decides what is retried).
pub fn retry_decision(rcode: Rcode) -> Result<(), QueryError> {
    match rcode {
        // RFC 2308: NXDOMAIN and NOERROR/NODATA are authoritative negative answers.
        Rcode::NOERROR | Rcode::NXDOMAIN => Ok(()),
        Rcode::SERVFAIL => Err(QueryError::Servfail),
        Rcode::REFUSED => Err(QueryError::Refused),
        other => Err(QueryError::Rcode(other)),
    }
}

/// What the engine asks of the lookups.
pub trait Driver {
    /// The next question, if there is one now. Follow-up questions of targets
    /// already started should come before new targets.
    fn next_query(&mut self) -> Option<QueryRequest>;
    fn complete(&mut self, completion: Completion<'_>);
    /// Called once per turn of the event loop (at least every 50 ms while
    /// the engine runs) with the turn's clock, so time-based work such as
    /// handing a partial batch of rows to the writer needs no clock read
    /// per row.
    fn tick(&mut self, _now: Instant) {}
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub resolvers: Vec<SocketAddr>,
    pub rate: Option<f64>,
    pub retries: u32,
    pub concurrency: ConcurrencyPolicy,
    /// At least this many sockets per address family; more when the
    /// resolvers' windows could hold more transmissions than one socket
    /// has IDs (see `Engine::new`).
    pub sockets_per_family: usize,
    /// After a stop request, how long in-flight questions may still finish.
    pub stop_grace: Duration,
}

impl EngineConfig {
    pub fn new(resolvers: Vec<SocketAddr>) -> Self {
        EngineConfig {
            resolvers,
            rate: None,
            retries: 5,
            concurrency: ConcurrencyPolicy::Adaptive,
            sockets_per_family: 1,
            stop_grace: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineExit {
    Finished,
    /// Stopped on request; questions still in flight were abandoned.
    Stopped {
        abandoned: usize,
    },
}

/// Answers per turn below which the loop pauses for more (see
/// `Engine::should_coalesce`): half a receive batch.
const COALESCE_BATCH: usize = crate::net::batch_capacity() / 2;
/// Below this many queries in flight the pause is skipped: the resolver
/// would run dry while we wait.
const COALESCE_MIN_IN_FLIGHT: usize = 2 * COALESCE_BATCH;
/// The pause: at a few hundred thousand answers per second it gathers a
/// batch; it adds at most this much to an RTT sample, well below any
/// timeout, and it never runs past a deadline or pacing slot.
const COALESCE_PAUSE: Duration = Duration::from_micros(100);

/// Most transmissions one question can have (`--retries` is capped below this).
pub const MAX_TRANSMISSIONS: usize = 12;
const NO_SLOT: u32 = u32::MAX;
/// Datagrams drained per socket per loop turn before we go back to sending.
const MAX_RECV_BATCHES_PER_TURN: usize = 8;

#[derive(Clone, Copy)]
struct Transmission {
    socket: u16,
    id: u16,
    resolver: u16,
    sent_at: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    /// Waiting in a resolver's ready queue.
    Ready,
    InFlight,
    /// Waiting for the TCP fallback.
    Tcp,
    /// Waiting for a resolver with room (a retry that could not be placed).
    Parked,
}

struct Slot {
    request: QueryRequest,
    state: SlotState,
    generation: u32,
    resolver: usize,
    tried: u64,
    attempts: u32,
    transmissions: [Option<Transmission>; MAX_TRANSMISSIONS],
    last_error: Option<(QueryError, Option<Rcode>)>,
    /// Presumed lost: no longer counted in its resolver's window (see
    /// `Engine::recheck`), still waiting for its timeout.
    presumed_lost: bool,
}

pub struct Engine<'s> {
    config: EngineConfig,
    pool: ResolverPool,
    sockets: Vec<UdpEndpoint>,
    v4_sockets: Vec<usize>,
    v6_sockets: Vec<usize>,
    socket_cursor: usize,
    send_batches: Vec<SendBatch>,
    recv_batch: RecvBatch,
    id_tables: Vec<Box<[u32]>>,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Per resolver: slots (index, generation) waiting for a pacing slot.
    ready: Vec<VecDeque<(u32, u32)>>,
    parked: VecDeque<(u32, u32)>,
    deadlines: BinaryHeap<Reverse<(Instant, u32, u32, u8)>>,
    tcp: TcpFallback,
    /// Every answer is decoded into this one buffer and lent to the driver.
    response: DecodedResponse,
    live: usize,
    rng: SmallRng,
    stats: &'s Stats,
}

impl<'s> Engine<'s> {
    pub fn new(mut config: EngineConfig, stats: &'s Stats) -> Result<Self, NetError> {
        // Every transmission keeps its (socket, ID) until the question completes.
        config.retries = config.retries.min(MAX_TRANSMISSIONS as u32 - 1);
        let pool = ResolverPool::new(&config.resolvers, config.rate, config.concurrency);
        let needs_v4 = config.resolvers.iter().any(|r| r.is_ipv4());
        let needs_v6 = config.resolvers.iter().any(|r| r.is_ipv6());
        // Every transmission holds its ID until its question completes: up
        // to `retries + 1` per question, for the windows' questions plus the
        // quarter of a window that may be presumed lost. One socket (65,536
        // IDs) covers the default windows. Fewer sockets are cheaper: a
        // scan with four spent 7 % more user time and 9 % more kernel time
        // per query than with one, in more, smaller send and receive
        // batches and a 256 KiB ID table each (docs/benchmarks.md, session 7).
        let ids_needed = pool.max_in_flight().saturating_mul(5) / 4 * (config.retries as usize + 1);
        let per_family = config
            .sockets_per_family
            .max(ids_needed.div_ceil(1 << 16))
            .clamp(1, 8);
        let mut sockets = Vec::new();
        let mut v4_sockets = Vec::new();
        let mut v6_sockets = Vec::new();
        for (needed, v6, list) in [
            (needs_v4, false, &mut v4_sockets),
            (needs_v6, true, &mut v6_sockets),
        ] {
            if !needed {
                continue;
            }
            for _ in 0..per_family {
                list.push(sockets.len());
                sockets.push(UdpEndpoint::bind(v6)?);
            }
        }
        let send_batches = sockets.iter().map(|_| SendBatch::default()).collect();
        let id_tables = sockets
            .iter()
            .map(|_| vec![NO_SLOT; 1 << 16].into_boxed_slice())
            .collect();
        let ready = (0..pool.len()).map(|_| VecDeque::new()).collect();
        Ok(Engine {
            config,
            pool,
            sockets,
            v4_sockets,
            v6_sockets,
            socket_cursor: 0,
            send_batches,
            recv_batch: RecvBatch::default(),
            id_tables,
            slots: Vec::new(),
            free_slots: Vec::new(),
            ready,
            parked: VecDeque::new(),
            deadlines: BinaryHeap::new(),
            tcp: TcpFallback::default(),
            response: DecodedResponse::with_typical_capacity(),
            live: 0,
            rng: SmallRng::from_os_rng(),
            stats,
        })
    }

    pub fn pool(&self) -> &ResolverPool {
        &self.pool
    }

    /// Runs until the driver has nothing more to ask and every question has
    /// completed, or until `stop` is set (then in-flight questions get
    /// `stop_grace` to finish).
    pub fn run<D: Driver>(
        &mut self,
        driver: &mut D,
        stop: &AtomicBool,
    ) -> Result<EngineExit, NetError> {
        let mut driver_exhausted = false;
        let mut stop_deadline: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if stop_deadline.is_none() && stop.load(Ordering::Relaxed) {
                stop_deadline = Some(now + self.config.stop_grace);
            }
            if let Some(deadline) = stop_deadline
                && (self.live == 0 || now >= deadline)
            {
                return Ok(EngineExit::Stopped {
                    abandoned: self.live,
                });
            }

            self.expire(now, driver);
            self.drain_tcp(driver);
            self.place_parked(now);
            if stop_deadline.is_none() {
                driver_exhausted = !self.admit(now, driver);
            }
            let sent = self.transmit(now);
            let received = self.receive(driver)?;
            driver.tick(now);
            self.stats.set_in_flight(self.live as u64);

            if driver_exhausted && self.live == 0 {
                // A completion may have produced follow-up questions.
                match driver.next_query() {
                    None => return Ok(EngineExit::Finished),
                    Some(request) => {
                        self.start(now, request);
                        driver_exhausted = false;
                        continue;
                    }
                }
            }
            if self.should_coalesce(received) {
                let pause = COALESCE_PAUSE.min(self.idle_wait(Instant::now()));
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
            }
            if sent == 0 && received == 0 {
                let wait = self.idle_wait(Instant::now());
                if !wait.is_zero() {
                    wait_readable(&self.sockets, wait)?;
                }
            }
        }
    }

    /// Whether to pause so that answers arrive in batches: a turn that got a
    /// few answers while many are due spends two syscalls (and their share
    /// of wakeups) on those few. Measured on loopback at the knotd ceiling:
    /// without the pause a scan averaged 2.7 answers per `recvmmsg` and 3.5
    /// queries per `sendmmsg`; with it, 7× fewer syscalls and 10 % less CPU
    /// per query at the same rate (docs/benchmarks.md, session 5).
    fn should_coalesce(&self, received: usize) -> bool {
        received > 0 && received < COALESCE_BATCH && self.live >= COALESCE_MIN_IN_FLIGHT
    }

    /// How long the loop may sleep: until the next deadline or pacing slot,
    /// briefly if sends are blocked or TCP answers are pending, and never
    /// long enough to miss a stop request.
    fn idle_wait(&self, now: Instant) -> Duration {
        let mut wait = Duration::from_millis(50);
        if let Some(Reverse((deadline, ..))) = self.deadlines.peek() {
            wait = wait.min(deadline.saturating_duration_since(now));
        }
        for (index, queue) in self.ready.iter().enumerate() {
            if !queue.is_empty() {
                let next = self.pool.get(index).pacer.next_slot(now);
                wait = wait.min(next.map_or(Duration::ZERO, |t| t.saturating_duration_since(now)));
            }
        }
        if self.tcp.pending() > 0
            || self.send_batches.iter().any(|b| !b.is_empty())
            || !self.parked.is_empty()
        {
            wait = wait.min(Duration::from_millis(1));
        }
        wait
    }

    /// Pulls new questions while the pool has room. Returns false when the
    /// driver had nothing to give.
    fn admit<D: Driver>(&mut self, now: Instant, driver: &mut D) -> bool {
        // Bound the work per turn so receiving is never starved.
        for _ in 0..1024 {
            if !self.pool.can_take(now) {
                return true;
            }
            match driver.next_query() {
                Some(request) => self.start(now, request),
                None => return false,
            }
        }
        true
    }

    fn start(&mut self, now: Instant, request: QueryRequest) {
        let index = match self.free_slots.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    request,
                    state: SlotState::Free,
                    generation: 0,
                    resolver: 0,
                    tried: 0,
                    attempts: 0,
                    transmissions: [None; MAX_TRANSMISSIONS],
                    last_error: None,
                    presumed_lost: false,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.request = request;
        slot.tried = 0;
        slot.attempts = 0;
        slot.transmissions = [None; MAX_TRANSMISSIONS];
        slot.last_error = None;
        slot.presumed_lost = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.live += 1;
        self.place(now, index);
    }

    /// Assigns a resolver and queues the slot for transmission, or parks it.
    fn place(&mut self, now: Instant, index: u32) {
        let tried = self.slots[index as usize].tried;
        match self.pool.pick(now, tried) {
            Some(resolver) => {
                self.pool.get_mut(resolver).in_flight += 1;
                let slot = &mut self.slots[index as usize];
                slot.resolver = resolver;
                slot.state = SlotState::Ready;
                self.ready[resolver].push_back((index, slot.generation));
            }
            None => {
                let slot = &mut self.slots[index as usize];
                slot.state = SlotState::Parked;
                self.parked.push_back((index, slot.generation));
            }
        }
    }

    fn place_parked(&mut self, now: Instant) {
        let mut remaining = self.parked.len();
        while remaining > 0 && self.pool.can_take(now) {
            remaining -= 1;
            let Some((index, generation)) = self.parked.pop_front() else {
                break;
            };
            if self.is_current(index, generation, SlotState::Parked) {
                self.place(now, index);
            }
        }
    }

    /// Moves ready slots into socket batches as pacing allows, then flushes.
    fn transmit(&mut self, now: Instant) -> usize {
        for resolver in 0..self.ready.len() {
            while let Some(&(index, generation)) = self.ready[resolver].front() {
                if !self.is_current(index, generation, SlotState::Ready) {
                    // Completed by a late answer while it waited for a retry.
                    self.ready[resolver].pop_front();
                    continue;
                }
                let addr = self.pool.get(resolver).addr;
                let Some(socket) = self.socket_with_room(addr.is_ipv6()) else {
                    break;
                };
                if !self.pool.get_mut(resolver).pacer.try_take(now) {
                    break;
                }
                self.ready[resolver].pop_front();
                self.transmit_slot(now, index, resolver, socket);
            }
        }
        self.flush()
    }

    /// A socket of the family whose batch has room, round-robin; flushes a
    /// full batch first. None when the kernel is not taking more right now.
    fn socket_with_room(&mut self, v6: bool) -> Option<usize> {
        let count = if v6 {
            self.v6_sockets.len()
        } else {
            self.v4_sockets.len()
        };
        for step in 0..count {
            let position = (self.socket_cursor + step) % count;
            let socket = if v6 {
                self.v6_sockets[position]
            } else {
                self.v4_sockets[position]
            };
            if self.send_batches[socket].is_full() {
                self.flush_socket(socket);
            }
            if !self.send_batches[socket].is_full() {
                self.socket_cursor = (self.socket_cursor + step + 1) % count.max(1);
                return Some(socket);
            }
        }
        None
    }

    fn transmit_slot(&mut self, now: Instant, index: u32, resolver: usize, socket: usize) {
        let id = self.free_id(socket);
        let slot = &mut self.slots[index as usize];
        let attempt = slot.attempts;
        let Some(tx_index) = slot.transmissions.iter().position(Option::is_none) else {
            // Unreachable: `Engine::new` caps retries below MAX_TRANSMISSIONS.
            return;
        };
        slot.transmissions[tx_index] = Some(Transmission {
            socket: socket as u16,
            id,
            resolver: resolver as u16,
            sent_at: now,
        });
        slot.attempts += 1;
        slot.tried |= 1u64 << (resolver % 64);
        slot.state = SlotState::InFlight;
        self.id_tables[socket][id as usize] = index;
        let generation = slot.generation;
        let addr = self.pool.get(resolver).addr;
        let rtt = &self.pool.get(resolver).rtt;
        let timeout_at = now + rtt.timeout(attempt, self.config.retries + 1);
        let (deadline, stage) = next_deadline(rtt, now, timeout_at, now);
        self.deadlines.push(Reverse((
            deadline,
            index,
            generation,
            (tx_index + 1) as u8 | stage,
        )));
        // Encoded from the slot in place: a question is 270 bytes.
        let request = &self.slots[index as usize].request;
        self.send_batches[socket].push(addr, index, |buf| {
            encode_query(id, &request.name, request.qtype, buf)
        });
        let resolver_state = self.pool.get_mut(resolver);
        resolver_state.counters.sent += 1;
        self.stats.count_sent(attempt > 0);
    }

    /// A random ID not in use on this socket (RFC 5452 §9.2).
    fn free_id(&mut self, socket: usize) -> u16 {
        let table = &self.id_tables[socket];
        for _ in 0..16 {
            let id: u16 = self.rng.random();
            if table[id as usize] == NO_SLOT {
                return id;
            }
        }
        let start: u16 = self.rng.random();
        (0..=u16::MAX)
            .map(|offset| start.wrapping_add(offset))
            .find(|id| table[*id as usize] == NO_SLOT)
            .unwrap_or(start)
    }

    fn flush(&mut self) -> usize {
        (0..self.sockets.len())
            .map(|socket| self.flush_socket(socket))
            .sum()
    }

    fn flush_socket(&mut self, socket: usize) -> usize {
        let mut total = 0;
        while !self.send_batches[socket].is_empty() {
            match self.sockets[socket].send(&mut self.send_batches[socket]) {
                Ok(0) => break,
                Ok(sent) => total += sent,
                Err(_) => {
                    // The first datagram cannot be sent (no route, …): drop it
                    // and let its timeout retry it, possibly elsewhere.
                    self.send_batches[socket].drop_first();
                    self.stats.count_send_error();
                }
            }
        }
        total
    }

    fn receive<D: Driver>(&mut self, driver: &mut D) -> Result<usize, NetError> {
        let mut total = 0;
        for socket in 0..self.sockets.len() {
            for _ in 0..MAX_RECV_BATCHES_PER_TURN {
                let count = match self.sockets[socket].recv(&mut self.recv_batch) {
                    Ok(count) => count,
                    Err(_) => {
                        self.stats.count_recv_error();
                        break;
                    }
                };
                let now = Instant::now();
                for i in 0..count {
                    self.on_datagram(now, socket, i, driver);
                }
                total += count;
                if count < crate::net::batch_capacity() {
                    break;
                }
            }
        }
        Ok(total)
    }

    fn on_datagram<D: Driver>(&mut self, now: Instant, socket: usize, i: usize, driver: &mut D) {
        let (datagram, source, cut) = self.recv_batch.get(i);
        let id = match datagram_id(datagram) {
            Ok(id) => id,
            Err(reason) => return self.stats.count_reject(reason),
        };
        let index = self.id_tables[socket][id as usize];
        if index == NO_SLOT {
            return self.stats.count_reject(Reject::UnknownId);
        }
        let slot = &self.slots[index as usize];
        let Some((tx_position, tx)) = slot.transmissions.iter().enumerate().find_map(|(i, t)| {
            t.filter(|t| t.socket as usize == socket && t.id == id)
                .map(|t| (i, t))
        }) else {
            return self.stats.count_reject(Reject::UnknownId);
        };
        let is_newest = slot.transmissions.iter().rposition(Option::is_some) == Some(tx_position);
        let resolver = tx.resolver as usize;
        let expected = Expected {
            resolver: self.pool.get(resolver).addr,
            qname: &slot.request.name,
            qtype: slot.request.qtype,
        };
        if let Err(reason) = check_response(datagram, source, &expected) {
            return self.stats.count_reject(reason);
        }
        if cut {
            self.slots[index as usize].last_error = Some((QueryError::Malformed, None));
            return self.stats.count_reject(Reject::Malformed);
        }
        let truncated = datagram[2] & 0x02 != 0;
        if truncated {
            let mut buf = [0u8; MAX_QUERY_LEN];
            let len = encode_query(id, &slot.request.name, slot.request.qtype, &mut buf);
            return self.retry_over_tcp(index, resolver, buf[..len].to_vec());
        }
        // Taken out for the call so the driver can borrow it while the engine
        // is borrowed mutably; moving it allocates nothing.
        let mut response = std::mem::take(&mut self.response);
        match decode_response(datagram, &mut response) {
            Ok(()) => {
                let answer = Answer {
                    index,
                    resolver,
                    rtt: Some(now - tx.sent_at),
                    is_newest,
                };
                self.on_response(now, answer, &response, driver)
            }
            Err(_) => {
                self.slots[index as usize].last_error = Some((QueryError::Malformed, None));
                self.stats.count_reject(Reject::Malformed);
            }
        }
        self.response = response;
    }

    /// TC=1: the same question over TCP to the same resolver (RFC 7766 §5).
    fn retry_over_tcp(&mut self, index: u32, resolver: usize, query: Vec<u8>) {
        self.unregister(index);
        self.move_holder(index, Some(resolver));
        let slot = &mut self.slots[index as usize];
        slot.state = SlotState::Tcp;
        slot.generation = slot.generation.wrapping_add(1);
        let generation = slot.generation;
        let rtt = &self.pool.get(resolver).rtt;
        let timeout = (rtt.rto() * 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
        self.stats.count_tcp_fallback();
        self.tcp.submit(TcpJob {
            tag: index,
            generation,
            resolver: self.pool.get(resolver).addr,
            query,
            timeout,
        });
    }

    fn drain_tcp<D: Driver>(&mut self, driver: &mut D) {
        while let Some(tcp_answer) = self.tcp.try_next() {
            let index = tcp_answer.tag;
            let Some(slot) = self.slots.get(index as usize) else {
                continue;
            };
            if slot.state != SlotState::Tcp || slot.generation != tcp_answer.generation {
                continue;
            }
            let resolver = slot.resolver;
            let now = Instant::now();
            let mut response = std::mem::take(&mut self.response);
            let accepted = tcp_answer.result.is_ok_and(|bytes| {
                let expected = Expected {
                    resolver: tcp_answer.resolver,
                    qname: &slot.request.name,
                    qtype: slot.request.qtype,
                };
                check_response(&bytes, tcp_answer.resolver, &expected).is_ok()
                    && decode_response(&bytes, &mut response).is_ok()
                    && !response.truncated()
            });
            if accepted {
                let answer = Answer {
                    index,
                    resolver,
                    rtt: None,
                    is_newest: true,
                };
                self.on_response(now, answer, &response, driver)
            } else {
                self.slots[index as usize].last_error = Some((QueryError::Malformed, None));
                self.stats.count_tcp_failure();
                self.on_attempt_failed(now, index, driver);
            }
            self.response = response;
        }
    }

    fn on_response<D: Driver>(
        &mut self,
        now: Instant,
        answer: Answer,
        response: &DecodedResponse,
        driver: &mut D,
    ) {
        let resolver_state = self.pool.get_mut(answer.resolver);
        resolver_state.counters.answered += 1;
        if let Some(rtt) = answer.rtt {
            resolver_state.rtt.observe(rtt);
            resolver_state.limit.on_answer(rtt);
        }
        match retry_decision(response.rcode()) {
            Ok(()) => {
                resolver_state.health.on_success(now);
                self.stats.count_answer();
                let outcome = Outcome::Answered(response);
                self.complete(answer.index, outcome, answer.resolver, answer.rtt, driver);
            }
            Err(error) => {
                match error {
                    QueryError::Servfail => resolver_state.counters.servfail += 1,
                    QueryError::Refused => resolver_state.counters.refused += 1,
                    _ => {}
                }
                resolver_state.health.on_failure(now);
                self.stats.count_server_failure();
                let slot = &mut self.slots[answer.index as usize];
                slot.last_error = Some((error, Some(response.rcode())));
                // A failed answer to an older transmission changes nothing: the
                // newer one is still out, or the question is already queued again.
                let waiting_on_this = match slot.state {
                    SlotState::InFlight => answer.is_newest,
                    SlotState::Tcp => true,
                    _ => false,
                };
                if waiting_on_this {
                    self.on_attempt_failed(now, answer.index, driver);
                }
            }
        }
    }

    /// An attempt failed (error rcode, TCP failure, or timeout): retry while
    /// the budget lasts, else complete with the most telling error seen.
    fn on_attempt_failed<D: Driver>(&mut self, now: Instant, index: u32, driver: &mut D) {
        let slot = &self.slots[index as usize];
        if slot.attempts > self.config.retries {
            let (error, rcode) = slot.last_error.unwrap_or((QueryError::Timeout, None));
            let resolver = slot.resolver;
            self.complete(
                index,
                Outcome::Failed { error, rcode },
                resolver,
                None,
                driver,
            );
            return;
        }
        if slot.state == SlotState::Tcp {
            // The next attempt goes out over UDP again under a new generation;
            // transmissions of the TCP attempt are already unregistered.
            let slot = &mut self.slots[index as usize];
            slot.generation = slot.generation.wrapping_add(1);
        }
        self.move_holder(index, None);
        self.stats.count_retry();
        self.place(now, index);
    }

    /// Moves the slot's claim on a resolver's in-flight count to `to` (or drops it).
    fn move_holder(&mut self, index: u32, to: Option<usize>) {
        let slot = &mut self.slots[index as usize];
        if slot.presumed_lost {
            slot.presumed_lost = false;
            let holder = self.pool.get_mut(slot.resolver);
            holder.presumed_lost = holder.presumed_lost.saturating_sub(1);
        } else if matches!(
            slot.state,
            SlotState::Ready | SlotState::InFlight | SlotState::Tcp
        ) {
            let holder = self.pool.get_mut(slot.resolver);
            holder.in_flight = holder.in_flight.saturating_sub(1);
        }
        if let Some(to) = to {
            slot.resolver = to;
            self.pool.get_mut(to).in_flight += 1;
        }
    }

    fn is_current(&self, index: u32, generation: u32, state: SlotState) -> bool {
        let slot = &self.slots[index as usize];
        slot.generation == generation && slot.state == state
    }

    fn expire<D: Driver>(&mut self, now: Instant, driver: &mut D) {
        while let Some(&Reverse((deadline, index, generation, tagged))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let slot = &self.slots[index as usize];
            if slot.generation != generation || slot.state != SlotState::InFlight {
                continue;
            }
            let tx_number = tagged & !RECHECK_STAGE;
            // Only the newest transmission's deadline counts; older ones were
            // superseded by a retry.
            let newest = slot
                .transmissions
                .iter()
                .rposition(Option::is_some)
                .map(|i| i + 1);
            if newest != Some(tx_number as usize) {
                continue;
            }
            if tagged & RECHECK_STAGE != 0 && !self.recheck(now, index, generation, tx_number) {
                continue;
            }
            self.time_out(now, index, driver);
        }
    }

    fn time_out<D: Driver>(&mut self, now: Instant, index: u32, driver: &mut D) {
        let resolver = self.slots[index as usize].resolver;
        let resolver_state = self.pool.get_mut(resolver);
        resolver_state.counters.timeouts += 1;
        resolver_state.limit.on_loss();
        resolver_state.health.on_failure(now);
        self.stats.count_timeout();
        self.on_attempt_failed(now, index, driver);
    }

    /// The check before a transmission's timeout. Returns true when the
    /// timeout itself has passed (the caller then times the attempt out);
    /// otherwise arms the next deadline.
    ///
    /// While the resolver's RTT is unknown the timeout is the initial 1 s,
    /// so the check comes back every [`UNKNOWN_RTT_RECHECK`] until answers
    /// give an RTT, and the timeout is then measured from that RTT.
    ///
    /// Once the RTT is known, a query unanswered well past it is presumed
    /// lost: it leaves the window (as TCP leaves lost segments out of its
    /// "pipe", RFC 6675) so that a lost packet does not hold a window slot
    /// for a whole timeout, and waits for that timeout as before (a late
    /// answer is still taken). At most a quarter of the window may be
    /// presumed lost at once, so a server that is merely slow is not flooded.
    fn recheck(&mut self, now: Instant, index: u32, generation: u32, tx_number: u8) -> bool {
        let slot = &self.slots[index as usize];
        let resolver = slot.resolver;
        let already_presumed = slot.presumed_lost;
        let Some(sent_at) = slot.transmissions[tx_number as usize - 1].map(|t| t.sent_at) else {
            return false;
        };
        let attempt = slot.attempts.saturating_sub(1);
        let state = self.pool.get_mut(resolver);
        let timeout_at = sent_at + state.rtt.timeout(attempt, self.config.retries + 1);
        if timeout_at <= now {
            return true;
        }
        let past_presume_point = state
            .rtt
            .presume_lost_after()
            .is_some_and(|after| sent_at + after <= now);
        if past_presume_point
            && !already_presumed
            && state.presumed_lost < state.limit.current().div_ceil(4)
        {
            state.presumed_lost += 1;
            state.in_flight = state.in_flight.saturating_sub(1);
            self.slots[index as usize].presumed_lost = true;
        }
        let (next, stage) = next_deadline(&state.rtt, sent_at, timeout_at, now);
        self.deadlines
            .push(Reverse((next, index, generation, tx_number | stage)));
        false
    }

    fn unregister(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        for tx in slot.transmissions.iter_mut() {
            if let Some(t) = tx.take()
                && self.id_tables[t.socket as usize][t.id as usize] == index
            {
                self.id_tables[t.socket as usize][t.id as usize] = NO_SLOT;
            }
        }
    }

    fn complete<D: Driver>(
        &mut self,
        index: u32,
        outcome: Outcome<'_>,
        answered_by: usize,
        rtt: Option<Duration>,
        driver: &mut D,
    ) {
        self.unregister(index);
        self.move_holder(index, None);
        let slot = &mut self.slots[index as usize];
        let token = slot.request.token;
        let attempts = slot.attempts;
        slot.state = SlotState::Free;
        slot.generation = slot.generation.wrapping_add(1);
        self.free_slots.push(index);
        self.live -= 1;
        driver.complete(Completion {
            token,
            outcome,
            resolver: self.pool.get(answered_by).addr,
            attempts,
            rtt,
        });
    }
}

/// Where an accepted answer came from.
struct Answer {
    index: u32,
    resolver: usize,
    rtt: Option<Duration>,
    is_newest: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_and_retried_rcodes() {
        assert_eq!(retry_decision(Rcode::NOERROR), Ok(()));
        assert_eq!(retry_decision(Rcode::NXDOMAIN), Ok(()));
        assert_eq!(retry_decision(Rcode::SERVFAIL), Err(QueryError::Servfail));
        assert_eq!(retry_decision(Rcode::REFUSED), Err(QueryError::Refused));
        assert_eq!(
            retry_decision(Rcode::FORMERR),
            Err(QueryError::Rcode(Rcode::FORMERR))
        );
        // What the output says for each: one vocabulary, `record::ErrorKind`.
        let kind = crate::record::ErrorKind::from(QueryError::Rcode(Rcode::FORMERR));
        assert_eq!(kind.as_str(), "rcode");
    }

    /// One socket for the default windows; enough IDs for every
    /// transmission a large fixed window can hold (binds on loopback only).
    #[test]
    fn sockets_cover_every_transmission_id() {
        let stats = crate::stats::Stats::default();
        let resolver: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let engine = Engine::new(EngineConfig::new(vec![resolver]), &stats).unwrap();
        assert_eq!(engine.sockets.len(), 1);
        let mut config = EngineConfig::new(vec![resolver]);
        // 20,000 questions, a quarter more presumed lost, six transmissions
        // each: 150,000 IDs, three sockets' worth.
        config.concurrency = ConcurrencyPolicy::Fixed(20_000);
        let engine = Engine::new(config, &stats).unwrap();
        assert_eq!(engine.sockets.len(), 3);
    }
}
