//! Test harness: the sample world on a real in-process DNS server, a
//! fault-injecting proxy in front of it, and a helper that runs a scan
//! through the library and reads its rows back. Loopback only.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::PTR;
use hickory_proto::rr::{Name, RData, Record};
use ptrscan::config::{ResolverConfig, ScanConfig};
use ptrscan::resolvers::ConcurrencyPolicy;
use ptrscan::scan::{self, ScanReport};
use ptrscan::sink::{Destination, Format};
use ptrscan::targets::{Shard, TargetSet, read_targets};
use ptrscan::zoneserver::ZoneServer;

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

pub fn scan_with(
    resolvers: Vec<SocketAddr>,
    targets: TargetSet,
    retries: u32,
    dir: &Path,
) -> ScanResult {
    let path = dir.join("rows.csv");
    let config = ScanConfig {
        summary_by: None,
        targets,
        seed: 7,
        shard: Shard::ALL,
        resolvers: ResolverConfig {
            addrs: resolvers,
            rate: None,
            retries,
            concurrency: ConcurrencyPolicy::Adaptive,
            notice: None,
        },
        ptr_only: false,
        destination: Destination::File {
            path: path.clone(),
            format: Format::Csv,
        },
        quiet: true,
    };
    let stop = AtomicBool::new(false);
    let report = scan::run(&config, &stop, false).expect("scan runs");
    let mut reader = csv::Reader::from_path(&path).expect("rows readable");
    let mut rows = BTreeMap::new();
    let mut row_count = 0;
    for record in reader.records() {
        let record = record.expect("csv row");
        row_count += 1;
        rows.insert(
            record[0].to_owned(),
            RowView {
                ptr: record[1].to_owned(),
                forward: record[3].to_owned(),
                fcrdns: record[4].to_owned(),
                error: record[6].to_owned(),
                attempts: record[8].parse().expect("attempts"),
            },
        );
    }
    ScanResult {
        rows,
        row_count,
        report,
    }
}

/// Rows without the attempt counts (which faults legitimately change).
pub fn verdicts(result: &ScanResult) -> BTreeMap<String, (String, String, String, String)> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Before each real answer: a forged answer from another port, one with
    /// a wrong ID and one for another question, all naming an attacker host.
    Forge,
    /// Answers SERVFAIL to everything.
    Servfail,
    /// Answers over UDP with TC=1 and nothing else; TCP is passed through.
    Truncate,
    /// Never answers.
    Dead,
}

/// A UDP (and TCP) proxy on 127.0.0.1 in front of a real server.
pub struct FaultProxy {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

pub const FORGED_NAME: &str = "forged.attacker.example.";

impl FaultProxy {
    pub fn start(upstream: SocketAddr, fault: Fault) -> FaultProxy {
        let (socket, listener) = bind_pair();
        let addr = socket.local_addr().expect("proxy addr");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let udp_stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            udp_loop(socket, upstream, fault, &udp_stop)
        }));
        let tcp_stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            tcp_loop(listener, upstream, &tcp_stop)
        }));
        FaultProxy {
            addr,
            stop,
            threads,
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
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

fn forged_answer(query: &Message, id: u16, question_name: Option<&str>) -> Vec<u8> {
    let mut response = query.clone();
    response.metadata.id = id;
    response.metadata.message_type = hickory_proto::op::MessageType::Response;
    if let (Some(name), Some(q)) = (question_name, response.queries.first_mut()) {
        q.name = Name::from_ascii(name).expect("forged question name");
    }
    if let Some(q) = response.queries.first() {
        let target = Name::from_ascii(FORGED_NAME).expect("forged name");
        response.add_answer(Record::from_rdata(
            q.name.clone(),
            60,
            RData::PTR(PTR(target)),
        ));
    }
    response.to_vec().expect("forged answer encodes")
}

fn udp_loop(socket: UdpSocket, upstream: SocketAddr, fault: Fault, stop: &AtomicBool) {
    let upstream_socket = UdpSocket::bind("127.0.0.1:0").expect("upstream socket");
    upstream_socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let forger = UdpSocket::bind("127.0.0.1:0").expect("forger socket");
    let mut buf = [0u8; 4096];
    let mut answer = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, client)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let query_bytes = &buf[..len];
        let Ok(query) = Message::from_vec(query_bytes) else {
            continue;
        };
        match fault {
            Fault::Dead => continue,
            Fault::Servfail => {
                let mut response = query.clone();
                response.metadata.message_type = hickory_proto::op::MessageType::Response;
                response.metadata.response_code = hickory_proto::op::ResponseCode::ServFail;
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, client);
                }
                continue;
            }
            Fault::Truncate => {
                let mut response = query.clone();
                response.metadata.message_type = hickory_proto::op::MessageType::Response;
                response.metadata.truncation = true;
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, client);
                }
                continue;
            }
            Fault::Forge => {
                let id = query.metadata.id;
                let _ = forger.send_to(&forged_answer(&query, id, None), client);
                let _ = socket.send_to(&forged_answer(&query, id ^ 0x5a5a, None), client);
                let _ = socket.send_to(
                    &forged_answer(&query, id, Some("1.0.0.127.in-addr.arpa.")),
                    client,
                );
                let _ = socket.send_to(&[0xde, 0xad], client);
            }
        }
        if upstream_socket.send_to(query_bytes, upstream).is_err() {
            continue;
        }
        if let Ok((n, _)) = upstream_socket.recv_from(&mut answer) {
            let _ = socket.send_to(&answer[..n], client);
        }
    }
}

fn tcp_loop(listener: TcpListener, upstream: SocketAddr, stop: &AtomicBool) {
    use std::io::{Read, Write};
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            continue;
        }
        let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
        if stream.read_exact(&mut query).is_err() {
            continue;
        }
        if let Ok(answer) = ptrscan::net::tcp::exchange(upstream, &query, Duration::from_secs(2)) {
            let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&answer);
            let _ = stream.write_all(&framed);
        }
    }
}
