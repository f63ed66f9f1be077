//! HTTP_GET and SSL_GET: one GET per url, each on its own connection; the
//! check passes when every url passes (status code, MD5 digest, regex).
//!
//! keepalived (keepalived/check/check_http.c) checks one url per
//! `delay_loop` and walks the list over several rounds; here one check asks
//! every url in order and stops at the first that fails, so a real server
//! is judged on all its urls each round (what keepalived's `fast_recovery`
//! gives on recovery). The request is keepalived's: `GET <path>`,
//! `User-Agent: KeepAliveClient`, `Host: <virtualhost>` or `<ip>:<port>`,
//! `Connection: close` for 1.0C and 1.1.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{CONNECTION, HOST, USER_AGENT};
use hyper::{Request, Version};
use hyper_util::rt::TokioIo;
use md5::{Digest as _, Md5};
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::ConnectOptions;
use super::outcome::{ProbeFailure, ProbeResult, ProbeSuccess};
use super::tls::{self, TlsOptions};

/// The User-Agent keepalived sends (some servers' logs filter on it).
pub const USER_AGENT_VALUE: &str = "KeepAliveClient";

/// How much of a body the `regex` sees (bytes, from its start): the body
/// is streamed (the digest covers all of it) and only this much is kept,
/// so that a large or endless body cannot make the director buffer without
/// end. keepalived has `regex_max_offset` for the same purpose.
pub const MAX_REGEX_BODY: usize = 1024 * 1024;

/// keepalived.conf(5) `http_protocol`: 1.0 (the default), 1.0C, 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    /// `1.0`: an HTTP/1.0 request without a Connection header.
    #[default]
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1 with `Connection: close`.
    Http11,
}

impl FromStr for HttpProtocol {
    type Err = String;

    /// Parses keepalived's spellings `1.0`, `1.0C` (or `1.0c`), `1.1`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "1.0" => Ok(HttpProtocol::Http10),
            "1.0C" | "1.0c" => Ok(HttpProtocol::Http10Close),
            "1.1" => Ok(HttpProtocol::Http11),
            other => Err(format!(
                "invalid http_protocol {other:?} (expected 1.0, 1.0C or 1.1)"
            )),
        }
    }
}

/// The status codes a url accepts (keepalived.conf(5) `status_code`:
/// codes and ranges such as `200-299 400-499 503`; default 200-299).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCodes(Vec<RangeInclusive<u16>>);

impl StatusCodes {
    /// The set made of these inclusive ranges.
    pub fn new(ranges: Vec<RangeInclusive<u16>>) -> Self {
        StatusCodes(ranges)
    }

    /// Whether `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|r| r.contains(&status))
    }
}

impl Default for StatusCodes {
    /// 200-299, keepalived's default.
    fn default() -> Self {
        StatusCodes(vec![200..=299])
    }
}

impl FromStr for StatusCodes {
    type Err = String;

    /// Parses keepalived's list: space-separated codes or `min-max` ranges,
    /// each within 100..=599.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for word in s.split_whitespace() {
            let (lo, hi) = word.split_once('-').unwrap_or((word, word));
            let parse = |t: &str| {
                t.parse::<u16>()
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| format!("invalid status_code {word:?}"))
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(format!("invalid status_code range {word:?}"));
            }
            ranges.push(lo..=hi);
        }
        if ranges.is_empty() {
            return Err("empty status_code".into());
        }
        Ok(StatusCodes(ranges))
    }
}

/// An MD5 digest of a body (keepalived.conf(5) `digest`, 32 hex digits as
/// keepalived's genhash prints them).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BodyDigest(pub [u8; 16]);

impl fmt::Debug for BodyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BodyDigest({self})")
    }
}

impl fmt::Display for BodyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for BodyDigest {
    type Err = String;

    /// Parses 32 hex digits, either case.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("digest {s:?} is not 32 hex digits");
        if s.len() != 32 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(BodyDigest(out))
    }
}

impl BodyDigest {
    /// The digest of `body`.
    pub fn of(body: &[u8]) -> Self {
        BodyDigest(Md5::digest(body).into())
    }
}

/// A url's body regex (keepalived.conf(5) `regex`, `regex_no_match`,
/// `regex_min_offset`, `regex_max_offset`). keepalived uses PCRE2; this is
/// the `regex` crate's syntax (no look-around or back-references).
#[derive(Debug, Clone)]
pub struct BodyRegex {
    /// The pattern, on the body's bytes.
    pub regex: regex::bytes::Regex,
    /// `regex_no_match`: a match fails the check instead.
    pub no_match: bool,
    /// `regex_min_offset`: the match may start no earlier than this byte.
    pub min_offset: usize,
    /// `regex_max_offset`: the match must start at or before this byte.
    pub max_offset: Option<usize>,
}

impl BodyRegex {
    /// A plain `regex` with no offsets.
    pub fn new(regex: regex::bytes::Regex) -> Self {
        BodyRegex {
            regex,
            no_match: false,
            min_offset: 0,
            max_offset: None,
        }
    }

