//! A UDP relay on 127.0.0.1 in front of a DNS server that records when each
//! query arrived, by the kernel's clock (`SO_TIMESTAMPNS`): the times are
//! those of the scanner's sends, not of this relay's own scheduling, so a
//! busy machine that delays the relay thread does not make smooth traffic
//! look bursty. It also reads the socket's drop counter (`SO_RXQ_OVFL`):
//! a query the relay could not take is a gap in the record, not a pacing
//! error, and the test can say so. Loopback only.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Who asked a forwarded query, by the relay's own ID for it.
type Pending = Arc<Mutex<Vec<Option<(SocketAddr, u16)>>>>;

pub struct TimestampRelay {
    pub addr: SocketAddr,
    /// Kernel receive times of the queries, nanoseconds (CLOCK_REALTIME).
    arrivals: Arc<Mutex<Vec<i128>>>,
    dropped: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TimestampRelay {
    pub fn start(upstream: SocketAddr) -> TimestampRelay {
        let front = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind relay");
        let back = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind relay upstream");
        let addr = front.local_addr().expect("relay addr");
        let poll = Some(Duration::from_millis(20));
        front.set_read_timeout(poll).expect("timeout");
        back.set_read_timeout(poll).expect("timeout");
        let fd = front.as_raw_fd();
        set_option(fd, libc::SO_TIMESTAMPNS, 1).expect("SO_TIMESTAMPNS");
        set_option(fd, libc::SO_RXQ_OVFL, 1).expect("SO_RXQ_OVFL");
        // Room for bursts while this thread waits for a core; beyond
        // rmem_max only root may go (and need not).
        let buffer = 8 << 20;
        if set_option(fd, libc::SO_RCVBUFFORCE, buffer).is_err() {
            let _ = set_option(fd, libc::SO_RCVBUF, buffer);
        }

        let arrivals = Arc::new(Mutex::new(Vec::with_capacity(1 << 16)));
        let dropped = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let pending: Pending = Arc::new(Mutex::new(vec![None; 1 << 16]));

        let queries = {
            let front = front.try_clone().expect("clone");
            let back = back.try_clone().expect("clone");
            let (arrivals, dropped, stop, pending) = (
                Arc::clone(&arrivals),
                Arc::clone(&dropped),
                Arc::clone(&stop),
                Arc::clone(&pending),
            );
            std::thread::spawn(move || {
                let mut next_id: u16 = 0;
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let Some(received) = recv_stamped(&front, &mut buf) else {
                        continue;
                    };
                    dropped.fetch_max(received.dropped, Ordering::Relaxed);
                    if received.len < 12 {
                        continue;
                    }
                    if let Some(at) = received.at {
                        arrivals.lock().expect("arrivals").push(at);
                    }
                    let client_id = u16::from_be_bytes([buf[0], buf[1]]);
                    pending.lock().expect("pending")[usize::from(next_id)] =
                        Some((received.from, client_id));
                    buf[..2].copy_from_slice(&next_id.to_be_bytes());
                    next_id = next_id.wrapping_add(1);
                    let _ = back.send_to(&buf[..received.len], upstream);
                }
            })
        };
        let answers = {
            let stop = Arc::clone(&stop);
            let pending = Arc::clone(&pending);
            std::thread::spawn(move || {
                let mut buf = [0u8; 65535];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, from)) = back.recv_from(&mut buf) else {
                        continue;
                    };
                    if from != upstream || len < 12 {
                        continue;
                    }
                    let relay_id = u16::from_be_bytes([buf[0], buf[1]]);
                    let Some((client, client_id)) =
                        pending.lock().expect("pending")[usize::from(relay_id)].take()
                    else {
                        continue;
                    };
                    buf[..2].copy_from_slice(&client_id.to_be_bytes());
                    let _ = front.send_to(&buf[..len], client);
                }
            })
        };
        TimestampRelay {
            addr,
            arrivals,
            dropped,
            stop,
            threads: vec![queries, answers],
        }
    }

    /// Arrival times so far, in nanoseconds, in arrival order.
    pub fn arrivals(&self) -> Vec<i128> {
        self.arrivals.lock().expect("arrivals").clone()
    }

    /// Queries the kernel dropped because the relay's socket was full.
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for TimestampRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn set_option(fd: i32, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `value` outlives the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

struct Stamped {
    len: usize,
    from: SocketAddr,
    /// Kernel receive time, nanoseconds.
    at: Option<i128>,
    /// The socket's drop counter as of this datagram.
    dropped: u32,
}

/// One datagram with its kernel timestamp; None on timeout or error.
fn recv_stamped(socket: &UdpSocket, buf: &mut [u8]) -> Option<Stamped> {
    let mut source: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid; its pointers are set below to
    // buffers that outlive the call.
    let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
    header.msg_name = (&mut source as *mut libc::sockaddr_in).cast();
    header.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    header.msg_iov = &mut iov;
    header.msg_iovlen = 1;
    header.msg_control = control.as_mut_ptr().cast();
    header.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: every pointer in `header` is valid for the sizes given.
    let len = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut header, 0) };
    if len < 0 {
        return None;
    }
    let mut at = None;
    let mut dropped = 0;
    // SAFETY: the kernel filled `control` up to `msg_controllen`; the CMSG
    // macros walk exactly that.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&header);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    let time = data.cast::<libc::timespec>().read_unaligned();
                    at = Some(i128::from(time.tv_sec) * 1_000_000_000 + i128::from(time.tv_nsec));
                }
                (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) => {
                    dropped = data.cast::<u32>().read_unaligned();
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&header, cmsg);
        }
    }
    let from = SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(source.sin_addr.s_addr)),
        u16::from_be(source.sin_port),
    ));
    Some(Stamped {
        len: len as usize,
        from,
        at,
        dropped,
    })
}
