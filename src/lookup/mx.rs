//! The `mx` front end: domain → MX (primary, or all with `--all-mx`) →
//! A/AAAA of each mail host → PTR + FCrDNS of each address, on the same
//! engine and the same [`Lookups`] as `scan`.
//!
//! Sharing is what makes a domain list cheap: a mail host used by thousands
//! of domains (a hosted-mail provider's MX) is resolved once through the
//! forward cache, and each of its addresses is reverse-checked once through
//! the address cache here; every domain waiting on them gets the result.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::engine::{Completion, Driver, Outcome, QueryRequest};
use crate::findings::normal_name;
use crate::record::{ErrorKind, MxRow, MxStatus, Row};
use crate::stats::Stats;
use crate::targets::domains::DomainInput;
use crate::wire::{AnswerData, QType, Rcode, WireName, follow_chain};

use super::slab::Slab;
use super::verdict::ForwardResult;
use super::{FrontEnd, HostLookup, Lookups, MAX_CNAME_HOPS, MX_TOKEN, RowOutput};

/// Domains in progress at most: bounds memory on long lists while keeping
/// far more questions available than any window needs.
const MAX_ACTIVE_DOMAINS: usize = 1 << 16;

/// Finished address rows kept for other domains that share the address.
const ADDRESS_CACHE_CAPACITY: usize = 1 << 16;

struct Host {
    name: String,
    primary: bool,
    /// `None` for the implicit MX (the domain itself).
    pref: Option<u16>,
    a: Option<ForwardResult>,
    aaaa: Option<ForwardResult>,
    via_cname: bool,
}

impl Host {
    fn resolved(&self) -> bool {
        self.a.is_some() && self.aaaa.is_some()
    }

    fn error(&self) -> Option<ErrorKind> {
        [&self.a, &self.aaaa]
            .into_iter()
            .flatten()
            .find_map(|result| result.as_ref().err().copied())
    }
}

enum Phase {
    /// Waiting for the MX answer (of `mx_qname`, after `mx_hops` CNAMEs).
    Mx,
    /// Waiting for the hosts' A/AAAA answers.
    Hosts,
    /// Waiting for the addresses' reverse rows.
    Addresses,
}

struct DomainState {
    domain: String,
    mx_qname: WireName,
    mx_hops: usize,
    implicit: bool,
    phase: Phase,
    hosts: Vec<Host>,
    /// (address, index of the first host that has it, its row once known)
    addresses: Vec<(IpAddr, usize, Option<Row>)>,
    pending_addresses: usize,
}

enum AddressState {
    Pending(Vec<u32>),
    /// Boxed: a row is over 200 bytes, a pending entry only a list.
    Done(Box<Row>),
}

/// Reverse rows of mail-host addresses, shared by every domain that uses
/// them; finished entries are evicted oldest first past the capacity.
struct AddressCache {
    index: HashMap<IpAddr, u32>,
    entries: Slab<(IpAddr, AddressState)>,
    finished: VecDeque<u32>,
}

impl AddressCache {
    fn new() -> Self {
        AddressCache {
            index: HashMap::new(),
            entries: Slab::default(),
            finished: VecDeque::new(),
        }
    }

    fn insert(&mut self, ip: IpAddr, waiter: u32) -> u32 {
        let id = self
            .entries
            .insert((ip, AddressState::Pending(vec![waiter])));
        self.index.insert(ip, id);
        id
    }

    /// Stores the row; returns the domains waiting for it.
    fn finish(&mut self, id: u32, row: &Row) -> Vec<u32> {
        let Some((_, state)) = self.entries.get_mut(id) else {
            return Vec::new();
        };
        let waiters = match std::mem::replace(state, AddressState::Done(Box::new(row.clone()))) {
            AddressState::Pending(waiters) => waiters,
            AddressState::Done(_) => Vec::new(),
        };
        self.finished.push_back(id);
        while self.finished.len() > ADDRESS_CACHE_CAPACITY {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            if let Some((ip, _)) = self.entries.take(old) {
                self.index.remove(&ip);
            }
        }
        waiters
    }
}

pub struct MxDriver<'a, O: RowOutput<MxRow>> {
    domains: std::vec::IntoIter<DomainInput>,
    domains_done: bool,
    all_mx: bool,
    lookups: Lookups<'a>,
    states: Slab<DomainState>,
    active: usize,
    questions: VecDeque<QueryRequest>,
    /// Rows ready to go out (invalid domains, finished domains).
    ready: Vec<MxRow>,
    addresses: AddressCache,
    output: O,
    output_failed: bool,
    stats: &'a Stats,
}

