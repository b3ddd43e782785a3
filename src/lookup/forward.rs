//! Forward lookups of PTR names, shared across targets through a bounded cache.
//!
//! Many addresses share a PTR name (`unassigned.isp.example`, one mail host
//! behind a pool, a customer's relay name): each (name, type) is asked once
//! while it is cached, and targets that need it meanwhile wait on the same
//! entry. Finished entries are evicted oldest first past the capacity, so a
//! /8 of unique names does not grow memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::engine::{Completion, Outcome, QueryRequest};
use crate::record::ErrorKind;
use crate::wire::{AnswerData, QType, Rcode, WireName, follow_chain};

use super::slab::Slab;
use super::verdict::{ForwardAddrs, ForwardResult};

/// Entries kept, pending and finished together: ~120 bytes each with their
/// name and index bucket, so ~3 MiB. Small enough that a /16 already fills
/// it, which keeps memory flat from a /16 to a /8; large enough for names
/// shared across a sweep to stay cached (a hot name is re-asked at most
/// once per 16 Ki other names).
pub const DEFAULT_CAPACITY: usize = 1 << 14;

/// Tokens of forward questions carry this bit; the rest is the entry id.
pub const FORWARD_TOKEN: u64 = 1 << 63;

pub enum ForwardEvent {
    /// Already resolved (a cache hit); the flag says a CNAME was followed.
    Known(ForwardResult, bool),
    /// Someone already asked; the waiter is registered.
    Waiting,
    /// New entry: its question was queued for sending.
    Asked,
}

pub enum ForwardStep {
    /// The answer was a CNAME to a name it did not include: the question
    /// for that name was queued, as [`ForwardCache::lookup`] queues one.
    FollowedCname,
    Resolved {
        /// The name asked (shared with the cache entry).
        name: std::sync::Arc<str>,
        qtype: QType,
        result: ForwardResult,
        /// The name is an alias: a CNAME was followed to the addresses.
        via_cname: bool,
        waiters: Waiters,
    },
    /// A completion for an entry that no longer exists.
    Stale,
}

/// Who waits on an entry. Nearly always one target, so the first is kept
/// inline: no allocation per entry for the common case.
#[derive(Debug)]
pub struct Waiters {
    first: u32,
    more: Vec<u32>,
}

impl Waiters {
    fn one(waiter: u32) -> Self {
        Waiters {
            first: waiter,
            more: Vec::new(),
        }
    }

    fn push(&mut self, waiter: u32) {
        self.more.push(waiter);
    }

    /// In the order they started waiting.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// An entry being asked: the question itself travels with the engine.
struct Pending {
    waiters: Waiters,
    /// CNAMEs followed so far.
    hops: u8,
}

enum EntryState {
    Pending(Pending),
    Done(ForwardResult, bool),
}

struct Entry {
    name: std::sync::Arc<str>,
    qtype: QType,
    state: EntryState,
}

pub struct ForwardCache {
    /// Per name, the entries for A and AAAA; the name is shared with the entry.
    /// foldhash: several times cheaper than SipHash on short names (a
    /// lookup per PTR name), and randomly seeded, so names an attacker puts
    /// in PTR records cannot be chosen to collide.
    index: HashMap<std::sync::Arc<str>, [Option<u32>; 2], foldhash::fast::RandomState>,
    entries: Slab<Entry>,
    finished: VecDeque<u32>,
    capacity: usize,
}

impl ForwardCache {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        ForwardCache {
            // Room for twice the entries: names come and go all the time, and
            // a hash table that is more than half full when its deleted slots
            // run out grows instead of cleaning up in place (hashbrown's
            // `reserve_rehash`), which doubled it half-way through a /12.
            index: HashMap::with_capacity_and_hasher(2 * capacity, Default::default()),
            entries: Slab::with_capacity(capacity),
            finished: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    fn slot(qtype: QType) -> usize {
        usize::from(qtype != QType::A)
    }

