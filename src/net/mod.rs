//! Sockets: the only place the engine touches the operating system.
//!
//! The engine owns non-blocking UDP sockets (one per address family unless
//! its windows need more IDs) and
//! moves datagrams in batches (`sendmmsg`/`recvmmsg` on Linux, one syscall per
//! batch, with same-length datagrams to one server sent as one segmented
//! buffer; a plain loop elsewhere). A full socket buffer is reported as a
//! short count, never as an error: the caller keeps the unsent datagrams and
//! tries again, so backpressure never turns into a lost query.

mod batch;
pub mod tcp;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

pub use batch::{RecvBatch, SendBatch};

/// Largest datagram we accept. Our EDNS buffer is 1232 bytes, but servers that
/// ignore EDNS may send more; anything longer is cut and counted malformed.
pub const RECV_BUFFER_LEN: usize = 4096;

/// Kernel receive buffer we ask for: at thousands of queries in flight a
/// burst of answers overflows the default (~200 KiB) and the kernel drops them.
const SO_RCVBUF_BYTES: usize = 8 << 20;
const SO_SNDBUF_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot open a UDP socket for {family}: {source}")]
    Open {
        family: &'static str,
        source: io::Error,
    },
    #[error("cannot wait for sockets: {0}")]
    Poll(io::Error),
}

/// One non-blocking UDP socket bound to an ephemeral port.
pub struct UdpEndpoint {
    socket: UdpSocket,
    pub is_v6: bool,
    /// Whether sends still try UDP segmentation offload (see `batch`).
    segment: bool,
}

impl UdpEndpoint {
    /// Binds to the unspecified address of the family, port 0: the kernel
    /// picks a random ephemeral port, which is part of our spoofing defence.
    pub fn bind(v6: bool) -> Result<Self, NetError> {
        let family = if v6 { "IPv6" } else { "IPv4" };
        let open = |e: io::Error| NetError::Open { family, source: e };
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(open)?;
        if v6 {
            socket.set_only_v6(true).map_err(open)?;
        }
        // Best effort: an unprivileged process may get less than it asks for.
        let _ = socket.set_recv_buffer_size(SO_RCVBUF_BYTES);
        let _ = socket.set_send_buffer_size(SO_SNDBUF_BYTES);
        socket.set_nonblocking(true).map_err(open)?;
        let any: SocketAddr = if v6 {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        };
        socket.bind(&any.into()).map_err(open)?;
        Ok(UdpEndpoint {
            socket: socket.into(),
            is_v6: v6,
            segment: cfg!(target_os = "linux"),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends as many queued datagrams as the socket takes; returns how many.
    pub fn send(&mut self, batch: &mut SendBatch) -> io::Result<usize> {
        batch::send(&self.socket, batch, &mut self.segment)
    }

    /// Receives what is waiting, up to the batch capacity; 0 means nothing.
    pub fn recv(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        batch::recv(&self.socket, batch)
    }

    fn raw_fd(&self) -> i32 {
        self.socket.as_raw_fd()
    }
}

/// Datagrams per batch: a receive that returns fewer drained the socket.
pub const fn batch_capacity() -> usize {
    batch::BATCH
}

/// Blocks until one of the sockets is readable or `timeout` passes.
/// Returns whether anything became readable.
pub fn wait_readable(endpoints: &[UdpEndpoint], timeout: Duration) -> Result<bool, NetError> {
    let mut fds: [libc::pollfd; 16] = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; 16];
    let count = endpoints.len().min(fds.len());
    for (slot, endpoint) in fds.iter_mut().zip(endpoints) {
        slot.fd = endpoint.raw_fd();
        slot.events = libc::POLLIN;
    }
    // Round up so a sub-millisecond deadline does not become a busy loop.
    let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid array of `count` initialised pollfd structs.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), count as libc::nfds_t, millis) };
    if ready < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(NetError::Poll(error));
    }
    Ok(ready > 0)
}

/// True for addresses the scanner may treat as "this machine" (tuning only:
/// loopback resolvers get a larger default concurrency ceiling).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}
