//! The kernel's IPVS files in `/proc/net`: one parser per file
//! (`ip_vs`: services and real servers in brief; `ip_vs_conn`: the connection
//! table), one reader of the addresses they print, and the re-reading of a
//! file opened in the handle's network namespace.
//!
//! The formats are those of the kernel's `net/netfilter/ipvs/ip_vs_ctl.c`
//! (`ip_vs_info_seq_show`) and `ip_vs_conn.c` (`ip_vs_conn_seq_show`).

mod ip_vs;
mod ip_vs_conn;

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

pub(crate) use ip_vs::{ProcKey, ProcTable, parse_proc_ip_vs};
pub use ip_vs_conn::{Connection, parse_connections};

use crate::error::{Error, ErrorKind, Operation, Result};

/// An address as these files print it: `%08X` of the IPv4 address in host
/// order, or an IPv6 address in full (`%pI6`).
pub(crate) fn parse_addr(text: &str) -> Option<IpAddr> {
    if text.len() == 8 && !text.contains(':') {
        return u32::from_str_radix(text, 16)
            .ok()
            .map(|raw| IpAddr::V4(Ipv4Addr::from(raw)));
    }
    text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A port as these files print it: `%04X`.
pub(crate) fn parse_port(text: &str) -> Option<u16> {
    u16::from_str_radix(text, 16).ok()
}

/// Opens a file of `/proc/net` of the calling thread's namespace, if it is
/// there (the file stays bound to that namespace).
pub(crate) fn open(name: &str) -> Option<File> {
    File::open(format!("/proc/thread-self/net/{name}")).ok()
}

/// Reads a `/proc/net` file of the handle's namespace again from its start,
/// handing `read` a buffered reader of it.
pub(crate) fn read_again<T>(
    file: &Mutex<Option<File>>,
    op: Operation,
    name: &str,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T>,
) -> Result<T> {
    let mut guard = file.lock().unwrap_or_else(|p| p.into_inner());
    let file = guard.as_mut().ok_or_else(|| {
        Error::new(
            op,
            ErrorKind::Io,
            format!("cannot open /proc/net/{name} in the handle's namespace"),
        )
    })?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(op, e))?;
    read(&mut BufReader::with_capacity(1 << 16, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_both_forms() {
        assert_eq!(parse_addr("C0A80102"), Some("192.168.1.2".parse().unwrap()));
        assert_eq!(
            parse_addr("2001:0db8:0000:0000:0000:0000:0000:0001"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_addr("C0A8010"), None);
        assert_eq!(parse_addr("ZZZZZZZZ"), None);
        assert_eq!(parse_port("01BB"), Some(443));
        assert_eq!(parse_port("10000"), None);
    }
}