    /// The entry for (`name`, `qtype`); a new entry's question is pushed
    /// onto `questions` (not returned: a question is 270 bytes, and the
    /// caller would only copy it there).
    pub fn lookup(
        &mut self,
        name: &str,
        qtype: QType,
        waiter: u32,
        questions: &mut VecDeque<QueryRequest>,
    ) -> ForwardEvent {
        if let Some(ids) = self.index.get(name)
            && let Some(id) = ids[Self::slot(qtype)]
            && let Some(entry) = self.entries.get_mut(id)
        {
            return match &mut entry.state {
                EntryState::Pending(pending) => {
                    pending.waiters.push(waiter);
                    ForwardEvent::Waiting
                }
                EntryState::Done(result, via_cname) => {
                    ForwardEvent::Known(result.clone(), *via_cname)
                }
            };
        }
        let Ok(qname) = WireName::from_ascii(name) else {
            return ForwardEvent::Known(Err(ErrorKind::Malformed), false);
        };
        let shared: std::sync::Arc<str> = match self.index.get_key_value(name) {
            Some((key, _)) => std::sync::Arc::clone(key),
            None => std::sync::Arc::from(name),
        };
        // Make room first, so pending and finished entries together stay
        // within the capacity the containers were reserved for.
        self.evict(1);
        let entry = Entry {
            name: std::sync::Arc::clone(&shared),
            qtype,
            state: EntryState::Pending(Pending {
                waiters: Waiters::one(waiter),
                hops: 0,
            }),
        };
        let id = self.entries.insert(entry);
        self.index.entry(shared).or_default()[Self::slot(qtype)] = Some(id);
        questions.push_back(QueryRequest {
            name: qname,
            qtype,
            token: FORWARD_TOKEN | u64::from(id),
        });
        ForwardEvent::Asked
    }

    pub fn complete(
        &mut self,
        id: u32,
        completion: Completion<'_>,
        max_hops: usize,
        questions: &mut VecDeque<QueryRequest>,
    ) -> ForwardStep {
        let Some(entry) = self.entries.get_mut(id) else {
            return ForwardStep::Stale;
        };
        let qtype = entry.qtype;
        let EntryState::Pending(pending) = &mut entry.state else {
            return ForwardStep::Stale;
        };
        let mut via_cname = pending.hops > 0;
        let result: ForwardResult = match completion.outcome {
            Outcome::Failed { error, .. } => Err(error.into()),
            Outcome::Answered(response) => {
                // The response's question is the name this entry asked last:
                // the engine completes only with answers that repeat it.
                let chain = follow_chain(response.question(), response, qtype, max_hops);
                let hops = usize::from(pending.hops) + chain.cname_hops;
                via_cname = hops > 0;
                if !chain.has_records()
                    && chain.cname_hops > 0
                    && response.rcode() == Rcode::NOERROR
                {
                    if hops > max_hops {
                        Err(ErrorKind::CnameChain)
                    } else {
                        match WireName::from_ascii(chain.final_name) {
                            Ok(next) => {
                                // At most `max_hops` here, a handful.
                                pending.hops = u8::try_from(hops).unwrap_or(u8::MAX);
                                questions.push_back(QueryRequest {
                                    name: next,
                                    qtype,
                                    token: FORWARD_TOKEN | u64::from(id),
                                });
                                return ForwardStep::FollowedCname;
                            }
                            Err(_) => Err(ErrorKind::Malformed),
                        }
                    }
                } else if !chain.has_records() && chain.cname_hops >= max_hops {
                    Err(ErrorKind::CnameChain)
                } else {
                    Ok(ForwardAddrs::collect(chain.records().filter_map(
                        |data| match data {
                            AnswerData::A(v4) => Some(IpAddr::V4(v4)),
                            AnswerData::Aaaa(v6) => Some(IpAddr::V6(v6)),
                            _ => None,
                        },
                    )))
                }
            }
        };
        let done = EntryState::Done(result.clone(), via_cname);
        let waiters = match std::mem::replace(&mut entry.state, done) {
            EntryState::Pending(pending) => pending.waiters,
            EntryState::Done(..) => return ForwardStep::Stale,
        };
        let name = std::sync::Arc::clone(&entry.name);
        self.finished.push_back(id);
        self.evict(0);
        ForwardStep::Resolved {
            name,
            qtype,
            result,
            via_cname,
            waiters,
        }
    }