    /// Whether the pattern matches `body` within the offsets.
    pub fn matches(&self, body: &[u8]) -> bool {
        if self.min_offset > body.len() {
            return false;
        }
        // The leftmost match from min_offset is the earliest start there is.
        match self.regex.find_at(body, self.min_offset) {
            Some(m) => self.max_offset.is_none_or(|max| m.start() <= max),
            None => false,
        }
    }
}

impl PartialEq for BodyRegex {
    fn eq(&self, other: &Self) -> bool {
        self.regex.as_str() == other.regex.as_str()
            && self.no_match == other.no_match
            && self.min_offset == other.min_offset
            && self.max_offset == other.max_offset
    }
}

/// One `url { }` block, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlCheck {
    /// `path`: the request target, such as `/` or `/health?full=1`.
    pub path: String,
    /// `virtualhost`: the Host header (and SNI, for SSL_GET with
    /// `enable_sni`); resolved from the url, checker, real server or virtual
    /// server in that order. `None`: `Host: <connect ip>:<port>`.
    pub virtualhost: Option<String>,
    /// `status_code`: accepted statuses (default 200-299).
    pub status: StatusCodes,
    /// `digest`: the body's expected MD5.
    pub digest: Option<BodyDigest>,
    /// `regex` and its options.
    pub regex: Option<BodyRegex>,
}

impl UrlCheck {
    /// A url that accepts any 2xx for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        UrlCheck {
            path: path.into(),
            virtualhost: None,
            status: StatusCodes::default(),
            digest: None,
            regex: None,
        }
    }
}

/// An HTTP_GET or SSL_GET, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    /// Where to connect and how; `timeout` bounds the connect (with the TLS
    /// handshake) and then each url's whole exchange.
    pub conn: ConnectOptions,
    /// The urls, all of which must pass (keepalived requires at least one).
    pub urls: Vec<UrlCheck>,
    /// `http_protocol`.
    pub protocol: HttpProtocol,
    /// `Some` for SSL_GET: TLS with these options.
    pub tls: Option<TlsOptions>,
}

impl HttpCheck {
    /// Requests every url in order; the first failure is the outcome.
    ///
    /// # Errors
    /// The first url's failure: connect ([`ProbeFailure::Io`],
    /// [`ProbeFailure::ConnectTimeout`]), TLS, HTTP, timeout, status,
    /// digest or regex.
    pub async fn probe(&self) -> ProbeResult {
        for url in &self.urls {
            self.probe_url(url).await?;
        }
        Ok(ProbeSuccess::default())
    }

    async fn probe_url(&self, url: &UrlCheck) -> ProbeResult {
        let timeout = self.conn.timeout;
        let stream = self.conn.connect_tcp().await?;
        match &self.tls {
            None => tokio::time::timeout(timeout, self.exchange(stream, url))
                .await
                .map_err(|_| ProbeFailure::ResponseTimeout(timeout))?,
            Some(options) => {
                let sni = options.sni_for(url.virtualhost.as_deref());
                let tls = tokio::time::timeout(
                    timeout,
                    tls::handshake(stream, sni, self.conn.connect.ip()),
                )
                .await
                .map_err(|_| ProbeFailure::ConnectTimeout(timeout))??;
                tokio::time::timeout(timeout, self.exchange(tls, url))
                    .await
                    .map_err(|_| ProbeFailure::ResponseTimeout(timeout))?
            }
        }
    }

