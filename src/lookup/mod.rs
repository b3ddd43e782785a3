//! Per-target state machines on top of the engine: PTR → (CNAMEs) → forward
//! lookups of every PTR name → verdict → one [`Row`].
//!
//! The engine knows questions; this module knows targets. A question's token
//! says whose it is: a target's PTR lookup, or a shared forward-cache entry
//! that any number of targets wait on (a name like `unassigned.isp.example`
//! used by a whole /16 is resolved once).

pub mod forward;
pub mod mx;
pub mod slab;
pub mod verdict;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::engine::{Completion, Driver, Outcome, QueryRequest};
use crate::record::{Audit, ErrorKind, ForwardAddresses, PtrNames, Row};
use crate::stats::Stats;
use crate::wire::{AnswerData, QType, Rcode, WireName, follow_chain};

use forward::{FORWARD_TOKEN, ForwardCache, ForwardEvent, ForwardStep};
use verdict::{ForwardResult, verdict};

/// RFC 1034 says resolvers should bound CNAME chains; 8 is what common
/// resolvers allow and more than any classless delegation needs.
pub const MAX_CNAME_HOPS: usize = 8;

/// Targets started but not finished, at most. The engine's window bounds the
/// questions in flight; this bounds targets waiting on shared lookups too.
const MAX_ACTIVE_TARGETS: usize = 1 << 17;

/// Where finished rows go. The scan loop must never block on a slow disk for
/// long, so implementations queue (see `sink::RowSender`).
pub trait RowOutput<R> {
    /// Returns false when the output can take no more (the writer failed):
    /// the scan should stop.
    fn push(&mut self, row: R) -> bool;
    /// Lets a queueing output pass on rows that have waited long enough;
    /// same return value as [`RowOutput::push`].
    fn tick(&mut self, _now: Instant) -> bool {
        true
    }
}

/// A front end the engine can run: it asks the questions and hands finished
/// rows to its output `O`.
pub trait FrontEnd<O>: Driver {
    /// Whether the output failed (the run then stops early).
    fn output_failed(&self) -> bool;
    fn into_output(self) -> O;
}

impl<R, O: RowOutput<R>> RowOutput<R> for Option<O> {
    fn push(&mut self, row: R) -> bool {
        self.as_mut().is_some_and(|output| output.push(row))
    }

    fn tick(&mut self, now: Instant) -> bool {
        self.as_mut().is_some_and(|output| output.tick(now))
    }
}

/// Token bit of the `mx` front end's own questions (MX, and A/AAAA of mail
/// hosts asked directly); bit 63 marks forward-cache entries, and tokens
/// with neither are PTR lookups.
pub const MX_TOKEN: u64 = 1 << 62;

/// Forward-cache waiters with this bit are `mx` hosts, not PTR targets.
pub const HOST_WAITER: u32 = 1 << 31;

struct TargetState {
    /// The caller's tag for this address, returned with its row.
    owner: u64,
    ip: IpAddr,
    /// CNAMEs followed from the reverse name so far.
    cname_hops: usize,
    ptr_names: PtrNames,
    ptr_rcode: Option<Rcode>,
    ptr_error: Option<ErrorKind>,
    resolver: Option<std::net::SocketAddr>,
    attempts: u32,
    rtt: Option<Duration>,
    /// One result per PTR name whose forward lookup has finished.
    forward: Vec<ForwardResult>,
    pending_forward: usize,
}

/// A forward lookup asked on behalf of an `mx` host, now resolved.
pub struct HostAnswer {
    pub waiter: u32,
    pub name: String,
    pub qtype: QType,
    pub result: ForwardResult,
    pub via_cname: bool,
}

/// What a host lookup gives at once.
pub enum HostLookup {
    /// Cached: here is the result (and whether the name is an alias).
    Known(ForwardResult, bool),
    /// Asked or already being asked; the answer comes back as a [`HostAnswer`].
    Pending,
}

/// The PTR → CNAME → forward → verdict machinery, shared by both front
/// ends: `scan` feeds it addresses, `mx` feeds it mail-host addresses and
/// asks the same forward cache for the hosts' own addresses. Questions it
/// needs go to `followups`; finished rows and host answers wait in
/// `finished` and `host_answers` for the front end to take.
pub struct Lookups<'a> {
    ptr_only: bool,
    states: slab::Slab<TargetState>,
    active: usize,
    followups: VecDeque<QueryRequest>,
    forward: ForwardCache,
    finished: Vec<(u64, Row)>,
    host_answers: Vec<HostAnswer>,
    stats: &'a Stats,
}

impl<'a> Lookups<'a> {
    pub fn new(ptr_only: bool, stats: &'a Stats) -> Self {
        Lookups {
            ptr_only,
            states: slab::Slab::default(),
            active: 0,
            followups: VecDeque::new(),
            forward: ForwardCache::new(forward::DEFAULT_CAPACITY),
            finished: Vec::new(),
            host_answers: Vec::new(),
            stats,
        }
    }