    /// Evicts finished entries, oldest first, until `room` more entries fit
    /// in the capacity. Pending entries are never evicted (targets wait on
    /// them); only a window of questions larger than the whole capacity
    /// could push the total past it.
    fn evict(&mut self, room: usize) {
        while self.entries.len() + room > self.capacity {
            let Some(id) = self.finished.pop_front() else {
                break;
            };
            if let Some(entry) = self.entries.take(id)
                && let Some(ids) = self.index.get_mut(&*entry.name)
            {
                ids[Self::slot(entry.qtype)] = None;
                if ids.iter().all(Option::is_none) {
                    self.index.remove(&*entry.name);
                }
            }
        }
    }

    /// Entries held (pending and finished).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Memory the entries take inline (names and results are extra).
    pub const ENTRY_SIZE: usize = std::mem::size_of::<Option<Entry>>();
}

// Names live once (shared with the index), wire names only while pending:
// a finished entry must stay small for the cache to keep memory flat.
const _: () = assert!(ForwardCache::ENTRY_SIZE <= 64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Answer, DecodedResponse};

    /// The answer to `question`, as the engine would lend it.
    fn response(question: &str, answers: &[Answer<'_>], rcode: Rcode) -> DecodedResponse {
        let mut response = DecodedResponse::default();
        response.reset(1, rcode, false, question);
        for answer in answers {
            response.push_answer(*answer);
        }
        response
    }

    fn answered(token: u64, response: &DecodedResponse) -> Completion<'_> {
        Completion {
            token,
            outcome: Outcome::Answered(response),
            resolver: "127.0.0.1:53".parse().unwrap(),
            attempts: 1,
            rtt: None,
        }
    }

    /// Looks up an entry that must be new; returns its question.
    fn ask(cache: &mut ForwardCache, name: &str, qtype: QType, waiter: u32) -> QueryRequest {
        let mut questions = VecDeque::new();
        assert!(matches!(
            cache.lookup(name, qtype, waiter, &mut questions),
            ForwardEvent::Asked
        ));
        questions.pop_front().expect("a question")
    }

    fn look(cache: &mut ForwardCache, name: &str, qtype: QType, waiter: u32) -> ForwardEvent {
        cache.lookup(name, qtype, waiter, &mut VecDeque::new())
    }

    #[test]
    fn shared_name_is_asked_once_and_answers_every_waiter() {
        let mut cache = ForwardCache::new(16);
        let request = ask(&mut cache, "mail.example.com", QType::A, 1);
        assert!(matches!(
            look(&mut cache, "mail.example.com", QType::A, 2),
            ForwardEvent::Waiting
        ));
        let id = (request.token & !FORWARD_TOKEN) as u32;
        let answer = Answer {
            owner: "mail.example.com",
            data: AnswerData::A("192.0.2.1".parse().unwrap()),
        };
        let answer = response("mail.example.com", &[answer], Rcode::NOERROR);
        match cache.complete(
            id,
            answered(request.token, &answer),
            8,
            &mut VecDeque::new(),
        ) {
            ForwardStep::Resolved {
                result, waiters, ..
            } => {
                assert_eq!(waiters.iter().collect::<Vec<_>>(), vec![1, 2]);
                let addr = "192.0.2.1".parse::<IpAddr>().unwrap();
                assert_eq!(result, Ok(ForwardAddrs::One(addr)));
            }
            _ => panic!("expected resolution"),
        }
        assert!(matches!(
            look(&mut cache, "mail.example.com", QType::A, 3),
            ForwardEvent::Known(Ok(_), _)
        ));
        // Another type is another entry.
        assert!(matches!(
            look(&mut cache, "mail.example.com", QType::Aaaa, 3),
            ForwardEvent::Asked
        ));
    }

