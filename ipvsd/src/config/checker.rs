//! Health checkers as plain data: what to probe, how, and when, with every
//! keepalived default and inheritance already resolved. The runtime probes
//! (`crate::check`) are built from these.
//!
//! Defaults (keepalived.conf(5), "Virtual server(s)" and the checker
//! sections; `keepalived/check/check_api.c`, `check_data.c`):
//! `delay_loop` 60 s, `connect_timeout` 5 s, `retry` 1 (DNS_CHECK 3,
//! MISC_CHECK 0), `delay_before_retry` 1 s (HTTP_GET/SSL_GET 3 s, DNS_CHECK
//! the delay loop), `warmup` the delay loop. Each is taken from the checker,
//! else its real server, else its virtual server, else the default.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// One health checker of a real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checker {
    /// What it probes.
    pub kind: CheckKind,
    /// Where it connects (`None` for MISC_CHECK and FILE_CHECK, which do not).
    pub connect: Option<Connect>,
    /// When it runs and how failures count.
    pub timing: Timing,
}

impl Checker {
    /// The keepalived.conf block name of this checker (`TCP_CHECK`, ...).
    pub fn keyword(&self) -> &'static str {
        self.kind.keyword()
    }
}

/// Connection options common to the checkers that open a connection
/// (keepalived.conf(5): `connect_ip`, `connect_port`, `bindto`, `bind_port`,
/// `bind_if`, `connect_timeout`, `fwmark`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The address probed: `connect_ip` (default the real server's address)
    /// and `connect_port` (default the real server's port).
    pub to: SocketAddr,
    /// `bindto`: the source address (default: the kernel chooses).
    pub bind_address: Option<IpAddr>,
    /// `bind_port`: the source port (default: the kernel chooses).
    pub bind_port: Option<u16>,
    /// `bind_if`: the interface (needed for a link-local IPv6 `bindto`).
    pub bind_interface: Option<String>,
    /// `connect_timeout`: how long a connection (and for HTTP, the whole
    /// request) may take. Default 5 s.
    pub timeout: Duration,
    /// `fwmark`: the mark set on the probe's packets (SO_MARK).
    pub fwmark: Option<u32>,
}

/// When a checker runs and how its results count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `delay_loop`: the interval between checks. Default 60 s.
    pub delay_loop: Duration,
    /// `retry`: failed attempts retried before the check counts as failed
    /// (keepalived's `retry`; 1 by default, 3 for DNS_CHECK, 0 for MISC_CHECK).
    pub retry: u32,
    /// `delay_before_retry`: the wait before a retry (1 s; HTTP/SSL 3 s;
    /// DNS the delay loop).
    pub delay_before_retry: Duration,
    /// `warmup`: the first check starts after a random delay up to this
    /// (default the delay loop; 0: at once).
    pub warmup: Duration,
    /// `alpha`: the real server starts down until this checker's first success.
    pub alpha: bool,
    /// `log_all_failures`: log every failure, not only state changes.
    pub log_all_failures: bool,
    /// Consecutive successes that bring a down real server up (ipvsd; 1 as keepalived).
    pub rise: u32,
    /// Consecutive failed checks that take an up real server down (ipvsd; 1 as keepalived).
    pub fall: u32,
    /// Each interval is spread by a random amount up to this (ipvsd; 0 as keepalived).
    pub jitter: Duration,
}

/// The kinds of checker and their own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// `TCP_CHECK`: a TCP connection succeeds.
    Tcp,
    /// `HTTP_GET` (`tls` false) or `SSL_GET` (`tls` true).
    Http(HttpCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `MISC_CHECK`: a program's exit code.
    Misc(MiscCheck),
    /// `FILE_CHECK`: a number in a file sets the weight.
    File(FileCheck),
}

impl CheckKind {
    /// The keepalived.conf block name.
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Tcp => "TCP_CHECK",
            Self::Http(h) if h.tls => "SSL_GET",
            Self::Http(_) => "HTTP_GET",
            Self::Udp(_) => "UDP_CHECK",
            Self::Dns(_) => "DNS_CHECK",
            Self::Misc(_) => "MISC_CHECK",
            Self::File(_) => "FILE_CHECK",
        }
    }
}

/// The HTTP version of the request line (keepalived's `http_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    /// `1.0`: HTTP/1.0 (the default).
    #[default]
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1 (with `Connection: close`).
    Http11,
}