impl<'a, O: RowOutput<MxRow>> MxDriver<'a, O> {
    pub fn new(domains: Vec<DomainInput>, all_mx: bool, output: O, stats: &'a Stats) -> Self {
        MxDriver {
            domains: domains.into_iter(),
            domains_done: false,
            all_mx,
            lookups: Lookups::new(false, stats),
            states: Slab::default(),
            active: 0,
            questions: VecDeque::new(),
            ready: Vec::new(),
            addresses: AddressCache::new(),
            output,
            output_failed: false,
            stats,
        }
    }

    fn state(&mut self, index: u32) -> Option<&mut DomainState> {
        self.states.get_mut(index)
    }

    /// Starts a domain; returns its MX question, or `None` when the input
    /// is invalid (its row is then ready at once).
    fn start_domain(&mut self, input: DomainInput) -> Option<QueryRequest> {
        let (domain, qname) = match input {
            DomainInput::Invalid { input, reason } => {
                self.stats.count_row();
                self.ready.push(single_row(
                    input,
                    MxStatus::Error,
                    Some(format!("invalid domain: {reason}")),
                    None,
                ));
                return None;
            }
            DomainInput::Valid(domain) => match WireName::from_ascii(&domain) {
                Ok(qname) => (domain, qname),
                Err(error) => {
                    self.stats.count_row();
                    self.ready.push(single_row(
                        domain,
                        MxStatus::Error,
                        Some(format!("invalid domain: {error}")),
                        None,
                    ));
                    return None;
                }
            },
        };
        let state = DomainState {
            domain,
            implicit: false,
            mx_qname: qname,
            mx_hops: 0,
            phase: Phase::Mx,
            hosts: Vec::new(),
            addresses: Vec::new(),
            pending_addresses: 0,
        };
        let index = self.states.insert(state);
        self.active += 1;
        Some(mx_question(qname, index))
    }

    fn on_mx(&mut self, index: u32, completion: Completion<'_>) {
        let all_mx = self.all_mx;
        let Some(state) = self.state(index) else {
            return;
        };
        if !matches!(state.phase, Phase::Mx) {
            return;
        }
        let hops = state.mx_hops;
        let response = match completion.outcome {
            Outcome::Failed { error, .. } => {
                let reason = format!("mx lookup: {}", ErrorKind::from(error).as_str());
                return self.finish_single(index, MxStatus::Error, Some(reason), None);
            }
            Outcome::Answered(response) => response,
        };
        if response.rcode() == Rcode::NXDOMAIN {
            return self.finish_single(index, MxStatus::Nxdomain, None, None);
        }
        // The response's question is `mx_qname`: the engine completes only
        // with answers that repeat it.
        let chain = follow_chain(response.question(), response, QType::Mx, MAX_CNAME_HOPS);
        let total_hops = hops + chain.cname_hops;
        if !chain.has_records() && chain.cname_hops > 0 {
            // The domain is an alias whose target's MX was not in the answer.
            if total_hops > MAX_CNAME_HOPS {
                let reason = Some("mx lookup: cname_chain".to_owned());
                return self.finish_single(index, MxStatus::Error, reason, None);
            }
            match WireName::from_ascii(chain.final_name) {
                Ok(next) => {
                    state.mx_qname = next;
                    state.mx_hops = total_hops;
                    self.questions.push_back(mx_question(next, index));
                }
                Err(_) => {
                    let reason = Some("mx lookup: malformed".to_owned());
                    self.finish_single(index, MxStatus::Error, reason, None);
                }
            }
            return;
        }
        let mut records: Vec<(u16, String)> = chain
            .records()
            .filter_map(|data| match data {
                AnswerData::Mx {
                    preference,
                    exchange,
                } => Some((preference, normal_name(exchange))),
                _ => None,
            })
            .collect();
        records.sort();
        records.dedup_by(|a, b| a.1 == b.1);
        // RFC 7505 §3: a domain that accepts no mail publishes one MX with
        // the root as target; ignore any other records mixed in with it.
        let (null, real): (Vec<_>, Vec<_>) =
            records.into_iter().partition(|(_, host)| host.is_empty());
        if real.is_empty() && !null.is_empty() {
            let pref = null.first().map(|(pref, _)| *pref);
            return self.finish_single(
                index,
                MxStatus::NullMx,
                None,
                pref.map(|p| (".".into(), p)),
            );
        }
        let hosts: Vec<Host> = if real.is_empty() {
            // RFC 5321 §5.1: no MX at all → the domain itself is the mail host.
            state.implicit = true;
            vec![Host {
                name: state.domain.clone(),
                primary: true,
                pref: None,
                a: None,
                aaaa: None,
                via_cname: false,
            }]
        } else {
            let primary = real.first().map_or(0, |(pref, _)| *pref);
            real.into_iter()
                .filter(|(pref, _)| all_mx || *pref == primary)
                .map(|(pref, name)| Host {
                    name,
                    primary: pref == primary,
                    pref: Some(pref),
                    a: None,
                    aaaa: None,
                    via_cname: false,
                })
                .collect()
        };
        state.hosts = hosts;
        state.phase = Phase::Hosts;
        let names: Vec<String> = state.hosts.iter().map(|host| host.name.clone()).collect();
        for name in names {
            for qtype in [QType::A, QType::Aaaa] {
                if let HostLookup::Known(result, via_cname) =
                    self.lookups.lookup_host(&name, qtype, index)
                {
                    self.record_host(index, &name, qtype, result, via_cname);
                }
            }
        }
    }

