//! Addresses, ports and numbers read and written as ipvsadm does: through the
//! C library's parsers (`inet_aton` takes `127.1` and hex) and its resolver
//! and services database (`/etc/hosts`, `/etc/services`, NSS).

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::raw::{c_char, c_int, c_void};

use ipvs::Protocol;

#[repr(C)]
struct HostEnt {
    h_name: *mut c_char,
    h_aliases: *mut *mut c_char,
    h_addrtype: c_int,
    h_length: c_int,
    h_addr_list: *mut *mut c_char,
}

unsafe extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    #[cfg(not(fuzzing))]
    fn gethostbyname(name: *const c_char) -> *mut HostEnt;
    fn gethostbyaddr(addr: *const c_void, len: libc::socklen_t, kind: c_int) -> *mut HostEnt;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
}

/// `strtol(s, &end, 10)` over the whole string, in `min..=max`, as ipvsadm's
/// `string_to_number`: leading spaces and a sign are allowed, nothing after.
pub(crate) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let n = strtol_whole(s)?;
    (min..=max).contains(&n).then_some(n)
}

/// `strtol` base 10 that must consume the whole string; `None` on overflow.
pub(crate) fn strtol_whole(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i128 = digits.parse().ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// C's `atoi`: leading spaces, a sign, then as many digits as there are.
pub(crate) fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n = digits.parse::<i64>().unwrap_or(0);
    if neg { -n } else { n }
}

/// `inet_aton`: dotted quads, but also `127.1`, hex and octal parts.
pub(crate) fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    // A plain dotted quad (four decimal numbers up to 255, no leading
    // zeros: what std accepts) means the same to inet_aton; only the other
    // forms it takes (octal, hex, fewer parts, trailing text) need it.
    if let Ok(addr) = s.parse::<Ipv4Addr>() {
        return Some(addr);
    }
    let c = CString::new(s).ok()?;
    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: a NUL-terminated string and a valid in_addr.
    (unsafe { inet_aton(c.as_ptr(), &mut addr) } != 0)
        .then(|| Ipv4Addr::from(u32::from_be(addr.s_addr)))
}

/// `inet_pton(AF_INET6, ...)`.
pub(crate) fn parse_inet6(s: &str) -> Option<Ipv6Addr> {
    // Every IPv6 address inet_pton reads has two colons at least (`::`):
    // `10.0.0.1:80` has one.
    s.bytes().filter(|&b| b == b':').nth(1)?;
    let c = CString::new(s).ok()?;
    let mut addr = [0u8; 16];
    // SAFETY: a NUL-terminated string and a 16-byte buffer.
    (unsafe { inet_pton(libc::AF_INET6, c.as_ptr(), addr.as_mut_ptr().cast()) } > 0)
        .then(|| Ipv6Addr::from(addr))
}

/// `inet_pton(AF_INET, ...)`: strict dotted quads.
pub(crate) fn parse_inet4_strict(s: &str) -> Option<Ipv4Addr> {
    // What std accepts, inet_pton accepts too, with the same meaning.
    if let Ok(addr) = s.parse::<Ipv4Addr>() {
        return Some(addr);
    }
    let c = CString::new(s).ok()?;
    let mut addr = [0u8; 4];
    // SAFETY: a NUL-terminated string and a 4-byte buffer.
    (unsafe { inet_pton(libc::AF_INET, c.as_ptr(), addr.as_mut_ptr().cast()) } > 0)
        .then(|| Ipv4Addr::from(addr))
}

