//! The steady-state hot path allocates nothing per query (issue 4), proven
//! with a counting global allocator rather than argued:
//!
//! - encode a query, validate and decode a realistic answer, walk its CNAME
//!   chain and read its records, 10,000 times: zero allocations;
//! - the real engine (sockets, pacing, in-flight table, deadlines, receive,
//!   checks, decode) answering PTR and A questions from the in-process DNS
//!   server on 127.0.0.1, with a driver that keeps nothing: allocations per
//!   query after warm-up below [`ENGINE_BOUND`].
//!
//! Only allocations made on the thread under test are counted (a
//! thread-local switch), so the in-process server's and the test harness's
//! own threads do not count. A separate test binary, because the global
//! allocator is per binary.

#[path = "support/hickory.rs"]
mod hickory;
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicBool;

use hickory::{name, record};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{RData, RecordType};
use ptrscan::engine::{
    Completion, Driver, Engine, EngineConfig, EngineExit, Outcome, QueryRequest,
};
use ptrscan::lookup::MAX_CNAME_HOPS;
use ptrscan::stats::Stats;
use ptrscan::validate::{Expected, check_response};
use ptrscan::wire::{
    AnswerData, DecodedResponse, MAX_QUERY_LEN, QType, WireName, decode_response, encode_query,
    follow_chain,
};

/// The system allocator, counting the allocations (and reallocations) of
/// threads that switched counting on.
struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: allocations during thread teardown must not panic.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches
// only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`; `ptr` came from this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations this thread has made while counting was on.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn set_counting(on: bool) {
    COUNTING.with(|counting| counting.set(on));
}

/// An answer as a resolver sends it: `relay.example.org` is a CNAME chain
/// to an A record, compressed, with an OPT record.
fn forward_answer(id: u16) -> (Vec<u8>, WireName) {
    let bytes = hickory::response(
        id,
        "relay.example.org.",
        RecordType::A,
        ResponseCode::NoError,
        vec![
            record(
                "relay.example.org.",
                RData::CNAME(CNAME(name("out.example.org."))),
            ),
            record(
                "out.example.org.",
                RData::A(A(Ipv4Addr::new(198, 51, 100, 18))),
            ),
            record(
                "out.example.org.",
                RData::A(A(Ipv4Addr::new(198, 51, 100, 19))),
            ),
        ],
    );
    let qname = WireName::from_ascii("relay.example.org").expect("question");
    (bytes, qname)
}

/// Encode, validate, decode, walk: what the engine and a lookup do per answer.
fn one_round(
    answer: &[u8],
    qname: &WireName,
    resolver: SocketAddr,
    response: &mut DecodedResponse,
) -> u32 {
    let mut query = [0u8; MAX_QUERY_LEN];
    let len = encode_query(0x4242, qname, QType::A, &mut query);
    let expected = Expected {
        resolver,
        qname,
        qtype: QType::A,
    };
    check_response(answer, resolver, &expected).expect("the answer matches");
    decode_response(answer, response).expect("the answer decodes");
    let chain = follow_chain(response.question(), response, QType::A, MAX_CNAME_HOPS);
    let mut sum = len as u32;
    for record in chain.records() {
        if let AnswerData::A(v4) = record {
            sum = sum.wrapping_add(u32::from(v4));
        }
    }
    sum
}

#[test]
fn encode_validate_decode_allocate_nothing() {
    let resolver: SocketAddr = ([127, 0, 0, 1], 53).into();
    let (answer, qname) = forward_answer(0x4242);
    let mut response = DecodedResponse::default();
    // Warm-up: the buffers grow to this answer's size once.
    let expected_sum = one_round(&answer, &qname, resolver, &mut response);
    assert_eq!(
        response.answers().len(),
        3,
        "the CNAME and both addresses: {response:?}"
    );
    set_counting(true);
    let before = allocations();
    let mut sum = 0u32;
    for _ in 0..10_000 {
        sum = sum.wrapping_add(one_round(&answer, &qname, resolver, &mut response));
    }
    let made = allocations() - before;
    set_counting(false);
    assert_eq!(sum, expected_sum.wrapping_mul(10_000));
    assert_eq!(made, 0, "{made} allocations in 10,000 rounds");
}

/// Allocations per query the engine may make after warm-up. What is left is
/// amortised growth, never per query: the in-flight slots, the per-resolver
/// ready queues and the deadline heap grow to their peak (the heap keeps a
/// completed question's deadline until it passes, so its peak is about
/// rate × timeout) when the adaptive window widens past what warm-up reached.
const ENGINE_BOUND: f64 = 0.01;

/// Asks `total` questions (PTR of the sample world's /24 and A of its mail
/// hosts, alternately), keeps nothing, and switches counting on once
/// `warmup` have completed.
struct CountingDriver {
    total: u64,
    warmup: u64,
    issued: u64,
    completed: u64,
    answered: u64,
    /// Something read from every answer, so the walk is not optimised away.
    checksum: u64,
    counted_from: Option<u64>,
}