    /// One GET on `io`, judged: the status as soon as the head is in, then
    /// the body as it streams.
    async fn exchange<T>(&self, io: T, url: &UrlCheck) -> ProbeResult
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let http_err = |e: hyper::Error| ProbeFailure::Http(e.to_string());
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(http_err)?;
        let request = self.request(url)?;
        let exchange = async {
            let response = sender.send_request(request).await.map_err(http_err)?;
            judge_status(url, response.status().as_u16())?;
            let mut body = response.into_body();
            let mut md5 = url.digest.map(|_| Md5::new());
            let keep = if url.regex.is_some() {
                MAX_REGEX_BODY
            } else {
                0
            };
            let mut head = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame =
                    frame.map_err(|e| ProbeFailure::Http(format!("reading the body: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    if let Some(h) = md5.as_mut() {
                        h.update(&data);
                    }
                    let room = keep.saturating_sub(head.len());
                    head.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            let digest = md5.map(|h| BodyDigest(h.finalize().into()));
            judge_body(url, digest, &head)
        };
        // The connection future moves the bytes; it must be polled beside
        // the exchange. Its own end (the server closing) is not the result:
        // the exchange reports any error the connection met.
        let mut conn = std::pin::pin!(conn);
        let mut exchange = std::pin::pin!(exchange);
        let mut conn_done = false;
        loop {
            tokio::select! {
                r = &mut exchange => return r,
                _ = &mut conn, if !conn_done => conn_done = true,
            }
        }
    }

    fn request(&self, url: &UrlCheck) -> Result<Request<Empty<Bytes>>, ProbeFailure> {
        let host = match &url.virtualhost {
            Some(v) => v.clone(),
            // SocketAddr's Display brackets an IPv6 address (RFC 2732).
            None => self.conn.connect.to_string(),
        };
        let version = match self.protocol {
            HttpProtocol::Http10 | HttpProtocol::Http10Close => Version::HTTP_10,
            HttpProtocol::Http11 => Version::HTTP_11,
        };
        let mut builder = Request::get(url.path.as_str())
            .version(version)
            .header(USER_AGENT, USER_AGENT_VALUE);
        if self.protocol != HttpProtocol::Http10 {
            builder = builder.header(CONNECTION, "close");
        }
        builder
            .header(HOST, host)
            .body(Empty::new())
            .map_err(|e| ProbeFailure::Http(format!("url {:?}: {e}", url.path)))
    }
}

/// Judges a response's status against its url (keepalived checks status,
/// then digest, then regex: `http_handle_response`).
fn judge_status(url: &UrlCheck, status: u16) -> ProbeResult {
    if !url.status.contains(status) {
        return Err(ProbeFailure::HttpStatus {
            url: url.path.clone(),
            status,
        });
    }
    Ok(ProbeSuccess::default())
}

/// Judges a body: `digest` is the MD5 of all of it (computed when the url
/// has one), `head` its first bytes (kept when the url has a regex).
fn judge_body(url: &UrlCheck, digest: Option<BodyDigest>, head: &[u8]) -> ProbeResult {
    if let (Some(expected), Some(actual)) = (url.digest, digest)
        && actual != expected
    {
        return Err(ProbeFailure::Digest {
            url: url.path.clone(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }
    if let Some(re) = &url.regex {
        let matched = re.matches(head);
        if matched == re.no_match {
            return Err(ProbeFailure::Regex {
                url: url.path.clone(),
                matched,
            });
        }
    }
    Ok(ProbeSuccess::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_parse_ranges_and_reject_nonsense() {
        let s: StatusCodes = "200-299 404 503".parse().unwrap();
        assert!(s.contains(200) && s.contains(299) && s.contains(404) && s.contains(503));
        assert!(!s.contains(300) && !s.contains(500));
        assert!("299-200".parse::<StatusCodes>().is_err());
        assert!("99".parse::<StatusCodes>().is_err());
        assert!("600".parse::<StatusCodes>().is_err());
        assert!("".parse::<StatusCodes>().is_err());
        assert!(StatusCodes::default().contains(204));
        assert!(!StatusCodes::default().contains(301));
    }

    #[test]
    fn digest_round_trips_and_matches_md5_of_the_body() {
        // MD5("") is d41d8cd98f00b204e9800998ecf8427e (RFC 1321 test suite).
        let d: BodyDigest = "D41D8CD98F00B204E9800998ECF8427E".parse().unwrap();
        assert_eq!(d, BodyDigest::of(b""));
        assert_eq!(d.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(
            "d41d8cd98f00b204e9800998ecf8427"
                .parse::<BodyDigest>()
                .is_err()
        );
        assert!(
            "g41d8cd98f00b204e9800998ecf8427e"
                .parse::<BodyDigest>()
                .is_err()
        );
    }

    #[test]
    fn regex_offsets_bound_where_a_match_may_start() {
        let mut re = BodyRegex::new(regex::bytes::Regex::new("OK").unwrap());
        assert!(re.matches(b"status: OK"));
        re.min_offset = 9;
        assert!(!re.matches(b"status: OK"));
        re.min_offset = 0;
        re.max_offset = Some(3);
        assert!(!re.matches(b"status: OK"));
        re.max_offset = Some(8);
        assert!(re.matches(b"status: OK"));
        re.min_offset = 100;
        re.max_offset = None;
        assert!(!re.matches(b"short"));
    }

    fn judge(url: &UrlCheck, status: u16, body: &[u8]) -> ProbeResult {
        judge_status(url, status)?;
        judge_body(url, url.digest.map(|_| BodyDigest::of(body)), body)
    }

    #[test]
    fn judge_checks_status_then_digest_then_regex() {
        let mut url = UrlCheck::new("/");
        assert!(judge(&url, 200, b"x").is_ok());
        assert!(matches!(
            judge(&url, 500, b"x"),
            Err(ProbeFailure::HttpStatus { status: 500, .. })
        ));
        url.digest = Some(BodyDigest::of(b"hello"));
        assert!(judge(&url, 200, b"hello").is_ok());
        assert!(matches!(
            judge(&url, 200, b"hullo"),
            Err(ProbeFailure::Digest { .. })
        ));
        url.regex = Some(BodyRegex {
            no_match: true,
            ..BodyRegex::new(regex::bytes::Regex::new("ell").unwrap())
        });
        assert!(matches!(
            judge(&url, 200, b"hello"),
            Err(ProbeFailure::Regex { matched: true, .. })
        ));
    }

    #[test]
    fn http_protocol_spellings() {
        assert_eq!("1.0".parse(), Ok(HttpProtocol::Http10));
        assert_eq!("1.0C".parse(), Ok(HttpProtocol::Http10Close));
        assert_eq!("1.0c".parse(), Ok(HttpProtocol::Http10Close));
        assert_eq!("1.1".parse(), Ok(HttpProtocol::Http11));
        assert!("2".parse::<HttpProtocol>().is_err());
    }
}
