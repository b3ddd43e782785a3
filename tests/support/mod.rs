//! Test harness: the sample world and generated worlds on a real in-process
//! DNS server, a fault-injecting proxy in front of it, and a helper that runs
//! a scan through the library and reads its rows back. Loopback only.
#![allow(dead_code)]

pub mod relay;
pub mod world;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use ptrscan::config::{ResolverConfig, ScanConfig};
use ptrscan::fnv::Fnv1a;
use ptrscan::resolvers::ConcurrencyPolicy;
use ptrscan::scan::{self, ScanReport};
use ptrscan::sink::{Destination, Format};
use ptrscan::targets::{Shard, TargetSet, read_targets};
use ptrscan::zoneserver::ZoneServer;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every row of a JSON Lines output, in file order.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON row"))
        .collect()
}

pub fn sample_server() -> ZoneServer {
    ZoneServer::start(ptrscan::demo::SAMPLE_ZONES).expect("sample world starts")
}

pub fn sample_targets() -> TargetSet {
    let nets = read_targets(ptrscan::demo::SAMPLE_TARGETS.as_bytes(), "samples")
        .expect("sample targets parse");
    TargetSet::from_nets(nets)
}

/// One row as the tests compare it: ptr names, verdict, error, forward addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    pub ptr: String,
    pub fcrdns: String,
    pub error: String,
    pub forward: String,
    pub attempts: u32,
}

pub struct ScanResult {
    pub rows: BTreeMap<String, RowView>,
    pub row_count: usize,
    pub report: ScanReport,
}

/// A scan of `targets` with default settings to a CSV file at `path`.
pub fn scan_config(
    resolvers: Vec<SocketAddr>,
    targets: TargetSet,
    retries: u32,
    rate: Option<f64>,
    path: &Path,
) -> ScanConfig {
    ScanConfig {
        summary_by: None,
        targets,
        seed: 7,
        shard: Shard::ALL,
        resolvers: ResolverConfig {
            addrs: resolvers,
            rate,
            retries,
            concurrency: ConcurrencyPolicy::Adaptive,
            notice: None,
        },
        ptr_only: false,
        destination: Destination::File {
            path: path.to_path_buf(),
            format: Format::Csv,
        },
        quiet: true,
        resume: false,
        part_rows: ptrscan::sink::DEFAULT_PART_ROWS,
    }
}

pub fn scan_with(
    resolvers: Vec<SocketAddr>,
    targets: TargetSet,
    retries: u32,
    dir: &Path,
) -> ScanResult {
    let path = dir.join("rows.csv");
    let config = scan_config(resolvers, targets, retries, None, &path);
    let stop = AtomicBool::new(false);
    let report = scan::run(&config, &stop, false).expect("scan runs");
    let mut reader = csv::Reader::from_path(&path).expect("rows readable");
    // Columns by name, so a reordered schema does not silently shift them.
    let headers = reader.headers().expect("csv header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
    };
    let (ip, ptr, forward, fcrdns, error, attempts) = (
        column("ip"),
        column("ptr"),
        column("forward"),
        column("fcrdns"),
        column("error"),
        column("attempts"),
    );
    let mut rows = BTreeMap::new();
    let mut row_count = 0;
    for record in reader.records() {
        let record = record.expect("csv row");
        row_count += 1;
        rows.insert(
            record[ip].to_owned(),
            RowView {
                ptr: record[ptr].to_owned(),
                forward: record[forward].to_owned(),
                fcrdns: record[fcrdns].to_owned(),
                error: record[error].to_owned(),
                attempts: record[attempts].parse().expect("attempts"),
            },
        );
    }
    ScanResult {
        rows,
        row_count,
        report,
    }
}

/// (ptr, fcrdns, error, forward) of one row.
pub type Verdict = (String, String, String, String);

