//! What one probe of a real server found: success (maybe with a dynamic
//! weight) or failure with a reason that a log line can print.

use std::fmt;
use std::io;
use std::time::Duration;

/// A weight a probe reports for its real server (MISC_CHECK `misc_dynamic`,
/// FILE_CHECK): how the real server's configured weight is changed while the
/// checker is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicWeight {
    /// Set the IPVS weight to this value (MISC_CHECK `misc_dynamic`: exit
    /// status minus 2, so 0..=253). keepalived keeps it as the offset
    /// `value - configured weight`, which is what
    /// [`DynamicWeight::offset_from`] gives.
    Set(u32),
    /// Add this (possibly negative) value to the configured weight
    /// (FILE_CHECK: the number in the file times the checker's `weight`).
    Offset(i64),
}

impl DynamicWeight {
    /// The change relative to `configured` (the real server's `weight`).
    pub fn offset_from(self, configured: u32) -> i64 {
        match self {
            DynamicWeight::Set(w) => i64::from(w) - i64::from(configured),
            DynamicWeight::Offset(o) => o,
        }
    }
}

/// A probe that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeSuccess {
    /// The dynamic weight it reported, if its kind reports one; `None` means
    /// "the weight this checker last set stays as it is".
    pub weight: Option<DynamicWeight>,
}

/// Why a probe failed; `Display` gives the text of a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeFailure {
    /// The connection (TCP connect, TLS handshake) did not complete within
    /// `connect_timeout`.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The exchange after connecting (request and whole response, query and
    /// reply) did not complete within the timeout.
    #[error("no complete response within {0:?}")]
    ResponseTimeout(Duration),
    /// A socket call failed (connect refused, host unreachable, bind failed,
    /// ICMP error on a connected UDP socket): the call and the OS error.
    #[error("{call}: {message}")]
    Io {
        /// Which step: "connect", "bind", "send", "recv", ...
        call: &'static str,
        /// The OS error text.
        message: String,
        /// The OS error kind, for callers that branch on it.
        kind: io::ErrorKind,
    },
    /// TLS failed (handshake alert, bad record).
    #[error("TLS: {0}")]
    Tls(String),
    /// The HTTP exchange failed (malformed response, connection closed early).
    #[error("HTTP: {0}")]
    Http(String),
    /// The HTTP status is not in the url's `status_code` set.
    #[error("{url}: HTTP status {status} not accepted")]
    HttpStatus {
        /// The url's path.
        url: String,
        /// The status code received.
        status: u16,
    },
    /// The MD5 digest of the body differs from the url's `digest`.
    #[error("{url}: MD5 digest {actual} differs from {expected}")]
    Digest {
        /// The url's path.
        url: String,
        /// The configured digest (lower-case hex).
        expected: String,
        /// The digest of the body received (lower-case hex).
        actual: String,
    },
    /// The body did not match the url's `regex` (or matched, with
    /// `regex_no_match`).
    #[error("{url}: body {} the regex", if *.matched { "matches" } else { "does not match" })]
    Regex {
        /// The url's path.
        url: String,
        /// Whether the regex matched.
        matched: bool,
    },
    /// UDP_CHECK `require_reply`: no reply within the timeout.
    #[error("no reply within {0:?}")]
    NoReply(Duration),
    /// UDP_CHECK: the reply's length is outside `min_reply_length..=max_reply_length`.
    #[error("reply of {len} bytes outside {min}..={max}")]
    ReplyLength {
        /// Bytes received.
        len: usize,
        /// `min_reply_length`.
        min: usize,
        /// `max_reply_length`.
        max: usize,
    },
    /// UDP_CHECK: the reply differs from the `require_reply` bytes.
    #[error("reply differs from the expected bytes at offset {0}")]
    ReplyMismatch(usize),
    /// DNS_CHECK: the reply's RCODE is not NOERROR.
    #[error("DNS reply with rcode {0}")]
    DnsRcode(u16),
    /// DNS_CHECK: the query could not be built (a bad name).
    #[error("DNS query: {0}")]
    DnsQuery(String),
    /// MISC_CHECK: the command could not be started.
    #[error("cannot run {program}: {message}")]
    Spawn {
        /// argv\[0\].
        program: String,
        /// The OS error text.
        message: String,
    },
    /// MISC_CHECK: the command exited with a failing status.
    #[error("exited with status {0}")]
    ExitStatus(i32),
    /// MISC_CHECK: the command was ended by a signal it was not sent by us.
    #[error("killed by signal {0}")]
    Signal(i32),
    /// MISC_CHECK: the command ran past `misc_timeout` and was killed.
    #[error("timed out after {0:?} and was killed")]
    ScriptTimeout(Duration),
    /// FILE_CHECK: the value in the file puts the checker in the FAULT state.
    #[error("file {path}: value {value} means fault")]
    FileFault {
        /// The tracked file.
        path: String,
        /// The value read (0 for a missing or empty file).
        value: i64,
    },
    /// The probe itself failed (a bug: it panicked); counted as a failure.
    #[error("probe failed internally: {0}")]
    Internal(String),
    /// FILE_CHECK: the number in the file is outside -2147483648..=2147483648.
    /// keepalived logs and ignores such a value; here the check fails so
    /// that a garbled file is seen rather than silently kept.
    #[error("file {path}: {text:?} is out of range")]
    FileValue {
        /// The tracked file.
        path: String,
        /// The text read (trimmed).
        text: String,
    },
}

impl ProbeFailure {
    /// An [`ProbeFailure::Io`] from a failed socket call.
    pub fn io(call: &'static str, err: &io::Error) -> Self {
        ProbeFailure::Io {
            call,
            message: err.to_string(),
            kind: err.kind(),
        }
    }
}

/// The outcome of one probe.
pub type ProbeResult = Result<ProbeSuccess, ProbeFailure>;

/// One probe's outcome with how long it took (for metrics and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// Success or the failure reason.
    pub result: ProbeResult,
    /// Wall time from the start of the probe to its outcome.
    pub latency: Duration,
}

impl fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(_) => write!(f, "success in {:?}", self.latency),
            Err(e) => write!(f, "{e} (after {:?})", self.latency),
        }
    }
}
