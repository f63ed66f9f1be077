//! Real servers a test controls: HTTP, TCP and UDP servers on given
//! addresses that the test can stop (port closed), break (HTTP 500), hang
//! (accept, never answer) and restart, to drive a health checker through
//! every failure it must notice.
//!
//! Each server remembers the network namespace it was started in and binds
//! there again on [`RealServer::start`], whichever thread asks.
//!
//! ```no_run
//! use testbed::servers::{Mode, RealServer};
//! testbed::netns::enter_fresh();
//! testbed::servers::add_address("10.0.0.2".parse().unwrap()).unwrap();
//! let mut web = RealServer::http("rs1", "10.0.0.2:8080".parse().unwrap()).unwrap();
//! web.set_mode(Mode::Error); // every request gets a 500
//! web.stop(); // the port is closed: connections are refused
//! web.start().unwrap(); // listening again, answering 200
//! ```

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a running server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Normally: HTTP `200 OK` with the server's name and the path asked
    /// for, TCP a line with the name, UDP the datagram echoed back.
    Healthy,
    /// Broken: HTTP `500 Internal Server Error`; TCP and UDP answer
    /// `ERROR` (a TCP connect still succeeds).
    Error,
    /// Hung: connections are accepted (the kernel completes the handshake)
    /// and held open, requests and datagrams read and never answered.
    Hang,
}

impl Mode {
    fn to_u8(self) -> u8 {
        match self {
            Mode::Healthy => 0,
            Mode::Error => 1,
            Mode::Hang => 2,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => Mode::Error,
            2 => Mode::Hang,
            _ => Mode::Healthy,
        }
    }
}

/// The protocol a [`RealServer`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.0 over TCP (HTTP_GET's peer).
    Http,
    /// A TCP listener that writes its name and closes (TCP_CHECK's peer).
    Tcp,
    /// A UDP socket that echoes datagrams (UDP_CHECK's peer).
    Udp,
}

/// What the serving thread and its connections share.
#[derive(Debug)]
struct Shared {
    name: String,
    mode: AtomicU8,
    stop: AtomicBool,
    /// Requests (HTTP), connections (TCP) or datagrams (UDP) received.
    hits: AtomicU64,
    /// Connections held open in [`Mode::Hang`], closed on stop or on a
    /// change of mode.
    held: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn mode(&self) -> Mode {
        Mode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    fn hold(&self, conn: TcpStream) {
        if let Ok(mut held) = self.held.lock() {
            held.push(conn);
        }
    }

    fn release_held(&self) {
        if let Ok(mut held) = self.held.lock() {
            held.clear();
        }
    }
}

/// A server on one address that a test stops, breaks, hangs and restarts.
/// It stops when dropped.
#[derive(Debug)]
pub struct RealServer {
    protocol: Protocol,
    addr: SocketAddr,
    namespace: File,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl RealServer {
    /// Starts an HTTP server answering as `name` on `addr` (TCP), in the
    /// calling thread's network namespace.
    ///
    /// # Errors
    /// When the namespace cannot be opened or the address cannot be bound.
    pub fn http(name: &str, addr: SocketAddr) -> io::Result<Self> {
        Self::new(Protocol::Http, name, addr)
    }

    /// Starts a TCP server (a connection gets the name, then is closed) on
    /// `addr`, in the calling thread's network namespace.
    ///
    /// # Errors
    /// As [`RealServer::http`].
    pub fn tcp(name: &str, addr: SocketAddr) -> io::Result<Self> {
        Self::new(Protocol::Tcp, name, addr)
    }

    /// Starts a UDP echo server on `addr`, in the calling thread's network
    /// namespace.
    ///
    /// # Errors
    /// As [`RealServer::http`].
    pub fn udp(name: &str, addr: SocketAddr) -> io::Result<Self> {
        Self::new(Protocol::Udp, name, addr)
    }

    /// Starts a server of `protocol` as `name` on `addr`.
    ///
    /// # Errors
    /// As [`RealServer::http`].
    pub fn new(protocol: Protocol, name: &str, addr: SocketAddr) -> io::Result<Self> {
        let mut server = Self {
            protocol,
            addr,
            namespace: File::open("/proc/thread-self/ns/net")?,
            shared: Arc::new(Shared {
                name: name.to_owned(),
                mode: AtomicU8::new(Mode::Healthy.to_u8()),
                stop: AtomicBool::new(false),
                hits: AtomicU64::new(0),
                held: Mutex::new(Vec::new()),
            }),
            thread: None,
        };
        server.start()?;
        Ok(server)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its name (in every healthy answer).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Whether it is listening.
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }

    /// Requests (HTTP), connections (TCP) or datagrams (UDP) received
    /// since it was made, over restarts.
    pub fn hits(&self) -> u64 {
        self.shared.hits.load(Ordering::Relaxed)
    }

    /// Changes how it answers from the next request on. Leaving
    /// [`Mode::Hang`] closes the connections it held.
    pub fn set_mode(&self, mode: Mode) {
        let old = self.shared.mode.swap(mode.to_u8(), Ordering::Relaxed);
        if Mode::from_u8(old) == Mode::Hang && mode != Mode::Hang {
            self.shared.release_held();
        }
    }

    /// How it answers now.
    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// Closes the port (connections are refused, datagrams get an ICMP
    /// port unreachable) and the connections it held; nothing if stopped.
    pub fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.stop.store(true, Ordering::Relaxed);
            let _ = thread.join();
            self.shared.release_held();
        }
    }

    /// Listens again (in the namespace it was made in) with its current
    /// mode; nothing if it is running.
    ///
    /// # Errors
    /// When the namespace cannot be entered or the address cannot be bound.
    pub fn start(&mut self) -> io::Result<()> {
        if self.thread.is_some() {
            return Ok(());
        }
        self.shared.stop.store(false, Ordering::Relaxed);
        let namespace = self.namespace.try_clone()?;
        let (protocol, addr, shared) = (self.protocol, self.addr, self.shared.clone());
        let (bound_tx, bound_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let bound = crate::netns::enter(&namespace).and_then(|()| Socket::bind(protocol, addr));
            match bound {
                Ok(socket) => {
                    let _ = bound_tx.send(Ok(()));
                    socket.serve(&shared);
                }
                Err(e) => {
                    let _ = bound_tx.send(Err(e));
                }
            }
        });
        let bound = bound_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the server thread died")));
        match bound {
            Ok(()) => {
                self.thread = Some(thread);
                Ok(())
            }
            Err(e) => {
                let _ = thread.join();
                Err(io::Error::new(e.kind(), format!("{addr}: {e}")))
            }
        }
    }

    /// [`RealServer::stop`] then [`RealServer::start`].
    ///
    /// # Errors
    /// As [`RealServer::start`].
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        self.start()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A bound socket of either kind.
enum Socket {
    Tcp(Protocol, TcpListener),
    Udp(UdpSocket),
}

impl Socket {
    fn bind(protocol: Protocol, addr: SocketAddr) -> io::Result<Self> {
        match protocol {
            Protocol::Http | Protocol::Tcp => {
                let listener = TcpListener::bind(addr)?;
                listener.set_nonblocking(true)?;
                Ok(Socket::Tcp(protocol, listener))
            }
            Protocol::Udp => {
                let socket = UdpSocket::bind(addr)?;
                // Short, so that a stop is seen quickly.
                socket.set_read_timeout(Some(Duration::from_millis(20)))?;
                Ok(Socket::Udp(socket))
            }
        }
    }

    /// Serves until the stop flag is set; the socket closes on return.
    fn serve(self, shared: &Arc<Shared>) {
        match self {
            Socket::Tcp(protocol, listener) => {
                while !shared.stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let shared = shared.clone();
                            std::thread::spawn(move || answer_tcp(protocol, conn, &shared));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }
            Socket::Udp(socket) => {
                let mut buf = [0u8; 2048];
                while !shared.stop.load(Ordering::Relaxed) {
                    let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    shared.hits.fetch_add(1, Ordering::Relaxed);
                    match shared.mode() {
                        Mode::Healthy => {
                            let _ = socket.send_to(&buf[..n], peer);
                        }
                        Mode::Error => {
                            let _ = socket.send_to(b"ERROR", peer);
                        }
                        Mode::Hang => {}
                    }
                }
            }
        }
    }
}