/// Rows without the attempt counts (which faults legitimately change).
pub fn verdicts(result: &ScanResult) -> BTreeMap<String, Verdict> {
    result
        .rows
        .iter()
        .map(|(ip, r)| {
            (
                ip.clone(),
                (
                    r.ptr.clone(),
                    r.fcrdns.clone(),
                    r.error.clone(),
                    r.forward.clone(),
                ),
            )
        })
        .collect()
}

/// The first `limit` addresses whose verdicts differ, for a readable failure.
pub fn verdict_diff(
    got: &BTreeMap<String, Verdict>,
    want: &BTreeMap<String, Verdict>,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for (ip, w) in want {
        match got.get(ip) {
            None => out.push(format!("{ip}: missing (want {w:?})")),
            Some(g) if g != w => out.push(format!("{ip}: got {g:?}, want {w:?}")),
            _ => {}
        }
    }
    for ip in got.keys().filter(|ip| !want.contains_key(*ip)) {
        out.push(format!("{ip}: unexpected row"));
    }
    out.truncate(limit);
    out
}

/// Counters from the summary text: "name N" pairs of the "datagrams dropped"
/// line, and the numbers of the "queries" line.
pub fn summary_counts(summary: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in summary.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("datagrams dropped:") {
            for pair in rest.split(',') {
                let mut parts = pair.split_whitespace();
                if let (Some(name), Some(n)) = (parts.next(), parts.next()) {
                    counts.insert(name.to_owned(), n.parse().expect("count"));
                }
            }
        } else if line.starts_with("queries ") {
            // queries N (retransmissions N, tcp N), answers N, timeouts N, server failures N
            let cleaned = line.replace(['(', ')', ','], " ");
            let words: Vec<&str> = cleaned.split_whitespace().collect();
            for (i, word) in words.iter().enumerate() {
                if let Ok(n) = word.parse::<u64>() {
                    let name = match words[i - 1] {
                        "failures" => "server_failures",
                        other => other,
                    };
                    counts.insert(name.to_owned(), n);
                }
            }
        }
    }
    counts
}

/// The summary line of one resolver.
pub fn resolver_line(summary: &str, addr: SocketAddr) -> String {
    let prefix = format!("resolver {addr}:");
    summary
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for resolver {addr} in:\n{summary}"))
        .to_owned()
}

// ---------------------------------------------------------------------------
// The fault-injecting proxy
// ---------------------------------------------------------------------------

/// Names and addresses every forged answer carries, so a test can assert that
/// none reaches a row.
pub const FORGED_NAME: &str = "forged.invalid.";
pub const FORGED_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);
pub const FORGED_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xbad, 0, 0, 0, 0, 0x66);

/// What the proxy can do to one UDP query, each at its own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The query is never forwarded and never answered.
    Drop,
    /// The proxy answers SERVFAIL itself.
    Servfail,
    /// The proxy answers REFUSED itself.
    Refused,
    /// The proxy answers TC=1 with no records; TCP goes through to the server.
    Truncate,
    /// Before the real answer: a forged one with a wrong ID.
    WrongId,
    /// Before the real answer: a forged one with the right ID and question,
    /// sent from another port of the proxy.
    WrongSource,
    /// Before the real answer: a forged answer (right ID, right port) to
    /// another question, whose records are owned by the real question's name.
    WrongQuestion,
    /// Before the real answer: random bytes (short ones, or with the right ID).
    Garbage,
    /// Instead of the real answer: the real answer cut short after its question.
    Cut,
    /// The real answer is sent twice.
    Duplicate,
    /// The real answer is held past the scanner's first timeout.
    Delay,
    /// Over TCP: a forged answer with a wrong ID instead of the real one.
    TcpWrongId,
}

