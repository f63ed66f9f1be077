//! A tiny HTTP/1.0 server that says who it is, and a client, for tests and
//! the lab: each response body is the server's name, so a client can count
//! which real server answered.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running server; it stops when dropped (connections being answered finish).
#[derive(Debug)]
pub struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The address it listens on.
    pub addr: SocketAddr,
}

/// Answers one connection: reads the request head (up to the blank line, or
/// 30 s), then says who it is, and with `show_address` on which local
/// address the connection arrived (direct routing keeps the VIP).
fn answer(mut conn: TcpStream, name: &str, show_address: bool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = match conn.local_addr() {
        Ok(local) if show_address => format!("{name} {local}\n"),
        _ => format!("{name}\n"),
    };
    let _ = write!(
        conn,
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves on `listener` until `stop` is set, a thread per connection.
fn serve(listener: TcpListener, name: String, show_address: bool, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, _)) => {
                let name = name.clone();
                std::thread::spawn(move || answer(conn, &name, show_address));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

impl Server {
    /// Starts a server answering `name` on `addr`, on a thread of the calling
    /// thread's network namespace (a listening socket stays in the namespace
    /// it was made in).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn start(name: &str, addr: SocketAddr) -> io::Result<Self> {
        Self::start_with(name, addr, false)
    }

    /// As [`Server::start`]; with `show_address`, each answer also says on
    /// which local address the connection arrived.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn start_with(name: &str, addr: SocketAddr, show_address: bool) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, name) = (stop.clone(), name.to_owned());
        let thread = std::thread::spawn(move || serve(listener, name, show_address, flag));
        Ok(Self {
            stop,
            thread: Some(thread),
            addr,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads an answer to its end and returns the body of a 200.
fn read_answer(conn: &mut TcpStream) -> io::Result<String> {
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("not an HTTP answer: {answer:?}")))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(io::Error::other(format!("HTTP error: {head}")));
    }
    Ok(body.trim().to_owned())
}

/// `GET /` from `addr` in the calling thread's namespace; returns the body.
///
/// # Errors
/// When the connection fails or the answer is not a 200.
pub fn get(addr: SocketAddr, timeout: Duration) -> io::Result<String> {
    let mut conn = TcpStream::connect_timeout(&addr, timeout)?;
    conn.set_read_timeout(Some(timeout))?;
    conn.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    read_answer(&mut conn)
}

/// A request sent halfway: the connection is open (and counts as active at
/// the director) until [`HeldRequest::finish`].
#[derive(Debug)]
pub struct HeldRequest {
    conn: TcpStream,
}

impl HeldRequest {
    /// Connects to `addr` from the calling thread's namespace and sends the
    /// first line of a request, not its end.
    ///
    /// # Errors
    /// When the connection fails.
    pub fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let mut conn = TcpStream::connect_timeout(&addr, timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.write_all(b"GET / HTTP/1.0\r\n")?;
        Ok(Self { conn })
    }

    /// Ends the request and returns the body of the answer.
    ///
    /// # Errors
    /// When the connection broke or the answer is not a 200.
    pub fn finish(mut self) -> io::Result<String> {
        self.conn.write_all(b"\r\n")?;
        read_answer(&mut self.conn)
    }
}
