//! TCP_CHECK: success when a TCP connection to the real server completes.

use super::conn::ConnectOptions;
use super::outcome::{ProbeResult, ProbeSuccess};

/// A TCP_CHECK, resolved (keepalived.conf(5) `TCP_CHECK`: connect only, no
/// options of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpCheck {
    /// Where to connect and how.
    pub conn: ConnectOptions,
}

impl TcpCheck {
    /// Connects once and closes the connection at once (keepalived closes it
    /// without sending data).
    ///
    /// # Errors
    /// [`ProbeFailure::Io`](super::ProbeFailure::Io) (refused, unreachable, bind failed) or
    /// [`ProbeFailure::ConnectTimeout`](super::ProbeFailure::ConnectTimeout).
    pub async fn probe(&self) -> ProbeResult {
        let stream = self.conn.connect_tcp().await?;
        drop(stream);
        Ok(ProbeSuccess::default())
    }
}