impl FaultKind {
    pub const ALL: [FaultKind; 12] = [
        FaultKind::Drop,
        FaultKind::Servfail,
        FaultKind::Refused,
        FaultKind::Truncate,
        FaultKind::WrongId,
        FaultKind::WrongSource,
        FaultKind::WrongQuestion,
        FaultKind::Garbage,
        FaultKind::Cut,
        FaultKind::Duplicate,
        FaultKind::Delay,
        FaultKind::TcpWrongId,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Rates per fault kind, a seed, and how long [`FaultKind::Delay`] holds an answer.
///
/// Decisions are a pure function of (seed, question name, question type,
/// how many times the proxy has seen that question): the same seed injects
/// the same faults into the same questions whatever order they arrive in.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub seed: u64,
    pub rates: [f64; FaultKind::ALL.len()],
    pub delay: Duration,
}

impl FaultPlan {
    /// No faults: a plain forwarder.
    pub fn clean(seed: u64) -> Self {
        FaultPlan {
            seed,
            rates: [0.0; FaultKind::ALL.len()],
            // Past the scanner's initial RTO (1 s) and any loopback RTO.
            delay: Duration::from_millis(1200),
        }
    }

    /// Every kind at `rate`.
    pub fn uniform(seed: u64, rate: f64) -> Self {
        FaultPlan {
            rates: [rate; FaultKind::ALL.len()],
            ..FaultPlan::clean(seed)
        }
    }

    pub fn with(mut self, kind: FaultKind, rate: f64) -> Self {
        self.rates[kind.index()] = rate;
        self
    }

    pub fn only(kind: FaultKind, rate: f64) -> Self {
        FaultPlan::clean(1).with(kind, rate)
    }

    pub fn decide(&self, qname: &str, qtype: u16, occurrence: u64) -> Decision {
        let mut hash = seeded_hash(self.seed);
        hash.write(qname.as_bytes());
        hash.write(&qtype.to_be_bytes());
        hash.write(&occurrence.to_be_bytes());
        let mut rng = SmallRng::seed_from_u64(hash.finish());
        let mut faults = [false; FaultKind::ALL.len()];
        for kind in FaultKind::ALL {
            // Always draw, so one kind's rate does not shift the others' draws.
            let roll: f64 = rng.random();
            faults[kind.index()] = roll < self.rates[kind.index()];
        }
        Decision { faults, rng }
    }
}

pub struct Decision {
    faults: [bool; FaultKind::ALL.len()],
    /// For the contents of forged and garbage datagrams.
    rng: SmallRng,
}

impl Decision {
    pub fn has(&self, kind: FaultKind) -> bool {
        self.faults[kind.index()]
    }
}

/// Fault decisions hash (seed, question, occurrence) with FNV-1a, which
/// never changes between runs or Rust versions.
fn seeded_hash(seed: u64) -> Fnv1a {
    let mut hash = Fnv1a::default();
    hash.write(&seed.to_be_bytes());
    hash
}

/// What the proxy did, per kind, plus its traffic.
#[derive(Debug, Default)]
pub struct ProxyCounters {
    injected: [AtomicU64; FaultKind::ALL.len()],
    pub udp_queries: AtomicU64,
    pub forwarded: AtomicU64,
    pub tcp_queries: AtomicU64,
    pub tcp_answers: AtomicU64,
}

impl ProxyCounters {
    fn count(&self, kind: FaultKind) {
        self.injected[kind.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// A UDP and TCP proxy on 127.0.0.1 in front of a real server. UDP queries
/// meet the faults of its [`FaultPlan`]; TCP is passed through, so an answer
/// truncated over UDP is recovered over TCP.
pub struct FaultProxy {
    pub addr: SocketAddr,
    counters: Arc<ProxyCounters>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr, plan: FaultPlan) -> FaultProxy {
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().expect("proxy addr");
        udp.set_nonblocking(true).expect("nonblocking");
        tcp.set_nonblocking(true).expect("nonblocking");
        let counters = Arc::new(ProxyCounters::default());
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let proxy = Proxy::new(udp, tcp, upstream, plan, thread_counters).await;
                let _ = ready_tx.send(());
                proxy.run(shutdown_rx).await;
            });
            // Dropping the runtime cancels delayed sends and TCP sessions.
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy starts");
        FaultProxy {
            addr,
            counters,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// How many times the proxy injected `kind`.
    pub fn injected(&self, kind: FaultKind) -> u64 {
        self.counters.injected[kind.index()].load(Ordering::Relaxed)
    }

    pub fn counters(&self) -> &ProxyCounters {
        &self.counters
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A loopback UDP socket that is bound but never read: a dead resolver.
pub fn silent_resolver() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind silent socket")
}

fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..32 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, tcp);
        }
    }
    panic!("no free port pair on loopback");
}