const HOSTS: [&str; 3] = ["mail.example.com", "relay.example.org", "mx.example.org"];

impl Driver for CountingDriver {
    fn next_query(&mut self) -> Option<QueryRequest> {
        if self.issued == self.total {
            return None;
        }
        let n = self.issued;
        self.issued += 1;
        let (name, qtype) = if n.is_multiple_of(2) {
            let ip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (n / 2 % 256) as u8));
            (WireName::reverse(ip), QType::Ptr)
        } else {
            let host = HOSTS[(n / 2 % HOSTS.len() as u64) as usize];
            (WireName::from_ascii(host).expect("host name"), QType::A)
        };
        Some(QueryRequest {
            name,
            qtype,
            token: n,
        })
    }

    fn complete(&mut self, completion: Completion<'_>) {
        self.completed += 1;
        if let Outcome::Answered(response) = completion.outcome {
            self.answered += 1;
            let want = if completion.token.is_multiple_of(2) {
                QType::Ptr
            } else {
                QType::A
            };
            let chain = follow_chain(response.question(), response, want, MAX_CNAME_HOPS);
            for record in chain.records() {
                self.checksum += match record {
                    AnswerData::Ptr(name) => name.len() as u64,
                    AnswerData::A(v4) => u64::from(u32::from(v4)),
                    _ => 1,
                };
            }
        }
        if self.completed == self.warmup {
            self.counted_from = Some(self.completed);
            set_counting(true);
        }
    }
}

#[test]
fn engine_allocates_nothing_per_query_after_warm_up() {
    let server = support::sample_server();
    let stats = Stats::default();
    let mut engine = Engine::new(EngineConfig::new(vec![server.addr()]), &stats).expect("engine");
    let mut driver = CountingDriver {
        total: 40_000,
        warmup: 8_000,
        issued: 0,
        completed: 0,
        answered: 0,
        checksum: 0,
        counted_from: None,
    };
    let before = allocations();
    let stop = AtomicBool::new(false);
    let exit = engine.run(&mut driver, &stop).expect("engine runs");
    set_counting(false);
    let made = allocations() - before;
    assert_eq!(exit, EngineExit::Finished);
    assert_eq!(
        driver.completed, driver.total,
        "one completion per question"
    );
    assert!(
        driver.answered * 100 >= driver.total * 99,
        "{} of {} answered",
        driver.answered,
        driver.total
    );
    assert!(driver.checksum > 0);
    let counted = driver.total - driver.counted_from.expect("warm-up ended");
    let per_query = made as f64 / counted as f64;
    eprintln!(
        "engine: {made} allocations over {counted} queries after warm-up ({per_query:.5} per query)"
    );
    assert!(
        per_query < ENGINE_BOUND,
        "{made} allocations over {counted} queries ({per_query:.4} per query)"
    );
}

/// The counter counts: the reference decoder (hickory-proto) allocates on
/// every answer, which is why the hot path no longer uses it.
#[test]
fn the_counter_sees_the_reference_decoder_allocate() {
    let (answer, _) = forward_answer(7);
    let mut response = DecodedResponse::default();
    ptrscan::wire::decode_response_reference(&answer, &mut response).expect("decodes");
    set_counting(true);
    let before = allocations();
    ptrscan::wire::decode_response_reference(&answer, &mut response).expect("decodes");
    let made = allocations() - before;
    set_counting(false);
    eprintln!("reference decoder: {made} allocations per answer");
    assert!(made > 0);
}

/// Rows go nowhere; the lookups still build them (names, forward lists).
struct Discard;

impl ptrscan::lookup::RowOutput<ptrscan::record::Row> for Discard {
    fn push(&mut self, _row: ptrscan::record::Row) -> bool {
        true
    }
}

/// Not a bound on the hot path but a record of what the lookups add per
/// row on top of it (PTR names copied into the row, forward results, the
/// row itself): the whole `scan` pipeline over the sample /24, 64 times.
#[test]
fn scan_pipeline_allocations_per_row_are_reported() {
    let server = support::sample_server();
    let stats = Stats::default();
    let mut engine = Engine::new(EngineConfig::new(vec![server.addr()]), &stats).expect("engine");
    let rounds = 64u32;
    let targets = (0..256 * rounds).map(|i| {
        (
            u64::from(i),
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i % 256) as u8)),
        )
    });
    let mut driver = ptrscan::lookup::ScanDriver::new(targets, false, Discard, &stats);
    let stop = AtomicBool::new(false);
    set_counting(true);
    let before = allocations();
    let exit = engine.run(&mut driver, &stop).expect("engine runs");
    let made = allocations() - before;
    set_counting(false);
    assert_eq!(exit, EngineExit::Finished);
    let rows = stats.rows_done.load(std::sync::atomic::Ordering::Relaxed);
    let queries = stats
        .queries_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(rows, u64::from(256 * rounds));
    eprintln!(
        "scan pipeline: {made} allocations, {rows} rows, {queries} queries: {:.2} per row, {:.2} per query",
        made as f64 / rows as f64,
        made as f64 / queries as f64
    );
}