/// The first IPv4 address of a host name (`gethostbyname`), as ipvsadm's `host_to_addr`.
#[cfg(not(fuzzing))]
pub(crate) fn host_to_addr(name: &str) -> Option<Ipv4Addr> {
    let c = CString::new(name).ok()?;
    // SAFETY: gethostbyname returns null or a pointer to static data, read
    // at once and copied; this program resolves from one thread.
    unsafe {
        let host = gethostbyname(c.as_ptr());
        if host.is_null() || (*host).h_addrtype != libc::AF_INET || (*host).h_length != 4 {
            return None;
        }
        let first = *(*host).h_addr_list;
        if first.is_null() {
            return None;
        }
        let bytes = std::slice::from_raw_parts(first.cast::<u8>(), 4);
        Some(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    }
}

/// Under the fuzzer, no resolver: a DNS query per input would be all it
/// measured. The parsing around the lookup is what it tests.
#[cfg(fuzzing)]
pub(crate) fn host_to_addr(name: &str) -> Option<Ipv4Addr> {
    (name == "localhost").then_some(Ipv4Addr::LOCALHOST)
}

/// The host name of an address (`gethostbyaddr`), if it has one.
pub(crate) fn addr_to_host(addr: &IpAddr) -> Option<String> {
    let (bytes, family): (Vec<u8>, c_int) = match addr {
        IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
        IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
    };
    // SAFETY: as host_to_addr; the name is copied before any other call.
    unsafe {
        let host = gethostbyaddr(
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
            family,
        );
        if host.is_null() || (*host).h_name.is_null() {
            return None;
        }
        Some(
            CStr::from_ptr((*host).h_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The name of the protocol for the services database, if it has one.
fn proto_db_name(protocol: Option<Protocol>) -> Option<&'static str> {
    match protocol? {
        Protocol::Tcp => Some("tcp"),
        Protocol::Udp => Some("udp"),
        Protocol::Sctp => Some("sctp"),
        Protocol::Other(_) => None,
    }
}

/// A port number of a service name (`getservbyname`) for the protocol.
pub(crate) fn service_to_port(name: &str, protocol: Option<Protocol>) -> Option<u16> {
    let proto = CString::new(proto_db_name(protocol)?).ok()?;
    let name = CString::new(name).ok()?;
    // SAFETY: static result read at once.
    unsafe {
        let ent = libc::getservbyname(name.as_ptr(), proto.as_ptr());
        if ent.is_null() {
            return None;
        }
        Some(u16::from_be((*ent).s_port as u16))
    }
}

/// The service name of a port (`getservbyport`) for the protocol.
pub(crate) fn port_to_service(port: u16, protocol: Option<Protocol>) -> Option<String> {
    let proto = CString::new(proto_db_name(protocol)?).ok()?;
    // SAFETY: static result copied at once.
    unsafe {
        let ent = libc::getservbyport(c_int::from(port.to_be()), proto.as_ptr());
        if ent.is_null() || (*ent).s_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*ent).s_name).to_string_lossy().into_owned())
    }
}

/// Appends the dotted decimal form of `addr` (as inet_ntop and std write it).
fn push_ipv4(text: &mut String, addr: &Ipv4Addr) {
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(itoa::Buffer::new().format(octet));
    }
}