/// A forwarded query waiting for the server's answer.
struct Pending {
    client: SocketAddr,
    client_id: u16,
    decision: Decision,
}

struct Proxy {
    front: Arc<tokio::net::UdpSocket>,
    forger: tokio::net::UdpSocket,
    upstream_socket: tokio::net::UdpSocket,
    listener: tokio::net::TcpListener,
    upstream: SocketAddr,
    plan: FaultPlan,
    counters: Arc<ProxyCounters>,
    /// Times each (question name, type) was seen.
    seen: HashMap<(String, u16), u64>,
    /// Forwarded queries by the ID the proxy gave them upstream (clients on
    /// different ports may use the same ID).
    pending: HashMap<u16, Pending>,
    next_id: u16,
    tcp: Arc<TcpShared>,
}

/// What the TCP sessions share: the plan, the counters, and their own count
/// of times each question was seen (TCP decisions are drawn apart from UDP's).
struct TcpShared {
    plan: FaultPlan,
    counters: Arc<ProxyCounters>,
    seen: std::sync::Mutex<HashMap<(String, u16), u64>>,
}

impl Proxy {
    async fn new(
        udp: UdpSocket,
        tcp: TcpListener,
        upstream: SocketAddr,
        plan: FaultPlan,
        counters: Arc<ProxyCounters>,
    ) -> Proxy {
        let loopback: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
        Proxy {
            front: Arc::new(tokio::net::UdpSocket::from_std(udp).expect("front socket")),
            forger: tokio::net::UdpSocket::bind(loopback)
                .await
                .expect("forger socket"),
            upstream_socket: tokio::net::UdpSocket::bind(loopback)
                .await
                .expect("upstream socket"),
            listener: tokio::net::TcpListener::from_std(tcp).expect("listener"),
            upstream,
            tcp: Arc::new(TcpShared {
                plan: plan.clone(),
                counters: Arc::clone(&counters),
                seen: std::sync::Mutex::new(HashMap::new()),
            }),
            plan,
            counters,
            seen: HashMap::new(),
            pending: HashMap::new(),
            next_id: 0,
        }
    }

