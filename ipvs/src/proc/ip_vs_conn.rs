//! `/proc/net/ip_vs_conn`: the kernel's connection table.

#[cfg(feature = "serde")]
use std::net::IpAddr;
use std::net::SocketAddr;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// One entry of the IPVS connection table. Entries with client port 0 are
/// persistence templates.
///
/// In JSON (schema 2): `{"protocol": "tcp", "client": ENDPOINT, "virtual":
/// ENDPOINT, "destination": ENDPOINT, "state": "ESTABLISHED", "expires":
/// SECONDS, "pe_name": "sip", "pe_data": "..."}`, each ENDPOINT
/// `{"address": "192.0.2.1", "port": 80}`; the protocol in lower case (as
/// services write it), the state as the kernel names it (as `ipvsadm -c`
/// prints it), `pe_name` and `pe_data` only on entries that have them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "ConnectionJson", into = "ConnectionJson")
)]
pub struct Connection {
    /// The protocol as the kernel names it (`TCP`, `UDP`, `SCTP`, ...).
    pub protocol: String,
    /// The client.
    pub client: SocketAddr,
    /// The virtual service address the client connected to.
    pub virtual_address: SocketAddr,
    /// The real server it was scheduled to.
    pub destination: SocketAddr,
    /// The protocol state (`ESTABLISHED`, `SYN_RECV`, `UDP`, `NONE`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// The persistence engine, for entries that carry engine data.
    pub pe_name: Option<String>,
    /// The persistence engine's data (such as a SIP Call-ID).
    pub pe_data: Option<String>,
}

/// An address and port of a connection.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointJson {
    address: IpAddr,
    port: u16,
}

#[cfg(feature = "serde")]
impl From<SocketAddr> for EndpointJson {
    fn from(s: SocketAddr) -> Self {
        Self {
            address: s.ip(),
            port: s.port(),
        }
    }
}

#[cfg(feature = "serde")]
impl From<EndpointJson> for SocketAddr {
    fn from(e: EndpointJson) -> Self {
        SocketAddr::new(e.address, e.port)
    }
}

/// A connection object (see [`Connection`]).
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionJson {
    protocol: String,
    client: EndpointJson,
    #[serde(rename = "virtual")]
    virtual_address: EndpointJson,
    destination: EndpointJson,
    state: String,
    expires: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pe_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pe_data: Option<String>,
}

/// The kernel's protocol names (`ip_vs_proto_name`) that are not the upper
/// case of the lower-case name.
#[cfg(feature = "serde")]
const MIXED_CASE: [&str; 1] = ["ICMPv6"];

#[cfg(feature = "serde")]
impl From<Connection> for ConnectionJson {
    fn from(c: Connection) -> Self {
        Self {
            protocol: c.protocol.to_ascii_lowercase(),
            client: c.client.into(),
            virtual_address: c.virtual_address.into(),
            destination: c.destination.into(),
            state: c.state,
            expires: c.expires,
            pe_name: c.pe_name,
            pe_data: c.pe_data,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<ConnectionJson> for Connection {
    type Error = String;

    fn try_from(c: ConnectionJson) -> Result<Self, String> {
        let protocol = MIXED_CASE
            .into_iter()
            .find(|name| name.eq_ignore_ascii_case(&c.protocol))
            .map_or_else(|| c.protocol.to_ascii_uppercase(), str::to_owned);
        Ok(Self {
            protocol,
            client: c.client.into(),
            virtual_address: c.virtual_address.into(),
            destination: c.destination.into(),
            state: c.state,
            expires: c.expires,
            pe_name: c.pe_name,
            pe_data: c.pe_data,
        })
    }
}

/// Parses the text of `/proc/net/ip_vs_conn` (its first line is the header).
///
/// # Errors
/// A message naming the line that could not be read.
pub fn parse_connections(text: &str) -> Result<Vec<Connection>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.starts_with("Pro ") => {}
        Some((_, other)) => return Err(format!("unexpected header line `{other}`")),
        None => return Err("empty connection table file (no header line)".into()),
    }
    lines
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| parse_line(line).map_err(|e| format!("line {}: {e}: `{line}`", n + 1)))
        .collect()
}

