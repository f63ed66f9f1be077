//! One checker of any kind: the probes behind one enum, timed.

use tokio::time::Instant;

use super::dns::DnsCheck;
use super::file::FileCheck;
use super::http::HttpCheck;
use super::misc::MiscCheck;
use super::outcome::ProbeReport;
use super::tcp::TcpCheck;
use super::udp::UdpCheck;

/// A checker's probe, every parameter resolved (keepalived.conf(5) checker
/// kinds; SMTP_CHECK, BFD_CHECK and PING_CHECK are not supported).
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// `TCP_CHECK`.
    Tcp(TcpCheck),
    /// `HTTP_GET`, or `SSL_GET` when its `tls` is set.
    Http(HttpCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `MISC_CHECK`.
    Misc(MiscCheck),
    /// `FILE_CHECK`.
    File(FileCheck),
}

impl Probe {
    /// The keepalived keyword of this kind (`TCP_CHECK`, `SSL_GET`, ...),
    /// for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "TCP_CHECK",
            Probe::Http(h) if h.tls.is_some() => "SSL_GET",
            Probe::Http(_) => "HTTP_GET",
            Probe::Udp(_) => "UDP_CHECK",
            Probe::Dns(_) => "DNS_CHECK",
            Probe::Misc(_) => "MISC_CHECK",
            Probe::File(_) => "FILE_CHECK",
        }
    }

    /// Runs the probe once; every kind bounds itself by its timeout.
    pub async fn run(&self) -> ProbeReport {
        let started = Instant::now();
        let result = match self {
            Probe::Tcp(c) => c.probe().await,
            Probe::Http(c) => c.probe().await,
            Probe::Udp(c) => c.probe().await,
            Probe::Dns(c) => c.probe().await,
            Probe::Misc(c) => c.probe().await,
            Probe::File(c) => c.probe().await,
        };
        ProbeReport {
            result,
            latency: started.elapsed(),
        }
    }
}
