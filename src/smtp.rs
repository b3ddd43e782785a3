//! The opt-in SMTP identity check of `mx --smtp`: connect to each distinct
//! primary MX address, read the 220 greeting, send EHLO, read the reply,
//! QUIT. Never a message. The names seen complete the four-link chain
//! receivers check (PTR → A → server name → EHLO name).
//!
//! It runs as a stage between the lookups and the writer: rows pass
//! through at once unless they need a probe; those wait for their address's
//! probe (one per address per run), which runs with bounded concurrency and
//! a connection rate, on a small tokio runtime in its own thread.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use crate::findings::normal_name;
use crate::lookup::RowOutput;
use crate::record::{MxRow, SmtpIdentity};
use crate::scan::CloseOutput;

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub port: u16,
    pub helo_name: String,
    pub concurrency: usize,
    /// New connections per second.
    pub rate: f64,
    pub timeout: Duration,
}

/// Longest reply line we read; a server sending more is not speaking SMTP.
const MAX_LINE: usize = 1024;
/// Most lines in one (multi-line) reply.
const MAX_REPLY_LINES: usize = 64;

/// Why a probe stopped before it saw both names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeError {
    Timeout,
    Refused,
    Unreachable,
    /// The server closed the connection before replying.
    Closed,
    /// Bytes that are not an SMTP reply.
    Garbage,
    /// A well-formed reply with an unexpected code (e.g. 554 instead of 220).
    Rejected(u16),
}

impl ProbeError {
    pub fn describe(self) -> String {
        match self {
            ProbeError::Timeout => "timeout".into(),
            ProbeError::Refused => "refused".into(),
            ProbeError::Unreachable => "unreachable".into(),
            ProbeError::Closed => "closed".into(),
            ProbeError::Garbage => "garbage".into(),
            ProbeError::Rejected(code) => format!("reply {code}"),
        }
    }
}

/// One SMTP reply: its code and the text of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub first_line: String,
}

impl Reply {
    /// The first word of the first line: the host name a 220 greeting or a
    /// 250 EHLO reply starts with (RFC 5321 §4.2, §4.1.1.1).
    pub fn first_word(&self) -> Option<String> {
        self.first_line.split_whitespace().next().map(normal_name)
    }
}

/// Parses one reply line: `Some((code, more_follows, text))`, or `None`
/// when the line is not `DDD`, `DDD text` or `DDD-text` (RFC 5321 §4.2).
pub fn parse_reply_line(line: &str) -> Option<(u16, bool, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let code_text = line.get(..3)?;
    if !code_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = code_text.parse().ok()?;
    if !(200..600).contains(&code) {
        return None;
    }
    match line.as_bytes().get(3) {
        None => Some((code, false, "")),
        Some(b' ') => Some((code, false, line.get(4..)?)),
        Some(b'-') => Some((code, true, line.get(4..)?)),
        Some(_) => None,
    }
}

async fn read_reply<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Result<Reply, ProbeError> {
    let mut first: Option<(u16, String)> = None;
    let mut buffer = Vec::with_capacity(128);
    for _ in 0..MAX_REPLY_LINES {
        buffer.clear();
        let read = (&mut *reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .await
            .map_err(|_| ProbeError::Closed)?;
        if read == 0 {
            return Err(ProbeError::Closed);
        }
        if buffer.len() > MAX_LINE || buffer.last() != Some(&b'\n') {
            return Err(ProbeError::Garbage);
        }
        let line = std::str::from_utf8(&buffer).map_err(|_| ProbeError::Garbage)?;
        let (code, more, text) = parse_reply_line(line).ok_or(ProbeError::Garbage)?;
        match &first {
            None => first = Some((code, text.to_owned())),
            Some((first_code, _)) if *first_code != code => return Err(ProbeError::Garbage),
            Some(_) => {}
        }
        if !more {
            let (code, first_line) = first.ok_or(ProbeError::Garbage)?;
            return Ok(Reply { code, first_line });
        }
    }
    Err(ProbeError::Garbage)
}

async fn with_timeout<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, ProbeError>>,
) -> Result<T, ProbeError> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(ProbeError::Timeout))
}

/// Probes one server: greeting, EHLO, QUIT. Whatever was seen before an
/// error is kept.
pub async fn probe(addr: SocketAddr, helo_name: &str, limit: Duration) -> SmtpIdentity {
    let mut identity = SmtpIdentity::default();
    if let Err(error) = converse(addr, helo_name, limit, &mut identity).await {
        identity.error = Some(error.describe());
    }
    identity
}