/// An address as `inet_ntop` writes it.
pub(crate) fn ntop(addr: &IpAddr) -> String {
    let bytes = match addr {
        // Dotted decimal, as inet_ntop writes it; Rust's own is quicker
        // than glibc's (which goes through sprintf) and a listing prints
        // one for every service and real server.
        IpAddr::V4(a) => {
            let mut text = String::with_capacity(15);
            push_ipv4(&mut text, a);
            return text;
        }
        // glibc's IPv6 text differs from Rust's for some addresses (such
        // as the IPv4-compatible ::1.2.3.4): ask glibc.
        IpAddr::V6(a) => a.octets(),
    };
    let family: c_int = libc::AF_INET6;
    let mut buf = [0 as c_char; 64];
    // SAFETY: a valid address of the family and a buffer larger than INET6_ADDRSTRLEN.
    let out = unsafe {
        inet_ntop(
            family,
            bytes.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    if out.is_null() {
        return addr.to_string();
    }
    // SAFETY: inet_ntop wrote a NUL-terminated string into buf.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// `address:port` as ipvsadm writes it: numeric with `-n`, else names where
/// the resolver and services database have them; IPv6 in brackets. The C
/// buffer is 60 bytes, so at most 59 characters.
pub(crate) fn addrport(
    addr: &IpAddr,
    port: u16,
    protocol: Option<Protocol>,
    numeric: bool,
) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(24);
    if numeric {
        // One string, written once, without the formatting machinery: this
        // runs for every line of a listing.
        match addr {
            IpAddr::V4(a) => push_ipv4(&mut text, a),
            IpAddr::V6(_) => {
                text.push('[');
                text.push_str(&ntop(addr));
                text.push(']');
            }
        }
        text.push(':');
        text.push_str(itoa::Buffer::new().format(port));
        return text;
    }
    let host = addr_to_host(addr).unwrap_or_else(|| ntop(addr));
    let port_text = port_to_service(port, protocol).unwrap_or_else(|| port.to_string());
    let _ = match addr {
        IpAddr::V4(_) => write!(text, "{host}:{port_text}"),
        IpAddr::V6(_) => write!(text, "[{host}]:{port_text}"),
    };
    truncate(&mut text, 59);
    text
}

/// Cuts `text` to at most `max` bytes, as a C buffer would.
pub(crate) fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_strtol_reads_them() {
        assert_eq!(string_to_number(" +42", 0, 100), Some(42));
        assert_eq!(string_to_number("42x", 0, 100), None);
        assert_eq!(string_to_number("", 0, 100), None);
        assert_eq!(string_to_number("-1", 0, 100), None);
        assert_eq!(string_to_number("99999999999999999999", 0, i64::MAX), None);
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("x"), 0);
    }

    #[test]
    fn fast_paths_read_addresses_as_the_c_library_does() {
        // The C library alone, without the std fast paths.
        fn c_aton(s: &str) -> Option<Ipv4Addr> {
            let c = CString::new(s).ok()?;
            let mut addr = libc::in_addr { s_addr: 0 };
            // SAFETY: as in parse_inet_aton.
            (unsafe { inet_aton(c.as_ptr(), &mut addr) } != 0)
                .then(|| Ipv4Addr::from(u32::from_be(addr.s_addr)))
        }
        fn c_pton4(s: &str) -> Option<Ipv4Addr> {
            let c = CString::new(s).ok()?;
            let mut addr = [0u8; 4];
            // SAFETY: as in parse_inet4_strict.
            (unsafe { inet_pton(libc::AF_INET, c.as_ptr(), addr.as_mut_ptr().cast()) } > 0)
                .then(|| Ipv4Addr::from(addr))
        }
        fn c_pton6(s: &str) -> Option<Ipv6Addr> {
            let c = CString::new(s).ok()?;
            let mut addr = [0u8; 16];
            // SAFETY: as in parse_inet6.
            (unsafe { inet_pton(libc::AF_INET6, c.as_ptr(), addr.as_mut_ptr().cast()) } > 0)
                .then(|| Ipv6Addr::from(addr))
        }
        let inputs = [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.02.3.4",
            "0x1.2.3.4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4x",
            "127.1",
            "1..2.3",
            "",
            ".",
            "1.2.3.",
            "4294967295",
            "1.2.3.04",
            "00.0.0.0",
            "1.2.3.-4",
            "+1.2.3.4",
            "1.2.3.4\n",
            "::1",
            "1.2.3.4:80",
            "fe80::1",
            "localhost",
            "a:b",
            ":1",
            "1:",
            "::",
            ":",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7:8",
            "[::1]:80",
        ];
        for s in inputs {
            assert_eq!(parse_inet_aton(s), c_aton(s), "inet_aton {s:?}");
            assert_eq!(parse_inet4_strict(s), c_pton4(s), "inet_pton4 {s:?}");
            assert_eq!(parse_inet6(s), c_pton6(s), "inet_pton6 {s:?}");
        }
        for a in 0..=255u8 {
            for text in [format!("{a}.{a}.0.{a}"), format!("0{a}.1.1.1")] {
                assert_eq!(parse_inet_aton(&text), c_aton(&text), "{text}");
                assert_eq!(parse_inet4_strict(&text), c_pton4(&text), "{text}");
            }
        }
    }

    #[test]
    fn dotted_quads_written_as_std_writes_them() {
        for a in [
            [0, 0, 0, 0],
            [10, 0, 0, 1],
            [255, 255, 255, 255],
            [1, 22, 133, 9],
        ] {
            let addr = Ipv4Addr::from(a);
            assert_eq!(ntop(&IpAddr::V4(addr)), addr.to_string());
            assert_eq!(
                addrport(&IpAddr::V4(addr), 8080, None, true),
                format!("{addr}:8080")
            );
        }
        assert_eq!(
            addrport(&"2001:db8::1".parse().unwrap(), 0, None, true),
            "[2001:db8::1]:0"
        );
    }

    #[test]
    fn addresses_as_the_c_library_reads_them() {
        assert_eq!(parse_inet_aton("127.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_inet_aton("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_inet_aton("1.2.3.4.5"), None);
        assert_eq!(
            parse_inet6("2001:db8::1:80"),
            Some("2001:db8::1:80".parse().unwrap())
        );
        assert_eq!(ntop(&"::1.2.3.4".parse().unwrap()), "::1.2.3.4");
        assert_eq!(
            addrport(
                &"2001:db8::1".parse().unwrap(),
                80,
                Some(Protocol::Tcp),
                true
            ),
            "[2001:db8::1]:80"
        );
    }
}