    fn record_host(
        &mut self,
        index: u32,
        name: &str,
        qtype: QType,
        result: ForwardResult,
        via_cname: bool,
    ) {
        let Some(state) = self.state(index) else {
            return;
        };
        if !matches!(state.phase, Phase::Hosts) {
            return;
        }
        for host in state.hosts.iter_mut().filter(|host| host.name == name) {
            host.via_cname |= via_cname;
            match qtype {
                QType::A => host.a = Some(result.clone()),
                QType::Aaaa => host.aaaa = Some(result.clone()),
                _ => {}
            }
        }
        if state.hosts.iter().all(Host::resolved) {
            self.hosts_resolved(index);
        }
    }

    fn hosts_resolved(&mut self, index: u32) {
        let Some(state) = self.state(index) else {
            return;
        };
        let mut addresses: Vec<(IpAddr, usize, Option<Row>)> = Vec::new();
        for (host_index, host) in state.hosts.iter().enumerate() {
            let mut found: Vec<IpAddr> = [&host.a, &host.aaaa]
                .into_iter()
                .flatten()
                .filter_map(|result| result.as_ref().ok())
                .flatten()
                .copied()
                .collect();
            found.sort();
            for ip in found {
                if !addresses.iter().any(|(seen, ..)| *seen == ip) {
                    addresses.push((ip, host_index, None));
                }
            }
        }
        if addresses.is_empty() {
            let error = state.hosts.iter().find_map(Host::error);
            let first = state
                .hosts
                .first()
                .map(|host| (host.name.clone(), host.pref));
            let implicit = state.implicit;
            return match (implicit, error) {
                (_, Some(error)) => {
                    let reason = Some(format!("address lookup: {}", error.as_str()));
                    let host = first.and_then(|(name, pref)| pref.map(|pref| (name, pref)));
                    self.finish_single(index, MxStatus::Error, reason, host)
                }
                (true, None) => self.finish_single(index, MxStatus::NoMx, None, None),
                (false, None) => {
                    let host = first.and_then(|(name, pref)| pref.map(|pref| (name, pref)));
                    self.finish_single(index, MxStatus::NoAddress, None, host)
                }
            };
        }
        state.pending_addresses = addresses.len();
        state.phase = Phase::Addresses;
        let ips: Vec<IpAddr> = addresses.iter().map(|(ip, ..)| *ip).collect();
        state.addresses = addresses;
        for ip in ips {
            match self.addresses.index.get(&ip).copied() {
                Some(id) => match self.addresses.entries.get_mut(id) {
                    Some((_, AddressState::Pending(waiters))) => waiters.push(index),
                    Some((_, AddressState::Done(row))) => {
                        let row = Row::clone(row);
                        self.record_address(index, &row);
                    }
                    None => {}
                },
                None => {
                    let id = self.addresses.insert(ip, index);
                    let request = self.lookups.start(ip, u64::from(id));
                    self.questions.push_back(request);
                }
            }
        }
    }

