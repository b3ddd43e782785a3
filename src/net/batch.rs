//! Batched datagram I/O into caller-owned, pre-allocated buffers.
//!
//! On Linux one `sendmmsg`/`recvmmsg` moves a whole batch; the per-batch
//! `mmsghdr`/`iovec` arrays are rebuilt on the stack for each call so no
//! self-referential pointers are stored. Elsewhere a loop of `send_to`/
//! `recv_from` does the same job.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use crate::wire::MAX_QUERY_LEN;

use super::RECV_BUFFER_LEN;

/// How many datagrams move per syscall: large enough to amortise the
/// syscall, small enough that one batch does not monopolise the loop.
pub const BATCH: usize = 64;

/// Outgoing datagrams waiting for one socket.
pub struct SendBatch {
    buffers: Box<[[u8; MAX_QUERY_LEN]; BATCH]>,
    lens: [usize; BATCH],
    targets: [SocketAddr; BATCH],
    /// Caller data kept beside each datagram (the in-flight slot).
    tags: [u32; BATCH],
    count: usize,
}

impl Default for SendBatch {
    fn default() -> Self {
        let unspecified: SocketAddr = ([0, 0, 0, 0], 0).into();
        SendBatch {
            buffers: Box::new([[0; MAX_QUERY_LEN]; BATCH]),
            lens: [0; BATCH],
            targets: [unspecified; BATCH],
            tags: [0; BATCH],
            count: 0,
        }
    }
}