impl HttpProtocol {
    /// keepalived's spelling: `1.0`, `1.0C`, `1.1`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http10 => "1.0",
            Self::Http10Close => "1.0C",
            Self::Http11 => "1.1",
        }
    }

    /// The protocol named `name` in keepalived's spelling (`1.0C` also `1.0c`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "1.0" => Some(Self::Http10),
            "1.0C" | "1.0c" => Some(Self::Http10Close),
            "1.1" => Some(Self::Http11),
            _ => None,
        }
    }
}

/// `HTTP_GET` / `SSL_GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// TLS (`SSL_GET`).
    pub tls: bool,
    /// The URLs, each checked in turn; all must pass.
    pub urls: Vec<Url>,
    /// `http_protocol` (default 1.0).
    pub protocol: HttpProtocol,
    /// `enable_sni`: send the virtual host (or `sni_name`) as TLS SNI.
    pub enable_sni: bool,
    /// `sni_name`: the SNI name (default the virtual host).
    pub sni_name: Option<String>,
    /// `fast_recovery`: after a failure, check again at once instead of
    /// after the delay loop.
    pub fast_recovery: bool,
    /// `tls_compliant`: close the TLS session with a close-notify.
    pub tls_compliant: bool,
}

/// A `url` block of `HTTP_GET`/`SSL_GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `path`: the request target, such as `/health`.
    pub path: String,
    /// `digest`: the MD5 of the body, 32 lowercase hex digits (keepalived's genhash).
    pub digest: Option<String>,
    /// `status_code`: the accepted statuses, as inclusive ranges
    /// (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    /// `virtualhost`: the Host header (resolved: the url's, else the
    /// checker's, else the real server's, else the virtual server's;
    /// `None`: the address probed).
    pub virtualhost: Option<String>,
    /// `regex` and its options.
    pub regex: Option<BodyRegex>,
}

/// `regex` of a `url`: a pattern the body must (or must not) match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRegex {
    /// The pattern (PCRE2 syntax in keepalived).
    pub pattern: String,
    /// `regex_no_match`: the body must not match.
    pub no_match: bool,
    /// `regex_options`: PCRE2 options by keepalived's names (such as `caseless`).
    pub options: Vec<String>,
    /// `regex_min_offset`: the match must start at or after this byte.
    pub min_offset: Option<u64>,
    /// `regex_max_offset`: the match must start before this byte.
    pub max_offset: Option<u64>,
    /// `regex_stack`: PCRE2 JIT stack size in bytes.
    pub stack: Option<u64>,
}

/// `UDP_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCheck {
    /// `payload`: the bytes sent (keepalived's free-form hex). Empty: none
    /// configured, where keepalived sends random bytes.
    pub payload: Vec<u8>,
    /// `require_reply`: a reply is needed (else only an ICMP error fails).
    pub require_reply: bool,
    /// The hex pattern the reply must start with, `x` matching any nibble.
    pub reply_pattern: Option<String>,
    /// `min_reply_length` (default 0).
    pub min_reply_length: u32,
    /// `max_reply_length` (default 255).
    pub max_reply_length: u32,
}

/// `DNS_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// `type`: the query type (default SOA).
    pub query_type: DnsType,
    /// `name`: the name queried (default `.`).
    pub name: String,
}

/// A DNS query type `DNS_CHECK` can send: the checker's own type.
pub use crate::check::DnsType;

/// `MISC_CHECK`: runs a program; exit 0 is up, 1 down; with `misc_dynamic`
/// an exit of 2..=255 is up with weight `code - 2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path`: the command line (program and arguments, as written).
    pub command: String,
    /// `misc_timeout`: how long it may run (default the delay loop).
    pub timeout: Duration,
    /// `misc_dynamic`: the exit code sets the weight.
    pub dynamic: bool,
    /// `user`: run as this user (and group).
    pub user: Option<RunAs>,
}

/// A user (and group) to run a program as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The user name.
    pub user: String,
    /// The group name (default the user's).
    pub group: Option<String>,
}

/// `FILE_CHECK`: the number in a tracked file, times `weight`, is added to
/// the real server's weight (keepalived.conf(5), "Track files"; keepalived
/// itself says real server track-file weights are "not fully implemented").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// The `track_file` block's name.
    pub name: String,
    /// Its `file`.
    pub path: PathBuf,
    /// `weight`: the FILE_CHECK's (±2147483647), else the track_file
    /// block's (-254..=254; default 1). 0: a non-zero number in the file
    /// is a failure (keepalived.conf(5), "Track files").
    pub weight: i32,
    /// `reverse`: the number counts negatively.
    pub reverse: bool,
}