    async fn run(mut self, mut shutdown: tokio::sync::oneshot::Receiver<()>) {
        let mut query_buf = vec![0u8; 4096];
        let mut answer_buf = vec![0u8; 65535];
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                received = self.front.recv_from(&mut query_buf) => {
                    if let Ok((len, client)) = received {
                        self.on_query(&query_buf[..len], client).await;
                    }
                }
                received = self.upstream_socket.recv_from(&mut answer_buf) => {
                    if let Ok((len, from)) = received
                        && from == self.upstream
                    {
                        self.on_answer(&answer_buf[..len]).await;
                    }
                }
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(tcp_session(stream, self.upstream, Arc::clone(&self.tcp)));
                    }
                }
            }
        }
    }

    async fn on_query(&mut self, bytes: &[u8], client: SocketAddr) {
        let Ok(query) = Message::from_vec(bytes) else {
            return;
        };
        let Some(question) = query.queries.first() else {
            return;
        };
        self.counters.udp_queries.fetch_add(1, Ordering::Relaxed);
        let qname = question.name.to_ascii().to_ascii_lowercase();
        let qtype = u16::from(question.query_type);
        let seen = self.seen.entry((qname.clone(), qtype)).or_insert(0);
        let occurrence = *seen;
        *seen += 1;
        let mut decision = self.plan.decide(&qname, qtype, occurrence);
        let id = query.metadata.id;

        // Forgeries race ahead of whatever comes next.
        if decision.has(FaultKind::WrongId) {
            self.counters.count(FaultKind::WrongId);
            let wrong = id ^ decision.rng.random_range(1..=u16::MAX);
            let forged = forged_answer(&query, wrong, None);
            let _ = self.front.send_to(&forged, client).await;
        }
        if decision.has(FaultKind::WrongSource) {
            self.counters.count(FaultKind::WrongSource);
            let forged = forged_answer(&query, id, None);
            let _ = self.forger.send_to(&forged, client).await;
        }
        if decision.has(FaultKind::WrongQuestion) {
            self.counters.count(FaultKind::WrongQuestion);
            let other_type = decision.rng.random_bool(0.3);
            let forged = forged_answer(&query, id, Some(other_type));
            let _ = self.front.send_to(&forged, client).await;
        }
        if decision.has(FaultKind::Garbage) {
            self.counters.count(FaultKind::Garbage);
            let len = decision.rng.random_range(1..=48usize);
            let mut garbage: Vec<u8> = (0..len).map(|_| decision.rng.random()).collect();
            if len >= 2 && decision.rng.random_bool(0.7) {
                garbage[..2].copy_from_slice(&id.to_be_bytes());
            }
            let _ = self.front.send_to(&garbage, client).await;
        }

        // Then at most one of: no answer, an answer of the proxy's own, or forwarding.
        if decision.has(FaultKind::Drop) {
            self.counters.count(FaultKind::Drop);
            return;
        }
        let own_answer = if decision.has(FaultKind::Servfail) {
            Some((FaultKind::Servfail, ResponseCode::ServFail, false))
        } else if decision.has(FaultKind::Refused) {
            Some((FaultKind::Refused, ResponseCode::Refused, false))
        } else if decision.has(FaultKind::Truncate) {
            Some((FaultKind::Truncate, ResponseCode::NoError, true))
        } else {
            None
        };
        if let Some((kind, rcode, truncated)) = own_answer {
            self.counters.count(kind);
            let mut response = query.clone();
            response.metadata.message_type = MessageType::Response;
            response.metadata.response_code = rcode;
            response.metadata.truncation = truncated;
            if let Ok(bytes) = response.to_vec() {
                let _ = self.front.send_to(&bytes, client).await;
            }
            return;
        }

        let proxy_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut forwarded = bytes.to_vec();
        forwarded[..2].copy_from_slice(&proxy_id.to_be_bytes());
        self.pending.insert(
            proxy_id,
            Pending {
                client,
                client_id: id,
                decision,
            },
        );
        self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .upstream_socket
            .send_to(&forwarded, self.upstream)
            .await;
    }

    async fn on_answer(&mut self, bytes: &[u8]) {
        if bytes.len() < 12 {
            return;
        }
        let proxy_id = u16::from_be_bytes([bytes[0], bytes[1]]);
        let Some(mut pending) = self.pending.remove(&proxy_id) else {
            return;
        };
        let mut answer = bytes.to_vec();
        answer[..2].copy_from_slice(&pending.client_id.to_be_bytes());
        let decision = &mut pending.decision;
        if decision.has(FaultKind::Cut)
            && let Some(question_end) = question_end(&answer)
            && question_end < answer.len()
        {
            self.counters.count(FaultKind::Cut);
            let len = decision.rng.random_range(question_end..answer.len());
            answer.truncate(len);
        }
        let copies = if decision.has(FaultKind::Duplicate) {
            self.counters.count(FaultKind::Duplicate);
            2
        } else {
            1
        };
        if decision.has(FaultKind::Delay) {
            self.counters.count(FaultKind::Delay);
            let front = Arc::clone(&self.front);
            let delay = self.plan.delay;
            let client = pending.client;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                for _ in 0..copies {
                    let _ = front.send_to(&answer, client).await;
                }
            });
            return;
        }
        for _ in 0..copies {
            let _ = self.front.send_to(&answer, pending.client).await;
        }
    }
}