    fn record_address(&mut self, index: u32, row: &Row) {
        let Some(state) = self.state(index) else {
            return;
        };
        for slot in state
            .addresses
            .iter_mut()
            .filter(|(ip, _, done)| *ip == row.ip && done.is_none())
        {
            slot.2 = Some(row.clone());
            state.pending_addresses = state.pending_addresses.saturating_sub(1);
        }
        if state.pending_addresses == 0 {
            self.finish_domain(index);
        }
    }

    /// Ends a domain (progress counts domains, not rows).
    fn take_state(&mut self, index: u32) -> Option<DomainState> {
        let state = self.states.take(index)?;
        self.active -= 1;
        self.stats.count_row();
        Some(state)
    }

    fn finish_single(
        &mut self,
        index: u32,
        status: MxStatus,
        reason: Option<String>,
        host: Option<(String, u16)>,
    ) {
        if let Some(state) = self.take_state(index) {
            let mut row = single_row(state.domain, status, reason, None);
            if let Some((name, pref)) = host {
                row.mx_host = Some(name);
                row.mx_pref = Some(pref);
            }
            self.ready.push(row);
        }
    }

    fn finish_domain(&mut self, index: u32) {
        let Some(state) = self.take_state(index) else {
            return;
        };
        for (_, host_index, row) in state.addresses {
            let Some(host) = state.hosts.get(host_index) else {
                continue;
            };
            let status = if state.implicit {
                MxStatus::ImplicitMx
            } else if host.via_cname {
                MxStatus::CnameMx
            } else {
                MxStatus::Ok
            };
            self.ready.push(MxRow {
                domain: state.domain.clone(),
                mx_status: status,
                mx_error: None,
                mx_host: Some(host.name.clone()),
                mx_pref: host.pref,
                address: row,
                primary: host.primary,
                smtp: None,
            });
        }
    }

    /// Moves everything the lookups finished into domains, and ready rows out.
    fn settle(&mut self) {
        let answers: Vec<_> = self.lookups.take_host_answers().collect();
        for answer in answers {
            self.record_host(
                answer.waiter,
                &answer.name,
                answer.qtype,
                answer.result,
                answer.via_cname,
            );
        }
        let rows: Vec<(u64, Row)> = self.lookups.take_rows().collect();
        for (owner, row) in rows {
            for domain in self.addresses.finish(owner as u32, &row) {
                self.record_address(domain, &row);
            }
        }
        for row in self.ready.drain(..) {
            if !self.output.push(row) {
                self.output_failed = true;
            }
        }
    }
}

fn mx_question(name: WireName, index: u32) -> QueryRequest {
    QueryRequest {
        name,
        qtype: QType::Mx,
        token: MX_TOKEN | u64::from(index),
    }
}

fn single_row(
    domain: String,
    status: MxStatus,
    reason: Option<String>,
    host: Option<(String, u16)>,
) -> MxRow {
    MxRow {
        domain,
        mx_status: status,
        mx_error: reason,
        mx_host: host.as_ref().map(|(name, _)| name.clone()),
        mx_pref: host.map(|(_, pref)| pref),
        address: None,
        primary: false,
        smtp: None,
    }
}

impl<O: RowOutput<MxRow>> FrontEnd<O> for MxDriver<'_, O> {
    fn output_failed(&self) -> bool {
        self.output_failed
    }

    fn into_output(self) -> O {
        self.output
    }
}

impl<O: RowOutput<MxRow>> Driver for MxDriver<'_, O> {
    fn next_query(&mut self) -> Option<QueryRequest> {
        loop {
            if let Some(request) = self.questions.pop_front() {
                return Some(request);
            }
            if let Some(request) = self.lookups.next_followup() {
                return Some(request);
            }
            if self.domains_done || self.output_failed || self.active >= MAX_ACTIVE_DOMAINS {
                return None;
            }
            match self.domains.next() {
                Some(input) => {
                    if let Some(request) = self.start_domain(input) {
                        return Some(request);
                    }
                    self.settle();
                }
                None => {
                    self.domains_done = true;
                    self.settle();
                    return None;
                }
            }
        }
    }

    fn complete(&mut self, completion: Completion<'_>) {
        if let Some(own) = self.lookups.complete(completion) {
            self.on_mx((own.token & !MX_TOKEN) as u32, own);
        }
        self.settle();
    }

    fn tick(&mut self, now: std::time::Instant) {
        if !self.output.tick(now) {
            self.output_failed = true;
        }
    }
}