async fn converse(
    addr: SocketAddr,
    helo_name: &str,
    limit: Duration,
    identity: &mut SmtpIdentity,
) -> Result<(), ProbeError> {
    let stream = with_timeout(limit, async {
        TcpStream::connect(addr)
            .await
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::ConnectionRefused => ProbeError::Refused,
                std::io::ErrorKind::TimedOut => ProbeError::Timeout,
                _ => ProbeError::Unreachable,
            })
    })
    .await?;
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    let greeting = with_timeout(limit, read_reply(&mut reader)).await?;
    if greeting.code != 220 {
        // A server that greets with 554 waits for our QUIT (RFC 5321 §3.1).
        quit(&mut reader, &mut write_half, limit).await;
        return Err(ProbeError::Rejected(greeting.code));
    }
    identity.banner_host = greeting.first_word();
    let ehlo = format!("EHLO {helo_name}\r\n");
    with_timeout(limit, async {
        write_half
            .write_all(ehlo.as_bytes())
            .await
            .map_err(|_| ProbeError::Closed)
    })
    .await?;
    let reply = with_timeout(limit, read_reply(&mut reader)).await?;
    if reply.code != 250 {
        quit(&mut reader, &mut write_half, limit).await;
        return Err(ProbeError::Rejected(reply.code));
    }
    identity.ehlo_host = reply.first_word();
    quit(&mut reader, &mut write_half, limit).await;
    Ok(())
}

/// Longest wait for the reply to `QUIT`.
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// The polite close, after any well-formed reply (220 and 250, or a
/// rejection): `QUIT`, then its reply, which does not matter and is not
/// waited for long.
async fn quit<R, W>(reader: &mut R, writer: &mut W, limit: Duration)
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let _ = with_timeout(limit.min(QUIT_WAIT), async {
        writer
            .write_all(b"QUIT\r\n")
            .await
            .map_err(|_| ProbeError::Closed)?;
        read_reply(reader).await.map(|_| ())
    })
    .await;
}

/// Connection slots spaced by `1 / rate`, by deadline (not sleep-after).
struct Spacing {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Spacing {
    fn slot(&self) -> Instant {
        let now = Instant::now();
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = next.map_or(now, |next| next.max(now));
        *next = Some(slot + self.interval);
        slot
    }
}

enum Message {
    /// Boxed: rows are large and the channel holds many.
    Row(Box<MxRow>),
    Done(IpAddr, SmtpIdentity),
    /// The driver sent its last row.
    End,
}

/// The stage: a [`RowOutput`] for the `mx` driver that forwards rows to the
/// writer once their address has been probed.
pub struct SmtpStage<O: RowOutput<MxRow> + CloseOutput + Send + 'static> {
    rows: Option<mpsc::Sender<Message>>,
    thread: Option<std::thread::JoinHandle<Option<O>>>,
}

impl<O: RowOutput<MxRow> + CloseOutput + Send + 'static> SmtpStage<O> {
    /// Starts the stage thread in front of `output`, on `runtime` (see [`runtime`]).
    pub fn start(
        config: SmtpConfig,
        runtime: tokio::runtime::Runtime,
        output: O,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel(1024);
        let loopback = sender.clone();
        let thread = std::thread::Builder::new()
            .name("smtp".into())
            .spawn(move || runtime.block_on(stage_loop(config, output, receiver, loopback)))?;
        Ok(SmtpStage {
            rows: Some(sender),
            thread: Some(thread),
        })
    }
}