    /// Addresses started whose rows are not finished.
    pub fn active(&self) -> usize {
        self.active
    }

    pub fn next_followup(&mut self) -> Option<QueryRequest> {
        self.followups.pop_front()
    }

    /// Rows finished since the last call, with their owners' tags.
    pub fn take_rows(&mut self) -> std::vec::Drain<'_, (u64, Row)> {
        self.finished.drain(..)
    }

    /// Host answers since the last call.
    pub fn take_host_answers(&mut self) -> std::vec::Drain<'_, HostAnswer> {
        self.host_answers.drain(..)
    }

    /// Starts the reverse lookup of `ip`; returns its first question.
    pub fn start(&mut self, ip: IpAddr, owner: u64) -> QueryRequest {
        let state = TargetState {
            owner,
            ip,
            cname_hops: 0,
            ptr_names: PtrNames::new(),
            ptr_rcode: None,
            ptr_error: None,
            resolver: None,
            attempts: 0,
            rtt: None,
            forward: Vec::new(),
            pending_forward: 0,
        };
        let index = self.states.insert(state);
        self.active += 1;
        QueryRequest {
            name: WireName::reverse(ip),
            qtype: QType::Ptr,
            token: u64::from(index),
        }
    }

    /// The addresses of a mail host (`qtype` A or AAAA), through the shared
    /// forward cache. `waiter` must be below [`HOST_WAITER`].
    pub fn lookup_host(&mut self, name: &str, qtype: QType, waiter: u32) -> HostLookup {
        match self
            .forward
            .lookup(name, qtype, waiter | HOST_WAITER, &mut self.followups)
        {
            ForwardEvent::Known(result, via_cname) => HostLookup::Known(result, via_cname),
            ForwardEvent::Waiting | ForwardEvent::Asked => HostLookup::Pending,
        }
    }

    /// Takes a completion if it is one of ours (not an [`MX_TOKEN`] one).
    pub fn complete<'r>(&mut self, completion: Completion<'r>) -> Option<Completion<'r>> {
        let token = completion.token;
        if token & FORWARD_TOKEN != 0 {
            self.on_forward((token & !FORWARD_TOKEN) as u32, completion);
            None
        } else if token & MX_TOKEN != 0 {
            Some(completion)
        } else {
            self.on_ptr(token as u32, completion);
            None
        }
    }

    fn on_ptr(&mut self, index: u32, completion: Completion<'_>) {
        let Some(state) = self.states.get_mut(index) else {
            return;
        };
        state.attempts += completion.attempts;
        state.resolver = Some(completion.resolver);
        match completion.outcome {
            Outcome::Failed { error, rcode } => {
                state.ptr_rcode = rcode;
                state.ptr_error = Some(error.into());
                state.rtt = None;
            }
            Outcome::Answered(response) => {
                state.ptr_rcode = Some(response.rcode());
                state.rtt = completion.rtt;
                // The engine completes only with answers that repeat the
                // question, so the response's question is the name asked last
                // (the reverse name, or the CNAME target followed).
                let chain = follow_chain(response.question(), response, QType::Ptr, MAX_CNAME_HOPS);
                let hops = state.cname_hops + chain.cname_hops;
                if chain.has_records() {
                    // Copied out of the lent response: the names are this row's data.
                    let names = chain.records().filter_map(|data| match data {
                        AnswerData::Ptr(name) => Some(name.to_owned()),
                        _ => None,
                    });
                    state.ptr_names.clear();
                    state.ptr_names.extend(names);
                    state.ptr_names.sort();
                    state.ptr_names.dedup();
                } else if chain.cname_hops > 0 && response.rcode() == Rcode::NOERROR {
                    // RFC 2317: the CNAME target lives elsewhere; ask for it.
                    if hops > MAX_CNAME_HOPS {
                        state.ptr_error = Some(ErrorKind::CnameChain);
                    } else {
                        match WireName::from_ascii(chain.final_name) {
                            Ok(name) => {
                                state.cname_hops = hops;
                                self.followups.push_back(QueryRequest {
                                    name,
                                    qtype: QType::Ptr,
                                    token: u64::from(index),
                                });
                                return;
                            }
                            Err(_) => state.ptr_error = Some(ErrorKind::Malformed),
                        }
                    }
                } else if chain.cname_hops >= MAX_CNAME_HOPS {
                    state.ptr_error = Some(ErrorKind::CnameChain);
                }
            }
        }
        if state.ptr_error.is_some() || state.ptr_names.is_empty() || self.ptr_only {
            return self.finish(index);
        }
        let qtype = QType::forward_for(state.ip);
        let count = state.ptr_names.len();
        state.pending_forward = count;
        for name_index in 0..count {
            // Re-borrowed per name: a cache hit may record a result (and the
            // last one finishes the target).
            let Some(name) = self
                .states
                .get_mut(index)
                .and_then(|state| state.ptr_names.get(name_index))
            else {
                return;
            };
            match self.forward.lookup(name, qtype, index, &mut self.followups) {
                ForwardEvent::Known(result, _) => {
                    self.stats.count_forward_cache_hit();
                    self.record_forward(index, result);
                }
                ForwardEvent::Waiting | ForwardEvent::Asked => {}
            }
        }
    }

    fn on_forward(&mut self, entry: u32, completion: Completion<'_>) {
        match self
            .forward
            .complete(entry, completion, MAX_CNAME_HOPS, &mut self.followups)
        {
            ForwardStep::FollowedCname | ForwardStep::Stale => {}
            ForwardStep::Resolved {
                name,
                qtype,
                result,
                via_cname,
                waiters,
            } => {
                for waiter in waiters.iter() {
                    if waiter & HOST_WAITER != 0 {
                        self.host_answers.push(HostAnswer {
                            waiter: waiter & !HOST_WAITER,
                            name: name.to_string(),
                            qtype,
                            result: result.clone(),
                            via_cname,
                        });
                    } else {
                        self.record_forward(waiter, result.clone());
                    }
                }
            }
        }
    }

    fn record_forward(&mut self, index: u32, result: ForwardResult) {
        let Some(state) = self.states.get_mut(index) else {
            return;
        };
        state.forward.push(result);
        state.pending_forward = state.pending_forward.saturating_sub(1);
        if state.pending_forward == 0 {
            self.finish(index);
        }
    }

    fn finish(&mut self, index: u32) {
        let Some(state) = self.states.take(index) else {
            return;
        };
        self.active -= 1;
        let ptr = match state.ptr_error {
            Some(error) => Err(error),
            None => Ok(state.ptr_names.as_slice()),
        };
        let forward = (!self.ptr_only).then_some(state.forward.as_slice());
        let (fcrdns, error) = verdict(state.ip, ptr, forward);
        let mut forward_addrs: ForwardAddresses = state
            .forward
            .iter()
            .filter_map(|result| result.as_ref().ok())
            .flatten()
            .copied()
            .collect();
        forward_addrs.sort();
        forward_addrs.dedup();
        let row = Row {
            ip: state.ip,
            ptr: state.ptr_names,
            forward: forward_addrs,
            fcrdns,
            rcode: state.ptr_rcode,
            error,
            resolver: state.resolver,
            attempts: state.attempts,
            rtt_ms: state.rtt.map(|d| d.as_secs_f64() * 1000.0),
            audit: Audit::default(),
            position: None,
        };
        self.finished.push((state.owner, row));
    }
}