/// Answers one TCP connection according to the mode.
fn answer_tcp(protocol: Protocol, mut conn: TcpStream, shared: &Shared) {
    let _ = conn.set_nonblocking(false);
    if protocol == Protocol::Tcp {
        shared.hits.fetch_add(1, Ordering::Relaxed);
        match shared.mode() {
            Mode::Healthy => {
                let _ = writeln!(conn, "{}", shared.name);
            }
            Mode::Error => {
                let _ = conn.write_all(b"ERROR\n");
            }
            Mode::Hang => shared.hold(conn),
        }
        return;
    }
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    shared.hits.fetch_add(1, Ordering::Relaxed);
    // "GET /path HTTP/1.x": the path is the second word of the first line.
    let path = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (status, body) = match shared.mode() {
        Mode::Healthy => ("200 OK", format!("{} {path}\n", shared.name)),
        Mode::Error => ("500 Internal Server Error", "error\n".to_owned()),
        Mode::Hang => {
            shared.hold(conn);
            return;
        }
    };
    let _ = write!(
        conn,
        "HTTP/1.0 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Adds `addr` (as /32 or /128) to `lo` in the calling thread's namespace,
/// where real servers and virtual addresses can both live.
///
/// # Errors
/// As [`crate::netns::ip`].
pub fn add_address(addr: IpAddr) -> io::Result<()> {
    let cidr = match addr {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    };
    crate::netns::ip(&["addr", "add", &cidr, "dev", "lo"])
}

/// Creates the dummy interface `name`, up, with `addrs` (CIDR), in the
/// calling thread's namespace: a home for addresses apart from `lo`.
///
/// # Errors
/// As [`crate::netns::ip`].
pub fn add_dummy(name: &str, addrs: &[&str]) -> io::Result<()> {
    crate::netns::ip(&["link", "add", name, "type", "dummy"])?;
    for addr in addrs {
        crate::netns::ip(&["addr", "add", addr, "dev", name])?;
    }
    crate::netns::ip(&["link", "set", name, "up"])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw HTTP exchange with `addr`: the status line, or the error.
    fn status_line(addr: SocketAddr) -> io::Result<String> {
        let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        conn.set_read_timeout(Some(Duration::from_millis(500)))?;
        conn.write_all(b"GET /health HTTP/1.0\r\n\r\n")?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer)?;
        Ok(answer.lines().next().unwrap_or("").to_owned())
    }

    // Loopback of the host's namespace, on ports the kernel picks: these
    // need no root. A fixed port is found first, then used by the server.
    fn free_port() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[test]
    fn http_server_healthy_broken_hung_stopped_and_back() {
        let addr = free_port();
        let mut server = RealServer::http("rs1", addr).unwrap();
        assert_eq!(status_line(addr).unwrap(), "HTTP/1.0 200 OK");
        server.set_mode(Mode::Error);
        assert_eq!(
            status_line(addr).unwrap(),
            "HTTP/1.0 500 Internal Server Error"
        );
        server.set_mode(Mode::Hang);
        let hung = status_line(addr).unwrap_err();
        assert!(
            matches!(
                hung.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{hung}"
        );
        server.stop();
        assert!(!server.is_running());
        let refused = status_line(addr).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        server.set_mode(Mode::Healthy);
        server.start().unwrap();
        assert_eq!(status_line(addr).unwrap(), "HTTP/1.0 200 OK");
        assert_eq!(server.hits(), 4);
    }

    #[test]
    fn tcp_server_says_its_name() {
        let addr = free_port();
        let _server = RealServer::tcp("rs2", addr).unwrap();
        let mut conn = TcpStream::connect(addr).unwrap();
        let mut line = String::new();
        conn.read_to_string(&mut line).unwrap();
        assert_eq!(line, "rs2\n");
    }

    #[test]
    fn udp_server_echoes_then_stays_silent_when_hung() {
        let addr = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let server = RealServer::udp("rs3", addr).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        client.send_to(b"ping", addr).unwrap();
        let mut buf = [0u8; 16];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        server.set_mode(Mode::Hang);
        client.send_to(b"ping", addr).unwrap();
        assert!(client.recv(&mut buf).is_err());
    }

    #[test]
    fn a_taken_address_is_an_error_naming_it() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = RealServer::http("rs", addr).unwrap_err();
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