async fn stage_loop<O: RowOutput<MxRow>>(
    config: SmtpConfig,
    mut output: O,
    mut messages: mpsc::Receiver<Message>,
    loopback: mpsc::Sender<Message>,
) -> Option<O> {
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let spacing = Arc::new(Spacing {
        interval: Duration::from_secs_f64(1.0 / config.rate.max(0.001)),
        next: Mutex::new(None),
    });
    let helo: Arc<str> = Arc::from(config.helo_name.as_str());
    let mut results: HashMap<IpAddr, SmtpIdentity> = HashMap::new();
    let mut waiting: HashMap<IpAddr, Vec<MxRow>> = HashMap::new();
    let mut output_ok = true;
    // The stage holds a sender for its probes, so the channel never closes
    // by itself: it ends when the driver has closed and nothing is pending.
    let mut driver_closed = false;
    while !(driver_closed && waiting.is_empty()) {
        let Some(message) = messages.recv().await else {
            break;
        };
        match message {
            Message::End => driver_closed = true,
            Message::Row(row) => {
                let mut row = *row;
                let Some(ip) = row.address.as_ref().map(|address| address.ip) else {
                    output_ok &= output.push(row);
                    continue;
                };
                if !row.primary {
                    output_ok &= output.push(row);
                    continue;
                }
                if let Some(identity) = results.get(&ip) {
                    row.smtp = Some(identity.clone());
                    output_ok &= output.push(row);
                    continue;
                }
                let queue = waiting.entry(ip).or_default();
                queue.push(row);
                if queue.len() == 1 {
                    let (slots, spacing, helo, done) = (
                        Arc::clone(&slots),
                        Arc::clone(&spacing),
                        Arc::clone(&helo),
                        loopback.clone(),
                    );
                    let addr = SocketAddr::new(ip, config.port);
                    let limit = config.timeout;
                    tokio::spawn(async move {
                        let identity = match slots.acquire().await {
                            Ok(_permit) => {
                                tokio::time::sleep_until(spacing.slot()).await;
                                probe(addr, &helo, limit).await
                            }
                            Err(_) => SmtpIdentity {
                                error: Some("not probed".into()),
                                ..SmtpIdentity::default()
                            },
                        };
                        let _ = done.send(Message::Done(ip, identity)).await;
                    });
                }
            }
            Message::Done(ip, identity) => {
                for mut row in waiting.remove(&ip).unwrap_or_default() {
                    row.smtp = Some(identity.clone());
                    output_ok &= output.push(row);
                }
                results.insert(ip, identity);
            }
        }
        output_ok &= output.tick(std::time::Instant::now());
    }
    output_ok.then_some(output)
}

impl<O: RowOutput<MxRow> + CloseOutput + Send + 'static> RowOutput<MxRow> for SmtpStage<O> {
    fn push(&mut self, row: MxRow) -> bool {
        match &self.rows {
            Some(sender) => sender.blocking_send(Message::Row(Box::new(row))).is_ok(),
            None => false,
        }
    }
}

impl<O: RowOutput<MxRow> + CloseOutput + Send + 'static> CloseOutput for SmtpStage<O> {
    /// Waits for the probes still running, forwards their rows, closes the output.
    fn close_output(mut self) -> bool {
        if let Some(sender) = self.rows.take() {
            let _ = sender.blocking_send(Message::End);
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Some(output))) => output.close_output(),
            _ => false,
        }
    }
}

/// The stage's runtime: one thread is plenty for a few hundred connections.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Most connections open at once (`--smtp-concurrency`).
pub const MAX_CONCURRENCY: usize = 10_000;
/// Bounds of `--smtp-rate`, new connections per second.
pub const MIN_RATE: f64 = 0.01;
pub const MAX_RATE: f64 = 100_000.0;
/// Longest `--smtp-timeout`, in seconds.
pub const MAX_TIMEOUT_SECS: f64 = 600.0;