/// The `scan` front end: addresses in, rows out.
pub struct ScanDriver<'a, I: Iterator<Item = (u64, IpAddr)>, O: RowOutput<Row>> {
    targets: I,
    targets_done: bool,
    lookups: Lookups<'a>,
    output: O,
    output_failed: bool,
    stats: &'a Stats,
}

/// Targets come with their stream positions, which their rows carry to the
/// checkpoint.
impl<'a, I: Iterator<Item = (u64, IpAddr)>, O: RowOutput<Row>> ScanDriver<'a, I, O> {
    pub fn new(targets: I, ptr_only: bool, output: O, stats: &'a Stats) -> Self {
        ScanDriver {
            targets,
            targets_done: false,
            lookups: Lookups::new(ptr_only, stats),
            output,
            output_failed: false,
            stats,
        }
    }

    fn emit(&mut self) {
        for (position, mut row) in self.lookups.take_rows() {
            row.position = Some(position);
            self.stats.count_row();
            if !self.output.push(row) {
                self.output_failed = true;
            }
        }
    }
}

impl<I: Iterator<Item = (u64, IpAddr)>, O: RowOutput<Row>> FrontEnd<O> for ScanDriver<'_, I, O> {
    fn output_failed(&self) -> bool {
        self.output_failed
    }

    fn into_output(self) -> O {
        self.output
    }
}

impl<I: Iterator<Item = (u64, IpAddr)>, O: RowOutput<Row>> Driver for ScanDriver<'_, I, O> {
    fn next_query(&mut self) -> Option<QueryRequest> {
        if let Some(request) = self.lookups.next_followup() {
            return Some(request);
        }
        if self.targets_done || self.output_failed || self.lookups.active() >= MAX_ACTIVE_TARGETS {
            return None;
        }
        match self.targets.next() {
            Some((position, ip)) => Some(self.lookups.start(ip, position)),
            None => {
                self.targets_done = true;
                None
            }
        }
    }

    fn complete(&mut self, completion: Completion<'_>) {
        // Scan asks no questions of its own: anything not the lookups' is stale.
        let _ = self.lookups.complete(completion);
        self.emit();
    }

    fn tick(&mut self, now: Instant) {
        if !self.output.tick(now) {
            self.output_failed = true;
        }
    }
}