fn parse_line(line: &str) -> Result<Connection, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // A persistence engine whose data shows as nothing leaves 10 fields.
    if !(9..=11).contains(&fields.len()) {
        return Err(format!("{} fields, 9 to 11 expected", fields.len()));
    }
    let socket = |addr: &str, port: &str| -> Result<SocketAddr, String> {
        let port = super::parse_port(port).ok_or_else(|| format!("bad port `{port}`"))?;
        let addr = super::parse_addr(addr).ok_or_else(|| format!("bad address `{addr}`"))?;
        Ok(SocketAddr::new(addr, port))
    };
    Ok(Connection {
        protocol: fields[0].to_owned(),
        client: socket(fields[1], fields[2])?,
        virtual_address: socket(fields[3], fields[4])?,
        destination: socket(fields[5], fields[6])?,
        state: fields[7].to_owned(),
        expires: fields[8]
            .parse()
            .map_err(|_| format!("bad expiry `{}`", fields[8]))?,
        pe_name: fields.get(9).map(|s| (*s).to_owned()),
        pe_data: fields.get(10).map(|s| (*s).to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C0A80102 C231 C0A80164 0050 0A000001 0050 ESTABLISHED     857
UDP 2001:0db8:0000:0000:0000:0000:0000:0099 D431 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 0A000008 13C4 UDP              40 sip 6b4b3a2e@example
";

    #[test]
    fn parses_ipv4_ipv6_mixed_and_pe_rows() {
        let conns = parse_connections(SAMPLE).expect("parses");
        assert_eq!(conns.len(), 2);
        assert_eq!(conns[0].client, "192.168.1.2:49713".parse().unwrap());
        assert_eq!(
            conns[0].virtual_address,
            "192.168.1.100:80".parse().unwrap()
        );
        assert_eq!(conns[0].destination, "10.0.0.1:80".parse().unwrap());
        assert_eq!(
            (conns[0].state.as_str(), conns[0].expires),
            ("ESTABLISHED", 857)
        );
        assert_eq!(conns[1].client, "[2001:db8::99]:54321".parse().unwrap());
        assert_eq!(conns[1].destination, "10.0.0.8:5060".parse().unwrap());
        assert_eq!(conns[1].pe_name.as_deref(), Some("sip"));
        assert_eq!(conns[1].pe_data.as_deref(), Some("6b4b3a2e@example"));
    }

    #[test]
    #[cfg(feature = "serde")]
    fn json_form_splits_endpoints_and_lowers_the_protocol() {
        let conns = parse_connections(SAMPLE).expect("parses");
        let json = serde_json::to_value(&conns).expect("serializes");
        assert_eq!(
            json[0],
            serde_json::json!({
                "protocol": "tcp",
                "client": {"address": "192.168.1.2", "port": 49713},
                "virtual": {"address": "192.168.1.100", "port": 80},
                "destination": {"address": "10.0.0.1", "port": 80},
                "state": "ESTABLISHED",
                "expires": 857
            })
        );
        assert_eq!(json[1]["client"]["address"], "2001:db8::99");
        assert_eq!(
            (&json[1]["pe_name"], &json[1]["pe_data"]),
            (
                &serde_json::json!("sip"),
                &serde_json::json!("6b4b3a2e@example")
            )
        );
        let back: Vec<Connection> = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, conns);
        let icmp: Connection = serde_json::from_str(
            r#"{"protocol": "icmpv6", "client": {"address": "::1", "port": 0},
                "virtual": {"address": "::1", "port": 0}, "destination": {"address": "::2", "port": 0},
                "state": "NONE", "expires": 1}"#,
        )
        .expect("reads");
        assert_eq!(icmp.protocol, "ICMPv6");
    }

    #[test]
    fn an_engine_with_empty_data_is_read() {
        let text = "Pro x\nUDP C0A80102 C231 C0A80164 13C4 0A000001 13C4 NONE            40 sip\n";
        let conns = parse_connections(text).expect("10 fields");
        assert_eq!(
            (conns[0].pe_name.as_deref(), conns[0].pe_data.as_deref()),
            (Some("sip"), None)
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let err = parse_connections("Pro FromIP\nTCP C0A8 0050\n").unwrap_err();
        assert!(err.starts_with("line 2: 3 fields"), "{err}");
        let err =
            parse_connections("Pro x\nTCP ZZZZZZZZ C231 C0A80164 0050 0A000001 0050 NONE 1\n")
                .unwrap_err();
        assert!(err.contains("bad address `ZZZZZZZZ`"), "{err}");
        assert!(parse_connections("").is_err());
        assert_eq!(
            parse_connections("Pro FromIP FPrt\n").expect("empty table"),
            vec![]
        );
    }
}