    #[test]
    fn dangling_cname_is_followed_then_bounded() {
        let mut cache = ForwardCache::new(16);
        let request = ask(&mut cache, "a.example", QType::A, 1);
        let id = (request.token & !FORWARD_TOKEN) as u32;
        let mut token = request.token;
        for hop in 0..20 {
            let owner = if hop == 0 {
                "a.example".to_owned()
            } else {
                format!("c{}.example", hop - 1)
            };
            let target = format!("c{hop}.example");
            let cname = Answer {
                owner: &owner,
                data: AnswerData::Cname(&target),
            };
            let answer = response(&owner, &[cname], Rcode::NOERROR);
            let mut questions = VecDeque::new();
            match cache.complete(id, answered(token, &answer), 8, &mut questions) {
                ForwardStep::FollowedCname => {
                    let next = questions.pop_front().expect("the CNAME target's question");
                    assert_eq!(next.name.to_presentation(), target);
                    token = next.token;
                }
                ForwardStep::Resolved { result, .. } => {
                    assert_eq!(result, Err(ErrorKind::CnameChain));
                    assert!(hop >= 8);
                    return;
                }
                ForwardStep::Stale => panic!("stale"),
            }
        }
        panic!("chain was never cut");
    }

    #[test]
    fn finished_entries_are_evicted_past_capacity() {
        let mut cache = ForwardCache::new(4);
        for i in 0..100u32 {
            let name = format!("h{i}.example");
            let request = ask(&mut cache, &name, QType::A, i);
            let id = (request.token & !FORWARD_TOKEN) as u32;
            let answer = response(&name, &[], Rcode::NXDOMAIN);
            cache.complete(
                id,
                answered(request.token, &answer),
                8,
                &mut VecDeque::new(),
            );
        }
        assert!(cache.len() <= 4, "cache holds {}", cache.len());
    }

    #[test]
    fn evicting_one_type_keeps_the_other_cached() {
        let mut cache = ForwardCache::new(2);
        for (waiter, qtype) in [(1, QType::A), (2, QType::Aaaa)] {
            let request = ask(&mut cache, "a.example", qtype, waiter);
            let id = (request.token & !FORWARD_TOKEN) as u32;
            let answer = response("a.example", &[], Rcode::NXDOMAIN);
            cache.complete(
                id,
                answered(request.token, &answer),
                8,
                &mut VecDeque::new(),
            );
        }
        // Room for b.example evicts the oldest finished entry, a.example/A.
        ask(&mut cache, "b.example", QType::A, 3);
        assert!(matches!(
            look(&mut cache, "a.example", QType::Aaaa, 4),
            ForwardEvent::Known(_, false)
        ));
        assert!(matches!(
            look(&mut cache, "a.example", QType::A, 5),
            ForwardEvent::Asked
        ));
    }

    /// Regression (issue 7): the cache is full from a /16 on, and neither the
    /// entry store nor the index may grow after that, however long the sweep
    /// runs (the index doubled half-way through a /12, the store at a /16,
    /// because pending entries came on top of a full set of finished ones).
    #[test]
    fn containers_never_grow_under_churn() {
        let capacity = 1024;
        let mut cache = ForwardCache::new(capacity);
        let index_capacity = cache.index.capacity();
        let entry_capacity = cache.entries.capacity();
        // A window of 100 questions in flight, completed oldest first, for
        // 100 times the capacity in distinct names.
        let mut in_flight = VecDeque::new();
        for i in 0..100 * capacity as u32 {
            let qtype = if i % 2 == 0 { QType::A } else { QType::Aaaa };
            let name = format!("host-{}.example", i / 2);
            let request = ask(&mut cache, &name, qtype, i);
            in_flight.push_back((request.token, name));
            if in_flight.len() > 100 {
                let (token, name) = in_flight.pop_front().unwrap();
                let id = (token & !FORWARD_TOKEN) as u32;
                let answer = response(&name, &[], Rcode::NXDOMAIN);
                cache.complete(id, answered(token, &answer), 8, &mut VecDeque::new());
            }
            assert!(cache.len() <= capacity, "{} entries", cache.len());
        }
        assert_eq!(cache.index.capacity(), index_capacity, "index grew");
        assert_eq!(cache.entries.capacity(), entry_capacity, "entry store grew");
    }
}