/// Whether `name` can stand as a fully qualified EHLO name (RFC 5321
/// §4.1.1.1): two labels or more, not `localhost` or `*.localdomain`, not
/// an address.
pub fn is_fully_qualified(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    labels.len() >= 2
        && name.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels[0] != "localhost"
        && labels.last().is_some_and(|top| {
            *top != "localdomain" && *top != "localhost" && !top.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The default EHLO name: the first fully qualified name among
/// `candidates` (this host's canonical name, then its host name), without
/// its trailing dot. `None` when none is.
pub fn choose_helo_name(candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|name| name.trim())
        .find(|name| is_fully_qualified(name))
        .map(|name| name.strip_suffix('.').unwrap_or(name).to_owned())
}

/// This machine's names, best first: the canonical name of its host name
/// (what `hostname -f` prints: `getaddrinfo` with `AI_CANONNAME`, so
/// /etc/hosts, then DNS), then the host name itself.
pub fn host_name_candidates() -> Vec<String> {
    let Some(host) = kernel_host_name() else {
        return Vec::new();
    };
    let mut names = Vec::with_capacity(2);
    if let Some(canonical) = canonical_name(&host) {
        names.push(canonical);
    }
    names.push(host);
    names
}

/// The default `--helo-name`: this host's fully qualified name, or `Err`
/// with the names it has (for the refusal).
pub fn default_helo_name() -> Result<String, Vec<String>> {
    let candidates = host_name_candidates();
    choose_helo_name(&candidates).ok_or(candidates)
}

fn kernel_host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

fn canonical_name(host: &str) -> Option<String> {
    let host = std::ffi::CString::new(host).ok()?;
    // SAFETY: all-zero is a valid `addrinfo` (null pointers, no flags).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `host` is a NUL-terminated string and `hints` a valid
    // `addrinfo`, both alive for the call; `list` is written only on success.
    let status = unsafe { libc::getaddrinfo(host.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if status != 0 || list.is_null() {
        return None;
    }
    // SAFETY: on success `list` points to a list getaddrinfo allocated; the
    // first entry carries the canonical name (NUL-terminated, or null), which
    // is copied before the list is freed, once.
    unsafe {
        let name = (*list).ai_canonname;
        let canonical = (!name.is_null()).then(|| {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        });
        libc::freeaddrinfo(list);
        canonical.filter(|name| !name.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines() {
        assert_eq!(
            parse_reply_line("220 mx.example.com ESMTP ready\r\n"),
            Some((220, false, "mx.example.com ESMTP ready"))
        );
        assert_eq!(
            parse_reply_line("250-mx.example.com Hello\r\n"),
            Some((250, true, "mx.example.com Hello"))
        );
        assert_eq!(parse_reply_line("250\r\n"), Some((250, false, "")));
        assert_eq!(parse_reply_line("25O ok\r\n"), None);
        assert_eq!(parse_reply_line("999 no\r\n"), None);
        assert_eq!(parse_reply_line("220_x\r\n"), None);
        assert_eq!(parse_reply_line("HTTP/1.1 400\r\n"), None);
        assert_eq!(parse_reply_line(""), None);
    }

    #[test]
    fn first_word_is_the_host() {
        let reply = Reply {
            code: 220,
            first_line: "MX.Example.COM. ESMTP Postfix".into(),
        };
        assert_eq!(reply.first_word().as_deref(), Some("mx.example.com"));
        let empty = Reply {
            code: 220,
            first_line: String::new(),
        };
        assert_eq!(empty.first_word(), None);
    }

    #[test]
    fn the_default_ehlo_name_is_the_first_fully_qualified_one() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        // `hostname -f` semantics: the canonical name, when it has a domain.
        assert_eq!(
            choose_helo_name(&names(&["vm.example.net", "vm"])).as_deref(),
            Some("vm.example.net")
        );
        // A canonical name with a trailing dot loses it; a host name that is
        // qualified itself serves when the canonical name is not.
        assert_eq!(
            choose_helo_name(&names(&["Scanner.Example.NET."])).as_deref(),
            Some("Scanner.Example.NET")
        );
        assert_eq!(
            choose_helo_name(&names(&["vm", "vm.lab.example.org"])).as_deref(),
            Some("vm.lab.example.org")
        );
        // None qualified: no default (`--smtp` then needs `--helo-name`).
        for unqualified in [
            &["vm", "vm"][..],
            &[],
            &["localhost", "localhost"],
            &["localhost.localdomain", "vm"],
            &["vm.localdomain"],
            &["127.0.1.1"],
            &["vm.", ".example.com"],
            &["bad name.example.com"],
            &["-vm.example.com"],
        ] {
            assert_eq!(
                choose_helo_name(&names(unqualified)),
                None,
                "{unqualified:?}"
            );
        }
    }

    #[tokio::test]
    async fn multi_line_replies_and_limits() {
        let mut ok: &[u8] = b"250-mx.example.com hi\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
        let reply = read_reply(&mut ok).await.expect("reply");
        assert_eq!(reply.code, 250);
        assert_eq!(reply.first_word().as_deref(), Some("mx.example.com"));
        let mut mixed: &[u8] = b"250-a\r\n220 b\r\n";
        assert_eq!(read_reply(&mut mixed).await, Err(ProbeError::Garbage));
        let mut cut: &[u8] = b"250-a\r\n";
        assert_eq!(read_reply(&mut cut).await, Err(ProbeError::Closed));
        let long = format!("220 {}\r\n", "x".repeat(MAX_LINE * 2));
        let mut long: &[u8] = long.as_bytes();
        assert_eq!(read_reply(&mut long).await, Err(ProbeError::Garbage));
        let endless = "250-x\r\n".repeat(MAX_REPLY_LINES + 1);
        let mut endless: &[u8] = endless.as_bytes();
        assert_eq!(read_reply(&mut endless).await, Err(ProbeError::Garbage));
    }
}
