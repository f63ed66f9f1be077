//! `/proc/net/ip_vs_conn`: the kernel's connection table.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// One entry of the IPVS connection table. Entries with port 0 and state
/// `NONE` are persistence templates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_name: Option<String>,
    /// The persistence engine's data (such as a SIP Call-ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_data: Option<String>,
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
    if fields.len() != 9 && fields.len() != 11 {
        return Err(format!("{} fields, 9 or 11 expected", fields.len()));
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