impl SendBatch {
    pub fn is_full(&self) -> bool {
        self.count == BATCH
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Appends a datagram written by `fill` into the next buffer; `fill`
    /// returns the length. Returns false when the batch is full.
    pub fn push(
        &mut self,
        target: SocketAddr,
        tag: u32,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> bool {
        if self.is_full() {
            return false;
        }
        let index = self.count;
        self.lens[index] = fill(&mut self.buffers[index]);
        self.targets[index] = target;
        self.tags[index] = tag;
        self.count += 1;
        true
    }

    /// Drops the first `sent` datagrams, keeping the rest in order.
    fn consume(&mut self, sent: usize) {
        let sent = sent.min(self.count);
        let remaining = self.count - sent;
        for i in 0..remaining {
            self.buffers[i] = self.buffers[sent + i];
            self.lens[i] = self.lens[sent + i];
            self.targets[i] = self.targets[sent + i];
            self.tags[i] = self.tags[sent + i];
        }
        self.count = remaining;
    }

    /// Drops the first datagram: the kernel refused it outright.
    pub fn drop_first(&mut self) {
        self.consume(1);
    }
}

/// Incoming datagrams read from one socket.
pub struct RecvBatch {
    buffers: Box<[[u8; RECV_BUFFER_LEN]; BATCH]>,
    lens: [usize; BATCH],
    sources: [SocketAddr; BATCH],
    truncated: [bool; BATCH],
    count: usize,
}

impl Default for RecvBatch {
    fn default() -> Self {
        let unspecified: SocketAddr = ([0, 0, 0, 0], 0).into();
        RecvBatch {
            buffers: Box::new([[0; RECV_BUFFER_LEN]; BATCH]),
            lens: [0; BATCH],
            sources: [unspecified; BATCH],
            truncated: [false; BATCH],
            count: 0,
        }
    }
}

impl RecvBatch {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The i-th datagram, its source, and whether the kernel cut it short.
    pub fn get(&self, index: usize) -> (&[u8], SocketAddr, bool) {
        (
            &self.buffers[index][..self.lens[index]],
            self.sources[index],
            self.truncated[index],
        )
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use super::*;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    fn to_storage(addr: &SocketAddr, storage: &mut libc::sockaddr_storage) -> libc::socklen_t {
        match addr {
            SocketAddr::V4(v4) => {
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
                let sin = unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in) };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = v4.port().to_be();
                sin.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                };
                size_of::<libc::sockaddr_in>() as libc::socklen_t
            }
            SocketAddr::V6(v6) => {
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
                let sin6 = unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in6) };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = v6.port().to_be();
                sin6.sin6_flowinfo = v6.flowinfo();
                sin6.sin6_addr = libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                };
                sin6.sin6_scope_id = v6.scope_id();
                size_of::<libc::sockaddr_in6>() as libc::socklen_t
            }
        }
    }

    fn from_storage(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match storage.ss_family as i32 {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let sin = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6 = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    pub fn send(socket: &UdpSocket, batch: &mut SendBatch) -> io::Result<usize> {
        let count = batch.count;
        if count == 0 {
            return Ok(0);
        }
        // SAFETY: all-zero is a valid bit pattern for these plain C structs.
        let mut storages: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        let mut iovecs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for i in 0..count {
            let name_len = to_storage(&batch.targets[i], &mut storages[i]);
            iovecs[i] = libc::iovec {
                iov_base: batch.buffers[i].as_mut_ptr().cast(),
                iov_len: batch.lens[i],
            };
            headers[i].msg_hdr.msg_name = (&mut storages[i] as *mut libc::sockaddr_storage).cast();
            headers[i].msg_hdr.msg_namelen = name_len;
            headers[i].msg_hdr.msg_iov = &mut iovecs[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: headers[..count] point into storages/iovecs/buffers, all alive for the call.
        let sent =
            unsafe { libc::sendmmsg(socket.as_raw_fd(), headers.as_mut_ptr(), count as u32, 0) };
        if sent < 0 {
            let error = io::Error::last_os_error();
            return match error.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(error),
            };
        }
        let sent = sent as usize;
        batch.consume(sent);
        Ok(sent)
    }

    pub fn recv(socket: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
        // SAFETY: all-zero is a valid bit pattern for these plain C structs.
        let mut storages: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        let mut iovecs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for i in 0..BATCH {
            iovecs[i] = libc::iovec {
                iov_base: batch.buffers[i].as_mut_ptr().cast(),
                iov_len: RECV_BUFFER_LEN,
            };
            headers[i].msg_hdr.msg_name = (&mut storages[i] as *mut libc::sockaddr_storage).cast();
            headers[i].msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            headers[i].msg_hdr.msg_iov = &mut iovecs[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: headers point into storages/iovecs/buffers, all alive for the call.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            let error = io::Error::last_os_error();
            batch.count = 0;
            return match error.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                // ICMP port unreachable from an earlier send surfaces here on
                // some kernels; it says nothing about the datagrams waiting.
                io::ErrorKind::ConnectionRefused => Ok(0),
                _ => Err(error),
            };
        }
        let mut kept = 0usize;
        for i in 0..received as usize {
            let Some(source) = from_storage(&storages[i]) else {
                continue;
            };
            if kept != i {
                batch.buffers.swap(kept, i);
            }
            batch.lens[kept] = (headers[i].msg_len as usize).min(RECV_BUFFER_LEN);
            batch.sources[kept] = source;
            batch.truncated[kept] = headers[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            kept += 1;
        }
        batch.count = kept;
        Ok(kept)
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::*;

    pub fn send(socket: &UdpSocket, batch: &mut SendBatch) -> io::Result<usize> {
        let mut sent = 0;
        while sent < batch.count {
            match socket.send_to(
                &batch.buffers[sent][..batch.lens[sent]],
                batch.targets[sent],
            ) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    batch.consume(sent);
                    return Err(e);
                }
            }
        }
        batch.consume(sent);
        Ok(sent)
    }

    pub fn recv(socket: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
        let mut count = 0;
        while count < BATCH {
            match socket.recv_from(&mut batch.buffers[count]) {
                Ok((len, source)) => {
                    batch.lens[count] = len;
                    batch.sources[count] = source;
                    batch.truncated[count] = len == RECV_BUFFER_LEN;
                    count += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => {
                    batch.count = count;
                    return Err(e);
                }
            }
        }
        batch.count = count;
        Ok(count)
    }
}

pub fn send(socket: &UdpSocket, batch: &mut SendBatch) -> io::Result<usize> {
    sys::send(socket, batch)
}

pub fn recv(socket: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
    sys::recv(socket, batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::UdpEndpoint;

    #[test]
    fn batch_round_trip_on_loopback_keeps_order_and_sources() {
        let sender = UdpEndpoint::bind(false).unwrap();
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = receiver.local_addr().unwrap();
        let mut batch = SendBatch::default();
        for i in 0..10u32 {
            assert!(batch.push(target, i, |buf| {
                buf[..4].copy_from_slice(&i.to_be_bytes());
                4
            }));
        }
        let sent = sender.send(&mut batch).unwrap();
        assert_eq!(sent, 10);
        assert!(batch.is_empty());
        let mut buf = [0u8; 16];
        for i in 0..10u32 {
            let (len, from) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..len], &i.to_be_bytes());
            assert_eq!(from.port(), sender.local_addr().unwrap().port());
        }
        // And back, batched.
        let sender_addr: SocketAddr = ([127, 0, 0, 1], sender.local_addr().unwrap().port()).into();
        for i in 0..5u8 {
            receiver.send_to(&[i; 20], sender_addr).unwrap();
        }
        let mut incoming = RecvBatch::default();
        let mut seen = Vec::new();
        for _ in 0..100 {
            let n = sender.recv(&mut incoming).unwrap();
            for j in 0..n {
                let (bytes, source, truncated) = incoming.get(j);
                assert_eq!(source, target);
                assert!(!truncated);
                seen.push(bytes[0]);
            }
            if seen.len() == 5 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }
}
