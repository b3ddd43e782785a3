//! Per-target state machines on top of the engine: PTR → (CNAMEs) → forward
//! lookups of every PTR name → verdict → one [`Row`].
//!
//! The engine knows questions; this module knows targets. A question's token
//! says whose it is: a target's PTR lookup, or a shared forward-cache entry
//! that any number of targets wait on (a name like `unassigned.isp.example`
//! used by a whole /16 is resolved once).

pub mod forward;
pub mod verdict;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use crate::engine::{Completion, Driver, Outcome, QueryRequest};
use crate::record::{Audit, ErrorKind, Row};
use crate::stats::Stats;
use crate::wire::{QType, Rcode, WireName, follow_chain};

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
}

struct TargetState {
    ip: IpAddr,
    /// Name the current PTR question asks (the reverse name, or a CNAME target).
    ptr_qname: WireName,
    cname_hops: usize,
    ptr_names: Vec<String>,
    ptr_rcode: Option<Rcode>,
    ptr_error: Option<ErrorKind>,
    resolver: Option<std::net::SocketAddr>,
    attempts: u32,
    rtt: Option<Duration>,
    forward: Vec<(String, ForwardResult)>,
    pending_forward: usize,
}

/// The `scan` front end: addresses in, rows out.
pub struct ScanDriver<'a, I: Iterator<Item = IpAddr>, O: RowOutput<Row>> {
    targets: I,
    targets_done: bool,
    ptr_only: bool,
    states: Vec<Option<TargetState>>,
    free_states: Vec<u32>,
    active: usize,
    followups: VecDeque<QueryRequest>,
    forward: ForwardCache,
    output: O,
    output_failed: bool,
    stats: &'a Stats,
}

impl<'a, I: Iterator<Item = IpAddr>, O: RowOutput<Row>> ScanDriver<'a, I, O> {
    pub fn new(targets: I, ptr_only: bool, output: O, stats: &'a Stats) -> Self {
        ScanDriver {
            targets,
            targets_done: false,
            ptr_only,
            states: Vec::new(),
            free_states: Vec::new(),
            active: 0,
            followups: VecDeque::new(),
            forward: ForwardCache::new(forward::DEFAULT_CAPACITY),
            output,
            output_failed: false,
            stats,
        }
    }

    /// Whether the row output failed (the scan stopped early because of it).
    pub fn output_failed(&self) -> bool {
        self.output_failed
    }

    /// Targets started whose rows were not written (after an interrupt).
    pub fn unfinished(&self) -> usize {
        self.active
    }

    pub fn into_output(self) -> O {
        self.output
    }

    fn start_target(&mut self, ip: IpAddr) -> QueryRequest {
        let state = TargetState {
            ip,
            ptr_qname: WireName::reverse(ip),
            cname_hops: 0,
            ptr_names: Vec::new(),
            ptr_rcode: None,
            ptr_error: None,
            resolver: None,
            attempts: 0,
            rtt: None,
            forward: Vec::new(),
            pending_forward: 0,
        };
        let request_name = state.ptr_qname;
        let index = match self.free_states.pop() {
            Some(index) => {
                self.states[index as usize] = Some(state);
                index
            }
            None => {
                self.states.push(Some(state));
                (self.states.len() - 1) as u32
            }
        };
        self.active += 1;
        QueryRequest {
            name: request_name,
            qtype: QType::Ptr,
            token: u64::from(index),
        }
    }

    fn on_ptr(&mut self, index: u32, completion: Completion) {
        let Some(state) = self.states.get_mut(index as usize).and_then(Option::as_mut) else {
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
                state.ptr_rcode = Some(response.rcode);
                state.rtt = completion.rtt;
                let qname = state.ptr_qname.to_presentation();
                let chain = follow_chain(&qname, &response.answers, QType::Ptr, MAX_CNAME_HOPS);
                let hops = state.cname_hops + chain.cname_hops;
                if !chain.records.is_empty() {
                    let mut names: Vec<String> = chain
                        .records
                        .into_iter()
                        .filter_map(|data| match data {
                            crate::wire::AnswerData::Ptr(name) => Some(name),
                            _ => None,
                        })
                        .collect();
                    names.sort();
                    names.dedup();
                    state.ptr_names = names;
                } else if chain.cname_hops > 0 && response.rcode == Rcode::NOERROR {
                    // RFC 2317: the CNAME target lives elsewhere; ask for it.
                    if hops > MAX_CNAME_HOPS {
                        state.ptr_error = Some(ErrorKind::CnameChain);
                    } else {
                        match WireName::from_ascii(&chain.final_name) {
                            Ok(name) => {
                                state.cname_hops = hops;
                                state.ptr_qname = name;
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
        let ip = state.ip;
        let names = state.ptr_names.clone();
        state.pending_forward = names.len();
        let qtype = QType::forward_for(ip);
        for name in names {
            match self.forward.lookup(&name, qtype, index) {
                ForwardEvent::Known(result) => {
                    self.stats.count_forward_cache_hit();
                    self.record_forward(index, name, result);
                }
                ForwardEvent::Waiting => {}
                ForwardEvent::Ask(request) => self.followups.push_back(*request),
            }
        }
    }

    fn on_forward(&mut self, entry: u32, completion: Completion) {
        match self.forward.complete(entry, completion, MAX_CNAME_HOPS) {
            ForwardStep::FollowCname(request) => self.followups.push_back(request),
            ForwardStep::Resolved {
                name,
                result,
                waiters,
            } => {
                for target in waiters {
                    self.record_forward(target, name.clone(), result.clone());
                }
            }
            ForwardStep::Stale => {}
        }
    }

    fn record_forward(&mut self, index: u32, name: String, result: ForwardResult) {
        let Some(state) = self.states.get_mut(index as usize).and_then(Option::as_mut) else {
            return;
        };
        state.forward.push((name, result));
        state.pending_forward = state.pending_forward.saturating_sub(1);
        if state.pending_forward == 0 {
            self.finish(index);
        }
    }

    fn finish(&mut self, index: u32) {
        let Some(state) = self.states.get_mut(index as usize).and_then(Option::take) else {
            return;
        };
        self.free_states.push(index);
        self.active -= 1;
        let ptr = match state.ptr_error {
            Some(error) => Err(error),
            None => Ok(state.ptr_names.as_slice()),
        };
        let forward = (!self.ptr_only).then_some(state.forward.as_slice());
        let (fcrdns, error) = verdict(state.ip, ptr, forward);
        let mut forward_addrs: Vec<IpAddr> = state
            .forward
            .iter()
            .filter_map(|(_, result)| result.as_ref().ok())
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
        };
        self.stats.count_row();
        if !self.output.push(row) {
            self.output_failed = true;
        }
    }
}

impl<I: Iterator<Item = IpAddr>, O: RowOutput<Row>> Driver for ScanDriver<'_, I, O> {
    fn next_query(&mut self) -> Option<QueryRequest> {
        if let Some(request) = self.followups.pop_front() {
            return Some(request);
        }
        if self.targets_done || self.output_failed || self.active >= MAX_ACTIVE_TARGETS {
            return None;
        }
        match self.targets.next() {
            Some(ip) => Some(self.start_target(ip)),
            None => {
                self.targets_done = true;
                None
            }
        }
    }

    fn complete(&mut self, completion: Completion) {
        let token = completion.token;
        if token & FORWARD_TOKEN != 0 {
            self.on_forward((token & !FORWARD_TOKEN) as u32, completion);
        } else {
            self.on_ptr(token as u32, completion);
        }
    }
}
