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

    /// Keeps the datagrams not marked sent, in their order.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn keep_unsent(&mut self, sent: &[bool; BATCH]) {
        let mut kept = 0;
        for (i, &was_sent) in sent.iter().enumerate().take(self.count) {
            if was_sent {
                continue;
            }
            if kept != i {
                self.buffers[kept] = self.buffers[i];
                self.lens[kept] = self.lens[i];
                self.targets[kept] = self.targets[i];
                self.tags[kept] = self.tags[i];
            }
            kept += 1;
        }
        self.count = kept;
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
    use std::mem::{MaybeUninit, size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    /// A socket address as the kernel reads and writes it: the two families
    /// we use, 28 bytes instead of `sockaddr_storage`'s 128, because these
    /// arrays are set up for every batch.
    #[repr(C)]
    #[derive(Clone, Copy)]
    union SockName {
        v4: libc::sockaddr_in,
        v6: libc::sockaddr_in6,
    }

    const NAME_LEN: libc::socklen_t = size_of::<SockName>() as libc::socklen_t;

    fn to_name(addr: &SocketAddr) -> (SockName, libc::socklen_t) {
        match addr {
            SocketAddr::V4(v4) => {
                // SAFETY: all-zero is a valid sockaddr_in (and zeroes sin_zero).
                let mut sin: libc::sockaddr_in = unsafe { zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = v4.port().to_be();
                sin.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                };
                (
                    SockName { v4: sin },
                    size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            SocketAddr::V6(v6) => {
                // SAFETY: all-zero is a valid sockaddr_in6.
                let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = v6.port().to_be();
                sin6.sin6_flowinfo = v6.flowinfo();
                sin6.sin6_addr = libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                };
                sin6.sin6_scope_id = v6.scope_id();
                (
                    SockName { v6: sin6 },
                    size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    }

    /// `name` as the kernel filled it in (`len` bytes of it).
    fn from_name(name: &MaybeUninit<SockName>, len: libc::socklen_t) -> Option<SocketAddr> {
        let family_len = size_of::<libc::sa_family_t>() as libc::socklen_t;
        if len < family_len {
            return None;
        }
        let name = name.as_ptr();
        // SAFETY: the kernel wrote the first `len` bytes; each read below is
        // of bytes within them (the family first, then a whole address
        // whose size is checked against `len`).
        unsafe {
            match i32::from(name.cast::<libc::sa_family_t>().read()) {
                libc::AF_INET if len as usize >= size_of::<libc::sockaddr_in>() => {
                    let sin = name.cast::<libc::sockaddr_in>().read();
                    let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                    Some(SocketAddr::V4(SocketAddrV4::new(
                        ip,
                        u16::from_be(sin.sin_port),
                    )))
                }
                libc::AF_INET6 if len as usize >= size_of::<libc::sockaddr_in6>() => {
                    let sin6 = name.cast::<libc::sockaddr_in6>().read();
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
    }

    /// An all-zero `mmsghdr` (null pointers, no control data, no flags).
    fn blank_header() -> libc::mmsghdr {
        // SAFETY: all-zero is a valid bit pattern for this plain C struct.
        unsafe { zeroed() }
    }

    /// `UDP_SEGMENT` from linux/udp.h (Linux 4.18+); the libc crate has it
    /// only for some targets.
    const UDP_SEGMENT: libc::c_int = 103;

    /// Segments per `UDP_SEGMENT` send: the kernel's limit before 6.x.
    const MAX_SEGMENTS: usize = 64;

    pub fn send(
        socket: &UdpSocket,
        batch: &mut SendBatch,
        segment: &mut bool,
    ) -> io::Result<usize> {
        if *segment && batch.count > 1 {
            match send_runs(socket, batch, true) {
                Ok(sent) => return Ok(sent),
                // The path cannot segment (no checksum offload, an IPsec
                // route, an old kernel): plain sends from now on.
                Err(error) if segmentation_refused(&error) => *segment = false,
                // Anything else is about a datagram: the plain path reports
                // it against the first one, which the caller then drops.
                Err(_) => {}
            }
        }
        send_runs(socket, batch, false)
    }

    fn segmentation_refused(error: &io::Error) -> bool {
        matches!(
            error.raw_os_error(),
            Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
        )
    }

    /// Calls sendmmsg on the first `count` headers; a full socket is 0 sent.
    fn sendmmsg(
        socket: &UdpSocket,
        headers: &mut [MaybeUninit<libc::mmsghdr>; BATCH],
        count: usize,
    ) -> io::Result<usize> {
        // SAFETY: the caller initialised headers[..count], whose pointers
        // point into arrays alive for this call.
        let sent = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr().cast(),
                count as u32,
                0,
            )
        };
        if sent < 0 {
            let error = io::Error::last_os_error();
            return match error.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(error),
            };
        }
        Ok(sent as usize)
    }

    /// Datagrams of one length to one target, sent as one message.
    #[derive(Clone, Copy)]
    struct Run {
        first: u8,
        last: u8,
        size: u8,
        len: u16,
    }

    /// Sends the batch as runs, one message each. With `segment`, datagrams
    /// of the same length to the same target make one run that goes down
    /// the stack as one buffer (UDP segmentation offload) and is cut into
    /// datagrams at the bottom (by the NIC, or by the kernel just before
    /// delivery on loopback), which saves most of the per-datagram cost of
    /// the send path; PTR queries of a sweep come in a handful of lengths,
    /// so a batch makes a few such runs. Without it every datagram is a run
    /// of its own, in batch order, so an error is about the first datagram.
    fn send_runs(socket: &UdpSocket, batch: &mut SendBatch, segment: bool) -> io::Result<usize> {
        let count = batch.count;
        if count == 0 {
            return Ok(0);
        }
        // Each datagram's successor in its run; runs are found by a linear
        // search because a batch holds few distinct (target, length) pairs.
        const END: u8 = u8::MAX;
        let mut next = [END; BATCH];
        let mut runs = [Run {
            first: 0,
            last: 0,
            size: 0,
            len: 0,
        }; BATCH];
        let mut run_count = 0;
        for i in 0..count {
            let len = batch.lens[i] as u16;
            let joined = runs[..run_count].iter().position(|run| {
                segment
                    && run.len == len
                    && usize::from(run.size) < MAX_SEGMENTS
                    && batch.targets[usize::from(run.first)] == batch.targets[i]
            });
            match joined {
                Some(r) => {
                    next[usize::from(runs[r].last)] = i as u8;
                    runs[r].last = i as u8;
                    runs[r].size += 1;
                }
                None => {
                    runs[run_count] = Run {
                        first: i as u8,
                        last: i as u8,
                        size: 1,
                        len,
                    };
                    run_count += 1;
                }
            }
        }
        let mut names = [MaybeUninit::<SockName>::uninit(); BATCH];
        let mut iovecs = [MaybeUninit::<libc::iovec>::uninit(); BATCH];
        let mut headers = [MaybeUninit::<libc::mmsghdr>::uninit(); BATCH];
        // One cmsghdr and a u16 per message, u64-aligned as cmsghdr needs.
        let mut controls = [[0u64; 3]; BATCH];
        let mut iovec_at = 0;
        for (r, run) in runs[..run_count].iter().enumerate() {
            let first_iovec = iovec_at;
            let mut i = run.first;
            while i != END {
                iovecs[iovec_at].write(libc::iovec {
                    iov_base: batch.buffers[usize::from(i)].as_mut_ptr().cast(),
                    iov_len: batch.lens[usize::from(i)],
                });
                iovec_at += 1;
                i = next[usize::from(i)];
            }
            let (name, name_len) = to_name(&batch.targets[usize::from(run.first)]);
            let name = names[r].write(name);
            let header = &mut headers[r].write(blank_header()).msg_hdr;
            header.msg_name = (name as *mut SockName).cast();
            header.msg_namelen = name_len;
            header.msg_iov = iovecs[first_iovec].as_mut_ptr();
            header.msg_iovlen = (iovec_at - first_iovec) as _;
            if run.size > 1 {
                let control = &mut controls[r];
                header.msg_control = control.as_mut_ptr().cast();
                // SAFETY: CMSG_SPACE of a u16 is 24 bytes on 64-bit and 16 on
                // 32-bit Linux, within the 24 bytes of `control`.
                header.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as _;
                // SAFETY: msg_control points at a zeroed, aligned buffer of
                // msg_controllen bytes, so the first header is in bounds.
                unsafe {
                    let cmsg = libc::CMSG_FIRSTHDR(header);
                    (*cmsg).cmsg_level = libc::SOL_UDP;
                    (*cmsg).cmsg_type = UDP_SEGMENT;
                    (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
                    std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), run.len);
                }
            }
        }
        let messages = sendmmsg(socket, &mut headers, run_count)?;
        let mut was_sent = [false; BATCH];
        let mut datagrams = 0;
        for run in &runs[..messages] {
            let mut i = run.first;
            while i != END {
                was_sent[usize::from(i)] = true;
                datagrams += 1;
                i = next[usize::from(i)];
            }
        }
        batch.keep_unsent(&was_sent);
        Ok(datagrams)
    }

    pub fn recv(socket: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
        // The kernel fills the names; only the headers need setting up.
        let mut names = [MaybeUninit::<SockName>::uninit(); BATCH];
        let mut iovecs = [MaybeUninit::<libc::iovec>::uninit(); BATCH];
        let mut headers = [MaybeUninit::<libc::mmsghdr>::uninit(); BATCH];
        for i in 0..BATCH {
            let iovec = iovecs[i].write(libc::iovec {
                iov_base: batch.buffers[i].as_mut_ptr().cast(),
                iov_len: RECV_BUFFER_LEN,
            });
            let header = headers[i].write(blank_header());
            header.msg_hdr.msg_name = names[i].as_mut_ptr().cast();
            header.msg_hdr.msg_namelen = NAME_LEN;
            header.msg_hdr.msg_iov = iovec;
            header.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header is initialised and points into names/iovecs/
        // buffers, all alive for the call.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr().cast(),
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
            // SAFETY: recvmmsg initialised the first `received` headers.
            let header = unsafe { headers[i].assume_init_ref() };
            let Some(source) = from_name(&names[i], header.msg_hdr.msg_namelen) else {
                continue;
            };
            if kept != i {
                batch.buffers.swap(kept, i);
            }
            batch.lens[kept] = (header.msg_len as usize).min(RECV_BUFFER_LEN);
            batch.sources[kept] = source;
            batch.truncated[kept] = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            kept += 1;
        }
        batch.count = kept;
        Ok(kept)
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::*;

    pub fn send(
        socket: &UdpSocket,
        batch: &mut SendBatch,
        _segment: &mut bool,
    ) -> io::Result<usize> {
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

/// `segment`: whether to try UDP segmentation offload; cleared when the
/// kernel refuses it, so the caller keeps the answer per socket.
pub fn send(socket: &UdpSocket, batch: &mut SendBatch, segment: &mut bool) -> io::Result<usize> {
    sys::send(socket, batch, segment)
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
        let mut sender = UdpEndpoint::bind(false).unwrap();
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

    /// Datagrams of one length to one server go out as one segmented
    /// buffer: each must still arrive as its own datagram, once, with its
    /// own bytes, and those of a run in the order they were queued.
    #[test]
    fn segmented_sends_deliver_every_datagram_once_and_in_order() {
        deliver_every_datagram_once_and_in_order(true);
    }

    /// The plain path, which is what runs when the kernel refuses
    /// segmentation, must keep the same promises.
    #[test]
    fn plain_sends_deliver_every_datagram_once_and_in_order() {
        deliver_every_datagram_once_and_in_order(false);
    }

    fn deliver_every_datagram_once_and_in_order(segment: bool) {
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut segmenting = segment;
        let receivers = [
            std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
            std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        ];
        for receiver in &receivers {
            receiver
                .set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .unwrap();
        }
        let targets = receivers.each_ref().map(|r| r.local_addr().unwrap());
        // (receiver, length) for each datagram, interleaved as a scan would.
        let plan: Vec<(usize, usize)> = (0..BATCH as u32)
            .map(|i| match i % 7 {
                0 | 2 | 4 => (0, 30),
                1 => (0, 41),
                3 | 5 => (1, 30),
                _ => (1, 12 + (i as usize % 3)),
            })
            .collect();
        let mut batch = SendBatch::default();
        for (i, &(to, len)) in plan.iter().enumerate() {
            assert!(batch.push(targets[to], i as u32, |buf| {
                buf[..len].fill(i as u8);
                len
            }));
        }
        let mut sent = 0;
        for _ in 0..10 {
            sent += send(&sender, &mut batch, &mut segmenting).unwrap();
            if batch.is_empty() {
                break;
            }
        }
        assert_eq!(sent, plan.len());
        assert!(batch.is_empty());
        #[cfg(target_os = "linux")]
        assert_eq!(segmenting, segment, "loopback takes segmented sends");
        let mut buf = [0u8; 64];
        for (to, receiver) in receivers.iter().enumerate() {
            let mut got = Vec::new();
            let want = plan.iter().filter(|(r, _)| *r == to).count();
            while got.len() < want {
                let len = receiver.recv(&mut buf).unwrap();
                assert!(
                    buf[..len].iter().all(|&b| b == buf[0]),
                    "one datagram's bytes"
                );
                got.push((buf[0] as usize, len));
            }
            for &(index, len) in &got {
                assert_eq!(
                    plan[index],
                    (to, len),
                    "datagram {index} at its target, whole"
                );
            }
            let mut indices: Vec<usize> = got.iter().map(|&(i, _)| i).collect();
            indices.sort_unstable();
            indices.dedup();
            assert_eq!(indices.len(), want, "each datagram exactly once");
            for len in [12, 13, 14, 30, 41] {
                let run: Vec<usize> = got.iter().filter(|g| g.1 == len).map(|g| g.0).collect();
                assert!(run.is_sorted(), "a run keeps its order: {run:?}");
            }
        }
    }
}
