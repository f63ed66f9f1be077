//! UDP_CHECK: send a datagram on a connected socket; an ICMP error
//! (surfacing as ECONNREFUSED or EHOSTUNREACH on a connected socket) fails
//! the check; a reply, or with no `require_reply` silence until the timeout,
//! passes it (keepalived/core/layer4.c `udp_socket_state`).

use std::io;

use super::conn::ConnectOptions;
use super::outcome::{ProbeFailure, ProbeResult, ProbeSuccess};

/// keepalived's payload length when none is configured (`UDP_BUFSIZE`).
pub const DEFAULT_PAYLOAD_LEN: usize = 32;

/// keepalived.conf(5) `max_reply_length` default.
pub const DEFAULT_MAX_REPLY_LEN: usize = 255;

/// `require_reply HEX`: the bytes a reply must start with, where a mask bit
/// set means "ignore this bit" (keepalived's `x` nibbles). Only the first
/// `min(reply length, data length)` bytes are compared, as keepalived does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern {
    /// The expected bytes.
    pub data: Vec<u8>,
    /// Bits to ignore, one byte per data byte; empty: compare every bit.
    pub ignore: Vec<u8>,
}

impl ReplyPattern {
    /// The offset of the first byte of `reply` that differs, if any.
    pub fn mismatch(&self, reply: &[u8]) -> Option<usize> {
        (0..self.data.len().min(reply.len())).find(|&i| {
            let ignore = self.ignore.get(i).copied().unwrap_or(0);
            (reply[i] ^ self.data[i]) & !ignore != 0
        })
    }
}

/// What UDP_CHECK asks of a reply (`require_reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequireReply {
    /// `min_reply_length` (default 0).
    pub min_len: usize,
    /// `max_reply_length` (default 255).
    pub max_len: usize,
    /// The bytes after `require_reply`, if any.
    pub pattern: Option<ReplyPattern>,
}

impl Default for RequireReply {
    fn default() -> Self {
        RequireReply {
            min_len: 0,
            max_len: DEFAULT_MAX_REPLY_LEN,
            pattern: None,
        }
    }
}

/// A UDP_CHECK, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCheck {
    /// Where to send and how; `timeout` is how long to wait for a reply or
    /// an ICMP error.
    pub conn: ConnectOptions,
    /// `payload`: the datagram sent; `None`: 32 random bytes, as keepalived.
    pub payload: Option<Vec<u8>>,
    /// `require_reply`: a reply is needed, with these limits. keepalived
    /// checks the lengths only when `require_reply` has bytes; the man page
    /// says they always apply, and so they do here.
    pub require_reply: Option<RequireReply>,
}

impl UdpCheck {
    /// Sends the payload and waits for a reply, an ICMP error or the timeout.
    ///
    /// # Errors
    /// [`ProbeFailure::Io`] for an ICMP error or a socket error,
    /// [`ProbeFailure::NoReply`], [`ProbeFailure::ReplyLength`] or
    /// [`ProbeFailure::ReplyMismatch`] when a reply is required.
    pub async fn probe(&self) -> ProbeResult {
        let socket = self.conn.connect_udp().await?;
        let payload = match &self.payload {
            Some(p) => p.clone(),
            None => std::iter::repeat_with(|| fastrand::u8(..))
                .take(DEFAULT_PAYLOAD_LEN)
                .collect(),
        };
        socket
            .send(&payload)
            .await
            .map_err(|e| ProbeFailure::io("send", &e))?;
        // One byte more than the largest accepted reply tells "too long"
        // from "exactly the maximum"; without limits, the largest datagram.
        let cap = match &self.require_reply {
            Some(r) => r.max_len.saturating_add(1).min(65_536),
            None => 65_536,
        };
        let mut buf = vec![0u8; cap.max(1)];
        let timeout = self.conn.timeout;
        match tokio::time::timeout(timeout, socket.recv(&mut buf)).await {
            Err(_) => match self.require_reply {
                None => Ok(ProbeSuccess::default()),
                Some(_) => Err(ProbeFailure::NoReply(timeout)),
            },
            Ok(Err(e)) => Err(icmp_error(&e)),
            Ok(Ok(len)) => match &self.require_reply {
                None => Ok(ProbeSuccess::default()),
                Some(r) => judge_reply(r, &buf[..len]),
            },
        }
    }
}

fn icmp_error(e: &io::Error) -> ProbeFailure {
    ProbeFailure::io("recv (ICMP error)", e)
}

fn judge_reply(r: &RequireReply, reply: &[u8]) -> ProbeResult {
    if reply.len() < r.min_len || reply.len() > r.max_len {
        return Err(ProbeFailure::ReplyLength {
            len: reply.len(),
            min: r.min_len,
            max: r.max_len,
        });
    }
    if let Some(at) = r.pattern.as_ref().and_then(|p| p.mismatch(reply)) {
        return Err(ProbeFailure::ReplyMismatch(at));
    }
    Ok(ProbeSuccess::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_compares_the_common_prefix_under_the_mask() {
        let p = ReplyPattern {
            data: vec![0xab, 0x12, 0x0f],
            ignore: vec![0x00, 0x0f, 0x00],
        };
        assert_eq!(p.mismatch(&[0xab, 0x1e, 0x0f, 0x99]), None);
        assert_eq!(p.mismatch(&[0xab]), None);
        assert_eq!(p.mismatch(&[0xab, 0x22]), Some(1));
        assert_eq!(p.mismatch(&[0xab, 0x12, 0x0e]), Some(2));
    }

    #[test]
    fn reply_lengths_are_bounded_both_ways() {
        let r = RequireReply {
            min_len: 2,
            max_len: 4,
            pattern: None,
        };
        assert!(judge_reply(&r, b"ab").is_ok());
        assert!(judge_reply(&r, b"abcd").is_ok());
        assert!(matches!(
            judge_reply(&r, b"a"),
            Err(ProbeFailure::ReplyLength { len: 1, .. })
        ));
        assert!(matches!(
            judge_reply(&r, b"abcde"),
            Err(ProbeFailure::ReplyLength { len: 5, .. })
        ));
    }
}
