//! Connection options shared by the socket checkers (TCP_CHECK, HTTP_GET,
//! SSL_GET, UDP_CHECK, DNS_CHECK) and the sockets made from them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use super::outcome::ProbeFailure;

/// keepalived.conf(5) `connect_timeout` default: 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how a probe connects, every value resolved.
///
/// keepalived.conf(5) checker options: `connect_ip`/`connect_port` (default
/// the real server's address and port), `bindto`/`bind_port` (source
/// address and port; default chosen by the kernel), `bind_if` (needed for an
/// IPv6 link-local `bindto`), `fwmark` (SO_MARK on probe packets; needs
/// CAP_NET_ADMIN), `connect_timeout` (default 5 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The address and port probed (`connect_ip`, `connect_port`).
    pub connect: SocketAddr,
    /// The source address (`bindto`); `None`: the kernel chooses.
    pub bind_ip: Option<IpAddr>,
    /// The source port (`bind_port`); `None` or 0: the kernel chooses.
    pub bind_port: Option<u16>,
    /// The interface to bind to (`bind_if`, SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// The firewall mark on probe packets (`fwmark`, SO_MARK).
    pub fwmark: Option<u32>,
    /// Bound on connecting, and again on the exchange that follows
    /// (`connect_timeout`, as keepalived uses it for both).
    pub timeout: Duration,
}

impl ConnectOptions {
    /// Options that connect to `connect` with keepalived's defaults (no bind,
    /// no mark, 5 s timeout).
    pub fn new(connect: SocketAddr) -> Self {
        ConnectOptions {
            connect,
            bind_ip: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// The same options with another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same options with a source address and port (`bindto`, `bind_port`).
    pub fn with_bind(mut self, ip: Option<IpAddr>, port: Option<u16>) -> Self {
        self.bind_ip = ip;
        self.bind_port = port;
        self
    }

    /// The local address to bind, if any option asks for one: `bindto` with
    /// `bind_port`, or the unspecified address of the connect family with
    /// `bind_port` alone.
    fn bind_addr(&self) -> Option<SocketAddr> {
        let port = self.bind_port.unwrap_or(0);
        match self.bind_ip {
            Some(ip) => Some(SocketAddr::new(ip, port)),
            None if port != 0 => Some(SocketAddr::new(unspecified_like(self.connect), port)),
            None => None,
        }
    }

    /// `bind_if` and `fwmark` on a probe's socket, TCP or UDP.
    fn set_device_and_mark(&self, socket: socket2::SockRef<'_>) -> Result<(), ProbeFailure> {
        if let Some(dev) = &self.bind_if {
            socket
                .bind_device(Some(dev.as_bytes()))
                .map_err(|e| ProbeFailure::io("bind_if", &e))?;
        }
        if let Some(mark) = self.fwmark {
            socket
                .set_mark(mark)
                .map_err(|e| ProbeFailure::io("fwmark", &e))?;
        }
        Ok(())
    }

    /// Connects a TCP stream, bounded by `timeout`.
    ///
    /// # Errors
    /// [`ProbeFailure::ConnectTimeout`] past the timeout, [`ProbeFailure::Io`]
    /// when a socket option, the bind or the connect fails (refused,
    /// unreachable).
    pub async fn connect_tcp(&self) -> Result<TcpStream, ProbeFailure> {
        let socket = match self.connect {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(|e| ProbeFailure::io("socket", &e))?;
        self.set_device_and_mark(socket2::SockRef::from(&socket))?;
        if let Some(local) = self.bind_addr() {
            if local.port() != 0 {
                // A fixed source port is reused probe after probe; the
                // previous connection may still be in TIME_WAIT.
                socket
                    .set_reuseaddr(true)
                    .map_err(|e| ProbeFailure::io("bind", &e))?;
            }
            socket
                .bind(local)
                .map_err(|e| ProbeFailure::io("bind", &e))?;
        }
        match tokio::time::timeout(self.timeout, socket.connect(self.connect)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(ProbeFailure::io("connect", &e)),
            Err(_) => Err(ProbeFailure::ConnectTimeout(self.timeout)),
        }
    }

    /// A UDP socket bound as asked and connected to `connect`, so that the
    /// kernel reports an ICMP error for it (port unreachable becomes
    /// ECONNREFUSED on the next send or receive).
    ///
    /// # Errors
    /// [`ProbeFailure::Io`] when a socket option, the bind or the connect
    /// fails.
    pub async fn connect_udp(&self) -> Result<UdpSocket, ProbeFailure> {
        let local = self
            .bind_addr()
            .unwrap_or_else(|| SocketAddr::new(unspecified_like(self.connect), 0));
        let socket = UdpSocket::bind(local)
            .await
            .map_err(|e| ProbeFailure::io("bind", &e))?;
        self.set_device_and_mark(socket2::SockRef::from(&socket))?;
        socket
            .connect(self.connect)
            .await
            .map_err(|e| ProbeFailure::io("connect", &e))?;
        Ok(socket)
    }
}

/// The unspecified address of `addr`'s family.
fn unspecified_like(addr: SocketAddr) -> IpAddr {
    match addr {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_port_alone_binds_the_unspecified_address_of_the_family() {
        let o = ConnectOptions::new("[::1]:80".parse().unwrap()).with_bind(None, Some(4000));
        assert_eq!(o.bind_addr(), Some("[::]:4000".parse().unwrap()));
        let o = ConnectOptions::new("127.0.0.1:80".parse().unwrap());
        assert_eq!(o.bind_addr(), None);
    }
}
