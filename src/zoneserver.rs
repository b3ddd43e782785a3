//! A real authoritative DNS server (hickory-server) on a random loopback
//! port, serving zone files from memory over UDP and TCP.
//!
//! `ptrscan demo` scans the bundled sample world through it, and the tests
//! use it so that every test talks to a real DNS implementation, never a
//! mock of our own engine. It only ever binds 127.0.0.1.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::rr::{LowerName, Name};
use hickory_proto::serialize::txt::Parser;
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum ZoneServerError {
    #[error("zone {origin}: {message}")]
    Zone { origin: String, message: String },
    #[error("cannot start the in-process DNS server on loopback: {0}")]
    Start(String),
}

/// A zone to serve: its origin and its text in RFC 1035 master-file format.
pub struct ZoneText<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

pub struct ZoneServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ZoneServer {
    /// Parses the zones and starts serving them on 127.0.0.1, UDP and TCP on
    /// the same random port.
    pub fn start(zones: &[ZoneText<'_>]) -> Result<Self, ZoneServerError> {
        let mut catalog = Catalog::new();
        for zone in zones {
            let zone_error = |message: String| ZoneServerError::Zone {
                origin: zone.origin.to_owned(),
                message,
            };
            let origin = Name::from_ascii(zone.origin).map_err(|e| zone_error(e.to_string()))?;
            let (origin, records) = Parser::new(zone.text, None, Some(origin))
                .parse()
                .map_err(|e| zone_error(e.to_string()))?;
            let handler: InMemoryZoneHandler = InMemoryZoneHandler::new(
                origin.clone(),
                records,
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )
            .map_err(zone_error)?;
            let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
            catalog.upsert(LowerName::from(&origin), vec![handler]);
        }
        let (udp, tcp) = bind_pair().map_err(|e| ZoneServerError::Start(e.to_string()))?;
        let addr = udp
            .local_addr()
            .map_err(|e| ZoneServerError::Start(e.to_string()))?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let sockets = (|| {
                    udp.set_nonblocking(true)?;
                    tcp.set_nonblocking(true)?;
                    Ok::<_, std::io::Error>((
                        tokio::net::UdpSocket::from_std(udp)?,
                        tokio::net::TcpListener::from_std(tcp)?,
                    ))
                })();
                let (udp, tcp) = match sockets {
                    Ok(pair) => pair,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let mut server = Server::new(catalog);
                server.register_socket(udp);
                server.register_listener(tcp, Duration::from_secs(5), 64);
                let _ = ready_tx.send(Ok(()));
                let _ = shutdown_rx.await;
                let _ = server.shutdown_gracefully().await;
            });
        });
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Err(ZoneServerError::Start(message)),
            Err(_) => {
                return Err(ZoneServerError::Start(
                    "the server thread did not start".into(),
                ));
            }
        }
        Ok(ZoneServer {
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ZoneServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same loopback port (TC=1 answers
/// are retried over TCP to the same address and port).
fn bind_pair() -> std::io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut last_error = None;
    for _ in 0..32 {
        let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = udp.local_addr()?.port();
        match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port pair")))
}