/// Where the (uncompressed, single) question of a message ends.
fn question_end(message: &[u8]) -> Option<usize> {
    let mut pos = 12;
    loop {
        let len = *message.get(pos)? as usize;
        if len == 0 {
            return Some(pos + 1 + 4).filter(|&end| end <= message.len());
        }
        if len > 63 {
            return None;
        }
        pos += 1 + len;
    }
}

/// A forged answer naming [`FORGED_NAME`] / [`FORGED_V4`] / [`FORGED_V6`],
/// owned by the real question's name. With `other_question`, the question
/// section asks something else (another name, or with `Some(true)` another
/// type too).
fn forged_answer(query: &Message, id: u16, other_question: Option<bool>) -> Vec<u8> {
    let mut response = query.clone();
    response.metadata.id = id;
    response.metadata.message_type = MessageType::Response;
    response.metadata.authoritative = true;
    let Some(question) = query.queries.first() else {
        return Vec::new();
    };
    let owner = question.name.clone();
    let forged = Name::from_ascii(FORGED_NAME).expect("forged name");
    let data = match question.query_type {
        RecordType::A => RData::A(A(FORGED_V4)),
        RecordType::AAAA => RData::AAAA(AAAA(FORGED_V6)),
        RecordType::PTR => RData::PTR(PTR(forged.clone())),
        _ => RData::CNAME(CNAME(forged.clone())),
    };
    if let (Some(change_type), Some(q)) = (other_question, response.queries.first_mut()) {
        q.name = Name::from_ascii("66.2.0.192.in-addr.arpa.").expect("forged question");
        if change_type {
            q.query_type = match q.query_type {
                RecordType::A => RecordType::AAAA,
                _ => RecordType::A,
            };
        }
    }
    response.add_answer(Record::from_rdata(owner, 60, data));
    response.to_vec().expect("forged answer encodes")
}

/// DNS over TCP, passed through to the server one exchange at a time, but
/// for [`FaultKind::TcpWrongId`].
async fn tcp_session(
    mut client: tokio::net::TcpStream,
    upstream: SocketAddr,
    shared: Arc<TcpShared>,
) {
    let counters = &shared.counters;
    loop {
        let Ok(query) = read_framed(&mut client).await else {
            return;
        };
        counters.tcp_queries.fetch_add(1, Ordering::Relaxed);
        if let Ok(message) = Message::from_vec(&query)
            && let Some(question) = message.queries.first()
        {
            let qname = question.name.to_ascii().to_ascii_lowercase();
            let qtype = u16::from(question.query_type);
            let occurrence = {
                let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
                let count = seen.entry((qname.clone(), qtype)).or_insert(0);
                *count += 1;
                *count - 1
            };
            // Apart from the UDP draws of the same question.
            let mut decision = shared.plan.decide(&qname, qtype, occurrence | 1 << 63);
            if decision.has(FaultKind::TcpWrongId) {
                counters.count(FaultKind::TcpWrongId);
                let wrong = message.metadata.id ^ decision.rng.random_range(1..=u16::MAX);
                if write_framed(&mut client, &forged_answer(&message, wrong, None))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
        }
        let exchange = async {
            let mut server = tokio::net::TcpStream::connect(upstream).await?;
            write_framed(&mut server, &query).await?;
            read_framed(&mut server).await
        };
        let Ok(Ok(answer)) = tokio::time::timeout(Duration::from_secs(5), exchange).await else {
            return;
        };
        if write_framed(&mut client, &answer).await.is_err() {
            return;
        }
        counters.tcp_answers.fetch_add(1, Ordering::Relaxed);
    }
}

async fn read_framed(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let len = stream.read_u16().await?;
    let mut message = vec![0u8; usize::from(len)];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

async fn write_framed(stream: &mut tokio::net::TcpStream, message: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(message.len()).map_err(std::io::Error::other)?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await
}
