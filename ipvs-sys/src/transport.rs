//! The datagram transport under [`IpvsSocket`](crate::IpvsSocket): a real
//! `NETLINK_GENERIC` socket, or anything else that sends and receives datagrams
//! (such as a recorded exchange in a test).

use std::collections::VecDeque;
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
    /// `DATAGRAMS_PER_CALL` receive slots of `SLOT_BYTES` each, end to end,
    /// for `recvmmsg`. One zeroed allocation: its pages are only touched as
    /// datagrams land in them, so a short command does not pay for them.
    slots: Box<[u8]>,
    /// Datagrams received but not yet handed out: (slot, length, truncated).
    queued: VecDeque<(usize, usize, bool)>,
}

/// Datagrams taken per `recvmmsg` call: a dump's data and its `NLMSG_DONE`
/// are separate datagrams already queued together, so one call gets both.
const DATAGRAMS_PER_CALL: usize = 4;
/// Size of each receive slot: the kernel's dump datagrams stay under 32 KiB.
const SLOT_BYTES: usize = 64 * 1024;

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
            slots: vec![0; SLOT_BYTES * DATAGRAMS_PER_CALL].into_boxed_slice(),
            queued: VecDeque::new(),
        })
    }

    /// The receive buffer the kernel granted, in bytes.
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }
}

impl NetlinkTransport {
    /// Waits for one datagram and takes every other one already queued, in
    /// one `recvmmsg(2)` call.
    fn fill(&mut self) -> io::Result<()> {
        let mut iovecs: Vec<libc::iovec> = self
            .slots
            .chunks_exact_mut(SLOT_BYTES)
            .map(|slot| libc::iovec {
                iov_base: slot.as_mut_ptr().cast(),
                iov_len: slot.len(),
            })
            .collect();
        // SAFETY: mmsghdr is plain data; zero is a valid start.
        let mut headers: Vec<libc::mmsghdr> = (0..iovecs.len())
            .map(|_| unsafe { std::mem::zeroed() })
            .collect();
        for (header, iov) in headers.iter_mut().zip(iovecs.iter_mut()) {
            header.msg_hdr.msg_iov = iov;
            header.msg_hdr.msg_iovlen = 1;
        }
        let received = loop {
            // SAFETY: each header points at one iovec over a live slot of its length.
            let n = unsafe {
                libc::recvmmsg(
                    self.socket.as_raw_fd(),
                    headers.as_mut_ptr(),
                    headers.len() as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        };
        for (slot, header) in headers.iter().take(received).enumerate() {
            let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.queued
                .push_back((slot, header.msg_len as usize, truncated));
        }
        Ok(())
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
        if self.queued.is_empty() {
            self.fill()?;
        }
        let Some((slot, len, truncated)) = self.queued.pop_front() else {
            return Err(io::Error::other("recvmmsg returned no datagram"));
        };
        let n = len.min(buf.len());
        let start = slot * SLOT_BYTES;
        buf[..n].copy_from_slice(&self.slots[start..start + n]);
        // A truncated datagram reports more than its buffer, as MSG_TRUNC does.
        Ok(if truncated {
            len.max(SLOT_BYTES + 1)
        } else {
            len
        })
    }

    fn port_id(&self) -> u32 {
        self.port_id
    }

    fn max_in_flight(&self) -> usize {
        // The kernel charges about 1 KiB of receive buffer per error message.
        (self.rcvbuf / 2048).clamp(16, 1024)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        (**self).send(datagram)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).recv(buf)
    }

    fn port_id(&self) -> u32 {
        (**self).port_id()
    }

    fn max_in_flight(&self) -> usize {
        (**self).max_in_flight()
    }
}
