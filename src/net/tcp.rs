//! DNS over TCP, for answers that came back with TC=1 (RFC 7766 §5).
//!
//! Truncation is rare in a PTR sweep, so this is deliberately simple: a few
//! worker threads do blocking exchanges with timeouts and hand the raw answer
//! back to the event loop, which validates it exactly like a UDP datagram.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const WORKERS: usize = 4;

pub struct TcpJob {
    /// In-flight slot and the generation it had when the job was queued.
    pub tag: u32,
    pub generation: u32,
    pub resolver: SocketAddr,
    pub query: Vec<u8>,
    pub timeout: Duration,
}

pub struct TcpAnswer {
    pub tag: u32,
    pub generation: u32,
    pub resolver: SocketAddr,
    pub result: io::Result<Vec<u8>>,
}

/// A small pool of blocking TCP workers, started on first use.
#[derive(Default)]
pub struct TcpFallback {
    jobs: Option<Sender<TcpJob>>,
    answers: Option<Receiver<TcpAnswer>>,
    workers: Vec<JoinHandle<()>>,
    pending: usize,
}

impl TcpFallback {
    pub fn submit(&mut self, job: TcpJob) {
        if self.jobs.is_none() {
            self.start();
        }
        if let Some(jobs) = &self.jobs
            && jobs.send(job).is_ok()
        {
            self.pending += 1;
        }
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    /// The next finished exchange, if any, without blocking.
    pub fn try_next(&mut self) -> Option<TcpAnswer> {
        let answers = self.answers.as_ref()?;
        match answers.try_recv() {
            Ok(answer) => {
                self.pending = self.pending.saturating_sub(1);
                Some(answer)
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    fn start(&mut self) {
        let (job_tx, job_rx) = channel::<TcpJob>();
        let (answer_tx, answer_rx) = channel::<TcpAnswer>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..WORKERS {
            let job_rx = Arc::clone(&job_rx);
            let answer_tx = answer_tx.clone();
            self.workers.push(std::thread::spawn(move || {
                loop {
                    let job = {
                        let Ok(guard) = job_rx.lock() else { return };
                        match guard.recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        }
                    };
                    let result = exchange(job.resolver, &job.query, job.timeout);
                    let answer = TcpAnswer {
                        tag: job.tag,
                        generation: job.generation,
                        resolver: job.resolver,
                        result,
                    };
                    if answer_tx.send(answer).is_err() {
                        return;
                    }
                }
            }));
        }
        self.jobs = Some(job_tx);
        self.answers = Some(answer_rx);
    }
}

impl Drop for TcpFallback {
    fn drop(&mut self) {
        // Closing the job channel ends the workers once their exchange is done;
        // they are not joined so a stuck connection cannot delay shutdown.
        self.jobs = None;
        self.workers.clear();
    }
}

/// One query/answer exchange with the 2-byte length prefix (RFC 1035 §4.2.2);
/// an answer whose ID is not the query's is an error.
pub fn exchange(resolver: SocketAddr, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&resolver, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let len = u16::try_from(query.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed)?;
    let mut len_bytes = [0u8; 2];
    stream.read_exact(&mut len_bytes)?;
    let answer_len = u16::from_be_bytes(len_bytes) as usize;
    let mut answer = vec![0u8; answer_len];
    stream.read_exact(&mut answer)?;
    // RFC 7766 §7: the answer carries the query's ID over TCP too; the
    // caller checks the rest (source, question) as for a UDP answer.
    if answer.get(..2) != query.get(..2) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "TCP answer ID does not match the query",
        ));
    }
    Ok(answer)
}
