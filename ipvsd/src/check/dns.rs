//! DNS_CHECK: one query over UDP; success on a reply with the query's id,
//! the QR bit set and RCODE NOERROR.
//!
//! That is keepalived's whole rule (keepalived/check/check_dns.c,
//! `dns_recv_thread`): the answer section is not read, so an empty NOERROR
//! answer passes. A datagram that is too short, carries another id or is
//! not a response is skipped and the wait goes on until the timeout, as
//! keepalived does. The query asks for recursion (RD set), class IN.

use std::fmt;
use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

use super::conn::ConnectOptions;
use super::outcome::{ProbeFailure, ProbeResult, ProbeSuccess};

/// keepalived.conf(5) `DNS_CHECK` `type`: the query types keepalived knows
/// (default SOA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsType {
    /// `A`.
    A,
    /// `NS`.
    Ns,
    /// `CNAME`.
    Cname,
    /// `SOA` (the default).
    #[default]
    Soa,
    /// `MX`.
    Mx,
    /// `TXT`.
    Txt,
    /// `AAAA`.
    Aaaa,
}

impl DnsType {
    fn record_type(self) -> RecordType {
        match self {
            DnsType::A => RecordType::A,
            DnsType::Ns => RecordType::NS,
            DnsType::Cname => RecordType::CNAME,
            DnsType::Soa => RecordType::SOA,
            DnsType::Mx => RecordType::MX,
            DnsType::Txt => RecordType::TXT,
            DnsType::Aaaa => RecordType::AAAA,
        }
    }
}

impl DnsType {
    /// Every type, in keepalived.conf(5)'s order.
    const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];

    /// The upper-case name, as keepalived.conf writes it.
    pub fn name(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
        }
    }

    /// The type of a name, any case (keepalived compares with strcasecmp).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

impl FromStr for DnsType {
    type Err = String;

    /// Parses a type name, any case (keepalived compares with strcasecmp).
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_name(s).ok_or_else(|| format!("unknown DNS_CHECK type {s:?}"))
    }
}

impl fmt::Display for DnsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.record_type(), f)
    }
}

/// A DNS_CHECK, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// Where to send and how; `timeout` bounds the wait for the reply.
    pub conn: ConnectOptions,
    /// `type` (default SOA).
    pub query_type: DnsType,
    /// `name` (default `.`, the root).
    pub name: String,
}

impl DnsCheck {
    /// A check of `SOA .`, keepalived's default query.
    pub fn new(conn: ConnectOptions) -> Self {
        DnsCheck {
            conn,
            query_type: DnsType::Soa,
            name: ".".into(),
        }
    }

    /// The query message with this `id`.
    ///
    /// # Errors
    /// [`ProbeFailure::DnsQuery`] when `name` is not a domain name.
    pub fn query(&self, id: u16) -> Result<Vec<u8>, ProbeFailure> {
        let name =
            Name::from_ascii(&self.name).map_err(|e| ProbeFailure::DnsQuery(e.to_string()))?;
        let mut message = Message::new();
        message
            .set_id(id)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(name, self.query_type.record_type()));
        message
            .to_vec()
            .map_err(|e| ProbeFailure::DnsQuery(e.to_string()))
    }

    /// Sends one query and waits for its reply or the timeout.
    ///
    /// # Errors
    /// [`ProbeFailure::DnsRcode`] for a reply that is not NOERROR,
    /// [`ProbeFailure::ResponseTimeout`] without a reply, [`ProbeFailure::Io`]
    /// for a socket error (an ICMP error included), [`ProbeFailure::DnsQuery`]
    /// for a bad name.
    pub async fn probe(&self) -> ProbeResult {
        let id = fastrand::u16(..);
        let query = self.query(id)?;
        let socket = self.conn.connect_udp().await?;
        socket
            .send(&query)
            .await
            .map_err(|e| ProbeFailure::io("send", &e))?;
        let timeout = self.conn.timeout;
        let wait = async {
            let mut buf = vec![0u8; 4096];
            loop {
                let len = socket
                    .recv(&mut buf)
                    .await
                    .map_err(|e| ProbeFailure::io("recv (ICMP error)", &e))?;
                if let Some(verdict) = judge_reply(id, &buf[..len]) {
                    return verdict;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ProbeFailure::ResponseTimeout(timeout))?
    }
}

/// The verdict on one datagram, or `None` to keep waiting (not a reply to
/// this query).
fn judge_reply(id: u16, datagram: &[u8]) -> Option<ProbeResult> {
    // Read only the 12-byte header, as keepalived does: a reply whose
    // sections do not parse still says what its RCODE is.
    if datagram.len() < 12 {
        return None;
    }
    let reply_id = u16::from_be_bytes([datagram[0], datagram[1]]);
    let flags = u16::from_be_bytes([datagram[2], datagram[3]]);
    let is_response = flags & 0x8000 != 0;
    if reply_id != id || !is_response {
        return None;
    }
    let rcode = flags & 0x000f;
    if rcode == u16::from(ResponseCode::NoError) {
        Some(Ok(ProbeSuccess::default()))
    } else {
        Some(Err(ProbeFailure::DnsRcode(rcode)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_in_any_case_and_default_to_soa() {
        assert_eq!("aaaa".parse(), Ok(DnsType::Aaaa));
        assert_eq!("Mx".parse(), Ok(DnsType::Mx));
        assert!("PTR".parse::<DnsType>().is_err());
        assert_eq!(DnsType::default(), DnsType::Soa);
    }

    #[test]
    fn the_query_is_a_recursive_question_for_the_name_and_type() {
        let mut check = DnsCheck::new(ConnectOptions::new("127.0.0.1:53".parse().unwrap()));
        check.query_type = DnsType::A;
        check.name = "www.example.org".into();
        let bytes = check.query(0x1234).unwrap();
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(m.id(), 0x1234);
        assert!(m.recursion_desired());
        assert_eq!(m.message_type(), MessageType::Query);
        let q = m.query().unwrap();
        assert_eq!(q.query_type(), RecordType::A);
        assert_eq!(q.name().to_ascii(), "www.example.org.");
        let root = DnsCheck::new(check.conn.clone()).query(1).unwrap();
        let q = Message::from_vec(&root).unwrap();
        assert!(q.query().unwrap().name().is_root());
        assert_eq!(q.query().unwrap().query_type(), RecordType::SOA);
    }

    #[test]
    fn replies_are_judged_on_id_qr_and_rcode() {
        // id 0x1234, QR=1 RD=1 RA=1, rcode 0 / 2 (SERVFAIL); counts zero.
        let ok = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
        let servfail = [0x12, 0x34, 0x81, 0x82, 0, 0, 0, 0, 0, 0, 0, 0];
        let other_id = [0x12, 0x35, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
        let query = [0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(judge_reply(0x1234, &ok), Some(Ok(ProbeSuccess::default())));
        assert_eq!(
            judge_reply(0x1234, &servfail),
            Some(Err(ProbeFailure::DnsRcode(2)))
        );
        assert_eq!(judge_reply(0x1234, &other_id), None);
        assert_eq!(judge_reply(0x1234, &query), None);
        assert_eq!(judge_reply(0x1234, &ok[..11]), None);
    }
}
