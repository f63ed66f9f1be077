//! The datagram transport under [`IpvsSocket`](crate::IpvsSocket): a real
//! `NETLINK_GENERIC` socket, or anything else that sends and receives datagrams
//! (such as a recorded exchange in a test).

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};

/// Sends and receives whole netlink datagrams.
pub trait Transport {
    /// Sends one datagram (which may hold several netlink messages).
    ///
    /// # Errors
    /// The socket's error.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;

    /// Receives one datagram into `buf` and returns its full length, which is
    /// larger than `buf` when the datagram was truncated.
    ///
    /// # Errors
    /// The socket's error.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;

    /// The netlink port id this end is bound to (0 if unknown).
    fn port_id(&self) -> u32;

    /// How many pipelined requests may be in flight at once: if all failed,
    /// their error messages must fit in the receive buffer.
    fn max_in_flight(&self) -> usize {
        256
    }
}

/// Receive buffer asked of the kernel, so that the ACKs of a whole pipelined
/// window fit even when each is a separate skb of about a kilobyte.
const RCVBUF_BYTES: usize = 4 << 20;

/// A `NETLINK_GENERIC` socket bound in the calling thread's network namespace.
///
/// It is not `Clone` (unlike `netlink_sys::Socket`, whose clones would close
/// the same descriptor twice).
#[derive(Debug)]
pub struct NetlinkTransport {
    socket: Socket,
    port_id: u32,
    rcvbuf: usize,
}

impl NetlinkTransport {
    /// Opens and binds the socket, asks for short error ACKs and a large
    /// receive buffer (forced when the caller has `CAP_NET_ADMIN`).
    ///
    /// # Errors
    /// The socket calls' errors.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        let addr = socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Error ACKs need not echo the request: we match them by sequence number.
        socket.set_cap_ack(true)?;
        if set_int_opt(&socket, libc::SO_RCVBUFFORCE, RCVBUF_BYTES).is_err() {
            // Without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max.
            socket.set_rx_buf_sz(RCVBUF_BYTES)?;
        }
        let rcvbuf = socket.get_rx_buf_sz()?;
        Ok(Self {
            socket,
            port_id: addr.port_number(),
            rcvbuf,
        })
    }

    /// The receive buffer the kernel granted, in bytes.
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }
}

fn set_int_opt(socket: &Socket, option: libc::c_int, value: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid descriptor, and a pointer to a c_int with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
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

impl Transport for NetlinkTransport {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let sent = self.socket.send(datagram, 0)?;
        if sent != datagram.len() {
            return Err(io::Error::other(format!(
                "netlink send wrote {sent} of {} bytes",
                datagram.len()
            )));
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.socket.recv(&mut &mut buf[..], libc::MSG_TRUNC) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn port_id(&self) -> u32 {
        self.port_id
    }

    fn max_in_flight(&self) -> usize {
        // The kernel charges about 1 KiB of receive buffer per error message.
        (self.rcvbuf / 2048).clamp(16, 1024)
    }
}
