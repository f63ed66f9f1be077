//! Traffic for the several-directors scenario: the real servers' HTTP/1.1
//! keep-alive server that answers with its name, the client's requests
//! from a chosen source address, long-lived (keep-alive) connections, and
//! a loop of new requests in the background that records each outcome.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use testbed::netns::{self, Namespace};

use super::network::{PORT, VIP, client_addr};

/// An HTTP/1.1 server that answers every request of a connection with its
/// name (the body), keeping the connection open unless the request says
/// `Connection: close`. Stops when dropped.
#[derive(Debug)]
pub struct KeepAliveServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KeepAliveServer {
    /// Listens on `addr` in the calling thread's namespace.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn start(name: &str, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, name) = (stop.clone(), name.to_owned());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let name = name.clone();
                        std::thread::spawn(move || serve(conn, &name));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for KeepAliveServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers the requests of one connection until the client closes it,
/// asks to close, or is silent for 120 s.
fn serve(mut conn: TcpStream, name: &str) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(120)));
    let body = format!("{name}\n");
    loop {
        let Ok(head) = read_head(&mut conn) else {
            return;
        };
        let close = head.to_ascii_lowercase().contains("connection: close");
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if conn.write_all(answer.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// Reads up to and including the blank line that ends an HTTP head (byte
/// by byte: requests and answers here are small and in lock step).
fn read_head(conn: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            return Err(io::Error::other("HTTP head over 16 KiB"));
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Reads one answer: a 200 with a `Content-Length` body; the body, trimmed.
fn read_answer(conn: &mut TcpStream) -> io::Result<String> {
    let head = read_head(conn)?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(io::Error::other(format!("not a 200: {head:?}")));
    }
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| io::Error::other(format!("no Content-Length: {head:?}")))?;
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).trim().to_owned())
}

/// A TCP connection to the VIP from `source` (port chosen by the kernel),
/// in the calling thread's namespace.
fn connect_from(source: Ipv4Addr, timeout: Duration) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(source, 0)).into())?;
    socket.connect_timeout(
        &SocketAddr::V4(SocketAddrV4::new(VIP, PORT)).into(),
        timeout,
    )?;
    let conn: TcpStream = socket.into();
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    Ok(conn)
}

/// One request on a new connection from `source`: the client endpoint it
/// used and the answer's body (the real server's name).
///
/// # Errors
/// When the connection or the answer fails within `timeout` (each step).
pub fn request_from(source: Ipv4Addr, timeout: Duration) -> io::Result<(SocketAddr, String)> {
    let mut conn = connect_from(source, timeout)?;
    let local = conn.local_addr()?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")?;
    Ok((local, read_answer(&mut conn)?))
}

/// A long-lived keep-alive connection to the VIP.
#[derive(Debug)]
pub struct KeptConnection {
    conn: TcpStream,
    /// The client endpoint (source address and port).
    pub client: SocketAddr,
}

impl KeptConnection {
    /// Opens one from `source`, in the calling thread's namespace.
    ///
    /// # Errors
    /// When the connection fails within `timeout`.
    pub fn open(source: Ipv4Addr, timeout: Duration) -> io::Result<Self> {
        let conn = connect_from(source, timeout)?;
        let client = conn.local_addr()?;
        Ok(Self { conn, client })
    }

    /// One request on it: the answer's body (the real server's name).
    ///
    /// # Errors
    /// When the request or answer fails within the connection's timeout
    /// (set by `open`, or [`KeptConnection::set_timeout`]).
    pub fn ask(&mut self) -> io::Result<String> {
        self.conn
            .write_all(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")?;
        read_answer(&mut self.conn)
    }

    /// Sets the read and write timeout of later requests.
    ///
    /// # Errors
    /// As `TcpStream::set_read_timeout`.
    pub fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.conn.set_read_timeout(Some(timeout))?;
        self.conn.set_write_timeout(Some(timeout))
    }
}

/// One request of a [`RequestLoop`].
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// When it started.
    pub started: Instant,
    /// Whether it was answered (by any real server) within the timeout.
    pub answered: bool,
}

/// New requests in a loop from the client's source addresses, on a few
/// threads of the client's namespace, until stopped.
#[derive(Debug)]
pub struct RequestLoop {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

impl RequestLoop {
    /// Starts `threads` threads, each sending a request, waiting for the
    /// answer or `timeout`, pausing `spacing`, and so on; thread `t` uses
    /// source addresses `t`, `t + threads`, ... in turn.
    ///
    /// # Errors
    /// When the client's namespace cannot be opened.
    pub fn start(
        client: &Namespace,
        threads: usize,
        timeout: Duration,
        spacing: Duration,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for t in 0..threads {
            let ns = File::open(client.path())?;
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            handles.push(std::thread::spawn(move || {
                if netns::enter(&ns).is_err() {
                    return;
                }
                let mut k = t;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let answered = request_from(client_addr(k), timeout).is_ok();
                    if let Ok(mut all) = outcomes.lock() {
                        all.push(Outcome { started, answered });
                    }
                    k += threads;
                    std::thread::sleep(spacing);
                }
            }));
        }
        Ok(Self {
            stop,
            threads: handles,
            outcomes,
        })
    }

    /// Stops the threads (each finishes its request) and returns every
    /// outcome, in no particular order.
    pub fn stop(mut self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.outcomes
            .lock()
            .map(|mut all| std::mem::take(&mut *all))
            .unwrap_or_default()
    }
}

impl Drop for RequestLoop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Of `outcomes`, those started in `from..to`: (answered, failed).
pub fn count_between(outcomes: &[Outcome], from: Instant, to: Instant) -> (usize, usize) {
    let within = outcomes
        .iter()
        .filter(|o| o.started >= from && o.started < to);
    let (mut ok, mut failed) = (0, 0);
    for o in within {
        if o.answered {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    (ok, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_server_answers_several_requests_on_one_connection() {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let _server = KeepAliveServer::start("rs7", addr).unwrap();
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for _ in 0..3 {
            conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert_eq!(read_answer(&mut conn).unwrap(), "rs7");
        }
        conn.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(read_answer(&mut conn).unwrap(), "rs7");
        let mut rest = Vec::new();
        assert_eq!(conn.read_to_end(&mut rest).unwrap(), 0, "closed after");
    }

    #[test]
    fn outcomes_are_counted_by_start_time() {
        let t0 = Instant::now();
        let at = |ms: u64, answered: bool| Outcome {
            started: t0 + Duration::from_millis(ms),
            answered,
        };
        let all = [at(0, true), at(10, false), at(20, true), at(30, false)];
        assert_eq!(
            count_between(
                &all,
                t0 + Duration::from_millis(10),
                t0 + Duration::from_millis(30)
            ),
            (1, 1)
        );
    }
}
